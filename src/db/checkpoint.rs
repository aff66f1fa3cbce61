//! When SQLite copies its write-ahead log back into the database file.
//!
//! By default every commit that leaves more than 1,000 pages in the log copies them back
//! at once, in the committing writer's thread. For the poller's batch writer, which sets
//! the pace of a pass on SQLite, that copy (and the sync of the database file after it)
//! was 10-20% of a pass: on 2,000 feeds from `benches/poll-vs-python.sh`'s nginx, a pass
//! in which every feed had one new post took 0.68-0.70 s with the default and 0.57-0.62 s
//! with no copy during it; a first poll, 2.37-2.54 s and 2.09-2.13 s. So connections copy
//! back only past [`BACKSTOP_PAGES`], and the poller copies the log back when a pass
//! leaves it idle ([`checkpoint_wal`]), off the path of the writes.
//!
//! The price: with `synchronous = NORMAL`, the log reaches the disk at a checkpoint, so a
//! power cut (not a crash of the process, which loses nothing) can take back the commits of
//! the pass under way rather than those of the last thousand pages. The feeds of a batch
//! taken back are then due again and checked again, as after any lost pass.

use diesel::prelude::*;
use diesel::sql_types::Integer;

use super::AnyConnection;

/// Pages (of 4 KiB) the log may hold before a commit copies them back itself: 256 MiB.
/// A pass is usually far smaller; a first poll of 2,000 feeds writes about 39,000 pages.
pub const BACKSTOP_PAGES: u32 = 65_536;

/// Once the log has been copied back, the file is cut down to this size when it is next
/// reused, so that one big pass does not keep 256 MiB on disk.
pub const KEPT_LOG_BYTES: u64 = 64 * 1024 * 1024;

/// The pragmas every SQLite connection of the pool runs for the above.
pub fn sqlite_pragmas() -> String {
    format!("PRAGMA wal_autocheckpoint = {BACKSTOP_PAGES}; PRAGMA journal_size_limit = {KEPT_LOG_BYTES};")
}

/// What one checkpoint did, in pages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, QueryableByName)]
pub struct Checkpointed {
    /// The log's pages when it began.
    #[diesel(sql_type = Integer, column_name = log)]
    pub in_log: i32,
    /// Of those, the pages now in the database file (fewer while a reader holds an older
    /// snapshot; the next checkpoint copies the rest).
    #[diesel(sql_type = Integer, column_name = checkpointed)]
    pub copied: i32,
}

/// Copies the log back into the database file without waiting for readers or writers
/// (`PASSIVE`). `None` on PostgreSQL, which has no such log to tend.
pub fn checkpoint_wal(conn: &mut AnyConnection) -> QueryResult<Option<Checkpointed>> {
    match conn {
        AnyConnection::Sqlite(sqlite) => diesel::sql_query("PRAGMA wal_checkpoint(PASSIVE)")
            .get_result::<Checkpointed>(sqlite)
            .map(Some),
        AnyConnection::Postgresql(_) => Ok(None),
    }
}
