//! Bluesky rich-text facets: where a post's links and hashtags are, in UTF-8 byte offsets.
//!
//! Bluesky does not find links or tags in a post's text itself: the client says where they
//! are (`app.bsky.richtext.facet`, `index.byteStart`/`byteEnd` counted in UTF-8 bytes of
//! the text, end exclusive). The rules follow the reference client's detection
//! (`@atproto/api` `RichText.detectFacets`): a link starts with `http://` or `https://` at
//! the start of the text or after white space or `(`, and trailing punctuation is not part
//! of it; a tag is `#` after white space or at the start, up to 64 characters that are not
//! white space or punctuation, and not only digits.

use std::sync::LazyLock;

use regex::Regex;
use serde_json::{json, Value};

/// One facet: the byte range and what it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Facet {
    pub byte_start: usize,
    pub byte_end: usize,
    pub feature: Feature,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Feature {
    Link(String),
    /// Without its `#`.
    Tag(String),
}

static LINK: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?:^|[\s(])(https?://[^\s]+)").unwrap_or_else(|_| unreachable!())
});
static TAG: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?:^|\s)[#＃]([^\s\p{P}\p{S}][^\s]*)").unwrap_or_else(|_| unreachable!())
});

const TRAILING_PUNCTUATION: &[char] = &['.', ',', ';', ':', '!', '?', ')', '"', '\'', '…'];

/// The link and tag facets of `text`, in order.
pub fn detect(text: &str) -> Vec<Facet> {
    let mut facets = Vec::new();
    for m in LINK.captures_iter(text).filter_map(|c| c.get(1)) {
        let mut uri = m.as_str();
        // "(see https://a.example/x)." : the closing bracket and full stop are the sentence's.
        while let Some(last) = uri.chars().last() {
            let keeps_bracket = last == ')' && uri.contains('(');
            if TRAILING_PUNCTUATION.contains(&last) && !keeps_bracket {
                uri = &uri[..uri.len() - last.len_utf8()];
            } else {
                break;
            }
        }
        if uri.len() > "https://".len() {
            facets.push(Facet {
                byte_start: m.start(),
                byte_end: m.start() + uri.len(),
                feature: Feature::Link(uri.to_string()),
            });
        }
    }
    for m in TAG.captures_iter(text).filter_map(|c| c.get(1)) {
        let mut tag = m.as_str();
        tag = tag.trim_end_matches(|c: char| {
            c.is_ascii_punctuation() || TRAILING_PUNCTUATION.contains(&c)
        });
        if tag.is_empty() || tag.chars().all(|c| c.is_ascii_digit()) || tag.chars().count() > 64 {
            continue;
        }
        // The `#` (one byte, or three for the full-width sign) comes just before the tag.
        let hash_len = text[..m.start()].chars().last().map_or(1, char::len_utf8);
        facets.push(Facet {
            byte_start: m.start() - hash_len,
            byte_end: m.start() + tag.len(),
            feature: Feature::Tag(tag.to_string()),
        });
    }
    facets.sort_by_key(|f| f.byte_start);
    facets
}

/// The facets as the record carries them.
pub fn to_json(facets: &[Facet]) -> Value {
    Value::Array(
        facets
            .iter()
            .map(|f| {
                let feature = match &f.feature {
                    Feature::Link(uri) => {
                        json!({"$type": "app.bsky.richtext.facet#link", "uri": uri})
                    }
                    Feature::Tag(tag) => {
                        json!({"$type": "app.bsky.richtext.facet#tag", "tag": tag})
                    }
                };
                json!({
                    "index": {"byteStart": f.byte_start, "byteEnd": f.byte_end},
                    "features": [feature],
                })
            })
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What each facet covers in the text, read back by its byte offsets.
    fn covered(text: &str) -> Vec<(String, Feature)> {
        detect(text)
            .into_iter()
            .map(|f| (text[f.byte_start..f.byte_end].to_string(), f.feature))
            .collect()
    }

    #[test]
    fn links_and_tags_are_found_with_utf8_byte_offsets() {
        let text = "Crème brûlée 🦀 https://blog.example/p/1?a=1&b=2 #Rust #日本語";
        assert_eq!(
            covered(text),
            [
                (
                    "https://blog.example/p/1?a=1&b=2".to_string(),
                    Feature::Link("https://blog.example/p/1?a=1&b=2".into())
                ),
                ("#Rust".to_string(), Feature::Tag("Rust".into())),
                ("#日本語".to_string(), Feature::Tag("日本語".into())),
            ]
        );
        let first = &detect(text)[0];
        // "Crème brûlée 🦀 " is 15 characters but 21 bytes.
        assert_eq!((first.byte_start, first.byte_end), (21, 53));
    }

    #[test]
    fn sentence_punctuation_is_not_part_of_a_link_or_tag() {
        assert_eq!(
            covered(
                "Read it (https://a.example/x). Or https://a.example/wiki/Rust_(language), #rust!"
            ),
            [
                (
                    "https://a.example/x".to_string(),
                    Feature::Link("https://a.example/x".into())
                ),
                (
                    "https://a.example/wiki/Rust_(language)".to_string(),
                    Feature::Link("https://a.example/wiki/Rust_(language)".into())
                ),
                ("#rust".to_string(), Feature::Tag("rust".into())),
            ]
        );
    }

    #[test]
    fn what_is_not_a_tag_or_link() {
        assert!(detect("issue#12 and #123 and # alone and C# and mail@x.example").is_empty());
        assert!(detect("ftp://a.example and https:// and xhttps://a.example").is_empty());
        let long = format!("#{}", "a".repeat(65));
        assert!(detect(&long).is_empty());
    }

    #[test]
    fn the_record_form_names_each_feature() {
        let json = to_json(&detect("#Rust https://a.example"));
        assert_eq!(
            json,
            serde_json::json!([
                {"index": {"byteStart": 0, "byteEnd": 5},
                 "features": [{"$type": "app.bsky.richtext.facet#tag", "tag": "Rust"}]},
                {"index": {"byteStart": 6, "byteEnd": 23},
                 "features": [{"$type": "app.bsky.richtext.facet#link", "uri": "https://a.example"}]}
            ])
        );
    }
}
