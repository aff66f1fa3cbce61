//! `captionfeed backup PATH`: a copy of the live SQLite database, taken while the service
//! runs and something keeps writing, that the real binary then serves.

use std::process::Stdio;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use diesel::connection::SimpleConnection as _;
use diesel::prelude::*;

use crate::cli::{captionfeed, free_port, Running};

const PASSWORD: &str = "correct horse battery";

fn serve(db: &str, port: u16, mail: &std::path::Path) -> Running {
    Running(
        captionfeed()
            .env("CAPTIONFEED_DATABASE_URL", db)
            .env("CAPTIONFEED_BIND", format!("127.0.0.1:{port}"))
            .env("CAPTIONFEED_MAIL_DIR", mail)
            .arg("serve")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("serve starts"),
    )
}

async fn wait_for_health(port: u16) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        let answer = reqwest::get(format!("http://127.0.0.1:{port}/healthz")).await;
        if answer.is_ok_and(|r| r.status().is_success()) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("serve on port {port} did not answer /healthz within 60 s");
}

fn count_users(path: &std::path::Path) -> i64 {
    use captionfeed::db::schema::users;
    let mut conn = SqliteConnection::establish(&path.display().to_string()).expect("opens");
    users::table.count().get_result(&mut conn).expect("counts")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_taken_during_writes_restores_and_serves() {
    let dir = tempfile::tempdir().expect("temp dir");
    let live = dir.path().join("live.db");
    let live_url = format!("sqlite://{}", live.display());
    let port = free_port();
    let _server = serve(&live_url, port, dir.path());
    wait_for_health(port).await;

    // An account to log in with on the copy, made through the real command.
    let mut create = captionfeed()
        .env("CAPTIONFEED_DATABASE_URL", &live_url)
        .args(["user", "create", "--email", "ann@example.com"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .expect("user create");
    std::io::Write::write_all(
        &mut create.stdin.take().expect("stdin"),
        PASSWORD.as_bytes(),
    )
    .expect("password");
    assert!(create.wait().expect("runs").success());

    // Bulk, so the copy takes long enough for writes to land while it runs.
    let mut writer = SqliteConnection::establish(&live.display().to_string()).expect("opens");
    writer
        .batch_execute(
            "PRAGMA busy_timeout = 5000; \
             WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 20000) \
             INSERT INTO users (id, email, password_hash, created_at) \
             SELECT 'bulk' || i, 'bulk' || i || '@example.com', 'x', '2026-01-01 00:00:00' FROM n;",
        )
        .expect("bulk insert");
    let before = count_users(&live);

    let stop = Arc::new(AtomicBool::new(false));
    let written = Arc::new(AtomicU64::new(0));
    let writing = {
        let (stop, written) = (stop.clone(), written.clone());
        std::thread::spawn(move || {
            let mut i = 0u64;
            while !stop.load(Ordering::Relaxed) {
                i += 1;
                writer
                    .batch_execute(&format!(
                        "INSERT INTO users (id, email, password_hash, created_at) \
                         VALUES ('during{i}', 'during{i}@example.com', 'x', '2026-01-01 00:00:00')"
                    ))
                    .expect("a write during the backup");
                written.fetch_add(1, Ordering::Relaxed);
            }
        })
    };
    while written.load(Ordering::Relaxed) < 10 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let copy = dir.path().join("restore").join("copy.db");
    std::fs::create_dir_all(copy.parent().expect("parent")).expect("dir");
    let during_before = written.load(Ordering::Relaxed);
    let backup = captionfeed()
        .env("CAPTIONFEED_DATABASE_URL", &live_url)
        .arg("backup")
        .arg(&copy)
        .output()
        .expect("backup runs");
    let during_after = written.load(Ordering::Relaxed);
    stop.store(true, Ordering::Relaxed);
    writing.join().expect("writer");
    assert!(
        backup.status.success(),
        "{}",
        String::from_utf8_lossy(&backup.stderr)
    );
    assert!(
        during_after > during_before,
        "writes went on during the backup"
    );

    // The copy is one moment of the live database: whole, and between the two counts.
    let mut check = SqliteConnection::establish(&copy.display().to_string()).expect("opens");
    #[derive(QueryableByName)]
    struct Integrity {
        #[diesel(sql_type = diesel::sql_types::Text)]
        integrity_check: String,
    }
    let integrity: Integrity = diesel::sql_query("PRAGMA integrity_check")
        .get_result(&mut check)
        .expect("checks");
    assert_eq!(integrity.integrity_check, "ok");
    let copied = count_users(&copy);
    let live_now = count_users(&live);
    assert!(
        copied >= before + during_before as i64,
        "{copied} < {before} + {during_before}"
    );
    assert!(copied <= live_now, "{copied} > {live_now}");

    // A second backup to the same path is refused rather than overwriting it.
    let again = captionfeed()
        .env("CAPTIONFEED_DATABASE_URL", &live_url)
        .arg("backup")
        .arg(&copy)
        .output()
        .expect("backup runs");
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("already exists"));

    // Restored: the real binary serves the copy, and the account logs in there.
    let restored_port = free_port();
    let _restored = serve(
        &format!("sqlite://{}", copy.display()),
        restored_port,
        dir.path(),
    );
    wait_for_health(restored_port).await;
    let browser = crate::helpers::new_browser();
    let base = format!("http://127.0.0.1:{restored_port}");
    let form = browser
        .get(format!("{base}/login"))
        .send()
        .await
        .expect("login page")
        .text()
        .await
        .expect("body");
    let token = crate::helpers::csrf_token(&form);
    let login = browser
        .post(format!("{base}/login"))
        .form(&[
            ("csrf_token", token.as_str()),
            ("email", "ann@example.com"),
            ("password", PASSWORD),
        ])
        .send()
        .await
        .expect("login answers");
    assert_eq!(login.status().as_u16(), 303);
    assert_eq!(crate::helpers::location(&login), "/captions");
    let desk = browser
        .get(format!("{base}/captions"))
        .send()
        .await
        .expect("desk");
    assert_eq!(desk.status().as_u16(), 200);
}

#[test]
fn a_backup_of_postgres_points_to_pg_dump() {
    let output = captionfeed()
        .env(
            "CAPTIONFEED_DATABASE_URL",
            "postgres://nobody@127.0.0.1:1/none",
        )
        .args(["backup", "/nonexistent/copy.db"])
        .output()
        .expect("runs");
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("pg_dump"));
}
