//! Puts post.created and feed.error events in the outbox, the way [`super::enqueue`] does
//! for captions: a cursor per endpoint and event, moved in the same transaction as the
//! deliveries are inserted, and the outbox's unique key against doubles.
//!
//! - post.created: a post first seen on a feed the account follows (not paused, by the
//!   subscriber or by the plan).
//! - feed.error: a feed the account follows starts failing; one event per run of errors
//!   (its id is the feed and the time the run began), none while it keeps failing.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde_json::json;

use super::endpoints::{Endpoint, FEED_ERROR, POST_CREATED};
use crate::db::schema::{feeds, posts, subscriptions, webhook_deliveries, webhook_endpoints};
use crate::db::{new_id, AnyConnection};

/// Events taken per endpoint and kind per pass; the rest wait for the next pass.
const BATCH: i64 = 200;

fn rfc3339(at: &NaiveDateTime) -> String {
    at.and_utc()
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

fn insert(
    conn: &mut AnyConnection,
    endpoint: &Endpoint,
    event: &str,
    event_id: &str,
    payload: serde_json::Value,
    delivery_id: &str,
    at: NaiveDateTime,
) -> QueryResult<usize> {
    crate::insert_or_ignore!(
        conn,
        webhook_deliveries::table,
        (
            webhook_deliveries::id.eq(delivery_id),
            webhook_deliveries::endpoint_id.eq(&endpoint.id),
            webhook_deliveries::event.eq(event),
            webhook_deliveries::event_id.eq(event_id),
            webhook_deliveries::payload.eq(payload.to_string()),
            webhook_deliveries::created_at.eq(at),
            webhook_deliveries::attempts.eq(0),
            webhook_deliveries::next_attempt_at.eq(at),
        )
    )
}

type PostRow = (
    String,
    String,
    String,
    Option<String>,
    String,
    Option<NaiveDateTime>,
    NaiveDateTime,
    Option<String>,
);

/// Enqueues post.created for the posts past the endpoint's cursor. Call in a transaction.
pub fn enqueue_posts(
    conn: &mut AnyConnection,
    endpoint: &Endpoint,
    at: NaiveDateTime,
) -> QueryResult<usize> {
    if !endpoint.wants(POST_CREATED) {
        return Ok(0);
    }
    let (since, since_id) = (endpoint.last_post_seen_at, endpoint.last_post_id.clone());
    let rows: Vec<PostRow> = posts::table
        .inner_join(subscriptions::table.on(subscriptions::feed_id.eq(posts::feed_id)))
        .inner_join(feeds::table.on(feeds::id.eq(posts::feed_id)))
        .filter(subscriptions::user_id.eq(&endpoint.user_id))
        .filter(subscriptions::paused.eq(false))
        .filter(subscriptions::paused_by_plan.eq(false))
        .filter(
            posts::first_seen_at
                .gt(since)
                .or(posts::first_seen_at.eq(since).and(posts::id.gt(&since_id))),
        )
        .order((posts::first_seen_at.asc(), posts::id.asc()))
        .limit(BATCH)
        .select((
            posts::id,
            posts::feed_id,
            posts::title,
            posts::url,
            posts::summary,
            posts::published_at,
            posts::first_seen_at,
            feeds::title,
        ))
        .load(conn)?;
    let Some(last) = rows.last() else {
        return Ok(0);
    };
    let (last_at, last_id) = (last.6, last.0.clone());
    let mut added = 0;
    for (id, feed_id, title, url, summary, published, seen, feed_title) in &rows {
        let delivery = new_id();
        let payload = json!({
            "event": POST_CREATED,
            "id": delivery,
            "created_at": rfc3339(seen),
            "post": {
                "id": id,
                "feed_id": feed_id,
                "feed_title": feed_title,
                "title": title,
                "url": url,
                "summary": summary,
                "published": published.as_ref().map(rfc3339),
            },
        });
        added += insert(conn, endpoint, POST_CREATED, id, payload, &delivery, at)?;
    }
    // Conditional on the cursor read above, as for captions.
    diesel::update(
        webhook_endpoints::table
            .find(&endpoint.id)
            .filter(webhook_endpoints::last_post_seen_at.eq(since))
            .filter(webhook_endpoints::last_post_id.eq(&since_id)),
    )
    .set((
        webhook_endpoints::last_post_seen_at.eq(last_at),
        webhook_endpoints::last_post_id.eq(last_id),
    ))
    .execute(conn)?;
    Ok(added)
}

type ErrorRow = (
    String,
    String,
    Option<String>,
    NaiveDateTime,
    Option<String>,
    Option<i32>,
);

/// Enqueues feed.error for the feeds that began failing past the endpoint's cursor.
/// Call in a transaction.
pub fn enqueue_feed_errors(
    conn: &mut AnyConnection,
    endpoint: &Endpoint,
    at: NaiveDateTime,
) -> QueryResult<usize> {
    if !endpoint.wants(FEED_ERROR) {
        return Ok(0);
    }
    let (since, since_id) = (
        endpoint.last_feed_error_at,
        endpoint.last_feed_error_id.clone(),
    );
    let rows: Vec<ErrorRow> = feeds::table
        .inner_join(subscriptions::table.on(subscriptions::feed_id.eq(feeds::id)))
        .filter(subscriptions::user_id.eq(&endpoint.user_id))
        .filter(subscriptions::paused.eq(false))
        .filter(subscriptions::paused_by_plan.eq(false))
        .filter(feeds::erroring_since.is_not_null())
        .filter(
            feeds::erroring_since
                .assume_not_null()
                .gt(since)
                .or(feeds::erroring_since
                    .assume_not_null()
                    .eq(since)
                    .and(feeds::id.gt(&since_id))),
        )
        .order((feeds::erroring_since.asc(), feeds::id.asc()))
        .limit(BATCH)
        .select((
            feeds::id,
            feeds::url,
            feeds::title,
            feeds::erroring_since.assume_not_null(),
            feeds::last_error,
            feeds::last_status,
        ))
        .load(conn)?;
    let Some(last) = rows.last() else {
        return Ok(0);
    };
    let (last_at, last_id) = (last.3, last.0.clone());
    let mut added = 0;
    for (id, url, title, since_when, message, status) in &rows {
        let delivery = new_id();
        // Microseconds: two runs of errors within one second are still two events.
        let event_id = format!("{id}:{}", since_when.and_utc().timestamp_micros());
        let payload = json!({
            "event": FEED_ERROR,
            "id": delivery,
            "created_at": rfc3339(since_when),
            "feed": {
                "id": id,
                "url": url,
                "title": title,
                "erroring_since": rfc3339(since_when),
                "error": message,
                "status": status,
            },
        });
        added += insert(
            conn, endpoint, FEED_ERROR, &event_id, payload, &delivery, at,
        )?;
    }
    diesel::update(
        webhook_endpoints::table
            .find(&endpoint.id)
            .filter(webhook_endpoints::last_feed_error_at.eq(since))
            .filter(webhook_endpoints::last_feed_error_id.eq(&since_id)),
    )
    .set((
        webhook_endpoints::last_feed_error_at.eq(last_at),
        webhook_endpoints::last_feed_error_id.eq(last_id),
    ))
    .execute(conn)?;
    Ok(added)
}
