//! Private caption feeds (RSS 2.0, Atom, JSON Feed) at an unguessable URL, so that
//! feed-reading automations (Buffer, IFTTT, Zapier's RSS trigger) pick up each caption
//! once: every item's id is the caption's own, and its date the caption's creation.
//! RSS and Atom are askama templates (templates/caption_feeds/), escaped for XML 1.0.

use actix_web::http::header;
use actix_web::{get, web, HttpRequest, HttpResponse};
use askama::Template;
use chrono::NaiveDateTime;
use sha2::{Digest, Sha256};

use super::AppState;
use crate::accounts::{feed_keys, AccountError};
use crate::billing::Feature;
use crate::captions::Platform;
use crate::db::DbError;
use crate::desk::query::{serve_captions_page, CaptionFilter, CaptionWithPost};

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
    NotInPlan(crate::billing::NotInPlan),
    Db(anyhow::Error),
}

impl From<AccountError> for FeedError {
    fn from(e: AccountError) -> Self {
        FeedError::Db(e.into())
    }
}

impl From<DbError> for FeedError {
    fn from(e: DbError) -> Self {
        FeedError::Db(e.into())
    }
}

impl From<diesel::result::Error> for FeedError {
    fn from(e: diesel::result::Error) -> Self {
        FeedError::Db(e.into())
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
    let plans = state.plans().cloned();
    let loaded = state
        .db
        .run(move |conn| {
            let user = feed_keys::user_for_key(conn, &key)?.ok_or(FeedError::NotFound)?;
            crate::billing::require_now(
                conn,
                plans.as_ref(),
                &user.user_id(),
                Feature::CaptionFeeds,
            )?
            .map_err(FeedError::NotInPlan)?;
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
        Err(FeedError::NotInPlan(refused)) => {
            return HttpResponse::Forbidden()
                .body(format!("{}; upgrade on the billing page", refused.reason()))
        }
        Err(FeedError::Db(e)) => return unavailable(&e),
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
    let rendered = match format {
        Format::Rss => rss(&items, &self_url, &home),
        Format::Atom => atom(&items, &self_url, &home),
        Format::Json => Ok(json_feed(&items, &self_url, &home)),
    };
    let body = match rendered {
        Ok(body) => body,
        Err(e) => return unavailable(&anyhow::Error::new(e).context("rendering a caption feed")),
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

/// Feed readers get plain text, not the error page; the cause goes to the log.
fn unavailable(error: &anyhow::Error) -> HttpResponse {
    super::error::log_internal(error, "caption feed failed");
    HttpResponse::InternalServerError().body("the caption feed is unavailable; try again later")
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

/// One caption as both XML formats show it; the templates escape every field.
struct FeedItem<'a> {
    id: &'a str,
    title: String,
    link: Option<&'a str>,
    published: String,
    platform: &'a str,
    body: &'a str,
}

#[derive(Template)]
#[template(path = "caption_feeds/rss.xml")]
struct RssFeed<'a> {
    self_url: &'a str,
    home: &'a str,
    items: Vec<FeedItem<'a>>,
}

#[derive(Template)]
#[template(path = "caption_feeds/atom.xml")]
struct AtomFeed<'a> {
    self_url: &'a str,
    home: &'a str,
    updated: String,
    items: Vec<FeedItem<'a>>,
}

fn feed_items(items: &[CaptionWithPost], date: fn(NaiveDateTime) -> String) -> Vec<FeedItem<'_>> {
    items
        .iter()
        .map(|item| FeedItem {
            id: &item.caption.id,
            title: item_title(item),
            link: item.post_url.as_deref(),
            published: date(item.caption.created_at),
            platform: &item.caption.platform,
            body: &item.caption.body,
        })
        .collect()
}

fn rfc2822(at: NaiveDateTime) -> String {
    at.and_utc().to_rfc2822()
}

fn rfc3339(at: NaiveDateTime) -> String {
    at.and_utc()
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

fn rss(items: &[CaptionWithPost], self_url: &str, home: &str) -> askama::Result<String> {
    RssFeed {
        self_url,
        home,
        items: feed_items(items, rfc2822),
    }
    .render()
}

fn atom(items: &[CaptionWithPost], self_url: &str, home: &str) -> askama::Result<String> {
    let updated = items
        .first()
        .map(|i| i.caption.created_at)
        .unwrap_or(chrono::DateTime::UNIX_EPOCH.naive_utc());
    AtomFeed {
        self_url,
        home,
        updated: rfc3339(updated),
        items: feed_items(items, rfc3339),
    }
    .render()
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::desk::store::StoredCaption;

    fn caption(id: &str, platform: &str, body: &str, minute: u32) -> StoredCaption {
        let created_at = chrono::NaiveDate::from_ymd_opt(2026, 12, 7)
            .and_then(|d| d.and_hms_opt(9, minute, 5))
            .unwrap();
        StoredCaption {
            id: id.into(),
            subscription_id: "s1".into(),
            post_id: "p1".into(),
            platform: platform.into(),
            variant: "default".into(),
            body: body.into(),
            length: body.chars().count() as i32,
            char_limit: 300,
            created_at,
            error: None,
            status: "new".into(),
            posted_at: None,
            original_body: None,
            edited_at: None,
            post_url: None,
        }
    }

    /// Two captions newest first: one whose post has a link and whose texts need every
    /// escape (and hold a control character XML forbids), one whose post has none.
    fn items() -> Vec<CaptionWithPost> {
        vec![
            CaptionWithPost {
                caption: caption(
                    "c2",
                    "bluesky",
                    "Fish & \"chips\" <now> it's\u{1} here\nhttps://blog.example/a?x=1&y=2",
                    30,
                ),
                post_title: "Fish & <Chips>".into(),
                post_url: Some("https://blog.example/a?x=1&y=2".into()),
                post_published_at: None,
            },
            CaptionWithPost {
                caption: caption("c1", "no-such-platform", "Plain", 10),
                post_title: "Plain post".into(),
                post_url: None,
                post_published_at: None,
            },
        ]
    }

    const SELF_URL: &str = "https://cf.example/caption-feeds/k/rss?platform=bluesky&feed=1";
    const HOME: &str = "https://cf.example/captions";

    #[test]
    fn rss_and_atom_are_byte_for_byte_the_documents_readers_already_have() {
        let fixture = |name: &str| {
            std::fs::read_to_string(format!(
                "{}/tests/fixtures/caption_feeds/{name}",
                env!("CARGO_MANIFEST_DIR")
            ))
            .unwrap()
        };
        assert_eq!(rss(&items(), SELF_URL, HOME).unwrap(), fixture("feed.rss"));
        assert_eq!(
            atom(&items(), SELF_URL, HOME).unwrap(),
            fixture("feed.atom")
        );
        assert_eq!(rss(&[], SELF_URL, HOME).unwrap(), fixture("empty.rss"));
        assert_eq!(atom(&[], SELF_URL, HOME).unwrap(), fixture("empty.atom"));
    }

    #[test]
    fn feed_rs_reads_both_formats_with_their_text_unescaped() {
        for (format, document) in [
            ("rss", rss(&items(), SELF_URL, HOME).unwrap()),
            ("atom", atom(&items(), SELF_URL, HOME).unwrap()),
        ] {
            let feed = feed_rs::parser::parse(document.as_bytes())
                .unwrap_or_else(|e| panic!("{format}: {e}"));
            assert_eq!(feed.entries.len(), 2, "{format}");
            let first = &feed.entries[0];
            assert_eq!(first.id, "urn:captionfeed:caption:c2", "{format}");
            assert_eq!(
                first.title.as_ref().map(|t| t.content.as_str()),
                Some("Fish & <Chips> (Bluesky)"),
                "{format}"
            );
            assert_eq!(
                first.links[0].href, "https://blog.example/a?x=1&y=2",
                "{format}"
            );
            let text = match format {
                "rss" => first.summary.as_ref().map(|t| t.content.clone()),
                _ => first.content.as_ref().and_then(|c| c.body.clone()),
            };
            assert_eq!(
                text.as_deref(),
                Some("Fish & \"chips\" <now> it's here\nhttps://blog.example/a?x=1&y=2"),
                "{format}: the control character dropped, the rest as written"
            );
            assert!(
                feed.entries[1].links.is_empty(),
                "{format}: no link, none made up"
            );
        }
    }
}
