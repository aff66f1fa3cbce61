//! `/api/v1/feeds`: the account's feeds (subscriptions) with their fetch state.

use actix_web::{web, HttpResponse};

use super::auth::ApiUser;
use super::error::ApiError;
use super::rfc3339;
use crate::subscriptions::check_now::CheckNow;
use crate::subscriptions::follow::{FollowError, SameBlog};
use crate::subscriptions::{self, SubscribedFeed, SubscriptionId};
use crate::web::AppState;

#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct FeedOut {
    /// The id of the account's subscription: use it in /feeds/{id} and ?feed=.
    pub id: String,
    pub url: String,
    pub title: Option<String>,
    pub site_url: Option<String>,
    pub last_checked_at: Option<String>,
    pub next_check_at: String,
    pub last_error: Option<String>,
    /// Failed checks in a row.
    pub error_count: i32,
    /// When the current run of failed checks began; absent while the feed works.
    pub erroring_since: Option<String>,
    /// The HTTP status of the last answer, if there was one.
    pub last_status: Option<i32>,
    /// When the feed answered 410 Gone; it is no longer checked.
    pub gone_at: Option<String>,
    pub platforms: Vec<String>,
    /// How its captions are made; change with PATCH /api/v1/feeds/{id}/settings.
    pub settings: super::feed_settings::FeedSettingsOut,
}

impl From<SubscribedFeed> for FeedOut {
    fn from(s: SubscribedFeed) -> Self {
        let platforms = s
            .subscription
            .platform_list()
            .iter()
            .map(|p| p.id().to_string())
            .collect();
        let settings = super::feed_settings::FeedSettingsOut::from(&s);
        FeedOut {
            id: s.subscription.id.0,
            url: s.feed.url,
            title: s.feed.title,
            site_url: s.feed.site_url,
            last_checked_at: s.feed.last_checked_at.as_ref().map(rfc3339),
            next_check_at: rfc3339(&s.feed.next_check_at),
            last_error: s.feed.last_error,
            error_count: s.feed.error_count,
            erroring_since: s.feed.erroring_since.as_ref().map(rfc3339),
            last_status: s.feed.last_status,
            gone_at: s.feed.gone_at.as_ref().map(rfc3339),
            platforms,
            settings,
        }
    }
}

#[derive(serde::Deserialize, utoipa::ToSchema)]
pub struct NewFeed {
    /// The feed's address (http or https), or a site's address naming one feed.
    pub url: String,
    /// Follow it even when the account follows the same blog through another feed
    /// (same site address, or most entry links the same); otherwise that is a 409.
    #[serde(default)]
    pub same_blog: bool,
}

// "list" alone would also be the captions listing's id; ids must be unique.
#[utoipa::path(get, path = "/api/v1/feeds", tag = "feeds", operation_id = "list_feeds",
    responses((status = 200, body = [FeedOut]), (status = 401, body = super::error::ErrorBody)),
    security(("bearer" = [])))]
#[tracing::instrument(skip_all)]
pub async fn list(
    state: web::Data<AppState>,
    user: ApiUser,
) -> Result<web::Json<Vec<FeedOut>>, ApiError> {
    let id = user.id();
    let feeds = state
        .db
        .run(move |conn| subscriptions::list(conn, &id))
        .await?;
    Ok(web::Json(feeds.into_iter().map(FeedOut::from).collect()))
}

#[utoipa::path(post, path = "/api/v1/feeds", tag = "feeds", request_body = NewFeed,
    responses(
        (status = 201, description = "followed; fetched at once", body = FeedOut),
        (status = 401, body = super::error::ErrorBody),
        (status = 403, description = "the account's plan allows no more feeds (billing on)", body = super::error::ErrorBody),
        (status = 409, description = "already followed, or the same blog is followed through another feed (the message names it; send `same_blog: true` to follow this one too)", body = super::error::ErrorBody),
        (status = 422, description = "the address cannot be followed: refused by the address guard, answers 404 or 410, holds no feed, or is a site offering several feeds", body = super::error::ErrorBody),
    ),
    security(("bearer" = [])))]
#[tracing::instrument(skip_all)]
pub async fn create(
    state: web::Data<AppState>,
    user: ApiUser,
    body: web::Json<NewFeed>,
) -> Result<HttpResponse, ApiError> {
    let same_blog = if body.same_blog {
        SameBlog::Follow
    } else {
        SameBlog::Refuse
    };
    let subscription = match state.follow().feed(&user.id(), &body.url, same_blog).await {
        Ok(subscription) => subscription,
        Err(FollowError::Invalid(message) | FollowError::NotAFeed(message)) => {
            return Err(ApiError::Invalid(message))
        }
        Err(FollowError::OverLimit(message)) => {
            let billing = format!("{}billing", state.settings.base_url);
            return Err(ApiError::PlanLimit(format!("{message} ({billing})")));
        }
        Err(FollowError::AlreadyFollowed(id)) => {
            return Err(ApiError::Conflict(match id {
                Some(id) => format!("this feed is already followed as {id}"),
                None => "this feed is already followed".into(),
            }))
        }
        Err(FollowError::SameBlog(followed)) => {
            return Err(ApiError::Conflict(format!(
                "this blog is already followed as {} through {}",
                followed.subscription.id, followed.feed.url
            )))
        }
        Err(FollowError::Choose(found)) => {
            let urls: Vec<&str> = found.iter().map(|c| c.url.as_str()).collect();
            return Err(ApiError::Invalid(format!(
                "this page offers several feeds; follow one of: {}",
                urls.join(", ")
            )));
        }
        Err(FollowError::Db(e)) => return Err(e.into()),
    };
    let feed = find(&state, &user, subscription.id).await?;
    Ok(HttpResponse::Created()
        .insert_header(("Location", format!("/api/v1/feeds/{}", feed.id)))
        .json(feed))
}

#[utoipa::path(get, path = "/api/v1/feeds/{id}", tag = "feeds",
    params(("id" = String, Path, description = "feed id")),
    responses((status = 200, body = FeedOut), (status = 401, body = super::error::ErrorBody), (status = 404, body = super::error::ErrorBody)),
    security(("bearer" = [])))]
#[tracing::instrument(skip_all, fields(feed = %path))]
pub async fn show(
    state: web::Data<AppState>,
    user: ApiUser,
    path: web::Path<String>,
) -> Result<web::Json<FeedOut>, ApiError> {
    Ok(web::Json(
        find(&state, &user, SubscriptionId(path.into_inner())).await?,
    ))
}

#[utoipa::path(delete, path = "/api/v1/feeds/{id}", tag = "feeds",
    params(("id" = String, Path, description = "feed id")),
    responses((status = 204, description = "unfollowed; its captions are removed"), (status = 401, body = super::error::ErrorBody), (status = 404, body = super::error::ErrorBody)),
    security(("bearer" = [])))]
#[tracing::instrument(skip_all, fields(feed = %path))]
pub async fn delete(
    state: web::Data<AppState>,
    user: ApiUser,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let (id, subscription_id) = (user.id(), SubscriptionId(path.into_inner()));
    let removed = state
        .db
        .run(move |conn| subscriptions::delete(conn, &id, &subscription_id))
        .await?;
    if removed {
        Ok(HttpResponse::NoContent().finish())
    } else {
        Err(ApiError::NotFound)
    }
}

async fn find(
    state: &AppState,
    user: &ApiUser,
    subscription_id: SubscriptionId,
) -> Result<FeedOut, ApiError> {
    let id = user.id();
    state
        .db
        .run(move |conn| subscriptions::get(conn, &id, &subscription_id))
        .await?
        .map(FeedOut::from)
        .ok_or(ApiError::NotFound)
}

#[utoipa::path(post, path = "/api/v1/feeds/{id}/poll", tag = "feeds",
    params(("id" = String, Path, description = "feed id")),
    responses(
        (status = 202, description = "the feed is checked within seconds", body = FeedOut),
        (status = 401, body = super::error::ErrorBody),
        (status = 404, body = super::error::ErrorBody),
        (status = 409, description = "stopped: the feed answered 410 Gone", body = super::error::ErrorBody),
        (status = 429, description = "checked less than a minute ago; see Retry-After", body = super::error::ErrorBody),
    ),
    security(("bearer" = [])))]
#[tracing::instrument(skip_all, fields(feed = %path))]
pub async fn poll_now(
    state: web::Data<AppState>,
    user: ApiUser,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    match state.check_now(&user.id(), path.into_inner()).await? {
        CheckNow::Asked(subscribed) => {
            Ok(HttpResponse::Accepted().json(FeedOut::from(*subscribed)))
        }
        CheckNow::NotFound => Err(ApiError::NotFound),
        CheckNow::Gone => Err(ApiError::Conflict(
            "the feed answered 410 Gone and is no longer checked".into(),
        )),
        CheckNow::TooSoon(wait) => Err(ApiError::RateLimited(wait.as_secs().max(1))),
    }
}
