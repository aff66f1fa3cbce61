//! `POST /stripe/webhook`: Stripe's events, verified against the raw body before anything
//! is read from it, then applied in one transaction with the record of their id.

use actix_web::{post, web, HttpRequest, HttpResponse};

use super::AppState;
use crate::billing::events::{self, Event, MailContext, Outcome};
use crate::billing::{signature, BillingError};
use crate::db::now;
use crate::mail::message_host;

#[post("/stripe/webhook")]
#[tracing::instrument(skip_all)]
pub async fn receive(
    req: HttpRequest,
    state: web::Data<AppState>,
    body: web::Bytes,
) -> HttpResponse {
    let Some(billing) = &state.settings.billing else {
        return refuse(actix_web::http::StatusCode::NOT_FOUND, "billing is off");
    };
    let header = req
        .headers()
        .get("Stripe-Signature")
        .and_then(|v| v.to_str().ok());
    if let Err(error) = signature::verify(
        header,
        &body,
        &billing.webhook_secrets,
        chrono::Utc::now().timestamp(),
    ) {
        tracing::warn!(%error, "Stripe webhook refused");
        return refuse(actix_web::http::StatusCode::BAD_REQUEST, &error.to_string());
    }
    let event: Event = match serde_json::from_slice(&body) {
        Ok(event) => event,
        Err(error) => {
            tracing::warn!(%error, "signed Stripe webhook is not an event");
            return refuse(
                actix_web::http::StatusCode::BAD_REQUEST,
                "not a Stripe event",
            );
        }
    };
    let plans = billing.plans.clone();
    let base_url = state.settings.base_url.clone();
    let host = message_host(&base_url);
    let (id, kind) = (event.id.clone(), event.kind.clone());
    let handled = state
        .db
        .transaction(move |conn| {
            let mail = MailContext {
                base_url: &base_url,
                message_host: &host,
            };
            events::handle(conn, &event, &plans, &mail, now())
        })
        .await;
    match handled {
        Ok(outcome) => {
            match &outcome {
                Outcome::Ignored(why) => {
                    tracing::info!(event = %id, kind = %kind, why = %why, "Stripe event recorded, nothing to change")
                }
                Outcome::Duplicate => {
                    tracing::info!(event = %id, kind = %kind, "Stripe event seen before; ignored")
                }
                Outcome::Applied => {
                    tracing::info!(event = %id, kind = %kind, "Stripe event applied")
                }
            }
            HttpResponse::Ok().json(serde_json::json!({ "received": true }))
        }
        Err(BillingError::Invalid(message)) => {
            tracing::warn!(event = %id, %message, "Stripe event refused");
            refuse(actix_web::http::StatusCode::BAD_REQUEST, &message)
        }
        // Not recorded: Stripe delivers it again later.
        Err(error) => {
            tracing::error!(event = %id, %error, "Stripe event not applied; Stripe will retry");
            refuse(
                actix_web::http::StatusCode::INTERNAL_SERVER_ERROR,
                "not applied; retry later",
            )
        }
    }
}

fn refuse(status: actix_web::http::StatusCode, message: &str) -> HttpResponse {
    HttpResponse::build(status).json(serde_json::json!({ "error": { "message": message } }))
}
