//! Signing and secrets, one way each: the key signed links and form tokens are made with
//! ([`key`]), the HMACs every signature is (links and form tokens here; the
//! `t=…,v1=…` headers of Stripe and of our webhooks; WebSub's `X-Hub-Signature`), and
//! fresh random tokens and secrets.

use base64::Engine as _;
use hmac::digest::KeyInit;
use hmac::{Hmac, Mac};
use rand::RngCore as _;
use sha2::Sha256;

pub mod key;

/// The HMAC of `parts`, one after another, with `key`, as the algorithm `M` makes it.
pub fn mac<M: Mac + KeyInit>(key: &[u8], parts: &[&[u8]]) -> M {
    // HMAC takes keys of any length (a long key is hashed first), so this cannot fail;
    // `new_from_slice` only refuses keys of fixed-size MACs, which HMAC is not.
    let mut mac = match <M as KeyInit>::new_from_slice(key) {
        Ok(mac) => mac,
        Err(_) => unreachable!("HMAC accepts any key length"),
    };
    for part in parts {
        mac.update(part);
    }
    mac
}

/// HMAC-SHA256 of `parts` with `key`.
pub fn hmac_sha256(key: &[u8], parts: &[&[u8]]) -> Vec<u8> {
    mac::<Hmac<Sha256>>(key, parts)
        .finalize()
        .into_bytes()
        .to_vec()
}

/// Whether `expected` is the HMAC of `parts` with `key` (compared in constant time).
pub fn matches<M: Mac + KeyInit>(key: &[u8], parts: &[&[u8]], expected: &[u8]) -> bool {
    mac::<M>(key, parts).verify_slice(expected).is_ok()
}

/// What a `t=…,v1=…` signature header (Stripe's, our webhooks') signs: the Unix time in
/// seconds, a full stop, the raw body. The time inside the signed text keeps a captured
/// request from being replayed later than the receiver's tolerance.
pub fn timestamped<'a>(timestamp: &'a str, body: &'a [u8]) -> [&'a [u8]; 3] {
    [timestamp.as_bytes(), b".", body]
}

/// The signature of a signed link or form token: HMAC-SHA256, URL-safe base64, of
/// `purpose`, NUL, then `parts` separated by NUL. The purpose is signed too, so no
/// signed value can stand in for another kind.
pub fn sign(key: &[u8], purpose: &str, parts: &[&str]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(hmac_sha256(key, &framed(purpose, parts)))
}

/// Whether `signature` is [`sign`]'s for these parts (compared in constant time).
pub fn verify(key: &[u8], purpose: &str, parts: &[&str], signature: &str) -> bool {
    let Ok(raw) = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(signature.as_bytes())
    else {
        return false;
    };
    matches::<Hmac<Sha256>>(key, &framed(purpose, parts), &raw)
}

fn framed<'a>(purpose: &'a str, parts: &[&'a str]) -> Vec<&'a [u8]> {
    let mut framed = vec![purpose.as_bytes(), b"\0"];
    for (i, part) in parts.iter().enumerate() {
        if i > 0 {
            framed.push(b"\0");
        }
        framed.push(part.as_bytes());
    }
    framed
}

/// `n` random bytes from the operating system.
fn random_bytes(n: usize) -> Vec<u8> {
    let mut bytes = vec![0u8; n];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    bytes
}

/// A fresh random token, URL-safe (32 bytes): sessions, API tokens, form keys, secrets.
pub fn random_token() -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(random_bytes(32))
}

/// `n` fresh random bytes as lower-case hex: lease tokens and shared secrets.
pub fn random_hex(n: usize) -> String {
    hex::encode(random_bytes(n))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signature_holds_for_its_purpose_parts_and_key_only() {
        let key = b"0123456789abcdef0123456789abcdef";
        let signature = sign(key, "reset-password", &["alice", "hash", "1800000000"]);
        assert!(verify(
            key,
            "reset-password",
            &["alice", "hash", "1800000000"],
            &signature
        ));
        assert!(!verify(
            key,
            "verify-email",
            &["alice", "hash", "1800000000"],
            &signature
        ));
        assert!(!verify(
            key,
            "reset-password",
            &["alice", "hash", "1800000001"],
            &signature
        ));
        // Parts are framed, so moving text between them changes the signature.
        assert!(!verify(
            key,
            "reset-password",
            &["alicehash", "", "1800000000"],
            &signature
        ));
        assert!(!verify(
            b"another key",
            "reset-password",
            &["alice", "hash", "1800000000"],
            &signature
        ));
        assert!(!verify(
            key,
            "reset-password",
            &["alice", "hash", "1800000000"],
            "not base64!"
        ));
    }

    #[test]
    fn a_signature_is_the_hmac_of_the_purpose_and_parts_separated_by_nul() {
        // The format links already sent were made with: it must never change.
        let key = b"k";
        let expected = hmac_sha256(
            key,
            &[b"verify-email\x00alice\x00a@example.com\x001800000000"],
        );
        assert_eq!(
            sign(
                key,
                "verify-email",
                &["alice", "a@example.com", "1800000000"]
            ),
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(expected)
        );
        // RFC 4231 test case 2: the HMAC itself is the standard one.
        assert_eq!(
            hex::encode(hmac_sha256(
                b"Jefe",
                &[b"what do ya want ", b"for nothing?"]
            )),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn random_tokens_have_their_length_and_differ() {
        assert_eq!(random_token().len(), 43);
        assert_eq!(random_hex(16).len(), 32);
        assert!(random_hex(16)
            .chars()
            .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase()));
        assert_ne!(random_token(), random_token());
    }
}
