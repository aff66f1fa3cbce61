//! Following a feed by its address: what the page form, sign-up with a feed, OPML import
//! and the JSON API all do.

use tokio::sync::Notify;

use super::same_blog::followed_elsewhere;
use super::{SubscribedFeed, Subscription, SubscriptionError};
use crate::accounts::UserId;
use crate::billing::Plans;
use crate::captions::Platform;
use crate::db::{now, Db, DbError};
use crate::feeds::address::parse_feed_url;
use crate::feeds::discover::Candidate;
use crate::feeds::guard::AddressPolicy;
use crate::feeds::probe::{probe, Probe};
use crate::feeds::Fetcher;

/// What following a feed uses besides the account and the address.
pub struct Follow<'a> {
    pub db: &'a Db,
    /// Looks at the address before it is followed.
    pub fetcher: &'a Fetcher,
    /// The networks a feed may live on.
    pub addresses: AddressPolicy,
    /// How many of a new feed's newest posts get captions.
    pub backfill: u32,
    /// With billing on, the plans whose feed limits apply.
    pub plans: Option<&'a Plans>,
    /// Woken once a feed is followed, so it is fetched at once.
    pub poller_wake: &'a Notify,
}

/// Why a feed was not followed.
pub enum FollowError {
    /// The address cannot be followed; the message says why.
    Invalid(String),
    /// The address answers 404/410 or holds no feed; the sentence says which.
    NotAFeed(String),
    /// The account follows it already, under this subscription id.
    AlreadyFollowed(Option<String>),
    /// The address is a site offering several feeds: the person picks one.
    Choose(Vec<Candidate>),
    /// The account's plan allows no more feeds; the message says which plan and how many.
    OverLimit(String),
    /// The account follows the same blog through another feed (boxed: it is large).
    SameBlog(Box<SubscribedFeed>),
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

/// Whether [`Follow::feed`] may follow a second feed of a blog the account follows already.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum SameBlog {
    Refuse,
    Follow,
}

impl Follow<'_> {
    /// Subscribes the account to the feed at `raw` and wakes the poller so it is fetched at once.
    /// The address is looked at first: one that answers 404/410 or holds no feed is refused,
    /// a site's address leads to its feed, and a second feed of a blog already followed is
    /// refused unless `same_blog` says to follow it.
    pub async fn feed(
        &self,
        user: &UserId,
        raw: &str,
        same_blog: SameBlog,
    ) -> Result<Subscription, FollowError> {
        let policy = &self.addresses;
        let typed = parse_feed_url(raw, policy).map_err(FollowError::Invalid)?;
        // A feed the account follows already is said so without asking its server again.
        if let Some(existing) = self.followed_as(user, typed.as_str()).await? {
            return Err(FollowError::AlreadyFollowed(Some(existing)));
        }
        let (url, looked) = match probe(self.fetcher, &typed).await {
            Probe::Page(found) if found.len() == 1 => {
                // The page chose the address: the guard judges it like a typed one.
                let url = parse_feed_url(&found[0].url, policy).map_err(FollowError::Invalid)?;
                match probe(self.fetcher, &url).await {
                    Probe::Page(_) => return Err(FollowError::Invalid(
                        "This page names a feed that is itself a page. Enter the feed's address."
                            .into(),
                    )),
                    looked => (url, looked),
                }
            }
            Probe::Page(found) => return Err(FollowError::Choose(found)),
            looked => (typed, looked),
        };
        let parsed = match looked {
            Probe::NoFeed(sentence) => return Err(FollowError::NotAFeed(sentence)),
            Probe::Feed(parsed) => Some(parsed),
            Probe::Unknown | Probe::Page(_) => None,
        };
        if let (Some(parsed), SameBlog::Refuse) = (parsed, same_blog) {
            let (id, url_text) = (user.clone(), url.to_string());
            let site = parsed.site_url.clone();
            let links: Vec<String> = parsed
                .entries
                .iter()
                .filter_map(|e| e.url.clone())
                .collect();
            let other = self
                .db
                .run(move |conn| followed_elsewhere(conn, &id, &url_text, site.as_deref(), &links))
                .await
                .map_err(FollowError::Db)?;
            if let Some(same) = other {
                return Err(FollowError::SameBlog(Box::new(same)));
            }
        }
        let (id, backfill, url_text) = (user.clone(), self.backfill, url.to_string());
        let plans = self.plans.cloned();
        let subscribed = self
            .db
            .transaction(move |conn| {
                let subscription =
                    super::subscribe(conn, &id, &url_text, &Platform::ALL, backfill)?;
                // Counted after the insert, in its transaction: a refusal rolls it back.
                if let Some(plans) = &plans {
                    let plan = crate::billing::account::effective_plan(conn, &id, plans, now())?;
                    if crate::billing::limits::counted_feeds(conn, &id)? > i64::from(plan.max_feeds)
                    {
                        return Err(Refusal::Limit(Box::new(plan)));
                    }
                }
                Ok(subscription)
            })
            .await;
        match subscribed {
        Ok(subscription) => {
            self.poller_wake.notify_one();
            Ok(subscription)
        }
        Err(Refusal::Limit(plan)) => Err(FollowError::OverLimit(format!(
            "Your {} plan allows {} feeds, and you follow that many. Upgrade on the billing page to add more, or remove a feed first.",
            plan.name, plan.max_feeds
        ))),
        Err(Refusal::Subscription(SubscriptionError::AlreadySubscribed)) => Err(
            FollowError::AlreadyFollowed(self.followed_as(user, url.as_str()).await?),
        ),
        Err(Refusal::Subscription(SubscriptionError::Db(e))) => Err(FollowError::Db(e)),
    }
    }

    /// The account's subscription to the feed at `url`, if it follows it.
    async fn followed_as(&self, user: &UserId, url: &str) -> Result<Option<String>, FollowError> {
        let (id, url) = (user.clone(), url.to_string());
        Ok(self
            .db
            .run(move |conn| super::list(conn, &id))
            .await
            .map_err(FollowError::Db)?
            .into_iter()
            .find(|s| s.feed.url == url)
            .map(|s| s.subscription.id.0))
    }
}
