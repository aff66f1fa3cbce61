//! Caption digests end to end: real feeds on loopback, the real poller, a real SMTP
//! server on loopback, on both database backends.

use captionfeed::accounts::validate::Email;
use captionfeed::accounts::{users, verification, UserId};
use captionfeed::config::Secret;
use captionfeed::db::{now, DbError};
use captionfeed::digests::outbox;
use captionfeed::digests::schedule::Frequency;
use captionfeed::digests::settings::{self, DigestPrefs};
use captionfeed::digests::Digests;
use captionfeed::mail::Mailer;
use chrono::{Duration, NaiveDateTime};

use crate::helpers::{rss, spawn_app, Backend, FeedServer, TestApp};
use crate::on_both_backends;
use crate::smtp::{Received, SmtpServer};

/// A sender that delivers to the given SMTP URL.
pub async fn sender(app: &TestApp, smtp_url: &str) -> Digests {
    let mut settings = app.settings.clone();
    settings.smtp_url = Some(Secret::new(smtp_url));
    // Links in the mail lead to this test's server.
    settings.base_url = url::Url::parse(&format!("{}/", app.address)).unwrap();
    let mailer = Mailer::from_settings(&settings).expect("mailer");
    Digests::new(app.db.clone(), mailer, &settings)
        .await
        .expect("digests")
}

pub async fn user_id(app: &TestApp, email: &str) -> UserId {
    let email = Email::parse(email).unwrap();
    app.db
        .run(move |conn| users::find_by_email(conn, &email))
        .await
        .unwrap()
        .expect("account exists")
        .user_id()
}

/// Confirms the account's address as its verification link would.
pub async fn verify(app: &TestApp, user: &UserId) {
    let user = user.clone();
    app.db
        .run(move |conn| {
            let (email, _) = verification::status(conn, &user)?.expect("account");
            verification::mark_verified(conn, &user, &email).map_err(DbError::from)
        })
        .await
        .unwrap();
}

pub async fn set_frequency(app: &TestApp, user: &UserId, frequency: Frequency) {
    let user = user.clone();
    app.db
        .run(move |conn| {
            settings::save(
                conn,
                &user,
                &DigestPrefs {
                    frequency,
                    time_zone: chrono_tz::UTC,
                },
            )
            .map_err(DbError::from)
        })
        .await
        .unwrap();
}

/// An account with batched digests and one feed of the given (guid, title) posts, polled.
async fn reader_with_feed(
    app: &TestApp,
    feeds: &FeedServer,
    email: &str,
    items: &[(&str, &str)],
) -> UserId {
    let browser = crate::helpers::new_browser();
    app.sign_up_as(&browser, email).await;
    let user = user_id(app, email).await;
    verify(app, &user).await;
    set_frequency(app, &user, Frequency::Batched { minutes: 5 }).await;
    let path = format!("/{}.xml", user.as_str());
    let url = feeds.set(&path, "application/rss+xml", rss("Reader's blog", items));
    app.add_feed_as(&browser, &url).await;
    let report = app.poll().await;
    assert!(report.captions_written > 0, "{report:?}");
    user
}

pub fn later(minutes: i64) -> NaiveDateTime {
    now() + Duration::minutes(minutes)
}

/// The decoded text of the part with this content type.
pub fn part(message: &Received, content_type: &str) -> String {
    let data = &message.data;
    let start = data
        .find(&format!("Content-Type: {content_type}"))
        .unwrap_or_else(|| panic!("no {content_type} part in\n{data}"));
    let rest = &data[start..];
    let body_start = rest.find("\r\n\r\n").expect("part body") + 4;
    let body = &rest[body_start..];
    let content_type = message.header("Content-Type").expect("content type");
    let boundary = content_type
        .split("boundary=")
        .nth(1)
        .expect("multipart boundary")
        .trim_matches('"');
    let end = body
        .find(&format!("\r\n--{boundary}"))
        .unwrap_or(body.len());
    let raw = &body[..end];
    let head = &rest[..body_start];
    if head.contains("quoted-printable") {
        decode_quoted_printable(raw)
    } else if head.contains("base64") {
        use base64::Engine as _;
        let joined: String = raw.split_whitespace().collect();
        String::from_utf8(
            base64::engine::general_purpose::STANDARD
                .decode(joined)
                .expect("base64 part"),
        )
        .expect("utf-8 part")
    } else {
        raw.to_string()
    }
}

/// Decodes RFC 2047 `=?utf-8?b?...?=` words; whitespace between two encoded words goes.
fn decode_encoded_words(header: &str) -> String {
    use base64::Engine as _;
    let mut out = String::new();
    let mut last_encoded = false;
    for (i, word) in header.split(' ').enumerate() {
        let inner = word
            .strip_prefix("=?utf-8?b?")
            .and_then(|w| w.strip_suffix("?="));
        match inner {
            Some(b64) => {
                if i > 0 && !last_encoded {
                    out.push(' ');
                }
                let bytes = base64::engine::general_purpose::STANDARD
                    .decode(b64)
                    .expect("base64 word");
                out.push_str(&String::from_utf8(bytes).expect("utf-8 word"));
                last_encoded = true;
            }
            None => {
                if i > 0 {
                    out.push(' ');
                }
                out.push_str(word);
                last_encoded = false;
            }
        }
    }
    out
}

fn decode_quoted_printable(raw: &str) -> String {
    let mut bytes = Vec::new();
    let raw = raw.replace("=\r\n", "");
    let mut it = raw.bytes();
    while let Some(b) = it.next() {
        if b == b'=' {
            let hex: Vec<u8> = it.by_ref().take(2).collect();
            let s = String::from_utf8(hex).unwrap();
            bytes.push(u8::from_str_radix(&s, 16).expect("hex"));
        } else {
            bytes.push(b);
        }
    }
    String::from_utf8(bytes).expect("utf-8")
}

async fn digest_arrives_with_both_parts_and_unsubscribe_headers(backend: Backend) {
    let app = spawn_app(backend).await;
    let feeds = FeedServer::start().await;
    let smtp = SmtpServer::start().await;
    reader_with_feed(
        &app,
        &feeds,
        "reader@example.com",
        &[("p1", "Crème brûlée &amp; more ☕")],
    )
    .await;

    let report = sender(&app, &smtp.url())
        .await
        .run_once_at(later(10))
        .await
        .unwrap();
    assert_eq!(
        (report.digests_created, report.digests_sent),
        (1, 1),
        "{report:?}"
    );

    let messages = smtp.messages();
    assert_eq!(messages.len(), 1);
    let m = &messages[0];
    assert_eq!(m.to, vec!["<reader@example.com>"]);
    assert_eq!(m.header("To").unwrap(), "reader@example.com");
    let head = m.data.split("\r\n\r\n").next().unwrap();
    assert!(head.is_ascii(), "headers are ASCII on the wire:\n{head}");
    let subject = m.header("Subject").unwrap();
    assert!(
        subject.contains("=?utf-8?b?"),
        "non-ASCII subject is encoded: {subject}"
    );
    let decoded = decode_encoded_words(&subject);
    assert!(
        decoded.ends_with(" new captions: Crème brûlée & more ☕"),
        "{decoded}"
    );
    assert!(m
        .header("Content-Type")
        .unwrap()
        .starts_with("multipart/alternative"));
    let unsubscribe = m.header("List-Unsubscribe").unwrap();
    assert!(
        unsubscribe.starts_with(&format!("<{}/unsubscribe/", app.address)),
        "{unsubscribe}"
    );
    assert_eq!(
        m.header("List-Unsubscribe-Post").unwrap(),
        "List-Unsubscribe=One-Click"
    );
    assert!(m.header("Message-ID").unwrap().starts_with("<digest-"));

    let text = part(m, "text/plain");
    assert!(text.contains("Crème brûlée & more ☕"), "{text}");
    assert!(text.contains("https://blog.example/p1"));
    assert!(
        text.contains("--- Mastodon · "),
        "a block per platform with its length:\n{text}"
    );
    let html = part(m, "text/html");
    assert!(
        html.contains("Crème brûlée &#38; more ☕"),
        "feed text is escaped:\n{html}"
    );
    assert!(!html.contains("brûlée & more"), "{html}");
    assert!(html.contains(r#"href="https://blog.example/p1""#));
    assert!(html.contains("/unsubscribe/"));
}
on_both_backends!(digest_arrives_with_both_parts_and_unsubscribe_headers);

async fn a_feed_title_cannot_inject_a_header(backend: Backend) {
    let app = spawn_app(backend).await;
    let feeds = FeedServer::start().await;
    let smtp = SmtpServer::start().await;
    reader_with_feed(
        &app,
        &feeds,
        "reader@example.com",
        &[("p1", "x&#13;&#10;Bcc: a@evil")],
    )
    .await;
    sender(&app, &smtp.url())
        .await
        .run_once_at(later(10))
        .await
        .unwrap();

    let messages = smtp.messages();
    assert_eq!(messages.len(), 1);
    let m = &messages[0];
    assert_eq!(m.to, vec!["<reader@example.com>"], "no extra recipient");
    assert!(
        !m.header_names()
            .iter()
            .any(|n| n.eq_ignore_ascii_case("Bcc")),
        "no header made from feed text: {:?}",
        m.header_names()
    );
    assert!(m.header("Subject").unwrap().contains("x Bcc: a@evil"));
}
on_both_backends!(a_feed_title_cannot_inject_a_header);

async fn each_caption_is_mailed_once_and_new_ones_in_the_next_digest(backend: Backend) {
    let app = spawn_app(backend).await;
    let feeds = FeedServer::start().await;
    let smtp = SmtpServer::start().await;
    let user = reader_with_feed(&app, &feeds, "reader@example.com", &[("p1", "First post")]).await;
    let digests = sender(&app, &smtp.url()).await;

    digests.run_once_at(later(10)).await.unwrap();
    let again = digests.run_once_at(later(10)).await.unwrap();
    assert_eq!(again.digests_created + again.digests_sent, 0, "{again:?}");
    let quiet = digests.run_once_at(later(20)).await.unwrap();
    assert_eq!(quiet.digests_created, 0, "no captions, no mail");

    feeds.set(
        &format!("/{}.xml", user.as_str()),
        "application/rss+xml",
        rss(
            "Reader's blog",
            &[("p2", "Second post"), ("p1", "First post")],
        ),
    );
    // Make the feed due again, as its next check would.
    let path = format!("/{}.xml", user.as_str());
    {
        use captionfeed::db::schema::feeds;
        use diesel::prelude::*;
        let url = format!("{}{}", feeds.base, path);
        app.db
            .run(move |conn| {
                diesel::update(feeds::table.filter(feeds::url.eq(&url)))
                    .set(feeds::next_check_at.eq(now()))
                    .execute(conn)
                    .map_err(captionfeed::db::DbError::from)
            })
            .await
            .unwrap();
    }
    assert!(app.poll().await.captions_written > 0);
    let next = digests.run_once_at(later(30)).await.unwrap();
    assert_eq!(
        (next.digests_created, next.digests_sent),
        (1, 1),
        "{next:?}"
    );

    let messages = smtp.messages();
    assert_eq!(messages.len(), 2);
    let first = part(&messages[0], "text/plain");
    let second = part(&messages[1], "text/plain");
    assert!(first.contains("First post") && !first.contains("Second post"));
    assert!(
        second.contains("Second post") && !second.contains("First post"),
        "{second}"
    );
}
on_both_backends!(each_caption_is_mailed_once_and_new_ones_in_the_next_digest);

async fn a_dead_smtp_server_delays_the_digest_which_is_sent_once_it_is_back(backend: Backend) {
    let app = spawn_app(backend).await;
    let feeds = FeedServer::start().await;
    let user = reader_with_feed(&app, &feeds, "reader@example.com", &[("p1", "Post")]).await;
    let address = crate::helpers::unused_loopback_address();
    let digests = sender(&app, &format!("smtp://{address}")).await;

    let down = digests.run_once_at(later(10)).await.unwrap();
    assert_eq!(
        (down.digests_created, down.digests_failed),
        (1, 1),
        "{down:?}"
    );
    let id = user.clone();
    let row = app
        .db
        .run(move |conn| settings::find(conn, &id).map_err(DbError::from))
        .await
        .unwrap()
        .unwrap();
    assert!(
        row.last_error.is_some(),
        "the failure is recorded for the settings page"
    );

    let smtp = SmtpServer::start_on(address).await;
    let waiting = digests.run_once_at(later(10)).await.unwrap();
    assert_eq!(waiting.digests_sent, 0, "backoff: not retried at once");
    let back = digests.run_once_at(later(12)).await.unwrap();
    assert_eq!(back.digests_sent, 1, "{back:?}");
    let after = digests.run_once_at(later(60)).await.unwrap();
    assert_eq!(after, Default::default());
    assert_eq!(smtp.messages().len(), 1);

    let id = user.clone();
    let row = app
        .db
        .run(move |conn| settings::find(conn, &id).map_err(DbError::from))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row.last_error, None, "a success clears the error");
}
on_both_backends!(a_dead_smtp_server_delays_the_digest_which_is_sent_once_it_is_back);

async fn two_senders_racing_over_the_outbox_send_each_digest_once(backend: Backend) {
    let app = spawn_app(backend).await;
    let feeds = FeedServer::start().await;
    let smtp = SmtpServer::start().await;
    for n in 0..4 {
        reader_with_feed(
            &app,
            &feeds,
            &format!("reader{n}@example.com"),
            &[("p1", "A post")],
        )
        .await;
    }
    let (a, b) = (
        sender(&app, &smtp.url()).await,
        sender(&app, &smtp.url()).await,
    );
    let at = later(10);
    let (ra, rb) = tokio::join!(a.run_once_at(at), b.run_once_at(at));
    let (ra, rb) = (ra.unwrap(), rb.unwrap());
    assert_eq!(ra.digests_created + rb.digests_created, 4, "{ra:?} {rb:?}");
    assert_eq!(ra.digests_sent + rb.digests_sent, 4, "{ra:?} {rb:?}");
    let (ra, rb) = tokio::join!(a.run_once_at(at), b.run_once_at(at));
    assert_eq!(ra.unwrap().digests_sent + rb.unwrap().digests_sent, 0);

    let messages = smtp.messages();
    assert_eq!(messages.len(), 4);
    let mut ids: Vec<_> = messages
        .iter()
        .map(|m| m.header("Message-ID").unwrap())
        .collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 4, "each digest once");
}
on_both_backends!(two_senders_racing_over_the_outbox_send_each_digest_once);

async fn a_sender_that_crashed_holding_a_digest_is_replaced_after_its_lease(backend: Backend) {
    let app = spawn_app(backend).await;
    let feeds = FeedServer::start().await;
    let smtp = SmtpServer::start().await;
    let user = reader_with_feed(&app, &feeds, "reader@example.com", &[("p1", "Post")]).await;
    let digests = sender(&app, &smtp.url()).await;
    let at = later(10);
    // Put the digest in the outbox without sending it.
    let uid = user.clone();
    let row = app
        .db
        .run(move |conn| settings::find(conn, &uid).map_err(DbError::from))
        .await
        .unwrap()
        .unwrap();
    let created = app
        .db
        .transaction(move |conn| outbox::close_period(conn, &row, at, "example.test"))
        .await
        .unwrap();
    assert!(created.is_some());
    // A worker claims it, then dies before sending or marking.
    let claimed = app
        .db
        .run(move |conn| {
            outbox::claim_due(conn, at, at + Duration::minutes(5), 10)
                .map_err(captionfeed::db::DbError::from)
        })
        .await
        .unwrap();
    assert_eq!(claimed.len(), 1);

    assert_eq!(
        digests.run_once_at(at).await.unwrap().digests_sent,
        0,
        "leased"
    );
    assert_eq!(
        digests
            .run_once_at(at + Duration::minutes(6))
            .await
            .unwrap()
            .digests_sent,
        1,
        "the lease expired and another sender took over"
    );
    let messages = smtp.messages();
    assert_eq!(messages.len(), 1);
    assert_eq!(
        messages[0].header("Message-ID").unwrap(),
        claimed[0].message_id
    );

    // The crashed sender wakes up and records a failure: its claim no longer holds the
    // digest, so the sent digest stays sent.
    let stale = claimed[0].clone();
    let retry_at = at + Duration::minutes(7);
    let marked = app
        .db
        .run(move |conn| {
            outbox::mark_failed(conn, &stale, "late", retry_at)
                .map_err(captionfeed::db::DbError::from)
        })
        .await
        .unwrap();
    assert!(!marked, "a stale claim marks nothing");
    let uid = user.clone();
    let rows = app
        .db
        .run(move |conn| {
            outbox::list_for_account(conn, uid.as_str()).map_err(captionfeed::db::DbError::from)
        })
        .await
        .unwrap();
    assert!(rows[0].sent_at.is_some());
    assert_eq!(rows[0].last_error, None);
    assert_eq!(rows[0].attempts, 1);
}
on_both_backends!(a_sender_that_crashed_holding_a_digest_is_replaced_after_its_lease);

async fn frequency_of(app: &TestApp, user: &UserId) -> Frequency {
    let id = user.clone();
    app.db
        .run(move |conn| settings::find(conn, &id).map_err(DbError::from))
        .await
        .unwrap()
        .expect("settings row")
        .prefs()
        .frequency
}

async fn the_unsubscribe_link_turns_digests_off_without_logging_in(backend: Backend) {
    let app = spawn_app(backend).await;
    let feeds = FeedServer::start().await;
    let smtp = SmtpServer::start().await;
    let user = reader_with_feed(&app, &feeds, "reader@example.com", &[("p1", "Post")]).await;
    sender(&app, &smtp.url())
        .await
        .run_once_at(later(10))
        .await
        .unwrap();
    let header = smtp.messages()[0].header("List-Unsubscribe").unwrap();
    let link = header
        .trim_start_matches('<')
        .trim_end_matches('>')
        .to_string();
    assert!(
        part(&smtp.messages()[0], "text/plain").contains(&link),
        "the link is in the body too"
    );

    // A stranger's browser: no session, no CSRF cookie.
    let stranger = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let page = stranger.get(&link).send().await.unwrap();
    assert_eq!(page.status().as_u16(), 200);
    assert!(page.text().await.unwrap().contains("Turn digests off"));
    assert_ne!(
        frequency_of(&app, &user).await,
        Frequency::Off,
        "opening the page changes nothing"
    );

    let forged = format!("{}x", &link[..link.len() - 1]);
    let refused = stranger
        .post(&forged)
        .form(&[("List-Unsubscribe", "One-Click")])
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status().as_u16(), 404);
    assert_ne!(frequency_of(&app, &user).await, Frequency::Off);

    // RFC 8058 one-click: a POST with this body and no token of any kind.
    let done = stranger
        .post(&link)
        .form(&[("List-Unsubscribe", "One-Click")])
        .send()
        .await
        .unwrap();
    assert_eq!(done.status().as_u16(), 200);
    assert_eq!(frequency_of(&app, &user).await, Frequency::Off);
}
on_both_backends!(the_unsubscribe_link_turns_digests_off_without_logging_in);

async fn the_settings_page_chooses_the_schedule_of_this_account_only(backend: Backend) {
    let app = spawn_app(backend).await;
    app.sign_up("ann@example.com").await;
    let other = crate::helpers::new_browser();
    app.sign_up_as(&other, "bob@example.com").await;

    let page = app.get_html("/settings").await;
    assert!(
        page.contains(r#"<option value="off" selected>"#),
        "off by default"
    );
    let saved = app
        .submit(
            "/settings",
            "/settings",
            &[
                ("frequency", "weekly"),
                ("batch_minutes", "60"),
                ("weekday", "4"),
                ("hour", "7"),
                ("time_zone", "Europe/Berlin"),
            ],
        )
        .await;
    assert_eq!(saved.status().as_u16(), 303);
    let ann = user_id(&app, "ann@example.com").await;
    assert_eq!(
        frequency_of(&app, &ann).await,
        Frequency::Weekly {
            weekday: chrono::Weekday::Fri,
            hour: 7
        }
    );
    let page = app.get_html("/settings").await;
    assert!(page.contains(r#"<option value="weekly" selected>"#));
    assert!(page.contains(r#"value="Europe/Berlin""#));

    let bobs = app.get_as(&other, "/settings").await.text().await.unwrap();
    assert!(
        bobs.contains(r#"<option value="off" selected>"#),
        "bob's settings are his own"
    );

    let refused = app
        .submit(
            "/settings",
            "/settings",
            &[
                ("frequency", "daily"),
                ("hour", "7"),
                ("time_zone", "Mars/Olympus"),
            ],
        )
        .await;
    assert_eq!(refused.status().as_u16(), 422);
    assert!(refused.text().await.unwrap().contains("Choose a time zone"));

    let forged = app
        .client
        .post(app.url("/settings"))
        .form(&[("frequency", "off"), ("time_zone", "UTC")])
        .send()
        .await
        .unwrap();
    assert_eq!(
        forged.status().as_u16(),
        403,
        "the form needs its CSRF token"
    );

    let stranger = crate::helpers::new_browser();
    assert_eq!(
        app.get_as(&stranger, "/settings").await.status().as_u16(),
        303
    );
}
on_both_backends!(the_settings_page_chooses_the_schedule_of_this_account_only);

async fn the_settings_page_shows_why_the_last_digest_was_not_sent(backend: Backend) {
    let app = spawn_app(backend).await;
    let feeds = FeedServer::start().await;
    // The account of app.client, so its pages can be read.
    app.sign_up("reader@example.com").await;
    let user = user_id(&app, "reader@example.com").await;
    verify(&app, &user).await;
    set_frequency(&app, &user, Frequency::Batched { minutes: 5 }).await;
    let url = feeds.set(
        "/blog.xml",
        "application/rss+xml",
        rss("Blog", &[("p1", "Post")]),
    );
    app.add_feed(&url).await;
    app.poll().await;
    // Nothing listens on port 1 (a freed random port could go to another test's server).
    let dead = std::net::SocketAddr::from(([127, 0, 0, 1], 1));
    sender(&app, &format!("smtp://{dead}"))
        .await
        .run_once_at(later(10))
        .await
        .unwrap();

    let page = app.get_html("/settings").await;
    assert!(page.contains("The last digest could not be sent"), "{page}");
}
on_both_backends!(the_settings_page_shows_why_the_last_digest_was_not_sent);

async fn a_digest_waiting_for_the_server_is_not_sent_after_unsubscribing(backend: Backend) {
    let app = spawn_app(backend).await;
    let feeds = FeedServer::start().await;
    reader_with_feed(&app, &feeds, "reader@example.com", &[("p1", "Post")]).await;
    let address = crate::helpers::unused_loopback_address();
    let digests = sender(&app, &format!("smtp://{address}")).await;
    assert_eq!(
        digests.run_once_at(later(10)).await.unwrap().digests_failed,
        1
    );

    let user = user_id(&app, "reader@example.com").await;
    let link = captionfeed::digests::unsubscribe::link(
        &url::Url::parse(&format!("{}/", app.address)).unwrap(),
        &captionfeed::web::secret::load_signing_key(&mut app.db.get().unwrap(), &app.settings)
            .unwrap(),
        &user,
    );
    let done = reqwest::Client::new().post(&link).send().await.unwrap();
    assert_eq!(done.status().as_u16(), 200);

    let smtp = SmtpServer::start_on(address).await;
    digests.run_once_at(later(30)).await.unwrap();
    assert_eq!(
        smtp.messages().len(),
        0,
        "the reader asked for no more mail"
    );
    assert_eq!(
        digests.run_once_at(later(90)).await.unwrap(),
        Default::default()
    );
}
on_both_backends!(a_digest_waiting_for_the_server_is_not_sent_after_unsubscribing);

async fn a_caption_whose_template_failed_is_not_mailed(backend: Backend) {
    let app = spawn_app(backend).await;
    let feeds = FeedServer::start().await;
    let smtp = SmtpServer::start().await;
    let browser = crate::helpers::new_browser();
    app.sign_up_as(&browser, "reader@example.com").await;
    let user = user_id(&app, "reader@example.com").await;
    verify(&app, &user).await;
    set_frequency(&app, &user, Frequency::Batched { minutes: 5 }).await;
    // Valid on the sample post, fails on the feed's posts (they have one category).
    let saved = app
        .submit_as(
            &browser,
            "/templates",
            "/templates",
            &[
                ("platform", "threads"),
                ("variant", "default"),
                ("source", "{{ title }} {{ categories[2] }}"),
                ("action", "save"),
            ],
        )
        .await;
    assert_eq!(saved.status().as_u16(), 303);
    let url = feeds.set(
        "/feed.xml",
        "application/rss+xml",
        rss("Blog", &[("p1", "First post")]),
    );
    app.add_feed_as(&browser, &url).await;
    assert_eq!(
        app.poll().await.captions_written,
        7,
        "six captions and one failure"
    );

    let report = sender(&app, &smtp.url())
        .await
        .run_once_at(later(10))
        .await
        .unwrap();
    assert_eq!(report.digests_sent, 1, "{report:?}");
    let text = part(&smtp.messages()[0], "text/plain");
    assert!(
        text.contains("Bluesky") && text.contains("First post"),
        "{text}"
    );
    assert!(
        !text.contains("Threads"),
        "the failed caption has no text to mail: {text}"
    );
}
on_both_backends!(a_caption_whose_template_failed_is_not_mailed);

/// The subscriber chooses the digest's platforms on Settings and asks for a test digest
/// at once: it carries those platforms only, X first as on the desk, each post with a
/// link to open it on the desk; the scheduled digests then carry the same platforms.
async fn a_subscriber_picks_the_platforms_and_gets_a_test_digest_now(backend: Backend) {
    let smtp = SmtpServer::start().await;
    let smtp_url = smtp.url();
    let app = crate::helpers::spawn_app_with(backend, move |s| {
        s.smtp_url = Some(Secret::new(&smtp_url));
    })
    .await;
    let feeds = FeedServer::start().await;
    let url = feeds.set(
        "/feed.xml",
        "application/rss+xml",
        rss("Blog", &[("p2", "Second post"), ("p1", "First post")]),
    );
    app.sign_up("pat@example.com").await;
    app.add_feed(&url).await;
    app.poll().await;

    let unconfirmed = app.submit("/settings", "/settings/digest/test", &[]).await;
    assert_eq!(unconfirmed.status().as_u16(), 422);
    assert!(unconfirmed
        .text()
        .await
        .unwrap()
        .contains("Confirm pat@example.com first"));
    let user = user_id(&app, "pat@example.com").await;
    verify(&app, &user).await;

    let none = app
        .submit(
            "/settings",
            "/settings",
            &[
                ("frequency", "batched"),
                ("batch_minutes", "5"),
                ("hour", "8"),
                ("weekday", "0"),
                ("time_zone", "UTC"),
                ("platforms_shown", "1"),
            ],
        )
        .await;
    assert_eq!(none.status().as_u16(), 422);
    assert!(none
        .text()
        .await
        .unwrap()
        .contains("Choose at least one platform"));
    let saved = app
        .submit(
            "/settings",
            "/settings",
            &[
                ("frequency", "batched"),
                ("batch_minutes", "5"),
                ("hour", "8"),
                ("weekday", "0"),
                ("time_zone", "UTC"),
                ("platforms_shown", "1"),
                ("platform_bluesky", "on"),
                ("platform_x", "on"),
            ],
        )
        .await;
    assert_eq!(saved.status().as_u16(), 303);
    let page = app.get_html("/settings").await;
    assert!(
        page.contains(r#"name="platform_x" type="checkbox" value="on" checked"#),
        "{page}"
    );
    assert!(!page.contains(r#"name="platform_mastodon" type="checkbox" value="on" checked"#));

    let sent = app.submit("/settings", "/settings/digest/test", &[]).await;
    assert_eq!(sent.status().as_u16(), 303);
    assert_eq!(crate::helpers::location(&sent), "/settings?test_sent=2");
    assert!(app
        .get_html("/settings?test_sent=2")
        .await
        .contains("A test digest of your 2 newest posts is on its way to pat@example.com."));
    // Besides the confirmation link mailed at sign-up.
    let digests_sent = || {
        smtp.messages()
            .into_iter()
            .filter(|m| {
                m.header("Subject")
                    .is_some_and(|s| s.contains("new captions"))
            })
            .collect::<Vec<_>>()
    };
    let messages = digests_sent();
    assert_eq!(messages.len(), 1);
    assert!(messages[0]
        .header("Subject")
        .unwrap()
        .starts_with("Test digest: 4 new captions"));
    let text = part(&messages[0], "text/plain");
    let x = text.find("--- X ·").expect("X in the digest");
    let bluesky = text.find("--- Bluesky ·").expect("Bluesky in the digest");
    assert!(x < bluesky, "X first, as on the desk:\n{text}");
    assert!(!text.contains("--- Mastodon"), "{text}");
    assert_eq!(text.matches("/captions?post=").count(), 2, "{text}");
    let html = part(&messages[0], "text/html");
    assert!(html.contains(">Open on the desk</a>"), "{html}");

    // The schedule carries the same platforms.
    feeds.set(
        "/feed.xml",
        "application/rss+xml",
        rss(
            "Blog",
            &[
                ("p3", "Third post"),
                ("p2", "Second post"),
                ("p1", "First post"),
            ],
        ),
    );
    app.make_all_due().await;
    app.poll().await;
    let report = sender(&app, &smtp.url())
        .await
        .run_once_at(later(10))
        .await
        .unwrap();
    assert_eq!(report.digests_sent, 1, "{report:?}");
    let digest = part(&digests_sent()[1], "text/plain");
    assert!(
        digest.contains("Third post") && digest.contains("--- X ·"),
        "{digest}"
    );
    assert!(!digest.contains("--- Mastodon"), "{digest}");
}

on_both_backends!(a_subscriber_picks_the_platforms_and_gets_a_test_digest_now);
