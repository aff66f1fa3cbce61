//! The template builder: a caption as a list of blocks (the title, an angle, the link,
//! words of the subscriber's own…), turned into template text, and template text the
//! builder wrote turned back into its blocks so it can be edited again. Text it did not
//! write is not read back (`None`): the page opens it as raw template, "advanced".
//!
//! Each block is a line of its own; a line break block leaves a blank line. A field block
//! is wrapped in `{% if field %}` together with the line break before it, so a post that
//! lacks the angle loses the whole line and no separator is left behind: missing angles
//! are skipped, never invented.

use super::language::Language;
use super::platform::Platform;

/// The longest own text a block holds, in characters.
pub const MAX_TEXT_CHARS: usize = 200;

/// The most blocks one template is built from; far more than a caption has room for.
pub const MAX_BLOCKS: usize = 30;

/// One part of a built caption.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Block {
    Title,
    /// The sentence that carries the post (its key sentence).
    Hook,
    Lead,
    Quote,
    Question,
    Teaser,
    /// The post's link; on Instagram, where captions hold no links, where to find it.
    Link,
    Hashtags,
    /// Words of the subscriber's own, on a line of their own (see [`own_text`]).
    Text(String),
    /// A blank line between the blocks before and after it.
    Break,
}

/// The kinds of block, in the order the page offers them: (form value, label).
pub const KINDS: [(&str, &str); 10] = [
    ("title", "Title"),
    ("hook", "Hook (the sentence that carries the post)"),
    ("lead", "Lead (its first strong sentence)"),
    ("quote", "Quote"),
    ("question", "Question"),
    ("teaser", "Teaser (its sections)"),
    ("link", "Link"),
    ("hashtags", "Hashtags"),
    ("text", "Your own text"),
    ("break", "Line break"),
];

impl Block {
    /// The block of kind `kind` (a form value of [`KINDS`]); `text` is only read for own
    /// text, which is cleaned with [`own_text`]. `None` for an unknown kind or own text
    /// left empty.
    pub fn from_kind(kind: &str, text: &str) -> Option<Block> {
        Some(match kind {
            "title" => Block::Title,
            "hook" => Block::Hook,
            "lead" => Block::Lead,
            "quote" => Block::Quote,
            "question" => Block::Question,
            "teaser" => Block::Teaser,
            "link" => Block::Link,
            "hashtags" => Block::Hashtags,
            "break" => Block::Break,
            "text" => {
                let text = own_text(text);
                if text.is_empty() {
                    return None;
                }
                Block::Text(text)
            }
            _ => return None,
        })
    }

    /// The form value of the block's kind.
    pub fn kind(&self) -> &'static str {
        match self {
            Block::Title => "title",
            Block::Hook => "hook",
            Block::Lead => "lead",
            Block::Quote => "quote",
            Block::Question => "question",
            Block::Teaser => "teaser",
            Block::Link => "link",
            Block::Hashtags => "hashtags",
            Block::Text(_) => "text",
            Block::Break => "break",
        }
    }

    /// What the page calls the block.
    pub fn label(&self) -> &'static str {
        let kind = self.kind();
        KINDS
            .iter()
            .find(|(k, _)| *k == kind)
            .map_or(kind, |(_, label)| label)
    }

    /// The own text of a text block, else empty.
    pub fn text(&self) -> &str {
        match self {
            Block::Text(text) => text,
            _ => "",
        }
    }

    /// The template variable a field block shows.
    fn field(&self) -> Option<&'static str> {
        Some(match self {
            Block::Title => "title",
            Block::Hook => "key_sentence",
            Block::Lead => "lead",
            Block::Quote => "quote",
            Block::Question => "question",
            Block::Teaser => "teaser",
            Block::Link => "url",
            Block::Hashtags => "hashtags",
            Block::Text(_) | Block::Break => return None,
        })
    }
}

/// Own text as a block holds it: one line, at most [`MAX_TEXT_CHARS`], without braces.
/// Braces are dropped because `{{`, `{%` and `{#` would make the words template code;
/// without them, text is pasted as it is.
pub fn own_text(raw: &str) -> String {
    let words: String = raw
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .filter(|c| !matches!(c, '{' | '}'))
        .collect();
    let line: String = words
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .chars()
        .take(MAX_TEXT_CHARS)
        .collect();
    line.trim_end().to_owned()
}

/// The blocks as the builder keeps them: no line break at either end or twice in a row
/// (they would change nothing), at most [`MAX_BLOCKS`].
pub fn normalized(blocks: &[Block]) -> Vec<Block> {
    let mut out: Vec<Block> = Vec::with_capacity(blocks.len());
    for block in blocks.iter().take(MAX_BLOCKS) {
        let after_break = matches!(out.last(), None | Some(Block::Break));
        match block {
            Block::Break if after_break => {}
            Block::Text(text) if own_text(text).is_empty() => {}
            Block::Text(text) => out.push(Block::Text(own_text(text))),
            other => out.push(other.clone()),
        }
    }
    if out.last() == Some(&Block::Break) {
        out.pop();
    }
    out
}

/// The template text of `blocks` on `platform`, its fixed words ("Link in bio.") in
/// `language`. Always a template the engine accepts.
pub fn to_source(blocks: &[Block], platform: Platform, language: Language) -> String {
    let mut source = String::new();
    let mut separator = "";
    for block in normalized(blocks) {
        if block == Block::Break {
            separator = "\n\n";
            continue;
        }
        source.push_str(&piece(&block, separator, platform, language));
        separator = "\n";
    }
    source
}

/// One block's template text after `separator`.
fn piece(block: &Block, separator: &str, platform: Platform, language: Language) -> String {
    match (block, block.field()) {
        (Block::Text(text), _) => format!("{separator}{text}"),
        (Block::Link, _) if platform == Platform::Instagram => format!(
            "{{% if url %}}{separator}{}{{% endif %}}",
            language.link_in_bio()
        ),
        (Block::Hashtags, _) => {
            format!("{{% if hashtags %}}{separator}{{{{ hashtags|join(' ') }}}}{{% endif %}}")
        }
        (_, Some(field)) => format!("{{% if {field} %}}{separator}{{{{ {field} }}}}{{% endif %}}"),
        (_, None) => String::new(),
    }
}

/// The blocks of a template the builder wrote on `platform` (in any language), or `None`
/// when the text is not one it writes: hand-written or edited by hand.
pub fn from_source(source: &str, platform: Platform) -> Option<Vec<Block>> {
    let candidates: Vec<Block> = KINDS
        .iter()
        .filter_map(|(kind, _)| Block::from_kind(kind, ""))
        .filter(|b| *b != Block::Break)
        .collect();
    let mut blocks = Vec::new();
    let mut rest = source;
    let mut first = true;
    while !rest.is_empty() {
        let separators: &[&str] = if first { &[""] } else { &["\n\n", "\n"] };
        let matched = separators.iter().find_map(|&separator| {
            let field = candidates.iter().find_map(|block| {
                Language::ALL.iter().find_map(|&language| {
                    let text = piece(block, separator, platform, language);
                    rest.strip_prefix(text.as_str())
                        .map(|after| (block.clone(), after))
                })
            });
            field
                .or_else(|| own_text_prefix(rest, separator))
                .map(|found| (separator, found))
        });
        let (separator, (block, after)) = matched?;
        if separator == "\n\n" {
            blocks.push(Block::Break);
        }
        blocks.push(block);
        rest = after;
        first = false;
    }
    // Read back only what writing the blocks again gives exactly.
    Language::ALL
        .into_iter()
        .any(|l| to_source(&blocks, platform, l) == source)
        .then_some(blocks)
}

/// Own text after `separator` at the start of `rest`: up to the next line or template tag.
fn own_text_prefix<'a>(rest: &'a str, separator: &str) -> Option<(Block, &'a str)> {
    let after = rest.strip_prefix(separator)?;
    let end = after.find(['\n', '{']).unwrap_or(after.len());
    let text = &after[..end];
    (!text.is_empty() && own_text(text) == text)
        .then(|| (Block::Text(text.to_owned()), &after[end..]))
}

/// A starting point for a platform whose template the builder did not write.
pub fn starter(platform: Platform) -> Vec<Block> {
    let mut blocks = vec![Block::Title, Block::Lead, Block::Break, Block::Link];
    if platform != Platform::Bluesky {
        blocks.extend([Block::Break, Block::Hashtags]);
    }
    blocks
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::super::engine::TemplateSet;
    use super::super::{generate_with, validate_template, PostView, Settings};
    use super::*;

    fn post() -> PostView {
        PostView {
            title: "Zero-downtime Postgres migrations with Diesel".into(),
            url: Some("https://blog.example.dev/posts/zero-downtime-migrations".into()),
            summary: "How we ship schema changes without locking tables.".into(),
            content_text: "Every deploy used to mean a maintenance window.".into(),
            categories: vec!["Rust".into(), "PostgreSQL".into(), "DevOps".into()],
            lead: "Every deploy used to mean a maintenance window.".into(),
            headings: vec!["Expand and contract".into(), "Backfills".into()],
            angles: crate::feeds::Angles {
                key_sentence: "A naive ALTER TABLE took an exclusive lock for minutes.".into(),
                quote: "The fastest migration is the one nobody notices.".into(),
                question: String::new(),
                number: String::new(),
            },
            ..PostView::default()
        }
    }

    fn render(blocks: &[Block], platform: Platform, post: &PostView) -> super::super::Caption {
        let source = to_source(blocks, platform, Language::En);
        let (set, broken) =
            TemplateSet::with_overrides([(platform, "built".to_owned(), source.clone())]);
        assert!(broken.is_empty(), "{source}: {broken:?}");
        generate_with(
            &set,
            post,
            &[(platform, "built".to_owned())],
            &Settings::default(),
        )
        .remove(0)
    }

    #[test]
    fn blocks_become_lines_and_a_break_a_blank_line() {
        let blocks = [
            Block::Text("New on the blog:".into()),
            Block::Title,
            Block::Hook,
            Block::Break,
            Block::Link,
            Block::Hashtags,
        ];
        let c = render(&blocks, Platform::Mastodon, &post());
        assert_eq!(
            c.text,
            "New on the blog:\nZero-downtime Postgres migrations with Diesel\n\
             A naive ALTER TABLE took an exclusive lock for minutes.\n\n\
             https://blog.example.dev/posts/zero-downtime-migrations\n#Rust #PostgreSQL #DevOps"
        );
    }

    #[test]
    fn a_missing_angle_leaves_no_line_behind() {
        // The post asks no question: its block and the break after it leave nothing.
        let blocks = [
            Block::Question,
            Block::Break,
            Block::Title,
            Block::Question,
            Block::Link,
        ];
        let c = render(&blocks, Platform::Bluesky, &post());
        assert_eq!(
            c.text,
            "Zero-downtime Postgres migrations with Diesel\n\
             https://blog.example.dev/posts/zero-downtime-migrations"
        );
    }

    #[test]
    fn instagram_says_where_the_link_is_in_the_feeds_language() {
        let source = to_source(
            &[Block::Title, Block::Link],
            Platform::Instagram,
            Language::De,
        );
        assert!(source.contains("Link in der Bio."), "{source}");
        assert!(!source.contains("{{ url }}"), "{source}");
        assert_eq!(
            from_source(&source, Platform::Instagram),
            Some(vec![Block::Title, Block::Link])
        );
    }

    #[test]
    fn own_text_cannot_become_template_code() {
        let block = Block::from_kind("text", "  {{ secret }} {% for x in y %}  ").unwrap();
        assert_eq!(block, Block::Text("secret % for x in y %".into()));
        assert_eq!(Block::from_kind("text", " {} "), None);
        assert_eq!(Block::from_kind("banner", ""), None);
    }

    #[test]
    fn hand_written_templates_open_as_advanced() {
        for platform in Platform::ALL {
            let default = super::super::template::default_template(platform);
            assert_eq!(from_source(default, platform), None, "{default}");
        }
        let built = to_source(&[Block::Title, Block::Link], Platform::X, Language::En);
        assert_eq!(from_source(&format!("{built} "), Platform::X), None);
        assert_eq!(from_source("{{ title|upper }}", Platform::X), None);
        assert_eq!(from_source("", Platform::X), Some(vec![]));
    }

    #[test]
    fn the_starter_is_read_back() {
        for platform in Platform::ALL {
            let blocks = starter(platform);
            let source = to_source(&blocks, platform, Language::En);
            assert_eq!(from_source(&source, platform), Some(blocks));
        }
    }

    fn block() -> impl Strategy<Value = Block> {
        prop_oneof![
            Just(Block::Title),
            Just(Block::Hook),
            Just(Block::Lead),
            Just(Block::Quote),
            Just(Block::Question),
            Just(Block::Teaser),
            Just(Block::Link),
            Just(Block::Hashtags),
            Just(Block::Break),
            // Braces, newlines and tags included: own text must stay words.
            "[a-zA-Z {}%#\n!:é👋]{0,40}".prop_map(Block::Text),
        ]
    }

    fn platform() -> impl Strategy<Value = Platform> {
        proptest::sample::select(Platform::ALL.to_vec())
    }

    fn language() -> impl Strategy<Value = Language> {
        proptest::sample::select(Language::ALL.to_vec())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(300))]

        #[test]
        fn every_built_template_validates_fits_and_reads_back(
            blocks in proptest::collection::vec(block(), 0..14),
            platform in platform(),
            language in language(),
            long in any::<bool>(),
            angles in any::<bool>(),
        ) {
            let source = to_source(&blocks, platform, language);
            prop_assert_eq!(validate_template(&source), Ok(()), "{}", source);
            prop_assert_eq!(from_source(&source, platform), Some(normalized(&blocks)));

            let mut post = post();
            if long {
                post.title = "A title that goes on and on ".repeat(30);
                post.angles.quote = format!("{}.", "A quote that does not stop ".repeat(20).trim_end());
            }
            if !angles {
                post.lead.clear();
                post.angles = crate::feeds::Angles::default();
            }
            let c = render(&blocks, platform, &post);
            prop_assert!(c.length <= c.limit, "{:?}", c);
            prop_assert!(!c.text.contains("\n\n\n"), "{:?}", c);
            prop_assert_eq!(c.text.trim(), c.text.as_str());
        }
    }
}
