//! Extended grapheme clusters, segmented only where segmentation can matter.
//!
//! Full UAX #29 segmentation was the largest single cost of fitting a caption
//! (a quarter of all instructions with the default templates): one accent or
//! emoji anywhere made every character of the text go through the segmenter.
//! [`split`] sets apart runs of "simple" characters (see [`is_simple`]), each
//! a cluster of its own, so the segmenter only runs over the stretches around
//! the others. The clusters are exactly what `graphemes(true)` yields; the
//! tests hold them to that.

use unicode_segmentation::UnicodeSegmentation;

/// Characters that are no part of an emoji and whose grapheme break property is Other, Control or LF (not CR,
/// Extend, ZWJ, SpacingMark, Prepend, Regional_Indicator, Hangul jamo or
/// syllables) and that are no Indic conjunct consonant or linker.
///
/// Two such characters in a row always have a cluster boundary between them
/// (no rule of UAX #29 joins them), and no rule looks back past one of them.
/// So a text can be cut between two simple characters and each piece
/// segmented on its own. `every_simple_char_stands_alone` checks each
/// character of these ranges against the segmenter.
pub(crate) fn is_simple(c: char) -> bool {
    matches!(c,
        '\u{0}'..='\u{C}' | '\u{E}'..='\u{2FF}' // ASCII without CR, Latin-1, Latin extended
        | '\u{370}'..='\u{482}' | '\u{48A}'..='\u{52F}' // Greek, Cyrillic (no combining marks)
        | '\u{5D0}'..='\u{5EA}' // Hebrew letters
        | '\u{620}'..='\u{64A}' // Arabic letters
        | '\u{2010}'..='\u{2027}' // dashes, quotes, …
        | '\u{2030}'..='\u{203B}' | '\u{203D}'..='\u{2048}' | '\u{204A}'..='\u{205E}' // ‰, not ‼ ⁉
        | '\u{20A0}'..='\u{20C0}' // currency signs
        | '\u{3000}'..='\u{3029}' // CJK punctuation before its combining tone marks
        | '\u{3041}'..='\u{3096}' | '\u{30A0}'..='\u{30FF}' // kana without the sound marks
        | '\u{4E00}'..='\u{9FFF}' // CJK ideographs
        | '\u{FF01}'..='\u{FF9D}' // full-width forms
    )
}

/// A piece of text between sure cluster boundaries.
pub(crate) enum Stretch<'a> {
    /// Simple characters only: each character is a cluster of its own.
    Simple(&'a str),
    /// To be segmented: starts with the simple character, if any, that may
    /// join what follows, and ends where two simple characters meet.
    Complex(&'a str),
}

/// `text` cut into [`Stretch`]es; together, in order, they are the whole text.
pub(crate) fn stretches(text: &str) -> impl Iterator<Item = Stretch<'_>> {
    let mut pos = 0;
    let mut pending: Option<Stretch> = None;
    std::iter::from_fn(move || {
        if let Some(stretch) = pending.take() {
            return Some(stretch);
        }
        if pos >= text.len() {
            return None;
        }
        let rest = &text[pos..];
        let Some(k) = first_complex(rest) else {
            pos = text.len();
            return Some(Stretch::Simple(rest));
        };
        let k = pos + k;
        // The simple character before the first complex one may join it
        // ("e" + combining accent), so the complex stretch starts there.
        let start = text[pos..k]
            .char_indices()
            .next_back()
            .map_or(k, |(i, _)| pos + i);
        let mut prev_simple = false;
        let mut end = text.len();
        for (i, c) in text[k..].char_indices() {
            let simple = is_simple(c);
            if simple && prev_simple {
                end = k + i;
                break;
            }
            prev_simple = simple;
        }
        let complex = Stretch::Complex(&text[start..end]);
        let simple = &text[pos..start];
        pos = end;
        if simple.is_empty() {
            Some(complex)
        } else {
            pending = Some(complex);
            Some(Stretch::Simple(simple))
        }
    })
}

/// Where the first character that is not simple starts. Captions are mostly
/// ASCII, which is judged byte by byte without decoding.
fn first_complex(text: &str) -> Option<usize> {
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b.is_ascii() {
            if b == b'\r' {
                return Some(i);
            }
            i += 1;
            continue;
        }
        let c = text[i..].chars().next()?;
        if !is_simple(c) {
            return Some(i);
        }
        i += c.len_utf8();
    }
    None
}

/// Number of extended grapheme clusters in `text`.
pub(crate) fn grapheme_count(text: &str) -> usize {
    stretches(text)
        .map(|s| match s {
            Stretch::Simple(run) => run.chars().count(),
            Stretch::Complex(stretch) => stretch.graphemes(true).count(),
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn segmented(text: &str) -> Vec<&str> {
        text.graphemes(true).collect()
    }

    fn clusters(text: &str) -> Vec<&str> {
        stretches(text)
            .flat_map(|s| -> Vec<&str> {
                match s {
                    Stretch::Simple(run) => run
                        .char_indices()
                        .map(|(i, c)| &run[i..i + c.len_utf8()])
                        .collect(),
                    Stretch::Complex(stretch) => stretch.graphemes(true).collect(),
                }
            })
            .collect()
    }

    #[test]
    fn every_simple_char_stands_alone() {
        // One probe per grapheme break property (and Indic conjunct class)
        // that could join a neighbour: if a simple character had any of these
        // properties, one of the pairs below would be a single cluster. (LF
        // joins a CR before it; CR is not simple, so CR LF never straddles a
        // cut between two simple characters.)
        let before = [
            "a",                // c is Extend, ZWJ or SpacingMark
            "\u{1100}",         // c is a Hangul V, LV or LVT (L + ...)
            "\u{AC00}",         // c is a Hangul V or T (LV + ...)
            "\u{AC01}",         // c is a Hangul T (LVT + ...)
            "\u{1F1E6}",        // c is a regional indicator
            "\u{0915}\u{094D}", // c is an Indic conjunct consonant (GB9c)
        ];
        let after = [
            "a",        // c is Prepend
            "\u{1161}", // c is a Hangul L or LV (... + V)
            "\u{11A8}", // c is a Hangul LV or LVT (... + T)
            "\u{1100}", // c is a Hangul L
            "\n",       // c is CR
        ];
        let mut checked = 0;
        for c in (0..=0x10FFFF)
            .filter_map(char::from_u32)
            .filter(|&c| is_simple(c))
        {
            // Counters weigh a simple run character by character, never as emoji.
            assert!(!crate::captions::count::may_be_emoji(c), "{c:?}");
            let c = c.to_string();
            for b in before {
                let pair = format!("{b}{c}");
                assert_eq!(segmented(&pair).last(), Some(&c.as_str()), "{pair:?}");
            }
            for a in after {
                let pair = format!("{c}{a}");
                assert_eq!(segmented(&pair).first(), Some(&c.as_str()), "{pair:?}");
            }
            checked += 1;
        }
        assert!(checked > 20_000);
    }

    #[test]
    fn clusters_match_the_segmenter_on_edge_cases() {
        for text in [
            "",
            "plain ascii",
            "a\r\nb",
            "\r\n",
            "e\u{301}",
            "e\u{301}\u{301}x",
            "\u{301}leading mark",
            "か\u{3099}",
            "日本語 text, ñ",
            "👍🏽 ok 👨\u{200D}👩\u{200D}👧\u{200D}👦!",
            "\u{1100}\u{1161}\u{11A8}한국어",
            "🇯🇵🇫🇷🇦",
            "©\u{FE0F} ©\u{200D}😀",
            "1\u{FE0F}\u{20E3}",
            "مرحبا بالعالم\u{64B}",
            "क्षत्रिय",
            "\u{600}1 prepend",
            "x\u{200D}",
        ] {
            assert_eq!(clusters(text), segmented(text), "{text:?}");
            assert_eq!(grapheme_count(text), segmented(text).len(), "{text:?}");
        }
    }

    mod properties {
        use super::*;
        use proptest::prelude::*;

        const PIECES: &[&str] = &[
            "a", " ", "é", "e", "\u{301}", "\u{200D}", "\u{FE0F}", "\u{20E3}", "1", "👍", "🏽",
            "👨", "👩", "🇯", "🇵", "\r", "\n", "日", "か", "\u{3099}", "\u{1100}", "\u{1161}",
            "\u{11A8}", "한", "م", "\u{64B}", "क", "\u{94D}", "\u{903}", "\u{600}", "©", "…", "—",
            "Ж", "\u{483}", "ש", "\u{5B0}", "！",
        ];

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(512))]

            #[test]
            fn clusters_are_the_segmenters(
                picks in prop::collection::vec(0..PIECES.len(), 0..40),
                noise in "\\PC{0,8}",
            ) {
                let mut text: String = picks.iter().map(|&i| PIECES[i]).collect();
                text.push_str(&noise);
                prop_assert_eq!(clusters(&text), segmented(&text));
                prop_assert_eq!(grapheme_count(&text), segmented(&text).len());
            }
        }
    }
}
