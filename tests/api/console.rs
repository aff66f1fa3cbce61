//! The operator's console: hidden from everyone else, behind a recent password entry,
//! and every action recorded.

use crate::helpers::{location, new_browser, spawn_app, Backend, TestApp};
use crate::on_both_backends;

const PASSWORD: &str = "correct horse battery";

/// Every registered console route (ids filled in), and a few paths under `/admin` that
/// nothing serves: all must look alike to a visitor who is not an operator.
fn console_paths() -> Vec<String> {
    let mut paths: Vec<String> = captionfeed::web::admin::ROUTES
        .iter()
        .map(|(_, path)| path.replace("{id}", "0190aaaa0000000000000000000000aa"))
        .collect();
    paths.extend(["/admin/", "/admin/nothing-here", "/admin/accounts/x/y/z"].map(String::from));
    paths
}

const METHODS: [&str; 6] = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"];

async fn answer(
    client: &reqwest::Client,
    app: &TestApp,
    method: &str,
    path: &str,
) -> (u16, String, String) {
    let method = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
    let response = client
        .request(method, app.url(path))
        .form(&[("csrf_token", "x"), ("password", PASSWORD)])
        .send()
        .await
        .expect("answers");
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    (status, content_type, response.text().await.expect("body"))
}

async fn the_console_answers_as_an_unknown_page_to_everyone_but_operators(backend: Backend) {
    let app = spawn_app(backend).await;
    let signed_out = new_browser();
    let subscriber = new_browser();
    app.sign_up_as(&subscriber, "sub@example.com").await;
    // An operator's own session, elsewhere, changes nothing for the others.
    app.sign_up("op@example.com").await;
    app.grant_operator("op@example.com").await;

    // Every registered route is walked, so a route added without the guard fails here.
    assert!(captionfeed::web::admin::ROUTES.len() >= 6);
    for (who, client) in [("signed out", &signed_out), ("subscriber", &subscriber)] {
        for method in METHODS {
            let unknown = answer(client, &app, method, "/no-such-page").await;
            assert_eq!(unknown.0, 404);
            for path in console_paths() {
                let got = answer(client, &app, method, &path).await;
                assert_eq!(got, unknown, "{who}: {method} {path}");
            }
        }
    }
}
on_both_backends!(the_console_answers_as_an_unknown_page_to_everyone_but_operators);

/// Types the password on the confirmation page, as an operator does.
async fn confirm_password(app: &TestApp, password: &str, next: &str) -> reqwest::Response {
    let page = format!("/admin/confirm?next={}", urlencode(next));
    app.submit(
        &page,
        "/admin/confirm",
        &[("password", password), ("next", next)],
    )
    .await
}

fn urlencode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

async fn operators_type_their_password_again_every_15_minutes(backend: Backend) {
    let app = spawn_app(backend).await;
    app.sign_up("op@example.com").await;
    // Not yet an operator: nothing there.
    assert_eq!(app.get("/admin").await.status().as_u16(), 404);
    app.grant_operator("op@example.com").await;

    let first = app.get("/admin/audit").await;
    assert_eq!(first.status().as_u16(), 303);
    assert_eq!(location(&first), "/admin/confirm?next=%2Fadmin%2Faudit");
    let wrong = confirm_password(&app, "not my password at all", "/admin/audit").await;
    assert_eq!(wrong.status().as_u16(), 422);
    assert!(wrong
        .text()
        .await
        .expect("body")
        .contains("not your password"));
    assert_eq!(
        app.get("/admin").await.status().as_u16(),
        303,
        "still closed"
    );

    let right = confirm_password(&app, PASSWORD, "/admin/audit").await;
    assert_eq!(right.status().as_u16(), 303);
    assert_eq!(location(&right), "/admin/audit");
    assert_eq!(app.get("/admin").await.status().as_u16(), 200);
    // Each registered page answers the operator.
    for (method, path) in captionfeed::web::admin::ROUTES {
        if *method == "GET" {
            assert_eq!(app.get(path).await.status().as_u16(), 200, "{path}");
        }
    }
    // Fifteen minutes on, the password again.
    let sixteen_minutes_ago = (chrono::Utc::now() - chrono::Duration::minutes(16))
        .format("%Y-%m-%d %H:%M:%S")
        .to_string();
    app.sql(&format!(
        "UPDATE sessions SET password_confirmed_at = '{sixteen_minutes_ago}'"
    ))
    .await;
    let stale = app.get("/admin").await;
    assert_eq!(stale.status().as_u16(), 303, "16 minutes later");
    assert_eq!(location(&stale), "/admin/confirm?next=%2Fadmin");
    // The way back never leaves the console.
    let outside = confirm_password(&app, PASSWORD, "//evil.example/").await;
    assert_eq!(location(&outside), "/admin");

    // Revoked: the console is gone, even with a fresh password entry.
    app.db
        .run(|conn| captionfeed::operators::revoke(conn, "op@example.com"))
        .await
        .expect("revoked");
    assert_eq!(app.get("/admin").await.status().as_u16(), 404);
}
on_both_backends!(operators_type_their_password_again_every_15_minutes);

async fn operator_actions_are_written_to_the_audit_table(backend: Backend) {
    let app = spawn_app(backend).await;
    app.sign_up_as(&new_browser(), "sub@example.com").await;
    app.sign_up("op@example.com").await;
    app.grant_operator("op@example.com").await;
    confirm_password(&app, PASSWORD, "/admin").await;

    let missing = app.get("/admin/accounts?email=nobody%40example.com").await;
    assert_eq!(missing.status().as_u16(), 404);
    assert!(missing
        .text()
        .await
        .expect("body")
        .contains("No account has this address"));

    let page = app
        .get_html("/admin/accounts?email=sub%40example.com")
        .await;
    assert!(page.contains("sub@example.com"), "{page}");
    let sub_id = between(&page, "<dt>Account id</dt><dd><code>", "</code>");
    let mails_before = app
        .sql_count(&format!(
            "SELECT count(*) AS n FROM outgoing_mail WHERE user_id = '{sub_id}'"
        ))
        .await;
    // The sign-up's own link went minutes ago; an operator's resend is a fresh one.
    app.sql("UPDATE mail_limits SET last_queued_at = '2026-01-01 00:00:00'")
        .await;
    let resent = app
        .submit(
            "/admin/accounts?email=sub%40example.com",
            &format!("/admin/accounts/{sub_id}/resend-verification"),
            &[],
        )
        .await;
    assert_eq!(resent.status().as_u16(), 303);
    assert_eq!(
        app.sql_count(&format!(
            "SELECT count(*) AS n FROM outgoing_mail WHERE user_id = '{sub_id}'"
        ))
        .await,
        mails_before + 1
    );

    let op_id = app.get_html("/admin/accounts?email=op%40example.com").await;
    let op_id = between(&op_id, "<dt>Account id</dt><dd><code>", "</code>").to_string();
    // grant (command line), two looks at sub, the resend, one look at op; the miss is not
    // an action on anyone.
    let rows = |action: &str, account: &str, operator: Option<&str>| {
        let operator = match operator {
            Some(id) => format!("operator_id = '{id}'"),
            None => "operator_id IS NULL".to_string(),
        };
        format!(
            "SELECT count(*) AS n FROM admin_audit WHERE action = '{action}' \
             AND account_id = '{account}' AND {operator}"
        )
    };
    assert_eq!(
        app.sql_count(&rows("operator.grant", &op_id, None)).await,
        1
    );
    assert_eq!(
        app.sql_count(&rows("account.view", sub_id, Some(&op_id)))
            .await,
        2
    );
    assert_eq!(
        app.sql_count(&rows("account.resend_verification", sub_id, Some(&op_id)))
            .await,
        1
    );
    assert_eq!(
        app.sql_count("SELECT count(*) AS n FROM admin_audit").await,
        5
    );
    let log = app.get_html("/admin/audit").await;
    assert!(log.contains("account.resend_verification"), "{log}");
    assert!(log.contains(sub_id));

    // Another account's id that does not exist: nothing done, nothing recorded.
    let nobody = app
        .submit(
            "/admin/confirm",
            "/admin/accounts/nope/resend-verification",
            &[],
        )
        .await;
    assert_eq!(nobody.status().as_u16(), 404);
    assert_eq!(
        app.sql_count("SELECT count(*) AS n FROM admin_audit").await,
        5
    );
}
on_both_backends!(operator_actions_are_written_to_the_audit_table);

fn between<'a>(text: &'a str, start: &str, end: &str) -> &'a str {
    let from = text
        .find(start)
        .unwrap_or_else(|| panic!("{start} in {text}"))
        + start.len();
    let to = text[from..].find(end).expect("end") + from;
    &text[from..to]
}

/// The text of `<dd id="ID">…</dd>` on a page, tags inside left out.
fn figure(html: &str, id: &str) -> String {
    let inner = between(html, &format!("<dd id=\"{id}\">"), "</dd>");
    let mut text = String::new();
    let mut in_tag = false;
    for c in inner.chars() {
        match c {
            '<' => in_tag = true,
            '>' => in_tag = false,
            c if !in_tag => text.push(c),
            _ => {}
        }
    }
    text.trim().to_string()
}

/// The rows of the table with `id`, as their cells' texts.
fn table_rows(html: &str, id: &str) -> Vec<Vec<String>> {
    let table = between(html, &format!("id=\"{id}\""), "</table>");
    let body = between(table, "<tbody>", "</tbody>");
    body.split("<tr>")
        .skip(1)
        .map(|row| {
            row.split("<td>")
                .skip(1)
                .map(|cell| {
                    let cell = cell.split("</td>").next().unwrap_or_default();
                    let mut text = String::new();
                    let mut in_tag = false;
                    for c in cell.chars() {
                        match c {
                            '<' => in_tag = true,
                            '>' => in_tag = false,
                            c if !in_tag => text.push(c),
                            _ => {}
                        }
                    }
                    text.trim().to_string()
                })
                .collect()
        })
        .collect()
}

pub(crate) fn stamp(at: chrono::DateTime<chrono::Utc>) -> String {
    at.format("%Y-%m-%d %H:%M:%S").to_string()
}

/// Moves an account's Stripe state as a webhook would, at `when`.
pub(crate) async fn stripe_state(
    app: &TestApp,
    email: &str,
    plan: &str,
    status: &str,
    when: chrono::DateTime<chrono::Utc>,
) {
    use captionfeed::billing::account;
    let plans = app
        .settings
        .billing
        .as_ref()
        .expect("billing on")
        .plans
        .clone();
    let (email, plan, status) = (email.to_string(), plan.to_string(), status.to_string());
    app.db
        .run(move |conn| {
            let parsed = captionfeed::accounts::validate::Email::parse(&email).expect("email");
            let user = captionfeed::accounts::users::find_by_email(conn, &parsed)
                .map_err(|e| captionfeed::db::DbError::Pool(e.to_string()))?
                .expect("account")
                .user_id();
            let previous = account::ensure(conn, &user, &plans, captionfeed::db::now())?;
            let state = account::NewState {
                subscription_id: "sub_test",
                plan: &plan,
                status: &status,
                state_at: when.naive_utc(),
            };
            account::store_state(conn, &user, &previous, &state, when.naive_utc())?;
            Ok::<_, captionfeed::db::DbError>(())
        })
        .await
        .expect("state stored");
}

async fn the_business_at_a_glance_counts_what_the_test_made(backend: Backend) {
    let plans = captionfeed::billing::Plans::parse(
        captionfeed::billing::plans::DEFAULT_PLANS,
        &[
            ("pro", Some("price_pro".into())),
            ("business", Some("price_business".into())),
        ],
    )
    .expect("plans");
    let app = crate::helpers::spawn_app_with(backend, |s| {
        s.billing = Some(captionfeed::config::BillingSettings {
            secret_key: captionfeed::config::Secret::new("sk_test_unused"),
            webhook_secrets: vec![captionfeed::config::Secret::new("whsec_unused")],
            // Nothing here calls Stripe.
            api_base: url::Url::parse("http://127.0.0.1:9/").expect("url"),
            plans,
        })
    })
    .await;
    for who in ["a", "b", "c", "d", "e", "f"] {
        app.sign_up_as(&new_browser(), &format!("{who}@example.com"))
            .await;
    }
    app.api_token("f@example.com").await;
    app.sign_up("op@example.com").await;
    app.grant_operator("op@example.com").await;

    let now = chrono::Utc::now();
    let days = |n: i64| now - chrono::Duration::days(n);
    // a signed up three days ago and was last seen ten days ago; f's last sign-in was 40
    // days ago but its API token was used 20 days ago.
    app.sql(&format!(
        "UPDATE users SET created_at = '{}' WHERE email = 'a@example.com'",
        stamp(days(3))
    ))
    .await;
    for (who, when) in [("a", days(10)), ("f", days(40))] {
        app.sql(&format!(
            "UPDATE sessions SET created_at = '{}' WHERE user_id = (SELECT id FROM users WHERE email = '{who}@example.com')",
            stamp(when)
        ))
        .await;
    }
    app.sql(&format!(
        "UPDATE api_tokens SET last_used_at = '{}'",
        stamp(days(20))
    ))
    .await;

    // b: upgrades this week. c: Pro two weeks ago, Business this week. d: Pro three weeks
    // ago, payment failed yesterday (past due, in grace). e: Pro last week, cancelled this
    // week. f: Business four weeks ago, down to Pro this week.
    stripe_state(&app, "b@example.com", "pro", "active", now).await;
    stripe_state(&app, "c@example.com", "pro", "active", days(14)).await;
    stripe_state(&app, "c@example.com", "business", "active", now).await;
    stripe_state(&app, "d@example.com", "pro", "active", days(21)).await;
    stripe_state(&app, "d@example.com", "pro", "past_due", days(1)).await;
    stripe_state(&app, "e@example.com", "pro", "active", days(7)).await;
    stripe_state(&app, "e@example.com", "pro", "canceled", now).await;
    stripe_state(&app, "f@example.com", "business", "active", days(28)).await;
    stripe_state(&app, "f@example.com", "pro", "active", now).await;

    confirm_password(&app, PASSWORD, "/admin").await;
    let page = app.get_html("/admin").await;
    assert_eq!(figure(&page, "accounts"), "7");
    assert_eq!(figure(&page, "signups-30"), "7");
    // op, b, c, d, e signed in now; a ten days ago; f used its token 20 days ago.
    assert_eq!(figure(&page, "active-7"), "5");
    assert_eq!(figure(&page, "active-30"), "7");
    let per_day = table_rows(&page, "signups-per-day");
    assert_eq!(
        per_day,
        vec![
            vec![days(3).date_naive().to_string(), "1".to_string()],
            vec![now.date_naive().to_string(), "6".to_string()],
        ]
    );
    // Pro: b, d (in grace), f = 3 × 9.00; Business: c = 29.00.
    assert_eq!(
        table_rows(&page, "plans"),
        vec![
            vec!["Free".to_string(), "3".into(), "0.00".into()],
            vec!["Pro".to_string(), "3".into(), "27.00".into()],
            vec!["Business".to_string(), "1".into(), "29.00".into()],
        ]
    );
    assert_eq!(figure(&page, "mrr"), "56.00");
    let weeks = table_rows(&page, "plan-changes");
    assert_eq!(weeks.len(), 8);
    let counts: Vec<Vec<String>> = weeks.iter().map(|w| w[1..].to_vec()).collect();
    let row = |u: &str, d: &str, c: &str| vec![u.to_string(), d.to_string(), c.to_string()];
    assert_eq!(
        counts[3..],
        [
            row("1", "0", "0"), // f: Business, four weeks ago
            row("1", "0", "0"), // d
            row("1", "0", "0"), // c
            row("1", "0", "0"), // e
            row("2", "1", "1"), // b, c up; f down; e cancelled
        ],
        "{weeks:?}"
    );
    assert_eq!(figure(&page, "past-due-count"), "1");
    let past_due = table_rows(&page, "past-due");
    assert_eq!(past_due.len(), 1);
    assert_eq!(past_due[0][0], "d@example.com");
    assert!(
        page.contains("<svg class=\"chart\""),
        "charts drawn on the server"
    );
    // The charts need no script: the only one on the page is the app's own, in every page.
    assert_eq!(page.matches("<script").count(), 1);
    assert!(page.contains("<script src=\"/assets/app.js\" defer>"));
}
on_both_backends!(the_business_at_a_glance_counts_what_the_test_made);

async fn system_health_counts_and_links_to_the_rows_behind_each_number(backend: Backend) {
    use crate::helpers::{rss, FeedServer};
    let feeds = FeedServer::start().await;
    let app = spawn_app(backend).await;
    let sub = new_browser();
    app.sign_up_as(&sub, "sub@example.com").await;
    let ok = feeds.set("/ok.xml", "application/rss+xml", rss("Fine", &[("a", "A")]));
    app.add_feed_as(&sub, &ok).await;
    for path in ["/down-1.xml", "/down-2.xml"] {
        app.add_feed_as(&sub, &feeds.set_status(path, 500, "text/plain", "no"))
            .await;
    }
    // An address that answers 404 is refused when added: this one dies after it was followed.
    let gone = feeds.set(
        "/gone.xml",
        "application/rss+xml",
        rss("Gone", &[("g", "G")]),
    );
    app.add_feed_as(&sub, &gone).await;
    feeds.set_status("/gone.xml", 404, "text/plain", "no");
    let hook = feeds.set_status("/hook", 500, "text/plain", "refused");
    let added = app
        .submit_as(
            &sub,
            "/settings/webhooks",
            "/settings/webhooks",
            &[("url", &hook)],
        )
        .await;
    assert_eq!(added.status().as_u16(), 201);
    app.make_all_due().await;
    app.poll().await;
    captionfeed::webhooks::Webhooks::new(app.db.clone(), &app.settings)
        .expect("webhooks")
        .run_once()
        .await
        .expect("deliveries tried");
    app.sql("UPDATE outgoing_mail SET sent_at = NULL, last_error = 'smtp: connection refused', attempts = 2")
        .await;

    app.sign_up("op@example.com").await;
    app.grant_operator("op@example.com").await;
    confirm_password(&app, PASSWORD, "/admin/health").await;
    let page = app.get_html("/admin/health").await;
    assert_eq!(figure(&page, "failing-feeds"), "3");
    assert_eq!(
        table_rows(&page, "by-cause"),
        vec![
            vec!["HTTP 500".to_string(), "2".into()],
            vec!["HTTP 404".to_string(), "1".into()]
        ]
    );
    assert_eq!(
        table_rows(&page, "by-host"),
        vec![vec!["127.0.0.1".to_string(), "3".into()]]
    );
    // sub's verification mail failed; op's own went out.
    assert_eq!(figure(&page, "mail-failing"), "1");
    assert!(
        figure(&page, "webhooks-failing")
            .parse::<i64>()
            .expect("a number")
            >= 1
    );

    // Each number leads to its rows.
    let link = between(&page, "<td><a href=\"", "\"").replace("&amp;", "&");
    let rows = app.get_html(&link).await;
    assert_eq!(table_rows(&rows, "rows").len(), 2, "{link}: {rows}");
    assert!(rows.contains("/down-1.xml") && !rows.contains("/gone.xml"));
    let mail = app.get_html("/admin/health/mail").await;
    let mail_rows = table_rows(&mail, "rows");
    assert_eq!(mail_rows.len(), 1);
    assert_eq!(mail_rows[0][1], "sub@example.com");
    let retry = between(&mail, "<form method=\"post\" action=\"", "\"").to_string();
    let retried = app.submit("/admin/health/mail", &retry, &[]).await;
    assert_eq!(retried.status().as_u16(), 303);
    assert_eq!(
        app.sql_count("SELECT count(*) AS n FROM admin_audit WHERE action = 'mail.retry' AND account_id IS NOT NULL")
            .await,
        1
    );
    let hooks = app.get_html("/admin/health/webhooks").await;
    let resend = between(&hooks, "<form method=\"post\" action=\"", "\"").to_string();
    let resent = app.submit("/admin/health/webhooks", &resend, &[]).await;
    assert_eq!(resent.status().as_u16(), 303);
    assert_eq!(
        app.sql_count("SELECT count(*) AS n FROM admin_audit WHERE action = 'webhook.retry'")
            .await,
        1
    );
    // Unknown rows: nothing done, nothing recorded.
    for action in ["/admin/mail/nope/retry", "/admin/webhooks/nope/retry"] {
        let missing = app.submit("/admin/confirm", action, &[]).await;
        assert_eq!(missing.status().as_u16(), 404, "{action}");
    }
    assert_eq!(
        app.sql_count("SELECT count(*) AS n FROM admin_audit WHERE action LIKE '%.retry'")
            .await,
        2
    );
}
on_both_backends!(system_health_counts_and_links_to_the_rows_behind_each_number);

async fn stopping_a_blog_or_a_host_stops_it_for_everyone_with_a_note(backend: Backend) {
    use crate::helpers::{rss, FeedServer};
    let feeds = FeedServer::start().await;
    let other_host = FeedServer::start().await;
    let app = spawn_app(backend).await;
    let ann = new_browser();
    let bob = new_browser();
    app.sign_up_as(&ann, "ann@example.com").await;
    app.sign_up_as(&bob, "bob@example.com").await;
    let asked = feeds.set(
        "/asked.xml",
        "application/rss+xml",
        rss("Asked", &[("a", "A")]),
    );
    let sibling = feeds.set(
        "/sibling.xml",
        "application/rss+xml",
        rss("Sibling", &[("s", "S")]),
    );
    // "localhost" is another host name for the same server: not stopped with 127.0.0.1.
    let elsewhere = other_host
        .set(
            "/else.xml",
            "application/rss+xml",
            rss("Else", &[("e", "E")]),
        )
        .replace("127.0.0.1", "localhost");
    let ann_page = app.add_feed_as(&ann, &asked).await;
    app.add_feed_as(&bob, &asked).await;
    app.add_feed_as(&bob, &sibling).await;
    app.add_feed_as(&bob, &elsewhere).await;
    app.make_all_due().await;
    app.poll().await;

    app.sign_up("op@example.com").await;
    app.grant_operator("op@example.com").await;
    confirm_password(&app, PASSWORD, "/admin/health").await;
    let stopped = app
        .submit(
            "/admin/health",
            "/admin/feeds/stop",
            &[("url", &asked), ("note", "The author asked us to stop.")],
        )
        .await;
    assert_eq!(stopped.status().as_u16(), 200);
    let page = app.get_html_as(&ann, &ann_page).await;
    assert!(page.contains("The author asked us to stop."), "{page}");
    assert!(!page.contains("Check now"));
    assert!(app
        .get_html_as(&bob, "/feeds")
        .await
        .contains("The author asked us to stop."));
    let unknown = app
        .submit(
            "/admin/health",
            "/admin/feeds/stop",
            &[("url", "https://nowhere.example/feed"), ("note", "x")],
        )
        .await;
    assert_eq!(unknown.status().as_u16(), 404);

    let host = app
        .submit(
            "/admin/health",
            "/admin/hosts/stop",
            &[("host", "127.0.0.1"), ("note", "The host asked.")],
        )
        .await;
    assert_eq!(host.status().as_u16(), 200);
    let listed = host.text().await.expect("body");
    assert!(
        listed.contains(&sibling) && !listed.contains(&elsewhere),
        "{listed}"
    );

    // Due again, only the feed on the other host is fetched.
    let hits = |s: &FeedServer, p: &str| s.hits(p);
    let before = (
        hits(&feeds, "/asked.xml"),
        hits(&feeds, "/sibling.xml"),
        hits(&other_host, "/else.xml"),
    );
    app.make_all_due().await;
    app.poll().await;
    let after = (
        hits(&feeds, "/asked.xml"),
        hits(&feeds, "/sibling.xml"),
        hits(&other_host, "/else.xml"),
    );
    assert_eq!(
        (after.0, after.1),
        (before.0, before.1),
        "stopped feeds are not fetched"
    );
    assert_eq!(after.2, before.2 + 1);
    assert_eq!(
        app.sql_count(
            "SELECT count(*) AS n FROM admin_audit WHERE action IN ('feed.stop', 'host.stop')"
        )
        .await,
        2
    );
}
on_both_backends!(stopping_a_blog_or_a_host_stops_it_for_everyone_with_a_note);
