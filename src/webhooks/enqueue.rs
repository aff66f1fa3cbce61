//! Puts caption.created events in the outbox. Each endpoint keeps a cursor (creation
//! time, id) over its account's captions; reading captions past it, inserting their
//! deliveries and moving it happen in one transaction, so a caption is enqueued once
//! per endpoint and none is skipped, without touching caption generation.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde_json::json;

use super::endpoints::{Endpoint, CAPTION_CREATED};
use crate::db::schema::{captions, posts, webhook_deliveries, webhook_endpoints};
use crate::db::{new_id, AnyConnection};
use crate::desk::CaptionId;

/// Captions taken per endpoint per pass; the rest wait for the next pass.
const BATCH: i64 = 200;

type CaptionRow = (
    CaptionId,
    String,
    String,
    String,
    String,
    i32,
    i32,
    NaiveDateTime,
    String,
    Option<String>,
    Option<NaiveDateTime>,
);

/// The endpoints not disabled (for one pass of [`enqueue_endpoint`]).
pub fn active_endpoints(conn: &mut AnyConnection) -> QueryResult<Vec<String>> {
    webhook_endpoints::table
        .filter(webhook_endpoints::disabled_at.is_null())
        .select(webhook_endpoints::id)
        .load(conn)
}

/// Enqueues every event past one endpoint's cursors (captions, posts, feed errors, as
/// it asked); returns how many deliveries were added. Call inside a transaction.
pub fn enqueue_endpoint(
    conn: &mut AnyConnection,
    endpoint_id: &str,
    at: NaiveDateTime,
) -> QueryResult<usize> {
    let Some(endpoint) = webhook_endpoints::table
        .find(endpoint_id)
        .select(Endpoint::as_select())
        .first(conn)
        .optional()?
    else {
        return Ok(0);
    };
    Ok(enqueue_captions(conn, &endpoint, at)?
        + super::events::enqueue_posts(conn, &endpoint, at)?
        + super::events::enqueue_feed_errors(conn, &endpoint, at)?)
}

fn enqueue_captions(
    conn: &mut AnyConnection,
    endpoint: &Endpoint,
    at: NaiveDateTime,
) -> QueryResult<usize> {
    if !endpoint.wants(CAPTION_CREATED) {
        return Ok(0);
    }
    let (since, since_id) = (
        endpoint.last_caption_created_at,
        endpoint.last_caption_id.clone(),
    );
    let rows: Vec<CaptionRow> = captions::table
        .inner_join(posts::table)
        .filter(captions::user_id.eq(&endpoint.user_id))
        // A caption whose template failed has no text to send.
        .filter(captions::error.is_null())
        .filter(
            captions::created_at.gt(since).or(captions::created_at
                .eq(since)
                .and(captions::id.gt(&since_id))),
        )
        .order((captions::created_at.asc(), captions::id.asc()))
        .limit(BATCH)
        .select((
            captions::id,
            captions::subscription_id,
            captions::platform,
            captions::variant,
            captions::body,
            captions::length,
            captions::char_limit,
            captions::created_at,
            posts::title,
            posts::url,
            posts::published_at,
        ))
        .load(conn)?;
    let Some(last) = rows.last() else {
        return Ok(0);
    };
    let (last_at, last_id) = (last.7, last.0.clone());
    // Their text is in the payloads from now on: a later template change must not rewrite it.
    let ids: Vec<&CaptionId> = rows.iter().map(|row| &row.0).collect();
    crate::desk::served::mark(conn, &ids, at)?;
    let mut added = 0;
    for row in &rows {
        let id = new_id();
        let payload = payload(&id, row);
        added += crate::insert_or_ignore!(
            conn,
            webhook_deliveries::table,
            (
                webhook_deliveries::id.eq(&id),
                webhook_deliveries::endpoint_id.eq(&endpoint.id),
                webhook_deliveries::event.eq(CAPTION_CREATED),
                webhook_deliveries::event_id.eq(&row.0),
                webhook_deliveries::payload.eq(payload),
                webhook_deliveries::created_at.eq(at),
                webhook_deliveries::attempts.eq(0),
                webhook_deliveries::next_attempt_at.eq(at),
            )
        )?;
    }
    // Conditional on the cursor read above: a concurrent pass that moved it first wins,
    // and the unique key has already dropped any delivery both of them inserted.
    diesel::update(
        webhook_endpoints::table
            .find(&endpoint.id)
            .filter(webhook_endpoints::last_caption_created_at.eq(since))
            .filter(webhook_endpoints::last_caption_id.eq(&since_id)),
    )
    .set((
        webhook_endpoints::last_caption_created_at.eq(last_at),
        webhook_endpoints::last_caption_id.eq(last_id),
    ))
    .execute(conn)?;
    Ok(added)
}

fn rfc3339(at: &NaiveDateTime) -> String {
    at.and_utc()
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

fn payload(delivery_id: &str, row: &CaptionRow) -> String {
    let (id, feed_id, platform, variant, text, length, limit, created, title, url, published) = row;
    json!({
        "event": CAPTION_CREATED,
        "id": delivery_id,
        "created_at": rfc3339(created),
        "caption": {
            "id": id,
            "feed_id": feed_id,
            "platform": platform,
            "variant": variant,
            "text": text,
            "length": length,
            "limit": limit,
        },
        "post": {
            "title": title,
            "url": url,
            "published": published.as_ref().map(rfc3339),
        },
    })
    .to_string()
}
