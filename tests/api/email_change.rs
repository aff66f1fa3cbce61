//! Changing the account's address: password needed, old address notified, new one confirmed.

use captionfeed::config::Secret;

use crate::helpers::{spawn_app_with, Backend};
use crate::on_both_backends;
use crate::smtp::{Received, SmtpServer};

async fn wait_for(smtp: &SmtpServer, subject: &str) -> Received {
    for _ in 0..100 {
        if let Some(m) = smtp
            .messages()
            .into_iter()
            .find(|m| m.header("Subject").is_some_and(|s| s.contains(subject)))
        {
            return m;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("no message {subject:?} arrived");
}

async fn a_new_address_is_confirmed_and_the_old_one_is_told(backend: Backend) {
    let smtp = SmtpServer::start().await;
    let url = smtp.url();
    let app = spawn_app_with(backend, |s| s.smtp_url = Some(Secret::new(url))).await;
    app.sign_up_as(&crate::helpers::new_browser(), "bob@example.com")
        .await;
    app.sign_up("ann@example.com").await;

    let wrong = app
        .submit(
            "/settings",
            "/settings/email",
            &[
                ("email", "ann@new.example"),
                ("password", "not my password"),
            ],
        )
        .await;
    assert_eq!(wrong.status().as_u16(), 403);
    let taken = app
        .submit(
            "/settings",
            "/settings/email",
            &[
                ("email", "bob@example.com"),
                ("password", "correct horse battery"),
            ],
        )
        .await;
    assert_eq!(taken.status().as_u16(), 409);
    let page = app.get_html("/settings").await;
    assert!(page.contains("ann@example.com"), "unchanged so far");
    let title = &page[page.find("<title>").unwrap()..page.find("</title>").unwrap()];
    assert!(!title.contains("<form"), "the form is on the page: {title}");
    assert!(page.contains(r#"action="/settings/email""#));

    let changed = app
        .submit(
            "/settings",
            "/settings/email",
            &[
                ("email", "ann@new.example"),
                ("password", "correct horse battery"),
            ],
        )
        .await;
    assert_eq!(changed.status().as_u16(), 303);

    let notice = wait_for(&smtp, "email address of your captionfeed account changed").await;
    assert_eq!(
        notice.to,
        vec!["<ann@example.com>"],
        "the old address is told"
    );
    assert!(notice.data.contains("ann@new.example"));
    let to_new = || {
        smtp.messages()
            .into_iter()
            .filter(|m| m.to == vec!["<ann@new.example>".to_string()])
            .count()
    };
    for _ in 0..100 {
        if to_new() > 0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let confirm = to_new();
    assert_eq!(confirm, 1, "the new address gets a confirmation link");
    let page = app.get_html("/settings").await;
    assert!(
        page.contains("Digests wait until you confirm ann@new.example"),
        "{page}"
    );
}
on_both_backends!(a_new_address_is_confirmed_and_the_old_one_is_told);
