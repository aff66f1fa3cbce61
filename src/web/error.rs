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
    /// Anything the visitor cannot fix. The error keeps its cause chain, which is logged
    /// once when the response is made; the visitor sees only a short apology.
    #[error("internal error: {0:#}")]
    Internal(#[from] anyhow::Error),
}

impl WebError {
    /// An internal error that has no cause of its own (a broken invariant).
    pub fn internal(message: &'static str) -> Self {
        WebError::Internal(anyhow::Error::msg(message))
    }
}

impl From<DbError> for WebError {
    fn from(e: DbError) -> Self {
        WebError::Internal(e.into())
    }
}

impl From<diesel::result::Error> for WebError {
    fn from(e: diesel::result::Error) -> Self {
        WebError::Internal(e.into())
    }
}

impl From<AccountError> for WebError {
    fn from(e: AccountError) -> Self {
        WebError::Internal(e.into())
    }
}

impl From<SubscriptionError> for WebError {
    fn from(e: SubscriptionError) -> Self {
        WebError::Internal(e.into())
    }
}

impl From<crate::account_data::AccountDataError> for WebError {
    fn from(e: crate::account_data::AccountDataError) -> Self {
        WebError::Internal(e.into())
    }
}

impl From<askama::Error> for WebError {
    fn from(e: askama::Error) -> Self {
        WebError::Internal(anyhow::Error::new(e).context("rendering a template"))
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
            WebError::Internal(error) => {
                log_internal(error, "request failed");
                "Something went wrong on our side. It has been logged; please try again."
                    .to_string()
            }
            other => other.to_string(),
        };
        super::error_page::error_page(self.status_code(), &message)
    }
}

/// Logs an internal error once, with its whole cause chain on one line (`outer: cause:
/// cause`), in the request's span.
pub(crate) fn log_internal(error: &anyhow::Error, what: &'static str) {
    tracing::error!(error = %format!("{error:#}"), "{what}");
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::telemetry::logs_while;

    /// A cause that its wrapper's message does not repeat, as most library errors are.
    #[derive(Debug, thiserror::Error)]
    #[error("saving the caption failed")]
    struct Outer(#[source] std::io::Error);

    fn cause() -> anyhow::Error {
        let disk = std::io::Error::other("disk quota exceeded");
        anyhow::Error::new(Outer(disk)).context("editing caption 7")
    }

    #[test]
    fn an_internal_error_is_logged_once_with_its_whole_cause_chain() {
        let error = WebError::from(cause());
        let logs = logs_while(|| {
            error.error_response();
        });
        assert_eq!(logs.lines().count(), 1, "{logs}");
        assert!(
            logs.contains("editing caption 7: saving the caption failed: disk quota exceeded"),
            "{logs}"
        );
    }

    #[actix_web::test]
    async fn the_visitor_sees_an_apology_not_the_cause() {
        let response = WebError::from(cause()).error_response();
        assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
        let body = actix_web::body::to_bytes(response.into_body())
            .await
            .unwrap();
        let body = String::from_utf8(body.to_vec()).unwrap();
        assert!(body.contains("Something went wrong on our side"), "{body}");
        assert!(!body.contains("disk quota"), "{body}");
    }
}
