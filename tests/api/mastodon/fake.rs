//! A Mastodon instance for the tests: no server can be installed here, so this one is written
//! from Mastodon's own API documentation (github.com/mastodon/documentation, content/en/,
//! as of commit 2903485), page by page:
//!
//! - `methods/apps.md`: `POST /api/v1/apps` gives a client id and secret for the
//!   `redirect_uris` and `scopes` asked;
//! - `methods/oauth.md`, `spec/oauth.md`: `GET /oauth/authorize` (the person approves:
//!   a redirect to the registered `redirect_uri` with `code` and `state`, or
//!   `error=access_denied`), `POST /oauth/token` (the code once, the `redirect_uri` exactly
//!   as authorized, the PKCE S256 `code_verifier`; `invalid_grant` otherwise),
//!   `POST /oauth/revoke`;
//! - `methods/accounts.md`: `GET /api/v1/accounts/verify_credentials` (scope `profile` or
//!   `read:accounts`);
//! - `methods/instance.md`: `GET /api/v2/instance`, `configuration.statuses`
//!   (`max_characters`, `characters_reserved_per_url`, `max_media_attachments`);
//! - `methods/statuses.md`: `POST /api/v1/statuses` with `Idempotency-Key` (kept an hour: the
//!   same key answers the same status), 422 over the character limit, where every URL
//!   counts as `characters_reserved_per_url`;
//! - `methods/media.md`: `POST /api/v2/media` answers 202 while the file is processed, then
//!   `GET /api/v1/media/:id` answers 206 until it is done and 200 after; a status refuses
//!   media still processing with 422;
//! - `api/rate-limits.md`: `X-RateLimit-Limit`, `-Remaining`, `-Reset` (an ISO 8601 time) on
//!   the API's answers, and 429 when the budget is spent.
//!
//! It keeps what it was sent (apps, statuses, media) so tests count and read them. Left out:
//! HTML forms and sign-in (the person always approves, unless told to deny), polls,
//! visibility, mentions in the length count, and every endpoint the client does not call.

use std::collections::HashMap;
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use actix_web::http::StatusCode;
use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};
use base64::Engine as _;
use chrono::{SecondsFormat, Utc};
use rand::RngCore;
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};
use unicode_segmentation::UnicodeSegmentation;

/// The account that approves every authorization.
pub const USERNAME: &str = "ann";
const RESERVED_PER_URL: usize = 23;
const IDEMPOTENCY_KEPT: Duration = Duration::from_secs(3600);

/// A status as the instance stored it.
#[derive(Debug, Clone)]
pub struct Status {
    pub id: String,
    pub text: String,
    pub media_ids: Vec<String>,
    pub idempotency_key: Option<String>,
    pub language: Option<String>,
}

/// A media attachment as the instance stored it.
#[derive(Debug, Clone)]
pub struct Media {
    pub id: String,
    pub description: Option<String>,
    pub mime: Option<String>,
    pub bytes: Vec<u8>,
    polls_left: usize,
}

struct RegisteredApp {
    client_secret: String,
    redirect_uris: Vec<String>,
    scopes: Vec<String>,
}

struct Grant {
    client_id: String,
    redirect_uri: String,
    code_challenge: Option<String>,
    scopes: Vec<String>,
}

struct Token {
    client_id: String,
    scopes: Vec<String>,
    revoked: bool,
}

struct Budget {
    limit: u32,
    remaining: u32,
    reset: chrono::DateTime<Utc>,
}

struct State {
    next_id: u64,
    apps: HashMap<String, RegisteredApp>,
    codes: HashMap<String, Grant>,
    tokens: HashMap<String, Token>,
    statuses: Vec<Status>,
    idempotency: HashMap<String, (usize, Instant)>,
    media: HashMap<String, Media>,
    max_characters: usize,
    processing_polls: usize,
    budget: Option<Budget>,
    denies: bool,
    /// How many more statuses answer 503 (the instance overloaded) before one goes through.
    failing_statuses: usize,
    /// Every upload the instance took, including media since removed.
    uploads: usize,
    authorize_queries: Vec<HashMap<String, String>>,
}

/// The fake instance, on a random loopback port.
#[derive(Clone)]
pub struct MastodonFake {
    /// `http://127.0.0.1:PORT`, the instance's origin.
    pub origin: String,
    state: Arc<Mutex<State>>,
}

impl MastodonFake {
    pub async fn start() -> MastodonFake {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the fake instance");
        let port = listener.local_addr().expect("address").port();
        let origin = format!("http://127.0.0.1:{port}");
        let state = Arc::new(Mutex::new(State {
            next_id: 100,
            apps: HashMap::new(),
            codes: HashMap::new(),
            tokens: HashMap::new(),
            statuses: Vec::new(),
            idempotency: HashMap::new(),
            media: HashMap::new(),
            max_characters: 500,
            processing_polls: 0,
            budget: None,
            denies: false,
            failing_statuses: 0,
            uploads: 0,
            authorize_queries: Vec::new(),
        }));
        let (shared, base) = (state.clone(), origin.clone());
        let server = HttpServer::new(move || {
            let (shared, base) = (shared.clone(), base.clone());
            App::new().default_service(web::to(move |req: HttpRequest, body: web::Bytes| {
                let (shared, base) = (shared.clone(), base.clone());
                async move {
                    let mut state = shared.lock().expect("fake state");
                    route(&mut state, &base, &req, &body)
                }
            }))
        })
        .workers(2)
        .listen(listener)
        .expect("listen")
        .run();
        tokio::spawn(server);
        MastodonFake { origin, state }
    }

    fn with<T>(&self, f: impl FnOnce(&mut State) -> T) -> T {
        f(&mut self.state.lock().expect("fake state"))
    }

    pub fn set_max_characters(&self, n: usize) {
        self.with(|s| s.max_characters = n);
    }

    /// How many times `GET /api/v1/media/:id` answers 206 before the file is ready (0: the
    /// upload answers 200 at once).
    pub fn set_processing_polls(&self, n: usize) {
        self.with(|s| s.processing_polls = n);
    }

    /// From now on the API allows `remaining` more calls out of `limit`, until `reset_in`.
    pub fn set_rate_budget(&self, limit: u32, remaining: u32, reset_in: chrono::Duration) {
        self.with(|s| {
            s.budget = Some(Budget {
                limit,
                remaining,
                reset: Utc::now() + reset_in,
            })
        });
    }

    /// The person refuses the next authorizations.
    pub fn set_denies(&self, denies: bool) {
        self.with(|s| s.denies = denies);
    }

    /// The next `n` statuses are answered 503, as an overloaded instance answers.
    pub fn fail_statuses(&self, n: usize) {
        self.with(|s| s.failing_statuses = n);
    }

    /// The instance removes the media no status uses (Mastodon does so after a while).
    pub fn remove_unattached_media(&self) {
        self.with(|s| {
            let used: Vec<String> = s
                .statuses
                .iter()
                .flat_map(|st| st.media_ids.clone())
                .collect();
            s.media.retain(|id, _| used.contains(id));
        });
    }

    /// How many files were uploaded.
    pub fn uploads(&self) -> usize {
        self.with(|s| s.uploads)
    }

    /// The person revokes every token from the instance's settings.
    pub fn revoke_all_tokens(&self) {
        self.with(|s| s.tokens.values_mut().for_each(|t| t.revoked = true));
    }

    pub fn statuses(&self) -> Vec<Status> {
        self.with(|s| s.statuses.clone())
    }

    pub fn media(&self, id: &str) -> Option<Media> {
        self.with(|s| s.media.get(id).cloned())
    }

    pub fn apps_registered(&self) -> usize {
        self.with(|s| s.apps.len())
    }

    /// Every access token handed out, revoked or not.
    pub fn tokens_issued(&self) -> Vec<String> {
        self.with(|s| s.tokens.keys().cloned().collect())
    }

    /// The access tokens revoked, by `POST /oauth/revoke` or from the settings.
    pub fn revoked_tokens(&self) -> Vec<String> {
        self.with(|s| {
            s.tokens
                .iter()
                .filter(|(_, t)| t.revoked)
                .map(|(k, _)| k.clone())
                .collect()
        })
    }

    /// The query of each `GET /oauth/authorize`, in order.
    pub fn authorize_queries(&self) -> Vec<HashMap<String, String>> {
        self.with(|s| s.authorize_queries.clone())
    }
}

fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

fn answer(status: u16, body: Value) -> HttpResponse {
    HttpResponse::build(StatusCode::from_u16(status).expect("status")).json(body)
}

fn oauth_error(status: u16, error: &str, description: &str) -> HttpResponse {
    answer(
        status,
        json!({"error": error, "error_description": description}),
    )
}

fn route(state: &mut State, base: &str, req: &HttpRequest, body: &[u8]) -> HttpResponse {
    let method = req.method().as_str();
    let path = req.path();
    match (method, path) {
        ("POST", "/api/v1/apps") => register_app(state, &params(req, body)),
        ("GET", "/oauth/authorize") => authorize(state, req),
        ("POST", "/oauth/token") => token(state, &params(req, body)),
        ("POST", "/oauth/revoke") => revoke(state, &params(req, body)),
        ("GET", "/api/v2/instance") => instance(state, base),
        ("GET", "/api/v1/accounts/verify_credentials") => {
            api(state, req, &["profile", "read:accounts"], |_, _| {
                answer(
                    200,
                    json!({"id": "1", "username": USERNAME, "acct": USERNAME,
                           "display_name": "Ann", "url": format!("{base}/@{USERNAME}")}),
                )
            })
        }
        ("POST", "/api/v1/statuses") => api(state, req, &["write:statuses"], |state, _| {
            if state.failing_statuses > 0 {
                state.failing_statuses -= 1;
                return answer(503, json!({"error": "Service Unavailable"}));
            }
            post_status(state, base, req, &params(req, body))
        }),
        ("POST", "/api/v2/media") => api(state, req, &["write:media"], |state, _| {
            upload_media(state, base, req, body)
        }),
        ("GET", p) if p.starts_with("/api/v1/media/") => {
            let id = p.trim_start_matches("/api/v1/media/").to_string();
            api(state, req, &["write:media"], |state, _| {
                get_media(state, base, &id)
            })
        }
        _ => answer(404, json!({"error": "Record not found"})),
    }
}

/// The request's parameters, from a JSON body or a form (`name[]` gathered into arrays), as
/// Mastodon reads both.
fn params(req: &HttpRequest, body: &[u8]) -> Map<String, Value> {
    let json = req
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if json {
        return serde_json::from_slice::<Value>(body)
            .ok()
            .and_then(|v| v.as_object().cloned())
            .unwrap_or_default();
    }
    let mut out = Map::new();
    for (k, v) in url::form_urlencoded::parse(body) {
        if let Some(name) = k.strip_suffix("[]") {
            let entry = out
                .entry(name.to_string())
                .or_insert_with(|| Value::Array(Vec::new()));
            if let Value::Array(items) = entry {
                items.push(Value::String(v.into_owned()));
            }
        } else {
            out.insert(k.into_owned(), Value::String(v.into_owned()));
        }
    }
    out
}

fn text<'a>(params: &'a Map<String, Value>, name: &str) -> &'a str {
    params.get(name).and_then(Value::as_str).unwrap_or_default()
}

fn scopes_of(s: &str) -> Vec<String> {
    s.split([' ', '+'])
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

/// Whether `held` grants `scope`: a scope, or its parent (`write` grants `write:media`).
fn grants(held: &[String], scope: &str) -> bool {
    held.iter()
        .any(|h| h == scope || scope.split(':').next() == Some(h.as_str()))
}

fn register_app(state: &mut State, params: &Map<String, Value>) -> HttpResponse {
    let redirect_uris: Vec<String> = match params.get("redirect_uris") {
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_string)
            .collect(),
        Some(Value::String(s)) => s.lines().map(str::to_string).collect(),
        _ => Vec::new(),
    };
    if text(params, "client_name").is_empty() || redirect_uris.is_empty() {
        return answer(
            422,
            json!({"error": "Validation failed: Redirect URI must be an absolute URI."}),
        );
    }
    let scopes = match text(params, "scopes") {
        "" => vec!["read".to_string()],
        s => scopes_of(s),
    };
    let (client_id, client_secret) = (random_token(), random_token());
    state.next_id += 1;
    let body = json!({
        "id": state.next_id.to_string(),
        "name": text(params, "client_name"),
        "website": params.get("website"),
        "scopes": scopes,
        "redirect_uri": redirect_uris.join("\n"),
        "redirect_uris": redirect_uris,
        "client_id": client_id,
        "client_secret": client_secret,
        "client_secret_expires_at": 0,
    });
    state.apps.insert(
        client_id,
        RegisteredApp {
            client_secret,
            redirect_uris,
            scopes,
        },
    );
    answer(200, body)
}

fn authorize(state: &mut State, req: &HttpRequest) -> HttpResponse {
    let query: HashMap<String, String> = url::form_urlencoded::parse(req.query_string().as_bytes())
        .into_owned()
        .collect();
    state.authorize_queries.push(query.clone());
    let get = |k: &str| query.get(k).map(String::as_str).unwrap_or_default();
    let Some(app) = state.apps.get(get("client_id")) else {
        return oauth_error(
            401,
            "invalid_client",
            "Client authentication failed due to unknown client.",
        );
    };
    // An unregistered redirect_uri is never redirected to: the error is shown here.
    if !app.redirect_uris.iter().any(|u| u == get("redirect_uri")) {
        return oauth_error(
            400,
            "invalid_redirect_uri",
            "The redirect uri included is not valid.",
        );
    }
    let mut back = match url::Url::parse(get("redirect_uri")) {
        Ok(url) => url,
        Err(_) => return oauth_error(400, "invalid_redirect_uri", "Not a URI."),
    };
    let scopes = match get("scope") {
        "" => vec!["read".to_string()],
        s => scopes_of(s),
    };
    let error = if get("response_type") != "code" {
        Some("unsupported_response_type")
    } else if !scopes.iter().all(|s| app.scopes.contains(s)) {
        Some("invalid_scope")
    } else if query.contains_key("code_challenge") && get("code_challenge_method") != "S256" {
        Some("invalid_request")
    } else if state.denies {
        Some("access_denied")
    } else {
        None
    };
    {
        let mut pairs = back.query_pairs_mut();
        match error {
            Some(error) => {
                pairs.append_pair("error", error);
            }
            None => {
                let code = random_token();
                pairs.append_pair("code", &code);
                state.codes.insert(
                    code,
                    Grant {
                        client_id: get("client_id").to_string(),
                        redirect_uri: get("redirect_uri").to_string(),
                        code_challenge: query.get("code_challenge").cloned(),
                        scopes,
                    },
                );
            }
        }
        if let Some(s) = query.get("state") {
            pairs.append_pair("state", s);
        }
    }
    HttpResponse::Found()
        .insert_header(("Location", back.to_string()))
        .finish()
}

fn token(state: &mut State, params: &Map<String, Value>) -> HttpResponse {
    if text(params, "grant_type") != "authorization_code" {
        return oauth_error(
            400,
            "unsupported_grant_type",
            "The authorization grant type is not supported by the authorization server.",
        );
    }
    let client_id = text(params, "client_id");
    let known = state
        .apps
        .get(client_id)
        .is_some_and(|a| a.client_secret == text(params, "client_secret"));
    if !known {
        return oauth_error(401, "invalid_client", "Client authentication failed due to unknown client, no client authentication included, or unsupported authentication method.");
    }
    let invalid_grant = || {
        oauth_error(400, "invalid_grant", "The provided authorization grant is invalid, expired, revoked, does not match the redirection URI used in the authorization request, or was issued to another client.")
    };
    // A code is good for one exchange, right or wrong.
    let Some(grant) = state.codes.remove(text(params, "code")) else {
        return invalid_grant();
    };
    if grant.client_id != client_id || grant.redirect_uri != text(params, "redirect_uri") {
        return invalid_grant();
    }
    if let Some(challenge) = &grant.code_challenge {
        let verifier = text(params, "code_verifier");
        let made = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode(Sha256::digest(verifier.as_bytes()));
        if verifier.is_empty() || &made != challenge {
            return invalid_grant();
        }
    }
    let access_token = random_token();
    let scope = grant.scopes.join(" ");
    state.tokens.insert(
        access_token.clone(),
        Token {
            client_id: grant.client_id,
            scopes: grant.scopes,
            revoked: false,
        },
    );
    answer(
        200,
        json!({"access_token": access_token, "token_type": "Bearer", "scope": scope,
               "created_at": Utc::now().timestamp()}),
    )
}

fn revoke(state: &mut State, params: &Map<String, Value>) -> HttpResponse {
    let client_id = text(params, "client_id");
    let client_ok = state
        .apps
        .get(client_id)
        .is_some_and(|a| a.client_secret == text(params, "client_secret"));
    match state.tokens.get_mut(text(params, "token")) {
        Some(token) if client_ok && token.client_id == client_id => {
            token.revoked = true;
            answer(200, json!({}))
        }
        _ => oauth_error(
            403,
            "unauthorized_client",
            "You are not authorized to revoke this token",
        ),
    }
}

fn instance(state: &State, base: &str) -> HttpResponse {
    let domain = base.trim_start_matches("http://");
    answer(
        200,
        json!({
            "domain": domain,
            "title": "Fake Mastodon",
            "version": "4.4.0",
            "configuration": {
                "statuses": {
                    "max_characters": state.max_characters,
                    "max_media_attachments": 4,
                    "characters_reserved_per_url": RESERVED_PER_URL,
                },
                "media_attachments": {
                    "supported_mime_types": ["image/jpeg", "image/png", "image/gif", "image/webp"],
                    "image_size_limit": 16_777_216,
                    "description_limit": 1500,
                },
            },
        }),
    )
}

/// An API call with a user token holding one of `scopes`, counted against the rate budget;
/// the budget's headers go on every answer while one is set.
fn api(
    state: &mut State,
    req: &HttpRequest,
    scopes: &[&str],
    handle: impl FnOnce(&mut State, &str) -> HttpResponse,
) -> HttpResponse {
    let bearer = req
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or_default()
        .to_string();
    let Some(token) = state.tokens.get(&bearer).filter(|t| !t.revoked) else {
        return answer(401, json!({"error": "The access token is invalid"}));
    };
    if !scopes.iter().any(|s| grants(&token.scopes, s)) {
        return answer(
            403,
            json!({"error": "This action is outside the authorized scopes"}),
        );
    }
    let headers = match &mut state.budget {
        None => None,
        Some(budget) => {
            let over = budget.remaining == 0;
            budget.remaining = budget.remaining.saturating_sub(1);
            let headers = [
                ("X-RateLimit-Limit", budget.limit.to_string()),
                ("X-RateLimit-Remaining", budget.remaining.to_string()),
                (
                    "X-RateLimit-Reset",
                    budget.reset.to_rfc3339_opts(SecondsFormat::Micros, true),
                ),
            ];
            if over {
                let mut refused = answer(429, json!({"error": "Too many requests"}));
                for (name, value) in headers {
                    refused.headers_mut().insert(
                        name.parse().expect("header name"),
                        value.parse().expect("header value"),
                    );
                }
                return refused;
            }
            Some(headers)
        }
    };
    let mut response = handle(state, &bearer);
    for (name, value) in headers.into_iter().flatten() {
        response.headers_mut().insert(
            name.parse().expect("header name"),
            value.parse().expect("header value"),
        );
    }
    response
}

/// The length Mastodon checks: every URL counts as 23, the rest in grapheme clusters.
fn counted_length(text: &str) -> usize {
    text.split_inclusive(char::is_whitespace)
        .map(|word| {
            let bare = word.trim_end();
            if bare.starts_with("http://") || bare.starts_with("https://") {
                RESERVED_PER_URL + (word.len() - bare.len())
            } else {
                word.graphemes(true).count()
            }
        })
        .sum()
}

fn status_json(base: &str, status: &Status, media: &HashMap<String, Media>) -> Value {
    let attachments: Vec<Value> = status
        .media_ids
        .iter()
        .filter_map(|id| media.get(id))
        .map(|m| media_json(base, m, true))
        .collect();
    json!({
        "id": status.id,
        "uri": format!("{base}/users/{USERNAME}/statuses/{}", status.id),
        "url": format!("{base}/@{USERNAME}/{}", status.id),
        "content": format!("<p>{}</p>", status.text),
        "language": status.language,
        "media_attachments": attachments,
    })
}

fn post_status(
    state: &mut State,
    base: &str,
    req: &HttpRequest,
    params: &Map<String, Value>,
) -> HttpResponse {
    let key = req
        .headers()
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    state
        .idempotency
        .retain(|_, (_, at)| at.elapsed() < IDEMPOTENCY_KEPT);
    if let Some((index, _)) = key.as_ref().and_then(|k| state.idempotency.get(k)) {
        return answer(
            200,
            status_json(base, &state.statuses[*index], &state.media),
        );
    }
    let text = text(params, "status").to_string();
    let media_ids: Vec<String> = match params.get("media_ids") {
        Some(Value::Array(ids)) => ids
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_string)
            .collect(),
        _ => Vec::new(),
    };
    if text.trim().is_empty() && media_ids.is_empty() {
        return answer(
            422,
            json!({"error": "Validation failed: Text can't be blank"}),
        );
    }
    if counted_length(&text) > state.max_characters {
        return answer(
            422,
            json!({"error": format!("Validation failed: Text character limit of {} exceeded", state.max_characters)}),
        );
    }
    for id in &media_ids {
        match state.media.get(id) {
            None => return answer(422, json!({"error": "Validation failed: Media not found"})),
            Some(m) if m.polls_left > 0 => {
                return answer(
                    422,
                    json!({"error": "Cannot attach files that have not finished processing. Try again in a moment!"}),
                )
            }
            Some(_) => {}
        }
    }
    state.next_id += 1;
    let status = Status {
        id: state.next_id.to_string(),
        text,
        media_ids,
        idempotency_key: key.clone(),
        language: params
            .get("language")
            .and_then(Value::as_str)
            .map(str::to_string),
    };
    let body = status_json(base, &status, &state.media);
    state.statuses.push(status);
    if let Some(key) = key {
        state
            .idempotency
            .insert(key, (state.statuses.len() - 1, Instant::now()));
    }
    answer(200, body)
}

fn media_json(base: &str, media: &Media, ready: bool) -> Value {
    json!({
        "id": media.id,
        "type": "image",
        "url": ready.then(|| format!("{base}/system/media/{}.png", media.id)),
        "description": media.description,
    })
}

fn upload_media(state: &mut State, base: &str, req: &HttpRequest, body: &[u8]) -> HttpResponse {
    let parts = multipart(req, body);
    let Some((file_mime, file)) = parts
        .iter()
        .find(|p| p.name == "file")
        .map(|p| (p.content_type.clone(), p.data.clone()))
    else {
        return answer(
            422,
            json!({"error": "Validation failed: File can't be blank"}),
        );
    };
    let description = parts
        .iter()
        .find(|p| p.name == "description")
        .map(|p| String::from_utf8_lossy(&p.data).into_owned());
    state.next_id += 1;
    state.uploads += 1;
    let media = Media {
        id: state.next_id.to_string(),
        description,
        mime: file_mime,
        bytes: file,
        polls_left: state.processing_polls,
    };
    let ready = media.polls_left == 0;
    let body = media_json(base, &media, ready);
    state.media.insert(media.id.clone(), media);
    answer(if ready { 200 } else { 202 }, body)
}

fn get_media(state: &mut State, base: &str, id: &str) -> HttpResponse {
    let Some(media) = state.media.get_mut(id) else {
        return answer(404, json!({"error": "Record not found"}));
    };
    if media.polls_left > 0 {
        media.polls_left -= 1;
        return answer(206, media_json(base, media, false));
    }
    answer(200, media_json(base, media, true))
}

struct Part {
    name: String,
    content_type: Option<String>,
    data: Vec<u8>,
}

/// The parts of a `multipart/form-data` body, read plainly: enough for what a client sends.
fn multipart(req: &HttpRequest, body: &[u8]) -> Vec<Part> {
    let Some(boundary) = req
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split("boundary=").nth(1))
        .map(|b| format!("--{}", b.trim_matches('"')))
    else {
        return Vec::new();
    };
    let mut parts = Vec::new();
    let mut rest = body;
    while let Some(start) = find(rest, boundary.as_bytes()) {
        rest = &rest[start + boundary.len()..];
        let Some(head_end) = find(rest, b"\r\n\r\n") else {
            break;
        };
        let head = String::from_utf8_lossy(&rest[..head_end]).into_owned();
        let data_start = head_end + 4;
        let Some(next) = find(&rest[data_start..], boundary.as_bytes()) else {
            break;
        };
        // The part's data ends with the line break before the next boundary.
        let data = rest[data_start..data_start + next]
            .strip_suffix(b"\r\n")
            .unwrap_or(&rest[data_start..data_start + next])
            .to_vec();
        let header = |name: &str| {
            head.lines()
                .find(|l| l.to_ascii_lowercase().starts_with(name))
                .map(|l| l[name.len()..].trim().to_string())
        };
        let name = header("content-disposition:")
            .and_then(|d| d.split("name=\"").nth(1).map(str::to_string))
            .and_then(|n| n.split('"').next().map(str::to_string))
            .unwrap_or_default();
        parts.push(Part {
            name,
            content_type: header("content-type:"),
            data,
        });
        rest = &rest[data_start + next..];
    }
    parts
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

#[test]
fn urls_count_as_23_and_the_rest_in_graphemes() {
    assert_eq!(counted_length("héllo 🦀"), 7);
    assert_eq!(
        counted_length(&format!("a https://example.com/{} b", "x".repeat(200))),
        2 + 23 + 2
    );
}
