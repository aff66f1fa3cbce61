//! Outgoing webhooks: endpoints per account, an outbox of signed deliveries.
//!
//! One pass ([`Webhooks::run_once`]) enqueues the captions made since each endpoint's
//! cursor (see [`enqueue`]), then claims due deliveries with leases and posts them.
//! Failed deliveries wait with exponential backoff and are given up after 24 hours.

pub mod endpoints;
pub mod enqueue;
pub mod events;
pub mod health;
pub mod send;
pub mod sign;

use std::time::Duration;

use chrono::NaiveDateTime;

use crate::config::Settings;
use crate::db::{now, Db, DbError};
use crate::feeds::guard::AddressPolicy;

/// Deliveries claimed per pass.
const BATCH: i64 = 50;
/// Far beyond the 10 s timeout, so only a crash lets a claim expire (and then the
/// delivery goes again: receivers deduplicate by the `Captionfeed-Delivery` id).
const LEASE: Duration = Duration::from_secs(2 * 60);
const TICK: Duration = Duration::from_secs(10);

#[derive(Debug, thiserror::Error)]
pub enum WebhookError {
    #[error(transparent)]
    Db(#[from] DbError),
    #[error("could not set up the HTTP client: {0}")]
    Client(String),
}

impl From<diesel::result::Error> for WebhookError {
    fn from(e: diesel::result::Error) -> Self {
        WebhookError::Db(e.into())
    }
}

impl crate::db::IsBusy for WebhookError {
    fn is_busy(&self) -> bool {
        matches!(self, WebhookError::Db(e) if e.is_busy())
    }
}

/// What one pass did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct WebhookReport {
    pub enqueued: usize,
    pub delivered: usize,
    pub failed: usize,
}

#[derive(Clone)]
pub struct Webhooks {
    db: Db,
    client: reqwest::Client,
    policy: AddressPolicy,
    /// With billing on, an endpoint gets new events only while its account's plan has webhooks.
    plans: Option<crate::billing::Plans>,
    /// Which endpoints are failing, so the log tells of each change once.
    health: std::sync::Arc<health::EndpointHealth>,
}

impl Webhooks {
    pub fn new(db: Db, settings: &Settings) -> Result<Self, WebhookError> {
        let policy = settings.address_policy();
        let client = send::client(&policy).map_err(|e| WebhookError::Client(e.to_string()))?;
        Ok(Webhooks {
            db,
            client,
            policy,
            plans: settings.billing.as_ref().map(|b| b.plans.clone()),
            health: Default::default(),
        })
    }

    #[tracing::instrument(name = "webhook pass", skip_all)]
    pub async fn run_once(&self) -> Result<WebhookReport, WebhookError> {
        let mut report = WebhookReport::default();
        let at = now();
        let endpoints = self
            .db
            .run(|conn| Ok::<_, WebhookError>(enqueue::active_endpoints(conn)?))
            .await?;
        for id in endpoints {
            let endpoint = id.clone();
            let plans = self.plans.clone();
            // One endpoint's failure (rolled back, retried next pass) must not hold up the rest.
            match self
                .db
                .transaction(move |conn| {
                    if let Some(plans) = &plans {
                        if !plan_has_webhooks(conn, &id, plans, at)? {
                            return Ok(0);
                        }
                    }
                    Ok::<_, WebhookError>(enqueue::enqueue_endpoint(conn, &id, at)?)
                })
                .await
            {
                Ok(added) => report.enqueued += added,
                Err(error) => {
                    tracing::warn!(%endpoint, %error, "enqueueing webhooks failed; retrying next pass")
                }
            }
        }
        let at = now();
        let lease = chrono::Duration::from_std(LEASE).unwrap_or(chrono::Duration::minutes(2));
        let claimed = self
            .db
            .run(move |conn| Ok::<_, WebhookError>(send::claim_due(conn, at, at + lease, BATCH)?))
            .await?;
        // Sent together: one slow receiver must not hold up another's deliveries.
        let attempts = futures_util::future::join_all(claimed.into_iter().map(
            |(delivery, endpoint)| async move {
                let attempt = send::post(&self.client, &self.policy, &delivery, &endpoint).await;
                (delivery, attempt)
            },
        ))
        .await;
        for (delivery, attempt) in attempts {
            let error = (!attempt.succeeded()).then(|| {
                attempt
                    .error
                    .clone()
                    .unwrap_or_else(|| match attempt.status {
                        Some(status) => format!("HTTP {status}"),
                        None => "no answer".into(),
                    })
            });
            if error.is_none() {
                report.delivered += 1;
            } else {
                report.failed += 1;
                tracing::debug!(delivery = %delivery.id, error = ?error, "webhook not delivered; will retry");
            }
            match self.health.observe(&delivery.endpoint_id, error.as_deref()) {
                Some(health::Change::Failing(error)) => tracing::warn!(
                    endpoint = %delivery.endpoint_id, %error,
                    "webhook endpoint failing; its deliveries are retried with backoff (said once until it recovers)"
                ),
                Some(health::Change::Recovered) => {
                    tracing::info!(endpoint = %delivery.endpoint_id, "webhook endpoint delivering again")
                }
                None => {}
            }
            self.record(delivery, attempt).await?;
        }
        Ok(report)
    }

    async fn record(
        &self,
        delivery: endpoints::Delivery,
        attempt: send::Attempt,
    ) -> Result<(), WebhookError> {
        let token = delivery.lease_token.clone().unwrap_or_default();
        let at: NaiveDateTime = now();
        let id = delivery.id.clone();
        let held = self
            .db
            .run(move |conn| {
                Ok::<_, WebhookError>(send::record(conn, &delivery, &token, &attempt, at)?)
            })
            .await?;
        if !held {
            tracing::warn!(delivery = %id, "webhook lease lost before recording; result discarded");
        }
        Ok(())
    }

    /// Runs passes until `shutdown` resolves; a failed pass is logged and retried.
    pub async fn run_until_stopped(self, shutdown: impl std::future::Future<Output = ()>) {
        crate::jobs::run_every("webhook sender", TICK, shutdown, || self.run_once()).await
    }
}

/// Whether the endpoint's account may receive webhooks on its current plan. An endpoint of
/// a downgraded account keeps its cursor, so an upgrade sends what was made meanwhile.
fn plan_has_webhooks(
    conn: &mut crate::db::AnyConnection,
    endpoint_id: &str,
    plans: &crate::billing::Plans,
    at: chrono::NaiveDateTime,
) -> diesel::QueryResult<bool> {
    use diesel::prelude::*;
    let owner: Option<String> = crate::db::schema::webhook_endpoints::table
        .find(endpoint_id)
        .select(crate::db::schema::webhook_endpoints::user_id)
        .first(conn)
        .optional()?;
    let Some(owner) = owner else {
        return Ok(false);
    };
    let user = crate::accounts::UserId(owner);
    let plan = crate::billing::account::effective_plan(conn, &user, plans, at)?;
    Ok(crate::billing::require(Some(&plan), crate::billing::Feature::Webhooks).is_ok())
}
