//! Password reset by a single-use, expiring link.
//!
//! The link is signed over the account, the expiry and the account's current password
//! hash: setting a new password changes the hash, so a used link opens nothing, with no
//! table of tokens to keep. A reset also ends every session of the account.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::{AccountError, UserId};
use crate::db::schema::{sessions, users};
use crate::db::AnyConnection;
use crate::mail::outbox::{Draft, Kind};

/// How long a reset link works: as long as the outbox still sends a reset mail.
pub const VALID_MINUTES: i64 = crate::mail::outbox::GIVE_UP_RESET_AFTER_MINUTES;

/// What a link signs: its purpose, the account, the password hash and the expiry.
fn signed_parts<'a>(user: &'a UserId, password_hash: &'a str, expires: &'a str) -> [&'a str; 3] {
    [user.as_str(), password_hash, expires]
}

const PURPOSE: &str = "reset-password";

pub fn expiry_from(at: NaiveDateTime) -> i64 {
    (at + chrono::Duration::minutes(VALID_MINUTES))
        .and_utc()
        .timestamp()
}

pub fn link(
    base_url: &url::Url,
    key: &[u8],
    user: &UserId,
    password_hash: &str,
    expires: i64,
) -> String {
    let expiry = expires.to_string();
    let signature = crate::signing::sign(key, PURPOSE, &signed_parts(user, password_hash, &expiry));
    let path = format!("reset-password/{}/{expires}/{signature}", user.as_str());
    base_url
        .join(&path)
        .map(|u| u.to_string())
        .unwrap_or_else(|_| format!("{base_url}{path}"))
}

/// Whether the link is valid now for the account as it is stored.
pub fn check(
    conn: &mut AnyConnection,
    key: &[u8],
    user: &UserId,
    expires: i64,
    signature: &str,
    at: NaiveDateTime,
) -> QueryResult<bool> {
    if at.and_utc().timestamp() > expires {
        return Ok(false);
    }
    let stored: Option<String> = users::table
        .find(user.as_str())
        .select(users::password_hash)
        .first(conn)
        .optional()?;
    let expiry = expires.to_string();
    Ok(stored.is_some_and(|hash| {
        crate::signing::verify(key, PURPOSE, &signed_parts(user, &hash, &expiry), signature)
    }))
}

/// Sets the new password and ends every session, if the link is still valid (checked in
/// the same transaction, so two submissions of one link cannot both succeed).
pub fn reset(
    conn: &mut AnyConnection,
    key: &[u8],
    user: &UserId,
    expires: i64,
    signature: &str,
    new_hash: &str,
    at: NaiveDateTime,
) -> Result<bool, AccountError> {
    if !check(conn, key, user, expires, signature, at)? {
        return Ok(false);
    }
    diesel::update(users::table.find(user.as_str()))
        .set(users::password_hash.eq(new_hash))
        .execute(conn)?;
    // Whoever was guessing, the owner of the mailbox gets to sign in with the new password.
    let email: String = users::table
        .find(user.as_str())
        .select(users::email)
        .first(conn)?;
    super::throttle::clear(conn, &super::throttle::account_key(&email))?;
    diesel::delete(sessions::table.filter(sessions::user_id.eq(user.as_str()))).execute(conn)?;
    Ok(true)
}

/// The message that carries the link.
pub fn draft(to: &str, link: &str) -> Draft {
    Draft {
        kind: Kind::PasswordReset,
        to: to.to_string(),
        subject: "Reset your captionfeed password".into(),
        text_body: format!(
            "Someone (hopefully you) asked to reset the password of this captionfeed account.\n\
             Open this link to choose a new one; it works once, for {VALID_MINUTES} minutes:\n\n{link}\n\n\
             If you did not ask, ignore this message: your password stays as it is.\n"
        ),
        html_body: None,
    }
}
