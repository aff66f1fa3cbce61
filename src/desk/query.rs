//! Listing an account's captions for programs: filters and a stable cursor.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::store::{CaptionId, StoredCaption};
use super::CaptionStatus;
use crate::accounts::UserId;
use crate::db::schema::{captions, feeds, posts, subscriptions};
use crate::db::AnyConnection;
use crate::feeds::store::{Post, PostId};
use crate::subscriptions::SubscriptionId;

/// Which captions to list.
#[derive(Debug, Default, Clone)]
pub struct CaptionFilter {
    /// A subscription id (what the API calls a feed id).
    pub feed: Option<String>,
    pub platform: Option<String>,
    /// Only captions made at or after this time.
    pub since: Option<NaiveDateTime>,
    /// Continue after this caption (newest first): its creation time and id.
    pub after: Option<(NaiveDateTime, String)>,
    /// Leave out captions whose template failed (they have no text).
    pub only_made: bool,
    /// Only captions in this state (new or posted).
    pub status: Option<CaptionStatus>,
}

/// A caption with its post, for the API.
#[derive(Debug, Clone)]
pub struct CaptionWithPost {
    pub caption: StoredCaption,
    pub post_title: String,
    pub post_url: Option<String>,
    pub post_published_at: Option<NaiveDateTime>,
}

/// Up to `limit` of the account's captions, newest first (by creation time, then id, so
/// that a cursor never skips or repeats one made in the same instant).
pub fn list_captions_page(
    conn: &mut AnyConnection,
    user: &UserId,
    filter: &CaptionFilter,
    limit: i64,
) -> QueryResult<Vec<CaptionWithPost>> {
    let mut query = captions::table
        .inner_join(posts::table)
        .filter(captions::user_id.eq(user.as_str()))
        .into_boxed();
    if let Some(feed) = &filter.feed {
        query = query.filter(captions::subscription_id.eq(feed.clone()));
    }
    if let Some(platform) = &filter.platform {
        query = query.filter(captions::platform.eq(platform.clone()));
    }
    if let Some(status) = filter.status {
        query = query.filter(captions::status.eq(status.as_str()));
    }
    if filter.only_made {
        query = query.filter(captions::error.is_null());
    }
    if let Some(since) = filter.since {
        query = query.filter(captions::created_at.ge(since));
    }
    if let Some((at, id)) = &filter.after {
        query = query.filter(
            captions::created_at.lt(*at).or(captions::created_at
                .eq(*at)
                .and(captions::id.lt(id.clone()))),
        );
    }
    let rows: Vec<(StoredCaption, String, Option<String>, Option<NaiveDateTime>)> = query
        .order((captions::created_at.desc(), captions::id.desc()))
        .limit(limit)
        .select((
            StoredCaption::as_select(),
            posts::title,
            posts::url,
            posts::published_at,
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(
            |(caption, post_title, post_url, post_published_at)| CaptionWithPost {
                caption,
                post_title,
                post_url,
                post_published_at,
            },
        )
        .collect())
}

/// [`list_captions_page`] for a reader outside the desk (the API, a caption feed, a CSV
/// export): the first `serve` of the listed captions are stamped as served, since their
/// text now leaves the desk (the rest, if any, only tell whether another page exists).
pub fn serve_captions_page(
    conn: &mut AnyConnection,
    user: &UserId,
    filter: &CaptionFilter,
    limit: i64,
    serve: usize,
) -> QueryResult<Vec<CaptionWithPost>> {
    let rows = list_captions_page(conn, user, filter, limit)?;
    let ids: Vec<&CaptionId> = rows.iter().take(serve).map(|r| &r.caption.id).collect();
    super::served::mark(conn, &ids, crate::db::now())?;
    Ok(rows)
}

/// A post of one of the account's feeds, with the id of the account's subscription to it.
#[derive(Debug, Clone)]
pub struct AccountPost {
    pub post: Post,
    pub subscription_id: SubscriptionId,
}

/// Up to `limit` posts of the account's feeds, newest first (by when they were first seen,
/// then id, for a cursor that never skips one); optionally of one subscription.
pub fn list_posts_page(
    conn: &mut AnyConnection,
    user: &UserId,
    subscription_id: Option<&SubscriptionId>,
    after: Option<&(NaiveDateTime, String)>,
    limit: i64,
) -> QueryResult<Vec<AccountPost>> {
    let mut query = posts::table
        .inner_join(feeds::table.inner_join(subscriptions::table))
        .filter(subscriptions::user_id.eq(user.as_str()))
        .into_boxed();
    if let Some(id) = subscription_id {
        query = query.filter(subscriptions::id.eq(id.clone()));
    }
    if let Some((at, id)) = after {
        query = query.filter(
            posts::first_seen_at
                .lt(*at)
                .or(posts::first_seen_at.eq(*at).and(posts::id.lt(id.clone()))),
        );
    }
    let rows: Vec<(Post, SubscriptionId)> = query
        .order((posts::first_seen_at.desc(), posts::id.desc()))
        .limit(limit)
        .select((Post::as_select(), subscriptions::id))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(post, subscription_id)| AccountPost {
            post,
            subscription_id,
        })
        .collect())
}

/// One post of the account's feeds with the account's captions for it (by platform, then
/// variant); `None` when no feed the account follows has it.
pub fn post_with_captions(
    conn: &mut AnyConnection,
    user: &UserId,
    post_id: &PostId,
) -> QueryResult<Option<(AccountPost, Vec<StoredCaption>)>> {
    let found: Option<(Post, SubscriptionId)> = posts::table
        .inner_join(feeds::table.inner_join(subscriptions::table))
        .filter(subscriptions::user_id.eq(user.as_str()))
        .filter(posts::id.eq(post_id))
        .select((Post::as_select(), subscriptions::id))
        .first(conn)
        .optional()?;
    let Some((post, subscription_id)) = found else {
        return Ok(None);
    };
    let mut list: Vec<StoredCaption> = captions::table
        .filter(captions::user_id.eq(user.as_str()))
        .filter(captions::post_id.eq(post_id))
        .select(StoredCaption::as_select())
        .load(conn)?;
    list.sort_by_key(|c| (c.platform().map(|p| p as u8), c.variant.clone()));
    Ok(Some((
        AccountPost {
            post,
            subscription_id,
        },
        list,
    )))
}

/// One of the account's captions with its post; `None` for another account's id.
pub fn caption_with_post(
    conn: &mut AnyConnection,
    user: &UserId,
    caption_id: &CaptionId,
) -> QueryResult<Option<CaptionWithPost>> {
    let row: Option<(StoredCaption, String, Option<String>, Option<NaiveDateTime>)> =
        captions::table
            .inner_join(posts::table)
            .filter(captions::user_id.eq(user.as_str()))
            .filter(captions::id.eq(caption_id))
            .select((
                StoredCaption::as_select(),
                posts::title,
                posts::url,
                posts::published_at,
            ))
            .first(conn)
            .optional()?;
    Ok(row.map(
        |(caption, post_title, post_url, post_published_at)| CaptionWithPost {
            caption,
            post_title,
            post_url,
            post_published_at,
        },
    ))
}
