//! A template or a feed's settings changed after captions were made: captions nobody has
//! used yet follow the change, used ones (posted, edited, served) stay exactly as they were.

use diesel::prelude::*;

use crate::helpers::{location, rss, spawn_app, Backend, FeedServer, TestApp};
use crate::on_both_backends;
use captionfeed::db::schema::{captions, posts};

/// One stored caption, read straight from the database so that looking does not count
/// as serving it.
#[derive(Debug, Clone, PartialEq)]
struct Row {
    id: String,
    post: String,
    platform: String,
    body: String,
    served: bool,
}

async fn rows(app: &TestApp) -> Vec<Row> {
    let loaded: Vec<(String, String, String, String, bool)> = app
        .db
        .run(|conn| {
            captions::table
                .inner_join(posts::table)
                .order((posts::title, captions::platform, captions::variant))
                .select((
                    captions::id,
                    posts::title,
                    captions::platform,
                    captions::body,
                    captions::served_at.is_not_null(),
                ))
                .load(conn)
                .map_err(captionfeed::db::DbError::from)
        })
        .await
        .expect("captions load");
    loaded
        .into_iter()
        .map(|(id, post, platform, body, served)| Row {
            id,
            post,
            platform,
            body,
            served,
        })
        .collect()
}

fn find<'a>(rows: &'a [Row], post: &str, platform: &str) -> &'a Row {
    rows.iter()
        .find(|r| r.post == post && r.platform == platform)
        .unwrap_or_else(|| panic!("no {platform} caption for {post:?} in {rows:#?}"))
}

fn platforms_of(rows: &[Row], post: &str) -> Vec<String> {
    rows.iter()
        .filter(|r| r.post == post)
        .map(|r| r.platform.clone())
        .collect()
}

/// Ann follows a blog of two posts and has their 14 captions.
async fn ann_with_captions(backend: Backend) -> (TestApp, FeedServer, String) {
    let feeds = FeedServer::start().await;
    let url = feeds.set(
        "/feed.xml",
        "application/rss+xml",
        rss("Ann's blog", &[("a1", "First post"), ("a2", "Second post")]),
    );
    let app = spawn_app(backend).await;
    app.sign_up("ann@example.com").await;
    let feed_page = app.add_feed(&url).await;
    app.poll().await;
    assert_eq!(rows(&app).await.len(), 14);
    (app, feeds, feed_page)
}

async fn save_template(app: &TestApp, platform: &str, source: &str) -> reqwest::Response {
    app.submit(
        "/templates",
        "/templates",
        &[
            ("platform", platform),
            ("variant", "default"),
            ("source", source),
            ("action", "save"),
        ],
    )
    .await
}

async fn mark_posted(app: &TestApp, caption_id: &str) {
    let done = app
        .submit(
            "/captions",
            &format!("/captions/{caption_id}/status"),
            &[("status", "posted"), ("back", "/captions")],
        )
        .await;
    assert_eq!(done.status().as_u16(), 303);
}

/// The subscriber's own words for a caption, through the desk's form.
async fn edit_caption(app: &TestApp, caption_id: &str, text: &str) {
    let edited = app
        .submit(
            "/captions",
            &format!("/captions/{caption_id}/text"),
            &[("text", text), ("back", "/captions")],
        )
        .await;
    assert_eq!(edited.status().as_u16(), 303);
}

async fn a_saved_template_rewrites_only_the_captions_nobody_used(backend: Backend) {
    let (app, _feeds, _) = ann_with_captions(backend).await;
    let before = rows(&app).await;
    assert!(
        before.iter().all(|r| !r.served),
        "nothing has left the desk yet"
    );
    let posted_x = find(&before, "First post", "x").clone();
    mark_posted(&app, &posted_x.id).await;
    assert!(!app.get_html("/captions").await.contains("NEW: SECOND POST"));

    let saved = save_template(&app, "x", "NEW: {{ title|upper }} {{ url }}").await;
    assert_eq!(
        location(&saved),
        "/templates?platform=x&variant=default&saved=1&changes=1-0-0-1"
    );
    let page = app.get_html(&location(&saved)).await;
    assert!(
        page.contains("1 caption rewritten")
            && page.contains("1 caption already posted, edited or sent on was kept as it was."),
        "{page}"
    );
    let after = rows(&app).await;
    assert_eq!(after.len(), 14, "nothing added or lost");
    assert_eq!(
        find(&after, "First post", "x"),
        &posted_x,
        "a posted caption stays"
    );
    let rewritten = find(&after, "Second post", "x");
    assert_eq!(rewritten.body, "NEW: SECOND POST https://blog.example/a2");
    assert!(
        app.get_html("/captions").await.contains("NEW: SECOND POST"),
        "the desk shows the rewrite at once"
    );
    assert_eq!(
        rewritten.id,
        find(&before, "Second post", "x").id,
        "rewritten in place: the desk, its links and its counters keep the same caption"
    );
    for r in after.iter().filter(|r| r.platform != "x") {
        assert_eq!(
            Some(r),
            before.iter().find(|b| b.id == r.id),
            "other platforms untouched"
        );
    }

    // Back to the built-in template: the unused one follows again.
    let removed = app
        .submit(
            "/templates",
            "/templates",
            &[
                ("platform", "x"),
                ("variant", "default"),
                ("source", ""),
                ("action", "delete"),
            ],
        )
        .await;
    // The posted caption's text is the built-in template's again: nothing to keep apart.
    assert_eq!(
        location(&removed),
        "/templates?platform=x&variant=default&changes=1-0-0-0"
    );
    assert_eq!(rows(&app).await, before);
}
on_both_backends!(a_saved_template_rewrites_only_the_captions_nobody_used);

async fn captions_a_program_or_an_edit_took_are_never_rewritten(backend: Backend) {
    let (app, _feeds, _) = ann_with_captions(backend).await;
    // A program reads the Bluesky captions through the API, a caption feed carries every
    // made caption, and Ann edits the Threads caption of the second post.
    let token = app.api_token("ann@example.com").await;
    let listed = reqwest::Client::new()
        .get(app.url("/api/v1/captions?platform=bluesky&limit=1"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(listed.status().as_u16(), 200);
    let served: Vec<Row> = rows(&app).await.into_iter().filter(|r| r.served).collect();
    assert_eq!(
        served.len(),
        1,
        "only the caption on the page is served: {served:#?}"
    );
    assert_eq!(served[0].platform, "bluesky");

    let threads = find(&rows(&app).await, "Second post", "threads").clone();
    edit_caption(&app, &threads.id, "My own words").await;

    let saved = save_template(&app, "bluesky", "B: {{ title }} {{ url }}").await;
    assert_eq!(
        location(&saved),
        "/templates?platform=bluesky&variant=default&saved=1&changes=1-0-0-1"
    );
    let saved = save_template(&app, "threads", "T: {{ title }} {{ url }}").await;
    // Kept: the edited Threads caption, and the served Bluesky one, which still differs
    // from what the account's templates now make.
    assert_eq!(
        location(&saved),
        "/templates?platform=threads&variant=default&saved=1&changes=1-0-0-2"
    );
    let after = rows(&app).await;
    assert_eq!(find(&after, "Second post", "threads").body, "My own words");
    assert_eq!(
        find(&after, "First post", "threads").body,
        "T: First post https://blog.example/a1"
    );
    let still = after.iter().find(|r| r.id == served[0].id).unwrap();
    assert_eq!(
        still.body, served[0].body,
        "the caption the program read is unchanged"
    );

    // The caption feed serves everything it lists; after that no template change
    // rewrites anything.
    let base = crate::caption_feeds::caption_feed_base(&app, &app.client).await;
    assert_eq!(
        reqwest::get(format!("{base}/json"))
            .await
            .unwrap()
            .status()
            .as_u16(),
        200
    );
    let saved = save_template(&app, "x", "Z: {{ title }} {{ url }}").await;
    assert_eq!(
        location(&saved),
        "/templates?platform=x&variant=default&saved=1&changes=0-0-0-4"
    );
    assert!(rows(&app).await.iter().all(|r| !r.body.starts_with("Z: ")));
}
on_both_backends!(captions_a_program_or_an_edit_took_are_never_rewritten);

async fn save_settings(
    app: &TestApp,
    feed_page: &str,
    fields: &[(&str, &str)],
) -> reqwest::Response {
    let mut form = vec![("platforms_shown", "1")];
    form.extend_from_slice(fields);
    app.submit(feed_page, &format!("{feed_page}/settings"), &form)
        .await
}

async fn feed_settings_choose_platforms_and_bring_unused_captions_along(backend: Backend) {
    let (app, feeds, feed_page) = ann_with_captions(backend).await;
    let page = app.get_html(&feed_page).await;
    assert_eq!(
        page.matches(r#"type="checkbox" value="on" checked> "#)
            .count(),
        7,
        "every platform is on at first: {page}"
    );
    let posted_threads = find(&rows(&app).await, "First post", "threads").clone();
    mark_posted(&app, &posted_threads.id).await;

    // Only X and Threads: the other five platforms' unused captions go; the posted one stays.
    let saved = save_settings(
        &app,
        &feed_page,
        &[("platform_x", "on"), ("platform_threads", "on")],
    )
    .await;
    assert_eq!(
        location(&saved),
        format!("{feed_page}?saved=1&changes=0-0-10-0")
    );
    let page = app.get_html(&location(&saved)).await;
    assert!(page.contains("10 captions removed"), "{page}");
    assert_eq!(page.matches(r#"value="on" checked> "#).count(), 2, "{page}");
    let after = rows(&app).await;
    assert_eq!(platforms_of(&after, "First post"), ["threads", "x"]);
    assert_eq!(platforms_of(&after, "Second post"), ["threads", "x"]);

    // X and Bluesky with UTM: Bluesky comes back, X gets tagged links, the unused
    // Threads caption goes and the posted one stays.
    let saved = save_settings(
        &app,
        &feed_page,
        &[
            ("platform_x", "on"),
            ("platform_bluesky", "on"),
            ("utm", "on"),
        ],
    )
    .await;
    assert_eq!(
        location(&saved),
        format!("{feed_page}?saved=1&changes=2-2-1-1")
    );
    let after = rows(&app).await;
    assert_eq!(
        platforms_of(&after, "First post"),
        ["bluesky", "threads", "x"]
    );
    assert_eq!(platforms_of(&after, "Second post"), ["bluesky", "x"]);
    assert_eq!(find(&after, "First post", "threads"), &posted_threads);
    assert!(find(&after, "Second post", "x")
        .body
        .contains("?utm_source=x&utm_medium=social"));
    assert!(find(&after, "Second post", "bluesky")
        .body
        .contains("utm_source=bluesky"));

    // Keywords that leave out the second post take its unused captions away.
    let saved = save_settings(
        &app,
        &feed_page,
        &[
            ("platform_x", "on"),
            ("platform_bluesky", "on"),
            ("utm", "on"),
            ("exclude_keywords", "second"),
        ],
    )
    .await;
    // The posted Threads caption is counted as kept again: the settings still leave it out.
    assert_eq!(
        location(&saved),
        format!("{feed_page}?saved=1&changes=0-0-2-1")
    );
    assert!(platforms_of(&rows(&app).await, "Second post").is_empty());

    // No platform at all is refused and changes nothing.
    let before = rows(&app).await;
    let refused = save_settings(&app, &feed_page, &[]).await;
    assert_eq!(refused.status().as_u16(), 422);
    assert!(refused
        .text()
        .await
        .unwrap()
        .contains("pick at least one platform"));
    assert_eq!(rows(&app).await, before);

    // The poller makes the next post's captions with the same choice.
    app.make_all_due().await;
    feeds.set(
        "/feed.xml",
        "application/rss+xml",
        rss(
            "Ann's blog",
            &[
                ("a3", "Third post"),
                ("a1", "First post"),
                ("a2", "Second post"),
            ],
        ),
    );
    app.poll().await;
    assert_eq!(
        platforms_of(&rows(&app).await, "Third post"),
        ["bluesky", "x"]
    );
}
on_both_backends!(feed_settings_choose_platforms_and_bring_unused_captions_along);

async fn another_accounts_change_touches_nothing_of_ann(backend: Backend) {
    let (app, _feeds, anns_feed) = ann_with_captions(backend).await;
    let before = rows(&app).await;
    let bob = crate::helpers::new_browser();
    app.sign_up_as(&bob, "bob@example.com").await;
    let hijack = app
        .submit_as(
            &bob,
            "/templates",
            &format!("{anns_feed}/settings"),
            &[("platforms_shown", "1"), ("platform_x", "on")],
        )
        .await;
    assert_eq!(hijack.status().as_u16(), 404);
    let bobs_template = app
        .submit_as(
            &bob,
            "/templates",
            "/templates",
            &[
                ("platform", "x"),
                ("variant", "default"),
                ("source", "Bob {{ title }}"),
                ("action", "save"),
            ],
        )
        .await;
    assert_eq!(bobs_template.status().as_u16(), 303);
    assert_eq!(rows(&app).await, before);
}
on_both_backends!(another_accounts_change_touches_nothing_of_ann);

async fn the_desk_shows_a_rewrite_at_once_and_a_served_stamp_changes_nothing_there(
    backend: Backend,
) {
    let (app, _feeds, _) = ann_with_captions(backend).await;
    let desk = |etag: Option<String>| {
        let mut request = app.client.get(app.url("/captions"));
        if let Some(etag) = etag {
            request = request.header("If-None-Match", etag);
        }
        request.send()
    };
    let first = desk(None).await.expect("desk");
    let etag = first.headers()["etag"].to_str().expect("etag").to_owned();
    assert!(!first.text().await.expect("page").contains("NEW: "));

    // A program reads every caption: they are stamped served, and the desk page is the same.
    let token = app.api_token("ann@example.com").await;
    let listed = reqwest::Client::new()
        .get(app.url("/api/v1/captions?limit=100"))
        .bearer_auth(&token)
        .send()
        .await
        .expect("answers");
    assert_eq!(listed.status().as_u16(), 200);
    assert!(rows(&app).await.iter().all(|r| r.served));
    let unchanged = desk(Some(etag.clone())).await.expect("desk");
    assert_eq!(
        unchanged.status().as_u16(),
        304,
        "a served stamp is not a change on the desk"
    );

    // A change the desk does show (her own edit) still reaches it at once.
    let x = find(&rows(&app).await, "First post", "x").clone();
    edit_caption(&app, &x.id, "NEW: my words").await;
    let changed = desk(Some(etag)).await.expect("desk");
    assert_eq!(changed.status().as_u16(), 200);
    assert!(changed
        .text()
        .await
        .expect("page")
        .contains("NEW: my words"));
}
on_both_backends!(the_desk_shows_a_rewrite_at_once_and_a_served_stamp_changes_nothing_there);

async fn the_templates_api_brings_unused_captions_along_too(backend: Backend) {
    let (app, _feeds, _) = ann_with_captions(backend).await;
    let token = app.api_token("ann@example.com").await;
    let api = reqwest::Client::new();
    let before = rows(&app).await;

    let put_template = |source: &'static str| {
        api.put(app.url("/api/v1/templates/x/default"))
            .bearer_auth(&token)
            .json(&serde_json::json!({ "source": source }))
            .send()
    };
    let saved = put_template("API: {{ title }} {{ url }}")
        .await
        .expect("answers");
    assert_eq!(saved.status().as_u16(), 200);
    let after = rows(&app).await;
    assert_eq!(
        find(&after, "Second post", "x").body,
        "API: Second post https://blog.example/a2"
    );
    assert_eq!(
        find(&after, "First post", "x").body,
        "API: First post https://blog.example/a1"
    );

    // A refused template changes no caption.
    let refused = put_template("{{ titel }}").await.expect("answers");
    assert_eq!(refused.status().as_u16(), 422);
    assert_eq!(rows(&app).await, after);

    let removed = api
        .delete(app.url("/api/v1/templates/x/default"))
        .bearer_auth(&token)
        .send()
        .await
        .expect("answers");
    assert_eq!(removed.status().as_u16(), 204);
    assert_eq!(
        rows(&app).await,
        before,
        "back to the built-in template's text"
    );
}
on_both_backends!(the_templates_api_brings_unused_captions_along_too);
