//! The copy desk: an account's stored captions, and what the subscriber does with them.
//!
//! A subscriber marks captions as posted and rewrites them in their own words here.
//! `crate::captions` writes a caption from a post; everything that keeps, lists or remakes
//! the account's captions lives in this module:
//!
//! - `store`: the captions table, written for a feed's new posts, listed per account.
//! - `query`: the API's and caption feeds' listings; `served`: the "served" stamp.
//! - `regenerate`: unused captions brought up to date after a template or setting changes.
//! - `templates_store`: the account's templates; `feed_templates`: a feed's own, over them;
//!   `template_edits`: saving either, which rewrites captions; `template_cache`: both
//!   compiled once per pass.
//! - `cache`: rendered desk pages, served again while the desk version has not moved.
//!
//! An edit replaces `body` and `length` (so every output, from the dashboard to the CSV
//! export and the caption feeds, carries the subscriber's wording) and keeps the generated
//! text in `original_body`. The length is measured here with the generator's own counter:
//! the browser's live counter is only a hint.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use self::store::StoredCaption;
use crate::accounts::UserId;
use crate::captions::{measure, Platform, Rules};
use crate::db::schema::captions;
use crate::db::{now, AnyConnection, DbError, IsBusy};

pub mod cache;
pub mod feed_templates;
pub mod query;
pub mod regenerate;
pub mod served;
pub mod store;
pub mod template_cache;
pub mod template_edits;
pub mod templates_store;
pub use store::CaptionId;

/// Where a caption stands on the desk.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CaptionStatus {
    /// Not posted yet: what the desk shows first.
    New,
    Posted,
}

impl CaptionStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            CaptionStatus::New => "new",
            CaptionStatus::Posted => "posted",
        }
    }

    /// The stored value; anything unknown reads as new, so a caption is never hidden.
    pub fn from_stored(value: &str) -> Self {
        value.parse().unwrap_or(CaptionStatus::New)
    }
}

impl std::str::FromStr for CaptionStatus {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim() {
            "new" => Ok(CaptionStatus::New),
            "posted" => Ok(CaptionStatus::Posted),
            other => Err(format!(
                "unknown status {other:?}; expected \"new\" or \"posted\""
            )),
        }
    }
}

/// Why an edit was refused.
#[derive(Debug, thiserror::Error)]
pub enum EditError {
    /// The text breaks a rule the platform enforces; the message says which and by how much.
    #[error("{0}")]
    Refused(String),
    #[error(transparent)]
    Db(#[from] DbError),
}

impl From<diesel::result::Error> for EditError {
    fn from(e: diesel::result::Error) -> Self {
        EditError::Db(e.into())
    }
}

impl IsBusy for EditError {
    fn is_busy(&self) -> bool {
        matches!(self, EditError::Db(e) if e.is_busy())
    }
}

/// One of the account's captions, or `None` for an id that is not the account's.
pub fn get(
    conn: &mut AnyConnection,
    user: &UserId,
    caption_id: &CaptionId,
) -> QueryResult<Option<StoredCaption>> {
    captions::table
        .filter(captions::user_id.eq(user.as_str()))
        .filter(captions::id.eq(caption_id))
        .select(StoredCaption::as_select())
        .first(conn)
        .optional()
}

/// Marks one of the account's captions as posted (keeping the first `posted_at` when it
/// already was) or as new again. `None` when the id is not the account's.
pub fn set_status(
    conn: &mut AnyConnection,
    user: &UserId,
    caption_id: &CaptionId,
    status: CaptionStatus,
) -> QueryResult<Option<StoredCaption>> {
    let Some(caption) = get(conn, user, caption_id)? else {
        return Ok(None);
    };
    if caption.status() != status {
        let posted_at = match status {
            CaptionStatus::Posted => Some(now()),
            CaptionStatus::New => None,
        };
        diesel::update(
            captions::table
                .filter(captions::user_id.eq(user.as_str()))
                .filter(captions::id.eq(caption_id)),
        )
        .set((
            captions::status.eq(status.as_str()),
            captions::posted_at.eq(posted_at),
        ))
        .execute(conn)?;
    }
    get(conn, user, caption_id)
}

/// The text as it will be stored: line ends as a browser's text area sends them become
/// `\n`, and surrounding blank space (which would count against the limit unseen) goes.
pub fn normalize_text(text: &str) -> String {
    text.replace("\r\n", "\n")
        .replace('\r', "\n")
        .trim()
        .to_string()
}

/// The rules an edited caption must meet: its platform's, with the limit the caption was
/// made under (a subscription may set its Mastodon instance's).
fn rules_for(caption: &StoredCaption, platform: Platform) -> Rules {
    let mut rules = Rules::for_platform(platform, None);
    rules.limit = usize::try_from(caption.char_limit).unwrap_or(rules.limit);
    rules
}

/// Why `text` cannot replace the caption, if it cannot: empty, over the length limit (as
/// the generator measures it), or over a byte cap.
pub fn refusal(caption: &StoredCaption, platform: Platform, text: &str) -> Option<String> {
    if text.is_empty() {
        return Some("A caption cannot be empty; write some text or restore the original.".into());
    }
    if text.contains('\0') {
        return Some("A caption cannot contain NUL characters.".into());
    }
    let rules = rules_for(caption, platform);
    let length = measure(platform, text);
    if length > rules.limit {
        return Some(format!(
            "Too long for {}: {length}/{} as {} counts it. Shorten it by {}.",
            platform.display_name(),
            rules.limit,
            platform.display_name(),
            length - rules.limit
        ));
    }
    if let Some(max) = rules.max_bytes.filter(|&m| text.len() > m) {
        return Some(format!(
            "Too long for {}: {} bytes, over its limit of {max} bytes.",
            platform.display_name(),
            text.len()
        ));
    }
    None
}

/// Replaces one of the account's captions with the subscriber's text, measured as the
/// generator measures it; text equal to the generated original restores it. `None` when
/// the id is not the account's. Run it in a transaction: it reads, then writes.
pub fn edit_text(
    conn: &mut AnyConnection,
    user: &UserId,
    caption_id: &CaptionId,
    text: &str,
) -> Result<Option<StoredCaption>, EditError> {
    let Some(caption) = get(conn, user, caption_id)? else {
        return Ok(None);
    };
    let text = normalize_text(text);
    let Some(platform) = caption.platform() else {
        return Err(EditError::Refused(format!(
            "this caption's platform {:?} is no longer known; it cannot be edited",
            caption.platform
        )));
    };
    if text == caption.body && caption.error.is_none() {
        return Ok(Some(caption));
    }
    if let Some(reason) = refusal(&caption, platform, &text) {
        return Err(EditError::Refused(reason));
    }
    let length = i32::try_from(measure(platform, &text)).unwrap_or(i32::MAX);
    let original = caption
        .original_body
        .clone()
        .unwrap_or(caption.body.clone());
    // Writing the generated text back is a restore: the caption is no longer edited.
    let (original_body, edited_at): (Option<String>, Option<NaiveDateTime>) =
        if text == original && caption.error.is_none() {
            (None, None)
        } else {
            (Some(original), Some(now()))
        };
    diesel::update(
        captions::table
            .filter(captions::user_id.eq(user.as_str()))
            .filter(captions::id.eq(caption_id)),
    )
    .set((
        captions::body.eq(&text),
        captions::length.eq(length),
        captions::original_body.eq(original_body),
        captions::edited_at.eq(edited_at),
        // The subscriber wrote the text the template could not make.
        captions::error.eq(None::<String>),
    ))
    .execute(conn)?;
    Ok(get(conn, user, caption_id)?)
}

/// What the dashboard shows: each filter optional.
#[derive(Debug, Default, Clone)]
pub struct DeskFilter {
    /// A subscription id.
    pub feed: Option<String>,
    pub platform: Option<Platform>,
    pub status: Option<CaptionStatus>,
    /// One post's captions only.
    pub post: Option<String>,
}

/// A post on the desk, with its captions that pass the filter.
pub type DeskPost = store::PostCaptions;

/// One page of the desk: posts with a caption still to post first, then the rest, each
/// group newest post first; `more` when another page follows.
pub struct DeskPage {
    pub posts: Vec<DeskPost>,
    pub more: bool,
}

type DeskRow = (
    StoredCaption,
    String,
    Option<String>,
    Option<NaiveDateTime>,
    Option<String>,
    Option<String>,
    String,
);

/// The `page`-th (from 0) page of `per_page` posts of the account's captions.
pub fn desk_page(
    conn: &mut AnyConnection,
    user: &UserId,
    filter: &DeskFilter,
    page: i64,
    per_page: i64,
) -> QueryResult<DeskPage> {
    use crate::db::schema::{feeds, posts};
    use diesel::dsl::min;

    // Posts first, in desk order: "new" sorts before "posted", so a post's smallest status
    // says whether anything in it is still to post. The captions then follow in one query.
    // Then by the post's own date (undated ones by when they were first seen): captions
    // of one pass are written in no useful order.
    let mut groups = captions::table
        .inner_join(posts::table)
        .filter(captions::user_id.eq(user.as_str()))
        .group_by(posts::id)
        .select((posts::id, min(captions::status)))
        .order_by((
            min(captions::status).asc(),
            posts::published_at.is_null().asc(),
            posts::published_at.desc(),
            posts::first_seen_at.desc(),
            posts::id.desc(),
        ))
        .into_boxed();
    if let Some(feed) = &filter.feed {
        groups = groups.filter(captions::subscription_id.eq(feed.clone()));
    }
    if let Some(platform) = filter.platform {
        groups = groups.filter(captions::platform.eq(platform.id()));
    }
    if let Some(status) = filter.status {
        groups = groups.filter(captions::status.eq(status.as_str()));
    }
    if let Some(post) = &filter.post {
        groups = groups.filter(captions::post_id.eq(post.clone()));
    }
    let mut ids: Vec<(String, Option<String>)> = groups
        .limit(per_page + 1)
        .offset(page.saturating_mul(per_page))
        .load(conn)?;
    let more = ids.len() as i64 > per_page;
    ids.truncate(usize::try_from(per_page).unwrap_or(0));
    let ids: Vec<String> = ids.into_iter().map(|(id, _)| id).collect();
    if ids.is_empty() {
        return Ok(DeskPage {
            posts: Vec::new(),
            more,
        });
    }

    let mut query = captions::table
        .inner_join(posts::table.inner_join(feeds::table))
        .filter(captions::user_id.eq(user.as_str()))
        .filter(captions::post_id.eq_any(ids.clone()))
        .into_boxed();
    if let Some(feed) = &filter.feed {
        query = query.filter(captions::subscription_id.eq(feed.clone()));
    }
    if let Some(platform) = filter.platform {
        query = query.filter(captions::platform.eq(platform.id()));
    }
    if let Some(status) = filter.status {
        query = query.filter(captions::status.eq(status.as_str()));
    }
    let rows: Vec<DeskRow> = query
        .select((
            StoredCaption::as_select(),
            posts::title,
            posts::url,
            posts::published_at,
            posts::image_url,
            feeds::title,
            feeds::url,
        ))
        .load(conn)?;
    let mut posts: Vec<Option<DeskPost>> = vec![None; ids.len()];
    let position: std::collections::HashMap<&str, usize> = ids
        .iter()
        .enumerate()
        .map(|(i, id)| (id.as_str(), i))
        .collect();
    for (caption, title, url, published_at, image_url, feed_title, feed_url) in rows {
        let Some(&i) = position.get(caption.post_id.as_str()) else {
            continue;
        };
        match &mut posts[i] {
            Some(post) => post.captions.push(caption),
            slot @ None => {
                *slot = Some(DeskPost {
                    post_id: caption.post_id.clone(),
                    title,
                    url,
                    published_at,
                    image_url,
                    feed_title,
                    feed_url,
                    captions: vec![caption],
                })
            }
        }
    }
    let mut posts: Vec<DeskPost> = posts.into_iter().flatten().collect();
    for post in &mut posts {
        post.captions
            .sort_by_key(|c| (c.platform().map(|p| p as u8), c.variant.clone()));
    }
    Ok(DeskPage { posts, more })
}

/// How many of the account's captions that the filter's feed, platform and post let
/// through are still to post (leaving out those without text): the number the desk's
/// header gives is about what the page shows.
pub fn count_new(conn: &mut AnyConnection, user: &UserId, filter: &DeskFilter) -> QueryResult<i64> {
    let mut query = captions::table
        .filter(captions::user_id.eq(user.as_str()))
        .filter(captions::status.eq(CaptionStatus::New.as_str()))
        .filter(captions::error.is_null())
        .into_boxed();
    if let Some(feed) = &filter.feed {
        query = query.filter(captions::subscription_id.eq(feed.clone()));
    }
    if let Some(platform) = filter.platform {
        query = query.filter(captions::platform.eq(platform.id()));
    }
    if let Some(post) = &filter.post {
        query = query.filter(captions::post_id.eq(post.clone()));
    }
    query.count().get_result(conn)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn caption(platform: &str, limit: i32) -> StoredCaption {
        StoredCaption {
            id: "c".into(),
            subscription_id: "s".into(),
            post_id: "p".into(),
            platform: platform.into(),
            variant: "default".into(),
            body: "generated".into(),
            length: 9,
            char_limit: limit,
            created_at: now(),
            error: None,
            status: "new".into(),
            posted_at: None,
            original_body: None,
            edited_at: None,
            post_url: None,
        }
    }

    #[test]
    fn over_the_limit_says_by_how_much_as_the_platform_counts() {
        // X counts every link as 23, whatever its real length.
        let link = format!("https://example.com/{}", "a".repeat(300));
        assert_eq!(refusal(&caption("x", 280), Platform::X, &link), None);
        let long = "日".repeat(141);
        assert_eq!(
            refusal(&caption("x", 280), Platform::X, &long).as_deref(),
            Some("Too long for X: 282/280 as X counts it. Shorten it by 2.")
        );
    }

    #[test]
    fn the_caption_limit_is_the_one_it_was_made_under() {
        let text = "a".repeat(600);
        assert!(refusal(&caption("mastodon", 500), Platform::Mastodon, &text).is_some());
        assert_eq!(
            refusal(&caption("mastodon", 1000), Platform::Mastodon, &text),
            None
        );
    }

    #[test]
    fn empty_text_and_bluesky_bytes_are_refused() {
        assert!(refusal(&caption("x", 280), Platform::X, "").is_some());
        // 300 graphemes of 11 bytes each: within the length, over 3000 bytes.
        let family = "👨\u{200d}👩\u{200d}👧".repeat(300);
        let reason = refusal(&caption("bluesky", 300), Platform::Bluesky, &family);
        assert!(reason.is_some_and(|r| r.contains("bytes")));
    }

    #[test]
    fn text_area_line_ends_and_outer_blanks_are_normalized() {
        assert_eq!(normalize_text("  one\r\ntwo\r\n\r\n"), "one\ntwo");
    }

    #[test]
    fn statuses_parse_and_unknown_stored_values_read_as_new() {
        assert_eq!("posted".parse(), Ok(CaptionStatus::Posted));
        assert!("used".parse::<CaptionStatus>().is_err());
        assert_eq!(CaptionStatus::from_stored("???"), CaptionStatus::New);
    }
}
