//! Password reset by a single-use, expiring link mailed to the account's address.

use captionfeed::accounts::{reset, UserId};
use captionfeed::config::Secret;

use crate::helpers::{spawn_app_with, Backend, TestApp};
use crate::on_both_backends;
use crate::smtp::SmtpServer;

async fn wait_for(smtp: &SmtpServer, subject: &str) -> String {
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

async fn log_in(app: &TestApp, password: &str) -> u16 {
    let browser = crate::helpers::new_browser();
    app.submit_as(
        &browser,
        "/login",
        "/login",
        &[("email", "ann@example.com"), ("password", password)],
    )
    .await
    .status()
    .as_u16()
}

async fn a_reset_link_sets_a_new_password_once(backend: Backend) {
    let smtp = SmtpServer::start().await;
    let url = smtp.url();
    let app = spawn_app_with(backend, |s| s.smtp_url = Some(Secret::new(url))).await;
    app.sign_up("ann@example.com").await;
    assert_eq!(
        app.get("/settings").await.status().as_u16(),
        200,
        "logged in"
    );

    let stranger = crate::helpers::new_browser();
    let asked = app
        .submit_as(
            &stranger,
            "/forgot-password",
            "/forgot-password",
            &[("email", "ann@example.com")],
        )
        .await
        .text()
        .await
        .unwrap();
    let unknown = app
        .submit_as(
            &stranger,
            "/forgot-password",
            "/forgot-password",
            &[("email", "nobody@example.com")],
        )
        .await
        .text()
        .await
        .unwrap();
    assert!(asked.contains("If an account uses that address"));
    assert!(
        unknown.contains("If an account uses that address"),
        "no hint which addresses exist"
    );

    let mail = wait_for(&smtp, "Reset your captionfeed password").await;
    let start = mail.find("/reset-password/").expect("a reset link");
    let path: String = mail[start..]
        .chars()
        .take_while(|c| !c.is_whitespace())
        .collect();
    assert_eq!(
        smtp.messages()
            .iter()
            .filter(|m| m.header("Subject").is_some_and(|s| s.contains("Reset")))
            .count(),
        1,
        "no mail for an unknown address"
    );

    let too_short = app
        .submit_as(&stranger, &path, &path, &[("password", "short")])
        .await;
    assert_eq!(too_short.status().as_u16(), 422);
    let done = app
        .submit_as(
            &stranger,
            &path,
            &path,
            &[("password", "a brand new passphrase")],
        )
        .await;
    assert_eq!(done.status().as_u16(), 303);

    assert_eq!(
        app.get_as(&stranger, &path).await.status().as_u16(),
        404,
        "single use"
    );
    assert_eq!(
        app.get("/settings").await.status().as_u16(),
        303,
        "old sessions end"
    );
    assert_eq!(
        log_in(&app, "correct horse battery").await,
        401,
        "the old password is gone"
    );
    assert_eq!(log_in(&app, "a brand new passphrase").await, 303);
}
on_both_backends!(a_reset_link_sets_a_new_password_once);

async fn an_expired_or_forged_reset_link_opens_nothing(backend: Backend) {
    let app = spawn_app_with(backend, |_| {}).await;
    app.sign_up("ann@example.com").await;
    let email = captionfeed::accounts::validate::Email::parse("ann@example.com").unwrap();
    let user = app
        .db
        .run(move |conn| captionfeed::accounts::users::find_by_email(conn, &email))
        .await
        .unwrap()
        .unwrap();
    let key = captionfeed::web::secret::load_signing_key(&mut app.db.get().unwrap(), &app.settings)
        .unwrap();
    let base = url::Url::parse(&format!("{}/", app.address)).unwrap();
    let id = UserId(user.id.clone());
    let past = chrono::Utc::now().timestamp() - 1;
    let expired = reset::link(&base, &key, &id, &user.password_hash, past);
    assert_eq!(
        app.client
            .get(&expired)
            .send()
            .await
            .unwrap()
            .status()
            .as_u16(),
        404
    );
    let valid = reset::link(&base, &key, &id, &user.password_hash, past + 3600);
    assert_eq!(
        app.client
            .get(&valid)
            .send()
            .await
            .unwrap()
            .status()
            .as_u16(),
        200
    );
    let forged = reset::link(
        &base,
        b"not the key of this deployment!!",
        &id,
        &user.password_hash,
        past + 3600,
    );
    assert_eq!(
        app.client
            .get(&forged)
            .send()
            .await
            .unwrap()
            .status()
            .as_u16(),
        404
    );
}
on_both_backends!(an_expired_or_forged_reset_link_opens_nothing);
