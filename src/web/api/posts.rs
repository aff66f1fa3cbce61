//! `/api/v1/posts`: the posts of the account's feeds, newest first, and one post with its
//! captions.

use actix_web::web;

use super::auth::ApiUser;
use super::captions::{stored_caption_out, CaptionOut, PostOut};
use super::error::ApiError;
use super::paging::{decode_cursor, encode_cursor, page_limit};
use super::rfc3339;
use crate::desk::query::{list_posts_page, post_with_captions, AccountPost};
use crate::desk::CaptionId;
use crate::feeds::PostId;
use crate::subscriptions::SubscriptionId;
use crate::web::AppState;

#[derive(serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PostQuery {
    /// Only this feed's posts (a feed id from /feeds).
    feed: Option<String>,
    /// `next_cursor` of the previous page.
    cursor: Option<String>,
    /// Page size, 1 to 200 (default 50).
    limit: Option<u32>,
}

#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct PostSummary {
    pub id: String,
    /// The feed (subscription) id.
    pub feed_id: String,
    pub title: String,
    pub url: Option<String>,
    pub published: Option<String>,
    /// When captionfeed first saw the post in its feed.
    pub first_seen_at: String,
    /// The post's image as the feed or page names it.
    pub image_url: Option<String>,
}

#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct PostPage {
    pub posts: Vec<PostSummary>,
    /// Pass as `cursor` for the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct PostWithCaptions {
    pub id: String,
    /// The feed (subscription) id.
    pub feed_id: String,
    pub title: String,
    pub url: Option<String>,
    pub published: Option<String>,
    pub first_seen_at: String,
    pub image_url: Option<String>,
    /// The account's captions for the post, by platform.
    pub captions: Vec<CaptionOut>,
}

fn summary(p: AccountPost) -> PostSummary {
    PostSummary {
        published: p.post.published_at.as_ref().map(rfc3339),
        first_seen_at: rfc3339(&p.post.first_seen_at),
        id: p.post.id.0,
        feed_id: p.subscription_id.0,
        title: p.post.title,
        url: p.post.url,
        image_url: p.post.image_url,
    }
}

#[utoipa::path(get, path = "/api/v1/posts", tag = "posts", operation_id = "list_posts", params(PostQuery),
    responses(
        (status = 200, body = PostPage),
        (status = 401, body = super::error::ErrorBody),
        (status = 422, description = "invalid limit or cursor", body = super::error::ErrorBody),
    ),
    security(("bearer" = [])))]
#[tracing::instrument(skip_all)]
pub async fn list(
    state: web::Data<AppState>,
    user: ApiUser,
    query: web::Query<PostQuery>,
) -> Result<web::Json<PostPage>, ApiError> {
    let query = query.into_inner();
    let limit = page_limit(query.limit)?;
    let after = query.cursor.as_deref().map(decode_cursor).transpose()?;
    let (id, feed) = (user.id(), query.feed.map(SubscriptionId));
    // One more than asked tells whether another page exists.
    let mut rows = state
        .db
        .run(move |conn| {
            list_posts_page(
                conn,
                &id,
                feed.as_ref(),
                after.as_ref(),
                i64::from(limit) + 1,
            )
            .map_err(ApiError::from)
        })
        .await?;
    let more = rows.len() > limit as usize;
    rows.truncate(limit as usize);
    let next_cursor = if more {
        rows.last()
            .map(|r| encode_cursor(&r.post.first_seen_at, &r.post.id))
    } else {
        None
    };
    Ok(web::Json(PostPage {
        posts: rows.into_iter().map(summary).collect(),
        next_cursor,
    }))
}

#[utoipa::path(get, path = "/api/v1/posts/{id}", tag = "posts", operation_id = "show_post",
    params(("id" = String, Path, description = "post id")),
    responses(
        (status = 200, body = PostWithCaptions),
        (status = 401, body = super::error::ErrorBody),
        (status = 404, body = super::error::ErrorBody),
    ),
    security(("bearer" = [])))]
#[tracing::instrument(skip_all)]
pub async fn show(
    state: web::Data<AppState>,
    user: ApiUser,
    path: web::Path<String>,
) -> Result<web::Json<PostWithCaptions>, ApiError> {
    let (id, post_id) = (user.id(), PostId(path.into_inner()));
    let (post, captions) = state
        .db
        .run(move |conn| {
            let found = post_with_captions(conn, &id, &post_id)?;
            if let Some((_, captions)) = &found {
                let ids: Vec<&CaptionId> = captions.iter().map(|c| &c.id).collect();
                crate::desk::served::mark(conn, &ids, crate::db::now())?;
            }
            Ok::<_, ApiError>(found)
        })
        .await?
        .ok_or(ApiError::NotFound)?;
    let post_out = || PostOut {
        title: post.post.title.clone(),
        url: post.post.url.clone(),
        published: post.post.published_at.as_ref().map(rfc3339),
    };
    let captions = captions
        .into_iter()
        .map(|c| stored_caption_out(c, post_out()))
        .collect();
    let post = summary(post);
    Ok(web::Json(PostWithCaptions {
        id: post.id,
        feed_id: post.feed_id,
        title: post.title,
        url: post.url,
        published: post.published,
        first_seen_at: post.first_seen_at,
        image_url: post.image_url,
        captions,
    }))
}
