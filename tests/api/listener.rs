//! The listening connection (src/db/notifications.rs) against the real PostgreSQL: what
//! it tells and in what order, that other processes' heartbeats stay out of it, that it
//! comes back after losing its connection, and that it never claims to listen when the
//! service's own writes do not reach it. PostgreSQL only: SQLite has no LISTEN.

use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

use captionfeed::db::notifications::{self, Event, Listener};
use captionfeed::db::{DatabaseUrl, Db};
use diesel::connection::SimpleConnection as _;
use diesel::Connection as _;

use crate::helpers::{postgres_configured, Backend, TestDatabase};

const CHANNEL: &str = "captionfeed_desk";

/// Writes down what it is told, in order.
#[derive(Default)]
struct Recorder(Mutex<Vec<String>>);

impl Listener for Recorder {
    fn event(&self, event: Event<'_>) {
        let line = match event {
            Event::Listening => "listening".to_string(),
            Event::Alive => "alive".to_string(),
            Event::Lost => "lost".to_string(),
            Event::Notified(payload) => format!("notified {payload}"),
        };
        self.0.lock().expect("not poisoned").push(line);
    }
}

impl Recorder {
    fn told(&self) -> Vec<String> {
        self.0.lock().expect("not poisoned").clone()
    }

    /// What it was told, once `done` holds of it or `within` has passed.
    async fn told_once(&self, within: Duration, done: impl Fn(&[String]) -> bool) -> Vec<String> {
        let deadline = Instant::now() + within;
        loop {
            let told = self.told();
            if done(&told) || Instant::now() >= deadline {
                return told;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
}

fn pg_url(database: &TestDatabase) -> String {
    match &database.url {
        DatabaseUrl::Postgres(url) => url.clone(),
        DatabaseUrl::Sqlite(_) => panic!("a PostgreSQL database"),
    }
}

fn run_sql(url: &str, sql: &str) {
    let mut conn = diesel::PgConnection::establish(url).expect("a connection");
    conn.batch_execute(sql).expect("the SQL runs");
}

fn listen(url: &str, senders: &Db, recorder: &Arc<Recorder>) {
    let listener: Weak<dyn Listener> = Arc::downgrade(recorder) as _;
    notifications::spawn(url.to_string(), senders.clone(), CHANNEL, listener)
        .expect("the listener thread starts");
}

fn count(told: &[String], line: &str) -> usize {
    told.iter().filter(|t| *t == line).count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_listener_tells_changes_in_commit_order_and_comes_back_after_a_loss() {
    if !postgres_configured() {
        return;
    }
    let database = TestDatabase::new(Backend::Postgres);
    let url = pg_url(&database);
    let pool = Db::connect(&database.url, 2).expect("the pool opens");
    let recorder = Arc::new(Recorder::default());
    listen(&url, &pool, &recorder);
    let told = recorder
        .told_once(Duration::from_secs(5), |t| count(t, "listening") == 1)
        .await;
    assert_eq!(
        told.last().map(String::as_str),
        Some("listening"),
        "{told:?}"
    );

    // Two transactions; another process's heartbeat in the first is not passed on.
    run_sql(
        &url,
        &format!(
            "BEGIN; NOTIFY {CHANNEL}, 'u:ann'; NOTIFY {CHANNEL}, 'hb:0123456789abcdef'; \
             NOTIFY {CHANNEL}, 's:deadbeef'; COMMIT; NOTIFY {CHANNEL}, 'u:bob'"
        ),
    );
    let told = recorder
        .told_once(Duration::from_secs(5), |t| {
            t.iter().any(|l| l == "notified u:bob")
        })
        .await;
    let after: Vec<&str> = told
        .iter()
        .skip_while(|l| *l != "listening")
        .skip(1)
        .map(String::as_str)
        .collect();
    assert_eq!(
        after,
        ["notified u:ann", "notified s:deadbeef", "notified u:bob"]
    );

    // The connection killed under it: it says so, and listens again.
    run_sql(
        &url,
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
         WHERE application_name = 'captionfeed listener' AND datname = current_database()",
    );
    let told = recorder
        .told_once(Duration::from_secs(5), |t| count(t, "listening") == 2)
        .await;
    let tail: Vec<&str> = told
        .iter()
        .skip_while(|l| *l != "notified u:bob")
        .map(String::as_str)
        .collect();
    assert_eq!(tail, ["notified u:bob", "lost", "listening"], "{told:?}");
}

/// Its heartbeats are written through a pool on another database, as if the service's
/// writes went somewhere the listening connection cannot hear: it must never say it
/// listens (the desk would keep pages no change can reach).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_listener_that_cannot_hear_the_services_writes_never_claims_to_listen() {
    if !postgres_configured() {
        return;
    }
    let heard = TestDatabase::new(Backend::Postgres);
    let elsewhere = TestDatabase::new(Backend::Postgres);
    let pool = Db::connect(&elsewhere.url, 2).expect("the pool opens");
    let recorder = Arc::new(Recorder::default());
    listen(&pg_url(&heard), &pool, &recorder);
    // A heartbeat must come back within 5 s.
    let told = recorder
        .told_once(Duration::from_secs(8), |t| t.iter().any(|l| l == "lost"))
        .await;
    assert_eq!(told, ["lost"]);
}
