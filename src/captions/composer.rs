//! Composer links: an address that opens a platform's own compose box with a caption in it.
//!
//! The caption is percent-encoded whole (every byte but the URL-unreserved ones), so what
//! arrives in the compose box is the caption exactly: newlines, emoji, `&`, `#`, `+` and
//! the query strings of links included. A `+` is encoded rather than left for a space,
//! since the platforms read query strings as forms do.
//!
//! LinkedIn and Facebook take only a link to share; their compose boxes cannot be given
//! text. For them the link carries the caption's first address (the post's, with any UTM
//! parameters the caption has), and the page copies the caption first. Instagram has no
//! web composer at all.

use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};

use super::Platform;

/// Bytes left as they are: RFC 3986's unreserved characters. Everything else is encoded.
const QUERY_VALUE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// A query value carrying `text` exactly.
pub fn encode(text: &str) -> String {
    utf8_percent_encode(text, QUERY_VALUE).to_string()
}

/// What a composer link does with the caption.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Carries {
    /// The compose box opens with the caption in it.
    Text,
    /// Only the link is shared: the caption must be pasted (the page copies it first).
    LinkOnly,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ComposerLink {
    /// The address up to the encoded value: a page whose caption was edited in place
    /// builds the link again from it.
    pub base: String,
    pub href: String,
    pub carries: Carries,
    /// "Post on X", or "Share on LinkedIn" where only the link goes.
    pub label: String,
}

impl ComposerLink {
    pub fn is_link_only(&self) -> bool {
        self.carries == Carries::LinkOnly
    }
}

/// The composer link for a caption of `platform`, or `None` when the platform has no web
/// composer (Instagram) or, for a link-only platform, there is no link to share.
///
/// Mastodon has no single address: each instance has its own `/share`. `mastodon_chooser`
/// is the address of the page that asks for the subscriber's instance once, remembers it
/// and sends them on ([`mastodon_share`]); the caption goes to it as `?text=`.
pub fn link(
    platform: Platform,
    text: &str,
    post_url: Option<&str>,
    mastodon_chooser: &str,
) -> Option<ComposerLink> {
    let (base, carries) = match platform {
        Platform::X => (
            "https://x.com/intent/tweet?text=".to_string(),
            Carries::Text,
        ),
        Platform::Bluesky => (
            "https://bsky.app/intent/compose?text=".to_string(),
            Carries::Text,
        ),
        Platform::Threads => (
            "https://www.threads.com/intent/post?text=".to_string(),
            Carries::Text,
        ),
        Platform::Mastodon => (format!("{mastodon_chooser}?text="), Carries::Text),
        Platform::Linkedin => (
            "https://www.linkedin.com/sharing/share-offsite/?url=".to_string(),
            Carries::LinkOnly,
        ),
        Platform::Facebook => (
            "https://www.facebook.com/sharer/sharer.php?u=".to_string(),
            Carries::LinkOnly,
        ),
        Platform::Instagram => return None,
    };
    let value = match carries {
        Carries::Text => text,
        Carries::LinkOnly => first_link(text).or(post_url)?,
    };
    let label = match carries {
        Carries::Text => format!("Post on {}", platform.display_name()),
        Carries::LinkOnly => format!("Share on {}", platform.display_name()),
    };
    Some(ComposerLink {
        label,
        href: format!("{base}{}", encode(value)),
        base,
        carries,
    })
}

/// The compose address of a Mastodon instance with `text` in it.
pub fn mastodon_share(instance: &MastodonInstance, text: &str) -> String {
    format!("https://{}/share?text={}", instance.as_str(), encode(text))
}

/// The first `http(s)://` address in a caption, up to the next white space.
fn first_link(text: &str) -> Option<&str> {
    text.split_whitespace()
        .find(|word| word.starts_with("https://") || word.starts_with("http://"))
}

/// A Mastodon instance's host name (with a port when not 443), as the subscriber typed it
/// or as an address: `mastodon.social`, `https://mastodon.social/`, `@me@mastodon.social`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MastodonInstance(String);

impl MastodonInstance {
    pub fn parse(input: &str) -> Result<Self, String> {
        let trimmed = input.trim();
        // A full handle names its instance after the last `@`.
        let host_part = match trimmed.rsplit_once('@') {
            Some((_, host)) if !trimmed.contains("://") => host,
            _ => trimmed,
        };
        let with_scheme = if host_part.contains("://") {
            host_part.to_string()
        } else {
            format!("https://{host_part}")
        };
        let refused = || {
            format!(
                "{:?} is not a Mastodon instance's address; type its name, like mastodon.social",
                input.trim()
            )
        };
        let url = url::Url::parse(&with_scheme).map_err(|_| refused())?;
        if !matches!(url.scheme(), "https" | "http")
            || !url.username().is_empty()
            || url.password().is_some()
            || url.query().is_some()
            || url.fragment().is_some()
            || !matches!(url.path(), "" | "/")
        {
            return Err(refused());
        }
        let host = match url.host() {
            Some(url::Host::Domain(d)) if d.contains('.') && !d.ends_with('.') => d.to_string(),
            _ => return Err(refused()),
        };
        Ok(MastodonInstance(match url.port() {
            Some(port) => format!("{host}:{port}"),
            None => host,
        }))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use percent_encoding::percent_decode_str;

    const CHOOSER: &str = "/share/mastodon";

    /// Captions with everything a query string can lose.
    fn hard_captions() -> Vec<&'static str> {
        vec![
            "Plain words",
            "Two lines\nand a blank one\n\nthen #Rust & #PostgreSQL 🦀👩‍💻",
            "1 + 1 = 2; 50% off?! a=b&c=d #hash",
            "Read https://blog.example/p/1?utm_source=x&utm_medium=social#part-2 now",
            "Tabs\tand\r\ncarriage returns, quotes \"' and <tags>",
            "日本語のキャプション、絵文字😀も ✓ café naïve",
            "~tilde_under-score.dot %20 stays %20",
        ]
    }

    /// The caption the platform will read from `href`'s `key` parameter.
    fn decoded(href: &str, key: &str) -> String {
        let query = href.split_once('?').map(|(_, q)| q).expect("a query");
        assert_eq!(query.matches('?').count(), 0, "{href}");
        let mut found = None;
        for pair in query.split('&') {
            let (k, v) = pair.split_once('=').expect("key=value");
            if k == key {
                assert!(found.is_none(), "{key} twice in {href}");
                assert!(!v.contains('+'), "a + would read as a space: {href}");
                found = Some(
                    percent_decode_str(v)
                        .decode_utf8()
                        .expect("UTF-8")
                        .into_owned(),
                );
            }
        }
        // The form decoding the platforms use must agree with plain percent-decoding.
        let form: Vec<(String, String)> = url::form_urlencoded::parse(query.as_bytes())
            .into_owned()
            .collect();
        let by_form = form.iter().find(|(k, _)| k == key).map(|(_, v)| v.clone());
        assert_eq!(found, by_form, "{href}");
        found.expect("the parameter")
    }

    #[test]
    fn every_text_composer_carries_the_caption_exactly() {
        let expected = [
            (Platform::X, "https://x.com/intent/tweet?text="),
            (Platform::Bluesky, "https://bsky.app/intent/compose?text="),
            (
                Platform::Threads,
                "https://www.threads.com/intent/post?text=",
            ),
            (Platform::Mastodon, "/share/mastodon?text="),
        ];
        for caption in hard_captions() {
            for (platform, prefix) in expected {
                let link = link(platform, caption, Some("https://blog.example/p/1"), CHOOSER)
                    .expect("a composer");
                assert_eq!(link.carries, Carries::Text);
                assert!(link.href.starts_with(prefix), "{}", link.href);
                assert_eq!(decoded(&link.href, "text"), caption, "{platform:?}");
                assert!(
                    link.href.is_ascii() && !link.href.contains(char::is_whitespace),
                    "{}",
                    link.href
                );
            }
            let instance = MastodonInstance::parse("mastodon.social").unwrap();
            let share = mastodon_share(&instance, caption);
            assert!(share.starts_with("https://mastodon.social/share?text="));
            assert_eq!(decoded(&share, "text"), caption);
        }
    }

    #[test]
    fn linkedin_and_facebook_share_the_captions_own_link() {
        let caption =
            "New post https://blog.example/p/1?utm_source=linkedin&utm_medium=social #Rust";
        let linkedin = link(
            Platform::Linkedin,
            caption,
            Some("https://blog.example/p/1"),
            CHOOSER,
        )
        .unwrap();
        assert_eq!(linkedin.carries, Carries::LinkOnly);
        assert!(linkedin
            .href
            .starts_with("https://www.linkedin.com/sharing/share-offsite/?url="));
        assert_eq!(
            decoded(&linkedin.href, "url"),
            "https://blog.example/p/1?utm_source=linkedin&utm_medium=social"
        );
        let facebook = link(Platform::Facebook, caption, None, CHOOSER).unwrap();
        assert!(facebook
            .href
            .starts_with("https://www.facebook.com/sharer/sharer.php?u="));
        assert_eq!(
            decoded(&facebook.href, "u"),
            "https://blog.example/p/1?utm_source=linkedin&utm_medium=social"
        );

        // A caption without a link shares the post's; without either there is nothing to share.
        let bare = link(
            Platform::Facebook,
            "No link here",
            Some("https://blog.example/p/2"),
            CHOOSER,
        )
        .unwrap();
        assert_eq!(decoded(&bare.href, "u"), "https://blog.example/p/2");
        assert_eq!(
            link(Platform::Linkedin, "No link here", None, CHOOSER),
            None
        );
    }

    #[test]
    fn instagram_has_no_web_composer() {
        assert_eq!(
            link(
                Platform::Instagram,
                "A caption",
                Some("https://blog.example/p/1"),
                CHOOSER
            ),
            None
        );
    }

    #[test]
    fn an_instance_is_read_from_what_people_type() {
        for typed in [
            "mastodon.social",
            " Mastodon.Social ",
            "https://mastodon.social",
            "https://mastodon.social/",
            "@someone@mastodon.social",
            "someone@mastodon.social",
        ] {
            assert_eq!(
                MastodonInstance::parse(typed).map(|i| i.as_str().to_string()),
                Ok("mastodon.social".to_string()),
                "{typed}"
            );
        }
        assert_eq!(
            MastodonInstance::parse("social.example:8443")
                .unwrap()
                .as_str(),
            "social.example:8443"
        );
    }

    #[test]
    fn anything_but_an_instance_is_refused() {
        for typed in [
            "",
            "   ",
            "localhost",
            "mastodon",
            "mastodon.social/share?text=x",
            "https://mastodon.social/@someone",
            "https://user:pw@mastodon.social",
            "javascript:alert(1)",
            "ftp://mastodon.social",
            "mastodon.social#x",
            "127.0.0.1",
            "[::1]",
        ] {
            let refused = MastodonInstance::parse(typed);
            assert!(refused.is_err(), "{typed:?} gave {refused:?}");
        }
    }
}
