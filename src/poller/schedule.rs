//! When a feed is checked next.
//!
//! The policy: after a success, the poll interval, but never sooner than the feed asks
//! (Cache-Control max-age, Expires, RSS `<ttl>`, Retry-After), the feed's wish capped at a
//! day. After the n-th error in a row, the interval doubled n-1 times, capped at a week,
//! and never sooner than a Retry-After. Then up to 10% random jitter so feeds added
//! together do not stay in lockstep, and a floor of one minute so no restart or retry
//! loop can hammer a feed.

use std::time::Duration;

use chrono::NaiveDateTime;
use rand::Rng as _;

/// The most a feed's own request (ttl, max-age, Retry-After) can delay its next check.
pub const MAX_FEED_WISH: Duration = Duration::from_secs(24 * 3600);
/// The longest a failing feed waits between tries.
pub const MAX_BACKOFF: Duration = Duration::from_secs(7 * 24 * 3600);
/// No feed is checked twice within this, whatever the interval or the errors.
pub const FLOOR: Duration = crate::feeds::CHECK_FLOOR;
/// Jitter is up to 1/JITTER_DIVISOR of the wait.
const JITTER_DIVISOR: u32 = 10;

/// After a success (200 or 304). `wish` is the longest wait the feed asked for.
pub fn next_check_after_success(
    now: NaiveDateTime,
    interval: Duration,
    wish: Option<Duration>,
) -> NaiveDateTime {
    let wait = interval.max(wish.unwrap_or_default().min(MAX_FEED_WISH));
    now + finish(wait, rand::thread_rng().gen_range(0.0..1.0))
}

/// After the `errors`-th failure in a row; `wish` is a Retry-After, if any.
pub fn next_check_after_error(
    now: NaiveDateTime,
    interval: Duration,
    errors: u32,
    wish: Option<Duration>,
) -> NaiveDateTime {
    now + finish(
        backoff(interval, errors, wish),
        rand::thread_rng().gen_range(0.0..1.0),
    )
}

fn backoff(interval: Duration, errors: u32, wish: Option<Duration>) -> Duration {
    let factor = 1u32
        .checked_shl(errors.saturating_sub(1).min(20))
        .unwrap_or(u32::MAX);
    let wait = interval.saturating_mul(factor).min(MAX_BACKOFF);
    wait.max(wish.unwrap_or_default().min(MAX_FEED_WISH))
}

/// Adds `roll` (0..1) of the jitter to `wait` and applies the floor.
fn finish(wait: Duration, roll: f64) -> chrono::Duration {
    let jitter = (wait / JITTER_DIVISOR).mul_f64(roll.clamp(0.0, 1.0));
    let wait = (wait + jitter).max(FLOOR);
    chrono::Duration::from_std(wait).unwrap_or(chrono::Duration::days(7))
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIN: Duration = Duration::from_secs(60);

    fn at() -> NaiveDateTime {
        chrono::DateTime::from_timestamp(0, 0).unwrap().naive_utc()
    }

    fn secs(next: NaiveDateTime) -> i64 {
        (next - at()).num_seconds()
    }

    #[test]
    fn success_waits_the_interval_plus_at_most_ten_percent() {
        for _ in 0..200 {
            let wait = secs(next_check_after_success(at(), 30 * MIN, None));
            assert!((1800..=1980).contains(&wait), "{wait}");
        }
    }

    #[test]
    fn jitter_spreads_checks() {
        let waits: std::collections::HashSet<i64> = (0..50)
            .map(|_| secs(next_check_after_success(at(), 30 * MIN, None)))
            .collect();
        assert!(waits.len() > 10, "{waits:?}");
    }

    #[test]
    fn a_feed_asking_for_longer_is_obeyed_up_to_a_day() {
        assert_eq!(finish(Duration::from_secs(7200), 0.0).num_seconds(), 7200);
        let asked = secs(next_check_after_success(at(), 30 * MIN, Some(120 * MIN)));
        assert!((7200..=7920).contains(&asked), "{asked}");
        let capped = secs(next_check_after_success(
            at(),
            30 * MIN,
            Some(30 * 24 * 60 * MIN),
        ));
        assert!((86400..=95040).contains(&capped), "{capped}");
        // Asking for less than the interval changes nothing.
        let shorter = secs(next_check_after_success(at(), 30 * MIN, Some(MIN)));
        assert!(shorter >= 1800, "{shorter}");
    }

    #[test]
    fn nothing_is_checked_again_within_a_minute() {
        let wait = secs(next_check_after_success(at(), Duration::from_secs(1), None));
        assert_eq!(wait, 60);
        let wait = secs(next_check_after_error(
            at(),
            Duration::from_secs(1),
            1,
            None,
        ));
        assert_eq!(wait, 60);
    }

    #[test]
    fn errors_back_off_exponentially_up_to_a_week() {
        let interval = 10 * MIN;
        let wait = |errors| backoff(interval, errors, None).as_secs();
        assert_eq!(wait(1), 600);
        assert_eq!(wait(2), 1200);
        assert_eq!(wait(3), 2400);
        assert_eq!(wait(10), 600 * 512);
        assert_eq!(wait(40), 7 * 24 * 3600);
        assert_eq!(
            finish(backoff(interval, 40, None), 1.0).num_seconds(),
            7 * 24 * 3600 * 11 / 10
        );
    }

    #[test]
    fn retry_after_is_obeyed_when_longer_than_the_backoff() {
        assert_eq!(backoff(10 * MIN, 1, Some(60 * MIN)).as_secs(), 3600);
        assert_eq!(backoff(10 * MIN, 1, Some(MIN)).as_secs(), 600);
        assert_eq!(backoff(10 * MIN, 1, Some(Duration::MAX)).as_secs(), 86400);
    }
}
