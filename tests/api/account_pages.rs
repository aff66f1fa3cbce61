//! The account from the settings: the password changed with the current one, what a reset
//! says before and after, the confirm-your-address banner, the time zone list.

use captionfeed::config::Secret;

use crate::helpers::{new_browser, spawn_app, spawn_app_with, Backend, TestApp};
use crate::on_both_backends;
use crate::smtp::SmtpServer;

const PASSWORD: &str = "correct horse battery";

async fn mail_body(smtp: &SmtpServer, subject: &str) -> String {
    for _ in 0..100 {
        if let Some(m) = smtp
            .messages()
            .into_iter()
            .find(|m| m.header("Subject").is_some_and(|s| s.contains(subject)))
        {
            return m.data.replace("=\r\n", "");
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("no message {subject:?} arrived");
}

async fn log_in(app: &TestApp, browser: &reqwest::Client, password: &str) -> u16 {
    app.submit_as(
        browser,
        "/login",
        "/login",
        &[("email", "ann@example.com"), ("password", password)],
    )
    .await
    .status()
    .as_u16()
}

async fn change_password(app: &TestApp, current: &str, new: &str) -> reqwest::Response {
    app.submit(
        "/settings",
        "/settings/password",
        &[("current_password", current), ("new_password", new)],
    )
    .await
}

async fn the_password_changes_with_the_current_one_and_ends_other_sessions(backend: Backend) {
    let smtp = SmtpServer::start().await;
    let url = smtp.url();
    let app = spawn_app_with(backend, |s| s.smtp_url = Some(Secret::new(url))).await;
    app.sign_up("ann@example.com").await;
    let phone = new_browser();
    assert_eq!(log_in(&app, &phone, PASSWORD).await, 303);
    assert_eq!(app.get_as(&phone, "/settings").await.status().as_u16(), 200);
    let page = app.get_html("/settings").await;
    assert!(page.contains(r#"action="/settings/password""#), "{page}");

    let wrong = change_password(&app, "not my password", "a brand new passphrase").await;
    assert_eq!(wrong.status().as_u16(), 403);
    assert!(wrong
        .text()
        .await
        .unwrap()
        .contains("current password is not right"));
    let short = change_password(&app, PASSWORD, "short").await;
    assert_eq!(short.status().as_u16(), 422);
    assert_eq!(
        app.get_as(&phone, "/settings").await.status().as_u16(),
        200,
        "refused changes end no session"
    );

    let done = change_password(&app, PASSWORD, "a brand new passphrase").await;
    assert_eq!(done.status().as_u16(), 303);
    let page = app.get_html("/settings?password_changed=1").await;
    assert!(
        page.contains("Password changed"),
        "this session goes on: {page}"
    );
    assert_eq!(
        app.get_as(&phone, "/settings").await.status().as_u16(),
        303,
        "the other session is signed out"
    );
    let notice = mail_body(&smtp, "password of your captionfeed account changed").await;
    assert!(notice.contains("/forgot-password"), "{notice}");
    let later = new_browser();
    assert_eq!(
        log_in(&app, &later, PASSWORD).await,
        401,
        "old password gone"
    );
    assert_eq!(log_in(&app, &later, "a brand new passphrase").await, 303);
}
on_both_backends!(the_password_changes_with_the_current_one_and_ends_other_sessions);

async fn a_reset_is_confirmed_and_a_used_link_says_what_to_do(backend: Backend) {
    let smtp = SmtpServer::start().await;
    let url = smtp.url();
    let app = spawn_app_with(backend, |s| s.smtp_url = Some(Secret::new(url))).await;
    app.sign_up("ann@example.com").await;
    let stranger = new_browser();
    app.submit_as(
        &stranger,
        "/forgot-password",
        "/forgot-password",
        &[("email", "ann@example.com")],
    )
    .await;
    let mail = mail_body(&smtp, "Reset your captionfeed password").await;
    let start = mail.find("/reset-password/").expect("a reset link");
    let path: String = mail[start..]
        .chars()
        .take_while(|c| !c.is_whitespace())
        .collect();
    let done = app
        .submit_as(
            &stranger,
            &path,
            &path,
            &[("password", "a brand new passphrase")],
        )
        .await;
    assert_eq!(done.status().as_u16(), 303);
    let next = crate::helpers::location(&done);
    let login = app.get_as(&stranger, &next).await.text().await.unwrap();
    assert!(login.contains("Your new password is set"), "{login}");

    for used in [
        app.get_as(&stranger, &path).await,
        app.submit_as(
            &new_browser(),
            "/forgot-password",
            &path,
            &[("password", "another passphrase!")],
        )
        .await,
    ] {
        assert_eq!(used.status().as_u16(), 404);
        let html = used.text().await.unwrap();
        assert!(html.contains("This reset link no longer works"), "{html}");
        assert!(html.contains(r#"href="/forgot-password""#), "{html}");
        assert!(!html.contains("Not found"), "{html}");
    }
}
on_both_backends!(a_reset_is_confirmed_and_a_used_link_says_what_to_do);

async fn every_signed_in_page_asks_to_confirm_the_address_until_it_is(backend: Backend) {
    let smtp = SmtpServer::start().await;
    let url = smtp.url();
    let app = spawn_app_with(backend, |s| s.smtp_url = Some(Secret::new(url))).await;
    app.sign_up("ann@example.com").await;
    let pages = [
        "/captions",
        "/feeds",
        "/feeds/new",
        "/templates",
        "/settings/tokens",
        "/settings",
    ];
    for page in pages {
        let html = app.get_html(page).await;
        assert!(
            html.contains("Confirm your address to get digests"),
            "{page}: {html}"
        );
    }
    let mail = mail_body(&smtp, "Confirm").await;
    let start = mail.find("/verify-email/").expect("a verification link");
    let path: String = mail[start..]
        .chars()
        .take_while(|c| !c.is_whitespace())
        .collect();
    assert_eq!(app.get(&path).await.status().as_u16(), 200);
    for page in pages {
        assert!(
            !app.get_html(page).await.contains("Confirm your address"),
            "{page}"
        );
    }
    assert!(!app
        .get_html("/login")
        .await
        .contains("Confirm your address"));
}
on_both_backends!(every_signed_in_page_asks_to_confirm_the_address_until_it_is);

async fn the_time_zone_is_picked_from_the_list(backend: Backend) {
    let app = spawn_app(backend).await;
    app.sign_up("ann@example.com").await;
    let html = app.get_html("/settings").await;
    assert!(
        html.contains(r#"<select id="time_zone" name="time_zone" required data-browser-zone>"#),
        "{html}"
    );
    assert!(html.contains(r#"<option value="Europe/Berlin">Europe/Berlin</option>"#));
    assert!(html.contains(r#"<option value="America/New_York">America/New York</option>"#));
    let saved = app
        .submit(
            "/settings",
            "/settings",
            &[
                ("frequency", "daily"),
                ("batch_minutes", "60"),
                ("weekday", "0"),
                ("hour", "8"),
                ("time_zone", "Europe/Berlin"),
            ],
        )
        .await;
    assert_eq!(saved.status().as_u16(), 303);
    let html = app.get_html("/settings").await;
    assert!(
        html.contains(r#"<option value="Europe/Berlin" selected>"#),
        "{html}"
    );
    assert!(!html.contains("data-browser-zone"), "a saved zone is kept");
    let refused = app
        .submit(
            "/settings",
            "/settings",
            &[
                ("frequency", "daily"),
                ("hour", "8"),
                ("time_zone", "Mars/Olympus"),
            ],
        )
        .await;
    assert_eq!(refused.status().as_u16(), 422);
}
on_both_backends!(the_time_zone_is_picked_from_the_list);

async fn a_session_cannot_guess_the_password_it_is_asked_for(backend: Backend) {
    let app = spawn_app(backend).await;
    app.sign_up("ann@example.com").await;
    // Five wrong tries are answered as wrong; then the account waits, and during the wait
    // even the right password is not checked.
    for _ in 0..5 {
        let wrong = change_password(&app, "a guess", "a brand new passphrase").await;
        assert_eq!(wrong.status().as_u16(), 403);
    }
    let refused = change_password(&app, PASSWORD, "a brand new passphrase").await;
    assert_eq!(refused.status().as_u16(), 429);
    assert!(refused.headers().contains_key("retry-after"));
    assert!(refused
        .text()
        .await
        .unwrap()
        .contains("Too many wrong passwords"));
    // The count is the signed-in forms' own: signing in is not locked for the owner.
    let later = new_browser();
    assert_eq!(log_in(&app, &later, PASSWORD).await, 303);
    // Once the wait is over, the right password works and clears the count.
    app.sql("UPDATE auth_failures SET last_failure_at = '2000-01-01 00:00:00'")
        .await;
    let done = change_password(&app, PASSWORD, "a brand new passphrase").await;
    assert_eq!(done.status().as_u16(), 303);
    assert_eq!(
        app.sql_count("SELECT count(*) AS n FROM auth_failures WHERE key LIKE 'reauth:%'")
            .await,
        0
    );
}
on_both_backends!(a_session_cannot_guess_the_password_it_is_asked_for);
