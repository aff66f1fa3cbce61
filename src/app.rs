//! The process, assembled from the settings in one place: the database, the poller with
//! its fetcher and plans, the web app and the background workers. `captionfeed serve`
//! runs it; the tests' `spawn_app` builds the very same one (and runs the workers' passes
//! itself), so a wiring mistake here fails the tests too.

use std::time::Duration;

use anyhow::Context as _;

use crate::config::{BillingSettings, Settings};
use crate::db::{run_migrations, Db};
use crate::digests::Digests;
use crate::images::Images;
use crate::jobs::Runner;
use crate::mail::sender::AccountMail;
use crate::poller::Poller;
use crate::publishing::Publisher;
use crate::web::Application;
use crate::webhooks::Webhooks;
use crate::websub::WebSub;

/// Opens the database and brings its schema up to date.
pub async fn open_database(settings: &Settings) -> anyhow::Result<Db> {
    let db =
        Db::connect(&settings.database_url, settings.database_pool_size).with_context(|| {
            format!(
                "cannot open the database {}",
                settings.database_url.redacted()
            )
        })?;
    let applied = db.run(run_migrations).await?;
    if applied > 0 {
        tracing::info!(applied, "database migrations applied");
    }
    Ok(db)
}

/// The assembled process, not yet running.
pub struct App {
    pub settings: Settings,
    pub db: Db,
    pub poller: Poller,
    /// The web server, bound (when this process serves the web).
    pub web: Option<Application>,
    pub workers: Workers,
}

/// The background workers besides the poller, built but not started.
pub struct Workers {
    pub account_mail: AccountMail,
    pub digests: Digests,
    pub webhooks: Webhooks,
    pub websub: WebSub,
    pub images: Images,
    pub publisher: Publisher,
    /// Billing's grace sweep runs only when billing is on.
    pub billing: Option<BillingSettings>,
}

/// Builds the whole process from `settings`.
pub async fn build(settings: Settings) -> anyhow::Result<App> {
    let db = open_database(&settings).await?;
    tracing::info!(database = %settings.database_url.redacted(), "database ready");
    let poller = Poller::new(
        db.clone(),
        crate::feeds::fetch::fetcher(&settings)?,
        settings.poll_interval,
    )
    .with_plans(settings.billing.as_ref().map(|b| b.plans.clone()));
    // One mailer for the background senders (it logs where mail goes when it is made).
    let mailer = crate::mail::Mailer::from_settings(&settings)?;
    let workers = Workers {
        digests: Digests::new(db.clone(), mailer.clone(), &settings).await?,
        account_mail: AccountMail::new(db.clone(), mailer),
        webhooks: Webhooks::new(db.clone(), &settings)?,
        websub: WebSub::new(db.clone(), &settings)?,
        images: Images::new(db.clone(), &settings)?,
        publisher: Publisher::new(db.clone(), &settings).await?,
        billing: settings.billing.clone(),
    };
    let web = match settings.role.runs_web() {
        true => Some(Application::build(settings.clone(), db.clone(), poller.waker()).await?),
        false => None,
    };
    Ok(App {
        settings,
        db,
        poller,
        web,
        workers,
    })
}

impl App {
    /// The port the web server listens on, if this process serves the web.
    pub fn port(&self) -> Option<u16> {
        self.web.as_ref().map(Application::port)
    }

    /// Starts the workers (when this process runs them) and serves until SIGINT/SIGTERM;
    /// then stops the workers, each within its grace time.
    pub async fn run_until_stopped(self) -> anyhow::Result<()> {
        let workers = match self.settings.role.runs_worker() {
            true => start(self.poller, self.workers, self.db),
            false => Runner::new(),
        };
        match self.web {
            Some(web) => {
                tracing::info!(address = %self.settings.bind, port = web.port(), base_url = %self.settings.base_url, "listening");
                web.run_until_stopped().await?;
            }
            None => wait_for_stop_signal().await?,
        }
        tracing::info!("stopping: finishing the work under way");
        workers.stop().await;
        Ok(())
    }
}

/// Every background worker of the process, named, with the time each may take to finish
/// what it started once asked to stop.
fn start(poller: Poller, workers: Workers, db: Db) -> Runner {
    let mut runner = Runner::new();
    // A refresh under way ends within the fetch timeout (30 s) plus its database work; one
    // cut short keeps its lease until it expires and another replica takes over.
    runner.spawn("poller", Duration::from_secs(45), |stop| {
        poller.run_until_stopped(stop)
    });
    let Workers {
        account_mail,
        digests,
        webhooks,
        websub,
        images,
        publisher,
        billing,
    } = workers;
    runner.spawn("account mail", Duration::from_secs(30), |stop| {
        account_mail.run_until_stopped(stop)
    });
    runner.spawn("digests", Duration::from_secs(30), |stop| {
        digests.run_until_stopped(stop)
    });
    // Deliveries under way end within their 10 s timeout; one cut short goes again.
    runner.spawn("webhooks", Duration::from_secs(15), |stop| {
        webhooks.run_until_stopped(stop)
    });
    runner.spawn("websub", Duration::from_secs(15), |stop| {
        websub.run_until_stopped(stop)
    });
    // An image cut short is fetched again on the next start.
    runner.spawn("images", Duration::from_secs(5), |stop| {
        images.run_until_stopped(stop)
    });
    // A caption being sent ends within the client's timeouts; one cut short keeps its
    // lease until it expires, and its record key makes the next try find the post.
    runner.spawn("publisher", Duration::from_secs(40), |stop| {
        publisher.run_until_stopped(stop)
    });
    if let Some(billing) = billing {
        runner.spawn("billing sweep", Duration::from_secs(10), |stop| {
            crate::billing::run_until_stopped(db, billing, stop)
        });
    }
    runner
}

/// SIGINT or, where there is one, SIGTERM (what container runtimes send).
async fn wait_for_stop_signal() -> std::io::Result<()> {
    #[cfg(unix)]
    {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
        tokio::select! {
            result = tokio::signal::ctrl_c() => result,
            _ = term.recv() => Ok(()),
        }
    }
    #[cfg(not(unix))]
    {
        tokio::signal::ctrl_c().await
    }
}
