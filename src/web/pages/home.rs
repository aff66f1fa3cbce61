//! The front page, where a visitor tries a blog's address before signing up.
//!
//! `GET /?url=…` is a plain GET form, so it works without JavaScript and its result can be
//! linked to. Each preview fetches from the internet on the visitor's behalf: the address
//! guard judges the URL and every redirect, and each client address gets
//! [`PREVIEWS_PER_MINUTE`].

use actix_web::http::StatusCode;
use actix_web::{get, web, HttpRequest, HttpResponse};
use askama::Template;

use super::share::{composer_view, ComposerView, MASTODON_CHOOSER};
use super::{format_time, render, see_other, Layout};
use crate::captions::Platform;
use crate::feeds::address::parse_feed_url;
use crate::preview::{preview, FeedPreview, PREVIEW_POSTS};
use crate::web::api::error::ApiError;
use crate::web::error::WebError;
use crate::web::session::MaybeUser;
use crate::web::AppState;

/// Previews one client address may ask for per minute (per process).
pub const PREVIEWS_PER_MINUTE: u32 = 10;

pub struct TriedCaption {
    pub platform_name: String,
    pub text: String,
    pub length: usize,
    pub limit: usize,
    pub error: Option<String>,
    pub composer: Option<ComposerView>,
}

pub struct TriedPost {
    pub title: String,
    pub url: Option<String>,
    pub published: Option<String>,
    pub captions: Vec<TriedCaption>,
}

pub struct Tried {
    pub feed_url: String,
    pub title: String,
    pub posts: Vec<TriedPost>,
}

impl From<FeedPreview> for Tried {
    fn from(p: FeedPreview) -> Self {
        let feed_url = p.feed_url.to_string();
        Tried {
            title: p
                .title
                .filter(|t| !t.trim().is_empty())
                .unwrap_or_else(|| feed_url.clone()),
            feed_url,
            posts: p
                .posts
                .into_iter()
                .enumerate()
                .map(|(p, post)| TriedPost {
                    // The template names each caption's text field `text-{post}-{caption}`,
                    // counting from 1 as its loops do.
                    captions: post
                        .captions
                        .into_iter()
                        .enumerate()
                        .map(|(i, c)| TriedCaption {
                            composer: composer_view(
                                c.platform,
                                &c.text,
                                post.url.as_deref(),
                                MASTODON_CHOOSER,
                                &format!("{}-{}", p + 1, i + 1),
                            ),
                            platform_name: c.platform.display_name().to_string(),
                            text: c.text,
                            length: c.length,
                            limit: c.limit,
                            error: c.error,
                        })
                        .collect(),
                    title: post.title,
                    url: post.url,
                    published: post.published.map(|d| format_time(&d.naive_utc())),
                })
                .collect(),
        }
    }
}

#[derive(Template)]
#[template(path = "home.html")]
struct HomePage {
    layout: Layout,
    /// The address as typed, shown back in the form.
    url: String,
    error: Option<String>,
    tried: Option<Tried>,
}

#[derive(serde::Deserialize, Default)]
#[serde(default)]
pub struct TryQuery {
    url: String,
}

#[get("/")]
pub async fn home(
    req: HttpRequest,
    state: web::Data<AppState>,
    user: MaybeUser,
    query: web::Query<TryQuery>,
) -> Result<HttpResponse, WebError> {
    let typed = query.into_inner().url;
    if typed.trim().is_empty() && user.0.is_some() {
        return Ok(see_other("/captions"));
    }
    let page = |status, error: Option<String>, tried: Option<Tried>| {
        render(
            status,
            &HomePage {
                layout: Layout::new(&req, &state, user.0.as_ref()),
                url: typed.clone(),
                error,
                tried,
            },
        )
    };
    if typed.trim().is_empty() {
        return page(StatusCode::OK, None, None);
    }
    let client = crate::web::client::address(&req);
    if let Err(ApiError::RateLimited(seconds)) = state.preview_limiter.check(&client) {
        let mut response = page(
            StatusCode::TOO_MANY_REQUESTS,
            Some(format!(
                "You have tried several addresses in a short time. Please wait {seconds} seconds and try again."
            )),
            None,
        )?;
        response.headers_mut().insert(
            actix_web::http::header::RETRY_AFTER,
            actix_web::http::header::HeaderValue::from(seconds),
        );
        return Ok(response);
    }
    let url = match parse_feed_url(&typed, &state.settings.address_policy()) {
        Ok(url) => url,
        Err(message) => return page(StatusCode::UNPROCESSABLE_ENTITY, Some(message), None),
    };
    match preview(&state.fetcher, &url, &Platform::ALL, PREVIEW_POSTS).await {
        Ok(found) => page(StatusCode::OK, None, Some(Tried::from(found))),
        Err(e) => page(
            StatusCode::UNPROCESSABLE_ENTITY,
            Some(super::sentence(&e.to_string())),
            None,
        ),
    }
}
