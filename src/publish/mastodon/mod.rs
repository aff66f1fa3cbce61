//! Mastodon: every instance is its own server, so the subscriber names theirs and connects
//! with OAuth (Mastodon's API documentation, docs.joinmastodon.org: methods/apps, methods/oauth,
//! spec/oauth, methods/statuses, methods/media, methods/instance, api/rate-limits).
//!
//! - `client`: the HTTP client every call goes through (the feeds' address guard, no
//!   redirects, capped answers) and the sorting of answers into [`client::MastodonError`];
//! - `instance`: an instance's address as typed, made an origin; its limits and the
//!   signed-in account;
//! - `oauth`: our app registered per instance, the authorization address with PKCE S256 and
//!   `state`, the code exchanged for a token;
//! - `post`: a caption published as a status, once per caption (`Idempotency-Key`), with
//!   its image attached through media v2;
//! - `store`: the registrations (`mastodon_apps`) and the authorizations on their way
//!   (`mastodon_authorizations`, taken once).

pub mod client;
pub mod instance;
pub mod oauth;
pub mod post;
pub mod store;
