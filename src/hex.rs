//! Lower-case hex, as signature headers (Stripe's, WebSub's, our webhooks') carry HMACs.

/// The bytes as lower-case hex digits.
pub fn encode(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The bytes hex digits spell (either case); none when the text is not an even number of
/// hex digits.
pub fn decode(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decoding_undoes_encoding_and_refuses_what_is_not_hex() {
        assert_eq!(encode(&[0, 15, 16, 255]), "000f10ff");
        assert_eq!(decode("000f10FF"), Some(vec![0, 15, 16, 255]));
        assert_eq!(decode("abc"), None);
        assert_eq!(decode("zz"), None);
        // A multi-byte character must not panic on a byte boundary.
        assert_eq!(decode("aéb"), None);
    }
}
