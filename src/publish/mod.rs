//! Publishing captions directly to the open networks.
//!
//! - `facets`: where a Bluesky post's links and hashtags are, in UTF-8 byte offsets;
//! - `bluesky`: the XRPC client (sessions, blobs, posts under a key derived from the
//!   caption, so a retry finds the post instead of writing a second one).

pub mod bluesky;
pub mod facets;
