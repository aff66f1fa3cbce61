//! Subscribes one account to every feed address read from stdin (one a line), on the
//! database `CAPTIONFEED_DATABASE_URL` names, for the black-box poller benchmark
//! (`benches/poll-vs-python.sh`), 500 feeds an account (the largest plan's limit). The feeds are due at once, and each gets the default
//! backfill, as a feed followed from the page would.
//!
//! Usage: CAPTIONFEED_DATABASE_URL=sqlite://bench.db seed_feeds < urls.txt

use std::io::BufRead as _;

use captionfeed::accounts::validate::Email;
use captionfeed::captions::Platform;
use captionfeed::config::Settings;
use captionfeed::db::{AnyConnection, DbError};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let settings = Settings::from_vars(std::env::vars())?;
    let backfill = settings.backfill;
    let urls: Vec<String> = std::io::stdin().lock().lines().collect::<Result<_, _>>()?;
    let db = captionfeed::cli::open_database(&settings).await?;
    db.transaction(move |conn: &mut AnyConnection| {
        // Accounts of 500 feeds, the largest plan's limit.
        for (n, chunk) in urls.chunks(500).enumerate() {
            let email = Email::parse(&format!("poller-bench-{n}@example.com"))
                .map_err(|e| DbError::Pool(e.to_string()))?;
            let user = captionfeed::accounts::users::create(conn, &email, "not a password hash")
                .map_err(|e| DbError::Pool(e.to_string()))?;
            for url in chunk {
                captionfeed::subscriptions::subscribe(
                    conn,
                    &user.user_id(),
                    url,
                    &Platform::ALL,
                    backfill,
                )
                .map_err(|e| DbError::Pool(e.to_string()))?;
            }
        }
        Ok::<_, DbError>(())
    })
    .await?;
    Ok(())
}
