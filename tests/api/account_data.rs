//! A subscriber's own data: "Download my data" holds all of it and nobody else's;
//! "Delete my account" leaves nothing of it, table by table, and cancels at Stripe first.

use std::io::Read as _;

use captionfeed::webhooks::Webhooks;

use crate::helpers::{location, new_browser, rss, spawn_app, Backend, FeedServer, TestApp};
use crate::on_both_backends;

const RSS: &str = "application/rss+xml";
const PASSWORD: &str = "correct horse battery";

/// Everything a busy account has: two feeds (one shared with `bob`), captions, an
/// account template and a feed's own one, a webhook endpoint with deliveries, an API
/// token, a caption feed key, digest settings, a failed sign-in, the console.
async fn busy_account(app: &TestApp, feeds: &FeedServer) -> (String, String) {
    let shared = feeds.set("/shared.xml", RSS, rss("Shared", &[("s1", "Shared one")]));
    let own = feeds.set(
        "/own.xml",
        RSS,
        rss("Own", &[("o1", "Own one"), ("o2", "Own two")]),
    );
    let bob = new_browser();
    app.sign_up_as(&bob, "bob@example.com").await;
    app.add_feed_as(&bob, &shared).await;

    app.sign_up("ann@example.com").await;
    app.add_feed(&shared).await;
    let own_page = app.add_feed(&own).await;
    let token = app.api_token("ann@example.com").await;
    let api = reqwest::Client::new();
    let put = api
        .put(app.url("/api/v1/templates/x/default"))
        .bearer_auth(&token)
        .json(&serde_json::json!({"source": "Ann's own: {{ title }} {{ url }}"}))
        .send()
        .await
        .expect("template saved");
    assert!(put.status().is_success(), "{}", put.status());
    let subscription = own_page.rsplit('/').next().expect("id").to_string();
    let put = api
        .put(app.url(&format!(
            "/api/v1/feeds/{subscription}/templates/bluesky/default"
        )))
        .bearer_auth(&token)
        .json(&serde_json::json!({"source": "Own feed voice: {{ title }}"}))
        .send()
        .await
        .expect("feed template saved");
    assert!(put.status().is_success(), "{}", put.status());
    let hook = feeds.set("/hook", "text/plain", "ok");
    let added = app
        .submit(
            "/settings/webhooks",
            "/settings/webhooks",
            &[("url", &hook)],
        )
        .await;
    assert_eq!(added.status().as_u16(), 201);
    app.get("/settings/tokens").await; // makes the caption feed key
    app.make_all_due().await;
    app.poll().await;
    Webhooks::new(app.db.clone(), &app.settings)
        .expect("webhooks")
        .run_once()
        .await
        .expect("deliveries");
    // A wrong password typed for ann somewhere.
    let failed = app
        .submit_as(
            &new_browser(),
            "/login",
            "/login",
            &[
                ("email", "ann@example.com"),
                ("password", "not the password"),
            ],
        )
        .await;
    assert_ne!(failed.status().as_u16(), 303);
    app.grant_operator("ann@example.com").await;
    (shared, own)
}

fn unzip(bytes: &[u8]) -> Vec<(String, String)> {
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes)).expect("a ZIP archive");
    (0..archive.len())
        .map(|i| {
            let mut file = archive.by_index(i).expect("entry");
            let mut text = String::new();
            file.read_to_string(&mut text).expect("UTF-8 text");
            (file.name().expect("a name").to_string(), text)
        })
        .collect()
}

async fn download_my_data_holds_all_of_it_and_nobody_elses(backend: Backend) {
    let feeds = FeedServer::start().await;
    let app = spawn_app(backend).await;
    let (shared, own) = busy_account(&app, &feeds).await;
    let bob_only = feeds.set("/bob.xml", RSS, rss("Bob's", &[("b1", "Bob's post")]));
    let bob = new_browser();
    app.sign_up_as(&bob, "bob@example.com").await;
    app.add_feed_as(&bob, &bob_only).await;

    assert!(app
        .get_html("/settings")
        .await
        .contains("/settings/account"));
    assert!(app
        .get_html("/settings/account")
        .await
        .contains("/settings/account/export.zip"));
    let response = app.get("/settings/account/export.zip").await;
    assert_eq!(response.status().as_u16(), 200);
    assert_eq!(
        response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok()),
        Some("application/zip")
    );
    let files = unzip(&response.bytes().await.expect("body"));
    let names: Vec<&str> = files.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, captionfeed::account_data::export::FILES);
    let file = |name: &str| &files.iter().find(|(n, _)| n == name).expect(name).1;

    let opml = file("feeds.opml");
    assert!(opml.contains(&shared) && opml.contains(&own), "{opml}");
    assert!(!opml.contains(&bob_only));

    let mut csv = csv::Reader::from_reader(file("captions.csv").as_bytes());
    let rows: Vec<csv::StringRecord> = csv.records().map(|r| r.expect("row")).collect();
    let ann_captions = app
        .sql_count(
            "SELECT count(*) AS n FROM captions JOIN users ON users.id = captions.user_id \
             WHERE users.email = 'ann@example.com'",
        )
        .await;
    assert!(ann_captions > 0);
    assert_eq!(rows.len() as i64, ann_captions);
    assert!(
        rows.iter().any(|r| r[7].starts_with("Ann's own: Own one")),
        "{rows:?}"
    );
    assert!(!file("captions.csv").contains("Bob's post"));

    let templates: serde_json::Value = serde_json::from_str(file("templates.json")).expect("json");
    assert_eq!(
        templates["account"][0]["source"],
        "Ann's own: {{ title }} {{ url }}"
    );
    assert_eq!(templates["feeds"][0]["feed_url"], own.as_str());
    assert_eq!(
        templates["feeds"][0]["source"],
        "Own feed voice: {{ title }}"
    );

    let settings: serde_json::Value = serde_json::from_str(file("settings.json")).expect("json");
    assert_eq!(settings["account"]["email"], "ann@example.com");
    assert_eq!(settings["feeds"].as_array().map(Vec::len), Some(2));

    let webhooks: serde_json::Value = serde_json::from_str(file("webhooks.json")).expect("json");
    assert!(webhooks["endpoints"][0]["url"]
        .as_str()
        .is_some_and(|u| u.ends_with("/hook")));
    let deliveries = webhooks["deliveries"].as_array().expect("deliveries");
    assert!(!deliveries.is_empty());
    assert_eq!(deliveries[0]["event"], "caption.created");
    assert!(
        !file("webhooks.json").contains("whsec_"),
        "the signing secret stays out"
    );

    // Signed out, there is nothing to download.
    let anonymous = app
        .get_as(&new_browser(), "/settings/account/export.zip")
        .await;
    assert_eq!(anonymous.status().as_u16(), 303);
}
on_both_backends!(download_my_data_holds_all_of_it_and_nobody_elses);

/// Each table and how a row of the leaving account is found in it (`{id}`: the account,
/// `{email}`: its address, `{feed}`: the feed only it followed, `{posts}`, `{captions}`
/// and `{endpoints}`: ids taken before the deletion). The catalog check below fails when
/// a table is in neither this list nor [`KEPT`].
const ACCOUNT_ROWS: &[(&str, &str)] = &[
    ("users", "id = '{id}' OR email = '{email}'"),
    ("sessions", "user_id = '{id}'"),
    ("subscriptions", "user_id = '{id}' OR feed_id = '{feed}'"),
    ("captions", "user_id = '{id}' OR id IN ({captions})"),
    ("templates", "user_id = '{id}'"),
    ("feed_templates", "user_id = '{id}'"),
    ("digest_settings", "user_id = '{id}'"),
    ("digests", "user_id = '{id}'"),
    ("digest_captions", "caption_id IN ({captions})"),
    ("digest_queue_captions", "caption_id IN ({captions})"),
    ("api_tokens", "user_id = '{id}'"),
    ("caption_feed_keys", "user_id = '{id}'"),
    ("webhook_endpoints", "user_id = '{id}'"),
    ("webhook_deliveries", "endpoint_id IN ({endpoints})"),
    (
        "outgoing_mail",
        "user_id = '{id}' OR to_address = '{email}'",
    ),
    ("mail_limits", "address = '{email}'"),
    (
        "auth_failures",
        "key = 'account:{email}' OR key = 'reauth:{id}'",
    ),
    ("billing_accounts", "user_id = '{id}'"),
    ("checkout_sessions", "user_id = '{id}'"),
    ("desk_versions", "user_id = '{id}'"),
    ("page_versions", "user_id = '{id}'"),
    ("operators", "user_id = '{id}'"),
    ("posting_plans", "user_id = '{id}'"),
    (
        "queue_entries",
        "user_id = '{id}' OR caption_id IN ({captions})",
    ),
    ("connections", "user_id = '{id}'"),
    ("mastodon_authorizations", "user_id = '{id}'"),
    ("feeds", "id = '{feed}'"),
    ("posts", "feed_id = '{feed}' OR id IN ({posts})"),
    ("post_images", "post_id IN ({posts})"),
    // The claim on sending a feed's WebSub request goes with the feed.
    ("websub_leases", "feed_id = '{feed}'"),
    // Kept for the business's history, without the account's id (`ON DELETE SET NULL`).
    ("plan_changes", "user_id = '{id}'"),
];

/// Tables that hold nothing of any one account, or keep only its id on purpose.
const KEPT: &[(&str, &str)] = &[
    ("app_secrets", "the service's own signing keys"),
    (
        "stripe_events",
        "Stripe event ids and types, to apply each once; no account",
    ),
    (
        "admin_audit",
        "what operators did: the account's id only, never its address",
    ),
    (
        "mastodon_apps",
        "our app's registration on each Mastodon instance, shared by its accounts",
    ),
    ("__diesel_schema_migrations", "the schema's version"),
];

/// Tables an account is expected to have rows in after `busy_account` (the others are
/// checked too, but this test does not make their rows: billing has its own test).
const FILLED: &[&str] = &[
    "users",
    "sessions",
    "subscriptions",
    "captions",
    "templates",
    "feed_templates",
    "api_tokens",
    "caption_feed_keys",
    "webhook_endpoints",
    "webhook_deliveries",
    "outgoing_mail",
    "mail_limits",
    "auth_failures",
    "desk_versions",
    "page_versions",
    "operators",
    "feeds",
    "posts",
];

async fn all_tables(app: &TestApp, backend: Backend) -> Vec<String> {
    #[derive(diesel::QueryableByName)]
    struct Table {
        #[diesel(sql_type = diesel::sql_types::Text)]
        name: String,
    }
    let query = match backend {
        Backend::Sqlite => {
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        }
        Backend::Postgres => {
            "SELECT table_name AS name FROM information_schema.tables \
             WHERE table_schema = 'public' AND table_type = 'BASE TABLE'"
        }
    };
    app.db
        .run(move |conn| {
            use diesel::RunQueryDsl as _;
            diesel::sql_query(query)
                .load::<Table>(conn)
                .map_err(captionfeed::db::DbError::from)
        })
        .await
        .expect("tables")
        .into_iter()
        .map(|t| t.name)
        .collect()
}

async fn ids(app: &TestApp, query: &str) -> String {
    #[derive(diesel::QueryableByName)]
    struct Id {
        #[diesel(sql_type = diesel::sql_types::Text)]
        id: String,
    }
    let owned = query.to_string();
    let ids = app
        .db
        .run(move |conn| {
            use diesel::RunQueryDsl as _;
            diesel::sql_query(&owned)
                .load::<Id>(conn)
                .map_err(captionfeed::db::DbError::from)
        })
        .await
        .expect("ids");
    assert!(!ids.is_empty(), "{query} found nothing");
    ids.iter()
        .map(|i| format!("'{}'", i.id))
        .collect::<Vec<_>>()
        .join(",")
}

async fn deleting_an_account_leaves_nothing_of_it(backend: Backend) {
    let feeds = FeedServer::start().await;
    let app = spawn_app(backend).await;
    let (shared, own) = busy_account(&app, &feeds).await;

    let tables = all_tables(&app, backend).await;
    for table in &tables {
        assert!(
            ACCOUNT_ROWS.iter().any(|(t, _)| t == table) || KEPT.iter().any(|(t, _)| t == table),
            "table {table} is new: say how a deleted account's rows are found in it, or why it keeps none"
        );
    }
    let id = ids(&app, "SELECT id FROM users WHERE email = 'ann@example.com'").await;
    let id = id.trim_matches('\'').to_string();
    let feed = ids(&app, &format!("SELECT id FROM feeds WHERE url = '{own}'")).await;
    let feed = feed.trim_matches('\'').to_string();
    let posts = ids(
        &app,
        &format!("SELECT id FROM posts WHERE feed_id = '{feed}'"),
    )
    .await;
    let captions = ids(
        &app,
        &format!("SELECT id FROM captions WHERE user_id = '{id}'"),
    )
    .await;
    let endpoints = ids(
        &app,
        &format!("SELECT id FROM webhook_endpoints WHERE user_id = '{id}'"),
    )
    .await;
    let query = |table: &str, condition: &str| {
        let condition = condition
            .replace("{id}", &id)
            .replace("{email}", "ann@example.com")
            .replace("{feed}", &feed)
            .replace("{posts}", &posts)
            .replace("{captions}", &captions)
            .replace("{endpoints}", &endpoints);
        format!("SELECT count(*) AS n FROM {table} WHERE {condition}")
    };
    for (table, condition) in ACCOUNT_ROWS {
        let before = app.sql_count(&query(table, condition)).await;
        if FILLED.contains(table) {
            assert!(before > 0, "the test made no {table} row to delete");
        }
    }
    let bob_before = app
        .sql_count("SELECT count(*) AS n FROM captions JOIN users ON users.id = captions.user_id WHERE users.email = 'bob@example.com'")
        .await;
    assert!(bob_before > 0);

    // A wrong password deletes nothing.
    let wrong = app
        .submit(
            "/settings/account",
            "/settings/account/delete",
            &[("password", "not it, sorry")],
        )
        .await;
    assert_eq!(wrong.status().as_u16(), 422);
    assert!(wrong
        .text()
        .await
        .expect("body")
        .contains("nothing was deleted"));
    assert_eq!(app.sql_count(&query("users", ACCOUNT_ROWS[0].1)).await, 1);

    let gone = app
        .submit(
            "/settings/account",
            "/settings/account/delete",
            &[("password", PASSWORD)],
        )
        .await;
    assert_eq!(gone.status().as_u16(), 303);
    assert_eq!(location(&gone), "/account-deleted");
    assert!(app
        .get_html(&location(&gone))
        .await
        .contains("Your account is deleted"));
    assert_eq!(
        location(&app.get("/captions").await),
        "/login",
        "signed out"
    );

    for (table, condition) in ACCOUNT_ROWS {
        assert_eq!(
            app.sql_count(&query(table, condition)).await,
            0,
            "{table}: {condition}"
        );
    }
    // The audit keeps the id of what operators did, never the address.
    assert_eq!(
        app.sql_count(
            "SELECT count(*) AS n FROM admin_audit WHERE detail LIKE '%ann@example.com%'"
        )
        .await,
        0
    );
    // The shared feed stays with its posts and bob's captions.
    assert_eq!(
        app.sql_count(&format!(
            "SELECT count(*) AS n FROM feeds WHERE url = '{shared}'"
        ))
        .await,
        1
    );
    assert!(
        app.sql_count(&format!(
            "SELECT count(*) AS n FROM posts JOIN feeds ON feeds.id = posts.feed_id WHERE feeds.url = '{shared}'"
        ))
        .await
            > 0
    );
    let bob_after = app
        .sql_count("SELECT count(*) AS n FROM captions JOIN users ON users.id = captions.user_id WHERE users.email = 'bob@example.com'")
        .await;
    assert_eq!(bob_after, bob_before);
    // The address is free again, for a new account.
    app.sign_up_as(&new_browser(), "ann@example.com").await;
}
on_both_backends!(deleting_an_account_leaves_nothing_of_it);

async fn deleting_an_account_cancels_its_subscription_at_stripe_first(backend: Backend) {
    let stripe = crate::billing::LocalStripe::start().await;
    let (app, user, subscription) =
        crate::billing::subscribed_account(backend, &stripe, "payer@example.com").await;
    let changes = format!(
        "SELECT count(*) AS n FROM plan_changes WHERE user_id = '{}'",
        user.as_str()
    );
    assert!(
        app.sql_count(&changes).await > 0,
        "the upgrade was recorded"
    );
    let gone = app
        .submit(
            "/settings/account",
            "/settings/account/delete",
            &[("password", PASSWORD)],
        )
        .await;
    assert_eq!(
        gone.status().as_u16(),
        303,
        "{}",
        gone.text().await.unwrap_or_default()
    );
    let at_stripe: serde_json::Value = reqwest::Client::new()
        .get(format!("{}v1/subscriptions/{subscription}", stripe.base))
        .bearer_auth("sk_test_captionfeed")
        .send()
        .await
        .expect("localstripe answers")
        .json()
        .await
        .expect("json");
    assert_eq!(at_stripe["status"], "canceled", "{at_stripe}");
    // The business keeps the upgrade in its history, no longer tied to anyone.
    assert_eq!(app.sql_count(&changes).await, 0);
    assert!(
        app.sql_count("SELECT count(*) AS n FROM plan_changes WHERE user_id IS NULL")
            .await
            > 0
    );
    assert_eq!(
        app.sql_count("SELECT count(*) AS n FROM billing_accounts")
            .await,
        0
    );
}
on_both_backends!(deleting_an_account_cancels_its_subscription_at_stripe_first);

async fn a_stripe_that_refuses_the_cancellation_keeps_the_account(backend: Backend) {
    let stripe = crate::billing::LocalStripe::start().await;
    let (app, user, subscription) =
        crate::billing::subscribed_account(backend, &stripe, "payer@example.com").await;
    // Stripe gone away: nothing may be deleted while the customer would still be charged.
    drop(stripe);
    let kept = app
        .submit(
            "/settings/account",
            "/settings/account/delete",
            &[("password", PASSWORD)],
        )
        .await;
    assert_eq!(kept.status().as_u16(), 502);
    assert!(kept.text().await.expect("body").contains("account is kept"));
    assert_eq!(
        app.sql_count(&format!(
            "SELECT count(*) AS n FROM users WHERE id = '{}'",
            user.as_str()
        ))
        .await,
        1
    );
    assert_eq!(
        app.sql_count(&format!(
            "SELECT count(*) AS n FROM billing_accounts WHERE stripe_subscription_id = '{subscription}'"
        ))
        .await,
        1
    );
}
on_both_backends!(a_stripe_that_refuses_the_cancellation_keeps_the_account);

async fn guessing_the_password_to_delete_an_account_is_refused_after_five_tries(backend: Backend) {
    let app = spawn_app(backend).await;
    app.sign_up("ann@example.com").await;
    let delete = |password: &'static str| {
        let app = &app;
        async move {
            app.submit(
                "/settings/account",
                "/settings/account/delete",
                &[("password", password)],
            )
            .await
        }
    };
    for _ in 0..5 {
        assert_eq!(delete("a guess").await.status().as_u16(), 422);
    }
    // Even the right password waits now, and nothing is deleted.
    let refused = delete(PASSWORD).await;
    assert_eq!(refused.status().as_u16(), 429);
    assert!(refused.headers().contains_key("retry-after"));
    assert_eq!(
        app.sql_count("SELECT count(*) AS n FROM users WHERE email = 'ann@example.com'")
            .await,
        1
    );
}
on_both_backends!(guessing_the_password_to_delete_an_account_is_refused_after_five_tries);
