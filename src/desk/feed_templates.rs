//! The feed_templates table: one feed's own templates, which override the account's for
//! the same platform and variant. Every function takes the account id first; another
//! account's feeds are never seen. Saving one is `template_edits::save_for_feed`.

use diesel::prelude::*;

use super::templates_store::StoredTemplate;
use crate::accounts::UserId;
use crate::db::schema::feed_templates;
use crate::db::AnyConnection;
use crate::subscriptions::{Subscription, SubscriptionId};

/// The own templates of each of these subscriptions that has any, by platform then
/// variant, read with one statement for all of them: a batch of feeds asks once, not once
/// per subscription. A row counts only for the account that owns the subscription, as
/// with [`list`].
pub fn list_of_subscriptions(
    conn: &mut AnyConnection,
    subscriptions: &[&Subscription],
) -> QueryResult<std::collections::HashMap<SubscriptionId, Vec<StoredTemplate>>> {
    let mut own = std::collections::HashMap::new();
    if subscriptions.is_empty() {
        return Ok(own);
    }
    let owners: std::collections::HashMap<&str, &str> = subscriptions
        .iter()
        .map(|s| (s.id.as_str(), s.user_id.as_str()))
        .collect();
    let ids: Vec<&str> = owners.keys().copied().collect();
    let rows = feed_templates::table
        .filter(feed_templates::subscription_id.eq_any(&ids))
        .order((
            feed_templates::subscription_id.asc(),
            feed_templates::platform.asc(),
            feed_templates::variant.asc(),
        ))
        .select((
            feed_templates::user_id,
            feed_templates::subscription_id,
            feed_templates::platform,
            feed_templates::variant,
            feed_templates::source,
            feed_templates::updated_at,
        ))
        .load::<(
            String,
            String,
            String,
            String,
            String,
            chrono::NaiveDateTime,
        )>(conn)?;
    for (user, subscription, platform, variant, source, updated_at) in rows {
        if owners.get(subscription.as_str()) != Some(&user.as_str()) {
            continue;
        }
        own.entry(SubscriptionId(subscription))
            .or_insert_with(Vec::new)
            .push(StoredTemplate {
                platform,
                variant,
                source,
                updated_at,
            });
    }
    Ok(own)
}

/// The feed's own templates, by platform then variant.
pub fn list(
    conn: &mut AnyConnection,
    user: &UserId,
    subscription_id: &SubscriptionId,
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
