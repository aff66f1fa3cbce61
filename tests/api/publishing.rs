//! The publishing worker against a real Bluesky PDS (the one `bluesky::` starts): a queued
//! caption goes out once at its time, with its link kept on the caption; and the faults
//! the worker must survive: a crash between sending and recording, a PDS that cannot be
//! reached, a revoked app password. Each counts the records on the PDS.

use captionfeed::captions::Platform;
use captionfeed::db::AnyConnection;
use captionfeed::publish::bluesky::Client;
use captionfeed::publish::connections as store;
use captionfeed::publish::secrets::SecretBox;
use captionfeed::publishing::{PublishReport, Publisher};
use serde_json::json;

use crate::bluesky::{account, pds, records};
use crate::digests::user_id;
use crate::helpers::{rss, spawn_app, unused_loopback_address, Backend, FeedServer, TestApp};
use crate::on_both_backends;
use crate::queue::queued_on;

/// An account with a "join at once" feed whose second post's captions are queued, and the
/// id of its Bluesky caption.
async fn queued_bluesky_caption(app: &TestApp, feeds: &FeedServer) -> String {
    queued_caption(app, feeds, "bluesky").await
}

/// An account with a "join at once" feed whose second post's captions are queued, and the
/// id of its caption for `platform`.
pub(crate) async fn queued_caption(app: &TestApp, feeds: &FeedServer, platform: &str) -> String {
    let url = feeds.set(
        "/feed.xml",
        "application/rss+xml",
        rss("Blog", &[("p1", "One")]),
    );
    app.sign_up("ann@example.com").await;
    app.add_feed(&url).await;
    app.poll().await;
    crate::queue::join_at_once(app, &app.client).await;
    feeds.set(
        "/feed.xml",
        "application/rss+xml",
        rss("Blog", &[("p2", "Two"), ("p1", "One")]),
    );
    app.make_all_due().await;
    app.poll().await;
    let page = app.get_html("/queue").await;
    let ids = queued_on(&page, platform);
    assert_eq!(ids.len(), 1, "{page}");
    ids[0].clone()
}

/// Connects Ann's account to the test PDS (or to `service_url`) as the connections page
/// does: the app password sealed under the service's key.
async fn connect(app: &TestApp, service_url: &str, handle: &str, app_password: &str) -> String {
    let user = user_id(app, "ann@example.com").await;
    let (settings, service_url, handle, app_password) = (
        app.settings.clone(),
        service_url.to_string(),
        handle.to_string(),
        app_password.to_string(),
    );
    app.db
        .run(move |conn| {
            let key = captionfeed::signing::key::load_signing_key(conn, &settings)?;
            let secrets = SecretBox::from_service_key(&key);
            Ok::<_, captionfeed::db::DbError>(store::save(
                conn,
                &secrets,
                &user,
                Platform::Bluesky,
                &service_url,
                &handle,
                &app_password,
            )?)
        })
        .await
        .expect("connected")
}

pub(crate) async fn post_now(app: &TestApp, caption: &str) {
    let answer = app
        .submit("/queue", &format!("/queue/{caption}/now"), &[])
        .await;
    assert_eq!(answer.status().as_u16(), 303);
}

pub(crate) async fn publisher(app: &TestApp) -> Publisher {
    Publisher::new(app.db.clone(), &app.settings)
        .await
        .expect("publisher")
}

pub(crate) async fn did_of(handle: &str, app_password: &str) -> String {
    Client::new(&pds().url, &captionfeed::config::AddressPolicy::open())
        .expect("client")
        .create_session(handle, app_password)
        .await
        .expect("logged in")
        .did
}

pub(crate) async fn caption_row(
    app: &TestApp,
    caption: &str,
) -> (String, Option<String>, Option<String>) {
    use captionfeed::db::schema::captions;
    use diesel::prelude::*;
    let id = caption.to_string();
    app.db
        .run(move |conn: &mut AnyConnection| {
            Ok::<_, captionfeed::db::DbError>(
                captions::table
                    .find(&id)
                    .select((captions::status, captions::post_uri, captions::post_url))
                    .first(conn)?,
            )
        })
        .await
        .expect("the caption")
}

/// (state, attempts, last error, seconds until the next attempt, leased)
async fn entry(app: &TestApp, caption: &str) -> (String, i32, Option<String>, i64, bool) {
    use captionfeed::db::schema::queue_entries;
    use diesel::prelude::*;
    let id = caption.to_string();
    let (state, attempts, error, next, lease): (
        String,
        i32,
        Option<String>,
        chrono::NaiveDateTime,
        Option<String>,
    ) = app
        .db
        .run(move |conn: &mut AnyConnection| {
            Ok::<_, captionfeed::db::DbError>(
                queue_entries::table
                    .find(&id)
                    .select((
                        queue_entries::state,
                        queue_entries::attempts,
                        queue_entries::last_error,
                        queue_entries::next_attempt_at,
                        queue_entries::lease_token,
                    ))
                    .first(conn)?,
            )
        })
        .await
        .expect("the queue entry");
    let wait = (next - captionfeed::db::now()).num_seconds();
    (state, attempts, error, wait, lease.is_some())
}

async fn a_caption_posted_now_goes_out_once_and_keeps_its_link(backend: Backend) {
    let feeds = FeedServer::start().await;
    let app = spawn_app(backend).await;
    let caption = queued_bluesky_caption(&app, &feeds).await;
    let (handle, app_password, _) = account().await;
    connect(&app, &pds().url, &handle, &app_password).await;
    let did = did_of(&handle, &app_password).await;
    let publisher = publisher(&app).await;

    // Queued, but its posting time has not come: nothing goes out.
    let report = publisher.run_once().await.expect("a pass");
    assert_eq!(report.posted, 0, "{report:?}");
    assert!(records(&did).await.is_empty());

    // "Post now" publishes at the next pass.
    post_now(&app, &caption).await;
    let report = publisher.run_once().await.expect("a pass");
    assert_eq!(
        report,
        PublishReport {
            posted: 1,
            ..Default::default()
        }
    );
    let posted = records(&did).await;
    assert_eq!(posted.len(), 1);
    let (status, uri, url) = caption_row(&app, &caption).await;
    assert_eq!(status, "posted");
    assert_eq!(uri.as_deref(), posted[0]["uri"].as_str());
    let url = url.expect("the web address");
    assert!(
        url.starts_with(&format!("https://bsky.app/profile/{did}/post/")),
        "{url}"
    );
    let value = &posted[0]["value"];
    // The card is the post's: its link and title.
    assert_eq!(
        value["embed"]["external"]["uri"],
        json!("https://blog.example/p2"),
        "{value}"
    );
    assert_eq!(value["embed"]["external"]["title"], json!("Two"));

    // Posted once: the next pass sends nothing, and the queue no longer lists it.
    let report = publisher.run_once().await.expect("a pass");
    assert_eq!(report.posted, 0);
    assert_eq!(records(&did).await.len(), 1);
    let page = app.get_html("/queue").await;
    assert!(queued_on(&page, "bluesky").is_empty(), "{page}");
}
on_both_backends!(a_caption_posted_now_goes_out_once_and_keeps_its_link);

/// A queued caption's entry on the queue page, up to the next one.
fn queue_entry<'a>(page: &'a str, caption: &str) -> &'a str {
    let start = page
        .find(&format!(r#"id="q-{caption}""#))
        .expect("the caption is queued");
    let end = page[start..]
        .find("</li>")
        .map_or(page.len(), |e| start + e);
    &page[start..end]
}

/// "Post now" posts by itself once the network is connected; the composer link beside it
/// then says it only opens the network's compose box, so the two cannot be taken for each
/// other. Before connecting, the composer link is the way to post and keeps its label.
async fn a_connected_networks_composer_link_only_opens_it(backend: Backend) {
    let feeds = FeedServer::start().await;
    let app = spawn_app(backend).await;
    let caption = queued_bluesky_caption(&app, &feeds).await;
    let page = app.get_html("/queue").await;
    let before = queue_entry(&page, &caption);
    assert!(before.contains(">Post on Bluesky</a>"), "{before}");
    assert!(!before.contains("Open in Bluesky"), "{before}");

    connect(
        &app,
        "https://bsky.example",
        "ann.bsky.example",
        "app-password",
    )
    .await;
    let page = app.get_html("/queue").await;
    let connected = queue_entry(&page, &caption);
    assert!(connected.contains(">Open in Bluesky</a>"), "{connected}");
    assert!(connected.contains(">Post now</button>"), "{connected}");
    assert!(!connected.contains("Post on Bluesky"), "{connected}");
    // X cannot be connected: its composer link is still the way to post there.
    let x = crate::queue::queued_on(&page, "x");
    assert_eq!(x.len(), 1, "{page}");
    assert!(queue_entry(&page, &x[0]).contains(">Post on X</a>"));
}
on_both_backends!(a_connected_networks_composer_link_only_opens_it);

async fn a_crash_between_sending_and_recording_posts_once(backend: Backend) {
    let feeds = FeedServer::start().await;
    let app = spawn_app(backend).await;
    let caption = queued_bluesky_caption(&app, &feeds).await;
    let (handle, app_password, _) = account().await;
    connect(&app, &pds().url, &handle, &app_password).await;
    let did = did_of(&handle, &app_password).await;
    post_now(&app, &caption).await;

    // A worker claims the caption and sends it with the publisher's own steps, then dies
    // before recording: its result is dropped and its lease left behind.
    let user = user_id(&app, "ann@example.com").await;
    let (id, who) = (captionfeed::desk::CaptionId(caption.clone()), user.clone());
    let (token, outgoing) = app
        .db
        .run(move |conn| {
            let at = captionfeed::db::now();
            let token = captionfeed::queue::outcomes::claim(
                conn,
                &id,
                at,
                at + chrono::Duration::minutes(5),
            )?;
            let outgoing = captionfeed::publishing::compose::outgoing(conn, &who, &id)?;
            Ok::<_, captionfeed::db::DbError>((token, outgoing))
        })
        .await
        .expect("claimed");
    assert!(token.is_some(), "the dead worker won the claim");
    let connection = app
        .db
        .run(move |conn| Ok::<_, captionfeed::db::DbError>(store::list(conn, &user)?))
        .await
        .expect("connections")
        .remove(0);
    let mut network = captionfeed::publishing::networks::Network::new(
        connection,
        app_password.clone(),
        &captionfeed::config::AddressPolicy::open(),
    );
    network
        .send(&outgoing.expect("the caption"))
        .await
        .expect("sent, then the worker died");
    assert_eq!(records(&did).await.len(), 1);

    // While the dead worker's lease lasts, another replica passes over the caption.
    let publisher = publisher(&app).await;
    let report = publisher.run_once().await.expect("a pass");
    assert_eq!(report.posted, 0, "{report:?}");
    assert_eq!(caption_row(&app, &caption).await.0, "new");

    // Its lease runs out; the next pass finds the post under the caption's record key and
    // records it instead of writing a second one.
    app.sql("UPDATE queue_entries SET lease_until = '2000-01-01 00:00:00'")
        .await;
    let report = publisher.run_once().await.expect("a pass");
    assert_eq!(report.posted, 1, "{report:?}");
    assert_eq!(records(&did).await.len(), 1, "posted once");
    let (status, uri, _) = caption_row(&app, &caption).await;
    assert_eq!(status, "posted");
    assert_eq!(uri.as_deref(), records(&did).await[0]["uri"].as_str());
}
on_both_backends!(a_crash_between_sending_and_recording_posts_once);

async fn an_unreachable_pds_makes_the_caption_wait_and_it_goes_out_once_back(backend: Backend) {
    let feeds = FeedServer::start().await;
    let app = spawn_app(backend).await;
    let caption = queued_bluesky_caption(&app, &feeds).await;
    let (handle, app_password, _) = account().await;
    let closed = format!("http://{}", unused_loopback_address());
    connect(&app, &closed, &handle, &app_password).await;
    let did = did_of(&handle, &app_password).await;
    post_now(&app, &caption).await;
    let publisher = publisher(&app).await;

    let report = publisher.run_once().await.expect("a pass");
    assert_eq!(report.retried, 1, "{report:?}");
    let (state, attempts, error, wait, leased) = entry(&app, &caption).await;
    assert_eq!((state.as_str(), attempts, leased), ("queued", 1, false));
    assert!(error.is_some_and(|e| !e.is_empty()));
    assert!(
        (50..=60).contains(&wait),
        "the first backoff is a minute: {wait}"
    );
    // The page says it waits, and why.
    let page = app.get_html("/queue").await;
    assert!(page.contains("Trying again"), "{page}");

    // Within its backoff, a pass leaves it alone.
    let report = publisher.run_once().await.expect("a pass");
    assert_eq!(report, PublishReport::default());
    assert_eq!(entry(&app, &caption).await.1, 1);

    // The PDS is back (the connection now reaches it) and the backoff has passed.
    connect(&app, &pds().url, &handle, &app_password).await;
    app.sql("UPDATE queue_entries SET next_attempt_at = '2000-01-01 00:00:00'")
        .await;
    let report = publisher.run_once().await.expect("a pass");
    assert_eq!(report.posted, 1, "{report:?}");
    assert_eq!(records(&did).await.len(), 1);
    assert_eq!(caption_row(&app, &caption).await.0, "posted");
}
on_both_backends!(an_unreachable_pds_makes_the_caption_wait_and_it_goes_out_once_back);

async fn a_429_is_retried_after_the_time_the_network_asks(backend: Backend) {
    let feeds = FeedServer::start().await;
    let app = spawn_app(backend).await;
    let caption = queued_bluesky_caption(&app, &feeds).await;
    let limited = FeedServer::start().await;
    limited.respond(
        "/xrpc/com.atproto.server.createSession",
        429,
        &[("content-type", "application/json"), ("retry-after", "600")],
        r#"{"error":"RateLimitExceeded","message":"slow down"}"#,
    );
    connect(&app, &limited.base, "ann.test", "abcd-efgh-ijkl-mnop").await;
    post_now(&app, &caption).await;

    let report = publisher(&app).await.run_once().await.expect("a pass");
    assert_eq!(report.retried, 1, "{report:?}");
    let (state, _, error, wait, _) = entry(&app, &caption).await;
    assert_eq!(state, "queued");
    assert!(error.is_some_and(|e| e.contains("429")));
    assert!((590..=600).contains(&wait), "Retry-After honoured: {wait}");
}
on_both_backends!(a_429_is_retried_after_the_time_the_network_asks);

async fn a_revoked_app_password_breaks_the_connection_mails_once_and_loses_nothing(
    backend: Backend,
) {
    let feeds = FeedServer::start().await;
    let app = spawn_app(backend).await;
    let caption = queued_bluesky_caption(&app, &feeds).await;
    let (handle, app_password, access) = account().await;
    connect(&app, &pds().url, &handle, &app_password).await;
    let did = did_of(&handle, &app_password).await;
    let revoked = reqwest::Client::new()
        .post(format!(
            "{}/xrpc/com.atproto.server.revokeAppPassword",
            pds().url
        ))
        .bearer_auth(&access)
        .json(&json!({"name": "captionfeed"}))
        .send()
        .await
        .expect("answers");
    assert!(revoked.status().is_success());
    post_now(&app, &caption).await;
    let publisher = publisher(&app).await;

    let report = publisher.run_once().await.expect("a pass");
    assert_eq!(report.broken, 1, "{report:?}");
    assert_eq!(report.posted + report.retried + report.failed, 0);
    let broken_mail = "SELECT COUNT(*) AS n FROM outgoing_mail WHERE kind = 'connection_broken'";
    assert_eq!(app.sql_count(broken_mail).await, 1);
    assert_eq!(
        app.sql_count("SELECT COUNT(*) AS n FROM connections WHERE broken_at IS NOT NULL")
            .await,
        1
    );
    // Nothing lost: still queued, untried, unleased.
    let (state, attempts, _, _, leased) = entry(&app, &caption).await;
    assert_eq!((state.as_str(), attempts, leased), ("queued", 0, false));

    // More passes mail nobody again.
    for _ in 0..2 {
        assert_eq!(
            publisher.run_once().await.expect("a pass"),
            PublishReport::default()
        );
    }
    assert_eq!(app.sql_count(broken_mail).await, 1);

    // Connected again with a new app password: the caption goes out.
    let fresh: serde_json::Value = reqwest::Client::new()
        .post(format!(
            "{}/xrpc/com.atproto.server.createAppPassword",
            pds().url
        ))
        .bearer_auth(&access)
        .json(&json!({"name": "captionfeed again"}))
        .send()
        .await
        .expect("answers")
        .json()
        .await
        .expect("JSON");
    let fresh = fresh["password"].as_str().expect("an app password");
    connect(&app, &pds().url, &handle, fresh).await;
    let report = publisher.run_once().await.expect("a pass");
    assert_eq!(report.posted, 1, "{report:?}");
    assert_eq!(records(&did).await.len(), 1);
}
on_both_backends!(a_revoked_app_password_breaks_the_connection_mails_once_and_loses_nothing);

fn connection_id(html: &str) -> String {
    html.split(r#"<li id="connection-"#)
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("a connection on the page")
        .to_string()
}

async fn connecting_through_the_page_posts_shows_the_link_and_a_broken_connection_plainly(
    backend: Backend,
) {
    let feeds = FeedServer::start().await;
    let app = spawn_app(backend).await;
    let caption = queued_bluesky_caption(&app, &feeds).await;
    let (handle, app_password, access) = account().await;
    // The PDS behind a proxy that can expire the session the connection keeps.
    let proxy = crate::bluesky_sessions::PdsProxy::start().await;

    let page = app.get_html("/connections").await;
    assert!(page.contains("No network is connected"), "{page}");
    assert!(page.contains("X</strong> charges for its API per post"));
    assert!(page.contains("only after the network reviews and approves that app"));

    // A wrong app password is refused, and the form never shows what was typed in it.
    let answer = app
        .submit(
            "/connections",
            "/connections/bluesky",
            &[
                ("handle", handle.as_str()),
                ("app_password", "wrong-pass-word-0000"),
                ("service_url", pds().url.as_str()),
            ],
        )
        .await;
    assert_eq!(answer.status().as_u16(), 422);
    let body = answer.text().await.expect("body");
    assert!(
        body.contains("Bluesky refused that handle and app password"),
        "{body}"
    );
    assert!(!body.contains("wrong-pass-word-0000"));

    let answer = app
        .submit(
            "/connections",
            "/connections/bluesky",
            &[
                ("handle", &format!("@{handle}")),
                ("app_password", app_password.as_str()),
                ("service_url", proxy.base.as_str()),
            ],
        )
        .await;
    assert_eq!(answer.status().as_u16(), 303);
    let page = app.get_html("/connections").await;
    assert!(
        page.contains(&handle) && page.contains("Connected: queued captions"),
        "{page}"
    );
    assert!(!page.contains(&app_password), "the secret never shows");
    let id = connection_id(&page);

    // Another account can neither see nor remove it.
    let bob = crate::helpers::new_browser();
    app.sign_up_as(&bob, "bob@example.com").await;
    let bobs = app.get_html_as(&bob, "/connections").await;
    assert!(!bobs.contains(&handle));
    let answer = app
        .submit_as(
            &bob,
            "/connections",
            &format!("/connections/{id}/delete"),
            &[],
        )
        .await;
    assert_eq!(answer.status().as_u16(), 404);

    // Posted: the desk links to the post.
    post_now(&app, &caption).await;
    let publisher = publisher(&app).await;
    assert_eq!(publisher.run_once().await.expect("a pass").posted, 1);
    let (_, _, url) = caption_row(&app, &caption).await;
    let desk = app.get_html("/captions").await;
    assert!(
        desk.contains(&format!(r#"href="{}""#, url.expect("a web address"))),
        "{desk}"
    );
    assert!(desk.contains("Posted to Bluesky"));

    // The app password is revoked: the queue page says so plainly, with a way back.
    reqwest::Client::new()
        .post(format!(
            "{}/xrpc/com.atproto.server.revokeAppPassword",
            pds().url
        ))
        .bearer_auth(&access)
        .json(&json!({"name": "captionfeed"}))
        .send()
        .await
        .expect("revoked");
    // The session kept since connecting works until its access token expires (two hours
    // on a PDS); from then on the PDS answers as the proxy does here, and the refresh
    // token died with the app password.
    proxy.expire_seen_tokens();
    feeds.set(
        "/feed.xml",
        "application/rss+xml",
        rss("Blog", &[("p3", "Three"), ("p2", "Two"), ("p1", "One")]),
    );
    app.make_all_due().await;
    app.poll().await;
    let queue = app.get_html("/queue").await;
    let next = queued_on(&queue, "bluesky");
    assert_eq!(next.len(), 1, "{queue}");
    post_now(&app, &next[0]).await;
    assert_eq!(publisher.run_once().await.expect("a pass").broken, 1);
    let queue = app.get_html("/queue").await;
    assert!(queue.contains("Posting to Bluesky stopped."), "{queue}");
    assert!(queue.contains(r#"<a href="/connections">Connect Bluesky again</a>"#));
    assert_eq!(queued_on(&queue, "bluesky"), next, "still queued");
    let page = app.get_html("/connections").await;
    assert!(page.contains("Not working: Bluesky refused it"), "{page}");

    // Disconnecting removes it.
    let answer = app
        .submit("/connections", &format!("/connections/{id}/delete"), &[])
        .await;
    assert_eq!(answer.status().as_u16(), 303);
    assert!(app
        .get_html("/connections")
        .await
        .contains("No network is connected"));
}
on_both_backends!(connecting_through_the_page_posts_shows_the_link_and_a_broken_connection_plainly);

/// `captionfeed serve` as a worker process on the test's database.
fn worker_process(app: &TestApp, mail_dir: &std::path::Path) -> std::process::Child {
    use captionfeed::db::DatabaseUrl;
    let url = match &app.settings.database_url {
        DatabaseUrl::Sqlite(path) => format!("sqlite://{path}"),
        DatabaseUrl::Postgres(url) => url.clone(),
    };
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_captionfeed"));
    for (key, _) in std::env::vars() {
        if key.starts_with("CAPTIONFEED_") {
            cmd.env_remove(key);
        }
    }
    cmd.env("CAPTIONFEED_DATABASE_URL", url)
        .env("CAPTIONFEED_ROLE", "worker")
        .env("CAPTIONFEED_ALLOW_PRIVATE_NETWORKS", "true")
        .env("CAPTIONFEED_MAIL_DIR", mail_dir)
        .env("CAPTIONFEED_LOG", "warn")
        .arg("serve")
        .stdout(std::process::Stdio::null())
        .spawn()
        .expect("the worker starts")
}

async fn posted_count(app: &TestApp) -> i64 {
    app.sql_count(
        "SELECT COUNT(*) AS n FROM captions WHERE platform = 'bluesky' AND status = 'posted'",
    )
    .await
}

/// A real `kill -9` of a worker process in the middle of a run of due captions, then a
/// restart: every caption is posted exactly once (counted on the PDS).
async fn a_worker_killed_mid_run_and_restarted_posts_each_caption_once(backend: Backend) {
    // The feed helper dates at most 20 items.
    const CAPTIONS: usize = 18;
    let feeds = FeedServer::start().await;
    let app = spawn_app(backend).await;
    queued_bluesky_caption(&app, &feeds).await;
    let mut items: Vec<(String, String)> = (3..CAPTIONS + 2)
        .map(|n| (format!("p{n}"), format!("Post {n}")))
        .collect();
    items.push(("p2".into(), "Two".into()));
    items.push(("p1".into(), "One".into()));
    let refs: Vec<(&str, &str)> = items
        .iter()
        .map(|(a, b)| (a.as_str(), b.as_str()))
        .collect();
    feeds.set("/feed.xml", "application/rss+xml", rss("Blog", &refs));
    app.make_all_due().await;
    app.poll().await;
    assert_eq!(
        queued_on(&app.get_html("/queue").await, "bluesky").len(),
        CAPTIONS
    );
    let (handle, app_password, _) = account().await;
    connect(&app, &pds().url, &handle, &app_password).await;
    let did = did_of(&handle, &app_password).await;
    // All pinned: due at once.
    app.sql("UPDATE queue_entries SET due_at = '2000-01-01 00:00:00' WHERE platform = 'bluesky'")
        .await;

    let mail = tempfile::tempdir().expect("mail dir");
    let mut worker = worker_process(&app, mail.path());
    let started = std::time::Instant::now();
    let mut seen = 0;
    while seen == 0 {
        assert!(
            started.elapsed() < std::time::Duration::from_secs(60),
            "the worker posted nothing"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        seen = records(&did).await.len();
    }
    worker.kill().expect("kill -9"); // SIGKILL: no grace, no recording
    worker.wait().expect("reaped");
    let on_pds = records(&did).await.len();
    let recorded = posted_count(&app).await;
    eprintln!("killed: {on_pds} records on the PDS, {recorded} recorded as posted");
    assert!(on_pds < CAPTIONS, "the kill came mid-run ({on_pds})");

    // The dead worker's leases run out; a new worker process takes over.
    app.sql("UPDATE queue_entries SET lease_until = '2000-01-01 00:00:00' WHERE lease_until IS NOT NULL")
        .await;
    let mut worker = worker_process(&app, mail.path());
    let started = std::time::Instant::now();
    while posted_count(&app).await < CAPTIONS as i64 {
        assert!(
            started.elapsed() < std::time::Duration::from_secs(90),
            "the restarted worker did not post everything"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    worker.kill().expect("stopped");
    worker.wait().expect("reaped");
    let all = records(&did).await;
    assert_eq!(all.len(), CAPTIONS, "each caption posted once");
    let uris: std::collections::BTreeSet<&str> =
        all.iter().filter_map(|r| r["uri"].as_str()).collect();
    assert_eq!(uris.len(), CAPTIONS);
    assert_eq!(
        app.sql_count("SELECT COUNT(DISTINCT post_uri) AS n FROM captions WHERE status = 'posted' AND platform = 'bluesky'")
            .await,
        CAPTIONS as i64
    );
}
on_both_backends!(a_worker_killed_mid_run_and_restarted_posts_each_caption_once);

/// The benchmark (run by hand, `cargo test --test api publishing::bench -- --ignored
/// --nocapture`): 1,000 captions due at once, one pass, to the local PDS. It prints posts
/// per second and checks that none was posted twice and none was left out.
async fn bench_a_thousand_captions_due_at_once(backend: Backend) {
    const CAPTIONS: usize = 1000;
    let feeds = FeedServer::start().await;
    let app = spawn_app(backend).await;
    let first = queued_bluesky_caption(&app, &feeds).await;
    // 999 more posts and captions like the first, each its own post and caption id.
    let made = std::time::Instant::now();
    for n in 1..CAPTIONS {
        let (post, caption) = (captionfeed::db::new_id(), captionfeed::db::new_id());
        app.sql(&format!(
            "INSERT INTO posts (id, feed_id, entry_key, title, url, summary, content_text, author, \
             published_at, categories, image_url, first_seen_at, lead, headings, title_from_text, \
             summary_source, angles) \
             SELECT '{post}', feed_id, 'bench-{n}', title || ' {n}', url || '?n={n}', summary, \
             content_text, author, published_at, categories, image_url, first_seen_at, lead, \
             headings, title_from_text, summary_source, angles \
             FROM posts WHERE id = (SELECT post_id FROM captions WHERE id = '{first}')"
        ))
        .await;
        app.sql(&format!(
            "INSERT INTO captions (id, user_id, subscription_id, post_id, platform, variant, body, \
             length, char_limit, created_at, error, status) \
             SELECT '{caption}', user_id, subscription_id, '{post}', platform, variant, \
             body || ' {n}', length, char_limit, created_at, error, status \
             FROM captions WHERE id = '{first}'"
        ))
        .await;
        app.sql(&format!(
            "INSERT INTO queue_entries (caption_id, user_id, platform, state, rank, due_at, \
             created_at, attempts, next_attempt_at) \
             SELECT '{caption}', user_id, platform, state, rank + {n}, due_at, created_at, 0, \
             next_attempt_at FROM queue_entries WHERE caption_id = '{first}'"
        ))
        .await;
    }
    app.sql("UPDATE queue_entries SET due_at = '2000-01-01 00:00:00' WHERE platform = 'bluesky'")
        .await;
    eprintln!("{CAPTIONS} captions made in {:?}", made.elapsed());
    let (handle, app_password, _) = account().await;
    connect(&app, &pds().url, &handle, &app_password).await;
    let did = did_of(&handle, &app_password).await;

    let publisher = publisher(&app).await;
    let started = std::time::Instant::now();
    let report = publisher.run_once().await.expect("a pass");
    let elapsed = started.elapsed();
    eprintln!(
        "{backend:?}: {} posted in {elapsed:?}: {:.1} posts/s ({report:?})",
        report.posted,
        report.posted as f64 / elapsed.as_secs_f64()
    );
    assert_eq!(report.posted, CAPTIONS);

    // Where the time goes: the PDS's own share, the same two calls per post (look for the
    // key, write the record) made directly for 100 more posts.
    let client =
        Client::new(&pds().url, &captionfeed::config::AddressPolicy::open()).expect("client");
    let session = client
        .create_session(&handle, &app_password)
        .await
        .expect("session");
    let direct = std::time::Instant::now();
    for n in 0..100 {
        let record = captionfeed::publish::bluesky::post_record(
            &format!("direct {n}"),
            &[],
            None,
            chrono::Utc::now(),
        );
        let key = captionfeed::publish::bluesky::record_key(&captionfeed::db::new_id());
        client
            .publish(&session, &key, &record)
            .await
            .expect("posted");
    }
    eprintln!(
        "the PDS alone: 100 posts in {:?} ({:.1} ms a post)",
        direct.elapsed(),
        direct.elapsed().as_secs_f64() * 10.0
    );

    // None twice, none missing: one record per caption, one caption per record.
    let mut cursor: Option<String> = None;
    let mut uris = std::collections::BTreeSet::new();
    loop {
        let mut query = vec![
            ("repo", did.clone()),
            ("collection", "app.bsky.feed.post".to_string()),
            ("limit", "100".to_string()),
        ];
        if let Some(c) = &cursor {
            query.push(("cursor", c.clone()));
        }
        let page: serde_json::Value = reqwest::Client::new()
            .get(format!("{}/xrpc/com.atproto.repo.listRecords", pds().url))
            .query(&query)
            .send()
            .await
            .expect("answers")
            .json()
            .await
            .expect("JSON");
        let records = page["records"].as_array().cloned().unwrap_or_default();
        for r in &records {
            if !r["value"]["text"]
                .as_str()
                .unwrap_or_default()
                .starts_with("direct ")
            {
                assert!(uris.insert(r["uri"].as_str().unwrap_or_default().to_string()));
            }
        }
        cursor = page["cursor"].as_str().map(str::to_string);
        if records.is_empty() || cursor.is_none() {
            break;
        }
    }
    eprintln!("{} distinct records for {CAPTIONS} captions", uris.len());
    assert_eq!(uris.len(), CAPTIONS);
    assert_eq!(
        app.sql_count("SELECT COUNT(DISTINCT post_uri) AS n FROM captions WHERE status = 'posted'")
            .await,
        CAPTIONS as i64
    );
}

mod bench {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    #[ignore = "a benchmark: run by hand with --ignored --nocapture"]
    async fn sqlite() {
        super::bench_a_thousand_captions_due_at_once(crate::helpers::Backend::Sqlite).await
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    #[ignore = "a benchmark: run by hand with --ignored --nocapture"]
    async fn postgres() {
        if !crate::helpers::postgres_configured() {
            return;
        }
        super::bench_a_thousand_captions_due_at_once(crate::helpers::Backend::Postgres).await
    }
}
