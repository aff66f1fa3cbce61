//! A feed address typed by a person, parsed into the URL we store.

use url::Url;

/// Accepts `https://blog.example/feed.xml` and also `blog.example/feed.xml` (https is
/// assumed); refuses other schemes, credentials and addresses that are not public.
/// The fragment is dropped: it never reaches the server, so it cannot name another feed.
pub fn parse_feed_url(raw: &str, addresses: &super::guard::AddressPolicy) -> Result<Url, String> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Err("Enter the address of a feed.".into());
    }
    let with_scheme = if raw.contains("://") {
        raw.to_string()
    } else {
        format!("https://{raw}")
    };
    let mut url =
        Url::parse(&with_scheme).map_err(|e| format!("{raw:?} is not a valid address ({e})."))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(format!(
            "Only http:// and https:// feeds can be followed, not {}://.",
            url.scheme()
        ));
    }
    if url.host().is_none() {
        return Err(format!("{raw:?} has no host name."));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err("Feed addresses with a user name or password are not supported.".into());
    }
    url.set_fragment(None);
    super::guard::check_url(&url, addresses)
        .map_err(|e| crate::sentence::sentence(&e.to_string()))?;
    Ok(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bare_host_gets_https() {
        assert_eq!(
            parse_feed_url(" blog.example/feed.xml ", &Default::default())
                .unwrap()
                .as_str(),
            "https://blog.example/feed.xml"
        );
    }

    #[test]
    fn fragments_are_dropped() {
        assert_eq!(
            parse_feed_url("http://blog.example/feed#top", &Default::default())
                .unwrap()
                .as_str(),
            "http://blog.example/feed"
        );
    }

    #[test]
    fn other_schemes_and_credentials_are_refused() {
        for bad in [
            "",
            "ftp://blog.example/feed",
            "file:///etc/passwd",
            "https://user:pw@blog.example/feed",
            "https://",
        ] {
            assert!(
                parse_feed_url(bad, &crate::feeds::guard::AddressPolicy::open()).is_err(),
                "{bad}"
            );
        }
    }
}
