//! Following a feed by its address: shared by the page form and the JSON API.

use super::feed_url::parse_feed_url;
use super::AppState;
use crate::accounts::UserId;
use crate::captions::Platform;
use crate::db::{now, DbError};
use crate::feeds::discover::{discover, may_be_a_page, Candidate, Discovery};
use crate::subscriptions::{self, Subscription, SubscriptionError};

pub enum AddFeedError {
    /// The address cannot be followed; the message says why.
    Invalid(String),
    /// The account follows it already, under this subscription id.
    AlreadyFollowed(Option<String>),
    /// The address is a site offering several feeds: the person picks one.
    Choose(Vec<Candidate>),
    /// The account's plan allows no more feeds; the message says which plan and how many.
    OverLimit(String),
    Db(DbError),
}

/// Why the subscribing transaction did not commit.
enum Refusal {
    Subscription(SubscriptionError),
    Limit(Box<crate::billing::Plan>),
}

impl From<SubscriptionError> for Refusal {
    fn from(e: SubscriptionError) -> Self {
        Refusal::Subscription(e)
    }
}

impl From<DbError> for Refusal {
    fn from(e: DbError) -> Self {
        Refusal::Subscription(e.into())
    }
}

impl From<diesel::result::Error> for Refusal {
    fn from(e: diesel::result::Error) -> Self {
        Refusal::Subscription(e.into())
    }
}

impl crate::db::IsBusy for Refusal {
    fn is_busy(&self) -> bool {
        matches!(self, Refusal::Subscription(e) if e.is_busy())
    }
}

/// Subscribes the account to the feed at `raw` and wakes the poller so it is fetched at once.
pub async fn add_feed(
    state: &AppState,
    user: &UserId,
    raw: &str,
) -> Result<Subscription, AddFeedError> {
    let policy = state.settings.address_policy();
    let url = parse_feed_url(raw, &policy).map_err(AddFeedError::Invalid)?;
    // A site's address instead of its feed's: find the feed, or let the person pick.
    let url = if may_be_a_page(&url) {
        match discover(&state.fetcher, &url).await {
            Discovery::Feed => url,
            // The page chose the address: the guard judges it like a typed one.
            Discovery::Found(found) if found.len() == 1 => {
                parse_feed_url(&found[0].url, &policy).map_err(AddFeedError::Invalid)?
            }
            Discovery::Found(found) => return Err(AddFeedError::Choose(found)),
            Discovery::NoneFound => {
                return Err(AddFeedError::Invalid(
                    "This page names no RSS, Atom or JSON feed, and none was found at the usual addresses. Enter the feed's address.".into(),
                ))
            }
        }
    } else {
        url
    };
    let (id, backfill, url_text) = (user.clone(), state.settings.backfill, url.to_string());
    let plans = state.settings.billing.as_ref().map(|b| b.plans.clone());
    let subscribed = state
        .db
        .transaction(move |conn| {
            let subscription =
                subscriptions::subscribe(conn, &id, &url_text, &Platform::ALL, backfill)?;
            // Counted after the insert, in its transaction: a refusal rolls it back.
            if let Some(plans) = &plans {
                let plan = crate::billing::account::effective_plan(conn, &id, plans, now())?;
                if crate::billing::limits::counted_feeds(conn, &id)? > i64::from(plan.max_feeds) {
                    return Err(Refusal::Limit(Box::new(plan)));
                }
            }
            Ok(subscription)
        })
        .await;
    match subscribed {
        Ok(subscription) => {
            state.poller_wake.notify_one();
            Ok(subscription)
        }
        Err(Refusal::Limit(plan)) => Err(AddFeedError::OverLimit(format!(
            "Your {} plan allows {} feeds, and you follow that many. Upgrade on the billing page to add more, or remove a feed first.",
            plan.name, plan.max_feeds
        ))),
        Err(Refusal::Subscription(SubscriptionError::AlreadySubscribed)) => {
            let (id, url_text) = (user.clone(), url.to_string());
            let existing = state
                .db
                .run(move |conn| subscriptions::list(conn, &id))
                .await
                .map_err(AddFeedError::Db)?
                .into_iter()
                .find(|s| s.feed.url == url_text)
                .map(|s| s.subscription.id);
            Err(AddFeedError::AlreadyFollowed(existing))
        }
        Err(Refusal::Subscription(SubscriptionError::Db(e))) => Err(AddFeedError::Db(e)),
    }
}
