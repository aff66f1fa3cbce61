//! Slowing down guessing: failed sign-ins and API token checks are counted per key in the
//! database (so every replica sees the same count), and past a free allowance each further
//! failure doubles the wait before the next try, up to a cap. A try during the wait is not
//! checked at all; the caller answers 429 with `Retry-After`.
//!
//! The wait is never longer than the cap, the count is forgotten a day after the last
//! failure, a right password clears the account's count, and so does a password reset: the
//! rightful owner is never locked out for good.

use std::time::Duration;

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::schema::auth_failures;
use crate::db::AnyConnection;

/// How many failures a key has before waits begin, and the longest wait.
#[derive(Debug, Clone, Copy)]
pub struct Rule {
    pub free_failures: i32,
    pub max_wait: Duration,
}

/// Per account (the address typed, whether or not an account has it): five typos are
/// free, then 1 s, 2 s, 4 s ... up to 15 minutes, about 100 guesses a day at most.
pub const PER_ACCOUNT: Rule = Rule {
    free_failures: 5,
    max_wait: Duration::from_secs(15 * 60),
};

/// Per client address, for sign-in and for API tokens: an office or a household behind
/// one address gets more room, a guesser trying many accounts from one address does not.
pub const PER_CLIENT: Rule = Rule {
    free_failures: 20,
    max_wait: Duration::from_secs(15 * 60),
};

/// A failure older than this no longer counts.
pub const FORGET_AFTER: Duration = Duration::from_secs(24 * 60 * 60);

/// The key of the account `email` names (normalized), for sign-in.
pub fn account_key(email: &str) -> String {
    format!("account:{email}")
}

/// The key of a client address, for sign-in.
pub fn client_key(client: &str) -> String {
    format!("client:{client}")
}

/// The key of a client address, for API token checks.
pub fn token_client_key(client: &str) -> String {
    format!("token-client:{client}")
}

/// The wait after `failures` failures under `rule`.
pub fn wait_after(failures: i32, rule: Rule) -> Duration {
    if failures < rule.free_failures {
        return Duration::ZERO;
    }
    let doublings = u32::try_from(failures - rule.free_failures)
        .unwrap_or(0)
        .min(30);
    Duration::from_secs(1u64 << doublings).min(rule.max_wait)
}

/// How long `key` must still wait before it may try again (zero: it may now).
pub fn wait(
    conn: &mut AnyConnection,
    key: &str,
    rule: Rule,
    now: NaiveDateTime,
) -> QueryResult<Duration> {
    let row: Option<(i32, NaiveDateTime)> = auth_failures::table
        .find(key)
        .select((auth_failures::failures, auth_failures::last_failure_at))
        .first(conn)
        .optional()?;
    let Some((failures, last)) = row else {
        return Ok(Duration::ZERO);
    };
    if last < forget_before(now) {
        return Ok(Duration::ZERO);
    }
    let until = last + to_chrono(wait_after(failures, rule));
    Ok((until - now).to_std().unwrap_or(Duration::ZERO))
}

/// Counts a sign-in attempt for every key before its password is checked, unless one of
/// them must still wait; returns that wait. Counting first (and forgiving on success)
/// means a burst of simultaneous guesses cannot all slip in before the first is counted:
/// each count moves from the value read to the next, and a try that loses that race to
/// another is refused as if waiting.
pub fn begin_attempt(
    conn: &mut AnyConnection,
    keys: &[(&str, Rule)],
    now: NaiveDateTime,
) -> QueryResult<Option<Duration>> {
    let mut seen = Vec::with_capacity(keys.len());
    for (key, rule) in keys {
        crate::insert_or_ignore!(
            conn,
            auth_failures::table,
            (
                auth_failures::key.eq(*key),
                auth_failures::failures.eq(0),
                auth_failures::last_failure_at.eq(now),
            )
        )?;
        let (failures, last): (i32, NaiveDateTime) = auth_failures::table
            .find(*key)
            .select((auth_failures::failures, auth_failures::last_failure_at))
            .first(conn)?;
        let counted = if last < forget_before(now) {
            0
        } else {
            failures
        };
        let until = last + to_chrono(wait_after(counted, *rule));
        if until > now {
            return Ok(Some((until - now).to_std().unwrap_or(Duration::ZERO)));
        }
        seen.push((*key, failures, last, counted));
    }
    for (key, failures, last, counted) in seen {
        let won = diesel::update(
            auth_failures::table
                .find(key)
                .filter(auth_failures::failures.eq(failures))
                .filter(auth_failures::last_failure_at.eq(last)),
        )
        .set((
            auth_failures::failures.eq(counted.saturating_add(1)),
            auth_failures::last_failure_at.eq(now),
        ))
        .execute(conn)?;
        if won == 0 {
            return Ok(Some(Duration::from_secs(1)));
        }
    }
    Ok(None)
}

/// Takes back one counted attempt of `key` (it succeeded).
pub fn forgive(conn: &mut AnyConnection, key: &str) -> QueryResult<()> {
    diesel::update(
        auth_failures::table
            .find(key)
            .filter(auth_failures::failures.gt(0)),
    )
    .set(auth_failures::failures.eq(auth_failures::failures - 1))
    .execute(conn)?;
    Ok(())
}

/// Counts one failure for `key`. Each step is one statement, so replicas counting the
/// same key at once lose no failure.
pub fn record_failure(conn: &mut AnyConnection, key: &str, now: NaiveDateTime) -> QueryResult<()> {
    crate::insert_or_ignore!(
        conn,
        auth_failures::table,
        (
            auth_failures::key.eq(key),
            auth_failures::failures.eq(0),
            auth_failures::last_failure_at.eq(now),
        )
    )?;
    let counted = diesel::update(
        auth_failures::table
            .find(key)
            .filter(auth_failures::last_failure_at.ge(forget_before(now))),
    )
    .set((
        auth_failures::failures.eq(auth_failures::failures + 1),
        auth_failures::last_failure_at.eq(now),
    ))
    .execute(conn)?;
    if counted == 0 {
        // The earlier failures are forgotten: this one starts a new count.
        diesel::update(auth_failures::table.find(key))
            .set((
                auth_failures::failures.eq(1),
                auth_failures::last_failure_at.eq(now),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// Forgets `key`'s failures (a right password, a password reset).
pub fn clear(conn: &mut AnyConnection, key: &str) -> QueryResult<()> {
    diesel::delete(auth_failures::table.find(key)).execute(conn)?;
    Ok(())
}

/// Whole seconds for `Retry-After`, never 0 while there is a wait.
pub fn retry_after_seconds(wait: Duration) -> u64 {
    wait.as_secs() + u64::from(wait.subsec_nanos() > 0)
}

fn forget_before(now: NaiveDateTime) -> NaiveDateTime {
    now - to_chrono(FORGET_AFTER)
}

fn to_chrono(d: Duration) -> chrono::Duration {
    chrono::Duration::from_std(d).unwrap_or(chrono::Duration::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_begin_after_the_free_failures_and_double_up_to_the_cap() {
        let waits: Vec<u64> = (0..22)
            .map(|n| wait_after(n, PER_ACCOUNT).as_secs())
            .collect();
        assert_eq!(
            waits,
            [
                0, 0, 0, 0, 0, 1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 900, 900, 900, 900, 900, 900,
                900
            ]
        );
        assert_eq!(wait_after(19, PER_CLIENT), Duration::ZERO);
        assert_eq!(wait_after(20, PER_CLIENT), Duration::from_secs(1));
        assert_eq!(wait_after(i32::MAX, PER_CLIENT), PER_CLIENT.max_wait);
    }

    #[test]
    fn retry_after_rounds_up() {
        assert_eq!(retry_after_seconds(Duration::from_millis(1)), 1);
        assert_eq!(retry_after_seconds(Duration::from_secs(2)), 2);
        assert_eq!(retry_after_seconds(Duration::from_millis(2001)), 3);
    }
}
