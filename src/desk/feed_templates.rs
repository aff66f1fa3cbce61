//! The feed_templates table: one feed's own templates, which override the account's for
//! the same platform and variant. Every function takes the account id first; another
//! account's feeds are never seen. Saving one is `template_edits::save_for_feed`.

use diesel::prelude::*;

use super::templates_store::StoredTemplate;
use crate::accounts::UserId;
use crate::db::schema::feed_templates;
use crate::db::AnyConnection;
use crate::subscriptions::SubscriptionId;

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
