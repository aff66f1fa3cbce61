//! What a plan's limits do to an account's feeds: counting them, pausing the ones beyond
//! the limit after a downgrade (never deleting), resuming them after an upgrade, and how
//! often the poller may check a feed.

use std::time::Duration;

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::account::{self, BillingAccount};
use super::plans::{Plan, Plans};
use crate::accounts::UserId;
use crate::db::schema::{billing_accounts, subscriptions};
use crate::db::AnyConnection;

/// The account's feeds that count against its plan (those not paused by the plan).
pub fn counted_feeds(conn: &mut AnyConnection, user: &UserId) -> QueryResult<i64> {
    subscriptions::table
        .filter(subscriptions::user_id.eq(user.as_str()))
        .filter(subscriptions::paused_by_plan.eq(false))
        .count()
        .get_result(conn)
}

/// What [`enforce`] changed.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Enforced {
    pub paused: usize,
    pub resumed: usize,
}

/// Brings the account's feeds within `plan`: beyond the limit, the newest are paused by
/// the plan; under it, paused ones are resumed, oldest first. Nothing is deleted.
pub fn enforce(conn: &mut AnyConnection, user: &UserId, plan: &Plan) -> QueryResult<Enforced> {
    let rows: Vec<(String, bool)> = subscriptions::table
        .filter(subscriptions::user_id.eq(user.as_str()))
        .order((subscriptions::created_at.asc(), subscriptions::id.asc()))
        .select((subscriptions::id, subscriptions::paused_by_plan))
        .load(conn)?;
    let limit = usize::try_from(plan.max_feeds).unwrap_or(usize::MAX);
    let active: Vec<&String> = rows.iter().filter(|(_, p)| !p).map(|(id, _)| id).collect();
    let paused: Vec<&String> = rows.iter().filter(|(_, p)| *p).map(|(id, _)| id).collect();
    let mut done = Enforced::default();
    if active.len() > limit {
        let extra: Vec<&String> = active[limit..].to_vec();
        done.paused = set_paused(conn, user, &extra, true)?;
    } else {
        let room = limit - active.len();
        let back: Vec<&String> = paused.into_iter().take(room).collect();
        done.resumed = set_paused(conn, user, &back, false)?;
    }
    Ok(done)
}

/// The subscriber's choice of which feeds to keep within `plan`: the kept ones run, every
/// other one is paused by the plan. Refused when more are kept than the plan allows.
pub fn keep_only(
    conn: &mut AnyConnection,
    user: &UserId,
    plan: &Plan,
    keep: &[String],
) -> Result<(), String> {
    if keep.len() > usize::try_from(plan.max_feeds).unwrap_or(usize::MAX) {
        return Err(format!(
            "The {} plan allows {} feeds; you picked {}.",
            plan.name,
            plan.max_feeds,
            keep.len()
        ));
    }
    let all: Vec<String> = subscriptions::table
        .filter(subscriptions::user_id.eq(user.as_str()))
        .select(subscriptions::id)
        .load(conn)
        .map_err(|e| e.to_string())?;
    let (kept, paused): (Vec<&String>, Vec<&String>) = all.iter().partition(|id| keep.contains(id));
    set_paused(conn, user, &kept, false).map_err(|e| e.to_string())?;
    set_paused(conn, user, &paused, true).map_err(|e| e.to_string())?;
    Ok(())
}

fn set_paused(
    conn: &mut AnyConnection,
    user: &UserId,
    ids: &[&String],
    paused: bool,
) -> QueryResult<usize> {
    if ids.is_empty() {
        return Ok(0);
    }
    diesel::update(
        subscriptions::table
            .filter(subscriptions::user_id.eq(user.as_str()))
            .filter(subscriptions::id.eq_any(ids)),
    )
    .set(subscriptions::paused_by_plan.eq(paused))
    .execute(conn)
}

/// How often a feed may be checked: the interval of the most generous plan among the
/// accounts that follow it (feed-level: for the poller). `None` when nobody follows it.
pub fn feed_check_interval(
    conn: &mut AnyConnection,
    feed_id: &str,
    plans: &Plans,
    now: NaiveDateTime,
) -> QueryResult<Option<Duration>> {
    Ok(feeds_check_intervals(conn, &[feed_id], plans, now)?.remove(feed_id))
}

/// [`feed_check_interval`] for a batch of feeds, in two statements whatever their
/// number; feeds nobody follows are left out.
pub fn feeds_check_intervals(
    conn: &mut AnyConnection,
    feed_ids: &[&str],
    plans: &Plans,
    now: NaiveDateTime,
) -> QueryResult<std::collections::HashMap<String, Duration>> {
    if feed_ids.is_empty() {
        return Ok(Default::default());
    }
    let followers: Vec<(String, String)> = crate::on_backend!(&mut *conn, |c| {
        subscriptions::table
            .filter(subscriptions::feed_id.eq_any(feed_ids))
            .filter(subscriptions::paused.eq(false))
            .filter(subscriptions::paused_by_plan.eq(false))
            .select((subscriptions::feed_id, subscriptions::user_id))
            .load::<(String, String)>(c)
    })?;
    let mut users: Vec<&str> = followers.iter().map(|(_, user)| user.as_str()).collect();
    users.sort_unstable();
    users.dedup();
    let accounts: std::collections::HashMap<String, BillingAccount> =
        crate::on_backend!(&mut *conn, |c| billing_accounts::table
            .filter(billing_accounts::user_id.eq_any(&users))
            .select(BillingAccount::as_select())
            .load::<BillingAccount>(c))?
        .into_iter()
        .map(|account| (account.user_id.clone(), account))
        .collect();
    let free = plans.free().min_check_interval();
    let mut best: std::collections::HashMap<String, Duration> = Default::default();
    for (feed_id, user) in followers {
        let interval = accounts
            .get(&user)
            .map(|a| a.effective_plan(plans, now).min_check_interval())
            .unwrap_or(free);
        best.entry(feed_id)
            .and_modify(|d| *d = (*d).min(interval))
            .or_insert(interval);
    }
    Ok(best)
}

/// Re-applies the plans of accounts whose grace period has ended; returns how many
/// accounts had feeds paused.
pub fn end_grace_periods(
    conn: &mut AnyConnection,
    plans: &Plans,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    let mut changed = 0;
    for user in account::grace_ended(conn, now)? {
        let user = UserId(user);
        let plan = account::effective_plan(conn, &user, plans, now)?;
        if enforce(conn, &user, &plan)?.paused > 0 {
            changed += 1;
        }
    }
    Ok(changed)
}
