//! One way to claim queued jobs (digests, webhook deliveries) so that each runs once at a
//! time on one process or many: a lease with a random token. A claim is one statement;
//! on PostgreSQL its row locks are taken with `FOR UPDATE SKIP LOCKED`, so replicas
//! claiming together pass over each other's rows instead of queueing on them; on SQLite
//! one statement is atomic, so of two claimers exactly one changes a row. A crashed
//! worker's lease expires; completion is recorded only by the claim that still holds it.
//!
//! The poller's feed claim is its own (`poller::leases`): it is tuned for speed.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text, Timestamp};

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
    let token = crate::signing::random_hex(16);
    let Queue {
        table,
        key,
        pending,
    } = queue;
    let won = match conn {
        AnyConnection::Postgresql(pg) => diesel::sql_query(format!(
            "UPDATE {table} SET lease_until = $1, lease_token = $2 \
             WHERE {key} IN ( \
               SELECT j.{key} FROM {table} j \
               WHERE {pending} AND j.next_attempt_at <= $3 \
                 AND (j.lease_until IS NULL OR j.lease_until < $3) \
               ORDER BY j.next_attempt_at \
               LIMIT $4 \
               FOR UPDATE SKIP LOCKED) \
"
        ))
        .bind::<Timestamp, _>(lease_until)
        .bind::<Text, _>(&token)
        .bind::<Timestamp, _>(at)
        .bind::<BigInt, _>(limit)
        .execute(pg)?,
        AnyConnection::Sqlite(sqlite) => diesel::sql_query(format!(
            "UPDATE {table} SET lease_until = ?, lease_token = ? \
             WHERE {key} IN ( \
               SELECT j.{key} FROM {table} j \
               WHERE {pending} AND j.next_attempt_at <= ? \
                 AND (j.lease_until IS NULL OR j.lease_until < ?) \
               ORDER BY j.next_attempt_at \
               LIMIT ?) \
"
        ))
        .bind::<Timestamp, _>(lease_until)
        .bind::<Text, _>(&token)
        .bind::<Timestamp, _>(at)
        .bind::<Timestamp, _>(at)
        .bind::<BigInt, _>(limit)
        .execute(sqlite)?,
    };
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
    let token = crate::signing::random_hex(16);
    let Queue {
        table,
        key: column,
        pending,
    } = queue;
    let won = match conn {
        AnyConnection::Postgresql(pg) => diesel::sql_query(format!(
            "UPDATE {table} SET lease_until = $1, lease_token = $2 \
             WHERE {column} IN ( \
               SELECT j.{column} FROM {table} j \
               WHERE j.{column} = $4 AND {pending} AND j.next_attempt_at <= $3 \
                 AND (j.lease_until IS NULL OR j.lease_until < $3) \
               FOR UPDATE SKIP LOCKED) \
"
        ))
        .bind::<Timestamp, _>(lease_until)
        .bind::<Text, _>(&token)
        .bind::<Timestamp, _>(at)
        .bind::<Text, _>(key)
        .execute(pg)?,
        AnyConnection::Sqlite(sqlite) => diesel::sql_query(format!(
            "UPDATE {table} SET lease_until = ?, lease_token = ? \
             WHERE {column} IN ( \
               SELECT j.{column} FROM {table} j \
               WHERE j.{column} = ? AND {pending} AND j.next_attempt_at <= ? \
                 AND (j.lease_until IS NULL OR j.lease_until < ?)) \
"
        ))
        .bind::<Timestamp, _>(lease_until)
        .bind::<Text, _>(&token)
        .bind::<Text, _>(key)
        .bind::<Timestamp, _>(at)
        .bind::<Timestamp, _>(at)
        .execute(sqlite)?,
    };
    Ok((won == 1).then_some(token))
}
