//! The password entry that opens the console for a while.

use actix_web::http::StatusCode;
use actix_web::{get, post, web, HttpRequest, HttpResponse};
use askama::Template;

use super::guard::CONFIRMATION_MINUTES;
use super::Operator;
use crate::accounts::{reauth, sessions, AccountError};
use crate::web::csrf::CheckedForm;
use crate::web::error::WebError;
use crate::web::pages::{render, see_other, wait_page, Layout};
use crate::web::session::SESSION_COOKIE;
use crate::web::AppState;

#[derive(Template)]
#[template(path = "admin/confirm.html")]
struct ConfirmPage {
    layout: Layout,
    next: String,
    minutes: i64,
    error: Option<String>,
}

#[derive(serde::Deserialize, Default)]
#[serde(default)]
pub struct Next {
    next: String,
}

/// Only a console page may be gone back to: anything else would make this an open redirect.
fn safe_next(next: &str) -> String {
    let is_console = next == "/admin" || next.starts_with("/admin/") || next.starts_with("/admin?");
    if is_console && !next.contains("//") && !next.contains('\\') {
        next.to_string()
    } else {
        "/admin".to_string()
    }
}

fn page(
    req: &HttpRequest,
    state: &AppState,
    operator: &Operator,
    status: StatusCode,
    next: &str,
    error: Option<String>,
) -> Result<HttpResponse, WebError> {
    render(
        status,
        &ConfirmPage {
            layout: Layout::new(req, state, Some(&operator.user)),
            next: safe_next(next),
            minutes: CONFIRMATION_MINUTES,
            error,
        },
    )
}

#[get("/confirm")]
pub async fn ask(
    req: HttpRequest,
    state: web::Data<AppState>,
    operator: web::ReqData<Operator>,
    query: web::Query<Next>,
) -> Result<HttpResponse, WebError> {
    page(&req, &state, &operator, StatusCode::OK, &query.next, None)
}

#[derive(serde::Deserialize, Default)]
#[serde(default)]
pub struct Confirmation {
    password: String,
    next: String,
}

#[post("/confirm")]
pub async fn submit(
    req: HttpRequest,
    state: web::Data<AppState>,
    operator: web::ReqData<Operator>,
    form: CheckedForm<Confirmation>,
) -> Result<HttpResponse, WebError> {
    let Confirmation {
        password: typed,
        next,
    } = form.0;
    let user = operator.user.user_id();
    let hash = operator.user.password_hash.clone();
    let right = match reauth::check(&state.db, &user, typed, hash).await {
        Ok(right) => right,
        Err(AccountError::TooManyAttempts(wait)) => return Ok(wait_page(wait)),
        Err(e) => return Err(e.into()),
    };
    if !right {
        return page(
            &req,
            &state,
            &operator,
            StatusCode::UNPROCESSABLE_ENTITY,
            &next,
            Some("That is not your password.".into()),
        );
    }
    // The guard let this request in with a session cookie, so it is there.
    let token = req
        .cookie(SESSION_COOKIE)
        .map(|c| c.value().to_string())
        .ok_or(WebError::NotFound)?;
    state
        .db
        .run(move |conn| sessions::confirm_password(conn, &token))
        .await
        .map_err(|e: AccountError| WebError::from(e))?;
    Ok(see_other(&safe_next(&next)))
}

#[cfg(test)]
mod tests {
    use super::safe_next;

    #[test]
    fn only_console_pages_are_gone_back_to() {
        assert_eq!(
            safe_next("/admin/accounts?email=a"),
            "/admin/accounts?email=a"
        );
        assert_eq!(safe_next("/admin"), "/admin");
        for outside in [
            "https://evil.example/",
            "//evil.example",
            "/admin//x",
            "/adminx",
            "/settings",
            "/admin\\x",
            "",
        ] {
            assert_eq!(safe_next(outside), "/admin", "{outside}");
        }
    }
}
