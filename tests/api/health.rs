use crate::helpers::{spawn_app, Backend};
use crate::on_both_backends;

async fn healthz_answers_when_the_database_does(backend: Backend) {
    let app = spawn_app(backend).await;
    let response = app.get("/healthz").await;
    assert_eq!(response.status().as_u16(), 200);
    let body: serde_json::Value = response.json().await.expect("json");
    assert_eq!(body["status"], "ok");
}
on_both_backends!(healthz_answers_when_the_database_does);

async fn unknown_pages_are_404(backend: Backend) {
    let app = spawn_app(backend).await;
    assert_eq!(app.get("/no/such/page").await.status().as_u16(), 404);
}
on_both_backends!(unknown_pages_are_404);
