//! How long one poll of one feed takes, and how much memory, against a reference
//! measured in the same run: fetching and parsing the same feed without storing anything.
//!
//! `cargo bench --bench poll` (SQLite); with `CAPTIONFEED_TEST_POSTGRES_URL` set, also
//! PostgreSQL (a database is created and dropped). Prints means and ratios, no verdicts:
//! the machines are shared, so only ratios within one run mean much.

use std::time::{Duration, Instant};

use captionfeed::accounts::validate::Email;
use captionfeed::captions::Platform;
use captionfeed::config::Settings;
use captionfeed::db::{AnyConnection, DatabaseUrl, DbError};
use captionfeed::feeds::{parse_feed, FetchOutcome, Validators};
use captionfeed::poller::Poller;
use diesel::connection::SimpleConnection as _;
use diesel::Connection as _;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

const ENTRIES: usize = 50;
const ROUNDS: u32 = 30;

fn feed(round: usize) -> String {
    let mut xml = String::from(
        r#"<?xml version="1.0" encoding="UTF-8"?><rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/"><channel><title>Bench blog</title><link>https://blog.example/</link><description>d</description>"#,
    );
    for i in 0..ENTRIES {
        let n = round * 1000 + i;
        xml.push_str(&format!(
            "<item><guid>post-{n}</guid><title>Post number {n} about feeds and captions</title><link>https://blog.example/{n}</link>\
             <description>A summary of post {n}, two sentences long. It says what the post is about.</description>\
             <content:encoded><![CDATA[{}]]></content:encoded><category>Rust</category><category>Web feeds</category>\
             <pubDate>Mon, 16 Nov 2026 10:00:00 +0000</pubDate></item>",
            "<p>A paragraph of the post with <a href=\"/x\">a link</a> and <em>emphasis</em>.</p>".repeat(20)
        ));
    }
    xml.push_str("</channel></rss>");
    xml
}

/// A minimal HTTP/1.1 server on loopback that always answers with the current body.
async fn serve(body: std::sync::Arc<std::sync::Mutex<String>>) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        loop {
            let Ok((mut socket, _)) = listener.accept().await else {
                continue;
            };
            let body = body.lock().expect("body").clone();
            tokio::spawn(async move {
                let mut buf = [0u8; 4096];
                let _ = socket.read(&mut buf).await;
                let head = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: application/rss+xml\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                    body.len()
                );
                let _ = socket.write_all(head.as_bytes()).await;
                let _ = socket.write_all(body.as_bytes()).await;
            });
        }
    });
    format!("http://{addr}/feed.xml")
}

fn peak_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .map(str::to_owned)
        })
        .and_then(|l| l.split_whitespace().nth(1).and_then(|n| n.parse().ok()))
        .unwrap_or(0)
}

fn mean(samples: &[Duration]) -> f64 {
    samples.iter().map(Duration::as_secs_f64).sum::<f64>() / samples.len() as f64 * 1000.0
}

async fn bench(label: &str, url: DatabaseUrl) {
    let body = std::sync::Arc::new(std::sync::Mutex::new(feed(0)));
    let feed_url = serve(body.clone()).await;
    let mut settings = Settings::from_vars(Vec::new()).expect("defaults");
    settings.database_url = url;
    settings.allow_private_networks = true;
    let db = captionfeed::cli::open_database(&settings)
        .await
        .expect("database");
    let fetcher = captionfeed::cli::fetcher(&settings).expect("fetcher");
    let poller = Poller::new(db.clone(), fetcher.clone(), Duration::from_secs(3600));
    let u = feed_url.clone();
    let feed_id = db
        .run(move |conn: &mut AnyConnection| {
            let email = Email::parse("bench@example.com").expect("email");
            let user = captionfeed::accounts::users::create(conn, &email, "x")
                .map_err(|e| DbError::Pool(e.to_string()))?;
            let sub =
                captionfeed::subscriptions::subscribe(conn, &user.user_id(), &u, &Platform::ALL, 3)
                    .map_err(|e| DbError::Pool(e.to_string()))?;
            Ok::<_, DbError>(sub.feed_id)
        })
        .await
        .expect("subscribe");

    let make_due = |db: captionfeed::db::Db, id: captionfeed::feeds::FeedId| async move {
        db.run(move |conn| {
            captionfeed::feeds::store::make_feed_due_now(conn, &id).map_err(DbError::from)
        })
        .await
        .expect("due")
    };

    // Reference: fetch and parse only.
    let mut reference = Vec::new();
    for _ in 0..ROUNDS {
        let start = Instant::now();
        if let FetchOutcome::Fetched {
            body, final_url, ..
        } = fetcher
            .fetch(&feed_url, &Validators::default())
            .await
            .expect("fetch")
        {
            parse_feed(&body, Some(&final_url)).expect("parse");
        }
        reference.push(start.elapsed());
    }
    // Unchanged feed: fetch, parse, 50 entries found already stored.
    let mut first = Duration::ZERO;
    let mut unchanged = Vec::new();
    for round in 0..=ROUNDS {
        make_due(db.clone(), feed_id.clone()).await;
        let start = Instant::now();
        let report = poller.run_once().await.expect("poll");
        let took = start.elapsed();
        assert_eq!(report.feeds_checked, 1);
        if round == 0 {
            first = took;
        } else {
            unchanged.push(took);
        }
    }
    // Every entry new: 50 posts stored, 50 × 7 captions written.
    let mut all_new = Vec::new();
    for round in 1..=ROUNDS as usize {
        *body.lock().expect("body") = feed(round);
        make_due(db.clone(), feed_id.clone()).await;
        let start = Instant::now();
        let report = poller.run_once().await.expect("poll");
        all_new.push(start.elapsed());
        assert_eq!(report.new_posts, ENTRIES);
        assert_eq!(report.captions_written, ENTRIES * 7);
    }
    let r = mean(&reference);
    println!(
        "{label}: feed of {ENTRIES} entries ({} KiB), {ROUNDS} rounds each",
        feed(0).len() / 1024
    );
    println!("  reference fetch+parse        {r:8.2} ms  1.00x");
    println!(
        "  first poll (backfill 3)      {:8.2} ms  {:.2}x",
        first.as_secs_f64() * 1000.0,
        first.as_secs_f64() * 1000.0 / r
    );
    println!(
        "  poll, nothing new            {:8.2} ms  {:.2}x",
        mean(&unchanged),
        mean(&unchanged) / r
    );
    println!(
        "  poll, 50 new posts, 350 caps {:8.2} ms  {:.2}x",
        mean(&all_new),
        mean(&all_new) / r
    );
    println!(
        "  peak RSS of the process so far: {} MiB",
        peak_rss_kib() / 1024
    );
}

#[tokio::main]
async fn main() {
    let dir = tempfile::tempdir().expect("temp dir");
    bench(
        "sqlite",
        DatabaseUrl::Sqlite(dir.path().join("bench.db").display().to_string()),
    )
    .await;
    if let Ok(base) = std::env::var("CAPTIONFEED_TEST_POSTGRES_URL") {
        let name = format!("cf_bench_{}", std::process::id());
        let mut admin = diesel::PgConnection::establish(&base).expect("PostgreSQL answers");
        admin
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .expect("create");
        let mut url = url::Url::parse(&base).expect("url");
        url.set_path(&name);
        bench("postgres", DatabaseUrl::Postgres(url.to_string())).await;
        let _ = admin.batch_execute(&format!("DROP DATABASE {name} WITH (FORCE)"));
    }
}
