//! `X-Hub-Signature: <algorithm>=<hex HMAC of the body with the subscription's secret>`
//! (WebSub §8). Hubs may use sha1, sha256, sha384 or sha512.

use hmac::{Hmac, Mac};

#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("the push is not signed (no X-Hub-Signature header)")]
    Missing,
    #[error("the X-Hub-Signature header is malformed")]
    Malformed,
    #[error("the X-Hub-Signature algorithm {0:?} is not one WebSub allows")]
    Algorithm(String),
    #[error("the X-Hub-Signature does not match the body")]
    Mismatch,
}

/// Checks the header's signature of `body` with `secret`, in constant time.
pub fn verify(secret: &str, header: Option<&str>, body: &[u8]) -> Result<(), SignatureError> {
    let header = header.ok_or(SignatureError::Missing)?;
    let (algorithm, digits) = header
        .trim()
        .split_once('=')
        .ok_or(SignatureError::Malformed)?;
    let expected = hex::decode(digits).map_err(|_| SignatureError::Malformed)?;
    let key = secret.as_bytes();
    let matches = match algorithm.to_ascii_lowercase().as_str() {
        "sha1" => check::<Hmac<sha1::Sha1>>(key, body, &expected),
        "sha256" => check::<Hmac<sha2::Sha256>>(key, body, &expected),
        "sha384" => check::<Hmac<sha2::Sha384>>(key, body, &expected),
        "sha512" => check::<Hmac<sha2::Sha512>>(key, body, &expected),
        other => return Err(SignatureError::Algorithm(other.to_owned())),
    };
    if matches {
        Ok(())
    } else {
        Err(SignatureError::Mismatch)
    }
}

fn check<M: Mac + hmac::digest::KeyInit>(key: &[u8], body: &[u8], expected: &[u8]) -> bool {
    crate::signing::matches::<M>(key, &[body], expected)
}

/// The header value a hub would send: for tests and for documentation.
pub fn sign_sha256(secret: &str, body: &[u8]) -> String {
    format!(
        "sha256={}",
        hex::encode(crate::signing::hmac_sha256(secret.as_bytes(), &[body]))
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signature_from_the_secret_verifies_and_any_change_does_not() {
        let body = b"<feed>new post</feed>";
        let header = sign_sha256("s3cret", body);
        assert_eq!(verify("s3cret", Some(&header), body), Ok(()));
        assert_eq!(
            verify("s3cret", Some(&header), b"<feed>new posT</feed>"),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            verify("other", Some(&header), body),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(verify("s3cret", None, body), Err(SignatureError::Missing));
    }

    #[test]
    fn sha1_signatures_verify_as_published_hubs_send_them() {
        // HMAC-SHA1 of "The quick brown fox jumps over the lazy dog" with key "key"
        // (the published example on Wikipedia's HMAC page).
        let header = "sha1=de7c9b85b8b78aa6bc8a7a36f70a90701c9db4d9";
        let body = b"The quick brown fox jumps over the lazy dog";
        assert_eq!(verify("key", Some(header), body), Ok(()));
    }

    #[test]
    fn malformed_and_unknown_algorithms_are_refused() {
        assert_eq!(
            verify("k", Some("sha256"), b""),
            Err(SignatureError::Malformed)
        );
        assert_eq!(
            verify("k", Some("sha256=zz"), b""),
            Err(SignatureError::Malformed)
        );
        assert_eq!(
            verify("k", Some("md5=00"), b""),
            Err(SignatureError::Algorithm("md5".into()))
        );
    }
}
