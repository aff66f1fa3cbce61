//! Our registrations on instances (`mastodon_apps`, shared by every account connecting to
//! the same instance) and the authorizations on their way (`mastodon_authorizations`:
//! the `state` and the PKCE verifier, taken once by the callback).

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::result::{DatabaseErrorKind, Error as DieselError};
use sha2::{Digest, Sha256};

use super::oauth::AppCredentials;
use crate::accounts::UserId;
use crate::db::schema::{mastodon_apps, mastodon_authorizations};
use crate::db::{now, AnyConnection};
use crate::publish::secrets::SecretBox;

/// How long an authorization may take: the subscriber signs in on their instance and
/// approves; after this the `state` is refused.
pub const AUTHORIZATION_TTL_MINUTES: i64 = 10;

/// Our registration on `origin` for `redirect_uri`, when there is one whose secret opens.
pub fn find_app(
    conn: &mut AnyConnection,
    secrets: &SecretBox,
    origin: &str,
    redirect_uri: &str,
) -> QueryResult<Option<AppCredentials>> {
    let row: Option<(String, String)> = mastodon_apps::table
        .filter(mastodon_apps::origin.eq(origin))
        .filter(mastodon_apps::redirect_uri.eq(redirect_uri))
        .select((
            mastodon_apps::client_id,
            mastodon_apps::client_secret_sealed,
        ))
        .first(conn)
        .optional()?;
    let Some((client_id, sealed)) = row else {
        return Ok(None);
    };
    match secrets.open(&sealed, origin) {
        Ok(client_secret) => Ok(Some(AppCredentials {
            client_id,
            client_secret,
        })),
        // The service key changed: this registration is lost to us, register again.
        Err(_) => {
            diesel::delete(mastodon_apps::table.filter(mastodon_apps::origin.eq(origin)))
                .execute(conn)?;
            Ok(None)
        }
    }
}

/// Keeps a new registration and returns the one in force: when another request registered
/// on the same instance first, theirs is kept (codes are issued to one client id).
pub fn keep_app(
    conn: &mut AnyConnection,
    secrets: &SecretBox,
    origin: &str,
    redirect_uri: &str,
    app: &AppCredentials,
) -> QueryResult<AppCredentials> {
    // A registration for another redirect address (the service moved) is no use: instances
    // match the address exactly.
    diesel::delete(
        mastodon_apps::table
            .filter(mastodon_apps::origin.eq(origin))
            .filter(mastodon_apps::redirect_uri.ne(redirect_uri)),
    )
    .execute(conn)?;
    let inserted = diesel::insert_into(mastodon_apps::table)
        .values((
            mastodon_apps::origin.eq(origin),
            mastodon_apps::client_id.eq(&app.client_id),
            mastodon_apps::client_secret_sealed.eq(secrets.seal(&app.client_secret, origin)),
            mastodon_apps::redirect_uri.eq(redirect_uri),
            mastodon_apps::created_at.eq(now()),
        ))
        .execute(conn);
    match inserted {
        Ok(_) => Ok(app.clone()),
        Err(DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _)) => {
            find_app(conn, secrets, origin, redirect_uri)?.ok_or(DieselError::NotFound)
        }
        Err(e) => Err(e),
    }
}

fn state_hash(state: &str) -> String {
    hex::encode(Sha256::digest(state.as_bytes()))
}

fn oldest_valid() -> NaiveDateTime {
    now() - chrono::Duration::minutes(AUTHORIZATION_TTL_MINUTES)
}

/// Starts an authorization of the account on `origin`; returns the `state` to send (only its
/// hash is kept). Expired authorizations of anyone are cleared on the way.
pub fn start_authorization(
    conn: &mut AnyConnection,
    secrets: &SecretBox,
    user: &UserId,
    origin: &str,
    verifier: &str,
) -> QueryResult<String> {
    diesel::delete(
        mastodon_authorizations::table
            .filter(mastodon_authorizations::created_at.lt(oldest_valid())),
    )
    .execute(conn)?;
    let state = crate::signing::random_token();
    let hash = state_hash(&state);
    diesel::insert_into(mastodon_authorizations::table)
        .values((
            mastodon_authorizations::state_hash.eq(&hash),
            mastodon_authorizations::user_id.eq(user.as_str()),
            mastodon_authorizations::origin.eq(origin),
            mastodon_authorizations::code_verifier_sealed.eq(secrets.seal(verifier, &hash)),
            mastodon_authorizations::created_at.eq(now()),
        ))
        .execute(conn)?;
    Ok(state)
}

/// An authorization the callback may finish.
pub struct Pending {
    pub origin: String,
    pub verifier: String,
}

/// Takes the account's authorization for `state`, once: `None` for an unknown, expired,
/// already used or another account's `state`.
pub fn take_authorization(
    conn: &mut AnyConnection,
    secrets: &SecretBox,
    user: &UserId,
    state: &str,
) -> QueryResult<Option<Pending>> {
    let hash = state_hash(state);
    let mine = mastodon_authorizations::table
        .filter(mastodon_authorizations::state_hash.eq(&hash))
        .filter(mastodon_authorizations::user_id.eq(user.as_str()));
    let row: Option<(String, String, NaiveDateTime)> = mine
        .select((
            mastodon_authorizations::origin,
            mastodon_authorizations::code_verifier_sealed,
            mastodon_authorizations::created_at,
        ))
        .first(conn)
        .optional()?;
    let Some((origin, sealed, created_at)) = row else {
        return Ok(None);
    };
    // Only the request whose delete removed the row goes on, however many arrive together.
    if diesel::delete(mine).execute(conn)? != 1 || created_at < oldest_valid() {
        return Ok(None);
    }
    Ok(secrets
        .open(&sealed, &hash)
        .ok()
        .map(|verifier| Pending { origin, verifier }))
}
