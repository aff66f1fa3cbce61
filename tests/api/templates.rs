use crate::helpers::{location, new_browser, rss, spawn_app, Backend, FeedServer, TestApp};
use crate::on_both_backends;

async fn save_template(
    app: &TestApp,
    platform: &str,
    variant: &str,
    source: &str,
    action: &str,
) -> reqwest::Response {
    app.submit(
        "/templates",
        "/templates",
        &[
            ("platform", platform),
            ("variant", variant),
            ("source", source),
            ("action", action),
        ],
    )
    .await
}

async fn with_feed(backend: Backend) -> (TestApp, FeedServer, String) {
    let feeds = FeedServer::start().await;
    let url = feeds.set(
        "/feed.xml",
        "application/rss+xml",
        rss(
            "Ann's blog",
            &[("a1", "First post"), ("a2", "Sponsored second post")],
        ),
    );
    let app = spawn_app(backend).await;
    app.sign_up("ann@example.com").await;
    let feed_page = app.add_feed(&url).await;
    (app, feeds, feed_page)
}

async fn templates_are_validated_saved_and_used_with_variants(backend: Backend) {
    let (app, _feeds, feed_page) = with_feed(backend).await;

    let saved = save_template(
        &app,
        "x",
        "default",
        "NEW: {{ title|upper }}\n{{ url }}",
        "save",
    )
    .await;
    assert_eq!(saved.status().as_u16(), 303);
    assert_eq!(
        location(&saved),
        "/templates?platform=x&variant=default&saved=1"
    );

    // A broken template is refused with its line and reason; the saved one stays.
    let refused = save_template(&app, "x", "default", "{{ title }}\n{{ titel }}", "save").await;
    assert_eq!(refused.status().as_u16(), 422);
    let body = refused.text().await.unwrap();
    assert!(
        body.contains("line 2: unknown variable &quot;titel&quot;")
            || body.contains("line 2: unknown variable &#34;titel&#34;"),
        "{body}"
    );
    let refused = save_template(&app, "x", "default", "{% if title %}", "save").await;
    assert!(refused
        .text()
        .await
        .unwrap()
        .contains("line 1: syntax error"));
    let page = app.get_html("/templates?platform=x").await;
    assert!(page.contains("NEW: {{ title|upper }}"), "{page}");

    let teaser = save_template(
        &app,
        "bluesky",
        "teaser",
        "Teaser: {{ summary|truncate_words(3) }}",
        "save",
    )
    .await;
    assert_eq!(teaser.status().as_u16(), 303);
    let settings = app
        .submit(
            &feed_page,
            &format!("{feed_page}/settings"),
            &[("variants", "default, teaser")],
        )
        .await;
    assert_eq!(settings.status().as_u16(), 303);

    let report = app.poll().await;
    // Seven default captions per post, and seven teasers: the account's own on Bluesky,
    // the built-in teaser style on the other platforms.
    assert_eq!(report.captions_written, 2 * (7 + 7));
    let captions = app.get_html("/captions").await;
    assert!(
        captions.contains("NEW: FIRST POST\nhttps://blog.example/a1"),
        "{captions}"
    );
    assert!(captions.contains("Teaser: Summary of First…"), "{captions}");
    // On the desk a variant's chip carries its label.
    assert_eq!(
        captions
            .matches(r#"Bluesky <span class="variant">· Teaser</span>"#)
            .count(),
        2,
        "{captions}"
    );
}
on_both_backends!(templates_are_validated_saved_and_used_with_variants);

async fn preview_renders_latest_posts_without_saving(backend: Backend) {
    let (app, _feeds, _) = with_feed(backend).await;
    app.poll().await;
    let preview = save_template(
        &app,
        "x",
        "default",
        "Preview of {{ title }} {{ url }}",
        "preview",
    )
    .await;
    assert_eq!(preview.status().as_u16(), 200);
    let body = preview.text().await.unwrap();
    assert!(
        body.contains("Preview of First post https://blog.example/a1"),
        "{body}"
    );
    // "Preview of " + title + " " + URL counted as 23.
    assert!(
        body.contains(&format!("{}/280", 11 + 10 + 1 + 23)),
        "{body}"
    );
    assert!(app
        .get_html("/templates?platform=x")
        .await
        .contains("{{ title }}{% if key_sentence %}"));
    let invalid = save_template(&app, "x", "default", "{{ nope }}", "preview").await;
    assert_eq!(invalid.status().as_u16(), 422);
}
on_both_backends!(preview_renders_latest_posts_without_saving);

async fn preview_uses_the_subscriptions_mastodon_limit(backend: Backend) {
    let (app, _feeds, feed_page) = with_feed(backend).await;
    let ok = app
        .submit(
            &feed_page,
            &format!("{feed_page}/settings"),
            &[("mastodon_limit", "1000")],
        )
        .await;
    assert_eq!(ok.status().as_u16(), 303);
    app.poll().await;
    // 600 characters: over the default 500, within this instance's 1000.
    let source = format!("{{{{ title }}}} {}", "x".repeat(600));
    let preview = save_template(&app, "mastodon", "default", &source, "preview").await;
    assert_eq!(preview.status().as_u16(), 200);
    let body = preview.text().await.unwrap();
    assert!(body.contains("/1000"), "{body}");
    assert!(!body.contains("/500"), "{body}");
    assert!(body.contains(&"x".repeat(600)), "not shortened: {body}");
}
on_both_backends!(preview_uses_the_subscriptions_mastodon_limit);

async fn a_render_failure_is_shown_on_the_caption(backend: Backend) {
    let (app, _feeds, _) = with_feed(backend).await;
    // Valid against the sample post (three categories), fails on these posts (one).
    let saved = save_template(
        &app,
        "threads",
        "default",
        "{{ title }} {{ categories[2] }}",
        "save",
    )
    .await;
    assert_eq!(saved.status().as_u16(), 303);
    app.poll().await;
    let captions = app.get_html("/captions").await;
    assert_eq!(
        captions
            .matches("No caption: line 1: undefined value")
            .count(),
        2,
        "{captions}"
    );

    // Programs see the failure; feed readers get only captions that have text.
    let token = app.api_token("ann@example.com").await;
    let page: serde_json::Value = reqwest::Client::new()
        .get(app.url("/api/v1/captions?platform=threads"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let threads = page["captions"].as_array().unwrap();
    assert_eq!(threads.len(), 2);
    assert!(threads
        .iter()
        .all(|c| c["text"] == "" && c["error"].as_str().unwrap().contains("undefined value")));
    let base = crate::caption_feeds::caption_feed_base(&app, &app.client).await;
    let body = reqwest::get(format!("{base}/json"))
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    let parsed = feed_rs::parser::parse(&body[..]).unwrap();
    assert_eq!(
        parsed.entries.len(),
        2 * 6,
        "the failed Threads captions are left out"
    );
}
on_both_backends!(a_render_failure_is_shown_on_the_caption);

async fn feed_settings_filter_posts_and_tag_links(backend: Backend) {
    let (app, _feeds, feed_page) = with_feed(backend).await;
    let bad = app
        .submit(
            &feed_page,
            &format!("{feed_page}/settings"),
            &[("mastodon_limit", "5")],
        )
        .await;
    assert_eq!(bad.status().as_u16(), 422);
    assert!(bad
        .text()
        .await
        .unwrap()
        .contains("Mastodon limit must be a number from 100"));
    let ok = app
        .submit(
            &feed_page,
            &format!("{feed_page}/settings"),
            &[
                ("utm", "on"),
                ("exclude_keywords", "sponsored"),
                ("mastodon_limit", "1000"),
            ],
        )
        .await;
    assert_eq!(ok.status().as_u16(), 303);
    let page = app.get_html(&location(&ok)).await;
    assert!(
        page.contains("Settings saved") && page.contains(r#"value="1000""#),
        "{page}"
    );

    let report = app.poll().await;
    assert_eq!(report.captions_written, 7, "the sponsored post is skipped");
    let captions = app.get_html("/captions").await;
    assert!(!captions.contains("Sponsored second post"));
    assert!(captions.contains("https://blog.example/a1?utm_source=x&amp;utm_medium=social&amp;utm_campaign=captionfeed")
        || captions.contains("https://blog.example/a1?utm_source=x&#38;utm_medium=social"), "{captions}");
    assert!(
        captions.contains("/1000"),
        "Mastodon shows the instance limit"
    );
}
on_both_backends!(feed_settings_filter_posts_and_tag_links);

async fn templates_and_settings_are_private(backend: Backend) {
    let (app, _feeds, anns_feed) = with_feed(backend).await;
    save_template(&app, "x", "anns-secret", "Ann only {{ title }}", "save").await;
    let bob = new_browser();
    app.sign_up_as(&bob, "bob@example.com").await;
    let bobs = app
        .get_as(&bob, "/templates?platform=x")
        .await
        .text()
        .await
        .unwrap();
    assert!(!bobs.contains("anns-secret"));
    let hijack = app
        .submit_as(
            &bob,
            "/templates",
            &format!("{anns_feed}/settings"),
            &[("utm", "on")],
        )
        .await;
    assert_eq!(hijack.status().as_u16(), 404);
    assert_eq!(
        app.get_as(&bob, "/templates?platform=myspace")
            .await
            .status()
            .as_u16(),
        404
    );
    // Without a CSRF token nothing is saved.
    let forged = bob
        .post(app.url("/templates"))
        .form(&[
            ("platform", "x"),
            ("variant", "default"),
            ("source", "x"),
            ("action", "save"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status().as_u16(), 403);
}
on_both_backends!(templates_and_settings_are_private);

async fn page_previews_and_api_saves_share_one_limit(backend: Backend) {
    let (app, _feeds, feed_page) = with_feed(backend).await;
    let token = app.api_token("ann@example.com").await;
    let feed_id = feed_page.rsplit('/').next().expect("the feed's id");
    // A bomb previewed on the page is refused like one saved.
    let bomb = "{{ ('x' * 1000)|replace('x', 'x' * 1000) }}";
    let refused = save_template(&app, "x", "default", bomb, "preview").await;
    assert_eq!(refused.status().as_u16(), 422);
    assert!(refused.text().await.unwrap().contains("longer than 16 KiB"));
    let client = reqwest::Client::new();
    let put = |path: String| {
        client
            .put(app.url(&path))
            .bearer_auth(&token)
            .json(&serde_json::json!({ "source": "{{ title }} {{ url }}" }))
            .send()
    };
    // Page previews, the account's templates and a feed's own templates, in turn.
    let mut answers = Vec::new();
    for i in 0..42 {
        let status = match i % 3 {
            0 => save_template(&app, "x", "default", "{{ title }}", "preview")
                .await
                .status(),
            1 => put("/api/v1/templates/x/default".into())
                .await
                .unwrap()
                .status(),
            _ => put(format!("/api/v1/feeds/{feed_id}/templates/x/default"))
                .await
                .unwrap()
                .status(),
        };
        answers.push(status.as_u16());
    }
    // The bomb counted too: 29 more pass, whichever door they come through
    // (one more for every 2 s the loop took, as the limit refills).
    let first_refusal = answers.iter().position(|s| *s == 429);
    assert!(
        first_refusal.is_some_and(|i| (29..35).contains(&i)),
        "{answers:?}"
    );
    assert!(answers[..29].iter().all(|s| *s == 200), "{answers:?}");
    // Every door is shut once the limit is spent, the feed's templates included.
    let refused_kinds: std::collections::HashSet<usize> = (35..42)
        .filter(|&i| answers[i] == 429)
        .map(|i| i % 3)
        .collect();
    assert_eq!(refused_kinds.len(), 3, "{answers:?}");
}
on_both_backends!(page_previews_and_api_saves_share_one_limit);
