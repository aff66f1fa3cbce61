//! Fetcher tests against a throwaway HTTP/1.1 server on 127.0.0.1.

use std::io::Write as _;
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

use super::*;

/// What the test server saw, so tests can assert on request headers.
#[derive(Debug, Clone)]
struct Seen {
    path: String,
    headers: Vec<(String, String)>,
}

impl Seen {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

type Handler = fn(&Seen) -> Vec<u8>;

/// Starts a server answering every request with `handler`'s canned bytes.
async fn serve(handler: Handler) -> (String, Arc<Mutex<Vec<Seen>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let log = Arc::new(Mutex::new(Vec::new()));
    let log2 = log.clone();
    tokio::spawn(async move {
        loop {
            let Ok((mut sock, _)) = listener.accept().await else {
                return;
            };
            let log = log2.clone();
            tokio::spawn(async move {
                let mut buf = Vec::new();
                let mut chunk = [0u8; 4096];
                while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
                    match sock.read(&mut chunk).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => buf.extend_from_slice(&chunk[..n]),
                    }
                }
                let text = String::from_utf8_lossy(&buf).to_string();
                let mut lines = text.split("\r\n");
                let path = lines
                    .next()
                    .and_then(|l| l.split(' ').nth(1))
                    .unwrap_or("/")
                    .to_string();
                let headers = lines
                    .take_while(|l| !l.is_empty())
                    .filter_map(|l| l.split_once(':'))
                    .map(|(n, v)| (n.trim().to_string(), v.trim().to_string()))
                    .collect();
                let seen = Seen { path, headers };
                let reply = handler(&seen);
                log.lock().unwrap().push(seen);
                let _ = sock.write_all(&reply).await;
                let _ = sock.shutdown().await;
            });
        }
    });
    (format!("http://{addr}"), log)
}

fn response(status: &str, headers: &[(&str, &str)], body: &[u8]) -> Vec<u8> {
    let mut out = format!("HTTP/1.1 {status}\r\nConnection: close\r\n");
    for (n, v) in headers {
        out.push_str(&format!("{n}: {v}\r\n"));
    }
    out.push_str(&format!("Content-Length: {}\r\n\r\n", body.len()));
    let mut out = out.into_bytes();
    out.extend_from_slice(body);
    out
}

const FEED: &[u8] =
    b"<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>t</title></channel></rss>";

fn conditional(seen: &Seen) -> Vec<u8> {
    if seen.header("if-none-match") == Some("\"v1\"") {
        return response("304 Not Modified", &[("ETag", "\"v1\"")], b"");
    }
    response(
        "200 OK",
        &[
            ("Content-Type", "application/rss+xml"),
            ("ETag", "\"v1\""),
            ("Last-Modified", "Wed, 21 Oct 2015 07:28:00 GMT"),
        ],
        FEED,
    )
}

fn local(cfg: FetchConfig) -> Fetcher {
    Fetcher::new(FetchConfig {
        allow_private_networks: true,
        ..cfg
    })
    .unwrap()
}

#[tokio::test]
async fn fetches_body_and_returns_validators_verbatim() {
    let (base, log) = serve(conditional).await;
    let url = format!("{base}/feed.xml");
    let out = local(FetchConfig::default())
        .fetch(&url, &Validators::default())
        .await
        .unwrap();
    let FetchOutcome::Fetched {
        body,
        final_url,
        validators,
        ..
    } = out
    else {
        panic!("expected a body, got {out:?}");
    };
    assert_eq!(&body[..], FEED);
    assert_eq!(final_url.as_str(), url);
    assert_eq!(validators.etag.as_deref(), Some("\"v1\""));
    assert_eq!(
        validators.last_modified.as_deref(),
        Some("Wed, 21 Oct 2015 07:28:00 GMT")
    );
    let seen = log.lock().unwrap()[0].clone();
    assert_eq!(
        seen.header("user-agent"),
        Some(default_user_agent().as_str())
    );
    assert!(seen
        .header("accept")
        .unwrap()
        .contains("application/rss+xml"));
    assert!(seen.header("if-none-match").is_none());
    assert!(seen.header("cookie").is_none());
}

#[tokio::test]
async fn sends_validators_and_maps_304() {
    let (base, log) = serve(conditional).await;
    let v = Validators {
        etag: Some("\"v1\"".into()),
        last_modified: Some("Wed, 21 Oct 2015 07:28:00 GMT".into()),
    };
    let cfg = FetchConfig {
        user_agent: "test-agent/1".into(),
        ..Default::default()
    };
    let out = local(cfg)
        .fetch(&format!("{base}/feed.xml"), &v)
        .await
        .unwrap();
    assert!(matches!(out, FetchOutcome::NotModified), "{out:?}");
    let seen = log.lock().unwrap()[0].clone();
    assert_eq!(seen.header("if-none-match"), Some("\"v1\""));
    assert_eq!(
        seen.header("if-modified-since"),
        Some("Wed, 21 Oct 2015 07:28:00 GMT")
    );
    assert_eq!(seen.header("user-agent"), Some("test-agent/1"));
}

#[tokio::test]
async fn non_success_status_is_an_error_with_a_clear_message() {
    let (base, _) = serve(|_| response("404 Not Found", &[], b"nope")).await;
    let err = local(FetchConfig::default())
        .fetch(&format!("{base}/missing"), &Validators::default())
        .await
        .unwrap_err();
    assert!(
        matches!(err, FetchError::Status { status: 404, .. }),
        "{err:?}"
    );
    assert_eq!(err.to_string(), "HTTP 404 Not Found");
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    enc.write_all(data).unwrap();
    enc.finish().unwrap()
}

#[tokio::test]
async fn decompressed_size_is_capped() {
    fn bomb(_: &Seen) -> Vec<u8> {
        // ~1 KiB on the wire, 1 MiB once inflated.
        response(
            "200 OK",
            &[("Content-Encoding", "gzip")],
            &gzip(&vec![b' '; 1024 * 1024]),
        )
    }
    let (base, _) = serve(bomb).await;
    let cfg = FetchConfig {
        max_body_bytes: 64 * 1024,
        ..Default::default()
    };
    let err = local(cfg)
        .fetch(&format!("{base}/bomb"), &Validators::default())
        .await
        .unwrap_err();
    assert!(
        matches!(err, FetchError::TooLarge { limit: 65536 }),
        "{err:?}"
    );
    assert_eq!(err.to_string(), "response larger than 64 KiB");
}

#[tokio::test]
async fn gzip_under_the_cap_is_decoded() {
    fn small(_: &Seen) -> Vec<u8> {
        response("200 OK", &[("Content-Encoding", "gzip")], &gzip(FEED))
    }
    let (base, log) = serve(small).await;
    let out = local(FetchConfig::default())
        .fetch(&format!("{base}/feed"), &Validators::default())
        .await
        .unwrap();
    let FetchOutcome::Fetched { body, .. } = out else {
        panic!("expected a body");
    };
    assert_eq!(&body[..], FEED);
    let seen = log.lock().unwrap()[0].clone();
    assert!(seen.header("accept-encoding").unwrap().contains("gzip"));
}

#[tokio::test]
async fn plain_body_over_the_cap_is_refused() {
    let (base, _) = serve(|_| response("200 OK", &[], &[b'x'; 2000])).await;
    let cfg = FetchConfig {
        max_body_bytes: 1000,
        ..Default::default()
    };
    let err = local(cfg)
        .fetch(&format!("{base}/big"), &Validators::default())
        .await
        .unwrap_err();
    assert_eq!(err.to_string(), "response larger than 1000 bytes");
}

#[tokio::test]
async fn follows_redirects_and_reports_final_url() {
    fn redirecting(seen: &Seen) -> Vec<u8> {
        match seen.path.as_str() {
            "/old" => response("301 Moved Permanently", &[("Location", "/middle")], b""),
            "/middle" => response("302 Found", &[("Location", "/feed.xml")], b""),
            _ => response("200 OK", &[], FEED),
        }
    }
    let (base, _) = serve(redirecting).await;
    let out = local(FetchConfig::default())
        .fetch(&format!("{base}/old"), &Validators::default())
        .await
        .unwrap();
    let FetchOutcome::Fetched { final_url, .. } = out else {
        panic!("expected a body");
    };
    assert_eq!(final_url.as_str(), format!("{base}/feed.xml"));
}

#[tokio::test]
async fn redirect_loops_stop() {
    let (base, log) = serve(|_| response("302 Found", &[("Location", "/again")], b"")).await;
    let err = local(FetchConfig::default())
        .fetch(&format!("{base}/start"), &Validators::default())
        .await
        .unwrap_err();
    assert_eq!(err, FetchError::TooManyRedirects(MAX_REDIRECTS));
    assert_eq!(log.lock().unwrap().len(), MAX_REDIRECTS + 1);
}

#[tokio::test]
async fn redirect_hops_are_checked() {
    let (base, _) =
        serve(|_| response("302 Found", &[("Location", "ftp://example.com/feed")], b"")).await;
    let err = local(FetchConfig::default())
        .fetch(&format!("{base}/start"), &Validators::default())
        .await
        .unwrap_err();
    assert!(matches!(err, FetchError::Refused(_)), "{err:?}");
}

#[tokio::test]
async fn unfollowable_redirects_say_so() {
    let (base, _) = serve(|_| response("302 Found", &[("Location", "http://[::1")], b"")).await;
    let err = local(FetchConfig::default())
        .fetch(&format!("{base}/start"), &Validators::default())
        .await
        .unwrap_err();
    assert!(
        matches!(err, FetchError::Status { status: 302, .. }),
        "{err:?}"
    );
    assert_eq!(err.to_string(), "HTTP 302 Found (redirect not followed)");
}

#[tokio::test]
async fn private_addresses_are_refused_by_default() {
    let (base, log) = serve(conditional).await;
    let fetcher = Fetcher::new(FetchConfig::default()).unwrap();
    let err = fetcher
        .fetch(&format!("{base}/feed.xml"), &Validators::default())
        .await
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "refused: 127.0.0.1 is not a public address"
    );
    let port = base.rsplit(':').next().unwrap();
    let err = fetcher
        .fetch(&format!("http://localhost:{port}/"), &Validators::default())
        .await
        .unwrap_err();
    assert!(matches!(err, FetchError::Refused(_)), "{err:?}");
    assert!(
        log.lock().unwrap().is_empty(),
        "no request may reach the server"
    );
}

#[tokio::test]
async fn connection_refused_is_reported() {
    // Port 1: nothing listens there, whereas a freed random port may be handed to another
    // test's server running in parallel.
    let err = local(FetchConfig::default())
        .fetch("http://127.0.0.1:1/", &Validators::default())
        .await
        .unwrap_err();
    assert_eq!(err.to_string(), "connection refused");
}

#[tokio::test]
async fn slow_servers_time_out() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((sock, _)) = listener.accept().await {
            held.push(sock); // accept, then never answer
        }
    });
    let cfg = FetchConfig {
        timeout: Duration::from_millis(300),
        ..Default::default()
    };
    let err = local(cfg)
        .fetch(&format!("http://{addr}/"), &Validators::default())
        .await
        .unwrap_err();
    assert_eq!(err.to_string(), "timed out after 0.3s");
}

#[tokio::test]
async fn bad_urls_are_rejected_before_any_request() {
    let err = local(FetchConfig::default())
        .fetch("not a url", &Validators::default())
        .await
        .unwrap_err();
    assert!(err.to_string().starts_with("invalid feed URL"), "{err}");
}

#[tokio::test]
async fn resolver_refusals_surface_through_reqwest() {
    // Bypass check_url so the host name really reaches GuardedResolver.
    let client = reqwest::Client::builder()
        .no_proxy()
        .dns_resolver(Arc::new(GuardedResolver::default()))
        .build()
        .unwrap();
    let err = client
        .get("http://localhost./feed")
        .send()
        .await
        .unwrap_err();
    let mapped = FetchError::from_reqwest(&err, DEFAULT_TIMEOUT);
    assert_eq!(
        mapped.to_string(),
        "refused: localhost is not a public address"
    );
}

/// A listener that records whether anything connected to it.
struct Tripwire {
    listener: std::net::TcpListener,
}

impl Tripwire {
    fn on(ip: &str) -> Tripwire {
        let listener = std::net::TcpListener::bind((ip, 0)).unwrap();
        listener.set_nonblocking(true).unwrap();
        Tripwire { listener }
    }

    fn port(&self) -> u16 {
        self.listener.local_addr().unwrap().port()
    }

    fn was_connected(&self) -> bool {
        match self.listener.accept() {
            Ok(_) => true,
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => false,
            Err(e) => panic!("accept failed: {e}"),
        }
    }
}

#[tokio::test]
async fn loopback_in_any_spelling_is_refused_before_connecting() {
    let wire = Tripwire::on("127.0.0.1");
    let wire6 = Tripwire::on("::");
    let fetcher = Fetcher::new(FetchConfig::default()).unwrap();
    let port = wire.port();
    let port6 = wire6.port();
    for url in [
        format!("http://127.0.0.1:{port}/"),
        format!("http://2130706433:{port}/"),
        format!("http://0x7f.1:{port}/"),
        format!("http://0x7f000001:{port}/"),
        format!("http://0177.0.0.1:{port}/"),
        format!("http://127.1:{port}/"),
        format!("http://127.0.0.1.:{port}/"),
        format!("http://localhost:{port}/"),
        format!("http://localhost.:{port}/"),
        format!("http://[::ffff:127.0.0.1]:{port}/"),
        format!("http://[::ffff:7f00:1]:{port}/"),
        format!("http://[::127.0.0.1]:{port}/"),
        format!("http://[::1]:{port6}/"),
        format!("http://[::]:{port6}/"),
        format!("http://0.0.0.0:{port}/"),
        format!("https://[::ffff:127.0.0.1]:{port}/"),
    ] {
        let err = fetcher
            .fetch(&url, &Validators::default())
            .await
            .expect_err(&url);
        assert!(matches!(err, FetchError::Refused(_)), "{url}: {err:?}");
        assert!(err.to_string().starts_with("refused: "), "{url}: {err}");
    }
    assert!(!wire.was_connected(), "nothing may reach 127.0.0.1");
    assert!(!wire6.was_connected(), "nothing may reach [::]");
}

#[tokio::test]
async fn the_tripwire_does_see_a_connection_from_an_allowed_network() {
    // The control for the test above: the same listener does notice a fetch.
    let wire = Tripwire::on("127.0.0.1");
    let fetcher = Fetcher::new(FetchConfig {
        allowed_networks: vec!["127.0.0.0/8".parse().unwrap()],
        timeout: Duration::from_millis(300),
        ..Default::default()
    })
    .unwrap();
    let url = format!("http://2130706433:{}/", wire.port());
    let err = fetcher
        .fetch(&url, &Validators::default())
        .await
        .unwrap_err();
    assert!(!matches!(err, FetchError::Refused(_)), "{err:?}");
    assert!(wire.was_connected());
}

#[tokio::test]
async fn the_allow_list_opens_exactly_what_it_names_even_across_redirects() {
    // The feed server is on 127.0.0.1 (allowed); it redirects to 127.0.0.2 (not allowed).
    let wire = Tripwire::on("127.0.0.2");
    let (base, log) = serve(|seen| match seen.path.as_str() {
        "/feed.xml" => response("200 OK", &[], FEED),
        _ => response(
            "301 Moved Permanently",
            &[("Location", LOCATION.get().unwrap())],
            b"",
        ),
    })
    .await;
    static LOCATION: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    LOCATION
        .set(format!("http://2130706434:{}/feed.xml", wire.port()))
        .unwrap();
    let fetcher = Fetcher::new(FetchConfig {
        allowed_networks: vec!["127.0.0.1/32".parse().unwrap()],
        ..Default::default()
    })
    .unwrap();
    let out = fetcher
        .fetch(&format!("{base}/feed.xml"), &Validators::default())
        .await;
    assert!(matches!(out, Ok(FetchOutcome::Fetched { .. })), "{out:?}");
    let err = fetcher
        .fetch(&format!("{base}/old"), &Validators::default())
        .await
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "refused: 127.0.0.2 is not a public address"
    );
    assert_eq!(log.lock().unwrap().len(), 2);
    assert!(
        !wire.was_connected(),
        "the redirect target got no connection"
    );
}
