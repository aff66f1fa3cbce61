//! The template builder's pages: blocks arranged with plain form posts, a preview on a
//! chosen post with its count, and a save that writes the template captions then use.

use crate::helpers::{location, rss_with, spawn_app, Backend, FeedServer, TestApp};
use crate::on_both_backends;

async fn with_feed(backend: Backend, channel: &str) -> (TestApp, FeedServer, String) {
    let feeds = FeedServer::start().await;
    let url = feeds.set(
        "/feed.xml",
        "application/rss+xml",
        rss_with(
            "Ann's blog",
            channel,
            &[("a1", "First post"), ("a2", "Second post")],
        ),
    );
    let app = spawn_app(backend).await;
    app.sign_up("ann@example.com").await;
    let feed_page = app.add_feed(&url).await;
    app.poll().await;
    (app, feeds, feed_page)
}

/// Posts one builder step on `page`'s form to `action`, as the page's forms do.
async fn step(
    app: &TestApp,
    page: &str,
    action: &str,
    platform: &str,
    blocks: &str,
    fields: &[(&str, &str)],
) -> reqwest::Response {
    let mut all = vec![
        ("platform", platform),
        ("variant", "default"),
        ("blocks", blocks),
    ];
    all.extend_from_slice(fields);
    app.submit(page, action, &all).await
}

/// The blocks a page carries in its hidden field (the first of its forms).
fn carried(page: &str) -> String {
    let start = page.find(r#"name="blocks" value=""#).expect("blocks field") + 21;
    let end = start + page[start..].find('"').expect("end of field");
    page[start..end]
        .replace("&#10;", "\n")
        .replace("&#58;", ":")
}

/// The value of the preview's choice of the post titled `title`.
fn option_of(page: &str, title: &str) -> String {
    let end = page
        .find(&format!(">{title}</option>"))
        .expect("post offered");
    let start = page[..end].rfind("value=\"").expect("its value") + 7;
    page[start..end]
        .trim_end_matches(" selected")
        .trim_end_matches('"')
        .to_owned()
}

async fn blocks_are_arranged_previewed_and_saved_on_the_account(backend: Backend) {
    let (app, _feeds, _) = with_feed(backend, "").await;
    let builder = "/templates/builder";

    // The built-in template was written by hand: the builder offers a starting point and
    // keeps the text under Advanced.
    let page = app.get_html("/templates?platform=mastodon").await;
    assert!(page.contains("written by hand (see Advanced)"), "{page}");
    assert!(page.contains("<summary>Advanced: the template as text</summary>"));
    assert_eq!(carried(&page), "title\nlead\nbreak\nlink\nbreak\nhashtags");
    // The styles, labelled.
    for label in ["Headline", "Hook", "Quote", "Question", "Teaser"] {
        assert!(page.contains(&format!(">{label}</a>")), "{label}: {page}");
    }

    // Own text added, moved to the top; a break removed. Each step re-renders the page.
    let added = step(
        &app,
        "/templates?platform=mastodon",
        builder,
        "mastodon",
        "title\nlead\nbreak\nlink",
        &[
            ("action", "add"),
            ("kind", "text"),
            ("text", "Fresh from the blog"),
        ],
    )
    .await;
    assert_eq!(added.status().as_u16(), 200);
    let page = added.text().await.unwrap();
    assert_eq!(
        carried(&page),
        "title\nlead\nbreak\nlink\ntext:Fresh from the blog"
    );
    let moved = step(
        &app,
        "/templates?platform=mastodon",
        builder,
        "mastodon",
        "title\nlead\nbreak\nlink\ntext:Fresh from the blog",
        &[("action", "up:4")],
    )
    .await
    .text()
    .await
    .unwrap();
    assert_eq!(
        carried(&moved),
        "title\nlead\nbreak\ntext:Fresh from the blog\nlink"
    );
    let empty = step(
        &app,
        "/templates?platform=mastodon",
        builder,
        "mastodon",
        "title",
        &[("action", "add"), ("kind", "text"), ("text", "  ")],
    )
    .await;
    assert_eq!(empty.status().as_u16(), 422);
    assert!(empty
        .text()
        .await
        .unwrap()
        .contains("write the text to add first"));

    // The preview, on the post chosen, counted as Mastodon counts it.
    let first = option_of(&moved, "First post");
    let blocks = "text:Fresh from the blog\ntitle\nquote\nlink";
    let preview = step(
        &app,
        "/templates?platform=mastodon",
        builder,
        "mastodon",
        blocks,
        &[("action", "preview"), ("post", &first)],
    )
    .await
    .text()
    .await
    .unwrap();
    assert!(
        preview.contains(&format!(
            r#"<option value="{first}" selected>First post</option>"#
        )),
        "{preview}"
    );
    // The post has no quote: its block leaves no line behind.
    let text = "Fresh from the blog\nFirst post\nhttps://blog.example/a1";
    assert!(
        preview.contains(&format!(">{text}</textarea>")),
        "{preview}"
    );
    assert!(preview.contains(&format!(">{}/500</span>", 19 + 1 + 10 + 1 + 23)));
    assert!(preview.contains(">Fits</span>"));

    // Saved: the template is the builder's, opens as blocks again, and captions use it.
    let saved = step(
        &app,
        "/templates?platform=mastodon",
        builder,
        "mastodon",
        blocks,
        &[("action", "save")],
    )
    .await;
    assert_eq!(saved.status().as_u16(), 303);
    assert!(location(&saved).starts_with("/templates?platform=mastodon&variant=default&saved=1"));
    let page = app.get_html("/templates?platform=mastodon").await;
    assert!(!page.contains("written by hand"), "{page}");
    assert_eq!(carried(&page), blocks);
    assert!(
        page.contains("{% if title %}\n{{ title }}{% endif %}"),
        "{page}"
    );
    let desk = app.get_html("/captions").await;
    assert!(desk.contains(text), "{desk}");
}
on_both_backends!(blocks_are_arranged_previewed_and_saved_on_the_account);

async fn a_feed_builds_its_own_template_in_its_language(backend: Backend) {
    let (app, _feeds, feed_page) = with_feed(backend, "<language>de-DE</language>").await;
    let page_url = format!("{feed_page}/templates/builder?platform=instagram");
    let page = app.get_html(&page_url).await;
    assert!(
        page.contains("Templates of Ann&#39;s blog") || page.contains("Templates of Ann's blog"),
        "{page}"
    );
    let saved = step(
        &app,
        &page_url,
        &format!("{feed_page}/templates/builder"),
        "instagram",
        "title\nbreak\nlink",
        &[("action", "save")],
    )
    .await;
    assert_eq!(
        saved.status().as_u16(),
        303,
        "{}",
        saved.text().await.unwrap()
    );
    let feed = app.get_html(&feed_page).await;
    assert!(feed.contains("First post\n\nLink in der Bio."), "{feed}");
    // Another account's feed has no builder.
    let other = app.get("/feeds/nope/templates/builder").await;
    assert_eq!(other.status().as_u16(), 404);
}
on_both_backends!(a_feed_builds_its_own_template_in_its_language);
