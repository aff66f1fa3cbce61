//! Moving subscriptions and captions in and out: OPML import (reviewed before anything is
//! followed) and export, CSV export of captions.

use actix_web::http::{header, StatusCode};
use actix_web::{get, post, web, HttpRequest, HttpResponse};
use askama::Template;

use super::{render, Layout};
use crate::captions::Platform;
use crate::db::DbError;
use crate::desk::query::{serve_captions_page, CaptionFilter};
use crate::opml::{self, OpmlFeed};
use crate::spreadsheet::safe_cell as spreadsheet_safe;
use crate::subscriptions;
use crate::subscriptions::follow::{FollowError, SameBlog};
use crate::web::csrf::CheckedForm;
use crate::web::error::WebError;
use crate::web::session::CurrentUser;
use crate::web::AppState;

/// The most captions one CSV export holds.
const CSV_ROWS: i64 = 10_000;
/// The most feeds one import follows, so one paste cannot queue thousands of fetches.
const IMPORT_MAX: usize = 200;

#[get("/export/feeds.opml")]
#[tracing::instrument(skip_all)]
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
#[tracing::instrument(skip_all)]
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
            s.parse::<crate::desk::CaptionStatus>()
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
    let write_error =
        |e: csv::Error| WebError::Internal(anyhow::Error::new(e).context("writing the CSV export"));
    out.write_record(header_row).map_err(write_error)?;
    for row in rows {
        let c = row.caption;
        out.write_record([
            c.created_at.and_utc().to_rfc3339(),
            c.subscription_id.0,
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
        .map_err(|e| WebError::Internal(anyhow::Error::new(e).context("writing the CSV export")))?;
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
    /// The feeds found in the uploaded file, for review; none before a file is read.
    review: Option<Vec<OpmlFeed>>,
    results: Vec<ImportResult>,
    error: Option<String>,
}

pub struct ImportResult {
    pub title: Option<String>,
    pub url: String,
    pub outcome: String,
    pub ok: bool,
}

/// The review form's field for the feed at `index`: a checkbox whose value is the address,
/// sent only when ticked, beside a hidden field with the title.
const PICK_PREFIX: &str = "feed_";
const TITLE_PREFIX: &str = "title_";

fn import_page(req: &HttpRequest, state: &AppState, user: &CurrentUser) -> ImportPage {
    ImportPage {
        layout: Layout::new(req, state, Some(&user.user)),
        review: None,
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
#[tracing::instrument(skip_all)]
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
            page.review = Some(feeds);
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
    /// One address per line: what scripts (and the review page before titles) send.
    urls: String,
    /// The review's checkboxes and titles, by index (see [`PICK_PREFIX`]).
    #[serde(flatten)]
    picked: std::collections::HashMap<String, String>,
}

impl ConfirmForm {
    /// The feeds to follow, in the review's order, then those listed one per line.
    fn feeds(&self) -> Vec<OpmlFeed> {
        let mut ticked: Vec<(usize, OpmlFeed)> = self
            .picked
            .iter()
            .filter_map(|(name, url)| {
                let index: usize = name.strip_prefix(PICK_PREFIX)?.parse().ok()?;
                let title = self
                    .picked
                    .get(&format!("{TITLE_PREFIX}{index}"))
                    .filter(|t| !t.trim().is_empty())
                    .cloned();
                Some((
                    index,
                    OpmlFeed {
                        title,
                        xml_url: url.trim().to_string(),
                    },
                ))
            })
            .filter(|(_, f)| !f.xml_url.is_empty())
            .collect();
        ticked.sort_by_key(|(index, _)| *index);
        let lines = self
            .urls
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(|l| OpmlFeed {
                title: None,
                xml_url: l.to_string(),
            });
        ticked.into_iter().map(|(_, f)| f).chain(lines).collect()
    }
}

/// Step two: follow the feeds the person kept, each through the same checks as the
/// add-feed form, and say what happened to each.
#[post("/import/opml/confirm")]
#[tracing::instrument(skip_all)]
pub async fn import_confirm(
    req: HttpRequest,
    state: web::Data<AppState>,
    user: CurrentUser,
    form: CheckedForm<ConfirmForm>,
) -> Result<HttpResponse, WebError> {
    let mut page = import_page(&req, &state, &user);
    let feeds = form.0.feeds();
    if feeds.is_empty() {
        page.error = Some("No feed was ticked; nothing was followed.".into());
        return render(StatusCode::UNPROCESSABLE_ENTITY, &page);
    }
    if feeds.len() > IMPORT_MAX {
        page.error = Some(format!(
            "At most {IMPORT_MAX} feeds can be imported at once; untick some."
        ));
        page.review = Some(feeds);
        return render(StatusCode::UNPROCESSABLE_ENTITY, &page);
    }
    for feed in feeds {
        let url = feed.xml_url.as_str();
        let (outcome, ok) = match state.follow().feed(&user.id(), url, SameBlog::Refuse).await {
            Ok(_) => ("followed".to_string(), true),
            Err(FollowError::AlreadyFollowed(_)) => ("already followed".to_string(), true),
            Err(FollowError::SameBlog(followed)) => (
                format!(
                    "not followed: the same blog is followed through {}",
                    followed.feed.title.as_deref().unwrap_or(&followed.feed.url)
                ),
                true,
            ),
            Err(FollowError::NotAFeed(message)) => (format!("not a feed: {message}"), false),
            Err(FollowError::Invalid(message)) => (message, false),
            Err(FollowError::OverLimit(message)) => (message, false),
            Err(FollowError::Choose(candidates)) => (
                format!(
                    "this is a site with {} feeds; add the one you want by its address",
                    candidates.len()
                ),
                false,
            ),
            Err(FollowError::Db(e)) => return Err(e.into()),
        };
        page.results.push(ImportResult {
            title: feed.title,
            url: feed.xml_url,
            outcome,
            ok,
        });
    }
    render(StatusCode::OK, &page)
}
