//! The connection pool, and running blocking database work off the async executor.

use diesel::connection::SimpleConnection;
use diesel::r2d2::{ManageConnection, Pool, PooledConnection};
use diesel::Connection;
use std::sync::Arc;
use tokio::sync::Semaphore;

use super::{AnyConnection, DatabaseUrl, DbError, SQLITE_BUSY_TIMEOUT};

/// A pooled connection, and whether it was found dead (PostgreSQL restarted, or its
/// backend terminated): such a one is dropped when given back instead of lent again.
pub struct Conn {
    inner: AnyConnection,
    lost: bool,
}

impl std::ops::Deref for Conn {
    type Target = AnyConnection;
    fn deref(&self) -> &AnyConnection {
        &self.inner
    }
}

impl std::ops::DerefMut for Conn {
    fn deref_mut(&mut self) -> &mut AnyConnection {
        &mut self.inner
    }
}

impl Conn {
    /// After a failed statement: whether the connection itself is gone (a `SELECT 1`
    /// fails too). Marks it so the pool drops it. Only ever asked after an error, so a
    /// working request never pays the round trip.
    fn check_lost(&mut self) -> bool {
        if !self.lost && self.inner.batch_execute("SELECT 1").is_err() {
            self.lost = true;
        }
        self.lost
    }
}

/// Opens connections of the backend the URL names, and only that one.
///
/// diesel's generated `establish` tries every backend in turn, which would turn a
/// PostgreSQL URL into a SQLite file name when the server is down.
#[derive(Debug)]
pub struct Manager {
    url: DatabaseUrl,
}

impl ManageConnection for Manager {
    type Connection = Conn;
    type Error = diesel::r2d2::Error;

    fn connect(&self) -> Result<Conn, Self::Error> {
        self.open().map(|inner| Conn { inner, lost: false })
    }

    fn is_valid(&self, conn: &mut Conn) -> Result<(), Self::Error> {
        conn.inner
            .batch_execute("SELECT 1")
            .map_err(diesel::r2d2::Error::QueryError)
    }

    fn has_broken(&self, conn: &mut Conn) -> bool {
        conn.lost || diesel::r2d2::R2D2Connection::is_broken(&mut conn.inner)
    }
}

impl Manager {
    fn open(&self) -> Result<AnyConnection, diesel::r2d2::Error> {
        match &self.url {
            DatabaseUrl::Sqlite(path) => {
                let mut conn = diesel::SqliteConnection::establish(path)
                    .map_err(diesel::r2d2::Error::ConnectionError)?;
                // WAL is set once, on the file, in `Db::connect`: switching the journal mode
                // takes an exclusive lock that SQLite does not wait for, so the pool's
                // connections, opened together on a fresh file, failed with "database is
                // locked" (logged as an ERROR by r2d2 on the very first start).
                conn.batch_execute(&format!(
                    "PRAGMA busy_timeout = {}; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON; {}",
                    SQLITE_BUSY_TIMEOUT.as_millis(),
                    super::checkpoint::sqlite_pragmas(),
                ))
                .map_err(diesel::r2d2::Error::QueryError)?;
                Ok(AnyConnection::Sqlite(conn))
            }
            DatabaseUrl::Postgres(url) => {
                let mut conn = diesel::PgConnection::establish(url)
                    .map_err(diesel::r2d2::Error::ConnectionError)?;
                // Each statement is sent unprepared (parsed and planned for its own values in
                // one round trip): a prepared one would keep a generic plan made while the
                // tables were nearly empty (a new database, before autovacuum's first ANALYZE)
                // and run a join as nested sequential scans for good, measured 300 ms instead
                // of 8 ms per poll in `cargo bench --bench poll`. Forcing custom plans for the
                // whole session did that too, but also replanned every foreign-key check the
                // server runs inside an insert: a batch of captions took 2.4 times as long.
                conn.set_prepared_statement_cache_size(diesel::connection::CacheSize::Disabled);
                // Compiling a plan to machine code costs 10-40 ms, far more than these short
                // queries run; the poller's query for posts without captions crossed the
                // threshold on every batch once a few thousand posts were stored.
                conn.batch_execute("SET jit = off")
                    .map_err(diesel::r2d2::Error::QueryError)?;
                Ok(AnyConnection::Postgresql(conn))
            }
        }
    }
}

/// Puts the SQLite file in WAL mode (kept by the file) before any pooled connection opens,
/// from one connection that waits for the lock like the others do.
fn use_wal(path: &str) -> Result<(), DbError> {
    let failed = |e: &dyn std::fmt::Display| DbError::Pool(format!("{path}: {e}"));
    let mut conn = diesel::SqliteConnection::establish(path).map_err(|e| failed(&e))?;
    conn.batch_execute(&format!(
        "PRAGMA busy_timeout = {}; PRAGMA journal_mode = WAL;",
        SQLITE_BUSY_TIMEOUT.as_millis()
    ))
    .map_err(|e| failed(&e))
}

/// The shared handle on the database: cheap to clone, safe to use from async code.
#[derive(Clone)]
pub struct Db {
    pool: Pool<Manager>,
    url: DatabaseUrl,
    /// One per pooled connection: async work waits here, first come first served, and
    /// only then takes a blocking thread and a connection (see `run`).
    turns: Arc<Semaphore>,
}

impl Db {
    /// Opens the pool and checks that one connection can be made.
    pub fn connect(url: &DatabaseUrl, max_size: u32) -> Result<Self, DbError> {
        if let DatabaseUrl::Sqlite(path) = url {
            if let Some(parent) = std::path::Path::new(path).parent() {
                if !parent.as_os_str().is_empty() {
                    std::fs::create_dir_all(parent).map_err(|e| {
                        DbError::Pool(format!("cannot create {}: {e}", parent.display()))
                    })?;
                }
            }
            use_wal(path)?;
        }
        let pool = Pool::builder()
            .max_size(max_size)
            .connection_timeout(std::time::Duration::from_secs(10))
            // r2d2 would run `SELECT 1` before lending each connection: a second round trip
            // for every request (half of /healthz, a third of a cached desk page on
            // PostgreSQL). Instead `run` checks a connection only after an error, drops it
            // if it is dead and runs the work again on another (see `run`).
            .test_on_check_out(false)
            .build(Manager { url: url.clone() })
            .map_err(|e| DbError::Pool(format!("{}: {e}", url.redacted())))?;
        Ok(Db {
            pool,
            url: url.clone(),
            turns: Arc::new(Semaphore::new(max_size as usize)),
        })
    }

    pub fn url(&self) -> &DatabaseUrl {
        &self.url
    }

    /// A connection for blocking code (the CLI, migrations, tests).
    pub fn get(&self) -> Result<PooledConnection<Manager>, DbError> {
        self.pool.get().map_err(|e| DbError::Pool(e.to_string()))
    }

    /// Runs `f` with a connection on the blocking thread pool.
    ///
    /// When `f` fails because its connection was dead (PostgreSQL restarted or ended the
    /// backend: every idle connection in the pool is then dead too), the connection is
    /// dropped and `f` runs again on another, up to the pool's size and one fresh one, so
    /// the person never sees the loss. Its statements all failed on the dead connection,
    /// or were in a transaction that rolled back: nothing is done twice, unless `f` wrote
    /// outside a transaction and lost the connection between two statements.
    ///
    /// Work waits for its turn (a free connection) here, in order, before it takes a
    /// blocking thread: waiting inside r2d2 instead, 64 requests on 8 connections each
    /// parked a thread, and a connection given back went to whichever thread the OS ran
    /// first, often a newcomer, so a few requests lost every race: at 64 connections on
    /// PostgreSQL, /healthz (one `SELECT 1`) had a p99 of about a second.
    pub async fn run<T, E, F>(&self, f: F) -> Result<T, E>
    where
        F: Fn(&mut AnyConnection) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<DbError> + Send + 'static,
    {
        let pool = self.pool.clone();
        // Owned, and moved into the blocking task: a request dropped while its query runs
        // must not hand its turn on while the connection is still in use.
        let turn = self
            .turns
            .clone()
            .acquire_owned()
            .await
            .map_err(|e| E::from(DbError::Pool(format!("the pool is closed: {e}"))))?;
        tokio::task::spawn_blocking(move || {
            let _turn = turn;
            let tries = pool.max_size() + 1;
            let mut tried = 0;
            loop {
                let mut conn = pool
                    .get()
                    .map_err(|e| E::from(DbError::Pool(e.to_string())))?;
                tried += 1;
                match f(&mut conn) {
                    Err(_) if tried < tries && conn.check_lost() => {
                        tracing::warn!("a database connection was lost; trying on another");
                    }
                    other => return other,
                }
            }
        })
        .await
        .map_err(|e| E::from(DbError::Pool(format!("database task failed: {e}"))))?
    }

    /// Runs `f` in a transaction on the blocking thread pool, retrying a few times when
    /// SQLite reports that another writer holds the lock (WAL lets only one write at a time
    /// and a read transaction cannot always be upgraded; the busy timeout does not cover that).
    pub async fn transaction<T, E, F>(&self, f: F) -> Result<T, E>
    where
        F: Fn(&mut AnyConnection) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<DbError> + From<diesel::result::Error> + IsBusy + Send + 'static,
    {
        self.run(move |conn| {
            let mut attempt = 0u32;
            loop {
                match conn.transaction(|conn| f(conn)) {
                    Err(e) if e.is_busy() && attempt < 5 => {
                        attempt += 1;
                        std::thread::sleep(std::time::Duration::from_millis(
                            20 * u64::from(attempt),
                        ));
                    }
                    other => return other,
                }
            }
        })
        .await
    }
}

/// Whether an error is SQLite's "database is locked", which is worth a retry.
pub trait IsBusy {
    fn is_busy(&self) -> bool;
}

impl IsBusy for diesel::result::Error {
    fn is_busy(&self) -> bool {
        match self {
            diesel::result::Error::DatabaseError(_, info) => {
                let m = info.message();
                m.contains("database is locked") || m.contains("database table is locked")
            }
            _ => false,
        }
    }
}

impl IsBusy for DbError {
    fn is_busy(&self) -> bool {
        matches!(self, DbError::Query(e) if e.is_busy())
    }
}
