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

/// A live session's holder and the change versions of the pages stored for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Viewer {
    pub user_id: String,
    pub expires_at: chrono::NaiveDateTime,
    pub versions: Option<Versions>,
}

/// Two change versions of an account's pages, raised by the database's triggers (see the
/// migrations `desk_versions` and `account_page_versions`): a stored page is served again
/// only while the version it was made at holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Versions {
    /// Everything the copy desk shows: the sum of the account's `desk_versions`.
    pub desk: i64,
    /// Everything the other stored pages show (the feeds list, a feed's page, the
    /// templates, the settings): the desk's sum plus the account's `page_versions`, which
    /// count what the desk does not show (a feed's health, templates, digest settings,
    /// billing, account mail). Each only grows, so their sum never repeats.
    pub pages: i64,
}

/// Which account holds a live session (by its token's hash) and its pages' change
/// versions, in one round trip: the stored pages ask this before anything else (unless
/// they know the answer, see `web::pages::desk_watch`), and serve a page rendered before
/// when its version has not moved. `None` only for an account without any counters,
/// whose pages are then never reused. It lives with the sessions, whose liveness rule it
/// shares with [`user_for_token`]; the versions ride along only to save the pages a round
/// trip.
pub fn viewer(conn: &mut AnyConnection, session_hash: &str) -> QueryResult<Option<Viewer>> {
    use crate::db::schema::{desk_versions, page_versions};
    // Three statements made only of diesel's DSL, which it prepares once per connection and
    // keeps, rather than one with correlated subqueries written as SQL text, which it
    // prepares again on every call: on SQLite, parsing that statement on every stored page
    // took about a tenth of the server's time under load. Both counters only grow, so
    // reading them apart never gives a pages version a later state could have too.
    let Some((user_id, expires_at)) = sessions::table
        .filter(sessions::id.eq(session_hash))
        .filter(sessions::expires_at.gt(now()))
        .select((sessions::user_id, sessions::expires_at))
        .first::<(String, chrono::NaiveDateTime)>(conn)
        .optional()?
    else {
        return Ok(None);
    };
    let desk: Vec<i64> = desk_versions::table
        .filter(desk_versions::user_id.eq(&user_id))
        .select(desk_versions::version)
        .load(conn)?;
    let pages: Vec<i64> = page_versions::table
        .filter(page_versions::user_id.eq(&user_id))
        .select(page_versions::version)
        .load(conn)?;
    let versions = (!desk.is_empty()).then(|| {
        let desk: i64 = desk.iter().sum();
        Versions {
            desk,
            pages: desk + pages.iter().sum::<i64>(),
        }
    });
    Ok(Some(Viewer {
        user_id,
        expires_at,
        versions,
    }))
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
