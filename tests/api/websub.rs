//! WebSub: a feed naming a hub is subscribed there; the hub's verification is answered
//! only for what we asked; signed pushes store posts and captions at once, forged ones
//! nothing; a push and a poll of the same post never make two.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use actix_web::{web, App, HttpResponse, HttpServer};
use captionfeed::websub::{signature::sign_sha256, WebSub};

use crate::helpers::{rss_with, spawn_app, Backend, FeedServer, TestApp};
use crate::on_both_backends;

type Requests = Arc<Mutex<Vec<HashMap<String, String>>>>;

/// A hub that accepts every subscription request (202) and remembers it; the test plays
/// the hub's part of verifying and pushing.
async fn start_hub() -> (String, Requests) {
    start_hub_answering_after(std::time::Duration::ZERO).await
}

/// [`start_hub`], taking `delay` to answer each request.
async fn start_hub_answering_after(delay: std::time::Duration) -> (String, Requests) {
    let requests: Requests = Arc::default();
    let seen = requests.clone();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind hub");
    let port = listener.local_addr().expect("hub address").port();
    let server = HttpServer::new(move || {
        let seen = seen.clone();
        App::new().route(
            "/hub",
            web::post().to(move |form: web::Form<HashMap<String, String>>| {
                let seen = seen.clone();
                async move {
                    seen.lock().expect("requests").push(form.into_inner());
                    tokio::time::sleep(delay).await;
                    HttpResponse::Accepted().finish()
                }
            }),
        )
    })
    .workers(1)
    .listen(listener)
    .expect("listen")
    .run();
    tokio::spawn(server);
    (format!("http://127.0.0.1:{port}/hub"), requests)
}

fn feed_naming(hub: &str, topic: &str, items: &[(&str, &str)]) -> String {
    let links = format!(
        r#"<atom:link xmlns:atom="http://www.w3.org/2005/Atom" rel="hub" href="{hub}"/><atom:link xmlns:atom="http://www.w3.org/2005/Atom" rel="self" href="{topic}"/>"#
    );
    rss_with("Pushed blog", &links, items)
}

async fn count(app: &TestApp, table: &'static str) -> i64 {
    use diesel::prelude::*;
    #[derive(QueryableByName)]
    struct N {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    app.db
        .run(move |conn| {
            diesel::sql_query(format!("SELECT COUNT(*) AS n FROM {table}"))
                .get_result::<N>(conn)
                .map(|r| r.n)
                .map_err(captionfeed::db::DbError::from)
        })
        .await
        .expect("count")
}

async fn a_hub_named_by_a_feed_gets_a_subscription_and_its_signed_pushes_arrive_at_once(
    backend: Backend,
) {
    let Subscribing {
        app,
        feeds,
        hub,
        requests,
        topic,
        feed_page,
        websub,
        request,
        path,
    } = subscribing(backend).await;

    assert!(app.get_html(&feed_page).await.contains("Asking the hub"));
    assert!(requests.lock().expect("requests").is_empty(), "asked once");
    assert_eq!(
        request.get("hub.mode").map(String::as_str),
        Some("subscribe")
    );
    assert_eq!(request.get("hub.topic"), Some(&topic));
    let secret = request.get("hub.secret").cloned().unwrap_or_default();
    assert!(secret.len() >= 32, "a secret of its own: {secret:?}");
    let path = path.as_str();
    // Asked once: the next pass has nothing to request until the lease nears its end.
    assert_eq!(websub.run_once().await.expect("pass").requested, 0);

    // The hub verifies our intent: a topic we never asked for is denied, ours confirmed.
    let lease = Some("86400");
    let wrong = hub_verifies(
        &app,
        path,
        "subscribe",
        "https://elsewhere.example/feed",
        lease,
    )
    .await;
    assert_eq!(wrong.status().as_u16(), 404);
    let right = hub_verifies(&app, path, "subscribe", &topic, lease).await;
    assert_eq!(right.status().as_u16(), 200);
    assert_eq!(right.text().await.expect("body"), CHALLENGE);
    let page = app.get_html(&feed_page).await;
    assert!(
        page.contains("pushed by the hub"),
        "the feed's page says posts are pushed"
    );

    // A push signed with another secret changes nothing.
    let pushed = feed_naming(&hub, &topic, &[("b", "Pushed post"), ("a", "First post")]);
    let forged = hub_pushes(&app, path, Some("not-the-secret"), &pushed).await;
    assert_eq!(forged.status().as_u16(), 400);
    let unsigned = hub_pushes(&app, path, None, &pushed).await;
    assert_eq!(unsigned.status().as_u16(), 400);
    assert_eq!(count(&app, "posts").await, 1);

    // The hub's signed push stores the new post and its captions without any poll.
    let genuine = hub_pushes(&app, path, Some(&secret), &pushed).await;
    assert_eq!(genuine.status().as_u16(), 200);
    assert_eq!(count(&app, "posts").await, 2);
    assert_eq!(count(&app, "captions").await, 2 * 7);

    // The same push again, and then a poll of the feed with the same post: nothing doubles.
    hub_pushes(&app, path, Some(&secret), &pushed).await;
    feeds.set("/feed.xml", "application/rss+xml", pushed);
    app.make_all_due().await;
    let polled = app.poll().await;
    assert_eq!((polled.new_posts, polled.captions_written), (0, 0));
    assert_eq!(count(&app, "posts").await, 2);
    assert_eq!(count(&app, "captions").await, 2 * 7);
}
on_both_backends!(a_hub_named_by_a_feed_gets_a_subscription_and_its_signed_pushes_arrive_at_once);

async fn a_hub_that_refuses_is_noted_and_nothing_is_pushed_without_a_subscription(
    backend: Backend,
) {
    // The "hub" is the feed server itself, which has no /hub: it answers 404.
    let (app, feeds, topic, feed_page, websub) =
        ann_follows_a_feed_naming(backend, |feeds| feeds.url("/hub")).await;
    let hub = feeds.url("/hub");

    let report = websub.run_once().await.expect("websub pass");

    assert_eq!((report.requested, report.failed), (0, 1));
    let page = app.get_html(&feed_page).await;
    assert!(
        page.contains("does not push to us"),
        "the refusal is on the feed's page"
    );
    let feed_id = app.feed_rows().await.remove(0).id;
    // Not subscribed, so a push is refused whatever it carries.
    let push = reqwest::Client::new()
        .post(app.url(&format!("/websub/{feed_id}")))
        .header("x-hub-signature", "sha256=00")
        .body(feed_naming(&hub, &topic, &[("b", "Sneaked in")]))
        .send()
        .await
        .expect("answers");
    assert_eq!(push.status().as_u16(), 404);
    assert_eq!(count(&app, "posts").await, 1);
    // A failure is retried a day later, not at every pass.
    assert_eq!(websub.run_once().await.expect("pass").failed, 0);
}
on_both_backends!(a_hub_that_refuses_is_noted_and_nothing_is_pushed_without_a_subscription);

/// The challenge the test's hub sends; a confirmed verification answers it back.
const CHALLENGE: &str = "ch4llenge";

/// The hub verifying a subscription (or its end) at our callback `path`, with a lease as
/// hubs send one on subscribing, or none.
async fn hub_verifies(
    app: &TestApp,
    path: &str,
    mode: &str,
    topic: &str,
    lease: Option<&str>,
) -> reqwest::Response {
    let mut query = vec![
        ("hub.mode", mode),
        ("hub.topic", topic),
        ("hub.challenge", CHALLENGE),
    ];
    query.extend(lease.map(|lease| ("hub.lease_seconds", lease)));
    reqwest::Client::new()
        .get(app.url(path))
        .query(&query)
        .send()
        .await
        .expect("answers")
}

/// The hub pushing `body` to our callback `path`, signed with `secret`, or unsigned.
async fn hub_pushes(
    app: &TestApp,
    path: &str,
    secret: Option<&str>,
    body: &str,
) -> reqwest::Response {
    let mut request = reqwest::Client::new().post(app.url(path));
    if let Some(secret) = secret {
        request = request.header("x-hub-signature", sign_sha256(secret, body.as_bytes()));
    }
    request.body(body.to_owned()).send().await.expect("answers")
}

/// Ann follows a feed naming a hub, and the first pass has asked the hub to subscribe.
struct Subscribing {
    app: TestApp,
    feeds: FeedServer,
    hub: String,
    requests: Requests,
    topic: String,
    feed_page: String,
    websub: WebSub,
    /// The subscription request the hub received.
    request: HashMap<String, String>,
    /// The callback's path, where the hub verifies and pushes.
    path: String,
}

/// Ann follows a feed naming the hub `hub` gives (from the feed server), and it has been
/// polled: (app, feed server, topic, feed page, a WebSub worker).
async fn ann_follows_a_feed_naming(
    backend: Backend,
    hub: impl FnOnce(&FeedServer) -> String,
) -> (TestApp, FeedServer, String, String, WebSub) {
    let feeds = FeedServer::start().await;
    let topic = feeds.url("/feed.xml");
    let hub = hub(&feeds);
    feeds.set(
        "/feed.xml",
        "application/rss+xml",
        feed_naming(&hub, &topic, &[("a", "First post")]),
    );
    let app = spawn_app(backend).await;
    app.sign_up("ann@example.com").await;
    let feed_page = app.add_feed(&topic).await;
    app.poll().await;
    let websub = WebSub::new(app.db.clone(), &app.settings).expect("websub");
    (app, feeds, topic, feed_page, websub)
}

async fn subscribing(backend: Backend) -> Subscribing {
    let (hub, requests) = start_hub().await;
    let at = hub.clone();
    let (app, feeds, topic, feed_page, websub) =
        ann_follows_a_feed_naming(backend, move |_| at).await;
    websub.run_once().await.expect("websub pass");
    let request = requests.lock().expect("requests").remove(0);
    let callback = request.get("hub.callback").cloned().unwrap_or_default();
    let path = callback[callback.find("/websub/").expect("callback path")..].to_owned();
    Subscribing {
        app,
        feeds,
        hub,
        requests,
        topic,
        feed_page,
        websub,
        request,
        path,
    }
}

async fn an_unfollowed_feed_is_unsubscribed_from_its_hub_and_followed_again_later(
    backend: Backend,
) {
    let Subscribing {
        app,
        hub,
        requests,
        topic,
        feed_page,
        websub,
        request,
        path,
        ..
    } = subscribing(backend).await;
    let secret = request.get("hub.secret").cloned().unwrap_or_default();
    let callback = request.get("hub.callback").cloned().unwrap_or_default();
    // Nobody asked to leave yet: a hub (or anyone) claiming so is refused.
    let early = hub_verifies(&app, &path, "unsubscribe", &topic, None).await;
    assert_eq!(early.status().as_u16(), 404);
    assert_eq!(
        hub_verifies(&app, &path, "subscribe", &topic, None)
            .await
            .status()
            .as_u16(),
        200
    );

    // Ann stops following the feed: the next pass asks the hub to stop pushing.
    let deleted = app
        .submit(&feed_page, &format!("{feed_page}/delete"), &[])
        .await;
    assert_eq!(deleted.status().as_u16(), 303);
    let report = websub.run_once().await.expect("websub pass");
    assert_eq!((report.requested, report.left), (0, 1));
    let request = requests.lock().expect("requests").remove(0);
    assert_eq!(
        request.get("hub.mode").map(String::as_str),
        Some("unsubscribe")
    );
    assert_eq!(request.get("hub.topic"), Some(&topic));
    assert_eq!(request.get("hub.callback"), Some(&callback));

    // From then on a push is refused, however well signed.
    let pushed = feed_naming(&hub, &topic, &[("b", "Pushed post"), ("a", "First post")]);
    let push = hub_pushes(&app, &path, Some(&secret), &pushed).await;
    assert_eq!(push.status().as_u16(), 404);
    assert_eq!(count(&app, "posts").await, 1);

    // The hub verifies the unsubscription: only for our topic.
    let elsewhere = "https://elsewhere.example/feed";
    let wrong = hub_verifies(&app, &path, "unsubscribe", elsewhere, None).await;
    assert_eq!(wrong.status().as_u16(), 404);
    let right = hub_verifies(&app, &path, "unsubscribe", &topic, None).await;
    assert_eq!(right.status().as_u16(), 200);
    assert_eq!(right.text().await.expect("body"), CHALLENGE);
    let report = websub.run_once().await.expect("websub pass");
    assert_eq!(
        (report.requested, report.left),
        (0, 0),
        "nothing more to ask"
    );
    assert!(requests.lock().expect("requests").is_empty());

    // Followed again: subscribed again.
    app.add_feed(&topic).await;
    let report = websub.run_once().await.expect("websub pass");
    assert_eq!((report.requested, report.left), (1, 0));
    let request = requests.lock().expect("requests").remove(0);
    assert_eq!(
        request.get("hub.mode").map(String::as_str),
        Some("subscribe")
    );
}
on_both_backends!(an_unfollowed_feed_is_unsubscribed_from_its_hub_and_followed_again_later);

async fn a_lease_near_its_end_is_renewed_and_an_unreachable_hub_is_noted(backend: Backend) {
    let Subscribing {
        app,
        feeds,
        requests,
        topic,
        feed_page,
        websub,
        request,
        path,
        ..
    } = subscribing(backend).await;
    let verified = hub_verifies(&app, &path, "subscribe", &topic, Some("864000")).await;
    assert_eq!(verified.status().as_u16(), 200);
    assert_eq!(websub.run_once().await.expect("pass").requested, 0);

    // Twelve hours left on the lease: renewed with the same secret, still active meanwhile.
    let in_twelve_hours = match backend {
        Backend::Sqlite => "datetime('now', '+12 hours')",
        Backend::Postgres => "(now() AT TIME ZONE 'UTC') + INTERVAL '12 hours'",
    };
    app.sql(&format!(
        "UPDATE feeds SET websub_lease_until = {in_twelve_hours}"
    ))
    .await;
    assert_eq!(websub.run_once().await.expect("pass").requested, 1);
    let renewal = requests.lock().expect("requests").remove(0);
    assert_eq!(
        renewal.get("hub.mode").map(String::as_str),
        Some("subscribe")
    );
    assert_eq!(renewal.get("hub.secret"), request.get("hub.secret"));
    assert!(app.get_html(&feed_page).await.contains("pushed by the hub"));

    // The feed moves to a hub nobody listens on: the failure is noted on the feed's page
    // and not retried at every pass.
    let dead = crate::helpers::unused_loopback_address();
    feeds.set(
        "/feed.xml",
        "application/rss+xml",
        feed_naming(
            &format!("http://{dead}/hub"),
            &topic,
            &[("a", "First post")],
        ),
    );
    app.make_all_due().await;
    app.poll().await;
    let report = websub.run_once().await.expect("pass");
    assert_eq!((report.requested, report.failed), (0, 1));
    let page = app.get_html(&feed_page).await;
    assert!(page.contains("the hub did not answer"), "{page}");
    assert_eq!(websub.run_once().await.expect("pass").failed, 0);
}
on_both_backends!(a_lease_near_its_end_is_renewed_and_an_unreachable_hub_is_noted);

async fn a_hub_refusing_the_unsubscription_is_no_longer_listened_to(backend: Backend) {
    let Subscribing {
        app,
        feeds,
        topic,
        feed_page,
        websub,
        request,
        path,
        ..
    } = subscribing(backend).await;
    let verified = hub_verifies(&app, &path, "subscribe", &topic, None).await;
    assert_eq!(verified.status().as_u16(), 200);
    // The hub moves to an address that answers 404 to everything.
    app.sql(&format!(
        "UPDATE feeds SET websub_hub = '{}'",
        feeds.url("/gone-hub")
    ))
    .await;
    let deleted = app
        .submit(&feed_page, &format!("{feed_page}/delete"), &[])
        .await;
    assert_eq!(deleted.status().as_u16(), 303);

    let report = websub.run_once().await.expect("websub pass");
    assert_eq!(report.left, 0, "the hub refused");
    let secret = request.get("hub.secret").cloned().unwrap_or_default();
    let pushed = feed_naming(&topic, &topic, &[("b", "Pushed post"), ("a", "First post")]);
    let push = hub_pushes(&app, &path, Some(&secret), &pushed).await;
    assert_eq!(
        push.status().as_u16(),
        404,
        "we stopped listening all the same"
    );
    assert_eq!(count(&app, "posts").await, 1);
    assert_eq!(
        websub.run_once().await.expect("pass").left,
        0,
        "asked once, not at every pass"
    );
    assert_eq!(feeds.hits("/gone-hub"), 1);
}
on_both_backends!(a_hub_refusing_the_unsubscription_is_no_longer_listened_to);

async fn two_replicas_racing_send_each_subscription_request_once(backend: Backend) {
    // A slow hub: both replicas are at work at the same time, with the same due list.
    let (hub, requests) = start_hub_answering_after(std::time::Duration::from_millis(300)).await;
    let feeds = FeedServer::start().await;
    let app = spawn_app(backend).await;
    app.sign_up("ann@example.com").await;
    let mut topics = Vec::new();
    for name in ["one", "two", "three"] {
        let path = format!("/{name}.xml");
        let topic = feeds.url(&path);
        let feed = feed_naming(&hub, &topic, &[(name, "A post")]);
        feeds.set(&path, "application/rss+xml", feed);
        app.add_feed(&topic).await;
        topics.push(topic);
    }
    app.poll().await;

    let one = WebSub::new(app.db.clone(), &app.settings).expect("websub");
    let other = WebSub::new(app.db.clone(), &app.settings).expect("websub");
    let (a, b) = tokio::join!(one.run_once(), other.run_once());
    let (a, b) = (a.expect("pass"), b.expect("pass"));
    assert_eq!(a.requested + b.requested, 3, "{a:?} {b:?}");
    let mut asked: Vec<String> = requests
        .lock()
        .expect("requests")
        .iter()
        .filter_map(|r| r.get("hub.topic").cloned())
        .collect();
    asked.sort();
    topics.sort();
    assert_eq!(asked, topics, "each feed asked for once");

    // Neither asks again while the hub has not verified.
    let (a, b) = tokio::join!(one.run_once(), other.run_once());
    assert_eq!(a.expect("pass").requested + b.expect("pass").requested, 0);
    assert_eq!(requests.lock().expect("requests").len(), 3);
}
on_both_backends!(two_replicas_racing_send_each_subscription_request_once);
