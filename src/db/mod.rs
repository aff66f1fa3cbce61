//! Storage: one connection type over SQLite and PostgreSQL, a pool, embedded migrations.
//!
//! The backend is chosen at run time from the URL. Queries are written once against
//! [`AnyConnection`]; the few statements the two backends spell differently live in
//! [`dialect`].

pub mod backup;
pub mod checkpoint;
pub mod dialect;
mod migrate;
pub mod notifications;
mod pool;
pub mod schema;
pub mod sqlite_batch;
pub mod statement;
mod text_id;

use std::time::Duration;

pub use migrate::run_migrations;
pub use pool::{Db, IsBusy};

/// A connection to either backend.
#[derive(diesel::MultiConnection)]
pub enum AnyConnection {
    Postgresql(diesel::PgConnection),
    Sqlite(diesel::SqliteConnection),
}

/// Errors of the storage layer.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("database query failed: {0}")]
    Query(#[from] diesel::result::Error),
    #[error("could not get a database connection: {0}")]
    Pool(String),
    #[error("database migration failed: {0}")]
    Migration(String),
}

/// A validated database address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DatabaseUrl {
    /// A file path (or `:memory:`).
    Sqlite(String),
    Postgres(String),
}

impl DatabaseUrl {
    pub fn default_sqlite() -> Self {
        DatabaseUrl::Sqlite("captionfeed.db".into())
    }

    /// Accepts `sqlite://PATH`, `sqlite:PATH` and `postgres://` / `postgresql://` URLs.
    pub fn parse(raw: &str) -> Result<Self, String> {
        if let Some(path) = raw
            .strip_prefix("sqlite://")
            .or_else(|| raw.strip_prefix("sqlite:"))
        {
            if path.is_empty() {
                return Err("sqlite:// needs a file path, like sqlite://captionfeed.db".into());
            }
            Ok(DatabaseUrl::Sqlite(path.to_string()))
        } else if raw.starts_with("postgres://") || raw.starts_with("postgresql://") {
            Ok(DatabaseUrl::Postgres(raw.to_string()))
        } else {
            Err("must start with sqlite:// or postgres://".into())
        }
    }

    pub fn is_sqlite(&self) -> bool {
        matches!(self, DatabaseUrl::Sqlite(_))
    }

    /// For logs: the file path, or the PostgreSQL URL without its password.
    pub fn redacted(&self) -> String {
        match self {
            DatabaseUrl::Sqlite(path) => format!("sqlite://{path}"),
            DatabaseUrl::Postgres(raw) => match url::Url::parse(raw) {
                Ok(mut url) => {
                    if url.password().is_some() {
                        let _ = url.set_password(Some("***"));
                    }
                    url.to_string()
                }
                Err(_) => "postgres://(unparsable)".into(),
            },
        }
    }
}

/// How long a SQLite writer waits for another before giving up.
const SQLITE_BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// The current time as stored: UTC, microsecond precision (what both backends keep).
pub fn now() -> chrono::NaiveDateTime {
    let now = chrono::Utc::now();
    chrono::DateTime::from_timestamp_micros(now.timestamp_micros())
        .unwrap_or(now)
        .naive_utc()
}

/// A new random, time-ordered id for a row.
pub fn new_id() -> String {
    uuid::Uuid::now_v7().simple().to_string()
}
