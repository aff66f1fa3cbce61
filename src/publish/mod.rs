//! Publishing captions directly to the open networks.
//!
//! - `facets`: where a Bluesky post's links and hashtags are, in UTF-8 byte offsets;
//! - `bluesky`: the XRPC client (sessions, blobs, posts under a key derived from the
//!   caption, so a retry finds the post instead of writing a second one);
//! - `secrets`: app passwords and tokens encrypted at rest;
//! - `outgoing`: what publishing a caption needs and yields on every network, and its errors;
//! - `connections`: the accounts' connected networks (handle, sealed secret, broken or not).

pub mod bluesky;
pub mod connections;
pub mod facets;
pub mod mastodon;
pub mod outgoing;
pub mod secrets;
