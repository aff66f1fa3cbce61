//! The connections page: connect Bluesky with a handle and an app password (checked by
//! logging in before it is kept), disconnect, and each connection's state. It says why the
//! other networks stay on copy and composer links. The app password is sealed at once and
//! never shown again, in this page or anywhere.

use actix_web::http::StatusCode;
use actix_web::{get, post, web, HttpRequest, HttpResponse};
use askama::Template;

use super::{format_time, render, see_other, see_other_if_found, Layout};
use crate::captions::Platform;
use crate::publish::bluesky::{BlueskyError, Client};
use crate::publish::connections;
use crate::web::csrf::CheckedForm;
use crate::web::error::WebError;
use crate::web::session::CurrentUser;
use crate::web::AppState;

/// Where Bluesky accounts live unless the subscriber runs their own PDS.
pub const DEFAULT_PDS: &str = "https://bsky.social";

pub struct ConnectionView {
    pub id: String,
    pub network: String,
    pub handle: String,
    pub service_url: String,
    pub since: String,
    /// Why the network refused it, when it did.
    pub broken: Option<String>,
}

#[derive(Template)]
#[template(path = "connections.html")]
struct ConnectionsPage {
    layout: Layout,
    connections: Vec<ConnectionView>,
    /// Said after a Mastodon disconnect whose token the instance did not revoke.
    not_revoked: bool,
    error: Option<String>,
    handle: String,
    service_url: String,
}

async fn page(
    req: &HttpRequest,
    state: &AppState,
    user: &CurrentUser,
    status: StatusCode,
    error: Option<String>,
    typed: (String, String),
) -> Result<HttpResponse, WebError> {
    let id = user.id();
    let rows = state
        .db
        .run(move |conn| Ok::<_, WebError>(connections::list(conn, &id)?))
        .await?;
    let connections = rows
        .into_iter()
        .map(|c| ConnectionView {
            network: c
                .platform
                .parse::<Platform>()
                .map(|p| p.display_name().to_string())
                .unwrap_or_else(|_| c.platform.clone()),
            since: format_time(&c.created_at),
            broken: c.broken_at.map(|_| c.broken_reason.unwrap_or_default()),
            id: c.id,
            handle: c.handle,
            service_url: c.service_url,
        })
        .collect();
    let (handle, service_url) = typed;
    let page = ConnectionsPage {
        layout: Layout::new(req, state, Some(&user.user)),
        connections,
        not_revoked: req.query_string().contains("not_revoked=1"),
        error,
        handle,
        service_url,
    };
    render(status, &page)
}

#[get("/connections")]
pub async fn show(
    req: HttpRequest,
    state: web::Data<AppState>,
    user: CurrentUser,
) -> Result<HttpResponse, WebError> {
    page(
        &req,
        &state,
        &user,
        StatusCode::OK,
        None,
        (String::new(), DEFAULT_PDS.to_string()),
    )
    .await
}

#[derive(serde::Deserialize, Default)]
#[serde(default)]
pub struct BlueskyForm {
    handle: String,
    app_password: String,
    service_url: String,
}

/// The PDS address as typed, or the default; only an http(s) address the address policy
/// lets the service reach.
fn service_url(typed: &str, state: &AppState) -> Result<String, String> {
    let typed = typed.trim();
    let typed = if typed.is_empty() { DEFAULT_PDS } else { typed };
    let url = url::Url::parse(typed).map_err(|_| format!("{typed} is not a web address."))?;
    crate::feeds::guard::check_url(&url, &state.settings.address_policy())
        .map_err(|e| format!("That PDS address cannot be used: {e}."))?;
    Ok(url.as_str().trim_end_matches('/').to_string())
}

#[post("/connections/bluesky")]
pub async fn connect_bluesky(
    req: HttpRequest,
    state: web::Data<AppState>,
    user: CurrentUser,
    form: CheckedForm<BlueskyForm>,
) -> Result<HttpResponse, WebError> {
    let form = form.0;
    let handle = form.handle.trim().trim_start_matches('@').to_string();
    // What the form shows again on a refusal: never the app password.
    let typed = (handle.clone(), form.service_url.trim().to_string());
    let refuse = |message: String| {
        page(
            &req,
            &state,
            &user,
            StatusCode::UNPROCESSABLE_ENTITY,
            Some(message),
            typed.clone(),
        )
    };
    if handle.is_empty() || form.app_password.trim().is_empty() {
        return refuse("Type your handle and an app password.".into()).await;
    }
    let service = match service_url(&form.service_url, &state) {
        Ok(url) => url,
        Err(message) => return refuse(message).await,
    };
    let password = form.app_password.trim().to_string();
    // Logging in once proves the pair works before it is kept; the session it gives is kept
    // too, so the publisher's first pass does not log in again (logins are rate-limited).
    let checked = match Client::new(&service, &state.settings.address_policy()) {
        Ok(client) => client.create_session(&handle, &password).await,
        Err(e) => Err(e),
    };
    let session = match checked {
        Ok(session) => session.to_kept(),
        Err(BlueskyError::Unauthorized { .. }) => {
            return refuse("Bluesky refused that handle and app password.".into()).await
        }
        Err(BlueskyError::Retry { .. }) => {
            return refuse(format!(
                "{service} could not be reached; try again in a moment."
            ))
            .await
        }
        Err(BlueskyError::Refused { message, .. }) => {
            return refuse(format!("Bluesky refused the login: {message}")).await
        }
    };
    let id = user.id();
    let secrets = state.secrets.clone();
    state
        .db
        .run(move |conn| {
            let connection = connections::save(
                conn,
                &secrets,
                &id,
                Platform::Bluesky,
                &service,
                &handle,
                &password,
            )?;
            connections::save_session(conn, &secrets, &id, &connection, &session)?;
            Ok::<_, WebError>(())
        })
        .await?;
    Ok(see_other("/connections"))
}

#[derive(serde::Deserialize)]
pub struct NoFields {}

/// Removes a connection. A Mastodon token is first given back to its instance; when the
/// instance cannot be reached (or refuses), the connection is removed here all the same
/// and the page says the token could not be revoked, so the subscriber can do it there.
#[post("/connections/{id}/delete")]
pub async fn disconnect(
    state: web::Data<AppState>,
    user: CurrentUser,
    path: web::Path<String>,
    _form: CheckedForm<NoFields>,
) -> Result<HttpResponse, WebError> {
    let connection = path.into_inner();
    let (id, secrets, wanted) = (user.id(), state.secrets.clone(), connection.clone());
    let found = state
        .db
        .run(move |conn| {
            let Some(found) = connections::find(conn, &id, &wanted)? else {
                return Ok::<_, WebError>(None);
            };
            let secret = match found.platform.parse::<Platform>() {
                Ok(platform) => connections::with_secret(conn, &secrets, &id, platform)?
                    .and_then(|(_, secret)| secret.ok()),
                Err(_) => None,
            };
            Ok(Some((found, secret)))
        })
        .await?;
    let Some((found, secret)) = found else {
        return Err(WebError::NotFound);
    };
    let mut revoked = true;
    if found.platform == Platform::Mastodon.id() {
        revoked = match secret {
            Some(token) => {
                match super::mastodon_connect::revoke_token(&state, &found.service_url, token)
                    .await?
                {
                    Ok(()) => true,
                    Err(error) => {
                        tracing::warn!(connection = %found.id, %error, "the Mastodon token could not be revoked; disconnected here anyway");
                        false
                    }
                }
            }
            // A token that no longer opens cannot be sent back.
            None => false,
        };
    }
    let id = user.id();
    let removed = state
        .db
        .run(move |conn| Ok::<_, WebError>(connections::delete(conn, &id, &connection)?))
        .await?;
    let back = if revoked {
        "/connections"
    } else {
        "/connections?not_revoked=1"
    };
    see_other_if_found(removed, back)
}
