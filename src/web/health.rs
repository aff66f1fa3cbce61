//! Operators' endpoints.

use std::time::Duration;

use actix_web::{get, web, HttpResponse};
use diesel::connection::SimpleConnection as _;

use super::AppState;
use crate::db::{now, DbError};
use crate::metrics::{metrics, Backlog};
use crate::poller::leases::{failing_feeds, oldest_overdue};

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

/// Prometheus text format: the process's counters, and the backlog (queue lag, mail
/// outbox, webhook deliveries, failing feeds) read now from the shared database.
#[get("/metrics")]
pub async fn prometheus(state: web::Data<AppState>) -> HttpResponse {
    let at = now();
    let read = state.db.run(move |conn| {
        let age = |since: Option<chrono::NaiveDateTime>| {
            since.map_or(0.0, |since| (at - since).as_seconds_f64().max(0.0))
        };
        let mail = crate::mail::outbox::state(conn, at)?;
        let webhooks = crate::webhooks::send::state(conn, at)?;
        Ok::<_, DbError>(Backlog {
            queue_lag_seconds: age(oldest_overdue(conn, at)?),
            mail_waiting: mail.waiting,
            mail_failing: mail.failing,
            mail_given_up_last_day: mail.given_up_last_day,
            mail_oldest_seconds: age(mail.oldest_waiting),
            webhooks_failing: webhooks.failing,
            webhooks_given_up_last_day: webhooks.given_up_last_day,
            feeds_failing: failing_feeds(conn)?,
        })
    });
    let backlog = match tokio::time::timeout(READY_TIMEOUT, read).await {
        Ok(Ok(backlog)) => backlog.render(),
        // Left out rather than shown as 0: an alert must not read "no lag" from a failure.
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "metrics: backlog not measured");
            String::new()
        }
        Err(_) => {
            tracing::warn!("metrics: backlog not measured in time");
            String::new()
        }
    };
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(metrics().render() + &backlog)
}
