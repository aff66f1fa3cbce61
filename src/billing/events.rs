//! Applying a verified Stripe event. The event's id is recorded in the transaction of its
//! effect (the caller's), so a redelivery, or the same event handled by two replicas at
//! once, has one effect; a subscription state older than the one stored is never applied,
//! so events arriving out of order cannot roll an account back.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::account::{self, is_live, BillingAccount, NewState};
use super::limits;
use super::objects::{CheckoutSession, Invoice, Subscription};
use super::plans::Plans;
use super::BillingError;
use crate::accounts::UserId;
use crate::db::schema::{stripe_events, users};
use crate::db::AnyConnection;
use crate::mail::outbox;

/// A Stripe event, as much of it as captionfeed reads.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct Event {
    pub id: String,
    #[serde(rename = "type")]
    pub kind: String,
    /// Unix seconds, Stripe's clock.
    pub created: i64,
    pub data: EventData,
}

#[derive(Debug, Clone, serde::Deserialize)]
pub struct EventData {
    pub object: serde_json::Value,
}

/// An event's object as the type its kind names. An object that does not read (a field of
/// the wrong kind) is recorded and changes nothing, rather than being guessed at: a status
/// read as missing would otherwise cancel the account's plan.
fn read<'a, T: serde::Deserialize<'a>>(
    event: &Event,
    object: &'a serde_json::Value,
) -> Result<T, Outcome> {
    T::deserialize(object).map_err(|error| {
        tracing::warn!(event = %event.id, kind = %event.kind, %error, "a Stripe object that does not read");
        Outcome::Ignored(format!("its object does not read: {error}"))
    })
}

/// What handling an event did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Applied,
    /// Seen before: nothing done again.
    Duplicate,
    /// Recorded, but nothing to change (and why).
    Ignored(String),
}

/// Where links in billing mail point.
pub struct MailContext<'a> {
    pub base_url: &'a url::Url,
    pub message_host: &'a str,
}

/// Records and applies one event; call it inside a transaction.
pub fn handle(
    conn: &mut AnyConnection,
    event: &Event,
    plans: &Plans,
    mail: &MailContext<'_>,
    now: NaiveDateTime,
) -> Result<Outcome, BillingError> {
    let recorded = crate::insert_or_ignore!(
        conn,
        stripe_events::table,
        (
            stripe_events::id.eq(&event.id),
            stripe_events::event_type.eq(&event.kind),
            stripe_events::received_at.eq(now),
        )
    )?;
    if recorded == 0 {
        return Ok(Outcome::Duplicate);
    }
    let at = chrono::DateTime::from_timestamp(event.created, 0)
        .ok_or_else(|| BillingError::Invalid(format!("created {} is not a time", event.created)))?
        .naive_utc();
    let object = &event.data.object;
    match event.kind.as_str() {
        "checkout.session.completed" => match read::<CheckoutSession>(event, object) {
            Ok(session) => checkout_completed(conn, &session, plans, now),
            Err(unreadable) => Ok(unreadable),
        },
        "customer.subscription.created"
        | "customer.subscription.updated"
        | "customer.subscription.deleted" => {
            let subscription = match read::<Subscription>(event, object) {
                Ok(subscription) => subscription,
                Err(unreadable) => return Ok(unreadable),
            };
            let Some(subscription_id) = subscription.id() else {
                return Ok(Outcome::Ignored("the subscription has no id".into()));
            };
            let status = if event.kind == "customer.subscription.deleted" {
                "canceled"
            } else {
                subscription.status().unwrap_or("canceled")
            };
            let price = subscription.price();
            let plan = match price.and_then(|p| plans.by_price(p)) {
                Some(plan) => plan.id.clone(),
                None => {
                    tracing::warn!(price = ?price, subscription = subscription_id, "a Stripe price no plan names; treated as the free plan");
                    plans.free().id.clone()
                }
            };
            let Some((user, row)) = account_of(conn, subscription.customer())? else {
                return Ok(Outcome::Ignored("no account has this customer".into()));
            };
            let state = NewState {
                subscription_id,
                plan: &plan,
                status,
                state_at: at,
            };
            apply_state(conn, &user, &row, &state, plans, mail, now)
        }
        "invoice.paid" | "invoice.payment_succeeded" | "invoice.payment_failed" => {
            let invoice = match read::<Invoice>(event, object) {
                Ok(invoice) => invoice,
                Err(unreadable) => return Ok(unreadable),
            };
            let Some(subscription_id) = invoice.subscription() else {
                return Ok(Outcome::Ignored("not a subscription invoice".into()));
            };
            let Some((user, row)) = account_of(conn, invoice.customer())? else {
                return Ok(Outcome::Ignored("no account has this customer".into()));
            };
            if row.stripe_subscription_id.as_deref() != Some(subscription_id) {
                return Ok(Outcome::Ignored("not the account's subscription".into()));
            }
            let failed = event.kind == "invoice.payment_failed";
            let status = match (failed, row.status.as_str()) {
                (true, "active" | "trialing") => "past_due",
                (false, "past_due") => "active",
                _ => {
                    return Ok(Outcome::Ignored(format!(
                        "nothing to change from {}",
                        row.status
                    )))
                }
            };
            let plan = row.plan.clone();
            let state = NewState {
                subscription_id,
                plan: &plan,
                status,
                state_at: at,
            };
            apply_state(conn, &user, &row, &state, plans, mail, now)
        }
        other => Ok(Outcome::Ignored(format!("{other} is not handled"))),
    }
}

/// Links the account a Checkout Session of ours was created for to the session's
/// customer (unless the account has one already); the plan itself comes with the
/// subscription's own events. The account named in the event is not trusted: a session
/// made elsewhere on the Stripe account (a payment link, the dashboard) could name any.
fn checkout_completed(
    conn: &mut AnyConnection,
    session: &CheckoutSession,
    plans: &Plans,
    now: NaiveDateTime,
) -> Result<Outcome, BillingError> {
    let (Some(session_id), Some(customer)) = (session.id(), session.customer()) else {
        return Ok(Outcome::Ignored(
            "the session names no id or customer".into(),
        ));
    };
    let Some(user) = account::checkout_account(conn, session_id)? else {
        return Ok(Outcome::Ignored(
            "not a Checkout Session captionfeed created".into(),
        ));
    };
    if !user_exists(conn, &user)? {
        return Ok(Outcome::Ignored("the account no longer exists".into()));
    }
    let kept = account::set_customer(conn, &user, customer, plans, now)?;
    if kept != customer {
        return Ok(Outcome::Ignored(
            "the account is linked to another customer".into(),
        ));
    }
    Ok(Outcome::Applied)
}

/// The account an object (subscription, invoice) belongs to: the one linked to its
/// customer, and no other. Metadata naming an account is not enough, since anyone who can
/// make a subscription on the Stripe account can write it.
fn account_of(
    conn: &mut AnyConnection,
    customer: Option<&str>,
) -> Result<Option<(UserId, BillingAccount)>, BillingError> {
    let Some(customer) = customer else {
        return Ok(None);
    };
    Ok(account::find_by_customer(conn, customer)?.map(|row| (UserId(row.user_id.clone()), row)))
}

fn apply_state(
    conn: &mut AnyConnection,
    user: &UserId,
    row: &BillingAccount,
    state: &NewState<'_>,
    plans: &Plans,
    mail: &MailContext<'_>,
    now: NaiveDateTime,
) -> Result<Outcome, BillingError> {
    let locked = account::lock(conn, user)?;
    let row = locked.as_ref().unwrap_or(row);
    if state.state_at < row.state_at {
        return Ok(Outcome::Ignored("older than the state stored".into()));
    }
    let other_live = row
        .stripe_subscription_id
        .as_deref()
        .is_some_and(|current| current != state.subscription_id)
        && is_live(&row.status);
    if other_live && !is_live(state.status) {
        return Ok(Outcome::Ignored(
            "an earlier subscription ended; the account has a newer one".into(),
        ));
    }
    account::store_state(conn, user, row, state, now)?;
    let updated = account::get(conn, user)?
        .ok_or(BillingError::Invalid("the billing row vanished".into()))?;
    if updated.status == "past_due" && row.status != "past_due" {
        queue_past_due_mail(conn, user, &updated, plans, mail, now)?;
    }
    let plan = updated.effective_plan(plans, now);
    let enforced = limits::enforce(conn, user, plan)?;
    tracing::info!(account = %user.as_str(), plan = %plan.id, status = %updated.status, paused = enforced.paused, resumed = enforced.resumed, "billing state applied");
    Ok(Outcome::Applied)
}

fn queue_past_due_mail(
    conn: &mut AnyConnection,
    user: &UserId,
    row: &BillingAccount,
    plans: &Plans,
    mail: &MailContext<'_>,
    now: NaiveDateTime,
) -> Result<(), BillingError> {
    let Some(email) = users::table
        .find(user.as_str())
        .select(users::email)
        .first::<String>(conn)
        .optional()?
    else {
        return Ok(());
    };
    let until = row
        .grace_until()
        .map(|at| at.format("%Y-%m-%d").to_string())
        .unwrap_or_else(|| "in a week".into());
    let billing = mail
        .base_url
        .join("billing")
        .map(|u| u.to_string())
        .unwrap_or_else(|_| "/billing".into());
    let plan = plans.get(&row.plan);
    let draft = outbox::Draft {
        kind: outbox::Kind::BillingPastDue,
        to: email,
        subject: "Your captionfeed payment did not go through".into(),
        text_body: format!(
            "Hello,\n\nThe last payment for your captionfeed {} plan failed. Your plan stays as it is until {until} while Stripe tries again.\n\nTo update your card, open {billing} and choose \"Manage billing\".\n\nAfter {until}, your account moves to the {} plan: feeds beyond its limit are paused, never deleted, and resume when you pay.\n",
            plan.name,
            plans.free().name
        ),
        html_body: None,
    };
    outbox::enqueue(conn, Some(user.as_str()), &draft, now, mail.message_host)?;
    Ok(())
}

fn user_exists(conn: &mut AnyConnection, user: &UserId) -> QueryResult<bool> {
    Ok(users::table
        .find(user.as_str())
        .count()
        .get_result::<i64>(conn)?
        > 0)
}
