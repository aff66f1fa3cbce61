//! The copy desk serves pages it rendered before while nothing on them changed: every
//! change shows, on every replica sharing the database (at once on SQLite and on the
//! replica that made it; on PostgreSQL's other replicas as soon as the database's
//! notification arrives), and no account or session ever gets another's page.

use std::io::Read as _;
use std::sync::Arc;
use std::time::{Duration, Instant};

use captionfeed::web::Application;
use tokio::sync::Notify;

use crate::helpers::{location, new_browser, rss, spawn_app, Backend, FeedServer, TestApp};
use crate::on_both_backends;

/// A second web server on the same database, as another replica behind a load balancer.
pub(crate) async fn another_web_replica(app: &TestApp) -> String {
    let db = captionfeed::cli::open_database(&app.settings)
        .await
        .expect("the replica's pool opens");
    let replica = Application::build(app.settings.clone(), db, Arc::new(Notify::new()))
        .await
        .expect("replica builds");
    let address = format!("http://127.0.0.1:{}", replica.port());
    tokio::spawn(replica.run_until_stopped());
    address
}

async fn page_at(client: &reqwest::Client, address: &str, path: &str) -> String {
    client
        .get(format!("{address}{path}"))
        .send()
        .await
        .expect("GET answers")
        .text()
        .await
        .expect("body")
}

/// How long a change may take to reach another process on PostgreSQL. It travels as a
/// notification, in well under a millisecond here; the allowance is for a loaded machine.
const TOLD_WITHIN: Duration = Duration::from_secs(5);

/// Asks `ask` until `done` holds of the answer: once on SQLite, where every request reads
/// the database; on PostgreSQL until the change's notification has arrived. Returns the
/// last answer, for the caller's assertion to show.
async fn once_told<T, F, Fut>(backend: Backend, ask: F, done: impl Fn(&T) -> bool) -> T
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = T>,
{
    let patience = match backend {
        Backend::Sqlite => Duration::ZERO,
        Backend::Postgres => TOLD_WITHIN,
    };
    let deadline = Instant::now() + patience;
    loop {
        let answer = ask().await;
        if done(&answer) || Instant::now() >= deadline {
            return answer;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// The desk page once `shows` holds of it (see [`once_told`]).
async fn page_showing(
    backend: Backend,
    client: &reqwest::Client,
    address: &str,
    shows: impl Fn(&str) -> bool,
) -> String {
    once_told(
        backend,
        || page_at(client, address, "/captions"),
        |html| shows(html),
    )
    .await
}

fn caption_ids(html: &str) -> Vec<String> {
    html.split(r#"data-caption=""#)
        .skip(1)
        .filter_map(|rest| rest.split('"').next().map(str::to_string))
        .collect()
}

async fn desk_with_captions(backend: Backend) -> (TestApp, FeedServer, String) {
    let feeds = FeedServer::start().await;
    let url = feeds.set(
        "/feed.xml",
        "application/rss+xml",
        rss("Blog", &[("p2", "Two"), ("p1", "One")]),
    );
    let app = spawn_app(backend).await;
    app.sign_up("ann@example.com").await;
    app.add_feed(&url).await;
    app.poll().await;
    (app, feeds, url)
}

async fn every_change_shows_on_every_replica(backend: Backend) {
    let (app, feeds, _url) = desk_with_captions(backend).await;
    let other = another_web_replica(&app).await;
    let (a, b) = (app.address.clone(), other);
    let client = &app.client;
    for address in [&a, &b] {
        let html = page_at(client, address, "/captions").await;
        assert!(html.contains("14 captions waiting to be posted."), "{html}");
    }
    let first = caption_ids(&page_at(client, &a, "/captions").await)[0].clone();
    if let Backend::Postgres = backend {
        // The other replica answers from memory before the change (once the sign-up's
        // fresh-read cookie has lapsed), so what follows does not pass for want of memory.
        let response = once_told(
            backend,
            || async {
                client
                    .get(format!("{b}/captions"))
                    .send()
                    .await
                    .expect("GET answers")
            },
            |r| viewer_source(r) == "memory",
        )
        .await;
        assert_eq!(viewer_source(&response), "memory");
    }

    // Marked as posted through one replica: at once there, and the other's page (rendered
    // before) shows it too.
    let response = app
        .submit(
            "/captions",
            &format!("/captions/{first}/status"),
            &[("status", "posted"), ("back", "/captions")],
        )
        .await;
    assert_eq!(response.status().as_u16(), 303);
    // The subscriber's own change shows at once on both (the form's answer tells the
    // browser to have the next pages read afresh).
    for address in [&a, &b] {
        let html = page_at(client, address, "/captions").await;
        assert!(html.contains("13 captions waiting to be posted."), "{html}");
        assert!(html.contains("Mark as not posted"));
    }

    // Edited through the other replica's form.
    let page = page_at(client, &b, "/captions").await;
    let token = crate::helpers::csrf_token(&page);
    let response = client
        .post(format!("{b}/captions/{first}/text"))
        .form(&[
            ("csrf_token", token.as_str()),
            ("text", "Words of my own"),
            ("back", "/captions"),
        ])
        .send()
        .await
        .expect("POST answers");
    assert_eq!(response.status().as_u16(), 303);
    for address in [&b, &a] {
        let html = page_at(client, address, "/captions").await;
        assert!(html.contains(">Words of my own</textarea>"), "{html}");
    }

    // Changes the poller and operators make, straight in the database.
    app.sql("UPDATE posts SET title = 'Two, retitled' WHERE title = 'Two'")
        .await;
    app.sql("UPDATE feeds SET title = 'The renamed blog'").await;
    let renamed = |html: &str| html.contains("Two, retitled") && html.contains("The renamed blog");
    for address in [&a, &b] {
        let html = page_showing(backend, client, address, renamed).await;
        assert!(renamed(&html), "{html}");
    }
    app.sql("UPDATE users SET email = 'ann@example.org'").await;
    for address in [&a, &b] {
        let html = page_showing(backend, client, address, |h| h.contains("ann@example.org")).await;
        assert!(html.contains("ann@example.org"), "{html}");
    }
    app.sql("UPDATE captions SET status = 'posted'").await;
    let caught_up = |html: &str| html.contains("Nothing waiting to be posted.");
    for address in [&a, &b] {
        let html = page_showing(backend, client, address, caught_up).await;
        assert!(caught_up(&html), "{html}");
    }

    // A new post's captions, written by the poller.
    feeds.set(
        "/feed.xml",
        "application/rss+xml",
        rss("Blog", &[("p3", "Three"), ("p2", "Two"), ("p1", "One")]),
    );
    app.make_all_due().await;
    app.poll().await;
    let new_post =
        |html: &str| html.contains("7 captions waiting to be posted.") && html.contains(">Three<");
    for address in [&a, &b] {
        let html = page_showing(backend, client, address, new_post).await;
        assert!(new_post(&html), "{html}");
    }

    // The feed unfollowed: its captions go with it.
    app.sql("DELETE FROM subscriptions").await;
    let emptied = |html: &str| caption_ids(html).is_empty() && html.contains("No captions yet.");
    for address in [&a, &b] {
        let html = page_showing(backend, client, address, emptied).await;
        assert!(emptied(&html), "{html}");
    }
}
on_both_backends!(every_change_shows_on_every_replica);

async fn no_account_or_session_gets_anothers_page(backend: Backend) {
    let (app, _feeds, url) = desk_with_captions(backend).await;
    let ann_page = app.get_html("/captions").await;
    let ann_ids = caption_ids(&ann_page);
    assert_eq!(ann_ids.len(), 14);

    // Bob follows the same feed: the same view, his own captions, token and address.
    let bob = new_browser();
    app.sign_up_as(&bob, "bob@example.com").await;
    app.add_feed_as(&bob, &url).await;
    app.poll().await;
    let bob_page = page_at(&bob, &app.address, "/captions").await;
    let bob_ids = caption_ids(&bob_page);
    assert_eq!(bob_ids.len(), 14);
    assert!(bob_ids.iter().all(|id| !ann_ids.contains(id)));
    assert!(bob_page.contains("bob@example.com") && !bob_page.contains("ann@example.com"));
    assert_ne!(
        crate::helpers::csrf_token(&bob_page),
        crate::helpers::csrf_token(&ann_page)
    );
    // Ann's page, asked again, is still hers.
    let again = app.get_html("/captions").await;
    assert_eq!(caption_ids(&again), ann_ids);

    // A second session of Ann's gets its own CSRF token, not the first session's page.
    let second = new_browser();
    let response = app
        .submit_as(
            &second,
            "/login",
            "/login",
            &[
                ("email", "ann@example.com"),
                ("password", "correct horse battery"),
            ],
        )
        .await;
    assert_eq!(response.status().as_u16(), 303, "logged in");
    let second_page = page_at(&second, &app.address, "/captions").await;
    assert_eq!(caption_ids(&second_page), ann_ids);
    assert_ne!(
        crate::helpers::csrf_token(&second_page),
        crate::helpers::csrf_token(&ann_page)
    );

    // Logged out on one replica: the page rendered before is not served on the other.
    let replica = another_web_replica(&app).await;
    assert_eq!(
        caption_ids(&page_at(&bob, &replica, "/captions").await).len(),
        14
    );
    let response = app.submit_as(&bob, "/captions", "/logout", &[]).await;
    assert_eq!(response.status().as_u16(), 303);
    let response = once_told(
        backend,
        || async {
            bob.get(format!("{replica}/captions"))
                .send()
                .await
                .expect("GET answers")
        },
        |response| response.status().as_u16() == 303,
    )
    .await;
    assert_eq!(response.status().as_u16(), 303);
    assert_eq!(location(&response), "/login");
}
on_both_backends!(no_account_or_session_gets_anothers_page);

/// A browser that shows encodings as they travel: it neither asks for nor unpacks gzip.
fn raw_browser() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .no_gzip()
        .no_brotli()
        .no_deflate()
        .build()
        .expect("client builds")
}

async fn unchanged_pages_answer_304_and_travel_gzipped(backend: Backend) {
    let (app, _feeds, url) = desk_with_captions(backend).await;
    let raw = raw_browser();
    app.sign_up_as(&raw, "cat@example.com").await;
    app.add_feed_as(&raw, &url).await;
    app.poll().await;
    let get = |path: &str, headers: &[(&str, &str)]| {
        let mut request = raw.get(app.url(path));
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        request.send()
    };
    let first = get("/captions", &[]).await.expect("GET answers");
    assert_eq!(first.status().as_u16(), 200);
    assert!(first.headers().get("content-encoding").is_none());
    let etag = first
        .headers()
        .get("etag")
        .and_then(|v| v.to_str().ok())
        .expect("an ETag")
        .to_string();
    let html = first.text().await.expect("body");
    assert_eq!(caption_ids(&html).len(), 14);

    let again = get("/captions", &[("If-None-Match", &etag)])
        .await
        .expect("GET answers");
    assert_eq!(again.status().as_u16(), 304);
    // Another view has its own tag.
    let filtered = get("/captions?platform=x", &[("If-None-Match", &etag)])
        .await
        .expect("GET answers");
    assert_eq!(filtered.status().as_u16(), 200);

    let gzipped = get("/captions", &[("Accept-Encoding", "gzip")])
        .await
        .expect("GET answers");
    assert_eq!(
        gzipped
            .headers()
            .get("content-encoding")
            .and_then(|v| v.to_str().ok()),
        Some("gzip")
    );
    let bytes = gzipped.bytes().await.expect("body");
    let mut unzipped = String::new();
    flate2::read::GzDecoder::new(&bytes[..])
        .read_to_string(&mut unzipped)
        .expect("valid gzip");
    assert_eq!(unzipped, html);

    // After a change the old tag no longer matches.
    let id = caption_ids(&html)[0].clone();
    let response = app
        .submit_as(
            &raw,
            "/captions",
            &format!("/captions/{id}/status"),
            &[("status", "posted"), ("back", "/captions")],
        )
        .await;
    assert_eq!(response.status().as_u16(), 303);
    let changed = get("/captions", &[("If-None-Match", &etag)])
        .await
        .expect("GET answers");
    assert_eq!(changed.status().as_u16(), 200);
    assert_ne!(
        changed.headers().get("etag").and_then(|v| v.to_str().ok()),
        Some(etag.as_str())
    );
}
on_both_backends!(unchanged_pages_answer_304_and_travel_gzipped);

async fn the_desk_pages_ten_posts_at_a_time(backend: Backend) {
    let feeds = FeedServer::start().await;
    let items: Vec<(String, String)> = (1..=12)
        .rev()
        .map(|i| (format!("p{i}"), format!("Post number {i}")))
        .collect();
    let items: Vec<(&str, &str)> = items
        .iter()
        .map(|(g, t)| (g.as_str(), t.as_str()))
        .collect();
    let url = feeds.set("/feed.xml", "application/rss+xml", rss("Blog", &items));
    let app = crate::helpers::spawn_app_with(backend, |s| s.backfill = 20).await;
    app.sign_up("ann@example.com").await;
    app.add_feed(&url).await;
    app.poll().await;

    let first = app.get_html("/captions?platform=x").await;
    assert_eq!(caption_ids(&first).len(), 10);
    assert!(first.contains(">Post number 12<") && first.contains(">Post number 3<"));
    assert!(!first.contains(">Post number 2<"));
    assert!(
        first.contains(r#"<a href="/captions?platform=x&#38;page=2">Older posts →</a>"#),
        "{first}"
    );
    assert!(!first.contains("Newer posts"));

    let second = app.get_html("/captions?platform=x&page=2").await;
    assert_eq!(caption_ids(&second).len(), 2);
    assert!(second.contains(">Post number 2<") && second.contains(">Post number 1<"));
    assert!(
        second.contains(r#"<a href="/captions?platform=x">← Newer posts</a>"#),
        "{second}"
    );
    assert!(!second.contains("Older posts"));
}
on_both_backends!(the_desk_pages_ten_posts_at_a_time);

/// PostgreSQL only (SQLite lets one writer at a time): two feeds' caption writes, for the
/// same two accounts in opposite orders, as two poller transactions may make them at once,
/// never wait on each other's desk-version counters (which could deadlock).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_feeds_caption_writes_for_shared_accounts_never_wait_on_each_other() {
    use diesel::connection::SimpleConnection as _;
    use diesel::Connection as _;
    if !crate::helpers::postgres_configured() {
        return;
    }
    let feeds = FeedServer::start().await;
    let one = feeds.set(
        "/one.xml",
        "application/rss+xml",
        rss("One", &[("a1", "Alpha")]),
    );
    let two = feeds.set(
        "/two.xml",
        "application/rss+xml",
        rss("Two", &[("b1", "Beta")]),
    );
    let app = spawn_app(Backend::Postgres).await;
    app.sign_up("ann@example.com").await;
    app.add_feed(&one).await;
    app.add_feed(&two).await;
    let bob = new_browser();
    app.sign_up_as(&bob, "bob@example.com").await;
    app.add_feed_as(&bob, &two).await;
    app.add_feed_as(&bob, &one).await;
    app.poll().await;
    for client in [&app.client, &bob] {
        let html = page_at(client, &app.address, "/captions").await;
        assert!(html.contains("14 captions waiting to be posted."), "{html}");
    }
    let captionfeed::db::DatabaseUrl::Postgres(url) = app.settings.database_url.clone() else {
        panic!("a PostgreSQL test app");
    };
    let mark = |email: &str, title: &str| {
        format!(
            "UPDATE captions SET status = 'posted' \
             WHERE user_id = (SELECT id FROM users WHERE email = '{email}') \
             AND post_id IN (SELECT id FROM posts WHERE title = '{title}')"
        )
    };
    let (one_ann, one_bob) = (
        mark("ann@example.com", "Alpha"),
        mark("bob@example.com", "Alpha"),
    );
    let (two_bob, two_ann) = (
        mark("bob@example.com", "Beta"),
        mark("ann@example.com", "Beta"),
    );
    let outcome = tokio::task::spawn_blocking(move || -> Result<(), String> {
        let mut first = diesel::PgConnection::establish(&url).map_err(|e| e.to_string())?;
        let mut second = diesel::PgConnection::establish(&url).map_err(|e| e.to_string())?;
        // A statement that has to wait fails after 2 s instead of hanging the test.
        let begin = "BEGIN; SET LOCAL lock_timeout = '2s';";
        first.batch_execute(begin).map_err(|e| e.to_string())?;
        second.batch_execute(begin).map_err(|e| e.to_string())?;
        first.batch_execute(&one_ann).map_err(|e| e.to_string())?;
        second.batch_execute(&two_bob).map_err(|e| e.to_string())?;
        first
            .batch_execute(&one_bob)
            .map_err(|e| format!("feed one waited: {e}"))?;
        second
            .batch_execute(&two_ann)
            .map_err(|e| format!("feed two waited: {e}"))?;
        first.batch_execute("COMMIT").map_err(|e| e.to_string())?;
        second.batch_execute("COMMIT").map_err(|e| e.to_string())?;
        Ok(())
    })
    .await
    .expect("the writes ran");
    assert_eq!(outcome, Ok(()));
    for client in [&app.client, &bob] {
        let html = page_at(client, &app.address, "/captions").await;
        assert!(html.contains("Nothing waiting to be posted."), "{html}");
    }
}

/// Where the desk found the session and its version: "memory" or "database".
fn viewer_source(response: &reqwest::Response) -> String {
    let timing = response
        .headers()
        .get("server-timing")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    timing
        .split(',')
        .find_map(|metric| metric.trim().strip_prefix("viewer;desc=\""))
        .and_then(|rest| rest.split('"').next())
        .unwrap_or_default()
        .to_string()
}

/// A signed-up subscriber's session cookie, to send by hand: a browser forgets the
/// cookie when it logs out, while a stolen copy would not.
async fn session_cookie(app: &TestApp, email: &str, feed: &str) -> String {
    use reqwest::cookie::CookieStore as _;
    let jar = Arc::new(reqwest::cookie::Jar::default());
    let browser = reqwest::Client::builder()
        .cookie_provider(jar.clone())
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client builds");
    app.sign_up_as(&browser, email).await;
    app.add_feed_as(&browser, feed).await;
    let address = url::Url::parse(&app.address).expect("the app's address");
    let cookies = jar.cookies(&address).expect("cookies were set");
    let cookies = cookies.to_str().expect("ASCII cookies");
    cookies
        .split("; ")
        .find(|c| c.starts_with("cf_session="))
        .expect("a session cookie")
        .to_string()
}

async fn desk_as(address: &str, cookie: &str) -> reqwest::Response {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client builds")
        .get(format!("{address}/captions"))
        .header("Cookie", cookie)
        .send()
        .await
        .expect("GET answers")
}

/// On PostgreSQL a desk page asked again needs no database at all (its session and desk
/// version are kept in memory while the database tells of changes); on SQLite every
/// request reads them. Either way a session removed anywhere ends on every replica.
async fn a_session_ended_elsewhere_is_never_served(backend: Backend) {
    let (app, _feeds, url) = desk_with_captions(backend).await;
    let cookie = session_cookie(&app, "cat@example.com", &url).await;
    app.poll().await;
    let replica = another_web_replica(&app).await;
    let expected = match backend {
        Backend::Sqlite => "database",
        Backend::Postgres => "memory",
    };
    // The replica's listener connects in the background: memory is used once it listens.
    let response = once_told(
        backend,
        || desk_as(&replica, &cookie),
        |r| viewer_source(r) == expected,
    )
    .await;
    assert_eq!(response.status().as_u16(), 200);
    assert_eq!(viewer_source(&response), expected);
    let again = desk_as(&replica, &cookie).await;
    assert_eq!(viewer_source(&again), expected);
    assert!(again
        .text()
        .await
        .expect("body")
        .contains("14 captions waiting to be posted."));

    // Logged out (or revoked by an operator) through the other replica or the database.
    app.sql("DELETE FROM sessions WHERE user_id = (SELECT id FROM users WHERE email = 'cat@example.com')")
        .await;
    let response = once_told(
        backend,
        || desk_as(&replica, &cookie),
        |r| r.status().as_u16() == 303,
    )
    .await;
    assert_eq!(response.status().as_u16(), 303);
    assert_eq!(location(&response), "/login");
}
on_both_backends!(a_session_ended_elsewhere_is_never_served);

/// PostgreSQL only: when the listening connection is lost, nothing kept from before is
/// trusted; a change made meanwhile shows, and memory is used again once it listens again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn losing_the_listening_connection_loses_no_change() {
    if !crate::helpers::postgres_configured() {
        return;
    }
    let backend = Backend::Postgres;
    let (app, _feeds, url) = desk_with_captions(backend).await;
    let cookie = session_cookie(&app, "cat@example.com", &url).await;
    app.poll().await;
    let from = |source: &'static str| move |r: &reqwest::Response| viewer_source(r) == source;
    let response = once_told(backend, || desk_as(&app.address, &cookie), from("memory")).await;
    assert_eq!(viewer_source(&response), "memory");
    // Dan's requests watch the listener; Cat's page and version stay as they were kept.
    let dan_cookie = session_cookie(&app, "dan@example.com", &url).await;
    let dan = || desk_as(&app.address, &dan_cookie);
    let response = once_told(backend, dan, from("memory")).await;
    assert_eq!(viewer_source(&response), "memory");

    app.sql(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
         WHERE application_name = 'captionfeed listener' AND datname = current_database()",
    )
    .await;
    let response = once_told(backend, dan, from("database")).await;
    assert_eq!(viewer_source(&response), "database", "the loss was noticed");
    // No notification can tell of this change: nobody listens.
    app.sql("UPDATE posts SET title = 'Two, retitled' WHERE title = 'Two'")
        .await;
    let response = once_told(backend, dan, from("memory")).await;
    assert_eq!(viewer_source(&response), "memory", "listening again");

    let response = desk_as(&app.address, &cookie).await;
    assert_eq!(viewer_source(&response), "database");
    let html = response.text().await.expect("body");
    assert!(html.contains("Two, retitled"), "{html}");
    let response = desk_as(&app.address, &cookie).await;
    assert_eq!(viewer_source(&response), "memory");
}

/// PostgreSQL only: the listening connection is opened as the pool's are, so a database
/// reached over TLS (`sslmode=require`; the test server has TLS on) keeps the desk's
/// memory too.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_desk_listens_over_tls_like_the_pool() {
    if !crate::helpers::postgres_configured() {
        return;
    }
    let feeds = FeedServer::start().await;
    let url = feeds.set(
        "/feed.xml",
        "application/rss+xml",
        rss("Blog", &[("p1", "One")]),
    );
    let app = crate::helpers::spawn_app_with(Backend::Postgres, |settings| {
        let captionfeed::db::DatabaseUrl::Postgres(plain) = &settings.database_url else {
            panic!("a PostgreSQL test app");
        };
        settings.database_url =
            captionfeed::db::DatabaseUrl::Postgres(format!("{plain}?sslmode=require"));
    })
    .await;
    let cookie = session_cookie(&app, "ann@example.com", &url).await;
    app.poll().await;
    let response = once_told(
        Backend::Postgres,
        || desk_as(&app.address, &cookie),
        |r| viewer_source(r) == "memory",
    )
    .await;
    assert_eq!(viewer_source(&response), "memory");
    app.sql(
        "DO $$ BEGIN IF (SELECT bool_and(ssl) FROM pg_stat_ssl JOIN pg_stat_activity USING (pid) \
         WHERE application_name = 'captionfeed listener' AND datname = current_database()) \
         IS NOT TRUE THEN RAISE 'the listener does not use TLS'; END IF; END $$",
    )
    .await;
}

/// After any form the subscriber sends, their next desk pages are read from the database
/// for two seconds, on whichever replica answers: that replica may not have been told of
/// the change yet. Then memory serves again (PostgreSQL).
async fn after_a_form_the_next_pages_are_read_afresh_on_every_replica(backend: Backend) {
    let (app, _feeds, _url) = desk_with_captions(backend).await;
    let replica = another_web_replica(&app).await;
    let desk_on_replica = || async {
        app.client
            .get(format!("{replica}/captions"))
            .send()
            .await
            .expect("GET answers")
    };
    let settled = match backend {
        Backend::Sqlite => "database",
        Backend::Postgres => "memory",
    };
    // Once the sign-up's own fresh-read cookie has lapsed.
    let response = once_told(backend, desk_on_replica, |r| viewer_source(r) == settled).await;
    assert_eq!(viewer_source(&response), settled);

    // A form that changes nothing the desk shows: no notification will come.
    let response = app
        .submit("/settings/tokens", "/settings/tokens", &[("name", "ci")])
        .await;
    assert!(response.status().is_success() || response.status().is_redirection());
    let response = desk_on_replica().await;
    assert_eq!(viewer_source(&response), "database");

    let response = once_told(backend, desk_on_replica, |r| viewer_source(r) == settled).await;
    assert_eq!(viewer_source(&response), settled);
}
on_both_backends!(after_a_form_the_next_pages_are_read_afresh_on_every_replica);
