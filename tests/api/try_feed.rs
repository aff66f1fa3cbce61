//! Trying a blog on the front page without an account, then signing up with it; and the
//! same preview in the JSON API.

use serde_json::{json, Value};

use crate::helpers::{
    location, new_browser, rss, spawn_app, spawn_app_with, unused_loopback_address, Backend,
    FeedServer, TestApp,
};
use crate::on_both_backends;

fn five_posts() -> String {
    rss(
        "Ann's blog",
        &[
            ("p5", "Fifth post"),
            ("p4", "Fourth post"),
            ("p3", "Third post"),
            ("p2", "Second post"),
            ("p1", "First post"),
        ],
    )
}

/// A blog whose home page names its feed, as most do.
fn blog(feeds: &FeedServer) -> (String, String) {
    let feed = feeds.set("/feed.xml", "application/rss+xml", five_posts());
    let page = feeds.set(
        "/",
        "text/html",
        r#"<!doctype html><html><head><title>Ann</title>
        <link rel="alternate" type="application/rss+xml" href="/feed.xml"></head><body>Hi</body></html>"#,
    );
    (page, feed)
}

async fn try_url(app: &TestApp, client: &reqwest::Client, url: &str) -> (u16, String) {
    let response = client
        .get(app.url("/"))
        .query(&[("url", url)])
        .send()
        .await
        .expect("answers");
    let status = response.status().as_u16();
    (status, response.text().await.expect("body"))
}

/// The value of the hidden input named `name`.
fn hidden(html: &str, name: &str) -> Option<String> {
    let marker = format!(r#"type="hidden" name="{name}" value=""#);
    let start = html.find(&marker)? + marker.len();
    Some(html[start..].split('"').next()?.replace("&#x2f;", "/"))
}

async fn a_visitor_tries_a_blog_then_signs_up_with_its_feed(backend: Backend) {
    let app = spawn_app(backend).await;
    let feeds = FeedServer::start().await;
    let (page, feed) = blog(&feeds);

    let (status, html) = try_url(&app, &app.client, &page).await;
    assert_eq!(status, 200, "{html}");
    for newest in ["Fifth post", "Fourth post", "Third post"] {
        assert!(html.contains(newest), "{newest} shown");
    }
    assert!(!html.contains("Second post"), "only the newest three");
    for platform in [
        "X",
        "Mastodon",
        "Bluesky",
        "Threads",
        "LinkedIn",
        "Instagram",
        "Facebook",
    ] {
        assert!(html.contains(&format!(">{platform}</h4>")), "{platform}");
    }
    assert!(html.contains("Create an account with this feed"));
    let carried = hidden(&html, "feed").expect("the sign-up button carries the feed");
    assert_eq!(
        carried, feed,
        "the page's feed, found from the blog's address"
    );

    let form = app
        .client
        .get(app.url("/signup"))
        .query(&[("feed", carried.as_str())])
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(hidden(&form, "feed").as_deref(), Some(feed.as_str()));
    let signed_up = sign_up_carrying(&app, &form, &carried).await;
    assert_eq!(signed_up.status().as_u16(), 303);
    assert_eq!(location(&signed_up), "/signup/check-inbox");
    log_in_as_ann(&app).await;

    // Followed in the background, so a new address answers as fast as a known one.
    let mut followed = false;
    for _ in 0..100 {
        if app.get_html("/feeds").await.contains(&feed) {
            followed = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(followed, "the tried feed is followed");
    app.poll().await;
    let dashboard = app.get_html("/captions").await;
    assert!(
        dashboard.contains("Fifth post"),
        "its captions are on the dashboard"
    );
}
on_both_backends!(a_visitor_tries_a_blog_then_signs_up_with_its_feed);

#[tokio::test]
async fn problems_are_explained_on_the_page() {
    let app = spawn_app(Backend::Sqlite).await;
    let feeds = FeedServer::start().await;
    feeds.set(
        "/about",
        "text/html",
        "<!doctype html><html><head><title>About</title></head><body>No feed here</body></html>",
    );
    feeds.set("/notes.txt", "text/plain", "just some notes");
    feeds.set(
        "/lost.xml",
        "application/rss+xml",
        r#"<rss version="2.0"><channel><title>B</title></channel><item><title>Lost</title></item></rss>"#,
    );
    let dead = format!("http://{}/feed.xml", unused_loopback_address());
    for (url, says) in [
        (
            format!("{}/lost.xml", feeds.base),
            "it holds 1 entry but none of them could be read",
        ),
        (
            format!("{}/about", feeds.base),
            "names no RSS, Atom or JSON feed",
        ),
        (format!("{}/notes.txt", feeds.base), "Not a feed"),
        (dead, "Could not read"),
        (
            "ftp://blog.example/feed".into(),
            "Only http:// and https://",
        ),
    ] {
        let (status, html) = try_url(&app, &new_browser(), &url).await;
        assert_eq!(status, 422, "{url}");
        assert!(html.contains(says), "{url}: {says} in {html}");
        assert!(html.contains(r#"role="alert""#));
        assert!(!html.contains("Create an account with this feed"));
    }
}

#[tokio::test]
async fn private_addresses_are_refused_without_a_request() {
    let app = spawn_app_with(Backend::Sqlite, |s| s.allow_private_networks = false).await;
    let feeds = FeedServer::start().await;
    let feed = feeds.set("/feed.xml", "application/rss+xml", five_posts());
    for url in [feed.clone(), "http://0x7f.1/feed.xml".into()] {
        let (status, html) = try_url(&app, &new_browser(), &url).await;
        assert_eq!(status, 422);
        assert!(html.contains("Refused"), "{html}");
    }
    assert_eq!(feeds.hits("/feed.xml"), 0);

    // The sign-up form checks the carried address again.
    let form = app.get_html("/signup").await;
    let refused = sign_up_carrying(&app, &form, &feed).await;
    assert_eq!(refused.status().as_u16(), 422);
    let html = refused.text().await.unwrap();
    assert!(html.contains("The feed cannot be followed"), "{html}");
    assert!(
        hidden(&html, "feed").is_none(),
        "the refused address is dropped"
    );
    assert_eq!(app.sign_up("ann@example.com").await.status().as_u16(), 303);
}

#[tokio::test]
async fn each_visitor_gets_a_few_previews_a_minute() {
    let app = spawn_app(Backend::Sqlite).await;
    let feeds = FeedServer::start().await;
    let feed = feeds.set("/feed.xml", "application/rss+xml", five_posts());
    let limit = captionfeed::web::pages::home::PREVIEWS_PER_MINUTE as usize;
    for _ in 0..limit {
        assert_eq!(try_url(&app, &new_browser(), &feed).await.0, 200);
    }
    let response = new_browser()
        .get(app.url("/"))
        .query(&[("url", feed.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 429);
    let wait: u64 = response.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&wait));
    assert!(response.text().await.unwrap().contains("Please wait"));
    assert_eq!(
        feeds.hits("/feed.xml"),
        limit,
        "no fetch once over the rate"
    );
    // The front page itself is never limited.
    assert_eq!(
        new_browser()
            .get(app.url("/"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
}

async fn the_api_previews_a_feed_without_following_it(backend: Backend) {
    let app = spawn_app(backend).await;
    let feeds = FeedServer::start().await;
    let (page, feed) = blog(&feeds);
    let token = app.api_token("ann@example.com").await;
    let call = |body: Value| {
        reqwest::Client::new()
            .post(app.url("/api/v1/preview"))
            .bearer_auth(&token)
            .json(&body)
            .send()
    };
    let response = call(json!({"url": page, "platforms": ["x", "bluesky"], "posts": 2}))
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["feed_url"], feed.as_str());
    assert_eq!(body["title"], "Ann's blog");
    let posts = body["posts"].as_array().unwrap();
    let titles: Vec<&str> = posts.iter().map(|p| p["title"].as_str().unwrap()).collect();
    assert_eq!(titles, ["Fifth post", "Fourth post"]);
    assert_eq!(posts[0]["published"], "2026-11-20T10:00:00Z");
    let captions = posts[0]["captions"].as_array().unwrap();
    let platforms: Vec<&str> = captions
        .iter()
        .map(|c| c["platform"].as_str().unwrap())
        .collect();
    assert_eq!(platforms, ["x", "bluesky"]);
    for c in captions {
        assert!(c["text"].as_str().unwrap().contains("Fifth post"));
        assert!(c["length"].as_u64().unwrap() <= c["limit"].as_u64().unwrap());
    }
    // Nothing is followed.
    let listed: Value = reqwest::Client::new()
        .get(app.url("/api/v1/feeds"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(listed, json!([]));

    for bad in [
        json!({"url": "ftp://blog.example/feed"}),
        json!({"url": feed, "platforms": ["myspace"]}),
        json!({"url": feed, "posts": 0}),
        json!({"url": format!("{}/nothing.xml", feeds.base)}),
    ] {
        let response = call(bad.clone()).await.unwrap();
        assert_eq!(response.status().as_u16(), 422, "{bad}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["error"]["code"], "invalid", "{bad}");
    }
    let anonymous = reqwest::Client::new()
        .post(app.url("/api/v1/preview"))
        .json(&json!({"url": feed}))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status().as_u16(), 401);
}
on_both_backends!(the_api_previews_a_feed_without_following_it);

/// Under fuzzing, hostile addresses must be answered at once, never fetched.
#[tokio::test]
async fn the_api_refuses_private_addresses_at_once() {
    let app = spawn_app_with(Backend::Sqlite, |s| s.allow_private_networks = false).await;
    let token = app.api_token("ann@example.com").await;
    let started = std::time::Instant::now();
    for url in [
        "http://127.0.0.1:1/feed",
        "http://[::ffff:10.0.0.1]/",
        "http://2130706433/",
        "localhost",
        "0",
    ] {
        let response = reqwest::Client::new()
            .post(app.url("/api/v1/preview"))
            .bearer_auth(&token)
            .json(&json!({ "url": url }))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), 422, "{url}");
    }
    assert!(started.elapsed() < std::time::Duration::from_secs(2));
}

#[tokio::test]
async fn a_tried_address_that_cannot_be_followed_still_leaves_an_account() {
    let app = spawn_app(Backend::Sqlite).await;
    let feeds = FeedServer::start().await;
    // Passes the address check, but the page names no feed, so following it fails.
    let page = feeds.set(
        "/about",
        "text/html; charset=utf-8",
        "<!doctype html><html><head><title>About</title></head><body>No feed here.</body></html>",
    );
    let form = app.get_html("/signup").await;
    let response = sign_up_carrying(&app, &form, &page).await;
    assert_eq!(location(&response), "/signup/check-inbox");
    log_in_as_ann(&app).await;
    for _ in 0..20 {
        if feeds.hits("/about") > 0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(feeds.hits("/about") > 0, "following was tried");
    assert!(!app.get_html("/feeds").await.contains(&page));
    // The add-feed page's notice shows only its fixed text, never text from its address.
    let plain = app.get_html("/feeds/new?notice=Pay+now").await;
    assert!(!plain.contains("Pay now") && !plain.contains("could not be followed"));
}

async fn log_in_as_ann(app: &TestApp) {
    let answer = app
        .submit(
            "/login",
            "/login",
            &[
                ("email", "ann@example.com"),
                ("password", "correct horse battery"),
            ],
        )
        .await;
    assert_eq!(location(&answer), "/captions");
}

/// Submits the sign-up form (its CSRF token taken from `form`) for ann@example.com,
/// carrying `feed` as the front page's "Create an account with this feed" does.
async fn sign_up_carrying(app: &TestApp, form: &str, feed: &str) -> reqwest::Response {
    let token = crate::helpers::csrf_token(form);
    app.client
        .post(app.url("/signup"))
        .form(&[
            ("csrf_token", token.as_str()),
            ("email", "ann@example.com"),
            ("password", "correct horse battery"),
            ("feed", feed),
        ])
        .send()
        .await
        .expect("sign-up answers")
}
