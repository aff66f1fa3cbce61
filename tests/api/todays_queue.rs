//! The digest as "today's queue": chosen in Settings, it lists what goes out today, per
//! platform, at its time, through the real SMTP server, with the signed one-click links
//! under each caption: skip and snooze take a queued caption out once, a used or tampered
//! link is refused.

use chrono::Timelike;

use crate::digests::{later, part, sender, user_id, verify};
use crate::helpers::{new_browser, rss, spawn_app, Backend, FeedServer, TestApp};
use crate::on_both_backends;
use crate::queue::queued_on;

fn links_labelled(text: &str, label: &str) -> Vec<String> {
    text.lines()
        .filter_map(|line| line.strip_prefix(&format!("{label}: ")))
        .map(str::to_string)
        .collect()
}

/// A fixed-offset zone where it is around noon now, so that posting times of 18:00 to
/// 20:00 are today's whenever the test runs.
fn zone_at_noon() -> String {
    let offset = 12 - i64::from(chrono::Utc::now().hour());
    if offset >= 0 {
        format!("Etc/GMT-{offset}")
    } else {
        format!("Etc/GMT+{}", -offset)
    }
}

/// A verified subscriber whose digest holds today's queue for X and Bluesky, both posting
/// at 18:00, 19:00 and 20:00 in a zone where it is about noon, with three new posts of a
/// "join at once" feed queued (three captions on each).
async fn a_subscriber_with_todays_queue(app: &TestApp, feeds: &FeedServer) -> reqwest::Client {
    let browser = new_browser();
    app.sign_up_as(&browser, "reader@example.com").await;
    let user = user_id(app, "reader@example.com").await;
    verify(app, &user).await;
    let zone = zone_at_noon();

    // Settings: a digest every 5 minutes holding today's queue, for X and Bluesky.
    let saved = app
        .submit_as(
            &browser,
            "/settings",
            "/settings",
            &[
                ("frequency", "batched"),
                ("batch_minutes", "5"),
                ("weekday", "0"),
                ("hour", "8"),
                ("time_zone", zone.as_str()),
                ("platforms_shown", "1"),
                ("platform_x", "on"),
                ("platform_bluesky", "on"),
                ("contents", "queue"),
            ],
        )
        .await;
    assert_eq!(saved.status().as_u16(), 303);
    let settings = app.get_html_as(&browser, "/settings").await;
    assert!(
        settings.contains(r#"name="contents" type="radio" value="queue" checked"#),
        "{settings}"
    );
    // Both platforms post at 18:00, 19:00 and 20:00 every day.
    for platform in ["x", "bluesky"] {
        let path = format!("/queue/plans/{platform}");
        let times = "18:00 19:00 20:00";
        let answer = app
            .submit_as(
                &browser,
                &path,
                &path,
                &[
                    ("time_zone", zone.as_str()),
                    ("mon", times),
                    ("tue", times),
                    ("wed", times),
                    ("thu", times),
                    ("fri", times),
                    ("sat", times),
                    ("sun", times),
                    ("max_per_day", "3"),
                    ("min_spacing_minutes", "30"),
                    ("quiet_dates", ""),
                ],
            )
            .await;
        assert_eq!(answer.status().as_u16(), 303, "{platform}'s plan saved");
    }

    // A feed whose new captions join the queue at once, then three new posts.
    let url = feeds.set(
        "/r.xml",
        "application/rss+xml",
        rss("Blog", &[("p1", "Before the queue")]),
    );
    app.add_feed_as(&browser, &url).await;
    app.poll().await;
    crate::queue::join_at_once(app, &browser).await;
    feeds.set(
        "/r.xml",
        "application/rss+xml",
        rss(
            "Blog",
            &[
                ("p4", "Fourth post"),
                ("p3", "Third post"),
                ("p2", "Second post"),
                ("p1", "Before the queue"),
            ],
        ),
    );
    app.make_all_due().await;
    app.poll().await;
    let queue = app.get_html_as(&browser, "/queue").await;
    let bluesky = queued_on(&queue, "bluesky");
    assert_eq!(bluesky.len(), 3, "{queue}");
    browser
}

async fn the_digest_can_be_todays_queue_with_links_that_work_once(backend: Backend) {
    let app = spawn_app(backend).await;
    let feeds = FeedServer::start().await;
    let smtp = crate::smtp::SmtpServer::start().await;
    let browser = a_subscriber_with_todays_queue(&app, &feeds).await;

    sender(&app, &smtp.url())
        .await
        .run_once_at(later(10))
        .await
        .expect("the digest goes out");
    let messages = smtp.messages();
    assert_eq!(messages.len(), 1);
    let subject = messages[0].header("Subject").expect("a subject");
    assert!(
        subject.contains("Today's queue: 6 captions on X and Bluesky"),
        "{subject}"
    );
    let text = part(&messages[0], "text/plain");
    // Per platform, in the desk's order, each caption at its time with its post.
    let x_at = text.find("== X ==").expect("an X section");
    let bluesky_at = text.find("== Bluesky ==").expect("a Bluesky section");
    assert!(x_at < bluesky_at, "{text}");
    let bluesky_part = &text[bluesky_at..];
    let mut last = 0;
    for time in ["18:00 · ", "19:00 · ", "20:00 · "] {
        let at = bluesky_part
            .find(time)
            .unwrap_or_else(|| panic!("{time} in {bluesky_part}"));
        assert!(at > last, "in time order: {bluesky_part}");
        last = at;
    }
    assert!(!text.contains("Before the queue"), "not queued: {text}");
    assert!(!text.contains("== Mastodon =="), "not chosen: {text}");

    let skip = links_labelled(&text, "Skip");
    let snooze = links_labelled(&text, "Ask me tomorrow");
    let approve = links_labelled(&text, "Add to the queue");
    assert_eq!((skip.len(), snooze.len(), approve.len()), (6, 6, 6));
    let stranger = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let status = |r: reqwest::Response| r.status().as_u16();

    // Already queued: adding it again is refused as done.
    assert_eq!(
        status(stranger.post(&approve[3]).send().await.expect("answers")),
        409
    );
    // Bluesky's first caption skipped from the mail, once.
    assert_eq!(
        status(stranger.post(&skip[3]).send().await.expect("answers")),
        200
    );
    assert_eq!(
        status(stranger.post(&skip[3]).send().await.expect("answers")),
        409,
        "a used link is refused"
    );
    assert_eq!(
        status(stranger.post(&snooze[3]).send().await.expect("answers")),
        409,
        "the caption is decided since the mail went out"
    );
    // The second snoozed till tomorrow, once.
    assert_eq!(
        status(stranger.post(&snooze[4]).send().await.expect("answers")),
        200
    );
    assert_eq!(
        status(stranger.post(&snooze[4]).send().await.expect("answers")),
        409
    );
    // A tampered link does nothing.
    let tampered = format!("{}A", &skip[5][..skip[5].len() - 1]);
    let tampered = if tampered == skip[5] {
        format!("{}B", &skip[5][..skip[5].len() - 1])
    } else {
        tampered
    };
    assert_eq!(
        status(stranger.post(&tampered).send().await.expect("answers")),
        404
    );
    let queue = app.get_html_as(&browser, "/queue").await;
    assert_eq!(
        queued_on(&queue, "bluesky").len(),
        1,
        "one skipped, one snoozed, one still queued"
    );
}
on_both_backends!(the_digest_can_be_todays_queue_with_links_that_work_once);

/// "Send me a test digest now" sends what the digests hold: with today's queue chosen, the
/// captions going out today, per platform at their times, and nothing at all (a sentence
/// instead) while nothing is queued for today.
async fn a_test_digest_of_todays_queue_shows_the_queue(backend: Backend) {
    let smtp = crate::smtp::SmtpServer::start().await;
    let smtp_url = smtp.url();
    let app = crate::helpers::spawn_app_with(backend, move |s| {
        s.smtp_url = Some(captionfeed::config::Secret::new(&smtp_url));
    })
    .await;
    let feeds = FeedServer::start().await;
    let browser = a_subscriber_with_todays_queue(&app, &feeds).await;

    let sent = app
        .submit_as(&browser, "/settings", "/settings/digest/test", &[])
        .await;
    assert_eq!(sent.status().as_u16(), 303);
    let notice = app
        .get_html_as(&browser, &crate::helpers::location(&sent))
        .await;
    assert!(
        notice.contains(
            "A test digest of today&#39;s queue (3 posts) is on its way to reader@example.com."
        ),
        "{notice}"
    );
    let digests: Vec<_> = smtp
        .messages()
        .into_iter()
        .filter(|m| {
            m.header("Subject")
                .is_some_and(|s| s.contains("Today's queue"))
        })
        .collect();
    assert_eq!(digests.len(), 1);
    let text = part(&digests[0], "text/plain");
    let bluesky = &text[text.find("== Bluesky ==").expect("a Bluesky section")..];
    for time in ["18:00 · ", "19:00 · ", "20:00 · "] {
        assert!(bluesky.contains(time), "{time} in {bluesky}");
    }
    assert!(!text.contains("Before the queue"), "not queued: {text}");

    // Everything taken out of today's queue: the test digest says so and sends nothing.
    let queue = app.get_html_as(&browser, "/queue").await;
    for platform in ["x", "bluesky"] {
        for caption in queued_on(&queue, platform) {
            let path = format!("/queue/{caption}/skip");
            let skipped = app.submit_as(&browser, "/queue", &path, &[]).await;
            assert_eq!(skipped.status().as_u16(), 303, "{path}");
        }
    }
    let empty = app
        .submit_as(&browser, "/settings", "/settings/digest/test", &[])
        .await;
    assert_eq!(empty.status().as_u16(), 422);
    let sentence = empty.text().await.expect("a page");
    assert!(sentence.contains("is queued for today"), "{sentence}");
    assert_eq!(
        smtp.messages()
            .into_iter()
            .filter(|m| m
                .header("Subject")
                .is_some_and(|s| s.contains("Today's queue")))
            .count(),
        1,
        "no second test digest"
    );
}
on_both_backends!(a_test_digest_of_todays_queue_shows_the_queue);
