//! `/api/v1/captions`: the account's captions, newest first, with a cursor; marking one
//! as posted and rewriting its text.

use actix_web::web;

use super::auth::ApiUser;
use super::error::ApiError;
use super::paging::{decode_cursor, encode_cursor, page_limit};
use super::rfc3339;
use crate::captions::Platform;
use crate::desk::query::{serve_captions_page, CaptionFilter, CaptionWithPost};
use crate::desk::store::{CaptionId, StoredCaption};
use crate::desk::{self, CaptionStatus, EditError};
use crate::web::AppState;

#[derive(serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CaptionQuery {
    /// Only this feed's captions (a feed id from /feeds).
    feed: Option<String>,
    /// Only this platform's captions.
    platform: Option<String>,
    /// Only captions in this state: `new` (not posted yet) or `posted`.
    #[param(pattern = "^(new|posted)$")]
    status: Option<String>,
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
    /// What the desk and the digest call the variant: a built-in style's label
    /// ("Quote"), "Default", or the subscriber's own variant name.
    pub variant_label: String,
    /// The text to post: the subscriber's edit when there is one, else the generated text.
    pub text: String,
    /// Length of `text` as the platform counts it.
    pub length: i32,
    pub limit: i32,
    pub created_at: String,
    /// Set when the template failed for this post; `text` is then empty.
    pub error: Option<String>,
    /// `new` (not posted yet) or `posted`.
    #[schema(pattern = "^(new|posted)$")]
    pub status: String,
    /// When it was marked as posted.
    pub posted_at: Option<String>,
    /// Whether `text` is the subscriber's edit.
    pub edited: bool,
    pub edited_at: Option<String>,
    /// The generated text, when `text` is an edit.
    pub original_text: Option<String>,
}

#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct CaptionPage {
    pub captions: Vec<CaptionOut>,
    /// Pass as `cursor` for the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/captions", tag = "captions", operation_id = "list_captions", params(CaptionQuery),
    responses(
        (status = 200, body = CaptionPage),
        (status = 401, body = super::error::ErrorBody),
        (status = 422, description = "invalid filter or cursor", body = super::error::ErrorBody),
    ),
    security(("bearer" = [])))]
#[tracing::instrument(skip_all)]
pub async fn list(
    state: web::Data<AppState>,
    user: ApiUser,
    query: web::Query<CaptionQuery>,
) -> Result<web::Json<CaptionPage>, ApiError> {
    let query = query.into_inner();
    let limit = page_limit(query.limit)?;
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
    let status = query
        .status
        .as_deref()
        .map(str::parse::<CaptionStatus>)
        .transpose()
        .map_err(ApiError::Invalid)?;
    let after = query.cursor.as_deref().map(decode_cursor).transpose()?;
    let filter = CaptionFilter {
        feed: query.feed,
        platform: query.platform,
        since,
        after,
        only_made: false,
        status,
    };
    let id = user.id();
    // One more than asked tells whether another page exists.
    let mut rows = state
        .db
        .run(move |conn| {
            serve_captions_page(conn, &id, &filter, i64::from(limit) + 1, limit as usize)
                .map_err(ApiError::from)
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
    let post = PostOut {
        title: row.post_title,
        url: row.post_url,
        published: row.post_published_at.as_ref().map(rfc3339),
    };
    stored_caption_out(row.caption, post)
}

/// A caption as the API shows it, with the post it was made for.
pub fn stored_caption_out(c: StoredCaption, post: PostOut) -> CaptionOut {
    CaptionOut {
        status: c.status().as_str().to_string(),
        posted_at: c.posted_at.as_ref().map(rfc3339),
        edited: c.is_edited(),
        edited_at: c.edited_at.as_ref().map(rfc3339),
        created_at: rfc3339(&c.created_at),
        id: c.id.0,
        feed_id: c.subscription_id.0,
        post,
        platform: c.platform,
        variant_label: crate::captions::variant_label(&c.variant).into_owned(),
        variant: c.variant,
        text: c.body,
        length: c.length,
        limit: c.char_limit,
        error: c.error,
        original_text: c.original_body,
    }
}

/// What to change in a caption; at least one field.
#[derive(serde::Deserialize, utoipa::ToSchema)]
pub struct CaptionPatch {
    /// The text to post instead of the generated one. Measured as the platform counts it;
    /// refused (422) when empty or over the caption's limit. The generated text is kept
    /// (`original_text`); sending it back restores it.
    pub text: Option<String>,
    /// `posted` marks the caption as used, `new` puts it back on the desk.
    #[schema(pattern = "^(new|posted)$", example = "posted")]
    pub status: Option<String>,
}

#[utoipa::path(patch, path = "/api/v1/captions/{id}", tag = "captions", operation_id = "update_caption",
    params(("id" = String, Path, description = "caption id")),
    request_body = CaptionPatch,
    responses(
        (status = 200, description = "the caption as it now is", body = CaptionOut),
        (status = 401, body = super::error::ErrorBody),
        (status = 404, body = super::error::ErrorBody),
        (status = 422, description = "nothing to change, an unknown status, or a text the platform would refuse", body = super::error::ErrorBody),
    ),
    security(("bearer" = [])))]
#[tracing::instrument(skip_all)]
pub async fn update(
    state: web::Data<AppState>,
    user: ApiUser,
    path: web::Path<String>,
    body: web::Json<CaptionPatch>,
) -> Result<web::Json<CaptionOut>, ApiError> {
    let body = body.into_inner();
    let status = body
        .status
        .as_deref()
        .map(str::parse::<CaptionStatus>)
        .transpose()
        .map_err(ApiError::Invalid)?;
    if status.is_none() && body.text.is_none() {
        return Err(ApiError::Invalid(
            "nothing to change: send \"text\", \"status\" or both".into(),
        ));
    }
    let (id, caption_id) = (user.id(), CaptionId(path.into_inner()));
    let text = body.text;
    let updated = state
        .db
        .transaction(move |conn| {
            if let Some(text) = &text {
                if desk::edit_text(conn, &id, &caption_id, text)?.is_none() {
                    return Ok(None);
                }
            }
            if let Some(status) = status {
                if desk::set_status(conn, &id, &caption_id, status)?.is_none() {
                    return Ok(None);
                }
            }
            let found = crate::desk::query::caption_with_post(conn, &id, &caption_id)?;
            Ok::<_, EditError>(found)
        })
        .await
        .map_err(|e| match e {
            EditError::Refused(message) => ApiError::Invalid(message),
            EditError::Db(e) => ApiError::from(e),
        })?;
    updated
        .map(|row| web::Json(caption_out(row)))
        .ok_or(ApiError::NotFound)
}
