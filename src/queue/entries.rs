//! The queue's rows: which captions are queued, in what order, pinned or skipped.
//!
//! Every function takes the account first and touches only its captions; another
//! account's caption id is "not found".

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::accounts::UserId;
use crate::db::schema::{captions, posts, queue_entries, subscriptions};
use crate::db::{now, AnyConnection};
use crate::desk::CaptionId;
use crate::subscriptions::SubscriptionId;

/// How a feed's new captions reach the queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QueueMode {
    /// Not at all: the desk only.
    Off,
    /// Each waits for the subscriber's approval (on the queue page or from a digest).
    Review,
    /// Each joins the queue as soon as it is made.
    Auto,
}

impl QueueMode {
    pub fn as_str(self) -> &'static str {
        match self {
            QueueMode::Off => "off",
            QueueMode::Review => "review",
            QueueMode::Auto => "auto",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        match value.trim() {
            "off" => Some(QueueMode::Off),
            "review" => Some(QueueMode::Review),
            "auto" => Some(QueueMode::Auto),
            _ => None,
        }
    }
}

pub const QUEUED: &str = "queued";
pub const SKIPPED: &str = "skipped";
/// Asked to be asked again later (from a digest): back in review once `due_at` passes.
pub const SNOOZED: &str = "snoozed";

/// A caption of the queue (or waiting to join it), as the queue page lists it.
#[derive(Debug, Clone, Queryable)]
pub struct QueueItem {
    pub caption_id: CaptionId,
    pub platform: String,
    pub text: String,
    pub post_title: String,
    pub post_url: Option<String>,
    /// `None` for a caption waiting for review.
    pub rank: Option<i64>,
    /// Set by "post now".
    pub due_at: Option<NaiveDateTime>,
}

/// Sets a feed's queue mode; captions made from now on follow it. `false` when the
/// subscription is not the account's.
pub fn set_mode(
    conn: &mut AnyConnection,
    user: &UserId,
    subscription_id: &SubscriptionId,
    mode: QueueMode,
) -> QueryResult<bool> {
    let changed = diesel::update(
        subscriptions::table
            .filter(subscriptions::user_id.eq(user.as_str()))
            .filter(subscriptions::id.eq(subscription_id)),
    )
    .set((
        subscriptions::queue_mode.eq(mode.as_str()),
        subscriptions::queue_since.eq(Some(now())),
    ))
    .execute(conn)?;
    Ok(changed == 1)
}

/// The account's feeds with their queue modes: (subscription id, feed title or address,
/// mode).
pub fn modes(
    conn: &mut AnyConnection,
    user: &UserId,
) -> QueryResult<Vec<(String, String, QueueMode)>> {
    use crate::db::schema::feeds;
    let rows: Vec<(String, Option<String>, String, String)> = subscriptions::table
        .inner_join(feeds::table)
        .filter(subscriptions::user_id.eq(user.as_str()))
        .order(subscriptions::created_at.asc())
        .select((
            subscriptions::id,
            feeds::title,
            feeds::url,
            subscriptions::queue_mode,
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(id, title, url, mode)| {
            let name = title.filter(|t| !t.trim().is_empty()).unwrap_or(url);
            (id, name, QueueMode::parse(&mode).unwrap_or(QueueMode::Off))
        })
        .collect())
}

/// Captions of the account's feeds in `mode`, made since the mode was set, not posted,
/// with text, and not in the queue yet.
fn not_yet_queued(
    conn: &mut AnyConnection,
    user: &UserId,
    mode: QueueMode,
) -> QueryResult<Vec<(QueueItem, NaiveDateTime)>> {
    let rows: Vec<(
        CaptionId,
        String,
        String,
        String,
        Option<String>,
        NaiveDateTime,
    )> = captions::table
        .inner_join(subscriptions::table)
        .inner_join(posts::table)
        .left_join(queue_entries::table)
        .filter(captions::user_id.eq(user.as_str()))
        .filter(subscriptions::queue_mode.eq(mode.as_str()))
        .filter(subscriptions::queue_since.is_not_null())
        .filter(
            captions::created_at
                .nullable()
                .ge(subscriptions::queue_since),
        )
        .filter(captions::status.eq("new"))
        .filter(captions::error.is_null())
        .filter(captions::body.ne(""))
        .filter(queue_entries::caption_id.nullable().is_null())
        .order((captions::created_at.asc(), captions::id.asc()))
        .select((
            captions::id,
            captions::platform,
            captions::body,
            posts::title,
            posts::url,
            captions::created_at,
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(
            |(caption_id, platform, text, post_title, post_url, created)| {
                (
                    QueueItem {
                        caption_id,
                        platform,
                        text,
                        post_title,
                        post_url,
                        rank: None,
                        due_at: None,
                    },
                    created,
                )
            },
        )
        .collect())
}

/// A new entry's rank: its caption's creation time in microseconds, so captions queue
/// in the order they were made and a later approval of an older caption keeps its place.
fn rank_of(created: NaiveDateTime) -> i64 {
    created.and_utc().timestamp_micros()
}

fn insert_entry(
    conn: &mut AnyConnection,
    user: &UserId,
    caption_id: &CaptionId,
    platform: &str,
    state: &str,
    rank: i64,
) -> QueryResult<usize> {
    crate::insert_or_ignore!(
        conn,
        queue_entries::table,
        (
            queue_entries::caption_id.eq(caption_id),
            queue_entries::user_id.eq(user.as_str()),
            queue_entries::platform.eq(platform),
            queue_entries::state.eq(state),
            queue_entries::rank.eq(rank),
            queue_entries::created_at.eq(now()),
            queue_entries::decided_at.eq(Some(now())),
        )
    )
}

/// Puts the new captions of the "auto" subscriptions of these feeds in the queue, for every
/// account following them (feature-level: for the poller, right after it writes captions).
pub fn admit_for_feeds(conn: &mut AnyConnection, feed_ids: &[&str]) -> QueryResult<usize> {
    if feed_ids.is_empty() {
        return Ok(0);
    }
    let accounts: Vec<String> = subscriptions::table
        .filter(subscriptions::feed_id.eq_any(feed_ids))
        .filter(subscriptions::queue_mode.eq(QueueMode::Auto.as_str()))
        .select(subscriptions::user_id)
        .distinct()
        .load(conn)?;
    let mut admitted = 0;
    for account in accounts {
        admitted += admit(conn, &UserId(account))?;
    }
    Ok(admitted)
}

/// Puts the new captions of the account's "auto" feeds in the queue; idempotent (a caption
/// is queued once, whichever replica gets there first). The number queued now.
pub fn admit(conn: &mut AnyConnection, user: &UserId) -> QueryResult<usize> {
    let mut admitted = 0;
    for (item, created) in not_yet_queued(conn, user, QueueMode::Auto)? {
        admitted += insert_entry(
            conn,
            user,
            &item.caption_id,
            &item.platform,
            QUEUED,
            rank_of(created),
        )?;
    }
    Ok(admitted)
}

/// Captions of "review" feeds waiting for the subscriber's word.
pub fn waiting_for_review(conn: &mut AnyConnection, user: &UserId) -> QueryResult<Vec<QueueItem>> {
    Ok(not_yet_queued(conn, user, QueueMode::Review)?
        .into_iter()
        .map(|(item, _)| item)
        .collect())
}

/// The account's queued captions not posted yet, per platform: pinned ones first (by
/// their time), then in rank order.
pub fn queued(conn: &mut AnyConnection, user: &UserId) -> QueryResult<Vec<QueueItem>> {
    let mut rows: Vec<QueueItem> = queue_entries::table
        .inner_join(captions::table.inner_join(posts::table))
        .filter(queue_entries::user_id.eq(user.as_str()))
        .filter(queue_entries::state.eq(QUEUED))
        .filter(captions::status.eq("new"))
        .order((queue_entries::platform.asc(), queue_entries::rank.asc()))
        .select((
            captions::id,
            captions::platform,
            captions::body,
            posts::title,
            posts::url,
            queue_entries::rank.nullable(),
            queue_entries::due_at,
        ))
        .load(conn)?;
    // Stable: within a platform, pinned by time, then the rest in rank order.
    rows.sort_by(|a, b| {
        a.platform
            .cmp(&b.platform)
            .then_with(|| match (a.due_at, b.due_at) {
                (Some(x), Some(y)) => x.cmp(&y),
                (Some(_), None) => std::cmp::Ordering::Less,
                (None, Some(_)) => std::cmp::Ordering::Greater,
                (None, None) => std::cmp::Ordering::Equal,
            })
    });
    Ok(rows)
}

/// The caption's platform and creation time, if it is the account's.
fn own_caption(
    conn: &mut AnyConnection,
    user: &UserId,
    caption_id: &CaptionId,
) -> QueryResult<Option<(String, NaiveDateTime)>> {
    captions::table
        .filter(captions::user_id.eq(user.as_str()))
        .filter(captions::id.eq(caption_id))
        .select((captions::platform, captions::created_at))
        .first(conn)
        .optional()
}

fn set_state(
    conn: &mut AnyConnection,
    user: &UserId,
    caption_id: &CaptionId,
    state: &str,
) -> QueryResult<bool> {
    set_state_until(conn, user, caption_id, state, None)
}

fn set_state_until(
    conn: &mut AnyConnection,
    user: &UserId,
    caption_id: &CaptionId,
    state: &str,
    due_at: Option<NaiveDateTime>,
) -> QueryResult<bool> {
    conn.transaction(|conn| {
        let Some((platform, created)) = own_caption(conn, user, caption_id)? else {
            return Ok(false);
        };
        if insert_entry(conn, user, caption_id, &platform, state, rank_of(created))? == 0 {
            diesel::update(
                queue_entries::table
                    .filter(queue_entries::user_id.eq(user.as_str()))
                    .filter(queue_entries::caption_id.eq(caption_id)),
            )
            .set((
                queue_entries::state.eq(state),
                queue_entries::due_at.eq(due_at),
                queue_entries::decided_at.eq(Some(now())),
            ))
            .execute(conn)?;
        } else if due_at.is_some() {
            diesel::update(queue_entries::table.filter(queue_entries::caption_id.eq(caption_id)))
                .set(queue_entries::due_at.eq(due_at))
                .execute(conn)?;
        }
        Ok(true)
    })
}

/// Puts one of the account's captions in the queue (approved). `false`: not the account's.
pub fn approve(
    conn: &mut AnyConnection,
    user: &UserId,
    caption_id: &CaptionId,
) -> QueryResult<bool> {
    set_state(conn, user, caption_id, QUEUED)
}

/// Takes one of the account's captions out of the queue; it stays on the desk.
pub fn skip(conn: &mut AnyConnection, user: &UserId, caption_id: &CaptionId) -> QueryResult<bool> {
    set_state(conn, user, caption_id, SKIPPED)
}

/// Asks for the caption's review again once `until` has passed.
pub fn snooze(
    conn: &mut AnyConnection,
    user: &UserId,
    caption_id: &CaptionId,
    until: NaiveDateTime,
) -> QueryResult<bool> {
    set_state_until(conn, user, caption_id, SNOOZED, Some(until))
}

/// The account a caption belongs to: a signed digest link names only the caption.
pub fn owner_of_caption(
    conn: &mut AnyConnection,
    caption_id: &CaptionId,
) -> QueryResult<Option<UserId>> {
    Ok(captions::table
        .filter(captions::id.eq(caption_id))
        .select(captions::user_id)
        .first::<String>(conn)
        .optional()?
        .map(UserId))
}

/// What was already decided for one of the account's captions, if anything: `queued`,
/// `skipped`, `snoozed` (while the snooze lasts) or `posted`.
pub fn decision(
    conn: &mut AnyConnection,
    user: &UserId,
    caption_id: &CaptionId,
) -> QueryResult<Option<&'static str>> {
    let posted: Option<String> = captions::table
        .filter(captions::user_id.eq(user.as_str()))
        .filter(captions::id.eq(caption_id))
        .select(captions::status)
        .first(conn)
        .optional()?;
    if posted.as_deref() == Some("posted") {
        return Ok(Some("posted"));
    }
    let entry: Option<(String, Option<NaiveDateTime>)> = queue_entries::table
        .filter(queue_entries::user_id.eq(user.as_str()))
        .filter(queue_entries::caption_id.eq(caption_id))
        .select((queue_entries::state, queue_entries::due_at))
        .first(conn)
        .optional()?;
    Ok(match entry {
        Some((state, _)) if state == QUEUED => Some(QUEUED),
        Some((state, _)) if state == SKIPPED => Some(SKIPPED),
        Some((state, Some(until))) if state == SNOOZED && until > now() => Some(SNOOZED),
        _ => None,
    })
}

/// When the caption's queue entry was last decided on (queued, skipped, snoozed); `None`
/// for a caption not in the queue, or decided before this was recorded.
pub fn decided_at(
    conn: &mut AnyConnection,
    user: &UserId,
    caption_id: &CaptionId,
) -> QueryResult<Option<NaiveDateTime>> {
    Ok(queue_entries::table
        .filter(queue_entries::user_id.eq(user.as_str()))
        .filter(queue_entries::caption_id.eq(caption_id))
        .select(queue_entries::decided_at)
        .first::<Option<NaiveDateTime>>(conn)
        .optional()?
        .flatten())
}

/// Pins a queued caption to now: it goes before every other of its platform.
pub fn post_now(
    conn: &mut AnyConnection,
    user: &UserId,
    caption_id: &CaptionId,
) -> QueryResult<bool> {
    let changed = diesel::update(
        queue_entries::table
            .filter(queue_entries::user_id.eq(user.as_str()))
            .filter(queue_entries::caption_id.eq(caption_id))
            .filter(queue_entries::state.eq(QUEUED)),
    )
    .set(queue_entries::due_at.eq(Some(now())))
    .execute(conn)?;
    Ok(changed == 1)
}

/// Swaps a queued caption with the one before it on its platform. `false`: not a queued
/// caption of the account; moving the first one up changes nothing.
pub fn move_up(
    conn: &mut AnyConnection,
    user: &UserId,
    caption_id: &CaptionId,
) -> QueryResult<bool> {
    conn.transaction(|conn| {
        let mine: Option<(String, i64)> = queue_entries::table
            .filter(queue_entries::user_id.eq(user.as_str()))
            .filter(queue_entries::caption_id.eq(caption_id))
            .filter(queue_entries::state.eq(QUEUED))
            .select((queue_entries::platform, queue_entries::rank))
            .first(conn)
            .optional()?;
        let Some((platform, rank)) = mine else {
            return Ok(false);
        };
        let before: Option<(String, i64)> = queue_entries::table
            .inner_join(captions::table)
            .filter(queue_entries::user_id.eq(user.as_str()))
            .filter(queue_entries::platform.eq(&platform))
            .filter(queue_entries::state.eq(QUEUED))
            .filter(queue_entries::due_at.is_null())
            .filter(captions::status.eq("new"))
            .filter(queue_entries::rank.le(rank))
            .filter(queue_entries::caption_id.ne(caption_id))
            .order((queue_entries::rank.desc(), queue_entries::caption_id.desc()))
            .select((queue_entries::caption_id, queue_entries::rank))
            .first(conn)
            .optional()?;
        if let Some((other, other_rank)) = before {
            // Equal ranks (captions made in the same microsecond) still change places.
            let (mine_new, other_new) = if other_rank == rank {
                (rank - 1, rank)
            } else {
                (other_rank, rank)
            };
            diesel::update(queue_entries::table.filter(queue_entries::caption_id.eq(caption_id)))
                .set(queue_entries::rank.eq(mine_new))
                .execute(conn)?;
            diesel::update(queue_entries::table.filter(queue_entries::caption_id.eq(&other)))
                .set(queue_entries::rank.eq(other_new))
                .execute(conn)?;
        }
        Ok(true)
    })
}

/// When the account's captions of `platform` were posted since `since`: they count
/// against the plan's daily maximum and spacing.
pub fn posted_since(
    conn: &mut AnyConnection,
    user: &UserId,
    platform: &str,
    since: NaiveDateTime,
) -> QueryResult<Vec<NaiveDateTime>> {
    captions::table
        .filter(captions::user_id.eq(user.as_str()))
        .filter(captions::platform.eq(platform))
        .filter(captions::status.eq("posted"))
        .filter(captions::posted_at.ge(since))
        .select(captions::posted_at.assume_not_null())
        .load(conn)
}
