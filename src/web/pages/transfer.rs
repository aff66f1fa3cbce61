//! Moving subscriptions and captions in and out: OPML import (reviewed before anything is
//! followed) and export, CSV export of captions.

use actix_web::http::{header, StatusCode};
use actix_web::{get, post, web, HttpRequest, HttpResponse};
use askama::Template;

use super::{render, Layout};
use crate::captions::query::{serve_captions_page, CaptionFilter};
use crate::captions::Platform;
use crate::db::DbError;
use crate::opml::{self, OpmlFeed};
use crate::spreadsheet::safe_cell as spreadsheet_safe;
use crate::subscriptions;
use crate::web::add_feed::{add_feed, AddFeedError};
use crate::web::csrf::CheckedForm;
use crate::web::error::WebError;
use crate::web::session::CurrentUser;
use crate::web::AppState;

/// The most captions one CSV export holds.
const CSV_ROWS: i64 = 10_000;
/// The most feeds one import follows, so one paste cannot queue thousands of fetches.
const IMPORT_MAX: usize = 200;

#[get("/export/feeds.opml")]
pub async fn export_opml(
    state: web::Data<AppState>,
    user: CurrentUser,
) -> Result<HttpResponse, WebError> {
    let id = user.id();
    let feeds = state
        .db
        .run(move |conn| subscriptions::list(conn, &id))
        .await?;
    let listed: Vec<OpmlFeed> = feeds
        .into_iter()
        .map(|s| OpmlFeed {
            title: s.feed.title,
            xml_url: s.feed.url,
        })
        .collect();
    Ok(HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, "text/x-opml; charset=utf-8"))
        .insert_header((
            header::CONTENT_DISPOSITION,
            "attachment; filename=\"captionfeed-feeds.opml\"",
        ))
        .body(opml::write("captionfeed subscriptions", &listed)))
}

#[derive(serde::Deserialize)]
pub struct CsvQuery {
    feed: Option<String>,
    platform: Option<String>,
    /// `new` or `posted`, as on the captions page; empty or `all` for both.
    status: Option<String>,
}

#[get("/export/captions.csv")]
pub async fn export_csv(
    state: web::Data<AppState>,
    user: CurrentUser,
    query: web::Query<CsvQuery>,
) -> Result<HttpResponse, WebError> {
    let mut query = query.into_inner();
    // The captions page's filter form sends an empty value for "all".
    query.feed = query.feed.filter(|f| !f.is_empty());
    query.platform = query.platform.filter(|p| !p.is_empty());
    let status = match query.status.as_deref() {
        None | Some("") | Some("all") => None,
        Some(s) => Some(
            s.parse::<crate::captions::desk::CaptionStatus>()
                .map_err(|_| WebError::NotFound)?,
        ),
    };
    if query
        .platform
        .as_deref()
        .is_some_and(|p| p.parse::<Platform>().is_err())
    {
        return Err(WebError::NotFound);
    }
    let id = user.id();
    let filter = CaptionFilter {
        feed: query.feed,
        platform: query.platform,
        status,
        ..Default::default()
    };
    let rows = state
        .db
        .run(move |conn| {
            serve_captions_page(conn, &id, &filter, CSV_ROWS, CSV_ROWS as usize)
                .map_err(DbError::from)
        })
        .await?;
    let mut out = csv::Writer::from_writer(Vec::new());
    let header_row = [
        "created_at",
        "feed_id",
        "post_title",
        "post_url",
        "platform",
        "variant",
        "length",
        "limit",
        "text",
        "error",
    ];
    let write_error = |e: csv::Error| WebError::Internal(format!("csv: {e}"));
    out.write_record(header_row).map_err(write_error)?;
    for row in rows {
        let c = row.caption;
        out.write_record([
            c.created_at.and_utc().to_rfc3339(),
            c.subscription_id,
            spreadsheet_safe(&row.post_title),
            row.post_url.unwrap_or_default(),
            c.platform,
            c.variant,
            c.length.to_string(),
            c.char_limit.to_string(),
            spreadsheet_safe(&c.body),
            spreadsheet_safe(c.error.as_deref().unwrap_or("")),
        ])
        .map_err(write_error)?;
    }
    let body = out
        .into_inner()
        .map_err(|e| WebError::Internal(format!("csv: {e}")))?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, "text/csv; charset=utf-8"))
        .insert_header((
            header::CONTENT_DISPOSITION,
            "attachment; filename=\"captionfeed-captions.csv\"",
        ))
        .body(body))
}

#[derive(Template)]
#[template(path = "import.html")]
struct ImportPage {
    layout: Layout,
    /// The feeds found in the uploaded file, one address per line, for review.
    review: Option<String>,
    found: usize,
    results: Vec<ImportResult>,
    error: Option<String>,
}

pub struct ImportResult {
    pub url: String,
    pub outcome: String,
    pub ok: bool,
}

fn import_page(req: &HttpRequest, state: &AppState, user: &CurrentUser) -> ImportPage {
    ImportPage {
        layout: Layout::new(req, state, Some(&user.user)),
        review: None,
        found: 0,
        results: Vec::new(),
        error: None,
    }
}

#[get("/import/opml")]
pub async fn import_form(
    req: HttpRequest,
    state: web::Data<AppState>,
    user: CurrentUser,
) -> Result<HttpResponse, WebError> {
    render(StatusCode::OK, &import_page(&req, &state, &user))
}

#[derive(serde::Deserialize, Default)]
#[serde(default)]
pub struct OpmlForm {
    opml: String,
}

/// Step one: read the OPML and show its feeds; nothing is followed yet.
#[post("/import/opml")]
pub async fn import_review(
    req: HttpRequest,
    state: web::Data<AppState>,
    user: CurrentUser,
    form: CheckedForm<OpmlForm>,
) -> Result<HttpResponse, WebError> {
    let mut page = import_page(&req, &state, &user);
    match opml::parse(&form.0.opml) {
        Ok(feeds) if feeds.is_empty() => {
            page.error = Some("The file lists no feeds (no outline has an xmlUrl).".into());
            render(StatusCode::UNPROCESSABLE_ENTITY, &page)
        }
        Ok(feeds) => {
            page.found = feeds.len();
            page.review = Some(
                feeds
                    .iter()
                    .map(|f| f.xml_url.as_str())
                    .collect::<Vec<_>>()
                    .join("\n"),
            );
            render(StatusCode::OK, &page)
        }
        Err(message) => {
            page.error = Some(super::sentence(&message));
            render(StatusCode::UNPROCESSABLE_ENTITY, &page)
        }
    }
}

#[derive(serde::Deserialize, Default)]
#[serde(default)]
pub struct ConfirmForm {
    urls: String,
}

/// Step two: follow the addresses the person kept, each through the same checks as the
/// add-feed form, and say what happened to each.
#[post("/import/opml/confirm")]
pub async fn import_confirm(
    req: HttpRequest,
    state: web::Data<AppState>,
    user: CurrentUser,
    form: CheckedForm<ConfirmForm>,
) -> Result<HttpResponse, WebError> {
    let mut page = import_page(&req, &state, &user);
    let urls: Vec<&str> = form
        .0
        .urls
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    if urls.len() > IMPORT_MAX {
        page.error = Some(format!(
            "At most {IMPORT_MAX} feeds can be imported at once; remove some lines."
        ));
        page.review = Some(urls.join("\n"));
        return render(StatusCode::UNPROCESSABLE_ENTITY, &page);
    }
    for url in urls {
        let (outcome, ok) = match add_feed(&state, &user.id(), url).await {
            Ok(_) => ("followed".to_string(), true),
            Err(AddFeedError::AlreadyFollowed(_)) => ("already followed".to_string(), true),
            Err(AddFeedError::Invalid(message)) => (message, false),
            Err(AddFeedError::OverLimit(message)) => (message, false),
            Err(AddFeedError::Choose(candidates)) => (
                format!(
                    "this is a site with {} feeds; add the one you want by its address",
                    candidates.len()
                ),
                false,
            ),
            Err(AddFeedError::Db(e)) => return Err(e.into()),
        };
        page.results.push(ImportResult {
            url: url.to_string(),
            outcome,
            ok,
        });
    }
    render(StatusCode::OK, &page)
}
