//! Operators' endpoints.

use std::time::Duration;

use actix_web::{get, web, HttpResponse};
use diesel::connection::SimpleConnection as _;

use super::AppState;
use crate::db::{now, DbError};
use crate::metrics::metrics;
use crate::poller::leases::oldest_overdue;

/// A readiness probe must answer quickly; a database this slow counts as down.
const READY_TIMEOUT: Duration = Duration::from_secs(2);

async fn database_answers(state: &AppState) -> Result<(), String> {
    let answer = state
        .db
        .run(|conn| conn.batch_execute("SELECT 1").map_err(DbError::from));
    match tokio::time::timeout(READY_TIMEOUT, answer).await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(e)) => Err(e.to_string()),
        Err(_) => Err(format!("no answer within {}s", READY_TIMEOUT.as_secs())),
    }
}

fn unavailable() -> HttpResponse {
    HttpResponse::ServiceUnavailable().json(serde_json::json!({
        "error": {"code": "database_unavailable", "message": "the database does not answer"}
    }))
}

/// 200 when the process is up and the database answers; 503 otherwise.
#[get("/healthz")]
pub async fn healthz(state: web::Data<AppState>) -> HttpResponse {
    match database_answers(&state).await {
        Ok(()) => HttpResponse::Ok().json(serde_json::json!({"status": "ok"})),
        Err(e) => {
            tracing::error!(error = %e, "health check: database does not answer");
            unavailable()
        }
    }
}

/// Whether this replica should get traffic: 503 when the database does not answer.
#[get("/readyz")]
pub async fn readyz(state: web::Data<AppState>) -> HttpResponse {
    match database_answers(&state).await {
        Ok(()) => HttpResponse::Ok().json(serde_json::json!({"status": "ready"})),
        Err(e) => {
            tracing::warn!(error = %e, "readiness: database does not answer");
            unavailable()
        }
    }
}

/// Prometheus text format. The queue lag is measured now, from the database, so every
/// replica reports the same shared queue.
#[get("/metrics")]
pub async fn prometheus(state: web::Data<AppState>) -> HttpResponse {
    let at = now();
    let oldest = state
        .db
        .run(move |conn| oldest_overdue(conn, at).map_err(DbError::from));
    match tokio::time::timeout(READY_TIMEOUT, oldest).await {
        Ok(Ok(oldest)) => {
            let lag = oldest.map_or(0.0, |due| (at - due).as_seconds_f64().max(0.0));
            metrics().queue_lag_seconds.set(lag);
        }
        Ok(Err(e)) => tracing::warn!(error = %e, "metrics: queue lag not measured"),
        Err(_) => tracing::warn!("metrics: queue lag not measured in time"),
    }
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(metrics().render())
}
