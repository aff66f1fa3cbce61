//! Personal API tokens: named, shown once, stored as a SHA-256, revocable.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::sessions::{random_token, token_hash};
use super::{AccountError, User, UserId};
use crate::db::schema::{api_tokens, users};
use crate::db::{new_id, now, AnyConnection};

/// Every token starts with this, so a leaked one is easy to recognise (and to scan for).
pub const TOKEN_PREFIX: &str = "cf_";

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = api_tokens)]
pub struct ApiToken {
    pub id: String,
    pub name: String,
    pub created_at: NaiveDateTime,
    pub last_used_at: Option<NaiveDateTime>,
}

/// Creates a token; returns it with the secret, which is never shown again.
pub fn create(
    conn: &mut AnyConnection,
    user: &UserId,
    name: &str,
) -> Result<(ApiToken, String), AccountError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(AccountError::Invalid(
            "give the token a name of 1 to 100 characters".into(),
        ));
    }
    let secret = format!("{TOKEN_PREFIX}{}", random_token());
    let id = new_id();
    diesel::insert_into(api_tokens::table)
        .values((
            api_tokens::id.eq(&id),
            api_tokens::user_id.eq(user.as_str()),
            api_tokens::name.eq(name),
            api_tokens::token_hash.eq(token_hash(&secret)),
            api_tokens::created_at.eq(now()),
        ))
        .execute(conn)?;
    let token = api_tokens::table
        .find(&id)
        .select(ApiToken::as_select())
        .first(conn)?;
    Ok((token, secret))
}

/// The account's live tokens, newest first.
pub fn list(conn: &mut AnyConnection, user: &UserId) -> Result<Vec<ApiToken>, AccountError> {
    Ok(api_tokens::table
        .filter(api_tokens::user_id.eq(user.as_str()))
        .filter(api_tokens::revoked_at.is_null())
        .order(api_tokens::created_at.desc())
        .select(ApiToken::as_select())
        .load(conn)?)
}

/// Revokes one of the account's tokens; false if it is not theirs or already revoked.
pub fn revoke(
    conn: &mut AnyConnection,
    user: &UserId,
    token_id: &str,
) -> Result<bool, AccountError> {
    let changed = diesel::update(
        api_tokens::table
            .filter(api_tokens::user_id.eq(user.as_str()))
            .filter(api_tokens::id.eq(token_id))
            .filter(api_tokens::revoked_at.is_null()),
    )
    .set(api_tokens::revoked_at.eq(now()))
    .execute(conn)?;
    Ok(changed == 1)
}

/// The user a live token belongs to, recording the use; `None` for anything else.
pub fn user_for_token(
    conn: &mut AnyConnection,
    secret: &str,
) -> Result<Option<(User, String)>, AccountError> {
    if !secret.starts_with(TOKEN_PREFIX) {
        return Ok(None);
    }
    let found: Option<(User, String)> = api_tokens::table
        .inner_join(users::table)
        .filter(api_tokens::token_hash.eq(token_hash(secret)))
        .filter(api_tokens::revoked_at.is_null())
        .select((User::as_select(), api_tokens::id))
        .first(conn)
        .optional()?;
    if let Some((_, token_id)) = &found {
        diesel::update(api_tokens::table.find(token_id))
            .set(api_tokens::last_used_at.eq(now()))
            .execute(conn)?;
    }
    Ok(found)
}
