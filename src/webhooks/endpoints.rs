//! An account's webhook endpoints and their delivery log (account id first in every
//! function, so one account never reaches another's rows).

use chrono::NaiveDateTime;
use diesel::prelude::*;
use url::Url;

use crate::accounts::UserId;
use crate::db::schema::{webhook_deliveries, webhook_endpoints};
use crate::db::{new_id, now, AnyConnection};
use crate::feeds::guard::{check_url, AddressPolicy};

pub const CAPTION_CREATED: &str = "caption.created";
pub const POST_CREATED: &str = "post.created";
pub const FEED_ERROR: &str = "feed.error";
/// Every event an endpoint can take, in the order the pages list them.
pub const EVENTS: [&str; 3] = [CAPTION_CREATED, POST_CREATED, FEED_ERROR];

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = webhook_endpoints)]
pub struct Endpoint {
    pub id: String,
    pub user_id: String,
    pub url: String,
    pub secret: String,
    pub events: String,
    pub created_at: NaiveDateTime,
    pub disabled_at: Option<NaiveDateTime>,
    pub last_caption_created_at: NaiveDateTime,
    pub last_caption_id: String,
    pub last_post_seen_at: NaiveDateTime,
    pub last_post_id: String,
    pub last_feed_error_at: NaiveDateTime,
    pub last_feed_error_id: String,
}

impl Endpoint {
    pub fn wants(&self, event: &str) -> bool {
        self.events.split(',').any(|e| e.trim() == event)
    }
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = webhook_deliveries)]
pub struct Delivery {
    pub id: String,
    pub endpoint_id: String,
    pub event: String,
    pub event_id: String,
    pub payload: String,
    pub created_at: NaiveDateTime,
    pub attempts: i32,
    pub next_attempt_at: NaiveDateTime,
    pub lease_until: Option<NaiveDateTime>,
    pub lease_token: Option<String>,
    pub last_status: Option<i32>,
    pub last_error: Option<String>,
    pub last_response_ms: Option<i32>,
    pub delivered_at: Option<NaiveDateTime>,
    pub gave_up_at: Option<NaiveDateTime>,
}

/// A receiver address typed by a person. The same guard as feeds: webhooks are requests
/// this server makes, so they must not be aimed at its own network.
pub fn parse_endpoint_url(raw: &str, policy: &AddressPolicy) -> Result<Url, String> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Err("Enter the address that should receive the webhooks.".into());
    }
    let mut url = Url::parse(raw).map_err(|e| format!("{raw:?} is not a valid address ({e})."))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err("Webhook addresses start with https:// (or http://).".into());
    }
    if url.host().is_none() {
        return Err(format!("{raw:?} has no host name."));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err("Webhook addresses with a user name or password are not supported; the signature authenticates each request.".into());
    }
    url.set_fragment(None);
    check_url(&url, policy).map_err(|e| {
        format!(
            "{} Webhooks may only go to public addresses.",
            crate::sentence::sentence(&e.to_string())
        )
    })?;
    Ok(url)
}

fn new_secret() -> String {
    format!("whsec_{}", crate::signing::random_hex(24))
}

/// Creates an endpoint taking `events` (caption.created when none is named), whose
/// cursors start now: what happened before it is not sent.
pub fn create(
    conn: &mut AnyConnection,
    user: &UserId,
    url: &Url,
    events: &[&str],
) -> QueryResult<Endpoint> {
    let at = now();
    let events: Vec<&str> = EVENTS.into_iter().filter(|e| events.contains(e)).collect();
    let endpoint = Endpoint {
        id: new_id(),
        user_id: user.as_str().to_string(),
        url: url.to_string(),
        secret: new_secret(),
        events: if events.is_empty() {
            CAPTION_CREATED.to_string()
        } else {
            events.join(",")
        },
        created_at: at,
        disabled_at: None,
        last_caption_created_at: at,
        // Sorts before every id, so a caption made in the same microsecond still counts.
        last_caption_id: String::new(),
        last_post_seen_at: at,
        last_post_id: String::new(),
        last_feed_error_at: at,
        last_feed_error_id: String::new(),
    };
    diesel::insert_into(webhook_endpoints::table)
        .values((
            webhook_endpoints::id.eq(&endpoint.id),
            webhook_endpoints::user_id.eq(&endpoint.user_id),
            webhook_endpoints::url.eq(&endpoint.url),
            webhook_endpoints::secret.eq(&endpoint.secret),
            webhook_endpoints::events.eq(&endpoint.events),
            webhook_endpoints::created_at.eq(at),
            webhook_endpoints::last_caption_created_at.eq(at),
            webhook_endpoints::last_caption_id.eq(&endpoint.last_caption_id),
            webhook_endpoints::last_post_seen_at.eq(at),
            webhook_endpoints::last_post_id.eq(""),
            webhook_endpoints::last_feed_error_at.eq(at),
            webhook_endpoints::last_feed_error_id.eq(""),
        ))
        .execute(conn)?;
    Ok(endpoint)
}

pub fn list(conn: &mut AnyConnection, user: &UserId) -> QueryResult<Vec<Endpoint>> {
    webhook_endpoints::table
        .filter(webhook_endpoints::user_id.eq(user.as_str()))
        .order(webhook_endpoints::created_at.asc())
        .select(Endpoint::as_select())
        .load(conn)
}

/// Deletes the account's endpoint (its deliveries go with it); false when it has none
/// with that id.
pub fn delete(conn: &mut AnyConnection, user: &UserId, id: &str) -> QueryResult<bool> {
    let gone = diesel::delete(
        webhook_endpoints::table
            .filter(webhook_endpoints::id.eq(id))
            .filter(webhook_endpoints::user_id.eq(user.as_str())),
    )
    .execute(conn)?;
    Ok(gone == 1)
}

/// The endpoint's newest deliveries.
pub fn recent_deliveries(
    conn: &mut AnyConnection,
    user: &UserId,
    endpoint_id: &str,
    limit: i64,
) -> QueryResult<Vec<Delivery>> {
    webhook_deliveries::table
        .inner_join(webhook_endpoints::table)
        .filter(webhook_endpoints::user_id.eq(user.as_str()))
        .filter(webhook_deliveries::endpoint_id.eq(endpoint_id))
        .order((
            webhook_deliveries::created_at.desc(),
            webhook_deliveries::id.desc(),
        ))
        .limit(limit)
        .select(Delivery::as_select())
        .load(conn)
}

/// Makes one of the account's deliveries due now, whatever became of it (delivered,
/// given up, waiting); false when the account has no such delivery.
pub fn replay(conn: &mut AnyConnection, user: &UserId, delivery_id: &str) -> QueryResult<bool> {
    let owned = webhook_endpoints::table
        .filter(webhook_endpoints::user_id.eq(user.as_str()))
        .select(webhook_endpoints::id);
    let changed = diesel::update(
        webhook_deliveries::table
            .filter(webhook_deliveries::id.eq(delivery_id))
            .filter(webhook_deliveries::endpoint_id.eq_any(owned)),
    )
    .set((
        webhook_deliveries::next_attempt_at.eq(now()),
        webhook_deliveries::delivered_at.eq(None::<NaiveDateTime>),
        webhook_deliveries::gave_up_at.eq(None::<NaiveDateTime>),
    ))
    .execute(conn)?;
    Ok(changed == 1)
}
