//! JSON errors: `{"error":{"code":"...","message":"..."}}` with the right status.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("a valid API token is required: Authorization: Bearer cf_...")]
    Unauthorized,
    #[error("not found")]
    NotFound,
    #[error("{0}")]
    Invalid(String),
    #[error("{0}")]
    Conflict(String),
    /// Logged with its cause chain; the client sees only "internal error".
    #[error("internal error")]
    Internal(#[from] anyhow::Error),
    #[error("too many requests; retry in {0} s")]
    RateLimited(u64),
    /// The account's plan does not allow this (billing on); the message says how to upgrade.
    #[error("{0}")]
    PlanLimit(String),
}

/// The error body, as documented in the OpenAPI file.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct ErrorDetail {
    /// Stable, machine-readable: unauthorized, not_found, invalid, conflict, rate_limited, plan_limit, internal.
    pub code: String,
    pub message: String,
}

impl ApiError {
    /// An internal error that has no cause of its own (a broken invariant).
    pub fn internal(message: &'static str) -> Self {
        ApiError::Internal(anyhow::Error::msg(message))
    }

    fn code(&self) -> &'static str {
        match self {
            ApiError::Unauthorized => "unauthorized",
            ApiError::NotFound => "not_found",
            ApiError::Invalid(_) => "invalid",
            ApiError::Conflict(_) => "conflict",
            ApiError::Internal(_) => "internal",
            ApiError::RateLimited(_) => "rate_limited",
            ApiError::PlanLimit(_) => "plan_limit",
        }
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            ApiError::Unauthorized => StatusCode::UNAUTHORIZED,
            ApiError::NotFound => StatusCode::NOT_FOUND,
            ApiError::Invalid(_) => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::Conflict(_) => StatusCode::CONFLICT,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
            ApiError::RateLimited(_) => StatusCode::TOO_MANY_REQUESTS,
            ApiError::PlanLimit(_) => StatusCode::FORBIDDEN,
        }
    }

    fn error_response(&self) -> HttpResponse {
        if let ApiError::Internal(error) = self {
            crate::web::error::log_internal(error, "API request failed");
        }
        let mut response = HttpResponse::build(self.status_code());
        match self {
            ApiError::Unauthorized => {
                response.insert_header(("WWW-Authenticate", "Bearer"));
            }
            ApiError::RateLimited(seconds) => {
                response.insert_header(("Retry-After", seconds.to_string()));
            }
            _ => {}
        }
        response.json(ErrorBody {
            error: ErrorDetail {
                code: self.code().into(),
                message: self.to_string(),
            },
        })
    }
}

impl From<crate::db::DbError> for ApiError {
    fn from(e: crate::db::DbError) -> Self {
        ApiError::Internal(e.into())
    }
}

impl From<diesel::result::Error> for ApiError {
    fn from(e: diesel::result::Error) -> Self {
        ApiError::Internal(e.into())
    }
}

impl From<crate::accounts::AccountError> for ApiError {
    fn from(e: crate::accounts::AccountError) -> Self {
        match e {
            crate::accounts::AccountError::Invalid(m) => ApiError::Invalid(m),
            other => ApiError::Internal(other.into()),
        }
    }
}

impl crate::db::IsBusy for ApiError {
    fn is_busy(&self) -> bool {
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    #[error("saving the template failed")]
    struct Outer(#[source] std::io::Error);

    #[actix_web::test]
    async fn an_internal_error_answers_the_documented_body_without_its_cause() {
        let cause = anyhow::Error::new(Outer(std::io::Error::other("disk quota exceeded")));
        let response = ApiError::from(cause).error_response();
        assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
        let body = actix_web::body::to_bytes(response.into_body())
            .await
            .unwrap();
        let body: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(
            body,
            serde_json::json!({"error": {"code": "internal", "message": "internal error"}})
        );
    }
}
