//! Server-rendered pages (askama): one file per area, each handler a small function.

pub mod account_data;
pub mod auth;
pub mod billing;
pub mod builder;
pub mod captions;
pub mod connections;
pub mod desk_watch;
pub mod feed_builder;
pub mod feeds;
pub mod home;
pub mod images;
pub mod mastodon_connect;
pub mod password;
pub mod queue;
pub mod queue_links;
pub mod reset;
pub mod settings;
pub mod share;
pub mod stored_pages;
pub mod templates;
pub mod tokens;
pub mod transfer;
pub mod unsubscribe;
pub mod verify;
pub mod webhooks;

use actix_web::http::{header, StatusCode};
use actix_web::{HttpRequest, HttpResponse};
use askama::Template;
use chrono::NaiveDateTime;

use super::error::WebError;
// The frame and the error page sit below the error type that renders them.
pub use super::error_page::{error_page, Layout};
use super::AppState;
use crate::accounts::{throttle, AccountError, User};
pub use crate::sentence::sentence;

impl Layout {
    pub fn new(req: &HttpRequest, state: &AppState, user: Option<&User>) -> Self {
        Layout {
            user_email: user.map(|u| u.email.clone()),
            csrf: super::csrf::token(req, state),
            billing: state.settings.billing.is_some(),
            unconfirmed: user.is_some_and(|u| u.email_verified_at.is_none()),
        }
    }
}

/// Renders a page with the given status.
pub fn render(status: StatusCode, page: &impl Template) -> Result<HttpResponse, WebError> {
    Ok(HttpResponse::build(status)
        .insert_header((header::CONTENT_TYPE, "text/html; charset=utf-8"))
        .body(page.render()?))
}

/// After a change to one of the account's own rows: back to `location`, or 404 when the
/// row was not found (another account's id, or already gone).
pub fn see_other_if_found(found: bool, location: &str) -> Result<HttpResponse, WebError> {
    if found {
        Ok(see_other(location))
    } else {
        Err(WebError::NotFound)
    }
}

pub fn see_other(location: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, location))
        .finish()
}

/// The answer to a password typed too often wrongly ([`AccountError::TooManyAttempts`]):
/// 429 with `Retry-After`, and the wait in words.
pub fn wait_page(wait: std::time::Duration) -> HttpResponse {
    let message = sentence(&AccountError::TooManyAttempts(wait).to_string());
    let mut response = error_page(StatusCode::TOO_MANY_REQUESTS, &message);
    response.headers_mut().insert(
        header::RETRY_AFTER,
        header::HeaderValue::from(throttle::retry_after_seconds(wait)),
    );
    response
}

/// A stored UTC time as pages show it.
pub fn format_time(at: &NaiveDateTime) -> String {
    at.format("%Y-%m-%d %H:%M UTC").to_string()
}

pub fn format_optional_time(at: &Option<NaiveDateTime>) -> String {
    at.as_ref()
        .map(format_time)
        .unwrap_or_else(|| "never".into())
}
