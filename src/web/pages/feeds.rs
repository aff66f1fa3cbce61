//! The account's feeds: list, add, show, remove.

use actix_web::http::StatusCode;
use actix_web::{get, post, web, HttpRequest, HttpResponse};
use askama::Template;

use super::captions::{caption_groups, CaptionGroup};
use super::{format_optional_time, format_time, render, see_other, see_other_if_found, Layout};
use crate::billing::Feature;
use crate::captions::{
    max_hashtag_cap, parse_hashtag_list, CapsError, HashtagCaps, HashtagRules, Language, Platform,
    UtmTags, MASTODON_MAX_LIMIT, MASTODON_MIN_LIMIT,
};
use crate::db::DbError;
use crate::desk::regenerate::{self, Regenerated};
use crate::desk::store::list_account_captions;
use crate::desk::templates_store::{valid_variant, SaveError};
use crate::desk::{feed_templates, template_edits};
use crate::feeds::discover::Candidate;
use crate::feeds::store::count_feed_posts;
use crate::subscriptions::check_now::CheckNow;
use crate::subscriptions::follow::{FollowError, SameBlog};
use crate::subscriptions::{self, SubscribedFeed, SubscriptionId};
use crate::web::api::error::ApiError;
use crate::web::csrf::CheckedForm;
use crate::web::error::WebError;
use crate::web::session::CurrentUser;
use crate::web::AppState;

use actix_web::FromRequest as _;

use super::stored_pages::{self, Rendered};

/// A feed as the pages show it; every text comes from the feed and is escaped on output.
pub struct FeedRow {
    pub id: String,
    pub title: String,
    pub url: String,
    pub site_url: Option<String>,
    pub last_checked: String,
    /// When the feed last answered with a feed (or 304); "never" until then.
    pub last_success: String,
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
    /// Stopped by captionfeed for every account: the note saying why.
    pub stopped: Option<String>,
    /// Paused because the account's plan runs fewer feeds (billing).
    pub paused_by_plan: bool,
    /// Where push updates (WebSub) stand, when the feed names a hub.
    pub push: Option<String>,
}

/// One line on WebSub for the feed's page: readers of the page want to know whether new
/// posts arrive in seconds or at the next check.
fn push_state(feed: &crate::feeds::store::Feed) -> Option<String> {
    use crate::websub::store::{ACTIVE, FAILED, LEAVING, REQUESTED, WANTED};
    let hub = feed.websub_hub.as_deref()?;
    Some(match feed.websub_state.as_str() {
        ACTIVE => format!(
            "New posts are pushed by the hub {hub} within seconds (subscription renewed before {}).",
            format_optional_time(&feed.websub_lease_until)
        ),
        REQUESTED | WANTED => format!("Asking the hub {hub} to push new posts; until it confirms, checks find them."),
        FAILED => format!(
            "The hub {hub} does not push to us ({}); checks find new posts, and we ask it again daily.",
            feed.websub_error.as_deref().unwrap_or("no reason given")
        ),
        LEAVING => format!("The hub {hub} was asked to stop pushing: nobody checks this feed now."),
        _ => return None,
    })
}

impl From<&SubscribedFeed> for FeedRow {
    fn from(s: &SubscribedFeed) -> Self {
        let feed = &s.feed;
        FeedRow {
            id: s.subscription.id.0.clone(),
            title: feed
                .title
                .clone()
                .filter(|t| !t.trim().is_empty())
                .unwrap_or_else(|| feed.url.clone()),
            url: feed.url.clone(),
            site_url: feed.site_url.clone(),
            last_checked: format_optional_time(&feed.last_checked_at),
            last_success: format_optional_time(&feed.last_success_at),
            next_check: format_time(&feed.next_check_at),
            last_error: feed.last_error.clone(),
            error_count: feed.error_count,
            pending: feed.last_checked_at.is_none(),
            erroring_since: feed.erroring_since.as_ref().map(format_time),
            last_status: feed.last_status.map(|s| format!("HTTP {s}")),
            gone_since: feed.gone_at.as_ref().map(format_time),
            stopped: feed
                .stopped_at
                .map(|_| feed.stop_note.clone().unwrap_or_default()),
            paused_by_plan: s.subscription.paused_by_plan,
            push: push_state(feed),
        }
    }
}

#[derive(Template)]
#[template(path = "feeds.html")]
struct FeedsPage {
    layout: Layout,
    feeds: Vec<FeedRow>,
    /// Billing: the last payment failed and the plan ends then, unless paid.
    grace_until: Option<String>,
    /// Billing: how many feeds the plan has paused.
    paused_by_plan: usize,
}

/// The feeds list, served from the stored pages while nothing on it changed (see
/// `stored_pages`): each check of a feed raises the pages version of its subscribers.
#[get("/feeds")]
pub async fn list(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, WebError> {
    let (req, state) = (&req, state.get_ref());
    stored_pages::serve(req, state, "/feeds".into(), |user| async move {
        let id = user.id();
        let billing = state.settings.billing.is_some();
        let (feeds, billing_row) = state
            .db
            .run(move |conn| {
                let row = match billing {
                    true => crate::billing::account::get(conn, &id)?,
                    false => None,
                };
                Ok::<_, DbError>((subscriptions::list(conn, &id)?, row))
            })
            .await?;
        let page = FeedsPage {
            layout: Layout::new(req, state, Some(&user.user)),
            grace_until: billing_row
                .as_ref()
                .and_then(|r| r.grace_until())
                .map(|t| format_time(&t)),
            paused_by_plan: feeds
                .iter()
                .filter(|f| f.subscription.paused_by_plan)
                .count(),
            feeds: feeds.iter().map(FeedRow::from).collect(),
        };
        Ok(Rendered::Keep(page.render()?))
    })
    .await
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
    /// The plan's feed limit was reached: link the billing page.
    upgrade: bool,
    /// The account follows this blog through another feed: offer to follow this one too.
    same_blog: bool,
}

#[get("/feeds/new")]
pub async fn new_form(
    req: HttpRequest,
    state: web::Data<AppState>,
    user: CurrentUser,
    query: web::Query<NewFeedForm>,
) -> Result<HttpResponse, WebError> {
    let query = query.into_inner();
    let page = NewFeedPage {
        layout: Layout::new(&req, &state, Some(&user.user)),
        // Filled in when sign-up could not follow the feed tried on the front page.
        url: query.url,
        error: (query.notice == "not_followed").then(|| {
            "Your account is ready, but the feed you tried could not be followed. \
             Add it again below to see why, or try another address."
                .to_owned()
        }),
        existing: None,
        candidates: Vec::new(),
        upgrade: false,
        same_blog: false,
    };
    render(StatusCode::OK, &page)
}

#[derive(serde::Deserialize, Default)]
#[serde(default)]
pub struct NewFeedForm {
    url: String,
    /// `not_followed`: sign-up could not follow the feed tried on the front page.
    notice: String,
    /// `follow`: follow it although the account follows the same blog through another feed.
    same_blog: String,
}

#[post("/feeds")]
#[tracing::instrument(skip_all)]
pub async fn create(
    req: HttpRequest,
    state: web::Data<AppState>,
    user: CurrentUser,
    form: CheckedForm<NewFeedForm>,
) -> Result<HttpResponse, WebError> {
    let raw = form.0.url;
    let same_blog = if form.0.same_blog == "follow" {
        SameBlog::Follow
    } else {
        SameBlog::Refuse
    };
    let refuse = |status, error: String, existing: Option<String>| {
        let page = NewFeedPage {
            layout: Layout::new(&req, &state, Some(&user.user)),
            url: raw.clone(),
            error: Some(error),
            existing,
            candidates: Vec::new(),
            upgrade: status == StatusCode::FORBIDDEN,
            same_blog: false,
        };
        render(status, &page)
    };
    match state.follow().feed(&user.id(), &raw, same_blog).await {
        Ok(subscription) => Ok(see_other(&format!("/feeds/{}", subscription.id))),
        Err(FollowError::Invalid(message) | FollowError::NotAFeed(message)) => {
            refuse(StatusCode::UNPROCESSABLE_ENTITY, message, None)
        }
        Err(FollowError::AlreadyFollowed(existing)) => refuse(
            StatusCode::CONFLICT,
            "You already follow this feed.".into(),
            existing,
        ),
        Err(FollowError::OverLimit(message)) => refuse(StatusCode::FORBIDDEN, message, None),
        Err(FollowError::SameBlog(followed)) => {
            let page = NewFeedPage {
                layout: Layout::new(&req, &state, Some(&user.user)),
                url: raw.clone(),
                error: Some(same_blog_sentence(&followed)),
                existing: Some(followed.subscription.id.0),
                candidates: Vec::new(),
                upgrade: false,
                same_blog: true,
            };
            render(StatusCode::CONFLICT, &page)
        }
        Err(FollowError::Choose(candidates)) => {
            let page = NewFeedPage {
                layout: Layout::new(&req, &state, Some(&user.user)),
                url: raw.clone(),
                error: None,
                existing: None,
                candidates,
                upgrade: false,
                same_blog: false,
            };
            render(StatusCode::OK, &page)
        }
        Err(FollowError::Db(e)) => Err(e.into()),
    }
}

/// What the person reads when the blog is followed through another feed already.
pub fn same_blog_sentence(followed: &SubscribedFeed) -> String {
    let title = followed.feed.title.as_deref().unwrap_or("another feed");
    format!(
        "You already follow this blog through “{title}” ({}): following this feed too would make each caption twice.",
        followed.feed.url
    )
}

#[derive(Template)]
#[template(path = "feed_show.html")]
struct FeedPage {
    layout: Layout,
    feed: FeedRow,
    post_count: i64,
    groups: Vec<CaptionGroup>,
    settings: SettingsView,
    /// What "Check now" did: a confirmation, or why it was not done.
    check: Option<CheckNotice>,
    /// The feed's own templates, and the form to write one.
    templates: Vec<crate::desk::templates_store::StoredTemplate>,
    template_form: FeedTemplateForm,
}

/// The form for one of the feed's own templates, as typed (a refused one keeps it).
#[derive(serde::Deserialize, Default, Clone)]
#[serde(default)]
pub struct FeedTemplateForm {
    platform: String,
    variant: String,
    source: String,
    /// `save` or `remove`.
    action: String,
    #[serde(skip)]
    error: Option<String>,
}

impl FeedTemplateForm {
    /// The platform choices, the form's one selected.
    pub fn platform_options(&self) -> Vec<(&'static str, &'static str, bool)> {
        Platform::ALL
            .into_iter()
            .map(|p| (p.id(), p.display_name(), self.platform == p.id()))
            .collect()
    }
}

/// The answer to "Check now", shown above the feed's health.
pub struct CheckNotice {
    pub done: bool,
    pub message: String,
}

/// The caption settings form's values, as typed (so a refused form keeps them).
#[derive(serde::Deserialize, Default, Clone)]
#[serde(default)]
pub struct SettingsView {
    /// Set by the form that shows the platform boxes: without it (an older form, a
    /// script) the platforms are left as they are rather than read as all unchecked.
    platforms_shown: Option<String>,
    // One checkbox per platform: an unchecked box is simply absent from the form.
    platform_x: Option<String>,
    platform_mastodon: Option<String>,
    platform_bluesky: Option<String>,
    platform_threads: Option<String>,
    platform_linkedin: Option<String>,
    platform_instagram: Option<String>,
    platform_facebook: Option<String>,
    variants: String,
    mastodon_limit: String,
    utm: Option<String>,
    include_keywords: String,
    exclude_keywords: String,
    hashtags_always: String,
    hashtags_blocked: String,
    hashtags_kept: String,
    // One number per platform; empty means the built-in cap.
    hashtag_cap_x: String,
    hashtag_cap_mastodon: String,
    hashtag_cap_bluesky: String,
    hashtag_cap_threads: String,
    hashtag_cap_linkedin: String,
    hashtag_cap_instagram: String,
    hashtag_cap_facebook: String,
    utm_source: String,
    utm_medium: String,
    utm_campaign: String,
    /// A language code, or empty for the feed's own.
    language: String,
    /// The feed's own language, as the feed declares it (shown, not sent).
    #[serde(skip)]
    feed_language: Option<String>,
    #[serde(skip)]
    saved: bool,
    #[serde(skip)]
    error: Option<String>,
    /// What saving did to the captions not used yet.
    #[serde(skip)]
    changes: Option<String>,
}

/// One platform's checkbox in the settings form.
pub struct PlatformBox {
    id: &'static str,
    name: &'static str,
    checked: bool,
}

/// One choice of language in the settings form.
pub struct LanguageOption {
    code: &'static str,
    name: String,
    selected: bool,
}

/// One platform's hashtag cap in the settings form.
pub struct CapField {
    id: &'static str,
    name: &'static str,
    value: String,
    max: usize,
}

impl SettingsView {
    fn of(s: &subscriptions::Subscription) -> Self {
        let chosen = s.platform_list();
        let on = |p: Platform| chosen.contains(&p).then(|| "on".to_owned());
        let caps = s.hashtag_rules().caps;
        SettingsView {
            platforms_shown: Some("1".to_owned()),
            platform_x: on(Platform::X),
            platform_mastodon: on(Platform::Mastodon),
            platform_bluesky: on(Platform::Bluesky),
            platform_threads: on(Platform::Threads),
            platform_linkedin: on(Platform::Linkedin),
            platform_instagram: on(Platform::Instagram),
            platform_facebook: on(Platform::Facebook),
            variants: s.variant_list().join(", "),
            mastodon_limit: s.mastodon_limit.map(|n| n.to_string()).unwrap_or_default(),
            utm: s.utm.then(|| "on".to_owned()),
            include_keywords: subscriptions::split_list(&s.include_keywords).join(", "),
            exclude_keywords: subscriptions::split_list(&s.exclude_keywords).join(", "),
            hashtags_always: parse_hashtag_list(&s.hashtags_always).join(", "),
            hashtags_blocked: parse_hashtag_list(&s.hashtags_blocked).join(", "),
            hashtags_kept: parse_hashtag_list(&s.hashtags_kept).join(", "),
            utm_source: s.utm_source.clone(),
            utm_medium: s.utm_medium.clone(),
            utm_campaign: s.utm_campaign.clone(),
            language: s
                .chosen_language()
                .map(|l| l.code().to_owned())
                .unwrap_or_default(),
            saved: false,
            error: None,
            changes: None,
            ..SettingsView::default()
        }
        .with_caps(&caps)
    }

    /// The view with `caps` in the cap fields.
    fn with_caps(mut self, caps: &HashtagCaps) -> Self {
        for (platform, n) in caps.all() {
            *self.cap_mut(platform) = n.to_string();
        }
        self
    }

    fn cap_mut(&mut self, platform: Platform) -> &mut String {
        match platform {
            Platform::X => &mut self.hashtag_cap_x,
            Platform::Mastodon => &mut self.hashtag_cap_mastodon,
            Platform::Bluesky => &mut self.hashtag_cap_bluesky,
            Platform::Threads => &mut self.hashtag_cap_threads,
            Platform::Linkedin => &mut self.hashtag_cap_linkedin,
            Platform::Instagram => &mut self.hashtag_cap_instagram,
            Platform::Facebook => &mut self.hashtag_cap_facebook,
        }
    }

    fn cap(&self, platform: Platform) -> &str {
        match platform {
            Platform::X => &self.hashtag_cap_x,
            Platform::Mastodon => &self.hashtag_cap_mastodon,
            Platform::Bluesky => &self.hashtag_cap_bluesky,
            Platform::Threads => &self.hashtag_cap_threads,
            Platform::Linkedin => &self.hashtag_cap_linkedin,
            Platform::Instagram => &self.hashtag_cap_instagram,
            Platform::Facebook => &self.hashtag_cap_facebook,
        }
    }

    /// The language choices: the feed's own first, then each language of the fixed words.
    pub fn language_options(&self) -> Vec<LanguageOption> {
        let own = match &self.feed_language {
            Some(tag) => match Language::from_tag(tag) {
                Some(l) => format!("The feed's own ({tag}: {})", l.name()),
                None => format!("The feed's own ({tag}: English words)"),
            },
            None => "The feed's own (none declared: English)".to_owned(),
        };
        std::iter::once(LanguageOption {
            code: "",
            name: own,
            selected: self.language.is_empty(),
        })
        .chain(Language::ALL.into_iter().map(|l| LanguageOption {
            code: l.code(),
            name: l.name().to_owned(),
            selected: self.language == l.code(),
        }))
        .collect()
    }

    /// The hashtag cap fields, in the platforms' usual order.
    pub fn cap_fields(&self) -> Vec<CapField> {
        Platform::ALL
            .into_iter()
            .map(|p| CapField {
                id: p.id(),
                name: p.display_name(),
                value: self.cap(p).to_owned(),
                max: max_hashtag_cap(p),
            })
            .collect()
    }

    /// The caps as typed, or why they cannot be stored; an empty field is the default.
    fn caps(&self) -> Result<HashtagCaps, String> {
        let setting: Vec<String> = Platform::ALL
            .into_iter()
            .filter(|p| !self.cap(*p).trim().is_empty())
            .map(|p| format!("{}={}", p.id(), self.cap(p).trim()))
            .collect();
        HashtagCaps::parse(&setting.join(",")).map_err(|e| match e {
            CapsError::Shape(_) => "hashtag caps must be whole numbers from 0".to_owned(),
            other => other.to_string(),
        })
    }

    fn checked(&self, platform: Platform) -> bool {
        match platform {
            Platform::X => &self.platform_x,
            Platform::Mastodon => &self.platform_mastodon,
            Platform::Bluesky => &self.platform_bluesky,
            Platform::Threads => &self.platform_threads,
            Platform::Linkedin => &self.platform_linkedin,
            Platform::Instagram => &self.platform_instagram,
            Platform::Facebook => &self.platform_facebook,
        }
        .is_some()
    }

    fn platforms(&self) -> Vec<Platform> {
        Platform::ALL
            .into_iter()
            .filter(|p| self.checked(*p))
            .collect()
    }

    /// The checkboxes, in the platforms' usual order.
    pub fn platform_boxes(&self) -> Vec<PlatformBox> {
        Platform::ALL
            .into_iter()
            .map(|p| PlatformBox {
                id: p.id(),
                name: p.display_name(),
                checked: self.checked(p),
            })
            .collect()
    }

    fn utm(&self) -> bool {
        self.utm.is_some()
    }

    /// The settings to store, or why they cannot be.
    fn parse(&self) -> Result<subscriptions::CaptionSettings, String> {
        let platforms = self.platforms_shown.is_some().then(|| self.platforms());
        if platforms.as_ref().is_some_and(Vec::is_empty) {
            return Err("pick at least one platform to make captions for".to_owned());
        }
        let variants = subscriptions::split_list(&self.variants);
        if let Some(bad) = variants.iter().find(|v| !valid_variant(v)) {
            return Err(format!(
                "\"{bad}\" is not a variant name (lowercase letters, digits, - or _)"
            ));
        }
        let mastodon_limit = match self.mastodon_limit.trim() {
            "" => None,
            n => match n.parse::<i32>() {
                Ok(n) if (MASTODON_MIN_LIMIT..=MASTODON_MAX_LIMIT).contains(&(n as usize)) => Some(n),
                _ => {
                    return Err(format!(
                        "the Mastodon limit must be a number from {MASTODON_MIN_LIMIT} to {MASTODON_MAX_LIMIT}"
                    ))
                }
            },
        };
        Ok(subscriptions::CaptionSettings {
            platforms,
            variants,
            mastodon_limit,
            utm: self.utm(),
            include_keywords: subscriptions::split_list(&self.include_keywords),
            exclude_keywords: subscriptions::split_list(&self.exclude_keywords),
            hashtags: HashtagRules {
                always: parse_hashtag_list(&self.hashtags_always),
                blocked: parse_hashtag_list(&self.hashtags_blocked),
                kept: parse_hashtag_list(&self.hashtags_kept),
                caps: self.caps()?,
            },
            utm_tags: UtmTags::parse(&self.utm_source, &self.utm_medium, &self.utm_campaign)?,
            language: match self.language.trim() {
                "" => None,
                code => {
                    Some(Language::from_tag(code).ok_or_else(|| {
                        format!("\"{code}\" is not a language of the fixed words")
                    })?)
                }
            },
        })
    }
}

#[derive(serde::Deserialize, Default)]
#[serde(default)]
pub struct SettingsQuery {
    saved: Option<String>,
    /// What saving did to the captions not used yet ([`Regenerated::to_param`]).
    changes: Option<String>,
    /// Set after "Check now" was accepted.
    checking: Option<String>,
}

/// The feed's page. Opened as is (no notice to show), it is served from the stored pages
/// like the desk while nothing on it changed (see `stored_pages`): the pages version
/// covers its captions, settings, templates and the feed's health.
#[get("/feeds/{id}")]
#[tracing::instrument(skip_all, fields(feed = %path))]
pub async fn show(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
    query: web::Query<SettingsQuery>,
) -> Result<HttpResponse, actix_web::Error> {
    let plain = query.saved.is_none() && query.changes.is_none() && query.checking.is_none();
    if plain {
        return stored_feed_page(&req, &state, path.into_inner()).await;
    }
    let user = CurrentUser::extract(&req).await?;
    Ok(show_with_notices(req, state, user, path, query).await?)
}

/// The feed page as stored, or rendered and stored.
async fn stored_feed_page(
    req: &HttpRequest,
    state: &AppState,
    subscription_id: String,
) -> Result<HttpResponse, actix_web::Error> {
    let view = format!("/feeds/{subscription_id}");
    Ok(stored_pages::serve(req, state, view, |user| async move {
        feed_page_html(
            req,
            state,
            &user,
            subscription_id,
            SettingsView::of,
            None,
            default_template_form(),
        )
        .await?
        .map(Rendered::Keep)
        .ok_or(WebError::NotFound)
    })
    .await?)
}

async fn show_with_notices(
    req: HttpRequest,
    state: web::Data<AppState>,
    user: CurrentUser,
    path: web::Path<String>,
    query: web::Query<SettingsQuery>,
) -> Result<HttpResponse, WebError> {
    let check = query.checking.is_some().then(|| CheckNotice {
        done: true,
        message: "Checking now. New posts and their captions appear here within a minute; reload to see them.".into(),
    });
    show_page(
        &req,
        &state,
        &user,
        path.into_inner(),
        |s| SettingsView {
            saved: query.saved.is_some(),
            changes: query
                .changes
                .as_deref()
                .and_then(Regenerated::from_param)
                .and_then(|c| c.summary()),
            ..SettingsView::of(s)
        },
        check,
        StatusCode::OK,
    )
    .await
}

#[post("/feeds/{id}/check")]
#[tracing::instrument(skip_all, fields(feed = %path))]
pub async fn check_feed(
    req: HttpRequest,
    state: web::Data<AppState>,
    user: CurrentUser,
    path: web::Path<String>,
    _form: CheckedForm<super::auth::NoFields>,
) -> Result<HttpResponse, WebError> {
    let subscription_id = path.into_inner();
    let (status, message) = match state.check_now(&user.id(), subscription_id.clone()).await? {
        CheckNow::Asked(_) => return Ok(see_other(&format!("/feeds/{subscription_id}?checking=1"))),
        CheckNow::NotFound => return Err(WebError::NotFound),
        CheckNow::Gone => (
            StatusCode::CONFLICT,
            "This feed is gone (the site answered 410 Gone), so it is no longer checked.".to_string(),
        ),
        CheckNow::TooSoon(wait) => (
            StatusCode::TOO_MANY_REQUESTS,
            format!(
                "This feed was checked less than a minute ago. To spare the blog's server, you can check it again in {} second{}.",
                wait.as_secs().max(1),
                if wait.as_secs() > 1 { "s" } else { "" }
            ),
        ),
    };
    show_page(
        &req,
        &state,
        &user,
        subscription_id,
        SettingsView::of,
        Some(CheckNotice {
            done: false,
            message,
        }),
        status,
    )
    .await
}

/// The feed page; `settings` decides what the settings form shows.
async fn show_page(
    req: &HttpRequest,
    state: &AppState,
    user: &CurrentUser,
    subscription_id: String,
    settings: impl FnOnce(&subscriptions::Subscription) -> SettingsView,
    check: Option<CheckNotice>,
    status: StatusCode,
) -> Result<HttpResponse, WebError> {
    show_page_with(
        req,
        state,
        user,
        subscription_id,
        settings,
        check,
        status,
        default_template_form(),
    )
    .await
}

/// The feed template form as the page first shows it.
fn default_template_form() -> FeedTemplateForm {
    FeedTemplateForm {
        platform: "linkedin".into(),
        variant: crate::captions::DEFAULT_VARIANT.into(),
        ..FeedTemplateForm::default()
    }
}

/// [`show_page`] with the feed template form as given.
#[allow(clippy::too_many_arguments)]
async fn show_page_with(
    req: &HttpRequest,
    state: &AppState,
    user: &CurrentUser,
    subscription_id: String,
    settings: impl FnOnce(&subscriptions::Subscription) -> SettingsView,
    check: Option<CheckNotice>,
    status: StatusCode,
    template_form: FeedTemplateForm,
) -> Result<HttpResponse, WebError> {
    let html = feed_page_html(
        req,
        state,
        user,
        subscription_id,
        settings,
        check,
        template_form,
    )
    .await?
    .ok_or(WebError::NotFound)?;
    Ok(HttpResponse::build(status)
        .insert_header((
            actix_web::http::header::CONTENT_TYPE,
            "text/html; charset=utf-8",
        ))
        .body(html))
}

/// The feed page's HTML; `None` when the account has no such feed.
async fn feed_page_html(
    req: &HttpRequest,
    state: &AppState,
    user: &CurrentUser,
    subscription_id: String,
    settings: impl FnOnce(&subscriptions::Subscription) -> SettingsView,
    check: Option<CheckNotice>,
    template_form: FeedTemplateForm,
) -> Result<Option<String>, WebError> {
    let id = user.id();
    let found = state
        .db
        .run(move |conn| {
            let Some(subscribed) =
                subscriptions::get(conn, &id, &SubscriptionId::from(subscription_id.as_str()))?
            else {
                return Ok(None);
            };
            let posts = count_feed_posts(conn, &subscribed.feed.id)?;
            let groups = list_account_captions(conn, &id, Some(&subscribed.subscription.id), 700)?;
            let templates = feed_templates::list(conn, &id, &subscribed.subscription.id)?;
            Ok::<_, DbError>(Some((subscribed, posts, groups, templates)))
        })
        .await?;
    let Some((subscribed, post_count, groups, templates)) = found else {
        return Ok(None);
    };
    let page = FeedPage {
        layout: Layout::new(req, state, Some(&user.user)),
        feed: FeedRow::from(&subscribed),
        post_count,
        groups: caption_groups(groups, &format!("/feeds/{}", subscribed.subscription.id)),
        settings: SettingsView {
            feed_language: subscribed.feed.language.clone(),
            ..settings(&subscribed.subscription)
        },
        check,
        templates,
        template_form,
    };
    Ok(Some(page.render()?))
}

#[post("/feeds/{id}/settings")]
#[tracing::instrument(skip_all, fields(feed = %path))]
pub async fn save_settings(
    req: HttpRequest,
    state: web::Data<AppState>,
    user: CurrentUser,
    path: web::Path<String>,
    form: CheckedForm<SettingsView>,
) -> Result<HttpResponse, WebError> {
    let subscription_id = path.into_inner();
    let typed = form.0;
    // The form is shown again as typed, with what was wrong with it.
    let refuse = |error: String, status: StatusCode| {
        let shown = SettingsView {
            error: Some(error),
            ..typed.clone()
        };
        show_page(
            &req,
            &state,
            &user,
            subscription_id.clone(),
            |_| shown,
            None,
            status,
        )
    };
    let parsed = match typed.parse() {
        Ok(parsed) => parsed,
        Err(error) => return refuse(error, StatusCode::UNPROCESSABLE_ENTITY).await,
    };
    let default_only = parsed
        .variants
        .iter()
        .all(|v| v == crate::captions::DEFAULT_VARIANT);
    if !default_only {
        if let Err(refused) = super::billing::require(&state, &user, Feature::Variants).await? {
            return refuse(refused.sentence(), StatusCode::FORBIDDEN).await;
        }
    }
    let id = user.id();
    let target = SubscriptionId(subscription_id.clone());
    // The settings and the captions they rewrite change together or not at all.
    let changed = state
        .db
        .transaction(move |conn| {
            if !subscriptions::update_settings(conn, &id, &target, &parsed)? {
                return Ok(None);
            }
            Ok::<_, DbError>(Some(regenerate::for_subscription(
                conn,
                &id,
                &target,
                crate::db::now(),
            )?))
        })
        .await?;
    match changed {
        Some(changed) if changed == Regenerated::default() => {
            Ok(see_other(&format!("/feeds/{subscription_id}?saved=1")))
        }
        Some(changed) => Ok(see_other(&format!(
            "/feeds/{subscription_id}?saved=1&changes={}",
            changed.to_param()
        ))),
        None => Err(WebError::NotFound),
    }
}

/// Saves or removes one of the feed's own templates.
#[post("/feeds/{id}/templates")]
#[tracing::instrument(skip_all, fields(feed = %path))]
pub async fn save_template(
    req: HttpRequest,
    state: web::Data<AppState>,
    user: CurrentUser,
    path: web::Path<String>,
    form: CheckedForm<FeedTemplateForm>,
) -> Result<HttpResponse, WebError> {
    let subscription_id = path.into_inner();
    let typed = form.0;
    let refuse = |error: String, status| {
        let shown = FeedTemplateForm {
            error: Some(error),
            ..typed.clone()
        };
        (shown, status)
    };
    let Ok(platform) = typed.platform.parse::<Platform>() else {
        return Err(WebError::NotFound);
    };
    let (id, target, variant, source) = (
        user.id(),
        SubscriptionId(subscription_id.clone()),
        typed.variant.trim().to_owned(),
        typed.source.clone(),
    );
    let removing = typed.action == "remove";
    // A feed's template runs like the account's: one limit for both.
    if !removing {
        if let Err(ApiError::RateLimited(seconds)) =
            state.template_limiter.check(user.id().as_str())
        {
            let (shown, status) = refuse(
                super::templates::too_many_tries(seconds),
                StatusCode::TOO_MANY_REQUESTS,
            );
            return show_page_with(
                &req,
                &state,
                &user,
                subscription_id,
                SettingsView::of,
                None,
                status,
                shown,
            )
            .await;
        }
    }
    let done = state
        .db
        .transaction(move |conn| {
            if removing {
                return Ok(template_edits::delete_for_feed(
                    conn, &id, &target, platform, &variant,
                )?
                .map(|_| ()));
            }
            template_edits::save_for_feed(conn, &id, &target, platform, &variant, &source)
                .map(|r| r.map(|_| ()))
        })
        .await;
    let (shown, status) = match done {
        Ok(Some(())) => return Ok(see_other(&format!("/feeds/{subscription_id}?saved=1"))),
        Ok(None) if removing => refuse(
            "this feed has no such template".into(),
            StatusCode::NOT_FOUND,
        ),
        Ok(None) => return Err(WebError::NotFound),
        Err(SaveError::Db(e)) => return Err(e.into()),
        Err(e) => refuse(e.to_string(), StatusCode::UNPROCESSABLE_ENTITY),
    };
    show_page_with(
        &req,
        &state,
        &user,
        subscription_id,
        SettingsView::of,
        None,
        status,
        shown,
    )
    .await
}

#[post("/feeds/{id}/delete")]
#[tracing::instrument(skip_all, fields(feed = %path))]
pub async fn delete(
    state: web::Data<AppState>,
    user: CurrentUser,
    path: web::Path<String>,
    _form: CheckedForm<super::auth::NoFields>,
) -> Result<HttpResponse, WebError> {
    let id = user.id();
    let subscription_id = SubscriptionId(path.into_inner());
    let removed = state
        .db
        .run(move |conn| subscriptions::delete(conn, &id, &subscription_id))
        .await?;
    see_other_if_found(removed, "/feeds")
}
