//! The emoji table X counts with: twemoji-parser 11.0.2's regular expression, the
//! dependency of twitter-text 3.1.0.
//!
//! twitter-text weighs every match of that expression as 2 and everything else code point
//! by code point. The table predates newer emoji, so a sequence it does not know, such as
//! a profession with a skin tone from Emoji 12 on (🧑🏽‍💻), is weighed part by part: the
//! person and tone 2 (a known emoji with its modifier), the joiner 1, the laptop 2, so 5
//! where a grapheme-based count says 2. Only the package's own table gives its numbers.
//!
//! `twemoji_11.txt` is the package's `dist/lib/regex.js` (MIT, Twitter Inc.) written for
//! the `regex` crate: each UTF-16 surrogate pair, or a high surrogate before a class of
//! low ones, as the code points it stands for; every `\uXXXX` as `\x{XXXX}`; and its one
//! lookahead, `(?:\ufe0f|(?!\ufe0e))` ("unless text presentation is asked for"), as an
//! optional `(?:\x{FE0F}|\x{FE0E})`, a match holding U+FE0E being refused here. Checked
//! against the package on 20,000 random emoji strings and on every emoji code point with
//! each selector and a skin tone; the conformance vectors keep a sample.

use std::sync::LazyLock;

use regex::Regex;

static TWEMOJI: LazyLock<Option<Regex>> =
    LazyLock::new(|| Regex::new(include_str!("twemoji_11.txt").trim_end()).ok());

/// The emoji twitter-text weighs as 2 each in `text`, as byte ranges in order.
pub(super) fn emoji(text: &str) -> impl Iterator<Item = std::ops::Range<usize>> + '_ {
    let mut pos = 0;
    std::iter::from_fn(move || loop {
        let found = TWEMOJI.as_ref()?.find_at(text, pos)?;
        if !found.as_str().contains('\u{FE0E}') {
            pos = found.end();
            return Some(found.range());
        }
        // Text presentation asked for: no emoji starts here, so the search goes on
        // after the base character, as the package's lookahead has it.
        pos = found.start() + found.as_str().chars().next()?.len_utf8();
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_compiles() {
        assert!(TWEMOJI.is_some());
    }

    #[test]
    fn known_sequences_are_one_emoji_and_newer_ones_are_parts() {
        fn found(t: &str) -> Vec<&str> {
            emoji(t).map(|r| &t[r]).collect()
        }
        assert_eq!(found("👩🏽\u{200D}💻"), ["👩🏽\u{200D}💻"]);
        assert_eq!(found("🧑🏽\u{200D}💻"), ["🧑🏽", "💻"]);
        assert_eq!(found("🏋\u{FE0E} 🏋\u{FE0F}"), ["🏋\u{FE0F}"]);
        assert_eq!(found("plain text"), Vec::<&str>::new());
    }
}
