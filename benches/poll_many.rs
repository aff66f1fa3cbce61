//! Full poll cycles over many feeds through the real poller and database, served by a
//! real HTTP server on loopback: (a) every feed unchanged, answered 304; (b) every feed
//! with one new post, fetched, parsed, deduplicated, stored and captioned.
//!
//! `cargo bench --bench poll_many` (SQLite; with `CAPTIONFEED_TEST_POSTGRES_URL` set, also
//! PostgreSQL in a database created for the run). `BENCH_FEEDS` sets the number of feeds
//! (10,000 by default); `BENCH_KEEP_DATABASE` keeps the PostgreSQL database afterwards,
//! to look at its plans. The feeds are a mix like the web's: most RSS of 10–30 KB, some
//! of about 200 KB, some Atom and some JSON Feed, spread over 64 loopback addresses so the
//! poller's per-host limit applies as it would to 64 hosts. The server runs in this
//! process and builds each answer when asked, so the peak memory reported is the
//! poller's plus a small server. Prints figures, no verdicts: the machine is shared.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};
use captionfeed::accounts::validate::Email;
use captionfeed::captions::Platform;
use captionfeed::config::Settings;
use captionfeed::db::{AnyConnection, DatabaseUrl, Db, DbError};
use captionfeed::feeds::{parse_feed, FetchOutcome, Fetcher, Validators};
use captionfeed::poller::{PassReport, Poller};
use diesel::connection::SimpleConnection as _;
use diesel::{Connection as _, RunQueryDsl as _};
use futures_util::StreamExt as _;

const HOSTS: u32 = 64;

/// Which kind of document feed `i` is: about 80 % RSS of 10–30 KB, 5 % RSS of about
/// 200 KB, 10 % Atom, 5 % JSON Feed.
enum Kind {
    Rss { entries: usize, paragraphs: usize },
    Atom,
    Json,
}

fn kind(i: usize) -> Kind {
    match i % 20 {
        0 => Kind::Rss {
            entries: 40,
            paragraphs: 12,
        },
        1 | 2 => Kind::Atom,
        3 => Kind::Json,
        n => Kind::Rss {
            // 10 to 30 entries of about 1 KB: 10–30 KB documents, 20 KB on average.
            entries: 10 + (n * 7 + i) % 21,
            paragraphs: 2,
        },
    }
}

const PARAGRAPH: &str = "<p>A paragraph of the post with <a href=\"/x\">a link</a>, some <em>emphasis</em> and enough words to look like prose about feeds.</p>";

/// The document feed `i` serves at `version`: its newest post is number `version`.
fn document(i: usize, version: u64) -> (String, &'static str) {
    let newest = version as usize;
    match kind(i) {
        Kind::Rss {
            entries,
            paragraphs,
        } => {
            let mut xml = format!(
                r#"<?xml version="1.0" encoding="UTF-8"?><rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/"><channel><title>Blog {i}</title><link>https://blog{i}.example/</link><description>Posts</description>"#
            );
            for n in (newest.saturating_sub(entries)..=newest).rev() {
                xml.push_str(&format!(
                    "<item><guid>f{i}-p{n}</guid><title>Post {n} of blog {i} about feeds and captions</title><link>https://blog{i}.example/{n}</link>\
                     <description>A summary of post {n}, two sentences long. It says what the post is about.</description>\
                     <content:encoded><![CDATA[{}]]></content:encoded><category>Rust</category><category>Web feeds</category>\
                     <pubDate>Mon, 16 Nov 2026 10:00:00 +0000</pubDate></item>",
                    PARAGRAPH.repeat(paragraphs)
                ));
            }
            xml.push_str("</channel></rss>");
            (xml, "application/rss+xml")
        }
        Kind::Atom => {
            let mut xml = format!(
                r#"<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom"><title>Blog {i}</title><id>urn:blog:{i}</id><updated>2026-11-16T10:00:00Z</updated><link href="https://blog{i}.example/"/>"#
            );
            for n in (newest.saturating_sub(15)..=newest).rev() {
                xml.push_str(&format!(
                    "<entry><id>urn:blog:{i}:{n}</id><title>Post {n} of blog {i}</title><link href=\"https://blog{i}.example/{n}\"/>\
                     <updated>2026-11-16T10:00:00Z</updated><summary>Summary of post {n}.</summary>\
                     <content type=\"html\">{}</content><category term=\"atom\"/></entry>",
                    html_escape(&PARAGRAPH.repeat(2))
                ));
            }
            xml.push_str("</feed>");
            (xml, "application/atom+xml")
        }
        Kind::Json => {
            let items: Vec<serde_json::Value> = (newest.saturating_sub(15)..=newest)
                .rev()
                .map(|n| {
                    serde_json::json!({
                        "id": format!("f{i}-p{n}"),
                        "url": format!("https://blog{i}.example/{n}"),
                        "title": format!("Post {n} of blog {i}"),
                        "content_html": PARAGRAPH.repeat(2),
                        "date_published": "2026-11-16T10:00:00Z",
                        "tags": ["json", "feeds"],
                    })
                })
                .collect();
            let doc = serde_json::json!({
                "version": "https://jsonfeed.org/version/1.1",
                "title": format!("Blog {i}"),
                "home_page_url": format!("https://blog{i}.example/"),
                "items": items,
            });
            (doc.to_string(), "application/feed+json")
        }
    }
}

fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// Every feed's current version; a cycle with new posts bumps it.
struct Served {
    version: AtomicU64,
    requests: AtomicU64,
    not_modified: AtomicU64,
}

async fn answer(
    req: HttpRequest,
    path: web::Path<usize>,
    served: web::Data<Served>,
) -> HttpResponse {
    let i = path.into_inner();
    let version = served.version.load(Ordering::SeqCst);
    served.requests.fetch_add(1, Ordering::Relaxed);
    let etag = format!("\"{i}-{version}\"");
    let asked = req
        .headers()
        .get("if-none-match")
        .and_then(|v| v.to_str().ok());
    if asked == Some(etag.as_str()) {
        served.not_modified.fetch_add(1, Ordering::Relaxed);
        return HttpResponse::NotModified()
            .insert_header(("etag", etag))
            .finish();
    }
    let (body, content_type) = document(i, version);
    HttpResponse::Ok()
        .insert_header(("etag", etag))
        .content_type(content_type)
        .body(body)
}

/// Serves the feeds on 127.0.0.1–127.0.0.64, one port; returns the port.
async fn serve(served: web::Data<Served>) -> u16 {
    let first = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = first.local_addr().expect("addr").port();
    let mut server = HttpServer::new(move || {
        App::new()
            .app_data(served.clone())
            .route("/f/{i}", web::get().to(answer))
    })
    // One worker: the server shares the two cores with the poller and the database.
    .workers(1)
    .listen(first)
    .expect("listen");
    for host in 2..=HOSTS {
        server = server
            .bind(("127.0.0.".to_owned() + &host.to_string(), port))
            .expect("bind another loopback address");
    }
    tokio::spawn(server.run());
    port
}

fn feed_url(i: usize, port: u16) -> String {
    format!("http://127.0.0.{}:{port}/f/{i}", 1 + (i as u32 % HOSTS))
}

fn peak_rss_mib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1).and_then(|n| n.parse().ok()))
        })
        .map_or(0, |kib: u64| kib / 1024)
}

#[derive(diesel::QueryableByName)]
struct Size {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    bytes: i64,
}

/// The database's size on disk: the SQLite file with its write-ahead log, or what
/// PostgreSQL reports for the database.
async fn database_bytes(db: &Db, sqlite_file: Option<&std::path::Path>) -> u64 {
    if let Some(file) = sqlite_file {
        let wal = file.with_extension("db-wal");
        return [file.to_path_buf(), wal]
            .iter()
            .filter_map(|p| std::fs::metadata(p).ok())
            .map(|m| m.len())
            .sum();
    }
    db.run(|conn| {
        diesel::sql_query("SELECT pg_database_size(current_database()) AS bytes")
            .get_result::<Size>(conn)
            .map_err(DbError::from)
    })
    .await
    .map_or(0, |s| u64::try_from(s.bytes).unwrap_or(0))
}

async fn make_all_due(db: &Db) {
    db.run(|conn| {
        diesel::sql_query("UPDATE feeds SET next_check_at = '2000-01-01 00:00:00'")
            .execute(conn)
            .map_err(DbError::from)
    })
    .await
    .expect("make due");
}

/// Runs passes until nothing is due; returns the summed report and the time taken.
async fn cycle(poller: &Poller) -> (PassReport, Duration) {
    let started = Instant::now();
    let mut total = PassReport::default();
    loop {
        let report = poller.run_once().await.expect("poll pass");
        if report.feeds_claimed() == 0 {
            break;
        }
        total.feeds_checked += report.feeds_checked;
        total.feeds_failed += report.feeds_failed;
        total.new_posts += report.new_posts;
        total.captions_written += report.captions_written;
        total.feed_latencies.extend(report.feed_latencies);
    }
    (total, started.elapsed())
}

/// Fetches every URL, 32 at a time like the poller, with the validators the server
/// hands out (so unchanged feeds answer 304) unless `parse` asks for whole documents,
/// which are then parsed. Returns feeds per second and how many answered 304.
async fn reference(fetcher: &Fetcher, urls: &[String], parse: bool) -> (f64, usize) {
    let started = Instant::now();
    let not_modified: usize = futures_util::stream::iter(urls)
        .map(|url| async move {
            let validators = if parse {
                Validators::default()
            } else {
                // The ETag of the current version, as the poller has stored it.
                let i: usize = url
                    .rsplit('/')
                    .next()
                    .and_then(|i| i.parse().ok())
                    .unwrap_or(0);
                Validators {
                    etag: Some(format!("\"{i}-3\"")),
                    last_modified: None,
                }
            };
            match fetcher.fetch(url, &validators).await {
                Ok(FetchOutcome::Fetched {
                    body, final_url, ..
                }) => {
                    let parsed = tokio::task::spawn_blocking(move || {
                        parse_feed(&body, Some(&final_url)).is_ok()
                    })
                    .await;
                    assert!(matches!(parsed, Ok(true)), "reference parse");
                    0
                }
                Ok(FetchOutcome::NotModified) => 1,
                Err(e) => panic!("reference fetch of {url}: {e}"),
            }
        })
        .buffer_unordered(32)
        .collect::<Vec<usize>>()
        .await
        .into_iter()
        .sum();
    (
        urls.len() as f64 / started.elapsed().as_secs_f64(),
        not_modified,
    )
}

fn p99(latencies: &mut [Duration]) -> Duration {
    latencies.sort();
    let at = (latencies.len() * 99 / 100).min(latencies.len().saturating_sub(1));
    latencies.get(at).copied().unwrap_or_default()
}

async fn bench(label: &str, url: DatabaseUrl, sqlite_file: Option<&std::path::Path>, n: usize) {
    let served = web::Data::new(Served {
        version: AtomicU64::new(3),
        requests: AtomicU64::new(0),
        not_modified: AtomicU64::new(0),
    });
    let port = serve(served.clone()).await;
    let mut settings = Settings::from_vars(Vec::new()).expect("defaults");
    settings.database_url = url;
    settings.allow_private_networks = true;
    let db = captionfeed::cli::open_database(&settings)
        .await
        .expect("database");
    let fetcher = captionfeed::cli::fetcher(&settings).expect("fetcher");
    let poller = Poller::new(db.clone(), fetcher.clone(), Duration::from_secs(3600));
    db.transaction(move |conn: &mut AnyConnection| {
        let email = Email::parse("bench@example.com").expect("email");
        let user = captionfeed::accounts::users::create(conn, &email, "x")
            .map_err(|e| DbError::Pool(e.to_string()))?;
        for i in 0..n {
            captionfeed::subscriptions::subscribe(
                conn,
                &user.user_id(),
                &feed_url(i, port),
                &Platform::ALL,
                1,
            )
            .map_err(|e| DbError::Pool(e.to_string()))?;
        }
        Ok::<_, DbError>(())
    })
    .await
    .expect("subscribe");
    // A running service's tables have planner statistics (autovacuum keeps them); fresh
    // from one bulk insert they have none, and PostgreSQL would plan the claim as if
    // the feeds table were nearly empty.
    db.run(|conn| {
        diesel::sql_query("ANALYZE")
            .execute(conn)
            .map_err(DbError::from)
    })
    .await
    .expect("analyze");

    println!("{label}: {n} feeds over {HOSTS} loopback hosts");
    let report_cycle = |name: &str, (mut report, took): (PassReport, Duration), grew: i64| {
        println!(
            "  {name:<34} {:>6} feeds in {:>7.2} s = {:>7.0} feeds/s, p99 per feed {:>7.1} ms, \
             {} new posts, {} captions, failed {}, database +{:.1} MiB, peak RSS {} MiB",
            report.feeds_checked,
            took.as_secs_f64(),
            report.feeds_checked as f64 / took.as_secs_f64(),
            p99(&mut report.feed_latencies).as_secs_f64() * 1000.0,
            report.new_posts,
            report.captions_written,
            report.feeds_failed,
            grew as f64 / (1024.0 * 1024.0),
            peak_rss_mib(),
        );
    };
    let mut size = database_bytes(&db, sqlite_file).await;
    let mut growth = |now: u64| {
        let grew = now as i64 - size as i64;
        size = now;
        grew
    };

    // The reference, in the same run: the same feeds fetched (and parsed) by the same
    // client with the same concurrency, nothing stored.
    let urls: Vec<String> = (0..n).map(|i| feed_url(i, port)).collect();
    let (rate, _) = reference(&fetcher, &urls, true).await;
    println!("  reference: fetch+parse, no database  {rate:>7.0} feeds/s");

    let first = cycle(&poller).await;
    let grew = growth(database_bytes(&db, sqlite_file).await);
    report_cycle("first poll (backfill 1 post)", first, grew);

    let (rate, not_modified) = reference(&fetcher, &urls, false).await;
    println!(
        "  reference: conditional fetch only    {rate:>7.0} feeds/s ({not_modified} answered 304)"
    );
    make_all_due(&db).await;
    let before = served.not_modified.load(Ordering::SeqCst);
    let unchanged = cycle(&poller).await;
    let grew = growth(database_bytes(&db, sqlite_file).await);
    let answered_304 = served.not_modified.load(Ordering::SeqCst) - before;
    report_cycle("(a) all unchanged (304)", unchanged, grew);
    println!("      the server answered 304 {answered_304} times");

    served.version.fetch_add(1, Ordering::SeqCst);
    make_all_due(&db).await;
    let one_new = cycle(&poller).await;
    let grew = growth(database_bytes(&db, sqlite_file).await);
    report_cycle("(b) one new post each", one_new, grew);
}

#[tokio::main]
async fn main() {
    let n: usize = std::env::var("BENCH_FEEDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000);
    let only_postgres = std::env::var("BENCH_ONLY_POSTGRES").is_ok();
    if !only_postgres {
        let dir = tempfile::tempdir().expect("temp dir");
        let file = dir.path().join("bench.db");
        bench(
            "sqlite",
            DatabaseUrl::Sqlite(file.display().to_string()),
            Some(&file),
            n,
        )
        .await;
    }
    if let Ok(base) = std::env::var("CAPTIONFEED_TEST_POSTGRES_URL") {
        let name = format!("cf_bench_many_{}", std::process::id());
        let mut admin = diesel::PgConnection::establish(&base).expect("PostgreSQL answers");
        admin
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .expect("create");
        let mut url = url::Url::parse(&base).expect("url");
        url.set_path(&name);
        bench("postgres", DatabaseUrl::Postgres(url.to_string()), None, n).await;
        if std::env::var("BENCH_KEEP_DATABASE").is_ok() {
            println!("  kept the database {name} for inspection");
        } else {
            let _ = admin.batch_execute(&format!("DROP DATABASE {name} WITH (FORCE)"));
        }
    }
}
