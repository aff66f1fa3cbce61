//! Turning digests off from the link in a digest, without logging in.
//!
//! The link's signature is the authentication, so these routes take no CSRF token: the
//! RFC 8058 one-click POST comes from a mail provider, which has no cookie or form token.
//! The GET only shows a button, because mail scanners open links in messages.

use actix_web::http::StatusCode;
use actix_web::{get, post, web, HttpRequest, HttpResponse};
use askama::Template;

use super::{render, Layout};
use crate::accounts::UserId;
use crate::digests::{settings as digest_settings, unsubscribe};
use crate::web::error::WebError;
use crate::web::AppState;

#[derive(Template)]
#[template(path = "unsubscribe.html")]
struct UnsubscribePage {
    layout: Layout,
    action: String,
    done: bool,
}

fn checked(state: &AppState, user: &str, token: &str) -> Result<UserId, WebError> {
    let user = UserId(user.to_string());
    if unsubscribe::verify(&state.signing_key, &user, token) {
        Ok(user)
    } else {
        // The same answer as for an unknown page: a forged link learns nothing.
        Err(WebError::NotFound)
    }
}

#[get("/unsubscribe/{user}/{token}")]
pub async fn confirm(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, WebError> {
    let (user, token) = path.into_inner();
    checked(&state, &user, &token)?;
    let page = UnsubscribePage {
        layout: Layout::without_session(),
        action: req.path().to_string(),
        done: false,
    };
    render(StatusCode::OK, &page)
}

#[post("/unsubscribe/{user}/{token}")]
pub async fn turn_off(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, WebError> {
    let (user, token) = path.into_inner();
    let user = checked(&state, &user, &token)?;
    state
        .db
        .run(move |conn| Ok::<_, WebError>(digest_settings::turn_off(conn, &user)?))
        .await?;
    let page = UnsubscribePage {
        layout: Layout::without_session(),
        action: req.path().to_string(),
        done: true,
    };
    render(StatusCode::OK, &page)
}
