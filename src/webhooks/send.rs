//! Claiming due deliveries with the jobs' lease, posting them through
//! the guarded client, and recording what happened.

use std::time::{Duration, Instant};

use chrono::NaiveDateTime;
use diesel::prelude::*;
use reqwest::header::{HeaderValue, CONTENT_TYPE};
use url::Url;

use super::endpoints::{Delivery, Endpoint};
use super::sign;
use crate::db::schema::{webhook_deliveries, webhook_endpoints};
use crate::db::AnyConnection;
use crate::feeds::guard::{check_url, guarded_client, AddressPolicy};
use crate::jobs::lease::{self, Queue};

pub const TIMEOUT: Duration = Duration::from_secs(10);
/// A failing delivery is retried until this long after it was enqueued.
pub const GIVE_UP_AFTER_HOURS: i64 = 24;

/// The client every delivery goes through: the feeds' address guard in the resolver, no
/// proxy (it would connect for us, past the guard), no redirects (a receiver could point
/// us anywhere).
pub fn client(policy: &AddressPolicy) -> reqwest::Result<reqwest::Client> {
    guarded_client(policy)
        .connect_timeout(TIMEOUT)
        .timeout(TIMEOUT)
        .user_agent(crate::feeds::fetch::default_user_agent())
        .build()
}

/// The deliveries waiting to go: not delivered, not given up, to an enabled endpoint.
const QUEUE: Queue = Queue {
    table: "webhook_deliveries",
    key: "id",
    pending: "j.delivered_at IS NULL AND j.gave_up_at IS NULL \
              AND EXISTS (SELECT 1 FROM webhook_endpoints e \
                          WHERE e.id = j.endpoint_id AND e.disabled_at IS NULL)",
};

/// Claims up to `limit` due deliveries of enabled endpoints under a new token (the jobs'
/// lease: `SKIP LOCKED` on PostgreSQL), oldest attempt first, each with its endpoint.
pub fn claim_due(
    conn: &mut AnyConnection,
    at: NaiveDateTime,
    lease_until: NaiveDateTime,
    limit: i64,
) -> QueryResult<Vec<(Delivery, Endpoint)>> {
    let claim = lease::claim(conn, &QUEUE, at, lease_until, limit)?;
    if claim.won == 0 {
        return Ok(Vec::new());
    }
    webhook_deliveries::table
        .inner_join(webhook_endpoints::table)
        .filter(webhook_deliveries::lease_token.eq(&claim.token))
        .order((
            webhook_deliveries::next_attempt_at.asc(),
            webhook_deliveries::id.asc(),
        ))
        .select((Delivery::as_select(), Endpoint::as_select()))
        .load(conn)
}

/// What one attempt got.
#[derive(Debug, Clone)]
pub struct Attempt {
    pub status: Option<u16>,
    pub error: Option<String>,
    pub response_ms: i32,
}

impl Attempt {
    pub fn succeeded(&self) -> bool {
        self.status.is_some_and(|s| (200..300).contains(&s))
    }
}

/// Posts one delivery, signed at the moment of sending.
pub async fn post(
    client: &reqwest::Client,
    policy: &AddressPolicy,
    delivery: &Delivery,
    endpoint: &Endpoint,
) -> Attempt {
    let started = Instant::now();
    let result = try_post(client, policy, delivery, endpoint).await;
    let response_ms = i32::try_from(started.elapsed().as_millis()).unwrap_or(i32::MAX);
    match result {
        Ok(status) if (200..300).contains(&status) => Attempt {
            status: Some(status),
            error: None,
            response_ms,
        },
        Ok(status) => Attempt {
            status: Some(status),
            error: Some(format!("the receiver answered HTTP {status}")),
            response_ms,
        },
        Err(error) => Attempt {
            status: None,
            error: Some(error),
            response_ms,
        },
    }
}

async fn try_post(
    client: &reqwest::Client,
    policy: &AddressPolicy,
    delivery: &Delivery,
    endpoint: &Endpoint,
) -> Result<u16, String> {
    let url = Url::parse(&endpoint.url).map_err(|e| format!("invalid address: {e}"))?;
    // The resolver only sees host names; an address literal is checked here.
    check_url(&url, policy).map_err(|e| e.to_string())?;
    let body = delivery.payload.as_bytes().to_vec();
    let signature = sign::signature_header(&endpoint.secret, chrono::Utc::now().timestamp(), &body);
    let response = client
        .post(url)
        .header(CONTENT_TYPE, HeaderValue::from_static("application/json"))
        .header(sign::SIGNATURE_HEADER, signature)
        .header(sign::EVENT_HEADER, &delivery.event)
        .header(sign::DELIVERY_HEADER, &delivery.id)
        .body(body)
        .send()
        .await
        .map_err(|e| describe(&e))?;
    Ok(response.status().as_u16())
}

fn describe(error: &reqwest::Error) -> String {
    crate::feeds::FetchError::from_reqwest(error, TIMEOUT).to_string()
}

/// Records an attempt, if this claim still holds the delivery: delivered on 2xx,
/// otherwise retried after the backoff, or given up 24 hours after it was enqueued.
pub fn record(
    conn: &mut AnyConnection,
    delivery: &Delivery,
    token: &str,
    attempt: &Attempt,
    at: NaiveDateTime,
) -> QueryResult<bool> {
    let attempts = delivery.attempts + 1;
    let retry_at = at + crate::jobs::backoff(delivery.attempts);
    let give_up = retry_at > delivery.created_at + chrono::Duration::hours(GIVE_UP_AFTER_HOURS);
    let mine = webhook_deliveries::table
        .filter(webhook_deliveries::id.eq(&delivery.id))
        .filter(webhook_deliveries::lease_token.eq(token));
    let common = (
        webhook_deliveries::attempts.eq(attempts),
        webhook_deliveries::lease_until.eq(None::<NaiveDateTime>),
        webhook_deliveries::last_status.eq(attempt.status.map(i32::from)),
        webhook_deliveries::last_error.eq(attempt.error.clone()),
        webhook_deliveries::last_response_ms.eq(Some(attempt.response_ms)),
    );
    let changed = if attempt.succeeded() {
        diesel::update(mine)
            .set((common, webhook_deliveries::delivered_at.eq(Some(at))))
            .execute(conn)?
    } else if give_up {
        diesel::update(mine)
            .set((common, webhook_deliveries::gave_up_at.eq(Some(at))))
            .execute(conn)?
    } else {
        diesel::update(mine)
            .set((common, webhook_deliveries::next_attempt_at.eq(retry_at)))
            .execute(conn)?
    };
    Ok(changed == 1)
}

/// Webhook deliveries at a glance, for operators and `/metrics`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DeliveriesState {
    /// Not delivered, not given up, and the last attempt failed.
    pub failing: i64,
    /// Given up in the last day.
    pub given_up_last_day: i64,
}

pub fn state(conn: &mut AnyConnection, at: NaiveDateTime) -> QueryResult<DeliveriesState> {
    Ok(DeliveriesState {
        failing: webhook_deliveries::table
            .filter(webhook_deliveries::delivered_at.is_null())
            .filter(webhook_deliveries::gave_up_at.is_null())
            .filter(webhook_deliveries::last_error.is_not_null())
            .count()
            .get_result(conn)?,
        given_up_last_day: webhook_deliveries::table
            .filter(webhook_deliveries::gave_up_at.ge(at - chrono::Duration::days(1)))
            .count()
            .get_result(conn)?,
    })
}

/// One failing or given-up delivery, for operators.
#[derive(Debug, Clone, Queryable)]
pub struct FailingDelivery {
    pub id: String,
    pub account_id: String,
    pub endpoint_url: String,
    pub event: String,
    pub attempts: i32,
    pub last_error: Option<String>,
    pub created_at: NaiveDateTime,
    pub gave_up_at: Option<NaiveDateTime>,
}

/// Deliveries not delivered whose last attempt failed, newest first.
pub fn failing(conn: &mut AnyConnection, limit: i64) -> QueryResult<Vec<FailingDelivery>> {
    webhook_deliveries::table
        .inner_join(webhook_endpoints::table)
        .filter(webhook_deliveries::delivered_at.is_null())
        .filter(webhook_deliveries::last_error.is_not_null())
        .order((
            webhook_deliveries::created_at.desc(),
            webhook_deliveries::id.desc(),
        ))
        .limit(limit)
        .select((
            webhook_deliveries::id,
            webhook_endpoints::user_id,
            webhook_endpoints::url,
            webhook_deliveries::event,
            webhook_deliveries::attempts,
            webhook_deliveries::last_error,
            webhook_deliveries::created_at,
            webhook_deliveries::gave_up_at,
        ))
        .load(conn)
}

/// The account whose endpoint a delivery goes to.
pub fn owner_of(conn: &mut AnyConnection, delivery_id: &str) -> QueryResult<Option<String>> {
    webhook_deliveries::table
        .inner_join(webhook_endpoints::table)
        .filter(webhook_deliveries::id.eq(delivery_id))
        .select(webhook_endpoints::user_id)
        .first(conn)
        .optional()
}
