//! "Download my data": one ZIP archive of everything the account put in or got out.
//!
//! ZIP rather than a tarball because the people asking are subscribers, not operators:
//! every desktop opens a ZIP with a double click.

use std::io::Write as _;

use diesel::prelude::*;
use serde_json::json;

use super::AccountDataError;
use crate::accounts::UserId;
use crate::db::schema::{
    captions, digest_settings, feed_templates, feeds, posts, subscriptions, templates, users,
    webhook_deliveries, webhook_endpoints,
};
use crate::db::AnyConnection;
use crate::opml::{self, OpmlFeed};
use crate::spreadsheet::safe_cell;

/// The files of the archive, in order.
pub const FILES: [&str; 6] = [
    "README.txt",
    "feeds.opml",
    "captions.csv",
    "templates.json",
    "settings.json",
    "webhooks.json",
];

const README: &str = "Your captionfeed data.\n\n\
feeds.opml      the feeds you follow (OPML 2.0: any feed reader imports it)\n\
captions.csv    every caption made for you, with its post\n\
templates.json  your caption templates, the account's and each feed's own\n\
settings.json   your account, digest and per-feed settings, and your plan\n\
webhooks.json   your webhook endpoints (without their secrets) and their deliveries\n";

fn time(at: &chrono::NaiveDateTime) -> String {
    at.and_utc().to_rfc3339()
}

fn optional_time(at: &Option<chrono::NaiveDateTime>) -> Option<String> {
    at.as_ref().map(time)
}

fn json_bytes(value: &serde_json::Value) -> Result<Vec<u8>, AccountDataError> {
    serde_json::to_vec_pretty(value).map_err(|e| AccountDataError::Archive(e.to_string()))
}

/// Reads the account's data into the archive's files; call it inside one transaction so
/// the files agree with each other.
pub fn collect(
    conn: &mut AnyConnection,
    user: &UserId,
) -> Result<Vec<(&'static str, Vec<u8>)>, AccountDataError> {
    let subscribed = crate::subscriptions::list(conn, user)?;
    let opml_feeds: Vec<OpmlFeed> = subscribed
        .iter()
        .map(|s| OpmlFeed {
            title: s.feed.title.clone(),
            xml_url: s.feed.url.clone(),
        })
        .collect();
    let feeds_opml = opml::write("captionfeed subscriptions", &opml_feeds).into_bytes();

    Ok(vec![
        (FILES[0], README.as_bytes().to_vec()),
        (FILES[1], feeds_opml),
        (FILES[2], captions_csv(conn, user)?),
        (FILES[3], json_bytes(&templates_json(conn, user)?)?),
        (
            FILES[4],
            json_bytes(&settings_json(conn, user, &subscribed)?)?,
        ),
        (FILES[5], json_bytes(&webhooks_json(conn, user)?)?),
    ])
}

fn captions_csv(conn: &mut AnyConnection, user: &UserId) -> Result<Vec<u8>, AccountDataError> {
    type Row = (
        String,
        chrono::NaiveDateTime,
        String,
        String,
        String,
        String,
        String,
        Option<String>,
        Option<chrono::NaiveDateTime>,
    );
    let rows: Vec<Row> = captions::table
        .inner_join(posts::table)
        .inner_join(subscriptions::table.inner_join(feeds::table))
        .filter(captions::user_id.eq(user.as_str()))
        .order((captions::created_at.asc(), captions::id.asc()))
        .select((
            captions::id,
            captions::created_at,
            feeds::url,
            posts::title,
            captions::platform,
            captions::variant,
            captions::body,
            posts::url,
            captions::posted_at,
        ))
        .load(conn)?;
    let mut out = csv::Writer::from_writer(Vec::new());
    let failed = |e: csv::Error| AccountDataError::Archive(e.to_string());
    out.write_record([
        "id",
        "created_at",
        "feed_url",
        "post_title",
        "post_url",
        "platform",
        "variant",
        "text",
        "posted_at",
    ])
    .map_err(failed)?;
    for (id, created, feed_url, title, platform, variant, body, post_url, posted) in rows {
        out.write_record([
            id,
            time(&created),
            feed_url,
            safe_cell(&title),
            post_url.unwrap_or_default(),
            platform,
            variant,
            safe_cell(&body),
            optional_time(&posted).unwrap_or_default(),
        ])
        .map_err(failed)?;
    }
    out.into_inner()
        .map_err(|e| AccountDataError::Archive(e.to_string()))
}

fn templates_json(
    conn: &mut AnyConnection,
    user: &UserId,
) -> Result<serde_json::Value, AccountDataError> {
    let account: Vec<(String, String, String, chrono::NaiveDateTime)> = templates::table
        .filter(templates::user_id.eq(user.as_str()))
        .order((templates::platform, templates::variant))
        .select((
            templates::platform,
            templates::variant,
            templates::source,
            templates::updated_at,
        ))
        .load(conn)?;
    let per_feed: Vec<(String, String, String, String, chrono::NaiveDateTime)> =
        feed_templates::table
            .inner_join(subscriptions::table.inner_join(feeds::table))
            .filter(feed_templates::user_id.eq(user.as_str()))
            .order((
                feeds::url,
                feed_templates::platform,
                feed_templates::variant,
            ))
            .select((
                feeds::url,
                feed_templates::platform,
                feed_templates::variant,
                feed_templates::source,
                feed_templates::updated_at,
            ))
            .load(conn)?;
    Ok(json!({
        "account": account.iter().map(|(platform, variant, source, updated)| json!({
            "platform": platform, "variant": variant, "source": source, "updated_at": time(updated),
        })).collect::<Vec<_>>(),
        "feeds": per_feed.iter().map(|(feed, platform, variant, source, updated)| json!({
            "feed_url": feed, "platform": platform, "variant": variant, "source": source,
            "updated_at": time(updated),
        })).collect::<Vec<_>>(),
    }))
}

fn settings_json(
    conn: &mut AnyConnection,
    user: &UserId,
    subscribed: &[crate::subscriptions::SubscribedFeed],
) -> Result<serde_json::Value, AccountDataError> {
    let (email, created, verified): (String, chrono::NaiveDateTime, Option<chrono::NaiveDateTime>) =
        users::table
            .find(user.as_str())
            .select((users::email, users::created_at, users::email_verified_at))
            .first(conn)?;
    type Digest = (String, i32, i32, String, String);
    let digest: Option<Digest> = digest_settings::table
        .find(user.as_str())
        .select((
            digest_settings::frequency,
            digest_settings::weekday,
            digest_settings::hour,
            digest_settings::time_zone,
            digest_settings::platforms,
        ))
        .first(conn)
        .optional()?;
    let billing = crate::billing::account::get(conn, user)?;
    let feeds: Vec<serde_json::Value> = subscribed
        .iter()
        .map(|s| {
            let sub = &s.subscription;
            json!({
                "feed_url": s.feed.url,
                "followed_since": time(&sub.created_at),
                "paused": sub.paused,
                "platforms": sub.platforms,
                "variants": sub.variants,
                "mastodon_limit": sub.mastodon_limit,
                "utm": sub.utm,
                "utm_source": sub.utm_source,
                "utm_medium": sub.utm_medium,
                "utm_campaign": sub.utm_campaign,
                "include_keywords": sub.include_keywords,
                "exclude_keywords": sub.exclude_keywords,
                "hashtags_always": sub.hashtags_always,
                "hashtags_blocked": sub.hashtags_blocked,
                "hashtags_kept": sub.hashtags_kept,
                "hashtag_caps": sub.hashtag_caps,
                "language": sub.language,
            })
        })
        .collect();
    Ok(json!({
        "account": {
            "email": email,
            "created_at": time(&created),
            "email_verified_at": optional_time(&verified),
        },
        "digest": digest.map(|(frequency, weekday, hour, time_zone, platforms)| json!({
            "frequency": frequency, "weekday": weekday, "hour": hour,
            "time_zone": time_zone, "platforms": platforms,
        })),
        "billing": billing.map(|b| json!({"plan": b.plan, "status": b.status})),
        "feeds": feeds,
    }))
}

fn webhooks_json(
    conn: &mut AnyConnection,
    user: &UserId,
) -> Result<serde_json::Value, AccountDataError> {
    type Endpoint = (
        String,
        String,
        String,
        chrono::NaiveDateTime,
        Option<chrono::NaiveDateTime>,
    );
    let endpoints: Vec<Endpoint> = webhook_endpoints::table
        .filter(webhook_endpoints::user_id.eq(user.as_str()))
        .order(webhook_endpoints::created_at)
        .select((
            webhook_endpoints::id,
            webhook_endpoints::url,
            webhook_endpoints::events,
            webhook_endpoints::created_at,
            webhook_endpoints::disabled_at,
        ))
        .load(conn)?;
    type Delivery = (
        String,
        String,
        String,
        chrono::NaiveDateTime,
        i32,
        Option<i32>,
        Option<String>,
        Option<chrono::NaiveDateTime>,
        Option<chrono::NaiveDateTime>,
    );
    let deliveries: Vec<Delivery> = webhook_deliveries::table
        .inner_join(webhook_endpoints::table)
        .filter(webhook_endpoints::user_id.eq(user.as_str()))
        .order((webhook_deliveries::created_at, webhook_deliveries::id))
        .select((
            webhook_endpoints::url,
            webhook_deliveries::event,
            webhook_deliveries::payload,
            webhook_deliveries::created_at,
            webhook_deliveries::attempts,
            webhook_deliveries::last_status,
            webhook_deliveries::last_error,
            webhook_deliveries::delivered_at,
            webhook_deliveries::gave_up_at,
        ))
        .load(conn)?;
    Ok(json!({
        "endpoints": endpoints.iter().map(|(_, url, events, created, disabled)| json!({
            "url": url, "events": events, "created_at": time(created),
            "disabled_at": optional_time(disabled),
        })).collect::<Vec<_>>(),
        "deliveries": deliveries.iter().map(
            |(url, event, payload, created, attempts, status, error, delivered, gave_up)| json!({
                "endpoint_url": url, "event": event, "created_at": time(created),
                "attempts": attempts, "last_status": status, "last_error": error,
                "delivered_at": optional_time(delivered), "gave_up_at": optional_time(gave_up),
                "payload": serde_json::from_str::<serde_json::Value>(payload)
                    .unwrap_or_else(|_| serde_json::Value::String(payload.clone())),
            })).collect::<Vec<_>>(),
    }))
}

/// Packs the files into one ZIP archive.
pub fn zip(files: &[(&str, Vec<u8>)]) -> Result<Vec<u8>, AccountDataError> {
    let failed = |e: zip::result::ZipError| AccountDataError::Archive(e.to_string());
    let mut archive = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    for (name, bytes) in files {
        archive.start_file(*name, options).map_err(failed)?;
        archive
            .write_all(bytes)
            .map_err(|e| AccountDataError::Archive(e.to_string()))?;
    }
    Ok(archive.finish().map_err(failed)?.into_inner())
}
