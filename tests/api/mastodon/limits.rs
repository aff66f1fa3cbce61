//! The connected instance's character limit is the account's Mastodon limit: for the feeds
//! followed before connecting (set when it connects) and for those followed after.

use super::approve_on_instance;
use super::fake::MastodonFake;
use crate::helpers::{rss, spawn_app, Backend, FeedServer};
use crate::on_both_backends;

async fn a_feed_followed_after_connecting_gets_the_instances_limit(backend: Backend) {
    let fake = MastodonFake::start().await;
    fake.set_max_characters(1000);
    let app = spawn_app(backend).await;
    let blog = FeedServer::start().await;
    app.sign_up("ann@example.com").await;
    app.add_feed(&blog.set(
        "/before.xml",
        "application/rss+xml",
        rss("Before", &[("b1", "Followed before connecting")]),
    ))
    .await;
    let back = approve_on_instance(&app, &app.client, &fake).await;
    assert_eq!(app.get(&back).await.status().as_u16(), 303);

    app.add_feed(&blog.set(
        "/after.xml",
        "application/rss+xml",
        rss("After", &[("a1", "Followed after connecting")]),
    ))
    .await;
    let limited = "SELECT COUNT(*) AS n FROM subscriptions WHERE mastodon_limit = 1000";
    assert_eq!(app.sql_count(limited).await, 2, "both feeds");
    app.make_all_due().await;
    app.poll().await;
    let fitted = "SELECT COUNT(*) AS n FROM captions c JOIN subscriptions s ON s.id = c.subscription_id \
                  JOIN feeds f ON f.id = s.feed_id \
                  WHERE c.platform = 'mastodon' AND c.char_limit = 1000 AND f.url LIKE '%/after.xml'";
    assert!(
        app.sql_count(fitted).await > 0,
        "the new feed's Mastodon captions are fitted to 1000"
    );
}
on_both_backends!(a_feed_followed_after_connecting_gets_the_instances_limit);
