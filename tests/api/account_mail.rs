//! Account mail through the outbox: written with the action, sent once, never dropped.

use captionfeed::config::Secret;
use captionfeed::db::{now, Db, DbError};
use captionfeed::mail::outbox::{self, OutgoingMail};
use captionfeed::mail::sender::AccountMail;
use captionfeed::mail::Mailer;
use chrono::Duration;

use crate::helpers::{new_browser, spawn_app_with, Backend, TestApp};
use crate::on_both_backends;
use crate::smtp::SmtpServer;

/// A loopback address nothing listens on (yet).
/// An address where no SMTP server answers until the test starts one there.
fn dead_address() -> std::net::SocketAddr {
    crate::helpers::unused_loopback_address()
}

/// A sender of its own (another worker), on its own pool, delivering to `smtp_url`.
fn sender(app: &TestApp, smtp_url: &str) -> AccountMail {
    let mut settings = app.settings.clone();
    settings.smtp_url = Some(Secret::new(smtp_url));
    let db = Db::connect(&app.settings.database_url, 4).expect("second pool");
    AccountMail::new(db, Mailer::from_settings(&settings).expect("mailer"))
}

async fn outbox_rows(app: &TestApp) -> Vec<OutgoingMail> {
    app.db
        .run(|conn| outbox::list_all(conn).map_err(DbError::from))
        .await
        .unwrap()
}

/// Waits until the page's own attempt at each of `count` messages has been recorded.
async fn wait_for_attempts(app: &TestApp, count: usize) -> Vec<OutgoingMail> {
    for _ in 0..200 {
        let rows = outbox_rows(app).await;
        if rows.len() == count && rows.iter().all(|m| m.attempts >= 1) {
            return rows;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!(
        "the immediate attempts were not recorded: {:?}",
        outbox_rows(app).await
    );
}

async fn smtp_down_at_sign_up_the_mail_waits_and_arrives_once(backend: Backend) {
    let address = dead_address();
    let url = format!("smtp://{address}");
    let app = spawn_app_with(backend, |s| s.smtp_url = Some(Secret::new(url))).await;
    assert_eq!(app.sign_up("ann@example.com").await.status().as_u16(), 303);

    let rows = wait_for_attempts(&app, 1).await;
    let waiting = &rows[0];
    assert_eq!(waiting.kind, "verify_email");
    assert_eq!(waiting.to_address, "ann@example.com");
    assert!(waiting.sent_at.is_none());
    assert!(waiting.last_error.is_some(), "the failure is kept");
    let page = app.get_html("/settings").await;
    assert!(page.contains("Account mail:"), "{page}");
    assert!(page.contains("is not sent yet"), "{page}");

    let smtp = SmtpServer::start_on(address).await;
    let worker = sender(&app, &smtp.url());
    let early = worker.run_once().await.unwrap();
    assert_eq!(early.sent, 0, "backoff: not retried at once");
    let back = worker
        .run_once_at(now() + Duration::minutes(2))
        .await
        .unwrap();
    assert_eq!((back.sent, back.failed), (1, 0), "{back:?}");
    let after = worker
        .run_once_at(now() + Duration::minutes(30))
        .await
        .unwrap();
    assert_eq!(after, Default::default());

    let messages = smtp.messages();
    assert_eq!(messages.len(), 1, "sent once");
    assert_eq!(messages[0].to, vec!["<ann@example.com>"]);
    assert_eq!(
        messages[0].header("Message-ID").as_deref(),
        Some(waiting.message_id.as_str()),
        "the Message-ID written with the row"
    );
    assert!(messages[0].data.contains("/verify-email/"));
    assert!(
        !app.get_html("/settings").await.contains("Account mail:"),
        "a success clears the error"
    );
}
on_both_backends!(smtp_down_at_sign_up_the_mail_waits_and_arrives_once);

async fn two_senders_racing_send_each_mail_once(backend: Backend) {
    let address = dead_address();
    let url = format!("smtp://{address}");
    let app = spawn_app_with(backend, |s| s.smtp_url = Some(Secret::new(url))).await;
    for i in 0..6 {
        app.sign_up_as(&new_browser(), &format!("reader{i}@example.com"))
            .await;
    }
    wait_for_attempts(&app, 6).await;

    let smtp = SmtpServer::start_on(address).await;
    let (a, b) = (sender(&app, &smtp.url()), sender(&app, &smtp.url()));
    let at = now() + Duration::minutes(2);
    let (ra, rb) = tokio::join!(a.run_once_at(at), b.run_once_at(at));
    let (ra, rb) = (ra.unwrap(), rb.unwrap());
    assert_eq!(ra.sent + rb.sent, 6, "{ra:?} {rb:?}");
    let (ra, rb) = tokio::join!(a.run_once_at(at), b.run_once_at(at));
    assert_eq!(ra.unwrap().sent + rb.unwrap().sent, 0);

    let mut ids: Vec<String> = smtp
        .messages()
        .iter()
        .map(|m| m.header("Message-ID").unwrap())
        .collect();
    assert_eq!(ids.len(), 6);
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 6, "each mail once");
    assert!(outbox_rows(&app).await.iter().all(|m| m.sent_at.is_some()));
}
on_both_backends!(two_senders_racing_send_each_mail_once);

async fn a_reset_for_an_unknown_address_queues_nothing(backend: Backend) {
    let smtp = SmtpServer::start().await;
    let url = smtp.url();
    let app = spawn_app_with(backend, |s| s.smtp_url = Some(Secret::new(url))).await;
    app.sign_up("ann@example.com").await;
    assert_eq!(outbox_rows(&app).await.len(), 1, "the verification mail");

    let stranger = new_browser();
    let unknown = app
        .submit_as(
            &stranger,
            "/forgot-password",
            "/forgot-password",
            &[("email", "nobody@example.com")],
        )
        .await;
    let unknown_status = unknown.status().as_u16();
    let unknown_text = unknown.text().await.unwrap();
    assert_eq!(outbox_rows(&app).await.len(), 1, "nothing for nobody");

    let known = app
        .submit_as(
            &stranger,
            "/forgot-password",
            "/forgot-password",
            &[("email", "ann@example.com")],
        )
        .await;
    assert_eq!(known.status().as_u16(), unknown_status);
    let known_text = known.text().await.unwrap();
    let strip = |page: &str| {
        // The forms' CSRF tokens differ from page to page; the rest must not.
        page.lines()
            .filter(|l| !l.contains("csrf"))
            .collect::<Vec<_>>()
            .join("\n")
    };
    assert_eq!(strip(&known_text), strip(&unknown_text), "the same answer");
    let rows = outbox_rows(&app).await;
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[1].kind, "password_reset");
    assert_eq!(rows[1].to_address, "ann@example.com");
}
on_both_backends!(a_reset_for_an_unknown_address_queues_nothing);

async fn a_crashed_sender_is_replaced_and_a_stale_claim_marks_nothing(backend: Backend) {
    let smtp = SmtpServer::start().await;
    let dead = format!("smtp://{}", dead_address());
    // The app's own attempt fails, so the mail waits for the workers below.
    let app = spawn_app_with(backend, |s| s.smtp_url = Some(Secret::new(dead))).await;
    app.sign_up("ann@example.com").await;
    wait_for_attempts(&app, 1).await;

    let at = now() + Duration::minutes(2);
    let crashed = app
        .db
        .run(move |conn| {
            outbox::claim_due(conn, at, at + Duration::minutes(5), 10).map_err(DbError::from)
        })
        .await
        .unwrap();
    assert_eq!(crashed.len(), 1, "claimed by a worker that then dies");
    let worker = sender(&app, &smtp.url());
    assert_eq!(worker.run_once_at(at).await.unwrap().sent, 0, "leased");
    let later = at + Duration::minutes(6);
    assert_eq!(worker.run_once_at(later).await.unwrap().sent, 1);

    // The dead worker wakes up and records a failure: its token is no longer the row's.
    let stale = crashed[0].clone();
    app.db
        .run(move |conn| outbox::mark_failed(conn, &stale, "late", later).map_err(DbError::from))
        .await
        .unwrap();
    let row = outbox_rows(&app).await.remove(0);
    assert!(row.sent_at.is_some());
    assert_eq!(row.last_error, None);
    assert_eq!(smtp.messages().len(), 1);
}
on_both_backends!(a_crashed_sender_is_replaced_and_a_stale_claim_marks_nothing);

async fn mail_unsent_when_its_link_expires_is_given_up_with_its_error(backend: Backend) {
    let dead = format!("smtp://{}", dead_address());
    let app = spawn_app_with(backend, |s| s.smtp_url = Some(Secret::new(dead))).await;
    app.sign_up("ann@example.com").await;
    app.submit_as(
        &new_browser(),
        "/forgot-password",
        "/forgot-password",
        &[("email", "ann@example.com")],
    )
    .await;
    wait_for_attempts(&app, 2).await;

    let smtp = SmtpServer::start().await;
    let worker = sender(&app, &smtp.url());
    let two_hours = now() + Duration::hours(2);
    let report = worker.run_once_at(two_hours).await.unwrap();
    assert_eq!((report.sent, report.failed), (1, 0), "{report:?}");
    assert!(
        smtp.messages()[0]
            .header("Subject")
            .unwrap()
            .contains("Confirm"),
        "the verification link still works; the hour-long reset link does not"
    );
    let reset = outbox_rows(&app).await.remove(1);
    assert_eq!(reset.kind, "password_reset");
    assert!(reset.given_up(two_hours));
    assert!(reset.last_error.is_some(), "the error is kept");

    // Minutes later (sooner, the first link would stand and nothing be queued).
    app.sql("UPDATE mail_limits SET last_queued_at = '2000-01-01 00:00:00'")
        .await;
    assert_eq!(
        app.submit("/settings", "/settings/verify-email", &[])
            .await
            .status()
            .as_u16(),
        303
    );
    wait_for_attempts(&app, 3).await;
    let late = now() + Duration::hours(outbox::GIVE_UP_AFTER_HOURS + 1);
    assert_eq!(worker.run_once_at(late).await.unwrap(), Default::default());
    assert_eq!(smtp.messages().len(), 1, "its link has expired: not sent");
    let again = outbox_rows(&app).await.remove(2);
    assert!(again.given_up(late));
    assert!(again.last_error.is_some());
}
on_both_backends!(mail_unsent_when_its_link_expires_is_given_up_with_its_error);

/// How many messages of `kind` the outbox holds for `to`.
async fn queued(app: &TestApp, kind: &str, to: &str) -> usize {
    outbox_rows(app)
        .await
        .iter()
        .filter(|m| m.kind == kind && m.to_address == to)
        .count()
}

async fn account_mail_goes_at_most_once_per_address_every_few_minutes(backend: Backend) {
    let smtp = SmtpServer::start().await;
    let url = smtp.url();
    let app = spawn_app_with(backend, |s| s.smtp_url = Some(Secret::new(url))).await;
    app.sign_up("ann@example.com").await;
    let stranger = new_browser();
    let strip = |page: &str| {
        page.lines()
            .filter(|l| !l.contains("csrf"))
            .collect::<Vec<_>>()
            .join("\n")
    };
    let ask_reset = || async {
        let answer = app
            .submit_as(
                &stranger,
                "/forgot-password",
                "/forgot-password",
                &[("email", "ann@example.com")],
            )
            .await;
        (
            answer.status().as_u16(),
            strip(&answer.text().await.unwrap()),
        )
    };
    let first = ask_reset().await;
    for _ in 0..9 {
        assert_eq!(ask_reset().await, first, "the page answers the same");
    }
    assert_eq!(queued(&app, "password_reset", "ann@example.com").await, 1);

    // Asking for the verification link again right after sign-up: the first link stands.
    for _ in 0..3 {
        let answer = app.submit("/settings", "/settings/verify-email", &[]).await;
        assert_eq!(answer.status().as_u16(), 303);
    }
    assert_eq!(queued(&app, "verify_email", "ann@example.com").await, 1);

    // Changing the address back and forth: one notice to the old address.
    for new in ["bob@example.com", "ann@example.com", "bob@example.com"] {
        let answer = app
            .submit(
                "/settings",
                "/settings/email",
                &[("email", new), ("password", "correct horse battery")],
            )
            .await;
        assert_eq!(answer.status().as_u16(), 303);
    }
    assert_eq!(queued(&app, "email_changed", "ann@example.com").await, 1);
    assert_eq!(queued(&app, "verify_email", "bob@example.com").await, 1);

    // A few minutes later a new request is a new mail.
    let reset_bob = || {
        app.submit_as(
            &stranger,
            "/forgot-password",
            "/forgot-password",
            &[("email", "bob@example.com")],
        )
    };
    reset_bob().await;
    reset_bob().await;
    assert_eq!(queued(&app, "password_reset", "bob@example.com").await, 1);
    app.sql("UPDATE mail_limits SET last_queued_at = '2000-01-01 00:00:00'")
        .await;
    reset_bob().await;
    assert_eq!(queued(&app, "password_reset", "bob@example.com").await, 2);
}
on_both_backends!(account_mail_goes_at_most_once_per_address_every_few_minutes);
