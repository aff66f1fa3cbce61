//! Fetching, parsing and normalizing feeds.
//!
//! Subscribers hand us arbitrary URLs, so fetching is guarded against
//! reaching internal addresses ([`guard`]) and bounded in time and size
//! ([`fetch`]). Parsing accepts RSS, Atom and JSON Feed via feed-rs
//! ([`parse`]), after older and looser dialects are rewritten into ones it
//! reads (`compat`), and flattens entries into plain text a caption template
//! can use directly ([`normalize`], [`html`]). Each post is read once as a reader would
//! ([`reading`]: the article's text without its machinery ([`article`], [`lines`]), the
//! best summary, the lead sentence ([`sentences`]) and the other ways into it ([`angles`])), so captions
//! never redo that work.

pub mod address;
pub mod angles;
pub mod article;
pub mod block;
mod compat;
pub mod discover;
pub mod error;
pub mod fetch;
pub mod guard;
pub mod hints;
pub mod html;
pub mod lines;
pub mod normalize;
pub mod parse;
pub mod probe;
pub mod reading;
pub mod seen;
pub mod sentences;
pub mod standalone;
mod timestamps;

pub use angles::Angles;
pub use error::FetchError;
pub use fetch::{FetchConfig, FetchOutcome, FetchReport, Fetcher, Hop, Validators};
pub use parse::{parse_feed, parse_feed_except, NewEntry, ParseError, ParsedFeed};
pub mod store;

/// No feed is checked twice within this, whatever the interval, the errors or a person's
/// "Check now": no restart, retry loop or button can hammer a feed's server.
pub const CHECK_FLOOR: std::time::Duration = std::time::Duration::from_secs(60);
pub use store::{FeedId, PostId};
