//! Per-account request rates for the JSON API.
//!
//! Counted in this process only: with several replicas behind a load balancer an account
//! gets up to the rate on each. Good enough to stop a runaway script; a shared limit would
//! need the database or Redis.

use std::num::NonZeroU32;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use super::error::ApiError;

pub struct ApiLimiter {
    limiter: DefaultKeyedRateLimiter<String>,
    clock: DefaultClock,
}

impl ApiLimiter {
    pub fn per_minute(rate: u32) -> Self {
        let rate = NonZeroU32::new(rate).unwrap_or(NonZeroU32::MIN);
        ApiLimiter {
            limiter: RateLimiter::keyed(Quota::per_minute(rate)),
            clock: DefaultClock::default(),
        }
    }

    /// Counts one request of the account; `RateLimited` with the wait when over the rate.
    pub fn check(&self, account: &str) -> Result<(), ApiError> {
        match self.limiter.check_key(&account.to_string()) {
            Ok(()) => Ok(()),
            Err(not_until) => {
                let wait = not_until.wait_time_from(self.clock.now());
                Err(ApiError::RateLimited(wait.as_secs().max(1)))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_account_gets_its_rate_then_waits() {
        let limiter = ApiLimiter::per_minute(3);
        let results: Vec<bool> = (0..5).map(|_| limiter.check("ann").is_ok()).collect();
        assert_eq!(results, [true, true, true, false, false]);
        assert!(
            matches!(limiter.check("ann"), Err(ApiError::RateLimited(s)) if (1..=20).contains(&s))
        );
        assert!(limiter.check("bob").is_ok(), "accounts are counted apart");
    }
}
