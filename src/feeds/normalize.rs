//! Turning feed fields into the plain, stable values captions are built
//! from: text without markup, absolute URLs, and an entry key that does not
//! change between polls.

use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};
use url::Url;

use super::html;

/// Length of a summary cut from the content when the feed gives none; long
/// enough for the longest caption platforms, short enough to be a blurb.
pub const SUMMARY_CHARS: usize = 300;
/// Words taken from the summary when an entry has no title.
pub const TITLE_FALLBACK_WORDS: usize = 10;

/// How a feed field's text is to be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Markup {
    Html,
    Plain,
}

impl Markup {
    /// Only an explicit text/plain is trusted to be plain: feeds put
    /// markup into fields of every other (and of no) declared type.
    pub fn from_mime(mime: &str) -> Markup {
        let essence = mime.split(';').next().unwrap_or_default().trim();
        if essence.eq_ignore_ascii_case("text/plain") {
            Markup::Plain
        } else {
            Markup::Html
        }
    }
}

/// Readable text of a field (blocks on separate lines) and its first image.
pub fn body_text(raw: &str, markup: Markup) -> html::Extracted {
    match markup {
        Markup::Html => html::extract(raw),
        Markup::Plain => html::Extracted {
            text: raw
                .lines()
                .map(one_line)
                .filter(|l| !l.is_empty())
                .collect::<Vec<_>>()
                .join("\n"),
            first_image: None,
        },
    }
}

/// Collapses every whitespace run, line breaks included, to one space.
pub fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Cuts `text` to at most `max_chars` characters at a word boundary, marking
/// the cut with an ellipsis so a reader knows there is more.
pub fn truncate_words(text: &str, max_chars: usize) -> String {
    let text = text.trim();
    if text.chars().count() <= max_chars {
        return text.to_owned();
    }
    let limit = max_chars.saturating_sub(1); // room for the ellipsis
    let mut cut = 0;
    for (count, (idx, c)) in text.char_indices().enumerate() {
        if count > limit {
            break;
        }
        if c.is_whitespace() {
            cut = idx;
        }
    }
    if cut == 0 {
        // One enormous word: cut mid-word rather than return nothing.
        cut = text
            .char_indices()
            .nth(limit)
            .map_or(text.len(), |(idx, _)| idx);
    }
    let head = text[..cut].trim_end_matches(|c: char| c.is_whitespace() || ",;:-".contains(c));
    format!("{head}…")
}

/// A title as one plain line; RSS titles routinely carry escaped markup
/// and entities, so anything not declared plain is read as HTML.
pub fn title_text(raw: &str, markup: Markup) -> String {
    one_line(&body_text(raw, markup).text)
}

/// A label for an entry that has no title, from its first words: lists need one, and
/// "(untitled)" says nothing. Empty when the text is.
pub fn fallback_title(summary: &str) -> String {
    let words: Vec<&str> = summary.split_whitespace().collect();
    match words.len() {
        n if n <= TITLE_FALLBACK_WORDS => words.join(" "),
        // Ending on a sentence's end, the label is whole.
        _ if words[TITLE_FALLBACK_WORDS - 1].ends_with(['.', '!', '?', '…']) => {
            words[..TITLE_FALLBACK_WORDS].join(" ")
        }
        _ => format!("{}…", words[..TITLE_FALLBACK_WORDS].join(" ")),
    }
}

/// Resolves `href` against `base`, keeping only http(s) results: anything
/// else (javascript:, data:, mailto:) is useless or harmful in a caption.
pub fn absolute_url(href: &str, base: Option<&Url>) -> Option<Url> {
    let href = href.trim();
    if href.is_empty() {
        return None;
    }
    let url = match Url::parse(href) {
        Ok(url) => url,
        Err(url::ParseError::RelativeUrlWithoutBase) => base?.join(href).ok()?,
        Err(_) => return None,
    };
    matches!(url.scheme(), "http" | "https").then_some(url)
}

/// Key identifying an entry across polls, preferring what the publisher
/// declared and falling back to content so that re-polling an unchanged
/// entry never produces a "new" one.
pub fn entry_key(
    source_id: Option<&str>,
    url: Option<&str>,
    title: &str,
    published: Option<DateTime<Utc>>,
    content_text: &str,
) -> String {
    if let Some(id) = source_id.map(str::trim).filter(|id| !id.is_empty()) {
        return format!("id:{id}");
    }
    if let Some(url) = url.map(str::trim).filter(|u| !u.is_empty()) {
        return format!("link:{url}");
    }
    let published = published.map(|p| p.to_rfc3339()).unwrap_or_default();
    let digest = Sha256::digest(format!("{title}\n{published}\n{content_text}").as_bytes());
    format!("hash:{digest:x}")
}

/// Trims and de-duplicates (case-insensitively, first spelling wins) while
/// keeping the feed's order.
pub fn categories<'a>(names: impl IntoIterator<Item = &'a str>) -> Vec<String> {
    let mut seen = std::collections::HashSet::new();
    names
        .into_iter()
        .map(one_line)
        .filter(|n| !n.is_empty() && seen.insert(n.to_lowercase()))
        .collect()
}

/// RSS `<author>` holds an e-mail address, conventionally
/// `"ana@example.com (Ana Baker)"`; the name in parentheses is what a
/// caption wants, the address is the fallback.
pub fn author_from_email(email: &str) -> Option<String> {
    let email = email.trim();
    if let (Some(open), true) = (email.find('('), email.ends_with(')')) {
        let name = one_line(&email[open + 1..email.len() - 1]);
        if !name.is_empty() {
            return Some(name);
        }
    }
    let plain = one_line(email);
    (!plain.is_empty()).then_some(plain)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::feeds::parse_feed;

    const SUMMARY: &str = "Lorem ipsum dolor sit amet, consectetur adipiscing elit.";

    #[test]
    fn truncates_at_word_boundaries() {
        assert_eq!(truncate_words("short text", 300), "short text");
        assert_eq!(truncate_words("one two three four", 12), "one two…");
        assert_eq!(truncate_words("one two, three", 9), "one two…");
        assert_eq!(truncate_words("abcdefghij", 5), "abcd…");
        let long = "word ".repeat(100);
        let cut = truncate_words(&long, SUMMARY_CHARS);
        assert!(cut.chars().count() <= SUMMARY_CHARS, "{}", cut.len());
        assert!(cut.ends_with("word…"));
        // Multi-byte text must not be sliced inside a character.
        assert_eq!(truncate_words("café crème brûlée", 12), "café crème…");
    }

    #[test]
    fn titles_fall_back_to_summary_words() {
        assert_eq!(fallback_title(""), "");
        assert_eq!(fallback_title("  Just a note  "), "Just a note");
        assert_eq!(
            fallback_title(SUMMARY),
            "Lorem ipsum dolor sit amet, consectetur adipiscing elit."
        );
        assert_eq!(
            fallback_title("a b c d e f g h i j k l"),
            "a b c d e f g h i j…"
        );
    }

    #[test]
    fn only_text_plain_is_plain() {
        assert_eq!(Markup::from_mime("text/plain"), Markup::Plain);
        assert_eq!(
            Markup::from_mime("Text/Plain; charset=utf-8"),
            Markup::Plain
        );
        assert_eq!(Markup::from_mime("text/html"), Markup::Html);
        assert_eq!(Markup::from_mime(""), Markup::Html);
    }

    #[test]
    fn plain_text_keeps_angle_brackets() {
        assert_eq!(title_text("a <b> c &amp;", Markup::Plain), "a <b> c &amp;");
        assert_eq!(title_text("a <b>c</b> &amp;", Markup::Html), "a c &");
    }

    #[test]
    fn urls_are_made_absolute_and_filtered() {
        let base = Url::parse("https://blog.example.com/posts/").unwrap();
        let abs = |h: &str| absolute_url(h, Some(&base)).map(String::from);
        assert_eq!(
            abs("img/a.png").as_deref(),
            Some("https://blog.example.com/posts/img/a.png")
        );
        assert_eq!(
            abs("/a.png").as_deref(),
            Some("https://blog.example.com/a.png")
        );
        assert_eq!(
            abs("//cdn.example.net/a.png").as_deref(),
            Some("https://cdn.example.net/a.png")
        );
        assert_eq!(abs("javascript:alert(1)"), None);
        assert_eq!(abs("data:image/png;base64,AAAA"), None);
        assert_eq!(absolute_url("img/a.png", None), None);
    }

    #[test]
    fn keys_prefer_id_then_link_then_hash() {
        let t = Some(
            DateTime::parse_from_rfc3339("2024-05-01T00:00:00Z")
                .unwrap()
                .to_utc(),
        );
        assert_eq!(
            entry_key(Some(" 42 "), Some("https://x/"), "t", t, "c"),
            "id:42"
        );
        assert_eq!(
            entry_key(Some(""), Some("https://x/"), "t", t, "c"),
            "link:https://x/"
        );
        let h = entry_key(None, None, "t", t, "c");
        assert_eq!(h, entry_key(None, None, "t", t, "c"));
        assert_ne!(h, entry_key(None, None, "t", None, "c"));
        assert!(h.starts_with("hash:") && h.len() == 5 + 64, "{h}");
    }

    #[test]
    fn categories_are_trimmed_and_deduped() {
        assert_eq!(
            categories([" Baking ", "Bread", "baking", "", "Bread  Making"]),
            vec!["Baking", "Bread", "Bread Making"]
        );
    }

    #[test]
    fn rss_author_addresses_give_names() {
        assert_eq!(
            author_from_email("ana@example.com (Ana Baker)").as_deref(),
            Some("Ana Baker")
        );
        assert_eq!(
            author_from_email("ana@example.com").as_deref(),
            Some("ana@example.com")
        );
        assert_eq!(author_from_email("  "), None);
    }

    #[test]
    fn entity_and_cdata_fixture_comes_out_as_plain_text() {
        let bytes = include_bytes!("../../tests/fixtures/feeds/rss_entities_cdata.xml");
        let feed = parse_feed(bytes, None).unwrap();
        let titles: Vec<&str> = feed.entries.iter().map(|e| e.title.as_str()).collect();
        assert_eq!(
            titles,
            [
                "Fish & Chips Friday",
                "Bold & brave",
                "Café culture — “quoted”",
                "Hello world — “quoted” and <escaped> text",
            ]
        );
        let first = &feed.entries[0];
        assert_eq!(first.summary, "Hello world — “quoted” and <escaped> text");
        for e in &feed.entries {
            for field in [&e.title, &e.summary, &e.content_text] {
                assert!(!field.contains("alert"), "script leaked: {field:?}");
                assert!(!field.contains("color:"), "style leaked: {field:?}");
                assert!(
                    !field.contains('<') || field.contains("<escaped>"),
                    "{field:?}"
                );
            }
        }
        assert_eq!(
            feed.entries[2].content_text,
            "First paragraph.\nSecond paragraph with a link."
        );
        assert_eq!(
            feed.entries[2].summary,
            "First paragraph. Second paragraph with a link."
        );
    }

    #[test]
    fn long_content_without_summary_is_cut_at_a_sentence() {
        let bytes = include_bytes!("../../tests/fixtures/feeds/rss2_content_encoded.xml");
        let feed = parse_feed(bytes, None).unwrap();
        let pickles = &feed.entries[1];
        assert!(pickles.summary.chars().count() <= SUMMARY_CHARS);
        assert!(
            crate::feeds::sentences::ends_a_sentence(&pickles.summary),
            "{}",
            pickles.summary
        );
        assert!(pickles
            .summary
            .starts_with("Quick pickles need only vinegar"));
        assert!(pickles.content_text.len() > pickles.summary.len());
        assert!(!pickles.content_text.contains("alert"));
    }
}
