//! Bluesky sessions kept between the publisher's passes, against the real test PDS.
//!
//! bsky.social allows an account 30 logins (`createSession`) in 5 minutes and 300 a day: a
//! publisher that logged in on every pass would lock a busy account out. Every call goes
//! through a loopback proxy in front of the PDS that counts them by XRPC method, so the
//! logins counted are the ones the PDS really got. The proxy can also answer, for the
//! access tokens it has seen, what the PDS answers once an access token's two hours are
//! over (400 `ExpiredToken`): the only part not left to the PDS, since its token lifetime
//! cannot be shortened.

use std::collections::{HashMap, HashSet};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};

use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};
use serde_json::json;

use crate::bluesky::{account, pds, records};
use crate::helpers::{rss, spawn_app, Backend, FeedServer, TestApp};
use crate::on_both_backends;
use crate::publishing::{caption_row, did_of, post_now, publisher};
use crate::queue::queued_on;

/// A proxy on loopback that forwards every request to the test PDS as it came, and counts
/// them by path.
pub(crate) struct PdsProxy {
    pub(crate) base: String,
    calls: Arc<Mutex<HashMap<String, usize>>>,
    /// Bearer tokens seen so far.
    seen: Arc<Mutex<HashSet<String>>>,
    /// Bearer tokens the proxy answers as expired.
    expired: Arc<Mutex<HashSet<String>>>,
}

impl PdsProxy {
    pub(crate) async fn start() -> PdsProxy {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the proxy");
        let port = listener.local_addr().expect("address").port();
        let calls: Arc<Mutex<HashMap<String, usize>>> = Arc::default();
        let seen: Arc<Mutex<HashSet<String>>> = Arc::default();
        let expired: Arc<Mutex<HashSet<String>>> = Arc::default();
        let (c, s, e) = (calls.clone(), seen.clone(), expired.clone());
        let http = reqwest::Client::new();
        let server = HttpServer::new(move || {
            let (c, s, e, http) = (c.clone(), s.clone(), e.clone(), http.clone());
            App::new().default_service(web::to(move |req: HttpRequest, body: web::Bytes| {
                let (c, s, e, http) = (c.clone(), s.clone(), e.clone(), http.clone());
                async move {
                    let method = req.path().trim_start_matches("/xrpc/").to_string();
                    *c.lock().expect("calls").entry(method).or_default() += 1;
                    let bearer = req
                        .headers()
                        .get("authorization")
                        .and_then(|v| v.to_str().ok())
                        .and_then(|v| v.strip_prefix("Bearer "))
                        .map(str::to_string);
                    if let Some(token) = &bearer {
                        if e.lock().expect("expired").contains(token) {
                            return HttpResponse::BadRequest().json(
                                json!({"error": "ExpiredToken", "message": "Token has expired"}),
                            );
                        }
                        s.lock().expect("seen").insert(token.clone());
                    }
                    let url = format!("{}{}", pds().url, req.uri());
                    let mut forward = http.request(
                        reqwest::Method::from_bytes(req.method().as_str().as_bytes())
                            .expect("a method"),
                        url,
                    );
                    for name in ["authorization", "content-type"] {
                        if let Some(value) = req.headers().get(name) {
                            forward = forward.header(name, value.as_bytes());
                        }
                    }
                    let answer = forward
                        .body(body.to_vec())
                        .send()
                        .await
                        .expect("the PDS answers");
                    let status = answer.status().as_u16();
                    let kind = answer
                        .headers()
                        .get("content-type")
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or("application/json")
                        .to_string();
                    let bytes = answer.bytes().await.expect("the PDS's answer");
                    HttpResponse::build(
                        actix_web::http::StatusCode::from_u16(status).expect("a status"),
                    )
                    .insert_header(("content-type", kind))
                    .body(bytes)
                }
            }))
        })
        .workers(2)
        .listen(listener)
        .expect("listen")
        .run();
        tokio::spawn(server);
        PdsProxy {
            base: format!("http://127.0.0.1:{port}"),
            calls,
            seen,
            expired,
        }
    }

    /// How many calls of this XRPC method (`com.atproto.server.createSession`) went through.
    pub(crate) fn calls(&self, method: &str) -> usize {
        self.calls
            .lock()
            .expect("calls")
            .get(method)
            .copied()
            .unwrap_or(0)
    }

    /// From now on, every bearer token seen so far is answered as the PDS answers an
    /// expired one. Tokens not sent yet (the refresh token a login gave) still work.
    pub(crate) fn expire_seen_tokens(&self) {
        let seen = self.seen.lock().expect("seen").clone();
        self.expired.lock().expect("expired").extend(seen);
    }
}

const LOGIN: &str = "com.atproto.server.createSession";
const REFRESH: &str = "com.atproto.server.refreshSession";

/// Ann's account with a "join at once" feed whose later `count` posts are queued for
/// Bluesky: their caption ids, in queue order.
async fn queued_bluesky_captions(app: &TestApp, feeds: &FeedServer, count: usize) -> Vec<String> {
    let url = feeds.set(
        "/feed.xml",
        "application/rss+xml",
        rss("Blog", &[("p0", "Zero")]),
    );
    app.sign_up("ann@example.com").await;
    app.add_feed(&url).await;
    app.poll().await;
    crate::queue::join_at_once(app, &app.client).await;
    let names: Vec<(String, String)> = (1..=count)
        .map(|i| (format!("p{i}"), format!("Post number {i}")))
        .collect();
    let items: Vec<(&str, &str)> = names
        .iter()
        .rev()
        .map(|(g, t)| (g.as_str(), t.as_str()))
        .chain([("p0", "Zero")])
        .collect();
    feeds.set("/feed.xml", "application/rss+xml", rss("Blog", &items));
    app.make_all_due().await;
    app.poll().await;
    let ids = queued_on(&app.get_html("/queue").await, "bluesky");
    assert_eq!(ids.len(), count);
    ids
}

async fn one_login_serves_many_passes_and_an_expired_session_is_refreshed(backend: Backend) {
    let feeds = FeedServer::start().await;
    let app = spawn_app(backend).await;
    let captions = queued_bluesky_captions(&app, &feeds, 5).await;
    let proxy = PdsProxy::start().await;
    let (handle, app_password, account_token) = account().await;

    // Connecting logs in once, to check the app password.
    let answer = app
        .submit(
            "/connections",
            "/connections/bluesky",
            &[
                ("handle", handle.as_str()),
                ("app_password", app_password.as_str()),
                ("service_url", proxy.base.as_str()),
            ],
        )
        .await;
    assert_eq!(answer.status().as_u16(), 303);
    assert_eq!(proxy.calls(LOGIN), 1);

    // Two passes of one publisher and one of another (a restart, or another replica):
    // three posts, and no login beyond the one made when connecting.
    let did = did_of(&handle, &app_password).await;
    let replicas = [publisher(&app).await, publisher(&app).await];
    for (i, caption) in captions[..3].iter().enumerate() {
        post_now(&app, caption).await;
        let publisher = &replicas[i / 2];
        let report = publisher.run_once().await.expect("a pass");
        assert_eq!(report.posted, 1, "{report:?}");
        // A pass with nothing due does not log in either.
        publisher.run_once().await.expect("a pass");
    }
    assert_eq!(proxy.calls(LOGIN), 1, "one login for three posts");
    assert_eq!(proxy.calls(REFRESH), 0);
    // Kept sealed: no token (a JWT starts "eyJ") is stored in the clear.
    let kept = app
        .sql_text("SELECT session_sealed AS v FROM connections")
        .await;
    assert!(!kept.is_empty() && !kept.contains("eyJ"), "{kept}");

    // Two hours on, the PDS answers the access token as expired: the refresh token gets a
    // new session, and the next pass uses that one.
    proxy.expire_seen_tokens();
    // An access JWT carries its issue time in whole seconds and no nonce: one refreshed
    // within the second the expired one was issued would be the same string, which the
    // proxy (not the PDS) would still call expired.
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    post_now(&app, &captions[3]).await;
    let report = publisher(&app).await.run_once().await.expect("a pass");
    assert_eq!(report.posted, 1, "{report:?}");
    assert_eq!((proxy.calls(LOGIN), proxy.calls(REFRESH)), (1, 1));

    // The app password is revoked in Bluesky's settings and the session runs out: the
    // refresh is refused, the app password is tried once and refused, the connection is
    // broken with one mail, and the caption waits.
    let revoked = reqwest::Client::new()
        .post(format!(
            "{}/xrpc/com.atproto.server.revokeAppPassword",
            pds().url
        ))
        .bearer_auth(&account_token)
        .json(&json!({"name": "captionfeed"}))
        .send()
        .await
        .expect("answers");
    assert!(revoked.status().is_success());
    proxy.expire_seen_tokens();
    post_now(&app, &captions[4]).await;
    let report = publisher(&app).await.run_once().await.expect("a pass");
    assert_eq!(report.broken, 1, "{report:?}");
    assert_eq!((proxy.calls(LOGIN), proxy.calls(REFRESH)), (2, 2));
    let broken_mail = "SELECT COUNT(*) AS n FROM outgoing_mail WHERE kind = 'connection_broken'";
    assert_eq!(app.sql_count(broken_mail).await, 1);
    assert_eq!(caption_row(&app, &captions[4]).await.0, "new");
    assert_eq!(records(&did).await.len(), 4, "each caption posted once");
}
on_both_backends!(one_login_serves_many_passes_and_an_expired_session_is_refreshed);
