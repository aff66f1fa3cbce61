//! Finding the links a platform turns into fixed-length short links.
//!
//! A hand-written port of twitter-text 3.1's URL extraction (`extractUrl`,
//! `validDomain`, `validUrlPath`, `isValidUrl`), which X uses and which
//! Mastodon reuses with the scheme required. A port rather than a regex so that
//! the lookahead after the TLD and the ASCII-only rule for scheme-less links
//! are explicit; `tests/fixtures/twitter_text_weighted_length.json` holds the
//! official implementation's results it is checked against.

use std::collections::HashSet;
use std::ops::Range;
use std::sync::LazyLock;

/// twitter-text's TLD lists (regexp/validGTLD.js and validCCTLD.js, v3.1.0),
/// one per line.
static TLDS: LazyLock<HashSet<&'static str>> = LazyLock::new(|| {
    include_str!("gtld.txt")
        .lines()
        .chain(include_str!("cctld.txt").lines())
        .filter(|l| !l.is_empty())
        .collect()
});

/// twitter-text refuses longer URLs outright.
const MAX_URL_LEN: usize = 4096;

/// Byte ranges of the links in `text`. With `bare_domains` (X), `name.tld`
/// without a scheme counts too; without it (Mastodon) only http(s) links do.
pub(crate) fn find_urls(text: &str, bare_domains: bool) -> Vec<Range<usize>> {
    let mut found = Vec::new();
    if !bare_domains && !text.contains("://") {
        return found;
    }
    // No part of a link (scheme, domain, port, path, query) holds a space, and
    // every link holds a dot, so only the space-free runs around dots can
    // hold one. Scanning just those is what the full scan finds (the scan's
    // state never carries over a space), at a fraction of the cost:
    // captions are mostly words, and this runs several times per fitting step.
    let mut pos = 0;
    while let Some(dot) = text[pos..].find('.').map(|d| pos + d) {
        let start = text[pos..dot]
            .char_indices()
            .rev()
            .find(|&(_, c)| is_space(c))
            .map_or(pos, |(i, c)| pos + i + c.len_utf8());
        let end = text[dot..].find(is_space).map_or(text.len(), |i| dot + i);
        if bare_domains || text[start..end].contains("://") {
            scan_run(text, start, end, bare_domains, &mut found);
        }
        pos = end;
    }
    found
}

/// The links in `text[start..end]`, a run without spaces; a link's end may
/// depend on the character after the run (twitter-text's lookaheads).
fn scan_run(
    text: &str,
    start: usize,
    end: usize,
    bare_domains: bool,
    found: &mut Vec<Range<usize>>,
) {
    let mut skip_to = start;
    let mut prev = text[..start].chars().next_back();
    for (i, c) in text[start..end].char_indices() {
        let i = start + i;
        if i >= skip_to && prev.is_none_or(valid_preceding) {
            if let Some(m) = url_at(text, i, prev, bare_domains) {
                found.extend(m.urls);
                skip_to = after_match(text, m.consumed_to);
            } else {
                skip_to = dotless_run_end(text, i);
            }
        }
        prev = Some(c);
    }
}

/// The scan over every character that [`find_urls`] narrows down; kept to
/// prove the two agree.
#[cfg(test)]
fn find_urls_everywhere(text: &str, bare_domains: bool) -> Vec<Range<usize>> {
    let mut found = Vec::new();
    if !text.contains('.') {
        return found;
    }
    if !bare_domains && !text.contains("://") {
        return found;
    }
    let mut skip_to = 0;
    let mut prev: Option<char> = None;
    for (i, c) in text.char_indices() {
        if i >= skip_to && prev.is_none_or(valid_preceding) {
            if let Some(m) = url_at(text, i, prev, bare_domains) {
                found.extend(m.urls);
                skip_to = after_match(text, m.consumed_to);
            } else {
                skip_to = dotless_run_end(text, i);
            }
        }
        prev = Some(c);
    }
    found
}

/// Where the run of label characters starting at `start` ends, when no dot
/// follows it: no link can start inside such a run (every label from there
/// ends at the same place), so the scan skips it. Without this, a long run of
/// CJK text, where every character may start a link, is scanned quadratically.
fn dotless_run_end(text: &str, start: usize) -> usize {
    let run: usize = text[start..]
        .chars()
        .take_while(|&c| is_domain_char(c) || c == '-' || c == '_')
        .map(char::len_utf8)
        .sum();
    let end = start + run;
    if run == 0 || text[end..].starts_with(['.', ':']) {
        start
    } else {
        end
    }
}

/// Where the next link may start after a match ending at `end`: the regex
/// consumes the character before a link as its "preceding character", so the
/// character right after a match can only precede the next link, not begin it
/// ("http://twitter.com/これは…example.com" links "example.com").
fn after_match(text: &str, end: usize) -> usize {
    end + text[end..].chars().next().map_or(0, char::len_utf8)
}

struct Match {
    /// Empty when the text matched the URL pattern but failed validation; the
    /// scan still resumes after it, as the global regex does.
    urls: Vec<Range<usize>>,
    consumed_to: usize,
}

fn url_at(text: &str, start: usize, prev: Option<char>, bare_domains: bool) -> Option<Match> {
    let rest = &text[start..];
    let scheme_len = ["https://", "http://"].iter().find_map(|scheme| {
        rest.get(..scheme.len())
            .is_some_and(|s| s.eq_ignore_ascii_case(scheme))
            .then_some(scheme.len())
    });
    if let Some(len) = scheme_len {
        if let Some(m) = url_after_scheme(text, start, start + len) {
            return Some(m);
        }
    }
    if !bare_domains {
        return None;
    }
    let (domain, end) = domain_and_tail(text, start)?;
    let valid_before = prev.is_none_or(|p| !matches!(p, '-' | '_' | '.' | '/'));
    let mut urls = Vec::new();
    if valid_before && valid_host(&text[domain.clone()], end - start) {
        // Every ASCII domain inside is a link of its own ("twitter.com日本語
        // example.com" holds two); the last one takes the path, if any, along
        // with the port and query, which otherwise stay plain text.
        urls = ascii_domains(text, domain.clone());
        let has_path = text[domain.end..]
            .trim_start_matches(|c: char| c == ':' || c.is_ascii_digit())
            .starts_with('/');
        if let Some(last) = urls.last_mut() {
            if has_path {
                last.end = end;
            }
        }
    }
    Some(Match {
        urls,
        consumed_to: end,
    })
}

fn url_after_scheme(text: &str, start: usize, host_start: usize) -> Option<Match> {
    let (domain, end) = domain_and_tail(text, host_start)?;
    let valid = valid_host(&text[domain], end - start);
    let url = if valid {
        tco_end(text, host_start, end).map(|e| start..e)
    } else {
        None
    };
    Some(Match {
        urls: url.into_iter().collect(),
        consumed_to: end,
    })
}

/// twitter-text's `validTcoUrl`: a t.co link ends with its slug (and query);
/// what follows the slug ("'s", "-", "/more") is text. A slug over 40
/// characters is no link at all (`None`). Other links end at `end`.
fn tco_end(text: &str, host_start: usize, end: usize) -> Option<usize> {
    let host = &text[host_start..end];
    if !host
        .get(..5)
        .is_some_and(|h| h.eq_ignore_ascii_case("t.co/"))
    {
        return Some(end);
    }
    let slug_start = host_start + 5;
    let slug = text[slug_start..end]
        .bytes()
        .take_while(u8::is_ascii_alphanumeric)
        .count();
    if slug == 0 {
        return Some(end);
    }
    if slug > 40 {
        return None;
    }
    let slug_end = slug_start + slug;
    if text.as_bytes().get(slug_end) == Some(&b'?') {
        if let Some(q) = query_end(text, slug_end + 1) {
            return Some(q);
        }
    }
    Some(slug_end)
}

/// `validAsciiDomain` matched over and over inside `domain`: labels of ASCII
/// letters, digits, `-` and Latin accents, then a known TLD.
fn ascii_domains(text: &str, domain: Range<usize>) -> Vec<Range<usize>> {
    let is_label_char = |c: char| c.is_ascii_alphanumeric() || c == '-' || is_latin_accent(c);
    let mut found = Vec::new();
    let mut i = domain.start;
    while i < domain.end {
        // Greedy labels and dots from `i`, then the longest run of them
        // followed by a TLD (the regex backtracks the same way).
        let mut after_dots = Vec::new();
        let mut p = i;
        loop {
            let label: usize = text[p..domain.end]
                .chars()
                .take_while(|&c| is_label_char(c))
                .map(char::len_utf8)
                .sum();
            let dot = p + label;
            if label == 0 || dot >= domain.end || text.as_bytes().get(dot) != Some(&b'.') {
                break;
            }
            p += label + 1;
            after_dots.push(p);
        }
        let matched = after_dots
            .iter()
            .rev()
            .find_map(|&t| tld_at(text, t).filter(|&e| e <= domain.end));
        match matched {
            Some(e) => {
                found.push(i..e);
                i = e;
            }
            None => i += text[i..].chars().next().map_or(1, char::len_utf8),
        }
    }
    found
}

/// The domain at `start` and the end of the whole URL (port, path, query).
fn domain_and_tail(text: &str, start: usize) -> Option<(Range<usize>, usize)> {
    let domain_end = domain_end(text, start)?;
    let mut end = domain_end;
    let bytes = text.as_bytes();
    if bytes.get(end) == Some(&b':') {
        let digits = text[end + 1..]
            .bytes()
            .take_while(u8::is_ascii_digit)
            .count();
        if digits > 0 {
            end += 1 + digits;
        }
    }
    if bytes.get(end) == Some(&b'/') {
        end = path_end(text, end + 1);
    }
    if bytes.get(end) == Some(&b'?') {
        end = query_end(text, end + 1).unwrap_or(end);
    }
    Some((start..domain_end, end))
}

/// `validSubdomain* validDomainName (validGTLD|validCCTLD|validPunycode)`,
/// greedy: the longest run of labels whose last label is a known TLD.
fn domain_end(text: &str, start: usize) -> Option<usize> {
    // Where the text after each dot starts, and whether the label before
    // that dot holds an underscore.
    let mut after_dots: Vec<(usize, bool)> = Vec::new();
    let mut pos = start;
    while let Some((end, underscore)) = label_at(text, pos) {
        if text.as_bytes().get(end) != Some(&b'.') {
            break;
        }
        pos = end + 1;
        after_dots.push((pos, underscore));
    }
    // The label right before the TLD is the domain name, where an underscore
    // is not allowed; the ones before it are subdomains, where it is.
    after_dots
        .iter()
        .rev()
        .find_map(|&(tld_start, underscore)| {
            (!underscore).then(|| tld_at(text, tld_start)).flatten()
        })
}

/// A label starts and ends with a domain character and may hold `-` and `_`
/// inside; returns its end and whether it holds an underscore.
fn label_at(text: &str, start: usize) -> Option<(usize, bool)> {
    let mut end = None;
    for (i, c) in text[start..].char_indices() {
        if is_domain_char(c) {
            end = Some(start + i + c.len_utf8());
        } else if !((c == '-' || c == '_') && end.is_some()) {
            break;
        }
    }
    let end = end?;
    // "foo-." is no label: the run must end on a domain character.
    if text[end..].starts_with(['-', '_']) {
        return None;
    }
    Some((end, text[start..end].contains('_')))
}

/// The end of a known TLD starting at `start`, if the character after it
/// passes twitter-text's lookahead `(?=[^0-9a-zA-Z@+-]|$)`.
fn tld_at(text: &str, start: usize) -> Option<usize> {
    let label_len: usize = text[start..]
        .chars()
        .take_while(|&c| is_domain_char(c) || c == '-')
        .map(char::len_utf8)
        .sum();
    let label = &text[start..start + label_len];
    // Longest first; lowercased on the stack, as this runs for every dot.
    let mut lower = [0u8; 32];
    label.char_indices().rev().find_map(|(i, c)| {
        let len = i + c.len_utf8();
        let candidate = &label[..len];
        let known = if candidate.is_ascii() && len <= lower.len() {
            let lower = &mut lower[..len];
            lower.copy_from_slice(candidate.as_bytes());
            lower.make_ascii_lowercase();
            std::str::from_utf8(lower).is_ok_and(known_tld)
        } else {
            known_tld(&candidate.to_lowercase())
        };
        let next_ok = text[start + len..]
            .chars()
            .next()
            .is_none_or(|c| !(c.is_ascii_alphanumeric() || matches!(c, '@' | '+' | '-')));
        (known && next_ok).then_some(start + len)
    })
}

/// In twitter-text's lists, or punycode (`xn--` and more).
fn known_tld(lowercase: &str) -> bool {
    TLDS.contains(lowercase)
        || (lowercase.starts_with("xn--")
            && lowercase.len() > 4
            && lowercase[4..]
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-'))
}

/// `isValidUrl`: the host must survive IDNA (every label at most 63
/// characters once punycoded) and the URL must not be absurdly long.
fn valid_host(domain: &str, url_len: usize) -> bool {
    let mut ascii_len = 0;
    for label in domain.split('.') {
        let len = if label.is_ascii() {
            label.len()
        } else {
            match idna::punycode::encode_str(&label.to_lowercase()) {
                Some(p) => "xn--".len() + p.len(),
                None => return false,
            }
        };
        if len == 0 || len > 63 {
            return false;
        }
        ascii_len += len + 1;
    }
    url_len + ascii_len.saturating_sub(domain.len() + 1) <= MAX_URL_LEN
}

/// Longest run of path characters and balanced parentheses that ends on a
/// character a path may end with; sentence punctuation after a link stays out.
fn path_end(text: &str, start: usize) -> usize {
    let mut pos = start;
    let mut last_good = start;
    while let Some(c) = text[pos..].chars().next() {
        if is_path_char(c) {
            pos += c.len_utf8();
            if is_path_ending_char(c) {
                last_good = pos;
            }
        } else if c == '(' {
            match balanced_parens_end(text, pos) {
                Some(end) => {
                    pos = end;
                    last_good = end;
                }
                None => break,
            }
        } else {
            break;
        }
    }
    last_good
}

/// `\( (general+ | general* \( general+ \) general*) \)`: one nested level.
fn balanced_parens_end(text: &str, open: usize) -> Option<usize> {
    let mut pos = open + 1;
    let mut depth = 1;
    let mut inner_chars = 0;
    for c in text[open + 1..].chars() {
        pos += c.len_utf8();
        match c {
            '(' if depth == 1 => {
                depth = 2;
                inner_chars = 0;
            }
            ')' if depth == 2 && inner_chars > 0 => depth = 1,
            ')' if depth == 1 => return (pos - open > 2).then_some(pos),
            c if is_path_char(c) => inner_chars += 1,
            _ => return None,
        }
    }
    None
}

fn query_end(text: &str, start: usize) -> Option<usize> {
    let mut pos = start;
    let mut last_good = None;
    for c in text[start..].chars() {
        if !(c.is_ascii_alphanumeric()
            || matches!(
                c,
                '!' | '?'
                    | '*'
                    | '\''
                    | '@'
                    | '('
                    | ')'
                    | ';'
                    | ':'
                    | '&'
                    | '='
                    | '+'
                    | '$'
                    | '/'
                    | '%'
                    | '#'
                    | '['
                    | ']'
                    | '-'
                    | '_'
                    | '.'
                    | ','
                    | '~'
                    | '|'
            ))
        {
            break;
        }
        pos += c.len_utf8();
        if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '&' | '=' | '#' | '/') {
            last_good = Some(pos);
        }
    }
    last_good
}

/// `validUrlPrecedingChars`: not glued to an ASCII word, a mention, a
/// cashtag or a hashtag.
fn valid_preceding(p: char) -> bool {
    is_directional(p)
        || !(p.is_ascii_alphanumeric()
            || matches!(p, '@' | '＠' | '$' | '#' | '＃')
            || is_invalid_char(p))
}

fn is_domain_char(c: char) -> bool {
    c.is_ascii_alphanumeric()
        || !(is_punct(c) || is_space(c) || is_invalid_char(c) || is_directional(c))
}

fn is_punct(c: char) -> bool {
    // Matched by hand: called for every character scanned.
    c.is_ascii_punctuation() && !matches!(c, '"' | '`')
}

fn is_space(c: char) -> bool {
    matches!(c, '\u{09}'..='\u{0D}' | ' ' | '\u{85}' | '\u{A0}' | '\u{1680}' | '\u{180E}'
        | '\u{2000}'..='\u{200A}' | '\u{2028}' | '\u{2029}' | '\u{202F}' | '\u{205F}' | '\u{3000}')
}

fn is_invalid_char(c: char) -> bool {
    matches!(c, '\u{FFFE}' | '\u{FEFF}' | '\u{FFFF}')
}

fn is_directional(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{2066}'..='\u{2069}')
}

/// twitter-text's `latinAccentChars`, the ranges that matter for counting.
fn is_latin_accent(c: char) -> bool {
    matches!(c, '\u{C0}'..='\u{D6}' | '\u{D8}'..='\u{F6}' | '\u{F8}'..='\u{FF}' | '\u{100}'..='\u{24F}'
        | '\u{253}' | '\u{254}' | '\u{256}' | '\u{257}' | '\u{259}' | '\u{25B}' | '\u{263}' | '\u{268}'
        | '\u{26F}' | '\u{272}' | '\u{289}' | '\u{28B}' | '\u{2BB}' | '\u{300}'..='\u{36F}' | '\u{1E00}'..='\u{1EFF}')
}

fn is_cyrillic(c: char) -> bool {
    matches!(c, '\u{400}'..='\u{4FF}')
}

/// `validGeneralUrlPathChars`.
fn is_path_char(c: char) -> bool {
    c.is_ascii_alphanumeric()
        || is_cyrillic(c)
        || is_latin_accent(c)
        || matches!(
            c,
            '!' | '*'
                | '\''
                | ';'
                | ':'
                | '='
                | '+'
                | ','
                | '.'
                | '$'
                | '/'
                | '%'
                | '#'
                | '['
                | ']'
                | '-'
                | '\u{2013}'
                | '_'
                | '~'
                | '@'
                | '|'
                | '&'
        )
}

/// `validUrlPathEndingChars` (balanced parentheses are handled by the caller).
fn is_path_ending_char(c: char) -> bool {
    c.is_ascii_alphanumeric()
        || is_cyrillic(c)
        || is_latin_accent(c)
        || matches!(c, '+' | '-' | '=' | '_' | '#' | '/')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn urls(text: &str, bare: bool) -> Vec<&str> {
        find_urls(text, bare)
            .into_iter()
            .map(|r| &text[r])
            .collect()
    }

    #[test]
    fn tld_lists_are_loaded() {
        assert!(TLDS.len() > 1500);
        for tld in ["com", "community", "jp", "rs", "한국", "پاکستان"] {
            assert!(TLDS.contains(tld), "{tld}");
        }
    }

    #[test]
    fn link_edges() {
        let wiki = "https://en.wikipedia.org/wiki/Rust_(programming_language)";
        assert_eq!(urls(&format!("See {wiki}."), false), [wiki]);
        assert_eq!(
            urls("(see https://example.com/a).", false),
            ["https://example.com/a"]
        );
        assert_eq!(
            urls("Really? https://a.example.com/x?y=1!", false),
            ["https://a.example.com/x?y=1"]
        );
        assert_eq!(
            urls("Is it https://example.com/?", false),
            ["https://example.com/"]
        );
        assert_eq!(
            urls("HTTPS://EXAMPLE.COM, then", false),
            ["HTTPS://EXAMPLE.COM"]
        );
        assert_eq!(
            urls("<https://example.com/>", false),
            ["https://example.com/"]
        );
        assert_eq!(
            urls("http://example.com:8080/p#frag done", false),
            ["http://example.com:8080/p#frag"]
        );
        assert!(urls("https:// nothing", false).is_empty());
        assert!(urls("xhttps://example.com", false).is_empty());
        assert!(urls("http://192.168.0.1/index.html", false).is_empty());
        assert_eq!(urls("two: http://a.io and https://b.io/c", false).len(), 2);
    }

    #[test]
    fn bare_domains_only_when_asked() {
        assert_eq!(urls("visit example.com today", true), ["example.com"]);
        assert!(urls("visit example.com today", false).is_empty());
        assert_eq!(
            urls("at blog.rust-lang.org/2024/x.", true),
            ["blog.rust-lang.org/2024/x"]
        );
        assert_eq!(urls("日本example.com", true), ["example.com"]);
        for not_links in [
            "mail alice@example.com",
            "#example.com",
            "-example.com",
            "e.g. this",
            "example.invalidtld",
        ] {
            assert!(urls(not_links, true).is_empty(), "{not_links}");
        }
    }

    mod properties {
        use super::*;
        use proptest::prelude::*;

        const PIECES: &[&str] = &[
            "example", "com", "rs", ".", "..", "/", "://", "https", "http", "www.", "a", "-", "_",
            "(", ")", "?", "=", "&", "#", "@", "$", ":", "8080", " ", "\u{3000}", "\u{A0}", "\n",
            "\u{2028}", "日本", "é", "ж", "\u{200F}", ",", "!", "'", "xn--p1ai", "한국", "t.co",
            "bit.ly",
        ];

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(2000))]

            #[test]
            fn scanning_runs_with_dots_finds_what_scanning_everything_finds(
                picks in prop::collection::vec(0..PIECES.len(), 0..30),
                noise in "\\PC{0,6}",
                bare in any::<bool>(),
            ) {
                let mut text: String = picks.iter().map(|&i| PIECES[i]).collect();
                text.push_str(&noise);
                prop_assert_eq!(find_urls(&text, bare), find_urls_everywhere(&text, bare), "{:?}", text);
            }
        }
    }
}
