//! captionfeed: blog feeds in, ready-to-post social media captions out.
pub mod accounts;
pub mod captions;
pub mod cli;
pub mod config;
pub mod db;
pub mod digests;
pub mod feeds;
pub mod mail;
pub mod metrics;
pub mod opml;
pub mod poller;
pub mod preview;
pub mod subscriptions;
pub mod telemetry;
pub mod web;
pub mod webhooks;
pub mod xml_text;
