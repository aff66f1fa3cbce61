//! The poller as a good citizen: it waits as long as a feed asks, backs off on errors and
//! says so, stops at 410 Gone, follows permanent moves only when they are consistent, and
//! a 304 changes nothing but the check times.

use chrono::Utc;

use crate::helpers::{rss, rss_with, spawn_app, Backend, FeedServer, TestApp};
use crate::on_both_backends;

const RSS: &str = "application/rss+xml";

fn two_posts() -> String {
    rss("Ann's blog", &[("p2", "Second post"), ("p1", "First post")])
}

/// Seconds from now until the only feed's next check.
async fn next_check_in(app: &TestApp) -> i64 {
    let feed = app.feed_rows().await.remove(0);
    (feed.next_check_at - Utc::now().naive_utc()).num_seconds()
}

async fn a_feed_asking_to_be_cached_longer_is_checked_later(backend: Backend) {
    let feeds = FeedServer::start().await;
    let app = spawn_app(backend).await; // 30 minute interval
    app.sign_up("ann@example.com").await;
    let url = feeds.respond(
        "/feed.xml",
        200,
        &[
            ("content-type", RSS),
            ("cache-control", "public, max-age=7200"),
        ],
        two_posts(),
    );
    app.add_feed(&url).await;
    app.poll().await;
    let wait = next_check_in(&app).await;
    assert!((7100..=7200 * 11 / 10).contains(&wait), "{wait}");

    // RSS <ttl> (minutes) is a wish too; a week is capped at a day.
    feeds.respond(
        "/feed.xml",
        200,
        &[("content-type", RSS)],
        rss_with("Ann's blog", "<ttl>10080</ttl>", &[("p1", "First post")]),
    );
    app.make_all_due().await;
    app.poll().await;
    let wait = next_check_in(&app).await;
    assert!((86300..=86400 * 11 / 10).contains(&wait), "{wait}");

    // Asking for less than the interval changes nothing.
    feeds.respond(
        "/feed.xml",
        200,
        &[("content-type", RSS), ("cache-control", "max-age=5")],
        two_posts(),
    );
    app.make_all_due().await;
    app.poll().await;
    let wait = next_check_in(&app).await;
    assert!((1700..=1800 * 11 / 10).contains(&wait), "{wait}");
}
on_both_backends!(a_feed_asking_to_be_cached_longer_is_checked_later);

async fn errors_back_off_show_their_state_and_a_success_clears_it(backend: Backend) {
    let feeds = FeedServer::start().await;
    let app = spawn_app(backend).await;
    app.sign_up("ann@example.com").await;
    let url = feeds.set("/feed.xml", RSS, two_posts());
    let page = app.add_feed(&url).await;
    app.poll().await;

    feeds.respond(
        "/feed.xml",
        503,
        &[("content-type", "text/plain"), ("retry-after", "7200")],
        "down for maintenance",
    );
    app.make_all_due().await;
    let report = app.poll().await;
    assert_eq!(report.feeds_failed, 1);
    // Retry-After (2 h) is longer than the first backoff (the 30 min interval).
    let wait = next_check_in(&app).await;
    assert!((7100..=7920).contains(&wait), "{wait}");
    let html = app.get_html(&page).await;
    assert!(html.contains("Erroring since"), "{html}");
    assert!(html.contains("next try"), "{html}");
    assert!(html.contains("HTTP 503"), "{html}");
    let list = app.get_html("/feeds").await;
    assert!(list.contains("Erroring since"), "{list}");
    let first_error = app.feed_rows().await.remove(0).erroring_since;
    assert!(first_error.is_some());

    // Without Retry-After, the second error in a row waits twice the interval.
    feeds.set_status("/feed.xml", 500, "text/plain", "oops");
    app.make_all_due().await;
    app.poll().await;
    let wait = next_check_in(&app).await;
    assert!((3500..=3600 * 11 / 10).contains(&wait), "{wait}");
    let feed = app.feed_rows().await.remove(0);
    assert_eq!(feed.error_count, 2);
    assert_eq!(
        feed.erroring_since, first_error,
        "the run of errors keeps its start"
    );
    assert_eq!(feed.last_status, Some(500));

    feeds.set("/feed.xml", RSS, two_posts());
    app.make_all_due().await;
    let report = app.poll().await;
    assert_eq!(report.feeds_failed, 0);
    let html = app.get_html(&page).await;
    assert!(!html.contains("Erroring since"), "{html}");
    assert!(!html.contains("Last error"), "{html}");
    let feed = app.feed_rows().await.remove(0);
    assert_eq!((feed.error_count, feed.erroring_since), (0, None));
    assert_eq!(feed.last_status, Some(200));
}
on_both_backends!(errors_back_off_show_their_state_and_a_success_clears_it);

async fn a_gone_feed_is_never_polled_again(backend: Backend) {
    let feeds = FeedServer::start().await;
    let app = spawn_app(backend).await;
    app.sign_up("ann@example.com").await;
    let url = feeds.set("/feed.xml", RSS, two_posts());
    let page = app.add_feed(&url).await;
    app.poll().await;

    feeds.set_status("/feed.xml", 410, "text/plain", "gone");
    app.make_all_due().await;
    app.poll().await;
    assert_eq!(
        feeds.hits("/feed.xml"),
        3,
        "looked at when added, then two checks"
    );
    let html = app.get_html(&page).await;
    assert!(html.contains("This feed is gone"), "{html}");
    assert!(html.contains("no longer checked"), "{html}");
    assert!(
        html.contains("Posts stored</dt><dd>2"),
        "the posts stay: {html}"
    );

    app.make_all_due().await;
    assert_eq!(app.poll().await.feeds_checked, 0);
    assert_eq!(feeds.hits("/feed.xml"), 3);
}
on_both_backends!(a_gone_feed_is_never_polled_again);

async fn not_modified_writes_nothing_but_check_times(backend: Backend) {
    let feeds = FeedServer::start().await;
    let app = spawn_app(backend).await;
    app.sign_up("ann@example.com").await;
    let url = feeds.respond(
        "/feed.xml",
        200,
        &[
            ("content-type", RSS),
            ("etag", "\"v1\""),
            ("last-modified", "Mon, 23 Nov 2026 10:00:00 GMT"),
        ],
        two_posts(),
    );
    app.add_feed(&url).await;
    app.poll().await;
    app.make_all_due().await;
    let before = app.feed_rows().await.remove(0);
    let report = app.poll().await;
    assert_eq!((report.feeds_checked, report.new_posts), (1, 0));
    let after = app.feed_rows().await.remove(0);
    assert_eq!(after.last_status, Some(304));
    assert!(after.last_checked_at > before.last_checked_at);
    assert!(after.next_check_at > before.next_check_at);
    // Everything else is as it was.
    let same = |f: &captionfeed::feeds::store::Feed| {
        (
            f.url.clone(),
            f.title.clone(),
            f.etag.clone(),
            f.last_modified.clone(),
            f.error_count,
            f.last_error.clone(),
            f.redirect_to.clone(),
        )
    };
    assert_eq!(same(&after), same(&before));
    assert_eq!(after.etag.as_deref(), Some("\"v1\""));
}
on_both_backends!(not_modified_writes_nothing_but_check_times);

async fn temporary_redirects_never_move_a_feed(backend: Backend) {
    let feeds = FeedServer::start().await;
    let app = spawn_app(backend).await;
    app.sign_up("ann@example.com").await;
    let target = feeds.set("/new.xml", RSS, two_posts());
    let url = feeds.respond("/old.xml", 302, &[("location", &target)], "");
    app.add_feed(&url).await;
    for _ in 0..4 {
        app.sql("UPDATE feeds SET redirect_first_seen_at = '2020-01-01 00:00:00'")
            .await;
        app.make_all_due().await;
        assert_eq!(app.poll().await.feeds_failed, 0);
    }
    assert_eq!(app.feed_rows().await[0].url, url);
}
on_both_backends!(temporary_redirects_never_move_a_feed);

async fn a_permanent_redirect_seen_over_days_moves_the_feed(backend: Backend) {
    let feeds = FeedServer::start().await;
    let app = spawn_app(backend).await;
    app.sign_up("ann@example.com").await;
    let target = feeds.set("/new.xml", RSS, two_posts());
    let url = feeds.respond("/old.xml", 301, &[("location", &target)], "");
    let page = app.add_feed(&url).await;
    app.poll().await;
    app.make_all_due().await;
    app.poll().await;
    // Seen twice within seconds: still watched, not moved.
    let feed = app.feed_rows().await.remove(0);
    assert_eq!(feed.url, url);
    assert_eq!(
        (feed.redirect_to.as_deref(), feed.redirect_count),
        (Some(target.as_str()), 2)
    );

    // The third sighting, a day after the first, moves it.
    app.sql("UPDATE feeds SET redirect_first_seen_at = '2020-01-01 00:00:00'")
        .await;
    app.make_all_due().await;
    app.poll().await;
    let feed = app.feed_rows().await.remove(0);
    assert_eq!(feed.url, target);
    assert_eq!(feed.redirect_to, None);
    let html = app.get_html(&page).await;
    assert!(html.contains("/new.xml"), "{html}");
}
on_both_backends!(a_permanent_redirect_seen_over_days_moves_the_feed);

async fn a_move_onto_another_feeds_url_keeps_the_old_one(backend: Backend) {
    let feeds = FeedServer::start().await;
    let app = spawn_app(backend).await;
    app.sign_up("ann@example.com").await;
    let target = feeds.set("/new.xml", RSS, two_posts());
    let url = feeds.respond("/old.xml", 308, &[("location", &target)], "");
    app.add_feed(&url).await;
    app.add_feed(&target).await;
    for _ in 0..3 {
        app.sql("UPDATE feeds SET redirect_first_seen_at = '2020-01-01 00:00:00' WHERE redirect_to IS NOT NULL")
            .await;
        app.make_all_due().await;
        assert_eq!(app.poll().await.feeds_failed, 0, "the poll does not fail");
    }
    let urls: Vec<String> = app.feed_rows().await.into_iter().map(|f| f.url).collect();
    assert_eq!(urls, vec![target, url]);
}
on_both_backends!(a_move_onto_another_feeds_url_keeps_the_old_one);

async fn at_most_two_requests_at_a_time_reach_one_host(backend: Backend) {
    let feeds = FeedServer::start().await;
    let app = spawn_app(backend).await;
    app.sign_up("ann@example.com").await;
    for i in 0..8 {
        let url = feeds.set(&format!("/feed{i}.xml"), RSS, two_posts());
        app.add_feed(&url).await;
    }
    feeds.set_delay(std::time::Duration::from_millis(150));
    let report = app.poll().await;
    assert_eq!(report.feeds_checked, 8);
    // The poller refreshes four feeds at a time, but all eight live on one host.
    assert_eq!(feeds.max_in_flight(), 2);
}
on_both_backends!(at_most_two_requests_at_a_time_reach_one_host);

/// Four blogs on four hosts, each moved (302) to the same host: the app with Ann
/// following them, that host, and the four old ones.
async fn four_blogs_moved_to_one_host(backend: Backend) -> (TestApp, FeedServer, Vec<FeedServer>) {
    let target = FeedServer::start().await;
    let app = spawn_app(backend).await;
    app.sign_up("ann@example.com").await;
    let mut sources = Vec::new();
    for i in 0..4 {
        let source = FeedServer::start().await;
        let moved = target.set(&format!("/blog{i}.xml"), RSS, two_posts());
        let url = source.respond("/feed.xml", 302, &[("location", &moved)], "");
        app.add_feed(&url).await;
        sources.push(source);
    }
    (app, target, sources)
}

async fn the_host_limit_holds_for_where_redirects_lead(backend: Backend) {
    // Four blogs on four hosts, all moved to one host: a redirect's next request is a
    // request to that host like any other.
    let (app, target, _sources) = four_blogs_moved_to_one_host(backend).await;
    target.set_delay(std::time::Duration::from_millis(150));
    let report = app.poll().await;
    assert_eq!((report.feeds_checked, report.feeds_failed), (4, 0));
    // The poller refreshes four feeds at a time; their redirects all lead to one host.
    assert_eq!(target.max_in_flight(), 2);
}
on_both_backends!(the_host_limit_holds_for_where_redirects_lead);

async fn waiting_for_a_busy_redirect_target_is_not_a_timeout(backend: Backend) {
    // Four blogs moved to one host that takes 0.6 s per answer, fetched with a 1 s timeout:
    // two of them wait 0.6 s for the host's slots, which is our queue, not its slowness.
    let (app, target, _sources) = four_blogs_moved_to_one_host(backend).await;
    target.set_delay(std::time::Duration::from_millis(600));
    let fetcher = captionfeed::feeds::Fetcher::new(captionfeed::feeds::FetchConfig {
        allow_private_networks: true,
        allowed_networks: Vec::new(),
        timeout: std::time::Duration::from_secs(1),
        max_body_bytes: 1024 * 1024,
        user_agent: String::new(),
    })
    .expect("fetcher");
    let poller =
        captionfeed::poller::Poller::new(app.db.clone(), fetcher, app.settings.poll_interval);
    let report = poller.run_once().await.expect("poll pass");
    assert_eq!((report.feeds_checked, report.feeds_failed), (4, 0));
    assert_eq!(target.max_in_flight(), 2);
}
on_both_backends!(waiting_for_a_busy_redirect_target_is_not_a_timeout);
