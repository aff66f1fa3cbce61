//! UTM parameters on caption links, so subscribers see which platform a
//! visit came from.

use url::Url;

use super::platform::Platform;

/// Adds utm_source=<platform>, utm_medium=social and utm_campaign=captionfeed
/// to `link`, keeping its existing query (including any utm_* the author
/// already set, which win) and its fragment. A link that does not parse is
/// returned unchanged.
pub(crate) fn add_utm(link: &str, platform: Platform) -> String {
    let Ok(mut url) = Url::parse(link) else {
        return link.to_owned();
    };
    let present: Vec<String> = url.query_pairs().map(|(k, _)| k.into_owned()).collect();
    let wanted = [
        ("utm_source", platform.id()),
        ("utm_medium", "social"),
        ("utm_campaign", "captionfeed"),
    ];
    let missing: Vec<_> = wanted
        .iter()
        .filter(|(k, _)| !present.iter().any(|p| p == k))
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
            add_utm("https://blog.example.com/post", Platform::Mastodon),
            "https://blog.example.com/post?utm_source=mastodon&utm_medium=social&utm_campaign=captionfeed"
        );
    }

    #[test]
    fn existing_query_and_fragment_are_kept() {
        assert_eq!(
            add_utm("https://example.com/p?id=7&q=a%20b#comments", Platform::X),
            "https://example.com/p?id=7&q=a%20b&utm_source=x&utm_medium=social&utm_campaign=captionfeed#comments"
        );
    }

    #[test]
    fn authors_own_utm_values_win() {
        assert_eq!(
            add_utm(
                "https://example.com/?utm_source=newsletter",
                Platform::Bluesky
            ),
            "https://example.com/?utm_source=newsletter&utm_medium=social&utm_campaign=captionfeed"
        );
    }

    #[test]
    fn unparsable_links_are_left_alone() {
        assert_eq!(add_utm("not a url", Platform::X), "not a url");
    }
}
