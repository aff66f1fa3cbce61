//! Listing an account's captions for programs: filters and a stable cursor.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::store::StoredCaption;
use crate::accounts::UserId;
use crate::db::schema::{captions, posts};
use crate::db::AnyConnection;

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
