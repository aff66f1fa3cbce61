//! Changing the password from the settings: it needs the current one, ends every other
//! session (a stolen session does not outlive the change), and the address hears about
//! it, so a change the owner did not make does not go unnoticed.

use diesel::prelude::*;

use super::sessions::token_hash;
use super::{AccountError, UserId};
use crate::db::schema::{sessions, users};
use crate::db::AnyConnection;
use crate::mail::outbox::{Draft, Kind};

/// Sets the new password hash and ends the account's sessions but `keep_token`'s; returns
/// the account's address. `verified_hash` is the hash the current password was checked
/// against: if the password changed since (another tab, a reset), the change is refused.
pub fn change(
    conn: &mut AnyConnection,
    user: &UserId,
    verified_hash: &str,
    new_hash: &str,
    keep_token: &str,
) -> Result<String, AccountError> {
    let (email, hash): (String, String) = users::table
        .find(user.as_str())
        .select((users::email, users::password_hash))
        .first(conn)?;
    if hash != verified_hash {
        return Err(AccountError::BadCredentials);
    }
    diesel::update(users::table.find(user.as_str()))
        .set(users::password_hash.eq(new_hash))
        .execute(conn)?;
    diesel::delete(
        sessions::table
            .filter(sessions::user_id.eq(user.as_str()))
            .filter(sessions::id.ne(token_hash(keep_token))),
    )
    .execute(conn)?;
    Ok(email)
}

/// The notice to the account's address.
pub fn notice(to: &str, reset_url: &str) -> Draft {
    Draft {
        kind: Kind::PasswordChanged,
        to: to.to_string(),
        subject: "The password of your captionfeed account changed".into(),
        text_body: format!(
            "The password of your captionfeed account was changed, and every other session\n\
             was signed out.\n\n\
             If you did this, there is nothing to do. If not, someone else was signed in:\n\
             reset the password at {reset_url} and check the account's settings.\n"
        ),
        html_body: None,
    }
}
