//! Forgotten passwords: asking for a link, and choosing a new password with it.

use actix_web::http::StatusCode;
use actix_web::{get, post, web, HttpRequest, HttpResponse};
use askama::Template;

use super::{render, see_other, Layout};
use crate::accounts::validate::{Email, Password, MIN_PASSWORD_CHARS};
use crate::accounts::{password, reset, users, AccountError, UserId};
use crate::db::now;
use crate::mail::{message_host, outbox};
use crate::web::csrf::CheckedForm;
use crate::web::error::WebError;
use crate::web::AppState;

#[derive(Template)]
#[template(path = "forgot_password.html")]
struct ForgotPage {
    layout: Layout,
    sent: bool,
}

#[get("/forgot-password")]
pub async fn forgot_form(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, WebError> {
    let page = ForgotPage {
        layout: Layout::new(&req, &state, None),
        sent: false,
    };
    render(StatusCode::OK, &page)
}

#[derive(serde::Deserialize, Default)]
#[serde(default)]
pub struct ForgotForm {
    email: String,
}

#[post("/forgot-password")]
pub async fn forgot(
    req: HttpRequest,
    state: web::Data<AppState>,
    form: CheckedForm<ForgotForm>,
) -> Result<HttpResponse, WebError> {
    let raw = form.0.email;
    let base_url = state.settings.base_url.clone();
    let key = state.signing_key.clone();
    // Queued (durably) before the answer, and an unknown address queues nothing. The
    // answer is the same either way and sending happens in the background, so only the
    // one row insert (not the SMTP conversation) separates the two in time.
    let queued = state
        .db
        .run(move |conn| {
            let Ok(email) = Email::parse(&raw) else {
                return Ok(None);
            };
            let Some(user) = users::find_by_email(conn, &email)? else {
                return Ok(None);
            };
            let at = now();
            let link = reset::link(
                &base_url,
                &key,
                &user.user_id(),
                &user.password_hash,
                reset::expiry_from(at),
            );
            Ok(outbox::enqueue_limited(
                conn,
                Some(&user.id),
                &reset::draft(&user.email, &link),
                at,
                &message_host(&base_url),
            )?)
        })
        .await
        .map_err(|e: AccountError| WebError::Internal(e.into()))?;
    if let Some(id) = queued {
        state.account_mail.send_soon(vec![id]);
    }
    let page = ForgotPage {
        layout: Layout::new(&req, &state, None),
        sent: true,
    };
    render(StatusCode::OK, &page)
}

#[derive(Template)]
#[template(path = "reset_password.html")]
struct ResetPage {
    layout: Layout,
    action: String,
    error: Option<String>,
    min_password: usize,
}

#[derive(Template)]
#[template(path = "reset_link_used.html")]
struct LinkUsedPage {
    layout: Layout,
}

/// A used or expired link: said plainly, with the way on (still a 404 to programs).
fn link_used(req: &HttpRequest, state: &AppState) -> Result<HttpResponse, WebError> {
    let page = LinkUsedPage {
        layout: Layout::new(req, state, None),
    };
    render(StatusCode::NOT_FOUND, &page)
}

#[get("/reset-password/{user}/{expires}/{signature}")]
pub async fn reset_form(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<(String, i64, String)>,
) -> Result<HttpResponse, WebError> {
    let (user, expires, signature) = path.into_inner();
    let key = state.signing_key.clone();
    let valid = state
        .db
        .run(move |conn| {
            Ok::<_, WebError>(reset::check(
                conn,
                &key,
                &UserId(user.clone()),
                expires,
                &signature,
                now(),
            )?)
        })
        .await?;
    if !valid {
        return link_used(&req, &state);
    }
    let page = ResetPage {
        layout: Layout::new(&req, &state, None),
        action: req.path().to_string(),
        error: None,
        min_password: MIN_PASSWORD_CHARS,
    };
    render(StatusCode::OK, &page)
}

#[derive(serde::Deserialize, Default)]
#[serde(default)]
pub struct ResetForm {
    password: String,
}

#[post("/reset-password/{user}/{expires}/{signature}")]
pub async fn reset_password(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<(String, i64, String)>,
    form: CheckedForm<ResetForm>,
) -> Result<HttpResponse, WebError> {
    let (user, expires, signature) = path.into_inner();
    let new_password = match Password::parse(&form.0.password) {
        Ok(p) => p,
        Err(e) => {
            let page = ResetPage {
                layout: Layout::new(&req, &state, None),
                action: req.path().to_string(),
                error: Some(super::sentence(&e.to_string())),
                min_password: MIN_PASSWORD_CHARS,
            };
            return render(StatusCode::UNPROCESSABLE_ENTITY, &page);
        }
    };
    // Off the request thread, which argon2 would hold for tens of milliseconds.
    let hash = password::hash_blocking(new_password)
        .await
        .map_err(|e| WebError::Internal(e.into()))?;
    let key = state.signing_key.clone();
    let done = state
        .db
        .transaction(move |conn| {
            reset::reset(
                conn,
                &key,
                &UserId(user.clone()),
                expires,
                &signature,
                &hash,
                now(),
            )
        })
        .await
        .map_err(|e: AccountError| WebError::Internal(e.into()))?;
    if !done {
        return link_used(&req, &state);
    }
    Ok(see_other("/login?reset=1"))
}
