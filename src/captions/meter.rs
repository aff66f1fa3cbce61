//! Measuring the many shortenings fitting tries for one caption.
//!
//! A line break is a clean seam for every platform's count: it is a grapheme
//! boundary on both sides, a starter that composes with nothing (so NFC never
//! reaches across it), whitespace that ends every link, mention and hashtag,
//! and counts as 1 everywhere. So a caption measures as the sum of its lines
//! plus its line breaks (`lines_add_up` holds it to [`measure_and_fit`]), CR LF
//! aside.
//! Shortenings of one caption share most lines (title, link, hashtags while the
//! summary is cut), and each distinct line is measured once.

use std::cell::RefCell;

use super::count::{count_hashtags_outside, find_urls, measure};
use super::platform::Platform;
use super::rules::{measure_and_fit, Rules};

/// What the platform's rules need to know of one line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct LineFacts {
    length: usize,
    links: usize,
    hashtags: usize,
}

/// Lines remembered per caption; fitting a caption sees a few dozen distinct
/// lines at most, and a full memo is simply started afresh.
const MEMO_LINES: usize = 64;

/// [`measure_and_fit`] for one platform and rules, remembering the lines it
/// has measured.
pub(crate) struct Meter<'a> {
    platform: Platform,
    rules: &'a Rules,
    memo: RefCell<Vec<(Box<str>, LineFacts)>>,
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
        let mut length = 0;
        let mut links = 0;
        let mut hashtags = 0;
        let mut memo = self.memo.borrow_mut();
        for (i, line) in text.split('\n').enumerate() {
            // Each line break counts as one on every platform.
            length += usize::from(i > 0);
            let facts = match memo.iter().find(|(l, _)| **l == *line) {
                Some(&(_, facts)) => facts,
                None => {
                    let facts = self.line_facts(line);
                    if memo.len() == MEMO_LINES {
                        memo.clear();
                    }
                    memo.push((line.into(), facts));
                    facts
                }
            };
            length += facts.length;
            links += facts.links;
            hashtags += facts.hashtags;
        }
        let fits = length <= rules.limit
            && rules.max_bytes.is_none_or(|m| text.len() <= m)
            && rules.max_links.is_none_or(|m| links <= m)
            && rules.max_hashtags.is_none_or(|m| hashtags <= m);
        (length, fits)
    }

    fn line_facts(&self, line: &str) -> LineFacts {
        let rules = self.rules;
        let length = measure(self.platform, line);
        // Links are only looked for where a cap needs them (a `#` inside a
        // link is no hashtag), as `measure_and_fit` does.
        let tagged = rules.max_hashtags.is_some() && line.contains(['#', '＃']);
        let found = if rules.max_links.is_some() || tagged {
            find_urls(line, true)
        } else {
            Vec::new()
        };
        LineFacts {
            length,
            links: found.len(),
            hashtags: if tagged {
                count_hashtags_outside(line, &found)
            } else {
                0
            },
        }
    }
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
    ];

    fn text() -> impl Strategy<Value = String> {
        prop::collection::vec(0..PIECES.len(), 0..40)
            .prop_map(|picks| picks.iter().map(|&i| PIECES[i]).collect())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(3000))]

        /// Line by line, with or without a warm memo, the meter counts and
        /// judges every text exactly as the whole-text measure does.
        #[test]
        fn lines_add_up(texts in prop::collection::vec(text(), 1..4), limit in 0usize..120) {
            for p in Platform::ALL {
                let rules = Rules { limit, ..Rules::for_platform(p, None) };
                // Tight caps, so that links and tags decide too.
                let capped = Rules { max_links: Some(1), max_hashtags: Some(1), max_bytes: Some(limit), ..rules };
                for rules in [rules, capped] {
                    let meter = Meter::new(p, &rules);
                    for text in &texts {
                        prop_assert_eq!(meter.measure_and_fit(text), measure_and_fit(p, &rules, text), "{:?} {:?}", p, text);
                    }
                }
            }
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
