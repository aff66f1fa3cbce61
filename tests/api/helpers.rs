//! The real app on a random port, a fresh database per test, and a real HTTP server on
//! loopback that serves feed files the tests can change between polls.

use std::collections::HashMap;
use std::net::TcpListener;
use std::sync::{Arc, Mutex};

use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};
use captionfeed::config::Settings;
use captionfeed::db::DatabaseUrl;
use captionfeed::poller::{PassReport, Poller};
use diesel::connection::SimpleConnection as _;
use diesel::Connection as _;

/// Which database a test runs on.
#[derive(Debug, Clone, Copy)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Writes each test twice: once on SQLite, once on PostgreSQL. The PostgreSQL one runs when
/// `CAPTIONFEED_TEST_POSTGRES_URL` is set, and then fails if the server does not answer.
#[macro_export]
macro_rules! on_both_backends {
    ($name:ident) => {
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                super::$name($crate::helpers::Backend::Sqlite).await
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                if !$crate::helpers::postgres_configured() {
                    return;
                }
                super::$name($crate::helpers::Backend::Postgres).await
            }
        }
    };
}

/// Whether a PostgreSQL-only test can run; says so when it cannot.
pub fn postgres_configured() -> bool {
    let configured = postgres_base_url().is_some();
    if !configured {
        eprintln!("CAPTIONFEED_TEST_POSTGRES_URL is not set: PostgreSQL case not run");
    }
    configured
}

pub fn postgres_base_url() -> Option<String> {
    std::env::var("CAPTIONFEED_TEST_POSTGRES_URL")
        .ok()
        .filter(|v| !v.is_empty())
}

/// A database that exists for one test and is removed after it.
pub struct TestDatabase {
    pub url: DatabaseUrl,
    _dir: Option<tempfile::TempDir>,
    drop_pg: Option<(String, String)>,
}

impl TestDatabase {
    pub fn new(backend: Backend) -> Self {
        match backend {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().expect("temp dir");
                let path = dir.path().join("captionfeed.db");
                TestDatabase {
                    url: DatabaseUrl::Sqlite(path.display().to_string()),
                    _dir: Some(dir),
                    drop_pg: None,
                }
            }
            Backend::Postgres => {
                let base = postgres_base_url().expect("CAPTIONFEED_TEST_POSTGRES_URL");
                let name = format!("cf_test_{}", uuid_like());
                let mut admin = diesel::PgConnection::establish(&base).unwrap_or_else(|e| {
                    panic!(
                        "CAPTIONFEED_TEST_POSTGRES_URL is set but PostgreSQL does not answer: {e}"
                    )
                });
                admin
                    .batch_execute(&format!("CREATE DATABASE {name}"))
                    .expect("create test database");
                let mut url =
                    url::Url::parse(&base).expect("CAPTIONFEED_TEST_POSTGRES_URL is a URL");
                url.set_path(&name);
                TestDatabase {
                    url: DatabaseUrl::Postgres(url.to_string()),
                    _dir: None,
                    drop_pg: Some((base, name)),
                }
            }
        }
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        if let Some((base, name)) = &self.drop_pg {
            if let Ok(mut admin) = diesel::PgConnection::establish(base) {
                let _ =
                    admin.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
            }
        }
    }
}

fn uuid_like() -> String {
    use rand::Rng as _;
    let n: u64 = rand::thread_rng().gen();
    format!("{n:016x}")
}

/// Settings for a test: random port, private networks allowed (feeds are on loopback).
pub fn test_settings(db: &TestDatabase) -> Settings {
    let mut settings = Settings::from_vars(Vec::new()).expect("defaults");
    settings.database_url = db.url.clone();
    settings.database_pool_size = 4;
    settings.bind = "127.0.0.1:0".parse().expect("address");
    settings.allow_private_networks = true;
    // Verification mail of tests that set no SMTP server stays out of the work tree.
    settings.mail_dir = std::env::temp_dir().join("captionfeed-test-mail");
    settings
}

pub struct TestApp {
    pub address: String,
    pub client: reqwest::Client,
    pub poller: Poller,
    pub db: captionfeed::db::Db,
    pub settings: Settings,
    _database: TestDatabase,
}

pub async fn spawn_app(backend: Backend) -> TestApp {
    spawn_app_with(backend, |_| {}).await
}

pub async fn spawn_app_with(backend: Backend, adjust: impl FnOnce(&mut Settings)) -> TestApp {
    let database = TestDatabase::new(backend);
    let mut settings = test_settings(&database);
    adjust(&mut settings);
    // The process as `serve` assembles it; the tests run the workers' passes themselves.
    let app = captionfeed::app::build(settings.clone())
        .await
        .expect("database opens and migrates, app builds");
    let web = app.web.expect("the test settings serve the web");
    let address = format!("http://127.0.0.1:{}", web.port());
    tokio::spawn(web.run_until_stopped());
    let (poller, db) = (app.poller, app.db);
    TestApp {
        address,
        client: new_browser(),
        poller,
        db,
        settings,
        _database: database,
    }
}

/// A client that keeps cookies and does not follow redirects, so tests see each answer.
pub fn new_browser() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
}

/// The CSRF token in a page's forms.
pub fn csrf_token(html: &str) -> String {
    let marker = r#"name="csrf_token" value=""#;
    let start = html
        .find(marker)
        .expect("the page has a form with a CSRF token")
        + marker.len();
    let end = html[start..].find('"').expect("token ends") + start;
    html[start..end].to_string()
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.get_as(&self.client, path).await
    }

    pub async fn get_as(&self, client: &reqwest::Client, path: &str) -> reqwest::Response {
        client
            .get(self.url(path))
            .send()
            .await
            .expect("GET answers")
    }

    pub async fn get_html(&self, path: &str) -> String {
        self.get(path).await.text().await.expect("body")
    }

    pub async fn get_html_as(&self, client: &reqwest::Client, path: &str) -> String {
        self.get_as(client, path).await.text().await.expect("body")
    }

    /// Submits a form the way a browser would: with the token from the page at `form_page`.
    pub async fn submit(
        &self,
        form_page: &str,
        action: &str,
        fields: &[(&str, &str)],
    ) -> reqwest::Response {
        self.submit_as(&self.client, form_page, action, fields)
            .await
    }

    pub async fn submit_as(
        &self,
        client: &reqwest::Client,
        form_page: &str,
        action: &str,
        fields: &[(&str, &str)],
    ) -> reqwest::Response {
        let page = client
            .get(self.url(form_page))
            .send()
            .await
            .expect("form page")
            .text()
            .await
            .expect("body");
        let token = csrf_token(&page);
        let mut all: Vec<(&str, &str)> = vec![("csrf_token", token.as_str())];
        all.extend_from_slice(fields);
        client
            .post(self.url(action))
            .form(&all)
            .send()
            .await
            .expect("POST answers")
    }

    pub async fn sign_up(&self, email: &str) -> reqwest::Response {
        self.sign_up_as(&self.client, email).await
    }

    /// Signs up as a person would: the sign-up form (whose answer never says whether the
    /// address had an account), then the login form; returns the login's answer.
    pub async fn sign_up_as(&self, client: &reqwest::Client, email: &str) -> reqwest::Response {
        let signed_up = self
            .submit_as(
                client,
                "/signup",
                "/signup",
                &[("email", email), ("password", "correct horse battery")],
            )
            .await;
        assert_eq!(
            (signed_up.status().as_u16(), location(&signed_up)),
            (303, "/signup/check-inbox".to_string()),
            "signing up {email}"
        );
        self.submit_as(
            client,
            "/login",
            "/login",
            &[("email", email), ("password", "correct horse battery")],
        )
        .await
    }

    /// Adds a feed; returns the feed page's path.
    pub async fn add_feed(&self, url: &str) -> String {
        self.add_feed_as(&self.client, url).await
    }

    pub async fn add_feed_as(&self, client: &reqwest::Client, url: &str) -> String {
        let response = self
            .submit_as(client, "/feeds/new", "/feeds", &[("url", url)])
            .await;
        assert_eq!(
            response.status().as_u16(),
            303,
            "adding {url}: {}",
            response.text().await.unwrap_or_default()
        );
        location(&response)
    }

    /// Signs up `email` in a browser of its own and returns a fresh API token for the account.
    pub async fn api_token(&self, email: &str) -> String {
        self.sign_up_as(&new_browser(), email).await;
        let email = captionfeed::accounts::validate::Email::parse(email).expect("email");
        self.db
            .run(move |conn| {
                let user =
                    captionfeed::accounts::users::find_by_email(conn, &email)?.expect("signed up");
                captionfeed::accounts::tokens::create(conn, &user.user_id(), "tests")
                    .map(|(_, secret)| secret)
            })
            .await
            .expect("token")
    }

    pub async fn poll(&self) -> PassReport {
        self.poller.run_once().await.expect("poll pass")
    }

    /// A second process on the same database: its own connection pool, fetcher and poller.
    pub fn another_replica(&self) -> Poller {
        let db = captionfeed::db::Db::connect(&self._database.url, 4).expect("second pool");
        let fetcher = captionfeed::feeds::Fetcher::new(captionfeed::feeds::FetchConfig {
            allow_private_networks: true,
            ..Default::default()
        })
        .expect("fetcher");
        Poller::new(db, fetcher, std::time::Duration::from_secs(30 * 60))
    }

    /// Claims the due feeds as a worker would, without refreshing them (a worker that
    /// crashed, or one that is slow).
    pub async fn claim_due(&self, lease: chrono::Duration) -> Vec<captionfeed::feeds::store::Feed> {
        self.db
            .run(move |conn| {
                let now = captionfeed::db::now();
                captionfeed::poller::leases::claim_due_feeds(conn, now, now + lease, 100)
                    .map_err(captionfeed::db::DbError::from)
            })
            .await
            .expect("claim")
    }

    /// Takes the PostgreSQL database away under the running app (connections killed).
    pub fn drop_postgres_database(&self) {
        let (base, name) = self._database.drop_pg.as_ref().expect("a PostgreSQL test");
        let mut admin = diesel::PgConnection::establish(base).expect("admin connection");
        admin
            .batch_execute(&format!("DROP DATABASE {name} WITH (FORCE)"))
            .expect("drop database");
    }

    /// Ends every server process of the app's PostgreSQL database, as a PostgreSQL
    /// restart or an administrator would; returns how many there were.
    pub fn terminate_postgres_backends(&self) -> i64 {
        #[derive(diesel::QueryableByName)]
        struct Ended {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            n: i64,
        }
        use diesel::RunQueryDsl as _;
        let (base, name) = self._database.drop_pg.as_ref().expect("a PostgreSQL test");
        let mut admin = diesel::PgConnection::establish(base).expect("admin connection");
        diesel::sql_query(
            "SELECT count(pg_terminate_backend(pid)) AS n FROM pg_stat_activity \
             WHERE datname = $1 AND pid <> pg_backend_pid()",
        )
        .bind::<diesel::sql_types::Text, _>(name)
        .get_result::<Ended>(&mut admin)
        .expect("terminate backends")
        .n
    }

    /// Runs SQL on the test's database (to look at rows, or to move time along).
    pub async fn sql(&self, statement: &str) {
        let statement = statement.to_string();
        self.db
            .run(move |conn| {
                conn.batch_execute(&statement)
                    .map_err(captionfeed::db::DbError::from)
            })
            .await
            .expect("SQL runs");
    }

    /// The number a `SELECT count(*) AS n ...` query answers.
    pub async fn sql_count(&self, query: &str) -> i64 {
        #[derive(diesel::QueryableByName)]
        struct Counted {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            n: i64,
        }
        let query = query.to_string();
        self.db
            .run(move |conn| {
                use diesel::RunQueryDsl as _;
                diesel::sql_query(&query)
                    .get_result::<Counted>(conn)
                    .map_err(captionfeed::db::DbError::from)
            })
            .await
            .unwrap_or_else(|e| panic!("counting: {e}"))
            .n
    }

    /// The text a `SELECT … AS v …` query answers.
    pub async fn sql_text(&self, query: &str) -> String {
        #[derive(diesel::QueryableByName)]
        struct Text {
            #[diesel(sql_type = diesel::sql_types::Text)]
            v: String,
        }
        let query = query.to_string();
        self.db
            .run(move |conn| {
                use diesel::RunQueryDsl as _;
                diesel::sql_query(&query)
                    .get_result::<Text>(conn)
                    .map_err(captionfeed::db::DbError::from)
            })
            .await
            .unwrap_or_else(|e| panic!("reading: {e}"))
            .v
    }

    /// Makes `email`'s account an operator, as `captionfeed admin grant` does.
    pub async fn grant_operator(&self, email: &str) {
        let email = email.to_string();
        self.db
            .run(move |conn| captionfeed::operators::grant(conn, &email))
            .await
            .expect("operator granted");
    }

    /// Makes every feed due, as if its next check time had come (the scheduler's floor
    /// keeps real checks a minute apart; tests do not wait that long).
    pub async fn make_all_due(&self) {
        self.sql("UPDATE feeds SET next_check_at = created_at")
            .await;
    }

    /// Every feed row, by URL.
    pub async fn feed_rows(&self) -> Vec<captionfeed::feeds::store::Feed> {
        use captionfeed::db::schema::feeds;
        use diesel::prelude::*;
        self.db
            .run(|conn| {
                feeds::table
                    .order(feeds::url)
                    .select(captionfeed::feeds::store::Feed::as_select())
                    .load(conn)
                    .map_err(captionfeed::db::DbError::from)
            })
            .await
            .expect("feeds load")
    }
}

pub fn location(response: &reqwest::Response) -> String {
    response
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .expect("a redirect")
        .to_string()
}

/// One served document: status, headers (content type included), body.
#[derive(Clone)]
struct Served {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

/// Served documents by path.
type Files = Arc<Mutex<HashMap<String, Served>>>;

/// Requests being answered right now, and the most seen at once.
#[derive(Default)]
struct InFlight {
    now: usize,
    max: usize,
}

/// A web server on loopback serving feed documents; `set` changes one, `hits` counts requests.
#[derive(Clone)]
pub struct FeedServer {
    pub base: String,
    files: Files,
    hits: Arc<Mutex<HashMap<String, usize>>>,
    in_flight: Arc<Mutex<InFlight>>,
    delay: Arc<Mutex<std::time::Duration>>,
}

impl FeedServer {
    pub async fn start() -> FeedServer {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind feed server");
        let port = listener.local_addr().expect("address").port();
        let files: Files = Arc::default();
        let hits: Arc<Mutex<HashMap<String, usize>>> = Arc::default();
        let in_flight: Arc<Mutex<InFlight>> = Arc::default();
        let delay: Arc<Mutex<std::time::Duration>> = Arc::default();
        let (f, h, i, d) = (
            files.clone(),
            hits.clone(),
            in_flight.clone(),
            delay.clone(),
        );
        let server = HttpServer::new(move || {
            let (f, h, i, d) = (f.clone(), h.clone(), i.clone(), d.clone());
            App::new().default_service(web::to(move |req: HttpRequest| {
                let (f, h, i, d) = (f.clone(), h.clone(), i.clone(), d.clone());
                async move {
                    let path = req.path().to_string();
                    *h.lock().expect("hits").entry(path.clone()).or_default() += 1;
                    {
                        let mut i = i.lock().expect("in flight");
                        i.now += 1;
                        i.max = i.max.max(i.now);
                    }
                    let pause = *d.lock().expect("delay");
                    tokio::time::sleep(pause).await;
                    i.lock().expect("in flight").now -= 1;
                    let Some(served) = f.lock().expect("files").get(&path).cloned() else {
                        return HttpResponse::NotFound().body("no such feed");
                    };
                    let etag = served
                        .headers
                        .iter()
                        .find(|(n, _)| n.eq_ignore_ascii_case("etag"))
                        .map(|(_, v)| v.clone());
                    let asked = req
                        .headers()
                        .get("if-none-match")
                        .and_then(|v| v.to_str().ok());
                    let status = if etag.is_some() && asked == etag.as_deref() {
                        304
                    } else {
                        served.status
                    };
                    let mut response = HttpResponse::build(
                        actix_web::http::StatusCode::from_u16(status).expect("status"),
                    );
                    for (name, value) in &served.headers {
                        response.insert_header((name.as_str(), value.as_str()));
                    }
                    if status == 304 {
                        response.finish()
                    } else {
                        response.body(served.body)
                    }
                }
            }))
        })
        .workers(4)
        .listen(listener)
        .expect("listen")
        .run();
        tokio::spawn(server);
        FeedServer {
            base: format!("http://127.0.0.1:{port}"),
            files,
            hits,
            in_flight,
            delay,
        }
    }

    /// The address `path` is (or will be) served at.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub fn set(&self, path: &str, content_type: &str, body: impl Into<Vec<u8>>) -> String {
        self.set_status(path, 200, content_type, body)
    }

    pub fn set_status(
        &self,
        path: &str,
        status: u16,
        content_type: &str,
        body: impl Into<Vec<u8>>,
    ) -> String {
        self.respond(path, status, &[("content-type", content_type)], body)
    }

    /// Serves `body` at `path` with this status and these headers.
    pub fn respond(
        &self,
        path: &str,
        status: u16,
        headers: &[(&str, &str)],
        body: impl Into<Vec<u8>>,
    ) -> String {
        let served = Served {
            status,
            headers: headers
                .iter()
                .map(|(n, v)| (n.to_string(), v.to_string()))
                .collect(),
            body: body.into(),
        };
        self.files
            .lock()
            .expect("files")
            .insert(path.to_string(), served);
        format!("{}{}", self.base, path)
    }

    /// Makes every answer wait this long (to see how many requests overlap).
    pub fn set_delay(&self, delay: std::time::Duration) {
        *self.delay.lock().expect("delay") = delay;
    }

    /// The most requests this server was answering at the same time.
    pub fn max_in_flight(&self) -> usize {
        self.in_flight.lock().expect("in flight").max
    }

    /// Forgets the requests counted so far: adding a feed looks at it once, and a test of
    /// the poller counts the poller's fetches only.
    pub fn clear_hits(&self) {
        self.hits.lock().expect("hits").clear();
    }

    pub fn hits(&self, path: &str) -> usize {
        self.hits
            .lock()
            .expect("hits")
            .get(path)
            .copied()
            .unwrap_or(0)
    }
}

/// An RSS 2.0 document with the given (guid, title) items, newest first.
pub fn rss(title: &str, items: &[(&str, &str)]) -> String {
    rss_with(title, "", items)
}

/// [`rss`] with extra channel elements (like `<ttl>`). The site's address follows the
/// title (`Blog A` is at `https://blog-a.example/`): feeds of one site are one blog.
pub fn rss_with(title: &str, channel_extra: &str, items: &[(&str, &str)]) -> String {
    let site: String = title
        .to_lowercase()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    let mut xml = format!(
        r#"<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>{title}</title><link>https://{site}.example/</link><description>d</description>{channel_extra}"#
    );
    for (i, (guid, item_title)) in items.iter().enumerate() {
        xml.push_str(&format!(
            "<item><guid>{guid}</guid><title>{item_title}</title><link>https://blog.example/{guid}</link>\
             <description>Summary of {item_title}: what the post says, in a sentence or two.</description>\
             <pubDate>Mon, {day:02} Nov 2026 10:00:00 +0000</pubDate><category>Rust</category></item>",
            day = 20 - i
        ));
    }
    xml.push_str("</channel></rss>");
    xml
}

/// A loopback address where nothing listens until a test starts a server there: a random
/// 127.x.y.z (the other tests' servers all listen on 127.0.0.1) and a fixed port. A freed
/// random port would not do: tests run in parallel and another one's server may be given
/// that port a moment later (seen once in CI: the "dead" server then received mail).
pub fn unused_loopback_address() -> std::net::SocketAddr {
    use rand::Rng as _;
    let mut rng = rand::thread_rng();
    let ip = std::net::Ipv4Addr::new(
        127,
        rng.gen_range(1..=254),
        rng.gen(),
        rng.gen_range(1..=254),
    );
    std::net::SocketAddr::from((ip, 2525))
}
