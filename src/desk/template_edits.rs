//! Saving and removing templates, the account's or one feed's: a change in force rewrites
//! the captions not used yet in the same transaction (see [`super::regenerate`]). The
//! tables themselves are `templates_store` and `feed_templates`.

use diesel::prelude::*;

use super::regenerate::{self, Regenerated};
use super::templates_store::{valid_variant, SaveError};
use crate::accounts::UserId;
use crate::captions::{validate_template as validate, Platform};
use crate::db::schema::{feed_templates, subscriptions, templates};
use crate::db::{new_id, now, AnyConnection};
use crate::subscriptions::SubscriptionId;

/// Validates and saves a template, then rewrites the account's captions not used yet
/// (see [`super::regenerate`]). A refused template changes nothing: the one saved before
/// stays in force. Call inside a transaction, so the captions follow the template or
/// neither changes.
pub fn save(
    conn: &mut AnyConnection,
    user: &UserId,
    platform: Platform,
    variant: &str,
    source: &str,
) -> Result<Regenerated, SaveError> {
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
    Ok(regenerate::for_account(conn, user, now())?)
}

/// Removes one of the account's templates (back to the built-in one for
/// `default`) and rewrites the captions not used yet as [`save`] does; `None` when there
/// was none. Call inside a transaction.
pub fn delete(
    conn: &mut AnyConnection,
    user: &UserId,
    platform: Platform,
    variant: &str,
) -> QueryResult<Option<Regenerated>> {
    let removed = diesel::delete(
        templates::table
            .filter(templates::user_id.eq(user.as_str()))
            .filter(templates::platform.eq(platform.id()))
            .filter(templates::variant.eq(variant)),
    )
    .execute(conn)?;
    if removed == 0 {
        return Ok(None);
    }
    regenerate::for_account(conn, user, now()).map(Some)
}

/// Validates and saves a template for one of the account's feeds, then rewrites that
/// feed's captions not used yet. `None` when the feed is not the account's. A refused
/// template changes nothing. Call inside a transaction.
pub fn save_for_feed(
    conn: &mut AnyConnection,
    user: &UserId,
    subscription_id: &SubscriptionId,
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
pub fn delete_for_feed(
    conn: &mut AnyConnection,
    user: &UserId,
    subscription_id: &SubscriptionId,
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
