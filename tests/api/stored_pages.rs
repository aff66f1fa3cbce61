//! The pages a subscriber opens every day besides the desk (the feeds list, a feed's page,
//! the templates, the settings) are served as stored while nothing on them changed. Each
//! test stores a page (the second request is answered from the store), makes one change
//! the way it really happens (a form, the poller, a worker, an operator), and expects the
//! page to show it: at once on SQLite and for the subscriber's own forms; on PostgreSQL,
//! for other processes' writes, as soon as the database's notification arrives.

use std::time::{Duration, Instant};

use crate::digests::{later, sender as digest_sender, set_frequency, user_id, verify};
use crate::helpers::{csrf_token, new_browser, rss, spawn_app, Backend, FeedServer, TestApp};
use crate::on_both_backends;
use captionfeed::digests::schedule::Frequency;

/// What `Server-Timing` says of the page: "stored" or "rendered".
fn page_source(response: &reqwest::Response) -> String {
    let timing = response
        .headers()
        .get("server-timing")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    timing
        .split(',')
        .find_map(|metric| metric.trim().strip_prefix("page;desc=\""))
        .and_then(|rest| rest.split('"').next())
        .unwrap_or_default()
        .to_string()
}

/// Opens `path` twice as `client`, and checks that the second answer came from the store
/// (so what follows tests that the stored page is replaced, not a page made afresh).
pub(crate) async fn stored(app: &TestApp, client: &reqwest::Client, path: &str) -> String {
    let first = app.get_as(client, path).await;
    assert_eq!(first.status().as_u16(), 200, "{path}");
    let again = app.get_as(client, path).await;
    assert_eq!(again.status().as_u16(), 200, "{path}");
    assert_eq!(page_source(&again), "stored", "{path} is served as stored");
    again.text().await.expect("body")
}

/// How long a change may take to reach the web server on PostgreSQL (a notification;
/// the allowance is for a loaded machine).
const TOLD_WITHIN: Duration = Duration::from_secs(5);

/// `path` as `client` sees it once `shows` holds: asked once on SQLite, where every request
/// reads the version from the database; on PostgreSQL until the notification arrived.
pub(crate) async fn once_showing(
    backend: Backend,
    app: &TestApp,
    client: &reqwest::Client,
    path: &str,
    shows: impl Fn(&str) -> bool,
) -> String {
    let patience = match backend {
        Backend::Sqlite => Duration::ZERO,
        Backend::Postgres => TOLD_WITHIN,
    };
    let deadline = Instant::now() + patience;
    loop {
        let html = app.get_html_as(client, path).await;
        if shows(&html) || Instant::now() >= deadline {
            return html;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Stores `path`, runs `change`, and expects the page to show `expected` afterwards
/// (and not before).
async fn shows_after<F, Fut>(
    backend: Backend,
    app: &TestApp,
    path: &str,
    change: F,
    expected: impl Fn(&str) -> bool,
    what: &str,
) where
    F: FnOnce() -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let before = stored(app, &app.client, path).await;
    assert!(
        !expected(&before),
        "{what}: {path} shows it already: {before}"
    );
    change().await;
    let after = once_showing(backend, app, &app.client, path, &expected).await;
    assert!(expected(&after), "{what}: {path} does not show it: {after}");
}

async fn with_feed(backend: Backend) -> (TestApp, FeedServer, String, String) {
    let feeds = FeedServer::start().await;
    let url = feeds.set(
        "/feed.xml",
        "application/rss+xml",
        rss("Ann's blog", &[("a1", "First post")]),
    );
    let app = spawn_app(backend).await;
    app.sign_up("ann@example.com").await;
    let page = app.add_feed(&url).await;
    app.poll().await;
    (app, feeds, url, page)
}

async fn stop_as_operator(app: &TestApp, url: &str, note: &str) {
    let operator = new_browser();
    app.sign_up_as(&operator, "op@example.com").await;
    app.grant_operator("op@example.com").await;
    let confirmed = app
        .submit_as(
            &operator,
            "/admin/confirm?next=%2Fadmin%2Fhealth",
            "/admin/confirm",
            &[
                ("password", "correct horse battery"),
                ("next", "/admin/health"),
            ],
        )
        .await;
    assert_eq!(confirmed.status().as_u16(), 303, "operator confirmed");
    let stopped = app
        .submit_as(
            &operator,
            "/admin/health",
            "/admin/feeds/stop",
            &[("url", url), ("note", note)],
        )
        .await;
    assert_eq!(stopped.status().as_u16(), 200, "feed stopped");
}

async fn the_feeds_list_shows_every_change(backend: Backend) {
    let (app, feeds, url, page) = with_feed(backend).await;

    // A check that fails: the poller writes the feed's health.
    shows_after(
        backend,
        &app,
        "/feeds",
        || async {
            feeds.set_status("/feed.xml", 503, "text/plain", "down");
            app.make_all_due().await;
            app.poll().await;
        },
        |html| html.contains("Last error:"),
        "a failed check",
    )
    .await;
    // The next check succeeds, under a new title.
    shows_after(
        backend,
        &app,
        "/feeds",
        || async {
            feeds.set(
                "/feed.xml",
                "application/rss+xml",
                rss("Ann's renamed blog", &[("a1", "First post")]),
            );
            app.make_all_due().await;
            app.poll().await;
        },
        |html| html.contains("renamed blog") && !html.contains("Last error:"),
        "a recovered feed's new title",
    )
    .await;
    // A check with nothing new still moves "Last checked". The old time is written by hand,
    // and so is its version: the check's own writes raise it in code, not in a trigger.
    app.sql("UPDATE feeds SET last_checked_at = '2026-01-02 03:04:00'")
        .await;
    app.sql("UPDATE page_versions SET version = version + 1")
        .await;
    shows_after(
        backend,
        &app,
        "/feeds",
        || async {
            app.make_all_due().await;
            app.poll().await;
        },
        |html| !html.contains("2026-01-02 03:04"),
        "an unchanged check",
    )
    .await;

    // Following and unfollowing, through the pages.
    let other = feeds.set(
        "/other.xml",
        "application/rss+xml",
        rss("Another blog", &[("o1", "Other post")]),
    );
    let mut other_page = String::new();
    shows_after(
        backend,
        &app,
        "/feeds",
        || async { other_page = app.add_feed(&other).await },
        |html| html.contains("/other.xml"),
        "a feed followed",
    )
    .await;
    shows_after(
        backend,
        &app,
        "/feeds",
        || async {
            let gone = app
                .submit(&other_page, &format!("{other_page}/delete"), &[])
                .await;
            assert_eq!(gone.status().as_u16(), 303);
        },
        |html| !html.contains("/other.xml"),
        "a feed unfollowed",
    )
    .await;

    // An operator stops the feed for everyone, with a note.
    shows_after(
        backend,
        &app,
        "/feeds",
        || stop_as_operator(&app, &url, "The author asked us to stop."),
        |html| html.contains("The author asked us to stop."),
        "an operator's stop",
    )
    .await;
    assert!(app
        .get_html(&page)
        .await
        .contains("The author asked us to stop."));

    // The address confirmed: the banner asking for it goes.
    let user = user_id(&app, "ann@example.com").await;
    shows_after(
        backend,
        &app,
        "/feeds",
        || verify(&app, &user),
        |html| !html.contains("Confirm your address to get digests"),
        "the address confirmed",
    )
    .await;
}
on_both_backends!(the_feeds_list_shows_every_change);

async fn a_feeds_page_shows_every_change(backend: Backend) {
    let (app, feeds, url, page) = with_feed(backend).await;
    let next_check = |html: &str| {
        html.split("<dt>Next check</dt><dd>")
            .nth(1)
            .and_then(|rest| rest.split('<').next())
            .unwrap_or_default()
            .to_string()
    };
    // Checked long ago, so "Check now" is not refused as too soon.
    app.sql("UPDATE feeds SET last_checked_at = '2026-01-02 03:04:00'")
        .await;
    let before = stored(&app, &app.client, &page).await;
    let planned = next_check(&before);
    assert!(!planned.is_empty(), "{before}");
    // "Check now" moves the next check forward.
    shows_after(
        backend,
        &app,
        &page,
        || async {
            let asked = app.submit(&page, &format!("{page}/check"), &[]).await;
            assert_eq!(asked.status().as_u16(), 303);
        },
        |html| next_check(html) != planned,
        "check now",
    )
    .await;
    shows_after(
        backend,
        &app,
        &page,
        || async {
            feeds.set_status("/feed.xml", 500, "text/plain", "broken");
            app.make_all_due().await;
            app.poll().await;
        },
        |html| html.contains("The server said:"),
        "a failed check",
    )
    .await;
    shows_after(
        backend,
        &app,
        &page,
        || async {
            let saved = app
                .submit(
                    &page,
                    &format!("{page}/templates"),
                    &[
                        ("platform", "x"),
                        ("variant", "default"),
                        ("source", "Fresh words: {{ title }}"),
                        ("action", "save"),
                    ],
                )
                .await;
            assert_eq!(saved.status().as_u16(), 303);
        },
        |html| html.contains("Fresh words:"),
        "a feed template",
    )
    .await;
    shows_after(
        backend,
        &app,
        &page,
        || stop_as_operator(&app, &url, "Stopped by request."),
        |html| html.contains("Stopped by request."),
        "an operator's stop",
    )
    .await;
}
on_both_backends!(a_feeds_page_shows_every_change);

async fn the_templates_page_shows_every_change(backend: Backend) {
    let (app, feeds, _url, _page) = with_feed(backend).await;
    let path = "/templates?platform=mastodon";
    // Every caption posted already: saving a template rewrites none of them, so only the
    // template itself tells the page it changed.
    app.sql("UPDATE captions SET status = 'posted'").await;
    shows_after(
        backend,
        &app,
        path,
        || async {
            let saved = app
                .submit(
                    path,
                    "/templates",
                    &[
                        ("platform", "mastodon"),
                        ("variant", "default"),
                        ("source", "My own words: {{ title }}"),
                        ("action", "save"),
                    ],
                )
                .await;
            assert_eq!(saved.status().as_u16(), 303);
        },
        |html| html.contains("My own words:"),
        "the account's template",
    )
    .await;
    // The previews are of the newest posts: one the poller just found shows.
    shows_after(
        backend,
        &app,
        path,
        || async {
            feeds.set(
                "/feed.xml",
                "application/rss+xml",
                rss(
                    "Ann's blog",
                    &[("a2", "A brand new post"), ("a1", "First post")],
                ),
            );
            app.make_all_due().await;
            app.poll().await;
        },
        |html| html.contains("A brand new post"),
        "a new post in the previews",
    )
    .await;
}
on_both_backends!(the_templates_page_shows_every_change);

async fn the_settings_page_shows_every_change(backend: Backend) {
    let (app, feeds, _url, _page) = with_feed(backend).await;
    let user = user_id(&app, "ann@example.com").await;
    shows_after(
        backend,
        &app,
        "/settings",
        || async {
            let saved = app
                .submit(
                    "/settings",
                    "/settings",
                    &[
                        ("frequency", "daily"),
                        ("batch_minutes", "60"),
                        ("weekday", "0"),
                        ("hour", "7"),
                        ("time_zone", "Europe/Paris"),
                        ("platforms_shown", "1"),
                        ("platform_x", "on"),
                    ],
                )
                .await;
            assert_eq!(saved.status().as_u16(), 303);
        },
        |html| html.contains(r#"<option value="Europe/Paris" selected>"#),
        "the time zone",
    )
    .await;
    shows_after(
        backend,
        &app,
        "/settings",
        || verify(&app, &user),
        |html| !html.contains("Digests wait until you confirm"),
        "the address confirmed",
    )
    .await;
    // The digest worker fails to send a new post's captions: the page says why.
    set_frequency(&app, &user, Frequency::Batched { minutes: 5 }).await;
    shows_after(
        backend,
        &app,
        "/settings",
        || async {
            feeds.set(
                "/feed.xml",
                "application/rss+xml",
                rss("Ann's blog", &[("a2", "Second post"), ("a1", "First post")]),
            );
            app.make_all_due().await;
            app.poll().await;
            let dead = std::net::SocketAddr::from(([127, 0, 0, 1], 1));
            digest_sender(&app, &format!("smtp://{dead}"))
                .await
                .run_once_at(later(10))
                .await
                .expect("a pass of the digest worker");
        },
        |html| html.contains("The last digest could not be sent"),
        "a digest that failed",
    )
    .await;
}
on_both_backends!(the_settings_page_shows_every_change);

/// No account or session ever gets a page stored for another: each has its own address,
/// feeds and CSRF token on every stored page.
async fn no_account_or_session_gets_anothers_stored_page(backend: Backend) {
    let (app, _feeds, url, _page) = with_feed(backend).await;
    let bob = new_browser();
    app.sign_up_as(&bob, "bob@example.com").await;
    let bobs_feed = app.add_feed_as(&bob, &url).await;
    let second = new_browser();
    let logged_in = app
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
    assert_eq!(logged_in.status().as_u16(), 303);
    for path in ["/feeds", "/templates", "/settings", bobs_feed.as_str()] {
        let ann = match path.starts_with("/feeds/") {
            true => None,
            false => Some(stored(&app, &app.client, path).await),
        };
        let bobs = stored(&app, &bob, path).await;
        assert!(bobs.contains("bob@example.com"), "{path}: {bobs}");
        assert!(!bobs.contains("ann@example.com"), "{path}: {bobs}");
        let Some(ann) = ann else {
            // Bob's feed page is his own: Ann gets no page for it.
            let refused = app.get(path).await;
            assert_eq!(refused.status().as_u16(), 404, "{path}");
            continue;
        };
        assert!(ann.contains("ann@example.com") && !ann.contains("bob@example.com"));
        assert_ne!(csrf_token(&ann), csrf_token(&bobs), "{path}");
        let seconds = stored(&app, &second, path).await;
        assert!(seconds.contains("ann@example.com"), "{path}");
        assert_ne!(csrf_token(&ann), csrf_token(&seconds), "{path}");
    }
    // Logged out: the stored pages are not served to that session any more.
    let out = app.submit_as(&bob, "/feeds", "/logout", &[]).await;
    assert_eq!(out.status().as_u16(), 303);
    for path in ["/feeds", "/templates", "/settings", bobs_feed.as_str()] {
        let response = app.get_as(&bob, path).await;
        assert_eq!(response.status().as_u16(), 303, "{path}");
    }
}
on_both_backends!(no_account_or_session_gets_anothers_stored_page);

/// Requests that miss the store together (a cold start, or just after a change) wait for
/// one render instead of each rendering the page: under load, 64 renders at once kept every
/// request waiting over a second.
async fn requests_missing_together_render_the_page_once(backend: Backend) {
    let (app, _feeds, _url, page) = with_feed(backend).await;
    for path in ["/templates?platform=x", page.as_str()] {
        // A session of its own, which has no page stored yet.
        let browser = new_browser();
        let logged_in = app
            .submit_as(
                &browser,
                "/login",
                "/login",
                &[
                    ("email", "ann@example.com"),
                    ("password", "correct horse battery"),
                ],
            )
            .await;
        assert_eq!(logged_in.status().as_u16(), 303, "logged in");
        let answers =
            futures_util::future::join_all((0..16).map(|_| app.get_as(&browser, path))).await;
        let sources: Vec<String> = answers
            .iter()
            .inspect(|r| assert_eq!(r.status().as_u16(), 200, "{path}"))
            .map(page_source)
            .collect();
        let rendered = sources.iter().filter(|s| *s == "rendered").count();
        assert_eq!(
            rendered, 1,
            "{path}: one render for 16 requests at once: {sources:?}"
        );
    }
}
on_both_backends!(requests_missing_together_render_the_page_once);
