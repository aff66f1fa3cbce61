//! A look at an address before it is followed: is there a feed there, a page naming
//! feeds, or nothing worth following?
//!
//! One request for a feed's own address; a page adds discovery's requests. Only answers
//! that say for sure there is no feed (404, 410, a document that is neither a feed nor a
//! page) refuse the address: a timeout or a 503 may pass, so those are followed as typed
//! and the feed page shows what the poller sees.

use url::Url;

use super::discover::{feeds_of_page, looks_like_html, Candidate};
use super::{parse_feed, FetchError, FetchOutcome, Fetcher, ParsedFeed, Validators};

#[derive(Debug)]
pub enum Probe {
    /// A feed, as read now.
    Feed(Box<ParsedFeed>),
    /// An HTML page naming (or offering at the usual paths) these feeds.
    Page(Vec<Candidate>),
    /// The address holds no feed; the sentence says why, for the person who typed it.
    NoFeed(String),
    /// The answer says nothing for sure (timeout, server error, refused connection).
    Unknown,
}

/// Looks at `url`; see [`Probe`].
pub async fn probe(fetcher: &Fetcher, url: &Url) -> Probe {
    let (body, base) = match fetcher.fetch(url.as_str(), &Validators::default()).await {
        Ok(FetchOutcome::Fetched {
            body, final_url, ..
        }) => (body, final_url),
        Ok(FetchOutcome::NotModified) => return Probe::Unknown,
        Err(FetchError::Status { status, reason }) if status == 404 || status == 410 => {
            return Probe::NoFeed(format!(
                "This address answers HTTP {status} {reason}: there is no feed there. Check the address, or enter the blog's own address to find its feed."
            ))
        }
        Err(_) => return Probe::Unknown,
    };
    if let Ok(parsed) = parse_feed(&body, Some(&base)) {
        return Probe::Feed(Box::new(parsed));
    }
    if looks_like_html(&body) {
        let found = feeds_of_page(fetcher, &body, &base).await;
        return if found.is_empty() {
            Probe::NoFeed(
                "This page names no RSS, Atom or JSON feed, and none was found at the usual addresses. Enter the feed's address.".into(),
            )
        } else {
            Probe::Page(found)
        };
    }
    Probe::NoFeed(
        "This address holds no RSS, Atom or JSON feed. Check the address, or enter the blog's own address to find its feed.".into(),
    )
}
