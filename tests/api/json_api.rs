use std::collections::BTreeSet;

use serde_json::{json, Value};

use crate::helpers::{rss, spawn_app, Backend, FeedServer, TestApp};
use crate::on_both_backends;

struct Api<'a> {
    app: &'a TestApp,
    token: String,
    client: reqwest::Client,
}

impl Api<'_> {
    async fn call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> (u16, Value) {
        let mut request = self
            .client
            .request(method, self.app.url(path))
            .bearer_auth(&self.token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.expect("answers");
        let status = response.status().as_u16();
        let text = response.text().await.expect("body");
        (
            status,
            if text.is_empty() {
                Value::Null
            } else {
                serde_json::from_str(&text).expect("JSON body")
            },
        )
    }

    async fn get(&self, path: &str) -> (u16, Value) {
        self.call(reqwest::Method::GET, path, None).await
    }

    async fn put_source(&self, path: &str, source: &str) -> (u16, Value) {
        self.call(
            reqwest::Method::PUT,
            path,
            Some(json!({ "source": source })),
        )
        .await
    }
}

async fn api_for<'a>(app: &'a TestApp, email: &str) -> Api<'a> {
    Api {
        app,
        token: app.api_token(email).await,
        client: reqwest::Client::new(),
    }
}

fn five_posts() -> String {
    rss(
        "Blog",
        &[
            ("p5", "Five"),
            ("p4", "Four"),
            ("p3", "Three"),
            ("p2", "Two"),
            ("p1", "One"),
        ],
    )
}

async fn requests_without_a_valid_token_get_401_as_json(backend: Backend) {
    let app = spawn_app(backend).await;
    let client = reqwest::Client::new();
    for auth in [None, Some("Bearer cf_not-a-token"), Some("Basic YTpi")] {
        let mut request = client.get(app.url("/api/v1/feeds"));
        if let Some(auth) = auth {
            request = request.header("authorization", auth);
        }
        let response = request.send().await.unwrap();
        assert_eq!(response.status().as_u16(), 401, "{auth:?}");
        assert_eq!(
            response.headers().get("www-authenticate").unwrap(),
            "Bearer"
        );
        assert!(
            response.headers().get("set-cookie").is_none(),
            "the API sets no cookies"
        );
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["error"]["code"], "unauthorized");
        assert!(body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("Bearer"));
    }
}
on_both_backends!(requests_without_a_valid_token_get_401_as_json);

async fn feeds_can_be_followed_listed_shown_and_removed(backend: Backend) {
    let feeds = FeedServer::start().await;
    let url = feeds.set("/feed.xml", "application/rss+xml", five_posts());
    let app = spawn_app(backend).await;
    let api = api_for(&app, "ann@example.com").await;

    let (status, created) = api
        .call(
            reqwest::Method::POST,
            "/api/v1/feeds",
            Some(json!({"url": url})),
        )
        .await;
    assert_eq!(status, 201, "{created}");
    let id = created["id"].as_str().unwrap().to_string();
    assert_eq!(created["url"], url.as_str());
    assert_eq!(created["platforms"].as_array().unwrap().len(), 7);

    let (status, again) = api
        .call(
            reqwest::Method::POST,
            "/api/v1/feeds",
            Some(json!({"url": url})),
        )
        .await;
    assert_eq!(
        (status, again["error"]["code"].as_str()),
        (409, Some("conflict"))
    );
    let (status, bad) = api
        .call(
            reqwest::Method::POST,
            "/api/v1/feeds",
            Some(json!({"url": "ftp://x/feed"})),
        )
        .await;
    assert_eq!(
        (status, bad["error"]["code"].as_str()),
        (422, Some("invalid"))
    );
    let (status, _) = api
        .call(
            reqwest::Method::POST,
            "/api/v1/feeds",
            Some(json!({"link": "x"})),
        )
        .await;
    assert_eq!(status, 422, "a body without url");

    app.poll().await;
    let (status, list) = api.get("/api/v1/feeds").await;
    assert_eq!(status, 200);
    assert_eq!(list.as_array().unwrap().len(), 1);
    assert_eq!(list[0]["title"], "Blog");
    assert!(list[0]["last_checked_at"].as_str().unwrap().ends_with('Z'));
    assert_eq!(list[0]["last_status"], 200);
    assert!(list[0]["erroring_since"].is_null() && list[0]["gone_at"].is_null());
    let (status, shown) = api.get(&format!("/api/v1/feeds/{id}")).await;
    assert_eq!((status, shown["id"].as_str()), (200, Some(id.as_str())));

    // "Poll now" right after a check is refused politely; a minute later it is taken.
    let (status, body) = api
        .call(
            reqwest::Method::POST,
            &format!("/api/v1/feeds/{id}/poll"),
            None,
        )
        .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (429, Some("rate_limited"))
    );
    app.sql("UPDATE feeds SET last_checked_at = '2020-01-01 00:00:00'")
        .await;
    let (status, body) = api
        .call(
            reqwest::Method::POST,
            &format!("/api/v1/feeds/{id}/poll"),
            None,
        )
        .await;
    assert_eq!(status, 202, "{body}");
    assert_eq!(app.poll().await.feeds_checked, 1);
    assert_eq!(
        feeds.hits("/feed.xml"),
        3,
        "looked at when followed (not again when followed twice), then two checks"
    );

    let bob = api_for(&app, "bob@example.com").await;
    assert_eq!(bob.get(&format!("/api/v1/feeds/{id}")).await.0, 404);
    assert_eq!(
        bob.call(
            reqwest::Method::POST,
            &format!("/api/v1/feeds/{id}/poll"),
            None
        )
        .await
        .0,
        404
    );
    assert_eq!(
        bob.call(
            reqwest::Method::DELETE,
            &format!("/api/v1/feeds/{id}"),
            None
        )
        .await
        .0,
        404
    );
    assert_eq!(bob.get("/api/v1/feeds").await.1, json!([]));

    assert_eq!(
        api.call(
            reqwest::Method::DELETE,
            &format!("/api/v1/feeds/{id}"),
            None
        )
        .await
        .0,
        204
    );
    assert_eq!(api.get(&format!("/api/v1/feeds/{id}")).await.0, 404);
}
on_both_backends!(feeds_can_be_followed_listed_shown_and_removed);

async fn captions_page_through_with_a_cursor_without_gaps_or_repeats(backend: Backend) {
    let feeds = FeedServer::start().await;
    let url = feeds.set("/feed.xml", "application/rss+xml", five_posts());
    let app = spawn_app(backend).await;
    let api = api_for(&app, "ann@example.com").await;
    api.call(
        reqwest::Method::POST,
        "/api/v1/feeds",
        Some(json!({"url": url})),
    )
    .await;
    app.poll().await;

    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("/api/v1/captions?limit=5&cursor={c}"),
            None => "/api/v1/captions?limit=5".to_string(),
        };
        let (status, page) = api.get(&path).await;
        assert_eq!(status, 200, "{page}");
        for caption in page["captions"].as_array().unwrap() {
            assert!(caption["length"].as_i64().unwrap() <= caption["limit"].as_i64().unwrap());
            assert!(!caption["text"].as_str().unwrap().is_empty());
            seen.push(caption["id"].as_str().unwrap().to_string());
        }
        match page["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_string()),
            None => break,
        }
    }
    assert_eq!(seen.len(), 21, "3 posts × 7 platforms");
    assert_eq!(
        seen.iter().collect::<BTreeSet<_>>().len(),
        21,
        "no caption twice"
    );

    let (_, bluesky) = api.get("/api/v1/captions?platform=bluesky").await;
    let bluesky = bluesky["captions"].as_array().unwrap();
    assert_eq!(bluesky.len(), 3);
    assert!(bluesky
        .iter()
        .all(|c| c["platform"] == "bluesky" && c["post"]["title"].is_string()));
    let (_, future) = api.get("/api/v1/captions?since=2999-01-01T00:00:00Z").await;
    assert_eq!(future["captions"], json!([]));

    for bad in [
        "?platform=myspace",
        "?since=yesterday",
        "?cursor=%%%",
        "?cursor=bm9wZQ",
        "?limit=0",
        "?limit=201",
        "?limit=x",
    ] {
        let (status, body) = api.get(&format!("/api/v1/captions{bad}")).await;
        assert_eq!(
            (status, body["error"]["code"].as_str()),
            (422, Some("invalid")),
            "{bad}"
        );
    }
    let bob = api_for(&app, "bob@example.com").await;
    assert_eq!(bob.get("/api/v1/captions").await.1["captions"], json!([]));
}
on_both_backends!(captions_page_through_with_a_cursor_without_gaps_or_repeats);

async fn measure_counts_as_the_platform_does(backend: Backend) {
    let app = spawn_app(backend).await;
    let api = api_for(&app, "ann@example.com").await;
    let (status, body) = api
        .call(
            reqwest::Method::POST,
            "/api/v1/measure",
            Some(
                json!({"platform": "x", "text": "see https://example.com/a/very/long/path/indeed"}),
            ),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        body,
        json!({"platform": "x", "length": 27, "limit": 280, "fits": true})
    );
    let (status, body) = api
        .call(
            reqwest::Method::POST,
            "/api/v1/measure",
            Some(json!({"platform": "myspace", "text": "x"})),
        )
        .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (422, Some("invalid"))
    );
}
on_both_backends!(measure_counts_as_the_platform_does);

async fn templates_are_listed_saved_with_reasons_and_removed(backend: Backend) {
    let app = spawn_app(backend).await;
    app.sign_up("ann@example.com").await;
    let api = api_for(&app, "ann@example.com").await;

    // Before any edit: one built-in default per platform.
    let (status, list) = api.get("/api/v1/templates").await;
    assert_eq!(status, 200);
    let templates = list["templates"].as_array().unwrap();
    assert_eq!(templates.len(), 7);
    assert!(templates
        .iter()
        .all(|t| t["variant"] == "default" && t["builtin"] == true && t["updated_at"].is_null()));
    assert_eq!(templates[0]["platform"], "x");
    assert!(list["variables"]
        .as_array()
        .unwrap()
        .contains(&json!("title")));
    // The built-in styles, with their labels, a feed can add as variants.
    assert_eq!(
        list["styles"][2],
        json!({ "name": "quote", "label": "Quote" })
    );
    assert_eq!(list["styles"].as_array().unwrap().len(), 5);

    let (status, saved) = api
        .put_source("/api/v1/templates/x/default", "NEW: {{ title }}\n{{ url }}")
        .await;
    assert_eq!(status, 200, "{saved}");
    assert_eq!(saved["source"], "NEW: {{ title }}\n{{ url }}");
    assert_eq!(saved["builtin"], false);
    assert!(saved["updated_at"].is_string());
    let (status, _) = api
        .put_source("/api/v1/templates/bluesky/teaser", "Teaser: {{ summary }}")
        .await;
    assert_eq!(status, 200);

    // Refused with line and reason as data; what was saved stays in force.
    let (status, refused) = api
        .put_source("/api/v1/templates/x/default", "{{ title }}\n{{ titel }}")
        .await;
    assert_eq!(status, 422);
    assert_eq!(refused["error"]["code"], "invalid_template");
    assert_eq!(refused["error"]["line"], 2);
    assert!(refused["error"]["reason"]
        .as_str()
        .unwrap()
        .starts_with("unknown variable \"titel\""));
    assert!(refused["error"]["message"]
        .as_str()
        .unwrap()
        .starts_with("line 2: unknown variable"));
    let (status, refused) = api
        .put_source("/api/v1/templates/x/Bad Name", "{{ title }}")
        .await;
    assert_eq!(
        (status, refused["error"]["code"].clone()),
        (422, json!("invalid"))
    );
    let (status, _) = api
        .put_source("/api/v1/templates/myspace/default", "{{ title }}")
        .await;
    assert_eq!(status, 404);

    let (_, list) = api.get("/api/v1/templates").await;
    let listed: Vec<(String, String, bool)> = list["templates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t["platform"].as_str().unwrap().to_owned(),
                t["variant"].as_str().unwrap().to_owned(),
                t["builtin"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(listed.len(), 8);
    assert_eq!(listed[0], ("x".into(), "default".into(), false));
    assert!(listed.contains(&("bluesky".into(), "teaser".into(), false)));
    assert_eq!(
        list["templates"][0]["source"],
        "NEW: {{ title }}\n{{ url }}"
    );

    // Deleting the default goes back to the built-in one; a variant goes away.
    let (status, _) = api
        .call(reqwest::Method::DELETE, "/api/v1/templates/x/default", None)
        .await;
    assert_eq!(status, 204);
    let (status, _) = api
        .call(
            reqwest::Method::DELETE,
            "/api/v1/templates/bluesky/teaser",
            None,
        )
        .await;
    assert_eq!(status, 204);
    let (status, _) = api
        .call(
            reqwest::Method::DELETE,
            "/api/v1/templates/bluesky/teaser",
            None,
        )
        .await;
    assert_eq!(status, 404);
    let (_, list) = api.get("/api/v1/templates").await;
    assert_eq!(list["templates"].as_array().unwrap().len(), 7);
    assert_eq!(list["templates"][0]["builtin"], true);
    // X's built-in template: the title, a hook from the post, the link.
    assert_eq!(
        list["templates"][0]["source"],
        "{{ title }}{% if key_sentence %}\n{{ key_sentence }}{% else %}{% if lead %}\n{{ lead }}{% else %}{% if summary %}\n{{ summary }}{% endif %}{% endif %}{% endif %}\n{{ url }}\n\n{{ hashtags|join(' ') }}"
    );

    // Another account sees only its own templates.
    api.put_source("/api/v1/templates/threads/default", "Ann: {{ title }}")
        .await;
    let client = crate::helpers::new_browser();
    app.sign_up_as(&client, "bob@example.com").await;
    let bob = api_for(&app, "bob@example.com").await;
    let (_, list) = bob.get("/api/v1/templates").await;
    assert!(list["templates"]
        .as_array()
        .unwrap()
        .iter()
        .all(|t| t["builtin"] == true));
    let (status, _) = bob
        .call(
            reqwest::Method::DELETE,
            "/api/v1/templates/threads/default",
            None,
        )
        .await;
    assert_eq!(status, 404);
}
on_both_backends!(templates_are_listed_saved_with_reasons_and_removed);

/// Every operation the OpenAPI document names is one the tests above exercise, and the
/// document describes exactly the routes that answer.
#[tokio::test]
async fn the_openapi_document_lists_every_operation() {
    let app = spawn_app(Backend::Sqlite).await;
    let doc: Value = reqwest::get(app.url("/api/v1/openapi.json"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    let mut operations = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            operations.insert(format!("{} {path}", method.to_uppercase()));
        }
    }
    let exercised: BTreeSet<String> = [
        "GET /api/v1/feeds",
        "POST /api/v1/feeds",
        "GET /api/v1/feeds/{id}",
        "DELETE /api/v1/feeds/{id}",
        "POST /api/v1/feeds/{id}/poll",
        "PATCH /api/v1/feeds/{id}/settings",
        "GET /api/v1/feeds/{id}/templates",
        "PUT /api/v1/feeds/{id}/templates/{platform}/{variant}",
        "DELETE /api/v1/feeds/{id}/templates/{platform}/{variant}",
        "GET /api/v1/captions",
        "PATCH /api/v1/captions/{id}",
        "GET /api/v1/posts",
        "GET /api/v1/posts/{id}",
        "POST /api/v1/measure",
        "POST /api/v1/preview",
        "GET /api/v1/templates",
        "PUT /api/v1/templates/{platform}/{variant}",
        "DELETE /api/v1/templates/{platform}/{variant}",
    ]
    .into_iter()
    .map(String::from)
    .collect();
    assert_eq!(operations, exercised);
    // Every operation id once: tools link operations by id.
    let ids: Vec<&str> = doc["paths"]
        .as_object()
        .unwrap()
        .values()
        .flat_map(|item| item.as_object().unwrap().values())
        .filter_map(|op| op["operationId"].as_str())
        .collect();
    let unique: BTreeSet<&str> = ids.iter().copied().collect();
    assert_eq!(ids.len(), unique.len(), "{ids:?}");
    assert!(doc["components"]["securitySchemes"]["bearer"].is_object());
    // Undocumented API paths answer 404 as JSON.
    let response = reqwest::get(app.url("/api/v1/nothing")).await.unwrap();
    assert_eq!(response.status().as_u16(), 404);
    assert_eq!(
        response.json::<Value>().await.unwrap()["error"]["code"],
        "not_found"
    );
}

async fn tokens_are_made_in_the_page_shown_once_and_revocable(backend: Backend) {
    let app = spawn_app(backend).await;
    app.sign_up("ann@example.com").await;
    let created = app
        .submit(
            "/settings/tokens",
            "/settings/tokens",
            &[("name", "Zapier")],
        )
        .await;
    assert_eq!(created.status().as_u16(), 201);
    let html = created.text().await.unwrap();
    let start = html
        .find(r#"id="new-token" readonly rows="1">"#)
        .expect("secret shown")
        + 33;
    let secret = html[start..].split('<').next().unwrap().to_string();
    assert!(secret.starts_with("cf_"), "{secret}");
    let list = app.get_html("/settings/tokens").await;
    assert!(list.contains("Zapier"));
    assert!(!list.contains(&secret), "shown only once");

    let client = reqwest::Client::new();
    let call = || {
        client
            .get(app.url("/api/v1/feeds"))
            .bearer_auth(&secret)
            .send()
    };
    assert_eq!(call().await.unwrap().status().as_u16(), 200);
    assert!(
        app.get_html("/settings/tokens")
            .await
            .contains("last used 20"),
        "last use recorded"
    );

    let empty = app
        .submit("/settings/tokens", "/settings/tokens", &[("name", "  ")])
        .await;
    assert_eq!(empty.status().as_u16(), 422);

    let id_start = list.find("/settings/tokens/").expect("revoke form") + "/settings/tokens/".len();
    let token_id = list[id_start..].split('/').next().unwrap().to_string();
    let bob = crate::helpers::new_browser();
    app.sign_up_as(&bob, "bob@example.com").await;
    let stolen = app
        .submit_as(
            &bob,
            "/settings/tokens",
            &format!("/settings/tokens/{token_id}/revoke"),
            &[],
        )
        .await;
    assert_eq!(stolen.status().as_u16(), 404, "only the owner revokes");
    assert_eq!(call().await.unwrap().status().as_u16(), 200);
    let revoked = app
        .submit(
            "/settings/tokens",
            &format!("/settings/tokens/{token_id}/revoke"),
            &[],
        )
        .await;
    assert_eq!(revoked.status().as_u16(), 303);
    assert_eq!(call().await.unwrap().status().as_u16(), 401);
}
on_both_backends!(tokens_are_made_in_the_page_shown_once_and_revocable);

async fn a_token_over_its_rate_gets_429_with_retry_after(backend: Backend) {
    let app = crate::helpers::spawn_app_with(backend, |s| s.api_rate_per_minute = 3).await;
    let api = api_for(&app, "ann@example.com").await;
    for _ in 0..3 {
        assert_eq!(api.get("/api/v1/feeds").await.0, 200);
    }
    let response = api
        .client
        .get(app.url("/api/v1/feeds"))
        .bearer_auth(&api.token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 429);
    let retry_after: u64 = response.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&retry_after), "{retry_after}");
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "rate_limited");
    // Another account has its own allowance.
    let bob = api_for(&app, "bob@example.com").await;
    assert_eq!(bob.get("/api/v1/feeds").await.0, 200);
}
on_both_backends!(a_token_over_its_rate_gets_429_with_retry_after);
