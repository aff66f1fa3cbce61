//! Stripe billing: plans and their limits, Checkout and the customer portal, and the
//! webhook events that move an account between plans.
//!
//! Billing is on only when `CAPTIONFEED_STRIPE_SECRET_KEY` is set; without it (self-hosting)
//! every account has no limits and no page mentions payment.

pub mod account;
pub mod entitlements;
pub mod events;
pub mod limits;
pub mod objects;
pub mod signature;
pub mod stripe;

use std::time::Duration;

use crate::accounts::UserId;
use crate::config::{BillingSettings, Settings};
use crate::db::{now, AnyConnection, Db, DbError};

// Plans are configuration (read and checked at start); billing applies them.
pub use crate::config::plans::{self, Plan, Plans};
pub use entitlements::{require, require_now, Feature, NotInPlan};

#[derive(Debug, thiserror::Error)]
pub enum BillingError {
    #[error(transparent)]
    Db(#[from] DbError),
    #[error(transparent)]
    Stripe(#[from] stripe::StripeError),
    #[error("{0}")]
    Invalid(String),
}

impl From<diesel::result::Error> for BillingError {
    fn from(e: diesel::result::Error) -> Self {
        BillingError::Db(e.into())
    }
}

impl crate::db::IsBusy for BillingError {
    fn is_busy(&self) -> bool {
        matches!(self, BillingError::Db(e) if e.is_busy())
    }
}

/// The plan in force for the account, or `None` when billing is off (no limits).
pub fn plan_for(
    conn: &mut AnyConnection,
    settings: &Settings,
    user: &UserId,
) -> diesel::QueryResult<Option<Plan>> {
    match &settings.billing {
        None => Ok(None),
        Some(billing) => account::effective_plan(conn, user, &billing.plans, now()).map(Some),
    }
}

/// How often the grace-period sweep runs.
const SWEEP_TICK: Duration = Duration::from_secs(5 * 60);

/// Pauses the feeds of accounts whose grace period ended, every few minutes, until
/// `shutdown` resolves. Webhooks cover every other change; this one has no event.
pub async fn run_until_stopped(
    db: Db,
    billing: BillingSettings,
    shutdown: impl std::future::Future<Output = ()>,
) {
    // The pass reports how many accounts' grace periods ended (their feeds beyond the
    // plan paused).
    let sweep = || sweep_once(db.clone(), billing.plans.clone());
    crate::jobs::run_every("billing grace sweep", SWEEP_TICK, shutdown, sweep).await
}

#[tracing::instrument(name = "billing sweep pass", skip_all)]
async fn sweep_once(db: Db, plans: Plans) -> Result<usize, DbError> {
    db.transaction(move |conn| Ok::<_, DbError>(limits::end_grace_periods(conn, &plans, now())?))
        .await
}
