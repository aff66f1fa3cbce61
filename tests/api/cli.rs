use std::io::Write as _;
use std::process::{Command, Stdio};

use crate::helpers::{rss, FeedServer};

fn captionfeed() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_captionfeed"));
    // The tests' own variables must not reach the binary as settings.
    for (key, _) in std::env::vars() {
        if key.starts_with("CAPTIONFEED_") {
            cmd.env_remove(key);
        }
    }
    cmd
}

#[test]
fn preview_prints_one_json_object_per_post() {
    let output = captionfeed()
        .args([
            "preview",
            "tests/fixtures/feeds/rss2_content_encoded.xml",
            "--json",
            "--platform",
            "x,bluesky",
        ])
        .output()
        .expect("runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stdout = String::from_utf8(output.stdout).expect("utf-8");
    let lines: Vec<serde_json::Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).expect("each line is JSON"))
        .collect();
    assert!(!lines.is_empty());
    for post in &lines {
        assert!(post["title"].is_string());
        assert!(post.get("url").is_some() && post.get("published").is_some());
        let captions = post["captions"].as_array().expect("captions");
        let platforms: Vec<&str> = captions
            .iter()
            .map(|c| c["platform"].as_str().unwrap())
            .collect();
        assert_eq!(platforms, ["x", "bluesky"]);
        for c in captions {
            let (length, limit) = (c["length"].as_u64().unwrap(), c["limit"].as_u64().unwrap());
            assert!(length > 0 && length <= limit, "{c}");
            assert!(c["text"]
                .as_str()
                .unwrap()
                .contains(post["title"].as_str().unwrap()));
        }
    }
}

#[tokio::test]
async fn preview_reads_a_feed_over_http() {
    let feeds = FeedServer::start().await;
    let url = feeds.set(
        "/feed.xml",
        "application/rss+xml",
        rss("Blog", &[("a", "Hello over HTTP")]),
    );
    let output = tokio::task::spawn_blocking(move || {
        captionfeed()
            .env("CAPTIONFEED_ALLOW_PRIVATE_NETWORKS", "true")
            .args(["preview", &url, "--json"])
            .output()
            .expect("runs")
    })
    .await
    .expect("joined");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let line: serde_json::Value = serde_json::from_slice(&output.stdout).expect("one JSON line");
    assert_eq!(line["title"], "Hello over HTTP");
    assert_eq!(line["captions"].as_array().map(Vec::len), Some(7));
}

#[test]
fn preview_refuses_loopback_feeds_by_default() {
    let output = captionfeed()
        .args(["preview", "http://127.0.0.1:9/feed.xml"])
        .output()
        .expect("runs");
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("not a public address"));
}

#[test]
fn preview_of_a_malformed_file_says_so() {
    let output = captionfeed()
        .args(["preview", "tests/fixtures/feeds/malformed.xml"])
        .output()
        .expect("runs");
    assert!(!output.status.success());
    assert!(!String::from_utf8_lossy(&output.stderr).trim().is_empty());
}

#[test]
fn measure_prints_length_over_limit() {
    let output = captionfeed()
        .args(["measure", "--platform", "bluesky", "héllo"])
        .output()
        .expect("runs");
    assert_eq!(String::from_utf8_lossy(&output.stdout).trim(), "5/300");
    let bad = captionfeed()
        .args(["measure", "--platform", "myspace", "x"])
        .output()
        .expect("runs");
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("unknown platform"));
}

/// Scripts can ask "does it fit?" with the exit status: 0 fits, 1 does not, 2 an error.
#[test]
fn measure_exits_1_when_the_text_does_not_fit() {
    let fits = captionfeed()
        .args(["measure", "--platform", "x", "short"])
        .output()
        .expect("runs");
    assert_eq!(fits.status.code(), Some(0), "{fits:?}");
    let long = "a".repeat(301);
    for json in [false, true] {
        let mut cmd = captionfeed();
        cmd.args(["measure", "--platform", "x", &long]);
        if json {
            cmd.arg("--json");
        }
        let output = cmd.output().expect("runs");
        assert_eq!(output.status.code(), Some(1), "{output:?}");
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(stdout.contains("301"), "{stdout}");
        assert!(output.stderr.is_empty(), "{output:?}");
    }
    let unknown = captionfeed()
        .args(["measure", "--platform", "myspace", "x"])
        .output()
        .expect("runs");
    assert_eq!(unknown.status.code(), Some(2), "{unknown:?}");
}

/// `captionfeed preview FEED | head -1`: the reader goes away after one line, and the
/// command ends quietly, as command-line tools do.
#[test]
fn a_closed_pipe_ends_a_command_quietly() {
    let mut child = captionfeed()
        .args(["preview", "tests/fixtures/feeds/rss2_content_encoded.xml"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("runs");
    // Closing our end at once: every line the command writes meets a closed pipe.
    drop(child.stdout.take());
    let output = child.wait_with_output().expect("ends");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        !stderr.contains("panicked") && !stderr.contains("Broken pipe"),
        "{stderr}"
    );
    assert!(output.status.success(), "{:?} {stderr}", output.status);
}

#[test]
fn an_invalid_setting_stops_the_start_and_names_the_variable() {
    let output = captionfeed()
        .env("CAPTIONFEED_BIND", "everywhere")
        .arg("migrate")
        .output()
        .expect("runs");
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("CAPTIONFEED_BIND"));
}

#[test]
fn user_create_reads_the_password_from_stdin() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = format!("sqlite://{}", dir.path().join("cli.db").display());
    let create = |email: &str, password: &str| {
        let mut child = captionfeed()
            .env("CAPTIONFEED_DATABASE_URL", &db)
            .args(["user", "create", "--email", email])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawns");
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(password.as_bytes())
            .expect("write");
        child.wait_with_output().expect("runs")
    };
    let ok = create("ann@example.com", "correct horse battery\n");
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    assert!(String::from_utf8_lossy(&ok.stdout).contains("ann@example.com"));
    let again = create("ann@example.com", "correct horse battery\n");
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("already exists"));
    let token = |email: &str| {
        captionfeed()
            .env("CAPTIONFEED_DATABASE_URL", &db)
            .args(["token", "create", "--email", email, "--name", "script"])
            .output()
            .expect("runs")
    };
    let made = token("ann@example.com");
    assert!(
        made.status.success(),
        "{}",
        String::from_utf8_lossy(&made.stderr)
    );
    assert!(String::from_utf8_lossy(&made.stdout)
        .trim()
        .starts_with("cf_"));
    let nobody = token("nobody@example.com");
    assert!(!nobody.status.success());
    assert!(String::from_utf8_lossy(&nobody.stderr).contains("no account has the email"));
    let short = create("bob@example.com", "short\n");
    assert!(String::from_utf8_lossy(&short.stderr).contains("at least 10 characters"));
}
