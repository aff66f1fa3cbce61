//! The HTTP side: pages for people, health for operators. Handlers call the domain
//! modules and never write SQL; errors become responses in [`error`], once.

pub mod admin;
pub mod api;
mod assets;
mod caption_feeds;
pub mod client;
pub mod csrf;
pub mod error;
pub mod error_page;
mod health;
pub mod pages;
mod request_span;
pub use crate::signing::key as secret;
pub mod session;
mod stripe_webhook;
mod websub;

use std::net::TcpListener;
use std::sync::Arc;

use actix_web::dev::Server;
use actix_web::middleware::{from_fn, Compress, DefaultHeaders};
use actix_web::{web, App, HttpServer};
use tokio::sync::Notify;

use crate::config::Settings;
use crate::db::Db;

/// What every handler can reach.
pub struct AppState {
    pub db: Db,
    pub settings: Settings,
    pub signing_key: Vec<u8>,
    /// Seals and opens connection secrets, its key derived once from `signing_key`.
    pub secrets: Arc<crate::publish::secrets::SecretBox>,
    /// Wakes the poller when a feed was added, so it is fetched at once.
    pub poller_wake: Arc<Notify>,
    pub api_limiter: api::rate_limit::ApiLimiter,
    /// Account mail (verification links).
    pub mailer: crate::mail::Mailer,
    /// Sends queued account mail right after a page queued it.
    pub account_mail: crate::mail::sender::AccountMail,
    /// The guarded fetcher, for finding the feed of a site address.
    pub fetcher: crate::feeds::Fetcher,
    /// Landing-page previews per client address: each one fetches from the internet.
    pub preview_limiter: api::rate_limit::ApiLimiter,
    /// Template saves and previews per account, pages and API together: each one
    /// compiles and runs a subscriber's template.
    pub template_limiter: api::rate_limit::ApiLimiter,
    /// Rendered copy-desk pages, reused while the account's desk version holds.
    pub desk_pages: crate::desk::cache::DeskCache,
    /// Sessions and desk versions known without asking the database (PostgreSQL only).
    pub desk_watch: Arc<pages::desk_watch::DeskWatch>,
}

impl AppState {
    /// The plans whose limits apply; `None` with billing off.
    pub fn plans(&self) -> Option<&crate::billing::Plans> {
        self.settings.billing.as_ref().map(|b| &b.plans)
    }

    /// Following a feed with this process's database, fetcher, settings and poller.
    pub fn follow(&self) -> crate::subscriptions::follow::Follow<'_> {
        crate::subscriptions::follow::Follow {
            db: &self.db,
            fetcher: &self.fetcher,
            addresses: self.settings.address_policy(),
            backfill: self.settings.backfill,
            plans: self.plans(),
            poller_wake: &self.poller_wake,
        }
    }

    /// "Check now" on the account's subscription, with this process's plans and poller.
    pub async fn check_now(
        &self,
        user: &crate::accounts::UserId,
        subscription_id: String,
    ) -> Result<crate::subscriptions::check_now::CheckNow, crate::db::DbError> {
        crate::subscriptions::check_now::check_now(
            &self.db,
            self.plans(),
            &self.poller_wake,
            user,
            subscription_id,
        )
        .await
    }
}

/// The web server, bound and ready to run.
pub struct Application {
    server: Server,
    port: u16,
}

impl Application {
    /// Binds `settings.bind` (port 0 picks a free one, as tests do) and builds the server.
    pub async fn build(
        settings: Settings,
        db: Db,
        poller_wake: Arc<Notify>,
    ) -> anyhow::Result<Self> {
        let listener = TcpListener::bind(settings.bind).map_err(|e| {
            anyhow::anyhow!("cannot listen on {} (CAPTIONFEED_BIND): {e}", settings.bind)
        })?;
        let port = listener.local_addr()?.port();
        let key_settings = settings.clone();
        let signing_key = db
            .run(move |conn| secret::load_signing_key(conn, &key_settings))
            .await?;
        let api_limiter = api::rate_limit::ApiLimiter::per_minute(settings.api_rate_per_minute);
        let mailer = crate::mail::Mailer::from_settings(&settings)?;
        let fetcher = crate::feeds::fetch::fetcher(&settings)?;
        let account_mail = crate::mail::sender::AccountMail::new(db.clone(), mailer.clone());
        let desk_watch = Arc::new(pages::desk_watch::DeskWatch::default());
        if let crate::db::DatabaseUrl::Postgres(url) = db.url() {
            let listener: std::sync::Weak<dyn crate::db::notifications::Listener> =
                Arc::downgrade(&desk_watch) as _;
            if let Err(e) = crate::db::notifications::spawn(
                url.clone(),
                db.clone(),
                pages::desk_watch::CHANNEL,
                listener,
            ) {
                // The desk still works, reading the database on every request.
                tracing::warn!(error = %e, "cannot start listening for desk changes");
            }
        }
        let secrets = Arc::new(crate::publish::secrets::SecretBox::from_service_key(
            &signing_key,
        ));
        let state = web::Data::new(AppState {
            db,
            settings,
            signing_key,
            secrets,
            poller_wake,
            api_limiter,
            mailer,
            account_mail,
            fetcher,
            preview_limiter: api::rate_limit::ApiLimiter::per_minute(
                pages::home::PREVIEWS_PER_MINUTE,
            ),
            template_limiter: api::rate_limit::ApiLimiter::per_minute(
                pages::templates::CHECKS_PER_MINUTE,
            ),
            desk_pages: crate::desk::cache::DeskCache::default(),
            desk_watch,
        });
        let server = HttpServer::new(move || {
            App::new()
                .app_data(state.clone())
                .app_data(web::FormConfig::default().limit(64 * 1024))
                .wrap(from_fn(csrf::ensure_csrf_cookie))
                .wrap(from_fn(pages::desk_watch::forget_after_writes))
                .wrap(
                    DefaultHeaders::new()
                        .add(("X-Content-Type-Options", "nosniff"))
                        .add(("X-Frame-Options", "DENY"))
                        .add(("Referrer-Policy", "same-origin"))
                        .add((
                            "Content-Security-Policy",
                            "default-src 'self'; img-src 'self' https: data:; object-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
                        )),
                )
                .wrap(Compress::default())
                // Outermost: every other middleware, and the error logs, run in the span.
                .wrap(tracing_actix_web::TracingLogger::<request_span::RequestSpan>::new())
                .configure(api::routes)
                .configure(admin::routes)
                .configure(routes)
        })
        .listen(listener)?
        .shutdown_timeout(10)
        .run();
        Ok(Application { server, port })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Serves until the server is stopped (SIGINT/SIGTERM are handled by actix).
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.server.await
    }
}

fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(health::healthz)
        .service(health::readyz)
        .service(health::prometheus)
        .service(assets::app_css)
        .service(assets::app_js)
        .service(pages::home::home)
        .service(pages::auth::signup_form)
        .service(pages::auth::signup)
        .service(pages::auth::signup_sent)
        .service(pages::auth::login_form)
        .service(pages::auth::login)
        .service(pages::auth::logout)
        .service(pages::feeds::list)
        .service(pages::feeds::new_form)
        .service(pages::feeds::create)
        .service(pages::feeds::show)
        .service(pages::feeds::delete)
        .service(pages::feeds::check_feed)
        .service(pages::captions::list)
        .service(pages::captions::edit_form)
        .service(pages::captions::save_text)
        .service(pages::captions::set_status)
        .service(pages::share::choose)
        .service(pages::share::remember)
        .service(pages::queue_links::confirm)
        .service(pages::queue_links::act)
        .service(pages::queue::show)
        .service(pages::connections::show)
        .service(pages::connections::connect_bluesky)
        .service(pages::connections::disconnect)
        .service(pages::queue::plan_form)
        .service(pages::queue::save_plan)
        .service(pages::queue::set_mode)
        .service(pages::queue::act)
        .service(pages::images::show)
        .service(caption_feeds::caption_feed)
        .service(pages::transfer::export_opml)
        .service(pages::transfer::export_csv)
        .service(pages::transfer::import_form)
        .service(pages::transfer::import_review)
        .service(pages::transfer::import_confirm)
        .service(pages::tokens::list)
        .service(pages::tokens::create)
        .service(pages::tokens::revoke)
        .service(pages::tokens::rotate_caption_feeds)
        .service(pages::mastodon_connect::show)
        .service(pages::mastodon_connect::start)
        .service(pages::mastodon_connect::callback)
        .service(pages::webhooks::list)
        .service(pages::webhooks::create)
        .service(pages::webhooks::delete)
        .service(pages::webhooks::replay)
        .service(pages::settings::show)
        .service(pages::settings::save)
        .service(pages::settings::send_test_digest)
        .service(pages::settings::change_email)
        .service(pages::password::change_password)
        .service(pages::account_data::show)
        .service(pages::account_data::download)
        .service(pages::account_data::delete)
        .service(pages::account_data::deleted)
        .service(pages::unsubscribe::confirm)
        .service(pages::unsubscribe::turn_off)
        .service(pages::verify::open)
        .service(pages::verify::resend)
        .service(pages::reset::forgot_form)
        .service(pages::reset::forgot)
        .service(pages::reset::reset_form)
        .service(pages::reset::reset_password)
        .service(pages::templates::edit)
        .service(pages::templates::submit)
        .service(pages::templates::build)
        .service(pages::feed_builder::show)
        .service(pages::feed_builder::build)
        .service(pages::feeds::save_settings)
        .service(pages::feeds::save_template)
        .service(websub::verify)
        .service(
            web::resource("/websub/{feed_id}")
                .app_data(web::PayloadConfig::new(websub::MAX_PUSH_BYTES))
                .route(web::post().to(websub::receive)),
        )
        .service(pages::billing::show)
        .service(pages::billing::checkout)
        .service(pages::billing::portal)
        .service(pages::billing::keep_feeds)
        .service(pages::billing::success_page)
        .service(pages::billing::cancel_page)
        .service(stripe_webhook::receive)
        .default_service(web::to(|| async {
            Err::<actix_web::HttpResponse, _>(error::WebError::NotFound)
        }));
}
