//! The one error type of the web layer; domain errors are mapped to responses here, once.

use actix_web::http::{header, StatusCode};
use actix_web::{HttpResponse, ResponseError};

use crate::accounts::AccountError;
use crate::db::DbError;
use crate::subscriptions::SubscriptionError;

#[derive(Debug, thiserror::Error)]
pub enum WebError {
    #[error("not found")]
    NotFound,
    #[error("log in to continue")]
    LoginRequired,
    #[error("this form has expired; reload the page and try again")]
    Csrf,
    #[error("internal error: {0}")]
    Internal(String),
}

impl From<DbError> for WebError {
    fn from(e: DbError) -> Self {
        WebError::Internal(e.to_string())
    }
}

impl From<diesel::result::Error> for WebError {
    fn from(e: diesel::result::Error) -> Self {
        WebError::Internal(e.to_string())
    }
}

impl From<AccountError> for WebError {
    fn from(e: AccountError) -> Self {
        WebError::Internal(e.to_string())
    }
}

impl From<SubscriptionError> for WebError {
    fn from(e: SubscriptionError) -> Self {
        WebError::Internal(e.to_string())
    }
}

impl From<crate::account_data::AccountDataError> for WebError {
    fn from(e: crate::account_data::AccountDataError) -> Self {
        WebError::Internal(e.to_string())
    }
}

impl From<askama::Error> for WebError {
    fn from(e: askama::Error) -> Self {
        WebError::Internal(format!("template: {e}"))
    }
}

impl crate::db::IsBusy for WebError {
    fn is_busy(&self) -> bool {
        false
    }
}

impl ResponseError for WebError {
    fn status_code(&self) -> StatusCode {
        match self {
            WebError::NotFound => StatusCode::NOT_FOUND,
            WebError::LoginRequired => StatusCode::SEE_OTHER,
            WebError::Csrf => StatusCode::FORBIDDEN,
            WebError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let message = match self {
            WebError::LoginRequired => {
                return HttpResponse::SeeOther()
                    .insert_header((header::LOCATION, "/login"))
                    .finish();
            }
            WebError::Internal(detail) => {
                tracing::error!(error = %detail, "request failed");
                "Something went wrong on our side. It has been logged; please try again."
                    .to_string()
            }
            other => other.to_string(),
        };
        super::error_page::error_page(self.status_code(), &message)
    }
}
