//! `GET /api/v1/captions`: the account's captions, newest first, with a cursor.

use actix_web::web;
use base64::Engine as _;
use chrono::NaiveDateTime;

use super::auth::ApiUser;
use super::error::ApiError;
use super::rfc3339;
use crate::captions::query::{list_captions_page, CaptionFilter, CaptionWithPost};
use crate::captions::Platform;
use crate::web::AppState;

const DEFAULT_LIMIT: u32 = 50;
const MAX_LIMIT: u32 = 200;

#[derive(serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CaptionQuery {
    /// Only this feed's captions (a feed id from /feeds).
    feed: Option<String>,
    /// Only this platform's captions.
    platform: Option<String>,
    /// Only captions made at or after this time (RFC 3339).
    since: Option<String>,
    /// `next_cursor` of the previous page.
    cursor: Option<String>,
    /// Page size, 1 to 200 (default 50).
    limit: Option<u32>,
}

#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct PostOut {
    pub title: String,
    pub url: Option<String>,
    pub published: Option<String>,
}

#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct CaptionOut {
    pub id: String,
    /// The feed (subscription) id.
    pub feed_id: String,
    pub post: PostOut,
    pub platform: String,
    pub variant: String,
    pub text: String,
    /// Length as the platform counts it.
    pub length: i32,
    pub limit: i32,
    pub created_at: String,
    /// Set when the template failed for this post; `text` is then empty.
    pub error: Option<String>,
}

#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct CaptionPage {
    pub captions: Vec<CaptionOut>,
    /// Pass as `cursor` for the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/captions", tag = "captions", params(CaptionQuery),
    responses(
        (status = 200, body = CaptionPage),
        (status = 401, body = super::error::ErrorBody),
        (status = 422, description = "invalid filter or cursor", body = super::error::ErrorBody),
    ),
    security(("bearer" = [])))]
pub async fn list(
    state: web::Data<AppState>,
    user: ApiUser,
    query: web::Query<CaptionQuery>,
) -> Result<web::Json<CaptionPage>, ApiError> {
    let query = query.into_inner();
    let limit = query.limit.unwrap_or(DEFAULT_LIMIT);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(ApiError::Invalid(format!(
            "limit must be from 1 to {MAX_LIMIT}"
        )));
    }
    if let Some(p) = &query.platform {
        p.parse::<Platform>()
            .map_err(|e| ApiError::Invalid(e.to_string()))?;
    }
    let since = match &query.since {
        Some(raw) => Some(
            chrono::DateTime::parse_from_rfc3339(raw)
                .map_err(|_| ApiError::Invalid(format!("since: {raw:?} is not an RFC 3339 time")))?
                .naive_utc(),
        ),
        None => None,
    };
    let after = query.cursor.as_deref().map(decode_cursor).transpose()?;
    let filter = CaptionFilter {
        feed: query.feed,
        platform: query.platform,
        since,
        after,
        only_made: false,
    };
    let id = user.id();
    // One more than asked tells whether another page exists.
    let mut rows = state
        .db
        .run(move |conn| {
            list_captions_page(conn, &id, &filter, i64::from(limit) + 1).map_err(ApiError::from)
        })
        .await?;
    let more = rows.len() > limit as usize;
    rows.truncate(limit as usize);
    let next_cursor = if more {
        rows.last()
            .map(|r| encode_cursor(&r.caption.created_at, &r.caption.id))
    } else {
        None
    };
    Ok(web::Json(CaptionPage {
        captions: rows.into_iter().map(caption_out).collect(),
        next_cursor,
    }))
}

fn caption_out(row: CaptionWithPost) -> CaptionOut {
    let c = row.caption;
    CaptionOut {
        created_at: rfc3339(&c.created_at),
        id: c.id,
        feed_id: c.subscription_id,
        post: PostOut {
            title: row.post_title,
            url: row.post_url,
            published: row.post_published_at.as_ref().map(rfc3339),
        },
        platform: c.platform,
        variant: c.variant,
        text: c.body,
        length: c.length,
        limit: c.char_limit,
        error: c.error,
    }
}

fn encode_cursor(at: &NaiveDateTime, id: &str) -> String {
    let raw = format!("{}:{id}", at.and_utc().timestamp_micros());
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(raw)
}

fn decode_cursor(cursor: &str) -> Result<(NaiveDateTime, String), ApiError> {
    let invalid = || ApiError::Invalid("cursor: not a cursor from a previous page".into());
    let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(cursor)
        .map_err(|_| invalid())?;
    let raw = String::from_utf8(raw).map_err(|_| invalid())?;
    let (micros, id) = raw.split_once(':').ok_or_else(invalid)?;
    let micros: i64 = micros.parse().map_err(|_| invalid())?;
    let at = chrono::DateTime::from_timestamp_micros(micros)
        .ok_or_else(invalid)?
        .naive_utc();
    Ok((at, id.to_string()))
}
