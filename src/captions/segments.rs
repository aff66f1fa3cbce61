//! Templates that only paste fields between fixed text, rendered without the
//! template VM.
//!
//! Every built-in template, and most subscriber ones, is fixed text, fields
//! (`{{ title }}`), a prefix of a list joined (`{{ hashtags[:2]|join(' ') }}`),
//! the longer of two fields (`{{ excerpt if excerpt|length > summary|length
//! else summary }}`) and `{% if field %}…{% else %}…{% endif %}`. Fitting
//! renders each caption several times, and pasting strings is many times
//! cheaper than running minijinja. Anything outside that subset (filters,
//! loops, comments, whitespace control) is not compiled here and minijinja
//! renders it. The output is byte for byte minijinja's, which
//! `renders_like_minijinja` checks over random templates and contexts.

use super::template::{Context, Shortened};

/// A template compiled into pieces to paste.
#[derive(Debug)]
pub(crate) struct Segments(Vec<Piece>);

#[derive(Debug)]
enum Piece {
    Text(Box<str>),
    Field(Field),
    Join {
        list: List,
        /// `[:n]`: only the first `n` items.
        first: Option<usize>,
        separator: Box<str>,
    },
    /// `{{ a if cond else b }}`.
    Choice {
        cond: Cond,
        then: Field,
        other: Field,
    },
    If {
        cond: Cond,
        then: Vec<Piece>,
        other: Vec<Piece>,
    },
}

#[derive(Debug, Clone, Copy)]
enum Field {
    Title,
    Summary,
    Excerpt,
    Url,
    Author,
    Published,
    Image,
    FeedTitle,
    Lead,
    KeySentence,
    Quote,
    Question,
    Number,
    Teaser,
}

#[derive(Debug, Clone, Copy)]
enum List {
    Categories,
    Hashtags,
}

#[derive(Debug, Clone, Copy)]
enum Cond {
    /// A field is non-empty.
    Text(Field),
    /// A list is non-empty.
    Items(List),
    /// `a|length > b|length`: more characters in `a`.
    Longer(Field, Field),
}

fn field(name: &str) -> Option<Field> {
    Some(match name {
        "title" => Field::Title,
        "summary" => Field::Summary,
        "excerpt" => Field::Excerpt,
        "url" => Field::Url,
        "author" => Field::Author,
        "published" => Field::Published,
        "image" => Field::Image,
        "feed_title" => Field::FeedTitle,
        "lead" => Field::Lead,
        "key_sentence" => Field::KeySentence,
        "quote" => Field::Quote,
        "question" => Field::Question,
        "number" => Field::Number,
        "teaser" => Field::Teaser,
        _ => return None,
    })
}

fn list(name: &str) -> Option<List> {
    Some(match name {
        "categories" => List::Categories,
        "hashtags" => List::Hashtags,
        _ => return None,
    })
}

/// What one render sees: the full context as `shortened` shortens it.
struct Values<'a> {
    ctx: &'a Context,
    shortened: &'a Shortened<'a>,
}

impl Values<'_> {
    fn text(&self, f: Field) -> &str {
        let (ctx, s) = (self.ctx, self.shortened);
        match f {
            Field::Title => &s.title,
            Field::Summary => &s.summary,
            Field::Excerpt => &s.excerpt,
            Field::Url if s.url => &ctx.url,
            Field::Url => "",
            Field::Author => &ctx.author,
            Field::Published => &ctx.published,
            Field::Image => &ctx.image,
            Field::FeedTitle => &ctx.feed_title,
            // Whole sentences, dropped whole when the caption is too long.
            Field::Lead if !s.angles.lead() => "",
            Field::KeySentence | Field::Quote | Field::Question | Field::Number | Field::Teaser
                if !s.angles.angles() =>
            {
                ""
            }
            Field::Lead => &ctx.lead,
            Field::KeySentence => &ctx.key_sentence,
            Field::Quote => &ctx.quote,
            Field::Question => &ctx.question,
            Field::Number => &ctx.number,
            Field::Teaser => &ctx.teaser,
        }
    }

    fn items(&self, l: List) -> &[String] {
        match l {
            List::Categories => &self.ctx.categories,
            List::Hashtags => {
                let tags = &self.ctx.hashtags;
                &tags[..self.shortened.hashtags.min(tags.len())]
            }
        }
    }

    fn holds(&self, cond: Cond) -> bool {
        match cond {
            Cond::Text(f) => !self.text(f).is_empty(),
            Cond::Items(l) => !self.items(l).is_empty(),
            // minijinja's length of a string is its number of code points.
            Cond::Longer(a, b) => self.text(a).chars().count() > self.text(b).chars().count(),
        }
    }
}

impl Segments {
    /// The template as pieces, when it is within the subset; `None` sends it
    /// to minijinja. Only called on sources minijinja compiled.
    pub(crate) fn compile(source: &str) -> Option<Segments> {
        // Bounds the work of a render far below the engine's fuel: each byte
        // of source is at most one VM instruction in this subset.
        if source.len() > super::limits::MAX_SOURCE_BYTES {
            return None;
        }
        let mut frames: Vec<(Cond, Vec<Piece>, Option<Vec<Piece>>)> = Vec::new();
        let mut pieces = Vec::new();
        let mut rest = source;
        loop {
            let open = find_tag(rest);
            let text = &rest[..open.unwrap_or(rest.len())];
            if !text.is_empty() {
                pieces.push(Piece::Text(text.into()));
            }
            let Some(open) = open else { break };
            let kind = rest.as_bytes()[open + 1];
            let after = &rest[open + 2..];
            let close = if kind == b'{' { "}}" } else { "%}" };
            if kind == b'#' {
                return None;
            }
            let (tokens, end) = tokens(after, close)?;
            rest = &after[end..];
            if kind == b'{' {
                pieces.push(expression(&tokens)?);
                continue;
            }
            match tokens.as_slice() {
                [Tok::Ident("if"), cond @ ..] => {
                    frames.push((condition(cond)?, std::mem::take(&mut pieces), None));
                }
                [Tok::Ident("else")] => {
                    let frame = frames.last_mut()?;
                    if frame.2.is_some() {
                        return None;
                    }
                    frame.2 = Some(std::mem::take(&mut pieces));
                }
                [Tok::Ident("endif")] => {
                    let (cond, outer, then) = frames.pop()?;
                    let inner = std::mem::replace(&mut pieces, outer);
                    let (then, other) = match then {
                        Some(then) => (then, inner),
                        None => (inner, Vec::new()),
                    };
                    pieces.push(Piece::If { cond, then, other });
                }
                _ => return None,
            }
        }
        frames.is_empty().then_some(Segments(pieces))
    }

    /// The raw output (before tidying) for `ctx` shortened as `shortened`;
    /// `None` when it would pass the engine's output cap, for minijinja to
    /// report.
    pub(crate) fn render(&self, ctx: &Context, shortened: &Shortened) -> Option<String> {
        let values = Values { ctx, shortened };
        let mut out = String::with_capacity(512);
        paste(&self.0, &values, &mut out);
        (out.len() <= super::limits::MAX_OUTPUT_BYTES).then_some(out)
    }
}

fn paste(pieces: &[Piece], values: &Values, out: &mut String) {
    for piece in pieces {
        // Past the cap the render is refused anyway; stop growing.
        if out.len() > super::limits::MAX_OUTPUT_BYTES {
            return;
        }
        match piece {
            Piece::Text(t) => out.push_str(t),
            Piece::Field(f) => out.push_str(values.text(*f)),
            Piece::Join {
                list,
                first,
                separator,
            } => {
                let items = values.items(*list);
                let items = &items[..first.unwrap_or(usize::MAX).min(items.len())];
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push_str(separator);
                    }
                    out.push_str(item);
                }
            }
            Piece::Choice { cond, then, other } => {
                out.push_str(values.text(if values.holds(*cond) { *then } else { *other }))
            }
            Piece::If { cond, then, other } => {
                paste(if values.holds(*cond) { then } else { other }, values, out)
            }
        }
    }
}

/// Where the next `{{`, `{%` or `{#` starts.
fn find_tag(text: &str) -> Option<usize> {
    let bytes = text.as_bytes();
    let mut from = 0;
    while let Some(i) = text[from..].find('{').map(|i| from + i) {
        if matches!(bytes.get(i + 1), Some(b'{' | b'%' | b'#')) {
            return Some(i);
        }
        from = i + 1;
    }
    None
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tok<'a> {
    Ident(&'a str),
    Int(usize),
    Str(&'a str),
    Punct(u8),
}

/// The tokens of a tag's inside, up to `close`, and where the tag ends in
/// `text`. Whitespace control (`{{-`, `-%}`, `+`) and anything outside the
/// subset's few tokens give `None`.
fn tokens<'a>(text: &'a str, close: &str) -> Option<(Vec<Tok<'a>>, usize)> {
    let bytes = text.as_bytes();
    if matches!(bytes.first(), Some(b'-' | b'+')) {
        return None;
    }
    let mut out = Vec::new();
    let mut i = 0;
    loop {
        let b = *bytes.get(i)?;
        if text[i..].starts_with(close) {
            return Some((out, i + close.len()));
        }
        match b {
            b' ' | b'\t' | b'\n' | b'\r' => i += 1,
            b'a'..=b'z' | b'A'..=b'Z' | b'_' => {
                let len = text[i..]
                    .bytes()
                    .take_while(|b| b.is_ascii_alphanumeric() || *b == b'_')
                    .count();
                out.push(Tok::Ident(&text[i..i + len]));
                i += len;
            }
            b'0'..=b'9' => {
                let len = text[i..].bytes().take_while(u8::is_ascii_digit).count();
                out.push(Tok::Int(text[i..i + len].parse().ok()?));
                i += len;
                // `1.5`, `1_000`, `1e3` are other literals.
                if matches!(bytes.get(i), Some(b'.' | b'_' | b'a'..=b'z' | b'A'..=b'Z')) {
                    return None;
                }
            }
            b'\'' | b'"' => {
                let len = text[i + 1..].find(b as char)?;
                let s = &text[i + 1..i + 1 + len];
                if s.contains('\\') {
                    return None;
                }
                out.push(Tok::Str(s));
                i += len + 2;
            }
            b'[' | b']' | b':' | b'|' | b'(' | b')' => {
                out.push(Tok::Punct(b));
                i += 1;
            }
            // `>=` and `>>` are other operators.
            b'>' if !matches!(bytes.get(i + 1), Some(b'=' | b'>')) => {
                out.push(Tok::Punct(b));
                i += 1;
            }
            _ => return None,
        }
    }
}

fn expression(tokens: &[Tok]) -> Option<Piece> {
    use Tok::{Ident, Int, Punct, Str};
    Some(match tokens {
        [Ident(f)] => Piece::Field(field(f)?),
        [Ident(l), Punct(b'|'), Ident("join"), Punct(b'('), Str(s), Punct(b')')] => Piece::Join {
            list: list(l)?,
            first: None,
            separator: (*s).into(),
        },
        [Ident(l), Punct(b'['), Punct(b':'), Int(n), Punct(b']'), Punct(b'|'), Ident("join"), Punct(b'('), Str(s), Punct(b')')] => {
            Piece::Join {
                list: list(l)?,
                first: Some(*n),
                separator: (*s).into(),
            }
        }
        [Ident(a), Ident("if"), cond @ .., Ident("else"), Ident(b)] => Piece::Choice {
            cond: condition(cond)?,
            then: field(a)?,
            other: field(b)?,
        },
        _ => return None,
    })
}

fn condition(tokens: &[Tok]) -> Option<Cond> {
    use Tok::{Ident, Punct};
    Some(match tokens {
        [Ident(name)] => match (field(name), list(name)) {
            (Some(f), _) => Cond::Text(f),
            (None, Some(l)) => Cond::Items(l),
            (None, None) => return None,
        },
        [Ident(a), Punct(b'|'), Ident("length"), Punct(b'>'), Ident(b), Punct(b'|'), Ident("length")] => {
            Cond::Longer(field(a)?, field(b)?)
        }
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use std::cell::OnceCell;

    use proptest::prelude::*;

    use super::*;
    use crate::captions::engine::TemplateSet;
    use crate::captions::platform::Platform;
    use crate::captions::template::default_template;
    use crate::captions::template::Kept;
    use crate::captions::{generate_with, PostView, Settings, DEFAULT_VARIANT};

    #[test]
    fn every_built_in_template_is_pasted() {
        for p in Platform::ALL {
            assert!(Segments::compile(default_template(p)).is_some(), "{p:?}");
        }
    }

    #[test]
    fn anything_outside_the_subset_goes_to_minijinja() {
        for source in [
            "{{ title|upper }}",
            "{{ hashtags }}",
            "{{ title[:3] }}",
            "{{- title }}",
            "{{ title -}}",
            "{%- if url %}x{% endif %}",
            "{% if url -%}x{% endif %}",
            "{# note #}{{ title }}",
            "{% for h in hashtags %}{{ h }}{% endfor %}",
            "{% if url %}x{% elif title %}y{% endif %}",
            "{% if url %}x",
            "{{ hashtags[:2]|join('\\n') }}",
            "{{ hashtags[:-1]|join(' ') }}",
            "{{ title if url }}",
            "{{ excerpt if excerpt|length >= summary|length else summary }}",
            "{% raw %}{{ title }}{% endraw %}",
            "{{ loop }}",
        ] {
            assert!(Segments::compile(source).is_none(), "{source}");
        }
    }

    /// Leaves of random templates: the subset's forms, text that looks
    /// like tags, and forms outside the subset (so mixed templates fall back).
    const LEAVES: &[&str] = &[
        "{{ title }}",
        "{{summary}}",
        "{{ excerpt }}",
        "{{ url }}",
        "{{ author }}",
        "{{ published }}",
        "{{ image }}",
        "{{ feed_title }}",
        "{{ lead }}",
        "{{ key_sentence }}",
        "{{ quote }}",
        "{{ question }}",
        "{{ number }}",
        "{{ teaser }}",
        "{{ hashtags|join(' ') }}",
        "{{ hashtags[:2]|join(' ') }}",
        "{{ hashtags[:0]|join(\"-\") }}",
        "{{ categories[:3]|join(', ') }}",
        "{{ categories|join('}}') }}",
        "{{ excerpt if excerpt|length > summary|length else summary }}",
        "{{ title if url else feed_title }}",
        "{{ author if hashtags else image }}",
        "Read more: ",
        "Link in bio.",
        "\n",
        "\n\n",
        " ",
        "  \n ",
        "{",
        "}}",
        "%}",
        "{ {",
        "\r\n",
        "—",
        "{{ title|upper }}",
        "{{ hashtags|length }}",
    ];

    const CONDITIONS: &[&str] = &[
        "url",
        "summary",
        "hashtags",
        "categories",
        "feed_title",
        "quote",
        "key_sentence",
        "summary|length > title|length",
    ];

    fn template() -> impl Strategy<Value = String> {
        let leaf = prop::sample::select(LEAVES).prop_map(str::to_owned);
        let tree = leaf.prop_recursive(3, 32, 6, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..6).prop_map(|v| v.concat()),
                (
                    prop::sample::select(CONDITIONS),
                    prop::collection::vec(inner.clone(), 0..4),
                    prop::option::of(prop::collection::vec(inner, 0..4)),
                )
                    .prop_map(|(cond, then, other)| {
                        let other = other
                            .map(|o| format!("{{% else %}}{}", o.concat()))
                            .unwrap_or_default();
                        format!("{{% if {cond} %}}{}{other}{{% endif %}}", then.concat())
                    }),
            ]
        });
        prop::collection::vec(tree, 1..6).prop_map(|v| v.concat())
    }

    /// Text with the characters that could trip pasting up: tag-like
    /// braces, line breaks, wide and combining characters, links.
    fn text() -> impl Strategy<Value = String> {
        prop::collection::vec(
            prop::sample::select(
                &[
                    "word",
                    "Rust,",
                    "日本語",
                    "e\u{301}",
                    "👨\u{200D}👩",
                    "{{ title }}",
                    "{%",
                    "}",
                    "https://example.com/a",
                    "example.org",
                    "#tag",
                    "…",
                    " ",
                    "  ",
                    "",
                ][..],
            ),
            0..24,
        )
        .prop_map(|v| v.concat())
    }

    fn context() -> impl Strategy<Value = Context> {
        (
            (text(), text(), text(), prop::option::of(text())),
            (text(), text(), text(), text()),
            prop::collection::vec(text(), 0..6),
            prop::collection::vec(text(), 0..8),
        )
            .prop_map(
                |(
                    (title, summary, excerpt, url),
                    (author, published, image, feed_title),
                    categories,
                    hashtags,
                )| {
                    Context {
                        title,
                        summary,
                        excerpt,
                        url: url
                            .map(|u| format!("https://example.com/{u}"))
                            .unwrap_or_default(),
                        author,
                        published,
                        categories,
                        hashtags,
                        image,
                        feed_title,
                        lead: String::new(),
                        ..Context::sample()
                    }
                },
            )
    }

    fn post() -> impl Strategy<Value = PostView> {
        (
            text(),
            prop::option::of(0usize..300),
            (text(), 0usize..400),
            text(),
            prop::collection::vec(text(), 0..10),
            any::<bool>(),
        )
            .prop_map(
                |(title, slug, (summary, repeat), content, categories, fed)| PostView {
                    title,
                    url: slug.map(|n| format!("https://example.com/{}", "p".repeat(n))),
                    summary: format!("{summary} ").repeat(repeat / 40 + 1),
                    content_text: content.repeat(repeat / 20 + 1),
                    author: fed.then(|| "Dana Okafor".to_owned()),
                    published: chrono::DateTime::from_timestamp(1_760_000_000, 0),
                    categories,
                    image_url: None,
                    feed_title: fed.then(|| "Example Engineering".to_owned()),
                    ..PostView::default()
                },
            )
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(400))]

        /// Pasting gives minijinja's output, byte for byte, for every
        /// shortening fitting could ask for.
        #[test]
        fn renders_like_minijinja(
            source in template(),
            ctx in context(),
            cut in (text(), text(), text(), 0usize..10, any::<bool>(), 0usize..3),
        ) {
            let (set, broken) = TemplateSet::with_overrides([(Platform::X, "t".to_owned(), source.clone())]);
            prop_assume!(broken.is_empty());
            let vm = TemplateSet::with_overrides([(Platform::X, "t".to_owned(), source.clone())]).0.without_segments();
            let (title, summary, excerpt, hashtags, url, kept) = cut;
            let angles = Kept::ALL[kept];
            for shortened in [
                Shortened::whole(&ctx),
                Shortened { title: title.into(), summary: summary.into(), excerpt: excerpt.into(), hashtags, url, angles },
            ] {
                let pasted = set.compiled(Platform::X, "t").unwrap().render(&ctx, &OnceCell::new(), &shortened);
                let rendered = vm.compiled(Platform::X, "t").unwrap().render(&ctx, &OnceCell::new(), &shortened);
                prop_assert_eq!(pasted, rendered, "{:?}", source);
            }
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        /// Whole captions, fitting included, are the same whichever way the
        /// templates render, for the built-in templates and random ones, on
        /// every platform.
        #[test]
        fn captions_are_the_same_as_with_minijinja(
            post in post(),
            source in template(),
            utm in any::<bool>(),
            mastodon_limit in prop::option::of(100usize..1000),
        ) {
            let templates = || TemplateSet::with_overrides(Platform::ALL.map(|p| (p, "t".to_owned(), source.clone())));
            let (set, broken) = templates();
            prop_assume!(broken.is_empty());
            let vm = templates().0.without_segments();
            let requests: Vec<(Platform, String)> = Platform::ALL
                .iter()
                .flat_map(|&p| [(p, DEFAULT_VARIANT.to_owned()), (p, "t".to_owned())])
                .collect();
            let settings = Settings { mastodon_limit, utm, ..Settings::default() };
            prop_assert_eq!(
                generate_with(&set, &post, &requests, &settings),
                generate_with(&vm, &post, &requests, &settings),
                "{:?}", source
            );
        }
    }
}
