//! Integration tests: the real app, real databases, real HTTP on loopback.
//! One test binary keeps link times low.

mod helpers;

mod account_mail;
mod account_pages;
mod auth;
mod billing;
mod bluesky;
mod browser;
mod caption_feeds;
mod captions;
mod cli;
mod composer;
mod connection_loss;
mod connections;
mod desk;
mod desk_pages;
mod digests;
mod discovery;
mod email_change;
mod feed_hygiene;
mod feed_voice;
mod feedparser_corpus;
mod feeds;
mod guessing;
mod health;
mod images;
mod isolation;
mod json_api;
mod listener;
mod mail;
mod operators;
mod politeness;
mod poller;
mod queue;
mod regenerate;
mod reset;
mod smtp;
mod template_bombs;
mod templates;
mod transfer;
mod try_feed;
mod verification;
mod webhooks;
mod websub;
