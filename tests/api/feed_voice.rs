//! A feed's own voice: its hashtag rules, set on the feed's page and used in its captions.

use crate::helpers::{location, new_browser, rss, spawn_app, Backend, FeedServer, TestApp};
use crate::on_both_backends;

/// A feed with one post tagged as a company blog tags them: team codes, a placeholder,
/// two subjects in one category.
fn tagged_feed(language: &str) -> String {
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>Team blog</title>
<link>https://blog.example/</link><description>d</description>{language}
<item><guid>t1</guid><title>Shipping the new search</title><link>https://blog.example/t1</link>
<description>How the search team rebuilt ranking in six weeks.</description>
<pubDate>Mon, 16 Nov 2026 10:00:00 +0000</pubDate>
<category>GO</category><category>SCM</category><category>Uncategorized</category>
<category>AI &amp; Machine Learning</category><category>rust</category></item>
</channel></rss>"#
    )
}

async fn with_tagged_feed(backend: Backend, language: &str) -> (TestApp, FeedServer, String) {
    let feeds = FeedServer::start().await;
    let url = feeds.set("/feed.xml", "application/rss+xml", tagged_feed(language));
    let app = spawn_app(backend).await;
    app.sign_up("ann@example.com").await;
    let feed_page = app.add_feed(&url).await;
    (app, feeds, feed_page)
}

/// The caption text for one platform, from the JSON API.
async fn caption_text(app: &TestApp, token: &str, platform: &str) -> String {
    let page: serde_json::Value = app
        .client
        .get(app.url(&format!("/api/v1/captions?platform={platform}")))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    page["captions"][0]["text"]
        .as_str()
        .unwrap_or_else(|| panic!("{page}"))
        .to_owned()
}

async fn hashtags_follow_the_feeds_settings(backend: Backend) {
    let (app, _feeds, feed_page) = with_tagged_feed(backend, "").await;
    let settings = format!("{feed_page}/settings");

    let too_many = app
        .submit(&feed_page, &settings, &[("hashtag_cap_threads", "2")])
        .await;
    assert_eq!(too_many.status().as_u16(), 422);
    let body = too_many.text().await.unwrap();
    assert!(body.contains("Threads takes at most 1 hashtags"), "{body}");
    let not_a_number = app
        .submit(&feed_page, &settings, &[("hashtag_cap_x", "two")])
        .await;
    assert_eq!(not_a_number.status().as_u16(), 422);

    let saved = app
        .submit(
            &feed_page,
            &settings,
            &[
                ("hashtags_always", "#TeamBlog"),
                ("hashtags_blocked", "rust"),
                ("hashtags_kept", "scm"),
                ("hashtag_cap_x", "3"),
                ("hashtag_cap_instagram", "0"),
            ],
        )
        .await;
    assert_eq!(saved.status().as_u16(), 303);
    let page = app.get_html(&location(&saved)).await;
    assert!(
        page.contains(r#"name="hashtags_always" type="text" value="TeamBlog""#),
        "{page}"
    );
    assert!(
        page.contains(r#"name="hashtag_cap_x" type="number" min="0" max="30" value="3""#),
        "{page}"
    );
    assert!(
        page.contains(r#"name="hashtag_cap_mastodon" type="number" min="0" max="30" value="4""#),
        "{page}"
    );

    app.poll().await;
    let ann = ann_token(&app).await;
    let x = caption_text(&app, &ann, "x").await;
    assert!(x.ends_with("\n\n#TeamBlog #SCM #AI"), "{x}");
    let mastodon = caption_text(&app, &ann, "mastodon").await;
    assert!(
        mastodon.ends_with("#TeamBlog #SCM #AI #MachineLearning"),
        "{mastodon}"
    );
    let instagram = caption_text(&app, &ann, "instagram").await;
    assert!(!instagram.contains('#'), "{instagram}");
}
on_both_backends!(hashtags_follow_the_feeds_settings);

/// An API token for Ann, who signed up in the app's own browser.
async fn ann_token(app: &TestApp) -> String {
    token_of(app, "ann@example.com").await
}

async fn token_of(app: &TestApp, email: &str) -> String {
    let email = captionfeed::accounts::validate::Email::parse(email).unwrap();
    app.db
        .run(move |conn| {
            let user = captionfeed::accounts::users::find_by_email(conn, &email)?.unwrap();
            captionfeed::accounts::tokens::create(conn, &user.user_id(), "tests")
                .map(|(_, secret)| secret)
        })
        .await
        .unwrap()
}

async fn api_json(
    app: &TestApp,
    token: &str,
    method: reqwest::Method,
    path: &str,
    body: Option<serde_json::Value>,
) -> (u16, serde_json::Value) {
    let mut request = app.client.request(method, app.url(path)).bearer_auth(token);
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or(serde_json::Value::Null),
    )
}

async fn a_feed_speaks_its_own_language_with_its_own_utm_and_templates(backend: Backend) {
    let (app, _feeds, feed_page) = with_tagged_feed(backend, "<language>de-DE</language>").await;
    let feed_id = feed_page.trim_start_matches("/feeds/").to_owned();
    let ann = ann_token(&app).await;
    let feed_path = format!("/api/v1/feeds/{feed_id}");
    let settings_path = format!("{feed_path}/settings");
    use reqwest::Method;
    // The first check stores the feed's language and makes captions; every change below
    // rewrites them, as none is used yet.
    app.poll().await;

    let (status, feed) = api_json(&app, &ann, Method::GET, &feed_path, None).await;
    assert_eq!(status, 200, "{feed}");
    let settings = &feed["settings"];
    assert_eq!(settings["feed_language"], "de-de");
    assert_eq!(settings["words_language"], "de");
    assert_eq!(settings["language"], "");
    assert_eq!(settings["hashtags"]["caps"]["instagram"], 5);
    assert_eq!(settings["utm_campaign"], "");

    // Refused values change nothing.
    for bad in [
        serde_json::json!({"utm_campaign": "{campaign}"}),
        serde_json::json!({"language": "sv"}),
        serde_json::json!({"hashtags": {"caps": {"x": 2, "mastodon": 4, "bluesky": 2, "threads": 2, "linkedin": 3, "instagram": 5, "facebook": 3}}}),
        serde_json::json!({"mastodon_limit": 5}),
        serde_json::json!({"platforms": []}),
        serde_json::json!({"colour": "red"}),
    ] {
        let (status, body) =
            api_json(&app, &ann, Method::PATCH, &settings_path, Some(bad.clone())).await;
        assert!(status == 422 || status == 400, "{bad}: {status} {body}");
    }
    let (_, unchanged) = api_json(&app, &ann, Method::GET, &feed_path, None).await;
    assert_eq!(unchanged["settings"], feed["settings"]);

    let (status, patched) = api_json(
        &app,
        &ann,
        Method::PATCH,
        &settings_path,
        Some(serde_json::json!({
            "utm": true,
            "utm_source": "{platform}",
            "utm_campaign": "client-{feed}",
            "hashtags": {"always": ["#Search"]}
        })),
    )
    .await;
    assert_eq!(status, 200, "{patched}");
    assert_eq!(patched["settings"]["utm_campaign"], "client-{feed}");
    assert_eq!(
        patched["settings"]["hashtags"]["always"],
        serde_json::json!(["Search"])
    );

    // A template of the feed's own, for X only.
    let template = format!("{feed_path}/templates/x/default");
    let (status, body) = api_json(
        &app,
        &ann,
        Method::PUT,
        &template,
        Some(serde_json::json!({"source": "{{ title }}\n{{ titel }}"})),
    )
    .await;
    assert_eq!(status, 422);
    assert_eq!(body["error"]["line"], 2);
    let (status, body) = api_json(
        &app,
        &ann,
        Method::PUT,
        &template,
        Some(serde_json::json!({"source": "Vom Team: {{ title }} {{ url }}"})),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let (_, listed) = api_json(
        &app,
        &ann,
        Method::GET,
        &format!("{feed_path}/templates"),
        None,
    )
    .await;
    assert_eq!(
        listed["templates"][0]["source"],
        "Vom Team: {{ title }} {{ url }}"
    );
    let page = app.get_html(&feed_page).await;
    assert!(
        page.contains("x / default") && page.contains("Vom Team:"),
        "{page}"
    );

    // Another account sees none of it.
    let bob = app.api_token("bob@example.com").await;
    let (status, _) = api_json(
        &app,
        &bob,
        Method::PATCH,
        &settings_path,
        Some(serde_json::json!({"utm": false})),
    )
    .await;
    assert_eq!(status, 404);
    let (status, _) = api_json(
        &app,
        &bob,
        Method::PUT,
        &template,
        Some(serde_json::json!({"source": "{{ title }}"})),
    )
    .await;
    assert_eq!(status, 404);

    let linkedin = caption_text(&app, &ann, "linkedin").await;
    assert!(
        linkedin.contains("\n\nWeiterlesen: https://blog.example/t1?utm_source=linkedin&utm_medium=social&utm_campaign=client-team-blog\n\n#Search"),
        "{linkedin}"
    );
    let instagram = caption_text(&app, &ann, "instagram").await;
    assert!(
        instagram.contains("\n\nLink in der Bio.\n\n#Search"),
        "{instagram}"
    );
    let x = caption_text(&app, &ann, "x").await;
    assert!(
        x.starts_with("Vom Team: Shipping the new search https://blog.example/t1?utm_source=x&"),
        "{x}"
    );

    let (status, _) = api_json(&app, &ann, Method::DELETE, &template, None).await;
    assert_eq!(status, 204);
    let (status, _) = api_json(&app, &ann, Method::DELETE, &template, None).await;
    assert_eq!(status, 404);
}
on_both_backends!(a_feed_speaks_its_own_language_with_its_own_utm_and_templates);

async fn the_feed_page_sets_utm_language_and_templates(backend: Backend) {
    let (app, _feeds, feed_page) = with_tagged_feed(backend, "").await;
    let settings = format!("{feed_page}/settings");
    let typo = app
        .submit(&feed_page, &settings, &[("utm_source", "{platfrom}")])
        .await;
    assert_eq!(typo.status().as_u16(), 422);
    assert!(typo
        .text()
        .await
        .unwrap()
        .contains("utm_source may use {platform} and {feed}"));
    let saved = app
        .submit(
            &feed_page,
            &settings,
            &[("utm", "on"), ("utm_medium", "{feed}"), ("language", "fr")],
        )
        .await;
    assert_eq!(saved.status().as_u16(), 303);
    let page = app.get_html(&location(&saved)).await;
    assert!(
        page.contains(r#"<option value="fr" selected>Français</option>"#),
        "{page}"
    );
    assert!(page.contains(r#"value="{feed}""#), "{page}");
    assert!(
        page.contains("The feed&#39;s own (none declared: English)")
            || page.contains("The feed&#x27;s own (none declared: English)")
            || page.contains("The feed's own (none declared: English)"),
        "{page}"
    );

    let templates = format!("{feed_page}/templates");
    let refused = app
        .submit(
            &feed_page,
            &templates,
            &[
                ("platform", "bluesky"),
                ("variant", "default"),
                ("source", "{% if title %}"),
                ("action", "save"),
            ],
        )
        .await;
    assert_eq!(refused.status().as_u16(), 422);
    let body = refused.text().await.unwrap();
    assert!(
        body.contains("Not saved: line 1: syntax error") && body.contains("{% if title %}"),
        "{body}"
    );
    let saved = app
        .submit(
            &feed_page,
            &templates,
            &[
                ("platform", "bluesky"),
                ("variant", "default"),
                ("source", "Neu: {{ title }}"),
                ("action", "save"),
            ],
        )
        .await;
    assert_eq!(saved.status().as_u16(), 303);

    app.poll().await;
    let ann = ann_token(&app).await;
    assert_eq!(
        caption_text(&app, &ann, "bluesky").await,
        "Neu: Shipping the new search"
    );
    let linkedin = caption_text(&app, &ann, "linkedin").await;
    assert!(
        linkedin.contains("Lire la suite : https://blog.example/t1?utm_source=linkedin&utm_medium=team-blog&utm_campaign=captionfeed"),
        "{linkedin}"
    );
}
on_both_backends!(the_feed_page_sets_utm_language_and_templates);

/// The texts of every caption the account has for one platform, from the JSON API.
async fn caption_texts(app: &TestApp, token: &str, platform: &str) -> Vec<String> {
    let (status, page) = api_json(
        app,
        token,
        reqwest::Method::GET,
        &format!("/api/v1/captions?platform={platform}"),
        None,
    )
    .await;
    assert_eq!(status, 200, "{page}");
    page["captions"]
        .as_array()
        .unwrap_or_else(|| panic!("{page}"))
        .iter()
        .map(|c| c["text"].as_str().unwrap_or_default().to_owned())
        .collect()
}

/// The poller writes a batch of feeds' new captions at once, reading every subscription's
/// own templates together: each follower of a feed still gets its own, and a feed without
/// any gets the account's.
async fn new_posts_of_a_batch_use_each_followers_own_feed_templates(backend: Backend) {
    let feeds = FeedServer::start().await;
    let a = feeds.set(
        "/a.xml",
        "application/rss+xml",
        rss("Blog A", &[("a1", "A one")]),
    );
    let b = feeds.set(
        "/b.xml",
        "application/rss+xml",
        rss("Blog B", &[("b1", "B one")]),
    );
    let app = spawn_app(backend).await;
    app.sign_up("ann@example.com").await;
    let feed_a = app.add_feed(&a).await;
    app.add_feed(&b).await;
    let bob_browser = new_browser();
    app.sign_up_as(&bob_browser, "bob@example.com").await;
    let bobs_a = app.add_feed_as(&bob_browser, &a).await;
    app.poll().await;

    let (ann, bob) = (
        ann_token(&app).await,
        token_of(&app, "bob@example.com").await,
    );
    for (token, page, source) in [
        (&ann, &feed_a, "Ann on A: {{ title }}"),
        (&bob, &bobs_a, "Bob on A: {{ title }}"),
    ] {
        let templates = format!("/api/v1{page}/templates/x/default");
        let body = serde_json::json!({ "source": source });
        let (status, saved) =
            api_json(&app, token, reqwest::Method::PUT, &templates, Some(body)).await;
        assert_eq!(status, 200, "{saved}");
    }
    feeds.set(
        "/a.xml",
        "application/rss+xml",
        rss("Blog A", &[("a2", "A two"), ("a1", "A one")]),
    );
    feeds.set(
        "/b.xml",
        "application/rss+xml",
        rss("Blog B", &[("b2", "B two"), ("b1", "B one")]),
    );
    app.make_all_due().await;
    let report = app.poll().await;
    assert_eq!(
        (report.feeds_checked, report.new_posts),
        (2, 2),
        "{report:?}"
    );

    let ann_x = caption_texts(&app, &ann, "x").await;
    let bob_x = caption_texts(&app, &bob, "x").await;
    assert!(ann_x.iter().any(|t| t == "Ann on A: A two"), "{ann_x:?}");
    assert!(bob_x.iter().any(|t| t == "Bob on A: A two"), "{bob_x:?}");
    let b_two: Vec<_> = ann_x.iter().filter(|t| t.contains("B two")).collect();
    assert_eq!(b_two.len(), 1, "{ann_x:?}");
    assert!(!b_two[0].contains(" on A:"), "{ann_x:?}");
    assert!(
        !ann_x.iter().any(|t| t.starts_with("Bob on A")),
        "{ann_x:?}"
    );
    assert!(
        !bob_x.iter().any(|t| t.starts_with("Ann on A")),
        "{bob_x:?}"
    );
}
on_both_backends!(new_posts_of_a_batch_use_each_followers_own_feed_templates);
