use crate::helpers::{rss, spawn_app, spawn_app_with, Backend, FeedServer};
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

async fn a_new_feed_gets_captions_for_its_newest_posts_only(backend: Backend) {
    let feeds = FeedServer::start().await;
    let url = feeds.set("/feed.xml", "application/rss+xml", five_posts());
    let app = spawn_app(backend).await;
    app.sign_up("ann@example.com").await;
    let feed_page = app.add_feed(&url).await;
    assert!(app
        .get_html(&feed_page)
        .await
        .contains("Waiting for its first check"));

    let report = app.poll().await;
    assert_eq!(report.feeds_checked, 1);
    assert_eq!(report.new_posts, 5);
    assert_eq!(
        report.captions_written,
        3 * 7,
        "three newest posts, seven platforms"
    );

    let html = app.get_html("/captions").await;
    for title in ["Fifth post", "Fourth post", "Third post"] {
        assert!(html.contains(title), "{title} has captions");
    }
    for title in ["Second post", "First post"] {
        assert!(!html.contains(title), "{title} is archive, not backfill");
    }
    assert_eq!(html.matches(r#"data-caption=""#).count(), 21);
    for platform in [
        "X",
        "Mastodon",
        "Bluesky",
        "Threads",
        "LinkedIn",
        "Instagram",
        "Facebook",
    ] {
        assert!(
            html.contains(&format!(">{platform}</h3>")),
            "{platform} caption shown"
        );
    }
    for limit in ["/280<", "/500<", "/300<", "/3000<", "/2200<", "/63206<"] {
        assert!(html.contains(limit), "length shown against {limit}");
    }
    assert_eq!(
        html.matches(r#"class="copy""#).count(),
        21,
        "each caption has a copy button"
    );

    let list = app.get_html("/feeds").await;
    assert!(
        list.contains("Ann&#x27;s blog") || list.contains("Ann&#39;s blog"),
        "feed title listed: {list}"
    );
    assert!(list.contains("Last checked"));
    let page = app.get_html(&feed_page).await;
    assert!(page.contains("Posts stored</dt><dd>5"));
}
on_both_backends!(a_new_feed_gets_captions_for_its_newest_posts_only);

async fn repolling_never_duplicates_and_new_posts_get_captions(backend: Backend) {
    let feeds = FeedServer::start().await;
    let url = feeds.set("/feed.xml", "application/rss+xml", five_posts());
    let app = spawn_app_with(backend, |s| {
        s.poll_interval = std::time::Duration::from_secs(1)
    })
    .await;
    app.sign_up("ann@example.com").await;
    app.add_feed(&url).await;
    app.poll().await;

    app.make_all_due().await;
    let again = app.poll().await;
    assert_eq!(
        (again.feeds_checked, again.new_posts, again.captions_written),
        (1, 0, 0)
    );

    feeds.set(
        "/feed.xml",
        "application/rss+xml",
        rss(
            "Ann's blog",
            &[
                ("p6", "Sixth post"),
                ("p5", "Fifth post"),
                ("p4", "Fourth post"),
            ],
        ),
    );
    app.make_all_due().await;
    let third = app.poll().await;
    assert_eq!((third.new_posts, third.captions_written), (1, 7));
    let html = app.get_html("/captions").await;
    assert!(html.contains("Sixth post"));
    assert_eq!(html.matches(r#"data-caption=""#).count(), 28);
    // The newest post comes first.
    assert!(html.find("Sixth post") < html.find("Fifth post"));
}
on_both_backends!(repolling_never_duplicates_and_new_posts_get_captions);

async fn a_broken_feed_shows_its_error_and_keeps_its_posts(backend: Backend) {
    let feeds = FeedServer::start().await;
    let url = feeds.set("/feed.xml", "application/rss+xml", five_posts());
    let app = spawn_app_with(backend, |s| {
        s.poll_interval = std::time::Duration::from_secs(1)
    })
    .await;
    app.sign_up("ann@example.com").await;
    let feed_page = app.add_feed(&url).await;
    app.poll().await;

    feeds.set(
        "/feed.xml",
        "application/rss+xml",
        "<rss><channel><title>cut off",
    );
    app.make_all_due().await;
    let report = app.poll().await;
    assert_eq!(report.feeds_failed, 1);
    let page = app.get_html(&feed_page).await;
    assert!(page.contains("Last error"), "{page}");
    assert!(page.contains("Posts stored</dt><dd>5"));
    assert!(app.get_html("/feeds").await.contains("Last error:"));
    assert_eq!(
        app.get_html("/captions")
            .await
            .matches(r#"data-caption=""#)
            .count(),
        21
    );

    feeds.set_status("/feed.xml", 500, "text/plain", "oops");
    app.make_all_due().await;
    app.poll().await;
    let page = app.get_html(&feed_page).await;
    assert!(page.contains("500"), "HTTP status shown: {page}");
    assert!(page.contains("2 failed checks in a row"), "{page}");

    // Recovery clears the error.
    feeds.set("/feed.xml", "application/rss+xml", five_posts());
    app.make_all_due().await;
    app.poll().await;
    assert!(!app.get_html(&feed_page).await.contains("Last error"));
}
on_both_backends!(a_broken_feed_shows_its_error_and_keeps_its_posts);

async fn markup_in_feed_text_is_escaped(backend: Backend) {
    let feeds = FeedServer::start().await;
    // JSON Feed titles are plain text: the markup is stored as typed and must show as text.
    let json = serde_json::json!({
        "version": "https://jsonfeed.org/version/1.1",
        "title": "<script>alert('feed')</script>",
        "home_page_url": "https://blog.example/",
        "items": [{
            "id": "x1",
            "url": "https://blog.example/x1",
            "title": "<img src=x onerror=alert(1)> Title",
            "content_text": "Body with <b>tags</b> as text.",
            "date_published": "2026-11-20T10:00:00Z"
        }]
    });
    let url = feeds.set("/feed.json", "application/feed+json", json.to_string());
    let app = spawn_app(backend).await;
    app.sign_up("ann@example.com").await;
    let feed_page = app.add_feed(&url).await;
    app.poll().await;
    for (path, shown) in [
        ("/captions", "&lt;img src=x onerror=alert(1)&gt; Title"),
        ("/feeds", "&lt;script&gt;alert("),
        (
            feed_page.as_str(),
            "&lt;img src=x onerror=alert(1)&gt; Title",
        ),
    ] {
        let raw = app.get_html(path).await;
        assert!(!raw.contains("<script>alert"), "{path}");
        assert!(!raw.contains("<img src=x"), "{path}");
        // Named or numeric character references are both fine.
        let html = raw.replace("&#60;", "&lt;").replace("&#62;", "&gt;");
        assert!(html.contains(shown), "{path}: {html}");
    }
}
on_both_backends!(markup_in_feed_text_is_escaped);

async fn removing_a_feed_removes_its_captions(backend: Backend) {
    let feeds = FeedServer::start().await;
    let url = feeds.set("/feed.xml", "application/rss+xml", five_posts());
    let app = spawn_app(backend).await;
    app.sign_up("ann@example.com").await;
    let feed_page = app.add_feed(&url).await;
    app.poll().await;
    let response = app
        .submit(&feed_page, &format!("{feed_page}/delete"), &[])
        .await;
    assert_eq!(response.status().as_u16(), 303);
    assert_eq!(app.get(&feed_page).await.status().as_u16(), 404);
    assert!(app
        .get_html("/feeds")
        .await
        .contains("You follow no feed yet"));
    assert!(!app.get_html("/captions").await.contains("Fifth post"));
}
on_both_backends!(removing_a_feed_removes_its_captions);

async fn bad_feed_addresses_are_refused_with_a_reason(backend: Backend) {
    let app = spawn_app_with(backend, |s| s.allow_private_networks = false).await;
    app.sign_up("ann@example.com").await;
    for (input, reason) in [
        ("", "Enter the address of a feed"),
        ("ftp://blog.example/feed", "Only http:// and https://"),
        ("http://127.0.0.1/feed.xml", "not a public address"),
        ("http://2130706433/feed.xml", "not a public address"),
        ("http://[::ffff:127.0.0.1]/feed.xml", "not a public address"),
        ("http://10.0.0.1/feed.xml", "not a public address"),
        (
            "http://169.254.169.254/latest/meta-data",
            "not a public address",
        ),
    ] {
        let response = app.submit("/feeds/new", "/feeds", &[("url", input)]).await;
        assert_eq!(response.status().as_u16(), 422, "{input}");
        let html = response.text().await.unwrap();
        assert!(html.contains(reason), "{input}: {html}");
    }
    assert!(app
        .get_html("/feeds")
        .await
        .contains("You follow no feed yet"));
}
on_both_backends!(bad_feed_addresses_are_refused_with_a_reason);

async fn adding_the_same_feed_twice_points_to_the_first(backend: Backend) {
    let feeds = FeedServer::start().await;
    let url = feeds.set("/feed.xml", "application/rss+xml", five_posts());
    let app = spawn_app(backend).await;
    app.sign_up("ann@example.com").await;
    let first = app.add_feed(&url).await;
    let again = app.submit("/feeds/new", "/feeds", &[("url", &url)]).await;
    assert_eq!(again.status().as_u16(), 409);
    assert!(again
        .text()
        .await
        .unwrap()
        .contains(&format!(r#"href="{first}""#)));
}
on_both_backends!(adding_the_same_feed_twice_points_to_the_first);

async fn the_feed_page_shows_its_health_and_checks_now_on_request(backend: Backend) {
    let app = spawn_app(backend).await;
    let feeds = FeedServer::start().await;
    app.sign_up("ann@example.com").await;
    let url = feeds.set(
        "/feed.xml",
        "application/rss+xml",
        rss("Blog", &[("a", "First")]),
    );
    let page = app.add_feed(&url).await;
    let html = app.get_html(&page).await;
    assert!(html.contains("Waiting for its first check"), "{html}");
    assert!(html.contains("Check now"));

    app.poll().await;
    let html = app.get_html(&page).await;
    assert!(
        html.contains("Working: the last check succeeded."),
        "{html}"
    );
    assert!(
        !html.contains("<dt>Last success</dt><dd>never</dd>"),
        "{html}"
    );

    // Checked a moment ago: the button explains why it waits.
    let too_soon = app.submit(&page, &format!("{page}/check"), &[]).await;
    assert_eq!(too_soon.status().as_u16(), 429);
    let html = too_soon.text().await.unwrap();
    assert!(
        html.contains("checked less than a minute ago") && html.contains("check it again in"),
        "{html}"
    );
    assert_eq!(
        feeds.hits("/feed.xml"),
        2,
        "looked at when added, then checked"
    );

    // A minute later it is checked at once, and a failure shows the server's message.
    app.sql(match backend {
        Backend::Sqlite => {
            "UPDATE feeds SET last_checked_at = datetime(last_checked_at, '-2 minutes')"
        }
        Backend::Postgres => {
            "UPDATE feeds SET last_checked_at = last_checked_at - INTERVAL '2 minutes'"
        }
    })
    .await;
    feeds.set_status("/feed.xml", 503, "text/plain", "down for maintenance");
    let asked = app.submit(&page, &format!("{page}/check"), &[]).await;
    assert_eq!(asked.status().as_u16(), 303);
    let shown = crate::helpers::location(&asked);
    assert!(app.get_html(&shown).await.contains("Checking now."));
    app.poll().await;
    assert_eq!(feeds.hits("/feed.xml"), 3, "the poller checked it");
    let html = app.get_html(&page).await;
    assert!(html.contains("Erroring since"), "{html}");
    assert!(html.contains("The server said: HTTP 503"), "{html}");

    // Another account's feed cannot be checked.
    let bob = crate::helpers::new_browser();
    app.sign_up_as(&bob, "bob@example.com").await;
    let theirs = app
        .submit_as(&bob, "/feeds/new", &format!("{page}/check"), &[])
        .await;
    assert_eq!(theirs.status().as_u16(), 404);
}
on_both_backends!(the_feed_page_shows_its_health_and_checks_now_on_request);

async fn the_stored_feed_page_shows_every_change_at_once(backend: Backend) {
    let feeds = FeedServer::start().await;
    let url = feeds.set("/feed.xml", "application/rss+xml", five_posts());
    let app = spawn_app(backend).await;
    app.sign_up("ann@example.com").await;
    let page = app.add_feed(&url).await;
    app.poll().await;
    let first = app.get(&page).await;
    let etag = first.headers()["etag"].to_str().unwrap().to_string();
    assert!(first
        .text()
        .await
        .unwrap()
        .contains("Working: the last check succeeded."));
    let again = app
        .client
        .get(app.url(&page))
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status().as_u16(), 304, "stored while nothing changed");

    // A feed template of its own (the desk version rises with it).
    let saved = app
        .submit(
            &page,
            &format!("{page}/templates"),
            &[
                ("platform", "x"),
                ("variant", "default"),
                ("source", "Fresh words: {{ title }}"),
                ("action", "save"),
            ],
        )
        .await;
    assert_eq!(saved.status().as_u16(), 303);
    assert!(app.get_html(&page).await.contains("Fresh words:"));

    // The feed's health, which changes at a check without the desk version.
    feeds.set_status("/feed.xml", 503, "text/plain", "down");
    app.make_all_due().await;
    app.poll().await;
    let html = app.get_html(&page).await;
    assert!(html.contains("503"), "{html}");
}
on_both_backends!(the_stored_feed_page_shows_every_change_at_once);

/// Posts a poll stores together appear on the feed's page by their own dates, newest first,
/// whatever order the feed lists them in and whatever ids they got.
async fn the_feed_page_lists_posts_by_their_dates(backend: Backend) {
    // Listed out of date order, as a feed with an updated older post may list them.
    let posts = [
        ("Wednesday", "Wed, 18 Nov 2026 10:00:00 +0000"),
        ("Saturday", "Sat, 21 Nov 2026 10:00:00 +0000"),
        ("Monday", "Mon, 16 Nov 2026 10:00:00 +0000"),
        ("Friday", "Fri, 20 Nov 2026 10:00:00 +0000"),
        ("Tuesday", "Tue, 17 Nov 2026 10:00:00 +0000"),
        ("Thursday", "Thu, 19 Nov 2026 10:00:00 +0000"),
    ];
    let mut xml = String::from(
        r#"<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>Week</title><link>https://week.example/</link><description>d</description>"#,
    );
    for (title, date) in posts {
        xml.push_str(&format!(
            "<item><guid>{title}</guid><title>{title}</title><link>https://week.example/{title}</link>\
             <description>What happened on {title}.</description><pubDate>{date}</pubDate></item>"
        ));
    }
    xml.push_str("</channel></rss>");
    let feeds = FeedServer::start().await;
    let url = feeds.set("/feed.xml", "application/rss+xml", xml);
    let app = spawn_app_with(backend, |s| s.backfill = 6).await;
    app.sign_up("ann@example.com").await;
    let page = app.add_feed(&url).await;
    app.poll().await;
    let html = app.get_html(&page).await;
    let mut shown: Vec<(usize, &str)> = posts
        .iter()
        .filter_map(|(title, _)| {
            html.find(&format!(">{title}</a></h2>"))
                .map(|at| (at, *title))
        })
        .collect();
    shown.sort();
    let titles: Vec<&str> = shown.into_iter().map(|(_, title)| title).collect();
    assert_eq!(
        titles,
        [
            "Saturday",
            "Friday",
            "Thursday",
            "Wednesday",
            "Tuesday",
            "Monday"
        ]
    );
}
on_both_backends!(the_feed_page_lists_posts_by_their_dates);

/// A batch's backfill reads its chosen posts by id in chunks under SQLite's limit of bound
/// values: every post comes back, however many more ids than one chunk holds.
async fn posts_are_read_by_id_past_one_chunk(backend: Backend) {
    let feeds = FeedServer::start().await;
    let url = feeds.set("/feed.xml", "application/rss+xml", five_posts());
    let app = spawn_app(backend).await;
    app.sign_up("ann@example.com").await;
    app.add_feed(&url).await;
    app.sql(
        "INSERT INTO posts (id, feed_id, entry_key, title, summary, content_text, categories, \
           first_seen_at) \
         WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 2500) \
         SELECT 'bulk-' || i, (SELECT id FROM feeds LIMIT 1), 'bulk-' || i, 'Post', '', '', \
           '[]', '2026-01-01 00:00:00' FROM n",
    )
    .await;
    let found = app
        .db
        .run(|conn| {
            let ids: Vec<captionfeed::feeds::store::PostId> = (1..=2500)
                .map(|i| captionfeed::feeds::store::PostId(format!("bulk-{i}")))
                .collect();
            let ids: Vec<&captionfeed::feeds::store::PostId> = ids.iter().collect();
            captionfeed::feeds::store::posts_with_ids(conn, &ids)
                .map_err(captionfeed::db::DbError::from)
        })
        .await
        .expect("posts read");
    let mut read: Vec<String> = found.iter().map(|p| p.id.0.clone()).collect();
    read.sort();
    read.dedup();
    assert_eq!(read.len(), 2500, "each post once");
}
on_both_backends!(posts_are_read_by_id_past_one_chunk);
