use crate::helpers::{new_browser, rss, spawn_app, Backend, FeedServer};
use crate::on_both_backends;

async fn another_account_sees_none_of_it(backend: Backend) {
    let feeds = FeedServer::start().await;
    let url = feeds.set(
        "/feed.xml",
        "application/rss+xml",
        rss("Ann's blog", &[("a1", "Ann's secret post")]),
    );
    let app = spawn_app(backend).await;
    app.sign_up("ann@example.com").await;
    let anns_feed = app.add_feed(&url).await;
    app.poll().await;
    assert!(
        app.get_html("/captions")
            .await
            .contains("Ann&#x27;s secret post")
            || app
                .get_html("/captions")
                .await
                .contains("Ann&#39;s secret post")
    );

    let bob = new_browser();
    app.sign_up_as(&bob, "bob@example.com").await;
    let captions = app.get_as(&bob, "/captions").await.text().await.unwrap();
    assert!(!captions.contains("secret post"));
    assert!(app
        .get_as(&bob, "/feeds")
        .await
        .text()
        .await
        .unwrap()
        .contains("You follow no feed yet"));
    assert_eq!(app.get_as(&bob, &anns_feed).await.status().as_u16(), 404);
    let delete = app
        .submit_as(&bob, "/feeds/new", &format!("{anns_feed}/delete"), &[])
        .await;
    assert_eq!(delete.status().as_u16(), 404);
    assert_eq!(
        app.get(&anns_feed).await.status().as_u16(),
        200,
        "Ann's feed survives Bob's attempt"
    );

    // Bob following the same blog shares the fetch but gets captions of his own.
    let bobs_feed = app.add_feed_as(&bob, &url).await;
    assert_ne!(bobs_feed, anns_feed);
    let report = app.poll().await;
    assert_eq!(report.captions_written, 7);
    assert_eq!(
        feeds.hits("/feed.xml"),
        4,
        "looked at by each account when added, then one fetch per pass for both"
    );
    let bob_captions = app.get_as(&bob, "/captions").await.text().await.unwrap();
    assert_eq!(bob_captions.matches(r#"data-caption=""#).count(), 7);
    let ann_captions = app.get_html("/captions").await;
    assert_eq!(ann_captions.matches(r#"data-caption=""#).count(), 7);
}
on_both_backends!(another_account_sees_none_of_it);
