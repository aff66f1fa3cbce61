use crate::helpers::{location, new_browser, spawn_app, spawn_app_with, Backend};
use crate::on_both_backends;

async fn signing_up_then_logging_in_opens_the_desk(backend: Backend) {
    let app = spawn_app(backend).await;
    let response = app.sign_up("ann@example.com").await;
    assert_eq!(response.status().as_u16(), 303);
    assert_eq!(location(&response), "/captions");
    let cookie = response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.starts_with("cf_session="))
        .expect("a session cookie")
        .to_string();
    assert!(cookie.contains("HttpOnly"), "{cookie}");
    assert!(cookie.contains("SameSite=Lax"), "{cookie}");
    assert!(!cookie.contains("Secure"), "plain-http base URL: {cookie}");
    let page = app.get("/captions").await;
    assert_eq!(page.status().as_u16(), 200);
    assert!(page.text().await.unwrap().contains("ann@example.com"));
}
on_both_backends!(signing_up_then_logging_in_opens_the_desk);

async fn session_cookie_is_secure_behind_https(backend: Backend) {
    let app = spawn_app_with(backend, |s| {
        s.base_url = url::Url::parse("https://captions.example/").unwrap()
    })
    .await;
    let response = app.sign_up("ann@example.com").await;
    let cookie = response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.starts_with("cf_session="))
        .expect("a session cookie")
        .to_string();
    assert!(cookie.contains("Secure"), "{cookie}");
}
on_both_backends!(session_cookie_is_secure_behind_https);

async fn sign_up_explains_what_is_wrong(backend: Backend) {
    let app = spawn_app(backend).await;
    let bad_email = app
        .submit(
            "/signup",
            "/signup",
            &[
                ("email", "ann.example.com"),
                ("password", "correct horse battery"),
            ],
        )
        .await;
    assert_eq!(bad_email.status().as_u16(), 422);
    assert!(bad_email
        .text()
        .await
        .unwrap()
        .contains("is not a valid email address"));

    let short = app
        .submit(
            "/signup",
            "/signup",
            &[("email", "ann@example.com"), ("password", "short")],
        )
        .await;
    assert_eq!(short.status().as_u16(), 422);
    assert!(short
        .text()
        .await
        .unwrap()
        .contains("at least 10 characters"));

    assert_eq!(app.sign_up("ann@example.com").await.status().as_u16(), 303);
}
on_both_backends!(sign_up_explains_what_is_wrong);

async fn sign_up_does_not_reveal_which_emails_exist(backend: Backend) {
    let app = spawn_app(backend).await;
    app.sign_up("ann@example.com").await;
    let sign_up = |email: &'static str, password: &'static str| {
        let app = &app;
        async move {
            let browser = new_browser();
            let answer = app
                .submit_as(
                    &browser,
                    "/signup",
                    "/signup",
                    &[("email", email), ("password", password)],
                )
                .await;
            let status = answer.status().as_u16();
            let location = location(&answer);
            let cookies = answer.headers().get_all("set-cookie").iter().count();
            let page = app.get_as(&browser, &location).await.text().await.unwrap();
            let page: Vec<String> = page
                .lines()
                .filter(|l| !l.contains("csrf"))
                .map(str::to_string)
                .collect();
            (status, location, cookies, page)
        }
    };
    let existing = sign_up("ANN@example.com", "another long passphrase").await;
    let new = sign_up("bob@example.com", "correct horse battery").await;
    assert_eq!(existing, new, "the same answer, new address or not");
    assert_eq!(existing.0, 303);
    assert_eq!(existing.2, 0, "no session either way");
    assert!(existing.3.join("\n").contains("Check your inbox"));

    let mail = app
        .db
        .run(|conn| {
            captionfeed::mail::outbox::list_all(conn).map_err(captionfeed::db::DbError::from)
        })
        .await
        .unwrap();
    let to = |address: &str| -> Vec<(String, String)> {
        mail.iter()
            .filter(|m| m.to_address == address)
            .map(|m| (m.kind.clone(), m.text_body.clone()))
            .collect()
    };
    let ann = to("ann@example.com");
    assert_eq!(ann.len(), 2, "her verification, then the notice: {ann:?}");
    assert_eq!(ann[1].0, "account_exists");
    assert!(
        ann[1].1.contains("you already have an account"),
        "{}",
        ann[1].1
    );
    assert!(ann[1].1.contains("/login") && ann[1].1.contains("/forgot-password"));
    assert_eq!(to("bob@example.com")[0].0, "verify_email");

    // Ann's account is as it was: her password still opens it, the sign-up's does not.
    let log_in = |password: &'static str| {
        let app = &app;
        async move {
            app.submit_as(
                &new_browser(),
                "/login",
                "/login",
                &[("email", "ann@example.com"), ("password", password)],
            )
            .await
            .status()
            .as_u16()
        }
    };
    assert_eq!(log_in("another long passphrase").await, 401);
    assert_eq!(log_in("correct horse battery").await, 303);
}
on_both_backends!(sign_up_does_not_reveal_which_emails_exist);

async fn login_does_not_reveal_which_emails_exist(backend: Backend) {
    let app = spawn_app(backend).await;
    app.sign_up("ann@example.com").await;
    let browser = new_browser();
    let wrong_password = app
        .submit_as(
            &browser,
            "/login",
            "/login",
            &[
                ("email", "ann@example.com"),
                ("password", "not her password"),
            ],
        )
        .await;
    let unknown_email = app
        .submit_as(
            &browser,
            "/login",
            "/login",
            &[
                ("email", "bob@example.com"),
                ("password", "not her password"),
            ],
        )
        .await;
    assert_eq!(wrong_password.status().as_u16(), 401);
    assert_eq!(unknown_email.status().as_u16(), 401);
    let a = wrong_password.text().await.unwrap();
    let b = unknown_email.text().await.unwrap();
    assert!(a.contains("Email or password is incorrect."));
    // Same page apart from the echoed email and the form token.
    let strip = |s: &str, email: &str| {
        s.replace(email, "EMAIL")
            .lines()
            .filter(|l| !l.contains("csrf_token"))
            .collect::<Vec<_>>()
            .join("\n")
    };
    assert_eq!(strip(&a, "ann@example.com"), strip(&b, "bob@example.com"));

    let ok = app
        .submit_as(
            &browser,
            "/login",
            "/login",
            &[
                ("email", "Ann@Example.com"),
                ("password", "correct horse battery"),
            ],
        )
        .await;
    assert_eq!(ok.status().as_u16(), 303);
    assert_eq!(
        app.get_as(&browser, "/captions").await.status().as_u16(),
        200
    );
}
on_both_backends!(login_does_not_reveal_which_emails_exist);

async fn logging_out_ends_the_session(backend: Backend) {
    let app = spawn_app(backend).await;
    app.sign_up("ann@example.com").await;
    let response = app.submit("/captions", "/logout", &[]).await;
    assert_eq!(response.status().as_u16(), 303);
    let after = app.get("/captions").await;
    assert_eq!(after.status().as_u16(), 303);
    assert_eq!(location(&after), "/login");
}
on_both_backends!(logging_out_ends_the_session);

async fn forms_without_a_valid_csrf_token_are_refused(backend: Backend) {
    let app = spawn_app(backend).await;
    // No token at all: nothing is created.
    let response = app
        .client
        .post(app.url("/signup"))
        .form(&[
            ("email", "ann@example.com"),
            ("password", "correct horse battery"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 403);
    assert_eq!(
        app.sign_up("ann@example.com").await.status().as_u16(),
        303,
        "the email is still free"
    );

    // A token taken from another visitor's page does not work either.
    let attacker = new_browser();
    let attacker_page = app.get_as(&attacker, "/signup").await.text().await.unwrap();
    let foreign = crate::helpers::csrf_token(&attacker_page);
    let forged = app
        .client
        .post(app.url("/feeds"))
        .form(&[
            ("csrf_token", foreign.as_str()),
            ("url", "http://127.0.0.1:9/feed.xml"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status().as_u16(), 403);
    let feeds = app.get_html("/feeds").await;
    assert!(feeds.contains("You follow no feed yet"));
}
on_both_backends!(forms_without_a_valid_csrf_token_are_refused);

async fn pages_need_a_login(backend: Backend) {
    let app = spawn_app(backend).await;
    for path in ["/captions", "/feeds", "/feeds/new", "/feeds/0190a0a0a0a0"] {
        let response = app.get(path).await;
        assert_eq!(response.status().as_u16(), 303, "{path}");
        assert_eq!(location(&response), "/login", "{path}");
    }
}
on_both_backends!(pages_need_a_login);
