//! Stopping polls for everyone: one blog whose owner asked us to, or every feed of a
//! host. Subscribers see the note on their feed pages.

use actix_web::http::StatusCode;
use actix_web::{post, web, HttpRequest, HttpResponse};
use askama::Template;

use super::Operator;
use crate::db::now;
use crate::feeds::store;
use crate::operators::audit::{self, Action};
use crate::web::csrf::CheckedForm;
use crate::web::error::WebError;
use crate::web::pages::{render, Layout};
use crate::web::AppState;

#[derive(Template)]
#[template(path = "admin/stopped.html")]
struct StoppedPage {
    layout: Layout,
    what: String,
    urls: Vec<String>,
}

#[derive(serde::Deserialize, Default)]
#[serde(default)]
pub struct StopFeed {
    url: String,
    note: String,
}

#[derive(serde::Deserialize, Default)]
#[serde(default)]
pub struct StopHost {
    host: String,
    note: String,
}

/// Subscribers are owed a reason: an empty note becomes a plain one, a long one is cut.
fn note(raw: &str) -> String {
    match raw.trim() {
        "" => "captionfeed stopped checking this feed.".to_string(),
        note => note.chars().take(500).collect(),
    }
}

fn page(
    req: &HttpRequest,
    state: &AppState,
    operator: &Operator,
    what: String,
    urls: Vec<String>,
) -> Result<HttpResponse, WebError> {
    let status = if urls.is_empty() {
        StatusCode::NOT_FOUND
    } else {
        StatusCode::OK
    };
    render(
        status,
        &StoppedPage {
            layout: Layout::new(req, state, Some(&operator.user)),
            what,
            urls,
        },
    )
}

#[post("/feeds/stop")]
pub async fn stop_feed(
    req: HttpRequest,
    state: web::Data<AppState>,
    operator: web::ReqData<Operator>,
    form: CheckedForm<StopFeed>,
) -> Result<HttpResponse, WebError> {
    let StopFeed { url, note: raw } = form.0;
    let note = note(&raw);
    let operator_id = operator.user.user_id();
    let url = url.trim().to_string();
    let target = url.clone();
    let stopped = state
        .db
        .transaction(move |conn| {
            let Some(_) = store::stop_feed(conn, &target, &note, now())? else {
                return Ok::<_, WebError>(false);
            };
            audit::record(
                conn,
                Some(&operator_id),
                Action::StopFeed,
                None,
                &format!("{target}: {note}"),
            )?;
            Ok(true)
        })
        .await?;
    let urls = if stopped {
        vec![url.clone()]
    } else {
        Vec::new()
    };
    page(&req, &state, &operator, url, urls)
}

#[post("/hosts/stop")]
pub async fn stop_host(
    req: HttpRequest,
    state: web::Data<AppState>,
    operator: web::ReqData<Operator>,
    form: CheckedForm<StopHost>,
) -> Result<HttpResponse, WebError> {
    let StopHost { host, note: raw } = form.0;
    let note = note(&raw);
    let operator_id = operator.user.user_id();
    let host = host.trim().to_ascii_lowercase();
    let target = host.clone();
    let urls = state
        .db
        .transaction(move |conn| {
            let urls = store::stop_host(conn, &target, &note, now())?;
            if !urls.is_empty() {
                let detail = format!("{target} ({} feeds): {note}", urls.len());
                audit::record(conn, Some(&operator_id), Action::StopHost, None, &detail)?;
            }
            Ok::<_, WebError>(urls)
        })
        .await?;
    page(
        &req,
        &state,
        &operator,
        format!("every feed on {host}"),
        urls,
    )
}
