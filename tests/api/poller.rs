use crate::helpers::{rss, spawn_app, Backend, FeedServer};
use crate::on_both_backends;

async fn two_pollers_racing_fetch_each_feed_once(backend: Backend) {
    let feeds = FeedServer::start().await;
    let app = spawn_app(backend).await;
    app.sign_up("ann@example.com").await;
    let mut paths = Vec::new();
    for i in 0..6 {
        let path = format!("/feed{i}.xml");
        let url = feeds.set(
            &path,
            "application/rss+xml",
            rss(&format!("Blog {i}"), &[("a", "A"), ("b", "B")]),
        );
        app.add_feed(&url).await;
        paths.push(path);
    }
    let second = app.poller.clone();
    let (a, b) = tokio::join!(app.poller.run_once(), second.run_once());
    let (a, b) = (a.expect("pass a"), b.expect("pass b"));
    assert_eq!(a.feeds_checked + b.feeds_checked, 6);
    for path in &paths {
        assert_eq!(feeds.hits(path), 1, "{path} fetched once");
    }
    assert_eq!(a.captions_written + b.captions_written, 6 * 2 * 7);
    // Nothing is due any more.
    assert_eq!(app.poll().await.feeds_checked, 0);
}
on_both_backends!(two_pollers_racing_fetch_each_feed_once);
