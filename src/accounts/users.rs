//! The users table.

use diesel::prelude::*;

use super::validate::Email;
use super::AccountError;
use crate::db::schema::users;
use crate::db::{new_id, now, AnyConnection};

/// The id of an account; every account-scoped storage function takes one first.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize)]
pub struct UserId(pub String);

impl UserId {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = users)]
pub struct User {
    pub id: String,
    pub email: String,
    pub password_hash: String,
    pub created_at: chrono::NaiveDateTime,
    /// When the current address was confirmed; none until it is (digests wait).
    pub email_verified_at: Option<chrono::NaiveDateTime>,
}

impl User {
    pub fn user_id(&self) -> UserId {
        UserId(self.id.clone())
    }
}

#[derive(Insertable)]
#[diesel(table_name = users)]
struct NewUser<'a> {
    id: &'a str,
    email: &'a str,
    password_hash: &'a str,
    created_at: chrono::NaiveDateTime,
}

/// Creates a user; `EmailTaken` when the address already has an account.
pub fn create(
    conn: &mut AnyConnection,
    email: &Email,
    password_hash: &str,
) -> Result<User, AccountError> {
    let id = new_id();
    let row = NewUser {
        id: &id,
        email: email.as_str(),
        password_hash,
        created_at: now(),
    };
    let inserted = crate::insert_or_ignore!(conn, users::table, &row)?;
    if inserted == 0 {
        return Err(AccountError::EmailTaken);
    }
    Ok(users::table
        .find(&id)
        .select(User::as_select())
        .first(conn)?)
}

pub fn find_by_email(
    conn: &mut AnyConnection,
    email: &Email,
) -> Result<Option<User>, AccountError> {
    Ok(users::table
        .filter(users::email.eq(email.as_str()))
        .select(User::as_select())
        .first(conn)
        .optional()?)
}

pub fn get(conn: &mut AnyConnection, user: &UserId) -> Result<Option<User>, AccountError> {
    Ok(users::table
        .find(user.as_str())
        .select(User::as_select())
        .first(conn)
        .optional()?)
}

/// When each account made since `since` signed up (the console's sign-ups per day).
pub fn signed_up_since(
    conn: &mut AnyConnection,
    since: chrono::NaiveDateTime,
) -> Result<Vec<chrono::NaiveDateTime>, AccountError> {
    Ok(users::table
        .filter(users::created_at.ge(since))
        .select(users::created_at)
        .load(conn)?)
}

/// Accounts that signed in or used an API token since `since`. A session lasts 30 days,
/// so someone who keeps one open counts from the day they signed in.
pub fn active_since(
    conn: &mut AnyConnection,
    since: chrono::NaiveDateTime,
) -> Result<i64, AccountError> {
    use crate::db::schema::{api_tokens, sessions};
    use diesel::dsl::exists;
    Ok(users::table
        .filter(
            exists(
                sessions::table
                    .filter(sessions::user_id.eq(users::id))
                    .filter(sessions::created_at.ge(since)),
            )
            .or(exists(
                api_tokens::table
                    .filter(api_tokens::user_id.eq(users::id))
                    .filter(api_tokens::last_used_at.ge(since)),
            )),
        )
        .count()
        .get_result(conn)?)
}

pub fn count(conn: &mut AnyConnection) -> Result<i64, AccountError> {
    Ok(users::table.count().get_result(conn)?)
}
