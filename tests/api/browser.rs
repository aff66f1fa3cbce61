//! The pages in a real browser: tests/e2e/flow.mjs drives Debian's headless Chromium through
//! a subscriber's first visit against the real app, at a desktop and a phone size, with an
//! accessibility scan of every page, and once more with JavaScript off. Screenshots land in
//! target/e2e-screenshots/.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use crate::helpers::{spawn_app_with, Backend, FeedServer};

const CHROMIUM: &str = "/usr/bin/chromium";

fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Says what is missing and how to get it, instead of skipping: a browser test that
/// silently does not run protects nothing.
fn require_browser(e2e: &Path) {
    let install =
        "run `bash .ci/install-browser` (Debian's chromium and the tests/e2e npm packages)";
    assert!(
        Path::new(CHROMIUM).exists(),
        "{CHROMIUM} is missing: {install}"
    );
    assert!(
        e2e.join("node_modules/playwright-core").exists()
            && e2e.join("node_modules/axe-core").exists(),
        "tests/e2e/node_modules is missing: {install}"
    );
    let node = Command::new("node").arg("--version").output();
    assert!(
        node.is_ok_and(|o| o.status.success()),
        "node is missing: {install}"
    );
}

/// A blog feed as a subscriber might have one: links on a real top-level domain (so every
/// platform counts them as links), summaries, categories.
fn blog_feed() -> String {
    let posts = [
        (
            "search-in-rust",
            "We rebuilt our search in Rust and cut p99 latency by 80%",
            "Two engineers, six weeks, one rewrite: what we kept from the old service, what we measured, and the three changes that mattered most.",
            "Mon, 23 Nov 2026 09:00:00 +0000",
        ),
        (
            "no-meetings",
            "Notes from a week without meetings",
            "We cancelled every recurring meeting for a week. Here is what broke, what got faster, and what we brought back.",
            "Fri, 20 Nov 2026 15:30:00 +0000",
        ),
        (
            "hiring-sre",
            "We are hiring a second SRE",
            "Remote in Europe, on call one week in six, and a say in how we run PostgreSQL at scale.",
            "Tue, 17 Nov 2026 08:00:00 +0000",
        ),
    ];
    let mut xml = String::from(
        r#"<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>Field Notes</title><link>https://fieldnotes.dev/</link><description>Engineering notes</description>"#,
    );
    for (slug, title, summary, date) in posts {
        xml.push_str(&format!(
            "<item><guid>https://fieldnotes.dev/{slug}</guid><title>{title}</title><link>https://fieldnotes.dev/posts/{slug}</link>\
             <description>{summary}</description><pubDate>{date}</pubDate><category>Rust</category><category>Engineering</category></item>"
        ));
    }
    xml.push_str("</channel></rss>");
    xml
}

/// The same blog's Atom feed: the same site and posts, as a blog offers both formats.
fn blog_atom_feed() -> String {
    let mut xml = String::from(
        r#"<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom"><title>Field Notes</title><id>https://fieldnotes.dev/</id><link href="https://fieldnotes.dev/"/><updated>2026-11-23T09:00:00Z</updated>"#,
    );
    for slug in ["search-in-rust", "no-meetings", "hiring-sre"] {
        xml.push_str(&format!(
            "<entry><id>https://fieldnotes.dev/{slug}</id><title>{slug}</title><link href=\"https://fieldnotes.dev/posts/{slug}\"/><updated>2026-11-20T09:00:00Z</updated></entry>"
        ));
    }
    xml.push_str("</feed>");
    xml
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_subscriber_uses_the_desk_in_a_real_browser() {
    let root = repo_root();
    let e2e = root.join("tests/e2e");
    require_browser(&e2e);
    let feeds = FeedServer::start().await;
    let feed_url = feeds.set("/feed.xml", "application/rss+xml", blog_feed());
    let twin_url = feeds.set("/atom.xml", "application/atom+xml", blog_atom_feed());
    // Billing on, against localstripe, so the billing page is part of the tour.
    let stripe = crate::billing::LocalStripe::start().await;
    let billing = crate::billing::billing_settings(&stripe.base);
    let app = spawn_app_with(Backend::Sqlite, move |s| s.billing = Some(billing)).await;
    let shots = root.join("target/e2e-screenshots");

    let mut node = Command::new("node");
    node.arg(e2e.join("flow.mjs"))
        .current_dir(&e2e)
        .env("BASE_URL", &app.address)
        .env("FEED_URL", &feed_url)
        .env("TWIN_FEED_URL", &twin_url)
        .env("SCREENSHOT_DIR", &shots)
        .env("CHROMIUM", CHROMIUM);
    let run = tokio::task::spawn_blocking(move || node.output());
    tokio::pin!(run);
    // The browser adds the feed; the poller, run here as the worker would, fetches it.
    let output = loop {
        tokio::select! {
            done = &mut run => break done,
            _ = tokio::time::sleep(Duration::from_millis(300)) => {
                app.make_all_due().await;
                app.poll().await;
            }
        }
    };
    let output = output
        .expect("the node task finishes")
        .expect("node starts");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    println!("{stdout}");
    assert!(
        output.status.success(),
        "the browser flow failed ({}); screenshots in {}\n{stdout}\n{stderr}",
        output.status,
        shots.display()
    );
    for flow in ["desktop", "phone", "nojs"] {
        assert!(
            stdout.contains(&format!("ok - {flow}")),
            "{flow} did not run"
        );
    }
}

/// The desk's live counter (JavaScript) agrees with the server's on links, emoji, CJK,
/// accents and Mastodon mentions, for every platform: the subscriber sees while typing the
/// number the server will judge by.
#[test]
fn the_live_counter_counts_as_the_server_does() {
    use captionfeed::captions::{measure, Platform};
    let e2e = repo_root().join("tests/e2e");
    let texts = [
        "Read this 🎉 https://fieldnotes.dev/posts/a-long-path-here",
        "日本語のテキスト、とても良い。",
        "Family 👨\u{200d}👩\u{200d}👧 and flag 🇫🇷",
        "Hi @ann@mastodon.social see fieldnotes.dev/x",
        "café naïve, cafe\u{301} too",
        "New post: https://blog.example.com/p/1?utm_source=x. Worth it!\n\n#Rust #Web",
    ];
    let samples: Vec<(Platform, &str)> = Platform::ALL
        .iter()
        .flat_map(|&p| texts.iter().map(move |&t| (p, t)))
        .collect();
    let input: Vec<(&str, &str)> = samples.iter().map(|(p, t)| (p.id(), *t)).collect();
    let mut child = Command::new("node")
        .arg(e2e.join("counter.mjs"))
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("node runs (bash .ci/install-browser checks for it)");
    {
        use std::io::Write as _;
        let mut stdin = child.stdin.take().expect("stdin");
        stdin
            .write_all(serde_json::to_string(&input).expect("JSON").as_bytes())
            .expect("samples sent");
    }
    let output = child.wait_with_output().expect("node finishes");
    assert!(output.status.success(), "{output:?}");
    let lengths: Vec<usize> = serde_json::from_slice(&output.stdout).expect("a JSON array");
    let disagree: Vec<String> = samples
        .iter()
        .zip(&lengths)
        .filter(|((p, t), &js)| measure(*p, t) != js)
        .map(|((p, t), js)| format!("{} {t:?}: server {}, page {js}", p.id(), measure(*p, t)))
        .collect();
    assert_eq!(lengths.len(), samples.len());
    assert!(disagree.is_empty(), "{}", disagree.join("\n"));
}

/// A blog with `count` posts of realistic length, newest first.
fn busy_blog_feed(count: usize) -> String {
    let mut xml = String::from(
        r#"<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>Field Notes</title><link>https://fieldnotes.dev/</link><description>Engineering notes</description>"#,
    );
    for i in 0..count {
        xml.push_str(&format!(
            "<item><guid>https://fieldnotes.dev/p/{i}</guid><title>Post {i}: what we learned moving our queue from Redis to PostgreSQL</title>\
             <link>https://fieldnotes.dev/posts/{i}/moving-our-queue-to-postgresql</link>\
             <description>Two engineers, six weeks, one rewrite: what we kept from the old service, what we measured, and the three changes that mattered most to our p99.</description>\
             <pubDate>{}</pubDate><category>Rust</category><category>PostgreSQL</category></item>",
            (chrono::DateTime::parse_from_rfc3339("2026-11-30T09:00:00Z").expect("date")
                - chrono::Duration::hours(i as i64 * 7))
            .to_rfc2822()
        ));
    }
    xml.push_str("</channel></rss>");
    xml
}

/// The desk made for a day's work: with 20 posts × 7 platforms waiting, the first page is
/// under 3 screen heights at 1280×900, and nothing on it is wider than a 390-px phone.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_days_work_fits_on_the_desk() {
    let root = repo_root();
    let e2e = root.join("tests/e2e");
    require_browser(&e2e);
    let feeds = FeedServer::start().await;
    let feed_url = feeds.set("/feed.xml", "application/rss+xml", busy_blog_feed(20));
    let app = spawn_app_with(Backend::Sqlite, |s| s.backfill = 20).await;
    let email = "busy@example.com";
    app.sign_up(email).await;
    app.add_feed(&feed_url).await;
    app.make_all_due().await;
    app.poll().await;
    let captions = app
        .get_html("/captions")
        .await
        .matches("data-caption=")
        .count();
    assert_eq!(captions, 70, "10 posts × 7 platforms on the first page");
    let shots = root.join("target/e2e-screenshots/desk");
    let output = tokio::task::spawn_blocking({
        let (e2e, address, shots) = (e2e.clone(), app.address.clone(), shots.clone());
        move || {
            Command::new("node")
                .arg(e2e.join("desk.mjs"))
                .current_dir(&e2e)
                .env("BASE_URL", address)
                .env("EMAIL", email)
                .env("PASSWORD", "correct horse battery")
                .env("SCREENSHOT_DIR", shots)
                .env("CHROMIUM", CHROMIUM)
                .output()
        }
    })
    .await
    .expect("the node task finishes")
    .expect("node starts");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    println!("{stdout}");
    assert!(
        output.status.success(),
        "the desk does not fit ({}); screenshots in {}\n{stdout}\n{stderr}",
        output.status,
        shots.display()
    );
    for size in ["desktop", "phone"] {
        assert!(
            stdout.contains(&format!("ok - {size}")),
            "{size} did not run"
        );
    }
}

/// A post of the kind that stretched a real digest past a phone's screen: a long link, a
/// wallet address and a title without a space to break at.
const UNBREAKABLE_POST: &str = r#"<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>Long strings</title><link>https://longstrings.dev/</link><description>d</description>
<item><guid>long-1</guid><title>Supercalifragilisticexpialidocious_and_then_some_more_characters_without_a_single_space</title>
<link>https://longstrings.dev/posts/2026/11/30/a-very-long-slug-that-keeps-going-and-going-without-ever-stopping-for-breath?utm_source=newsletter&amp;utm_campaign=november</link>
<description>Tips welcome: bc1qxy2kgdygjrsqtzq2n0yrf2493p83kkfjhx0wlh0xy2kgdygjrsqtzq2n0yrf2493p83kkfjhx0wlh or 0x71C7656EC7ab88b098defB751B7401B5f6d8976F71C7656EC7ab88b098defB751B7401B5f6d8976F.</description>
<pubDate>Mon, 30 Nov 2026 09:00:00 +0000</pubDate></item></channel></rss>"#;

/// The digest's HTML, made from a real blog's posts (tests/fixtures/feeds/real_hugo_blog.xml,
/// a Hugo blog's committed feed) and the post above with the default templates, rendered
/// in chromium: nothing wider than a 390-px phone, and 600 px at most on a desktop.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_digest_reads_well_on_a_phone() {
    use captionfeed::captions::Platform;
    use captionfeed::digests::outbox::DigestCaption;
    use captionfeed::digests::render;
    let root = repo_root();
    let e2e = root.join("tests/e2e");
    require_browser(&e2e);
    let real =
        std::fs::read(root.join("tests/fixtures/feeds/real_hugo_blog.xml")).expect("fixture");
    let mut captions = Vec::new();
    for (feed, posts) in [(real.as_slice(), 5), (UNBREAKABLE_POST.as_bytes(), 1)] {
        let parsed = captionfeed::feeds::parse_feed(feed, None).expect("a feed");
        for (i, post) in captionfeed::preview::caption_posts(&parsed, &Platform::ALL, Some(posts))
            .into_iter()
            .enumerate()
        {
            for c in post.captions {
                captions.push(DigestCaption {
                    post_id: format!("{}-{i}", parsed.title.clone().unwrap_or_default()),
                    post_title: post.title.clone(),
                    post_url: post.url.clone(),
                    feed_title: parsed.title.clone(),
                    feed_url: "https://horriblyunderqualified.com/index.xml".into(),
                    platform: c.platform.id().into(),
                    variant: c.variant.clone(),
                    body: c.text,
                    length: i32::try_from(c.length).expect("length"),
                    char_limit: i32::try_from(c.limit).expect("limit"),
                    caption_id: captionfeed::desk::CaptionId(format!(
                        "0193a6f1c2d37e4b8a9c5d6e7f80{:04}",
                        captions.len()
                    )),
                });
            }
        }
    }
    let posts = render::group(captions);
    assert_eq!(posts.len(), 6);
    let base = url::Url::parse("https://captions.example/").expect("base");
    let review = render::ReviewLinks {
        base_url: &base,
        key: b"a signing key of thirty-two bytes",
        expires: 1_800_000_000,
    };
    let from: lettre::message::Mailbox = "captionfeed <digest@captions.example>"
        .parse()
        .expect("from");
    let (_, html) = render::bodies(
        &render::Envelope {
            from: &from,
            desk_url: "https://captions.example/captions",
            settings_url: "https://captions.example/settings",
            unsubscribe_url: "https://captions.example/unsubscribe/0193a6f1c2d37e4b8a9c5d6e7f801234/8c1f0e2d4b6a89f7e3c5d1b2a4968f7e0c3d5b1a2f4e6d8c9b7a5f3e1d2c4b6a",
            mastodon_chooser: "https://captions.example/share/mastodon",
            review: Some(&review),
            test: false,
            todays_queue: false,
        },
        "42 new captions for 6 posts",
        &posts,
    )
    .expect("the digest renders");
    let shots = root.join("target/e2e-screenshots/digest");
    std::fs::create_dir_all(&shots).expect("screenshot folder");
    let file = shots.join("digest.html");
    std::fs::write(&file, html).expect("digest written");
    let output = Command::new("node")
        .arg(e2e.join("digest.mjs"))
        .current_dir(&e2e)
        .env("DIGEST_HTML", &file)
        .env("SCREENSHOT_DIR", &shots)
        .env("CHROMIUM", CHROMIUM)
        .output()
        .expect("node starts");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    println!("{stdout}");
    assert!(
        output.status.success(),
        "the digest does not fit ({}); screenshots in {}\n{stdout}\n{stderr}",
        output.status,
        shots.display()
    );
    for size in ["phone", "desktop"] {
        assert!(
            stdout.contains(&format!("ok - {size}")),
            "{size} did not run"
        );
    }
}

/// The operator's console in Chromium at both sizes (tests/e2e/console.mjs): every page
/// axe-clean and, on a phone, nothing past the screen's edge. Screenshots go to
/// `target/e2e-screenshots/console/`; docs/screenshots holds a copy.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_console_reads_well_in_a_real_browser() {
    let root = repo_root();
    let e2e = root.join("tests/e2e");
    require_browser(&e2e);
    let plans = captionfeed::billing::Plans::parse(
        captionfeed::billing::plans::DEFAULT_PLANS,
        &[
            ("pro", Some("price_pro".into())),
            ("business", Some("price_business".into())),
        ],
    )
    .expect("plans");
    let app = spawn_app_with(Backend::Sqlite, |s| {
        s.billing = Some(captionfeed::config::BillingSettings {
            secret_key: captionfeed::config::Secret::new("sk_test_unused"),
            webhook_secrets: vec![captionfeed::config::Secret::new("whsec_unused")],
            api_base: url::Url::parse("http://127.0.0.1:9/").expect("url"),
            plans,
        })
    })
    .await;
    let feeds = FeedServer::start().await;
    let subscriber = crate::helpers::new_browser();
    app.sign_up_as(&subscriber, "subscriber@example.com").await;
    app.add_feed_as(
        &subscriber,
        &feeds.set("/feed.xml", "application/rss+xml", blog_feed()),
    )
    .await;
    app.add_feed_as(
        &subscriber,
        &feeds.set_status("/down.xml", 500, "text/plain", "no"),
    )
    .await;
    let now = chrono::Utc::now();
    for (i, who) in ["pro-1", "pro-2", "biz", "late"].iter().enumerate() {
        let email = format!("{who}@example.com");
        app.sign_up_as(&crate::helpers::new_browser(), &email).await;
        let when = now - chrono::Duration::days(3 + 5 * i as i64);
        let plan = if *who == "biz" { "business" } else { "pro" };
        crate::console::stripe_state(&app, &email, plan, "active", when).await;
    }
    crate::console::stripe_state(&app, "late@example.com", "pro", "past_due", now).await;
    app.make_all_due().await;
    app.poll().await;
    app.sql("UPDATE outgoing_mail SET sent_at = NULL, last_error = 'smtp: connection refused', attempts = 1")
        .await;
    app.sign_up("operator@example.com").await;
    app.grant_operator("operator@example.com").await;

    let shots = root.join("target/e2e-screenshots/console");
    let output = tokio::task::spawn_blocking({
        let (e2e, address, shots) = (e2e.clone(), app.address.clone(), shots.clone());
        move || {
            Command::new("node")
                .arg(e2e.join("console.mjs"))
                .current_dir(&e2e)
                .env("BASE_URL", address)
                .env("OPERATOR", "operator@example.com")
                .env("SUBSCRIBER", "subscriber@example.com")
                .env("PASSWORD", "correct horse battery")
                .env("SCREENSHOT_DIR", shots)
                .env("CHROMIUM", CHROMIUM)
                .output()
        }
    })
    .await
    .expect("the node task finishes")
    .expect("node starts");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    println!("{stdout}");
    assert!(
        output.status.success(),
        "the console failed in the browser ({}); screenshots in {}\n{stdout}\n{stderr}",
        output.status,
        shots.display()
    );
    for size in ["desktop", "phone"] {
        assert!(
            stdout.contains(&format!("ok - {size}")),
            "{size} did not run"
        );
    }
}

/// The template builder in Chromium at both sizes (tests/e2e/builder.mjs): a template built
/// from blocks, previewed on a chosen post with its count, saved and seen on the desk; axe
/// clean and nothing wider than a phone. Its screenshots are the ones in docs/screenshots.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_template_is_built_from_blocks_in_a_real_browser() {
    let root = repo_root();
    let e2e = root.join("tests/e2e");
    require_browser(&e2e);
    let app = crate::helpers::spawn_app(Backend::Sqlite).await;
    let feeds = FeedServer::start().await;
    app.sign_up("subscriber@example.com").await;
    app.add_feed(&feeds.set("/feed.xml", "application/rss+xml", blog_feed()))
        .await;
    app.make_all_due().await;
    app.poll().await;
    let shots = root.join("target/e2e-screenshots/builder");
    let output = tokio::task::spawn_blocking({
        let (e2e, address, shots) = (e2e.clone(), app.address.clone(), shots.clone());
        move || {
            Command::new("node")
                .arg(e2e.join("builder.mjs"))
                .current_dir(&e2e)
                .env("BASE_URL", address)
                .env("SUBSCRIBER", "subscriber@example.com")
                .env("PASSWORD", "correct horse battery")
                .env("SCREENSHOT_DIR", shots)
                .env("CHROMIUM", CHROMIUM)
                .output()
        }
    })
    .await
    .expect("the node task finishes")
    .expect("node starts");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    println!("{stdout}");
    assert!(
        output.status.success(),
        "the builder failed in the browser ({}); screenshots in {}\n{stdout}\n{stderr}",
        output.status,
        shots.display()
    );
    for size in ["desktop", "phone"] {
        assert!(
            stdout.contains(&format!("ok - {size}")),
            "{size} did not run"
        );
    }
}

/// From caption to posted in Chromium at both sizes (tests/e2e/publish.mjs), against the
/// real test PDS: sign up, follow a blog, connect Bluesky with an app password, add a
/// caption to the queue from the desk, "Post now", and the desk shows "Posted to Bluesky"
/// with the link; the record is read back from the PDS with the caption's exact text.
/// Axe clean, nothing wider than the screen. `docs/screenshots/queue-*.png` and
/// `posted-*.png` are copies of its screenshots.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_caption_goes_from_the_queue_to_bluesky_in_a_real_browser() {
    use crate::bluesky::{account, pds, records};
    let root = repo_root();
    let e2e = root.join("tests/e2e");
    require_browser(&e2e);
    let feeds = FeedServer::start().await;
    let feed_url = feeds.set("/feed.xml", "application/rss+xml", blog_feed());
    let app = crate::helpers::spawn_app(Backend::Sqlite).await;
    let mut accounts = Vec::new();
    for _ in 0..2 {
        let (handle, password, _) = account().await;
        accounts.push(serde_json::json!({"handle": handle, "password": password}));
    }
    let shots = root.join("target/e2e-screenshots/publish");
    let publisher = crate::publishing::publisher(&app).await;

    let mut node = Command::new("node");
    node.arg(e2e.join("publish.mjs"))
        .current_dir(&e2e)
        .env("BASE_URL", &app.address)
        .env("FEED_URL", &feed_url)
        .env("PDS_URL", &pds().url)
        .env(
            "ACCOUNTS",
            serde_json::Value::from(accounts.clone()).to_string(),
        )
        .env("SCREENSHOT_DIR", &shots)
        .env("CHROMIUM", CHROMIUM);
    let run = tokio::task::spawn_blocking(move || node.output());
    tokio::pin!(run);
    // The poller and the publisher, run here as the worker runs them.
    let output = loop {
        tokio::select! {
            done = &mut run => break done,
            _ = tokio::time::sleep(Duration::from_millis(300)) => {
                app.make_all_due().await;
                app.poll().await;
                publisher.run_once().await.expect("a publishing pass");
            }
        }
    };
    let output = output
        .expect("the node task finishes")
        .expect("node starts");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    println!("{stdout}");
    assert!(
        output.status.success(),
        "from queue to posted failed in the browser ({}); screenshots in {}\n{stdout}\n{stderr}",
        output.status,
        shots.display()
    );
    for size in ["desktop", "phone"] {
        assert!(
            stdout.contains(&format!("ok - {size}")),
            "{size} did not run"
        );
    }
    // Each account's caption went out once, and nothing else did.
    for account in &accounts {
        let handle = account["handle"].as_str().expect("a handle");
        let password = account["password"].as_str().expect("a password");
        let did = crate::publishing::did_of(handle, password).await;
        assert_eq!(records(&did).await.len(), 1, "{handle} posted once");
    }
}
