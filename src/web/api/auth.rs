//! Bearer-token authentication for the JSON API.

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::{web, FromRequest, HttpRequest};

use super::error::ApiError;
use crate::accounts::{throttle, tokens, User, UserId};
use crate::billing::Feature;
use crate::web::AppState;

/// The account an API request acts for.
pub struct ApiUser {
    pub user: User,
}

impl ApiUser {
    pub fn id(&self) -> UserId {
        self.user.user_id()
    }
}

impl FromRequest for ApiUser {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let secret = req
            .headers()
            .get(actix_web::http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| {
                v.strip_prefix("Bearer ")
                    .or_else(|| v.strip_prefix("bearer "))
            })
            .map(|v| v.trim().to_string());
        let state = req.app_data::<web::Data<AppState>>().cloned();
        let client = throttle::token_client_key(&crate::web::client::address(req));
        Box::pin(async move {
            let secret = secret.ok_or(ApiError::Unauthorized)?;
            let state = state.ok_or_else(|| ApiError::internal("application state missing"))?;
            // A token is 256 random bits, so guessing is hopeless; still, a client that keeps
            // presenting wrong tokens waits like a sign-in guesser, and a waiting client's
            // token is not even looked at.
            let checked = state
                .db
                .run(move |conn| {
                    let at = crate::db::now();
                    let wait = throttle::wait(conn, &client, throttle::PER_CLIENT, at)?;
                    if !wait.is_zero() {
                        return Ok(Err(wait));
                    }
                    let found = tokens::user_for_token(conn, &secret)?;
                    if found.is_none() {
                        throttle::record_failure(conn, &client, at)?;
                    }
                    Ok::<_, crate::accounts::AccountError>(Ok(found))
                })
                .await?;
            let found = checked
                .map_err(|wait| ApiError::RateLimited(throttle::retry_after_seconds(wait)))?;
            let (user, _) = found.ok_or(ApiError::Unauthorized)?;
            state.api_limiter.check(&user.id)?;
            require(&state, &user.user_id(), Feature::Api).await?;
            Ok(ApiUser { user })
        })
    }
}

/// [`crate::billing::require_now`] for the account: a refusal is a 403 `plan_limit` that
/// says where to upgrade.
pub async fn require(
    state: &AppState,
    user: &UserId,
    feature: Feature<'static>,
) -> Result<(), ApiError> {
    let (id, plans) = (user.clone(), state.plans().cloned());
    state
        .db
        .run(move |conn| {
            crate::billing::require_now(conn, plans.as_ref(), &id, feature)
                .map_err(crate::db::DbError::from)
        })
        .await?
        .map_err(|refused| {
            ApiError::PlanLimit(format!(
                "{}; upgrade at {}billing",
                refused.reason(),
                state.settings.base_url
            ))
        })
}
