//! Shortening a rendered caption until its platform accepts it.
//!
//! What gives way, in order: the summary/excerpt (by whole words), then the
//! hashtags, then the title (by words, or by graphemes when a single word is
//! too long), then the link itself (only when the link alone is over the
//! limit, e.g. a very long URL on Bluesky), and finally a hard cut of the
//! text. Every candidate is measured, so the result always fits.

use unicode_segmentation::UnicodeSegmentation;

use super::count::measure;
use super::platform::Platform;
use super::template::{cut_words, Context};

#[derive(Debug, Clone, Copy)]
enum TitleCut {
    Full,
    Words(usize),
    Graphemes(usize),
}

/// One candidate shortening of the full context.
#[derive(Debug, Clone, Copy)]
struct Draft {
    /// Word budget for summary and excerpt; `None` keeps them whole.
    prose_words: Option<usize>,
    hashtags: bool,
    title: TitleCut,
    url: bool,
}

struct Fitter<'a> {
    platform: Platform,
    full: &'a Context,
    render: &'a dyn Fn(&Context) -> String,
}

/// Renders `full` with `render` and shortens it until it fits `platform`.
pub(crate) fn fit(
    platform: Platform,
    full: &Context,
    render: &dyn Fn(&Context) -> String,
) -> String {
    let fitter = Fitter {
        platform,
        full,
        render,
    };
    for keep_url in [true, false] {
        if !keep_url && full.url.is_empty() {
            break;
        }
        for keep_tags in [true, false] {
            if keep_tags && full.hashtags.is_empty() {
                continue;
            }
            if let Some(text) = fitter.fit_prose(keep_url, keep_tags) {
                return text;
            }
        }
        if let Some(text) = fitter.fit_title(keep_url) {
            return text;
        }
    }
    fitter.hard_cut(&render(full))
}

impl Fitter<'_> {
    fn fits(&self, text: &str) -> bool {
        measure(self.platform, text) <= self.platform.limit()
    }

    fn attempt(&self, draft: Draft) -> Option<String> {
        let text = (self.render)(&self.build(draft));
        self.fits(&text).then_some(text)
    }

    fn build(&self, draft: Draft) -> Context {
        let full = self.full;
        let mut ctx = full.clone();
        if let Some(n) = draft.prose_words {
            ctx.summary = cut_words(&full.summary, n);
            ctx.excerpt = cut_words(&full.excerpt, n);
        }
        if !draft.hashtags {
            ctx.hashtags.clear();
        }
        if !draft.url {
            ctx.url.clear();
        }
        ctx.title = match draft.title {
            TitleCut::Full => ctx.title,
            TitleCut::Words(n) => cut_words(&full.title, n),
            TitleCut::Graphemes(n) => cut_graphemes(&full.title, n),
        };
        ctx
    }

    /// Full title, as much prose as fits.
    fn fit_prose(&self, url: bool, hashtags: bool) -> Option<String> {
        let draft = |prose_words| Draft {
            prose_words,
            hashtags,
            title: TitleCut::Full,
            url,
        };
        if let Some(text) = self.attempt(draft(None)) {
            return Some(text);
        }
        let max_words = word_count(&self.full.summary).max(word_count(&self.full.excerpt));
        let none = self.attempt(draft(Some(0)))?;
        Some(largest_fitting(0, none, max_words, |n| {
            self.attempt(draft(Some(n)))
        }))
    }

    /// No prose or hashtags, as much title as fits.
    fn fit_title(&self, url: bool) -> Option<String> {
        let draft = |title| Draft {
            prose_words: Some(0),
            hashtags: false,
            title,
            url,
        };
        let words = word_count(&self.full.title);
        if words > 1 {
            if let Some(one) = self.attempt(draft(TitleCut::Words(1))) {
                return Some(largest_fitting(1, one, words, |n| {
                    self.attempt(draft(TitleCut::Words(n)))
                }));
            }
        }
        let graphemes = self.full.title.graphemes(true).count();
        let none = self.attempt(draft(TitleCut::Graphemes(0)))?;
        Some(largest_fitting(0, none, graphemes, |n| {
            self.attempt(draft(TitleCut::Graphemes(n)))
        }))
    }

    /// Last resort when even the template's fixed text does not fit.
    fn hard_cut(&self, text: &str) -> String {
        let graphemes = text.graphemes(true).count();
        let attempt = |n| {
            let cut = cut_graphemes(text, n);
            self.fits(&cut).then_some(cut)
        };
        largest_fitting(0, String::new(), graphemes, attempt)
    }
}

/// The largest `n` in `lo..hi` whose attempt fits, given that `lo` fits with
/// `lo_text` and `hi` does not. Length grows with `n` almost everywhere; a
/// local dip can only make the search settle on a shorter caption, never on
/// one that does not fit, because only measured attempts are returned.
fn largest_fitting(
    mut lo: usize,
    mut lo_text: String,
    mut hi: usize,
    attempt: impl Fn(usize) -> Option<String>,
) -> String {
    while hi > lo + 1 {
        let mid = lo + (hi - lo) / 2;
        match attempt(mid) {
            Some(text) => {
                lo = mid;
                lo_text = text;
            }
            None => hi = mid,
        }
    }
    lo_text
}

fn word_count(text: &str) -> usize {
    text.split_whitespace().count()
}

/// The first `n` grapheme clusters and "…"; never splits an emoji or a
/// letter from its accents.
fn cut_graphemes(text: &str, n: usize) -> String {
    if n == 0 {
        return String::new();
    }
    let end = text
        .grapheme_indices(true)
        .nth(n)
        .map_or(text.len(), |(i, _)| i);
    if end == text.len() {
        return text.to_owned();
    }
    let mut out = text[..end].trim_end().to_owned();
    out.push('…');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::captions::template::{hashtags, render, render_plain};

    fn long_url() -> String {
        format!("https://example.com/{}", "very-long-slug-".repeat(15))
    }

    fn words(n: usize) -> String {
        (0..n)
            .map(|i| ["lorem", "ipsum", "dolor", "sit", "amet"][i % 5])
            .collect::<Vec<_>>()
            .join(" ")
    }

    fn fit_default(p: Platform, ctx: &Context) -> String {
        fit(p, ctx, &|c| render(p, c).unwrap())
    }

    fn assert_fits(p: Platform, text: &str) {
        assert!(!text.is_empty(), "{p:?}: empty caption");
        let len = measure(p, text);
        assert!(len <= p.limit(), "{p:?}: {len} > {}: {text}", p.limit());
    }

    #[test]
    fn extreme_post_fits_everywhere() {
        let summary = words(1000);
        assert!(summary.len() >= 5000);
        let ctx = Context {
            title: "T".repeat(600),
            summary: summary.clone(),
            excerpt: summary,
            url: long_url(),
            hashtags: hashtags(&["Rust".into(), "Feeds".into(), "Social media".into()]),
            ..Context::default()
        };
        for p in Platform::ALL {
            let text = fit_default(p, &ctx);
            assert_fits(p, &text);
            if p == Platform::Instagram {
                assert!(!text.contains("https://"));
            } else {
                assert!(text.contains(&ctx.url), "{p:?} lost the link: {text}");
            }
        }
        // Platforms with room keep the whole title.
        assert!(fit_default(Platform::Linkedin, &ctx).starts_with(&ctx.title));
        // On X the unbreakable title is cut by graphemes around the 23-char link.
        let x = fit_default(Platform::X, &ctx);
        assert!(x.starts_with("TTTT") && x.contains("…\n"), "{x}");
    }

    #[test]
    fn summary_gives_way_before_hashtags_and_title() {
        let ctx = Context {
            title: "A perfectly ordinary title".into(),
            summary: words(400),
            url: "https://example.com/post".into(),
            hashtags: hashtags(&["Rust".into(), "Web".into()]),
            ..Context::default()
        };
        let text = fit_default(Platform::Mastodon, &ctx);
        assert_fits(Platform::Mastodon, &text);
        assert!(text.starts_with("A perfectly ordinary title\n\nlorem ipsum"));
        assert!(
            text.contains("…\n\nhttps://example.com/post\n#Rust #Web"),
            "{text}"
        );
        // Greedy: one more word would not fit.
        let kept = text.lines().nth(2).unwrap().trim_end_matches('…');
        let one_more = Context {
            summary: cut_words(&ctx.summary, word_count(kept) + 1),
            ..ctx.clone()
        };
        assert!(
            measure(
                Platform::Mastodon,
                &render(Platform::Mastodon, &one_more).unwrap()
            ) > 500
        );
    }

    #[test]
    fn hashtags_go_before_the_title_is_cut() {
        let title = words(45); // ~250 chars
        let ctx = Context {
            title: title.clone(),
            url: "https://example.com/post".into(),
            hashtags: hashtags(&["Rust".into(), "Programming".into()]),
            ..Context::default()
        };
        let text = fit_default(Platform::X, &ctx);
        assert_eq!(text, format!("{title}\nhttps://example.com/post"));
    }

    #[test]
    fn title_is_cut_by_words() {
        let ctx = Context {
            title: words(100),
            url: "https://example.com/post".into(),
            ..Context::default()
        };
        let text = fit_default(Platform::X, &ctx);
        assert_fits(Platform::X, &text);
        let first = text.lines().next().unwrap();
        assert!(first.ends_with('…') && !first.ends_with(" …"));
        assert!(ctx.title.starts_with(first.trim_end_matches('…')));
        assert!(text.ends_with("\nhttps://example.com/post"));
    }

    #[test]
    fn link_longer_than_the_limit_is_dropped_not_broken() {
        let url = format!("https://example.com/{}", "x".repeat(400));
        let ctx = Context {
            title: "Short title".into(),
            summary: "Short summary.".into(),
            url,
            ..Context::default()
        };
        let bluesky = fit_default(Platform::Bluesky, &ctx);
        assert_eq!(bluesky, "Short title\n\nShort summary.");
        // X and Mastodon count any link as 23 and keep it whole.
        assert!(fit_default(Platform::X, &ctx).contains(&ctx.url));
        assert!(fit_default(Platform::Mastodon, &ctx).contains(&ctx.url));
    }

    #[test]
    fn wide_scripts_and_emoji_fit_on_x() {
        let family = "👨\u{200D}👩\u{200D}👧\u{200D}👦";
        for title in [
            "日本語".repeat(200),
            family.repeat(300),
            format!("e\u{301}{}", "é".repeat(400)),
        ] {
            let ctx = Context {
                title,
                summary: "中文摘要 ".repeat(200),
                url: "https://example.com/".into(),
                ..Context::default()
            };
            for p in Platform::ALL {
                let text = fit_default(p, &ctx);
                assert_fits(p, &text);
                // Never a broken cluster.
                assert!(!text.contains("\u{200D}…"));
            }
        }
    }

    /// Deterministic variety instead of a property-testing dependency.
    struct Lcg(u64);

    impl Lcg {
        fn next(&mut self) -> usize {
            self.0 = self
                .0
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (self.0 >> 33) as usize
        }

        fn text(&mut self, max_pieces: usize) -> String {
            const PIECES: [&str; 8] = [
                "word",
                "日本",
                "👍🏽",
                "https://example.com/a",
                "e\u{301}",
                "example.org",
                "(x).",
                "@a@b.social",
            ];
            let n = self.next() % max_pieces;
            let sep = if self.next().is_multiple_of(4) {
                ""
            } else {
                " "
            };
            (0..n)
                .map(|_| PIECES[self.next() % PIECES.len()])
                .collect::<Vec<_>>()
                .join(sep)
        }
    }

    #[test]
    fn many_shapes_always_fit() {
        let mut rng = Lcg(42);
        for _ in 0..40 {
            let url = if rng.next().is_multiple_of(3) {
                String::new()
            } else {
                format!("https://e.com/{}", "p".repeat(rng.next() % 400))
            };
            let ctx = Context {
                title: rng.text(200),
                summary: rng.text(800),
                excerpt: rng.text(1200),
                url,
                hashtags: hashtags(&[rng.text(3), rng.text(3), rng.text(30)]),
                ..Context::default()
            };
            for p in Platform::ALL {
                let text = fit_default(p, &ctx);
                assert!(measure(p, &text) <= p.limit(), "{p:?}: {text}");
            }
        }
    }

    #[test]
    fn plain_fallback_is_fitted_too() {
        let ctx = Context {
            title: "T".repeat(1000),
            url: "https://example.com/post".into(),
            ..Context::default()
        };
        for p in Platform::ALL {
            let text = fit(p, &ctx, &|c| render_plain(p, c));
            assert_fits(p, &text);
            assert_eq!(text.contains("https://"), p != Platform::Instagram, "{p:?}");
        }
    }

    #[test]
    fn hard_cut_when_fixed_text_is_too_long() {
        let ctx = Context {
            title: "Title".into(),
            ..Context::default()
        };
        let text = fit(Platform::X, &ctx, &|c| {
            format!("{} {}", c.title, "boilerplate ".repeat(50))
        });
        assert_fits(Platform::X, &text);
        assert!(text.starts_with("Title boilerplate") && text.ends_with('…'));
    }

    #[test]
    fn cut_graphemes_rules() {
        assert_eq!(cut_graphemes("abc", 0), "");
        assert_eq!(cut_graphemes("abc", 3), "abc");
        assert_eq!(cut_graphemes("ab c", 3), "ab…");
        assert_eq!(cut_graphemes("🇯🇵🇯🇵", 1), "🇯🇵…");
    }
}
