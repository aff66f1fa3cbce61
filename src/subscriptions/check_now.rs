//! "Check now", shared by the feed page's button and `POST /api/v1/feeds/{id}/poll`.

use std::time::Duration;

use tokio::sync::Notify;

use super::SubscribedFeed;
use crate::accounts::UserId;
use crate::billing::Plans;
use crate::db::{Db, DbError};
use crate::feeds::CHECK_FLOOR;
use crate::subscriptions::SubscriptionId;

pub enum CheckNow {
    /// The poller was woken and checks the feed within seconds.
    Asked(Box<SubscribedFeed>),
    /// Checked too recently ([`CHECK_FLOOR`], or the plan's interval): wait this long.
    TooSoon(Duration),
    /// The feed answered 410 Gone and is no longer checked.
    Gone,
    /// Not one of the account's feeds.
    NotFound,
}

/// Makes the account's subscription's feed due now, unless it was checked less than a
/// minute ago (with billing on, less than its followers' best plan interval): a button
/// must not become a way to hammer someone else's server. `plans` is `None` with billing
/// off; `poller_wake` is woken when the feed was made due.
pub async fn check_now(
    db: &Db,
    plans: Option<&Plans>,
    poller_wake: &Notify,
    user: &UserId,
    subscription_id: String,
) -> Result<CheckNow, DbError> {
    let id = user.clone();
    let plans = plans.cloned();
    let answer = db
        .run(move |conn| {
            let Some(subscribed) =
                super::get(conn, &id, &SubscriptionId::from(subscription_id.as_str()))?
            else {
                return Ok::<_, DbError>(CheckNow::NotFound);
            };
            // With billing on, a request never checks a feed sooner than the plans allow.
            let floor = match &plans {
                Some(plans) => crate::billing::limits::feed_check_interval(
                    conn,
                    &subscribed.feed.id,
                    plans,
                    crate::db::now(),
                )?
                .unwrap_or(CHECK_FLOOR)
                .max(CHECK_FLOOR),
                None => CHECK_FLOOR,
            };
            let asked = crate::feeds::store::request_feed_check(conn, &subscribed.feed, floor)?;
            Ok(match asked {
                Ok(()) => CheckNow::Asked(Box::new(subscribed)),
                Err(wait) if wait == Duration::MAX => CheckNow::Gone,
                Err(wait) => CheckNow::TooSoon(wait),
            })
        })
        .await?;
    if matches!(answer, CheckNow::Asked(_)) {
        poller_wake.notify_one();
    }
    Ok(answer)
}
