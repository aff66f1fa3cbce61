//! Claiming due feeds so that each is refreshed by one worker at a time, on one
//! process or many. A claim is a lease: a crashed worker's claim simply expires.

use chrono::NaiveDateTime;
use diesel::dsl::exists;
use diesel::prelude::*;

use crate::db::schema::{feeds, subscriptions};
use crate::db::AnyConnection;
use crate::feeds::store::Feed;

/// Claims up to `limit` due feeds that someone subscribes to, leasing each until
/// `lease_until`. The conditional `UPDATE` is the claim: of two workers racing for the
/// same feed, the database lets exactly one change the row (both backends re-check the
/// `WHERE` under the row lock).
pub fn claim_due_feeds(
    conn: &mut AnyConnection,
    now: NaiveDateTime,
    lease_until: NaiveDateTime,
    limit: i64,
) -> QueryResult<Vec<Feed>> {
    let candidates: Vec<String> = feeds::table
        .filter(feeds::next_check_at.le(now))
        .filter(feeds::lease_until.is_null().or(feeds::lease_until.lt(now)))
        .filter(feeds::gone_at.is_null())
        .filter(exists(
            subscriptions::table
                .filter(subscriptions::feed_id.eq(feeds::id))
                .filter(subscriptions::paused.eq(false)),
        ))
        .order(feeds::next_check_at.asc())
        .limit(limit)
        .select(feeds::id)
        .load(conn)?;
    let mut claimed = Vec::with_capacity(candidates.len());
    for id in candidates {
        let won = diesel::update(
            feeds::table
                .find(&id)
                .filter(feeds::next_check_at.le(now))
                .filter(feeds::lease_until.is_null().or(feeds::lease_until.lt(now))),
        )
        .set(feeds::lease_until.eq(lease_until))
        .execute(conn)?;
        if won == 1 {
            if let Some(feed) = crate::feeds::store::feed_by_id(conn, &id)? {
                claimed.push(feed);
            }
        }
    }
    Ok(claimed)
}

/// Gives a feed back once its refresh is done.
pub fn release_feed(conn: &mut AnyConnection, feed_id: &str) -> QueryResult<()> {
    diesel::update(feeds::table.find(feed_id))
        .set(feeds::lease_until.eq(None::<NaiveDateTime>))
        .execute(conn)?;
    Ok(())
}
