//! The business at a glance: sign-ups, active accounts, plans and revenue, plan changes,
//! payments that failed. Numbers only; the console draws them.

use chrono::{Datelike as _, NaiveDate, NaiveDateTime};

use crate::accounts::{users, AccountError};
use crate::billing::account::{self as billing_account, PlanChange};
use crate::billing::Plans;
use crate::db::AnyConnection;

/// How many days of sign-ups and weeks of plan changes the console shows.
pub const DAYS: i64 = 30;
pub const WEEKS: i64 = 8;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanCount {
    pub plan: String,
    pub name: String,
    pub accounts: i64,
    /// What these accounts pay a month, in cents.
    pub monthly_cents: i64,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WeekChanges {
    /// The Monday the week starts on (UTC).
    pub week: NaiveDate,
    pub upgrades: i64,
    pub downgrades: i64,
    pub cancellations: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PastDue {
    pub account_id: String,
    pub email: String,
    pub plan: String,
    pub since: Option<NaiveDateTime>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Glance {
    pub accounts: i64,
    /// The last [`DAYS`] days, oldest first, days without a sign-up included.
    pub signups_per_day: Vec<(NaiveDate, i64)>,
    pub active_7_days: i64,
    pub active_30_days: i64,
    /// Empty when billing is off.
    pub per_plan: Vec<PlanCount>,
    pub mrr_cents: i64,
    /// The last [`WEEKS`] weeks, oldest first.
    pub weeks: Vec<WeekChanges>,
    pub past_due: Vec<PastDue>,
}

/// What a plan change was, by what the account paid before and after it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeKind {
    Upgrade,
    Downgrade,
    Cancellation,
}

/// The plan an account pays for in a state: none unless the subscription is live.
fn paying(plans: &Plans, plan: &str, status: &str) -> u32 {
    if billing_account::is_live(status) {
        plans.get(plan).monthly_price_cents
    } else {
        0
    }
}

pub fn classify(plans: &Plans, change: &PlanChange) -> Option<ChangeKind> {
    let before = paying(plans, &change.from_plan, &change.from_status);
    let after = paying(plans, &change.to_plan, &change.to_status);
    if after > before {
        Some(ChangeKind::Upgrade)
    } else if after < before && after == 0 {
        Some(ChangeKind::Cancellation)
    } else if after < before {
        Some(ChangeKind::Downgrade)
    } else {
        None
    }
}

fn monday_of(day: NaiveDate) -> NaiveDate {
    day - chrono::Duration::days(i64::from(day.weekday().num_days_from_monday()))
}

pub fn glance(
    conn: &mut AnyConnection,
    plans: Option<&Plans>,
    now: NaiveDateTime,
) -> Result<Glance, AccountError> {
    let today = now.date();
    let first_day = today - chrono::Duration::days(DAYS - 1);
    let mut signups_per_day: Vec<(NaiveDate, i64)> = (0..DAYS)
        .map(|i| (first_day + chrono::Duration::days(i), 0))
        .collect();
    let since = first_day.and_hms_opt(0, 0, 0).unwrap_or(now);
    for at in users::signed_up_since(conn, since)? {
        let index = (at.date() - first_day).num_days();
        if let Some(day) = usize::try_from(index)
            .ok()
            .and_then(|i| signups_per_day.get_mut(i))
        {
            day.1 += 1;
        }
    }
    let accounts = users::count(conn)?;
    let active_7_days = users::active_since(conn, now - chrono::Duration::days(7))?;
    let active_30_days = users::active_since(conn, now - chrono::Duration::days(30))?;

    let mut per_plan = Vec::new();
    let mut mrr_cents = 0;
    let mut weeks = Vec::new();
    let mut past_due = Vec::new();
    if let Some(plans) = plans {
        let rows = billing_account::all(conn)?;
        per_plan = plans
            .all()
            .iter()
            .map(|p| PlanCount {
                plan: p.id.clone(),
                name: p.name.clone(),
                accounts: 0,
                monthly_cents: 0,
            })
            .collect();
        let mut paid_accounts = 0;
        for row in &rows {
            let plan = row.effective_plan(plans, now);
            if let Some(count) = per_plan.iter_mut().find(|c| c.plan == plan.id) {
                if plan.id != plans.free().id {
                    count.accounts += 1;
                    paid_accounts += 1;
                    let cents = i64::from(plan.monthly_price_cents);
                    count.monthly_cents += cents;
                    mrr_cents += cents;
                }
            }
            if row.status == "past_due" {
                let id = crate::accounts::UserId(row.user_id.clone());
                past_due.push(PastDue {
                    email: users::get(conn, &id)?.map(|u| u.email).unwrap_or_default(),
                    account_id: row.user_id.clone(),
                    plan: row.plan.clone(),
                    since: row.past_due_since,
                });
            }
        }
        // Accounts without a billing row, or whose subscription ended, are on the free plan.
        if let Some(free) = per_plan.first_mut() {
            free.accounts = accounts - paid_accounts;
        }

        let first_week = monday_of(today) - chrono::Duration::weeks(WEEKS - 1);
        weeks = (0..WEEKS)
            .map(|i| WeekChanges {
                week: first_week + chrono::Duration::weeks(i),
                ..Default::default()
            })
            .collect();
        let since = first_week.and_hms_opt(0, 0, 0).unwrap_or(now);
        for change in billing_account::changes_since(conn, since)? {
            let index = (monday_of(change.changed_at.date()) - first_week).num_weeks();
            let Some(week) = usize::try_from(index).ok().and_then(|i| weeks.get_mut(i)) else {
                continue;
            };
            match classify(plans, &change) {
                Some(ChangeKind::Upgrade) => week.upgrades += 1,
                Some(ChangeKind::Downgrade) => week.downgrades += 1,
                Some(ChangeKind::Cancellation) => week.cancellations += 1,
                None => {}
            }
        }
        past_due.sort_by_key(|p| p.since);
    }
    Ok(Glance {
        accounts,
        signups_per_day,
        active_7_days,
        active_30_days,
        per_plan,
        mrr_cents,
        weeks,
        past_due,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn change(from: (&str, &str), to: (&str, &str)) -> PlanChange {
        PlanChange {
            from_plan: from.0.into(),
            from_status: from.1.into(),
            to_plan: to.0.into(),
            to_status: to.1.into(),
            changed_at: NaiveDateTime::default(),
        }
    }

    #[test]
    fn a_change_is_named_by_what_the_account_pays_before_and_after() {
        let plans = Plans::parse(
            crate::billing::plans::DEFAULT_PLANS,
            &[
                ("pro", Some("price_pro".into())),
                ("business", Some("price_business".into())),
            ],
        )
        .expect("default plans");
        let kind = |from, to| classify(&plans, &change(from, to));
        assert_eq!(
            kind(("free", "none"), ("pro", "active")),
            Some(ChangeKind::Upgrade)
        );
        assert_eq!(
            kind(("pro", "active"), ("business", "active")),
            Some(ChangeKind::Upgrade)
        );
        assert_eq!(
            kind(("business", "active"), ("pro", "active")),
            Some(ChangeKind::Downgrade)
        );
        assert_eq!(
            kind(("pro", "active"), ("pro", "canceled")),
            Some(ChangeKind::Cancellation)
        );
        assert_eq!(
            kind(("pro", "past_due"), ("pro", "unpaid")),
            Some(ChangeKind::Cancellation)
        );
        // A failed payment keeps the plan (grace); paying again changes nothing either.
        assert_eq!(kind(("pro", "active"), ("pro", "past_due")), None);
        assert_eq!(kind(("pro", "past_due"), ("pro", "active")), None);
        assert_eq!(
            kind(("pro", "incomplete"), ("pro", "active")),
            Some(ChangeKind::Upgrade)
        );
    }
}
