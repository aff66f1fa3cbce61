//! Private caption feeds (RSS 2.0, Atom, JSON Feed) at an unguessable URL, so that
//! feed-reading automations (Buffer, IFTTT, Zapier's RSS trigger) pick up each caption
//! once: every item's id is the caption's own, and its date the caption's creation.

use actix_web::http::header;
use actix_web::{get, web, HttpRequest, HttpResponse};
use sha2::{Digest, Sha256};

use super::AppState;
use crate::accounts::{feed_keys, AccountError};
use crate::captions::query::{serve_captions_page, CaptionFilter, CaptionWithPost};
use crate::captions::Platform;
use crate::db::DbError;
use crate::xml_text::escape as xml;

/// Items per feed document: enough for a reader polling hourly, small enough to fetch often.
const ITEMS: i64 = 100;

#[derive(serde::Deserialize)]
pub struct FeedQuery {
    platform: Option<String>,
    feed: Option<String>,
}

#[derive(Clone, Copy, PartialEq)]
enum Format {
    Rss,
    Atom,
    Json,
}

impl Format {
    fn parse(raw: &str) -> Option<Self> {
        match raw {
            "rss" => Some(Format::Rss),
            "atom" => Some(Format::Atom),
            "json" => Some(Format::Json),
            _ => None,
        }
    }

    fn content_type(self) -> &'static str {
        match self {
            Format::Rss => "application/rss+xml; charset=utf-8",
            Format::Atom => "application/atom+xml; charset=utf-8",
            Format::Json => "application/feed+json; charset=utf-8",
        }
    }
}

enum FeedError {
    NotFound,
    /// The account's plan has no caption feeds (billing on).
    NotInPlan(String),
    Db(String),
}

impl From<AccountError> for FeedError {
    fn from(e: AccountError) -> Self {
        FeedError::Db(e.to_string())
    }
}

impl From<DbError> for FeedError {
    fn from(e: DbError) -> Self {
        FeedError::Db(e.to_string())
    }
}

impl From<diesel::result::Error> for FeedError {
    fn from(e: diesel::result::Error) -> Self {
        FeedError::Db(e.to_string())
    }
}

#[get("/caption-feeds/{key}/{format}")]
#[tracing::instrument(skip_all)]
pub async fn caption_feed(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
    query: web::Query<FeedQuery>,
) -> HttpResponse {
    let (key, format) = path.into_inner();
    let Some(format) = Format::parse(&format) else {
        return not_found();
    };
    let query = query.into_inner();
    if query
        .platform
        .as_deref()
        .is_some_and(|p| p.parse::<Platform>().is_err())
    {
        return not_found();
    }
    let filter = CaptionFilter {
        feed: query.feed.clone(),
        platform: query.platform.clone(),
        // A feed reader would post an empty item; failed captions show on the pages.
        only_made: true,
        ..Default::default()
    };
    let plans = state.settings.billing.as_ref().map(|b| b.plans.clone());
    let loaded = state
        .db
        .run(move |conn| {
            let user = feed_keys::user_for_key(conn, &key)?.ok_or(FeedError::NotFound)?;
            if let Some(plans) = &plans {
                let plan = crate::billing::account::effective_plan(
                    conn,
                    &user.user_id(),
                    plans,
                    crate::db::now(),
                )?;
                if !plan.caption_feeds {
                    return Err(FeedError::NotInPlan(plan.name));
                }
            }
            Ok::<_, FeedError>(serve_captions_page(
                conn,
                &user.user_id(),
                &filter,
                ITEMS,
                ITEMS as usize,
            )?)
        })
        .await;
    let items = match loaded {
        Ok(items) => items,
        Err(FeedError::NotFound) => return not_found(),
        Err(FeedError::NotInPlan(plan)) => {
            return HttpResponse::Forbidden().body(format!(
                "caption feeds are not part of the {plan} plan; upgrade on the billing page"
            ))
        }
        Err(FeedError::Db(e)) => {
            tracing::error!(error = %e, "caption feed failed");
            return HttpResponse::InternalServerError()
                .body("the caption feed is unavailable; try again later");
        }
    };
    let etag = etag(&items, format, req.query_string());
    if req
        .headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag || t.trim() == "*"))
    {
        return HttpResponse::NotModified()
            .insert_header((header::ETAG, etag))
            .finish();
    }
    let self_url = format!(
        "{}{}",
        state.settings.base_url.as_str().trim_end_matches('/'),
        req.uri()
    );
    let home = format!("{}captions", state.settings.base_url);
    let body = match format {
        Format::Rss => rss(&items, &self_url, &home),
        Format::Atom => atom(&items, &self_url, &home),
        Format::Json => json_feed(&items, &self_url, &home),
    };
    let mut response = HttpResponse::Ok();
    response
        .insert_header((header::CONTENT_TYPE, format.content_type()))
        .insert_header((header::ETAG, etag))
        .insert_header((header::CACHE_CONTROL, "private, max-age=60"));
    if let Some(newest) = items.first() {
        response.insert_header((
            header::LAST_MODIFIED,
            newest
                .caption
                .created_at
                .and_utc()
                .to_rfc2822()
                .replace("+0000", "GMT"),
        ));
    }
    response.body(body)
}

fn not_found() -> HttpResponse {
    HttpResponse::NotFound()
        .content_type("text/plain; charset=utf-8")
        .body("no such caption feed")
}

/// Changes whenever a caption is added or removed from the document.
fn etag(items: &[CaptionWithPost], format: Format, query: &str) -> String {
    let mut hash = Sha256::new();
    hash.update([format as u8]);
    hash.update(query.as_bytes());
    for item in items {
        hash.update(item.caption.id.as_bytes());
        hash.update(item.caption.body.as_bytes());
    }
    let digest = hash.finalize();
    format!("\"{}\"", hex::encode(&digest[..16]))
}

fn platform_name(platform: &str) -> String {
    platform
        .parse::<Platform>()
        .map(|p| p.display_name().to_string())
        .unwrap_or_else(|_| platform.to_string())
}

fn item_title(item: &CaptionWithPost) -> String {
    format!(
        "{} ({})",
        item.post_title,
        platform_name(&item.caption.platform)
    )
}

fn rss(items: &[CaptionWithPost], self_url: &str, home: &str) -> String {
    let mut out = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<rss version=\"2.0\" xmlns:atom=\"http://www.w3.org/2005/Atom\"><channel>\
         <title>captionfeed captions</title><link>{}</link><description>Ready-to-post captions for your feeds' new posts</description>\
         <atom:link href=\"{}\" rel=\"self\" type=\"application/rss+xml\"/>",
        xml(home),
        xml(self_url)
    );
    for item in items {
        let c = &item.caption;
        out.push_str(&format!(
            "<item><title>{}</title>{}<guid isPermaLink=\"false\">urn:captionfeed:caption:{}</guid><pubDate>{}</pubDate><category>{}</category><description>{}</description></item>",
            xml(&item_title(item)),
            item.post_url.as_deref().map(|u| format!("<link>{}</link>", xml(u))).unwrap_or_default(),
            xml(&c.id),
            c.created_at.and_utc().to_rfc2822(),
            xml(&c.platform),
            xml(&c.body),
        ));
    }
    out.push_str("</channel></rss>\n");
    out
}

fn atom(items: &[CaptionWithPost], self_url: &str, home: &str) -> String {
    let updated = items
        .first()
        .map(|i| i.caption.created_at.and_utc())
        .unwrap_or_else(|| chrono::DateTime::UNIX_EPOCH)
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let mut out = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<feed xmlns=\"http://www.w3.org/2005/Atom\"><title>captionfeed captions</title>\
         <id>{}</id><updated>{updated}</updated><link rel=\"self\" href=\"{}\"/><link rel=\"alternate\" href=\"{}\"/><author><name>captionfeed</name></author>",
        xml(self_url),
        xml(self_url),
        xml(home)
    );
    for item in items {
        let c = &item.caption;
        out.push_str(&format!(
            "<entry><id>urn:captionfeed:caption:{}</id><title>{}</title>{}<updated>{}</updated><category term=\"{}\"/><content type=\"text\">{}</content></entry>",
            xml(&c.id),
            xml(&item_title(item)),
            item.post_url.as_deref().map(|u| format!("<link rel=\"alternate\" href=\"{}\"/>", xml(u))).unwrap_or_default(),
            c.created_at.and_utc().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            xml(&c.platform),
            xml(&c.body),
        ));
    }
    out.push_str("</feed>\n");
    out
}

fn json_feed(items: &[CaptionWithPost], self_url: &str, home: &str) -> String {
    let items: Vec<serde_json::Value> = items
        .iter()
        .map(|item| {
            let c = &item.caption;
            serde_json::json!({
                "id": format!("urn:captionfeed:caption:{}", c.id),
                "url": item.post_url,
                "title": item_title(item),
                "content_text": c.body,
                "date_published": c.created_at.and_utc().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                "tags": [c.platform],
            })
        })
        .collect();
    serde_json::json!({
        "version": "https://jsonfeed.org/version/1.1",
        "title": "captionfeed captions",
        "home_page_url": home,
        "feed_url": self_url,
        "items": items,
    })
    .to_string()
}

