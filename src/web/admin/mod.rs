//! The operator's console under `/admin`. Every path and method under it answers a
//! visitor who is not an operator exactly as an unknown page does ([`guard`]), so the
//! console's existence is not advertised; operators also need a recent password entry.

mod accounts;
mod audit_log;
mod confirm;
mod guard;
mod health;
mod overview;
mod stops;
mod svg;

use actix_web::middleware::from_fn;
use actix_web::web;

use super::error::WebError;
use crate::accounts::User;

/// The operator a request under `/admin` comes from, put there by [`guard`].
#[derive(Clone)]
pub struct Operator {
    pub user: User,
}

/// The console's routes, each `(method, path)` as registered: the 404 test walks this list.
pub const ROUTES: &[(&str, &str)] = &[
    ("GET", "/admin"),
    ("GET", "/admin/confirm"),
    ("POST", "/admin/confirm"),
    ("GET", "/admin/audit"),
    ("GET", "/admin/accounts"),
    ("POST", "/admin/accounts/{id}/resend-verification"),
    ("GET", "/admin/health"),
    ("GET", "/admin/health/feeds"),
    ("GET", "/admin/health/mail"),
    ("GET", "/admin/health/digests"),
    ("GET", "/admin/health/webhooks"),
    ("GET", "/admin/health/images"),
    ("POST", "/admin/mail/{id}/retry"),
    ("POST", "/admin/webhooks/{id}/retry"),
    ("POST", "/admin/feeds/stop"),
    ("POST", "/admin/hosts/stop"),
];

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::scope("/admin")
            .wrap(from_fn(guard::operators_only))
            .service(overview::show)
            .service(confirm::ask)
            .service(confirm::submit)
            .service(audit_log::list)
            .service(accounts::find)
            .service(accounts::resend_verification)
            .service(health::show)
            .service(health::rows)
            .service(health::retry_mail)
            .service(health::retry_webhook)
            .service(stops::stop_feed)
            .service(stops::stop_host)
            .default_service(web::to(|| async {
                Err::<actix_web::HttpResponse, _>(WebError::NotFound)
            })),
    );
}
