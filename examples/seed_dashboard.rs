//! Seeds one account with 50 feeds and 5,000 captions for the dashboard load benchmark
//! (`benches/dashboard-load.sh`) and prints a session token for it.
//!
//! Usage: CAPTIONFEED_DATABASE_URL=sqlite://bench.db cargo run --release --example seed_dashboard
//!
//! Rows are written with plain SQL in one transaction (fast, and the same on both
//! backends); feeds are due in 2100 and posts marked as having no image, so the workers of
//! the server under test stay idle and only the pages are measured.

use captionfeed::accounts::validate::{Email, Password};
use captionfeed::accounts::{password, sessions, users};
use captionfeed::config::Settings;
use captionfeed::db::{new_id, DbError};
use diesel::connection::SimpleConnection as _;

const FEEDS: usize = 50;
const CAPTIONS: usize = 5_000;
const PLATFORMS: [(&str, i32); 7] = [
    ("x", 280),
    ("mastodon", 500),
    ("bluesky", 300),
    ("threads", 500),
    ("linkedin", 3000),
    ("instagram", 2200),
    ("facebook", 63206),
];

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let settings = Settings::from_vars(std::env::vars())?;
    let db = captionfeed::cli::open_database(&settings).await?;
    let email = Email::parse("bench@example.com")?;
    let hash = password::hash(&Password::parse("benchmark password")?)?;
    let token = db
        .run(move |conn| {
            let user = users::create(conn, &email, &hash)?;
            let token = sessions::create(conn, &user.id)?;
            conn.batch_execute(&seed_sql(&user.id))
                .map_err(DbError::from)?;
            Ok::<_, anyhow::Error>(token)
        })
        .await?;
    println!("{token}");
    Ok(())
}

fn quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

fn seed_sql(user_id: &str) -> String {
    let mut sql = String::from("BEGIN;\n");
    let base = chrono::NaiveDate::from_ymd_opt(2026, 11, 1)
        .and_then(|d| d.and_hms_opt(8, 0, 0))
        .unwrap_or_default();
    let time = |minutes: usize| {
        (base + chrono::Duration::minutes(minutes as i64))
            .format("'%Y-%m-%d %H:%M:%S'")
            .to_string()
    };
    let posts_per_feed = CAPTIONS.div_ceil(FEEDS * PLATFORMS.len());
    let mut captions = 0;
    for f in 0..FEEDS {
        let (feed, subscription) = (new_id(), new_id());
        sql.push_str(&format!(
            "INSERT INTO feeds (id, url, title, site_url, last_checked_at, last_success_at, next_check_at, error_count, created_at) \
             VALUES ({feed}, {url}, {title}, 'https://blog{f}.example/', {t}, {t}, '2100-01-01 00:00:00', 0, {t});\n\
             INSERT INTO subscriptions (id, user_id, feed_id, platforms, paused, backfill, backfilled_at, created_at) \
             VALUES ({subscription}, {user}, {feed}, 'x,mastodon,bluesky,threads,linkedin,instagram,facebook', FALSE, 3, {t}, {t});\n",
            feed = quote(&feed),
            subscription = quote(&subscription),
            user = quote(user_id),
            url = quote(&format!("https://blog{f}.example/feed.xml")),
            title = quote(&format!("Engineering blog number {f}")),
            t = time(0),
        ));
        for p in 0..posts_per_feed {
            let post = new_id();
            let at = time(f * posts_per_feed + p);
            let title = format!("Post {p} of blog {f}: what we learned shipping a small feature");
            sql.push_str(&format!(
                "INSERT INTO posts (id, feed_id, entry_key, title, url, summary, content_text, published_at, categories, first_seen_at) \
                 VALUES ({post}, {feed}, {key}, {title}, {url}, {summary}, {summary}, {at}, 'Rust,Web', {at});\n\
                 INSERT INTO post_images (post_id, error, attempts, next_attempt_at) VALUES ({post}, 'the post names no image', 3, {at});\n",
                post = quote(&post),
                feed = quote(&feed),
                key = quote(&format!("id:{f}-{p}")),
                title = quote(&title),
                url = quote(&format!("https://blog{f}.example/posts/{p}")),
                summary = quote("A short summary of the post, as a feed reader would show it, in a sentence or two."),
            ));
            for (platform, limit) in PLATFORMS {
                if captions == CAPTIONS {
                    break;
                }
                captions += 1;
                let body = format!(
                    "{title}\n\nA short summary of the post, as a feed reader would show it. https://blog{f}.example/posts/{p} #Rust #Web"
                );
                sql.push_str(&format!(
                    "INSERT INTO captions (id, user_id, subscription_id, post_id, platform, variant, body, length, char_limit, created_at) \
                     VALUES ({id}, {user}, {subscription}, {post}, '{platform}', 'default', {body}, {length}, {limit}, {at});\n",
                    id = quote(&new_id()),
                    user = quote(user_id),
                    subscription = quote(&subscription),
                    post = quote(&post),
                    body = quote(&body),
                    length = body.chars().count(),
                ));
            }
        }
    }
    sql.push_str("COMMIT;\n");
    sql
}
