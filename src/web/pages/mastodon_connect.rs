//! "Connect Mastodon": the subscriber names their instance, approves captionfeed there, and
//! comes back connected.
//!
//! The form registers our app on the instance (once per instance), keeps the `state` and
//! the PKCE verifier in `mastodon_authorizations` and sends the browser to the instance's
//! /oauth/authorize. The callback takes that row once (a wrong, expired or reused `state`
//! stores nothing), exchanges the code with the same redirect address, seals the token in
//! `connections` and fits the account's Mastodon captions to the instance's limit.

use actix_web::http::StatusCode;
use actix_web::{get, post, web, HttpRequest, HttpResponse};
use askama::Template;

use super::{error_page, render, see_other, sentence, Layout};
use crate::captions::{Platform, MASTODON_MAX_LIMIT, MASTODON_MIN_LIMIT};
use crate::db::DbError;
use crate::desk::regenerate;
use crate::publish::connections;
use crate::publish::mastodon::client::{Client, MastodonError};
use crate::publish::mastodon::{instance, oauth, store};
use crate::subscriptions;
use crate::web::csrf::CheckedForm;
use crate::web::error::WebError;
use crate::web::session::CurrentUser;
use crate::web::AppState;

pub const CALLBACK_PATH: &str = "/connections/mastodon/callback";

#[derive(Template)]
#[template(path = "mastodon_connect.html")]
struct ConnectPage {
    layout: Layout,
    /// The account's Mastodon connection: handle, instance, and why it is broken if it is.
    connected: Option<(String, String, Option<String>)>,
    just_connected: bool,
    instance: String,
    error: Option<String>,
}

async fn page(
    req: &HttpRequest,
    state: &AppState,
    user: &CurrentUser,
    status: StatusCode,
    instance: String,
    error: Option<String>,
) -> Result<HttpResponse, WebError> {
    let id = user.id();
    let rows = state
        .db
        .run(move |conn| Ok::<_, DbError>(connections::list(conn, &id)?))
        .await?;
    let connected = rows
        .into_iter()
        .find(|c| c.platform == Platform::Mastodon.id())
        .map(|c| (c.handle, c.service_url, c.broken_reason));
    let page = ConnectPage {
        layout: Layout::new(req, state, Some(&user.user)),
        connected,
        just_connected: req.query_string().contains("connected=1"),
        instance,
        error,
    };
    render(status, &page)
}

/// Where instances send the subscriber back: exactly this, registered with the app.
fn redirect_uri(state: &AppState) -> String {
    format!(
        "{}{CALLBACK_PATH}",
        state.settings.base_url.as_str().trim_end_matches('/')
    )
}

/// Gives the account's token back to its instance (`POST /oauth/revoke`) when Mastodon is
/// disconnected, so it is worth nothing there either. The inner `Err` says why the
/// instance could not revoke it; the caller removes the connection anyway.
pub(super) async fn revoke_token(
    state: &AppState,
    origin: &str,
    token: String,
) -> Result<Result<(), MastodonError>, WebError> {
    let client = match Client::new(&state.settings.address_policy()) {
        Ok(client) => client,
        Err(e) => return Ok(Err(e)),
    };
    let (o, r, k) = (
        origin.to_string(),
        redirect_uri(state),
        state.secrets.clone(),
    );
    let app = state
        .db
        .run(move |conn| Ok::<_, DbError>(store::find_app(conn, &k, &o, &r)?))
        .await?;
    let Some(app) = app else {
        return Ok(Err(MastodonError::Refused {
            status: 0,
            message: "captionfeed's registration on the instance is gone".into(),
        }));
    };
    Ok(oauth::revoke(&client, origin, &app, &oauth::AccessToken(token)).await)
}

#[get("/connections/mastodon")]
pub async fn show(
    req: HttpRequest,
    state: web::Data<AppState>,
    user: CurrentUser,
) -> Result<HttpResponse, WebError> {
    page(&req, &state, &user, StatusCode::OK, String::new(), None).await
}

#[derive(serde::Deserialize, Default)]
#[serde(default)]
pub struct ConnectForm {
    instance: String,
}

#[post("/connections/mastodon")]
pub async fn start(
    req: HttpRequest,
    state: web::Data<AppState>,
    user: CurrentUser,
    form: CheckedForm<ConnectForm>,
) -> Result<HttpResponse, WebError> {
    let typed = form.0.instance;
    match authorization_address(&state, &user, &typed).await? {
        Ok(address) => Ok(see_other(&address)),
        Err(e) => {
            let status = match e {
                MastodonError::Address(_) => StatusCode::BAD_REQUEST,
                _ => StatusCode::BAD_GATEWAY,
            };
            let message = match e {
                MastodonError::Address(why) => sentence(&why),
                other => sentence(&format!(
                    "that instance did not let captionfeed in ({other}); check the address, or try again later"
                )),
            };
            page(&req, &state, &user, status, typed, Some(message)).await
        }
    }
}

/// The instance's authorization address for this account, after registering our app there
/// when it is the first time, and keeping the `state` and verifier.
async fn authorization_address(
    state: &AppState,
    user: &CurrentUser,
    typed: &str,
) -> Result<Result<String, MastodonError>, WebError> {
    let policy = state.settings.address_policy();
    let origin = match instance::origin_from_input(typed, &policy) {
        Ok(origin) => origin,
        Err(e) => return Ok(Err(e)),
    };
    let client = match Client::new(&policy) {
        Ok(client) => client,
        Err(e) => return Ok(Err(e)),
    };
    let redirect = redirect_uri(state);
    let key = state.secrets.clone();
    let (o, r, k) = (origin.clone(), redirect.clone(), key.clone());
    let known = state
        .db
        .run(move |conn| Ok::<_, DbError>(store::find_app(conn, &k, &o, &r)?))
        .await?;
    let app = match known {
        Some(app) => app,
        None => {
            let website = state.settings.base_url.to_string();
            let registered = match oauth::register_app(&client, &origin, &redirect, &website).await
            {
                Ok(app) => app,
                Err(e) => return Ok(Err(e)),
            };
            let (o, r, k) = (origin.clone(), redirect.clone(), key.clone());
            state
                .db
                .run(move |conn| Ok::<_, DbError>(store::keep_app(conn, &k, &o, &r, &registered)?))
                .await?
        }
    };
    let pkce = oauth::Pkce::new();
    let (id, o, verifier) = (user.id(), origin.clone(), pkce.verifier.clone());
    let oauth_state = state
        .db
        .run(move |conn| {
            Ok::<_, DbError>(store::start_authorization(conn, &key, &id, &o, &verifier)?)
        })
        .await?;
    Ok(oauth::authorize_url(
        &client,
        &origin,
        &app.client_id,
        &redirect,
        &oauth_state,
        &pkce.challenge,
    ))
}

#[derive(serde::Deserialize, Default)]
#[serde(default)]
pub struct Callback {
    code: String,
    state: String,
    error: String,
}

#[get("/connections/mastodon/callback")]
pub async fn callback(
    state: web::Data<AppState>,
    user: CurrentUser,
    query: web::Query<Callback>,
) -> Result<HttpResponse, WebError> {
    let Callback {
        code,
        state: oauth_state,
        error,
    } = query.into_inner();
    let (id, key) = (user.id(), state.secrets.clone());
    let pending = state
        .db
        .run(move |conn| {
            Ok::<_, DbError>(store::take_authorization(conn, &key, &id, &oauth_state)?)
        })
        .await?;
    let Some(pending) = pending else {
        return Ok(error_page(
            StatusCode::BAD_REQUEST,
            "This Mastodon authorization is unknown, expired or already used, so nothing was connected. Start again from Connect Mastodon.",
        ));
    };
    if !error.is_empty() || code.is_empty() {
        let why = if error == "access_denied" {
            "You did not authorize captionfeed on your instance, so nothing was connected."
                .to_string()
        } else {
            sentence(&format!(
                "your instance did not authorize captionfeed ({}), so nothing was connected",
                if error.is_empty() { "no code" } else { &error }
            ))
        };
        return Ok(error_page(StatusCode::BAD_REQUEST, &why));
    }
    match finish(&state, &user, &pending, &code).await? {
        Ok(()) => Ok(see_other("/connections/mastodon?connected=1")),
        Err(e) => {
            tracing::warn!(origin = %pending.origin, error = %e, "a Mastodon connection could not be finished");
            Ok(error_page(
                StatusCode::BAD_GATEWAY,
                &sentence(&format!(
                    "{} did not finish the connection ({e}), so nothing was connected; start again from Connect Mastodon",
                    pending.origin
                )),
            ))
        }
    }
}

/// Exchanges the code, learns whose token it is and what the instance allows, and keeps
/// the connection with the token sealed.
async fn finish(
    state: &AppState,
    user: &CurrentUser,
    pending: &store::Pending,
    code: &str,
) -> Result<Result<(), MastodonError>, WebError> {
    let client = match Client::new(&state.settings.address_policy()) {
        Ok(client) => client,
        Err(e) => return Ok(Err(e)),
    };
    let redirect = redirect_uri(state);
    let (o, r, k) = (
        pending.origin.clone(),
        redirect.clone(),
        state.secrets.clone(),
    );
    let app = state
        .db
        .run(move |conn| Ok::<_, DbError>(store::find_app(conn, &k, &o, &r)?))
        .await?;
    let Some(app) = app else {
        return Ok(Err(MastodonError::Refused {
            status: 0,
            message: "captionfeed's registration on the instance is gone".into(),
        }));
    };
    let steps = async {
        let token = oauth::exchange_code(
            &client,
            &pending.origin,
            &app,
            &redirect,
            code,
            &pending.verifier,
        )
        .await?;
        let account = instance::verify_credentials(&client, &pending.origin, &token.0).await?;
        let limits = instance::limits(&client, &pending.origin).await?;
        Ok::<_, MastodonError>((token, account, limits))
    };
    let (token, account, limits) = match steps.await {
        Ok(found) => found,
        Err(e) => return Ok(Err(e)),
    };
    let limit = limits
        .max_characters
        .clamp(MASTODON_MIN_LIMIT, MASTODON_MAX_LIMIT);
    let limit = i32::try_from(limit).unwrap_or(500);
    let (id, origin, key) = (user.id(), pending.origin.clone(), state.secrets.clone());
    state
        .db
        .transaction(move |conn| {
            let connection = connections::save(
                conn,
                &key,
                &id,
                Platform::Mastodon,
                &origin,
                &account.handle,
                &token.0,
            )?;
            // Kept on the connection too, for the feeds followed from now on.
            connections::set_post_limit(conn, &id, &connection, limit)?;
            subscriptions::set_mastodon_limit(conn, &id, limit)?;
            regenerate::for_account(conn, &id, crate::db::now())?;
            Ok::<_, DbError>(())
        })
        .await?;
    Ok(Ok(()))
}
