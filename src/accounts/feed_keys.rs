//! The key in an account's private caption feed URLs. Feed readers cannot send a token,
//! so the URL itself is the credential: long, random, and rotatable.

use diesel::prelude::*;

use super::sessions::random_token;
use super::{AccountError, User, UserId};
use crate::db::schema::{caption_feed_keys, users};
use crate::db::{now, AnyConnection};

/// The account's key, made on first use.
pub fn get_or_create(conn: &mut AnyConnection, user: &UserId) -> Result<String, AccountError> {
    crate::insert_or_ignore!(
        conn,
        caption_feed_keys::table,
        (
            caption_feed_keys::user_id.eq(user.as_str()),
            caption_feed_keys::feed_key.eq(random_token()),
            caption_feed_keys::created_at.eq(now()),
        )
    )?;
    Ok(caption_feed_keys::table
        .find(user.as_str())
        .select(caption_feed_keys::feed_key)
        .first(conn)?)
}

/// Replaces the key: every old URL stops working at once.
pub fn rotate(conn: &mut AnyConnection, user: &UserId) -> Result<String, AccountError> {
    get_or_create(conn, user)?;
    let key = random_token();
    diesel::update(caption_feed_keys::table.find(user.as_str()))
        .set((
            caption_feed_keys::feed_key.eq(&key),
            caption_feed_keys::created_at.eq(now()),
        ))
        .execute(conn)?;
    Ok(key)
}

/// The account a key opens.
pub fn user_for_key(conn: &mut AnyConnection, key: &str) -> Result<Option<User>, AccountError> {
    Ok(caption_feed_keys::table
        .inner_join(users::table)
        .filter(caption_feed_keys::feed_key.eq(key))
        .select(User::as_select())
        .first(conn)
        .optional()?)
}
