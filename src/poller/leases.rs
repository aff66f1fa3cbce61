//! Claiming due feeds so that each is refreshed by one worker at a time, on one
//! process or many. A claim is a lease with a random token: a crashed worker's claim
//! simply expires, and only the claim that still holds the lease may record a result.

use chrono::NaiveDateTime;
use diesel::dsl::exists;
use diesel::pg::Pg;
use diesel::prelude::*;
use diesel::query_builder::AstPass;
use diesel::sql_types::{Array, Text, Timestamp};

use crate::db::dialect::claim::{self, Param};
use crate::db::schema::{feeds, subscriptions};
use crate::db::statement::{PgQuery, PgStatement};
use crate::db::AnyConnection;
use crate::feeds::store::Feed;

/// Claims up to `limit` due feeds that someone subscribes to (a paused subscription,
/// by its subscriber or by the account's plan, does not count), leasing each until
/// `lease_until` under a new token (each returned feed carries it in `lease_token`).
pub fn claim_due_feeds(
    conn: &mut AnyConnection,
    now: NaiveDateTime,
    lease_until: NaiveDateTime,
    limit: i64,
) -> QueryResult<Vec<Feed>> {
    let token = new_token();
    // Due, not leased by a live claim, followed by someone and not stopped.
    let pick = "f.next_check_at <= ? \
         AND (f.lease_until IS NULL OR f.lease_until < ?) \
         AND f.gone_at IS NULL AND f.stopped_at IS NULL \
         AND EXISTS (SELECT 1 FROM subscriptions s \
           WHERE s.feed_id = f.id AND NOT s.paused AND NOT s.paused_by_plan)";
    claim::load(
        conn,
        &claim::Claim {
            key: "id",
            table: "feeds",
            alias: "f",
            pick,
            params: vec![Param::Time(now), Param::Time(now)],
            due: "next_check_at",
            limit,
            lease_until,
            token: &token,
        },
    )
}

/// Which of these feeds the claim with `token` still holds at `now`, in one statement
/// (two on SQLite) whatever their number. Call it first in the transaction that records
/// results: on PostgreSQL it also locks the rows, so a lease cannot change hands before
/// that transaction commits.
pub fn still_held(
    conn: &mut AnyConnection,
    feed_ids: &[&str],
    token: &str,
    now: NaiveDateTime,
) -> QueryResult<std::collections::HashSet<String>> {
    if let AnyConnection::Postgresql(pg) = conn {
        let held: Vec<FeedId> = PgQuery(HeldOnPostgres {
            ids: feed_ids.iter().map(|id| id.to_string()).collect(),
            token: token.to_owned(),
            now,
        })
        .load(pg)?;
        return Ok(held.into_iter().map(|row| row.id).collect());
    }
    let held = || {
        feeds::table
            .filter(feeds::id.eq_any(feed_ids))
            .filter(feeds::lease_token.eq(token))
            .filter(feeds::lease_until.gt(now))
    };
    diesel::update(held())
        .set(feeds::lease_token.eq(token))
        .execute(conn)?;
    let ids: Vec<String> = held().select(feeds::id).load(conn)?;
    Ok(ids.into_iter().collect())
}

#[derive(QueryableByName)]
struct FeedId {
    #[diesel(sql_type = Text)]
    id: String,
}

/// [`still_held`] on PostgreSQL in one statement: `FOR UPDATE` locks the rows still held
/// without writing a new version of each, as an update would.
struct HeldOnPostgres {
    ids: Vec<String>,
    token: String,
    now: NaiveDateTime,
}

impl PgStatement for HeldOnPostgres {
    fn walk<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        out.push_sql("SELECT id FROM feeds WHERE id = ANY(");
        out.push_bind_param::<Array<Text>, _>(&self.ids)?;
        out.push_sql(") AND lease_token = ");
        out.push_bind_param::<Text, _>(&self.token)?;
        out.push_sql(" AND lease_until > ");
        out.push_bind_param::<Timestamp, _>(&self.now)?;
        out.push_sql(" FOR UPDATE");
        Ok(())
    }
}

/// [`release_feed`] for a batch of feeds claimed under one token.
pub fn release_feeds(conn: &mut AnyConnection, feed_ids: &[&str], token: &str) -> QueryResult<()> {
    if let AnyConnection::Postgresql(pg) = conn {
        PgQuery(ReleaseOnPostgres {
            ids: feed_ids.iter().map(|id| id.to_string()).collect(),
            token: token.to_owned(),
        })
        .execute(pg)?;
        return Ok(());
    }
    diesel::update(
        feeds::table
            .filter(feeds::id.eq_any(feed_ids))
            .filter(feeds::lease_token.eq(token)),
    )
    .set((
        feeds::lease_until.eq(None::<NaiveDateTime>),
        feeds::lease_token.eq(None::<String>),
    ))
    .execute(conn)?;
    Ok(())
}

struct ReleaseOnPostgres {
    ids: Vec<String>,
    token: String,
}

impl PgStatement for ReleaseOnPostgres {
    fn walk<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        out.push_sql("UPDATE feeds SET lease_until = NULL, lease_token = NULL WHERE id = ANY(");
        out.push_bind_param::<Array<Text>, _>(&self.ids)?;
        out.push_sql(") AND lease_token = ");
        out.push_bind_param::<Text, _>(&self.token)?;
        Ok(())
    }
}

/// Gives a feed back once its refresh is done; a claim that lost the lease changes nothing.
pub fn release_feed(conn: &mut AnyConnection, feed_id: &str, token: &str) -> QueryResult<()> {
    diesel::update(
        feeds::table
            .find(feed_id)
            .filter(feeds::lease_token.eq(token)),
    )
    .set((
        feeds::lease_until.eq(None::<NaiveDateTime>),
        feeds::lease_token.eq(None::<String>),
    ))
    .execute(conn)?;
    Ok(())
}

/// When the longest-waiting due feed became due (none when nothing is overdue); its age
/// is the queue lag operators watch.
pub fn oldest_overdue(
    conn: &mut AnyConnection,
    now: NaiveDateTime,
) -> QueryResult<Option<NaiveDateTime>> {
    feeds::table
        .filter(feeds::next_check_at.le(now))
        .filter(feeds::gone_at.is_null())
        .filter(feeds::stopped_at.is_null())
        .filter(exists(
            subscriptions::table
                .filter(subscriptions::feed_id.eq(feeds::id))
                .filter(subscriptions::paused.eq(false))
                .filter(subscriptions::paused_by_plan.eq(false)),
        ))
        .order(feeds::next_check_at.asc())
        .select(feeds::next_check_at)
        .first(conn)
        .optional()
}

fn new_token() -> String {
    crate::signing::random_hex(16)
}

/// How many followed feeds failed their last check (operators and `/metrics`).
pub fn failing_feeds(conn: &mut AnyConnection) -> QueryResult<i64> {
    feeds::table
        .filter(feeds::error_count.gt(0))
        .filter(feeds::gone_at.is_null())
        .filter(feeds::stopped_at.is_null())
        .filter(exists(
            subscriptions::table.filter(subscriptions::feed_id.eq(feeds::id)),
        ))
        .count()
        .get_result(conn)
}

/// Followed feeds whose last check failed, longest-failing first (operators).
pub fn failing_feed_rows(conn: &mut AnyConnection, limit: i64) -> QueryResult<Vec<Feed>> {
    feeds::table
        .filter(feeds::error_count.gt(0))
        .filter(feeds::gone_at.is_null())
        .filter(feeds::stopped_at.is_null())
        .filter(exists(
            subscriptions::table.filter(subscriptions::feed_id.eq(feeds::id)),
        ))
        .order((feeds::erroring_since.asc(), feeds::id.asc()))
        .limit(limit)
        .select(Feed::as_select())
        .load(conn)
}

/// Feeds past their check time that someone follows, longest-waiting first (operators).
pub fn overdue_feed_rows(
    conn: &mut AnyConnection,
    now: NaiveDateTime,
    limit: i64,
) -> QueryResult<Vec<Feed>> {
    feeds::table
        .filter(feeds::next_check_at.le(now))
        .filter(feeds::gone_at.is_null())
        .filter(feeds::stopped_at.is_null())
        .filter(exists(
            subscriptions::table
                .filter(subscriptions::feed_id.eq(feeds::id))
                .filter(subscriptions::paused.eq(false))
                .filter(subscriptions::paused_by_plan.eq(false)),
        ))
        .order(feeds::next_check_at.asc())
        .limit(limit)
        .select(Feed::as_select())
        .load(conn)
}
