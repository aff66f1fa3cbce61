//! Post images: fetched in the background through the address guard, capped, checked,
//! stored, and served only to the accounts that follow the post's feed.

use captionfeed::db::{now, DbError};
use captionfeed::images::{self, Images, ImagesReport, Outcome};

use crate::helpers::{new_browser, spawn_app_with, Backend, FeedServer, TestApp};
use crate::on_both_backends;

/// A small but real PNG header and some bytes; the server only checks the type it is told.
fn png() -> Vec<u8> {
    let mut bytes = b"\x89PNG\r\n\x1a\n".to_vec();
    bytes.extend((0..2000u32).map(|i| (i % 251) as u8));
    bytes
}

/// A feed of posts whose images are given by `items`: (guid, enclosure URL or none).
fn feed_with_images(feeds: &FeedServer, items: &[(&str, Option<&str>)]) -> String {
    let mut xml = String::from(
        r#"<?xml version="1.0"?><rss version="2.0"><channel><title>Pictures</title><link>https://blog.example/</link><description>d</description>"#,
    );
    for (i, (guid, image)) in items.iter().enumerate() {
        let enclosure = image
            .map(|url| format!(r#"<enclosure url="{url}" type="image/png" length="2008"/>"#))
            .unwrap_or_default();
        xml.push_str(&format!(
            "<item><guid>{guid}</guid><title>Post {guid}</title><link>{base}/posts/{guid}</link>\
             <pubDate>Mon, {day:02} Nov 2026 10:00:00 +0000</pubDate>{enclosure}</item>",
            base = feeds.base,
            day = 20 - i,
        ));
    }
    xml.push_str("</channel></rss>");
    feeds.set("/feed.xml", "application/rss+xml", xml)
}

async fn post_id(app: &TestApp, guid: &str) -> String {
    use captionfeed::db::schema::posts;
    use diesel::prelude::*;
    let key = format!("id:{guid}");
    app.db
        .run(move |conn| {
            posts::table
                .filter(posts::entry_key.eq(&key))
                .select(posts::id)
                .first::<String>(conn)
                .map_err(captionfeed::db::DbError::from)
        })
        .await
        .expect("post stored")
}

async fn image_errors(app: &TestApp) -> Vec<String> {
    use captionfeed::db::schema::post_images;
    use diesel::prelude::*;
    app.db
        .run(|conn| {
            post_images::table
                .filter(post_images::error.is_not_null())
                .select(post_images::error.assume_not_null())
                .load::<String>(conn)
                .map_err(captionfeed::db::DbError::from)
        })
        .await
        .expect("rows")
}

/// Feeds on loopback (127.0.0.1) are allowed, nothing else that is not public.
async fn app(backend: Backend) -> TestApp {
    spawn_app_with(backend, |s| {
        s.allow_private_networks = false;
        s.allowed_networks = vec!["127.0.0.1/32".parse().expect("range")];
        // Every post gets captions, so every post gets its image.
        s.backfill = 10;
    })
    .await
}

async fn images_are_fetched_in_the_background_and_served_to_followers(backend: Backend) {
    let app = app(backend).await;
    let feeds = FeedServer::start().await;
    let enclosure = feeds.set("/img/a.png", "image/png", png());
    feeds.set(
        "/img/cover.jpg",
        "image/jpeg",
        b"\xff\xd8\xff\xe0 jpeg bytes".to_vec(),
    );
    feeds.set(
        "/posts/b",
        "text/html",
        r#"<!doctype html><html><head><meta property="og:image" content="/img/cover.jpg"></head><body>Post</body></html>"#,
    );
    let feed = feed_with_images(&feeds, &[("a", Some(&enclosure)), ("b", None)]);
    app.sign_up("ann@example.com").await;
    app.add_feed(&feed).await;
    app.poll().await;
    assert_eq!(
        feeds.hits("/img/a.png"),
        0,
        "no image is fetched while polling"
    );

    let images = Images::new(app.db.clone(), &app.settings).expect("image fetcher");
    let report = images.run_once().await.expect("pass");
    assert_eq!(
        report,
        ImagesReport {
            stored: 2,
            failed: 0
        }
    );
    assert_eq!(
        images.run_once().await.expect("pass"),
        ImagesReport::default(),
        "each image is fetched once"
    );

    let (a, b) = (post_id(&app, "a").await, post_id(&app, "b").await);
    let shown = app.get(&format!("/posts/{a}/image")).await;
    assert_eq!(shown.status().as_u16(), 200);
    assert_eq!(shown.headers()["content-type"], "image/png");
    assert!(shown.headers().get("content-disposition").is_none());
    assert_eq!(shown.bytes().await.unwrap().to_vec(), png());

    let from_page = app.get(&format!("/posts/{b}/image?download=1")).await;
    assert_eq!(from_page.status().as_u16(), 200);
    assert_eq!(from_page.headers()["content-type"], "image/jpeg");
    let disposition = from_page.headers()["content-disposition"].to_str().unwrap();
    assert!(
        disposition.starts_with("attachment;") && disposition.ends_with(".jpg\""),
        "{disposition}"
    );

    // Another account, and nobody at all, see nothing.
    let bob = new_browser();
    app.sign_up_as(&bob, "bob@example.com").await;
    let theirs = app.get_as(&bob, &format!("/posts/{a}/image")).await;
    assert_eq!(theirs.status().as_u16(), 404);
    let anonymous = app
        .get_as(&new_browser(), &format!("/posts/{a}/image"))
        .await;
    assert_ne!(anonymous.status().as_u16(), 200);
    assert_eq!(app.get("/posts/nothing/image").await.status().as_u16(), 404);
}
on_both_backends!(images_are_fetched_in_the_background_and_served_to_followers);

async fn hostile_oversize_and_non_images_are_refused(backend: Backend) {
    let app = app(backend).await;
    let feeds = FeedServer::start().await;
    let huge = feeds.set(
        "/img/huge.png",
        "image/png",
        vec![7u8; captionfeed::images::MAX_IMAGE_BYTES + 1],
    );
    let html = feeds.set("/img/page.png", "text/html", "<html>not an image</html>");
    let svg = feeds.set(
        "/img/logo.svg",
        "image/svg+xml",
        r#"<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>"#,
    );
    let feed = feed_with_images(
        &feeds,
        &[
            (
                "metadata",
                Some("http://169.254.169.254/latest/meta-data/x.png"),
            ),
            ("loopback", Some("http://127.0.0.2:1/x.png")),
            ("huge", Some(&huge)),
            ("html", Some(&html)),
            ("svg", Some(&svg)),
        ],
    );
    app.sign_up("ann@example.com").await;
    app.add_feed(&feed).await;
    app.poll().await;
    let images = Images::new(app.db.clone(), &app.settings).expect("image fetcher");
    let report = images.run_once().await.expect("pass");
    assert_eq!(
        report,
        ImagesReport {
            stored: 0,
            failed: 5
        }
    );
    let mut errors = image_errors(&app).await;
    errors.sort();
    assert_eq!(errors.len(), 5, "{errors:?}");
    assert_eq!(
        errors.iter().filter(|e| e.starts_with("refused")).count(),
        2,
        "{errors:?}"
    );
    assert!(
        errors.iter().any(|e| e.contains("larger than 5 MiB")),
        "{errors:?}"
    );
    assert!(errors.iter().any(|e| e.contains("text/html")), "{errors:?}");
    assert!(
        errors.iter().any(|e| e.contains("image/svg+xml")),
        "{errors:?}"
    );
    for guid in ["metadata", "huge", "html", "svg"] {
        let id = post_id(&app, guid).await;
        let shown = app.get(&format!("/posts/{id}/image")).await;
        assert_eq!(shown.status().as_u16(), 404, "{guid}");
    }
    assert_eq!(
        images.run_once().await.expect("pass"),
        ImagesReport::default(),
        "refusals are final"
    );
}
on_both_backends!(hostile_oversize_and_non_images_are_refused);

async fn two_replicas_fetch_each_image_once(backend: Backend) {
    let app = app(backend).await;
    let feeds = FeedServer::start().await;
    let first = feeds.set("/img/a.png", "image/png", png());
    let second = feeds.set("/img/b.png", "image/png", png());
    // Slow enough that both replicas are at work at the same time.
    feeds.set_delay(std::time::Duration::from_millis(200));
    let feed = feed_with_images(&feeds, &[("a", Some(&first)), ("b", Some(&second))]);
    app.sign_up("ann@example.com").await;
    app.add_feed(&feed).await;
    app.poll().await;

    let one = Images::new(app.db.clone(), &app.settings).expect("image fetcher");
    let other = Images::new(app.db.clone(), &app.settings).expect("image fetcher");
    let (a, b) = tokio::join!(one.run_once(), other.run_once());
    let (a, b) = (a.expect("pass"), b.expect("pass"));

    assert_eq!((a.stored + b.stored, a.failed + b.failed), (2, 0));
    assert_eq!(feeds.hits("/img/a.png"), 1, "claimed by one replica only");
    assert_eq!(feeds.hits("/img/b.png"), 1, "claimed by one replica only");
    let metrics = app.get("/metrics").await.text().await.expect("metrics");
    assert!(
        metrics.contains("captionfeed_images_total{outcome=\"stored\"}"),
        "{metrics}"
    );
}
on_both_backends!(two_replicas_fetch_each_image_once);

async fn a_claim_left_by_a_dead_replica_is_taken_over_after_its_lease(backend: Backend) {
    let app = app(backend).await;
    let feeds = FeedServer::start().await;
    let image = feeds.set("/img/a.png", "image/png", png());
    let feed = feed_with_images(&feeds, &[("a", Some(&image))]);
    app.sign_up("ann@example.com").await;
    app.add_feed(&feed).await;
    app.poll().await;
    // A replica claimed the post and died before recording anything: its lease runs a
    // minute more.
    let post = post_id(&app, "a").await;
    let in_a_minute = match backend {
        Backend::Sqlite => "datetime('now', '+1 minute')",
        Backend::Postgres => "(now() AT TIME ZONE 'UTC') + INTERVAL '1 minute'",
    };
    app.sql(&format!(
        "INSERT INTO post_images (post_id, attempts, next_attempt_at, lease_until, lease_token) \
         VALUES ('{post}', 0, '2000-01-01 00:00:00', {in_a_minute}, 'dead replica')"
    ))
    .await;
    let images = Images::new(app.db.clone(), &app.settings).expect("image fetcher");
    assert_eq!(
        images.run_once().await.expect("pass"),
        ImagesReport::default(),
        "still claimed"
    );
    assert_eq!(feeds.hits("/img/a.png"), 0);

    app.sql("UPDATE post_images SET lease_until = '2000-01-01 00:00:00'")
        .await;
    assert_eq!(images.run_once().await.expect("pass").stored, 1);
    assert_eq!(feeds.hits("/img/a.png"), 1);
    assert_eq!(
        app.sql_count("SELECT COUNT(*) AS n FROM post_images WHERE lease_token IS NOT NULL")
            .await,
        0,
        "recording the outcome ends the lease"
    );
}
on_both_backends!(a_claim_left_by_a_dead_replica_is_taken_over_after_its_lease);

async fn a_claim_that_outlived_its_lease_records_nothing_over_the_replica_that_took_over(
    backend: Backend,
) {
    let app = app(backend).await;
    let feeds = FeedServer::start().await;
    let image = feeds.set("/img/a.png", "image/png", png());
    let feed = feed_with_images(&feeds, &[("a", Some(&image))]);
    app.sign_up("ann@example.com").await;
    app.add_feed(&feed).await;
    app.poll().await;
    let post = post_id(&app, "a").await;
    let claim_at = |at: chrono::NaiveDateTime| {
        let post = captionfeed::feeds::PostId(post.clone());
        app.db
            .run(move |conn| Ok::<_, DbError>(images::claim(conn, &post, at)?))
    };
    let start = now();

    // A slow replica claims the post; while its lease runs nobody else can.
    let slow = claim_at(start).await.expect("claim").expect("won");
    assert_eq!(
        claim_at(start + chrono::Duration::minutes(1))
            .await
            .expect("claim"),
        None
    );
    // Its lease runs out before it is done: another replica takes the post over and
    // stores the image.
    let quick = claim_at(start + chrono::Duration::minutes(6))
        .await
        .expect("claim")
        .expect("won after the lease ran out");
    let record = |claimed: images::Claimed, outcome: Outcome| {
        app.db
            .run(move |conn| Ok::<_, DbError>(images::record(conn, &claimed, &outcome)?))
    };
    let stored = Outcome::Stored {
        source: image.clone(),
        content_type: "image/png".into(),
        data: png(),
    };
    assert!(record(quick, stored).await.expect("record"));

    // The slow one's failure, arriving last, does not undo the stored image.
    let failure = Outcome::Retry {
        source: Some(image.clone()),
        why: "timed out".into(),
    };
    assert!(!record(slow, failure).await.expect("record"));
    assert!(image_errors(&app).await.is_empty());
    let shown = app.get(&format!("/posts/{post}/image")).await;
    assert_eq!(shown.status().as_u16(), 200);
    assert_eq!(shown.bytes().await.expect("image").to_vec(), png());
}
on_both_backends!(a_claim_that_outlived_its_lease_records_nothing_over_the_replica_that_took_over);

/// A server whose one page never ends: headers, then `<meta>` tags forever.
async fn endless_page_server() -> (String, tokio::task::JoinHandle<()>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    let task = tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut request = [0u8; 4096];
                let _ = socket.read(&mut request).await;
                let head = "HTTP/1.1 200 OK\r\ncontent-type: text/html\r\nconnection: close\r\n\r\n<html><head>";
                if socket.write_all(head.as_bytes()).await.is_err() {
                    return;
                }
                let chunk = r#"<meta name="x" content="more and more">"#.repeat(100);
                // Bounded only by the client hanging up, which is what is tested.
                while socket.write_all(chunk.as_bytes()).await.is_ok() {}
            });
        }
    });
    (base, task)
}

async fn post_summary(app: &TestApp, guid: &str) -> (String, String) {
    use captionfeed::db::schema::posts;
    use diesel::prelude::*;
    let key = format!("id:{guid}");
    app.db
        .run(move |conn| {
            posts::table
                .filter(posts::entry_key.eq(&key))
                .select((posts::summary, posts::summary_source))
                .first::<(String, String)>(conn)
                .map_err(captionfeed::db::DbError::from)
        })
        .await
        .expect("post stored")
}

async fn the_page_description_becomes_the_summary_and_an_endless_page_is_cut_off(backend: Backend) {
    let app = app(backend).await;
    let feeds = FeedServer::start().await;
    let (endless, server) = endless_page_server().await;
    feeds.set(
        "/posts/described",
        "text/html",
        r#"<html><head><meta property="og:description" content="Bears wake up hungry &amp; eat sedges first. They do."></head><body>Post</body></html>"#,
    );
    let xml = format!(
        r#"<?xml version="1.0"?><rss version="2.0"><channel><title>T</title><link>{base}/</link><description>d</description>
        <item><guid>described</guid><title>Bears</title><link>{base}/posts/described</link></item>
        <item><guid>endless</guid><title>Endless</title><link>{endless}/posts/endless</link></item>
        <item><guid>summarised</guid><title>Own words</title><link>{base}/posts/described</link><description>The feed's own summary, a real one.</description></item>
        </channel></rss>"#,
        base = feeds.base,
    );
    let feed = feeds.set("/feed.xml", "application/rss+xml", xml);
    app.sign_up("ann@example.com").await;
    app.add_feed(&feed).await;
    app.poll().await;
    // Captions were written at once, before any page was fetched.
    assert_eq!(feeds.hits("/posts/described"), 0);
    assert_eq!(post_summary(&app, "described").await.1, "text");

    let images = Images::new(app.db.clone(), &app.settings).expect("image fetcher");
    let started = std::time::Instant::now();
    images.run_once().await.expect("pass");
    // The endless page stops at the page cap (1 MiB), far sooner than this bound.
    assert!(started.elapsed() < std::time::Duration::from_secs(60));
    server.abort();

    assert_eq!(
        post_summary(&app, "described").await,
        (
            "Bears wake up hungry & eat sedges first. They do.".to_owned(),
            "page".to_owned()
        )
    );
    let (summary, source) = post_summary(&app, "endless").await;
    assert_eq!((summary.as_str(), source.as_str()), ("", "text"));
    assert!(
        image_errors(&app)
            .await
            .iter()
            .any(|e| e.contains("large") || e.contains("MiB") || e.contains("bytes")),
        "{:?}",
        image_errors(&app).await
    );
    // A real feed summary is never replaced.
    assert_eq!(
        post_summary(&app, "summarised").await,
        (
            "The feed's own summary, a real one.".to_owned(),
            "feed".to_owned()
        )
    );
}
on_both_backends!(the_page_description_becomes_the_summary_and_an_endless_page_is_cut_off);
