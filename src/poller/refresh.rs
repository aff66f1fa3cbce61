//! Refreshing one claimed feed: fetch, parse, store, write captions, release.

use std::time::Duration;

use crate::captions::store::write_feed_captions;
use crate::db::{now, AnyConnection, DbError};
use crate::feeds::store::{
    move_feed_url, record_feed_error, record_feed_fetched, record_feed_gone,
    record_feed_not_modified, record_redirect_seen, Feed, FeedFailure,
};
use crate::feeds::{parse_feed, FetchOutcome, FetchReport};
use crate::metrics::{error_outcome, metrics};

use super::leases::{release_feed, still_holds};
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
}

impl RefreshOutcome {
    pub fn released() -> Self {
        RefreshOutcome {
            released: true,
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
        }
    }
}

enum Fetched {
    NotModified,
    Parsed(crate::feeds::ParsedFeed, crate::feeds::Validators),
    Gone,
    Failed(String),
}

#[tracing::instrument(skip_all, fields(feed = %feed.url))]
pub(super) async fn refresh_feed(poller: &Poller, feed: Feed) -> Result<RefreshOutcome, DbError> {
    let report = {
        let slot = poller.hosts.acquire(&feed.url).await;
        // Shutdown came while this feed waited for its host: give it back unfetched.
        if poller.is_stopping() {
            drop(slot);
            return poller.release(feed).await;
        }
        // Waiting for the host may outlast the lease; then another worker may have the
        // feed by now, and fetching it again would only cost its server.
        if feed.lease_until.is_none_or(|until| until <= now()) {
            tracing::warn!("lease expired before the fetch; feed left to its new holder");
            metrics().results_discarded.inc();
            return Ok(RefreshOutcome::discarded());
        }
        let started = std::time::Instant::now();
        let report = poller
            .fetcher
            .fetch_report(&feed.url, &feed.validators())
            .await;
        drop(slot);
        metrics()
            .fetch_seconds
            .observe(started.elapsed().as_secs_f64());
        report
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
            let parsed =
                tokio::task::spawn_blocking(move || parse_feed(&body, Some(&final_url))).await;
            match parsed {
                Ok(Ok(parsed)) => Fetched::Parsed(parsed, validators),
                Ok(Err(e)) => {
                    metrics().fetches.with_label_values(&["parse_error"]).inc();
                    Fetched::Failed(e.to_string())
                }
                Err(e) => {
                    metrics().fetches.with_label_values(&["parse_error"]).inc();
                    Fetched::Failed(format!("the parser crashed: {e}"))
                }
            }
        }
        Err(_) if status == Some(410) => Fetched::Gone,
        Err(e) => {
            metrics()
                .fetches
                .with_label_values(&[&error_outcome(&e)])
                .inc();
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
    let interval = poller.poll_interval;
    let outcome = poller
        .db
        .transaction(move |conn| {
            record(
                conn,
                &feed,
                &fetched,
                Answer {
                    interval,
                    status,
                    wait_hint,
                    redirects: &redirects,
                },
            )
        })
        .await?;
    if outcome.discarded {
        metrics().results_discarded.inc();
    }
    metrics().posts_found.inc_by(outcome.new_posts as u64);
    metrics()
        .captions_made
        .inc_by(outcome.captions_written as u64);
    Ok(outcome)
}

/// What the server said besides the document.
struct Answer<'a> {
    interval: Duration,
    status: Option<u16>,
    wait_hint: Option<Duration>,
    redirects: &'a [crate::feeds::Hop],
}

fn record(
    conn: &mut AnyConnection,
    feed: &Feed,
    fetched: &Fetched,
    answer: Answer<'_>,
) -> Result<RefreshOutcome, DbError> {
    let at = now();
    let feed_id = feed.id.as_str();
    let token = feed.lease_token.as_deref().unwrap_or_default();
    if !still_holds(conn, feed_id, token, at)? {
        tracing::warn!(
            feed = %feed.url,
            "lease lost (expired or claimed by another worker); result discarded"
        );
        return Ok(RefreshOutcome::discarded());
    }
    let (failed, new_posts) = match fetched {
        Fetched::NotModified => {
            let next = next_check_after_success(at, answer.interval, answer.wait_hint);
            record_feed_not_modified(conn, feed_id, next)?;
            (false, 0)
        }
        Fetched::Parsed(parsed, validators) => {
            let ttl = parsed
                .ttl_minutes
                .map(|m| Duration::from_secs(u64::from(m) * 60));
            let wish = answer.wait_hint.max(ttl);
            let next = next_check_after_success(at, answer.interval, wish);
            let status = answer.status.unwrap_or(200);
            let new = record_feed_fetched(conn, feed_id, parsed, validators, next, status)?;
            (false, new)
        }
        Fetched::Gone => {
            tracing::warn!("feed answered 410 Gone; it will not be checked again");
            record_feed_gone(conn, feed_id)?;
            (true, 0)
        }
        Fetched::Failed(message) => {
            let errors = u32::try_from(feed.error_count).unwrap_or(0) + 1;
            let next = next_check_after_error(at, answer.interval, errors, answer.wait_hint);
            let failure = FeedFailure {
                message,
                status: answer.status,
                since: feed.erroring_since.unwrap_or(at),
            };
            record_feed_error(conn, feed_id, &failure, next)?;
            (true, 0)
        }
    };
    // Only a check that got the feed confirms where it lives now.
    if !failed {
        follow_redirects(conn, feed, answer.redirects, at)?;
    }
    // Captions are written even after a failed fetch: a new subscriber of a
    // feed that is down still gets captions for the posts already stored.
    let captions_written = write_feed_captions(conn, feed_id)?;
    release_feed(conn, feed_id, token)?;
    Ok(RefreshOutcome {
        released: false,
        discarded: false,
        failed,
        new_posts,
        captions_written,
    })
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
