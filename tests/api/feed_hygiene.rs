//! An address is looked at before it is followed: nothing there is refused with a
//! sentence, and a second feed of a blog already followed is offered as the first.

use crate::helpers::{rss, spawn_app, Backend, FeedServer};
use crate::on_both_backends;

const RSS: &str = "application/rss+xml";

/// An Atom feed of the site `site` whose entries link to `{posts}/{guid}` (as [`rss`]'s
/// link to `https://blog.example/{guid}`).
fn atom(site: &str, posts: &str, items: &[(&str, &str)]) -> String {
    let mut xml = format!(
        r#"<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom"><title>Ann's blog (Atom)</title><id>urn:ann</id><updated>2026-11-20T10:00:00Z</updated><link rel="alternate" href="{site}"/>"#
    );
    for (guid, title) in items {
        xml.push_str(&format!(
            r#"<entry><id>urn:{guid}</id><title>{title}</title><link rel="alternate" href="{posts}/{guid}"/><updated>2026-11-20T10:00:00Z</updated><summary>About {title}.</summary></entry>"#
        ));
    }
    xml.push_str("</feed>");
    xml
}

const POSTS: &[(&str, &str)] = &[("p3", "Third"), ("p2", "Second"), ("p1", "First")];

async fn an_address_without_a_feed_is_refused_with_a_sentence(backend: Backend) {
    let feeds = FeedServer::start().await;
    let missing = feeds.url("/feed.xml");
    let gone = feeds.set_status("/old.xml", 410, "text/plain", "gone");
    let page = feeds.set(
        "/about",
        "text/html",
        "<!doctype html><html><head><title>About</title></head><body>Hi</body></html>",
    );
    let text = feeds.set("/notes.txt", "text/plain", "just some notes, no feed");
    let app = spawn_app(backend).await;
    app.sign_up("ann@example.com").await;
    for (url, sentence) in [
        (
            &missing,
            "answers HTTP 404 Not Found: there is no feed there",
        ),
        (&gone, "answers HTTP 410 Gone: there is no feed there"),
        (&page, "This page names no RSS, Atom or JSON feed"),
        (&text, "This address holds no RSS, Atom or JSON feed"),
    ] {
        let response = app.submit("/feeds/new", "/feeds", &[("url", url)]).await;
        assert_eq!(response.status().as_u16(), 422, "{url}");
        let html = response.text().await.expect("body");
        assert!(html.contains(sentence), "{url}: {html}");
    }

    let token = app.api_token("bob@example.com").await;
    let response = reqwest::Client::new()
        .post(app.url("/api/v1/feeds"))
        .bearer_auth(&token)
        .json(&serde_json::json!({ "url": missing }))
        .send()
        .await
        .expect("answers");
    assert_eq!(response.status().as_u16(), 422);
    let body: serde_json::Value = response.json().await.expect("json");
    assert_eq!(body["error"]["code"], "invalid");
    assert!(body["error"]["message"]
        .as_str()
        .is_some_and(|m| m.contains("HTTP 404")));
    assert!(app.feed_rows().await.is_empty(), "nothing followed");
}
on_both_backends!(an_address_without_a_feed_is_refused_with_a_sentence);

async fn a_blog_followed_through_its_rss_is_offered_when_its_atom_is_added(backend: Backend) {
    let feeds = FeedServer::start().await;
    let rss_url = feeds.set("/rss.xml", RSS, rss("Ann's blog", POSTS));
    let atom_url = feeds.set(
        "/atom.xml",
        "application/atom+xml",
        // The same site, stated another way; the posts have other addresses (a proxy).
        atom(
            "https://www.ann-s-blog.example",
            "https://proxy.example",
            POSTS,
        ),
    );
    let app = spawn_app(backend).await;
    app.sign_up("ann@example.com").await;
    let first = app.add_feed(&rss_url).await;
    app.poll().await;

    let again = app
        .submit("/feeds/new", "/feeds", &[("url", &atom_url)])
        .await;
    assert_eq!(again.status().as_u16(), 409);
    let html = again.text().await.expect("body");
    assert!(
        html.contains("You already follow this blog through")
            && html.contains(&format!(r#"href="{first}""#)),
        "{html}"
    );
    assert!(html.contains("Follow this feed too"), "{html}");
    assert_eq!(app.feed_rows().await.len(), 1);

    let anyway = app
        .submit(
            "/feeds/new",
            "/feeds",
            &[("url", &atom_url), ("same_blog", "follow")],
        )
        .await;
    assert_eq!(anyway.status().as_u16(), 303);
    assert_eq!(app.feed_rows().await.len(), 2);
}
on_both_backends!(a_blog_followed_through_its_rss_is_offered_when_its_atom_is_added);

async fn most_entry_links_the_same_is_the_same_blog(backend: Backend) {
    let feeds = FeedServer::start().await;
    let rss_url = feeds.set("/rss.xml", RSS, rss("Ann's blog", POSTS));
    // Another site address (a feed service's), the same posts.
    let mirror = feeds.set(
        "/mirror.xml",
        "application/atom+xml",
        atom(
            "https://feeds.example/ann",
            "https://blog.example",
            &[("p3", "Third"), ("p2", "Second"), ("x9", "Elsewhere")],
        ),
    );
    let app = spawn_app(backend).await;
    let token = app.api_token("ann@example.com").await;
    let api = reqwest::Client::new();
    let add = |body: serde_json::Value| {
        api.post(app.url("/api/v1/feeds"))
            .bearer_auth(&token)
            .json(&body)
            .send()
    };
    let first = add(serde_json::json!({ "url": rss_url }))
        .await
        .expect("answers");
    assert_eq!(first.status().as_u16(), 201);
    let first: serde_json::Value = first.json().await.expect("json");
    app.poll().await;

    let second = add(serde_json::json!({ "url": mirror }))
        .await
        .expect("answers");
    assert_eq!(second.status().as_u16(), 409);
    let body: serde_json::Value = second.json().await.expect("json");
    let message = body["error"]["message"].as_str().expect("a message");
    assert!(
        message.contains(first["id"].as_str().expect("id")) && message.contains(&rss_url),
        "{message}"
    );

    let anyway = add(serde_json::json!({ "url": mirror, "same_blog": true }))
        .await
        .expect("answers");
    assert_eq!(anyway.status().as_u16(), 201);
}
on_both_backends!(most_entry_links_the_same_is_the_same_blog);

async fn the_opml_review_shows_titles_and_follows_only_the_ticked_feeds(backend: Backend) {
    let feeds = FeedServer::start().await;
    let a = feeds.set("/a.xml", RSS, rss("Blog A", &[("a1", "A one")]));
    let b = feeds.set("/b.xml", RSS, rss("Blog B", &[("b1", "B one")]));
    let dead = feeds.url("/dead.xml");
    let app = spawn_app(backend).await;
    app.sign_up("ann@example.com").await;
    let opml = format!(
        r#"<?xml version="1.0"?><opml version="2.0"><head/><body>
        <outline text="Blog A" xmlUrl="{a}"/><outline title="Blog B" xmlUrl="{b}"/>
        <outline text="Dead blog" xmlUrl="{dead}"/></body></opml>"#
    );
    let review = app
        .submit("/import/opml", "/import/opml", &[("opml", &opml)])
        .await
        .text()
        .await
        .expect("body");
    for (index, title, url) in [
        (0, "Blog A", &a),
        (1, "Blog B", &b),
        (2, "Dead blog", &dead),
    ] {
        assert!(
            review.contains(&format!(
                r#"type="checkbox" name="feed_{index}" value="{url}" checked"#
            )),
            "{review}"
        );
        assert!(review.contains(title), "{title}: {review}");
    }
    assert!(!review.contains("<textarea"), "{review}");

    // Blog B is unticked: its checkbox is not sent.
    let done = app
        .submit(
            "/import/opml",
            "/import/opml/confirm",
            &[
                ("feed_0", &a),
                ("title_0", "Blog A"),
                ("title_1", "Blog B"),
                ("feed_2", &dead),
                ("title_2", "Dead blog"),
            ],
        )
        .await;
    assert_eq!(done.status().as_u16(), 200);
    let html = done.text().await.expect("body");
    assert_eq!(html.matches(">followed<").count(), 1, "{html}");
    assert!(
        html.contains("not a feed: This address answers HTTP 404"),
        "{html}"
    );
    assert!(html.contains("Dead blog"), "{html}");
    assert!(!html.contains(&b), "{html}");
    let rows = app.feed_rows().await;
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].url, a);
}
on_both_backends!(the_opml_review_shows_titles_and_follows_only_the_ticked_feeds);
