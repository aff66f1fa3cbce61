//! Mastodon against a fake instance written from Mastodon's API documentation (`fake.rs`
//! names the pages): connecting through OAuth with PKCE from the web pages, and publishing
//! a caption exactly once, with its image, sorted errors and the rate limit's wait.

mod disconnect;
mod fake;
mod limits;
mod media_retry;

use std::collections::HashMap;
use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock};

use captionfeed::captions::Platform;
use captionfeed::config::AddressPolicy;
use captionfeed::publish::connections as store;
use captionfeed::publish::mastodon::client::{Client, MastodonError};
use captionfeed::publish::mastodon::oauth::{self, AppCredentials, Pkce};
use captionfeed::publish::mastodon::post::{idempotency_key, publish};
use captionfeed::publish::outgoing::{Image, Outgoing, PublishError, Published};
use captionfeed::publish::secrets::SecretBox;

use crate::digests::user_id;
use crate::helpers::{location, new_browser, rss, spawn_app, Backend, FeedServer, TestApp};
use crate::on_both_backends;
use fake::MastodonFake;

const REDIRECT: &str = "https://captionfeed.example/connections/mastodon/callback";

/// A 1×1 PNG.
const PNG: &[u8] = &[
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52,
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1f, 0x15, 0xc4,
    0x89, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9c, 0x63, 0xf8, 0xcf, 0xc0, 0xf0,
    0x1f, 0x00, 0x05, 0x00, 0x01, 0xff, 0x89, 0x99, 0x3d, 0x1d, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45,
    0x4e, 0x44, 0xae, 0x42, 0x60, 0x82,
];

/// Everything the process logs from here on, kept to search for secrets. Installed once for
/// the test binary; other tests' lines land in it too, which only makes the search wider.
fn captured_logs() -> Arc<Mutex<Vec<u8>>> {
    static LOGS: OnceLock<Arc<Mutex<Vec<u8>>>> = OnceLock::new();
    LOGS.get_or_init(|| {
        let logs: Arc<Mutex<Vec<u8>>> = Arc::default();
        let sink = logs.clone();
        let _ = tracing_subscriber::fmt()
            .with_env_filter("captionfeed=trace,actix_web=debug,reqwest=trace")
            .with_writer(move || LogSink(sink.clone()))
            .try_init();
        logs
    })
    .clone()
}

struct LogSink(Arc<Mutex<Vec<u8>>>);

impl Write for LogSink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("logs").extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn query_of(url: &str) -> HashMap<String, String> {
    url::Url::parse(url)
        .expect("an address")
        .query_pairs()
        .into_owned()
        .collect()
}

/// The path and query of an address on the app (the test app's base URL is not where it
/// listens).
fn path_and_query(url: &str) -> String {
    let url = url::Url::parse(url).expect("an address");
    format!("{}?{}", url.path(), url.query().unwrap_or_default())
}

/// Ann asks to connect her instance: the app sends her browser to the instance, which
/// (as she approves) sends it back to the callback. Returns the callback's path and query.
async fn approve_on_instance(
    app: &TestApp,
    browser: &reqwest::Client,
    fake: &MastodonFake,
) -> String {
    let asked = app
        .submit_as(
            browser,
            "/connections/mastodon",
            "/connections/mastodon",
            &[("instance", &fake.origin)],
        )
        .await;
    assert_eq!(
        asked.status().as_u16(),
        303,
        "{}",
        asked.text().await.unwrap_or_default()
    );
    let authorize = location(&asked);
    assert!(
        authorize.starts_with(&format!("{}/oauth/authorize?", fake.origin)),
        "{authorize}"
    );
    let approved = new_browser()
        .get(&authorize)
        .send()
        .await
        .expect("the instance answers");
    assert_eq!(approved.status().as_u16(), 302, "the instance approves");
    path_and_query(&location(&approved))
}

/// The whole way, as a subscriber has it: connected through the pages, a queued caption
/// posted now by the publishing worker, once, with its address kept on the caption.
async fn the_publisher_posts_a_queued_caption_to_the_instance_once(backend: Backend) {
    let fake = MastodonFake::start().await;
    let app = spawn_app(backend).await;
    let feeds = FeedServer::start().await;
    let caption = crate::publishing::queued_caption(&app, &feeds, "mastodon").await;
    let back = approve_on_instance(&app, &app.client, &fake).await;
    assert_eq!(app.get(&back).await.status().as_u16(), 303);
    crate::publishing::post_now(&app, &caption).await;
    let publisher = crate::publishing::publisher(&app).await;

    let report = publisher.run_once().await.expect("a pass");
    assert_eq!(report.posted, 1, "{report:?}");
    let statuses = fake.statuses();
    assert_eq!(statuses.len(), 1);
    let body = app
        .sql_text(&format!(
            "SELECT body AS v FROM captions WHERE id = '{caption}'"
        ))
        .await;
    assert_eq!(statuses[0].text, body, "the caption exactly");
    assert_eq!(
        statuses[0].idempotency_key.as_deref(),
        Some(idempotency_key(&caption).as_str())
    );
    let (status, _, url) = crate::publishing::caption_row(&app, &caption).await;
    assert_eq!(status, "posted");
    assert!(
        url.is_some_and(|u| u.starts_with(&fake.origin)),
        "its address is kept"
    );

    let again = publisher.run_once().await.expect("a second pass");
    assert_eq!(again.posted, 0);
    assert_eq!(fake.statuses().len(), 1, "posted once");
}
on_both_backends!(the_publisher_posts_a_queued_caption_to_the_instance_once);

/// A caption the instance refuses is shown under "Not posted" with the reason, and once the
/// subscriber has dealt with it, "Queue again" sends it at the next pass, once.
async fn a_refused_caption_is_shown_and_can_be_queued_again(backend: Backend) {
    let fake = MastodonFake::start().await;
    let app = spawn_app(backend).await;
    let feeds = FeedServer::start().await;
    let caption = crate::publishing::queued_caption(&app, &feeds, "mastodon").await;
    let back = approve_on_instance(&app, &app.client, &fake).await;
    assert_eq!(app.get(&back).await.status().as_u16(), 303);
    // The instance lowered its limit after we connected.
    fake.set_max_characters(10);
    crate::publishing::post_now(&app, &caption).await;
    let publisher = crate::publishing::publisher(&app).await;

    let report = publisher.run_once().await.expect("a pass");
    assert_eq!((report.posted, report.failed), (0, 1), "{report:?}");
    let page = app.get_html("/queue").await;
    let refused = page
        .split(&format!(r#"id="f-{caption}""#))
        .nth(1)
        .and_then(|rest| rest.split("</li>").next())
        .unwrap_or_else(|| panic!("the refused caption is listed: {page}"));
    assert!(refused.contains("character limit"), "{refused}");
    assert!(
        refused.contains(&format!("/queue/{caption}/retry")),
        "{refused}"
    );

    // Someone else cannot put it back; a caption that was not refused cannot be "retried".
    let other = new_browser();
    app.sign_up_as(&other, "bob@example.com").await;
    let foreign = app
        .submit_as(&other, "/queue", &format!("/queue/{caption}/retry"), &[])
        .await;
    assert_eq!(foreign.status().as_u16(), 404);

    fake.set_max_characters(1000);
    let again = app
        .submit("/queue", &format!("/queue/{caption}/retry"), &[])
        .await;
    assert_eq!(again.status().as_u16(), 303);
    let page = app.get_html("/queue").await;
    assert!(!page.contains(&format!(r#"id="f-{caption}""#)), "{page}");
    crate::publishing::post_now(&app, &caption).await;
    let report = publisher.run_once().await.expect("a pass");
    assert_eq!(report.posted, 1, "{report:?}");
    assert_eq!(fake.statuses().len(), 1, "posted once");
    let twice = app
        .submit("/queue", &format!("/queue/{caption}/retry"), &[])
        .await;
    assert_eq!(
        twice.status().as_u16(),
        404,
        "a posted caption is not refused"
    );
}
on_both_backends!(a_refused_caption_is_shown_and_can_be_queued_again);

async fn connected_rows(app: &TestApp) -> i64 {
    app.sql_count("SELECT COUNT(*) AS n FROM connections").await
}

async fn connecting_runs_the_whole_oauth_dance(backend: Backend) {
    let logs = captured_logs();
    let fake = MastodonFake::start().await;
    fake.set_max_characters(1000);
    let app = spawn_app(backend).await;
    app.sign_up("ann@example.com").await;
    let blog = FeedServer::start().await;
    app.add_feed(&blog.set(
        "/feed.xml",
        "application/rss+xml",
        rss("Blog", &[("First", "https://blog.example/1")]),
    ))
    .await;

    let back = approve_on_instance(&app, &app.client, &fake).await;

    // What the instance was asked: PKCE S256, a state, our exact callback, our scopes.
    let asked = fake.authorize_queries().pop().expect("an authorization");
    assert_eq!(asked["code_challenge_method"], "S256");
    assert_eq!(asked["code_challenge"].len(), 43);
    assert_eq!(asked["scope"], oauth::SCOPES);
    assert_eq!(
        asked["redirect_uri"],
        format!(
            "{}/connections/mastodon/callback",
            app.settings.base_url.as_str().trim_end_matches('/')
        )
    );
    assert_eq!(
        query_of(&format!("http://x{back}"))["state"],
        asked["state"]
    );

    let finished = app.get(&back).await;
    assert_eq!(finished.status().as_u16(), 303);
    assert_eq!(location(&finished), "/connections/mastodon?connected=1");
    let page = app.get_html("/connections/mastodon?connected=1").await;
    let host = fake.origin.trim_start_matches("http://");
    let host = host.split(':').next().unwrap_or(host);
    assert!(page.contains("Connected."), "{page}");
    assert!(
        page.contains(&format!("@{}@{host}", fake::USERNAME)),
        "{page}"
    );

    // The token is sealed in the connection, and nowhere a person or a log reader sees.
    let tokens = fake.tokens_issued();
    assert_eq!(tokens.len(), 1);
    let token = tokens[0].clone();
    let ann = user_id(&app, "ann@example.com").await;
    let settings = app.settings.clone();
    let (a, t) = (ann.clone(), token.clone());
    let connection = app
        .db
        .run(move |conn| {
            let key = captionfeed::signing::key::load_signing_key(conn, &settings)?;
            let secrets = SecretBox::from_service_key(&key);
            let found = store::with_secret(conn, &secrets, &a, Platform::Mastodon)?;
            let sealed: Vec<String> = {
                use captionfeed::db::schema::connections;
                use diesel::prelude::*;
                connections::table
                    .select(connections::secret_sealed)
                    .load(conn)?
            };
            assert!(sealed.iter().all(|s| !s.contains(&t)));
            Ok::<_, captionfeed::db::DbError>(found)
        })
        .await
        .expect("the connection loads")
        .expect("Ann is connected");
    let (row, secret) = connection;
    assert_eq!(secret.as_deref(), Ok(token.as_str()));
    assert_eq!(row.service_url, fake.origin);
    assert_eq!(row.handle, format!("@{}@{host}", fake::USERNAME));
    for path in ["/connections/mastodon", "/settings", "/feeds"] {
        let html = app.get_html(path).await;
        assert!(!html.contains(&token), "the token is on {path}");
    }
    let logged = String::from_utf8_lossy(&logs.lock().expect("logs")).into_owned();
    assert!(!logged.is_empty(), "the logs were captured");
    assert!(!logged.contains(&token), "the token is in the logs");

    // Ann's captions for Mastodon are now fitted to her instance's 1000 characters.
    assert_eq!(
        app.sql_count("SELECT COUNT(*) AS n FROM subscriptions WHERE mastodon_limit = 1000")
            .await,
        1
    );

    // The token works: a caption posted with it is on the instance.
    let client = Client::new(&AddressPolicy::open()).expect("client");
    publish(
        &client,
        &row.service_url,
        &token,
        &outgoing("c-1", "Hello from the dance"),
    )
    .await
    .expect("posted");
    assert_eq!(fake.statuses().len(), 1);

    // The callback's address again (a reload, or someone who saw it): refused, nothing new.
    let again = app.get(&back).await;
    assert_eq!(again.status().as_u16(), 400);
    let said = again.text().await.expect("body");
    assert!(said.contains("already used"), "{said}");
    assert_eq!(
        fake.tokens_issued().len(),
        1,
        "the code was not exchanged again"
    );
    assert_eq!(connected_rows(&app).await, 1);

    // Connecting again reuses the app registered on the instance.
    let back = approve_on_instance(&app, &app.client, &fake).await;
    assert_eq!(app.get(&back).await.status().as_u16(), 303);
    assert_eq!(fake.apps_registered(), 1);
    assert_eq!(connected_rows(&app).await, 1);
}
on_both_backends!(connecting_runs_the_whole_oauth_dance);

async fn a_wrong_or_foreign_state_is_refused_and_nothing_is_stored(backend: Backend) {
    let fake = MastodonFake::start().await;
    let app = spawn_app(backend).await;
    app.sign_up("ann@example.com").await;
    let bob = new_browser();
    app.sign_up_as(&bob, "bob@example.com").await;

    let back = approve_on_instance(&app, &app.client, &fake).await;
    let state = query_of(&format!("http://x{back}"))["state"].clone();
    let forged = back.replace(&state, "forged-state-value");
    let refused = app.get(&forged).await;
    assert_eq!(refused.status().as_u16(), 400);
    let said = refused.text().await.expect("body");
    assert!(said.contains("nothing was connected"), "{said}");

    // Bob opening Ann's callback does not connect Bob with Ann's approval.
    let foreign = app.get_as(&bob, &back).await;
    assert_eq!(foreign.status().as_u16(), 400);
    assert_eq!(connected_rows(&app).await, 0);
    assert!(fake.tokens_issued().is_empty());

    // Ann's own state still works once.
    assert_eq!(app.get(&back).await.status().as_u16(), 303);
    assert_eq!(connected_rows(&app).await, 1);

    // Ann refuses on her instance: told so, and her connection stays as it was.
    fake.set_denies(true);
    let back = approve_on_instance(&app, &app.client, &fake).await;
    let denied = app.get(&back).await;
    assert_eq!(denied.status().as_u16(), 400);
    assert!(denied
        .text()
        .await
        .expect("body")
        .contains("You did not authorize captionfeed"));
    assert_eq!(fake.tokens_issued().len(), 1);
}
on_both_backends!(a_wrong_or_foreign_state_is_refused_and_nothing_is_stored);

async fn a_private_instance_address_is_refused(backend: Backend) {
    // The deployment's own rules: private networks closed, as in production.
    let app = crate::helpers::spawn_app_with(backend, |s| s.allow_private_networks = false).await;
    app.sign_up("ann@example.com").await;
    for typed in [
        "http://127.0.0.1:3000",
        "https://10.1.2.3",
        "https://localhost",
    ] {
        let refused = app
            .submit(
                "/connections/mastodon",
                "/connections/mastodon",
                &[("instance", typed)],
            )
            .await;
        assert_eq!(refused.status().as_u16(), 400, "{typed}");
        let page = refused.text().await.expect("body");
        assert!(page.contains("role=\"alert\""), "{page}");
    }
    assert_eq!(
        app.sql_count("SELECT COUNT(*) AS n FROM mastodon_apps")
            .await,
        0
    );
}
on_both_backends!(a_private_instance_address_is_refused);

// The client against the fake alone: no database needed.

fn client() -> Client {
    Client::new(&AddressPolicy::open()).expect("client")
}

/// Our app registered on the fake and a code approved for `challenge`.
async fn approved_code(fake: &MastodonFake, challenge: &str) -> (AppCredentials, String) {
    let app = oauth::register_app(
        &client(),
        &fake.origin,
        REDIRECT,
        "https://captionfeed.example",
    )
    .await
    .expect("registered");
    let code = code_for(fake, &app, challenge).await;
    (app, code)
}

async fn code_for(fake: &MastodonFake, app: &AppCredentials, challenge: &str) -> String {
    let url = oauth::authorize_url(
        &client(),
        &fake.origin,
        &app.client_id,
        REDIRECT,
        "s",
        challenge,
    )
    .expect("address");
    let approved = new_browser().get(&url).send().await.expect("answers");
    query_of(&location(&approved))["code"].clone()
}

async fn token_for(fake: &MastodonFake) -> String {
    let pkce = Pkce::new();
    let (app, code) = approved_code(fake, &pkce.challenge).await;
    oauth::exchange_code(
        &client(),
        &fake.origin,
        &app,
        REDIRECT,
        &code,
        &pkce.verifier,
    )
    .await
    .expect("a token")
    .0
}

fn outgoing(caption_id: &str, text: &str) -> Outgoing {
    Outgoing {
        caption_id: caption_id.to_string(),
        text: text.to_string(),
        language: Some("en-GB".into()),
        link: None,
        image: None,
        media_id: None,
    }
}

#[tokio::test]
async fn the_code_is_exchanged_only_with_its_verifier_and_its_exact_redirect() {
    let fake = MastodonFake::start().await;
    let pkce = Pkce::new();
    let (app, code) = approved_code(&fake, &pkce.challenge).await;
    let wrong = oauth::exchange_code(
        &client(),
        &fake.origin,
        &app,
        REDIRECT,
        &code,
        &Pkce::new().verifier,
    )
    .await;
    assert!(
        matches!(&wrong, Err(MastodonError::Refused { status: 400, message }) if message.starts_with("invalid_grant")),
        "{wrong:?}"
    );

    let code = code_for(&fake, &app, &pkce.challenge).await;
    let elsewhere = format!("{REDIRECT}/");
    let wrong = oauth::exchange_code(
        &client(),
        &fake.origin,
        &app,
        &elsewhere,
        &code,
        &pkce.verifier,
    )
    .await;
    assert!(
        matches!(&wrong, Err(MastodonError::Refused { status: 400, message }) if message.starts_with("invalid_grant")),
        "{wrong:?}"
    );

    let code = code_for(&fake, &app, &pkce.challenge).await;
    let token = oauth::exchange_code(
        &client(),
        &fake.origin,
        &app,
        REDIRECT,
        &code,
        &pkce.verifier,
    )
    .await
    .expect("the right verifier and address");
    // A code is good once.
    let again = oauth::exchange_code(
        &client(),
        &fake.origin,
        &app,
        REDIRECT,
        &code,
        &pkce.verifier,
    )
    .await;
    assert!(matches!(
        again,
        Err(MastodonError::Refused { status: 400, .. })
    ));

    // The instance never sends a code to an address the app did not register.
    let url = oauth::authorize_url(
        &client(),
        &fake.origin,
        &app.client_id,
        "https://elsewhere.example/cb",
        "s",
        &pkce.challenge,
    )
    .expect("address");
    let refused = new_browser().get(&url).send().await.expect("answers");
    assert_eq!(refused.status().as_u16(), 400);

    // A revoked token is worth nothing.
    oauth::revoke(&client(), &fake.origin, &app, &token)
        .await
        .expect("revoked");
    let after = publish(&client(), &fake.origin, &token.0, &outgoing("c-1", "hello")).await;
    assert!(
        matches!(after, Err(PublishError::Unauthorized { .. })),
        "{after:?}"
    );
}

#[tokio::test]
async fn a_caption_sent_twice_under_its_key_is_one_status() {
    let fake = MastodonFake::start().await;
    let token = token_for(&fake).await;
    let out = outgoing(
        "0193aaaa-caption",
        "New post: https://blog.example/a-rather-long-address/that-counts-as-23 #rust",
    );
    let first = publish(&client(), &fake.origin, &token, &out)
        .await
        .expect("posted");
    let second = publish(&client(), &fake.origin, &token, &out)
        .await
        .expect("answered");
    assert_eq!(first, second);
    let statuses = fake.statuses();
    assert_eq!(statuses.len(), 1);
    assert_eq!(statuses[0].text, out.text);
    assert_eq!(statuses[0].language.as_deref(), Some("en"));
    assert_eq!(
        statuses[0].idempotency_key.as_deref(),
        Some(idempotency_key("0193aaaa-caption").as_str())
    );
    assert_eq!(
        first,
        Published {
            uri: format!("{}/users/ann/statuses/{}", fake.origin, statuses[0].id),
            web_url: format!("{}/@ann/{}", fake.origin, statuses[0].id),
        }
    );
    // Another caption is another status.
    publish(
        &client(),
        &fake.origin,
        &token,
        &outgoing("0193bbbb-caption", "Another"),
    )
    .await
    .expect("posted");
    assert_eq!(fake.statuses().len(), 2);
}

#[tokio::test]
async fn a_caption_over_the_instances_limit_is_refused_with_a_sentence() {
    let fake = MastodonFake::start().await;
    fake.set_max_characters(100);
    let token = token_for(&fake).await;
    let long = "word ".repeat(30);
    let refused = publish(&client(), &fake.origin, &token, &outgoing("c-long", &long)).await;
    assert_eq!(
        refused,
        Err(PublishError::Refused {
            network: "Mastodon",
            message: "Validation failed: Text character limit of 100 exceeded.".into()
        })
    );
    // A long link counts as 23 characters, so this fits.
    let link = format!("Read: https://blog.example/{}", "x".repeat(150));
    publish(&client(), &fake.origin, &token, &outgoing("c-link", &link))
        .await
        .expect("a long link fits");
    assert_eq!(fake.statuses().len(), 1);
}

#[tokio::test]
async fn a_revoked_token_is_unauthorized() {
    let fake = MastodonFake::start().await;
    let token = token_for(&fake).await;
    fake.revoke_all_tokens();
    let refused = publish(&client(), &fake.origin, &token, &outgoing("c-1", "hello")).await;
    assert!(
        matches!(&refused, Err(PublishError::Unauthorized { network: "Mastodon", message }) if message.contains("The access token is invalid")),
        "{refused:?}"
    );
    assert!(fake.statuses().is_empty());
}

#[tokio::test]
async fn a_spent_rate_limit_is_retried_when_it_resets() {
    let fake = MastodonFake::start().await;
    let token = token_for(&fake).await;
    fake.set_rate_budget(300, 0, chrono::Duration::seconds(120));
    let refused = publish(&client(), &fake.origin, &token, &outgoing("c-1", "hello")).await;
    match refused {
        Err(PublishError::Retry {
            retry_after: Some(wait),
            ..
        }) => assert!((118..=121).contains(&wait), "{wait}"),
        other => panic!("expected a retry after the reset, got {other:?}"),
    }
    assert!(fake.statuses().is_empty());
}

#[tokio::test]
async fn server_errors_and_unreachable_instances_are_retried() {
    let instance = FeedServer::start().await;
    instance.respond(
        "/api/v1/statuses",
        503,
        &[("content-type", "application/json"), ("retry-after", "42")],
        r#"{"error":"Service Unavailable"}"#,
    );
    let out = outgoing("c-1", "hello");
    let busy = publish(&client(), &instance.base, "token", &out).await;
    assert!(
        matches!(
            busy,
            Err(PublishError::Retry {
                retry_after: Some(42),
                ..
            })
        ),
        "{busy:?}"
    );
    let closed = format!("http://{}", crate::helpers::unused_loopback_address());
    let gone = publish(&client(), &closed, "token", &out).await;
    assert!(matches!(gone, Err(PublishError::Retry { .. })), "{gone:?}");
}

#[tokio::test]
async fn a_private_address_is_never_reached() {
    let fake = MastodonFake::start().await;
    let guarded = Client::new(&AddressPolicy::default()).expect("client");
    let refused = publish(&guarded, &fake.origin, "token", &outgoing("c-1", "hello")).await;
    assert!(
        matches!(refused, Err(PublishError::Refused { .. })),
        "{refused:?}"
    );
    let registered = oauth::register_app(
        &guarded,
        &fake.origin,
        REDIRECT,
        "https://captionfeed.example",
    )
    .await;
    assert!(
        matches!(registered, Err(MastodonError::Address(_))),
        "{registered:?}"
    );
    assert_eq!(fake.apps_registered(), 0);
}

#[tokio::test]
async fn an_image_is_attached_once_the_instance_has_processed_it() {
    let fake = MastodonFake::start().await;
    fake.set_processing_polls(2);
    let token = token_for(&fake).await;
    let mut out = outgoing("c-img", "With a picture");
    out.image = Some(Image {
        bytes: PNG.to_vec(),
        mime: "image/png".into(),
        alt: "A red square".into(),
    });
    publish(&client(), &fake.origin, &token, &out)
        .await
        .expect("posted after the image was processed");
    let statuses = fake.statuses();
    assert_eq!(statuses.len(), 1);
    assert_eq!(statuses[0].media_ids.len(), 1);
    let media = fake.media(&statuses[0].media_ids[0]).expect("the image");
    assert_eq!(media.bytes, PNG);
    assert_eq!(media.mime.as_deref(), Some("image/png"));
    assert_eq!(media.description.as_deref(), Some("A red square"));
}
