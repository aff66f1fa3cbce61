//! Each platform's acceptance rules beyond its length unit: byte caps, link
//! and hashtag caps, and the limit a subscription may change (Mastodon).

use super::count::{count_hashtags, count_hashtags_outside, find_urls, measure};
use super::platform::Platform;

/// What a caption must satisfy to be accepted by its platform.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Rules {
    /// In the unit [`measure`] returns for the platform.
    pub limit: usize,
    /// Bluesky also caps the UTF-8 size of a post.
    pub max_bytes: Option<usize>,
    pub max_links: Option<usize>,
    pub max_hashtags: Option<usize>,
}

/// Smallest Mastodon limit accepted as a per-subscription setting; below it
/// no default template fits a title and a link.
pub const MASTODON_MIN_LIMIT: usize = 100;
/// Largest one accepted; instances with more are rare and a caption that long
/// is no longer a caption.
pub const MASTODON_MAX_LIMIT: usize = 100_000;

impl Rules {
    /// `mastodon_limit` is the subscription's instance limit; other platforms
    /// have one limit for everyone.
    pub fn for_platform(platform: Platform, mastodon_limit: Option<usize>) -> Self {
        let limit = match (platform, mastodon_limit) {
            (Platform::Mastodon, Some(n)) => n.clamp(MASTODON_MIN_LIMIT, MASTODON_MAX_LIMIT),
            _ => platform.limit(),
        };
        let (max_bytes, max_links, max_hashtags) = match platform {
            // Bluesky: 300 graphemes and 3000 bytes, whichever comes first.
            Platform::Bluesky => (Some(3000), None, None),
            // Threads: at most 5 links and a single topic tag per post.
            Platform::Threads => (None, Some(5), Some(1)),
            // Instagram: more than 5 hashtags hurts reach (and older rules rejected 30+).
            Platform::Instagram => (None, None, Some(5)),
            _ => (None, None, None),
        };
        Rules {
            limit,
            max_bytes,
            max_links,
            max_hashtags,
        }
    }
}

/// The measured facts about a text and the rules it breaks.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Check {
    pub length: usize,
    pub limit: usize,
    pub bytes: usize,
    pub links: usize,
    pub hashtags: usize,
    /// Human-readable, one per broken rule; empty when the text is accepted.
    pub violations: Vec<String>,
}

impl Check {
    pub fn ok(&self) -> bool {
        self.violations.is_empty()
    }
}

/// [`measure`] of `text` and whether `platform` accepts it under `rules`:
/// [`check`] without the report, computing only what the platform caps
/// (fitting calls it for every shortening, and steers by the length even when
/// one does not fit).
pub(crate) fn measure_and_fit(platform: Platform, rules: &Rules, text: &str) -> (usize, bool) {
    let length = measure(platform, text);
    let fits = length <= rules.limit
        && rules.max_bytes.is_none_or(|m| text.len() <= m)
        && (rules.max_links.is_none() && rules.max_hashtags.is_none() || {
            // Links are found once for both caps (a `#` inside a link is no
            // hashtag), and not at all when only hashtags are capped and
            // there is no `#`.
            let tagged = rules.max_hashtags.is_some() && text.contains(['#', '＃']);
            let links = if rules.max_links.is_some() || tagged {
                find_urls(text, true)
            } else {
                Vec::new()
            };
            rules.max_links.is_none_or(|m| links.len() <= m)
                && (!tagged
                    || rules
                        .max_hashtags
                        .is_none_or(|m| count_hashtags_outside(text, &links) <= m))
        });
    (length, fits)
}

/// Measures `text` for `platform` and lists every rule it breaks.
pub fn check(platform: Platform, rules: &Rules, text: &str) -> Check {
    let length = measure(platform, text);
    let bytes = text.len();
    // Threads and Instagram auto-link bare domains too; counting them errs on
    // the safe side of the cap.
    let links = find_urls(text, true).len();
    let hashtags = count_hashtags(text);
    let mut violations = Vec::new();
    if length > rules.limit {
        violations.push(format!("{length} is over the limit of {}", rules.limit));
    }
    if let Some(max) = rules.max_bytes.filter(|&m| bytes > m) {
        violations.push(format!("{bytes} bytes is over the limit of {max} bytes"));
    }
    if let Some(max) = rules.max_links.filter(|&m| links > m) {
        violations.push(format!("{links} links, at most {max} allowed"));
    }
    if let Some(max) = rules.max_hashtags.filter(|&m| hashtags > m) {
        violations.push(format!("{hashtags} hashtags, at most {max} allowed"));
    }
    Check {
        length,
        limit: rules.limit,
        bytes,
        links,
        hashtags,
        violations,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn default_check(p: Platform, text: &str) -> Check {
        check(p, &Rules::for_platform(p, None), text)
    }

    #[test]
    fn mastodon_limit_is_per_subscription_within_bounds() {
        assert_eq!(Rules::for_platform(Platform::Mastodon, None).limit, 500);
        assert_eq!(
            Rules::for_platform(Platform::Mastodon, Some(5000)).limit,
            5000
        );
        assert_eq!(Rules::for_platform(Platform::Mastodon, Some(3)).limit, 100);
        assert_eq!(Rules::for_platform(Platform::X, Some(5000)).limit, 280);
        let text = "a".repeat(600);
        assert!(!default_check(Platform::Mastodon, &text).ok());
        let roomy = Rules::for_platform(Platform::Mastodon, Some(1000));
        assert!(check(Platform::Mastodon, &roomy, &text).ok());
    }

    #[test]
    fn bluesky_checks_graphemes_and_bytes() {
        // 300 family emoji: 300 graphemes but 7500 bytes.
        let family = "👨\u{200D}👩\u{200D}👧\u{200D}👦".repeat(300);
        let c = default_check(Platform::Bluesky, &family);
        assert_eq!((c.length, c.bytes), (300, 7500));
        assert_eq!(c.violations, ["7500 bytes is over the limit of 3000 bytes"]);
        assert!(default_check(Platform::Bluesky, &"é".repeat(300)).ok());
        assert!(!default_check(Platform::Bluesky, &"e".repeat(301)).ok());
    }

    #[test]
    fn threads_caps_links_and_hashtags() {
        let five = "https://a.com/1 b.com c.io https://d.dev e.org";
        assert!(default_check(Platform::Threads, five).ok());
        let six = format!("{five} https://f.net");
        assert_eq!(
            default_check(Platform::Threads, &six).violations,
            ["6 links, at most 5 allowed"]
        );
        assert!(default_check(Platform::Threads, "post #Rust").ok());
        assert_eq!(
            default_check(Platform::Threads, "post #Rust #Web").violations,
            ["2 hashtags, at most 1 allowed"]
        );
    }

    #[test]
    fn instagram_caps_hashtags_at_five() {
        assert!(default_check(Platform::Instagram, "#a #b #c #d #e").ok());
        assert!(!default_check(Platform::Instagram, "#a #b #c #d #e #f").ok());
        assert!(default_check(Platform::Linkedin, "#a #b #c #d #e #f").ok());
    }
}
