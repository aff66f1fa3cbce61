//! The account's pages besides the desk that a subscriber opens every day (the feeds list,
//! a feed's page, the templates, the settings), served as stored while nothing on them
//! changed, like the desk (see `desk::cache` and `desk_watch`).
//!
//! They are keyed by the account's pages version ([`Versions::pages`]), which the database
//! raises in triggers on every change any of them shows, the desk's included; so a change
//! made by any code path, on any replica, shows at once. A page is kept per session: its
//! forms carry that session's CSRF token.

use std::future::Future;
use std::sync::Arc;
use std::time::Instant;

use actix_web::{HttpRequest, HttpResponse};

use super::captions::{html_response, stored_response, viewing, Viewing};
use crate::accounts::sessions::Versions;
use crate::accounts::{users, UserId};
use crate::desk::cache::{PageKey, StoredPage};
use crate::web::error::WebError;
use crate::web::session::CurrentUser;
use crate::web::AppState;

/// A page as rendered, and whether it may be served again.
pub enum Rendered {
    /// Made only of what the pages version covers.
    Keep(String),
    /// Shows something that changes without a write (a time that passes): never stored.
    Once(String),
}

/// The page `view` (its canonical address: what it shows besides the account) for the
/// session's holder: as stored, or made by `render` and stored.
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
    let Viewing {
        session,
        user_id,
        versions,
        mut timing,
    } = viewing(req, state).await?;
    let key = versions.map(|Versions { pages, .. }| PageKey {
        session,
        user_id: user_id.clone(),
        view,
        version: pages,
    });
    if let Some(stored) = key.as_ref().and_then(|key| state.desk_pages.get(key)) {
        return stored_response(req, &stored, &timing);
    }
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
