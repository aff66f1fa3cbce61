//! Migrations, embedded in the binary, one folder per backend with the same names.

use diesel::connection::SimpleConnection as _;
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};

use super::{AnyConnection, DbError};

const SQLITE: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
const POSTGRES: EmbeddedMigrations = embed_migrations!("migrations/postgres");

/// The PostgreSQL advisory lock that lets one process at a time migrate a database
/// ("captionfeed" in ASCII). Advisory locks are per database, so two captionfeed
/// databases on one server do not wait for each other.
const MIGRATION_LOCK: i64 = 0x6361_7074_696f_6e66;

/// Applies every pending migration; returns how many ran.
///
/// On PostgreSQL replicas starting together would each create the same tables and
/// types, and all but one would fail on a unique index of the catalog; the advisory
/// lock makes the others wait and then find nothing left to do. SQLite lets one writer
/// at a time in already (diesel runs each migration in a transaction).
pub fn run_migrations(conn: &mut AnyConnection) -> Result<usize, DbError> {
    let applied = match conn {
        AnyConnection::Sqlite(c) => c.run_pending_migrations(SQLITE).map(|v| v.len()),
        AnyConnection::Postgresql(c) => {
            c.batch_execute(&format!("SELECT pg_advisory_lock({MIGRATION_LOCK})"))?;
            let applied = c.run_pending_migrations(POSTGRES).map(|v| v.len());
            // Released even after a failed migration: the connection goes back to the pool.
            c.batch_execute(&format!("SELECT pg_advisory_unlock({MIGRATION_LOCK})"))?;
            applied
        }
    };
    applied.map_err(|e| DbError::Migration(e.to_string()))
}
