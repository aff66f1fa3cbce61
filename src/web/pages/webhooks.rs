//! Webhook endpoints: add (secret shown once), list with recent deliveries, delete,
//! send a delivery again.

use actix_web::http::StatusCode;
use actix_web::{get, post, web, HttpRequest, HttpResponse};
use askama::Template;

use super::{format_time, render, see_other_if_found, Layout};
use crate::billing::Feature;
use crate::web::csrf::CheckedForm;
use crate::web::error::WebError;
use crate::web::session::CurrentUser;
use crate::web::AppState;
use crate::webhooks::endpoints::{self, Delivery, Endpoint};

/// Deliveries shown per endpoint.
const SHOWN: i64 = 20;

pub struct DeliveryRow {
    pub id: String,
    pub caption_id: String,
    pub created: String,
    pub state: String,
    pub status: String,
    pub response: String,
    pub attempts: i32,
    pub error: String,
}

pub struct EndpointRow {
    pub id: String,
    pub url: String,
    pub events: String,
    pub created: String,
    pub deliveries: Vec<DeliveryRow>,
}

#[derive(Template)]
#[template(path = "webhooks.html")]
struct WebhooksPage {
    layout: Layout,
    endpoints: Vec<EndpointRow>,
    new_secret: Option<String>,
    error: Option<String>,
    url: String,
}

fn delivery_row(d: Delivery) -> DeliveryRow {
    let state = if let Some(at) = d.delivered_at {
        format!("delivered {}", format_time(&at))
    } else if let Some(at) = d.gave_up_at {
        format!("gave up {}", format_time(&at))
    } else if d.attempts == 0 {
        "waiting".to_string()
    } else {
        format!("next retry {}", format_time(&d.next_attempt_at))
    };
    DeliveryRow {
        id: d.id,
        caption_id: d.event_id,
        created: format_time(&d.created_at),
        state,
        status: d
            .last_status
            .map(|s| s.to_string())
            .unwrap_or_else(|| "—".into()),
        response: d
            .last_response_ms
            .map(|ms| format!("{ms} ms"))
            .unwrap_or_else(|| "—".into()),
        attempts: d.attempts,
        error: d.last_error.unwrap_or_default(),
    }
}

async fn page(
    req: &HttpRequest,
    state: &AppState,
    user: &CurrentUser,
    status: StatusCode,
    new_secret: Option<String>,
    error: Option<String>,
    url: String,
) -> Result<HttpResponse, WebError> {
    let id = user.id();
    let listed: Vec<(Endpoint, Vec<Delivery>)> = state
        .db
        .run(move |conn| {
            let mut out = Vec::new();
            for endpoint in endpoints::list(conn, &id)? {
                let deliveries = endpoints::recent_deliveries(conn, &id, &endpoint.id, SHOWN)?;
                out.push((endpoint, deliveries));
            }
            Ok::<_, WebError>(out)
        })
        .await?;
    let endpoints = listed
        .into_iter()
        .map(|(e, deliveries)| EndpointRow {
            id: e.id,
            url: e.url,
            events: e.events,
            created: format_time(&e.created_at),
            deliveries: deliveries.into_iter().map(delivery_row).collect(),
        })
        .collect();
    let page = WebhooksPage {
        layout: Layout::new(req, state, Some(&user.user)),
        endpoints,
        new_secret,
        error,
        url,
    };
    render(status, &page)
}

#[get("/settings/webhooks")]
pub async fn list(
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
        None,
        String::new(),
    )
    .await
}

#[derive(serde::Deserialize, Default)]
#[serde(default)]
pub struct NewEndpoint {
    url: String,
    /// Checkboxes: present when ticked. None ticked means caption.created, which is
    /// also what a form from before the choice existed meant.
    #[serde(default)]
    caption_created: Option<String>,
    #[serde(default)]
    post_created: Option<String>,
    #[serde(default)]
    feed_error: Option<String>,
}

impl NewEndpoint {
    fn events(&self) -> Vec<&'static str> {
        [
            (&self.caption_created, endpoints::CAPTION_CREATED),
            (&self.post_created, endpoints::POST_CREATED),
            (&self.feed_error, endpoints::FEED_ERROR),
        ]
        .into_iter()
        .filter(|(ticked, _)| ticked.is_some())
        .map(|(_, event)| event)
        .collect()
    }
}

#[post("/settings/webhooks")]
#[tracing::instrument(skip_all)]
pub async fn create(
    req: HttpRequest,
    state: web::Data<AppState>,
    user: CurrentUser,
    form: CheckedForm<NewEndpoint>,
) -> Result<HttpResponse, WebError> {
    let events = form.0.events();
    let raw = form.0.url;
    if let Err(refused) = super::billing::require(&state, &user, Feature::Webhooks).await? {
        return page(
            &req,
            &state,
            &user,
            StatusCode::FORBIDDEN,
            None,
            Some(refused.sentence()),
            raw,
        )
        .await;
    }
    let url = match endpoints::parse_endpoint_url(&raw, &state.settings.address_policy()) {
        Ok(url) => url,
        Err(message) => {
            return page(
                &req,
                &state,
                &user,
                StatusCode::UNPROCESSABLE_ENTITY,
                None,
                Some(message),
                raw,
            )
            .await
        }
    };
    let id = user.id();
    let endpoint = state
        .db
        .run(move |conn| Ok::<_, WebError>(endpoints::create(conn, &id, &url, &events)?))
        .await?;
    // Shown in this answer only, so it is copied to the receiver right away.
    page(
        &req,
        &state,
        &user,
        StatusCode::CREATED,
        Some(endpoint.secret),
        None,
        String::new(),
    )
    .await
}

#[post("/settings/webhooks/{id}/delete")]
#[tracing::instrument(skip_all)]
pub async fn delete(
    state: web::Data<AppState>,
    user: CurrentUser,
    path: web::Path<String>,
    _form: CheckedForm<super::auth::NoFields>,
) -> Result<HttpResponse, WebError> {
    let (id, endpoint_id) = (user.id(), path.into_inner());
    let found = state
        .db
        .run(move |conn| Ok::<_, WebError>(endpoints::delete(conn, &id, &endpoint_id)?))
        .await?;
    see_other_if_found(found, "/settings/webhooks")
}

#[post("/settings/webhooks/deliveries/{id}/replay")]
#[tracing::instrument(skip_all)]
pub async fn replay(
    state: web::Data<AppState>,
    user: CurrentUser,
    path: web::Path<String>,
    _form: CheckedForm<super::auth::NoFields>,
) -> Result<HttpResponse, WebError> {
    let (id, delivery_id) = (user.id(), path.into_inner());
    let found = state
        .db
        .run(move |conn| Ok::<_, WebError>(endpoints::replay(conn, &id, &delivery_id)?))
        .await?;
    see_other_if_found(found, "/settings/webhooks")
}
