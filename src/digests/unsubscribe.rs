//! The signed unsubscribe link: whoever holds it may turn that account's digests off,
//! without logging in, and nothing else. The signature is an HMAC with the app's
//! signing key, so links survive restarts and work on every replica.

use base64::Engine as _;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::accounts::UserId;

fn mac(key: &[u8], user: &UserId) -> Option<Hmac<Sha256>> {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).ok()?;
    // The purpose is signed too, so no other signed value can stand in for this one.
    mac.update(b"unsubscribe-digests\0");
    mac.update(user.as_str().as_bytes());
    Some(mac)
}

pub fn token(key: &[u8], user: &UserId) -> String {
    mac(key, user)
        .map(|m| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(m.finalize().into_bytes()))
        .unwrap_or_default()
}

/// Whether `token` was made for this account (compared in constant time).
pub fn verify(key: &[u8], user: &UserId, token: &str) -> bool {
    let Ok(raw) = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(token.as_bytes()) else {
        return false;
    };
    mac(key, user).is_some_and(|m| m.verify_slice(&raw).is_ok())
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
