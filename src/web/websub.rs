//! The WebSub callback, `/websub/{feed_id}`: the hub's verification of intent (GET) and
//! its content distribution (POST). Both answer plainly: hubs are programs.

use std::collections::HashMap;

use actix_web::{get, web, HttpRequest, HttpResponse};

use super::AppState;
use crate::db::{now, DbError};
use crate::feeds::FeedId;
use crate::websub::{signature, store};

/// The largest push accepted: the poller's own cap on a feed document.
pub const MAX_PUSH_BYTES: usize = 5 * 1024 * 1024;

fn plain(status: actix_web::http::StatusCode, text: impl Into<String>) -> HttpResponse {
    HttpResponse::build(status)
        .content_type("text/plain; charset=utf-8")
        .body(text.into())
}

/// §5.3: echo the challenge when the hub asks about a subscription we requested.
#[get("/websub/{feed_id}")]
#[tracing::instrument(skip_all)]
pub async fn verify(
    state: web::Data<AppState>,
    path: web::Path<FeedId>,
    query: web::Query<HashMap<String, String>>,
) -> HttpResponse {
    use actix_web::http::StatusCode;
    let feed_id = path.into_inner();
    let field = |name: &str| query.get(name).map(String::as_str);
    let (Some(mode), Some(topic)) = (field("hub.mode"), field("hub.topic")) else {
        return plain(
            StatusCode::BAD_REQUEST,
            "hub.mode and hub.topic are required",
        );
    };
    let topic = topic.to_owned();
    match mode {
        "subscribe" => {
            let Some(challenge) = field("hub.challenge").map(str::to_owned) else {
                return plain(StatusCode::BAD_REQUEST, "hub.challenge is required");
            };
            let lease = field("hub.lease_seconds").and_then(|s| s.parse::<i64>().ok());
            let confirmed = state
                .db
                .run(move |conn| {
                    Ok::<_, DbError>(store::confirm(conn, &feed_id, &topic, lease, now())?)
                })
                .await;
            match confirmed {
                Ok(true) => plain(StatusCode::OK, challenge),
                Ok(false) => plain(StatusCode::NOT_FOUND, "no such subscription was requested"),
                Err(error) => {
                    tracing::error!(%error, "WebSub verification failed");
                    plain(StatusCode::SERVICE_UNAVAILABLE, "try again later")
                }
            }
        }
        "denied" => {
            let reason = field("hub.reason").unwrap_or("no reason given").to_owned();
            let noted = state
                .db
                .run(move |conn| {
                    Ok::<_, DbError>(store::denied(conn, &feed_id, &topic, &reason, now())?)
                })
                .await;
            match noted {
                Ok(_) => plain(StatusCode::OK, ""),
                Err(_) => plain(StatusCode::SERVICE_UNAVAILABLE, "try again later"),
            }
        }
        "unsubscribe" => {
            let Some(challenge) = field("hub.challenge").map(str::to_owned) else {
                return plain(StatusCode::BAD_REQUEST, "hub.challenge is required");
            };
            let confirmed = state
                .db
                .run(move |conn| Ok::<_, DbError>(store::confirm_leaving(conn, &feed_id, &topic)?))
                .await;
            match confirmed {
                Ok(true) => plain(StatusCode::OK, challenge),
                // Not asked for: a hub saying we did is mistaken or forged.
                Ok(false) => plain(StatusCode::NOT_FOUND, "no such request was made"),
                Err(error) => {
                    tracing::error!(%error, "WebSub verification failed");
                    plain(StatusCode::SERVICE_UNAVAILABLE, "try again later")
                }
            }
        }
        _ => plain(StatusCode::NOT_FOUND, "no such request was made"),
    }
}

/// §7–8: a push of the topic's new content, stored only when signed with the feed's
/// secret. Its entries go through the same dedupe as polled ones, so a push and a poll
/// of the same post never make two posts or two sets of captions.
pub async fn receive(
    state: web::Data<AppState>,
    path: web::Path<FeedId>,
    request: HttpRequest,
    body: web::Bytes,
) -> HttpResponse {
    use actix_web::http::StatusCode;
    let feed_id = path.into_inner();
    let id = feed_id.clone();
    let secret = state
        .db
        .run(move |conn| Ok::<_, DbError>(store::push_secret(conn, &id)?))
        .await;
    let (secret, topic) = match secret {
        Ok(Some(found)) => found,
        Ok(None) => return plain(StatusCode::NOT_FOUND, "no subscription for this feed"),
        Err(_) => return plain(StatusCode::SERVICE_UNAVAILABLE, "try again later"),
    };
    let header = request
        .headers()
        .get("x-hub-signature")
        .and_then(|v| v.to_str().ok());
    if let Err(error) = signature::verify(&secret, header, &body) {
        tracing::warn!(feed = %feed_id, %error, "WebSub push refused");
        return plain(StatusCode::BAD_REQUEST, error.to_string());
    }
    let base = url::Url::parse(&topic).ok();
    let parsed =
        tokio::task::spawn_blocking(move || crate::feeds::parse_feed(&body, base.as_ref())).await;
    let parsed = match parsed {
        Ok(Ok(parsed)) => parsed,
        Ok(Err(error)) => return plain(StatusCode::BAD_REQUEST, error.to_string()),
        Err(_) => return plain(StatusCode::BAD_REQUEST, "the document could not be read"),
    };
    let parsed = std::sync::Arc::new(parsed);
    let stored = state
        .db
        .transaction(move |conn| {
            let new = crate::feeds::store::insert_new_posts(conn, &feed_id, &parsed.entries)?;
            let captions = if new > 0 {
                crate::desk::store::write_feed_captions(conn, &feed_id)?
            } else {
                0
            };
            Ok::<_, DbError>((new, captions))
        })
        .await;
    match stored {
        Ok((posts, captions)) => {
            crate::metrics::metrics().posts_found.inc_by(posts as u64);
            crate::metrics::metrics()
                .captions_made
                .inc_by(captions as u64);
            plain(StatusCode::OK, format!("{posts} new posts"))
        }
        Err(error) => {
            tracing::error!(%error, "storing a WebSub push failed");
            // A 5xx makes the hub deliver again later; the poll is the safety net anyway.
            plain(StatusCode::SERVICE_UNAVAILABLE, "try again later")
        }
    }
}
