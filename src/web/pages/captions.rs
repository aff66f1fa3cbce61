//! The account's captions, newest first, each with its length and a copy button.

use actix_web::http::StatusCode;
use actix_web::{get, web, HttpRequest, HttpResponse};
use askama::Template;

use super::{format_time, render, Layout};
use crate::captions::store::{list_account_captions, PostCaptions};
use crate::db::DbError;
use crate::web::error::WebError;
use crate::web::session::CurrentUser;
use crate::web::AppState;

/// How many captions one page shows (seven platforms × 100 posts).
const PAGE_CAPTIONS: i64 = 700;

pub struct CaptionView {
    pub id: String,
    pub platform: String,
    pub platform_name: String,
    pub text: String,
    pub length: i32,
    pub limit: i32,
    pub over: bool,
    /// Why the template made no text for this post.
    pub error: Option<String>,
}

pub struct CaptionGroup {
    pub title: String,
    pub url: Option<String>,
    pub published: Option<String>,
    pub feed_title: String,
    pub captions: Vec<CaptionView>,
}

pub fn caption_groups(groups: Vec<PostCaptions>) -> Vec<CaptionGroup> {
    groups
        .into_iter()
        .map(|g| CaptionGroup {
            title: g.title,
            url: g.url,
            published: g.published_at.as_ref().map(format_time),
            feed_title: g.feed_title.unwrap_or(g.feed_url),
            captions: g
                .captions
                .into_iter()
                .map(|c| CaptionView {
                    platform_name: c
                        .platform()
                        .map(|p| p.display_name().to_string())
                        .unwrap_or_else(|| c.platform.clone()),
                    id: c.id,
                    platform: c.platform,
                    over: c.length > c.char_limit,
                    error: c.error,
                    text: c.body,
                    length: c.length,
                    limit: c.char_limit,
                })
                .collect(),
        })
        .collect()
}

#[derive(Template)]
#[template(path = "captions.html")]
struct CaptionsPage {
    layout: Layout,
    groups: Vec<CaptionGroup>,
    has_feeds: bool,
}

#[get("/captions")]
pub async fn list(
    req: HttpRequest,
    state: web::Data<AppState>,
    user: CurrentUser,
) -> Result<HttpResponse, WebError> {
    let id = user.id();
    let (groups, has_feeds) = state
        .db
        .run(move |conn| {
            let groups = list_account_captions(conn, &id, None, PAGE_CAPTIONS)?;
            let has_feeds =
                !groups.is_empty() || !crate::subscriptions::list(conn, &id)?.is_empty();
            Ok::<_, DbError>((groups, has_feeds))
        })
        .await?;
    let page = CaptionsPage {
        layout: Layout::new(&req, &state, Some(&user.user)),
        groups: caption_groups(groups),
        has_feeds,
    };
    render(StatusCode::OK, &page)
}
