//! UTM parameters on caption links, so subscribers see which platform, feed
//! and campaign a visit came from.

use url::Url;

use super::platform::Platform;

/// Longest value a feed may set for one parameter.
pub const MAX_UTM_LEN: usize = 100;

/// A feed's utm_source, utm_medium and utm_campaign, each with `{platform}`
/// and `{feed}` filled in; empty ones are the defaults (`{platform}`,
/// `social`, `captionfeed`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UtmTags {
    pub source: String,
    pub medium: String,
    pub campaign: String,
}

impl UtmTags {
    /// The tags as typed, trimmed, or why one cannot be used: only the two
    /// placeholders are known, so a typo like `{platfrom}` is not sent on.
    pub fn parse(source: &str, medium: &str, campaign: &str) -> Result<Self, String> {
        let check = |name: &str, value: &str| -> Result<String, String> {
            let value = value.trim();
            if value.chars().count() > MAX_UTM_LEN {
                return Err(format!("{name} is longer than {MAX_UTM_LEN} characters"));
            }
            let rest = value.replace("{platform}", "").replace("{feed}", "");
            if rest.contains(['{', '}']) {
                return Err(format!(
                    "{name} may use {{platform}} and {{feed}}, no other {{...}}"
                ));
            }
            if value.chars().any(char::is_control) {
                return Err(format!("{name} must be one line of text"));
            }
            Ok(value.to_owned())
        };
        Ok(UtmTags {
            source: check("utm_source", source)?,
            medium: check("utm_medium", medium)?,
            campaign: check("utm_campaign", campaign)?,
        })
    }

    /// The three parameters for `platform` and the feed called `feed`.
    fn values(&self, platform: Platform, feed: &str) -> [(&'static str, String); 3] {
        let fill = |value: &str, default: &str| {
            let value = if value.is_empty() { default } else { value };
            value
                .replace("{platform}", platform.id())
                .replace("{feed}", feed)
        };
        [
            ("utm_source", fill(&self.source, "{platform}")),
            ("utm_medium", fill(&self.medium, "social")),
            ("utm_campaign", fill(&self.campaign, "captionfeed")),
        ]
    }
}

/// A feed's name as `{feed}` puts it into a parameter: its title in
/// lowercase words joined by `-` ("Ann's Blog" gives `anns-blog`).
pub fn feed_slug(title: &str) -> String {
    let mut slug = String::new();
    for word in title
        .split(|c: char| !(c.is_alphanumeric() || c == '\'' || c == '\u{2019}'))
        .map(|w| w.replace(['\'', '\u{2019}'], ""))
        .filter(|w| !w.is_empty())
    {
        if !slug.is_empty() {
            slug.push('-');
        }
        slug.extend(word.chars().flat_map(char::to_lowercase));
    }
    slug
}

/// Adds the feed's UTM parameters for `platform` to `link`, keeping its
/// existing query (including any utm_* the author already set, which win)
/// and its fragment. A link that does not parse is returned unchanged.
pub(crate) fn add_utm(link: &str, platform: Platform, tags: &UtmTags, feed: &str) -> String {
    let Ok(mut url) = Url::parse(link) else {
        return link.to_owned();
    };
    let present: Vec<String> = url.query_pairs().map(|(k, _)| k.into_owned()).collect();
    let wanted = tags.values(platform, feed);
    let missing: Vec<_> = wanted
        .iter()
        .filter(|(k, v)| !v.is_empty() && !present.iter().any(|p| p == k))
        .collect();
    if missing.is_empty() {
        return link.to_owned();
    }
    {
        let mut pairs = url.query_pairs_mut();
        for (k, v) in missing {
            pairs.append_pair(k, v);
        }
    }
    url.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_link() {
        assert_eq!(
            add_utm("https://blog.example.com/post", Platform::Mastodon, &UtmTags::default(), "blog"),
            "https://blog.example.com/post?utm_source=mastodon&utm_medium=social&utm_campaign=captionfeed"
        );
    }

    #[test]
    fn existing_query_and_fragment_are_kept() {
        assert_eq!(
            add_utm("https://example.com/p?id=7&q=a%20b#comments", Platform::X, &UtmTags::default(), "blog"),
            "https://example.com/p?id=7&q=a%20b&utm_source=x&utm_medium=social&utm_campaign=captionfeed#comments"
        );
    }

    #[test]
    fn authors_own_utm_values_win() {
        assert_eq!(
            add_utm(
                "https://example.com/?utm_source=newsletter",
                Platform::Bluesky,
                &UtmTags::default(),
                "blog"
            ),
            "https://example.com/?utm_source=newsletter&utm_medium=social&utm_campaign=captionfeed"
        );
    }

    #[test]
    fn unparsable_links_are_left_alone() {
        assert_eq!(
            add_utm("not a url", Platform::X, &UtmTags::default(), "b"),
            "not a url"
        );
    }

    #[test]
    fn a_feeds_own_tags_with_placeholders() {
        let tags = UtmTags::parse(" {platform}-{feed} ", "", "client-{feed} spring").unwrap();
        assert_eq!(
            add_utm("https://example.com/p", Platform::Linkedin, &tags, "anns-blog"),
            "https://example.com/p?utm_source=linkedin-anns-blog&utm_medium=social&utm_campaign=client-anns-blog+spring"
        );
        assert_eq!(
            UtmTags::parse("{platfrom}", "", "").unwrap_err(),
            "utm_source may use {platform} and {feed}, no other {...}"
        );
        assert!(UtmTags::parse("", &"m".repeat(101), "").is_err());
        assert!(UtmTags::parse("", "", "a\nb").is_err());
    }

    #[test]
    fn feed_slugs() {
        assert_eq!(
            feed_slug("Ann's Blog — Notes & Links"),
            "anns-blog-notes-links"
        );
        assert_eq!(feed_slug("Café Zürich"), "café-zürich");
        assert_eq!(feed_slug("  "), "");
    }
}
