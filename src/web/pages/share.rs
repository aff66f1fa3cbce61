//! Composer links beside every caption, and the page that asks for a Mastodon instance.
//!
//! Mastodon has no one compose address: each instance has its own `/share`. Its composer
//! link points here (`/share/mastodon?text=…`); the first time, this page asks for the
//! instance, and a year-long cookie remembers it, so later links go straight on with a
//! redirect. A cookie rather than an account setting: the links also sit on the try-it
//! page and in digests, opened where nobody may be logged in, and the desk's stored pages
//! stay the same whichever instance a subscriber uses.

use actix_web::cookie::{time::Duration as CookieDuration, Cookie, SameSite};
use actix_web::http::{header, StatusCode};
use actix_web::{get, post, web, HttpRequest, HttpResponse};
use askama::Template;

use super::{render, Layout};
use crate::captions::composer::{self, Carries, MastodonInstance};
use crate::captions::Platform;
use crate::web::csrf::CheckedForm;
use crate::web::error::WebError;
use crate::web::session::MaybeUser;
use crate::web::AppState;

/// Where Mastodon composer links point on pages of this site.
pub const MASTODON_CHOOSER: &str = "/share/mastodon";

const INSTANCE_COOKIE: &str = "cf_mastodon";

/// A caption's composer link as pages and digests show it.
pub struct ComposerView {
    pub href: String,
    /// The address before the encoded caption, for app.js to rebuild the link after an
    /// edit in place; `None` for link-only platforms, whose link does not change.
    pub text_base: Option<String>,
    /// "Post on X", "Share on LinkedIn".
    pub label: String,
    /// LinkedIn and Facebook: only the link goes, the caption must be pasted.
    pub link_only: bool,
    pub platform_name: String,
    /// The ids of the caption's text field (copied first for link-only platforms) and label.
    pub text_id: String,
    pub label_id: String,
}

/// The composer link of one caption; `chooser` is [`MASTODON_CHOOSER`] on this site's
/// pages and its absolute address in mail; the page names the caption's text field
/// `text-{dom_id}` and its label `label-{dom_id}`.
pub fn composer_view(
    platform: Platform,
    text: &str,
    post_url: Option<&str>,
    chooser: &str,
    dom_id: &str,
) -> Option<ComposerView> {
    if text.is_empty() {
        return None;
    }
    let link = composer::link(platform, text, post_url, chooser)?;
    let name = platform.display_name();
    let link_only = link.carries == Carries::LinkOnly;
    Some(ComposerView {
        label: link.label,
        text_base: (!link_only).then_some(link.base),
        href: link.href,
        link_only,
        platform_name: name.to_string(),
        text_id: format!("text-{dom_id}"),
        label_id: format!("label-{dom_id}"),
    })
}

#[derive(Template)]
#[template(path = "share_mastodon.html")]
struct ChooserPage {
    layout: Layout,
    text: String,
    instance: String,
    error: Option<String>,
}

#[derive(serde::Deserialize)]
pub struct ShareQuery {
    #[serde(default)]
    text: String,
    /// Ask again even though an instance is remembered.
    #[serde(default)]
    change: Option<String>,
}

fn remembered(req: &HttpRequest) -> Option<MastodonInstance> {
    req.cookie(INSTANCE_COOKIE)
        .and_then(|c| MastodonInstance::parse(c.value()).ok())
}

fn go_to(instance: &MastodonInstance, text: &str) -> actix_web::HttpResponseBuilder {
    let mut response = HttpResponse::SeeOther();
    response
        .insert_header((header::LOCATION, composer::mastodon_share(instance, text)))
        // The caption is in the address: nothing on the way should keep it.
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((header::REFERRER_POLICY, "no-referrer"));
    response
}

#[get("/share/mastodon")]
pub async fn choose(
    req: HttpRequest,
    state: web::Data<AppState>,
    user: MaybeUser,
    query: web::Query<ShareQuery>,
) -> Result<HttpResponse, WebError> {
    let query = query.into_inner();
    let known = remembered(&req);
    if let (Some(instance), None) = (&known, &query.change) {
        return Ok(go_to(instance, &query.text).finish());
    }
    let page = ChooserPage {
        layout: Layout::new(&req, &state, user.0.as_ref()),
        text: query.text,
        instance: known.map(|i| i.as_str().to_string()).unwrap_or_default(),
        error: None,
    };
    render(StatusCode::OK, &page)
}

#[derive(serde::Deserialize)]
pub struct ChooserForm {
    instance: String,
    #[serde(default)]
    text: String,
}

#[post("/share/mastodon")]
pub async fn remember(
    req: HttpRequest,
    state: web::Data<AppState>,
    user: MaybeUser,
    form: CheckedForm<ChooserForm>,
) -> Result<HttpResponse, WebError> {
    let ChooserForm { instance, text } = form.0;
    match MastodonInstance::parse(&instance) {
        Ok(chosen) => {
            let cookie = Cookie::build(INSTANCE_COOKIE, chosen.as_str().to_string())
                .path("/share/")
                .http_only(true)
                .secure(state.settings.secure_cookies())
                .same_site(SameSite::Lax)
                .max_age(CookieDuration::days(365))
                .finish();
            Ok(go_to(&chosen, &text).cookie(cookie).finish())
        }
        Err(reason) => {
            let page = ChooserPage {
                layout: Layout::new(&req, &state, user.0.as_ref()),
                text,
                instance,
                error: Some(reason),
            };
            render(StatusCode::UNPROCESSABLE_ENTITY, &page)
        }
    }
}
