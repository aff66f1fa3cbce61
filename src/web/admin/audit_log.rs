//! `GET /admin/audit`: what operators did, newest first.

use actix_web::http::StatusCode;
use actix_web::{get, web, HttpRequest, HttpResponse};
use askama::Template;

use super::Operator;
use crate::operators::audit;
use crate::web::error::WebError;
use crate::web::pages::{format_time, render, Layout};
use crate::web::AppState;

/// Enough to read back a day's work; older rows stay in the table.
const SHOWN: i64 = 200;

pub struct AuditLine {
    pub at: String,
    pub operator: String,
    pub action: String,
    pub account: String,
    pub detail: String,
}

#[derive(Template)]
#[template(path = "admin/audit.html")]
struct AuditPage {
    layout: Layout,
    lines: Vec<AuditLine>,
}

#[get("/audit")]
pub async fn list(
    req: HttpRequest,
    state: web::Data<AppState>,
    operator: web::ReqData<Operator>,
) -> Result<HttpResponse, WebError> {
    let rows = state
        .db
        .run(|conn| audit::recent(conn, SHOWN).map_err(WebError::from))
        .await?;
    let lines = rows
        .into_iter()
        .map(|row| AuditLine {
            at: format_time(&row.created_at),
            operator: row.operator_id.unwrap_or_else(|| "command line".into()),
            action: row.action,
            account: row.account_id.unwrap_or_default(),
            detail: row.detail,
        })
        .collect();
    render(
        StatusCode::OK,
        &AuditPage {
            layout: Layout::new(&req, &state, Some(&operator.user)),
            lines,
        },
    )
}
