//! X's weighted length (twitter-text v3 `parseTweet` with the v3 config).

use unicode_normalization::{is_nfc_quick, IsNormalized, UnicodeNormalization};

use super::links::find_urls;
use super::SHORTENED_URL_LEN;

/// twitter-text v3 weighting: NFC first, so a decomposed "é" costs the same
/// as a precomposed one; every autolinked URL costs 23; every emoji of its
/// table (see `twemoji`) costs 2.
pub(super) fn weighted_len(text: &str) -> usize {
    // Most captions are already NFC; normalizing costs an allocation per call.
    let normalized: String;
    let text = if is_nfc_quick(text.chars()) == IsNormalized::Yes {
        text
    } else {
        normalized = text.nfc().collect();
        &normalized
    };
    let mut total = 0;
    let mut pos = 0;
    for url in find_urls(text, true) {
        total += plain_weight(&text[pos..url.start]) + SHORTENED_URL_LEN;
        pos = url.end;
    }
    total + plain_weight(&text[pos..])
}

fn plain_weight(text: &str) -> usize {
    if text.is_ascii() {
        return text.len();
    }
    // Every emoji of the table has a character `may_be_emoji` knows, or is one
    // code point weighing 2 either way.
    if !text.chars().any(super::may_be_emoji) {
        return text.chars().map(char_weight).sum();
    }
    let mut total = 0;
    let mut pos = 0;
    for emoji in super::twemoji::emoji(text) {
        total += text[pos..emoji.start]
            .chars()
            .map(char_weight)
            .sum::<usize>()
            + 2;
        pos = emoji.end;
    }
    total + text[pos..].chars().map(char_weight).sum::<usize>()
}

pub(super) fn char_weight(c: char) -> usize {
    match u32::from(c) {
        0x0000..=0x10FF | 0x2000..=0x200D | 0x2010..=0x201F | 0x2032..=0x2037 => 1,
        _ => 2,
    }
}
