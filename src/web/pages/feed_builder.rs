//! The template builder on one feed's own templates: a page per (platform, variant),
//! opening with the template in force for the feed (its own, else the account's, else the
//! built-in one), previewed on the feed's recent posts, saved as the feed's own template.

use actix_web::http::StatusCode;
use actix_web::{get, post, web, HttpRequest, HttpResponse};
use askama::Template;

use super::builder::{self as form_builder, BuilderForm, BuilderView, Step};
use super::{render, see_other, Layout};
use crate::captions::builder::{self, Block};
use crate::captions::{
    builtin_template_source, Language, Platform, PostView, Settings, DEFAULT_VARIANT,
};
use crate::db::DbError;
use crate::desk::store::latest_posts;
use crate::desk::templates_store::{self, valid_variant, SaveError};
use crate::desk::{feed_templates, template_edits};
use crate::subscriptions::{self, SubscriptionId};
use crate::web::api::error::ApiError;
use crate::web::csrf::CheckedForm;
use crate::web::error::WebError;
use crate::web::session::CurrentUser;
use crate::web::AppState;

#[derive(Template)]
#[template(path = "feed_builder.html")]
struct FeedBuilderPage {
    layout: Layout,
    feed_id: String,
    feed_title: String,
    /// (id, name, selected) of each platform, for its tab.
    platforms: Vec<(&'static str, &'static str, bool)>,
    builder: BuilderView,
}

#[derive(serde::Deserialize, Default)]
#[serde(default)]
pub struct Selection {
    platform: Option<String>,
    variant: Option<String>,
}

/// What the page needs of the feed, read once per request.
struct FeedState {
    title: String,
    /// The template in force for the feed on the page's (platform, variant).
    source: String,
    language: Language,
    posts: Vec<(PostView, Settings)>,
}

async fn load(
    state: &AppState,
    user: &CurrentUser,
    subscription_id: &str,
    platform: Platform,
    variant: &str,
) -> Result<FeedState, WebError> {
    let (id, target, v) = (
        user.id(),
        SubscriptionId::from(subscription_id),
        variant.to_owned(),
    );
    state
        .db
        .run(move |conn| {
            let Some(subscribed) = subscriptions::get(conn, &id, &target)? else {
                return Ok(None);
            };
            let own = |t: &templates_store::StoredTemplate| {
                (t.platform == platform.id() && t.variant == v).then(|| t.source.clone())
            };
            let source = match feed_templates::list(conn, &id, &target)?
                .iter()
                .find_map(own)
            {
                Some(source) => Some(source),
                None => templates_store::list(conn, &id)?.iter().find_map(own),
            };
            let settings = subscribed.subscription.caption_settings(&subscribed.feed);
            let posts = latest_posts(conn, &id, Some(&target), form_builder::PREVIEW_POSTS)?;
            Ok::<_, DbError>(Some(FeedState {
                title: subscribed
                    .feed
                    .title
                    .clone()
                    .unwrap_or_else(|| subscribed.feed.url.clone()),
                source: source
                    .or_else(|| builtin_template_source(platform, &v))
                    .unwrap_or_default(),
                language: settings.language,
                posts,
            }))
        })
        .await?
        .ok_or(WebError::NotFound)
}

fn parse(platform: Option<&str>, variant: Option<&str>) -> Result<(Platform, String), WebError> {
    let platform = match platform {
        None | Some("") => Platform::X,
        Some(id) => id.parse().map_err(|_| WebError::NotFound)?,
    };
    let variant = variant.unwrap_or(DEFAULT_VARIANT).trim().to_owned();
    if !valid_variant(&variant) {
        return Err(WebError::NotFound);
    }
    Ok((platform, variant))
}

#[allow(clippy::too_many_arguments)]
fn page(
    req: &HttpRequest,
    state: &AppState,
    user: &CurrentUser,
    subscription_id: &str,
    feed: &FeedState,
    platform: Platform,
    variant: &str,
    blocks: &[Block],
    post: usize,
    error: Option<String>,
) -> FeedBuilderPage {
    let hand_written = builder::from_source(&feed.source, platform).is_none();
    let mut built = form_builder::view(
        format!("/feeds/{subscription_id}/templates/builder"),
        platform,
        variant,
        blocks,
        hand_written,
        &feed.posts,
        post,
        feed.language,
    );
    built.error = error;
    FeedBuilderPage {
        layout: Layout::new(req, state, Some(&user.user)),
        feed_id: subscription_id.to_owned(),
        feed_title: feed.title.clone(),
        platforms: Platform::ALL
            .into_iter()
            .map(|p| (p.id(), p.display_name(), p == platform))
            .collect(),
        builder: built,
    }
}

#[get("/feeds/{id}/templates/builder")]
pub async fn show(
    req: HttpRequest,
    state: web::Data<AppState>,
    user: CurrentUser,
    path: web::Path<String>,
    query: web::Query<Selection>,
) -> Result<HttpResponse, WebError> {
    let subscription_id = path.into_inner();
    let (platform, variant) = parse(query.platform.as_deref(), query.variant.as_deref())?;
    let feed = load(&state, &user, &subscription_id, platform, &variant).await?;
    let (blocks, _) = form_builder::opening(&feed.source, platform);
    let shown = page(
        &req,
        &state,
        &user,
        &subscription_id,
        &feed,
        platform,
        &variant,
        &blocks,
        0,
        None,
    );
    render(StatusCode::OK, &shown)
}

/// One step of the builder; a save writes the feed's own template.
#[post("/feeds/{id}/templates/builder")]
pub async fn build(
    req: HttpRequest,
    state: web::Data<AppState>,
    user: CurrentUser,
    path: web::Path<String>,
    form: CheckedForm<BuilderForm>,
) -> Result<HttpResponse, WebError> {
    let subscription_id = path.into_inner();
    let form = form.0;
    let (platform, variant) = parse(Some(&form.platform), Some(&form.variant))?;
    let feed = load(&state, &user, &subscription_id, platform, &variant).await?;
    let shown = |blocks: &[Block], error: Option<String>| {
        page(
            &req,
            &state,
            &user,
            &subscription_id,
            &feed,
            platform,
            &variant,
            blocks,
            form.post(),
            error,
        )
    };
    let blocks = match form.step() {
        Step::Edit(blocks, None) => return render(StatusCode::OK, &shown(&blocks, None)),
        Step::Edit(blocks, error) => {
            return render(StatusCode::UNPROCESSABLE_ENTITY, &shown(&blocks, error))
        }
        Step::Save(blocks) => blocks,
    };
    // A feed's template runs like the account's: one limit for both.
    if let Err(ApiError::RateLimited(seconds)) = state.template_limiter.check(user.id().as_str()) {
        let error = super::templates::too_many_tries(seconds);
        let mut response = render(StatusCode::TOO_MANY_REQUESTS, &shown(&blocks, Some(error)))?;
        response.headers_mut().insert(
            actix_web::http::header::RETRY_AFTER,
            actix_web::http::header::HeaderValue::from(seconds),
        );
        return Ok(response);
    }
    let source = builder::to_source(&blocks, platform, feed.language);
    let (id, target, v) = (
        user.id(),
        SubscriptionId(subscription_id.clone()),
        variant.clone(),
    );
    let saved = state
        .db
        .transaction(move |conn| {
            template_edits::save_for_feed(conn, &id, &target, platform, &v, &source)
        })
        .await;
    match saved {
        Ok(Some(_)) => Ok(see_other(&format!(
            "/feeds/{subscription_id}?saved=1#feed-templates"
        ))),
        Ok(None) => Err(WebError::NotFound),
        Err(SaveError::Db(e)) => Err(e.into()),
        Err(e) => render(
            StatusCode::UNPROCESSABLE_ENTITY,
            &shown(&blocks, Some(e.to_string())),
        ),
    }
}
