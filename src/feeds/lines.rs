//! Which lines of a post a reader skips: bylines and date lines at its top, photo credits
//! and licence lines anywhere, and the blog's own words ("The post … appeared first on …",
//! "Continue reading …", "Share this:").
//!
//! The words are English plus the commonest forms of the languages our subscribers'
//! feeds are written in; a line is only dropped when it is short enough to be nothing else.

use super::block::{Block, BlockKind};

/// A credit, byline or boilerplate line is a short one: longer blocks are prose that
/// happens to start with the same words.
const SHORT_LINE_CHARS: usize = 160;

/// Headings that name a table of contents.
const TOC_HEADINGS: &[&str] = &[
    "table of contents",
    "contents",
    "in this article",
    "in this post",
    "on this page",
    "inhaltsverzeichnis",
    "inhalt",
    "sommaire",
    "table des matières",
    "índice",
    "indice",
    "inhoud",
    "inhoudsopgave",
    "spis treści",
    "目次",
    "目录",
    "목차",
];

/// How bylines and date lines begin.
const BYLINE_STARTS: &[&str] = &[
    "posted on",
    "posted by",
    "posted in",
    "posted at",
    "published on",
    "published by",
    "published:",
    "published ",
    "updated on",
    "updated:",
    "updated ",
    "last updated",
    "last modified",
    "written by",
    "by ",
    "reading time",
    "veröffentlicht",
    "aktualisiert",
    "publié le",
    "mis à jour",
    "publicado el",
    "publicado por",
    "pubblicato il",
    "geplaatst op",
    "opublikowano",
];

/// How photo credits and licence lines begin.
const CREDIT_STARTS: &[&str] = &[
    "photo by",
    "photos by",
    "photo:",
    "photos:",
    "photo credit",
    "photograph by",
    "image:",
    "image by",
    "images:",
    "image credit",
    "image source",
    "image via",
    "illustration:",
    "illustration by",
    "picture:",
    "credit:",
    "credits:",
    "source:",
    "header image",
    "featured image",
    "cover image",
    "cover photo",
    "foto:",
    "fotos:",
    "foto di",
    "foto von",
    "bild:",
    "bildquelle",
    "crédit",
    "crédito",
];

/// Licences and picture libraries: a short line naming one is a credit.
const CREDIT_MARKS: &[&str] = &[
    "cc by",
    "cc-by",
    "cc0",
    "creative commons",
    "public domain",
    "wikimedia",
    "unsplash",
    "pexels",
    "pixabay",
    "shutterstock",
    "getty images",
    "istock",
    "all rights reserved",
];

/// Whole lines that are the blog's, not the post's.
const BOILERPLATE_STARTS: &[&str] = &[
    "the post ",
    "this post appeared first",
    "this article appeared first",
    "continue reading",
    "read more",
    "read the full",
    "read the rest",
    "share this",
    "like this:",
    "click to share",
    "related posts",
    "related articles",
    "subscribe",
    "sign up for",
    "follow us",
    "leave a comment",
    "loading...",
    "weiterlesen",
    "lire la suite",
    "leer más",
    "continua a leggere",
    "lees verder",
];

/// Tails the blog adds at the end of a paragraph.
const BOILERPLATE_TAILS: &[&str] = &[
    "continue reading",
    "read more",
    "weiterlesen",
    "lire la suite",
    "leer más",
    "lees verder",
];

fn lowercase_start(text: &str) -> String {
    text.chars().take(60).flat_map(char::to_lowercase).collect()
}

fn starts_with_any(lower: &str, starts: &[&str]) -> bool {
    starts.iter().any(|s| lower.starts_with(s))
}

pub fn is_toc_heading(text: &str) -> bool {
    let lower = text
        .trim()
        .trim_end_matches([':', '.'])
        .trim()
        .to_lowercase();
    TOC_HEADINGS.contains(&lower.as_str())
}

/// A photo credit or licence line.
pub fn is_credit(text: &str) -> bool {
    if text.chars().count() > SHORT_LINE_CHARS {
        return false;
    }
    let lower = text.to_lowercase();
    starts_with_any(&lower, CREDIT_STARTS)
        || CREDIT_MARKS.iter().any(|m| lower.contains(m))
        || lower.starts_with('©')
        || lower.starts_with("(c) ")
}

/// A byline or a date line.
pub fn is_byline(text: &str) -> bool {
    if text.chars().count() > SHORT_LINE_CHARS {
        return false;
    }
    let lower = lowercase_start(text);
    starts_with_any(&lower, BYLINE_STARTS) || is_date_line(text) || is_reading_time(&lower)
}

/// A line that is a date and little else ("February 5, 2026", "2026-02-05", "5 Feb 2026").
fn is_date_line(text: &str) -> bool {
    let words: Vec<&str> = text.split_whitespace().collect();
    if words.is_empty() || words.len() > 5 {
        return false;
    }
    let digits = text.chars().filter(char::is_ascii_digit).count();
    let has_year = words.iter().any(|w| {
        let w = w.trim_matches(|c: char| !c.is_ascii_digit());
        w.len() == 4 && (w.starts_with("19") || w.starts_with("20"))
    }) || text
        .split(|c: char| !c.is_ascii_digit())
        .any(|n| n.len() == 4 && (n.starts_with("19") || n.starts_with("20")));
    let letters = text.chars().filter(|c| c.is_alphabetic()).count();
    has_year && digits >= 4 && letters <= 12
}

fn is_reading_time(lower: &str) -> bool {
    lower.len() < 30 && (lower.ends_with("min read") || lower.ends_with("minute read"))
}

/// The blog's own line, not the post's.
pub fn is_boilerplate(text: &str) -> bool {
    if text.chars().count() > SHORT_LINE_CHARS * 2 {
        return false;
    }
    let lower = lowercase_start(text);
    (starts_with_any(&lower, BOILERPLATE_STARTS)
        && (!lower.starts_with("the post ") || text.contains("appeared first on")))
        || text.trim_matches(|c: char| !c.is_alphanumeric()).is_empty()
}

/// `text` without a boilerplate tail ("… Continue reading →", "… The post X appeared first
/// on Y.") and with an excerpt's "[…]" turned into a plain "…".
pub fn without_tail(text: &str) -> String {
    let text = without_post_footer(text.trim_end());
    // What follows a tail holds no full stop (see `without_tail_words`), and no tail has
    // one: a paragraph that ends with one has no tail to cut. That is most prose, and
    // searching its end for each tail was most of this function's time.
    if text.ends_with(['.', '!', '?']) {
        return with_plain_ellipsis(text);
    }
    with_plain_ellipsis(without_tail_words(text))
}

/// `text` without a WordPress footer "The post X appeared first on Y.".
fn without_post_footer(text: &str) -> &str {
    text.find(" appeared first on ")
        .and_then(|at| text[..at].rfind("The post "))
        .map_or(text, |post| text[..post].trim_end())
}

/// `text` without a "Continue reading", "Read more" (or the like) ending it.
fn without_tail_words(text: &str) -> &str {
    // ASCII lowercasing keeps byte offsets, so they index `text` too.
    let lower = text.to_ascii_lowercase();
    for tail in BOILERPLATE_TAILS {
        // Only a tail within the last 80 characters can end the paragraph (see below): the
        // search starts there instead of at the far end of every summary and content.
        let mut from = lower.len().saturating_sub(tail.len() + 80 * 4);
        while !lower.is_char_boundary(from) {
            from -= 1;
        }
        if let Some(at) = lower[from..].rfind(tail).map(|at| from + at) {
            // A tail is the last words of the paragraph, after its prose has ended: "I want
            // to read more" is prose.
            let before = text[..at].trim_end();
            let after = &lower[at + tail.len()..];
            let prose_ended = before.is_empty()
                || before.ends_with(['.', '!', '?', '…', ')', ']', '»', '|', '–', '-', ':']);
            if prose_ended && after.chars().count() <= 80 && !after.contains(['.', '!', '?']) {
                return text[..at].trim_end();
            }
        }
    }
    text
}

/// An excerpt's "[…]" (or "[...]", "(…)" and the like) at the end turned into a plain "…".
fn with_plain_ellipsis(text: &str) -> String {
    for cut in ["[…]", "[...]", "[&hellip;]", "[&#8230;]", "(…)", "(...)"] {
        if let Some(head) = text.strip_suffix(cut) {
            return format!("{}…", head.trim_end());
        }
    }
    text.to_owned()
}

/// The blocks a reader reads: boilerplate and credits dropped everywhere, bylines and date
/// lines dropped before the first paragraph, tails cut from paragraphs.
pub fn keep_what_a_reader_reads(blocks: Vec<Block>) -> Vec<Block> {
    let mut kept = Vec::with_capacity(blocks.len());
    let mut in_prose = false;
    for block in blocks {
        let text = match block.kind {
            BlockKind::Paragraph => without_tail(&block.text),
            BlockKind::Heading => block.text,
        };
        if text.is_empty() || is_boilerplate(&text) || is_credit(&text) {
            continue;
        }
        if !in_prose && is_byline(&text) {
            continue;
        }
        // A short line without a full stop (a title, a place name) does not start the
        // prose: a byline may still follow it.
        in_prose |= block.kind == BlockKind::Paragraph
            && (text.split_whitespace().count() >= 5 || super::sentences::ends_a_sentence(&text));
        kept.push(Block {
            kind: block.kind,
            text,
        });
    }
    kept
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credits_and_licences_are_told_from_prose() {
        for credit in [
            "Photo by Jane Doe on Unsplash",
            "Image: NASA/JPL",
            "Kamchatka Brown Bear (Ursus arctos), By Robert F. Tobler Wikimedia CC BY-SA 4.0",
            "Foto: Anna Müller",
            "© 2024 Example Press",
            "Header image: a lighthouse at dusk",
        ] {
            assert!(is_credit(credit), "{credit}");
        }
        for prose in [
            "Photography taught me patience, and patience taught me to wait for the light.",
            "The source of the problem was a missing index.",
            "Creative people work in many ways, and this essay is about the slow ones who take their time over every decision they make, which is most of us, on most days, for most of our lives.",
        ] {
            assert!(!is_credit(prose), "{prose}");
        }
    }

    #[test]
    fn bylines_and_date_lines_are_told_from_prose() {
        for byline in [
            "Posted on February 5, 2026",
            "By Ana Baker",
            "Published 12 March 2025",
            "Updated: 2026-01-02",
            "February 5, 2026",
            "2026-02-05",
            "5 min read",
        ] {
            assert!(is_byline(byline), "{byline}");
        }
        for prose in [
            "Bylines are a newspaper habit.",
            "In 2026 we moved the whole stack to Rust.",
            "We shipped on 5 February 2026 after a month of testing the new parser.",
        ] {
            assert!(!is_byline(prose), "{prose}");
        }
    }

    #[test]
    fn boilerplate_tails_are_cut_and_excerpt_marks_become_an_ellipsis() {
        assert_eq!(
            without_tail(
                "We moved to Rust. The post Moving to Rust appeared first on Example Blog."
            ),
            "We moved to Rust."
        );
        assert_eq!(
            without_tail("We moved to Rust. Continue reading Moving to Rust →"),
            "We moved to Rust."
        );
        assert_eq!(
            without_tail("We moved to Rust and it [&hellip;]"),
            "We moved to Rust and it…"
        );
        assert_eq!(without_tail("We moved [...]"), "We moved…");
        // Only a full stop, "!" or "?" after a tail makes it prose.
        for end in ["→", ":", "…", "»", ")", " (Moving to Rust)", ""] {
            assert_eq!(
                without_tail(&format!("We moved to Rust. Read more{end}")),
                "We moved to Rust.",
                "{end}"
            );
        }
        assert_eq!(
            without_tail("Read more books, the doctor said."),
            "Read more books, the doctor said."
        );
        assert!(is_boilerplate(
            "The post Moving to Rust appeared first on Example Blog."
        ));
        assert!(is_boilerplate("Share this:"));
        assert!(!is_boilerplate("The post office closed at noon."));
    }

    #[test]
    fn a_tail_is_found_at_the_end_of_a_long_paragraph_whatever_its_characters() {
        // Multi-byte letters put the start of the search inside a character.
        for letter in ["e", "é", "日", "🦀"] {
            let prose = format!("{}.", letter.repeat(700));
            let text = format!("{prose} Continue reading Moving to Rust →");
            assert_eq!(without_tail(&text), prose, "{letter}");
            // Followed by more than 80 characters, it is the paragraph's words.
            let text = format!("{prose} Read more {}", letter.repeat(81));
            assert_eq!(without_tail(&text), text, "{letter}");
        }
    }

    #[test]
    fn contents_headings_are_known_in_several_languages() {
        for heading in [
            "Table of Contents",
            "Contents:",
            "Inhaltsverzeichnis",
            "目次",
        ] {
            assert!(is_toc_heading(heading), "{heading}");
        }
        assert!(!is_toc_heading("Contents of a good pantry"));
    }

    #[test]
    fn bylines_go_only_before_the_prose_and_credits_everywhere() {
        let p = |t: &str| Block {
            kind: BlockKind::Paragraph,
            text: t.into(),
        };
        let kept = keep_what_a_reader_reads(vec![
            p("Posted on February 5, 2026"),
            p("By Ana Baker"),
            p("The first real paragraph."),
            p("Photo by Jane Doe on Unsplash"),
            p("By then it was dark."),
            p("Share this:"),
        ]);
        let texts: Vec<&str> = kept.iter().map(|b| b.text.as_str()).collect();
        assert_eq!(texts, ["The first real paragraph.", "By then it was dark."]);
    }

    /// The cut without the early return: every paragraph searched for its tail.
    fn without_tail_searching_always(text: &str) -> String {
        with_plain_ellipsis(without_tail_words(without_post_footer(text.trim_end())))
    }

    proptest::proptest! {
        #[test]
        fn a_paragraph_ending_in_a_full_stop_loses_nothing_by_skipping_the_search(
            pieces in proptest::collection::vec(proptest::prop_oneof![
                proptest::strategy::Just("Continue reading".to_owned()),
                proptest::strategy::Just("READ MORE".to_owned()),
                proptest::strategy::Just("Lire la suite".to_owned()),
                proptest::strategy::Just("The post X appeared first on Y.".to_owned()),
                proptest::strategy::Just("[…]".to_owned()),
                proptest::strategy::Just("Done.".to_owned()),
                // Up to 80 wide characters after a tail: the end to search is widest then.
                "[日🦀]{60,80}",
                "[a-zé日🦀 .!?:→\\-]{0,90}",
            ], 0..12),
        ) {
            let text = pieces.join(" ");
            proptest::prop_assert_eq!(without_tail(&text), without_tail_searching_always(&text));
        }
    }
}
