//! Connections to the networks posted to directly: the secret sealed at rest, one
//! connection per platform, another account's ids not found, broken told once.

use captionfeed::captions::Platform;
use captionfeed::db::schema::connections;
use captionfeed::publish::connections as store;
use captionfeed::publish::secrets::{SecretBox, SecretError};
use diesel::prelude::*;

use crate::digests::user_id;
use crate::helpers::{new_browser, spawn_app, Backend};
use crate::on_both_backends;

const APP_PASSWORD: &str = "abcd-efgh-ijkl-mnop";

async fn a_connection_keeps_its_secret_sealed_and_to_its_account(backend: Backend) {
    let app = spawn_app(backend).await;
    app.sign_up("ann@example.com").await;
    app.sign_up_as(&new_browser(), "bob@example.com").await;
    let ann = user_id(&app, "ann@example.com").await;
    let bob = user_id(&app, "bob@example.com").await;

    let (a, b) = (ann.clone(), bob.clone());
    let outcome = app
        .db
        .run(move |conn| {
            let secrets = SecretBox::from_service_key(b"the service key of this test, 32+");
            let id = store::save(
                conn,
                &secrets,
                &a,
                Platform::Bluesky,
                "https://bsky.social",
                "ann.bsky.social",
                APP_PASSWORD,
            )?;
            // At rest: sealed, nowhere in the row as written.
            let sealed: String = connections::table
                .filter(connections::id.eq(&id))
                .select(connections::secret_sealed)
                .first(conn)?;
            assert!(!sealed.contains(APP_PASSWORD) && !sealed.contains("abcd"));
            let (found, secret) = store::with_secret(conn, &secrets, &a, Platform::Bluesky)?
                .expect("Ann's connection");
            assert_eq!(found.id, id);
            assert_eq!(secret.as_deref(), Ok(APP_PASSWORD));
            // Another deployment's key (or a changed one) cannot read it.
            let other = SecretBox::from_service_key(b"another service key, 32 characters+");
            let (_, unreadable) =
                store::with_secret(conn, &other, &a, Platform::Bluesky)?.expect("the row");
            assert_eq!(unreadable, Err(SecretError::Unreadable));

            // Bob cannot see, break or remove Ann's connection.
            assert!(store::find(conn, &b, &id)?.is_none());
            assert!(store::list(conn, &b)?.is_empty());
            assert!(!store::mark_broken(conn, &b, &id, "401")?);
            assert!(!store::delete(conn, &b, &id)?);
            assert!(store::with_secret(conn, &secrets, &b, Platform::Bluesky)?.is_none());

            // Broken once, however many workers see the refusal.
            assert!(store::mark_broken(
                conn,
                &a,
                &id,
                "401 AuthenticationRequired"
            )?);
            assert!(!store::mark_broken(conn, &a, &id, "401 again")?);
            let broken = store::find(conn, &a, &id)?.expect("still there");
            assert_eq!(
                broken.broken_reason.as_deref(),
                Some("401 AuthenticationRequired")
            );

            // Connecting again replaces it, not broken.
            let again = store::save(
                conn,
                &secrets,
                &a,
                Platform::Bluesky,
                "https://bsky.social",
                "ann.bsky.social",
                "wxyz-wxyz-wxyz-wxyz",
            )?;
            let listed = store::list(conn, &a)?;
            assert_eq!(listed.len(), 1);
            assert_eq!(listed[0].id, again);
            assert!(listed[0].broken_at.is_none());
            assert!(store::delete(conn, &a, &again)?);
            Ok::<_, captionfeed::db::DbError>(())
        })
        .await;
    outcome.expect("the checks ran");
}
on_both_backends!(a_connection_keeps_its_secret_sealed_and_to_its_account);
