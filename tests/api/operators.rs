//! What operators rely on: readiness, Prometheus metrics, a clean stop.

use crate::helpers::{rss, spawn_app, Backend, FeedServer, TestApp};
use crate::on_both_backends;

const RSS: &str = "application/rss+xml";

async fn readyz_answers_when_the_database_does(backend: Backend) {
    let app = spawn_app(backend).await;
    let response = app.get("/readyz").await;
    assert_eq!(response.status().as_u16(), 200);
}
on_both_backends!(readyz_answers_when_the_database_does);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readyz_fails_when_the_database_is_gone() {
    if !crate::helpers::postgres_configured() {
        return;
    }
    let app = spawn_app(Backend::Postgres).await;
    assert_eq!(app.get("/readyz").await.status().as_u16(), 200);
    app.drop_postgres_database();
    let started = std::time::Instant::now();
    let response = app.get("/readyz").await;
    assert_eq!(response.status().as_u16(), 503);
    assert!(
        started.elapsed() < std::time::Duration::from_secs(5),
        "answers quickly"
    );
    let body: serde_json::Value = response.json().await.expect("json");
    assert_eq!(body["error"]["code"], "database_unavailable");
}

fn metric(text: &str, name: &str) -> f64 {
    text.lines()
        .find(|l| l.starts_with(name) && l[name.len()..].starts_with(' '))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("{name} missing from:\n{text}"))
}

async fn metrics_count_fetches_posts_captions_and_queue_lag(backend: Backend) {
    let feeds = FeedServer::start().await;
    let app = spawn_app(backend).await;
    app.sign_up("ann@example.com").await;
    let url = feeds.set("/feed.xml", RSS, rss("Blog", &[("a", "A"), ("b", "B")]));
    app.add_feed(&url).await;
    let broken = feeds.set("/broken.xml", RSS, rss("Broken", &[("c", "C")]));
    app.add_feed(&broken).await;
    let not_a_feed = feeds.set("/page.xml", RSS, rss("Page", &[("d", "D")]));
    app.add_feed(&not_a_feed).await;
    // Both break once followed: an address without a feed is refused when added.
    feeds.set_status("/broken.xml", 404, "text/plain", "no");
    feeds.set("/page.xml", RSS, "<html>not a feed</html>");
    app.poll().await;

    let response = app.get("/metrics").await;
    assert_eq!(response.status().as_u16(), 200);
    assert!(response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/plain")));
    let text = response.text().await.expect("body");
    assert!(metric(&text, "captionfeed_fetches_total{outcome=\"200\"}") >= 1.0);
    assert!(metric(&text, "captionfeed_fetches_total{outcome=\"http_404\"}") >= 1.0);
    assert!(metric(&text, "captionfeed_fetches_total{outcome=\"parse_error\"}") >= 1.0);
    assert!(metric(&text, "captionfeed_fetch_duration_seconds_count") >= 3.0);
    assert!(metric(&text, "captionfeed_posts_found_total") >= 2.0);
    assert!(metric(&text, "captionfeed_captions_made_total") >= 14.0);
    assert_eq!(metric(&text, "captionfeed_queue_lag_seconds"), 0.0);

    // A feed overdue since long ago shows up as queue lag.
    app.sql("UPDATE feeds SET next_check_at = '2026-01-01 00:00:00'")
        .await;
    let text = app.get("/metrics").await.text().await.expect("body");
    assert!(
        metric(&text, "captionfeed_queue_lag_seconds") > 3600.0,
        "{text}"
    );
}
on_both_backends!(metrics_count_fetches_posts_captions_and_queue_lag);

async fn leased(app: &TestApp) -> usize {
    app.feed_rows()
        .await
        .iter()
        .filter(|f| f.lease_until.is_some())
        .count()
}

async fn stopping_finishes_fetches_under_way_and_gives_back_the_rest(backend: Backend) {
    let feeds = FeedServer::start().await;
    let app = spawn_app(backend).await;
    app.sign_up("ann@example.com").await;
    let n = 8;
    for i in 0..n {
        let url = feeds.set(&format!("/feed{i}.xml"), RSS, rss("Blog", &[("a", "A")]));
        app.add_feed(&url).await;
    }
    feeds.clear_hits();
    feeds.set_delay(std::time::Duration::from_millis(400));
    let worker = app.another_replica();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let running = tokio::spawn(worker.run_until_stopped(async move {
        let _ = stopped.await;
    }));
    tokio::time::sleep(std::time::Duration::from_millis(150)).await;
    let _ = stop.send(());
    tokio::time::timeout(std::time::Duration::from_secs(10), running)
        .await
        .expect("the poller stops")
        .expect("cleanly");

    let rows = app.feed_rows().await;
    let fetched: usize = (0..n).map(|i| feeds.hits(&format!("/feed{i}.xml"))).sum();
    let recorded = rows.iter().filter(|f| f.last_checked_at.is_some()).count();
    assert_eq!(
        fetched, 2,
        "the two requests under way (two per host) finished"
    );
    assert_eq!(recorded, fetched, "and were recorded");
    assert_eq!(leased(&app).await, 0, "no lease is left behind");

    // Another replica takes the rest at once, without waiting for leases to expire.
    feeds.set_delay(std::time::Duration::ZERO);
    let report = app.another_replica().run_once().await.expect("pass");
    assert_eq!(report.feeds_checked, n - fetched);
}
on_both_backends!(stopping_finishes_fetches_under_way_and_gives_back_the_rest);

/// The series names in a file: every `captionfeed_…` word.
fn series_named_in(path: &str) -> Vec<String> {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let mut names = Vec::new();
    let mut rest = text.as_str();
    while let Some(at) = rest.find("captionfeed_") {
        let word: String = rest[at..]
            .chars()
            .take_while(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '_')
            .collect();
        rest = &rest[at + word.len()..];
        if !names.contains(&word) {
            names.push(word);
        }
    }
    names
}

async fn every_series_the_alert_rules_and_dashboard_name_is_served(backend: Backend) {
    let feeds = FeedServer::start().await;
    let app = spawn_app(backend).await;
    app.sign_up("ann@example.com").await;
    app.add_feed(&feeds.set("/feed.xml", RSS, rss("Blog", &[("a", "A")])))
        .await;
    app.poll().await;
    let served = app.get("/metrics").await.text().await.expect("body");
    let served_names: Vec<&str> = served
        .lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| l.split(['{', ' ']).next())
        .collect();
    for file in ["docs/ops/alerts.yml", "docs/ops/grafana-dashboard.json"] {
        let named = series_named_in(file);
        assert!(named.len() >= 5, "{file} names {named:?}");
        for name in named {
            assert!(
                served_names.contains(&name.as_str()),
                "{file} names {name}, which /metrics does not serve:\n{served}"
            );
        }
    }
    // Besides these, the rules use only `up`, which Prometheus itself records per target.
    let rules = std::fs::read_to_string("docs/ops/alerts.yml").expect("rules");
    assert!(rules.contains("up{job=\"captionfeed\"} == 0"));
}
on_both_backends!(every_series_the_alert_rules_and_dashboard_name_is_served);

async fn the_backlog_series_count_mail_webhooks_and_failing_feeds(backend: Backend) {
    let feeds = FeedServer::start().await;
    let app = spawn_app(backend).await;
    app.sign_up("ann@example.com").await;
    let broken = feeds.set_status("/broken.xml", 500, "text/plain", "no");
    app.add_feed(&broken).await;
    app.poll().await;
    // The sign-up's verification mail, as if it had failed once and waited an hour.
    let hour_ago = (chrono::Utc::now() - chrono::Duration::hours(1))
        .format("%Y-%m-%d %H:%M:%S")
        .to_string();
    app.sql(&format!(
        "UPDATE outgoing_mail SET sent_at = NULL, last_error = 'connection refused', \
         attempts = 1, created_at = '{hour_ago}'"
    ))
    .await;
    let text = app.get("/metrics").await.text().await.expect("body");
    assert_eq!(
        metric(&text, "captionfeed_mail_outbox_waiting"),
        1.0,
        "{text}"
    );
    assert_eq!(metric(&text, "captionfeed_mail_outbox_failing"), 1.0);
    assert!(metric(&text, "captionfeed_mail_outbox_oldest_seconds") >= 3600.0);
    assert_eq!(metric(&text, "captionfeed_feeds_failing"), 1.0);
    assert_eq!(metric(&text, "captionfeed_webhook_deliveries_failing"), 0.0);
}
on_both_backends!(the_backlog_series_count_mail_webhooks_and_failing_feeds);
