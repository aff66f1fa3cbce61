//! Email verification: sending the link (on sign-up and on request) and opening it.

use actix_web::http::StatusCode;
use actix_web::{get, post, web, HttpRequest, HttpResponse};
use askama::Template;

use super::{render, see_other, Layout};
use crate::accounts::sessions::token_hash;
use crate::accounts::{verification, UserId};
use crate::db::now;
use crate::web::csrf::CheckedForm;
use crate::web::error::WebError;
use crate::web::session::{CurrentUser, MaybeUser, SESSION_COOKIE};
use crate::web::AppState;

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
    let (address, confirmed) = (email.clone(), user.clone());
    state
        .db
        .run(move |conn| Ok::<_, WebError>(verification::mark_verified(conn, &user, &address)?))
        .await?;
    // The banner asking for the confirmation goes at once: this page is rendered for the
    // account as it is now, and the stored pages of this session are read afresh (a GET
    // that writes: the desk's memory would otherwise learn of it only by notification).
    if let Some(cookie) = req.cookie(SESSION_COOKIE) {
        state.desk_watch.forget_session(&token_hash(cookie.value()));
    }
    let mut viewer = viewer.0;
    if let Some(account) = viewer.as_mut().filter(|u| u.id == confirmed.as_str()) {
        account.email_verified_at = Some(now());
    }
    let page = VerifiedPage {
        layout: Layout::new(&req, &state, viewer.as_ref()),
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
    let id = user.id();
    let email = user.user.email.clone();
    let base_url = state.settings.base_url.clone();
    let key = state.signing_key.clone();
    let mail = state
        .db
        .run(move |conn| {
            Ok::<_, WebError>(verification::queue(
                conn,
                &base_url,
                &key,
                &id,
                &email,
                now(),
            )?)
        })
        .await?;
    state.account_mail.send_soon(mail.into_iter().collect());
    Ok(see_other("/settings?sent=1"))
}
