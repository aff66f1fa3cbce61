//! The page frame every page fills in, and the plain error page the web error type
//! renders: kept below both so that neither imports the other's module.

use actix_web::http::{header, StatusCode};
use actix_web::HttpResponse;
use askama::Template;

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
