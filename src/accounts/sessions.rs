//! Server-side sessions: the cookie holds a random token, the table its SHA-256.

use diesel::prelude::*;
use sha2::{Digest, Sha256};

use super::{AccountError, User};
use crate::db::schema::{sessions, users};
use crate::db::{now, AnyConnection};

/// How long a session lasts without a new login.
pub const SESSION_DAYS: i64 = 30;

pub use crate::signing::random_token;

/// The SHA-256 of a secret token, hex: what the tables keep instead of the token.
pub fn token_hash(token: &str) -> String {
    let digest = Sha256::digest(token.as_bytes());
    hex::encode(digest)
}

/// Opens a session for the user; returns the token to put in the cookie.
pub fn create(conn: &mut AnyConnection, user_id: &str) -> Result<String, AccountError> {
    let token = random_token();
    let created = now();
    diesel::insert_into(sessions::table)
        .values((
            sessions::id.eq(token_hash(&token)),
            sessions::user_id.eq(user_id),
            sessions::created_at.eq(created),
            sessions::expires_at.eq(created + chrono::Duration::days(SESSION_DAYS)),
        ))
        .execute(conn)?;
    Ok(token)
}

/// The user a live session token belongs to.
pub fn user_for_token(conn: &mut AnyConnection, token: &str) -> Result<Option<User>, AccountError> {
    Ok(sessions::table
        .inner_join(users::table)
        .filter(sessions::id.eq(token_hash(token)))
        .filter(sessions::expires_at.gt(now()))
        .select(User::as_select())
        .first(conn)
        .optional()?)
}

/// A live session's holder and desk, as the desk checks them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Viewer {
    pub user_id: String,
    pub expires_at: chrono::NaiveDateTime,
    pub version: Option<i64>,
}

/// Which account holds a live session (by its token's hash) and that desk's change
/// version, in one round trip: the desk asks this before anything else (unless it knows
/// the answer, see `web::pages::desk_watch`), and serves a page it rendered before when
/// the version has not moved. The version is the sum of the account's counters in
/// `desk_versions` (one per subscription and one for the account, raised by triggers; see
/// the migration); `None` only for an account without any, whose pages are then never
/// reused. It lives with the sessions, whose liveness rule it shares with
/// [`user_for_token`]; the version rides along only to save the desk a round trip.
pub fn viewer(conn: &mut AnyConnection, session_hash: &str) -> QueryResult<Option<Viewer>> {
    use diesel::sql_types::{BigInt, Nullable};
    // A correlated subquery diesel's DSL does not express; PostgreSQL's SUM of BIGINT is
    // NUMERIC, hence the cast.
    let version = diesel::dsl::sql::<Nullable<BigInt>>(
        "(SELECT CAST(SUM(desk_versions.version) AS BIGINT) FROM desk_versions \
         WHERE desk_versions.user_id = sessions.user_id)",
    );
    sessions::table
        .filter(sessions::id.eq(session_hash))
        .filter(sessions::expires_at.gt(now()))
        .select((sessions::user_id, sessions::expires_at, version))
        .first(conn)
        .optional()
        .map(|row| {
            row.map(|(user_id, expires_at, version)| Viewer {
                user_id,
                expires_at,
                version,
            })
        })
}

/// Ends a session (logging out); unknown tokens are fine.
pub fn delete(conn: &mut AnyConnection, token: &str) -> Result<(), AccountError> {
    diesel::delete(sessions::table.filter(sessions::id.eq(token_hash(token)))).execute(conn)?;
    Ok(())
}

/// Records that the session's owner just typed their password again.
pub fn confirm_password(conn: &mut AnyConnection, token: &str) -> Result<(), AccountError> {
    diesel::update(sessions::table.filter(sessions::id.eq(token_hash(token))))
        .set(sessions::password_confirmed_at.eq(Some(now())))
        .execute(conn)?;
    Ok(())
}

/// The user of a live session and when they last typed their password in it.
pub fn user_and_confirmation(
    conn: &mut AnyConnection,
    token: &str,
) -> Result<Option<(User, Option<chrono::NaiveDateTime>)>, AccountError> {
    Ok(sessions::table
        .inner_join(users::table)
        .filter(sessions::id.eq(token_hash(token)))
        .filter(sessions::expires_at.gt(now()))
        .select((User::as_select(), sessions::password_confirmed_at))
        .first(conn)
        .optional()?)
}
