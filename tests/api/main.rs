//! Integration tests: the real app, real databases, real HTTP on loopback.
//! One test binary keeps link times low.

mod helpers;

mod account_mail;
mod angles;
mod auth;
mod billing;
mod browser;
mod caption_feeds;
mod captions;
mod cli;
mod connection_loss;
mod desk;
mod desk_pages;
mod digests;
mod discovery;
mod email_change;
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
