//! The accounts' connections to networks they post to directly. Every function takes the
//! account first: another account's connection id is "not found". The secret is stored
//! sealed ([`SecretBox`]) with the row's id as associated data, and is opened only to log in.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::Connection as _;

use super::secrets::{SecretBox, SecretError};
use crate::accounts::UserId;
use crate::captions::Platform;
use crate::db::schema::connections;
use crate::db::{new_id, now, AnyConnection};

/// A connection as pages show it: never its secret.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = connections)]
pub struct Connection {
    pub id: String,
    pub platform: String,
    pub service_url: String,
    pub handle: String,
    pub broken_at: Option<NaiveDateTime>,
    pub broken_reason: Option<String>,
    pub broken_mailed_at: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
}

/// Connects (or connects again) the account to `platform`, replacing its connection there;
/// a new connection is not broken. Returns its id.
pub fn save(
    conn: &mut AnyConnection,
    secrets: &SecretBox,
    user: &UserId,
    platform: Platform,
    service_url: &str,
    handle: &str,
    secret: &str,
) -> QueryResult<String> {
    conn.transaction(|conn| {
        diesel::delete(
            connections::table
                .filter(connections::user_id.eq(user.as_str()))
                .filter(connections::platform.eq(platform.id())),
        )
        .execute(conn)?;
        let id = new_id();
        let at = now();
        diesel::insert_into(connections::table)
            .values((
                connections::id.eq(&id),
                connections::user_id.eq(user.as_str()),
                connections::platform.eq(platform.id()),
                connections::service_url.eq(service_url),
                connections::handle.eq(handle),
                connections::secret_sealed.eq(secrets.seal(secret, &id)),
                connections::created_at.eq(at),
                connections::updated_at.eq(at),
            ))
            .execute(conn)?;
        Ok(id)
    })
}

pub fn list(conn: &mut AnyConnection, user: &UserId) -> QueryResult<Vec<Connection>> {
    connections::table
        .filter(connections::user_id.eq(user.as_str()))
        .order(connections::platform.asc())
        .select(Connection::as_select())
        .load(conn)
}

/// One of the account's connections; `None` for another account's id.
pub fn find(conn: &mut AnyConnection, user: &UserId, id: &str) -> QueryResult<Option<Connection>> {
    connections::table
        .filter(connections::user_id.eq(user.as_str()))
        .filter(connections::id.eq(id))
        .select(Connection::as_select())
        .first(conn)
        .optional()
}

/// The account's connection to `platform` with its secret opened, to log in with.
pub fn with_secret(
    conn: &mut AnyConnection,
    secrets: &SecretBox,
    user: &UserId,
    platform: Platform,
) -> QueryResult<Option<(Connection, Result<String, SecretError>)>> {
    let row: Option<(Connection, String)> = connections::table
        .filter(connections::user_id.eq(user.as_str()))
        .filter(connections::platform.eq(platform.id()))
        .select((Connection::as_select(), connections::secret_sealed))
        .first(conn)
        .optional()?;
    Ok(row.map(|(c, sealed)| {
        let secret = secrets.open(&sealed, &c.id);
        (c, secret)
    }))
}

/// Marks the connection broken (the network refused its secret). `true` only for the call
/// that broke it, so the subscriber is told once however many workers saw the refusal.
pub fn mark_broken(
    conn: &mut AnyConnection,
    user: &UserId,
    id: &str,
    reason: &str,
) -> QueryResult<bool> {
    let changed = diesel::update(
        connections::table
            .filter(connections::user_id.eq(user.as_str()))
            .filter(connections::id.eq(id))
            .filter(connections::broken_at.is_null()),
    )
    .set((
        connections::broken_at.eq(Some(now())),
        connections::broken_reason.eq(Some(reason)),
        connections::updated_at.eq(now()),
    ))
    .execute(conn)?;
    Ok(changed == 1)
}

/// Removes one of the account's connections; `false` for another account's id.
pub fn delete(conn: &mut AnyConnection, user: &UserId, id: &str) -> QueryResult<bool> {
    let removed = diesel::delete(
        connections::table
            .filter(connections::user_id.eq(user.as_str()))
            .filter(connections::id.eq(id)),
    )
    .execute(conn)?;
    Ok(removed == 1)
}

/// Keeps the post limit the network gave the connected account (a Mastodon instance's).
pub fn set_post_limit(
    conn: &mut AnyConnection,
    user: &UserId,
    id: &str,
    limit: i32,
) -> QueryResult<bool> {
    let changed = diesel::update(
        connections::table
            .filter(connections::user_id.eq(user.as_str()))
            .filter(connections::id.eq(id)),
    )
    .set(connections::post_limit.eq(Some(limit)))
    .execute(conn)?;
    Ok(changed == 1)
}

/// The post limit of the account's connection to `platform`, when it is connected and the
/// network said one.
pub fn post_limit(
    conn: &mut AnyConnection,
    user: &UserId,
    platform: Platform,
) -> QueryResult<Option<i32>> {
    Ok(connections::table
        .filter(connections::user_id.eq(user.as_str()))
        .filter(connections::platform.eq(platform.id()))
        .select(connections::post_limit)
        .first::<Option<i32>>(conn)
        .optional()?
        .flatten())
}

/// Associated data of a connection's kept session: its row, and what the value is, so the
/// app password's sealed value cannot pass for a session or the other way round.
fn session_context(id: &str) -> String {
    format!("{id}/session")
}

/// Keeps the session the network gave the connection (Bluesky's tokens, as its client
/// writes them), sealed; it replaces the one kept before. `false` when the connection is
/// gone (disconnected, or connected again, which starts without a session).
pub fn save_session(
    conn: &mut AnyConnection,
    secrets: &SecretBox,
    user: &UserId,
    id: &str,
    session: &str,
) -> QueryResult<bool> {
    let changed = diesel::update(
        connections::table
            .filter(connections::user_id.eq(user.as_str()))
            .filter(connections::id.eq(id)),
    )
    .set(connections::session_sealed.eq(Some(secrets.seal(session, &session_context(id)))))
    .execute(conn)?;
    Ok(changed == 1)
}

/// A connection of some account as the publisher uses it.
pub struct Unbroken {
    pub user: UserId,
    pub connection: Connection,
    /// The secret as opened, or why it did not open.
    pub secret: Result<String, SecretError>,
    /// The session kept from an earlier pass; `None` when there is none or it does not
    /// open (then the publisher logs in again).
    pub session: Option<String>,
}

/// Every account's connection that is not broken, with its secret and kept session opened
/// (feature-level: for the publisher, which posts for every account). A secret that no
/// longer opens (the service key changed) comes with its error, so the connection can be
/// marked broken.
pub fn all_unbroken_with_secrets(
    conn: &mut AnyConnection,
    secrets: &SecretBox,
) -> QueryResult<Vec<Unbroken>> {
    let rows: Vec<(String, Connection, String, Option<String>)> = connections::table
        .filter(connections::broken_at.is_null())
        .order(connections::created_at.asc())
        .select((
            connections::user_id,
            Connection::as_select(),
            connections::secret_sealed,
            connections::session_sealed,
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(user, c, sealed, session)| Unbroken {
            user: UserId(user),
            secret: secrets.open(&sealed, &c.id),
            session: session.and_then(|s| secrets.open(&s, &session_context(&c.id)).ok()),
            connection: c,
        })
        .collect())
}

/// Notes that the subscriber was told the connection broke. `true` only for the first
/// call after it broke, so the mail goes out once.
pub fn mark_mailed(conn: &mut AnyConnection, user: &UserId, id: &str) -> QueryResult<bool> {
    let changed = diesel::update(
        connections::table
            .filter(connections::user_id.eq(user.as_str()))
            .filter(connections::id.eq(id))
            .filter(connections::broken_at.is_not_null())
            .filter(connections::broken_mailed_at.is_null()),
    )
    .set(connections::broken_mailed_at.eq(Some(now())))
    .execute(conn)?;
    Ok(changed == 1)
}
