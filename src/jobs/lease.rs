//! One way to claim queued jobs (digests, webhook deliveries, account mail, post images,
//! WebSub requests, the posting queue) so that each runs once at a time on one process or
//! many: a lease with a random token. A claim is one statement;
//! on PostgreSQL its row locks are taken with `FOR UPDATE SKIP LOCKED`, so replicas
//! claiming together pass over each other's rows instead of queueing on them; on SQLite
//! one statement is atomic, so of two claimers exactly one changes a row (the statement
//! is `db::dialect::claim`'s). A crashed worker's lease expires; completion is recorded
//! only by the claim that still holds it.
//!
//! The poller's feed claim (`poller::leases`) runs the same statement, returning the rows.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::dialect::claim;
pub use crate::db::dialect::claim::Param;
use crate::db::AnyConnection;

/// A table of jobs claimed row by row. It has a key column (`key`), `next_attempt_at`,
/// `lease_until` and `lease_token` columns.
pub struct Queue {
    pub table: &'static str,
    /// The column naming one row: `id` for most queues, `caption_id` for the posting queue.
    pub key: &'static str,
    /// What else makes one of its rows wait to be done, in SQL on the row (named `j`),
    /// without parameters: `j.sent_at IS NULL`.
    pub pending: &'static str,
}

/// Further conditions a claimed row must meet, in SQL on the row (named `j`) with `?`
/// placeholders, and their values in order: what a queue's pending rule cannot say
/// without parameters (a cut-off time, one row's id).
#[derive(Debug, Clone, Default)]
pub struct Only {
    pub sql: String,
    pub params: Vec<Param>,
}

impl Only {
    /// Adds a condition, `AND`ed to the ones before.
    pub fn and(mut self, sql: &str, params: impl IntoIterator<Item = Param>) -> Self {
        if !self.sql.is_empty() {
            self.sql.push_str(" AND ");
        }
        self.sql.push('(');
        self.sql.push_str(sql);
        self.sql.push(')');
        self.params.extend(params);
        self
    }
}

/// A claim: its token (the rows it won carry it in `lease_token`) and how many it won.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claim {
    pub token: String,
    pub won: usize,
}

/// Leases up to `limit` pending rows of `queue` that are due at `at` and not leased by a
/// live claim, until `lease_until`, under a new token.
pub fn claim(
    conn: &mut AnyConnection,
    queue: &Queue,
    at: NaiveDateTime,
    lease_until: NaiveDateTime,
    limit: i64,
) -> QueryResult<Claim> {
    claim_only(conn, queue, &Only::default(), at, lease_until, limit)
}

/// [`claim`], of the rows that also meet `only`.
pub fn claim_only(
    conn: &mut AnyConnection,
    queue: &Queue,
    only: &Only,
    at: NaiveDateTime,
    lease_until: NaiveDateTime,
    limit: i64,
) -> QueryResult<Claim> {
    let token = crate::signing::random_hex(16);
    let Queue {
        table,
        key,
        pending,
    } = queue;
    let also = if only.sql.is_empty() {
        String::new()
    } else {
        format!(" AND {}", only.sql)
    };
    let mut params = only.params.clone();
    params.extend([Param::Time(at), Param::Time(at)]);
    let won = claim::execute(
        conn,
        &claim::Claim {
            table,
            key,
            alias: "j",
            pick: &format!(
                "{pending}{also} AND j.next_attempt_at <= ? \
                 AND (j.lease_until IS NULL OR j.lease_until < ?)"
            ),
            params,
            due: "next_attempt_at",
            limit,
            lease_until,
            token: &token,
        },
    )?;
    Ok(Claim { token, won })
}

/// Leases the one row of `queue` keyed `key`, if it is pending, due at `at` and not leased
/// by a live claim: for a queue whose due rows are chosen by the caller (the posting queue
/// works its times out from each account's plan), the same claim one row at a time.
/// `Some(token)` when this call won it.
pub fn claim_one(
    conn: &mut AnyConnection,
    queue: &Queue,
    key: &str,
    at: NaiveDateTime,
    lease_until: NaiveDateTime,
) -> QueryResult<Option<String>> {
    let only = Only::default().and(
        &format!("j.{} = ?", queue.key),
        [Param::Text(key.to_string())],
    );
    let claim = claim_only(conn, queue, &only, at, lease_until, 1)?;
    Ok((claim.won == 1).then_some(claim.token))
}

/// Ends the lease `token` holds on the row of `queue` keyed `key`, if it still holds it:
/// whether it did. A job whose outcome lives elsewhere (WebSub's, on the feed) records it
/// in the same transaction only when this says the claim was still its own.
pub fn release(
    conn: &mut AnyConnection,
    queue: &Queue,
    key: &str,
    token: &str,
) -> QueryResult<bool> {
    claim::release(conn, queue.table, queue.key, key, token)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conditions_are_anded_each_in_brackets() {
        let only = Only::default()
            .and("j.kind <> ? OR j.x", [Param::Text("k".into())])
            .and("j.id = ?", [Param::Text("7".into())]);
        assert_eq!(only.sql, "(j.kind <> ? OR j.x) AND (j.id = ?)");
        assert_eq!(only.params.len(), 2);
    }
}
