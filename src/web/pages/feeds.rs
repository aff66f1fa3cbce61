//! The account's feeds: list, add, show, remove.

use actix_web::http::StatusCode;
use actix_web::{get, post, web, HttpRequest, HttpResponse};
use askama::Template;

use super::captions::{caption_groups, CaptionGroup};
use super::{format_optional_time, format_time, render, see_other, Layout};
use crate::captions::store::list_account_captions;
use crate::db::DbError;
use crate::feeds::discover::Candidate;
use crate::feeds::store::count_feed_posts;
use crate::subscriptions::{self, SubscribedFeed};
use crate::web::add_feed::{add_feed, AddFeedError};
use crate::web::csrf::CheckedForm;
use crate::web::error::WebError;
use crate::web::session::CurrentUser;
use crate::web::AppState;

/// A feed as the pages show it; every text comes from the feed and is escaped on output.
pub struct FeedRow {
    pub id: String,
    pub title: String,
    pub url: String,
    pub site_url: Option<String>,
    pub last_checked: String,
    pub next_check: String,
    pub last_error: Option<String>,
    pub error_count: i32,
    pub pending: bool,
    /// When the current run of errors began; none while the feed is healthy.
    pub erroring_since: Option<String>,
    /// The last HTTP status, like "HTTP 503".
    pub last_status: Option<String>,
    /// When the feed answered 410 Gone; it is not checked any more.
    pub gone_since: Option<String>,
}

impl From<&SubscribedFeed> for FeedRow {
    fn from(s: &SubscribedFeed) -> Self {
        let feed = &s.feed;
        FeedRow {
            id: s.subscription.id.clone(),
            title: feed
                .title
                .clone()
                .filter(|t| !t.trim().is_empty())
                .unwrap_or_else(|| feed.url.clone()),
            url: feed.url.clone(),
            site_url: feed.site_url.clone(),
            last_checked: format_optional_time(&feed.last_checked_at),
            next_check: format_time(&feed.next_check_at),
            last_error: feed.last_error.clone(),
            error_count: feed.error_count,
            pending: feed.last_checked_at.is_none(),
            erroring_since: feed.erroring_since.as_ref().map(format_time),
            last_status: feed.last_status.map(|s| format!("HTTP {s}")),
            gone_since: feed.gone_at.as_ref().map(format_time),
        }
    }
}

#[derive(Template)]
#[template(path = "feeds.html")]
struct FeedsPage {
    layout: Layout,
    feeds: Vec<FeedRow>,
}

#[get("/feeds")]
pub async fn list(
    req: HttpRequest,
    state: web::Data<AppState>,
    user: CurrentUser,
) -> Result<HttpResponse, WebError> {
    let id = user.id();
    let feeds = state
        .db
        .run(move |conn| subscriptions::list(conn, &id))
        .await?;
    let page = FeedsPage {
        layout: Layout::new(&req, &state, Some(&user.user)),
        feeds: feeds.iter().map(FeedRow::from).collect(),
    };
    render(StatusCode::OK, &page)
}

#[derive(Template)]
#[template(path = "feed_new.html")]
struct NewFeedPage {
    layout: Layout,
    url: String,
    error: Option<String>,
    existing: Option<String>,
    /// Feeds a site offers, for the person to pick one.
    candidates: Vec<Candidate>,
}

#[get("/feeds/new")]
pub async fn new_form(
    req: HttpRequest,
    state: web::Data<AppState>,
    user: CurrentUser,
) -> Result<HttpResponse, WebError> {
    let page = NewFeedPage {
        layout: Layout::new(&req, &state, Some(&user.user)),
        url: String::new(),
        error: None,
        existing: None,
        candidates: Vec::new(),
    };
    render(StatusCode::OK, &page)
}

#[derive(serde::Deserialize, Default)]
#[serde(default)]
pub struct NewFeedForm {
    url: String,
}

#[post("/feeds")]
pub async fn create(
    req: HttpRequest,
    state: web::Data<AppState>,
    user: CurrentUser,
    form: CheckedForm<NewFeedForm>,
) -> Result<HttpResponse, WebError> {
    let raw = form.0.url;
    let refuse = |status, error: String, existing: Option<String>| {
        let page = NewFeedPage {
            layout: Layout::new(&req, &state, Some(&user.user)),
            url: raw.clone(),
            error: Some(error),
            existing,
            candidates: Vec::new(),
        };
        render(status, &page)
    };
    match add_feed(&state, &user.id(), &raw).await {
        Ok(subscription) => Ok(see_other(&format!("/feeds/{}", subscription.id))),
        Err(AddFeedError::Invalid(message)) => {
            refuse(StatusCode::UNPROCESSABLE_ENTITY, message, None)
        }
        Err(AddFeedError::AlreadyFollowed(existing)) => refuse(
            StatusCode::CONFLICT,
            "You already follow this feed.".into(),
            existing,
        ),
        Err(AddFeedError::Choose(candidates)) => {
            let page = NewFeedPage {
                layout: Layout::new(&req, &state, Some(&user.user)),
                url: raw.clone(),
                error: None,
                existing: None,
                candidates,
            };
            render(StatusCode::OK, &page)
        }
        Err(AddFeedError::Db(e)) => Err(e.into()),
    }
}

#[derive(Template)]
#[template(path = "feed_show.html")]
struct FeedPage {
    layout: Layout,
    feed: FeedRow,
    post_count: i64,
    groups: Vec<CaptionGroup>,
}

#[get("/feeds/{id}")]
pub async fn show(
    req: HttpRequest,
    state: web::Data<AppState>,
    user: CurrentUser,
    path: web::Path<String>,
) -> Result<HttpResponse, WebError> {
    let id = user.id();
    let subscription_id = path.into_inner();
    let found = state
        .db
        .run(move |conn| {
            let Some(subscribed) = subscriptions::get(conn, &id, &subscription_id)? else {
                return Ok(None);
            };
            let posts = count_feed_posts(conn, &subscribed.feed.id)?;
            let groups = list_account_captions(conn, &id, Some(&subscribed.subscription.id), 700)?;
            Ok::<_, DbError>(Some((subscribed, posts, groups)))
        })
        .await?;
    let Some((subscribed, post_count, groups)) = found else {
        return Err(WebError::NotFound);
    };
    let page = FeedPage {
        layout: Layout::new(&req, &state, Some(&user.user)),
        feed: FeedRow::from(&subscribed),
        post_count,
        groups: caption_groups(groups),
    };
    render(StatusCode::OK, &page)
}

#[post("/feeds/{id}/delete")]
pub async fn delete(
    state: web::Data<AppState>,
    user: CurrentUser,
    path: web::Path<String>,
    _form: CheckedForm<super::auth::NoFields>,
) -> Result<HttpResponse, WebError> {
    let id = user.id();
    let subscription_id = path.into_inner();
    let removed = state
        .db
        .run(move |conn| subscriptions::delete(conn, &id, &subscription_id))
        .await?;
    if removed {
        Ok(see_other("/feeds"))
    } else {
        Err(WebError::NotFound)
    }
}
