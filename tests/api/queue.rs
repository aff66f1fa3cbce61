//! The posting queue through its pages: feeds join it at once or after review, captions
//! are moved up, pinned to now or skipped, plans are checked, and another account's ids
//! are not found.

use crate::helpers::{new_browser, rss, spawn_app, Backend, FeedServer, TestApp};
use crate::on_both_backends;

/// The caption ids in one platform's section of the queue page, in order.
pub(crate) fn queued_on(html: &str, platform: &str) -> Vec<String> {
    let Some(section) = html
        .split(&format!(r#"<h2 id="queue-{platform}">"#))
        .nth(1)
        .and_then(|rest| rest.split("</section>").next())
    else {
        return Vec::new();
    };
    section
        .split(r#"<li class="queue-item" id="q-"#)
        .skip(1)
        .filter_map(|rest| rest.split('"').next().map(str::to_string))
        .collect()
}

fn under_review(html: &str) -> Vec<String> {
    html.split(r#"<li class="queue-item" id="r-"#)
        .skip(1)
        .filter_map(|rest| rest.split('"').next().map(str::to_string))
        .collect()
}

fn subscription_id(html: &str) -> String {
    html.split(r#"action="/queue/feeds/"#)
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("a feed's mode form")
        .to_string()
}

/// Makes new captions of the account's first feed join the queue at once, through the
/// queue page's form.
pub(crate) async fn join_at_once(app: &TestApp, browser: &reqwest::Client) {
    let page = app.get_html_as(browser, "/queue").await;
    let subscription = subscription_id(&page);
    let answer = app
        .submit_as(
            browser,
            "/queue",
            &format!("/queue/feeds/{subscription}"),
            &[("mode", "auto")],
        )
        .await;
    assert_eq!(answer.status().as_u16(), 303);
}

async fn status_of(app: &TestApp, action: &str, fields: &[(&str, &str)]) -> u16 {
    app.submit("/queue", action, fields).await.status().as_u16()
}

async fn captions_join_the_queue_and_can_be_reordered_pinned_and_skipped(backend: Backend) {
    let feeds = FeedServer::start().await;
    let url = feeds.set(
        "/feed.xml",
        "application/rss+xml",
        rss("Blog", &[("p1", "One")]),
    );
    let app = spawn_app(backend).await;
    app.sign_up("ann@example.com").await;
    app.add_feed(&url).await;
    app.poll().await;

    let page = app.get_html("/queue").await;
    assert!(page.contains("Nothing is queued"), "{page}");
    let subscription = subscription_id(&page);

    // Auto: captions made from now on join the queue; the first post's stay on the desk.
    assert_eq!(
        status_of(
            &app,
            &format!("/queue/feeds/{subscription}"),
            &[("mode", "auto")]
        )
        .await,
        303
    );
    feeds.set(
        "/feed.xml",
        "application/rss+xml",
        rss("Blog", &[("p3", "Three"), ("p2", "Two"), ("p1", "One")]),
    );
    app.make_all_due().await;
    app.poll().await;
    let page = app.get_html("/queue").await;
    let x = queued_on(&page, "x");
    assert_eq!(x.len(), 2, "{page}");
    assert_eq!(queued_on(&page, "bluesky").len(), 2);
    assert!(
        page.contains("2 captions queued; the queue reaches"),
        "{page}"
    );

    // Move the second X caption up.
    assert_eq!(
        status_of(&app, &format!("/queue/{}/up", x[1]), &[]).await,
        303
    );
    let page = app.get_html("/queue").await;
    assert_eq!(queued_on(&page, "x"), vec![x[1].clone(), x[0].clone()]);

    // Post the (now) second one now: it goes first, pinned.
    assert_eq!(
        status_of(&app, &format!("/queue/{}/now", x[0]), &[]).await,
        303
    );
    let page = app.get_html("/queue").await;
    assert_eq!(queued_on(&page, "x"), vec![x[0].clone(), x[1].clone()]);
    assert!(page.contains("posting now"), "{page}");

    // Skip one: it leaves the queue and stays on the desk.
    assert_eq!(
        status_of(&app, &format!("/queue/{}/skip", x[0]), &[]).await,
        303
    );
    let page = app.get_html("/queue").await;
    assert_eq!(queued_on(&page, "x"), vec![x[1].clone()]);
    assert!(app
        .get_html("/captions")
        .await
        .contains(&format!("c-{}", x[0])));

    // Review: the next post's captions wait for a word, then join when approved.
    assert_eq!(
        status_of(
            &app,
            &format!("/queue/feeds/{subscription}"),
            &[("mode", "review")]
        )
        .await,
        303
    );
    feeds.set(
        "/feed.xml",
        "application/rss+xml",
        rss(
            "Blog",
            &[
                ("p4", "Four"),
                ("p3", "Three"),
                ("p2", "Two"),
                ("p1", "One"),
            ],
        ),
    );
    app.make_all_due().await;
    app.poll().await;
    let page = app.get_html("/queue").await;
    let waiting = under_review(&page);
    assert_eq!(waiting.len(), 7, "{page}");
    assert_eq!(queued_on(&page, "x"), vec![x[1].clone()]);
    for id in &waiting {
        assert_eq!(
            status_of(&app, &format!("/queue/{id}/approve"), &[]).await,
            303
        );
    }
    let page = app.get_html("/queue").await;
    assert!(under_review(&page).is_empty());
    assert_eq!(queued_on(&page, "x").len(), 2);

    // Another account sees none of it, and its buttons find nothing of Ann's.
    let bob = new_browser();
    app.sign_up_as(&bob, "bob@example.com").await;
    let bobs = app.get_as(&bob, "/queue").await.text().await.expect("body");
    assert!(bobs.contains("Nothing is queued"), "{bobs}");
    for action in ["up", "now", "skip", "approve"] {
        let answer = app
            .submit_as(&bob, "/queue", &format!("/queue/{}/{action}", x[1]), &[])
            .await;
        assert_eq!(answer.status().as_u16(), 404, "{action}");
    }
    let answer = app
        .submit_as(
            &bob,
            "/queue",
            &format!("/queue/feeds/{subscription}"),
            &[("mode", "off")],
        )
        .await;
    assert_eq!(answer.status().as_u16(), 404);
    assert_eq!(queued_on(&app.get_html("/queue").await, "x").len(), 2);
}
on_both_backends!(captions_join_the_queue_and_can_be_reordered_pinned_and_skipped);

async fn a_plan_is_checked_and_then_used(backend: Backend) {
    let app = spawn_app(backend).await;
    app.sign_up("ann@example.com").await;
    let form = app.get_html("/queue/plans/bluesky").await;
    assert!(
        form.contains(r#"value="09:30 17:30""#),
        "the default plan: {form}"
    );

    let mut fields = vec![
        ("time_zone", "Europe/Berlin"),
        ("mon", "08:00 12:00"),
        ("tue", ""),
        ("wed", ""),
        ("thu", ""),
        ("fri", ""),
        ("sat", "25:00"),
        ("sun", ""),
        ("max_per_day", "3"),
        ("min_spacing_minutes", "30"),
        ("quiet_dates", "2026-12-24"),
    ];
    let refused = app
        .submit("/queue/plans/bluesky", "/queue/plans/bluesky", &fields)
        .await;
    assert_eq!(refused.status().as_u16(), 422);
    let page = refused.text().await.expect("body");
    assert!(
        page.contains("&#34;25:00&#34; is not a time") || page.contains("\"25:00\" is not a time"),
        "{page}"
    );
    assert!(page.contains(r#"value="25:00""#), "kept as typed: {page}");

    fields[6] = ("sat", "");
    let saved = app
        .submit("/queue/plans/bluesky", "/queue/plans/bluesky", &fields)
        .await;
    assert_eq!(saved.status().as_u16(), 303);
    let form = app.get_html("/queue/plans/bluesky").await;
    assert!(form.contains(r#"value="08:00 12:00""#), "{form}");
    assert!(form.contains(r#"value="Europe/Berlin""#));
    assert!(form.contains(r#"value="2026-12-24""#));
    assert_eq!(app.get("/queue/plans/myspace").await.status().as_u16(), 404);
}
on_both_backends!(a_plan_is_checked_and_then_used);

/// Every `label: address` line of a digest's text part with this label.
fn links_labelled(text: &str, label: &str) -> Vec<String> {
    text.lines()
        .filter_map(|line| line.strip_prefix(&format!("{label}: ")))
        .map(str::to_string)
        .collect()
}

async fn a_digests_signed_links_approve_skip_and_snooze_once(backend: Backend) {
    use crate::digests::{later, part, sender, set_frequency, user_id, verify};
    use captionfeed::digests::schedule::Frequency;

    let app = spawn_app(backend).await;
    let feeds = FeedServer::start().await;
    let smtp = crate::smtp::SmtpServer::start().await;
    let browser = new_browser();
    app.sign_up_as(&browser, "reader@example.com").await;
    let user = user_id(&app, "reader@example.com").await;
    verify(&app, &user).await;
    set_frequency(&app, &user, Frequency::Batched { minutes: 5 }).await;
    let url = feeds.set(
        "/r.xml",
        "application/rss+xml",
        rss("Blog", &[("p1", "One")]),
    );
    app.add_feed_as(&browser, &url).await;
    app.poll().await;
    sender(&app, &smtp.url())
        .await
        .run_once_at(later(10))
        .await
        .expect("the digest goes out");
    let text = part(&smtp.messages()[0], "text/plain");
    let approve = links_labelled(&text, "Add to the queue");
    let skip = links_labelled(&text, "Skip");
    let snooze = links_labelled(&text, "Ask me tomorrow");
    assert_eq!(
        (approve.len(), skip.len(), snooze.len()),
        (7, 7, 7),
        "{text}"
    );

    // Opened by a stranger's browser (or a mail scanner): a button, nothing done yet.
    let stranger = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let opened = stranger.get(&approve[0]).send().await.expect("answers");
    assert_eq!(opened.status().as_u16(), 200);
    assert!(opened
        .text()
        .await
        .expect("body")
        .contains("<button type=\"submit\">Add to the queue</button>"));
    let queued = |html: &str| html.matches(r#"<li class="queue-item" id="q-"#).count();
    assert_eq!(
        queued(&app.get_as(&browser, "/queue").await.text().await.unwrap()),
        0
    );

    // Tampered: refused with a page that says so, nothing done.
    let tampered = format!("{}A", &approve[0][..approve[0].len() - 1]);
    let tampered = if tampered == approve[0] {
        format!("{}B", &approve[0][..approve[0].len() - 1])
    } else {
        tampered
    };
    let refused = stranger.post(&tampered).send().await.expect("answers");
    assert_eq!(refused.status().as_u16(), 404);
    assert!(refused
        .text()
        .await
        .unwrap()
        .contains("This link does not work"));
    // Another caption's signature on this caption's address: refused too.
    let (approve_path, _) = approve[0].rsplit_once('/').unwrap();
    let (_, other_signature) = approve[1].rsplit_once('/').unwrap();
    let swapped = stranger
        .post(format!("{approve_path}/{other_signature}"))
        .send()
        .await
        .unwrap();
    assert_eq!(swapped.status().as_u16(), 404);

    // One click approves; the same link again is refused as used.
    let done = stranger.post(&approve[0]).send().await.expect("answers");
    assert_eq!(done.status().as_u16(), 200);
    assert!(done.text().await.unwrap().contains("in your queue"));
    assert_eq!(
        queued(&app.get_as(&browser, "/queue").await.text().await.unwrap()),
        1
    );
    let again = stranger.post(&approve[0]).send().await.unwrap();
    assert_eq!(again.status().as_u16(), 409);
    assert!(again.text().await.unwrap().contains("already queued"));
    // ...and so is its skip link: the caption is decided.
    assert_eq!(
        stranger
            .post(&skip[0])
            .send()
            .await
            .unwrap()
            .status()
            .as_u16(),
        409
    );

    // Skip another; snooze a third, which can still be approved later but not snoozed twice.
    assert_eq!(
        stranger
            .post(&skip[1])
            .send()
            .await
            .unwrap()
            .status()
            .as_u16(),
        200
    );
    assert_eq!(
        stranger
            .post(&approve[1])
            .send()
            .await
            .unwrap()
            .status()
            .as_u16(),
        409
    );
    assert_eq!(
        stranger
            .post(&snooze[2])
            .send()
            .await
            .unwrap()
            .status()
            .as_u16(),
        200
    );
    assert_eq!(
        stranger
            .post(&snooze[2])
            .send()
            .await
            .unwrap()
            .status()
            .as_u16(),
        409
    );
    assert_eq!(
        stranger
            .post(&approve[2])
            .send()
            .await
            .unwrap()
            .status()
            .as_u16(),
        200
    );
    assert_eq!(
        queued(&app.get_as(&browser, "/queue").await.text().await.unwrap()),
        2
    );

    // Expired: a genuine signature with a past expiry.
    let settings = app.settings.clone();
    let key = app
        .db
        .run(move |conn| captionfeed::web::secret::load_signing_key(conn, &settings))
        .await
        .expect("the key");
    let caption = approve[3]
        .split("/queue/mail/")
        .nth(1)
        .and_then(|rest| rest.split('/').next())
        .expect("the caption id");
    let old = captionfeed::queue::links::path(
        &key,
        &captionfeed::desk::CaptionId::from(caption),
        captionfeed::queue::links::LinkAction::Approve,
        chrono::Utc::now().timestamp() - 60,
    );
    let expired = stranger
        .post(app.url(&format!("/{old}")))
        .send()
        .await
        .unwrap();
    assert_eq!(expired.status().as_u16(), 410);
    assert!(expired.text().await.unwrap().contains("expired"));
}
on_both_backends!(a_digests_signed_links_approve_skip_and_snooze_once);

/// Showing the queue only reads: captions waiting to be admitted (here, a feed switched to
/// "join at once" as if long ago) are admitted by the publisher's pass, not by GET /queue.
async fn the_queue_page_only_reads_and_the_publisher_admits(backend: Backend) {
    let app = spawn_app(backend).await;
    let feeds = FeedServer::start().await;
    app.sign_up("ann@example.com").await;
    app.add_feed(&feeds.set(
        "/r.xml",
        "application/rss+xml",
        rss("Blog", &[("p1", "One")]),
    ))
    .await;
    app.poll().await;
    app.sql("UPDATE subscriptions SET queue_mode = 'auto', queue_since = '2000-01-01 00:00:00'")
        .await;
    let entries = "SELECT COUNT(*) AS n FROM queue_entries";
    let page = app.get_html("/queue").await;
    assert!(queued_on(&page, "bluesky").is_empty(), "{page}");
    assert_eq!(app.sql_count(entries).await, 0, "GET /queue wrote nothing");

    let report = crate::publishing::publisher(&app)
        .await
        .run_once()
        .await
        .expect("a pass");
    assert_eq!(report.admitted, 7, "{report:?}");
    let page = app.get_html("/queue").await;
    assert_eq!(queued_on(&page, "bluesky").len(), 1, "{page}");
}
on_both_backends!(the_queue_page_only_reads_and_the_publisher_admits);
