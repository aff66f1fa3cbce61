//! The templates an account's captions are made with, compiled once per pass: the
//! built-in ones in the feed's language, the account's over them, a feed's own over those.

use std::collections::HashMap;

use diesel::prelude::*;

use super::templates_store::{list, StoredTemplate};
use crate::accounts::UserId;
use crate::captions::{Language, Platform, TemplateSet};
use crate::db::AnyConnection;
use crate::feeds::store::Feed;
use crate::subscriptions::{Subscription, SubscriptionId};

/// The built-in defaults in `language`, the account's templates over them, and a feed's
/// own templates (`feed`) over those.
fn compiled_in(
    conn: &mut AnyConnection,
    user: &UserId,
    language: Language,
    feed: Vec<StoredTemplate>,
) -> QueryResult<TemplateSet> {
    let stored = list(conn, user)?;
    let (set, broken) = TemplateSet::with_overrides_in(
        language,
        stored.into_iter().chain(feed).filter_map(|t| {
            let platform: Platform = t.platform.parse().ok()?;
            Some((platform, t.variant, t.source))
        }),
    );
    for (platform, variant, error) in broken {
        tracing::warn!(user = user.as_str(), platform = platform.id(), variant, %error, "stored template no longer compiles");
    }
    Ok(set)
}

/// Template sets compiled for a pass over many subscriptions: the subscriptions of one
/// account in one language without templates of their own share a set.
#[derive(Default)]
pub struct TemplateCache {
    sets: HashMap<String, TemplateSet>,
    /// Feed templates read ahead for a batch ([`TemplateCache::read_ahead`]): an entry,
    /// empty or not, for every subscription read, so none of them is asked for again.
    own: HashMap<SubscriptionId, Vec<StoredTemplate>>,
}

impl TemplateCache {
    pub fn new() -> Self {
        Self::default()
    }

    /// Reads the feed templates of all these subscriptions with one statement, so that
    /// [`TemplateCache::for_subscription`] does not ask once per subscription: in a batch
    /// of 64 feeds on PostgreSQL, those 64 round trips were most of the captions' reads.
    pub fn read_ahead(
        &mut self,
        conn: &mut AnyConnection,
        subscriptions: &[&Subscription],
    ) -> QueryResult<()> {
        let mut own = super::feed_templates::list_of_subscriptions(conn, subscriptions)?;
        for subscription in subscriptions {
            let templates = own.remove(&subscription.id).unwrap_or_default();
            self.own.insert(subscription.id.clone(), templates);
        }
        Ok(())
    }

    /// The templates `subscription` (of `feed`) makes its captions with.
    pub fn for_subscription(
        &mut self,
        conn: &mut AnyConnection,
        subscription: &Subscription,
        feed: &Feed,
    ) -> QueryResult<&TemplateSet> {
        let user = UserId(subscription.user_id.clone());
        let language = subscription.language(feed);
        let own = match self.own.get(&subscription.id) {
            Some(own) => own.clone(),
            None => super::feed_templates::list(conn, &user, &subscription.id)?,
        };
        let key = match own.is_empty() {
            true => format!("{}/{}", user.as_str(), language.code()),
            false => format!("{}/{}/{}", user.as_str(), language.code(), subscription.id),
        };
        if !self.sets.contains_key(&key) {
            let set = compiled_in(conn, &user, language, own)?;
            self.sets.insert(key.clone(), set);
        }
        self.sets.get(&key).ok_or(diesel::result::Error::NotFound)
    }
}
