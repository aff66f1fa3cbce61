//! Email verification: sending the link (on sign-up and on request) and opening it.

use actix_web::http::StatusCode;
use actix_web::{get, post, web, HttpRequest, HttpResponse};
use askama::Template;

use super::{render, see_other, Layout};
use crate::accounts::{verification, UserId};
use crate::db::now;
use crate::web::csrf::CheckedForm;
use crate::web::error::WebError;
use crate::web::session::{CurrentUser, MaybeUser};
use crate::web::AppState;

/// Mails a verification link in the background: a slow or dead SMTP server must not hold
/// up the sign-up, and the settings page offers to send it again.
pub fn send_link(state: &AppState, user: UserId, email: String) {
    let link = verification::link(
        &state.settings.base_url,
        &state.signing_key,
        &user,
        &email,
        verification::expiry_from(now()),
    );
    let mailer = state.mailer.clone();
    tokio::spawn(async move {
        match verification::message(mailer.from_address(), &email, &link) {
            Ok(message) => {
                if let Err(error) = mailer.send(message).await {
                    tracing::warn!(user = %user.as_str(), %error, "verification mail not sent");
                }
            }
            Err(error) => {
                tracing::warn!(user = %user.as_str(), %error, "verification mail not built")
            }
        }
    });
}

#[derive(Template)]
#[template(path = "verified.html")]
struct VerifiedPage {
    layout: Layout,
    email: String,
}

#[get("/verify-email/{user}/{expires}/{signature}")]
pub async fn open(
    req: HttpRequest,
    state: web::Data<AppState>,
    viewer: MaybeUser,
    path: web::Path<(String, i64, String)>,
) -> Result<HttpResponse, WebError> {
    let (user, expires, signature) = path.into_inner();
    let user = UserId(user);
    let id = user.clone();
    let Some((email, _)) = state
        .db
        .run(move |conn| Ok::<_, WebError>(verification::status(conn, &id)?))
        .await?
    else {
        return Err(WebError::NotFound);
    };
    if !verification::check(
        &state.signing_key,
        &user,
        &email,
        expires,
        &signature,
        now(),
    ) {
        // Forged, expired or for an old address: the same answer as an unknown page.
        return Err(WebError::NotFound);
    }
    let address = email.clone();
    state
        .db
        .run(move |conn| Ok::<_, WebError>(verification::mark_verified(conn, &user, &address)?))
        .await?;
    let page = VerifiedPage {
        layout: Layout::new(&req, &state, viewer.0.as_ref()),
        email,
    };
    render(StatusCode::OK, &page)
}

#[derive(serde::Deserialize, Default)]
pub struct NoFields {}

#[post("/settings/verify-email")]
pub async fn resend(
    state: web::Data<AppState>,
    user: CurrentUser,
    _form: CheckedForm<NoFields>,
) -> Result<HttpResponse, WebError> {
    send_link(&state, user.id(), user.user.email.clone());
    Ok(see_other("/settings?sent=1"))
}
