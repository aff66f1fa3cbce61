//! Refreshing one claimed feed: fetch, parse, store, write captions, release.

use std::time::Duration;

use crate::db::{now, AnyConnection, DbError};
use crate::desk::store::{feeds_wanting_captions, write_captions_for_feeds, CompiledTemplates};
use crate::feeds::seen::SeenKeys;
use crate::feeds::store::{
    move_feed_url, record_feed_error, record_feed_gone, record_feeds_fetched,
    record_feeds_not_modified, record_redirect_seen, Feed, FeedFailure, FetchedFeed,
};
use crate::feeds::{parse_feed_except, FetchOutcome, FetchReport};
use crate::metrics::metrics;

use super::leases::{release_feeds, still_held};
use super::redirects::{self, Decision};
use super::schedule::{next_check_after_error, next_check_after_success};
use super::Poller;

pub(super) struct RefreshOutcome {
    /// Given back unfetched (shutdown).
    pub released: bool,
    /// The claim had lost its lease: nothing was recorded.
    pub discarded: bool,
    pub failed: bool,
    pub new_posts: usize,
    pub captions_written: usize,
    /// From the start of the fetch to the commit of the result.
    pub took: Option<Duration>,
}

impl RefreshOutcome {
    pub fn released() -> Self {
        RefreshOutcome {
            released: true,
            ..Self::discarded()
        }
    }

    fn recorded() -> Self {
        RefreshOutcome {
            discarded: false,
            ..Self::discarded()
        }
    }

    fn discarded() -> Self {
        RefreshOutcome {
            released: false,
            discarded: true,
            failed: false,
            new_posts: 0,
            captions_written: 0,
            took: None,
        }
    }
}

enum Fetched {
    NotModified,
    Parsed(crate::feeds::ParsedFeed, crate::feeds::Validators),
    Gone,
    Failed(String),
}

/// A claimed feed after its fetch: what to record, once its batch is written.
pub(super) struct Pending {
    feed: Feed,
    fetched: Fetched,
    status: Option<u16>,
    wait_hint: Option<Duration>,
    redirects: Vec<crate::feeds::Hop>,
    started: std::time::Instant,
}

/// What the network part of a refresh ended with.
pub(super) enum Step {
    Done(RefreshOutcome),
    Fetched(Box<Pending>),
}

/// Fetches and parses one claimed feed; nothing is written yet, so that a batch of
/// feeds can be recorded in one transaction.
#[tracing::instrument(skip_all, fields(feed = %feed.url))]
pub(super) async fn fetch_claimed(poller: &Poller, feed: Feed) -> Result<Step, DbError> {
    let (report, started) = {
        let slot = poller.hosts.acquire(&feed.url).await;
        // Shutdown came while this feed waited for its host: give it back unfetched.
        if poller.is_stopping() {
            drop(slot);
            return Ok(Step::Done(poller.release(feed).await?));
        }
        // Waiting for the host may outlast the lease; then another worker may have the
        // feed by now, and fetching it again would only cost its server.
        if feed.lease_until.is_none_or(|until| until <= now()) {
            tracing::warn!("lease expired before the fetch; feed left to its new holder");
            metrics().results_discarded.inc();
            return Ok(Step::Done(RefreshOutcome::discarded()));
        }
        let started = std::time::Instant::now();
        // A redirect to another host waits for a slot of that host too.
        let hosts = &poller.hosts;
        let report = poller
            .fetcher
            .fetch_report_through(&feed.url, &feed.validators(), slot, |next| {
                let next = next.to_string();
                async move { hosts.acquire(&next).await }
            })
            .await;
        metrics()
            .fetch_seconds
            .observe(started.elapsed().as_secs_f64());
        (report, started)
    };
    let FetchReport {
        result,
        status,
        wait_hint,
        redirects,
    } = report;
    let fetched = match result {
        Ok(FetchOutcome::NotModified) => Fetched::NotModified,
        Ok(FetchOutcome::Fetched {
            body,
            final_url,
            validators,
            ..
        }) => {
            // Parsing is CPU work on untrusted input: keep it off the async executor.
            // Entries the last document held are stored already: only new ones are read.
            let known = SeenKeys::decode(&feed.seen_keys).lookup();
            let parsed = poller
                .parsers
                .run(move || parse_feed_except(&body, Some(&final_url), &known))
                .await;
            match parsed {
                Ok(Ok(parsed)) => Fetched::Parsed(parsed, validators),
                Ok(Err(e)) => {
                    metrics().fetches.with_label_values(&["parse_error"]).inc();
                    Fetched::Failed(e.to_string())
                }
                Err(e) => {
                    metrics().fetches.with_label_values(&["parse_error"]).inc();
                    Fetched::Failed(format!("the parser crashed: {}", e.0))
                }
            }
        }
        Err(_) if status == Some(410) => Fetched::Gone,
        Err(e) => {
            metrics().fetches.with_label_values(&[&e.outcome()]).inc();
            Fetched::Failed(e.to_string())
        }
    };
    match &fetched {
        Fetched::NotModified => metrics().fetches.with_label_values(&["304"]).inc(),
        Fetched::Parsed(..) => {
            let code = status.unwrap_or(200).to_string();
            metrics().fetches.with_label_values(&[&code]).inc()
        }
        Fetched::Gone => metrics().fetches.with_label_values(&["http_410"]).inc(),
        Fetched::Failed(_) => {}
    }
    if let Fetched::Failed(message) = &fetched {
        tracing::warn!(error = %message, "feed refresh failed");
    }
    Ok(Step::Fetched(Box::new(Pending {
        feed,
        fetched,
        status,
        wait_hint,
        redirects,
        started,
    })))
}

/// Records a batch of fetched feeds in one transaction: the database's cost per commit
/// is paid once per batch, not once per feed. Should the batch fail as a whole (one
/// feed's write breaking a constraint, say), each feed is retried in its own
/// transaction, so one bad feed cannot hold back the others.
pub(super) async fn record_batch(
    poller: &Poller,
    batch: Vec<Pending>,
) -> Result<Vec<RefreshOutcome>, DbError> {
    if batch.is_empty() {
        return Ok(Vec::new());
    }
    let interval = Intervals {
        default: poller.poll_interval,
        plans: poller.plans.clone(),
    };
    let batch = std::sync::Arc::new(batch);
    let all = batch.clone();
    let each = interval.clone();
    let together = poller
        .db
        .transaction(move |conn| record_all(conn, &all, &each))
        .await;
    let mut outcomes = match together {
        Ok(outcomes) => outcomes,
        Err(error) => {
            tracing::warn!(%error, feeds = batch.len(), "batch write failed; writing feed by feed");
            let mut outcomes = Vec::with_capacity(batch.len());
            for index in 0..batch.len() {
                let (one, each) = (batch.clone(), interval.clone());
                let outcome = poller
                    .db
                    .transaction(move |conn| record_all(conn, &one[index..=index], &each))
                    .await;
                match outcome {
                    Ok(written) => outcomes.extend(written),
                    Err(error) => {
                        let pending = &batch[index];
                        tracing::error!(%error, feed = %pending.feed.url, "storing the feed failed");
                        outcomes.push(record_unstorable(poller, &pending.feed, &error).await);
                    }
                }
            }
            outcomes
        }
    };
    for outcome in &outcomes {
        if outcome.discarded {
            metrics().results_discarded.inc();
        }
        metrics().posts_found.inc_by(outcome.new_posts as u64);
        metrics()
            .captions_made
            .inc_by(outcome.captions_written as u64);
    }
    let committed = std::time::Instant::now();
    for (outcome, pending) in outcomes.iter_mut().zip(batch.iter()) {
        if !outcome.discarded {
            outcome.took = Some(committed.duration_since(pending.started));
        }
    }
    Ok(outcomes)
}

/// What the feed sent could not be stored: say so on the feed, as for a failed fetch,
/// so its page shows it and it is retried with backoff rather than left stuck in its
/// lease. Should even that fail, the lease expires and a later pass tries again.
async fn record_unstorable(poller: &Poller, feed: &Feed, error: &DbError) -> RefreshOutcome {
    let (feed, message) = (
        feed.clone(),
        format!("what the feed sent could not be stored: {error}"),
    );
    let interval = poller.poll_interval;
    let recorded = poller
        .db
        .transaction(move |conn| {
            let at = now();
            let token = feed.lease_token.as_deref().unwrap_or_default();
            if still_held(conn, &[feed.id.as_str()], token, at)?.is_empty() {
                return Ok::<_, DbError>(false);
            }
            let errors = u32::try_from(feed.error_count).unwrap_or(0) + 1;
            let failure = FeedFailure {
                message: &message,
                status: None,
                since: feed.erroring_since.unwrap_or(at),
            };
            let next = next_check_after_error(at, interval, errors, None);
            record_feed_error(conn, &feed.id, &failure, next)?;
            release_feeds(conn, &[feed.id.as_str()], token)?;
            Ok(true)
        })
        .await;
    match recorded {
        Ok(true) => RefreshOutcome {
            failed: true,
            ..RefreshOutcome::recorded()
        },
        Ok(false) => RefreshOutcome::discarded(),
        Err(error) => {
            tracing::error!(%error, "recording the storage failure failed too");
            RefreshOutcome::discarded()
        }
    }
}

/// How often feeds are checked: the configured interval, or with billing on, the most
/// generous plan among a feed's followers.
#[derive(Clone)]
struct Intervals {
    default: Duration,
    plans: Option<std::sync::Arc<crate::billing::Plans>>,
}

impl Intervals {
    /// Each feed's interval, asked once for the whole batch.
    fn for_feeds(
        &self,
        conn: &mut AnyConnection,
        feed_ids: &[&str],
    ) -> Result<impl Fn(&str) -> Duration, DbError> {
        let by_plan = match &self.plans {
            Some(plans) => {
                crate::billing::limits::feeds_check_intervals(conn, feed_ids, plans, now())?
            }
            None => Default::default(),
        };
        let default = self.default;
        Ok(move |feed_id: &str| by_plan.get(feed_id).copied().unwrap_or(default))
    }
}

/// Records each feed of a batch in the caller's transaction with statements for the whole
/// batch, not for each feed: which claims still hold their lease, which feeds have captions
/// to write besides new posts, the posts and feed rows of the fetched feeds, the 304s, the
/// captions and the release of the leases.
fn record_all(
    conn: &mut AnyConnection,
    batch: &[Pending],
    intervals: &Intervals,
) -> Result<Vec<RefreshOutcome>, DbError> {
    let at = now();
    let mut by_token: std::collections::BTreeMap<&str, Vec<&str>> = Default::default();
    for pending in batch {
        let token = pending.feed.lease_token.as_deref().unwrap_or_default();
        by_token
            .entry(token)
            .or_default()
            .push(pending.feed.id.as_str());
    }
    let mut held = std::collections::HashSet::new();
    for (token, ids) in &by_token {
        held.extend(still_held(conn, ids, token, at)?);
    }
    let held: Vec<&Pending> = batch
        .iter()
        .filter(|pending| {
            let kept = held.contains(pending.feed.id.as_str());
            if !kept {
                tracing::warn!(
                    feed = %pending.feed.url,
                    "lease lost (expired or claimed by another worker); result discarded"
                );
            }
            kept
        })
        .collect();
    let ids: Vec<&str> = held.iter().map(|p| p.feed.id.as_str()).collect();
    let interval = intervals.for_feeds(conn, &ids)?;
    let mut not_modified = Vec::new();
    let mut fetched = Vec::new();
    let mut recorded: std::collections::HashMap<&str, RefreshOutcome> = Default::default();
    for pending in &held {
        let feed = &pending.feed;
        let interval = interval(&feed.id);
        let (failed, kept) = match &pending.fetched {
            Fetched::NotModified => {
                let next = next_check_after_success(at, interval, pending.wait_hint);
                not_modified.push((feed.id.clone(), next));
                (false, true)
            }
            Fetched::Parsed(parsed, validators) => {
                let ttl = parsed
                    .ttl_minutes
                    .map(|m| Duration::from_secs(u64::from(m) * 60));
                let wish = pending.wait_hint.max(ttl);
                fetched.push(FetchedFeed {
                    feed_id: &feed.id,
                    parsed,
                    validators,
                    next_check_at: next_check_after_success(at, interval, wish),
                    status: pending.status.unwrap_or(200),
                });
                crate::websub::store::note_hub(conn, feed, parsed.websub.as_ref())?;
                (false, true)
            }
            Fetched::Gone => {
                tracing::warn!(feed = %feed.url, "feed answered 410 Gone; it will not be checked again");
                record_feed_gone(conn, &feed.id)?;
                (true, false)
            }
            Fetched::Failed(message) => {
                let errors = u32::try_from(feed.error_count).unwrap_or(0) + 1;
                let next = next_check_after_error(at, interval, errors, pending.wait_hint);
                let failure = FeedFailure {
                    message,
                    status: pending.status,
                    since: feed.erroring_since.unwrap_or(at),
                };
                record_feed_error(conn, &feed.id, &failure, next)?;
                (true, false)
            }
        };
        // Only a check that got the feed confirms where it lives now.
        if kept {
            follow_redirects(conn, feed, &pending.redirects, at)?;
        }
        recorded.insert(
            &feed.id,
            RefreshOutcome {
                failed,
                ..RefreshOutcome::recorded()
            },
        );
    }
    let new_posts = record_feeds_fetched(conn, &fetched)?;
    record_feeds_not_modified(conn, &not_modified)?;
    let mut wants_captions: Vec<&str> = Vec::new();
    for (f, new) in fetched.iter().zip(new_posts) {
        if let Some(outcome) = recorded.get_mut(f.feed_id.as_str()) {
            outcome.new_posts = new;
        }
        if new > 0 {
            wants_captions.push(f.feed_id);
        }
    }
    // Captions are written even after a failed fetch: a new subscriber of a feed that is
    // down still gets captions for the posts already stored. Feeds with new posts are
    // captioned anyway, so only the others are asked about: the question walks every post
    // seen since a subscription's backfill, more of them every month.
    let others: Vec<&str> = ids
        .iter()
        .copied()
        .filter(|id| !wants_captions.contains(id))
        .collect();
    let wanting = feeds_wanting_captions(conn, &others)?;
    wants_captions.extend(others.iter().filter(|id| wanting.contains(**id)));
    wants_captions.sort_unstable();
    wants_captions.dedup();
    let captions = write_captions_for_feeds(conn, &wants_captions, &mut CompiledTemplates::new())?;
    // New captions of "join at once" feeds join the queue as they are written, so the
    // queue page only reads (the publisher admits on each pass too).
    let with_new: Vec<&str> = captions
        .iter()
        .filter(|(_, written)| **written > 0)
        .map(|(feed, _)| feed.as_str())
        .collect();
    crate::queue::entries::admit_for_feeds(conn, &with_new)?;
    for (feed_id, written) in captions {
        if let Some(outcome) = recorded.get_mut(feed_id.as_str()) {
            outcome.captions_written = written;
        }
    }
    // A 304's write ended its lease already: one update per feed row instead of two.
    let released: std::collections::HashSet<&str> =
        not_modified.iter().map(|(id, _)| id.as_str()).collect();
    for (token, ids) in &by_token {
        let ids: Vec<&str> = ids
            .iter()
            .copied()
            .filter(|id| !released.contains(id))
            .collect();
        if !ids.is_empty() {
            release_feeds(conn, &ids, token)?;
        }
    }
    Ok(batch
        .iter()
        .map(|pending| {
            recorded
                .remove(pending.feed.id.as_str())
                .unwrap_or_else(RefreshOutcome::discarded)
        })
        .collect())
}

fn follow_redirects(
    conn: &mut AnyConnection,
    feed: &Feed,
    hops: &[crate::feeds::Hop],
    at: chrono::NaiveDateTime,
) -> Result<(), DbError> {
    match redirects::decide(feed, hops, at) {
        Decision::Nothing => {}
        Decision::Forget => record_redirect_seen(conn, &feed.id, None, None, 0)?,
        Decision::Watch {
            to,
            first_seen_at,
            count,
        } => record_redirect_seen(conn, &feed.id, Some(&to), Some(first_seen_at), count)?,
        Decision::Move(to) => {
            if move_feed_url(conn, &feed.id, &to)? {
                tracing::info!(to = %to, "feed moved permanently; stored URL updated");
            } else {
                tracing::warn!(to = %to, "feed moved to a URL another feed has; kept the old URL");
            }
        }
    }
    Ok(())
}
