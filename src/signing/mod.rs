//! Signing and secrets: the key every signed link and token is made with, and fresh
//! random tokens.

use base64::Engine as _;
use rand::RngCore as _;

pub mod key;

/// A fresh random token, URL-safe.
pub fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}
