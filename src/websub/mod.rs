//! WebSub (W3C Recommendation, 2018): when a feed names a hub, we subscribe there so that
//! new posts are pushed to us within seconds; polling goes on as the safety net.
//!
//! The poller notes the hub and topic a feed names ([`store::note_hub`]). A worker
//! ([`WebSub::run_once`]) sends the subscription requests, with a secret per feed, and
//! renews them a day before their lease ends. The hub verifies our intent with a GET to
//! the callback (`/websub/{feed_id}`), answered only for the topic we asked for; it then
//! POSTs new content there, signed with `X-Hub-Signature`, which is checked against the
//! feed's secret before anything is stored ([`signature`]).

pub mod hub;
pub mod signature;
pub mod store;

use std::time::Duration;

use crate::config::Settings;
use crate::db::{now, Db, DbError};
use crate::feeds::guard::AddressPolicy;

/// What we ask hubs for; they may grant less, and say so when verifying.
pub const LEASE_SECONDS: i64 = 10 * 24 * 3600;
/// Subscriptions handled per pass.
const BATCH: i64 = 50;
const TICK: Duration = Duration::from_secs(60);

/// What one pass did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct WebSubReport {
    pub requested: usize,
    pub failed: usize,
    /// Unsubscriptions asked for: feeds nobody follows any more.
    pub left: usize,
}

#[derive(Clone)]
pub struct WebSub {
    db: Db,
    client: reqwest::Client,
    policy: AddressPolicy,
    base_url: url::Url,
}

impl WebSub {
    pub fn new(db: Db, settings: &Settings) -> anyhow::Result<Self> {
        let policy = settings.address_policy();
        // The webhooks' client: guarded resolver, no proxy, no redirects.
        let client = crate::webhooks::send::client(&policy)?;
        Ok(WebSub {
            db,
            client,
            policy,
            base_url: settings.base_url.clone(),
        })
    }

    /// Sends the subscription requests that are due: new hubs, leases ending within a
    /// day, requests the hub never verified, and failures worth another try. Each is
    /// claimed first (`store::claim_due`), so of replicas running together one sends it.
    #[tracing::instrument(name = "WebSub pass", skip_all)]
    pub async fn run_once(&self) -> Result<WebSubReport, DbError> {
        let due = self
            .db
            .run(|conn| Ok::<_, DbError>(store::due(conn, now(), BATCH)?))
            .await?;
        let mut report = WebSubReport::default();
        for wanted in due {
            let feed_id = wanted.feed_id.clone();
            let claimed = self
                .db
                .run(move |conn| Ok::<_, DbError>(store::claim_due(conn, &feed_id, now())?))
                .await?;
            let Some(token) = claimed else {
                // Another replica has it, or has just sent it.
                continue;
            };
            let sent = self.ask(&wanted, hub::Mode::Subscribe).await;
            let feed_id = wanted.feed_id.clone();
            let recorded = match sent {
                Ok(()) => {
                    report.requested += 1;
                    self.db
                        .transaction(move |conn| {
                            Ok::<_, DbError>(store::mark_requested(conn, &feed_id, &token, now())?)
                        })
                        .await?
                }
                Err(message) => {
                    report.failed += 1;
                    tracing::warn!(hub = %wanted.hub, %message, "WebSub subscription request failed");
                    self.db
                        .transaction(move |conn| {
                            Ok::<_, DbError>(store::mark_failed(
                                conn,
                                &feed_id,
                                &token,
                                &message,
                                now(),
                            )?)
                        })
                        .await?
                }
            };
            if !recorded {
                tracing::info!(hub = %wanted.hub, "WebSub claim lost to another replica; its outcome stands");
            }
        }
        report.left = self.leave_unwanted().await?;
        Ok(report)
    }

    /// Asks hubs to stop pushing feeds nobody follows any more. Whatever the hub answers,
    /// we stop accepting its pushes; a hub that does not hear us lets the lease lapse.
    async fn leave_unwanted(&self) -> Result<usize, DbError> {
        let unwanted = self
            .db
            .run(|conn| Ok::<_, DbError>(store::unwanted(conn, BATCH)?))
            .await?;
        let mut left = 0;
        for wanted in unwanted {
            let feed_id = wanted.feed_id.clone();
            let claimed = self
                .db
                .run(move |conn| Ok::<_, DbError>(store::claim_unwanted(conn, &feed_id, now())?))
                .await?;
            let Some(token) = claimed else {
                continue;
            };
            let sent = self.ask(&wanted, hub::Mode::Unsubscribe).await;
            match sent {
                Ok(()) => left += 1,
                Err(message) => {
                    tracing::info!(hub = %wanted.hub, %message, "WebSub unsubscription refused; the lease will lapse")
                }
            }
            let feed_id = wanted.feed_id.clone();
            self.db
                .transaction(move |conn| {
                    Ok::<_, DbError>(store::mark_leaving(conn, &feed_id, &token, now())?)
                })
                .await?;
        }
        Ok(left)
    }

    /// Sends one request to a feed's hub, with our callback for that feed.
    async fn ask(&self, wanted: &store::Wanted, mode: hub::Mode) -> Result<(), String> {
        let callback = hub::callback_url(&self.base_url, &wanted.feed_id);
        hub::request(&self.client, &self.policy, wanted, &callback, mode).await
    }

    /// Runs passes until `shutdown` resolves; a failed pass is logged and retried.
    pub async fn run_until_stopped(self, shutdown: impl std::future::Future<Output = ()>) {
        crate::jobs::run_every("WebSub subscriber", TICK, shutdown, || self.run_once()).await
    }
}
