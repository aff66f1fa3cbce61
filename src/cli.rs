//! What each command does; `main.rs` only parses arguments.

use std::time::Duration;

use anyhow::Context as _;

use crate::accounts::validate::{Email, Password};
use crate::accounts::{password, tokens, users, AccountError};
use crate::captions::{check, measure as count, Platform, Rules};
use crate::config::Settings;
use crate::db::{run_migrations, Db};
use crate::feeds::{parse_feed, FetchConfig, Fetcher};
use crate::poller::Poller;
use crate::web::Application;

/// Writes a line to standard output. Unlike `println!`, which panics there, a closed pipe
/// (`captionfeed preview FEED | head -1`) comes back as an error for the caller to
/// return; `main` ends quietly on it ([`is_closed_pipe`]).
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        writeln!(std::io::stdout().lock(), $($arg)*)
    }};
}

/// Whether a command stopped because whoever read its output went away.
pub fn is_closed_pipe(error: &anyhow::Error) -> bool {
    error.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

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

// The fetcher is built beside its configuration now; this path stays for callers.
pub use crate::feeds::fetch::fetcher;

/// Starts a background worker (when this process runs workers) that stops when `stop` changes.
fn spawn_worker<F, Fut>(
    runs: bool,
    stop: &tokio::sync::watch::Receiver<bool>,
    start: F,
) -> Option<tokio::task::JoinHandle<()>>
where
    F: FnOnce(std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>>) -> Fut,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let mut stop = stop.clone();
    runs.then(|| {
        tokio::spawn(start(Box::pin(async move {
            let _ = stop.changed().await;
        })))
    })
}

/// Everything in one process: the web app and the background workers (poller, digests,
/// account mail, webhooks). Stops cleanly on SIGINT/SIGTERM.
pub async fn serve(settings: Settings) -> anyhow::Result<()> {
    let db = open_database(&settings).await?;
    tracing::info!(database = %settings.database_url.redacted(), "database ready");
    let poller = Poller::new(db.clone(), fetcher(&settings)?, settings.poll_interval)
        .with_plans(settings.billing.as_ref().map(|b| b.plans.clone()));
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    // One mailer for the background senders (it logs where mail goes when it is made).
    let mailer = crate::mail::Mailer::from_settings(&settings)?;
    let digests = crate::digests::Digests::new(db.clone(), mailer.clone(), &settings).await?;
    let account_mail = crate::mail::sender::AccountMail::new(db.clone(), mailer);
    let runs = settings.role.runs_worker();
    let mail_worker = spawn_worker(runs, &stop_rx, |stop| account_mail.run_until_stopped(stop));
    let digest_worker = spawn_worker(runs, &stop_rx, |stop| digests.run_until_stopped(stop));
    let webhooks = crate::webhooks::Webhooks::new(db.clone(), &settings)?;
    let webhook_worker = spawn_worker(runs, &stop_rx, |stop| webhooks.run_until_stopped(stop));
    let websub = crate::websub::WebSub::new(db.clone(), &settings)?;
    let websub_worker = spawn_worker(runs, &stop_rx, |stop| websub.run_until_stopped(stop));
    let billing_worker = settings.billing.clone().and_then(|billing| {
        let db = db.clone();
        spawn_worker(runs, &stop_rx, move |stop| {
            crate::billing::run_until_stopped(db, billing, stop)
        })
    });
    let images = crate::images::Images::new(db.clone(), &settings)?;
    let image_worker = spawn_worker(runs, &stop_rx, |stop| images.run_until_stopped(stop));
    let poller_for_worker = poller.clone();
    let worker = spawn_worker(runs, &stop_rx, |stop| {
        poller_for_worker.run_until_stopped(stop)
    });
    if settings.role.runs_web() {
        let app = Application::build(settings.clone(), db, poller.waker()).await?;
        tracing::info!(address = %settings.bind, port = app.port(), base_url = %settings.base_url, "listening");
        app.run_until_stopped().await?;
    } else {
        wait_for_stop_signal().await?;
    }
    tracing::info!("stopping: finishing the refreshes under way");
    let _ = stop_tx.send(true);
    if let Some(worker) = worker {
        // A refresh under way ends within the fetch timeout (30 s) plus its database work;
        // one cut short keeps its lease until it expires and another replica takes over.
        if tokio::time::timeout(Duration::from_secs(45), worker)
            .await
            .is_err()
        {
            tracing::warn!("poller did not stop in time; its leases will expire");
        }
    }
    if let Some(worker) = digest_worker {
        let _ = tokio::time::timeout(Duration::from_secs(30), worker).await;
    }
    if let Some(worker) = websub_worker {
        let _ = tokio::time::timeout(Duration::from_secs(15), worker).await;
    }
    if let Some(worker) = webhook_worker {
        // Deliveries under way end within their 10 s timeout; one cut short goes again.
        let _ = tokio::time::timeout(Duration::from_secs(15), worker).await;
    }
    if let Some(worker) = billing_worker {
        let _ = tokio::time::timeout(Duration::from_secs(10), worker).await;
    }
    if let Some(worker) = image_worker {
        // An image cut short is fetched again on the next start.
        let _ = tokio::time::timeout(Duration::from_secs(5), worker).await;
    }
    if let Some(worker) = mail_worker {
        let _ = tokio::time::timeout(Duration::from_secs(30), worker).await;
    }
    Ok(())
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

pub async fn migrate(settings: &Settings) -> anyhow::Result<()> {
    open_database(settings).await?;
    say!(
        "database {} is up to date",
        settings.database_url.redacted()
    )?;
    Ok(())
}

fn parse_platforms(ids: &[String]) -> anyhow::Result<Vec<Platform>> {
    if ids.is_empty() {
        return Ok(Platform::ALL.to_vec());
    }
    ids.iter()
        .map(|id| Ok(id.trim().parse::<Platform>()?))
        .collect()
}

/// Prints the captions the default templates make for each post of a feed.
pub async fn preview(
    settings: &Settings,
    source: &str,
    platforms: &[String],
    json: bool,
) -> anyhow::Result<()> {
    let platforms = parse_platforms(platforms)?;
    let parsed = if source.starts_with("http://") || source.starts_with("https://") {
        let url =
            url::Url::parse(source).with_context(|| format!("{source:?} is not a valid URL"))?;
        crate::preview::load_feed(&fetcher(settings)?, &url)
            .await?
            .0
    } else {
        let bytes = std::fs::read(source).with_context(|| format!("cannot read {source}"))?;
        parse_feed(&bytes, None)?
    };
    let posts = crate::preview::caption_posts(&parsed, &platforms, None);
    if posts.is_empty() {
        anyhow::bail!("{source} is a feed but has no posts yet: there is nothing to preview");
    }
    for post in posts {
        if json {
            let line = serde_json::json!({
                "title": post.title,
                "url": post.url,
                "published": post.published.map(|d| d.to_rfc3339()),
                "captions": post.captions.iter().map(|c| serde_json::json!({
                    "platform": c.platform.id(),
                    "text": c.text,
                    "length": c.length,
                    "limit": c.limit,
                })).collect::<Vec<_>>(),
            });
            say!("{line}")?;
        } else {
            say!("# {}", post.title)?;
            for c in &post.captions {
                say!(
                    "\n## {} ({}/{})\n{}",
                    c.platform.display_name(),
                    c.length,
                    c.limit,
                    c.text
                )?;
            }
            say!()?;
        }
    }
    Ok(())
}

/// Prints the length; says whether the text fits (every rule of the platform met), which
/// `main` makes the exit status.
pub fn measure(platform: &str, text: &str, json: bool) -> anyhow::Result<bool> {
    let platform: Platform = platform.parse()?;
    let length = count(platform, text);
    let checked = check(platform, &Rules::for_platform(platform, None), text);
    if json {
        say!(
            "{}",
            serde_json::json!({
                "platform": platform.id(), "length": length, "limit": platform.limit(),
                "fits": checked.ok(), "bytes": checked.bytes, "links": checked.links,
                "hashtags": checked.hashtags, "violations": checked.violations,
            })
        )?;
    } else {
        say!("{length}/{}", platform.limit())?;
    }
    Ok(checked.ok())
}

pub async fn create_user(
    settings: &Settings,
    email: &str,
    raw_password: &str,
) -> anyhow::Result<()> {
    let db = open_database(settings).await?;
    let email = Email::parse(email)?;
    let password = Password::parse(raw_password)?;
    let hash = password::hash(&password)?;
    let user = db
        .run(move |conn| {
            let user = users::create(conn, &email, &hash)?;
            // Made by the operator, who vouches for the address.
            crate::accounts::verification::mark_verified(conn, &user.user_id(), &user.email)?;
            Ok::<_, crate::accounts::AccountError>(user)
        })
        .await?;
    say!("created account {} ({})", user.email, user.id)?;
    Ok(())
}

pub async fn create_token(settings: &Settings, email: &str, name: &str) -> anyhow::Result<()> {
    let db = open_database(settings).await?;
    let email = Email::parse(email)?;
    let name = name.to_string();
    let secret = db
        .run(move |conn| {
            let user = users::find_by_email(conn, &email)?.ok_or_else(|| {
                AccountError::Invalid(format!("no account has the email {}", email.as_str()))
            })?;
            tokens::create(conn, &user.user_id(), &name).map(|(_, secret)| secret)
        })
        .await?;
    say!("{secret}")?;
    Ok(())
}

/// Mails the account a digest of its newest captions now ("Send me a test digest now" on
/// the Settings page, from the command line).
pub async fn send_test_digest(settings: &Settings, email: &str) -> anyhow::Result<()> {
    let db = open_database(settings).await?;
    let email = Email::parse(email)?;
    let user = db
        .run(move |conn| {
            users::find_by_email(conn, &email)?.ok_or_else(|| {
                AccountError::Invalid(format!("no account has the email {}", email.as_str()))
            })
        })
        .await?;
    let mailer = crate::mail::Mailer::from_settings(settings)?;
    let digests = crate::digests::Digests::new(db, mailer, settings).await?;
    let sent = digests.send_test(&user.user_id()).await?;
    say!(
        "sent a test digest of {} caption{} for {} post{} to {}",
        sent.captions,
        if sent.captions == 1 { "" } else { "s" },
        sent.posts,
        if sent.posts == 1 { "" } else { "s" },
        sent.recipient
    )?;
    Ok(())
}
