//! The poller: finds due feeds, refreshes each, writes the captions of new posts.
//!
//! Shaped like Miniflux's: each pass claims a batch of due feeds with leases and
//! refreshes them a few at a time. One feed's failure is recorded on that feed and the
//! loop goes on. [`Poller::run_once`] is public so tests run a pass on demand.

mod hosts;
pub mod leases;
mod redirects;
mod refresh;
pub mod schedule;

/// The shortest time between two checks of a feed, a person's request included.
pub use schedule::FLOOR as CHECK_FLOOR;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt as _;
use tokio::sync::Notify;

use crate::db::{now, Db};
use crate::feeds::store::Feed;
use crate::feeds::Fetcher;

/// How many feeds one pass claims.
const BATCH: i64 = 50;
/// How many feeds are refreshed at the same time.
const CONCURRENCY: usize = 4;
/// How long a claim lasts; well beyond a fetch's timeout, so only a crash lets it expire.
const LEASE: Duration = Duration::from_secs(5 * 60);
/// How often the loop looks for due feeds when nobody wakes it.
const TICK: Duration = Duration::from_secs(10);

/// What one pass did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct PassReport {
    pub feeds_checked: usize,
    /// Claimed feeds given back unfetched because the poller is stopping.
    pub feeds_released: usize,
    /// Results dropped because their claim had lost the lease meanwhile.
    pub results_discarded: usize,
    pub feeds_failed: usize,
    pub new_posts: usize,
    pub captions_written: usize,
}

#[derive(Clone)]
pub struct Poller {
    db: Db,
    fetcher: Fetcher,
    poll_interval: Duration,
    wake: Arc<Notify>,
    hosts: hosts::HostLimiter,
    /// Set on shutdown: claim nothing more, give back claimed feeds not started yet.
    stopping: Arc<AtomicBool>,
    /// With billing on, each feed is checked as often as the most generous plan among its
    /// subscribers allows, instead of every `poll_interval`.
    plans: Option<Arc<crate::billing::Plans>>,
}

impl Poller {
    pub fn new(db: Db, fetcher: Fetcher, poll_interval: Duration) -> Self {
        Poller {
            db,
            fetcher,
            poll_interval,
            wake: Arc::new(Notify::new()),
            hosts: hosts::HostLimiter::new(hosts::PER_HOST),
            stopping: Arc::default(),
            plans: None,
        }
    }

    /// Checks feeds at their subscribers' plan intervals (billing on).
    pub fn with_plans(mut self, plans: Option<crate::billing::Plans>) -> Self {
        self.plans = plans.map(Arc::new);
        self
    }

    /// Stops claiming; refreshes under way finish, claimed feeds not started yet are
    /// released at once so another replica can take them without waiting for the lease.
    pub fn stop(&self) {
        self.stopping.store(true, Ordering::SeqCst);
    }

    fn is_stopping(&self) -> bool {
        self.stopping.load(Ordering::SeqCst)
    }

    /// A handle that makes the loop look for due feeds now (a feed was just added).
    pub fn waker(&self) -> Arc<Notify> {
        self.wake.clone()
    }

    /// Claims the due feeds and refreshes them; errors of single feeds are recorded on
    /// the feeds, only a database failure ends the pass early.
    pub async fn run_once(&self) -> Result<PassReport, crate::db::DbError> {
        if self.is_stopping() {
            return Ok(PassReport::default());
        }
        let claimed = self
            .db
            .run(|conn| {
                let at = now();
                let lease =
                    chrono::Duration::from_std(LEASE).unwrap_or(chrono::Duration::minutes(5));
                Ok::<_, crate::db::DbError>(leases::claim_due_feeds(conn, at, at + lease, BATCH)?)
            })
            .await?;
        self.refresh_claimed(claimed).await
    }

    /// Refreshes feeds claimed with [`leases::claim_due_feeds`]; a feed whose claim lost
    /// its lease meanwhile is counted in `results_discarded` and left alone.
    pub async fn refresh_claimed(
        &self,
        claimed: Vec<Feed>,
    ) -> Result<PassReport, crate::db::DbError> {
        let results: Vec<_> = futures_util::stream::iter(claimed)
            .map(|feed| async move {
                if self.is_stopping() {
                    self.release(feed).await
                } else {
                    refresh::refresh_feed(self, feed).await
                }
            })
            .buffer_unordered(CONCURRENCY)
            .collect()
            .await;
        let mut report = PassReport::default();
        for result in results {
            let outcome = result?;
            if outcome.released {
                report.feeds_released += 1;
                continue;
            }
            if outcome.discarded {
                report.results_discarded += 1;
                continue;
            }
            report.feeds_checked += 1;
            report.feeds_failed += usize::from(outcome.failed);
            report.new_posts += outcome.new_posts;
            report.captions_written += outcome.captions_written;
        }
        Ok(report)
    }

    async fn release(&self, feed: Feed) -> Result<refresh::RefreshOutcome, crate::db::DbError> {
        let token = feed.lease_token.unwrap_or_default();
        self.db
            .run(move |conn| {
                leases::release_feed(conn, &feed.id, &token).map_err(crate::db::DbError::from)
            })
            .await?;
        Ok(refresh::RefreshOutcome::released())
    }

    /// Runs passes until `shutdown` resolves. A failed pass is logged and retried on the
    /// next tick: the poller never stops quietly.
    /// On shutdown mid-pass, the pass stops claiming and finishes what it started.
    pub async fn run_until_stopped(self, shutdown: impl std::future::Future<Output = ()>) {
        tokio::pin!(shutdown);
        let mut shutting_down = false;
        loop {
            let pass = self.run_once();
            tokio::pin!(pass);
            let result = tokio::select! {
                result = &mut pass => result,
                _ = &mut shutdown => {
                    shutting_down = true;
                    self.stop();
                    pass.await
                }
            };
            match result {
                Ok(report) if report.feeds_checked > 0 => tracing::info!(?report, "poll pass"),
                Ok(_) => {}
                Err(error) => {
                    tracing::error!(%error, "poll pass failed; retrying on the next tick")
                }
            }
            if shutting_down {
                break;
            }
            tokio::select! {
                _ = &mut shutdown => break,
                _ = self.wake.notified() => {}
                _ = tokio::time::sleep(TICK) => {}
            }
        }
        tracing::info!("poller stopped");
    }
}
