//! The copy desk: marking captions as posted and editing them, through the pages (without
//! JavaScript: plain forms) and through the JSON API.

use serde_json::{json, Value};

use crate::helpers::{location, rss, spawn_app, Backend, FeedServer, TestApp};
use crate::on_both_backends;

fn three_posts() -> String {
    rss("Blog", &[("p3", "Three"), ("p2", "Two"), ("p1", "One")])
}

/// (caption id, platform) of every caption block on a page, in page order.
fn captions_on(html: &str) -> Vec<(String, String)> {
    html.split(r#"data-caption=""#)
        .skip(1)
        .filter_map(|rest| {
            let id = rest.split('"').next()?;
            let platform = rest.split(r#"data-platform=""#).nth(1)?.split('"').next()?;
            Some((id.to_string(), platform.to_string()))
        })
        .collect()
}

async fn app_with_captions(backend: Backend, email: &str) -> (TestApp, FeedServer) {
    let feeds = FeedServer::start().await;
    let url = feeds.set("/feed.xml", "application/rss+xml", three_posts());
    let app = spawn_app(backend).await;
    app.sign_up(email).await;
    app.add_feed(&url).await;
    app.poll().await;
    (app, feeds)
}

async fn the_desk_works_with_plain_forms(backend: Backend) {
    let (app, _feeds) = app_with_captions(backend, "ann@example.com").await;
    let html = app.get_html("/captions").await;
    assert!(html.contains("21 captions waiting to be posted."), "{html}");
    let on_page = captions_on(&html);
    assert_eq!(on_page.len(), 21);
    let (x_id, _) = on_page
        .iter()
        .find(|(_, p)| p == "x")
        .expect("an X caption");

    // Mark as posted: back to the caption, in the same view.
    let back = "/captions?platform=x";
    let response = app
        .submit(
            "/captions",
            &format!("/captions/{x_id}/status"),
            &[("status", "posted"), ("back", back)],
        )
        .await;
    assert_eq!(response.status().as_u16(), 303);
    assert_eq!(location(&response), format!("{back}#c-{x_id}"));
    let posted = app.get_html("/captions?status=posted").await;
    assert_eq!(captions_on(&posted), vec![(x_id.clone(), "x".to_string())]);
    assert!(posted.contains("Mark as not posted"));
    assert!(app
        .get_html("/captions")
        .await
        .contains("20 captions waiting to be posted."));
    let new_x = app.get_html("/captions?platform=x&status=new").await;
    let new_x = captions_on(&new_x);
    assert_eq!(new_x.len(), 2);
    assert!(new_x.iter().all(|(id, p)| p == "x" && id != x_id));

    // An edit over the limit comes back with the text as typed and the reason.
    let too_long = "a".repeat(281);
    let response = app
        .submit(
            "/captions",
            &format!("/captions/{x_id}/text"),
            &[("text", &too_long), ("back", "/captions")],
        )
        .await;
    assert_eq!(response.status().as_u16(), 422);
    let page = response.text().await.expect("body");
    assert!(page.contains("Too long for X: 281/280 as X counts it. Shorten it by 1."));
    assert!(page.contains(&too_long), "the typed text is kept");

    // A text area's CRLF and trailing newline are not counted.
    let mine =
        "My own words about it\r\nhttps://example.com/a/very/long/path/that/counts/as/23\r\n";
    let response = app
        .submit(
            "/captions",
            &format!("/captions/{x_id}/text"),
            &[("text", mine), ("back", "https://evil.example/")],
        )
        .await;
    assert_eq!(response.status().as_u16(), 303);
    assert_eq!(
        location(&response),
        format!("/captions#c-{x_id}"),
        "never back to another site"
    );
    let html = app.get_html("/captions?status=posted").await;
    assert!(html.contains(
        "My own words about it\nhttps://example.com/a/very/long/path/that/counts/as/23</textarea>"
    ));
    assert!(
        html.contains(">45/280<"),
        "21 + 1 + 23, measured by the server"
    );
    assert!(html.contains("Edited"));
    let csv = app.get_html("/export/captions.csv?platform=x").await;
    assert!(csv.contains("My own words about it"), "{csv}");
    // The export follows the desk's filters, as the desk's CSV link sends them.
    let posted_csv = app
        .get_html("/export/captions.csv?feed=&platform=&status=posted")
        .await;
    assert!(posted_csv.contains("My own words about it"));
    let new_csv = app.get_html("/export/captions.csv?status=new").await;
    assert!(!new_csv.contains("My own words about it"));
    assert!(html.contains(r#"href="/export/captions.csv?status=posted" download"#));

    // The editor page for browsers without JavaScript offers the generated text back.
    let editor = app
        .get_html(&format!("/captions/{x_id}/edit?back=%2Fcaptions"))
        .await;
    assert!(editor.contains("Restore the generated text"));

    // Filters a page does not offer are not found, not ignored.
    assert_eq!(
        app.get("/captions?platform=myspace")
            .await
            .status()
            .as_u16(),
        404
    );
}
on_both_backends!(the_desk_works_with_plain_forms);

async fn another_accounts_captions_cannot_be_changed(backend: Backend) {
    let (app, _feeds) = app_with_captions(backend, "ann@example.com").await;
    let (ann_caption, _) = captions_on(&app.get_html("/captions").await)
        .into_iter()
        .next()
        .expect("a caption");
    let bob = crate::helpers::new_browser();
    app.sign_up_as(&bob, "bob@example.com").await;
    for (action, field) in [
        ("status", ("status", "posted")),
        ("text", ("text", "mine now")),
    ] {
        let response = app
            .submit_as(
                &bob,
                "/captions",
                &format!("/captions/{ann_caption}/{action}"),
                &[field],
            )
            .await;
        assert_eq!(response.status().as_u16(), 404, "{action}");
    }
    assert_eq!(
        app.get_as(&bob, &format!("/captions/{ann_caption}/edit"))
            .await
            .status()
            .as_u16(),
        404
    );
    let html = app.get_html("/captions?status=new").await;
    assert!(html.contains("21 captions waiting to be posted."));
    assert!(!html.contains("mine now"));
}
on_both_backends!(another_accounts_captions_cannot_be_changed);

struct Api<'a> {
    app: &'a TestApp,
    token: String,
}

impl Api<'_> {
    async fn call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> (u16, Value) {
        let mut request = reqwest::Client::new()
            .request(method, self.app.url(path))
            .bearer_auth(&self.token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.expect("answers");
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    async fn get(&self, path: &str) -> (u16, Value) {
        self.call(reqwest::Method::GET, path, None).await
    }

    async fn patch(&self, path: &str, body: Value) -> (u16, Value) {
        self.call(reqwest::Method::PATCH, path, Some(body)).await
    }
}

async fn api_with_captions<'a>(app: &'a TestApp, feeds: &FeedServer, email: &str) -> Api<'a> {
    let api = Api {
        app,
        token: app.api_token(email).await,
    };
    let url = format!("{}/feed.xml", feeds.base);
    let (status, _) = api
        .call(
            reqwest::Method::POST,
            "/api/v1/feeds",
            Some(json!({ "url": url })),
        )
        .await;
    assert_eq!(status, 201);
    app.make_all_due().await;
    app.poll().await;
    api
}

async fn captions_are_edited_and_marked_posted_through_the_api(backend: Backend) {
    let feeds = FeedServer::start().await;
    feeds.set("/feed.xml", "application/rss+xml", three_posts());
    let app = spawn_app(backend).await;
    let api = api_with_captions(&app, &feeds, "ann@example.com").await;
    let (_, page) = api.get("/api/v1/captions?platform=x&limit=1").await;
    let caption = page["captions"][0].clone();
    let id = caption["id"].as_str().expect("an id").to_string();
    let generated = caption["text"].as_str().expect("text").to_string();
    assert_eq!(
        (
            &caption["status"],
            &caption["edited"],
            &caption["posted_at"]
        ),
        (&json!("new"), &json!(false), &Value::Null)
    );

    let path = format!("/api/v1/captions/{id}");
    let (status, edited) = api
        .patch(
            &path,
            json!({ "text": "Read it: https://example.com/x", "status": "posted" }),
        )
        .await;
    assert_eq!(status, 200, "{edited}");
    assert_eq!(edited["text"], "Read it: https://example.com/x");
    assert_eq!(edited["length"], 32, "9 + a link counted as 23");
    assert_eq!(edited["edited"], true);
    assert_eq!(edited["original_text"], json!(generated));
    assert_eq!(edited["status"], "posted");
    assert!(edited["posted_at"].is_string());
    assert_eq!(edited["post"]["title"], caption["post"]["title"]);

    let (status, refused) = api.patch(&path, json!({ "text": "日".repeat(141) })).await;
    assert_eq!(status, 422);
    assert_eq!(
        refused["error"]["message"],
        "Too long for X: 282/280 as X counts it. Shorten it by 2."
    );
    for bad in [
        json!({}),
        json!({ "status": "used" }),
        json!({ "text": "  " }),
    ] {
        let (status, body) = api.patch(&path, bad.clone()).await;
        assert_eq!(
            (status, body["error"]["code"].as_str()),
            (422, Some("invalid")),
            "{bad}"
        );
    }

    let (_, posted) = api.get("/api/v1/captions?status=posted").await;
    let posted: Vec<&str> = posted["captions"]
        .as_array()
        .expect("captions")
        .iter()
        .map(|c| c["id"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(posted, [id.as_str()]);
    let (_, new) = api.get("/api/v1/captions?status=new&limit=200").await;
    assert_eq!(new["captions"].as_array().map(Vec::len), Some(20));
    let (status, _) = api.get("/api/v1/captions?status=used").await;
    assert_eq!(status, 422);

    // Sending the generated text back restores it; "new" takes it off the posted list.
    let (_, restored) = api
        .patch(&path, json!({ "text": generated, "status": "new" }))
        .await;
    assert_eq!(
        (
            &restored["edited"],
            &restored["original_text"],
            &restored["status"],
            &restored["posted_at"]
        ),
        (&json!(false), &Value::Null, &json!("new"), &Value::Null)
    );
    assert_eq!(restored["length"], caption["length"]);

    // Another account: 404, and the caption is untouched.
    let bob = Api {
        app: &app,
        token: app.api_token("bob@example.com").await,
    };
    let (status, body) = bob.patch(&path, json!({ "status": "posted" })).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (404, Some("not_found"))
    );
    let (status, _) = api
        .patch("/api/v1/captions/nope", json!({ "status": "posted" }))
        .await;
    assert_eq!(status, 404);
}
on_both_backends!(captions_are_edited_and_marked_posted_through_the_api);

async fn posts_are_listed_with_a_cursor_and_shown_with_their_captions(backend: Backend) {
    let feeds = FeedServer::start().await;
    feeds.set("/feed.xml", "application/rss+xml", three_posts());
    let app = spawn_app(backend).await;
    let api = api_with_captions(&app, &feeds, "ann@example.com").await;

    let (status, first) = api.get("/api/v1/posts?limit=2").await;
    assert_eq!(status, 200, "{first}");
    let cursor = first["next_cursor"].as_str().expect("a second page");
    let (_, second) = api
        .get(&format!("/api/v1/posts?limit=2&cursor={cursor}"))
        .await;
    assert_eq!(second["next_cursor"], Value::Null);
    let mut titles: Vec<&str> = first["posts"]
        .as_array()
        .into_iter()
        .chain(second["posts"].as_array())
        .flatten()
        .map(|p| p["title"].as_str().unwrap_or_default())
        .collect();
    titles.sort_unstable();
    assert_eq!(titles, ["One", "Three", "Two"]);

    let post = &first["posts"][0];
    let post_id = post["id"].as_str().expect("id");
    let (status, shown) = api.get(&format!("/api/v1/posts/{post_id}")).await;
    assert_eq!(status, 200);
    assert_eq!(shown["title"], post["title"]);
    assert_eq!(shown["feed_id"], post["feed_id"]);
    let platforms: Vec<&str> = shown["captions"]
        .as_array()
        .expect("captions")
        .iter()
        .map(|c| c["platform"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(
        platforms,
        [
            "x",
            "mastodon",
            "bluesky",
            "threads",
            "linkedin",
            "instagram",
            "facebook"
        ]
    );
    let (_, by_feed) = api
        .get(&format!(
            "/api/v1/posts?feed={}",
            post["feed_id"].as_str().unwrap_or_default()
        ))
        .await;
    assert_eq!(by_feed["posts"].as_array().map(Vec::len), Some(3));
    let (status, _) = api.get("/api/v1/posts?limit=0").await;
    assert_eq!(status, 422);

    // Bob follows nothing: Ann's post is not his to see.
    let bob = Api {
        app: &app,
        token: app.api_token("bob@example.com").await,
    };
    assert_eq!(bob.get(&format!("/api/v1/posts/{post_id}")).await.0, 404);
    assert_eq!(bob.get("/api/v1/posts").await.1["posts"], json!([]));
}
on_both_backends!(posts_are_listed_with_a_cursor_and_shown_with_their_captions);

/// The order of the post titles on a page.
fn post_order(html: &str) -> Vec<&str> {
    ["One", "Two", "Three"]
        .into_iter()
        .filter_map(|title| {
            html.find(&format!(">{title}</a></h2>"))
                .map(|at| (at, title))
        })
        .collect::<std::collections::BTreeMap<_, _>>()
        .into_values()
        .collect()
}

async fn posts_still_to_post_come_first_newest_first(backend: Backend) {
    let (app, _feeds) = app_with_captions(backend, "ann@example.com").await;
    let html = app.get_html("/captions").await;
    assert_eq!(post_order(&html), ["Three", "Two", "One"]);
    // Everything of the newest post posted: it moves below the others.
    let start = html.find(">Three</a></h2>").expect("post Three");
    let end = html[start..].find("</article>").expect("its end") + start;
    let three = captions_on(&html[start..end]);
    assert_eq!(three.len(), 7);
    for (id, _) in &three {
        let response = app
            .submit(
                "/captions",
                &format!("/captions/{id}/status"),
                &[("status", "posted")],
            )
            .await;
        assert_eq!(response.status().as_u16(), 303);
    }
    let html = app.get_html("/captions").await;
    assert_eq!(post_order(&html), ["Two", "One", "Three"]);
    assert_eq!(
        post_order(&app.get_html("/captions?status=new").await),
        ["Two", "One"]
    );
}
on_both_backends!(posts_still_to_post_come_first_newest_first);

async fn plain_forms_on_a_feed_page_come_back_to_that_page(backend: Backend) {
    let feeds = FeedServer::start().await;
    let url = feeds.set("/feed.xml", "application/rss+xml", three_posts());
    let app = spawn_app(backend).await;
    app.sign_up("ann@example.com").await;
    let feed_page = app.add_feed(&url).await;
    app.poll().await;
    let html = app.get_html(&feed_page).await;
    assert!(
        html.contains(&format!(r#"name="back" value="{feed_page}""#)),
        "{html}"
    );
    let (id, _) = captions_on(&html).into_iter().next().expect("a caption");
    let response = app
        .submit(
            &feed_page,
            &format!("/captions/{id}/status"),
            &[("status", "posted"), ("back", &feed_page)],
        )
        .await;
    assert_eq!(location(&response), format!("{feed_page}#c-{id}"));
    assert!(app
        .get_html(&feed_page)
        .await
        .contains("Mark as not posted"));
}
on_both_backends!(plain_forms_on_a_feed_page_come_back_to_that_page);

/// The header's count is about what the filters show, and one post can be opened alone
/// (a digest links to it).
async fn the_count_follows_the_filters(backend: Backend) {
    let (app, _feeds) = app_with_captions(backend, "cat@example.com").await;
    let html = app.get_html("/captions?platform=x").await;
    assert!(html.contains("3 captions waiting to be posted."), "{html}");
    let html = app.get_html("/captions?platform=x&status=posted").await;
    assert!(html.contains("3 captions waiting to be posted."), "{html}");
    let all = app.get_html("/captions").await;
    let post = all
        .split(r#"<article class="post" id="p-"#)
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("a post on the desk")
        .to_string();
    let one = app.get_html(&format!("/captions?post={post}")).await;
    assert_eq!(captions_on(&one).len(), 7, "{one}");
    assert!(one.contains("7 captions waiting to be posted."), "{one}");
}

on_both_backends!(the_count_follows_the_filters);

/// Two feeds of one blog (its RSS and its Atom feed) carry the same title: the filter and
/// the cards tell them apart by their addresses.
async fn feeds_with_the_same_title_show_their_address(backend: Backend) {
    let feeds = FeedServer::start().await;
    let rss_url = feeds.set("/feed.xml", "application/rss+xml", three_posts());
    let atom_url = feeds.set(
        "/atom.xml",
        "application/rss+xml",
        rss("Blog", &[("a1", "Atom one")]),
    );
    let app = spawn_app(backend).await;
    app.sign_up("dan@example.com").await;
    app.add_feed(&rss_url).await;
    app.add_feed(&atom_url).await;
    app.poll().await;
    let html = app.get_html("/captions").await;
    let short = |url: &str| url.trim_start_matches("http://").to_string();
    assert!(
        html.contains(&format!(">Blog ({})</option>", short(&rss_url))),
        "{html}"
    );
    assert!(
        html.contains(&format!(">Blog ({})</option>", short(&atom_url))),
        "{html}"
    );
    assert!(
        html.contains(&format!("Blog ({}) ·", short(&atom_url))),
        "{html}"
    );
}

on_both_backends!(feeds_with_the_same_title_show_their_address);
