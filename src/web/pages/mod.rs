//! Server-rendered pages (askama): one file per area, each handler a small function.

pub mod account_data;
pub mod auth;
pub mod billing;
pub mod captions;
pub mod desk_cache;
pub mod desk_watch;
pub mod feeds;
pub mod home;
pub mod images;
pub mod password;
pub mod queue;
pub mod queue_links;
pub mod reset;
pub mod settings;
pub mod share;
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
use super::AppState;
use crate::accounts::User;

/// What every page's frame needs: who is logged in and the form token.
pub struct Layout {
    pub user_email: Option<String>,
    pub csrf: String,
    /// Whether billing is on (the nav links the billing page).
    pub billing: bool,
    /// Signed in with an address not confirmed yet: every page says so, since digests
    /// wait for it and the subscriber would not know otherwise.
    pub unconfirmed: bool,
}

impl Layout {
    pub fn new(req: &HttpRequest, state: &AppState, user: Option<&User>) -> Self {
        Layout {
            user_email: user.map(|u| u.email.clone()),
            csrf: super::csrf::token(req, state),
            billing: state.settings.billing.is_some(),
            unconfirmed: user.is_some_and(|u| u.email_verified_at.is_none()),
        }
    }

    /// For pages reached from a mail's link, signed in or not: no menu, no form token.
    pub fn without_session() -> Self {
        Layout {
            user_email: None,
            csrf: String::new(),
            billing: false,
            unconfirmed: false,
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

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    layout: Layout,
    status: u16,
    message: &'a str,
}

/// A plain error page; it has no form, so it needs no CSRF token or user.
pub fn error_page(status: StatusCode, message: &str) -> HttpResponse {
    let page = ErrorPage {
        layout: Layout::without_session(),
        status: status.as_u16(),
        message,
    };
    match page.render() {
        Ok(body) => HttpResponse::build(status)
            .insert_header((header::CONTENT_TYPE, "text/html; charset=utf-8"))
            .body(body),
        Err(_) => HttpResponse::build(status).body(message.to_string()),
    }
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

/// A message as a sentence: capital first letter, final full stop.
pub fn sentence(message: &str) -> String {
    let mut chars = message.trim().trim_end_matches('.').chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect::<String>() + ".",
        None => String::new(),
    }
}
