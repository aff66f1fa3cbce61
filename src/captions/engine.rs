//! The sandboxed template engine subscriber templates run in.
//!
//! minijinja has no file, network or environment access unless a loader or
//! functions are registered, and none are. What a subscriber can still do is
//! loop and grow text, so every render is bounded by fuel (instructions) and
//! by an output cap. Templates are compiled once into a [`TemplateSet`] and
//! reused for every post.

use std::cell::OnceCell;
use std::collections::HashMap;
use std::io;
use std::sync::{Arc, LazyLock};

use minijinja::value::{Enumerator, Object, ObjectRepr, Value};
use minijinja::{AutoEscape, Environment, Error, ErrorKind, UndefinedBehavior};

use super::bounds::{self, MAX_FIELD_BYTES};
use super::filters;
use super::language::Language;
use super::platform::Platform;
use super::segments::Segments;
use super::template::{default_template_in, tidy, within_bytes, Context, Shortened};

/// Per-render instruction budget. The defaults need a few hundred; this only
/// stops a runaway loop from pinning a worker.
const FUEL: u64 = 20_000;
pub use super::limits::{MAX_OUTPUT_BYTES, MAX_SOURCE_BYTES};

/// The names a template can use; anything else is refused on save. In the
/// order of [`Prepared`]'s fields.
pub const VARIABLES: &[&str] = &[
    "title",
    "summary",
    "excerpt",
    "url",
    "author",
    "published",
    "categories",
    "hashtags",
    "image",
    "feed_title",
    "lead",
    "key_sentence",
    "quote",
    "question",
    "number",
    "teaser",
];

/// Why a template was refused, with the line it happened on when known.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}{reason}", line.map(|l| format!("line {l}: ")).unwrap_or_default())]
pub struct TemplateError {
    pub line: Option<usize>,
    pub reason: String,
}

impl TemplateError {
    fn from_refusal(refusal: bounds::Refusal) -> Self {
        TemplateError {
            line: Some(refusal.line),
            reason: refusal.reason,
        }
    }

    fn from_minijinja(e: &Error) -> Self {
        let reason = match e.detail() {
            Some(detail) => format!("{} ({detail})", kind_text(e.kind())),
            None => kind_text(e.kind()).to_owned(),
        };
        TemplateError {
            line: e.line(),
            reason,
        }
    }
}

fn kind_text(kind: ErrorKind) -> &'static str {
    match kind {
        ErrorKind::SyntaxError => "syntax error",
        ErrorKind::UndefinedError => "undefined value (a variable or item this post does not have)",
        ErrorKind::UnknownFilter => "unknown filter",
        ErrorKind::UnknownTest => "unknown test",
        ErrorKind::UnknownFunction => "unknown function",
        ErrorKind::InvalidOperation => "invalid operation",
        ErrorKind::OutOfFuel => "template does too much work (loop too long)",
        ErrorKind::TemplateNotFound => "no such template",
        ErrorKind::MissingArgument | ErrorKind::TooManyArguments => "wrong number of arguments",
        ErrorKind::WriteFailure => "output too long",
        _ => "template error",
    }
}

/// Compiled templates, one per (platform, variant). The built-in defaults are
/// always present as variant `default` unless overridden.
pub struct TemplateSet {
    env: Environment<'static>,
    /// Every template's key, with its pieces when it is simple enough to be
    /// rendered by pasting them (see [`Segments`]).
    keys: HashMap<String, Option<Segments>>,
}

/// One template of a set, looked up once per caption and rendered for each
/// shortening fitting tries.
pub(crate) struct Compiled<'s> {
    tmpl: minijinja::Template<'s, 's>,
    segments: Option<&'s Segments>,
}

static DEFAULTS: LazyLock<Vec<TemplateSet>> = LazyLock::new(|| {
    Language::ALL
        .map(|language| TemplateSet::with_overrides_in(language, []).0)
        .into()
});

impl TemplateSet {
    /// The built-in templates only, compiled once per process.
    pub fn defaults() -> &'static TemplateSet {
        Self::defaults_in(Language::En)
    }

    /// The built-in templates with their fixed words in `language`.
    pub fn defaults_in(language: Language) -> &'static TemplateSet {
        let i = Language::ALL.iter().position(|&l| l == language);
        &DEFAULTS[i.unwrap_or_default()]
    }

    /// The English defaults plus an account's templates.
    pub fn with_overrides(
        templates: impl IntoIterator<Item = (Platform, String, String)>,
    ) -> (Self, Vec<(Platform, String, TemplateError)>) {
        Self::with_overrides_in(Language::En, templates)
    }

    /// The defaults in `language` plus an account's templates, then a
    /// feed's (a later one replaces an earlier one of the same platform and
    /// variant). A stored template that no longer compiles (it was validated
    /// on save, so only after an engine change) is left out and reported, so
    /// one bad template cannot stop the account's other captions.
    pub fn with_overrides_in(
        language: Language,
        templates: impl IntoIterator<Item = (Platform, String, String)>,
    ) -> (Self, Vec<(Platform, String, TemplateError)>) {
        let mut set = TemplateSet {
            env: sandbox(),
            keys: HashMap::new(),
        };
        for platform in Platform::ALL {
            let key = key(platform, super::DEFAULT_VARIANT);
            let source = default_template_in(platform, language);
            let segments = Segments::compile(&source);
            // The built-in sources are tested to compile; a failure here
            // would only leave that platform's default missing.
            if set.env.add_template_owned(key.clone(), source).is_ok() {
                set.keys.insert(key, segments);
            }
            for style in super::styles::STYLES {
                let key = self::key(platform, style.name);
                let source = style.template(platform, language);
                let segments = Segments::compile(&source);
                if set.env.add_template_owned(key.clone(), source).is_ok() {
                    set.keys.insert(key, segments);
                }
            }
        }
        let mut broken = Vec::new();
        for (platform, variant, source) in templates {
            let key = key(platform, &variant);
            let segments = Segments::compile(&source);
            match add_bounded(&mut set.env, key.clone(), source) {
                Ok(()) => {
                    set.keys.insert(key, segments);
                }
                Err(e) => broken.push((platform, variant, e)),
            }
        }
        (set, broken)
    }

    pub fn has(&self, platform: Platform, variant: &str) -> bool {
        self.keys.contains_key(&key(platform, variant))
    }

    /// The same set rendering everything with minijinja, to compare with.
    #[cfg(test)]
    pub(crate) fn without_segments(mut self) -> Self {
        for segments in self.keys.values_mut() {
            *segments = None;
        }
        self
    }

    /// The template for (`platform`, `variant`).
    pub(crate) fn compiled(
        &self,
        platform: Platform,
        variant: &str,
    ) -> Result<Compiled<'_>, TemplateError> {
        let key = key(platform, variant);
        let tmpl = self
            .env
            .get_template(&key)
            .map_err(|e| TemplateError::from_minijinja(&e))?;
        Ok(Compiled {
            tmpl,
            segments: self.keys.get(&key).and_then(Option::as_ref),
        })
    }

    /// Renders one template with `ctx` and tidies the result (blank runs
    /// collapsed, lines trimmed).
    #[cfg(test)]
    pub(crate) fn render(
        &self,
        platform: Platform,
        variant: &str,
        ctx: &Context,
    ) -> Result<String, TemplateError> {
        self.compiled(platform, variant)?
            .render(ctx, &OnceCell::new(), &Shortened::whole(ctx))
    }
}

impl Compiled<'_> {
    /// Renders `ctx` shortened as `shortened` says, and tidies the result.
    /// `prepared` holds `ctx` as template values once minijinja needed them.
    pub(crate) fn render(
        &self,
        ctx: &Context,
        prepared: &OnceCell<Prepared>,
        shortened: &Shortened,
    ) -> Result<String, TemplateError> {
        if let Some(text) = self.segments.and_then(|s| s.render(ctx, shortened)) {
            return Ok(tidy(&text));
        }
        let prepared = prepared.get_or_init(|| Prepared::new(ctx));
        render_capped(&self.tmpl, prepared.view(shortened))
    }
}

fn render_capped(tmpl: &minijinja::Template, ctx: Value) -> Result<String, TemplateError> {
    let mut out = CappedWriter::default();
    tmpl.render_captured_to(ctx, &mut out)
        .map_err(|e| TemplateError::from_minijinja(&e))?;
    let text = String::from_utf8(out.buf).map_err(|_| TemplateError {
        line: None,
        reason: "output is not valid text".into(),
    })?;
    Ok(tidy(&text))
}

/// A context turned into template values once. Fitting renders many
/// shortenings of one context; each reuses the values that did not change
/// (sharing them costs a reference count) instead of converting every field
/// and list again, which was a large part of the cost of a render.
pub(crate) struct Prepared {
    /// One per name of [`VARIABLES`], in order.
    fields: [Value; FIELDS],
    /// The hashtags one by one, to keep a prefix of.
    hashtags: Vec<Value>,
}

const TITLE: usize = 0;
const SUMMARY: usize = 1;
const EXCERPT: usize = 2;
const URL: usize = 3;
const HASHTAGS: usize = 7;
/// The lead, then the angles, which fitting drops whole.
const LEAD: usize = 10;
const ANGLES: std::ops::Range<usize> = 11..16;
const FIELDS: usize = 16;

impl Prepared {
    pub(crate) fn new(ctx: &Context) -> Self {
        let hashtags = list_field(&ctx.hashtags);
        let categories = list_field(&ctx.categories);
        Prepared {
            fields: [
                text_field(&ctx.title),
                text_field(&ctx.summary),
                text_field(&ctx.excerpt),
                text_field(&ctx.url),
                text_field(&ctx.author),
                text_field(&ctx.published),
                Value::from(categories),
                Value::from(hashtags.clone()),
                text_field(&ctx.image),
                text_field(&ctx.feed_title),
                text_field(&ctx.lead),
                text_field(&ctx.key_sentence),
                text_field(&ctx.quote),
                text_field(&ctx.question),
                text_field(&ctx.number),
                text_field(&ctx.teaser),
            ],
            hashtags,
        }
    }

    /// The root value a template sees.
    fn view(&self, shortened: &Shortened) -> Value {
        let mut fields = self.fields.clone();
        let mut set = |i: usize, text: &str| {
            // Unchanged text keeps its ready value.
            if fields[i].as_str() != Some(within_field(text)) {
                fields[i] = text_field(text);
            }
        };
        set(TITLE, &shortened.title);
        set(SUMMARY, &shortened.summary);
        set(EXCERPT, &shortened.excerpt);
        if !shortened.url {
            fields[URL] = Value::from("");
        }
        if !shortened.angles.angles() {
            for field in &mut fields[ANGLES] {
                *field = Value::from("");
            }
        }
        if !shortened.angles.lead() {
            fields[LEAD] = Value::from("");
        }
        if shortened.hashtags < self.hashtags.len() {
            fields[HASHTAGS] = Value::from(self.hashtags[..shortened.hashtags].to_vec());
        }
        Value::from_object(ContextObject(fields))
    }
}

/// `text` cut to [`MAX_FIELD_BYTES`], the size [`bounds`] assumes every
/// variable stays within. [`Context::from_post`] already cuts; this holds for
/// contexts made any other way.
fn within_field(text: &str) -> &str {
    within_bytes(text, MAX_FIELD_BYTES)
}

fn text_field(text: &str) -> Value {
    Value::from(within_field(text))
}

/// As many items as fit in [`MAX_FIELD_BYTES`] written out as a list.
fn list_field(items: &[String]) -> Vec<Value> {
    let mut room = MAX_FIELD_BYTES;
    items
        .iter()
        .map(|item| within_field(item))
        .take_while(|item| {
            // Quotes, comma and space around each item when printed whole.
            let size = item.len() + 4;
            let fits = size <= room;
            room = room.saturating_sub(size);
            fits
        })
        .map(Value::from)
        .collect()
}

/// What a template sees at its top level: the [`VARIABLES`] and nothing else.
#[derive(Debug)]
struct ContextObject([Value; FIELDS]);

impl Object for ContextObject {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Map
    }

    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        self.get_value_by_str(key.as_str()?)
    }

    fn get_value_by_str(self: &Arc<Self>, key: &str) -> Option<Value> {
        let i = VARIABLES.iter().position(|v| *v == key)?;
        self.0.get(i).cloned()
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        Enumerator::Str(VARIABLES)
    }
}

fn key(platform: Platform, variant: &str) -> String {
    format!("{}/{variant}", platform.id())
}

/// Checks a subscriber's template before it is saved: it must compile, use
/// only [`VARIABLES`], and render a sample post without error.
pub fn validate(source: &str) -> Result<(), TemplateError> {
    if source.len() > MAX_SOURCE_BYTES {
        return Err(TemplateError {
            line: None,
            reason: format!("template is longer than {MAX_SOURCE_BYTES} bytes"),
        });
    }
    bounds::check(source).map_err(TemplateError::from_refusal)?;
    let env = sandbox();
    let tmpl = env
        .template_from_str(source)
        .map_err(|e| TemplateError::from_minijinja(&e))?;
    let mut unknown: Vec<String> = tmpl
        .undeclared_variables(false)
        .into_iter()
        .filter(|v| !VARIABLES.contains(&v.as_str()) && env.globals().all(|(g, _)| g != v))
        .collect();
    unknown.sort();
    if let Some(name) = unknown.first() {
        return Err(TemplateError {
            line: line_of(source, name),
            reason: format!(
                "unknown variable \"{name}\"; available: {}",
                VARIABLES.join(", ")
            ),
        });
    }
    let sample = Context::sample();
    render_capped(
        &tmpl,
        Prepared::new(&sample).view(&Shortened::whole(&sample)),
    )?;
    Ok(())
}

/// The first line where `name` appears as a whole word.
fn line_of(source: &str, name: &str) -> Option<usize> {
    let is_word = |c: char| c.is_alphanumeric() || c == '_';
    source
        .lines()
        .position(|line| {
            line.match_indices(name).any(|(i, _)| {
                let before = line[..i].chars().next_back();
                let after = line[i + name.len()..].chars().next();
                !before.is_some_and(is_word) && !after.is_some_and(is_word)
            })
        })
        .map(|i| i + 1)
}

fn sandbox() -> Environment<'static> {
    // Empty: only the filters, tests and functions `filters` vets are added.
    let mut env = Environment::empty();
    // Captions are plain text pasted into a compose box; nothing is escaped.
    env.set_auto_escape_callback(|_| AutoEscape::None);
    // Every context field is always present (empty when unknown), so an
    // undefined name can only be a typo in a template; fail loudly on it.
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    env.set_fuel(Some(FUEL));
    filters::register(&mut env);
    env
}

/// Compiles `source` into `env` under `key` once its sizes are bounded.
fn add_bounded(
    env: &mut Environment<'static>,
    key: String,
    source: String,
) -> Result<(), TemplateError> {
    bounds::check(&source).map_err(TemplateError::from_refusal)?;
    env.add_template_owned(key, source)
        .map_err(|e| TemplateError::from_minijinja(&e))
}

/// Refuses to grow past [`MAX_OUTPUT_BYTES`], which aborts the render.
struct CappedWriter {
    buf: Vec<u8>,
}

impl Default for CappedWriter {
    fn default() -> Self {
        // Room for a typical caption, so most renders allocate once.
        CappedWriter {
            buf: Vec::with_capacity(1024),
        }
    }
}

impl io::Write for CappedWriter {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        if self.buf.len() + data.len() > MAX_OUTPUT_BYTES {
            return Err(io::Error::other("caption output too long"));
        }
        self.buf.extend_from_slice(data);
        Ok(data.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn render_one(source: &str, ctx: &Context) -> Result<String, TemplateError> {
        let (set, broken) =
            TemplateSet::with_overrides([(Platform::X, "t".to_owned(), source.to_owned())]);
        assert!(broken.is_empty(), "{broken:?}");
        set.render(Platform::X, "t", ctx)
    }

    #[test]
    fn every_variable_and_filter_works() {
        let source = "{{ title|upper }} / {{ title|lower }} / {{ '  x  '|strip }} / \
                      {{ summary|truncate_words(3) }} / {{ categories|hashtags|join(' ') }} / \
                      {{ published|date('%d %B %Y') }} / {{ url }} {{ author }} {{ excerpt }} \
                      {{ hashtags|length }} {{ image }} {{ feed_title }}";
        assert_eq!(validate(source), Ok(()));
        let text = render_one(source, &Context::sample()).unwrap();
        assert!(
            text.starts_with(
                "HOW WE MADE OUR FEED READER FAST / how we made our feed reader fast / x / \
             Profiling a Rust… / #Rust #Performance #WebDevelopment / 14 November 2023 / \
             https://blog.example.com/fast-feeds"
            ),
            "{text}"
        );
    }

    #[test]
    fn syntax_errors_name_the_line() {
        let err = validate("{{ title }}\n{% if url %}\n{{ url }").unwrap_err();
        assert_eq!(err.line, Some(3), "{err}");
        assert!(err.to_string().starts_with("line 3: syntax error"), "{err}");
        let err = validate("{{ title }}\n{% for x in hashtags %}{{ x }}").unwrap_err();
        assert!(err.reason.contains("syntax error"), "{err}");
    }

    #[test]
    fn unknown_variables_and_filters_are_refused() {
        let err = validate("{{ title }}\n\n{{ tittle }}").unwrap_err();
        assert_eq!(err.line, Some(3));
        assert!(err.reason.contains("unknown variable \"tittle\""), "{err}");
        let err = validate("{{ title|shout }}").unwrap_err();
        assert_eq!(err.line, Some(1));
        assert!(err.reason.contains("unknown filter"), "{err}");
        let err = validate("{{ published|date('%Q') }}").unwrap_err();
        assert!(err.reason.contains("invalid date format"), "{err}");
        // Loop variables and builtins are not unknown.
        assert_eq!(
            validate(
                "{% for h in hashtags %}{{ loop.index }}{{ h }}{% endfor %}{{ range(3)|length }}"
            ),
            Ok(())
        );
    }

    #[test]
    fn runaway_templates_are_stopped() {
        let err = validate(
            "{% for i in range(1000) %}{% for j in range(1000) %}{{ j }}{% endfor %}{% endfor %}",
        )
        .unwrap_err();
        assert!(err.reason.contains("too much work"), "{err}");
        let ctx = Context {
            title: "x".repeat(10_000),
            ..Context::sample()
        };
        let err = render_one("{% for i in range(200) %}{{ title }}{% endfor %}", &ctx).unwrap_err();
        assert!(
            err.reason.contains("output too long") || err.reason.contains("template error"),
            "{err}"
        );
        assert!(validate(&"x".repeat(MAX_SOURCE_BYTES + 1)).is_err());
    }

    #[test]
    fn no_access_to_files_or_other_templates() {
        assert!(validate("{% include '/etc/passwd' %}").is_err());
        assert!(validate("{{ env }}").is_err());
    }

    #[test]
    fn defaults_are_present_and_overridable() {
        let set = TemplateSet::defaults();
        for p in Platform::ALL {
            assert!(set.has(p, "default"), "{p:?}");
            assert!(set.has(p, "teaser"), "built-in style");
            assert!(!set.has(p, "spring-sale"));
        }
        let (set, _) = TemplateSet::with_overrides([(
            Platform::Bluesky,
            "default".to_owned(),
            "Mine: {{ title }}".to_owned(),
        )]);
        assert_eq!(
            set.render(Platform::Bluesky, "default", &Context::sample())
                .unwrap(),
            "Mine: How we made our feed reader fast"
        );
        let (_, broken) =
            TemplateSet::with_overrides([(Platform::X, "bad".to_owned(), "{{ oops".to_owned())]);
        assert_eq!(broken.len(), 1);
    }
}
