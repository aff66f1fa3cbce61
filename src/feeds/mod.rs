//! Fetching, parsing and normalizing feeds.
//!
//! Subscribers hand us arbitrary URLs, so fetching is guarded against
//! reaching internal addresses ([`guard`]) and bounded in time and size
//! ([`fetch`]). Parsing accepts RSS, Atom and JSON Feed via feed-rs
//! ([`parse`]), after older and looser dialects are rewritten into ones it
//! reads (`compat`), and flattens entries into plain text a caption template
//! can use directly ([`normalize`], [`html`]).

mod compat;
pub mod discover;
pub mod error;
pub mod fetch;
pub mod guard;
pub mod hints;
pub mod html;
pub mod normalize;
pub mod parse;

pub use error::FetchError;
pub use fetch::{FetchConfig, FetchOutcome, FetchReport, Fetcher, Hop, Validators};
pub use parse::{parse_feed, NewEntry, ParseError, ParsedFeed};
pub mod store;
