//! When a feed is checked next.

use std::time::Duration;

use chrono::NaiveDateTime;

/// The longest a failing feed waits between tries.
const MAX_BACKOFF: Duration = Duration::from_secs(24 * 3600);

/// After a success: one interval from now.
pub fn next_check_after_success(now: NaiveDateTime, interval: Duration) -> NaiveDateTime {
    now + chrono::Duration::from_std(interval).unwrap_or(chrono::Duration::hours(1))
}

/// After the `errors`-th failure in a row: the interval doubled per failure, capped.
pub fn next_check_after_error(
    now: NaiveDateTime,
    interval: Duration,
    errors: u32,
) -> NaiveDateTime {
    let factor = 1u32
        .checked_shl(errors.saturating_sub(1).min(16))
        .unwrap_or(u32::MAX);
    let wait = interval.saturating_mul(factor).min(MAX_BACKOFF);
    now + chrono::Duration::from_std(wait).unwrap_or(chrono::Duration::hours(24))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_back_off_exponentially_up_to_a_day() {
        let now = chrono::DateTime::from_timestamp(0, 0).unwrap().naive_utc();
        let interval = Duration::from_secs(600);
        let wait = |errors| (next_check_after_error(now, interval, errors) - now).num_seconds();
        assert_eq!(wait(1), 600);
        assert_eq!(wait(2), 1200);
        assert_eq!(wait(3), 2400);
        assert_eq!(wait(40), 24 * 3600);
    }
}
