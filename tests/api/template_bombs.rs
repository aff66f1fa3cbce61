//! Templates built to eat the server's memory or time are refused quickly,
//! by the release-shaped binary in a process of its own, so its memory can be
//! read from /proc without the other tests' allocations in it.

use std::io::Write as _;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The attacks of the outside test, and the classes of filter, operator and
/// statement behind them.
const BOMBS: &[(&str, &str)] = &[
    ("format", r#"{{ "%0999999999d"|format(1) }}{{ url }}"#),
    (
        "chained replace",
        r#"{{ ("x"*1000)|replace("x","x"*1000)|replace("x","x"*1000) }}"#,
    ),
    ("string times a number", r#"{{ "x" * 999999999 }}{{ url }}"#),
    (
        "list times a number",
        r#"{{ ([title] * 99999999)|length }}"#,
    ),
    (
        "join of a huge list",
        r#"{{ range(100000)|join("x" * 10000) }}"#,
    ),
    (
        "join of a long list with a long separator",
        r#"{{ range(1000)|join(summary ~ summary ~ summary) }}"#,
    ),
    (
        "huge range",
        r#"{% for i in range(999999999) %}{{ i }}{% endfor %}"#,
    ),
    (
        "doubling through set",
        r#"{% set a = title %}{% set a = a ~ a %}{% set a = a ~ a %}{% set a = a ~ a %}{% set a = a ~ a %}{% set a = a ~ a %}{% set a = a ~ a %}{% set a = a ~ a %}{% set a = a ~ a %}{% set a = a ~ a %}{% set a = a ~ a %}{% set a = a ~ a %}{% set a = a ~ a %}{% set a = a ~ a %}{% set a = a ~ a %}{% set a = a ~ a %}{% set a = a ~ a %}{% set a = a ~ a %}{% set a = a ~ a %}{% set a = a ~ a %}{% set a = a ~ a %}{% set a = a ~ a %}{% set a = a ~ a %}{% set a = a ~ a %}{% set a = a ~ a %}{% set a = a ~ a %}{{ a|length }}"#,
    ),
    (
        "captured loop",
        r#"{% filter upper %}{% for i in range(1000) %}{% for j in range(1000) %}{{ summary }}{% endfor %}{% endfor %}{% endfilter %}"#,
    ),
    ("center", r#"{{ "x"|center(999999999) }}"#),
    ("indent", r#"{{ "x\ny"|indent(999999999) }}"#),
    ("upper of a huge text", r#"{{ ("ß" * 60000)|upper }}"#),
    ("namespace", r#"{% set ns = namespace(s="x") %}{{ ns.s }}"#),
];

/// The server's memory may grow by less than this over all the attacks.
const MAX_GROWTH_KIB: u64 = 50 * 1024;
/// Each refusal comes back within this.
const MAX_ANSWER: Duration = Duration::from_millis(100);

struct Server {
    child: Child,
    base: String,
    _dir: tempfile::TempDir,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn captionfeed(db: &str) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_captionfeed"));
    for (key, _) in std::env::vars() {
        if key.starts_with("CAPTIONFEED_") {
            cmd.env_remove(key);
        }
    }
    cmd.env("CAPTIONFEED_DATABASE_URL", db)
        .env("CAPTIONFEED_LOG", "warn");
    cmd
}

/// `captionfeed serve` (web only) on a fresh SQLite file, with an account and
/// an API token made by the command line.
async fn start() -> (Server, String) {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = format!("sqlite://{}", dir.path().join("bombs.db").display());
    let mut create = captionfeed(&db)
        .args(["user", "create", "--email", "bomber@example.com"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .expect("user create runs");
    create
        .stdin
        .take()
        .expect("stdin")
        .write_all(b"correct horse battery staple\n")
        .expect("password written");
    assert!(create.wait().expect("user create ends").success());
    let token = captionfeed(&db)
        .args([
            "token",
            "create",
            "--email",
            "bomber@example.com",
            "--name",
            "t",
        ])
        .output()
        .expect("token create runs");
    assert!(token.status.success(), "{token:?}");
    let token = String::from_utf8_lossy(&token.stdout)
        .split_whitespace()
        .last()
        .expect("a token")
        .to_owned();
    let addr = crate::helpers::unused_loopback_address();
    let child = captionfeed(&db)
        .env("CAPTIONFEED_BIND", addr.to_string())
        .env("CAPTIONFEED_ROLE", "web")
        .arg("serve")
        .stdout(Stdio::null())
        .spawn()
        .expect("serve starts");
    let server = Server {
        child,
        base: format!("http://{addr}"),
        _dir: dir,
    };
    for _ in 0..200 {
        if reqwest::get(format!("{}/healthz", server.base))
            .await
            .is_ok()
        {
            return (server, token);
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("captionfeed serve did not answer");
}

/// A line of /proc/PID/status, in KiB.
fn status_kib(pid: u32, field: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("/proc status");
    status
        .lines()
        .find_map(|line| line.strip_prefix(field))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or_else(|| panic!("{field} in /proc/{pid}/status"))
}

#[tokio::test]
async fn template_bombs_are_refused_fast_in_bounded_memory() {
    let (server, token) = start().await;
    let client = reqwest::Client::new();
    let put = |variant: &str, source: &str| {
        client
            .put(format!("{}/api/v1/templates/x/{variant}", server.base))
            .bearer_auth(&token)
            .json(&serde_json::json!({ "source": source }))
            .send()
    };
    // A template that is fine, so what is measured is the attacks alone.
    let fine = put("warm", "{{ title }} {{ url }}").await.expect("answers");
    assert_eq!(fine.status(), 200, "{:?}", fine.text().await);
    let pid = server.child.id();
    let peak_before = status_kib(pid, "VmHWM:");

    let mut worst_time = (Duration::ZERO, "");
    for (name, source) in BOMBS {
        let started = Instant::now();
        let answer = put("attack", source).await.expect("answers");
        let took = started.elapsed();
        let status = answer.status();
        let body: serde_json::Value = answer.json().await.unwrap_or_default();
        assert_eq!(status, 422, "{name}: {body}");
        assert_eq!(body["error"]["code"], "invalid_template", "{name}: {body}");
        assert!(took < MAX_ANSWER, "{name} took {took:?}");
        if took > worst_time.0 {
            worst_time = (took, name);
        }
    }
    let growth = status_kib(pid, "VmHWM:").saturating_sub(peak_before);
    println!(
        "template bombs: {} refused; slowest {:?} ({}); peak memory grew {growth} KiB",
        BOMBS.len(),
        worst_time.0,
        worst_time.1
    );
    assert!(growth < MAX_GROWTH_KIB, "peak memory grew {growth} KiB");

    // Previews and saves share one limit per account: the attacks above used
    // most of it, so the next ones are turned away before any template runs.
    let mut limited = None;
    for _ in 0..40 {
        let answer = put("warm", "{{ title }}").await.expect("answers");
        if answer.status() == 429 {
            limited = Some(answer);
            break;
        }
    }
    let limited = limited.expect("a 429 within 40 more saves");
    assert!(limited.headers().contains_key("retry-after"));
}
