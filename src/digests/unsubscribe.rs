//! The signed unsubscribe link: whoever holds it may turn that account's digests off,
//! without logging in, and nothing else. The signature is an HMAC with the app's
//! signing key, so links survive restarts and work on every replica.

use crate::accounts::UserId;

/// The purpose is signed too, so no other signed value can stand in for this one.
const PURPOSE: &str = "unsubscribe-digests";

pub fn token(key: &[u8], user: &UserId) -> String {
    crate::signing::sign(key, PURPOSE, &[user.as_str()])
}

/// Whether `token` was made for this account (compared in constant time).
pub fn verify(key: &[u8], user: &UserId, token: &str) -> bool {
    crate::signing::verify(key, PURPOSE, &[user.as_str()], token)
}

/// The page (and RFC 8058 one-click POST target) for this account.
pub fn link(base_url: &url::Url, key: &[u8], user: &UserId) -> String {
    let path = format!("unsubscribe/{}/{}", user.as_str(), token(key, user));
    base_url
        .join(&path)
        .map(|u| u.to_string())
        .unwrap_or_else(|_| format!("{base_url}{path}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_opens_only_its_own_account() {
        let key = b"0123456789abcdef0123456789abcdef";
        let alice = UserId("alice".into());
        let bob = UserId("bob".into());
        let t = token(key, &alice);
        assert!(verify(key, &alice, &t));
        assert!(!verify(key, &bob, &t));
        assert!(!verify(b"another key, another deployment!", &alice, &t));
        assert!(!verify(key, &alice, "not-a-token"));
    }

    #[test]
    fn the_link_is_under_the_base_url() {
        let base = url::Url::parse("https://captions.example/app/").unwrap();
        let link = link(&base, b"k", &UserId("u1".into()));
        assert!(
            link.starts_with("https://captions.example/app/unsubscribe/u1/"),
            "{link}"
        );
    }
}
