//! What publishing did to a queued caption: the claim a publisher holds on it, and the
//! outcome only that claim records (posted with its addresses, to be tried again later,
//! or refused by the network with the reason).
//!
//! A queue entry is claimed with the shared lease ([`crate::jobs::lease`]): one replica
//! at a time sends a caption, and a crashed one's lease expires. Sending twice after such a
//! crash is prevented by the network's own key (Bluesky's record key, Mastodon's
//! `Idempotency-Key`), not here.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::entries::QUEUED;
use crate::accounts::UserId;
use crate::db::schema::{captions, posts, queue_entries};
use crate::db::AnyConnection;
use crate::desk::CaptionId;
use crate::jobs::lease::{self, Queue};

/// A caption the network refused: out of the queue, shown with the reason.
pub const FAILED: &str = "failed";

/// Queue entries waiting to be sent, as the shared lease claims them.
const QUEUE: Queue = Queue {
    table: "queue_entries",
    key: "caption_id",
    pending: "j.state = 'queued'",
};

/// Claims one queued caption until `lease_until`, if it is due to be tried and no live
/// claim holds it. `Some(token)`: this claim won; only it can record the outcome.
pub fn claim(
    conn: &mut AnyConnection,
    caption_id: &CaptionId,
    at: NaiveDateTime,
    lease_until: NaiveDateTime,
) -> QueryResult<Option<String>> {
    lease::claim_one(conn, &QUEUE, caption_id, at, lease_until)
}

type ByCaption<'a> =
    diesel::dsl::Filter<queue_entries::table, diesel::dsl::Eq<queue_entries::caption_id, &'a str>>;
/// The entry, only while the claim `token` holds it.
type Held<'a> =
    diesel::dsl::Filter<ByCaption<'a>, diesel::dsl::Eq<queue_entries::lease_token, &'a str>>;

fn held<'a>(caption_id: &'a str, token: &'a str) -> Held<'a> {
    queue_entries::table
        .filter(queue_entries::caption_id.eq(caption_id))
        .filter(queue_entries::lease_token.eq(token))
}

/// Records the caption as posted at `uri` (the network's address) and `web_url`. `false`
/// when the claim was lost (its lease ran out and another took it over): that one records.
pub fn record_posted(
    conn: &mut AnyConnection,
    caption_id: &CaptionId,
    token: &str,
    uri: &str,
    web_url: &str,
    at: NaiveDateTime,
) -> QueryResult<bool> {
    conn.transaction(|conn| {
        let released = diesel::update(held(caption_id, token))
            .set((
                queue_entries::lease_until.eq(None::<NaiveDateTime>),
                queue_entries::lease_token.eq(None::<String>),
                queue_entries::last_error.eq(None::<String>),
            ))
            .execute(conn)?;
        if released == 0 {
            return Ok(false);
        }
        diesel::update(captions::table.filter(captions::id.eq(caption_id)))
            .set((
                captions::status.eq("posted"),
                captions::posted_at.eq(Some(at)),
                captions::post_uri.eq(Some(uri)),
                captions::post_url.eq(Some(web_url)),
            ))
            .execute(conn)?;
        Ok(true)
    })
}

/// Keeps the network's id of the image a try uploaded, while the claim `token` holds the
/// entry, so a retry attaches it instead of uploading the image again.
pub fn keep_media(
    conn: &mut AnyConnection,
    caption_id: &CaptionId,
    token: &str,
    media_id: &str,
) -> QueryResult<bool> {
    let changed = diesel::update(held(caption_id, token))
        .set(queue_entries::media_id.eq(Some(media_id)))
        .execute(conn)?;
    Ok(changed == 1)
}

/// The image id kept by an earlier try of the caption, if any.
pub fn kept_media(conn: &mut AnyConnection, caption_id: &CaptionId) -> QueryResult<Option<String>> {
    Ok(queue_entries::table
        .filter(queue_entries::caption_id.eq(caption_id))
        .select(queue_entries::media_id)
        .first::<Option<String>>(conn)
        .optional()?
        .flatten())
}

/// Records a failed try to be repeated after `wait`, or after the usual backoff when the
/// network named no time. The caption keeps its place in the queue.
pub fn record_retry(
    conn: &mut AnyConnection,
    caption_id: &CaptionId,
    token: &str,
    error: &str,
    wait: Option<chrono::Duration>,
    at: NaiveDateTime,
) -> QueryResult<bool> {
    conn.transaction(|conn| {
        let attempts: Option<i32> = held(caption_id, token)
            .select(queue_entries::attempts)
            .first(conn)
            .optional()?;
        let Some(attempts) = attempts else {
            return Ok(false);
        };
        let wait = wait.unwrap_or_else(|| crate::jobs::backoff(attempts));
        diesel::update(held(caption_id, token))
            .set((
                queue_entries::attempts.eq(attempts.saturating_add(1)),
                queue_entries::next_attempt_at.eq(at + wait),
                queue_entries::lease_until.eq(None::<NaiveDateTime>),
                queue_entries::lease_token.eq(None::<String>),
                queue_entries::last_error.eq(Some(error)),
            ))
            .execute(conn)?;
        Ok(true)
    })
}

/// Takes a caption the network refused out of the queue, keeping the reason to show.
pub fn record_failed(
    conn: &mut AnyConnection,
    caption_id: &CaptionId,
    token: &str,
    reason: &str,
) -> QueryResult<bool> {
    let changed = diesel::update(held(caption_id, token))
        .set((
            queue_entries::state.eq(FAILED),
            queue_entries::lease_until.eq(None::<NaiveDateTime>),
            queue_entries::lease_token.eq(None::<String>),
            queue_entries::last_error.eq(Some(reason)),
        ))
        .execute(conn)?;
    Ok(changed == 1)
}

/// Puts a caption the network refused back in the queue (after the subscriber edited it,
/// say), to be tried afresh at its next posting time. `false`: not one of the account's
/// refused captions.
pub fn retry(
    conn: &mut AnyConnection,
    user: &UserId,
    caption_id: &CaptionId,
    at: NaiveDateTime,
) -> QueryResult<bool> {
    let changed = diesel::update(
        queue_entries::table
            .filter(queue_entries::user_id.eq(user.as_str()))
            .filter(queue_entries::caption_id.eq(caption_id))
            .filter(queue_entries::state.eq(FAILED)),
    )
    .set((
        queue_entries::state.eq(QUEUED),
        queue_entries::attempts.eq(0),
        queue_entries::next_attempt_at.eq(at),
        queue_entries::last_error.eq(None::<String>),
    ))
    .execute(conn)?;
    Ok(changed == 1)
}

/// Gives the claim back untried (the connection broke): the caption waits, its attempts
/// unchanged, for the subscriber to connect again.
pub fn release(conn: &mut AnyConnection, caption_id: &CaptionId, token: &str) -> QueryResult<bool> {
    let changed = diesel::update(held(caption_id, token))
        .set((
            queue_entries::lease_until.eq(None::<NaiveDateTime>),
            queue_entries::lease_token.eq(None::<String>),
        ))
        .execute(conn)?;
    Ok(changed == 1)
}

/// Where the account's queue starts counting posting times from: its oldest waiting
/// caption's arrival, at most `lookback` before `now`. A posting time missed while no
/// worker ran (or while the network was down) is then still the caption's time, and the
/// caption goes out as soon as it can instead of waiting for the next one.
pub fn schedule_start(
    conn: &mut AnyConnection,
    user: &UserId,
    platform: &str,
    now: NaiveDateTime,
    lookback: chrono::Duration,
) -> QueryResult<NaiveDateTime> {
    let oldest: Option<NaiveDateTime> = queue_entries::table
        .inner_join(captions::table)
        .filter(queue_entries::user_id.eq(user.as_str()))
        .filter(queue_entries::platform.eq(platform))
        .filter(queue_entries::state.eq(QUEUED))
        .filter(captions::status.eq("new"))
        .select(diesel::dsl::min(queue_entries::created_at))
        .first(conn)?;
    Ok(oldest.unwrap_or(now).max(now - lookback).min(now))
}

/// A queued caption whose last try failed and that waits to be tried again.
#[derive(Debug, Clone, Queryable)]
pub struct Waiting {
    pub caption_id: CaptionId,
    pub error: Option<String>,
    pub next_attempt_at: NaiveDateTime,
}

/// The account's queued captions waiting after a failed try.
pub fn waiting_again(conn: &mut AnyConnection, user: &UserId) -> QueryResult<Vec<Waiting>> {
    queue_entries::table
        .filter(queue_entries::user_id.eq(user.as_str()))
        .filter(queue_entries::state.eq(QUEUED))
        .filter(queue_entries::last_error.is_not_null())
        .select((
            queue_entries::caption_id,
            queue_entries::last_error,
            queue_entries::next_attempt_at,
        ))
        .load(conn)
}

/// A caption the network refused.
#[derive(Debug, Clone, Queryable)]
pub struct Failure {
    pub caption_id: CaptionId,
    pub platform: String,
    pub text: String,
    pub post_title: String,
    pub reason: Option<String>,
}

/// The account's refused captions, newest first.
pub fn failures(conn: &mut AnyConnection, user: &UserId) -> QueryResult<Vec<Failure>> {
    queue_entries::table
        .inner_join(captions::table.inner_join(posts::table))
        .filter(queue_entries::user_id.eq(user.as_str()))
        .filter(queue_entries::state.eq(FAILED))
        .order(captions::created_at.desc())
        .select((
            captions::id,
            captions::platform,
            captions::body,
            posts::title,
            queue_entries::last_error,
        ))
        .load(conn)
}
