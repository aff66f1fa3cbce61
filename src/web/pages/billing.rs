//! The billing page: the account's plan and its state, upgrade (a Stripe Checkout
//! Session), "Manage billing" (the Stripe customer portal), and which feeds to keep when
//! the plan allows fewer than the account follows. Every route is 404 while billing is off.

use std::collections::HashMap;

use actix_web::http::StatusCode;
use actix_web::{get, post, web, HttpRequest, HttpResponse};
use askama::Template;

use super::{format_time, render, see_other, Layout};
use crate::billing::account::{self, BillingAccount};
use crate::billing::stripe::{CheckoutRequest, StripeClient};
use crate::billing::{limits, BillingError, Feature, NotInPlan, Plan};
use crate::config::BillingSettings;
use crate::db::{new_id, now, DbError};
use crate::subscriptions;
use crate::web::csrf::CheckedForm;
use crate::web::error::WebError;
use crate::web::session::CurrentUser;
use crate::web::AppState;

pub struct PlanRow {
    pub id: String,
    pub name: String,
    pub price_label: String,
    pub feeds: u32,
    pub checks: String,
    pub features: String,
    pub current: bool,
    pub can_buy: bool,
}

pub struct KeepRow {
    pub id: String,
    pub title: String,
    pub kept: bool,
}

#[derive(Template)]
#[template(path = "billing.html")]
struct BillingPage {
    layout: Layout,
    plan_name: String,
    status: String,
    grace_until: Option<String>,
    plans: Vec<PlanRow>,
    has_customer: bool,
    live: bool,
    /// A fresh id per page view: a double-submitted form reuses it as its idempotency key.
    attempt: String,
    feeds: Vec<KeepRow>,
    paused_count: usize,
    max_feeds: u32,
    error: Option<String>,
}

fn billing(state: &AppState) -> Result<&BillingSettings, WebError> {
    state.settings.billing.as_ref().ok_or(WebError::NotFound)
}

fn features(plan: &Plan) -> String {
    let mut list = vec![format!(
        "{} digests",
        plan.digest_frequencies
            .iter()
            .filter(|f| *f != "off")
            .cloned()
            .collect::<Vec<_>>()
            .join(", ")
    )];
    for (on, name) in [
        (plan.custom_templates, "custom templates"),
        (plan.variants, "variants"),
        (plan.caption_feeds, "caption feeds"),
        (plan.api, "API"),
        (plan.webhooks, "webhooks"),
    ] {
        if on {
            list.push(name.to_string());
        }
    }
    list.join(" · ")
}

async fn page(
    req: &HttpRequest,
    state: &AppState,
    user: &CurrentUser,
    status: StatusCode,
    error: Option<String>,
) -> Result<HttpResponse, WebError> {
    let settings = billing(state)?;
    let id = user.id();
    let (row, feeds) = state
        .db
        .run(move |conn| {
            Ok::<_, DbError>((account::get(conn, &id)?, subscriptions::list(conn, &id)?))
        })
        .await?;
    let at = now();
    let plans = &settings.plans;
    let plan = row
        .as_ref()
        .map(|r| r.effective_plan(plans, at))
        .unwrap_or(plans.free());
    let live = row.as_ref().is_some_and(|r| account::is_live(&r.status));
    let paused_count = feeds
        .iter()
        .filter(|f| f.subscription.paused_by_plan)
        .count();
    let page = BillingPage {
        layout: Layout::new(req, state, Some(&user.user)),
        plan_name: plan.name.clone(),
        status: status_text(row.as_ref()),
        grace_until: row
            .as_ref()
            .and_then(BillingAccount::grace_until)
            .map(|t| format_time(&t)),
        plans: plans
            .all()
            .iter()
            .map(|p| PlanRow {
                id: p.id.clone(),
                name: p.name.clone(),
                price_label: p.price_label.clone(),
                feeds: p.max_feeds,
                checks: p.check_label(),
                features: features(p),
                current: p.id == plan.id,
                can_buy: p.is_paid() && p.id != plan.id,
            })
            .collect(),
        has_customer: row.as_ref().is_some_and(|r| r.stripe_customer_id.is_some()),
        live,
        attempt: new_id(),
        feeds: feeds
            .iter()
            .map(|f| KeepRow {
                id: f.subscription.id.0.clone(),
                title: f
                    .feed
                    .title
                    .clone()
                    .filter(|t| !t.trim().is_empty())
                    .unwrap_or_else(|| f.feed.url.clone()),
                kept: !f.subscription.paused_by_plan,
            })
            .collect(),
        paused_count,
        max_feeds: plan.max_feeds,
        error,
    };
    render(status, &page)
}

fn status_text(row: Option<&BillingAccount>) -> String {
    match row.map(|r| r.status.as_str()) {
        None | Some("none") => "no subscription".into(),
        Some("trialing") => "trial".into(),
        Some("active") => "active".into(),
        Some("past_due") => "payment failed; Stripe is retrying".into(),
        Some("canceled") => "canceled".into(),
        Some("unpaid") => "unpaid".into(),
        Some(other) => other.replace('_', " "),
    }
}

#[get("/billing")]
pub async fn show(
    req: HttpRequest,
    state: web::Data<AppState>,
    user: CurrentUser,
) -> Result<HttpResponse, WebError> {
    page(&req, &state, &user, StatusCode::OK, None).await
}

#[derive(serde::Deserialize, Default)]
#[serde(default)]
pub struct CheckoutForm {
    plan: String,
    attempt: String,
}

/// Our ids only (letters and digits), so a key is never built from arbitrary text.
fn attempt_id(raw: &str) -> Option<&str> {
    (!raw.is_empty() && raw.len() <= 64 && raw.chars().all(|c| c.is_ascii_alphanumeric()))
        .then_some(raw)
}

fn client(settings: &BillingSettings) -> Result<StripeClient, WebError> {
    StripeClient::new(settings.api_base.clone(), settings.secret_key.clone())
        .map_err(|e| WebError::Internal(e.into()))
}

/// The account's Stripe customer, created on first use. The idempotency key is the
/// account id, so two requests racing here get the same customer from Stripe.
async fn customer(
    state: &AppState,
    user: &CurrentUser,
    client: &StripeClient,
) -> Result<String, BillingError> {
    let settings = billing(state).map_err(|_| BillingError::Invalid("billing is off".into()))?;
    let id = user.id();
    let plans = settings.plans.clone();
    let existing = state
        .db
        .run(move |conn| Ok::<_, DbError>(account::ensure(conn, &id, &plans, now())?))
        .await?;
    if let Some(customer) = existing.stripe_customer_id {
        return Ok(customer);
    }
    let created = client
        .create_customer(
            &user.user.email,
            &user.user.id,
            &format!("customer-{}", user.user.id),
        )
        .await?;
    let (id, plans) = (user.id(), settings.plans.clone());
    Ok(state
        .db
        .run(move |conn| {
            Ok::<_, DbError>(account::set_customer(conn, &id, &created, &plans, now())?)
        })
        .await?)
}

fn stripe_problem(error: &BillingError) -> String {
    tracing::error!(%error, "Stripe call failed");
    "Stripe could not be reached or refused the request; nothing was charged. Please try again in a minute.".into()
}

#[post("/billing/checkout")]
#[tracing::instrument(skip_all)]
pub async fn checkout(
    req: HttpRequest,
    state: web::Data<AppState>,
    user: CurrentUser,
    form: CheckedForm<CheckoutForm>,
) -> Result<HttpResponse, WebError> {
    let settings = billing(&state)?;
    let Some(plan) = settings
        .plans
        .find(&form.0.plan)
        .filter(|p| p.is_paid())
        .cloned()
    else {
        return page(
            &req,
            &state,
            &user,
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("Pick one of the paid plans.".into()),
        )
        .await;
    };
    let Some(attempt) = attempt_id(&form.0.attempt).map(str::to_string) else {
        return page(
            &req,
            &state,
            &user,
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("This form has expired; try again.".into()),
        )
        .await;
    };
    let id = user.id();
    let row = state
        .db
        .run(move |conn| Ok::<_, DbError>(account::get(conn, &id)?))
        .await?;
    // A second subscription would bill twice: plan changes of a live one go through the portal.
    if row.as_ref().is_some_and(|r| account::is_live(&r.status)) {
        return portal_redirect(&req, &state, &user, &attempt).await;
    }
    let client = client(settings)?;
    let customer = match customer(&state, &user, &client).await {
        Ok(customer) => customer,
        Err(e) => {
            return page(
                &req,
                &state,
                &user,
                StatusCode::BAD_GATEWAY,
                Some(stripe_problem(&e)),
            )
            .await
        }
    };
    let base = state.settings.base_url.as_str().trim_end_matches('/');
    let success = format!("{base}/billing/success?session_id={{CHECKOUT_SESSION_ID}}");
    let cancel = format!("{base}/billing/cancel");
    let key = format!("checkout-{}-{}-{attempt}", user.user.id, plan.id);
    let price = plan.price_id.clone().unwrap_or_default();
    let request = CheckoutRequest {
        customer: &customer,
        price: &price,
        account_id: &user.user.id,
        plan: &plan.id,
        success_url: &success,
        cancel_url: &cancel,
        idempotency_key: &key,
    };
    match client.create_checkout_session(&request).await {
        Ok((session, url)) => {
            let id = user.id();
            state
                .db
                .run(move |conn| {
                    Ok::<_, DbError>(account::record_checkout(conn, &session, &id, now())?)
                })
                .await?;
            Ok(see_other(&url))
        }
        Err(e) => {
            page(
                &req,
                &state,
                &user,
                StatusCode::BAD_GATEWAY,
                Some(stripe_problem(&e.into())),
            )
            .await
        }
    }
}

#[derive(serde::Deserialize, Default)]
#[serde(default)]
pub struct PortalForm {
    attempt: String,
}

#[post("/billing/portal")]
#[tracing::instrument(skip_all)]
pub async fn portal(
    req: HttpRequest,
    state: web::Data<AppState>,
    user: CurrentUser,
    form: CheckedForm<PortalForm>,
) -> Result<HttpResponse, WebError> {
    billing(&state)?;
    let Some(attempt) = attempt_id(&form.0.attempt).map(str::to_string) else {
        return page(
            &req,
            &state,
            &user,
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("This form has expired; try again.".into()),
        )
        .await;
    };
    portal_redirect(&req, &state, &user, &attempt).await
}

async fn portal_redirect(
    req: &HttpRequest,
    state: &AppState,
    user: &CurrentUser,
    attempt: &str,
) -> Result<HttpResponse, WebError> {
    let settings = billing(state)?;
    let client = client(settings)?;
    let customer = match customer(state, user, &client).await {
        Ok(customer) => customer,
        Err(e) => {
            return page(
                req,
                state,
                user,
                StatusCode::BAD_GATEWAY,
                Some(stripe_problem(&e)),
            )
            .await
        }
    };
    let back = format!(
        "{}/billing",
        state.settings.base_url.as_str().trim_end_matches('/')
    );
    let key = format!("portal-{}-{attempt}", user.user.id);
    match client.create_portal_session(&customer, &back, &key).await {
        Ok(url) => Ok(see_other(&url)),
        Err(e) => {
            page(
                req,
                state,
                user,
                StatusCode::BAD_GATEWAY,
                Some(stripe_problem(&e.into())),
            )
            .await
        }
    }
}

/// The kept feeds arrive as `keep_<subscription id>` checkboxes.
#[post("/billing/feeds")]
#[tracing::instrument(skip_all)]
pub async fn keep_feeds(
    req: HttpRequest,
    state: web::Data<AppState>,
    user: CurrentUser,
    form: CheckedForm<HashMap<String, String>>,
) -> Result<HttpResponse, WebError> {
    let settings = billing(&state)?;
    let keep: Vec<String> = form
        .0
        .keys()
        .filter_map(|k| k.strip_prefix("keep_"))
        .map(str::to_string)
        .collect();
    let (id, plans) = (user.id(), settings.plans.clone());
    let chosen = state
        .db
        .transaction(move |conn| {
            let plan = account::effective_plan(conn, &id, &plans, now())?;
            Ok::<_, DbError>(limits::keep_only(conn, &id, &plan, &keep))
        })
        .await?;
    match chosen {
        Ok(()) => {
            state.poller_wake.notify_one();
            Ok(see_other("/billing"))
        }
        Err(message) => {
            page(
                &req,
                &state,
                &user,
                StatusCode::UNPROCESSABLE_ENTITY,
                Some(message),
            )
            .await
        }
    }
}

#[derive(Template)]
#[template(path = "billing_return.html")]
struct ReturnPage {
    layout: Layout,
    paid: bool,
}

#[get("/billing/success")]
pub async fn success_page(
    req: HttpRequest,
    state: web::Data<AppState>,
    user: CurrentUser,
) -> Result<HttpResponse, WebError> {
    return_page(&req, &state, &user, true)
}

#[get("/billing/cancel")]
pub async fn cancel_page(
    req: HttpRequest,
    state: web::Data<AppState>,
    user: CurrentUser,
) -> Result<HttpResponse, WebError> {
    return_page(&req, &state, &user, false)
}

/// Where Stripe's Checkout sends the person back: after paying, or after turning back.
fn return_page(
    req: &HttpRequest,
    state: &AppState,
    user: &CurrentUser,
    paid: bool,
) -> Result<HttpResponse, WebError> {
    billing(state)?;
    render(
        StatusCode::OK,
        &ReturnPage {
            layout: Layout::new(req, state, Some(&user.user)),
            paid,
        },
    )
}

/// Whether the account's plan includes `feature` ([`crate::billing::require`]); the
/// inner `Err` says why not, as a page shows it with [`NotInPlan::sentence`].
pub async fn require(
    state: &AppState,
    user: &CurrentUser,
    feature: Feature<'_>,
) -> Result<Result<(), NotInPlan>, WebError> {
    let plan = plan_of(state, user).await?;
    Ok(crate::billing::require(plan.as_ref(), feature))
}

/// The account's plan, or `None` when billing is off (no limits).
async fn plan_of(state: &AppState, user: &CurrentUser) -> Result<Option<Plan>, WebError> {
    let Some(plans) = state.plans().cloned() else {
        return Ok(None);
    };
    let id = user.id();
    Ok(Some(
        state
            .db
            .run(move |conn| Ok::<_, DbError>(account::effective_plan(conn, &id, &plans, now())?))
            .await?,
    ))
}
