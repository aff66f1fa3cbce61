//! A post's angles are read once, when its feed is, and stored with it on both backends;
//! posts stored before angles existed get them from their stored text.

use captionfeed::db::schema::posts;
use captionfeed::feeds::store::Post;
use diesel::prelude::*;

use crate::helpers::{spawn_app, Backend, FeedServer};
use crate::on_both_backends;

const CONTENT: &str = "<p>Every deploy used to mean a maintenance window for our team.</p>\
<p>Our largest table has 400 million rows, and a naive ALTER TABLE took an exclusive lock for minutes.</p>\
<p>Expand and contract migrations let old and new versions of the code share one table while a column moves.</p>\
<p>Why does a rename of one column need two deploys?</p>\
<p>We backfill the new column in batches, and the migration pattern keeps every table online.</p>";

fn feed() -> String {
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?><rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/"><channel><title>Ops notes</title><link>https://blog.example/</link><description>d</description>
<item><guid>m1</guid><title>Zero-downtime migrations</title><link>https://blog.example/m1</link>
<description>How we ship schema changes without locking tables.</description>
<content:encoded><![CDATA[{CONTENT}]]></content:encoded>
<pubDate>Mon, 16 Nov 2026 10:00:00 +0000</pubDate></item></channel></rss>"#
    )
}

async fn stored_post(app: &crate::helpers::TestApp) -> Post {
    app.db
        .run(|conn| {
            posts::table
                .select(Post::as_select())
                .first(conn)
                .map_err(captionfeed::db::DbError::from)
        })
        .await
        .expect("post stored")
}

async fn angles_are_stored_with_each_post_and_worked_out_for_older_ones(backend: Backend) {
    let feeds = FeedServer::start().await;
    let url = feeds.set("/feed.xml", "application/rss+xml", feed());
    let app = spawn_app(backend).await;
    app.sign_up("ann@example.com").await;
    app.add_feed(&url).await;
    app.poll().await;

    let post = stored_post(&app).await;
    let stored = post.angles.clone().expect("angles stored with the post");
    let angles = post.angles();
    assert_eq!(
        angles.question,
        "Why does a rename of one column need two deploys?"
    );
    assert!(angles.number.contains("400 million"), "{angles:?}");
    assert!(!angles.key_sentence.is_empty(), "{angles:?}");
    assert_ne!(angles.key_sentence, post.lead);

    // A post stored before angles existed has none in its row: they come from its text.
    app.db
        .run(|conn| {
            diesel::update(posts::table)
                .set(posts::angles.eq(None::<String>))
                .execute(conn)
                .map_err(captionfeed::db::DbError::from)
        })
        .await
        .expect("angles cleared");
    let older = stored_post(&app).await;
    assert_eq!(older.angles, None);
    assert_eq!(older.angles(), angles, "stored as {stored}");

    // The X caption carries a hook from the post besides its title and link.
    let desk = app.get_html("/captions").await;
    assert!(
        desk.contains(&angles.key_sentence) || desk.contains(&post.lead),
        "{desk}"
    );
}
on_both_backends!(angles_are_stored_with_each_post_and_worked_out_for_older_ones);
