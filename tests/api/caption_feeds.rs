use std::collections::BTreeSet;

use crate::helpers::{new_browser, rss, spawn_app, Backend, FeedServer, TestApp};
use crate::on_both_backends;

/// The account's caption feed address (without the format), from the API page.
pub async fn caption_feed_base(app: &TestApp, client: &reqwest::Client) -> String {
    let html = app
        .get_as(client, "/settings/tokens")
        .await
        .text()
        .await
        .unwrap();
    let start = html
        .find("RSS: <code class=\"url\">")
        .expect("feed URLs shown")
        + "RSS: <code class=\"url\">".len();
    let url = html[start..].split('<').next().unwrap();
    // The page names the configured base URL; the test app listens on a random port.
    let path = &url[url.find("/caption-feeds/").expect("feed path")..];
    app.url(path.strip_suffix("/rss").expect("ends in /rss"))
}

async fn each_caption_appears_once_in_every_feed_format(backend: Backend) {
    let feeds = FeedServer::start().await;
    let url = feeds.set(
        "/feed.xml",
        "application/rss+xml",
        rss(
            "Blog",
            &[("a", "Alpha &amp; Omega"), ("b", "Beta"), ("c", "Gamma")],
        ),
    );
    let app = spawn_app(backend).await;
    app.sign_up("ann@example.com").await;
    app.add_feed(&url).await;
    app.poll().await;
    let base = caption_feed_base(&app, &app.client).await;
    let reader = reqwest::Client::new();
    for format in ["rss", "atom", "json"] {
        let response = reader.get(format!("{base}/{format}")).send().await.unwrap();
        assert_eq!(response.status().as_u16(), 200, "{format}");
        let etag = response
            .headers()
            .get("etag")
            .expect("an ETag")
            .to_str()
            .unwrap()
            .to_string();
        let body = response.bytes().await.unwrap();
        let parsed =
            feed_rs::parser::parse(&body[..]).unwrap_or_else(|e| panic!("{format} parses: {e}"));
        let ids: BTreeSet<String> = parsed.entries.iter().map(|e| e.id.clone()).collect();
        assert_eq!(parsed.entries.len(), 21, "{format}: 3 posts × 7 platforms");
        assert_eq!(ids.len(), 21, "{format}: ids unique");
        assert!(
            parsed
                .entries
                .iter()
                .all(|e| e.published.is_some() || e.updated.is_some()),
            "{format}: dated"
        );
        assert!(
            parsed.entries.iter().any(|e| e
                .title
                .as_ref()
                .is_some_and(|t| t.content == "Alpha & Omega (Bluesky)")),
            "{format}: titles unescaped by the reader"
        );
        // A reader asking again with the ETag gets 304.
        let again = reader
            .get(format!("{base}/{format}"))
            .header("if-none-match", &etag)
            .send()
            .await
            .unwrap();
        assert_eq!(again.status().as_u16(), 304, "{format}");
    }
    // One platform only.
    let body = reader
        .get(format!("{base}/json?platform=x"))
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    let parsed = feed_rs::parser::parse(&body[..]).unwrap();
    assert_eq!(parsed.entries.len(), 3);

    // A new caption changes the ETag.
    let before = reader
        .get(format!("{base}/rss"))
        .send()
        .await
        .unwrap()
        .headers()["etag"]
        .clone();
    feeds.set(
        "/feed.xml",
        "application/rss+xml",
        rss("Blog", &[("d", "Delta"), ("a", "Alpha &amp; Omega")]),
    );
    app.make_all_due().await;
    assert_eq!(app.poll().await.captions_written, 7);
    let after = reader
        .get(format!("{base}/rss"))
        .send()
        .await
        .unwrap()
        .headers()["etag"]
        .clone();
    assert_ne!(before, after, "a new post's captions change the document");
}
on_both_backends!(each_caption_appears_once_in_every_feed_format);

async fn caption_feed_addresses_are_private_and_rotatable(backend: Backend) {
    let app = spawn_app(backend).await;
    app.sign_up("ann@example.com").await;
    let bob = new_browser();
    app.sign_up_as(&bob, "bob@example.com").await;
    let anns = caption_feed_base(&app, &app.client).await;
    let bobs = caption_feed_base(&app, &bob).await;
    assert_ne!(anns, bobs);
    assert_eq!(
        anns,
        caption_feed_base(&app, &app.client).await,
        "stable until rotated"
    );
    let reader = reqwest::Client::new();
    assert_eq!(
        reader
            .get(format!("{anns}/rss"))
            .send()
            .await
            .unwrap()
            .status()
            .as_u16(),
        200
    );
    assert_eq!(
        reader
            .get(format!("{anns}/csv"))
            .send()
            .await
            .unwrap()
            .status()
            .as_u16(),
        404
    );
    assert_eq!(
        reader
            .get(format!("{anns}x/rss"))
            .send()
            .await
            .unwrap()
            .status()
            .as_u16(),
        404
    );

    let rotated = app
        .submit("/settings/tokens", "/settings/caption-feeds/rotate", &[])
        .await;
    assert_eq!(rotated.status().as_u16(), 303);
    assert_eq!(
        reader
            .get(format!("{anns}/rss"))
            .send()
            .await
            .unwrap()
            .status()
            .as_u16(),
        404,
        "old address dead"
    );
    let new = caption_feed_base(&app, &app.client).await;
    assert_ne!(new, anns);
    assert_eq!(
        reader
            .get(format!("{new}/rss"))
            .send()
            .await
            .unwrap()
            .status()
            .as_u16(),
        200
    );
    assert_eq!(
        reader
            .get(format!("{bobs}/rss"))
            .send()
            .await
            .unwrap()
            .status()
            .as_u16(),
        200,
        "Bob's unaffected"
    );
}
on_both_backends!(caption_feed_addresses_are_private_and_rotatable);

/// What Python's feedparser (the library behind many feed-reading automations) sees in
/// a document: its complaints, and each entry's id. `.ci/run` installs it from PyPI.
/// The content type is passed on as HTTP would have given it.
fn feedparser_ids(document: &[u8], content_type: &str) -> (String, Vec<String>) {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("captions");
    std::fs::write(&path, document).expect("write document");
    let script = r#"
import sys, feedparser
d = feedparser.parse(sys.argv[1], response_headers={"content-type": sys.argv[2]})
print(repr(d.get("bozo_exception", "")) if d.bozo else "")
for e in d.entries:
    assert e.get("published_parsed") or e.get("updated_parsed"), e
    print(e.id)
"#;
    let output = std::process::Command::new("python3")
        .args(["-c", script])
        .arg(&path)
        .arg(content_type)
        .output()
        .expect("python3 runs");
    assert!(
        output.status.success(),
        "feedparser failed (install it with `python3 -m pip install feedparser`): {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let text = String::from_utf8_lossy(&output.stdout).into_owned();
    let mut lines = text.lines().map(str::to_owned);
    let complaint = lines.next().unwrap_or_default();
    (complaint, lines.collect())
}

async fn pythons_feedparser_reads_each_caption_once(backend: Backend) {
    let feeds = FeedServer::start().await;
    let url = feeds.set(
        "/feed.xml",
        "application/rss+xml",
        rss(
            "Blog",
            &[
                ("a", "Alpha &amp; Omega"),
                ("b", "Beta &lt;3 🎉"),
                ("c", "Gamma"),
            ],
        ),
    );
    let app = spawn_app(backend).await;
    app.sign_up("ann@example.com").await;
    app.add_feed(&url).await;
    app.poll().await;
    let base = caption_feed_base(&app, &app.client).await;
    let reader = reqwest::Client::new();
    let mut seen_by_format = Vec::new();
    // feedparser 6 reads RSS and Atom; it has no JSON Feed support (feed-rs checks that
    // format in the test above).
    for format in ["rss", "atom"] {
        let response = reader
            .get(format!("{base}/{format}"))
            .send()
            .await
            .expect("caption feed answers");
        let content_type = response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        let body = response.bytes().await.expect("body");
        let (complaint, ids) = feedparser_ids(&body, &content_type);
        assert_eq!(
            complaint, "",
            "{format}: feedparser finds the document well-formed"
        );
        let unique: BTreeSet<String> = ids.iter().cloned().collect();
        assert_eq!(ids.len(), 21, "{format}: 3 posts × 7 platforms");
        assert_eq!(unique.len(), 21, "{format}: every id once");
        seen_by_format.push(unique);
    }
    // The same captions under the same ids, whichever format a tool reads.
    assert_eq!(seen_by_format[0], seen_by_format[1]);
}
on_both_backends!(pythons_feedparser_reads_each_caption_once);
