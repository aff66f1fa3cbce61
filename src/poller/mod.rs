//! The poller: finds due feeds, refreshes each, writes the captions of new posts.
//!
//! Shaped like Miniflux's: each pass claims a batch of due feeds with leases and
//! refreshes them a few at a time. One feed's failure is recorded on that feed and the
//! loop goes on. [`Poller::run_once`] is public so tests run a pass on demand.

mod hosts;
pub mod leases;
mod parsers;
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
const BATCH: i64 = 256;
/// How long one pass goes on claiming while its claims come back full, so that passes
/// still end now and then. A bound on time, not on the number of claims: ending a pass
/// drains the fetches and the writer before the next one claims, and with 10,000 due feeds
/// a cap of eight claims left the network idle for 59-115 ms at every boundary.
const CLAIMING_FOR: Duration = Duration::from_secs(30);
/// How many fetches are in flight at the same time (each host still gets at most
/// [`hosts::PER_HOST`] of them).
const CONCURRENCY: usize = 32;
/// How many fetched feeds one write transaction records.
const WRITE_BATCH: usize = 64;
/// How many write batches are stored at the same time on PostgreSQL.
const PG_WRITERS: usize = 2;
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
    /// For each feed checked: from the start of its fetch to the commit of its result.
    pub feed_latencies: Vec<Duration>,
}

impl PassReport {
    /// How many feeds the pass had claimed, whatever became of them.
    pub fn feeds_claimed(&self) -> usize {
        self.feeds_checked + self.feeds_released + self.results_discarded
    }

    fn add(&mut self, outcome: refresh::RefreshOutcome) {
        if outcome.released {
            self.feeds_released += 1;
        } else if outcome.discarded {
            self.results_discarded += 1;
        } else {
            self.feeds_checked += 1;
            self.feeds_failed += usize::from(outcome.failed);
            self.new_posts += outcome.new_posts;
            self.captions_written += outcome.captions_written;
            self.feed_latencies.extend(outcome.took);
        }
    }
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
    /// The turn the poller's SQLite writes take (see [`Poller::write_turn`]).
    sqlite_writes: Arc<tokio::sync::Mutex<()>>,
    /// Where fetched feeds are parsed.
    parsers: Arc<parsers::Parsers>,
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
            sqlite_writes: Arc::default(),
            parsers: Arc::new(parsers::Parsers::new()),
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
    ///
    /// A pass claims [`BATCH`] feeds at a time, for as long as claims come back full, up
    /// to [`CLAIMING_FOR`]. A claimer task keeps the next batch claimed ahead while the
    /// current one is fetched, so that the fetches never wait for a claim at a batch's end
    /// (claimed lazily, a claim that waited for SQLite's write lock left the network idle
    /// for up to 100 ms).
    #[tracing::instrument(name = "poll pass", skip_all)]
    pub async fn run_once(&self) -> Result<PassReport, crate::db::DbError> {
        if self.is_stopping() {
            return Ok(PassReport::default());
        }
        let first = self.claim().await?;
        if first.len() < BATCH as usize {
            return self.refresh(futures_util::stream::iter(first)).await;
        }
        // One batch of room: the claimer is at most one claim ahead of the fetches.
        let (ahead, claimed) = tokio::sync::mpsc::channel::<Vec<Feed>>(1);
        let claimer = {
            let poller = self.clone();
            let claiming_since = tokio::time::Instant::now();
            tokio::spawn(async move {
                while claiming_since.elapsed() < CLAIMING_FOR {
                    if poller.is_stopping() {
                        break;
                    }
                    let feeds = match poller.claim().await {
                        Ok(feeds) => feeds,
                        Err(error) => {
                            tracing::warn!(%error, "claiming more feeds failed; the next pass tries again");
                            break;
                        }
                    };
                    let full = feeds.len() >= BATCH as usize;
                    // The fetches stopped taking feeds only if the pass failed: these
                    // claims then expire with their lease, as after a crash.
                    if !feeds.is_empty() && ahead.send(feeds).await.is_err() {
                        break;
                    }
                    if !full {
                        break;
                    }
                }
            })
        };
        // Drained to the end even when stopping: the refresh gives back what it does not start.
        let more = futures_util::stream::unfold(claimed, |mut claimed| async move {
            let feeds = claimed.recv().await?;
            Some((futures_util::stream::iter(feeds), claimed))
        })
        .flatten();
        let report = self
            .refresh(futures_util::stream::iter(first).chain(more))
            .await;
        if let Err(error) = claimer.await {
            tracing::warn!(%error, "the poller's claimer stopped");
        }
        report
    }

    async fn claim(&self) -> Result<Vec<Feed>, crate::db::DbError> {
        // Behind the batch writer's turn rather than in SQLite's busy handler, whose
        // growing sleeps overshoot the end of the write by up to 100 ms.
        let _turn = self.write_turn().await;
        self.db
            .run(|conn| {
                let at = now();
                let lease =
                    chrono::Duration::from_std(LEASE).unwrap_or(chrono::Duration::minutes(5));
                Ok::<_, crate::db::DbError>(leases::claim_due_feeds(conn, at, at + lease, BATCH)?)
            })
            .await
    }

    /// On SQLite, the poller's own writes (claims and batches) take turns here, in the order
    /// they asked; PostgreSQL takes them side by side (claims skip locked rows).
    async fn write_turn(&self) -> Option<tokio::sync::MutexGuard<'_, ()>> {
        match self.db.url().is_sqlite() {
            true => Some(self.sqlite_writes.lock().await),
            false => None,
        }
    }

    /// Refreshes feeds claimed with [`leases::claim_due_feeds`]; a feed whose claim lost
    /// its lease meanwhile is counted in `results_discarded` and left alone.
    ///
    /// Fetches run a few at a time while a writer task records finished ones in
    /// batches, one transaction each: the network and the database work side by side.
    pub async fn refresh_claimed(
        &self,
        claimed: Vec<Feed>,
    ) -> Result<PassReport, crate::db::DbError> {
        self.refresh(futures_util::stream::iter(claimed)).await
    }

    async fn refresh(
        &self,
        claimed: impl futures_util::Stream<Item = Feed>,
    ) -> Result<PassReport, crate::db::DbError> {
        let (to_writer, fetched) = tokio::sync::mpsc::channel(WRITE_BATCH * 2);
        let writer = {
            let poller = self.clone();
            // SQLite takes one writer at a time; PostgreSQL stores one batch while the
            // next is being prepared (its captions generated, say).
            let writers = if poller.db.url().is_sqlite() {
                1
            } else {
                PG_WRITERS
            };
            tokio::spawn(async move {
                let batches = futures_util::stream::unfold(fetched, |mut fetched| async move {
                    let mut batch = Vec::with_capacity(WRITE_BATCH);
                    (fetched.recv_many(&mut batch, WRITE_BATCH).await > 0)
                        .then_some((batch, fetched))
                });
                let written: Vec<_> = batches
                    .map(|batch| {
                        let poller = &poller;
                        async move {
                            let _turn = poller.write_turn().await;
                            refresh::record_batch(poller, batch).await
                        }
                    })
                    .buffer_unordered(writers)
                    .collect()
                    .await;
                let mut outcomes = Vec::new();
                for batch in written {
                    outcomes.extend(batch?);
                }
                Ok::<_, crate::db::DbError>(outcomes)
            })
        };
        let unwritten: Vec<_> = claimed
            .map(|feed| {
                let to_writer = to_writer.clone();
                async move {
                    if self.is_stopping() {
                        return self.release(feed).await.map(Some);
                    }
                    match refresh::fetch_claimed(self, feed).await? {
                        refresh::Step::Done(outcome) => Ok(Some(outcome)),
                        refresh::Step::Fetched(pending) => {
                            // A closed channel means the writer failed; its error is
                            // returned below and this feed's lease simply expires.
                            let _ = to_writer.send(*pending).await;
                            Ok(None)
                        }
                    }
                }
            })
            .buffer_unordered(CONCURRENCY)
            .collect()
            .await;
        drop(to_writer);
        let written = writer
            .await
            .map_err(|e| crate::db::DbError::Pool(format!("the poller's writer stopped: {e}")))??;
        let mut report = PassReport::default();
        for outcome in written {
            report.add(outcome);
        }
        for outcome in unwritten {
            if let Some(outcome) = outcome? {
                report.add(outcome);
            }
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

    /// Copies SQLite's write-ahead log back into the database file (see
    /// [`crate::db::checkpoint`]). A failure only means the log waits for the next pass
    /// or for a commit past the backstop.
    async fn tend_wal(&self) {
        // PostgreSQL has no such log: no connection or blocking thread taken for nothing.
        if !self.db.url().is_sqlite() {
            return;
        }
        let started = std::time::Instant::now();
        let tended = self
            .db
            .run(|conn| {
                crate::db::checkpoint::checkpoint_wal(conn).map_err(crate::db::DbError::from)
            })
            .await;
        match tended {
            Ok(Some(pages)) => tracing::info!(
                in_log = pages.in_log,
                copied = pages.copied,
                took_ms = started.elapsed().as_millis() as u64,
                "copied the write-ahead log back"
            ),
            Ok(None) => {}
            Err(error) => tracing::warn!(%error, "copying the write-ahead log back failed"),
        }
    }

    /// Runs passes until `shutdown` resolves. A failed pass is logged and retried on the
    /// next tick: the poller never stops quietly.
    /// On shutdown mid-pass, the pass stops claiming and finishes what it started.
    pub async fn run_until_stopped(self, shutdown: impl std::future::Future<Output = ()>) {
        tokio::pin!(shutdown);
        let mut shutting_down = false;
        // Whether a pass checked feeds since SQLite's log was last copied back: a full pass
        // is followed at once by another, which may find nothing left to do.
        let mut untended = false;
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
            let mut more_due = false;
            match result {
                Ok(report) => {
                    untended |= report.feeds_checked > 0;
                    if report.feeds_checked > 0 {
                        tracing::info!(
                            checked = report.feeds_checked,
                            failed = report.feeds_failed,
                            discarded = report.results_discarded,
                            new_posts = report.new_posts,
                            captions = report.captions_written,
                            "poll pass"
                        );
                    }
                    // A full batch means more feeds are probably due: waiting for the
                    // tick would cap the poller at one batch per tick.
                    more_due = report.feeds_claimed() >= BATCH as usize;
                }
                Err(error) => {
                    tracing::error!(%error, "poll pass failed; retrying on the next tick")
                }
            }
            // Idle from here (or stopping): the time to copy SQLite's log back, which
            // the batch writer no longer does in the middle of a pass.
            if untended && (shutting_down || !more_due) {
                self.tend_wal().await;
                untended = false;
            }
            if shutting_down {
                break;
            }
            if more_due {
                continue;
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
