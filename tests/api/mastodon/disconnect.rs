//! Disconnecting Mastodon gives the token back to the instance (`POST /oauth/revoke`), so
//! it is worth nothing there either; an instance that cannot be reached does not keep the
//! connection alive here, and the page says the token is still valid there.

use super::fake::MastodonFake;
use super::{approve_on_instance, connected_rows};
use crate::helpers::{location, spawn_app, unused_loopback_address, Backend, TestApp};
use crate::on_both_backends;

/// Ann connected to the fake instance through the pages: the connection's id and token.
async fn connected(app: &TestApp, fake: &MastodonFake) -> (String, String) {
    app.sign_up("ann@example.com").await;
    let back = approve_on_instance(app, &app.client, fake).await;
    assert_eq!(app.get(&back).await.status().as_u16(), 303);
    let page = app.get_html("/connections").await;
    let id = page
        .split(r#"action="/connections/"#)
        .nth(1)
        .and_then(|rest| rest.split("/delete\"").next())
        .expect("a disconnect button")
        .to_string();
    let tokens = fake.tokens_issued();
    assert_eq!(tokens.len(), 1);
    (id, tokens[0].clone())
}

async fn disconnecting_mastodon_revokes_its_token(backend: Backend) {
    let fake = MastodonFake::start().await;
    let app = spawn_app(backend).await;
    let (id, token) = connected(&app, &fake).await;
    assert!(fake.revoked_tokens().is_empty());

    let answer = app
        .submit("/connections", &format!("/connections/{id}/delete"), &[])
        .await;
    assert_eq!(answer.status().as_u16(), 303);
    assert_eq!(location(&answer), "/connections");
    assert_eq!(
        fake.revoked_tokens(),
        vec![token],
        "the instance revoked it"
    );
    assert_eq!(connected_rows(&app).await, 0);
    let page = app.get_html("/connections").await;
    assert!(!page.contains("could not be revoked"), "{page}");
}
on_both_backends!(disconnecting_mastodon_revokes_its_token);

async fn an_unreachable_instance_is_disconnected_here_and_the_page_says_so(backend: Backend) {
    let fake = MastodonFake::start().await;
    let app = spawn_app(backend).await;
    let (id, _) = connected(&app, &fake).await;
    // The instance moved away: nothing answers at its address any more.
    let gone = format!("http://{}", unused_loopback_address());
    app.sql(&format!("UPDATE connections SET service_url = '{gone}'"))
        .await;
    app.sql(&format!("UPDATE mastodon_apps SET origin = '{gone}'"))
        .await;

    let answer = app
        .submit("/connections", &format!("/connections/{id}/delete"), &[])
        .await;
    assert_eq!(answer.status().as_u16(), 303);
    let back = location(&answer);
    assert_eq!(connected_rows(&app).await, 0, "removed here all the same");
    assert!(fake.revoked_tokens().is_empty());
    let page = app.get_html(&back).await;
    assert!(
        page.contains("its token could not be revoked") && page.contains("Authorized apps"),
        "{page}"
    );
    // A second click finds nothing to disconnect.
    let other = app
        .submit("/connections", &format!("/connections/{id}/delete"), &[])
        .await;
    assert_eq!(other.status().as_u16(), 404);
}
on_both_backends!(an_unreachable_instance_is_disconnected_here_and_the_page_says_so);
