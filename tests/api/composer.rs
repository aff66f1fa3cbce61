//! Composer links beside every caption (desk, feed page, try-it page): each opens the
//! platform's compose box with the caption exactly, and Mastodon's goes through the page
//! that asks for the instance once.

use percent_encoding::percent_decode_str;

use crate::helpers::{location, new_browser, rss, spawn_app, Backend, FeedServer, TestApp};
use crate::on_both_backends;

/// A caption with everything a query string can lose: emoji, newlines, `&`, `#`, `+`, `%`
/// and a link with a query string and a fragment.
const HARD: &str = "Crabs 🦀 & C++: 50%+ off, a=b?\n\n#Rust #日本\nhttps://blog.example/p1?utm_source=x&utm_medium=social#part-2";

/// What askama's escaping did to an attribute or text, undone.
fn unescape(html: &str) -> String {
    html.replace("&#34;", "\"")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&#x27;", "'")
        .replace("&#60;", "<")
        .replace("&lt;", "<")
        .replace("&#62;", ">")
        .replace("&gt;", ">")
        .replace("&#38;", "&")
        .replace("&amp;", "&")
}

/// The value of `key` in `href`'s query, decoded as the platform will decode it.
fn query_param(href: &str, key: &str) -> Option<String> {
    let (_, query) = href.split_once('?')?;
    let mut found = None;
    for pair in query.split('&') {
        let (k, v) = pair.split_once('=')?;
        if k == key {
            assert!(!v.contains('+'), "a raw + reads as a space: {href}");
            assert!(found.is_none(), "{key} twice: {href}");
            found = Some(percent_decode_str(v).decode_utf8().ok()?.into_owned());
        }
    }
    found
}

/// The address of the composer link in one caption's markup, if it has one.
fn composer_href(block: &str) -> Option<String> {
    let (before, _) = block.split_once(" data-compose data-copy")?;
    let (_, rest) = before.rsplit_once(r#"href=""#)?;
    rest.split('"').next().map(unescape)
}

/// (platform, caption text, composer href) of every caption block on a desk or feed page.
fn composers_on(html: &str) -> Vec<(String, String, Option<String>)> {
    html.split(r#"data-caption=""#)
        .skip(1)
        .map(|block| {
            let attr = |name: &str| {
                block
                    .split(&format!(r#"{name}=""#))
                    .nth(1)
                    .and_then(|rest| rest.split('"').next())
                    .map(unescape)
            };
            let platform = attr("data-platform").expect("a platform");
            let text = block
                .split("readonly rows=\"4\">")
                .nth(1)
                .and_then(|rest| rest.split("</textarea>").next())
                .map(unescape)
                .expect("a text field");
            (platform, text, composer_href(block))
        })
        .collect()
}

fn check_composer(platform: &str, text: &str, href: Option<&str>, post_url: &str) {
    let href = href.unwrap_or("");
    match platform {
        "x" | "bluesky" | "threads" | "mastodon" => {
            let prefix = match platform {
                "x" => "https://x.com/intent/tweet?text=",
                "bluesky" => "https://bsky.app/intent/compose?text=",
                "threads" => "https://www.threads.com/intent/post?text=",
                _ => "/share/mastodon?text=",
            };
            assert!(href.starts_with(prefix), "{platform}: {href}");
            assert_eq!(
                query_param(href, "text").as_deref(),
                Some(text),
                "{platform}"
            );
        }
        "linkedin" | "facebook" => {
            let (prefix, key) = if platform == "linkedin" {
                (
                    "https://www.linkedin.com/sharing/share-offsite/?url=",
                    "url",
                )
            } else {
                ("https://www.facebook.com/sharer/sharer.php?u=", "u")
            };
            assert!(href.starts_with(prefix), "{platform}: {href}");
            assert_eq!(
                query_param(href, key).as_deref(),
                Some(post_url),
                "{platform}"
            );
        }
        "instagram" => assert_eq!(href, "", "Instagram has no web composer"),
        other => panic!("unknown platform {other}"),
    }
}

async fn desk_with_one_post(backend: Backend) -> (TestApp, FeedServer) {
    let feeds = FeedServer::start().await;
    let url = feeds.set(
        "/feed.xml",
        "application/rss+xml",
        rss("Blog", &[("p1", "Crabs &amp; C++ 🦀 #1: 50%+ off")]),
    );
    let app = spawn_app(backend).await;
    app.sign_up("ann@example.com").await;
    app.add_feed(&url).await;
    app.poll().await;
    (app, feeds)
}

async fn every_caption_on_the_desk_opens_its_composer_with_its_exact_text(backend: Backend) {
    let (app, _feeds) = desk_with_one_post(backend).await;
    let html = app.get_html("/captions").await;
    let found = composers_on(&html);
    assert_eq!(found.len(), 7, "{html}");
    for (platform, text, href) in &found {
        assert!(text.contains("Crabs & C++ 🦀 #1: 50%+ off"), "{text}");
        check_composer(platform, text, href.as_deref(), "https://blog.example/p1");
    }

    // Each caption rewritten to the hard text: every link carries it exactly, on the desk
    // and on the feed's page.
    let ids: Vec<String> = html
        .split(r#"data-caption=""#)
        .skip(1)
        .filter_map(|rest| rest.split('"').next().map(str::to_string))
        .collect();
    for id in &ids {
        let response = app
            .submit(
                "/captions",
                &format!("/captions/{id}/text"),
                &[("text", HARD), ("back", "/captions")],
            )
            .await;
        assert_eq!(response.status().as_u16(), 303, "{id}");
    }
    let feed_id = app
        .get_html("/feeds")
        .await
        .split("href=\"/feeds/")
        .skip(1)
        .filter_map(|rest| rest.split('"').next().map(str::to_string))
        .find(|id| !id.contains('/') && id != "new")
        .expect("the feed's page");
    for page in ["/captions".to_string(), format!("/feeds/{feed_id}")] {
        let html = app.get_html(&page).await;
        let found = composers_on(&html);
        assert_eq!(found.len(), 7, "{page}");
        for (platform, text, href) in &found {
            assert_eq!(text, HARD, "{page} {platform}");
            check_composer(
                platform,
                text,
                href.as_deref(),
                "https://blog.example/p1?utm_source=x&utm_medium=social#part-2",
            );
        }
    }
}
on_both_backends!(every_caption_on_the_desk_opens_its_composer_with_its_exact_text);

#[tokio::test]
async fn the_try_it_page_has_composer_links_too() {
    let feeds = FeedServer::start().await;
    let url = feeds.set(
        "/feed.xml",
        "application/rss+xml",
        rss("Blog", &[("p1", "Crabs &amp; C++ 🦀 #1: 50%+ off")]),
    );
    let app = spawn_app(Backend::Sqlite).await;
    let html = app
        .get_html(&format!(
            "/?url={}",
            url::form_urlencoded::byte_serialize(url.as_bytes()).collect::<String>()
        ))
        .await;
    let blocks: Vec<&str> = html.split("<section class=\"caption\">").skip(1).collect();
    assert_eq!(blocks.len(), 7, "{html}");
    let mut with_text = 0;
    for block in blocks {
        let text = unescape(
            block
                .split("readonly rows=\"4\"")
                .nth(1)
                .and_then(|r| r.split_once('>'))
                .and_then(|(_, r)| r.split("</textarea>").next())
                .expect("a text field"),
        );
        if let Some(href) = composer_href(block) {
            if let Some(carried) = query_param(&href, "text") {
                assert_eq!(carried, text);
                with_text += 1;
            }
        }
    }
    // X, Bluesky, Threads and Mastodon carry the text.
    assert_eq!(with_text, 4, "{html}");
}

#[tokio::test]
async fn mastodon_asks_for_the_instance_once_and_then_goes_straight_there() {
    let app = spawn_app(Backend::Sqlite).await;
    let browser = new_browser();
    let path = format!(
        "/share/mastodon?text={}",
        captionfeed::captions::composer::encode(HARD)
    );

    // First time: the page asks, with the caption kept in the form.
    let asked = app.get_as(&browser, &path).await;
    assert_eq!(asked.status().as_u16(), 200);
    let page = asked.text().await.expect("body");
    assert!(page.contains("Which Mastodon server"), "{page}");
    assert!(unescape(&page).contains(HARD), "{page}");

    // Something that is not an instance is refused with the reason, the caption kept.
    let refused = app
        .submit_as(
            &browser,
            &path,
            "/share/mastodon",
            &[("instance", "https://mastodon.social/@ann"), ("text", HARD)],
        )
        .await;
    assert_eq!(refused.status().as_u16(), 422);
    let page = refused.text().await.expect("body");
    assert!(page.contains("is not a Mastodon instance"), "{page}");
    assert!(unescape(&page).contains(HARD));

    // A handle names the instance; the caption arrives exactly.
    let chosen = app
        .submit_as(
            &browser,
            &path,
            "/share/mastodon",
            &[("instance", "@ann@Mastodon.Social"), ("text", HARD)],
        )
        .await;
    assert_eq!(chosen.status().as_u16(), 303);
    let target = location(&chosen);
    assert!(
        target.starts_with("https://mastodon.social/share?text="),
        "{target}"
    );
    assert_eq!(query_param(&target, "text").as_deref(), Some(HARD));

    // Remembered: the next link goes straight on.
    let again = app
        .get_as(&browser, "/share/mastodon?text=Second%20one%20%2B%201")
        .await;
    assert_eq!(again.status().as_u16(), 303);
    assert_eq!(
        location(&again),
        "https://mastodon.social/share?text=Second%20one%20%2B%201"
    );
    // ...unless the reader asks to change it, with the remembered one filled in.
    let change = app
        .get_as(&browser, "/share/mastodon?text=x&change=1")
        .await
        .text()
        .await
        .expect("body");
    assert!(change.contains(r#"value="mastodon.social""#), "{change}");

    // Another browser has not chosen: it is asked.
    assert_eq!(
        app.get_as(&new_browser(), &path).await.status().as_u16(),
        200
    );
}

#[tokio::test]
async fn choosing_an_instance_needs_the_form_token() {
    let app = spawn_app(Backend::Sqlite).await;
    let browser = new_browser();
    app.get_as(&browser, "/share/mastodon?text=x").await;
    let forged = browser
        .post(app.url("/share/mastodon"))
        .form(&[("instance", "evil.example"), ("text", "x")])
        .send()
        .await
        .expect("answers");
    assert_eq!(forged.status().as_u16(), 403);
    assert_eq!(
        app.get_as(&browser, "/share/mastodon?text=x")
            .await
            .status()
            .as_u16(),
        200,
        "nothing was remembered"
    );
}
