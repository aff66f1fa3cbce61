//! An instance as a subscriber names it, its limits, and the account a token belongs to.

use serde_json::Value;
use url::Url;

use super::client::{Client, MastodonError};
use crate::feeds::guard::AddressPolicy;

/// The instance's origin (`https://host[:port]`, host in ASCII) from what a subscriber
/// types: `mastodon.social`, `https://mastodon.social/@ann`, `@ann@mastodon.social`.
///
/// HTTPS only, since the token travels on every request; plain HTTP only where private
/// networks are open (development and the tests' loopback instance).
pub fn origin_from_input(input: &str, policy: &AddressPolicy) -> Result<String, MastodonError> {
    let typed = input.trim();
    if typed.is_empty() {
        return Err(MastodonError::Address(
            "type your instance's address, for example mastodon.social".into(),
        ));
    }
    let address = match typed.split_once("://") {
        Some(_) => typed.to_string(),
        // `@ann@mastodon.social` or `ann@mastodon.social`: the instance is after the last @.
        None => format!("https://{}", typed.rsplit('@').next().unwrap_or(typed)),
    };
    let url = Url::parse(&address)
        .map_err(|_| MastodonError::Address(format!("{typed} is not an instance address")))?;
    let allowed_scheme =
        url.scheme() == "https" || (url.scheme() == "http" && policy.allow_private);
    if !allowed_scheme {
        return Err(MastodonError::Address(format!(
            "{typed} is not an https:// address"
        )));
    }
    if url.host_str().is_none() || !url.username().is_empty() || url.password().is_some() {
        return Err(MastodonError::Address(format!(
            "{typed} is not an instance address"
        )));
    }
    let origin = url.origin().ascii_serialization();
    crate::feeds::guard::check_url(&url, policy)
        .map_err(|e| MastodonError::Address(format!("{typed} cannot be used: {e}")))?;
    Ok(origin)
}

/// What an instance allows in a status (`/api/v2/instance`, `configuration.statuses`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub max_characters: usize,
    /// What every link counts for, however long it is.
    pub characters_reserved_per_url: usize,
    pub max_media_attachments: usize,
}

impl Default for Limits {
    /// Mastodon's own defaults, for an instance that does not say.
    fn default() -> Self {
        Limits {
            max_characters: 500,
            characters_reserved_per_url: 23,
            max_media_attachments: 4,
        }
    }
}

pub async fn limits(client: &Client, origin: &str) -> Result<Limits, MastodonError> {
    let url = client.url(origin, "/api/v2/instance")?;
    let answer = client.send(client.get(url)).await?;
    Ok(limits_from(&answer.body))
}

fn limits_from(instance: &Value) -> Limits {
    let statuses = &instance["configuration"]["statuses"];
    let read = |name: &str, default: usize| {
        statuses[name]
            .as_u64()
            .and_then(|n| usize::try_from(n).ok())
            .filter(|n| *n > 0)
            .unwrap_or(default)
    };
    let defaults = Limits::default();
    Limits {
        max_characters: read("max_characters", defaults.max_characters),
        characters_reserved_per_url: read(
            "characters_reserved_per_url",
            defaults.characters_reserved_per_url,
        ),
        max_media_attachments: read("max_media_attachments", defaults.max_media_attachments),
    }
}

/// The account a token acts for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    pub username: String,
    /// `@ann@mastodon.social`: the name other instances know it by.
    pub handle: String,
}

pub async fn verify_credentials(
    client: &Client,
    origin: &str,
    token: &str,
) -> Result<Account, MastodonError> {
    let url = client.url(origin, "/api/v1/accounts/verify_credentials")?;
    let host = url.host_str().unwrap_or_default().to_string();
    let answer = client.send(client.get(url).bearer_auth(token)).await?;
    let username = answer.body["username"]
        .as_str()
        .filter(|u| !u.is_empty())
        .ok_or_else(|| MastodonError::Retry {
            message: "the instance did not say whose token this is".into(),
            retry_after: None,
        })?
        .to_string();
    Ok(Account {
        handle: format!("@{username}@{host}"),
        username,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn closed() -> AddressPolicy {
        AddressPolicy::default()
    }

    #[test]
    fn an_instance_is_found_in_what_people_type() {
        for typed in [
            "mastodon.social",
            " https://mastodon.social/ ",
            "https://mastodon.social/@ann",
            "@ann@mastodon.social",
            "ann@Mastodon.Social",
        ] {
            assert_eq!(
                origin_from_input(typed, &closed()).as_deref(),
                Ok("https://mastodon.social"),
                "{typed}"
            );
        }
        assert_eq!(
            origin_from_input("https://social.example:8443", &closed()).as_deref(),
            Ok("https://social.example:8443")
        );
    }

    #[test]
    fn private_plain_or_odd_addresses_are_refused() {
        for typed in [
            "",
            "http://mastodon.social",
            "https://127.0.0.1",
            "https://localhost:3000",
            "https://10.0.0.8",
            "ftp://mastodon.social",
            "https://user:pw@mastodon.social",
        ] {
            assert!(
                matches!(
                    origin_from_input(typed, &closed()),
                    Err(MastodonError::Address(_))
                ),
                "{typed}"
            );
        }
        // Development and tests open private networks, plain HTTP with them.
        assert_eq!(
            origin_from_input("http://127.0.0.1:3000/", &AddressPolicy::open()).as_deref(),
            Ok("http://127.0.0.1:3000")
        );
    }

    #[test]
    fn limits_are_read_from_the_instance_else_mastodons_defaults() {
        let v2 = serde_json::json!({"configuration": {"statuses": {
            "max_characters": 5000, "max_media_attachments": 4, "characters_reserved_per_url": 23}}});
        assert_eq!(limits_from(&v2).max_characters, 5000);
        assert_eq!(limits_from(&Value::Null), Limits::default());
    }
}
