//! `/settings/account`: "Download my data" and "Delete my account".

use actix_web::http::{header, StatusCode};
use actix_web::{get, post, web, HttpRequest, HttpResponse};
use askama::Template;

use super::{render, see_other, Layout};
use crate::account_data::{export, removal, AccountDataError};
use crate::accounts::AccountError;
use crate::web::csrf::CheckedForm;
use crate::web::error::WebError;
use crate::web::session::{expired_session_cookie, CurrentUser};
use crate::web::AppState;

#[derive(Template)]
#[template(path = "account_data.html")]
struct AccountDataPage {
    layout: Layout,
    billing: bool,
    error: Option<String>,
}

fn page(
    req: &HttpRequest,
    state: &AppState,
    user: &CurrentUser,
    status: StatusCode,
    error: Option<String>,
) -> Result<HttpResponse, WebError> {
    render(
        status,
        &AccountDataPage {
            layout: Layout::new(req, state, Some(&user.user)),
            billing: state.settings.billing.is_some(),
            error,
        },
    )
}

#[derive(Template)]
#[template(path = "account_deleted.html")]
struct DeletedPage {
    layout: Layout,
}

/// Where "Delete my account" leads: signed out, with what happened.
#[get("/account-deleted")]
pub async fn deleted(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, WebError> {
    render(
        StatusCode::OK,
        &DeletedPage {
            layout: Layout::new(&req, &state, None),
        },
    )
}

#[get("/settings/account")]
pub async fn show(
    req: HttpRequest,
    state: web::Data<AppState>,
    user: CurrentUser,
) -> Result<HttpResponse, WebError> {
    page(&req, &state, &user, StatusCode::OK, None)
}

#[get("/settings/account/export.zip")]
#[tracing::instrument(skip_all)]
pub async fn download(
    state: web::Data<AppState>,
    user: CurrentUser,
) -> Result<HttpResponse, WebError> {
    let id = user.id();
    // One transaction, so the files agree with each other.
    let files = state
        .db
        .transaction(move |conn| export::collect(conn, &id))
        .await?;
    let archive = web::block(move || export::zip(&files))
        .await
        .map_err(|e| WebError::Internal(e.into()))??;
    Ok(HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, "application/zip"))
        .insert_header((
            header::CONTENT_DISPOSITION,
            "attachment; filename=\"captionfeed-my-data.zip\"",
        ))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(archive))
}

#[derive(serde::Deserialize, Default)]
#[serde(default)]
pub struct Deletion {
    password: String,
}

#[post("/settings/account/delete")]
#[tracing::instrument(skip_all)]
pub async fn delete(
    req: HttpRequest,
    state: web::Data<AppState>,
    user: CurrentUser,
    form: CheckedForm<Deletion>,
) -> Result<HttpResponse, WebError> {
    let billing = state.settings.billing.as_ref();
    match removal::delete_account(&state.db, billing, &user.id(), form.0.password).await {
        Ok(()) => {
            let mut response = see_other("/account-deleted");
            response
                .add_cookie(&expired_session_cookie(state.settings.secure_cookies()))
                .map_err(|e| WebError::Internal(e.into()))?;
            Ok(response)
        }
        Err(AccountDataError::Account(AccountError::TooManyAttempts(wait))) => {
            Ok(super::wait_page(wait))
        }
        Err(AccountDataError::WrongPassword) => page(
            &req,
            &state,
            &user,
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("That is not your password; nothing was deleted.".into()),
        ),
        Err(e @ AccountDataError::Billing(_)) => {
            tracing::warn!(error = %e, "account deletion stopped at Stripe");
            page(
                &req,
                &state,
                &user,
                StatusCode::BAD_GATEWAY,
                Some(super::sentence(&e.to_string())),
            )
        }
        Err(e) => Err(e.into()),
    }
}
