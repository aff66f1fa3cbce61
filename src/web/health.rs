//! Operators' endpoints.

use actix_web::{get, web, HttpResponse};
use diesel::connection::SimpleConnection as _;

use super::AppState;
use crate::db::DbError;

/// 200 when the process is up and the database answers; 503 otherwise.
#[get("/healthz")]
pub async fn healthz(state: web::Data<AppState>) -> HttpResponse {
    let answer = state
        .db
        .run(|conn| conn.batch_execute("SELECT 1").map_err(DbError::from))
        .await;
    match answer {
        Ok(()) => HttpResponse::Ok().json(serde_json::json!({"status": "ok"})),
        Err(e) => {
            tracing::error!(error = %e, "health check: database does not answer");
            HttpResponse::ServiceUnavailable().json(serde_json::json!({
                "error": {"code": "database_unavailable", "message": "the database does not answer"}
            }))
        }
    }
}
