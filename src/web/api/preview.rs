//! `POST /api/v1/preview`: the captions a feed's newest posts would get, without following it.

use actix_web::web;

use super::auth::ApiUser;
use super::error::ApiError;
use super::rfc3339;
use crate::captions::Platform;
use crate::feeds::address::parse_feed_url;
use crate::preview::{preview as make_preview, FeedPreview, PREVIEW_POSTS};
use crate::web::AppState;

/// The most posts one preview captions.
const MAX_POSTS: u32 = 20;

#[derive(serde::Deserialize, utoipa::ToSchema)]
pub struct PreviewIn {
    /// A feed's address, or a site's whose page names its feed (http or https).
    #[schema(example = "https://blog.example/feed.xml")]
    pub url: String,
    /// Platform ids (x, mastodon, bluesky, threads, linkedin, instagram, facebook); all
    /// seven when absent.
    #[serde(default)]
    pub platforms: Option<Vec<String>>,
    /// How many of the newest posts to caption (default 3).
    #[serde(default)]
    #[schema(minimum = 1, maximum = 20)]
    pub posts: Option<u32>,
}

#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct PreviewOut {
    /// The feed's address: the one sent, or the one the sent page named. Follow it with
    /// `POST /api/v1/feeds`.
    pub feed_url: String,
    pub title: Option<String>,
    /// Newest first.
    pub posts: Vec<PreviewPostOut>,
}

#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct PreviewPostOut {
    pub title: String,
    pub url: Option<String>,
    pub published: Option<String>,
    pub captions: Vec<PreviewCaptionOut>,
}

#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct PreviewCaptionOut {
    pub platform: String,
    pub text: String,
    pub length: usize,
    pub limit: usize,
    /// Why the template made no text for this post (then `text` is empty).
    pub error: Option<String>,
}

impl From<FeedPreview> for PreviewOut {
    fn from(p: FeedPreview) -> Self {
        PreviewOut {
            feed_url: p.feed_url.to_string(),
            title: p.title,
            posts: p
                .posts
                .into_iter()
                .map(|post| PreviewPostOut {
                    title: post.title,
                    url: post.url,
                    published: post.published.map(|d| rfc3339(&d.naive_utc())),
                    captions: post
                        .captions
                        .into_iter()
                        .map(|c| PreviewCaptionOut {
                            platform: c.platform.id().into(),
                            text: c.text,
                            length: c.length,
                            limit: c.limit,
                            error: c.error,
                        })
                        .collect(),
                })
                .collect(),
        }
    }
}

#[utoipa::path(post, path = "/api/v1/preview", tag = "captions", request_body = PreviewIn,
    responses(
        (status = 200, description = "the captions the default templates make", body = PreviewOut),
        (status = 401, body = super::error::ErrorBody),
        (status = 422, description = "the address is refused, unreachable or not a feed; the message says which", body = super::error::ErrorBody),
        (status = 429, description = "over the account's request rate; see Retry-After", body = super::error::ErrorBody),
    ),
    security(("bearer" = [])))]
#[tracing::instrument(skip_all)]
pub async fn preview(
    state: web::Data<AppState>,
    _user: ApiUser,
    body: web::Json<PreviewIn>,
) -> Result<web::Json<PreviewOut>, ApiError> {
    let body = body.into_inner();
    let posts = match body.posts {
        None => PREVIEW_POSTS,
        Some(n @ 1..=MAX_POSTS) => n as usize,
        Some(_) => {
            return Err(ApiError::Invalid(format!(
                "posts must be from 1 to {MAX_POSTS}"
            )))
        }
    };
    let platforms = match body.platforms {
        None => Platform::ALL.to_vec(),
        Some(ids) => ids
            .iter()
            .map(|id| id.trim().parse::<Platform>())
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| ApiError::Invalid(e.to_string()))?,
    };
    let url =
        parse_feed_url(&body.url, &state.settings.address_policy()).map_err(ApiError::Invalid)?;
    let found = make_preview(&state.fetcher, &url, &platforms, posts)
        .await
        .map_err(|e| ApiError::Invalid(e.to_string()))?;
    Ok(web::Json(PreviewOut::from(found)))
}
