//! Changing the password from the settings, with the current one.

use actix_web::http::StatusCode;
use actix_web::{post, web, HttpRequest, HttpResponse};

use super::{error_page, see_other, sentence, wait_page};
use crate::accounts::validate::Password;
use crate::accounts::{email_change, password, password_change, reauth, AccountError};
use crate::db::now;
use crate::mail::{message_host, outbox};
use crate::web::csrf::CheckedForm;
use crate::web::error::WebError;
use crate::web::session::{CurrentUser, SESSION_COOKIE};
use crate::web::AppState;

#[derive(serde::Deserialize, Default)]
#[serde(default)]
pub struct PasswordForm {
    current_password: String,
    new_password: String,
}

/// Sets the new password, signs out every other session and mails a notice; this
/// session stays signed in.
#[post("/settings/password")]
pub async fn change_password(
    req: HttpRequest,
    state: web::Data<AppState>,
    user: CurrentUser,
    form: CheckedForm<PasswordForm>,
) -> Result<HttpResponse, WebError> {
    let PasswordForm {
        current_password,
        new_password,
    } = form.0;
    let new_password = match Password::parse(&new_password) {
        Ok(p) => p,
        Err(e) => {
            return Ok(error_page(
                StatusCode::UNPROCESSABLE_ENTITY,
                &sentence(&e.to_string()),
            ))
        }
    };
    let id = user.id();
    let who = id.clone();
    let hash = state
        .db
        .run(move |conn| email_change::password_hash(conn, &who))
        .await?;
    match reauth::check(&state.db, &id, current_password, hash.clone()).await {
        Ok(true) => {}
        Ok(false) => {
            return Ok(error_page(
                StatusCode::FORBIDDEN,
                "The current password is not right; the password is unchanged.",
            ))
        }
        Err(AccountError::TooManyAttempts(wait)) => return Ok(wait_page(wait)),
        Err(e) => return Err(e.into()),
    }
    // Off the request thread, which argon2 would hold for tens of milliseconds.
    let new_hash = password::hash_blocking(new_password)
        .await
        .map_err(|e| WebError::Internal(e.into()))?;
    let session = req
        .cookie(SESSION_COOKIE)
        .map(|c| c.value().to_string())
        .ok_or(WebError::LoginRequired)?;
    let base_url = state.settings.base_url.clone();
    let reset_url = base_url
        .join("forgot-password")
        .map(|u| u.to_string())
        .unwrap_or_default();
    // One transaction: the new password, the ended sessions and the notice together.
    let changed = state
        .db
        .transaction(move |conn| {
            let email = password_change::change(conn, &id, &hash, &new_hash, &session)?;
            Ok::<_, AccountError>(outbox::enqueue_limited(
                conn,
                Some(id.as_str()),
                &password_change::notice(&email, &reset_url),
                now(),
                &message_host(&base_url),
            )?)
        })
        .await;
    match changed {
        Ok(notice) => {
            state.account_mail.send_soon(notice.into_iter().collect());
            Ok(see_other("/settings?password_changed=1"))
        }
        Err(AccountError::BadCredentials) => Ok(error_page(
            StatusCode::CONFLICT,
            "The password was changed elsewhere meanwhile; sign in again and retry.",
        )),
        Err(e) => Err(e.into()),
    }
}
