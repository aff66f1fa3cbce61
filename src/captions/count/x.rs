//! X's weighted length (twitter-text v3 `parseTweet` with the v3 config).

use unicode_normalization::{is_nfc_quick, IsNormalized, UnicodeNormalization};

use unicode_segmentation::UnicodeSegmentation;

use super::links::find_urls;
use super::SHORTENED_URL_LEN;

/// twitter-text v3 weighting: NFC first, so a decomposed "é" costs the same
/// as a precomposed one; every autolinked URL costs 23.
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
    // Grapheme segmentation is only needed to weigh emoji sequences as one.
    if !text.chars().any(super::may_be_emoji) {
        return text.chars().map(char_weight).sum();
    }
    super::stretches(text)
        .map(|s| match s {
            super::Stretch::Simple(run) => run.chars().map(char_weight).sum::<usize>(),
            super::Stretch::Complex(stretch) => stretch.graphemes(true).map(cluster_weight).sum(),
        })
        .sum::<usize>()
}

/// An emoji sequence (ZWJ family, flag, keycap, skin tone, tag sequence)
/// weighs 2 as a whole; anything else in its cluster that is not part of the
/// emoji (a combining accent on a smiley) is weighed on its own, as
/// twitter-text does after its emoji regex has matched.
fn cluster_weight(g: &str) -> usize {
    if !super::is_emoji_cluster(g) {
        return g.chars().map(char_weight).sum();
    }
    // The first code point is the emoji's base, whatever it is ("1" of a keycap).
    2 + g
        .chars()
        .skip(1)
        .filter(|&c| !is_emoji_part(c))
        .map(char_weight)
        .sum::<usize>()
}

fn is_emoji_part(c: char) -> bool {
    super::is_emoji_char(c)
        || matches!(
            u32::from(c),
            0x200D | 0xFE0E | 0xFE0F | 0x20E3 | 0xE0020..=0xE007F
        )
}

fn char_weight(c: char) -> usize {
    match u32::from(c) {
        0x0000..=0x10FF | 0x2000..=0x200D | 0x2010..=0x201F | 0x2032..=0x2037 => 1,
        _ => 2,
    }
}
