//! How long a text is, as each platform counts it.
//!
//! Platforms disagree on what a "character" is, so every limit check must go
//! through [`measure`] with the matching platform. Where a rule is uncertain
//! the count errs high: a caption that is a little shorter than allowed is
//! harmless, one the platform rejects is not.

use unicode_segmentation::UnicodeSegmentation;

mod clusters;
mod hashtags;
mod links;
mod twemoji;
mod x;

pub(crate) use clusters::is_simple;
pub(crate) use hashtags::{count_hashtags, count_hashtags_outside};
pub(crate) use links::find_urls;

use super::platform::Platform;

/// Length every URL is counted as on X (t.co wrapping) and on Mastodon.
pub(crate) const SHORTENED_URL_LEN: usize = 23;

/// Length of `text` in the unit `platform` enforces its limit in.
pub fn measure(platform: Platform, text: &str) -> usize {
    match platform {
        Platform::X => x::weighted_len(text),
        Platform::Mastodon => mastodon_len(text),
        Platform::Bluesky => clusters::grapheme_count(text),
        Platform::Threads => threads_len(text),
        Platform::Linkedin | Platform::Instagram | Platform::Facebook => text.chars().count(),
    }
}

/// Mastodon counts code points, but every http(s) URL as 23 and a remote
/// mention `@user@domain` only as `@user` (the server strips the domain
/// before counting).
fn mastodon_len(text: &str) -> usize {
    let mut total = 0;
    let mut pos = 0;
    for url in find_urls(text, false) {
        total += mastodon_plain_len(&text[pos..url.start]) + SHORTENED_URL_LEN;
        pos = url.end;
    }
    total + mastodon_plain_len(&text[pos..])
}

fn mastodon_plain_len(text: &str) -> usize {
    // Without an `@` there is no mention to shorten.
    if !text.contains('@') {
        return text.chars().count();
    }
    let mut total = 0;
    let mut pos = 0;
    let mut prev: Option<char> = None;
    for (i, c) in text.char_indices() {
        if i < pos {
            prev = Some(c);
            continue;
        }
        let boundary_ok = prev.is_none_or(|p| p != '/' && !is_word_char(p));
        if c == '@' && boundary_ok {
            if let Some((user_len, end)) = remote_mention_at(text, i) {
                total += text[pos..i].chars().count() + 1 + user_len;
                pos = end;
            }
        }
        prev = Some(c);
    }
    total + text[pos..].chars().count()
}

/// Mirrors Mastodon's `@([a-z0-9_]+)@[a-z0-9.\-]+[a-z0-9]+` (case-insensitive)
/// starting at the first `@`; returns the user part's length and the end of
/// the whole mention.
fn remote_mention_at(text: &str, at: usize) -> Option<(usize, usize)> {
    let rest = &text[at + 1..];
    let user_len = rest
        .bytes()
        .take_while(|b| b.is_ascii_alphanumeric() || *b == b'_')
        .count();
    if user_len == 0 || rest.as_bytes().get(user_len) != Some(&b'@') {
        return None;
    }
    let domain = &rest[user_len + 1..];
    let raw_len = domain
        .bytes()
        .take_while(|b| b.is_ascii_alphanumeric() || *b == b'.' || *b == b'-')
        .count();
    let domain_len = domain[..raw_len].trim_end_matches(['.', '-']).len();
    if domain_len < 2 {
        return None;
    }
    Some((user_len, at + 1 + user_len + 1 + domain_len))
}

/// Threads counts code points, except that an emoji costs its UTF-8 length,
/// which makes a ZWJ family emoji cost 25.
fn threads_len(text: &str) -> usize {
    if text.is_ascii() {
        return text.len();
    }
    if !text.chars().any(may_be_emoji) {
        return text.chars().count();
    }
    clusters::stretches(text)
        .map(|s| match s {
            clusters::Stretch::Simple(run) => run.chars().count(),
            clusters::Stretch::Complex(stretch) => stretch
                .graphemes(true)
                .map(|g| {
                    if is_emoji_cluster(g) {
                        g.len()
                    } else {
                        g.chars().count()
                    }
                })
                .sum(),
        })
        .sum()
}

fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// Whether a grapheme cluster is an emoji that X weighs as one unit.
///
/// An approximation of Unicode's Extended_Pictographic plus the emoji
/// building blocks; symbols that only turn into emoji with U+FE0F (©, ®) stay
/// text without it, as twemoji treats them.
pub(crate) fn is_emoji_cluster(g: &str) -> bool {
    g.chars()
        .any(|c| is_emoji_char(c) || c == '\u{20E3}' || c == '\u{FE0F}')
}

/// Whether `c` can be part of what [`is_emoji_cluster`] calls an emoji; text
/// without any such character needs no grapheme segmentation.
fn may_be_emoji(c: char) -> bool {
    is_emoji_char(c) || c == '\u{20E3}' || c == '\u{FE0F}'
}

fn is_emoji_char(c: char) -> bool {
    matches!(u32::from(c),
        0x1F000..=0x1FAFF // pictographs, emoticons, flags (regional indicators), skin tones
        | 0x2190..=0x21FF // arrows
        | 0x2300..=0x23FF // technical (⌚, ⏰)
        | 0x25A0..=0x25FF // geometric shapes
        | 0x2600..=0x27BF // misc symbols, dingbats
        | 0x2900..=0x297F
        | 0x2B00..=0x2BFF // ⭐, ⬆
        | 0x3030 | 0x303D | 0x3297 | 0x3299
        | 0x203C | 0x2049 | 0x2122 | 0x2139
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const FAMILY: &str = "👨\u{200D}👩\u{200D}👧\u{200D}👦";
    const FLAG_JP: &str = "🇯🇵";

    fn long_url() -> String {
        format!("https://example.com/articles/{}", "a".repeat(200))
    }

    #[test]
    fn ascii_counts_one_per_char_everywhere() {
        for p in Platform::ALL {
            assert_eq!(measure(p, "Hello, world!"), 13, "{p:?}");
        }
    }

    #[test]
    fn cjk_weighs_two_on_x_only() {
        assert_eq!(measure(Platform::X, "日本語"), 6);
        assert_eq!(measure(Platform::Mastodon, "日本語"), 3);
        assert_eq!(measure(Platform::Bluesky, "日本語"), 3);
        assert_eq!(measure(Platform::Threads, "日本語"), 3);
        assert_eq!(measure(Platform::Linkedin, "日本語"), 3);
    }

    #[test]
    fn x_weight_ranges() {
        // Latin, Cyrillic, Hebrew, Arabic, Devanagari are all below U+10FF.
        assert_eq!(measure(Platform::X, "Привет"), 6);
        // En dash and curly quotes are in the light punctuation ranges…
        assert_eq!(measure(Platform::X, "\u{2013}\u{201C}\u{201D}"), 3);
        // …the ellipsis is not.
        assert_eq!(measure(Platform::X, "…"), 2);
        assert_eq!(measure(Platform::X, "한국어"), 6);
    }

    #[test]
    fn emoji_family() {
        assert_eq!(FAMILY.chars().count(), 7);
        assert_eq!(measure(Platform::X, FAMILY), 2);
        assert_eq!(measure(Platform::Bluesky, FAMILY), 1);
        assert_eq!(measure(Platform::Threads, FAMILY), 25);
        assert_eq!(measure(Platform::Threads, &format!("hi {FAMILY}")), 28);
        assert_eq!(measure(Platform::Mastodon, FAMILY), 7);
        assert_eq!(measure(Platform::Linkedin, FAMILY), 7);
    }

    #[test]
    fn flag_keycap_and_skin_tone() {
        assert_eq!(measure(Platform::X, FLAG_JP), 2);
        assert_eq!(measure(Platform::Bluesky, FLAG_JP), 1);
        assert_eq!(measure(Platform::Threads, FLAG_JP), 8);
        assert_eq!(measure(Platform::Instagram, FLAG_JP), 2);

        let keycap = "1\u{FE0F}\u{20E3}";
        assert_eq!(measure(Platform::X, keycap), 2);
        assert_eq!(measure(Platform::Bluesky, keycap), 1);

        let thumbs = "👍🏽";
        assert_eq!(measure(Platform::X, thumbs), 2);
        assert_eq!(measure(Platform::X, &format!("{thumbs}{FLAG_JP}ok")), 6);
    }

    #[test]
    fn text_symbols_are_not_emoji_without_presentation_selector() {
        assert_eq!(measure(Platform::X, "©"), 1);
        assert_eq!(measure(Platform::X, "©\u{FE0F}"), 2);
    }

    #[test]
    fn combining_marks() {
        let decomposed = "e\u{0301}";
        assert_eq!(measure(Platform::X, decomposed), 1);
        assert_eq!(measure(Platform::Bluesky, decomposed), 1);
        assert_eq!(measure(Platform::Mastodon, decomposed), 2);
        assert_eq!(measure(Platform::Linkedin, decomposed), 2);
        // No precomposed form: X counts both code points.
        assert_eq!(measure(Platform::X, "q\u{0301}"), 2);
    }

    #[test]
    fn long_url_counts() {
        let url = long_url();
        let len = url.chars().count();
        assert!(len > 200);
        assert_eq!(measure(Platform::X, &url), 23);
        assert_eq!(measure(Platform::Mastodon, &url), 23);
        assert_eq!(measure(Platform::Bluesky, &url), len);
        assert_eq!(measure(Platform::Threads, &url), len);
        assert_eq!(measure(Platform::X, &format!("Read {url} now")), 5 + 23 + 4);
        // Short URLs are padded up to 23 too.
        assert_eq!(measure(Platform::X, "http://a.co"), 23);
    }

    #[test]
    fn mastodon_remote_mentions() {
        assert_eq!(measure(Platform::Mastodon, "@alice@example.social"), 6);
        assert_eq!(
            measure(Platform::Mastodon, "hi @alice@example.social!"),
            3 + 6 + 1
        );
        assert_eq!(measure(Platform::Mastodon, "@bob"), 4);
        // Emails are not mentions.
        assert_eq!(measure(Platform::Mastodon, "me@alice@example.social"), 23);
        // Other platforms count the full text.
        assert_eq!(measure(Platform::Bluesky, "@alice@example.social"), 21);
        // A mention-like path inside a URL belongs to the URL.
        assert_eq!(
            measure(
                Platform::Mastodon,
                "https://example.social/@alice@example.social"
            ),
            23
        );
    }

    #[test]
    fn x_matches_twitter_text() {
        #[derive(serde::Deserialize)]
        struct Fixture {
            vectors: Vec<Vector>,
        }
        #[derive(serde::Deserialize)]
        struct Vector {
            description: String,
            text: String,
            weighted_length: usize,
        }
        let fixture: Fixture = serde_json::from_str(include_str!(
            "../../../tests/fixtures/twitter_text_weighted_length.json"
        ))
        .unwrap();
        assert!(fixture.vectors.len() > 80);
        let failures: Vec<String> = fixture
            .vectors
            .iter()
            .filter_map(|v| {
                let got = measure(Platform::X, &v.text);
                (got != v.weighted_length).then(|| {
                    format!(
                        "{}: got {got}, twitter-text says {}",
                        v.description, v.weighted_length
                    )
                })
            })
            .collect();
        assert!(failures.is_empty(), "{}", failures.join("\n"));
    }

    /// Every link twitter-text autolinks weighs 23, with or without a scheme,
    /// in parentheses or before punctuation: the links found and the weighted
    /// length match the official package on its URL conformance texts.
    #[test]
    fn x_links_match_twitter_text_conformance() {
        #[derive(serde::Deserialize)]
        struct Fixture {
            vectors: Vec<Vector>,
        }
        #[derive(serde::Deserialize)]
        struct Vector {
            description: String,
            text: String,
            weighted_length: usize,
            urls: Vec<String>,
        }
        let fixture: Fixture = serde_json::from_str(include_str!(
            "../../../tests/fixtures/twitter_text_extract_urls.json"
        ))
        .unwrap();
        assert!(fixture.vectors.len() > 80);
        let failures: Vec<String> = fixture
            .vectors
            .iter()
            .filter_map(|v| {
                let urls: Vec<&str> = find_urls(&v.text, true)
                    .into_iter()
                    .map(|r| &v.text[r])
                    .collect();
                let got = measure(Platform::X, &v.text);
                (got != v.weighted_length || urls != v.urls).then(|| {
                    format!(
                        "{}: got {got} {urls:?}, twitter-text says {} {:?}",
                        v.description, v.weighted_length, v.urls
                    )
                })
            })
            .collect();
        assert!(failures.is_empty(), "{}", failures.join("\n"));
    }

    /// X skips the emoji table for text without any character `may_be_emoji`
    /// knows; that is safe only if every emoji of the table without one is a
    /// single code point that weighs 2 anyway.
    #[test]
    fn x_fast_path_skips_only_emoji_weighing_two_anyway() {
        for c in (0..=0x10FFFF).filter_map(char::from_u32) {
            if may_be_emoji(c) {
                continue;
            }
            let s = c.to_string();
            if twemoji::emoji(&s).next() == Some(0..s.len()) {
                assert_eq!(x::char_weight(c), 2, "{c:?}");
            }
        }
    }

    #[test]
    fn bluesky_fast_path_agrees_with_segmentation() {
        for text in [
            "a\r\nb",
            "e\u{301}",
            "か\u{3099}",
            "日本語 text, ñ",
            "👍🏽",
            "\u{1100}\u{1161}",
        ] {
            assert_eq!(
                measure(Platform::Bluesky, text),
                text.graphemes(true).count(),
                "{text:?}"
            );
        }
        assert_eq!(measure(Platform::Bluesky, "a\r\nb"), 3);
    }

    #[test]
    fn empty_text() {
        for p in Platform::ALL {
            assert_eq!(measure(p, ""), 0);
        }
    }
}
