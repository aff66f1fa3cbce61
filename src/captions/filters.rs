//! The filters, tests and functions a caption template may call.
//!
//! The environment starts empty and only what is listed here is added: our
//! own filters, and built-ins vetted for the size of what they return. A
//! built-in that can return more than it was given (case changes, URL
//! encoding) is wrapped so its result is checked against [`MAX_VALUE_BYTES`];
//! the ones that could build huge values before any check runs (`replace`,
//! `join`, `range`) are our own, and count the size first. `format`, `center`,
//! `indent`, `wordwrap`, `pprint`, `batch`, `namespace` and the like are left
//! out: no caption needs them, and each multiplies text by a number the
//! template chooses.
//!
//! [`super::bounds`] checks the template's syntax so that values can only grow
//! through these filters or through `~`, `+` and `*` by a literal, all of which
//! it bounds before the template is accepted.

use std::borrow::Cow;

use minijinja::value::Value;
use minijinja::{filters, tests as is, Environment, Error, ErrorKind};

use super::template::{clean_text, cut_words, hashtags};

/// Largest value a filter or function may return. Far above any caption (a
/// LinkedIn post is at most 3,000 characters), small enough that a template
/// chaining filters stays in kilobytes.
pub const MAX_VALUE_BYTES: usize = 16 * 1024;
/// Most numbers `range` may produce; a caption loops over a handful of tags.
pub const MAX_RANGE: usize = 1_000;

/// Adds every filter, test and function templates may use to `env`.
pub(crate) fn register(env: &mut Environment<'static>) {
    // Our own.
    env.add_filter("truncate_words", truncate_words);
    env.add_filter("hashtags", hashtags_filter);
    env.add_filter("strip", |s: Cow<str>| s.trim().to_owned());
    env.add_filter("date", date);
    // Built-ins that count sizes first.
    env.add_filter("replace", replace);
    env.add_filter("join", join);
    env.add_function("range", range);
    // Case changes can grow Unicode text up to three times: checked after.
    env.add_filter("upper", |s: Cow<str>| capped_str(s.to_uppercase()));
    env.add_filter("lower", |s: Cow<str>| capped_str(s.to_lowercase()));
    env.add_filter("title", |s: Cow<str>| capped_str(filters::title(s)));
    env.add_filter("capitalize", capitalize);
    // Built-ins that return their input, a part of it, or a number.
    env.add_filter("trim", trim);
    env.add_filter("length", filters::length);
    env.add_filter("count", filters::length);
    env.add_filter("wordcount", |s: Cow<str>| s.split_whitespace().count());
    env.add_filter("first", filters::first);
    env.add_filter("last", filters::last);
    env.add_filter("reverse", filters::reverse);
    env.add_filter("sort", filters::sort);
    env.add_filter("unique", filters::unique);
    env.add_filter("default", filters::default);
    env.add_filter("d", filters::default);
    env.add_filter("string", filters::string);
    env.add_filter("int", filters::int);
    env.add_filter("abs", filters::abs);
    env.add_filter("round", filters::round);
    env.add_filter("bool", filters::bool);
    env.add_filter("min", filters::min);
    env.add_filter("max", filters::max);
    env.add_filter("select", filters::select);
    env.add_filter("reject", filters::reject);
    env.add_filter("map", filters::map);
    // Tests answer yes or no.
    env.add_test("defined", is::is_defined);
    env.add_test("undefined", is::is_undefined);
    env.add_test("none", is::is_none);
    env.add_test("true", is::is_true);
    env.add_test("false", is::is_false);
    env.add_test("number", is::is_number);
    env.add_test("string", is::is_string);
    env.add_test("sequence", is::is_sequence);
    env.add_test("odd", is::is_odd);
    env.add_test("even", is::is_even);
    env.add_test("divisibleby", is::is_divisibleby);
    env.add_test("startingwith", is::is_startingwith);
    env.add_test("endingwith", is::is_endingwith);
    env.add_test("in", is::is_in);
    env.add_test("eq", is::is_eq);
    env.add_test("ne", is::is_ne);
    env.add_test("lt", is::is_lt);
    env.add_test("le", is::is_le);
    env.add_test("gt", is::is_gt);
    env.add_test("ge", is::is_ge);
    env.add_test("lower", is::is_lower);
    env.add_test("upper", is::is_upper);
}

/// Whether `name` is a filter [`register`] adds whose result is checked
/// against [`MAX_VALUE_BYTES`], so it bounds whatever it was given.
pub(crate) fn is_capped_filter(name: &str) -> bool {
    matches!(
        name,
        "truncate_words"
            | "hashtags"
            | "date"
            | "replace"
            | "join"
            | "upper"
            | "lower"
            | "title"
            | "capitalize"
    )
}

/// Whether `name` is a filter that returns a number or a flag, however large
/// its input.
pub(crate) fn is_scalar_filter(name: &str) -> bool {
    matches!(
        name,
        "length" | "count" | "wordcount" | "int" | "abs" | "round" | "bool"
    )
}

fn too_long(what: &str) -> Error {
    Error::new(
        ErrorKind::InvalidOperation,
        format!("{what} would be longer than {} KiB", MAX_VALUE_BYTES / 1024),
    )
}

fn capped_str(s: String) -> Result<String, Error> {
    if s.len() > MAX_VALUE_BYTES {
        return Err(too_long("text"));
    }
    Ok(s)
}

/// `{{ title|capitalize }}`: the first letter upper case, the rest lower.
fn capitalize(s: Cow<str>) -> Result<String, Error> {
    let mut chars = s.chars();
    let Some(first) = chars.next() else {
        return Ok(String::new());
    };
    capped_str(
        first
            .to_uppercase()
            .chain(chars.flat_map(char::to_lowercase))
            .collect(),
    )
}

/// `{{ s|trim }}`, or `{{ s|trim('#') }}` to trim those characters.
fn trim(s: Cow<str>, chars: Option<Cow<str>>) -> String {
    match chars {
        Some(chars) => s.trim_matches(|c| chars.contains(c)).to_owned(),
        None => s.trim().to_owned(),
    }
}

/// `{{ title|replace("a", "b") }}`: the result's size is known before it is
/// built, so a replacement that would multiply the text is refused at once.
fn replace(value: Cow<str>, from: Cow<str>, to: Cow<str>) -> Result<String, Error> {
    let matches = if from.is_empty() {
        // Like Python, an empty pattern matches between every character.
        value.chars().count() + 1
    } else {
        value.matches(from.as_ref()).count()
    };
    let size = (value.len() - matches.saturating_mul(from.len()).min(value.len()))
        .saturating_add(matches.saturating_mul(to.len()));
    if size > MAX_VALUE_BYTES {
        return Err(too_long("the replaced text"));
    }
    Ok(value.replace(from.as_ref(), &to))
}

/// `{{ hashtags|join(' ') }}`: stops as soon as the text passes the cap,
/// however long the list.
fn join(value: &Value, joiner: Option<Cow<str>>) -> Result<String, Error> {
    let joiner = joiner.as_deref().unwrap_or("");
    if let Some(s) = value.as_str() {
        // Jinja joins the characters of a string.
        return join_items(s.chars().map(|c| Value::from(c.to_string())), joiner);
    }
    join_items(value.try_iter()?, joiner)
}

fn join_items(items: impl Iterator<Item = Value>, joiner: &str) -> Result<String, Error> {
    use std::fmt::Write;
    let mut out = String::new();
    for (i, item) in items.enumerate() {
        if i > 0 {
            out.push_str(joiner);
        }
        match item.as_str() {
            Some(s) => out.push_str(s),
            None => {
                let _ = write!(out, "{item}");
            }
        }
        if out.len() > MAX_VALUE_BYTES {
            return Err(too_long("the joined text"));
        }
    }
    Ok(out)
}

/// `range(n)`, `range(a, b)`, `range(a, b, step)`, at most [`MAX_RANGE`]
/// numbers.
fn range(lower: i64, upper: Option<i64>, step: Option<i64>) -> Result<Value, Error> {
    let (start, end) = match upper {
        Some(upper) => (lower, upper),
        None => (0, lower),
    };
    let step = step.unwrap_or(1);
    if step == 0 {
        return Err(Error::new(
            ErrorKind::InvalidOperation,
            "range's step cannot be zero",
        ));
    }
    let span = if step > 0 {
        end.saturating_sub(start)
    } else {
        start.saturating_sub(end)
    };
    let count = if span <= 0 {
        0
    } else {
        (span - 1) / step.saturating_abs() + 1
    };
    if count > MAX_RANGE as i64 {
        return Err(Error::new(
            ErrorKind::InvalidOperation,
            format!("range is limited to {MAX_RANGE} numbers"),
        ));
    }
    let numbers: Vec<Value> = (0..count).map(|i| Value::from(start + i * step)).collect();
    Ok(Value::from(numbers))
}

/// `{{ summary|truncate_words(20) }}`: whole words and an ellipsis.
fn truncate_words(s: Cow<str>, n: usize) -> String {
    cut_words(&clean_text(&s), n)
}

/// `{{ categories|hashtags|join(' ') }}`: tags made from words, as the
/// `hashtags` variable is; a single string becomes a single tag.
fn hashtags_filter(value: Value) -> Result<Value, Error> {
    let words: Vec<String> = if let Some(s) = value.as_str() {
        vec![s.to_owned()]
    } else {
        value
            .try_iter()?
            .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_owned))
            .collect()
    };
    if words.iter().map(String::len).sum::<usize>() > MAX_VALUE_BYTES {
        return Err(too_long("the hashtags"));
    }
    Ok(Value::from(hashtags(&words)))
}

/// `{{ published|date("%d %B %Y") }}`: chrono's strftime; `published` is
/// `YYYY-MM-DD`, RFC 3339 is accepted too. An invalid format is an error, not
/// a panic (chrono panics when displaying one).
fn date(value: Cow<str>, format: Option<Cow<str>>) -> Result<String, Error> {
    use chrono::format::{Item, StrftimeItems};
    if value.is_empty() {
        return Ok(String::new());
    }
    let format = format.unwrap_or(Cow::Borrowed("%Y-%m-%d"));
    // Every item prints at most a few dozen bytes (a month's name, a
    // number); the format's length bounds the result.
    if format.len() > 256 {
        return Err(too_long("the date format"));
    }
    let items: Vec<Item> = StrftimeItems::new(&format).collect();
    if items.iter().any(|i| matches!(i, Item::Error)) {
        return Err(Error::new(
            ErrorKind::InvalidOperation,
            format!("invalid date format {format:?}"),
        ));
    }
    let date = chrono::NaiveDate::parse_from_str(&value, "%Y-%m-%d")
        .map(|d| d.and_hms_opt(0, 0, 0).unwrap_or_default())
        .or_else(|_| chrono::DateTime::parse_from_rfc3339(&value).map(|d| d.naive_utc()))
        .map_err(|_| {
            Error::new(
                ErrorKind::InvalidOperation,
                format!("not a date: {value:?}"),
            )
        })?;
    Ok(date.format_with_items(items.into_iter()).to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env() -> Environment<'static> {
        let mut env = Environment::empty();
        register(&mut env);
        env
    }

    fn render(source: &str) -> Result<String, Error> {
        env().render_str(source, ())
    }

    #[test]
    fn replace_refuses_to_multiply_text() {
        assert_eq!(render("{{ 'a-b'|replace('-', ' ') }}").unwrap(), "a b");
        let err = render("{{ 'xxxxxxxxxx'|replace('x', 'y' * 2000) }}").unwrap_err();
        assert!(err.to_string().contains("longer than 16 KiB"), "{err}");
        let err = render("{{ 'xxxxxxxxxx'|replace('', 'y' * 2000) }}").unwrap_err();
        assert!(err.to_string().contains("longer than"), "{err}");
    }

    #[test]
    fn join_stops_at_the_cap() {
        assert_eq!(render("{{ ['a', 'b']|join(', ') }}").unwrap(), "a, b");
        assert_eq!(render("{{ 'ab'|join('.') }}").unwrap(), "a.b");
        let err = render("{{ range(1000)|join('x' * 100) }}").unwrap_err();
        assert!(err.to_string().contains("longer than"), "{err}");
    }

    #[test]
    fn range_is_small() {
        assert_eq!(render("{{ range(3)|join(',') }}").unwrap(), "0,1,2");
        assert_eq!(render("{{ range(1, 7, 2)|join(',') }}").unwrap(), "1,3,5");
        assert_eq!(render("{{ range(5, 0, -2)|join(',') }}").unwrap(), "5,3,1");
        assert_eq!(render("{{ range(5, 0)|join(',') }}").unwrap(), "");
        assert!(render("{{ range(1001)|length }}").is_err());
        assert!(render("{{ range(0, 9223372036854775807)|length }}").is_err());
        assert!(render("{{ range(1, 2, 0)|length }}").is_err());
    }

    #[test]
    fn growing_builtins_are_checked_and_dangerous_ones_absent() {
        assert_eq!(render("{{ 'ß'|upper }}").unwrap(), "SS");
        assert!(render("{{ ('ß' * 9000)|upper }}").is_err());
        for source in [
            "{{ '%0999999999d'|format(1) }}",
            "{{ 'x'|center(999999999) }}",
            "{{ 'x'|indent(999999999) }}",
            "{{ 'x'|pprint }}",
            "{{ namespace() }}",
            "{{ dict(a=1) }}",
            "{{ debug() }}",
        ] {
            let err = render(source).unwrap_err();
            assert!(
                matches!(
                    err.kind(),
                    ErrorKind::UnknownFilter | ErrorKind::UnknownFunction
                ),
                "{source}: {err}"
            );
        }
    }
}
