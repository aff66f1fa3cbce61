//! Verifying the `Stripe-Signature` header of a webhook request: HMAC-SHA256 of
//! `{t}.{raw body}` with the endpoint's secret, hex in one or more `v1=` parts.
//!
//! Any `v1` value may match any configured secret, so a secret can be rolled (Stripe
//! signs with the old and the new one for a while) without refusing events. A timestamp
//! more than five minutes from now is refused, so a captured request cannot be replayed
//! later.

use hmac::Hmac;
use sha2::Sha256;

use crate::config::Secret;

/// How far the signed timestamp may be from our clock.
pub const TOLERANCE_SECONDS: i64 = 300;

#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("no Stripe-Signature header")]
    Missing,
    #[error("the Stripe-Signature header has no timestamp or no v1 signature")]
    Malformed,
    #[error("the signed timestamp is more than {TOLERANCE_SECONDS} s from now")]
    Stale,
    #[error("no v1 signature matches the body")]
    Mismatch,
}

/// Checks `header` against `body`; `now` is the current Unix time in seconds.
pub fn verify(
    header: Option<&str>,
    body: &[u8],
    secrets: &[Secret],
    now: i64,
) -> Result<(), SignatureError> {
    let header = header.ok_or(SignatureError::Missing)?;
    let mut timestamp = None;
    let mut signatures = Vec::new();
    for part in header.split(',') {
        let Some((key, value)) = part.trim().split_once('=') else {
            continue;
        };
        match key {
            "t" => timestamp = value.parse::<i64>().ok(),
            "v1" => signatures.extend(hex::decode(value).ok()),
            _ => {}
        }
    }
    let timestamp = timestamp.ok_or(SignatureError::Malformed)?;
    if signatures.is_empty() {
        return Err(SignatureError::Malformed);
    }
    if (now - timestamp).abs() > TOLERANCE_SECONDS {
        return Err(SignatureError::Stale);
    }
    for secret in secrets {
        for signature in &signatures {
            if crate::signing::matches::<Hmac<Sha256>>(
                secret.expose().as_bytes(),
                &crate::signing::timestamped(&timestamp.to_string(), body),
                signature,
            ) {
                return Ok(());
            }
        }
    }
    Err(SignatureError::Mismatch)
}

/// A `Stripe-Signature` header for `body` as Stripe would send it (for tests and tools).
pub fn sign(secret: &str, timestamp: i64, body: &[u8]) -> String {
    let mac = crate::signing::hmac_sha256(
        secret.as_bytes(),
        &crate::signing::timestamped(&timestamp.to_string(), body),
    );
    format!("t={timestamp},v1={}", hex::encode(mac))
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_800_000_000;

    fn secrets(list: &[&str]) -> Vec<Secret> {
        list.iter().map(|s| Secret::new(*s)).collect()
    }

    #[test]
    fn a_signature_made_with_any_configured_secret_is_accepted() {
        let header = sign("whsec_new", NOW, b"{}");
        assert_eq!(
            verify(
                Some(&header),
                b"{}",
                &secrets(&["whsec_old", "whsec_new"]),
                NOW
            ),
            Ok(())
        );
        assert_eq!(
            verify(Some(&header), b"{}", &secrets(&["whsec_old"]), NOW),
            Err(SignatureError::Mismatch)
        );
    }

    #[test]
    fn headers_without_parts_are_malformed() {
        let s = secrets(&["whsec"]);
        assert_eq!(
            verify(Some("v1=00"), b"", &s, NOW),
            Err(SignatureError::Malformed)
        );
        assert_eq!(
            verify(Some(&format!("t={NOW}")), b"", &s, NOW),
            Err(SignatureError::Malformed)
        );
        assert_eq!(
            verify(Some(&format!("t={NOW},v1=zz")), b"", &s, NOW),
            Err(SignatureError::Malformed)
        );
        assert_eq!(verify(None, b"", &s, NOW), Err(SignatureError::Missing));
    }

    #[test]
    fn the_tolerance_is_five_minutes_either_way() {
        let s = secrets(&["whsec"]);
        for (age, ok) in [(300, true), (301, false), (-300, true), (-301, false)] {
            let header = sign("whsec", NOW - age, b"x");
            assert_eq!(verify(Some(&header), b"x", &s, NOW).is_ok(), ok, "{age}");
        }
    }
}
