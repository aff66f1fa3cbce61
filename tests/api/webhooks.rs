use std::collections::HashMap;
use std::net::TcpListener;
use std::sync::{Arc, Mutex};

use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};
use captionfeed::webhooks::sign::{self, verify};
use captionfeed::webhooks::Webhooks;
use diesel::prelude::*;

use crate::helpers::{new_browser, rss, spawn_app, spawn_app_with, Backend, FeedServer, TestApp};
use crate::on_both_backends;

/// One request as the receiver saw it.
#[derive(Clone, Debug)]
struct Received {
    delivery: String,
    event: String,
    valid: bool,
    body: serde_json::Value,
}

#[derive(Default)]
struct ReceiverState {
    secret: String,
    /// Answer 500 to the first request of each delivery.
    fail_first: bool,
    attempts: HashMap<String, usize>,
    received: Vec<Received>,
}

/// A webhook receiver on loopback that checks each signature with the endpoint's secret.
#[derive(Clone)]
struct Receiver {
    url: String,
    state: Arc<Mutex<ReceiverState>>,
}

impl Receiver {
    async fn start(fail_first: bool) -> Receiver {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind receiver");
        let port = listener.local_addr().expect("address").port();
        let state = Arc::new(Mutex::new(ReceiverState {
            fail_first,
            ..Default::default()
        }));
        let shared = state.clone();
        let server = HttpServer::new(move || {
            let shared = shared.clone();
            App::new().default_service(web::to(move |req: HttpRequest, body: web::Bytes| {
                let shared = shared.clone();
                async move {
                    let header = |name: &str| {
                        req.headers()
                            .get(name)
                            .and_then(|v| v.to_str().ok())
                            .unwrap_or_default()
                            .to_string()
                    };
                    let mut state = shared.lock().unwrap();
                    let valid = verify(
                        &state.secret,
                        &header(sign::SIGNATURE_HEADER),
                        &body,
                        chrono::Utc::now().timestamp(),
                    )
                    .is_ok();
                    let delivery = header(sign::DELIVERY_HEADER);
                    let seen = state.attempts.entry(delivery.clone()).or_default();
                    *seen += 1;
                    let first = *seen == 1;
                    state.received.push(Received {
                        delivery,
                        event: header(sign::EVENT_HEADER),
                        valid,
                        body: serde_json::from_slice(&body).unwrap_or_default(),
                    });
                    if state.fail_first && first {
                        HttpResponse::InternalServerError().body("try later")
                    } else {
                        HttpResponse::Ok().body("ok")
                    }
                }
            }))
        })
        .workers(2)
        .listen(listener)
        .expect("listen")
        .run();
        tokio::spawn(server);
        Receiver {
            url: format!("http://127.0.0.1:{port}/hook"),
            state,
        }
    }

    fn set_secret(&self, secret: &str) {
        self.state.lock().unwrap().secret = secret.to_string();
    }

    fn received(&self) -> Vec<Received> {
        self.state.lock().unwrap().received.clone()
    }
}

/// Adds an endpoint through the page; returns the secret shown once.
async fn add_endpoint(app: &TestApp, client: &reqwest::Client, url: &str) -> String {
    let response = app
        .submit_as(
            client,
            "/settings/webhooks",
            "/settings/webhooks",
            &[("url", url)],
        )
        .await;
    assert_eq!(response.status().as_u16(), 201);
    let html = response.text().await.unwrap();
    let start = html.find("whsec_").expect("the secret is shown");
    html[start..].split('<').next().unwrap().to_string()
}

async fn feed_with_posts() -> (FeedServer, String) {
    let feeds = FeedServer::start().await;
    let url = feeds.set(
        "/feed.xml",
        "application/rss+xml",
        rss("Blog", &[("a", "Alpha"), ("b", "Beta"), ("c", "Gamma")]),
    );
    (feeds, url)
}

async fn caption_ids(app: &TestApp) -> Vec<String> {
    use captionfeed::db::schema::captions;
    app.db
        .run(|conn| {
            captions::table
                .filter(captions::error.is_null())
                .order(captions::id)
                .select(captions::id)
                .load::<String>(conn)
                .map_err(captionfeed::db::DbError::from)
        })
        .await
        .unwrap()
}

fn webhooks(app: &TestApp) -> Webhooks {
    Webhooks::new(app.db.clone(), &app.settings).expect("webhooks")
}

async fn each_new_caption_arrives_once_signed(backend: Backend) {
    let receiver = Receiver::start(false).await;
    let app = spawn_app(backend).await;
    app.sign_up("ann@example.com").await;
    let secret = add_endpoint(&app, &app.client, &receiver.url).await;
    receiver.set_secret(&secret);
    let (_feeds, url) = feed_with_posts().await;
    app.add_feed(&url).await;
    app.poll().await;
    let hooks = webhooks(&app);
    let report = hooks.run_once().await.unwrap();
    let mut expected = caption_ids(&app).await;
    assert!(!expected.is_empty());
    assert_eq!(report.delivered, expected.len());
    hooks.run_once().await.unwrap();

    let received = receiver.received();
    assert!(received.iter().all(|r| r.valid), "every signature verifies");
    assert!(received.iter().all(|r| r.event == "caption.created"));
    let mut got: Vec<String> = received
        .iter()
        .map(|r| r.body["caption"]["id"].as_str().unwrap().to_string())
        .collect();
    got.sort();
    expected.sort();
    assert_eq!(got, expected, "each caption once");
    let one = &received[0].body;
    assert_eq!(one["id"].as_str(), Some(received[0].delivery.as_str()));
    assert!(one["caption"]["text"]
        .as_str()
        .is_some_and(|t| !t.is_empty()));
    assert!(one["post"]["url"]
        .as_str()
        .is_some_and(|u| u.starts_with("https://blog.example/")));

    let html = app.get_html("/settings/webhooks").await;
    assert!(html.contains(&receiver.url));
    assert!(html.contains("delivered"));
    assert!(!html.contains(&secret), "the secret is shown only once");
}
on_both_backends!(each_new_caption_arrives_once_signed);

async fn old_captions_are_not_sent_to_a_new_endpoint(backend: Backend) {
    let receiver = Receiver::start(false).await;
    let app = spawn_app(backend).await;
    app.sign_up("ann@example.com").await;
    let (_feeds, url) = feed_with_posts().await;
    app.add_feed(&url).await;
    app.poll().await;
    let secret = add_endpoint(&app, &app.client, &receiver.url).await;
    receiver.set_secret(&secret);
    let report = webhooks(&app).run_once().await.unwrap();
    assert_eq!(report.enqueued, 0);
    assert!(receiver.received().is_empty());
}
on_both_backends!(old_captions_are_not_sent_to_a_new_endpoint);

async fn a_failed_delivery_is_retried_then_delivered_once(backend: Backend) {
    let receiver = Receiver::start(true).await;
    let app = spawn_app(backend).await;
    app.sign_up("ann@example.com").await;
    let secret = add_endpoint(&app, &app.client, &receiver.url).await;
    receiver.set_secret(&secret);
    let (_feeds, url) = feed_with_posts().await;
    app.add_feed(&url).await;
    app.poll().await;
    let hooks = webhooks(&app);
    let first = hooks.run_once().await.unwrap();
    let count = caption_ids(&app).await.len();
    assert_eq!(first.failed, count);
    let html = app.get_html("/settings/webhooks").await;
    assert!(html.contains("next retry"), "the page shows the retry");
    assert!(html.contains("500"));

    // Not due yet: the backoff holds it back.
    let early = hooks.run_once().await.unwrap();
    assert_eq!(early.delivered + early.failed, 0);

    app.sql("UPDATE webhook_deliveries SET next_attempt_at = created_at")
        .await;
    let second = hooks.run_once().await.unwrap();
    assert_eq!(second.delivered, count);

    app.sql("UPDATE webhook_deliveries SET next_attempt_at = created_at")
        .await;
    let third = hooks.run_once().await.unwrap();
    assert_eq!(
        third.delivered + third.failed,
        0,
        "delivered ones stay delivered"
    );

    let state = receiver.state.lock().unwrap();
    assert_eq!(state.attempts.len(), count);
    assert!(
        state.attempts.values().all(|n| *n == 2),
        "{:?}",
        state.attempts
    );
    assert!(state.received.iter().all(|r| r.valid));
}
on_both_backends!(a_failed_delivery_is_retried_then_delivered_once);

async fn send_again_makes_a_delivery_due_now(backend: Backend) {
    let receiver = Receiver::start(false).await;
    let app = spawn_app(backend).await;
    app.sign_up("ann@example.com").await;
    let secret = add_endpoint(&app, &app.client, &receiver.url).await;
    receiver.set_secret(&secret);
    let (_feeds, url) = feed_with_posts().await;
    app.add_feed(&url).await;
    app.poll().await;
    let hooks = webhooks(&app);
    hooks.run_once().await.unwrap();
    let before = receiver.received().len();
    let delivery = receiver.received()[0].delivery.clone();

    // Another account cannot replay it.
    let other = new_browser();
    app.sign_up_as(&other, "bob@example.com").await;
    let action = format!("/settings/webhooks/deliveries/{delivery}/replay");
    let refused = app
        .submit_as(&other, "/settings/webhooks", &action, &[])
        .await;
    assert_eq!(refused.status().as_u16(), 404);

    let replayed = app.submit("/settings/webhooks", &action, &[]).await;
    assert_eq!(replayed.status().as_u16(), 303);
    let report = hooks.run_once().await.unwrap();
    assert_eq!(report.delivered, 1);
    let received = receiver.received();
    assert_eq!(received.len(), before + 1);
    assert_eq!(received[before].delivery, delivery);
    assert!(received[before].valid);
}
on_both_backends!(send_again_makes_a_delivery_due_now);

#[test]
fn a_tampered_body_fails_verification() {
    let now = chrono::Utc::now().timestamp();
    let body = br#"{"event":"caption.created","caption":{"text":"Hello"}}"#;
    let header = sign::signature_header("whsec_abc", now, body);
    assert!(verify("whsec_abc", &header, body, now).is_ok());
    let tampered = br#"{"event":"caption.created","caption":{"text":"Hellp"}}"#;
    assert!(verify("whsec_abc", &header, tampered, now).is_err());
    assert!(verify("whsec_other", &header, body, now).is_err());
    assert!(
        verify("whsec_abc", &header, body, now + 301).is_err(),
        "too old"
    );
}

async fn private_addresses_are_refused(backend: Backend) {
    let app = spawn_app_with(backend, |s| s.allow_private_networks = false).await;
    app.sign_up("ann@example.com").await;
    for url in [
        "http://127.0.0.1:9/hook",
        "http://[::1]/hook",
        "http://10.0.0.5/hook",
        "http://0x7f.1/hook",
        "http://localhost/hook",
    ] {
        let response = app
            .submit("/settings/webhooks", "/settings/webhooks", &[("url", url)])
            .await;
        assert_eq!(response.status().as_u16(), 422, "{url}");
        let html = response.text().await.unwrap();
        assert!(
            html.contains("Webhooks may only go to public addresses"),
            "{url}: {html}"
        );
    }
    let html = app.get_html("/settings/webhooks").await;
    assert!(html.contains("No endpoints yet"));
    for url in ["ftp://example.com/hook", "https://user:pw@example.com/hook"] {
        let response = app
            .submit("/settings/webhooks", "/settings/webhooks", &[("url", url)])
            .await;
        assert_eq!(response.status().as_u16(), 422, "{url}");
    }
}
on_both_backends!(private_addresses_are_refused);

async fn another_account_cannot_see_or_delete_an_endpoint(backend: Backend) {
    let app = spawn_app(backend).await;
    app.sign_up("ann@example.com").await;
    add_endpoint(&app, &app.client, "https://hooks.example/ann").await;
    let html = app.get_html("/settings/webhooks").await;
    let endpoint_id = html
        .split("action=\"/settings/webhooks/")
        .nth(1)
        .expect("a delete form")
        .split('/')
        .next()
        .unwrap()
        .to_string();

    let other = new_browser();
    app.sign_up_as(&other, "bob@example.com").await;
    let theirs = app
        .get_as(&other, "/settings/webhooks")
        .await
        .text()
        .await
        .unwrap();
    assert!(!theirs.contains("hooks.example/ann"));
    let action = format!("/settings/webhooks/{endpoint_id}/delete");
    let refused = app
        .submit_as(&other, "/settings/webhooks", &action, &[])
        .await;
    assert_eq!(refused.status().as_u16(), 404);
    assert!(app
        .get_html("/settings/webhooks")
        .await
        .contains("hooks.example/ann"));

    let deleted = app.submit("/settings/webhooks", &action, &[]).await;
    assert_eq!(deleted.status().as_u16(), 303);
    assert!(!app
        .get_html("/settings/webhooks")
        .await
        .contains("hooks.example/ann"));
}
on_both_backends!(another_account_cannot_see_or_delete_an_endpoint);

async fn racing_passes_deliver_each_delivery_once(backend: Backend) {
    let receiver = Receiver::start(false).await;
    let app = spawn_app(backend).await;
    app.sign_up("ann@example.com").await;
    let secret = add_endpoint(&app, &app.client, &receiver.url).await;
    receiver.set_secret(&secret);
    let (_feeds, url) = feed_with_posts().await;
    app.add_feed(&url).await;
    app.poll().await;
    let (a, b) = (webhooks(&app), webhooks(&app));
    let (ra, rb) = tokio::join!(a.run_once(), b.run_once());
    let (ra, rb) = (ra.unwrap(), rb.unwrap());
    let count = caption_ids(&app).await.len();
    assert_eq!(ra.delivered + rb.delivered, count);
    assert_eq!(ra.enqueued + rb.enqueued, count, "enqueued once");
    let state = receiver.state.lock().unwrap();
    assert_eq!(state.received.len(), count);
    assert!(state.attempts.values().all(|n| *n == 1));
}
on_both_backends!(racing_passes_deliver_each_delivery_once);

async fn the_sender_refuses_private_addresses_too(backend: Backend) {
    let receiver = Receiver::start(false).await;
    let app = spawn_app(backend).await;
    app.sign_up("ann@example.com").await;
    // Added while private networks were open, sent after they were closed.
    let secret = add_endpoint(&app, &app.client, &receiver.url).await;
    receiver.set_secret(&secret);
    let (_feeds, url) = feed_with_posts().await;
    app.add_feed(&url).await;
    app.poll().await;
    let mut closed = app.settings.clone();
    closed.allow_private_networks = false;
    let report = Webhooks::new(app.db.clone(), &closed)
        .unwrap()
        .run_once()
        .await
        .unwrap();
    assert_eq!(report.delivered, 0);
    assert!(report.failed > 0);
    assert!(
        receiver.received().is_empty(),
        "nothing reached the receiver"
    );
    let html = app.get_html("/settings/webhooks").await;
    assert!(html.contains("next retry"));
}
on_both_backends!(the_sender_refuses_private_addresses_too);

async fn post_and_feed_error_events_arrive_once_each_when_asked_for(backend: Backend) {
    let receiver = Receiver::start(false).await;
    let app = spawn_app(backend).await;
    app.sign_up("ann@example.com").await;
    let response = app
        .submit(
            "/settings/webhooks",
            "/settings/webhooks",
            &[
                ("url", receiver.url.as_str()),
                ("post_created", "on"),
                ("feed_error", "on"),
            ],
        )
        .await;
    assert_eq!(response.status().as_u16(), 201);
    let html = response.text().await.unwrap();
    let start = html.find("whsec_").expect("the secret is shown");
    receiver.set_secret(html[start..].split('<').next().unwrap());
    let (feeds, url) = feed_with_posts().await;
    app.add_feed(&url).await;
    app.poll().await;
    let hooks = webhooks(&app);
    hooks.run_once().await.unwrap();

    // The feed starts failing, and keeps failing over two checks: one event.
    feeds.set_status("/feed.xml", 500, "text/plain", "down for maintenance");
    for _ in 0..2 {
        app.make_all_due().await;
        app.poll().await;
        hooks.run_once().await.unwrap();
    }
    hooks.run_once().await.unwrap();

    let received = receiver.received();
    assert!(received.iter().all(|r| r.valid), "every signature verifies");
    let events: Vec<&str> = received.iter().map(|r| r.event.as_str()).collect();
    assert!(
        !events.contains(&"caption.created"),
        "not asked for: {events:?}"
    );
    let mut titles: Vec<&str> = received
        .iter()
        .filter(|r| r.event == "post.created")
        .map(|r| r.body["post"]["title"].as_str().unwrap_or_default())
        .collect();
    titles.sort();
    assert_eq!(titles, ["Alpha", "Beta", "Gamma"], "each post once");
    let errors: Vec<&Received> = received
        .iter()
        .filter(|r| r.event == "feed.error")
        .collect();
    assert_eq!(errors.len(), 1, "one event per run of errors: {events:?}");
    assert_eq!(errors[0].body["feed"]["url"].as_str(), Some(url.as_str()));
    assert_eq!(errors[0].body["feed"]["status"].as_i64(), Some(500));

    // It recovers and fails again: a new run of errors, a new event.
    feeds.set(
        "/feed.xml",
        "application/rss+xml",
        rss("Blog", &[("a", "Alpha")]),
    );
    app.make_all_due().await;
    app.poll().await;
    feeds.set_status("/feed.xml", 503, "text/plain", "down again");
    app.sql("UPDATE feeds SET next_check_at = created_at").await;
    app.poll().await;
    hooks.run_once().await.unwrap();
    let errors = receiver
        .received()
        .into_iter()
        .filter(|r| r.event == "feed.error")
        .count();
    assert_eq!(errors, 2);
}
on_both_backends!(post_and_feed_error_events_arrive_once_each_when_asked_for);
