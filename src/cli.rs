//! What each command does; `main.rs` only parses arguments.

use anyhow::Context as _;

use crate::accounts::validate::{Email, Password};
use crate::accounts::{password, tokens, users, AccountError};
use crate::captions::{check, measure as count, Platform, Rules};
use crate::config::Settings;
use crate::feeds::parse_feed;

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

// Opening the database belongs to assembling the process; this path stays for callers.
pub use crate::app::open_database;

// The fetcher is built beside its configuration now; this path stays for callers.
pub use crate::feeds::fetch::fetcher;

/// Everything in one process: the web app and the background workers (poller, digests,
/// account mail, webhooks, WebSub, images, billing). Stops cleanly on SIGINT/SIGTERM.
pub async fn serve(settings: Settings) -> anyhow::Result<()> {
    crate::app::build(settings).await?.run_until_stopped().await
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

/// Copies the live SQLite database to `destination` (a new file), consistent as of one
/// moment, while `serve` keeps running on it.
pub async fn backup(settings: &Settings, destination: &std::path::Path) -> anyhow::Result<()> {
    let crate::db::DatabaseUrl::Sqlite(source) = &settings.database_url else {
        return Err(crate::db::backup::BackupError::Postgres.into());
    };
    if !std::path::Path::new(source).exists() {
        anyhow::bail!("there is no database at {source} (CAPTIONFEED_DATABASE_URL)");
    }
    let db = crate::db::Db::connect(&settings.database_url, 1)?;
    let target = destination.to_path_buf();
    db.run(move |conn| crate::db::backup::sqlite_copy(conn, &target))
        .await?;
    say!("{} copied to {}", source, destination.display())?;
    Ok(())
}

/// Makes the account an operator: it may use the console under `/admin`.
pub async fn grant_operator(settings: &Settings, email: &str) -> anyhow::Result<()> {
    let db = open_database(settings).await?;
    let address = email.to_string();
    db.transaction(move |conn| crate::operators::grant(conn, &address))
        .await?;
    say!("{} is an operator; the console is at /admin", email.trim())?;
    Ok(())
}

/// Takes the console away from the account.
pub async fn revoke_operator(settings: &Settings, email: &str) -> anyhow::Result<()> {
    let db = open_database(settings).await?;
    let address = email.to_string();
    let removed = db
        .transaction(move |conn| crate::operators::revoke(conn, &address))
        .await?;
    if removed {
        say!("{} is no longer an operator", email.trim())?;
    } else {
        say!("{} was not an operator", email.trim())?;
    }
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
