//! PostgreSQL ending the app's connections (a restart, a failover, an administrator) is
//! not seen by anyone using the app: dead pooled connections are replaced on the spot.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use crate::helpers::{postgres_configured, spawn_app_with, Backend};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_running_while_postgres_ends_every_connection_all_succeed() {
    if !postgres_configured() {
        return;
    }
    // The API's per-account rate is not what this test is about.
    let app =
        Arc::new(spawn_app_with(Backend::Postgres, |s| s.api_rate_per_minute = 1_000_000).await);
    let token = app.api_token("ann@example.com").await;
    let stop = Arc::new(AtomicBool::new(false));
    let clients: Vec<_> = (0..4)
        .map(|i| {
            let (app, token, stop) = (app.clone(), token.clone(), stop.clone());
            tokio::spawn(async move {
                let client = reqwest::Client::new();
                let mut answers = Vec::new();
                while !stop.load(Ordering::Relaxed) {
                    let request = if i % 2 == 0 {
                        client.get(app.url("/api/v1/feeds")).bearer_auth(&token)
                    } else {
                        client.get(app.url("/healthz"))
                    };
                    let status = request.send().await.expect("answers").status().as_u16();
                    answers.push(status);
                }
                answers
            })
        })
        .collect();
    let mut ended = 0;
    for _ in 0..10 {
        tokio::time::sleep(std::time::Duration::from_millis(150)).await;
        let app = app.clone();
        ended += tokio::task::spawn_blocking(move || app.terminate_postgres_backends())
            .await
            .expect("joined");
    }
    tokio::time::sleep(std::time::Duration::from_millis(150)).await;
    stop.store(true, Ordering::Relaxed);
    let mut answers = Vec::new();
    for client in clients {
        answers.extend(client.await.expect("joined"));
    }
    assert!(ended >= 10, "connections were ended: {ended}");
    assert!(
        answers.len() > 100,
        "requests ran throughout: {}",
        answers.len()
    );
    let failed: Vec<u16> = answers.iter().copied().filter(|s| *s != 200).collect();
    assert!(
        failed.is_empty(),
        "{} of {} requests failed: {failed:?}",
        failed.len(),
        answers.len()
    );
}
