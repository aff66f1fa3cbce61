//! The span every request runs in: method, route pattern, request id and status.
//!
//! tracing-actix-web's default span also records the path with its query, the client's
//! address and its user agent. Our paths and queries carry secrets (caption-feed keys,
//! signed verification and reset links), so only the route pattern (`/c/{key}`) is kept.

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::{Error, HttpMessage};
use tracing::Span;
use tracing_actix_web::{RequestId, RootSpanBuilder};

pub struct RequestSpan;

impl RootSpanBuilder for RequestSpan {
    fn on_request_start(request: &ServiceRequest) -> Span {
        let route = request
            .match_pattern()
            .unwrap_or_else(|| "unmatched".to_string());
        let request_id = request
            .extensions()
            .get::<RequestId>()
            .map(|id| id.to_string())
            .unwrap_or_default();
        tracing::info_span!(
            "request",
            http.method = %request.method(),
            http.route = %route,
            request_id = %request_id,
            http.status_code = tracing::field::Empty,
        )
    }

    fn on_request_end<B: MessageBody>(span: Span, outcome: &Result<ServiceResponse<B>, Error>) {
        // Errors were logged, with their causes, when their responses were made.
        let status = match outcome {
            Ok(response) => response.status(),
            Err(error) => error.as_response_error().status_code(),
        };
        span.record("http.status_code", status.as_u16());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_span_names_the_request_without_its_path_or_query() {
        let request = actix_web::test::TestRequest::with_uri(
            "/caption-feeds/cfk_secretkey123/rss?token=signedlink456",
        )
        .to_srv_request();
        let logs = crate::telemetry::logs_while(|| {
            let span = RequestSpan::on_request_start(&request);
            span.in_scope(|| tracing::info!("inside"));
        });
        assert!(logs.contains("request{http.method=GET"), "{logs}");
        assert!(!logs.contains("secretkey123"), "{logs}");
        assert!(!logs.contains("signedlink456"), "{logs}");
    }
}
