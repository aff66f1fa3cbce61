//! The teaser angle: a post's section headings as one line ("In this post: Expand,
//! Backfill and Contract"), in the feed's language. Made when a caption is written rather
//! than stored, since the words around the headings depend on the subscriber's language.

use super::language::Language;

/// Headings a teaser lists: fewer say too little, more are a table of contents.
const MIN_HEADINGS: usize = 2;
const MAX_HEADINGS: usize = 5;
/// A heading longer than this is a sentence, not a section name.
const HEADING_MAX_CHARS: usize = 60;
/// Headings every post could have, which tell a reader nothing (compared lowercased,
/// without trailing punctuation).
const GENERIC: &[&str] = &[
    "introduction",
    "intro",
    "conclusion",
    "conclusions",
    "summary",
    "tl;dr",
    "tldr",
    "wrap-up",
    "wrap up",
    "wrapping up",
    "final thoughts",
    "closing thoughts",
    "references",
    "resources",
    "related",
    "related posts",
    "further reading",
    "links",
    "comments",
    "acknowledgements",
    "acknowledgments",
    "thanks",
    "overview",
    "background",
    "faq",
    "einleitung",
    "fazit",
    "zusammenfassung",
    "introducción",
    "conclusión",
    "resumen",
    "conclusion et perspectives",
    "inleiding",
    "conclusie",
    "samenvatting",
    "introdução",
    "conclusão",
    "introduzione",
    "conclusione",
    "update",
    "updates",
    "table of contents",
    "contents",
];

/// The teaser of a post with these headings, or empty when they do not make one.
pub(crate) fn teaser(headings: &[String], language: Language) -> String {
    let names: Vec<&str> = headings
        .iter()
        .map(|h| h.trim().trim_end_matches([':', '.', ';']).trim())
        .filter(|h| !h.is_empty() && !GENERIC.contains(&h.to_lowercase().as_str()))
        .collect();
    let readable = names
        .iter()
        .all(|h| h.chars().count() <= HEADING_MAX_CHARS && !h.contains("://"));
    if !(MIN_HEADINGS..=MAX_HEADINGS).contains(&names.len()) || !readable {
        return String::new();
    }
    let (opening, and, comma) = language.teaser_words();
    let (last, rest) = names.split_last().unwrap_or((&"", &[]));
    let list = format!("{}{and}{last}", rest.join(comma));
    match language {
        // Its opening ends in a full-width colon, and a list is no sentence to close.
        Language::Ja => format!("{opening}{list}"),
        _ => format!("{opening} {list}."),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headings(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn headings_become_one_line_in_the_feeds_language() {
        let h = headings(&[
            "Introduction",
            "Expand",
            "Backfill:",
            "Contract",
            "Conclusion",
        ]);
        assert_eq!(
            teaser(&h, Language::En),
            "In this post: Expand, Backfill and Contract."
        );
        assert_eq!(
            teaser(&h, Language::De),
            "In diesem Beitrag: Expand, Backfill und Contract."
        );
        assert_eq!(
            teaser(&h, Language::Ja),
            "この記事の内容：Expand、Backfill、Contract"
        );
        assert_eq!(
            teaser(&headings(&["Why", "How"]), Language::En),
            "In this post: Why and How."
        );
    }

    #[test]
    fn too_few_too_many_or_unreadable_headings_make_no_teaser() {
        assert_eq!(
            teaser(&headings(&["Only one", "Conclusion"]), Language::En),
            ""
        );
        assert_eq!(
            teaser(&headings(&["a", "b", "c", "d", "e", "f"]), Language::En),
            ""
        );
        let long = "x".repeat(61);
        assert_eq!(teaser(&headings(&["Short", &long]), Language::En), "");
        assert_eq!(teaser(&[], Language::En), "");
    }
}
