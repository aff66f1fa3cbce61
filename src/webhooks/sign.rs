//! The signature a receiver checks: HMAC-SHA256 over "<unix seconds>.<body>" with the
//! endpoint's secret. The timestamp is inside the signed text so a captured request
//! cannot be replayed later than the tolerance allows.

use hmac::Hmac;
use sha2::Sha256;

use crate::signing;

pub const SIGNATURE_HEADER: &str = "Captionfeed-Signature";
pub const EVENT_HEADER: &str = "Captionfeed-Event";
pub const DELIVERY_HEADER: &str = "Captionfeed-Delivery";
/// How far a signature's timestamp may be from the receiver's clock.
pub const TOLERANCE_SECONDS: i64 = 5 * 60;

/// The `Captionfeed-Signature` value: `t=<unix seconds>,v1=<hex>`.
pub fn signature_header(secret: &str, timestamp: i64, body: &[u8]) -> String {
    let digest = signing::hmac_sha256(
        secret.as_bytes(),
        &signing::timestamped(&timestamp.to_string(), body),
    );
    format!("t={timestamp},v1={}", hex::encode(digest))
}

#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    #[error("the signature header is malformed")]
    Malformed,
    #[error("the signature's timestamp is outside the tolerance")]
    Expired,
    #[error("no signature matches the body")]
    Mismatch,
}

/// Checks a `Captionfeed-Signature` header against the body as received, at `now`
/// (unix seconds). Any `v1` entry may match, so a receiver keeps working while the
/// scheme grows more entries.
pub fn verify(secret: &str, header: &str, body: &[u8], now: i64) -> Result<(), VerifyError> {
    let mut timestamp = None;
    let mut signatures = Vec::new();
    for part in header.split(',') {
        match part.trim().split_once('=') {
            Some(("t", value)) => {
                timestamp = Some(value.parse::<i64>().map_err(|_| VerifyError::Malformed)?)
            }
            Some(("v1", value)) => {
                signatures.push(hex::decode(value).map_err(|_| VerifyError::Malformed)?)
            }
            _ => {}
        }
    }
    let timestamp = timestamp.ok_or(VerifyError::Malformed)?;
    if signatures.is_empty() {
        return Err(VerifyError::Malformed);
    }
    if (now - timestamp).abs() > TOLERANCE_SECONDS {
        return Err(VerifyError::Expired);
    }
    // Compared in constant time, so timing tells an attacker nothing.
    let timestamp = timestamp.to_string();
    let signed = signing::timestamped(&timestamp, body);
    if signatures
        .iter()
        .any(|s| signing::matches::<Hmac<Sha256>>(secret.as_bytes(), &signed, s))
    {
        Ok(())
    } else {
        Err(VerifyError::Mismatch)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signature_verifies_and_a_changed_body_does_not() {
        let header = signature_header("whsec_x", 1_700_000_000, b"{\"a\":1}");
        assert_eq!(
            verify("whsec_x", &header, b"{\"a\":1}", 1_700_000_010),
            Ok(())
        );
        assert_eq!(
            verify("whsec_x", &header, b"{\"a\":2}", 1_700_000_010),
            Err(VerifyError::Mismatch)
        );
        assert_eq!(
            verify("whsec_y", &header, b"{\"a\":1}", 1_700_000_010),
            Err(VerifyError::Mismatch)
        );
        assert_eq!(
            verify("whsec_x", &header, b"{\"a\":1}", 1_700_000_400),
            Err(VerifyError::Expired)
        );
        assert_eq!(
            verify("whsec_x", "v1=zz", b"", 0),
            Err(VerifyError::Malformed)
        );
    }

    #[test]
    fn known_vector() {
        // echo -n '1700000000.hello' | openssl dgst -sha256 -hmac whsec_test
        assert_eq!(
            signature_header("whsec_test", 1_700_000_000, b"hello"),
            "t=1700000000,v1=457c4d31b232d95fcd50f1d95021aaaffddd859d0ee8a206675e84ccc977431d"
        );
    }
}
