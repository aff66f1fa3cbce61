//! Connection secrets (app passwords, session tokens) encrypted at rest.
//!
//! ChaCha20-Poly1305 with a key derived from the service's signing key (HMAC-SHA-256 of a
//! fixed purpose string, so the signing key itself never encrypts anything), a random
//! nonce per value, and the row's id as associated data: a sealed value copied into
//! another account's row does not open. A changed service key leaves old values
//! unreadable; their connections then ask to be connected again.

use base64::Engine as _;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};
use rand::RngCore;

const NONCE_LEN: usize = 12;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SecretError {
    #[error("a stored secret could not be decrypted (the service key changed, or the value was altered)")]
    Unreadable,
}

/// Seals and opens connection secrets.
pub struct SecretBox {
    cipher: ChaCha20Poly1305,
}

impl SecretBox {
    pub fn from_service_key(service_key: &[u8]) -> Self {
        // The same HMAC-SHA256 as before the shared signer, so stored secrets still open.
        let key = crate::signing::hmac_sha256(service_key, &[b"captionfeed connection secrets v1"]);
        SecretBox {
            cipher: ChaCha20Poly1305::new(Key::from_slice(&key)),
        }
    }

    /// `secret` encrypted for the row `context`, as text: base64 of nonce and ciphertext.
    pub fn seal(&self, secret: &str, context: &str) -> String {
        let mut nonce = [0u8; NONCE_LEN];
        rand::thread_rng().fill_bytes(&mut nonce);
        let sealed = self
            .cipher
            .encrypt(
                Nonce::from_slice(&nonce),
                Payload {
                    msg: secret.as_bytes(),
                    aad: context.as_bytes(),
                },
            )
            // Encryption fails only for messages over 256 GiB.
            .unwrap_or_default();
        let mut out = nonce.to_vec();
        out.extend_from_slice(&sealed);
        base64::engine::general_purpose::STANDARD_NO_PAD.encode(out)
    }

    pub fn open(&self, sealed: &str, context: &str) -> Result<String, SecretError> {
        let raw = base64::engine::general_purpose::STANDARD_NO_PAD
            .decode(sealed.as_bytes())
            .map_err(|_| SecretError::Unreadable)?;
        if raw.len() < NONCE_LEN {
            return Err(SecretError::Unreadable);
        }
        let (nonce, ciphertext) = raw.split_at(NONCE_LEN);
        let plain = self
            .cipher
            .decrypt(
                Nonce::from_slice(nonce),
                Payload {
                    msg: ciphertext,
                    aad: context.as_bytes(),
                },
            )
            .map_err(|_| SecretError::Unreadable)?;
        String::from_utf8(plain).map_err(|_| SecretError::Unreadable)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &[u8] = b"the service's signing key, 32+ characters";

    #[test]
    fn a_secret_sealed_with_the_hand_written_key_derivation_still_opens() {
        // Sealed outside this code (Python: HMAC-SHA256 of the purpose under the service
        // key, then ChaCha20-Poly1305 with nonce 0..12), as the key was derived before it
        // went through crate::signing: connections stored then must still open.
        let boxed = SecretBox::from_service_key(b"0123456789abcdef0123456789abcdef");
        let sealed = "AAECAwQFBgcICQoLOETPJPSI9EkpPfvT1q+s8z4TN7Lp/LLpWTAPUw";
        assert_eq!(boxed.open(sealed, "conn-1").as_deref(), Ok("app-password"));
    }

    #[test]
    fn a_secret_opens_only_with_its_key_and_row() {
        let boxed = SecretBox::from_service_key(KEY);
        let sealed = boxed.seal("abcd-efgh-ijkl-mnop", "connection-1");
        assert!(!sealed.contains("abcd"), "{sealed}");
        assert_eq!(
            boxed.open(&sealed, "connection-1").as_deref(),
            Ok("abcd-efgh-ijkl-mnop")
        );
        assert_eq!(
            boxed.open(&sealed, "connection-2"),
            Err(SecretError::Unreadable)
        );
        let other = SecretBox::from_service_key(b"another deployment's key, 32+ chars");
        assert_eq!(
            other.open(&sealed, "connection-1"),
            Err(SecretError::Unreadable)
        );
    }

    #[test]
    fn the_same_secret_seals_differently_each_time() {
        let boxed = SecretBox::from_service_key(KEY);
        assert_ne!(boxed.seal("same", "c"), boxed.seal("same", "c"));
    }

    #[test]
    fn an_altered_value_is_refused() {
        let boxed = SecretBox::from_service_key(KEY);
        let sealed = boxed.seal("abcd-efgh-ijkl-mnop", "c");
        let mut raw = base64::engine::general_purpose::STANDARD_NO_PAD
            .decode(sealed.as_bytes())
            .unwrap();
        let last = raw.len() - 1;
        raw[last] ^= 1;
        let altered = base64::engine::general_purpose::STANDARD_NO_PAD.encode(raw);
        assert_eq!(boxed.open(&altered, "c"), Err(SecretError::Unreadable));
        for junk in ["", "not base64!", "AAAA"] {
            assert_eq!(boxed.open(junk, "c"), Err(SecretError::Unreadable));
        }
    }
}
