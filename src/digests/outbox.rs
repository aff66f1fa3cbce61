//! The outbox: digests are chosen (one transaction), then claimed, sent and marked.
//!
//! Choosing a digest claims the account's period with a conditional `UPDATE` of
//! `digest_settings.last_period_at`, then ties every caption not yet carried to the new
//! digest in `digest_captions`, whose key is the caption: a caption is carried by one
//! digest only, and every caption made while digests are on is carried by the next one.
//! Sending claims a digest with the jobs' lease (a token, `SKIP LOCKED` on PostgreSQL);
//! only the claim holding it marks it. A crash between sending and marking lets the lease
//! expire and the same digest (same Message-ID) goes again.

use chrono::NaiveDateTime;
use diesel::dsl::{exists, not, Asc, Desc};
use diesel::prelude::*;

use super::schedule::latest_period;
use super::settings::{frequency_id, platforms_from_stored, DigestContents, DigestSettingsRow};
use super::DigestError;
use crate::accounts::UserId;
use crate::captions::Platform;
use crate::db::schema::{
    captions, digest_captions, digest_queue_captions, digest_settings, digests, feeds, posts, users,
};
use crate::db::{new_id, AnyConnection};
use crate::desk::CaptionId;
use crate::jobs::lease::{self, Queue};

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = digests)]
pub struct Digest {
    pub id: String,
    pub user_id: String,
    pub period_key: String,
    pub recipient: String,
    pub message_id: String,
    pub created_at: NaiveDateTime,
    pub attempts: i32,
    pub next_attempt_at: NaiveDateTime,
    pub lease_until: Option<NaiveDateTime>,
    pub last_error: Option<String>,
    pub sent_at: Option<NaiveDateTime>,
    /// The token of the claim that leases it, if any.
    pub lease_token: Option<String>,
}

/// One caption as the digest shows it.
#[derive(Debug, Clone, Queryable)]
pub struct DigestCaption {
    pub post_id: String,
    pub post_title: String,
    pub post_url: Option<String>,
    pub feed_title: Option<String>,
    pub feed_url: String,
    pub platform: String,
    pub variant: String,
    pub body: String,
    pub length: i32,
    pub char_limit: i32,
    pub caption_id: CaptionId,
}

/// The columns of a [`DigestCaption`], in its order.
type DigestCaptionColumns = (
    posts::id,
    posts::title,
    posts::url,
    feeds::title,
    feeds::url,
    captions::platform,
    captions::variant,
    captions::body,
    captions::length,
    captions::char_limit,
    captions::id,
);
const DIGEST_CAPTION: DigestCaptionColumns = (
    posts::id,
    posts::title,
    posts::url,
    feeds::title,
    feeds::url,
    captions::platform,
    captions::variant,
    captions::body,
    captions::length,
    captions::char_limit,
    captions::id,
);

/// Newest post first, its captions by platform and variant: the same order for a digest
/// and a test digest.
type DigestOrder = (
    Desc<posts::published_at>,
    Desc<posts::first_seen_at>,
    Asc<posts::id>,
    Asc<captions::platform>,
    Asc<captions::variant>,
);

fn digest_order() -> DigestOrder {
    (
        posts::published_at.desc(),
        posts::first_seen_at.desc(),
        posts::id.asc(),
        captions::platform.asc(),
        captions::variant.asc(),
    )
}

/// The captions the next digest carries: made since `since`, of the chosen platforms (the
/// others are never carried, so they stay "not served" and templates may still rewrite
/// them), not carried before.
fn pending_captions(
    conn: &mut AnyConnection,
    user_id: &str,
    since: NaiveDateTime,
    platforms: &[Platform],
) -> QueryResult<Vec<CaptionId>> {
    let ids: Vec<&str> = platforms.iter().map(|p| p.id()).collect();
    captions::table
        .filter(captions::user_id.eq(user_id))
        .filter(captions::platform.eq_any(ids))
        .filter(captions::created_at.ge(since))
        // A caption whose template failed has no text to mail; its error is on the pages.
        .filter(captions::error.is_null())
        .filter(not(exists(
            digest_captions::table.filter(digest_captions::caption_id.eq(captions::id)),
        )))
        .order((captions::created_at.asc(), captions::id.asc()))
        .select(captions::id)
        .load(conn)
}

/// What the next digest would carry.
enum Carried {
    /// New captions, by id.
    New(Vec<CaptionId>),
    /// Today's queue: caption ids with their times.
    Queue(Vec<(CaptionId, chrono::DateTime<chrono::Utc>)>),
}

impl Carried {
    fn is_empty(&self) -> bool {
        match self {
            Carried::New(ids) => ids.is_empty(),
            Carried::Queue(timed) => timed.is_empty(),
        }
    }

    fn ids(&self) -> Vec<&CaptionId> {
        match self {
            Carried::New(ids) => ids.iter().collect(),
            Carried::Queue(timed) => timed.iter().map(|(id, _)| id).collect(),
        }
    }
}

/// The captions the account's next digest carries, as its settings say.
fn carried(
    conn: &mut AnyConnection,
    row: &DigestSettingsRow,
    platforms: &[Platform],
    at: NaiveDateTime,
) -> QueryResult<Carried> {
    match row.contents() {
        DigestContents::NewCaptions => Ok(Carried::New(pending_captions(
            conn,
            &row.user_id,
            row.enabled_at,
            platforms,
        )?)),
        DigestContents::TodaysQueue => {
            let user = UserId(row.user_id.clone());
            // The new captions of "join at once" feeds are in today's queue already.
            crate::queue::entries::admit(conn, &user)?;
            let zone = row.prefs().time_zone;
            Ok(Carried::Queue(crate::queue::todays_queue(
                conn,
                &user,
                platforms,
                zone,
                at.and_utc(),
            )?))
        }
    }
}

/// For one account whose digests are on: when a new period has begun and captions are
/// waiting, puts a digest in the outbox and returns its id. Call inside a transaction.
pub fn close_period(
    conn: &mut AnyConnection,
    row: &DigestSettingsRow,
    at: NaiveDateTime,
    message_host: &str,
) -> Result<Option<String>, DigestError> {
    let prefs = row.prefs();
    let platforms = platforms_from_stored(&row.platforms);
    let Some(period) = latest_period(prefs.frequency, prefs.time_zone, at.and_utc()) else {
        return Ok(None);
    };
    let period = period.naive_utc();
    if period <= row.last_period_at {
        return Ok(None);
    }
    let waiting = !carried(conn, row, &platforms, at)?.is_empty();
    if !waiting && !prefs.frequency.is_calendar() {
        // A batched period with nothing in it stays open: the next caption goes out at once.
        return Ok(None);
    }
    // The claim: of two workers closing the same period, exactly one changes the row.
    let won = diesel::update(
        digest_settings::table
            .find(&row.user_id)
            .filter(digest_settings::last_period_at.lt(period))
            .filter(digest_settings::frequency.eq(frequency_id(prefs.frequency))),
    )
    .set(digest_settings::last_period_at.eq(period))
    .execute(conn)?;
    if won == 0 || !waiting {
        return Ok(None);
    }
    // Read again after the claim: on PostgreSQL this sees what committed meanwhile.
    let carried = carried(conn, row, &platforms, at)?;
    if carried.is_empty() {
        return Ok(None);
    }
    let (recipient, verified): (String, Option<NaiveDateTime>) = users::table
        .find(&row.user_id)
        .select((users::email, users::email_verified_at))
        .first(conn)?;
    if verified.is_none() {
        // The period is claimed but the captions stay waiting: they go in the first
        // digest after the address is confirmed.
        return Ok(None);
    }
    let id = new_id();
    let period_key = format!(
        "{}:{}",
        frequency_id(prefs.frequency),
        period.and_utc().to_rfc3339()
    );
    let inserted = crate::insert_or_ignore!(
        conn,
        digests::table,
        (
            digests::id.eq(&id),
            digests::user_id.eq(&row.user_id),
            digests::period_key.eq(&period_key),
            digests::recipient.eq(&recipient),
            digests::message_id.eq(format!("<digest-{id}@{message_host}>")),
            digests::created_at.eq(at),
            digests::attempts.eq(0),
            digests::next_attempt_at.eq(at),
        )
    )?;
    if inserted == 0 {
        return Ok(None);
    }
    match &carried {
        // A plain insert, not "or ignore": a caption already carried would be a bug, and
        // the error rolls the whole digest back rather than mailing that caption twice.
        Carried::New(caption_ids) => {
            for caption_id in caption_ids {
                diesel::insert_into(digest_captions::table)
                    .values((
                        digest_captions::caption_id.eq(caption_id),
                        digest_captions::digest_id.eq(&id),
                    ))
                    .execute(conn)?;
            }
        }
        Carried::Queue(timed) => {
            for (caption_id, scheduled_at) in timed {
                diesel::insert_into(digest_queue_captions::table)
                    .values((
                        digest_queue_captions::digest_id.eq(&id),
                        digest_queue_captions::caption_id.eq(caption_id),
                        digest_queue_captions::scheduled_at.eq(scheduled_at.naive_utc()),
                    ))
                    .execute(conn)?;
            }
        }
    }
    crate::desk::served::mark(conn, &carried.ids(), at)?;
    Ok(Some(id))
}

/// The digests waiting to be sent, as the shared lease claims them.
const QUEUE: Queue = Queue {
    table: "digests",
    key: "id",
    pending: "j.sent_at IS NULL",
};

/// Claims up to `limit` unsent digests whose next attempt is due, leasing each until
/// `lease_until` under a new token (each returned digest carries it).
pub fn claim_due(
    conn: &mut AnyConnection,
    at: NaiveDateTime,
    lease_until: NaiveDateTime,
    limit: i64,
) -> QueryResult<Vec<Digest>> {
    let claim = lease::claim(conn, &QUEUE, at, lease_until, limit)?;
    if claim.won == 0 {
        return Ok(Vec::new());
    }
    digests::table
        .filter(digests::lease_token.eq(&claim.token))
        .order((digests::next_attempt_at.asc(), digests::id.asc()))
        .select(Digest::as_select())
        .load(conn)
}

/// The captions a digest carries, by post, platforms in a stable order.
pub fn contents(conn: &mut AnyConnection, digest_id: &str) -> QueryResult<Vec<DigestCaption>> {
    digest_captions::table
        .inner_join(captions::table.inner_join(posts::table.inner_join(feeds::table)))
        .filter(digest_captions::digest_id.eq(digest_id))
        .order(digest_order())
        .select(DIGEST_CAPTION)
        .load(conn)
}

/// The captions a "today's queue" digest carries, each with its time then; empty for a
/// digest of new captions.
pub fn queue_contents(
    conn: &mut AnyConnection,
    digest_id: &str,
) -> QueryResult<Vec<(DigestCaption, NaiveDateTime)>> {
    digest_queue_captions::table
        .inner_join(captions::table.inner_join(posts::table.inner_join(feeds::table)))
        .filter(digest_queue_captions::digest_id.eq(digest_id))
        .order((
            digest_queue_captions::scheduled_at.asc(),
            captions::id.asc(),
        ))
        .select((DIGEST_CAPTION, digest_queue_captions::scheduled_at))
        .load(conn)
}

/// The captions `timed` names (a caption id and the time it goes out), each with that
/// time, in `timed`'s order; a caption deleted since is left out.
pub fn captions_at(
    conn: &mut AnyConnection,
    timed: &[(CaptionId, chrono::DateTime<chrono::Utc>)],
) -> QueryResult<Vec<(DigestCaption, NaiveDateTime)>> {
    let ids: Vec<&CaptionId> = timed.iter().map(|(id, _)| id).collect();
    let mut found: std::collections::HashMap<CaptionId, DigestCaption> = captions::table
        .inner_join(posts::table.inner_join(feeds::table))
        .filter(captions::id.eq_any(ids))
        .select(DIGEST_CAPTION)
        .load::<DigestCaption>(conn)?
        .into_iter()
        .map(|c| (c.caption_id.clone(), c))
        .collect();
    Ok(timed
        .iter()
        .filter_map(|(id, at)| found.remove(id).map(|c| (c, at.naive_utc())))
        .collect())
}

/// What a test digest shows: the captions of the account's `posts` newest posts, of the
/// chosen platforms, whether or not a digest carried them (nothing is recorded).
pub fn latest_for_account(
    conn: &mut AnyConnection,
    user_id: &str,
    platforms: &[Platform],
    posts_shown: i64,
) -> QueryResult<Vec<DigestCaption>> {
    let ids: Vec<&str> = platforms.iter().map(|p| p.id()).collect();
    let newest: Vec<String> = captions::table
        .inner_join(posts::table)
        .filter(captions::user_id.eq(user_id))
        .filter(captions::error.is_null())
        .filter(captions::platform.eq_any(ids.clone()))
        .group_by(posts::id)
        .select(posts::id)
        .order_by((
            diesel::dsl::max(posts::published_at).desc(),
            diesel::dsl::max(posts::first_seen_at).desc(),
            posts::id.asc(),
        ))
        .limit(posts_shown)
        .load(conn)?;
    captions::table
        .inner_join(posts::table.inner_join(feeds::table))
        .filter(captions::user_id.eq(user_id))
        .filter(captions::error.is_null())
        .filter(captions::platform.eq_any(ids))
        .filter(captions::post_id.eq_any(newest))
        .order(digest_order())
        .select(DIGEST_CAPTION)
        .load(conn)
}

/// Marks the digest sent, if the claim it was sent under still holds its lease; false
/// when another claim took it over (the lease had run out) and will mark it itself.
pub fn mark_sent(
    conn: &mut AnyConnection,
    digest: &Digest,
    at: NaiveDateTime,
) -> QueryResult<bool> {
    record_attempt(conn, digest, Some(at), digest.next_attempt_at, None)
}

/// Records a failed attempt and when to try again (the account's settings page shows
/// it), if the claim still holds the digest's lease; false when it does not.
pub fn mark_failed(
    conn: &mut AnyConnection,
    digest: &Digest,
    error: &str,
    retry_at: NaiveDateTime,
) -> QueryResult<bool> {
    record_attempt(conn, digest, None, retry_at, Some(error))
}

/// Ends the claim on `digest` with one more attempt: sent at `sent_at`, or failed with
/// `error` and due again at `next_attempt_at`.
fn record_attempt(
    conn: &mut AnyConnection,
    digest: &Digest,
    sent_at: Option<NaiveDateTime>,
    next_attempt_at: NaiveDateTime,
    error: Option<&str>,
) -> QueryResult<bool> {
    // Only the holder of the claim's token may mark the row.
    let marked = diesel::update(
        digests::table
            .find(&digest.id)
            .filter(digests::lease_token.eq(digest.lease_token.as_deref())),
    )
    .set((
        digests::sent_at.eq(sent_at),
        digests::attempts.eq(digest.attempts + 1),
        digests::next_attempt_at.eq(next_attempt_at),
        digests::lease_until.eq(None::<NaiveDateTime>),
        digests::lease_token.eq(None::<String>),
        digests::last_error.eq(error),
    ))
    .execute(conn)?;
    if marked == 0 {
        return Ok(false);
    }
    super::settings::record_delivery(conn, &digest.user_id, error)?;
    Ok(true)
}

/// The account's digests, newest first (for tests and the settings page).
pub fn list_for_account(conn: &mut AnyConnection, user_id: &str) -> QueryResult<Vec<Digest>> {
    digests::table
        .filter(digests::user_id.eq(user_id))
        .order(digests::created_at.desc())
        .select(Digest::as_select())
        .load(conn)
}
