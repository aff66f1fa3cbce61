//! The wait before a failed job (a digest, an account mail, a webhook delivery) is tried
//! again.

/// The longest wait between two attempts.
const MAX_BACKOFF_MINUTES: i64 = 60;

/// The wait after the `attempts`-th failure: 1, 2, 4 ... minutes, at most an hour.
pub fn backoff(attempts: i32) -> chrono::Duration {
    let exp = u32::try_from(attempts.clamp(0, 10)).unwrap_or(0);
    chrono::Duration::minutes((1i64 << exp).min(MAX_BACKOFF_MINUTES))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_an_hour() {
        assert_eq!(backoff(0), chrono::Duration::minutes(1));
        assert_eq!(backoff(1), chrono::Duration::minutes(2));
        assert_eq!(backoff(2), chrono::Duration::minutes(4));
        assert_eq!(backoff(5), chrono::Duration::minutes(32));
        assert_eq!(backoff(6), chrono::Duration::minutes(60));
        assert_eq!(backoff(1000), chrono::Duration::minutes(60));
        assert_eq!(backoff(i32::MAX), chrono::Duration::minutes(60));
        assert_eq!(backoff(-1), chrono::Duration::minutes(1));
    }
}
