//! A consistent copy of a live SQLite database, taken while the service keeps writing.
//!
//! `VACUUM INTO` reads the database in one read transaction, so the copy is the database
//! as of one moment: in WAL mode writers go on meanwhile, and the copy is a compact,
//! self-contained file (no `-wal` beside it) that `captionfeed serve` opens as it is.

use std::path::Path;

use diesel::prelude::*;
use diesel::sql_types::Text;

use super::{AnyConnection, DbError};

#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error("{0} already exists: a backup never overwrites a file")]
    Exists(String),
    #[error("PostgreSQL is backed up with pg_dump (see the README's Operations section)")]
    Postgres,
    #[error("the backup path is not valid UTF-8")]
    Path,
    #[error(transparent)]
    Db(#[from] DbError),
}

/// Copies the database `conn` is open on into a new file at `destination`.
pub fn sqlite_copy(conn: &mut AnyConnection, destination: &Path) -> Result<(), BackupError> {
    if destination.exists() {
        return Err(BackupError::Exists(destination.display().to_string()));
    }
    let AnyConnection::Sqlite(conn) = conn else {
        return Err(BackupError::Postgres);
    };
    let destination = destination.to_str().ok_or(BackupError::Path)?;
    diesel::sql_query("VACUUM INTO ?")
        .bind::<Text, _>(destination)
        .execute(conn)
        .map_err(DbError::from)?;
    Ok(())
}
