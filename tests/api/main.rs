//! Integration tests: the real app, real databases, real HTTP on loopback.
//! One test binary keeps link times low.

mod helpers;

mod auth;
mod captions;
mod cli;
mod feeds;
mod health;
mod isolation;
mod poller;
mod templates;
