//! The feed_templates table: one feed's own templates, which override the account's for
//! the same platform and variant. Every function takes the account id first; another
//! account's feeds are never seen.

use diesel::prelude::*;

use super::engine::validate;
use super::regenerate::{self, Regenerated};
use super::templates_store::{valid_variant, SaveError, StoredTemplate};
use super::Platform;
use crate::accounts::UserId;
use crate::db::schema::{feed_templates, subscriptions};
use crate::db::{new_id, now, AnyConnection};

/// The feed's own templates, by platform then variant.
pub fn list(
    conn: &mut AnyConnection,
    user: &UserId,
    subscription_id: &str,
) -> QueryResult<Vec<StoredTemplate>> {
    feed_templates::table
        .filter(feed_templates::user_id.eq(user.as_str()))
        .filter(feed_templates::subscription_id.eq(subscription_id))
        .order((
            feed_templates::platform.asc(),
            feed_templates::variant.asc(),
        ))
        .select((
            feed_templates::platform,
            feed_templates::variant,
            feed_templates::source,
            feed_templates::updated_at,
        ))
        .load::<(String, String, String, chrono::NaiveDateTime)>(conn)
        .map(|rows| {
            rows.into_iter()
                .map(|(platform, variant, source, updated_at)| StoredTemplate {
                    platform,
                    variant,
                    source,
                    updated_at,
                })
                .collect()
        })
}

/// Validates and saves a template for one of the account's feeds, then rewrites that
/// feed's captions not used yet. `None` when the feed is not the account's. A refused
/// template changes nothing. Call inside a transaction.
pub fn save(
    conn: &mut AnyConnection,
    user: &UserId,
    subscription_id: &str,
    platform: Platform,
    variant: &str,
    source: &str,
) -> Result<Option<Regenerated>, SaveError> {
    if !valid_variant(variant) {
        return Err(SaveError::BadVariant);
    }
    validate(source)?;
    let owned: i64 = subscriptions::table
        .filter(subscriptions::user_id.eq(user.as_str()))
        .filter(subscriptions::id.eq(subscription_id))
        .count()
        .get_result(conn)?;
    if owned == 0 {
        return Ok(None);
    }
    let target = || {
        feed_templates::table
            .filter(feed_templates::user_id.eq(user.as_str()))
            .filter(feed_templates::subscription_id.eq(subscription_id))
            .filter(feed_templates::platform.eq(platform.id()))
            .filter(feed_templates::variant.eq(variant))
    };
    let updated = diesel::update(target())
        .set((
            feed_templates::source.eq(source),
            feed_templates::updated_at.eq(now()),
        ))
        .execute(conn)?;
    if updated == 0 {
        // As for the account's templates: of two racing saves, the last edit stands.
        crate::insert_or_ignore!(
            conn,
            feed_templates::table,
            (
                feed_templates::id.eq(new_id()),
                feed_templates::user_id.eq(user.as_str()),
                feed_templates::subscription_id.eq(subscription_id),
                feed_templates::platform.eq(platform.id()),
                feed_templates::variant.eq(variant),
                feed_templates::source.eq(source),
                feed_templates::updated_at.eq(now()),
            )
        )?;
    }
    Ok(Some(regenerate::for_subscription(
        conn,
        user,
        subscription_id,
        now(),
    )?))
}

/// Removes one of a feed's own templates (the account's, or the built-in one, is used
/// again) and rewrites the feed's captions not used yet; `None` when there was none.
/// Call inside a transaction.
pub fn delete(
    conn: &mut AnyConnection,
    user: &UserId,
    subscription_id: &str,
    platform: Platform,
    variant: &str,
) -> QueryResult<Option<Regenerated>> {
    let removed = diesel::delete(
        feed_templates::table
            .filter(feed_templates::user_id.eq(user.as_str()))
            .filter(feed_templates::subscription_id.eq(subscription_id))
            .filter(feed_templates::platform.eq(platform.id()))
            .filter(feed_templates::variant.eq(variant)),
    )
    .execute(conn)?;
    if removed == 0 {
        return Ok(None);
    }
    regenerate::for_subscription(conn, user, subscription_id, now()).map(Some)
}
