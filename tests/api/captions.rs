use crate::helpers::{spawn_app, Backend};
use crate::on_both_backends;

async fn a_new_account_is_told_how_to_get_captions(backend: Backend) {
    let app = spawn_app(backend).await;
    app.sign_up("ann@example.com").await;
    let html = app.get_html("/captions").await;
    assert!(html.contains("No captions yet"));
    assert!(html.contains(r#"href="/feeds/new""#));
}
on_both_backends!(a_new_account_is_told_how_to_get_captions);
