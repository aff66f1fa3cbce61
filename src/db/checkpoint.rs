//! SQLite's WAL checkpoints, on a thread of their own.
//!
//! By default the connection whose commit takes the WAL past 1,000 pages copies them into
//! the database file before its commit returns. On the poller's single writer that was 7%
//! of a first poll's samples, spent while every fetched feed waited for the writer. The
//! pool's connections therefore never checkpoint (`wal_autocheckpoint = 0`, set where they
//! open), and this thread does it beside them: a PASSIVE checkpoint waits for nobody and
//! makes nobody wait, and copies what the readers no longer need.

use std::sync::Weak;
use std::time::Duration;

use diesel::connection::SimpleConnection;
use diesel::prelude::*;

use super::SQLITE_BUSY_TIMEOUT;

/// How soon the next checkpoint runs after one that found the WAL grown.
const WHILE_WRITING: Duration = Duration::from_millis(100);
/// How soon it runs after one that found nothing new.
const WHILE_QUIET: Duration = Duration::from_secs(1);

#[derive(QueryableByName)]
struct Checkpointed {
    /// Pages in the WAL: it grows with every commit until a writer restarts it.
    #[diesel(sql_type = diesel::sql_types::Integer)]
    log: i32,
}

/// Opens the checkpointer's connection on the SQLite file at `path` and starts its thread,
/// which ends once `alive` (the pool's) is gone. An error means no checkpointer runs: the
/// caller then lets the pool's connections checkpoint as SQLite does by default.
pub(super) fn spawn<T: Send + Sync + 'static>(path: &str, alive: Weak<T>) -> Result<(), String> {
    let mut conn = SqliteConnection::establish(path).map_err(|e| e.to_string())?;
    conn.batch_execute(&format!(
        "PRAGMA busy_timeout = {};",
        SQLITE_BUSY_TIMEOUT.as_millis()
    ))
    .map_err(|e| e.to_string())?;
    std::thread::Builder::new()
        .name("sqlite-checkpoint".into())
        .spawn(move || {
            let mut last = None;
            loop {
                let grown = match checkpoint(&mut conn) {
                    Ok(log) => last.replace(log) != Some(log),
                    Err(error) => {
                        tracing::warn!(%error, "checkpointing the SQLite WAL failed; trying again");
                        false
                    }
                };
                std::thread::sleep(if grown { WHILE_WRITING } else { WHILE_QUIET });
                if alive.strong_count() == 0 {
                    return;
                }
            }
        })
        .map_err(|e| e.to_string())?;
    Ok(())
}

/// One PASSIVE checkpoint; returns the WAL's size in pages.
fn checkpoint(conn: &mut SqliteConnection) -> QueryResult<i32> {
    diesel::sql_query("PRAGMA wal_checkpoint(PASSIVE)")
        .get_result::<Checkpointed>(conn)
        .map(|row| row.log)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::{DatabaseUrl, Db};

    fn pages_in_file(path: &std::path::Path) -> u64 {
        std::fs::metadata(path).map(|m| m.len() / 4096).unwrap_or(0)
    }

    #[test]
    fn the_pool_never_checkpoints_and_the_checkpointer_does() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("wal.db");
        let url = DatabaseUrl::parse(&format!("sqlite://{}", file.display())).unwrap();
        let db = Db::connect(&url, 2).unwrap();
        let mut conn = db.get().unwrap();
        #[derive(QueryableByName)]
        struct Setting {
            #[diesel(sql_type = diesel::sql_types::Integer)]
            wal_autocheckpoint: i32,
        }
        let setting: Setting = diesel::sql_query("PRAGMA wal_autocheckpoint")
            .get_result(&mut **conn)
            .unwrap();
        assert_eq!(setting.wal_autocheckpoint, 0, "a commit never checkpoints");
        conn.batch_execute("CREATE TABLE t (x TEXT)").unwrap();
        let before = pages_in_file(&file);
        // About 2,500 pages of rows: past the 1,000 at which a commit would checkpoint.
        for _ in 0..10 {
            conn.batch_execute(
                "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1000) \
                 INSERT INTO t SELECT printf('%01000d', i) FROM n",
            )
            .unwrap();
        }
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while pages_in_file(&file) < before + 2000 && std::time::Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(50));
        }
        assert!(
            pages_in_file(&file) >= before + 2000,
            "the rows were copied into the file: {} pages, {before} before",
            pages_in_file(&file)
        );
    }
}
