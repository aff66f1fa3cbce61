//! A feed's caption settings in the JSON API: shown on every feed, changed with
//! `PATCH /api/v1/feeds/{id}/settings`, and the feed's own templates under
//! `/api/v1/feeds/{id}/templates`. Checked as the feed's page checks them.

use actix_web::{web, HttpResponse};

use super::auth::ApiUser;
use super::error::ApiError;
use super::feeds::FeedOut;
use super::rfc3339;
use super::templates::{TemplateErrorBody, TemplateIn};
use crate::billing::Feature;
use crate::captions::{
    parse_hashtag_list, HashtagCaps, Language, Platform, UtmTags, MASTODON_MAX_LIMIT,
    MASTODON_MIN_LIMIT,
};
use crate::db::DbError;
use crate::desk::regenerate;
use crate::desk::templates_store::valid_variant;
use crate::desk::{feed_templates, template_edits};
use crate::subscriptions::{self, split_list, CaptionSettings, SubscribedFeed, SubscriptionId};
use crate::web::AppState;

/// How a feed's captions are made.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct FeedSettingsOut {
    /// The template variants made for each platform.
    pub variants: Vec<String>,
    /// The Mastodon instance's limit; absent: 500.
    pub mastodon_limit: Option<i32>,
    /// Whether links get UTM parameters.
    pub utm: bool,
    /// With `{platform}` and `{feed}` filled in; empty: `{platform}`.
    pub utm_source: String,
    /// Empty: `social`.
    pub utm_medium: String,
    /// Empty: `captionfeed`.
    pub utm_campaign: String,
    /// The language chosen for the fixed words ("Read more", "Link in bio"); empty: the
    /// feed's own.
    pub language: String,
    /// The language the feed declares, in lowercase (`de-de`); absent when it declares none.
    pub feed_language: Option<String>,
    /// The language the fixed words are written in now: en, de, fr, es, nl, pt, it, ja or ko.
    pub words_language: String,
    pub include_keywords: Vec<String>,
    pub exclude_keywords: Vec<String>,
    pub hashtags: HashtagsOut,
}

/// Which hashtags the captions carry.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct HashtagsOut {
    /// Added to every caption, first.
    pub always: Vec<String>,
    /// Never used.
    pub blocked: Vec<String>,
    /// Short upper-case tags kept although they look cryptic.
    pub kept: Vec<String>,
    pub caps: HashtagCapsOut,
}

/// Hashtags per caption at most, per platform.
#[derive(serde::Serialize, serde::Deserialize, utoipa::ToSchema, Default)]
pub struct HashtagCapsOut {
    pub x: usize,
    pub mastodon: usize,
    pub bluesky: usize,
    /// At most 1 (its topic tag).
    pub threads: usize,
    pub linkedin: usize,
    /// At most 5.
    pub instagram: usize,
    pub facebook: usize,
}

impl From<&SubscribedFeed> for FeedSettingsOut {
    fn from(s: &SubscribedFeed) -> Self {
        let sub = &s.subscription;
        let rules = sub.hashtag_rules();
        let cap = |p| rules.caps.get(p);
        FeedSettingsOut {
            variants: sub.variant_list(),
            mastodon_limit: sub.mastodon_limit,
            utm: sub.utm,
            utm_source: sub.utm_source.clone(),
            utm_medium: sub.utm_medium.clone(),
            utm_campaign: sub.utm_campaign.clone(),
            language: sub
                .chosen_language()
                .map(|l| l.code().to_owned())
                .unwrap_or_default(),
            feed_language: s.feed.language.clone(),
            words_language: sub.language(&s.feed).code().to_owned(),
            include_keywords: split_list(&sub.include_keywords),
            exclude_keywords: split_list(&sub.exclude_keywords),
            hashtags: HashtagsOut {
                always: rules.always.clone(),
                blocked: rules.blocked.clone(),
                kept: rules.kept.clone(),
                caps: HashtagCapsOut {
                    x: cap(Platform::X),
                    mastodon: cap(Platform::Mastodon),
                    bluesky: cap(Platform::Bluesky),
                    threads: cap(Platform::Threads),
                    linkedin: cap(Platform::Linkedin),
                    instagram: cap(Platform::Instagram),
                    facebook: cap(Platform::Facebook),
                },
            },
        }
    }
}

/// Changes to a feed's settings; what is left out stays as it is.
#[derive(serde::Deserialize, utoipa::ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct FeedSettingsPatch {
    /// Platform ids; at least one.
    pub platforms: Option<Vec<String>>,
    /// Variant names (1 to 32 lowercase letters, digits, - or _).
    pub variants: Option<Vec<String>>,
    /// From 100 to 100000; 0 goes back to the default 500.
    pub mastodon_limit: Option<u32>,
    pub utm: Option<bool>,
    /// At most 100 characters; `{platform}` and `{feed}` are filled in; empty: the default.
    pub utm_source: Option<String>,
    pub utm_medium: Option<String>,
    pub utm_campaign: Option<String>,
    /// en, de, fr, es, nl, pt, it, ja or ko; empty: the feed's own.
    pub language: Option<String>,
    pub include_keywords: Option<Vec<String>>,
    pub exclude_keywords: Option<Vec<String>>,
    pub hashtags: Option<HashtagsPatch>,
}

/// Changes to the hashtag settings; what is left out stays as it is.
#[derive(serde::Deserialize, utoipa::ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct HashtagsPatch {
    pub always: Option<Vec<String>>,
    pub blocked: Option<Vec<String>>,
    pub kept: Option<Vec<String>>,
    /// Every platform's cap; threads at most 1, instagram at most 5, others at most 30.
    pub caps: Option<HashtagCapsOut>,
}

/// `settings` with `patch` applied, or why it cannot be.
fn patched(
    mut settings: CaptionSettings,
    patch: FeedSettingsPatch,
) -> Result<CaptionSettings, String> {
    if let Some(ids) = patch.platforms {
        let platforms: Vec<Platform> = ids
            .iter()
            .map(|p| p.parse::<Platform>().map_err(|e| e.to_string()))
            .collect::<Result<_, _>>()?;
        if platforms.is_empty() {
            return Err("pick at least one platform to make captions for".into());
        }
        settings.platforms = Some(platforms);
    }
    if let Some(variants) = patch.variants {
        if let Some(bad) = variants.iter().find(|v| !valid_variant(v)) {
            return Err(format!(
                "\"{bad}\" is not a variant name (lowercase letters, digits, - or _)"
            ));
        }
        settings.variants = variants;
    }
    match patch.mastodon_limit {
        None => {}
        Some(0) => settings.mastodon_limit = None,
        Some(n) if (MASTODON_MIN_LIMIT..=MASTODON_MAX_LIMIT).contains(&(n as usize)) => {
            settings.mastodon_limit = i32::try_from(n).ok();
        }
        Some(_) => {
            return Err(format!(
                "the Mastodon limit must be a number from {MASTODON_MIN_LIMIT} to {MASTODON_MAX_LIMIT}, or 0 for the default"
            ))
        }
    }
    if let Some(utm) = patch.utm {
        settings.utm = utm;
    }
    let old = settings.utm_tags.clone();
    settings.utm_tags = UtmTags::parse(
        patch.utm_source.as_deref().unwrap_or(&old.source),
        patch.utm_medium.as_deref().unwrap_or(&old.medium),
        patch.utm_campaign.as_deref().unwrap_or(&old.campaign),
    )?;
    if let Some(code) = patch.language {
        settings.language = match code.trim() {
            "" => None,
            code => Some(
                Language::from_tag(code)
                    .ok_or_else(|| format!("\"{code}\" is not a language of the fixed words"))?,
            ),
        };
    }
    if let Some(words) = patch.include_keywords {
        settings.include_keywords = split_list(&words.join(","));
    }
    if let Some(words) = patch.exclude_keywords {
        settings.exclude_keywords = split_list(&words.join(","));
    }
    if let Some(tags) = patch.hashtags {
        let list = |v: Vec<String>| parse_hashtag_list(&v.join(","));
        if let Some(v) = tags.always {
            settings.hashtags.always = list(v);
        }
        if let Some(v) = tags.blocked {
            settings.hashtags.blocked = list(v);
        }
        if let Some(v) = tags.kept {
            settings.hashtags.kept = list(v);
        }
        if let Some(c) = tags.caps {
            settings.hashtags.caps = HashtagCaps::parse(&format!(
                "x={},mastodon={},bluesky={},threads={},linkedin={},instagram={},facebook={}",
                c.x, c.mastodon, c.bluesky, c.threads, c.linkedin, c.instagram, c.facebook
            ))
            .map_err(|e| e.to_string())?;
        }
    }
    Ok(settings)
}

/// The settings as stored, to patch.
fn current(s: &subscriptions::Subscription) -> CaptionSettings {
    CaptionSettings {
        platforms: None,
        variants: s.variant_list(),
        mastodon_limit: s.mastodon_limit,
        utm: s.utm,
        include_keywords: split_list(&s.include_keywords),
        exclude_keywords: split_list(&s.exclude_keywords),
        hashtags: s.hashtag_rules(),
        utm_tags: s.utm_tags(),
        language: s.chosen_language(),
    }
}

#[utoipa::path(patch, path = "/api/v1/feeds/{id}/settings", tag = "feeds", operation_id = "update_feed_settings",
    params(("id" = String, Path, description = "feed id")),
    request_body = FeedSettingsPatch,
    responses(
        (status = 200, description = "saved; the feed's captions not used yet (not posted, edited or served) of the last 7 days are rewritten with them", body = FeedOut),
        (status = 401, body = super::error::ErrorBody),
        (status = 403, description = "template variants are not in the account's plan (billing on)", body = super::error::ErrorBody),
        (status = 404, body = super::error::ErrorBody),
        (status = 422, description = "a value that cannot be used; nothing is changed", body = super::error::ErrorBody),
    ),
    security(("bearer" = [])))]
#[tracing::instrument(skip_all)]
pub async fn patch(
    state: web::Data<AppState>,
    user: ApiUser,
    path: web::Path<String>,
    body: web::Json<FeedSettingsPatch>,
) -> Result<web::Json<FeedOut>, ApiError> {
    let subscription_id = SubscriptionId(path.into_inner());
    let (id, target) = (user.id(), subscription_id.clone());
    let found = state
        .db
        .run(move |conn| subscriptions::get(conn, &id, &target))
        .await?
        .ok_or(ApiError::NotFound)?;
    let settings =
        patched(current(&found.subscription), body.into_inner()).map_err(ApiError::Invalid)?;
    let default_only = settings
        .variants
        .iter()
        .all(|v| v == crate::captions::DEFAULT_VARIANT);
    if !default_only {
        super::auth::require(&state, &user.id(), Feature::Variants).await?;
    }
    let (id, target) = (user.id(), subscription_id.clone());
    state
        .db
        .transaction(move |conn| {
            if subscriptions::update_settings(conn, &id, &target, &settings)? {
                regenerate::for_subscription(conn, &id, &target, crate::db::now())?;
            }
            Ok::<_, DbError>(())
        })
        .await?;
    let id = user.id();
    let feed = state
        .db
        .run(move |conn| subscriptions::get(conn, &id, &subscription_id))
        .await?
        .ok_or(ApiError::NotFound)?;
    Ok(web::Json(FeedOut::from(feed)))
}

/// One of a feed's own templates.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct FeedTemplateOut {
    /// x, mastodon, bluesky, threads, linkedin, instagram or facebook.
    pub platform: String,
    pub variant: String,
    /// minijinja source.
    pub source: String,
    pub updated_at: String,
}

/// A feed's own templates; they override the account's of the same platform and variant.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct FeedTemplateList {
    pub templates: Vec<FeedTemplateOut>,
}

async fn feed_templates_of(
    state: &AppState,
    user: &ApiUser,
    subscription_id: SubscriptionId,
) -> Result<Vec<FeedTemplateOut>, ApiError> {
    let id = user.id();
    let rows = state
        .db
        .run(move |conn| {
            if subscriptions::get(conn, &id, &subscription_id)?.is_none() {
                return Ok(None);
            }
            Ok::<_, DbError>(Some(feed_templates::list(conn, &id, &subscription_id)?))
        })
        .await?
        .ok_or(ApiError::NotFound)?;
    Ok(rows
        .into_iter()
        .map(|t| FeedTemplateOut {
            platform: t.platform,
            variant: t.variant,
            source: t.source,
            updated_at: rfc3339(&t.updated_at),
        })
        .collect())
}

#[utoipa::path(get, path = "/api/v1/feeds/{id}/templates", tag = "feeds", operation_id = "list_feed_templates",
    params(("id" = String, Path, description = "feed id")),
    responses((status = 200, body = FeedTemplateList), (status = 401, body = super::error::ErrorBody), (status = 404, body = super::error::ErrorBody)),
    security(("bearer" = [])))]
#[tracing::instrument(skip_all)]
pub async fn list_templates(
    state: web::Data<AppState>,
    user: ApiUser,
    path: web::Path<String>,
) -> Result<web::Json<FeedTemplateList>, ApiError> {
    Ok(web::Json(FeedTemplateList {
        templates: feed_templates_of(&state, &user, SubscriptionId(path.into_inner())).await?,
    }))
}

#[utoipa::path(put, path = "/api/v1/feeds/{id}/templates/{platform}/{variant}", tag = "feeds", operation_id = "put_feed_template",
    params(
        ("id" = String, Path, description = "feed id"),
        ("platform" = String, Path, description = "x, mastodon, bluesky, threads, linkedin, instagram or facebook"),
        ("variant" = String, Path, description = "1 to 32 lowercase letters, digits, - or _; `default` for the platform's main template"),
    ),
    request_body = TemplateIn,
    responses(
        (status = 200, description = "saved; this feed's captions not used yet are rewritten with it", body = FeedTemplateOut),
        (status = 401, body = super::error::ErrorBody),
        (status = 404, description = "unknown feed or platform", body = super::error::ErrorBody),
        (status = 422, description = "refused, as for the account's templates", body = TemplateErrorBody),
        (status = 429, description = "more than 30 template saves and previews in a minute for this account, the account's and feeds' templates together; `Retry-After` says when to try again", body = super::error::ErrorBody),
    ),
    security(("bearer" = [])))]
#[tracing::instrument(skip_all)]
pub async fn put_template(
    state: web::Data<AppState>,
    user: ApiUser,
    path: web::Path<(String, String, String)>,
    body: web::Json<TemplateIn>,
) -> Result<HttpResponse, ApiError> {
    let (subscription_id, platform, variant) = path.into_inner();
    let subscription_id = SubscriptionId(subscription_id);
    let platform: Platform = platform.parse().map_err(|_| ApiError::NotFound)?;
    // A feed's template runs like the account's: one limit for both.
    state.template_limiter.check(user.id().as_str())?;
    let (id, sub, v, source) = (
        user.id(),
        subscription_id.clone(),
        variant.clone(),
        body.into_inner().source,
    );
    let saved = state
        .db
        .transaction(move |conn| {
            template_edits::save_for_feed(conn, &id, &sub, platform, &v, &source)
        })
        .await;
    match saved {
        Ok(Some(_)) => {}
        Ok(None) => return Err(ApiError::NotFound),
        Err(e) => return super::templates::refused(e),
    }
    let saved = feed_templates_of(&state, &user, subscription_id)
        .await?
        .into_iter()
        .find(|t| t.platform == platform.id() && t.variant == variant)
        .ok_or_else(|| ApiError::internal("a saved template was not found"))?;
    Ok(HttpResponse::Ok().json(saved))
}

#[utoipa::path(delete, path = "/api/v1/feeds/{id}/templates/{platform}/{variant}", tag = "feeds", operation_id = "delete_feed_template",
    params(
        ("id" = String, Path, description = "feed id"),
        ("platform" = String, Path, description = "x, mastodon, bluesky, threads, linkedin, instagram or facebook"),
        ("variant" = String, Path, description = "the variant's name"),
    ),
    responses(
        (status = 204, description = "removed: the account's template (or the built-in one) is used again"),
        (status = 401, body = super::error::ErrorBody),
        (status = 404, description = "unknown feed or platform, or the feed has no such template", body = super::error::ErrorBody),
    ),
    security(("bearer" = [])))]
#[tracing::instrument(skip_all)]
pub async fn delete_template(
    state: web::Data<AppState>,
    user: ApiUser,
    path: web::Path<(String, String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (subscription_id, platform, variant) = path.into_inner();
    let subscription_id = SubscriptionId(subscription_id);
    let platform: Platform = platform.parse().map_err(|_| ApiError::NotFound)?;
    let id = user.id();
    let removed = state
        .db
        .transaction(move |conn| {
            Ok::<_, DbError>(template_edits::delete_for_feed(
                conn,
                &id,
                &subscription_id,
                platform,
                &variant,
            )?)
        })
        .await?;
    match removed {
        Some(_) => Ok(HttpResponse::NoContent().finish()),
        None => Err(ApiError::NotFound),
    }
}
