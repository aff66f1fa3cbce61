//! Guessing passwords and API tokens gets slower and slower, then 429 with `Retry-After`,
//! on every replica alike; the owner of the mailbox can always get back in with a reset.

use captionfeed::config::Secret;

use crate::helpers::{csrf_token, new_browser, spawn_app, spawn_app_with, Backend, TestApp};
use crate::on_both_backends;
use crate::smtp::SmtpServer;

/// Posts the login form of the server at `address` in `browser`; returns the status and
/// `Retry-After` in seconds, if any.
async fn log_in_at(
    browser: &reqwest::Client,
    address: &str,
    email: &str,
    password: &str,
) -> (u16, Option<u64>) {
    let page = browser
        .get(format!("{address}/login"))
        .send()
        .await
        .expect("login page")
        .text()
        .await
        .expect("body");
    let token = csrf_token(&page);
    let answer = browser
        .post(format!("{address}/login"))
        .form(&[
            ("csrf_token", token.as_str()),
            ("email", email),
            ("password", password),
        ])
        .send()
        .await
        .expect("POST answers");
    let retry_after = answer
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok());
    (answer.status().as_u16(), retry_after)
}

async fn log_in(app: &TestApp, email: &str, password: &str) -> (u16, Option<u64>) {
    log_in_at(&new_browser(), &app.address, email, password).await
}

async fn reset_link(smtp: &SmtpServer) -> String {
    for _ in 0..100 {
        if let Some(m) = smtp.messages().into_iter().find(|m| {
            m.header("Subject")
                .is_some_and(|s| s.contains("Reset your captionfeed password"))
        }) {
            let mail = m.data.replace("=\r\n", "");
            let start = mail.find("/reset-password/").expect("a reset link");
            return mail[start..]
                .chars()
                .take_while(|c| !c.is_whitespace())
                .collect();
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("no reset mail arrived");
}

async fn password_guessing_waits_longer_each_time_and_a_reset_still_opens_the_account(
    backend: Backend,
) {
    let smtp = SmtpServer::start().await;
    let url = smtp.url();
    let app = spawn_app_with(backend, |s| s.smtp_url = Some(Secret::new(url))).await;
    app.sign_up("ann@example.com").await;
    let replica = crate::desk_pages::another_web_replica(&app).await;

    for n in 1..=5 {
        let (status, _) = log_in(&app, "ann@example.com", &format!("guess number {n}")).await;
        assert_eq!(status, 401, "typo {n} is free");
    }
    // The next try comes at once: it waits 1 s, on this replica and on the other one, and
    // even the right password is not looked at meanwhile.
    let (status, retry) = log_in(&app, "ann@example.com", "guess number 6").await;
    assert_eq!((status, retry), (429, Some(1)));
    let (status, retry) = log_in_at(
        &new_browser(),
        &replica,
        "Ann@Example.com",
        "correct horse battery",
    )
    .await;
    assert_eq!(
        (status, retry),
        (429, Some(1)),
        "the count is shared by the replicas"
    );

    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    assert_eq!(
        log_in(&app, "ann@example.com", "guess number 7").await.0,
        401
    );
    let (status, retry) = log_in(&app, "ann@example.com", "guess number 8").await;
    assert_eq!((status, retry), (429, Some(2)), "the wait doubles");
    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
    assert_eq!(
        log_in(&app, "ann@example.com", "guess number 9").await.0,
        401
    );

    // Sixty guesses in a row: none of them is even checked.
    for n in 10..70 {
        let (status, retry) = log_in(&app, "ann@example.com", &format!("guess number {n}")).await;
        assert_eq!(status, 429, "guess {n}");
        assert!(retry.is_some_and(|s| (1..=4).contains(&s)), "{retry:?}");
    }

    // The owner asks for a reset link and signs in with the new password at once.
    let owner = new_browser();
    app.submit_as(
        &owner,
        "/forgot-password",
        "/forgot-password",
        &[("email", "ann@example.com")],
    )
    .await;
    let path = reset_link(&smtp).await;
    let done = app
        .submit_as(
            &owner,
            &path,
            &path,
            &[("password", "a brand new passphrase")],
        )
        .await;
    assert_eq!(done.status().as_u16(), 303);
    let (status, _) = log_in_at(
        &owner,
        &app.address,
        "ann@example.com",
        "a brand new passphrase",
    )
    .await;
    assert_eq!(status, 303, "a reset clears the account's count");
}
on_both_backends!(password_guessing_waits_longer_each_time_and_a_reset_still_opens_the_account);

async fn one_client_guessing_many_accounts_is_slowed_down_too(backend: Backend) {
    let app = spawn_app(backend).await;
    app.sign_up("ann@example.com").await;
    // Four tries at each of five addresses: under each account's allowance, but twenty
    // failures from one client address.
    for account in 0..5 {
        for n in 0..4 {
            let (status, _) = log_in(
                &app,
                &format!("user{account}@example.com"),
                &format!("guess {n} here"),
            )
            .await;
            assert_eq!(status, 401);
        }
    }
    let (status, retry) = log_in(&app, "ann@example.com", "correct horse battery").await;
    assert_eq!((status, retry), (429, Some(1)));
}
on_both_backends!(one_client_guessing_many_accounts_is_slowed_down_too);

async fn wrong_api_tokens_get_429_after_twenty(backend: Backend) {
    let app = spawn_app(backend).await;
    let token = app.api_token("ann@example.com").await;
    let client = reqwest::Client::new();
    let call = |secret: String| {
        let request = client
            .get(app.url("/api/v1/feeds"))
            .bearer_auth(secret)
            .send();
        async move {
            let answer = request.await.expect("answers");
            let retry = answer
                .headers()
                .get("retry-after")
                .and_then(|v| v.to_str().ok())
                .map(str::to_string);
            (answer.status().as_u16(), retry)
        }
    };
    assert_eq!(call(token.clone()).await.0, 200);
    for n in 0..20 {
        assert_eq!(call(format!("cf_guess{n:02}")).await.0, 401, "guess {n}");
    }
    assert_eq!(
        call("cf_guess20".into()).await,
        (429, Some("1".to_string()))
    );
    assert_eq!(
        call(token.clone()).await.0,
        429,
        "a waiting client's token is not looked at"
    );
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    assert_eq!(call(token).await.0, 200);
}
on_both_backends!(wrong_api_tokens_get_429_after_twenty);
