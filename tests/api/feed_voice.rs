//! A feed's own voice: its hashtag rules, set on the feed's page and used in its captions.

use crate::helpers::{location, spawn_app, Backend, FeedServer, TestApp};
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
    let email = captionfeed::accounts::validate::Email::parse("ann@example.com").unwrap();
    app.db
        .run(move |conn| {
            let user = captionfeed::accounts::users::find_by_email(conn, &email)?.unwrap();
            captionfeed::accounts::tokens::create(conn, &user.user_id(), "tests")
                .map(|(_, secret)| secret)
        })
        .await
        .unwrap()
}
