//! The `billing_accounts` table: an account's Stripe customer and subscription state, and
//! the plan that state gives (the grace period of a failed payment included).

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::plans::{Plan, Plans};
use crate::accounts::UserId;
use crate::db::schema::{billing_accounts, checkout_sessions, plan_changes};
use crate::db::AnyConnection;

/// How long a subscription whose payment failed keeps its plan.
pub const GRACE_DAYS: i64 = 7;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = billing_accounts)]
pub struct BillingAccount {
    pub user_id: String,
    pub stripe_customer_id: Option<String>,
    pub stripe_subscription_id: Option<String>,
    pub plan: String,
    pub status: String,
    pub past_due_since: Option<NaiveDateTime>,
    pub state_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// Subscription statuses that keep the plan (past_due only during the grace period).
pub fn is_live(status: &str) -> bool {
    matches!(status, "trialing" | "active" | "past_due")
}

impl BillingAccount {
    /// When a past_due subscription loses its plan.
    pub fn grace_until(&self) -> Option<NaiveDateTime> {
        (self.status == "past_due")
            .then_some(self.past_due_since)
            .flatten()
            .map(|since| since + chrono::Duration::days(GRACE_DAYS))
    }

    /// The plan in force at `now`: trialing and active get their plan, past_due keeps it
    /// until the grace period ends, anything else (canceled, unpaid, incomplete) is free.
    pub fn effective_plan<'a>(&self, plans: &'a Plans, now: NaiveDateTime) -> &'a Plan {
        let keeps = match self.status.as_str() {
            "trialing" | "active" => true,
            "past_due" => self.grace_until().is_none_or(|until| now < until),
            _ => false,
        };
        if keeps {
            plans.get(&self.plan)
        } else {
            plans.free()
        }
    }
}

/// The account's billing row, if it ever had one.
pub fn get(conn: &mut AnyConnection, user: &UserId) -> QueryResult<Option<BillingAccount>> {
    billing_accounts::table
        .find(user.as_str())
        .select(BillingAccount::as_select())
        .first(conn)
        .optional()
}

/// The account's row, locked until the transaction ends (on PostgreSQL the no-op update
/// takes the row lock; SQLite has one writer anyway), so two events for one account are
/// applied one after the other, each on the state the other left.
pub fn lock(conn: &mut AnyConnection, user: &UserId) -> QueryResult<Option<BillingAccount>> {
    diesel::update(billing_accounts::table.find(user.as_str()))
        .set(billing_accounts::user_id.eq(billing_accounts::user_id))
        .execute(conn)?;
    get(conn, user)
}

/// The plan in force for the account (the free plan without a row).
pub fn effective_plan(
    conn: &mut AnyConnection,
    user: &UserId,
    plans: &Plans,
    now: NaiveDateTime,
) -> QueryResult<Plan> {
    Ok(match get(conn, user)? {
        Some(row) => row.effective_plan(plans, now).clone(),
        None => plans.free().clone(),
    })
}

pub fn find_by_customer(
    conn: &mut AnyConnection,
    customer: &str,
) -> QueryResult<Option<BillingAccount>> {
    billing_accounts::table
        .filter(billing_accounts::stripe_customer_id.eq(customer))
        .select(BillingAccount::as_select())
        .first(conn)
        .optional()
}

/// Makes sure the account has a row (free, no subscription) and returns it.
pub fn ensure(
    conn: &mut AnyConnection,
    user: &UserId,
    plans: &Plans,
    now: NaiveDateTime,
) -> QueryResult<BillingAccount> {
    crate::insert_or_ignore!(
        conn,
        billing_accounts::table,
        (
            billing_accounts::user_id.eq(user.as_str()),
            billing_accounts::plan.eq(&plans.free().id),
            billing_accounts::status.eq("none"),
            billing_accounts::state_at.eq(epoch()),
            billing_accounts::updated_at.eq(now),
        )
    )?;
    billing_accounts::table
        .find(user.as_str())
        .select(BillingAccount::as_select())
        .first(conn)
}

/// Records the account's Stripe customer, unless it has one already; returns the one kept.
pub fn set_customer(
    conn: &mut AnyConnection,
    user: &UserId,
    customer: &str,
    plans: &Plans,
    now: NaiveDateTime,
) -> QueryResult<String> {
    ensure(conn, user, plans, now)?;
    diesel::update(
        billing_accounts::table
            .find(user.as_str())
            .filter(billing_accounts::stripe_customer_id.is_null()),
    )
    .set((
        billing_accounts::stripe_customer_id.eq(customer),
        billing_accounts::updated_at.eq(now),
    ))
    .execute(conn)?;
    Ok(ensure(conn, user, plans, now)?
        .stripe_customer_id
        .unwrap_or_else(|| customer.to_string()))
}

/// Records a Checkout Session captionfeed created for the account: only such a session's
/// completion may link the account to a Stripe customer.
pub fn record_checkout(
    conn: &mut AnyConnection,
    session_id: &str,
    user: &UserId,
    now: NaiveDateTime,
) -> QueryResult<()> {
    crate::insert_or_ignore!(
        conn,
        checkout_sessions::table,
        (
            checkout_sessions::id.eq(session_id),
            checkout_sessions::user_id.eq(user.as_str()),
            checkout_sessions::created_at.eq(now),
        )
    )?;
    Ok(())
}

/// The account a Checkout Session was created for, if captionfeed created it.
pub fn checkout_account(conn: &mut AnyConnection, session_id: &str) -> QueryResult<Option<UserId>> {
    Ok(checkout_sessions::table
        .find(session_id)
        .select(checkout_sessions::user_id)
        .first::<String>(conn)
        .optional()?
        .map(UserId))
}

/// A subscription state as Stripe reported it at `state_at`.
pub struct NewState<'a> {
    pub subscription_id: &'a str,
    pub plan: &'a str,
    pub status: &'a str,
    pub state_at: NaiveDateTime,
}

/// Stores a subscription state; `past_due_since` starts when the status becomes past_due.
/// A change of plan or status is also written to `plan_changes` (the console's weekly
/// upgrades, downgrades and cancellations).
pub fn store_state(
    conn: &mut AnyConnection,
    user: &UserId,
    previous: &BillingAccount,
    state: &NewState<'_>,
    now: NaiveDateTime,
) -> QueryResult<()> {
    let past_due_since = match (state.status, previous.status.as_str()) {
        ("past_due", "past_due") => previous.past_due_since.or(Some(state.state_at)),
        ("past_due", _) => Some(state.state_at),
        _ => None,
    };
    diesel::update(billing_accounts::table.find(user.as_str()))
        .set((
            billing_accounts::stripe_subscription_id.eq(state.subscription_id),
            billing_accounts::plan.eq(state.plan),
            billing_accounts::status.eq(state.status),
            billing_accounts::past_due_since.eq(past_due_since),
            billing_accounts::state_at.eq(state.state_at),
            billing_accounts::updated_at.eq(now),
        ))
        .execute(conn)?;
    if previous.plan != state.plan || previous.status != state.status {
        diesel::insert_into(plan_changes::table)
            .values((
                plan_changes::id.eq(crate::db::new_id()),
                plan_changes::user_id.eq(user.as_str()),
                plan_changes::from_plan.eq(&previous.plan),
                plan_changes::from_status.eq(&previous.status),
                plan_changes::to_plan.eq(state.plan),
                plan_changes::to_status.eq(state.status),
                plan_changes::changed_at.eq(state.state_at),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// Accounts whose grace period ended before `now` (their feeds may need pausing).
pub fn grace_ended(conn: &mut AnyConnection, now: NaiveDateTime) -> QueryResult<Vec<String>> {
    billing_accounts::table
        .filter(billing_accounts::status.eq("past_due"))
        .filter(billing_accounts::past_due_since.lt(now - chrono::Duration::days(GRACE_DAYS)))
        .select(billing_accounts::user_id)
        .load(conn)
}

fn epoch() -> NaiveDateTime {
    chrono::DateTime::from_timestamp(0, 0)
        .unwrap_or_default()
        .naive_utc()
}

/// Every account's billing row (the console's accounts per plan and revenue).
pub fn all(conn: &mut AnyConnection) -> QueryResult<Vec<BillingAccount>> {
    billing_accounts::table
        .select(BillingAccount::as_select())
        .load(conn)
}

/// One change of an account's plan or status, as `store_state` recorded it.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = plan_changes)]
pub struct PlanChange {
    pub from_plan: String,
    pub from_status: String,
    pub to_plan: String,
    pub to_status: String,
    pub changed_at: NaiveDateTime,
}

pub fn changes_since(
    conn: &mut AnyConnection,
    since: NaiveDateTime,
) -> QueryResult<Vec<PlanChange>> {
    plan_changes::table
        .filter(plan_changes::changed_at.ge(since))
        .order(plan_changes::changed_at)
        .select(PlanChange::as_select())
        .load(conn)
}
