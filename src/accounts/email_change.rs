//! Changing an account's address: it needs the password, leaves the new address
//! unconfirmed (digests wait until it is), and the old address hears about it, so a
//! hijacked session cannot quietly take the account's mail elsewhere.

use diesel::prelude::*;

use super::validate::Email;
use super::{users, AccountError, UserId};
use crate::db::schema::users as users_table;
use crate::db::AnyConnection;
use crate::mail::outbox::{Draft, Kind};

/// The account's password hash, for [`checked_password`].
pub fn password_hash(conn: &mut AnyConnection, user: &UserId) -> Result<String, AccountError> {
    Ok(users_table::table
        .find(user.as_str())
        .select(users_table::password_hash)
        .first(conn)?)
}

/// Changes the address; returns the old one. `verified_hash` is the password hash the
/// person's password was checked against ([`super::reauth::check`]): if the password changed
/// since, the change is refused.
pub fn change(
    conn: &mut AnyConnection,
    user: &UserId,
    verified_hash: &str,
    new: &Email,
) -> Result<String, AccountError> {
    let stored: (String, String) = users_table::table
        .find(user.as_str())
        .select((users_table::email, users_table::password_hash))
        .first(conn)?;
    let (old, hash) = stored;
    if hash != verified_hash {
        return Err(AccountError::BadCredentials);
    }
    if old == new.as_str() {
        return Err(AccountError::Invalid("that is already your address".into()));
    }
    if users::find_by_email(conn, new)?.is_some() {
        return Err(AccountError::EmailTaken);
    }
    diesel::update(users_table::table.find(user.as_str()))
        .set((
            users_table::email.eq(new.as_str()),
            users_table::email_verified_at.eq(None::<chrono::NaiveDateTime>),
        ))
        .execute(conn)?;
    Ok(old)
}

/// The notice to the old address.
pub fn notice(old: &str, new: &str, reset_url: &str) -> Draft {
    Draft {
        kind: Kind::EmailChanged,
        to: old.to_string(),
        subject: "The email address of your captionfeed account changed".into(),
        text_body: format!(
            "The address of your captionfeed account was changed from {old} to {new}.\n\n\
             If you did this, there is nothing to do. If not, someone else has your password:\n\
             reset it at {reset_url} and check the account's settings.\n"
        ),
        html_body: None,
    }
}
