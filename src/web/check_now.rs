//! "Check now", shared by the feed page's button and `POST /api/v1/feeds/{id}/poll`.

use std::time::Duration;

use super::AppState;
use crate::accounts::UserId;
use crate::db::DbError;
use crate::subscriptions::{self, SubscribedFeed};

pub enum CheckNow {
    /// The poller was woken and checks the feed within seconds.
    Asked(Box<SubscribedFeed>),
    /// Checked less than a minute ago ([`crate::poller::CHECK_FLOOR`]): wait this long.
    TooSoon(Duration),
    /// The feed answered 410 Gone and is no longer checked.
    Gone,
    /// Not one of the account's feeds.
    NotFound,
}

/// Makes the account's subscription's feed due now, unless it was checked less than a
/// minute ago: a button must not become a way to hammer someone else's server.
pub async fn check_now(
    state: &AppState,
    user: &UserId,
    subscription_id: String,
) -> Result<CheckNow, DbError> {
    let id = user.clone();
    let answer = state
        .db
        .run(move |conn| {
            let Some(subscribed) = subscriptions::get(conn, &id, &subscription_id)? else {
                return Ok::<_, DbError>(CheckNow::NotFound);
            };
            let asked = crate::feeds::store::request_feed_check(
                conn,
                &subscribed.feed,
                crate::poller::CHECK_FLOOR,
            )?;
            Ok(match asked {
                Ok(()) => CheckNow::Asked(Box::new(subscribed)),
                Err(wait) if wait == Duration::MAX => CheckNow::Gone,
                Err(wait) => CheckNow::TooSoon(wait),
            })
        })
        .await?;
    if matches!(answer, CheckNow::Asked(_)) {
        state.poller_wake.notify_one();
    }
    Ok(answer)
}
