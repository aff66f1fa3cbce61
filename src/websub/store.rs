//! The WebSub columns of the feeds table: which hub a feed names, our subscription's
//! state there, and the secret its pushes must be signed with; and the claims on sending
//! a request (`websub_leases`), so that of many replicas one sends it.

use chrono::NaiveDateTime;
use diesel::dsl::exists;
use diesel::prelude::*;

use crate::db::schema::{feeds, subscriptions, websub_leases};
use crate::db::AnyConnection;
use crate::feeds::parse::WebSubLinks;
use crate::feeds::store::{Feed, FeedId};
use crate::jobs::lease::{self, Queue};

/// No hub named.
pub const NONE: &str = "none";
/// A hub is named; the subscription request is still to be sent.
pub const WANTED: &str = "wanted";
/// Sent; waiting for the hub to verify our intent.
pub const REQUESTED: &str = "requested";
/// Verified: the hub pushes until the lease ends.
pub const ACTIVE: &str = "active";
/// The hub refused or could not be reached; tried again a day later.
pub const FAILED: &str = "failed";
/// Nobody follows the feed any more: we asked the hub to stop, and wait for it to verify.
pub const LEAVING: &str = "leaving";

/// Records the hub a fetched feed names, when it changed: a new hub or topic needs a new
/// subscription, with a new secret; a feed that stopped naming one is no longer pushed.
/// Writes nothing when nothing changed, so a poll costs no extra statement.
pub fn note_hub(
    conn: &mut AnyConnection,
    feed: &Feed,
    links: Option<&WebSubLinks>,
) -> QueryResult<()> {
    let named = links.map(|l| (l.hub.as_str(), l.topic.as_str()));
    let stored = feed.websub_hub.as_deref().zip(feed.websub_topic.as_deref());
    if named == stored {
        return Ok(());
    }
    let (hub, topic, secret, state) = match named {
        Some((hub, topic)) => (Some(hub), Some(topic), Some(new_secret()), WANTED),
        None => (None, None, None, NONE),
    };
    diesel::update(feeds::table.find(&feed.id))
        .set((
            feeds::websub_hub.eq(hub),
            feeds::websub_topic.eq(topic),
            feeds::websub_secret.eq(secret),
            feeds::websub_state.eq(state),
            feeds::websub_lease_until.eq(None::<NaiveDateTime>),
            feeds::websub_requested_at.eq(None::<NaiveDateTime>),
            feeds::websub_error.eq(None::<String>),
        ))
        .execute(conn)?;
    Ok(())
}

/// The subscriptions of the feed row being looked at that are not paused.
type ActiveSubscriptions = diesel::dsl::Filter<
    diesel::dsl::Filter<subscriptions::table, diesel::dsl::Eq<subscriptions::feed_id, feeds::id>>,
    diesel::dsl::Eq<subscriptions::paused, bool>,
>;

/// Someone follows the feed and has not paused it.
fn followed() -> diesel::dsl::exists<ActiveSubscriptions> {
    exists(
        subscriptions::table
            .filter(subscriptions::feed_id.eq(feeds::id))
            .filter(subscriptions::paused.eq(false)),
    )
}

/// A subscription request to send.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = feeds)]
pub struct Wanted {
    #[diesel(column_name = id)]
    pub feed_id: FeedId,
    #[diesel(select_expression = feeds::websub_hub.assume_not_null())]
    #[diesel(select_expression_type = diesel::dsl::AssumeNotNull<feeds::websub_hub>)]
    pub hub: String,
    #[diesel(select_expression = feeds::websub_topic.assume_not_null())]
    #[diesel(select_expression_type = diesel::dsl::AssumeNotNull<feeds::websub_topic>)]
    pub topic: String,
    #[diesel(select_expression = feeds::websub_secret.assume_not_null())]
    #[diesel(select_expression_type = diesel::dsl::AssumeNotNull<feeds::websub_secret>)]
    pub secret: String,
}

/// The subscriptions to (re)request at `now`: new hubs; leases ending within a day;
/// requests the hub has not verified within an hour; failures a day old. Only for
/// feeds someone follows and that are not gone.
pub fn due(conn: &mut AnyConnection, now: NaiveDateTime, limit: i64) -> QueryResult<Vec<Wanted>> {
    due_among(conn, now, None, limit)
}

/// [`due`], of every feed or only of `only`.
fn due_among(
    conn: &mut AnyConnection,
    now: NaiveDateTime,
    only: Option<&FeedId>,
    limit: i64,
) -> QueryResult<Vec<Wanted>> {
    let renew_before = now + chrono::Duration::days(1);
    let unverified_since = now - chrono::Duration::hours(1);
    let failed_since = now - chrono::Duration::days(1);
    let mut query = feeds::table
        .filter(feeds::websub_hub.is_not_null())
        .filter(feeds::gone_at.is_null())
        .filter(
            feeds::websub_state
                .eq(WANTED)
                .or(feeds::websub_state
                    .eq(ACTIVE)
                    .and(feeds::websub_lease_until.lt(renew_before)))
                .or(feeds::websub_state
                    .eq(REQUESTED)
                    .and(feeds::websub_requested_at.lt(unverified_since)))
                .or(feeds::websub_state
                    .eq(FAILED)
                    .and(feeds::websub_requested_at.lt(failed_since)))
                // Followed again while we were leaving.
                .or(feeds::websub_state.eq(LEAVING)),
        )
        .filter(followed())
        .into_boxed();
    if let Some(feed_id) = only {
        query = query.filter(feeds::id.eq(feed_id));
    }
    query.limit(limit).select(Wanted::as_select()).load(conn)
}

/// The hub subscriptions to end at once: nobody follows their feed any more (or the feed
/// is gone), so the hub should stop pushing rather than wait for the lease to lapse.
pub fn unwanted(conn: &mut AnyConnection, limit: i64) -> QueryResult<Vec<Wanted>> {
    unwanted_among(conn, None, limit)
}

/// [`unwanted`], of every feed or only of `only`.
fn unwanted_among(
    conn: &mut AnyConnection,
    only: Option<&FeedId>,
    limit: i64,
) -> QueryResult<Vec<Wanted>> {
    let mut query = feeds::table
        .filter(feeds::websub_hub.is_not_null())
        .filter(feeds::websub_state.eq_any([ACTIVE, REQUESTED]))
        .filter(
            feeds::gone_at
                .is_not_null()
                .or(diesel::dsl::not(followed())),
        )
        .into_boxed();
    if let Some(feed_id) = only {
        query = query.filter(feeds::id.eq(feed_id));
    }
    query.limit(limit).select(Wanted::as_select()).load(conn)
}

/// The claims on sending a feed's request to its hub, as the shared lease takes them.
const QUEUE: Queue = Queue {
    table: "websub_leases",
    key: "feed_id",
    pending: "EXISTS (SELECT 1 FROM feeds f WHERE f.id = j.feed_id AND f.websub_hub IS NOT NULL)",
};

/// How long a claim is left to the replica that took it: far longer than a request to a
/// hub takes. One that dies before recording the outcome frees the feed after this.
const CLAIM: chrono::Duration = chrono::Duration::minutes(5);

/// Claims the subscription request of `feed_id` for this replica, if it is still due at
/// `at` (see [`due`]) and no live claim holds it; the token to record the outcome with.
/// Due-ness is read again after the claim is won: another replica's outcome, recorded
/// before it let go of the claim, is seen, so a request it has just sent is not sent again.
pub fn claim_due(
    conn: &mut AnyConnection,
    feed_id: &FeedId,
    at: NaiveDateTime,
) -> QueryResult<Option<String>> {
    claim_if(conn, feed_id, at, |conn| {
        Ok(!due_among(conn, at, Some(feed_id), 1)?.is_empty())
    })
}

/// [`claim_due`], for asking the hub to stop: if the feed is still [`unwanted`].
pub fn claim_unwanted(
    conn: &mut AnyConnection,
    feed_id: &FeedId,
    at: NaiveDateTime,
) -> QueryResult<Option<String>> {
    claim_if(conn, feed_id, at, |conn| {
        Ok(!unwanted_among(conn, Some(feed_id), 1)?.is_empty())
    })
}

fn claim_if(
    conn: &mut AnyConnection,
    feed_id: &FeedId,
    at: NaiveDateTime,
    still_wanted: impl Fn(&mut AnyConnection) -> QueryResult<bool>,
) -> QueryResult<Option<String>> {
    crate::insert_or_ignore!(
        conn,
        websub_leases::table,
        (
            websub_leases::feed_id.eq(feed_id),
            websub_leases::next_attempt_at.eq(at),
        )
    )?;
    let Some(token) = lease::claim_one(conn, &QUEUE, feed_id, at, at + CLAIM)? else {
        return Ok(None);
    };
    if still_wanted(conn)? {
        return Ok(Some(token));
    }
    lease::release(conn, &QUEUE, feed_id, &token)?;
    Ok(None)
}

/// Ends the claim `token` holds on `feed_id`'s request: `false` when it no longer held
/// it (it outlived its lease and another replica took the feed), and then the caller
/// records nothing. Call it in the transaction that records the outcome.
fn release(conn: &mut AnyConnection, feed_id: &FeedId, token: &str) -> QueryResult<bool> {
    lease::release(conn, &QUEUE, feed_id, token)
}

/// We asked the hub to stop: pushes are refused from now on, and its verification of
/// the unsubscription is answered. Recorded only by the claim holding `token` (`false`
/// otherwise); call it in a transaction.
pub fn mark_leaving(
    conn: &mut AnyConnection,
    feed_id: &FeedId,
    token: &str,
    at: NaiveDateTime,
) -> QueryResult<bool> {
    if !release(conn, feed_id, token)? {
        return Ok(false);
    }
    diesel::update(feeds::table.find(feed_id))
        .set((
            feeds::websub_state.eq(LEAVING),
            feeds::websub_requested_at.eq(at),
            feeds::websub_lease_until.eq(None::<NaiveDateTime>),
            feeds::websub_error.eq(None::<String>),
        ))
        .execute(conn)?;
    Ok(true)
}

/// The hub's verification of an unsubscription (§5.3), answered yes only while we are
/// leaving that topic. The feed goes back to "wanted": subscribed again if followed again.
pub fn confirm_leaving(
    conn: &mut AnyConnection,
    feed_id: &FeedId,
    topic: &str,
) -> QueryResult<bool> {
    let confirmed = diesel::update(
        feeds::table
            .find(feed_id)
            .filter(feeds::websub_topic.eq(topic))
            .filter(feeds::websub_state.eq(LEAVING)),
    )
    .set(feeds::websub_state.eq(WANTED))
    .execute(conn)?;
    Ok(confirmed == 1)
}

/// The request went out: waiting for the hub to verify it. Recorded only by the claim
/// holding `token` (`false` otherwise); call it in a transaction.
pub fn mark_requested(
    conn: &mut AnyConnection,
    feed_id: &FeedId,
    token: &str,
    at: NaiveDateTime,
) -> QueryResult<bool> {
    if !release(conn, feed_id, token)? {
        return Ok(false);
    }
    // An active subscription being renewed stays active until the hub verifies again.
    diesel::update(
        feeds::table
            .find(feed_id)
            .filter(feeds::websub_state.ne(ACTIVE)),
    )
    .set(feeds::websub_state.eq(REQUESTED))
    .execute(conn)?;
    diesel::update(feeds::table.find(feed_id))
        .set((
            feeds::websub_requested_at.eq(at),
            feeds::websub_error.eq(None::<String>),
        ))
        .execute(conn)?;
    Ok(true)
}

/// The hub refused or could not be reached: tried again a day later. Recorded only by
/// the claim holding `token` (`false` otherwise); call it in a transaction.
pub fn mark_failed(
    conn: &mut AnyConnection,
    feed_id: &FeedId,
    token: &str,
    message: &str,
    at: NaiveDateTime,
) -> QueryResult<bool> {
    if !release(conn, feed_id, token)? {
        return Ok(false);
    }
    diesel::update(feeds::table.find(feed_id))
        .set((
            feeds::websub_state.eq(FAILED),
            feeds::websub_requested_at.eq(at),
            feeds::websub_error.eq(message),
        ))
        .execute(conn)?;
    Ok(true)
}

/// The hub's verification of intent (§5.3), answered yes only for the topic we asked
/// for, while we want it. Returns whether to echo the challenge.
pub fn confirm(
    conn: &mut AnyConnection,
    feed_id: &FeedId,
    topic: &str,
    lease_seconds: Option<i64>,
    now: NaiveDateTime,
) -> QueryResult<bool> {
    let lease = lease_seconds
        .filter(|s| *s > 0)
        .unwrap_or(super::LEASE_SECONDS)
        .min(super::LEASE_SECONDS * 10);
    let confirmed = diesel::update(
        feeds::table
            .find(feed_id)
            .filter(feeds::websub_topic.eq(topic))
            .filter(feeds::websub_state.eq_any([REQUESTED, ACTIVE])),
    )
    .set((
        feeds::websub_state.eq(ACTIVE),
        feeds::websub_lease_until.eq(now + chrono::Duration::seconds(lease)),
        feeds::websub_error.eq(None::<String>),
    ))
    .execute(conn)?;
    Ok(confirmed == 1)
}

/// The hub refused the subscription (§5.2): keep the reason for the feed's page.
pub fn denied(
    conn: &mut AnyConnection,
    feed_id: &FeedId,
    topic: &str,
    reason: &str,
    now: NaiveDateTime,
) -> QueryResult<bool> {
    let message = format!("the hub denied the subscription: {reason}");
    let changed = diesel::update(
        feeds::table
            .find(feed_id)
            .filter(feeds::websub_topic.eq(topic)),
    )
    .set((
        feeds::websub_state.eq(FAILED),
        feeds::websub_requested_at.eq(now),
        feeds::websub_error.eq(message),
    ))
    .execute(conn)?;
    Ok(changed == 1)
}

/// The secret pushes for this feed must be signed with, and the topic's URL, while the
/// subscription is verified (or being renewed).
pub fn push_secret(
    conn: &mut AnyConnection,
    feed_id: &FeedId,
) -> QueryResult<Option<(String, String)>> {
    feeds::table
        .find(feed_id)
        .filter(feeds::websub_state.eq_any([ACTIVE, REQUESTED]))
        .select((
            feeds::websub_secret.assume_not_null(),
            feeds::websub_topic.assume_not_null(),
        ))
        .filter(feeds::websub_secret.is_not_null())
        .first(conn)
        .optional()
}

fn new_secret() -> String {
    crate::signing::random_hex(32)
}
