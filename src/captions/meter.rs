//! Measuring the many shortenings fitting tries for one caption.
//!
//! A line break is a clean seam for every platform's count: it is a grapheme
//! boundary on both sides, a starter that composes with nothing (so NFC never
//! reaches across it), whitespace that ends every link, mention and hashtag,
//! and counts as 1 everywhere. So a caption measures as the sum of its lines
//! plus its line breaks (`lines_add_up` holds it to [`measure_and_fit`]), CR LF
//! aside.
//! Shortenings of one caption share most lines (title, link, hashtags while the
//! summary is cut), and each distinct line is measured once. Within a line,
//! a cut shares all but its end with the line it was cut from, so a line is
//! measured from the last seam (see [`seams`]) it shares with a remembered one.

use std::cell::RefCell;
use std::ops::Add;

use super::count::{count_hashtags_outside, find_urls, is_simple, measure};
use super::platform::Platform;
use super::rules::{measure_and_fit, Rules};

/// What the platform's rules need to know of a piece of text.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Facts {
    length: usize,
    links: usize,
    hashtags: usize,
}

impl Add for Facts {
    type Output = Facts;
    fn add(self, other: Facts) -> Facts {
        Facts {
            length: self.length + other.length,
            links: self.links + other.links,
            hashtags: self.hashtags + other.hashtags,
        }
    }
}

/// A line measured, with the facts of its text up to each seam (see
/// [`seams`]), so a line sharing its start is measured from the last shared
/// seam on.
struct Measured {
    text: Box<str>,
    facts: Facts,
    /// (position, facts of `text[..position]`), ascending, from (0, nothing).
    seams: Vec<(usize, Facts)>,
}

/// Lines remembered per caption; fitting one caption sees a handful of
/// distinct lines and a few cuts of each, and a full memo starts afresh.
const MEMO_LINES: usize = 24;

/// [`measure_and_fit`] for one platform and rules, remembering the lines it
/// has measured.
pub(crate) struct Meter<'a> {
    platform: Platform,
    rules: &'a Rules,
    memo: RefCell<Vec<Measured>>,
}

impl<'a> Meter<'a> {
    pub(crate) fn new(platform: Platform, rules: &'a Rules) -> Self {
        Meter {
            platform,
            rules,
            memo: RefCell::new(Vec::new()),
        }
    }

    /// The length of `text` as `platform` counts it, and whether the rules
    /// accept it: exactly [`measure_and_fit`].
    pub(crate) fn measure_and_fit(&self, text: &str) -> (usize, bool) {
        let rules = self.rules;
        // CR LF is one grapheme: the only place a line break joins its neighbour.
        if text.contains('\r') {
            return measure_and_fit(self.platform, rules, text);
        }
        let mut total = Facts::default();
        for (i, line) in text.split('\n').enumerate() {
            // Each line break counts as one on every platform.
            total.length += usize::from(i > 0);
            total = total + self.line(line);
        }
        let fits = total.length <= rules.limit
            && rules.max_bytes.is_none_or(|m| text.len() <= m)
            && rules.max_links.is_none_or(|m| total.links <= m)
            && rules.max_hashtags.is_none_or(|m| total.hashtags <= m);
        (total.length, fits)
    }

    /// Facts of one line: remembered, or measured from the last seam it
    /// shares with a remembered line (a cut of the summary shares all but
    /// its last word and the ellipsis with the whole summary).
    fn line(&self, line: &str) -> Facts {
        let mut memo = self.memo.borrow_mut();
        let mut best: Option<(usize, &Measured)> = None;
        for m in memo.iter() {
            if *m.text == *line {
                return m.facts;
            }
            let shared = common_prefix(&m.text, line);
            if best.is_none_or(|(b, _)| shared > b) {
                best = Some((shared, m));
            }
        }
        // A seam of the remembered line is one of this line too only where
        // the space after it is shared.
        let mut seams: Vec<(usize, Facts)> = match best {
            Some((shared, m)) => m
                .seams
                .iter()
                .take_while(|(at, _)| *at < shared)
                .copied()
                .collect(),
            None => Vec::new(),
        };
        if seams.is_empty() {
            seams.push((0, Facts::default()));
        }
        let (mut at, mut facts) = seams[seams.len() - 1];
        for next in self::seams(line, at) {
            facts = facts + self.piece(&line[at..next]);
            seams.push((next, facts));
            at = next;
        }
        facts = facts + self.piece(&line[at..]);
        if memo.len() == MEMO_LINES {
            memo.clear();
        }
        memo.push(Measured {
            text: line.into(),
            facts,
            seams,
        });
        facts
    }

    /// Facts of a piece of a line between seams.
    fn piece(&self, piece: &str) -> Facts {
        let rules = self.rules;
        let length = measure(self.platform, piece);
        // Links are only looked for where a cap needs them (a `#` inside a
        // link is no hashtag), as `measure_and_fit` does.
        let tagged = rules.max_hashtags.is_some() && piece.contains(['#', '＃']);
        let found = if rules.max_links.is_some() || tagged {
            find_urls(piece, true)
        } else {
            Vec::new()
        };
        Facts {
            length,
            links: found.len(),
            hashtags: if tagged {
                count_hashtags_outside(piece, &found)
            } else {
                0
            },
        }
    }
}

/// Positions after `from` where `line` can be cut and both sides measured
/// apart: before a space that follows a simple character (see
/// [`is_simple`]). Two simple characters always have a grapheme boundary
/// between them; a space composes with nothing before it under NFC; and a
/// space ends every link, mention and hashtag, and is a valid character
/// before each. `cuts_of_a_line_add_up` holds every platform's count to that.
///
/// Only one every [`SEAM_SPACING`] bytes or so is kept: each piece measured
/// costs a call per counter, and a cut is re-measured from at most that far
/// before where it parts from the line it was cut from.
fn seams(line: &str, from: usize) -> impl Iterator<Item = usize> + '_ {
    let bytes = line.as_bytes();
    let mut next = from + SEAM_SPACING;
    std::iter::from_fn(move || {
        while next < bytes.len() {
            // A space byte is always a whole character in UTF-8.
            let i = next + bytes[next..].iter().position(|&b| b == b' ')?;
            next = i + 1;
            if line[..i].chars().next_back().is_some_and(is_simple) {
                next = i + SEAM_SPACING;
                return Some(i);
            }
        }
        None
    })
}

const SEAM_SPACING: usize = 48;

/// Length in bytes of the longest common prefix of `a` and `b` that ends on a
/// character boundary of both.
fn common_prefix(a: &str, b: &str) -> usize {
    let (x, y) = (a.as_bytes(), b.as_bytes());
    let n = x.len().min(y.len());
    // Eight bytes at a time: lines are compared against every remembered one.
    let mut i = 0;
    while i + 8 <= n && x[i..i + 8] == y[i..i + 8] {
        i += 8;
    }
    while i < n && x[i] == y[i] {
        i += 1;
    }
    while !a.is_char_boundary(i) {
        i -= 1;
    }
    i
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Pieces that stress every seam a line break could hide: combining
    /// marks and emoji parts at line starts, links and domains at line ends,
    /// mentions, tags, CR, NFC-composable pairs split across lines.
    const PIECES: &[&str] = &[
        "word",
        " ",
        "\n",
        "\n\n",
        "\r",
        "e",
        "\u{301}",
        "\u{338}",
        "\u{200D}",
        "\u{FE0F}",
        "\u{20E3}",
        "👨",
        "👩",
        "🇯",
        "🇵",
        "🏽",
        "日本語",
        "한",
        "\u{1100}",
        "\u{1161}",
        "مرحبا",
        "https://example.com/a",
        "http://t.co/abc",
        "example.org",
        ".com",
        "/path",
        "?q=1",
        ":8080",
        "(",
        ")",
        ".",
        "@a",
        "@b.social",
        "#tag",
        "#",
        "＃",
        "2024",
        "…",
        "&",
        "main.rs",
        " \u{301}",
        " #",
        " @",
        "\u{600}",
        "a.b",
        "www.",
    ];

    fn text() -> impl Strategy<Value = String> {
        prop::collection::vec(0..PIECES.len(), 0..40)
            .prop_map(|picks| picks.iter().map(|&i| PIECES[i]).collect())
    }

    /// A line and cuts of it as fitting makes them: a prefix, sometimes
    /// with an ellipsis or other text after it.
    fn cuts() -> impl Strategy<Value = Vec<String>> {
        (
            text(),
            prop::collection::vec((0usize..400, 0..PIECES.len(), any::<bool>()), 1..8),
        )
            .prop_map(|(line, cuts)| {
                let mut texts = vec![line.clone()];
                for (at, piece, ellipsis) in cuts {
                    let mut at = at.min(line.len());
                    while !line.is_char_boundary(at) {
                        at -= 1;
                    }
                    let tail = if ellipsis { "…" } else { PIECES[piece] };
                    texts.push(format!("{}{tail}", &line[..at]));
                }
                texts
            })
    }

    /// On every platform, with its rules and with tight caps (so that links and tags
    /// decide too), one meter (its memo warming up text after text) judges each text as
    /// measuring it whole does.
    fn meter_agrees_with_whole_measure(
        texts: &[String],
        limit: usize,
    ) -> Result<(), proptest::test_runner::TestCaseError> {
        for p in Platform::ALL {
            let rules = Rules {
                limit,
                ..Rules::for_platform(p, None)
            };
            let capped = Rules {
                max_links: Some(1),
                max_hashtags: Some(1),
                max_bytes: Some(limit),
                ..rules
            };
            for rules in [rules, capped] {
                let meter = Meter::new(p, &rules);
                for text in texts {
                    prop_assert_eq!(
                        meter.measure_and_fit(text),
                        measure_and_fit(p, &rules, text),
                        "{:?} {:?}",
                        p,
                        text
                    );
                }
            }
        }
        Ok(())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(3000))]

        /// Measuring a line from where it parts from a remembered one gives
        /// what measuring it whole does.
        #[test]
        fn cuts_of_a_line_add_up(texts in cuts(), limit in 0usize..120) {
            meter_agrees_with_whole_measure(&texts, limit)?;
        }

        /// Line by line, with or without a warm memo, the meter counts and
        /// judges every text exactly as the whole-text measure does.
        #[test]
        fn lines_add_up(texts in prop::collection::vec(text(), 1..4), limit in 0usize..120) {
            meter_agrees_with_whole_measure(&texts, limit)?;
        }
    }

    #[test]
    fn a_line_break_is_a_seam_even_next_to_joining_characters() {
        for p in Platform::ALL {
            let rules = Rules::for_platform(p, None);
            let meter = Meter::new(p, &rules);
            for text in [
                "e\n\u{301}",
                "👨\n\u{200D}👩",
                "example.com\n/path",
                "🇯\n🇵",
                "@a\n@b.social",
                "a\r\nb",
            ] {
                assert_eq!(
                    meter.measure_and_fit(text),
                    measure_and_fit(p, &rules, text),
                    "{p:?} {text:?}"
                );
            }
        }
    }
}
