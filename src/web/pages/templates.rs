//! The account's caption templates: build one (platform, variant) at a time from blocks
//! (see `builder`) or write it by hand under "Advanced", preview it against the account's
//! latest real posts, save or remove it.

use actix_web::http::StatusCode;
use actix_web::{get, post, web, HttpRequest, HttpResponse};
use askama::Template;

use super::builder::{self as form_builder, BuilderForm, BuilderView, Step};
use super::{render, see_other, Layout};
use crate::billing::Feature;
use crate::captions::builder;
use crate::captions::{
    builtin_template_source, check, generate_with, validate_template, Language, Platform, PostView,
    Rules, Settings, TemplateSet, DEFAULT_VARIANT, STYLES, TEMPLATE_VARIABLES,
};
use crate::db::DbError;
use crate::desk::regenerate::Regenerated;
use crate::desk::store::latest_account_posts;
use crate::desk::template_edits;
use crate::desk::templates_store::{self, valid_variant, SaveError};
use crate::web::api::error::ApiError;
use crate::web::csrf::CheckedForm;
use crate::web::error::WebError;
use crate::web::session::CurrentUser;
use crate::web::AppState;

use super::stored_pages::{self, Rendered};
use actix_web::FromRequest as _;

/// Template previews and saves an account may make per minute, pages and API
/// together, the account's templates and its feeds' alike. Far above anyone editing by
/// hand; each one runs the template.
pub const CHECKS_PER_MINUTE: u32 = 30;

/// What a page says when [`CHECKS_PER_MINUTE`] is used up.
pub(super) fn too_many_tries(seconds: u64) -> String {
    format!("You have tried {CHECKS_PER_MINUTE} templates in the last minute; try again in {seconds} s.")
}

/// Posts the preview renders against.
const PREVIEW_POSTS: i64 = 3;

pub struct PlatformTab {
    pub id: &'static str,
    pub name: &'static str,
    pub selected: bool,
}

pub struct VariantLink {
    pub name: String,
    pub selected: bool,
    pub custom: bool,
}

pub struct PreviewView {
    pub post_title: String,
    pub text: String,
    pub length: usize,
    pub limit: usize,
    pub problems: Vec<String>,
    pub error: Option<String>,
}

#[derive(Template)]
#[template(path = "templates.html")]
struct TemplatesPage {
    layout: Layout,
    platforms: Vec<PlatformTab>,
    platform: &'static str,
    platform_name: &'static str,
    variants: Vec<VariantLink>,
    variant: String,
    source: String,
    custom: bool,
    error: Option<String>,
    saved: bool,
    /// What the last save did to the captions not used yet.
    changes: Option<String>,
    previews: Option<Vec<PreviewView>>,
    variables: String,
    builder: BuilderView,
    /// The built-in styles: (variant, label).
    styles: Vec<(&'static str, &'static str)>,
    /// The raw editor starts open: the subscriber was using it.
    advanced: bool,
}

#[derive(serde::Deserialize, Default)]
#[serde(default)]
pub struct Selection {
    platform: Option<String>,
    variant: Option<String>,
    saved: Option<String>,
    changes: Option<String>,
}

#[derive(serde::Deserialize, Default)]
#[serde(default)]
pub struct TemplateForm {
    platform: String,
    variant: String,
    source: String,
    action: String,
}

/// What the page shows besides the editor: the account's variants for the platform.
struct Loaded {
    stored: Vec<templates_store::StoredTemplate>,
}

impl Loaded {
    fn source_of(&self, platform: Platform, variant: &str) -> Option<String> {
        self.stored
            .iter()
            .find(|t| t.platform == platform.id() && t.variant == variant)
            .map(|t| t.source.clone())
    }

    fn variants(&self, platform: Platform, selected: &str) -> Vec<VariantLink> {
        let mut links: Vec<VariantLink> = templates_store::in_force(&self.stored)
            .into_iter()
            .filter(|t| t.platform == platform)
            .map(|t| VariantLink {
                selected: t.variant == selected,
                custom: !t.builtin,
                name: t.variant,
            })
            .collect();
        // A new variant being written is listed before it is saved.
        if valid_variant(selected) && !links.iter().any(|l| l.name == selected) {
            links.push(VariantLink {
                name: selected.to_owned(),
                selected: true,
                custom: false,
            });
        }
        links
    }
}

#[allow(clippy::too_many_arguments)]
fn page(
    req: &HttpRequest,
    state: &AppState,
    user: &CurrentUser,
    loaded: &Loaded,
    platform: Platform,
    variant: &str,
    source: String,
    builder: BuilderView,
) -> TemplatesPage {
    TemplatesPage {
        layout: Layout::new(req, state, Some(&user.user)),
        platforms: Platform::ALL
            .iter()
            .map(|p| PlatformTab {
                id: p.id(),
                name: p.display_name(),
                selected: *p == platform,
            })
            .collect(),
        platform: platform.id(),
        platform_name: platform.display_name(),
        variants: loaded.variants(platform, variant),
        variant: variant.to_owned(),
        custom: loaded.source_of(platform, variant).is_some(),
        source,
        error: None,
        saved: false,
        changes: None,
        previews: None,
        variables: TEMPLATE_VARIABLES.join(", "),
        builder,
        styles: STYLES.iter().map(|s| (s.name, s.label)).collect(),
        advanced: false,
    }
}

/// The builder of the account's (`platform`, `variant`) template, with `blocks`.
fn account_builder(
    platform: Platform,
    variant: &str,
    blocks: &[builder::Block],
    hand_written: bool,
    posts: &[(PostView, Settings)],
    post: usize,
) -> BuilderView {
    // An account's template serves feeds of every language; its fixed words are English
    // (a feed's own template is written in the feed's).
    form_builder::view(
        "/templates/builder".to_owned(),
        platform,
        variant,
        blocks,
        hand_written,
        posts,
        post,
        Language::En,
    )
}

async fn preview_posts(
    state: &AppState,
    user: &CurrentUser,
) -> Result<Vec<(PostView, Settings)>, WebError> {
    let id = user.id();
    Ok(state
        .db
        .run(move |conn| {
            Ok::<_, DbError>(latest_account_posts(
                conn,
                &id,
                form_builder::PREVIEW_POSTS,
            )?)
        })
        .await?)
}

fn parse_platform(raw: Option<&str>) -> Result<Platform, WebError> {
    match raw {
        None | Some("") => Ok(Platform::X),
        Some(id) => id.parse().map_err(|_| WebError::NotFound),
    }
}

async fn load(state: &AppState, user: &CurrentUser) -> Result<Loaded, WebError> {
    let id = user.id();
    let stored = state
        .db
        .run(move |conn| Ok::<_, DbError>(templates_store::list(conn, &id)?))
        .await?;
    Ok(Loaded { stored })
}

/// The account's templates for one platform and variant. Opened as is (no notice to show),
/// it is served from the stored pages while nothing on it changed (see `stored_pages`):
/// the pages version covers the account's templates and the posts its previews show.
#[get("/templates")]
pub async fn edit(
    req: HttpRequest,
    state: web::Data<AppState>,
    query: web::Query<Selection>,
) -> Result<HttpResponse, WebError> {
    let platform = parse_platform(query.platform.as_deref())?;
    let variant = query
        .variant
        .clone()
        .unwrap_or_else(|| DEFAULT_VARIANT.to_owned());
    if !valid_variant(&variant) {
        return Err(WebError::NotFound);
    }
    let plain = query.saved.is_none() && query.changes.is_none();
    if plain {
        let view = format!("/templates?platform={}&variant={variant}", platform.id());
        let (req, state) = (&req, state.get_ref());
        return stored_pages::serve(req, state, view, |user| async move {
            let page = edit_page(req, state, &user, platform, &variant).await?;
            Ok(Rendered::Keep(page.render()?))
        })
        .await;
    }
    let user = CurrentUser::extract(&req).await?;
    let mut page = edit_page(&req, &state, &user, platform, &variant).await?;
    page.saved = query.saved.is_some();
    page.changes = query
        .changes
        .as_deref()
        .and_then(Regenerated::from_param)
        .and_then(|c| c.summary());
    render(StatusCode::OK, &page)
}

/// The templates page of (`platform`, `variant`) as the account has them, without notices.
async fn edit_page(
    req: &HttpRequest,
    state: &AppState,
    user: &CurrentUser,
    platform: Platform,
    variant: &str,
) -> Result<TemplatesPage, WebError> {
    let loaded = load(state, user).await?;
    let source = loaded
        .source_of(platform, variant)
        .or_else(|| builtin_template_source(platform, variant))
        .unwrap_or_default();
    let (blocks, hand_written) = form_builder::opening(&source, platform);
    let posts = preview_posts(state, user).await?;
    let built = account_builder(platform, variant, &blocks, hand_written, &posts, 0);
    Ok(page(
        req, state, user, &loaded, platform, variant, source, built,
    ))
}

#[post("/templates")]
pub async fn submit(
    req: HttpRequest,
    state: web::Data<AppState>,
    user: CurrentUser,
    form: CheckedForm<TemplateForm>,
) -> Result<HttpResponse, WebError> {
    let form = form.0;
    let platform = parse_platform(Some(&form.platform))?;
    let variant = form.variant.trim().to_owned();
    let loaded = load(&state, &user).await?;
    let (blocks, hand_written) = form_builder::opening(&form.source, platform);
    let built = account_builder(platform, &variant, &blocks, hand_written, &[], 0);
    let mut view = page(
        &req,
        &state,
        &user,
        &loaded,
        platform,
        &variant,
        form.source.clone(),
        built,
    );
    view.advanced = true;
    if !valid_variant(&variant) {
        view.error = Some(SaveError::BadVariant.to_string());
        return render(StatusCode::UNPROCESSABLE_ENTITY, &view);
    }
    let back = format!("/templates?platform={}&variant={variant}", platform.id());
    if form.action != "delete" {
        if let Err(ApiError::RateLimited(seconds)) =
            state.template_limiter.check(user.id().as_str())
        {
            view.error = Some(too_many_tries(seconds));
            let mut response = render(StatusCode::TOO_MANY_REQUESTS, &view)?;
            response.headers_mut().insert(
                actix_web::http::header::RETRY_AFTER,
                actix_web::http::header::HeaderValue::from(seconds),
            );
            return Ok(response);
        }
    }
    match form.action.as_str() {
        "delete" => {
            let id = user.id();
            let v = variant.clone();
            let changed = state
                .db
                .transaction(move |conn| {
                    Ok::<_, DbError>(template_edits::delete(conn, &id, platform, &v)?)
                })
                .await?;
            Ok(see_other(&with_changes(back, changed.unwrap_or_default())))
        }
        "preview" => {
            if let Err(e) = validate_template(&form.source) {
                view.error = Some(e.to_string());
                return render(StatusCode::UNPROCESSABLE_ENTITY, &view);
            }
            let id = user.id();
            let posts = state
                .db
                .run(move |conn| Ok::<_, DbError>(latest_account_posts(conn, &id, PREVIEW_POSTS)?))
                .await?;
            view.previews = Some(previews(platform, &variant, &form.source, &posts));
            render(StatusCode::OK, &view)
        }
        _ => {
            if let Some(message) = refused_by_plan(&state, &user, &variant).await? {
                view.error = Some(message);
                return render(StatusCode::FORBIDDEN, &view);
            }
            let id = user.id();
            let (v, source) = (variant.clone(), form.source.clone());
            let saved = state
                .db
                .transaction(move |conn| template_edits::save(conn, &id, platform, &v, &source))
                .await;
            match saved {
                Ok(changed) => Ok(see_other(&with_changes(format!("{back}&saved=1"), changed))),
                Err(SaveError::Db(e)) => Err(e.into()),
                // Refused: the page shows why and the saved template is untouched.
                Err(e) => {
                    view.error = Some(e.to_string());
                    render(StatusCode::UNPROCESSABLE_ENTITY, &view)
                }
            }
        }
    }
}

/// Why the account's plan does not let it save a template of `variant`, if it does not.
async fn refused_by_plan(
    state: &AppState,
    user: &CurrentUser,
    variant: &str,
) -> Result<Option<String>, WebError> {
    let mut needs = vec![Feature::CustomTemplates];
    if variant != DEFAULT_VARIANT {
        needs.push(Feature::Variants);
    }
    for feature in needs {
        if let Err(refused) = super::billing::require(state, user, feature).await? {
            return Ok(Some(refused.sentence()));
        }
    }
    Ok(None)
}

/// One step of the builder on the account's template: an edit shows the page again with
/// the blocks and the preview; a save writes the built template as the raw editor would.
#[post("/templates/builder")]
pub async fn build(
    req: HttpRequest,
    state: web::Data<AppState>,
    user: CurrentUser,
    form: CheckedForm<BuilderForm>,
) -> Result<HttpResponse, WebError> {
    let form = form.0;
    let platform = parse_platform(Some(&form.platform))?;
    let variant = form.variant.trim().to_owned();
    if !valid_variant(&variant) {
        return Err(WebError::NotFound);
    }
    let loaded = load(&state, &user).await?;
    let posts = preview_posts(&state, &user).await?;
    let stored = loaded
        .source_of(platform, &variant)
        .or_else(|| builtin_template_source(platform, &variant))
        .unwrap_or_default();
    let hand_written = builder::from_source(&stored, platform).is_none();
    let shown = |blocks: &[builder::Block], error: Option<String>| {
        let mut built = account_builder(
            platform,
            &variant,
            blocks,
            hand_written,
            &posts,
            form.post(),
        );
        built.error = error;
        page(
            &req,
            &state,
            &user,
            &loaded,
            platform,
            &variant,
            stored.clone(),
            built,
        )
    };
    let blocks = match form.step() {
        Step::Edit(blocks, None) => return render(StatusCode::OK, &shown(&blocks, None)),
        Step::Edit(blocks, error) => {
            return render(StatusCode::UNPROCESSABLE_ENTITY, &shown(&blocks, error))
        }
        Step::Save(blocks) => blocks,
    };
    if let Err(ApiError::RateLimited(seconds)) = state.template_limiter.check(user.id().as_str()) {
        let mut response = render(
            StatusCode::TOO_MANY_REQUESTS,
            &shown(&blocks, Some(too_many_tries(seconds))),
        )?;
        response.headers_mut().insert(
            actix_web::http::header::RETRY_AFTER,
            actix_web::http::header::HeaderValue::from(seconds),
        );
        return Ok(response);
    }
    if let Some(message) = refused_by_plan(&state, &user, &variant).await? {
        return render(StatusCode::FORBIDDEN, &shown(&blocks, Some(message)));
    }
    let source = builder::to_source(&blocks, platform, Language::En);
    let id = user.id();
    let v = variant.clone();
    let saved = state
        .db
        .transaction(move |conn| template_edits::save(conn, &id, platform, &v, &source))
        .await;
    let back = format!(
        "/templates?platform={}&variant={variant}&saved=1",
        platform.id()
    );
    match saved {
        Ok(changed) => Ok(see_other(&with_changes(back, changed))),
        Err(SaveError::Db(e)) => Err(e.into()),
        Err(e) => render(
            StatusCode::UNPROCESSABLE_ENTITY,
            &shown(&blocks, Some(e.to_string())),
        ),
    }
}

/// `back` with what a change did to the captions, for the page to say.
fn with_changes(back: String, changed: Regenerated) -> String {
    if changed == Regenerated::default() {
        back
    } else {
        format!("{back}&changes={}", changed.to_param())
    }
}

/// The unsaved template rendered and fitted for each post, as it would be
/// stored: with the settings of the subscription the post comes through.
fn previews(
    platform: Platform,
    variant: &str,
    source: &str,
    posts: &[(crate::captions::PostView, Settings)],
) -> Vec<PreviewView> {
    // The built-in template as shown (in English) is what a feed's captions use in the
    // feed's language: previewed that way, its fixed words are the feed's.
    // (A browser sends the textarea's lines ending in CR LF.)
    let builtin = builtin_template_source(platform, variant)
        .is_some_and(|b| b == source.replace("\r\n", "\n"));
    let (own, _) = TemplateSet::with_overrides([(platform, variant.to_owned(), source.to_owned())]);
    let requests = [(platform, variant.to_owned())];
    posts
        .iter()
        .filter_map(|(post, settings)| {
            let rules = Rules::for_platform(platform, settings.mastodon_limit);
            let set = if builtin {
                TemplateSet::defaults_in(settings.language)
            } else {
                &own
            };
            let caption = generate_with(set, post, &requests, settings)
                .into_iter()
                .next()?;
            Some(PreviewView {
                post_title: post.title.clone(),
                problems: check(platform, &rules, &caption.text).violations,
                length: caption.length,
                limit: caption.limit,
                error: caption.error,
                text: caption.text,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_built_in_template_previews_in_the_feeds_language() {
        let post = PostView {
            title: "Ein Beitrag".into(),
            url: Some("https://blog.example.com/p".into()),
            lead: "Der erste Satz des Beitrags.".into(),
            ..PostView::default()
        };
        let german = Settings {
            language: Language::De,
            ..Settings::default()
        };
        let source = builtin_template_source(Platform::Linkedin, DEFAULT_VARIANT).unwrap();
        let typed = source.replace('\n', "\r\n");
        let shown = previews(
            Platform::Linkedin,
            DEFAULT_VARIANT,
            &typed,
            &[(post, german)],
        );
        assert!(
            shown[0].text.contains("Weiterlesen: https://"),
            "{}",
            shown[0].text
        );
        assert!(
            shown[0].text.contains("Was meinen Sie?"),
            "{}",
            shown[0].text
        );
    }
}
