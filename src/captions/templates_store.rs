//! The templates table: an account's own caption templates. Every function
//! takes the account id first; another account's templates are never seen.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::engine::{validate, TemplateError, TemplateSet};
use super::Platform;
use crate::accounts::UserId;
use crate::db::schema::templates;
use crate::db::{new_id, now, AnyConnection, DbError};

/// Longest variant name; names appear in pages and URLs.
const MAX_VARIANT_LEN: usize = 32;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = templates)]
pub struct StoredTemplate {
    pub platform: String,
    pub variant: String,
    pub source: String,
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, thiserror::Error)]
pub enum SaveError {
    #[error("{0}")]
    Invalid(#[from] TemplateError),
    #[error("variant names are 1 to 32 lowercase letters, digits, - or _")]
    BadVariant,
    #[error(transparent)]
    Db(#[from] DbError),
}

impl From<diesel::result::Error> for SaveError {
    fn from(e: diesel::result::Error) -> Self {
        SaveError::Db(e.into())
    }
}

/// Whether `name` can be a variant name.
pub fn valid_variant(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= MAX_VARIANT_LEN
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
}

/// The account's templates, by platform then variant.
pub fn list(conn: &mut AnyConnection, user: &UserId) -> QueryResult<Vec<StoredTemplate>> {
    templates::table
        .filter(templates::user_id.eq(user.as_str()))
        .order((templates::platform.asc(), templates::variant.asc()))
        .select(StoredTemplate::as_select())
        .load(conn)
}

/// Validates and saves a template. A refused template changes nothing: the
/// one saved before stays in force.
pub fn save(
    conn: &mut AnyConnection,
    user: &UserId,
    platform: Platform,
    variant: &str,
    source: &str,
) -> Result<(), SaveError> {
    if !valid_variant(variant) {
        return Err(SaveError::BadVariant);
    }
    validate(source)?;
    let updated = diesel::update(
        templates::table
            .filter(templates::user_id.eq(user.as_str()))
            .filter(templates::platform.eq(platform.id()))
            .filter(templates::variant.eq(variant)),
    )
    .set((
        templates::source.eq(source),
        templates::updated_at.eq(now()),
    ))
    .execute(conn)?;
    if updated == 0 {
        // Two saves racing both insert; the loser's row is ignored, and the
        // winner's text is what the account sees, as with any last edit.
        crate::insert_or_ignore!(
            conn,
            templates::table,
            (
                templates::id.eq(new_id()),
                templates::user_id.eq(user.as_str()),
                templates::platform.eq(platform.id()),
                templates::variant.eq(variant),
                templates::source.eq(source),
                templates::updated_at.eq(now()),
            )
        )?;
    }
    Ok(())
}

/// Removes one of the account's templates (back to the built-in one for
/// `default`); false when there was none.
pub fn delete(
    conn: &mut AnyConnection,
    user: &UserId,
    platform: Platform,
    variant: &str,
) -> QueryResult<bool> {
    let removed = diesel::delete(
        templates::table
            .filter(templates::user_id.eq(user.as_str()))
            .filter(templates::platform.eq(platform.id()))
            .filter(templates::variant.eq(variant)),
    )
    .execute(conn)?;
    Ok(removed > 0)
}

/// The account's templates compiled once, with the built-in defaults for
/// whatever the account did not override.
pub fn compiled(conn: &mut AnyConnection, user: &UserId) -> QueryResult<TemplateSet> {
    let stored = list(conn, user)?;
    let (set, broken) = TemplateSet::with_overrides(stored.into_iter().filter_map(|t| {
        let platform: Platform = t.platform.parse().ok()?;
        Some((platform, t.variant, t.source))
    }));
    for (platform, variant, error) in broken {
        tracing::warn!(user = user.as_str(), platform = platform.id(), variant, %error, "stored template no longer compiles");
    }
    Ok(set)
}
