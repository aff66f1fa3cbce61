//! Who may reach the console: an operator's session, with the password typed again in
//! the last [`CONFIRMATION_MINUTES`] minutes.

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::Method;
use actix_web::middleware::Next;
use actix_web::{web, HttpMessage};

use super::Operator;
use crate::accounts::{sessions, AccountError};
use crate::db::now;
use crate::operators;
use crate::web::error::WebError;
use crate::web::pages::see_other;
use crate::web::session::SESSION_COOKIE;
use crate::web::AppState;

/// How long a password entry opens the console for.
pub const CONFIRMATION_MINUTES: i64 = 15;

pub const CONFIRM_PATH: &str = "/admin/confirm";

/// Middleware on the `/admin` scope: anyone but an operator gets the unknown-page answer,
/// built by the same error as the app's default service so that nothing tells them apart.
pub async fn operators_only<B: MessageBody + 'static>(
    req: ServiceRequest,
    next: Next<B>,
) -> Result<ServiceResponse<EitherBody<B>>, actix_web::Error> {
    let Some(state) = req.app_data::<web::Data<AppState>>().cloned() else {
        return Ok(req
            .error_response(WebError::internal("application state missing"))
            .map_into_right_body());
    };
    let Some(token) = req.cookie(SESSION_COOKIE).map(|c| c.value().to_string()) else {
        return Ok(req.error_response(WebError::NotFound).map_into_right_body());
    };
    let found = state
        .db
        .run(move |conn| {
            let Some((user, confirmed)) = sessions::user_and_confirmation(conn, &token)? else {
                return Ok::<_, AccountError>(None);
            };
            let operator = operators::is_operator(conn, &user.user_id())?;
            Ok(operator.then_some((user, confirmed)))
        })
        .await;
    let (user, confirmed) = match found {
        Ok(Some(found)) => found,
        Ok(None) => return Ok(req.error_response(WebError::NotFound).map_into_right_body()),
        Err(e) => return Ok(req.error_response(WebError::from(e)).map_into_right_body()),
    };
    let recent =
        confirmed.is_some_and(|at| now() - at < chrono::Duration::minutes(CONFIRMATION_MINUTES));
    if !recent && req.path() != CONFIRM_PATH {
        // Only a page can be come back to; a form sent with a stale entry is not replayed.
        let location = if req.method() == Method::GET {
            let wanted = match req.query_string() {
                "" => req.path().to_string(),
                query => format!("{}?{query}", req.path()),
            };
            format!(
                "{CONFIRM_PATH}?next={}",
                url::form_urlencoded::byte_serialize(wanted.as_bytes()).collect::<String>()
            )
        } else {
            CONFIRM_PATH.to_string()
        };
        return Ok(req
            .into_response(see_other(&location))
            .map_into_right_body());
    }
    req.extensions_mut().insert(Operator { user });
    next.call(req)
        .await
        .map(ServiceResponse::map_into_left_body)
}
