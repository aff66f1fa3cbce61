//! Adding a site's address finds its feed, or lets the person pick among several.

use crate::helpers::{location, rss, spawn_app, Backend, FeedServer};
use crate::on_both_backends;

const RSS: &str = "application/rss+xml";

fn page(head: &str) -> String {
    format!("<!doctype html><html><head><title>Ann's blog</title>{head}</head><body><h1>Hi</h1></body></html>")
}

async fn a_site_address_subscribes_to_the_feed_it_names(backend: Backend) {
    let feeds = FeedServer::start().await;
    let feed_url = feeds.set("/posts/index.xml", RSS, rss("Ann's blog", &[("a", "A")]));
    let site = feeds.set(
        "/",
        "text/html",
        page(r#"<link rel="alternate" type="application/rss+xml" href="/posts/index.xml">"#),
    );
    let app = spawn_app(backend).await;
    app.sign_up("ann@example.com").await;
    let feed_page = app.add_feed(&site).await;
    let html = app.get_html(&feed_page).await;
    assert!(html.contains(&feed_url), "{html}");
    assert_eq!(app.feed_rows().await[0].url, feed_url);
}
on_both_backends!(a_site_address_subscribes_to_the_feed_it_names);

async fn a_site_with_several_feeds_lets_the_person_pick(backend: Backend) {
    let feeds = FeedServer::start().await;
    feeds.set("/rss.xml", RSS, rss("Ann's blog", &[("a", "A")]));
    let atom = feeds.set(
        "/atom.xml",
        "application/atom+xml",
        r#"<feed xmlns="http://www.w3.org/2005/Atom"><title>Comments</title><id>urn:c</id><updated>2026-11-20T10:00:00Z</updated></feed>"#,
    );
    let site = feeds.set(
        "/blog",
        "text/html",
        page(
            r#"<link rel="alternate" type="application/rss+xml" title="Posts" href="/rss.xml">
               <link rel="alternate" type="application/atom+xml" title="Comments" href="/atom.xml">"#,
        ),
    );
    let app = spawn_app(backend).await;
    app.sign_up("ann@example.com").await;
    let response = app.submit("/feeds/new", "/feeds", &[("url", &site)]).await;
    assert_eq!(response.status().as_u16(), 200);
    let html = response.text().await.expect("body");
    assert!(html.contains("several feeds"), "{html}");
    assert!(
        html.contains("Posts (RSS)") && html.contains("Comments (Atom)"),
        "{html}"
    );
    assert!(html.contains(&format!(r#"value="{atom}""#)), "{html}");
    assert!(app.feed_rows().await.is_empty(), "nothing subscribed yet");

    let chosen = app.submit("/feeds/new", "/feeds", &[("url", &atom)]).await;
    assert_eq!(chosen.status().as_u16(), 303);
    let _ = location(&chosen);
    assert_eq!(app.feed_rows().await[0].url, atom);
}
on_both_backends!(a_site_with_several_feeds_lets_the_person_pick);

async fn a_page_without_links_is_tried_at_the_usual_paths(backend: Backend) {
    let feeds = FeedServer::start().await;
    let feed_url = feeds.set("/index.xml", RSS, rss("Ann's blog", &[("a", "A")]));
    let site = feeds.set("/", "text/html", page(""));
    let app = spawn_app(backend).await;
    app.sign_up("ann@example.com").await;
    app.add_feed(&site).await;
    assert_eq!(app.feed_rows().await[0].url, feed_url);
    assert_eq!(
        feeds.hits("/feed"),
        1,
        "the earlier common paths were tried first"
    );
}
on_both_backends!(a_page_without_links_is_tried_at_the_usual_paths);

async fn a_page_offering_no_feed_says_so(backend: Backend) {
    let feeds = FeedServer::start().await;
    let site = feeds.set("/", "text/html", page(""));
    let app = spawn_app(backend).await;
    app.sign_up("ann@example.com").await;
    let response = app.submit("/feeds/new", "/feeds", &[("url", &site)]).await;
    assert_eq!(response.status().as_u16(), 422);
    assert!(response
        .text()
        .await
        .expect("body")
        .contains("names no RSS, Atom or JSON feed"));
    assert!(app.feed_rows().await.is_empty());
}
on_both_backends!(a_page_offering_no_feed_says_so);

async fn the_api_lists_the_feeds_of_a_site_offering_several(backend: Backend) {
    let feeds = FeedServer::start().await;
    feeds.set("/rss.xml", RSS, rss("Ann's blog", &[("a", "A")]));
    feeds.set("/atom.xml", RSS, rss("Ann's blog", &[("a", "A")]));
    let site = feeds.set(
        "/",
        "text/html",
        page(
            r#"<link rel="alternate" type="application/rss+xml" href="/rss.xml">
               <link rel="alternate" type="application/atom+xml" href="/atom.xml">"#,
        ),
    );
    let app = spawn_app(backend).await;
    let token = app.api_token("ann@example.com").await;
    let response = reqwest::Client::new()
        .post(app.url("/api/v1/feeds"))
        .bearer_auth(&token)
        .json(&serde_json::json!({ "url": site }))
        .send()
        .await
        .expect("answers");
    assert_eq!(response.status().as_u16(), 422);
    let body: serde_json::Value = response.json().await.expect("json");
    let message = body["error"]["message"].as_str().expect("a message");
    assert!(message.contains("several feeds"), "{message}");
    assert!(
        message.contains(&format!("{}/atom.xml", feeds.base)),
        "{message}"
    );
    assert!(app.feed_rows().await.is_empty());
}
on_both_backends!(the_api_lists_the_feeds_of_a_site_offering_several);
