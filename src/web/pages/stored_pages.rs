//! The pages a subscriber opens every day (the desk, the feeds list, a feed's page, the
//! templates, the settings), served as stored while nothing on them changed (see
//! `desk::cache` and `desk_watch`).
//!
//! Each is keyed by one of the account's change versions ([`Versions`]), which the
//! database raises in triggers on every change the page shows: the desk by the desk's
//! version, the others by the pages version (the desk's and more). So a change made by any
//! code path, on any replica, shows at once. A page is kept per session: its forms carry
//! that session's CSRF token.

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse};

use super::desk_watch::FRESH_COOKIE;
use crate::accounts::sessions::{self, Versions};
use crate::accounts::{users, UserId};
use crate::db::DbError;
use crate::desk::cache::{accepts_gzip, matches_etag, PageKey, StoredPage};
use crate::web::error::WebError;
use crate::web::session::{CurrentUser, SESSION_COOKIE};
use crate::web::AppState;

/// A page as rendered, and whether it may be served again.
pub enum Rendered {
    /// Made only of what its version covers.
    Keep(String),
    /// Shows something that changes without a write (a time that passes): never stored.
    Once(String),
}

/// The page `view` (its canonical address: what it shows besides the account) for the
/// session's holder, keyed by the pages version: as stored, or made by `render` and stored.
pub async fn serve<F, Fut>(
    req: &HttpRequest,
    state: &AppState,
    view: String,
    render: F,
) -> Result<HttpResponse, WebError>
where
    F: FnOnce(CurrentUser) -> Fut,
    Fut: Future<Output = Result<Rendered, WebError>>,
{
    serve_at(req, state, view, |v| v.pages, render).await
}

/// [`serve`] for the desk, keyed by the desk's own version: a feed's health or a template
/// change, which the desk does not show, leaves its stored pages in place.
pub async fn serve_desk<F, Fut>(
    req: &HttpRequest,
    state: &AppState,
    view: String,
    render: F,
) -> Result<HttpResponse, WebError>
where
    F: FnOnce(CurrentUser) -> Fut,
    Fut: Future<Output = Result<Rendered, WebError>>,
{
    serve_at(req, state, view, |v| v.desk, render).await
}

async fn serve_at<F, Fut>(
    req: &HttpRequest,
    state: &AppState,
    view: String,
    version: fn(Versions) -> i64,
    render: F,
) -> Result<HttpResponse, WebError>
where
    F: FnOnce(CurrentUser) -> Fut,
    Fut: Future<Output = Result<Rendered, WebError>>,
{
    // The session and the account's versions before anything else: most requests end
    // with a page rendered before.
    let Viewing {
        session,
        user_id,
        versions,
        mut timing,
    } = viewing(req, state).await?;
    let key = versions.map(|versions| PageKey {
        session,
        user_id: user_id.clone(),
        view,
        version: version(versions),
    });
    if let Some(stored) = key.as_ref().and_then(|key| state.desk_pages.get(key)) {
        return stored_response(req, &stored, &timing);
    }
    // One render per session and view at a time; whoever waited finds the page stored.
    let _turn = match &key {
        Some(key) => {
            let turn = state.desk_pages.render_turn(key).await;
            if let Some(stored) = state.desk_pages.get(key) {
                return stored_response(req, &stored, &timing);
            }
            Some(turn)
        }
        None => None,
    };
    let started = Instant::now();
    let user = state
        .db
        .run(move |conn| users::get(conn, &UserId(user_id.clone())))
        .await?
        .ok_or(WebError::LoginRequired)?;
    let rendered = render(CurrentUser { user }).await?;
    timing.page = "rendered";
    timing.page_took = Some(started.elapsed());
    match (rendered, key) {
        (Rendered::Keep(html), Some(key)) => {
            let stored =
                Arc::new(StoredPage::new(key, &html).map_err(|e| WebError::Internal(e.into()))?);
            state.desk_pages.put(stored.clone());
            stored_response(req, &stored, &timing)
        }
        (Rendered::Keep(html) | Rendered::Once(html), _) => Ok(html_response(html, &timing)),
    }
}

/// Where a desk request's time went, as `Server-Timing` tells the browser's developer
/// tools: the session checked from memory or with the database, the page stored or
/// rendered.
struct Timing {
    pub viewer: &'static str,
    pub viewer_took: Option<Duration>,
    pub page: &'static str,
    pub page_took: Option<Duration>,
}

impl Timing {
    fn header(&self) -> (header::HeaderName, String) {
        let metric = |name: &str, desc: &str, took: Option<Duration>| match took {
            Some(took) => format!(
                "{name};desc=\"{desc}\";dur={:.2}",
                took.as_secs_f64() * 1000.0
            ),
            None => format!("{name};desc=\"{desc}\""),
        };
        (
            header::HeaderName::from_static("server-timing"),
            format!(
                "{}, {}",
                metric("viewer", self.viewer, self.viewer_took),
                metric("page", self.page, self.page_took)
            ),
        )
    }
}

/// Who is looking at a stored page: the session (by its token's hash), its account, the
/// account's change versions, and the timing so far.
struct Viewing {
    pub session: String,
    pub user_id: String,
    pub versions: Option<Versions>,
    pub timing: Timing,
}

/// The request's session, its account and change versions: from memory (kept while the
/// database tells this process of changes) or in one round trip; always the database just
/// after the subscriber changed something, which this replica may not have been told yet.
async fn viewing(req: &HttpRequest, state: &AppState) -> Result<Viewing, WebError> {
    let token = req
        .cookie(SESSION_COOKIE)
        .map(|c| c.value().to_string())
        .ok_or(WebError::LoginRequired)?;
    let session = sessions::token_hash(&token);
    let started = Instant::now();
    let fresh = req.cookie(FRESH_COOKIE).is_some();
    let known = (!fresh)
        .then(|| state.desk_watch.known(&session, crate::db::now()))
        .flatten();
    let (user_id, versions, from_memory) = match known {
        Some((user_id, versions)) => (user_id, Some(versions), true),
        None => {
            let ticket = state.desk_watch.ticket();
            let lookup = session.clone();
            let viewer = state
                .db
                .run(move |conn| sessions::viewer(conn, &lookup).map_err(DbError::from))
                .await?
                .ok_or(WebError::LoginRequired)?;
            if let (Some(ticket), Some(versions)) = (ticket, viewer.versions) {
                state.desk_watch.learn(
                    ticket,
                    &session,
                    &viewer.user_id,
                    viewer.expires_at,
                    versions,
                );
            }
            (viewer.user_id, viewer.versions, false)
        }
    };
    let timing = Timing {
        viewer: if from_memory { "memory" } else { "database" },
        viewer_took: (!from_memory).then(|| started.elapsed()),
        page: "stored",
        page_took: None,
    };
    Ok(Viewing {
        session,
        user_id,
        versions,
        timing,
    })
}

/// A stored page: 304 when the browser has it, else gzipped (or, rarely, plain).
fn stored_response(
    req: &HttpRequest,
    stored: &StoredPage,
    timing: &Timing,
) -> Result<HttpResponse, WebError> {
    let header_text = |name| {
        req.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
    };
    let unchanged = matches_etag(header_text(header::IF_NONE_MATCH), &stored.etag);
    let mut response = if unchanged {
        HttpResponse::NotModified()
    } else {
        HttpResponse::Ok()
    };
    response
        .insert_header((header::ETAG, stored.etag.clone()))
        // Private to this session, and checked with the server before each use.
        .insert_header((header::CACHE_CONTROL, "private, no-cache"))
        .insert_header((header::VARY, "Accept-Encoding, Cookie"))
        .insert_header(timing.header());
    if unchanged {
        return Ok(response.finish());
    }
    response.insert_header((header::CONTENT_TYPE, "text/html; charset=utf-8"));
    if accepts_gzip(header_text(header::ACCEPT_ENCODING)) {
        Ok(response
            .insert_header((header::CONTENT_ENCODING, "gzip"))
            .body(stored.gzip.clone()))
    } else {
        let html = stored.html().map_err(|e| WebError::Internal(e.into()))?;
        Ok(response.body(html))
    }
}

fn html_response(html: String, timing: &Timing) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header(timing.header())
        .insert_header((header::CONTENT_TYPE, "text/html; charset=utf-8"))
        .insert_header((header::CACHE_CONTROL, "private, no-cache"))
        .body(html)
}
