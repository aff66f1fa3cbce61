//! Email verification: digests go only to confirmed addresses.

use captionfeed::config::Secret;
use captionfeed::digests::schedule::Frequency;

use crate::digests::{later, sender, set_frequency, user_id};
use crate::helpers::{rss, spawn_app_with, Backend, FeedServer};
use crate::on_both_backends;
use crate::smtp::{Received, SmtpServer};

async fn first_message(smtp: &SmtpServer) -> Received {
    for _ in 0..100 {
        if let Some(m) = smtp.messages().into_iter().next() {
            return m;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("no message arrived");
}

async fn digests_wait_until_the_address_is_confirmed(backend: Backend) {
    let smtp = SmtpServer::start().await;
    let smtp_url = smtp.url();
    let app = spawn_app_with(backend, |s| {
        s.smtp_url = Some(Secret::new(smtp_url));
    })
    .await;
    let base = format!("{}/", app.address);
    let mut app = app;
    app.settings.base_url = url::Url::parse(&base).unwrap();

    app.sign_up("reader@example.com").await;
    let mail = first_message(&smtp).await;
    assert_eq!(mail.to, vec!["<reader@example.com>"]);
    let body = mail.data.replace("=\r\n", "");
    let start = body.find("/verify-email/").expect("a verification link");
    let path: String = body[start..]
        .chars()
        .take_while(|c| !c.is_whitespace())
        .collect();

    let user = user_id(&app, "reader@example.com").await;
    set_frequency(&app, &user, Frequency::Batched { minutes: 5 }).await;
    let feeds = FeedServer::start().await;
    let url = feeds.set(
        "/blog.xml",
        "application/rss+xml",
        rss("Blog", &[("p1", "Post")]),
    );
    app.add_feed(&url).await;
    app.poll().await;
    assert!(app
        .get_html("/settings")
        .await
        .contains("Digests wait until you confirm"));

    let digests = sender(&app, &smtp.url()).await;
    let report = digests.run_once_at(later(10)).await.unwrap();
    assert_eq!(report.digests_created, 0, "unconfirmed: no digest");

    let forged = format!("{}x", &path[..path.len() - 1]);
    assert_eq!(app.get(&forged).await.status().as_u16(), 404);
    let opened = app.get(&path).await;
    assert_eq!(opened.status().as_u16(), 200);
    assert!(opened.text().await.unwrap().contains("Address confirmed"));
    assert!(!app
        .get_html("/settings")
        .await
        .contains("Digests wait until you confirm"));

    let report = digests.run_once_at(later(20)).await.unwrap();
    assert_eq!(
        (report.digests_created, report.digests_sent),
        (1, 1),
        "{report:?}"
    );
    let digest = smtp.messages().pop().unwrap();
    assert!(
        crate::digests::part(&digest, "text/plain").contains("Post"),
        "the waiting caption comes"
    );
}
on_both_backends!(digests_wait_until_the_address_is_confirmed);
