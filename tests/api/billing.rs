//! Stripe billing: signed webhooks, one effect per event, newest state wins, plan limits on
//! feeds and the poller, Checkout and the portal against a stub of Stripe's two endpoints,
//! and a subscription's life against localstripe (a stateful fake Stripe from PyPI).

use std::net::TcpListener;
use std::sync::{Arc, Mutex};

use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};
use captionfeed::accounts::UserId;
use captionfeed::billing::account;
use captionfeed::billing::Plans;
use captionfeed::config::{BillingSettings, Secret};
use diesel::prelude::*;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::helpers::{location, rss, spawn_app, spawn_app_with, Backend, FeedServer, TestApp};
use crate::on_both_backends;

const WEBHOOK_SECRET: &str = "whsec_test_current";
const OLD_SECRET: &str = "whsec_test_previous";

/// Small limits so a test reaches them with a few feeds.
const TEST_PLANS: &str = r#"[
  {"id":"free","name":"Free","max_feeds":2,"min_check_minutes":60,"digest_frequencies":["off","daily"],
   "custom_templates":false,"variants":false,"api":false,"caption_feeds":false,"webhooks":false},
  {"id":"pro","name":"Pro","price_id":"price_pro","max_feeds":4,"min_check_minutes":15,"digest_frequencies":["off","batched","daily","weekly"],
   "custom_templates":true,"variants":true,"api":true,"caption_feeds":true,"webhooks":false},
  {"id":"business","name":"Business","price_id":"price_business","max_feeds":10,"min_check_minutes":5,"digest_frequencies":["off","batched","daily","weekly"],
   "custom_templates":true,"variants":true,"api":true,"caption_feeds":true,"webhooks":true}
]"#;

pub(crate) fn billing_settings(api_base: &str) -> BillingSettings {
    BillingSettings {
        secret_key: Secret::new("sk_test_captionfeed"),
        webhook_secrets: vec![Secret::new(OLD_SECRET), Secret::new(WEBHOOK_SECRET)],
        api_base: url::Url::parse(api_base).expect("API base"),
        plans: Plans::parse(TEST_PLANS, &[]).expect("test plans"),
    }
}

async fn billing_app(backend: Backend, api_base: &str) -> TestApp {
    let billing = billing_settings(api_base);
    spawn_app_with(backend, move |s| s.billing = Some(billing)).await
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// The header Stripe sends, computed here from the documented scheme (not with the app's code).
fn stripe_signature(secret: &str, timestamp: i64, body: &[u8]) -> String {
    format!("t={timestamp},v1={}", hex_hmac(secret, timestamp, body))
}

fn hex_hmac(secret: &str, timestamp: i64, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("any key length");
    mac.update(format!("{timestamp}.").as_bytes());
    mac.update(body);
    mac.finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

impl TestApp {
    async fn post_webhook(&self, body: &[u8], signature: Option<&str>) -> u16 {
        let mut request = self
            .client
            .post(self.url("/stripe/webhook"))
            .header("Content-Type", "application/json")
            .body(body.to_vec());
        if let Some(signature) = signature {
            request = request.header("Stripe-Signature", signature);
        }
        request
            .send()
            .await
            .expect("webhook answers")
            .status()
            .as_u16()
    }

    /// Delivers an event signed as Stripe would, now; returns the status.
    async fn deliver(&self, event: &serde_json::Value) -> u16 {
        let body = serde_json::to_vec(event).expect("json");
        let t = now();
        self.post_webhook(&body, Some(&stripe_signature(WEBHOOK_SECRET, t, &body)))
            .await
    }

    pub(crate) async fn user_id(&self, email: &str) -> UserId {
        let email = captionfeed::accounts::validate::Email::parse(email).expect("email");
        self.db
            .run(move |conn| {
                captionfeed::accounts::users::find_by_email(conn, &email)
                    .map(|u| u.expect("signed up").user_id())
            })
            .await
            .expect("user")
    }

    async fn billing_row(&self, user: &UserId) -> Option<account::BillingAccount> {
        let user = user.clone();
        self.db
            .run(move |conn| account::get(conn, &user).map_err(captionfeed::db::DbError::from))
            .await
            .expect("billing row")
    }

    async fn link_customer(&self, user: &UserId, customer: &str) {
        let (user, customer) = (user.clone(), customer.to_string());
        let plans = self
            .settings
            .billing
            .as_ref()
            .expect("billing on")
            .plans
            .clone();
        self.db
            .run(move |conn| {
                account::set_customer(conn, &user, &customer, &plans, captionfeed::db::now())
                    .map_err(captionfeed::db::DbError::from)
            })
            .await
            .expect("customer linked");
    }

    /// (subscription id, paused by plan) of the account's feeds.
    async fn feed_states(&self, user: &UserId) -> Vec<(String, bool)> {
        let user = user.clone();
        self.db
            .run(move |conn| captionfeed::subscriptions::list(conn, &user))
            .await
            .expect("feeds")
            .into_iter()
            .map(|s| (s.subscription.id.0, s.subscription.paused_by_plan))
            .collect()
    }

    async fn count(&self, table: &'static str) -> i64 {
        #[derive(QueryableByName)]
        struct N {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            n: i64,
        }
        self.db
            .run(move |conn| {
                diesel::sql_query(format!("SELECT COUNT(*) AS n FROM {table}"))
                    .get_result::<N>(conn)
                    .map(|r| r.n)
                    .map_err(captionfeed::db::DbError::from)
            })
            .await
            .expect("count")
    }

    async fn past_due_mails(&self) -> usize {
        self.db
            .run(|conn| {
                captionfeed::mail::outbox::list_all(conn).map_err(captionfeed::db::DbError::from)
            })
            .await
            .expect("mail")
            .into_iter()
            .filter(|m| m.kind == "billing_past_due")
            .count()
    }
}

fn subscription_event(
    id: &str,
    kind: &str,
    created: i64,
    subscription: &str,
    customer: &str,
    status: &str,
    price: &str,
) -> serde_json::Value {
    serde_json::json!({
        "id": id, "object": "event", "type": kind, "created": created,
        "data": { "object": {
            "id": subscription, "object": "subscription", "customer": customer, "status": status,
            "items": { "object": "list", "data": [ { "price": { "id": price } } ] },
            "metadata": {}
        } }
    })
}

fn invoice_event(
    id: &str,
    kind: &str,
    created: i64,
    subscription: &str,
    customer: &str,
) -> serde_json::Value {
    serde_json::json!({
        "id": id, "object": "event", "type": kind, "created": created,
        "data": { "object": { "id": format!("in_{id}"), "object": "invoice", "customer": customer, "subscription": subscription } }
    })
}

/// Signs up `email` in the app's browser with a Stripe customer of its own.
async fn customer(app: &TestApp, email: &str, customer: &str) -> UserId {
    app.sign_up(email).await;
    let user = app.user_id(email).await;
    app.link_customer(&user, customer).await;
    user
}

async fn follow_feeds(app: &TestApp, server: &FeedServer, count: usize) {
    for i in 0..count {
        let url = server.set(
            &format!("/blog{i}.xml"),
            "application/rss+xml",
            rss(&format!("Blog {i}"), &[("p1", "First post")]),
        );
        app.add_feed(&url).await;
    }
}

async fn signature_cases(backend: Backend) {
    let app = billing_app(backend, "http://127.0.0.1:1/").await;
    let user = customer(&app, "sig@example.com", "cus_sig").await;
    let event = |id: &str| {
        subscription_event(
            id,
            "customer.subscription.created",
            now(),
            "sub_sig",
            "cus_sig",
            "active",
            "price_pro",
        )
    };
    let body = serde_json::to_vec(&event("evt_forged")).unwrap();
    let t = now();

    let mut changed = body.clone();
    let at = changed.iter().position(|b| *b == b'p').unwrap();
    changed[at] = b'q';
    assert_eq!(
        app.post_webhook(&changed, Some(&stripe_signature(WEBHOOK_SECRET, t, &body)))
            .await,
        400,
        "one byte changed"
    );
    let stale = t - 301;
    assert_eq!(
        app.post_webhook(&body, Some(&stripe_signature(WEBHOOK_SECRET, stale, &body)))
            .await,
        400,
        "301 s old"
    );
    assert_eq!(app.post_webhook(&body, None).await, 400, "no header");
    assert_eq!(
        app.post_webhook(
            &body,
            Some(&stripe_signature("whsec_someone_else", t, &body))
        )
        .await,
        400,
        "another secret"
    );
    assert_eq!(
        app.count("stripe_events").await,
        0,
        "refused requests record nothing"
    );
    assert!(
        app.billing_row(&user)
            .await
            .is_some_and(|r| r.status == "none"),
        "and change nothing"
    );

    let good = hex_hmac(WEBHOOK_SECRET, t, &body);
    let bad = hex_hmac("whsec_someone_else", t, &body);
    assert_eq!(
        app.post_webhook(&body, Some(&format!("t={t},v1={good},v1={bad}")))
            .await,
        200,
        "good v1 first"
    );
    let body2 = serde_json::to_vec(&event("evt_second")).unwrap();
    let good2 = hex_hmac(WEBHOOK_SECRET, t, &body2);
    let bad2 = hex_hmac("whsec_someone_else", t, &body2);
    assert_eq!(
        app.post_webhook(&body2, Some(&format!("t={t},v1={bad2},v1={good2}")))
            .await,
        200,
        "good v1 second"
    );
    let body3 = serde_json::to_vec(&event("evt_old_secret")).unwrap();
    assert_eq!(
        app.post_webhook(&body3, Some(&stripe_signature(OLD_SECRET, t, &body3)))
            .await,
        200,
        "a secret being rolled out still works"
    );
    assert_eq!(app.count("stripe_events").await, 3);
    let row = app.billing_row(&user).await.unwrap();
    assert_eq!((row.plan.as_str(), row.status.as_str()), ("pro", "active"));
}
on_both_backends!(signature_cases);

async fn an_event_delivered_twice_or_concurrently_has_one_effect(backend: Backend) {
    let app = billing_app(backend, "http://127.0.0.1:1/").await;
    let user = customer(&app, "twice@example.com", "cus_twice").await;
    let t = now();
    let created = subscription_event(
        "evt_created",
        "customer.subscription.created",
        t - 10,
        "sub_1",
        "cus_twice",
        "active",
        "price_pro",
    );
    assert_eq!(app.deliver(&created).await, 200);
    // Eight replicas (or retries) receive the same failed payment at once.
    let failed = invoice_event(
        "evt_failed",
        "invoice.payment_failed",
        t - 5,
        "sub_1",
        "cus_twice",
    );
    let answers = futures_util::future::join_all((0..8).map(|_| app.deliver(&failed))).await;
    assert!(answers.iter().all(|s| *s == 200), "{answers:?}");
    assert_eq!(
        app.deliver(&failed).await,
        200,
        "a later redelivery is acknowledged"
    );
    assert_eq!(
        app.past_due_mails().await,
        1,
        "one email for one failed payment"
    );
    assert_eq!(app.count("stripe_events").await, 2);
    let row = app.billing_row(&user).await.unwrap();
    assert_eq!(row.status, "past_due");
    assert!(row.grace_until().is_some());

    // The grace period: the plan is kept, the billing page says so.
    let page = app.get_html("/billing").await;
    assert!(page.contains("Your last payment failed"), "{page}");
    assert!(page.contains("<strong>Pro</strong>"), "{page}");
    assert!(app
        .get_html("/feeds")
        .await
        .contains("Your last payment failed"));

    // Paying ends it (an invoice in the shape of Stripe API versions from 2025-03-31).
    let paid = serde_json::json!({
        "id": "evt_paid", "object": "event", "type": "invoice.paid", "created": t,
        "data": { "object": { "id": "in_paid", "object": "invoice", "customer": "cus_twice",
            "parent": { "type": "subscription_details", "subscription_details": { "subscription": "sub_1" } } } }
    });
    assert_eq!(app.deliver(&paid).await, 200);
    assert_eq!(app.billing_row(&user).await.unwrap().status, "active");
}
on_both_backends!(an_event_delivered_twice_or_concurrently_has_one_effect);

async fn events_change_only_the_account_linked_to_their_customer(backend: Backend) {
    let app = billing_app(backend, "http://127.0.0.1:1/").await;
    let ann = customer(&app, "ann@example.com", "cus_ann").await;
    app.sign_up_as(&crate::helpers::new_browser(), "bob@example.com")
        .await;
    let bob = app.user_id("bob@example.com").await;

    // Validly signed, for a customer nobody is linked to, naming Ann in its metadata.
    let mut stranger = subscription_event(
        "evt_stranger",
        "customer.subscription.created",
        now(),
        "sub_stranger",
        "cus_stranger",
        "active",
        "price_business",
    );
    stranger["data"]["object"]["metadata"] = serde_json::json!({"account_id": ann.as_str()});
    assert_eq!(
        app.deliver(&stranger).await,
        200,
        "acknowledged, not applied"
    );
    let row = app.billing_row(&ann).await.expect("Ann's row");
    assert_eq!(
        (
            row.stripe_customer_id.as_deref(),
            row.plan.as_str(),
            row.status.as_str()
        ),
        (Some("cus_ann"), "free", "none")
    );

    // A Checkout Session captionfeed never created links nobody, whichever account it names.
    for (id, named) in [("evt_cs_ann", &ann), ("evt_cs_bob", &bob)] {
        let completed = serde_json::json!({
            "id": id, "type": "checkout.session.completed", "created": now(),
            "data": {"object": {"id": format!("cs_not_ours_{id}"), "object": "checkout.session",
                "customer": "cus_stranger", "client_reference_id": named.as_str(),
                "metadata": {"account_id": named.as_str()}, "subscription": "sub_stranger"}}
        });
        assert_eq!(app.deliver(&completed).await, 200);
    }
    assert_eq!(
        app.billing_row(&ann)
            .await
            .unwrap()
            .stripe_customer_id
            .as_deref(),
        Some("cus_ann")
    );
    assert!(app
        .billing_row(&bob)
        .await
        .and_then(|r| r.stripe_customer_id)
        .is_none());
    // The stranger's later events still change nobody.
    let mut renewed = stranger.clone();
    renewed["id"] = "evt_stranger_again".into();
    assert_eq!(app.deliver(&renewed).await, 200);
    assert_eq!(app.billing_row(&ann).await.unwrap().plan, "free");
    assert!(app.billing_row(&bob).await.is_none_or(|r| r.plan == "free"));
}
on_both_backends!(events_change_only_the_account_linked_to_their_customer);

async fn an_event_whose_object_does_not_read_changes_nothing(backend: Backend) {
    let app = billing_app(backend, "http://127.0.0.1:1/").await;
    let user = customer(&app, "typed@example.com", "cus_typed").await;
    let t = now();
    // The customer expanded into the object, as Stripe sends it when asked to expand.
    let mut paid = subscription_event(
        "evt_t1",
        "customer.subscription.created",
        t - 20,
        "sub_t",
        "cus_typed",
        "active",
        "price_business",
    );
    paid["data"]["object"]["customer"] =
        serde_json::json!({"id": "cus_typed", "object": "customer"});
    assert_eq!(app.deliver(&paid).await, 200);
    let row = app.billing_row(&user).await.unwrap();
    assert_eq!(
        (row.plan.as_str(), row.status.as_str()),
        ("business", "active")
    );

    // A status that is not text is not read as "no status" (which means canceled).
    let mut garbled = subscription_event(
        "evt_t2",
        "customer.subscription.updated",
        t - 10,
        "sub_t",
        "cus_typed",
        "active",
        "price_business",
    );
    garbled["data"]["object"]["status"] = serde_json::json!(7);
    assert_eq!(app.deliver(&garbled).await, 200, "recorded, so not retried");
    let row = app.billing_row(&user).await.unwrap();
    assert_eq!(
        (row.plan.as_str(), row.status.as_str()),
        ("business", "active"),
        "the plan stays as it was"
    );
    assert_eq!(app.count("stripe_events").await, 2);
}
on_both_backends!(an_event_whose_object_does_not_read_changes_nothing);

async fn an_older_event_arriving_later_never_rolls_the_state_back(backend: Backend) {
    let app = billing_app(backend, "http://127.0.0.1:1/").await;
    let user = customer(&app, "order@example.com", "cus_order").await;
    let t = now();
    let newest = subscription_event(
        "evt_3",
        "customer.subscription.updated",
        t - 10,
        "sub_o",
        "cus_order",
        "active",
        "price_business",
    );
    let older = subscription_event(
        "evt_2",
        "customer.subscription.updated",
        t - 20,
        "sub_o",
        "cus_order",
        "past_due",
        "price_pro",
    );
    let oldest = subscription_event(
        "evt_1",
        "customer.subscription.created",
        t - 30,
        "sub_o",
        "cus_order",
        "incomplete",
        "price_pro",
    );
    for event in [&newest, &older, &oldest] {
        assert_eq!(app.deliver(event).await, 200);
    }
    let row = app.billing_row(&user).await.unwrap();
    assert_eq!(
        (row.plan.as_str(), row.status.as_str()),
        ("business", "active")
    );
    assert_eq!(
        app.past_due_mails().await,
        0,
        "the stale past_due state sent no mail"
    );

    // A cancellation older than the current state is ignored too; a newer one applies.
    let stale_cancel = subscription_event(
        "evt_c1",
        "customer.subscription.deleted",
        t - 15,
        "sub_o",
        "cus_order",
        "canceled",
        "price_business",
    );
    assert_eq!(app.deliver(&stale_cancel).await, 200);
    assert_eq!(app.billing_row(&user).await.unwrap().status, "active");
    let cancel = subscription_event(
        "evt_c2",
        "customer.subscription.deleted",
        t - 5,
        "sub_o",
        "cus_order",
        "canceled",
        "price_business",
    );
    assert_eq!(app.deliver(&cancel).await, 200);
    assert_eq!(app.billing_row(&user).await.unwrap().status, "canceled");
}
on_both_backends!(an_older_event_arriving_later_never_rolls_the_state_back);

async fn a_downgrade_pauses_feeds_without_deleting_and_an_upgrade_resumes_them(backend: Backend) {
    let app = billing_app(backend, "http://127.0.0.1:1/").await;
    let server = FeedServer::start().await;
    let user = customer(&app, "down@example.com", "cus_down").await;
    let t = now();
    let active = subscription_event(
        "evt_a",
        "customer.subscription.created",
        t - 60,
        "sub_d",
        "cus_down",
        "active",
        "price_pro",
    );
    assert_eq!(app.deliver(&active).await, 200);
    follow_feeds(&app, &server, 4).await;

    let ended = subscription_event(
        "evt_d",
        "customer.subscription.deleted",
        t - 50,
        "sub_d",
        "cus_down",
        "canceled",
        "price_pro",
    );
    assert_eq!(app.deliver(&ended).await, 200);
    let states = app.feed_states(&user).await;
    assert_eq!(states.len(), 4, "no feed deleted");
    assert_eq!(
        states.iter().filter(|(_, p)| *p).count(),
        2,
        "the free plan runs 2: {states:?}"
    );
    let page = app.get_html("/billing").await;
    assert!(page.contains("Feeds paused by your plan"), "{page}");
    let list = app.get_html("/feeds").await;
    assert!(
        list.contains("2 of your feeds are paused because your plan runs fewer"),
        "{list}"
    );
    assert_eq!(list.matches("paused by your plan").count(), 2, "{list}");

    // The subscriber picks which two to keep.
    let keep: Vec<String> = states
        .iter()
        .filter(|(_, p)| *p)
        .map(|(id, _)| format!("keep_{id}"))
        .collect();
    let fields: Vec<(&str, &str)> = keep.iter().map(|k| (k.as_str(), "1")).collect();
    assert_eq!(
        app.submit("/billing", "/billing/feeds", &fields)
            .await
            .status()
            .as_u16(),
        303
    );
    let chosen = app.feed_states(&user).await;
    for (id, paused) in &chosen {
        let was_paused = states.iter().any(|(i, p)| i == id && *p);
        assert_eq!(
            *paused, !was_paused,
            "the picked feeds run, the others are paused"
        );
    }
    let too_many: Vec<String> = chosen.iter().map(|(id, _)| format!("keep_{id}")).collect();
    let fields: Vec<(&str, &str)> = too_many.iter().map(|k| (k.as_str(), "1")).collect();
    assert_eq!(
        app.submit("/billing", "/billing/feeds", &fields)
            .await
            .status()
            .as_u16(),
        422
    );

    // Captions stop for the paused ones: the poller does not claim a feed nobody runs.
    app.make_all_due().await;
    assert_eq!(app.poll().await.feeds_checked, 2);

    let again = subscription_event(
        "evt_u",
        "customer.subscription.created",
        t - 40,
        "sub_u",
        "cus_down",
        "active",
        "price_business",
    );
    assert_eq!(app.deliver(&again).await, 200);
    assert!(
        app.feed_states(&user).await.iter().all(|(_, p)| !p),
        "all resumed"
    );
}
on_both_backends!(a_downgrade_pauses_feeds_without_deleting_and_an_upgrade_resumes_them);

/// The feeds list is stored while nothing on it changes (`stored_pages`): Stripe's events
/// change it without the subscriber doing anything, and it shows them at once.
async fn stripe_events_show_on_the_stored_feeds_list(backend: Backend) {
    use crate::stored_pages::once_showing;
    let app = billing_app(backend, "http://127.0.0.1:1/").await;
    let server = FeedServer::start().await;
    customer(&app, "list@example.com", "cus_list").await;
    let t = now();
    let active = subscription_event(
        "evt_la",
        "customer.subscription.created",
        t - 60,
        "sub_l",
        "cus_list",
        "active",
        "price_pro",
    );
    assert_eq!(app.deliver(&active).await, 200);
    follow_feeds(&app, &server, 3).await;
    let before = crate::stored_pages::stored(&app, &app.client, "/feeds").await;
    assert!(!before.contains("Your last payment failed"), "{before}");

    let failed = invoice_event(
        "evt_lf",
        "invoice.payment_failed",
        t - 50,
        "sub_l",
        "cus_list",
    );
    assert_eq!(app.deliver(&failed).await, 200);
    let warned = |html: &str| html.contains("Your last payment failed");
    let list = once_showing(backend, &app, &app.client, "/feeds", warned).await;
    assert!(warned(&list), "{list}");

    crate::stored_pages::stored(&app, &app.client, "/feeds").await;
    let ended = subscription_event(
        "evt_le",
        "customer.subscription.deleted",
        t - 40,
        "sub_l",
        "cus_list",
        "canceled",
        "price_pro",
    );
    assert_eq!(app.deliver(&ended).await, 200);
    let paused =
        |html: &str| html.contains("1 of your feeds are paused because your plan runs fewer");
    let list = once_showing(backend, &app, &app.client, "/feeds", paused).await;
    assert!(paused(&list), "{list}");
}
on_both_backends!(stripe_events_show_on_the_stored_feeds_list);

async fn adding_a_feed_over_the_limit_is_refused_everywhere(backend: Backend) {
    let app = billing_app(backend, "http://127.0.0.1:1/").await;
    let server = FeedServer::start().await;
    let user = customer(&app, "limit@example.com", "cus_limit").await;
    follow_feeds(&app, &server, 2).await;
    let third = server.set(
        "/third.xml",
        "application/rss+xml",
        rss("Third", &[("p", "Post")]),
    );
    let refused = app.submit("/feeds/new", "/feeds", &[("url", &third)]).await;
    assert_eq!(refused.status().as_u16(), 403);
    let page = refused.text().await.unwrap();
    assert!(
        page.contains("Your Free plan allows 2 feeds") && page.contains(r#"href="/billing""#),
        "{page}"
    );
    assert_eq!(app.feed_states(&user).await.len(), 2, "nothing was added");

    // OPML import goes through the same check.
    let imported = app
        .submit("/import/opml", "/import/opml/confirm", &[("urls", &third)])
        .await;
    assert!(imported
        .text()
        .await
        .unwrap()
        .contains("Your Free plan allows 2 feeds"));

    // The API is not part of the free plan; on Pro it refuses the feed over the limit.
    let token = {
        let id = user.clone();
        app.db
            .run(move |conn| captionfeed::accounts::tokens::create(conn, &id, "t").map(|(_, s)| s))
            .await
            .unwrap()
    };
    let api = |url: String| {
        app.client
            .post(app.url("/api/v1/feeds"))
            .bearer_auth(&token)
            .header("Content-Type", "application/json")
            .body(serde_json::json!({ "url": url }).to_string())
            .send()
    };
    let answer = api(third.clone()).await.unwrap();
    assert_eq!(answer.status().as_u16(), 403);
    assert!(answer.text().await.unwrap().contains("plan_limit"));
    let pro = subscription_event(
        "evt_pro",
        "customer.subscription.created",
        now(),
        "sub_l",
        "cus_limit",
        "active",
        "price_pro",
    );
    assert_eq!(app.deliver(&pro).await, 200);
    assert_eq!(api(third).await.unwrap().status().as_u16(), 201);
    let fourth = server.set(
        "/fourth.xml",
        "application/rss+xml",
        rss("Fourth", &[("p", "Post")]),
    );
    assert_eq!(api(fourth).await.unwrap().status().as_u16(), 201);
    let fifth = server.set(
        "/fifth.xml",
        "application/rss+xml",
        rss("Fifth", &[("p", "Post")]),
    );
    let answer = api(fifth).await.unwrap();
    assert_eq!(answer.status().as_u16(), 403);
    assert!(answer
        .text()
        .await
        .unwrap()
        .contains("Pro plan allows 4 feeds"));
}
on_both_backends!(adding_a_feed_over_the_limit_is_refused_everywhere);

async fn the_poller_checks_a_feed_as_often_as_its_most_generous_subscriber_plan(backend: Backend) {
    let app = billing_app(backend, "http://127.0.0.1:1/").await;
    let server = FeedServer::start().await;
    let poller = app
        .poller
        .clone()
        .with_plans(app.settings.billing.as_ref().map(|b| b.plans.clone()));
    let url = server.set(
        "/shared.xml",
        "application/rss+xml",
        rss("Shared", &[("p", "Post")]),
    );
    customer(&app, "free@example.com", "cus_free").await;
    app.add_feed(&url).await;
    let minutes_to_next_check = || async {
        let feed = app.feed_rows().await.remove(0);
        (feed.next_check_at - captionfeed::db::now()).num_minutes()
    };
    poller.run_once().await.unwrap();
    let wait = minutes_to_next_check().await;
    assert!(
        (59..=66).contains(&wait),
        "free: hourly, not the 30 min default: {wait}"
    );

    // A business subscriber of the same feed makes it every 5 minutes.
    let browser = crate::helpers::new_browser();
    app.sign_up_as(&browser, "biz@example.com").await;
    let biz = app.user_id("biz@example.com").await;
    app.link_customer(&biz, "cus_biz").await;
    app.add_feed_as(&browser, &url).await;
    let business = subscription_event(
        "evt_biz",
        "customer.subscription.created",
        now(),
        "sub_b",
        "cus_biz",
        "active",
        "price_business",
    );
    assert_eq!(app.deliver(&business).await, 200);
    app.make_all_due().await;
    poller.run_once().await.unwrap();
    let wait = minutes_to_next_check().await;
    assert!((4..=6).contains(&wait), "business: every 5 minutes: {wait}");
}
on_both_backends!(the_poller_checks_a_feed_as_often_as_its_most_generous_subscriber_plan);

async fn without_a_stripe_key_nothing_mentions_payment(backend: Backend) {
    let app = spawn_app(backend).await;
    app.sign_up("self@example.com").await;
    let page = app.get_html("/feeds").await;
    assert!(
        !page.contains("/billing") && !page.to_lowercase().contains("upgrade"),
        "{page}"
    );
    assert_eq!(app.get("/billing").await.status().as_u16(), 404);
    assert_eq!(app.post_webhook(b"{}", None).await, 404);
}
on_both_backends!(without_a_stripe_key_nothing_mentions_payment);

/// One request as the Stripe stub saw it.
#[derive(Debug, Clone)]
struct StubRequest {
    path: String,
    idempotency_key: String,
    authorization: String,
    form: Vec<(String, String)>,
}

impl StubRequest {
    fn field(&self, name: &str) -> Option<&str> {
        self.form
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Stripe's customer, Checkout Session and portal session endpoints, on loopback.
async fn stripe_stub() -> (String, Arc<Mutex<Vec<StubRequest>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind stub");
    let port = listener.local_addr().expect("address").port();
    let seen: Arc<Mutex<Vec<StubRequest>>> = Arc::default();
    let kept = seen.clone();
    let server = HttpServer::new(move || {
        let kept = kept.clone();
        App::new().default_service(web::to(move |req: HttpRequest, body: web::Bytes| {
            let kept = kept.clone();
            async move {
                let header = |name: &str| {
                    req.headers().get(name).and_then(|v| v.to_str().ok()).unwrap_or_default().to_string()
                };
                let request = StubRequest {
                    path: req.path().to_string(),
                    idempotency_key: header("idempotency-key"),
                    authorization: header("authorization"),
                    form: url::form_urlencoded::parse(&body).into_owned().collect(),
                };
                kept.lock().unwrap().push(request);
                match req.path() {
                    "/v1/customers" => HttpResponse::Ok().json(serde_json::json!({"id": "cus_stub", "object": "customer"})),
                    "/v1/checkout/sessions" => HttpResponse::Ok().json(serde_json::json!({"id": "cs_1", "object": "checkout.session", "url": "https://checkout.stripe.test/c/cs_1"})),
                    "/v1/billing_portal/sessions" => HttpResponse::Ok().json(serde_json::json!({"id": "bps_1", "object": "billing_portal.session", "url": "https://billing.stripe.test/p/bps_1"})),
                    _ => HttpResponse::NotFound().json(serde_json::json!({"error": {"message": "no such endpoint"}})),
                }
            }
        }))
    })
    .workers(1)
    .listen(listener)
    .expect("listen")
    .run();
    tokio::spawn(server);
    (format!("http://127.0.0.1:{port}/"), seen)
}

fn attempt(page: &str) -> String {
    let marker = r#"name="attempt" value=""#;
    let start = page.find(marker).expect("an attempt field") + marker.len();
    page[start..start + page[start..].find('"').unwrap()].to_string()
}

async fn checkout_and_the_portal_send_what_stripe_needs(backend: Backend) {
    let (stub, seen) = stripe_stub().await;
    let app = billing_app(backend, &stub).await;
    app.sign_up("buyer@example.com").await;
    let user = app.user_id("buyer@example.com").await;
    let page = app.get_html("/billing").await;
    assert!(
        page.contains("Upgrade to Pro") && !page.contains("Manage billing"),
        "{page}"
    );
    let try_id = attempt(&page);

    let fields = [("plan", "pro"), ("attempt", try_id.as_str())];
    let answer = app.submit("/billing", "/billing/checkout", &fields).await;
    assert_eq!(answer.status().as_u16(), 303);
    assert_eq!(location(&answer), "https://checkout.stripe.test/c/cs_1");
    // A double-submitted form: the same idempotency key, and the customer is reused.
    app.submit("/billing", "/billing/checkout", &fields).await;

    let requests = seen.lock().unwrap().clone();
    let paths: Vec<&str> = requests.iter().map(|r| r.path.as_str()).collect();
    assert_eq!(
        paths,
        [
            "/v1/customers",
            "/v1/checkout/sessions",
            "/v1/checkout/sessions"
        ]
    );
    assert!(requests
        .iter()
        .all(|r| r.authorization == "Bearer sk_test_captionfeed"));
    let made = &requests[0];
    assert_eq!(made.idempotency_key, format!("customer-{}", user.as_str()));
    assert_eq!(made.field("email"), Some("buyer@example.com"));
    assert_eq!(made.field("metadata[account_id]"), Some(user.as_str()));
    let session = &requests[1];
    assert_eq!(session.field("mode"), Some("subscription"));
    assert_eq!(session.field("customer"), Some("cus_stub"));
    assert_eq!(session.field("line_items[0][price]"), Some("price_pro"));
    assert_eq!(session.field("line_items[0][quantity]"), Some("1"));
    assert_eq!(session.field("client_reference_id"), Some(user.as_str()));
    assert_eq!(session.field("metadata[account_id]"), Some(user.as_str()));
    assert_eq!(
        session.field("subscription_data[metadata][account_id]"),
        Some(user.as_str())
    );
    let base = &app.settings.base_url;
    let success = format!("{base}billing/success?session_id={{CHECKOUT_SESSION_ID}}");
    assert_eq!(session.field("success_url"), Some(success.as_str()));
    assert_eq!(
        session.field("cancel_url"),
        Some(format!("{base}billing/cancel").as_str())
    );
    assert_eq!(
        session.idempotency_key,
        format!("checkout-{}-pro-{try_id}", user.as_str())
    );
    assert_eq!(requests[2].idempotency_key, session.idempotency_key);
    assert_eq!(
        app.billing_row(&user)
            .await
            .unwrap()
            .stripe_customer_id
            .as_deref(),
        Some("cus_stub")
    );

    assert!(app
        .get_html("/billing/success?session_id=cs_1")
        .await
        .contains("payment went through"));
    assert!(app
        .get_html("/billing/cancel")
        .await
        .contains("Nothing was charged"));

    // Stripe's event for the finished session, then the portal.
    let completed = serde_json::json!({
        "id": "evt_cs", "type": "checkout.session.completed", "created": now(),
        "data": {"object": {"id": "cs_1", "object": "checkout.session", "customer": "cus_stub",
            "client_reference_id": user.as_str(), "metadata": {"account_id": user.as_str()}, "subscription": "sub_s"}}
    });
    assert_eq!(app.deliver(&completed).await, 200);
    let page = app.get_html("/billing").await;
    assert!(page.contains("Manage billing"), "{page}");
    let portal_try = attempt(&page);
    let answer = app
        .submit(
            "/billing",
            "/billing/portal",
            &[("attempt", portal_try.as_str())],
        )
        .await;
    assert_eq!(answer.status().as_u16(), 303);
    assert_eq!(location(&answer), "https://billing.stripe.test/p/bps_1");
    let portal = seen.lock().unwrap().last().cloned().unwrap();
    assert_eq!(portal.path, "/v1/billing_portal/sessions");
    assert_eq!(portal.field("customer"), Some("cus_stub"));
    assert_eq!(
        portal.field("return_url"),
        Some(format!("{base}billing").as_str())
    );
    assert_eq!(
        portal.idempotency_key,
        format!("portal-{}-{portal_try}", user.as_str())
    );

    // With a live subscription, "upgrade" changes the plan in the portal, never a second subscription.
    let live = subscription_event(
        "evt_live",
        "customer.subscription.created",
        now(),
        "sub_s",
        "cus_stub",
        "active",
        "price_pro",
    );
    assert_eq!(app.deliver(&live).await, 200);
    let page = app.get_html("/billing").await;
    let answer = app
        .submit(
            "/billing",
            "/billing/checkout",
            &[("plan", "business"), ("attempt", attempt(&page).as_str())],
        )
        .await;
    assert_eq!(location(&answer), "https://billing.stripe.test/p/bps_1");
}
on_both_backends!(checkout_and_the_portal_send_what_stripe_needs);

async fn a_stripe_outage_shows_a_message_and_charges_nothing(backend: Backend) {
    let app = billing_app(backend, "http://127.0.0.1:1/").await;
    app.sign_up("outage@example.com").await;
    let page = app.get_html("/billing").await;
    let answer = app
        .submit(
            "/billing",
            "/billing/checkout",
            &[("plan", "pro"), ("attempt", attempt(&page).as_str())],
        )
        .await;
    assert_eq!(answer.status().as_u16(), 502);
    assert!(answer.text().await.unwrap().contains("nothing was charged"));
}
on_both_backends!(a_stripe_outage_shows_a_message_and_charges_nothing);

/// localstripe in a child process on a port of its own, stopped when dropped.
pub(crate) struct LocalStripe {
    child: std::process::Child,
    pub(crate) base: String,
}

impl Drop for LocalStripe {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl LocalStripe {
    /// Fails the test, never skips it, when localstripe is not installed.
    pub(crate) async fn start() -> LocalStripe {
        let program = std::env::var_os("PATH")
            .into_iter()
            .flat_map(|paths| std::env::split_paths(&paths).collect::<Vec<_>>())
            .map(|dir| dir.join("localstripe"))
            .find(|path| path.is_file())
            .unwrap_or_else(|| {
                panic!("localstripe is not installed (a fake Stripe from PyPI): run `bash .ci/localstripe` first")
            });
        for _ in 0..5 {
            let port = TcpListener::bind("127.0.0.1:0")
                .expect("a port")
                .local_addr()
                .expect("address")
                .port();
            let child = std::process::Command::new(&program)
                .args(["--port", &port.to_string(), "--from-scratch"])
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .spawn()
                .expect("localstripe starts");
            let mut server = LocalStripe {
                child,
                base: format!("http://127.0.0.1:{port}/"),
            };
            for _ in 0..100 {
                if tokio::net::TcpStream::connect(("127.0.0.1", port))
                    .await
                    .is_ok()
                {
                    return server;
                }
                if server.child.try_wait().ok().flatten().is_some() {
                    break; // the port was taken meanwhile: another one
                }
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            }
            let _ = server.child.kill();
        }
        panic!("localstripe did not start listening");
    }

    pub(crate) async fn post(&self, path: &str, form: &[(&str, &str)]) -> serde_json::Value {
        let answer = reqwest::Client::new()
            .post(format!("{}{path}", self.base))
            .bearer_auth("sk_test_captionfeed")
            .form(form)
            .send()
            .await
            .expect("localstripe answers");
        let status = answer.status();
        let body: serde_json::Value = answer.json().await.unwrap_or_default();
        assert!(status.is_success(), "{path}: {status} {body}");
        body
    }
}

async fn wait_for_state(app: &TestApp, user: &UserId, status: &str) -> account::BillingAccount {
    for _ in 0..100 {
        if let Some(row) = app.billing_row(user).await.filter(|r| r.status == status) {
            return row;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!(
        "the account never became {status}: {:?}",
        app.billing_row(user).await
    );
}

/// An app with billing on against localstripe, and `email`'s account on an active Pro
/// subscription there; returns the account and the subscription's id.
pub(crate) async fn subscribed_account(
    backend: Backend,
    stripe: &LocalStripe,
    email: &str,
) -> (TestApp, UserId, String) {
    let app = billing_app(backend, &stripe.base).await;
    for (id, name) in [("price_pro", "Pro"), ("price_business", "Business")] {
        stripe
            .post(
                "v1/plans",
                &[
                    ("id", id),
                    ("amount", "900"),
                    ("currency", "eur"),
                    ("interval", "month"),
                    ("product[name]", name),
                ],
            )
            .await;
    }
    let hook = app.url("/stripe/webhook");
    stripe
        .post(
            "_config/webhooks/captionfeed",
            &[("url", &hook), ("secret", WEBHOOK_SECRET)],
        )
        .await;

    app.sign_up(email).await;
    let user = app.user_id(email).await;
    let billing = app.settings.billing.as_ref().unwrap();
    let client = captionfeed::billing::stripe::StripeClient::new(
        billing.api_base.clone(),
        billing.secret_key.clone(),
    )
    .unwrap();
    let customer = client
        .create_customer(email, user.as_str(), &format!("customer-{}", user.as_str()))
        .await
        .expect("our client creates the customer in localstripe");
    app.link_customer(&user, &customer).await;
    stripe
        .post(
            &format!("v1/customers/{customer}/sources"),
            &[
                ("source[object]", "card"),
                ("source[number]", "4242424242424242"),
                ("source[exp_month]", "12"),
                ("source[exp_year]", "2040"),
                ("source[cvc]", "123"),
            ],
        )
        .await;
    let subscription = stripe
        .post(
            "v1/subscriptions",
            &[("customer", &customer), ("items[0][plan]", "price_pro")],
        )
        .await;
    let subscription_id = subscription["id"]
        .as_str()
        .expect("a subscription id")
        .to_string();

    // localstripe delivers customer.subscription.created, signed, to the running app.
    let row = wait_for_state(&app, &user, "active").await;
    assert_eq!(
        (row.plan.as_str(), row.stripe_subscription_id.as_deref()),
        ("pro", Some(subscription_id.as_str()))
    );
    (app, user, subscription_id)
}

async fn a_subscription_lives_and_ends_against_localstripe(backend: Backend) {
    let stripe = LocalStripe::start().await;
    let (app, user, subscription_id) =
        subscribed_account(backend, &stripe, "life@example.com").await;
    let server = FeedServer::start().await;
    follow_feeds(&app, &server, 4).await;

    let ended = reqwest::Client::new()
        .delete(format!("{}v1/subscriptions/{subscription_id}", stripe.base))
        .bearer_auth("sk_test_captionfeed")
        .send()
        .await
        .unwrap();
    assert!(ended.status().is_success());
    wait_for_state(&app, &user, "canceled").await;
    let states = app.feed_states(&user).await;
    assert_eq!(states.len(), 4, "nothing deleted");
    assert_eq!(
        states.iter().filter(|(_, p)| *p).count(),
        2,
        "back on the free plan's 2: {states:?}"
    );
}
on_both_backends!(a_subscription_lives_and_ends_against_localstripe);

async fn a_payment_still_failing_after_the_grace_period_falls_back_to_free(backend: Backend) {
    let app = billing_app(backend, "http://127.0.0.1:1/").await;
    let server = FeedServer::start().await;
    let user = customer(&app, "grace@example.com", "cus_grace").await;
    let t = now();
    let active = subscription_event(
        "evt_g1",
        "customer.subscription.created",
        t - 30,
        "sub_g",
        "cus_grace",
        "active",
        "price_pro",
    );
    assert_eq!(app.deliver(&active).await, 200);
    follow_feeds(&app, &server, 3).await;
    let past_due = subscription_event(
        "evt_g2",
        "customer.subscription.updated",
        t - 20,
        "sub_g",
        "cus_grace",
        "past_due",
        "price_pro",
    );
    assert_eq!(app.deliver(&past_due).await, 200);
    assert_eq!(app.past_due_mails().await, 1);
    let plans = app.settings.billing.as_ref().unwrap().plans.clone();
    let sweep = |days: i64| {
        let plans = plans.clone();
        app.db.run(move |conn| {
            captionfeed::billing::limits::end_grace_periods(
                conn,
                &plans,
                captionfeed::db::now() + chrono::Duration::days(days),
            )
            .map_err(captionfeed::db::DbError::from)
        })
    };
    assert_eq!(
        sweep(6).await.unwrap(),
        0,
        "within the grace period nothing changes"
    );
    assert!(app.feed_states(&user).await.iter().all(|(_, p)| !p));
    assert_eq!(sweep(8).await.unwrap(), 1);
    let states = app.feed_states(&user).await;
    assert_eq!(
        (states.len(), states.iter().filter(|(_, p)| *p).count()),
        (3, 1)
    );
}
on_both_backends!(a_payment_still_failing_after_the_grace_period_falls_back_to_free);

/// What each paid feature answers for the account now, in a fixed order: an API token, a
/// webhook, a custom template, template variants, a caption feed, weekly digests (with the
/// page's text when it refuses).
async fn paid_feature_answers(
    app: &TestApp,
    feed_page: &str,
    feed_base: &str,
) -> ([u16; 6], String) {
    let status = |r: reqwest::Response| r.status().as_u16();
    let template = [
        ("platform", "x"),
        ("variant", "default"),
        ("source", "{{ title }}"),
        ("action", "save"),
    ];
    let weekly = [
        ("frequency", "weekly"),
        ("batch_minutes", "60"),
        ("weekday", "4"),
        ("hour", "7"),
        ("time_zone", "UTC"),
    ];
    let settings_path = format!("{feed_page}/settings");
    let answers = [
        status(
            app.submit("/settings/tokens", "/settings/tokens", &[("name", "ci")])
                .await,
        ),
        status(
            app.submit(
                "/settings/webhooks",
                "/settings/webhooks",
                &[("url", "https://hooks.example/x")],
            )
            .await,
        ),
        status(app.submit("/templates", "/templates", &template).await),
        status(
            app.submit(
                feed_page,
                &settings_path,
                &[("variants", "default, teaser")],
            )
            .await,
        ),
        status(
            app.get(&format!(
                "{}/rss",
                feed_base.trim_start_matches(&app.address)
            ))
            .await,
        ),
    ];
    let digests = app.submit("/settings", "/settings", &weekly).await;
    let digests_status = digests.status().as_u16();
    let page = digests.text().await.unwrap_or_default();
    let [token, webhook, template, variants, caption_feed] = answers;
    (
        [
            token,
            webhook,
            template,
            variants,
            caption_feed,
            digests_status,
        ],
        page,
    )
}

async fn features_follow_the_plan(backend: Backend) {
    let app = billing_app(backend, "http://127.0.0.1:1/").await;
    customer(&app, "features@example.com", "cus_feat").await;
    let feed_base = crate::caption_feeds::caption_feed_base(&app, &app.client).await;
    let server = FeedServer::start().await;
    let url = server.set("/v.xml", "application/rss+xml", rss("V", &[("p", "Post")]));
    let feed_page = app.add_feed(&url).await;

    // Free: none of the paid features.
    let (free, refusal) = paid_feature_answers(&app, &feed_page, &feed_base).await;
    assert_eq!(free, [403, 403, 403, 403, 403, 422]);
    assert!(refusal.contains("not part of the Free plan"), "{refusal}");

    // Business: all of them.
    let business = subscription_event(
        "evt_f",
        "customer.subscription.created",
        now(),
        "sub_f",
        "cus_feat",
        "active",
        "price_business",
    );
    assert_eq!(app.deliver(&business).await, 200);
    let (paid, _) = paid_feature_answers(&app, &feed_page, &feed_base).await;
    assert_eq!(paid, [201, 201, 303, 303, 200, 303]);
}
on_both_backends!(features_follow_the_plan);

async fn webhooks_wait_while_the_plan_has_none_and_resume_on_upgrade(backend: Backend) {
    let app = billing_app(backend, "http://127.0.0.1:1/").await;
    let server = FeedServer::start().await;
    customer(&app, "hooks@example.com", "cus_hooks").await;
    let t = now();
    let business = subscription_event(
        "evt_h1",
        "customer.subscription.created",
        t - 30,
        "sub_h",
        "cus_hooks",
        "active",
        "price_business",
    );
    assert_eq!(app.deliver(&business).await, 200);
    let created = app
        .submit(
            "/settings/webhooks",
            "/settings/webhooks",
            &[("url", "http://127.0.0.1:1/hook")],
        )
        .await;
    assert_eq!(created.status().as_u16(), 201);
    let ended = subscription_event(
        "evt_h2",
        "customer.subscription.deleted",
        t - 20,
        "sub_h",
        "cus_hooks",
        "canceled",
        "price_business",
    );
    assert_eq!(app.deliver(&ended).await, 200);
    follow_feeds(&app, &server, 1).await;
    app.poll().await;
    let hooks = captionfeed::webhooks::Webhooks::new(app.db.clone(), &app.settings).unwrap();
    assert_eq!(
        hooks.run_once().await.unwrap().enqueued,
        0,
        "the free plan has no webhooks"
    );
    let again = subscription_event(
        "evt_h3",
        "customer.subscription.created",
        t - 10,
        "sub_h2",
        "cus_hooks",
        "active",
        "price_business",
    );
    assert_eq!(app.deliver(&again).await, 200);
    assert!(
        hooks.run_once().await.unwrap().enqueued > 0,
        "sent once the plan has them again"
    );
}
on_both_backends!(webhooks_wait_while_the_plan_has_none_and_resume_on_upgrade);

async fn asking_for_a_check_waits_for_the_plan_interval(backend: Backend) {
    let app = billing_app(backend, "http://127.0.0.1:1/").await;
    let server = FeedServer::start().await;
    let user = customer(&app, "poll@example.com", "cus_poll").await;
    let pro = subscription_event(
        "evt_p",
        "customer.subscription.created",
        now(),
        "sub_p",
        "cus_poll",
        "active",
        "price_pro",
    );
    assert_eq!(app.deliver(&pro).await, 200);
    let feed_page = {
        let url = server.set(
            "/poll.xml",
            "application/rss+xml",
            rss("Poll", &[("p", "Post")]),
        );
        app.add_feed(&url).await
    };
    app.poll().await;
    let id = user.clone();
    let token = app
        .db
        .run(move |conn| captionfeed::accounts::tokens::create(conn, &id, "t").map(|(_, s)| s))
        .await
        .unwrap();
    let subscription = feed_page.trim_start_matches("/feeds/");
    let answer = app
        .client
        .post(app.url(&format!("/api/v1/feeds/{subscription}/poll")))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status().as_u16(), 429);
    let retry: u64 = answer.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(
        (840..=900).contains(&retry),
        "Pro checks every 15 minutes, not every minute: {retry}"
    );
}
on_both_backends!(asking_for_a_check_waits_for_the_plan_interval);
