//! Refreshing one claimed feed: fetch, parse, store, write captions, release.

use crate::captions::store::write_feed_captions;
use crate::db::{now, DbError};
use crate::feeds::store::{record_feed_error, record_feed_fetched, record_feed_not_modified, Feed};
use crate::feeds::{parse_feed, FetchOutcome};

use super::leases::release_feed;
use super::schedule::{next_check_after_error, next_check_after_success};
use super::Poller;

pub(super) struct RefreshOutcome {
    pub failed: bool,
    pub new_posts: usize,
    pub captions_written: usize,
}

enum Fetched {
    NotModified,
    Parsed(crate::feeds::ParsedFeed, crate::feeds::Validators),
    Failed(String),
}

#[tracing::instrument(skip_all, fields(feed = %feed.url))]
pub(super) async fn refresh_feed(poller: &Poller, feed: Feed) -> Result<RefreshOutcome, DbError> {
    let fetched = match poller.fetcher.fetch(&feed.url, &feed.validators()).await {
        Ok(FetchOutcome::NotModified) => Fetched::NotModified,
        Ok(FetchOutcome::Fetched {
            body,
            final_url,
            validators,
        }) => {
            // Parsing is CPU work on untrusted input: keep it off the async executor.
            let parsed =
                tokio::task::spawn_blocking(move || parse_feed(&body, Some(&final_url))).await;
            match parsed {
                Ok(Ok(parsed)) => Fetched::Parsed(parsed, validators),
                Ok(Err(e)) => Fetched::Failed(e.to_string()),
                Err(e) => Fetched::Failed(format!("the parser crashed: {e}")),
            }
        }
        Err(e) => Fetched::Failed(e.to_string()),
    };
    if let Fetched::Failed(message) = &fetched {
        tracing::warn!(error = %message, "feed refresh failed");
    }
    let interval = poller.poll_interval;
    let feed_id = feed.id.clone();
    let error_count = u32::try_from(feed.error_count).unwrap_or(0);
    poller
        .db
        .transaction(move |conn| {
            let at = now();
            let (failed, new_posts) = match &fetched {
                Fetched::NotModified => {
                    record_feed_not_modified(
                        conn,
                        &feed_id,
                        next_check_after_success(at, interval),
                    )?;
                    (false, 0)
                }
                Fetched::Parsed(parsed, validators) => {
                    let next = next_check_after_success(at, interval);
                    (
                        false,
                        record_feed_fetched(conn, &feed_id, parsed, validators, next)?,
                    )
                }
                Fetched::Failed(message) => {
                    let next = next_check_after_error(at, interval, error_count + 1);
                    record_feed_error(conn, &feed_id, message, next)?;
                    (true, 0)
                }
            };
            // Captions are written even after a failed fetch: a new subscriber of a
            // feed that is down still gets captions for the posts already stored.
            let captions_written = write_feed_captions(conn, &feed_id)?;
            release_feed(conn, &feed_id)?;
            Ok::<_, DbError>(RefreshOutcome {
                failed,
                new_posts,
                captions_written,
            })
        })
        .await
}
