//! "Delete my account": the Stripe subscription is cancelled first (invoices stay in
//! Stripe, which the law requires us to keep), then every row of the account goes in one
//! transaction, and so do the shared feeds nobody follows any more.
//!
//! Most rows go by `ON DELETE CASCADE` from `users`; what names the account by its
//! address instead of its id (mail limits, sign-in failures, mail sent to the address
//! without an account id) is removed here by hand.
//! The audit table keeps the account's id, never its address: it records what operators
//! did, which is the business's own duty to keep.

use diesel::prelude::*;

use super::AccountDataError;
use crate::accounts::{reauth, throttle, UserId};
use crate::billing::account as billing_account;
use crate::billing::stripe::StripeClient;
use crate::config::BillingSettings;
use crate::db::schema::{
    auth_failures, feeds, mail_limits, outgoing_mail, subscriptions, users as users_table,
};
use crate::db::{AnyConnection, Db};

/// Checks the password, cancels the account's live Stripe subscription, and removes the
/// account. A cancellation Stripe refuses keeps the account, so nobody is charged for an
/// account that no longer exists.
pub async fn delete_account(
    db: &Db,
    billing: Option<&BillingSettings>,
    user: &UserId,
    typed_password: String,
) -> Result<(), AccountDataError> {
    let id = user.clone();
    let found = db
        .run(move |conn| {
            let hash: Option<String> = users_table::table
                .find(id.as_str())
                .select(users_table::password_hash)
                .first(conn)
                .optional()?;
            let billing = billing_account::get(conn, &id)?;
            Ok::<_, AccountDataError>(hash.map(|h| (h, billing)))
        })
        .await?;
    let Some((password_hash, billing_row)) = found else {
        return Ok(());
    };
    // Too many wrong tries come back as `AccountError::TooManyAttempts`.
    if !reauth::check(db, user, typed_password, password_hash).await? {
        return Err(AccountDataError::WrongPassword);
    }
    let live_subscription = billing_row
        .filter(|b| billing_account::is_live(&b.status))
        .and_then(|b| b.stripe_subscription_id);
    if let Some(subscription) = live_subscription {
        let Some(billing) = billing else {
            return Err(AccountDataError::Billing(
                "billing is off here, so the subscription cannot be cancelled".into(),
            ));
        };
        let client = StripeClient::new(billing.api_base.clone(), billing.secret_key.clone())
            .map_err(|e| AccountDataError::Billing(e.to_string()))?;
        client
            .cancel_subscription(&subscription)
            .await
            .map_err(|e| AccountDataError::Billing(e.to_string()))?;
        tracing::info!(account = %user.as_str(), "subscription cancelled before the account's deletion");
    }
    let id = user.clone();
    db.transaction(move |conn| remove(conn, &id)).await
}

/// Removes every row of the account, and the feeds (with their posts) that only it
/// followed. Call in a transaction.
pub fn remove(conn: &mut AnyConnection, user: &UserId) -> Result<(), AccountDataError> {
    let Some(email) = users_table::table
        .find(user.as_str())
        .select(users_table::email)
        .first::<String>(conn)
        .optional()?
    else {
        return Ok(());
    };
    let followed: Vec<String> = subscriptions::table
        .filter(subscriptions::user_id.eq(user.as_str()))
        .select(subscriptions::feed_id)
        .load(conn)?;
    diesel::delete(users_table::table.find(user.as_str())).execute(conn)?;
    // Mail queued before the address had an account ("you already have one") names it only.
    diesel::delete(outgoing_mail::table.filter(outgoing_mail::to_address.eq(&email)))
        .execute(conn)?;
    diesel::delete(mail_limits::table.filter(mail_limits::address.eq(&email))).execute(conn)?;
    diesel::delete(
        auth_failures::table
            .filter(auth_failures::key.eq_any([throttle::account_key(&email), reauth::key(user)])),
    )
    .execute(conn)?;
    // A shared feed stays while anyone else follows it; its posts go with it (cascade).
    diesel::delete(
        feeds::table
            .filter(feeds::id.eq_any(&followed))
            .filter(diesel::dsl::not(diesel::dsl::exists(
                subscriptions::table.filter(subscriptions::feed_id.eq(feeds::id)),
            ))),
    )
    .execute(conn)?;
    Ok(())
}
