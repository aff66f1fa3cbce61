//! How long a text is, as each platform counts it.
//!
//! Platforms disagree on what a "character" is, so every limit check must go
//! through [`measure`] with the matching platform. Where a rule is uncertain
//! the count errs high: a caption that is a little shorter than allowed is
//! harmless, one the platform rejects is not.

use std::ops::Range;

use unicode_normalization::UnicodeNormalization;
use unicode_segmentation::UnicodeSegmentation;

use super::platform::Platform;

/// Length every URL is counted as on X (t.co wrapping) and on Mastodon.
pub(crate) const SHORTENED_URL_LEN: usize = 23;

/// Top-level domains that make a scheme-less `name.tld` count as a link on X.
/// Deliberately short: file names such as `main.rs` or `setup.py` end in real
/// ccTLDs and must not be mistaken for links in technical posts.
const BARE_DOMAIN_TLDS: &[&str] = &[
    "com", "org", "net", "edu", "gov", "io", "dev", "co", "app", "blog", "info", "me", "ai", "xyz",
    "tech", "news", "page", "site", "online", "social", "tv", "ly", "gg", "uk", "de", "fr", "eu",
    "ca", "au", "jp", "nl",
];

/// Length of `text` in the unit `platform` enforces its limit in.
pub fn measure(platform: Platform, text: &str) -> usize {
    match platform {
        Platform::X => x_weighted_len(text),
        Platform::Mastodon => mastodon_len(text),
        Platform::Bluesky => text.graphemes(true).count(),
        Platform::Threads => threads_len(text),
        Platform::Linkedin | Platform::Instagram | Platform::Facebook => text.chars().count(),
    }
}

/// twitter-text v3 weighting: the text is NFC-normalized first, so a
/// decomposed "é" costs the same as a precomposed one.
fn x_weighted_len(text: &str) -> usize {
    let text: String = text.nfc().collect();
    let mut total = 0;
    let mut pos = 0;
    for url in find_urls(&text, true) {
        total += x_plain_weight(&text[pos..url.start]) + SHORTENED_URL_LEN;
        pos = url.end;
    }
    total + x_plain_weight(&text[pos..])
}

fn x_plain_weight(text: &str) -> usize {
    text.graphemes(true)
        .map(|g| {
            if is_emoji_cluster(g) {
                2
            } else {
                g.chars().map(x_char_weight).sum()
            }
        })
        .sum()
}

fn x_char_weight(c: char) -> usize {
    match u32::from(c) {
        0x0000..=0x10FF | 0x2000..=0x200D | 0x2010..=0x201F | 0x2032..=0x2037 => 1,
        _ => 2,
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
    text.graphemes(true)
        .map(|g| {
            if is_emoji_cluster(g) {
                g.len()
            } else {
                g.chars().count()
            }
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
    g.chars().any(|c| {
        matches!(u32::from(c),
            0x1F000..=0x1FAFF // pictographs, emoticons, flags (regional indicators), skin tones
            | 0x2190..=0x21FF // arrows
            | 0x2300..=0x23FF // technical (⌚, ⏰)
            | 0x25A0..=0x25FF // geometric shapes
            | 0x2600..=0x27BF // misc symbols, dingbats
            | 0x2900..=0x297F
            | 0x2B00..=0x2BFF // ⭐, ⬆
            | 0x3030 | 0x303D | 0x3297 | 0x3299
            | 0x20E3 // keycap
            | 0xFE0F // emoji presentation
        )
    })
}

/// Byte ranges of the links in `text`: every `http://` / `https://` URL and,
/// when `bare_domains` is set, scheme-less `name.tld[/path]` on a known TLD.
///
/// Hand-written rather than a regex so the two things that matter for
/// counting are explicit: trailing sentence punctuation and an unbalanced
/// closing parenthesis are not part of the URL.
pub(crate) fn find_urls(text: &str, bare_domains: bool) -> Vec<Range<usize>> {
    let mut found = Vec::new();
    let mut skip_to = 0;
    let mut prev: Option<char> = None;
    for (i, c) in text.char_indices() {
        if i >= skip_to {
            if let Some(end) = url_at(text, i, prev, bare_domains) {
                found.push(i..end);
                skip_to = end;
            }
        }
        prev = Some(c);
    }
    found
}

fn url_at(text: &str, start: usize, prev: Option<char>, bare_domains: bool) -> Option<usize> {
    // A link starts at a word boundary; "xhttps://" or "user@example.com" are not links.
    if prev.is_some_and(|p| p.is_alphanumeric() || "@_-./#$".contains(p)) {
        return None;
    }
    let rest = &text[start..];
    for scheme in ["https://", "http://"] {
        let has_scheme = rest
            .get(..scheme.len())
            .is_some_and(|s| s.eq_ignore_ascii_case(scheme));
        if has_scheme {
            let after = &rest[scheme.len()..];
            if !after.chars().next().is_some_and(char::is_alphanumeric) {
                return None;
            }
            return Some(start + url_body_len(rest));
        }
    }
    if bare_domains {
        return bare_domain_at(text, start);
    }
    None
}

fn bare_domain_at(text: &str, start: usize) -> Option<usize> {
    let rest = &text[start..];
    let bytes = rest.as_bytes();
    let is_label_byte = |b: u8| b.is_ascii_alphanumeric() || b == b'-';
    // Ends of each dot-separated label, e.g. "blog.example.com" -> [4, 12, 16].
    let mut label_ends = Vec::new();
    let mut i = 0;
    loop {
        let label_start = i;
        while i < bytes.len() && is_label_byte(bytes[i]) {
            i += 1;
        }
        if i == label_start {
            break;
        }
        label_ends.push(i);
        let next_starts_label = bytes.get(i + 1).is_some_and(|b| b.is_ascii_alphanumeric());
        if bytes.get(i) == Some(&b'.') && next_starts_label {
            i += 1;
        } else {
            break;
        }
    }
    // The longest prefix that ends on a known TLD wins ("example.com.xx" still
    // links "example.com"), as long as it is not glued to more word characters.
    let domain_end = (1..label_ends.len()).rev().find_map(|k| {
        let end = label_ends[k];
        let tld = &rest[label_ends[k - 1] + 1..end];
        let known = BARE_DOMAIN_TLDS.iter().any(|t| t.eq_ignore_ascii_case(tld));
        let glued = rest[end..]
            .chars()
            .next()
            .is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '-' || c == '@');
        (known && !glued).then_some(end)
    })?;
    if rest[domain_end..].starts_with('/') {
        Some(start + domain_end + url_body_len(&rest[domain_end..]))
    } else {
        Some(start + domain_end)
    }
}

/// Length of the URL that begins `s`: up to whitespace or a character that
/// cannot appear unescaped in a URL, minus trailing punctuation.
fn url_body_len(s: &str) -> usize {
    let raw_end = s
        .char_indices()
        .find(|&(_, c)| c.is_whitespace() || "<>\"`{}|\\^".contains(c))
        .map_or(s.len(), |(i, _)| i);
    let mut url = &s[..raw_end];
    while let Some(last) = url.chars().last() {
        let unbalanced = |open: char, close: char| {
            last == close && url.matches(open).count() < url.matches(close).count()
        };
        if ".,;:!?'".contains(last) || unbalanced('(', ')') || unbalanced('[', ']') {
            url = &url[..url.len() - last.len_utf8()];
        } else {
            break;
        }
    }
    url.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    const FAMILY: &str = "👨\u{200D}👩\u{200D}👧\u{200D}👦";
    const FLAG_JP: &str = "🇯🇵";

    fn long_url() -> String {
        format!("https://example.com/articles/{}", "a".repeat(200))
    }

    fn urls(text: &str, bare: bool) -> Vec<&str> {
        find_urls(text, bare)
            .into_iter()
            .map(|r| &text[r])
            .collect()
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
    fn url_in_parentheses_before_full_stop() {
        let text = "(see https://example.com/a).";
        assert_eq!(urls(text, false), ["https://example.com/a"]);
        assert_eq!(measure(Platform::X, text), 5 + 23 + 2);
        assert_eq!(measure(Platform::Mastodon, text), 5 + 23 + 2);
        assert_eq!(measure(Platform::Bluesky, text), 28);
    }

    #[test]
    fn url_edges() {
        let wiki = "https://en.wikipedia.org/wiki/Rust_(programming_language)";
        assert_eq!(urls(&format!("See {wiki}."), false), [wiki]);
        assert_eq!(
            urls("Really? https://a.example/x?y=1!", false),
            ["https://a.example/x?y=1"]
        );
        assert_eq!(
            urls("HTTPS://EXAMPLE.COM, then", false),
            ["HTTPS://EXAMPLE.COM"]
        );
        assert_eq!(
            urls("<https://example.com/>", false),
            ["https://example.com/"]
        );
        assert!(urls("https:// nothing", false).is_empty());
        assert!(urls("xhttps://example.com", false).is_empty());
        assert_eq!(urls("two: http://a.io and https://b.io/c", false).len(), 2);
    }

    #[test]
    fn bare_domains_on_x() {
        assert_eq!(urls("visit example.com today", true), ["example.com"]);
        assert_eq!(measure(Platform::X, "visit example.com today"), 6 + 23 + 6);
        assert_eq!(
            urls("at blog.rust-lang.org/2024/x.", true),
            ["blog.rust-lang.org/2024/x"]
        );
        assert_eq!(measure(Platform::X, "example.com."), 24);
        // Not links: emails, file names, unknown TLDs, abbreviations.
        assert!(urls("mail alice@example.com", true).is_empty());
        assert!(urls("edit main.rs and setup.py", true).is_empty());
        assert!(urls("e.g. this, i.e. that", true).is_empty());
        assert!(urls("example.community", true).is_empty());
        // Mastodon and the others never count bare domains as links.
        assert_eq!(measure(Platform::Mastodon, "example.com"), 11);
        assert_eq!(urls("example.com", false), Vec::<&str>::new());
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
    fn empty_text() {
        for p in Platform::ALL {
            assert_eq!(measure(p, ""), 0);
        }
    }
}
