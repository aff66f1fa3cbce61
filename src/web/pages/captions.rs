//! The copy desk: the account's captions grouped by post, new ones first, each with its
//! length, a copy button, "mark as posted" and an editor. Every action is a plain form
//! (the page works without JavaScript); app.js sends the same forms in the background
//! and asks for JSON, so the page need not reload.

use actix_web::http::{header, StatusCode};
use actix_web::{get, post, web, HttpRequest, HttpResponse};
use askama::Template;

use super::share::{composer_view, ComposerView, MASTODON_CHOOSER};
use super::stored_pages::{self, Rendered};
use super::{format_time, render, see_other, Layout};
use crate::captions::Platform;
use crate::db::DbError;
use crate::desk::store::{CaptionId, PostCaptions, StoredCaption};
use crate::desk::{self, CaptionStatus, DeskFilter, EditError};
use crate::web::csrf::CheckedForm;
use crate::web::error::WebError;
use crate::web::session::CurrentUser;
use crate::web::AppState;

/// Posts per page of the desk (up to seven captions each): 70 captions is a long screen
/// already, and each caption block is most of the page's weight (rendering 140 of them
/// after a change took 18 ms alone on the 5,000-caption bench account).
const POSTS_PER_PAGE: i64 = 10;

pub struct CaptionView {
    pub id: String,
    pub platform: String,
    pub platform_name: String,
    /// The variant's label (a built-in style's, or the subscriber's own name), for any
    /// but the default one.
    pub variant: Option<String>,
    pub text: String,
    pub length: i32,
    pub limit: i32,
    pub over: bool,
    /// Why the template made no text for this post.
    pub error: Option<String>,
    pub posted: bool,
    pub posted_at: String,
    /// The post on the network, when a connection published it.
    pub posted_link: Option<String>,
    pub edited: bool,
    /// Opens the platform's compose box with this caption in it.
    pub composer: Option<ComposerView>,
}

impl From<StoredCaption> for CaptionView {
    fn from(c: StoredCaption) -> Self {
        CaptionView {
            platform_name: c
                .platform()
                .map(|p| p.display_name().to_string())
                .unwrap_or_else(|| c.platform.clone()),
            posted: c.status() == CaptionStatus::Posted,
            posted_at: c.posted_at.as_ref().map(format_time).unwrap_or_default(),
            edited: c.is_edited(),
            posted_link: c.post_url.clone(),
            composer: None,
            variant: Some(c.variant)
                .filter(|v| v != crate::captions::DEFAULT_VARIANT)
                .map(|v| crate::captions::variant_label(&v).into_owned()),
            id: c.id.0,
            platform: c.platform,
            over: c.length > c.char_limit,
            error: c.error,
            text: c.body,
            length: c.length,
            limit: c.char_limit,
        }
    }
}

pub struct CaptionGroup {
    pub post_id: String,
    pub title: String,
    pub url: Option<String>,
    pub published: Option<String>,
    pub feed_title: String,
    pub feed_url: String,
    pub has_image: bool,
    pub captions: Vec<CaptionView>,
    /// Where the caption forms come back to.
    pub back: String,
    /// `back`, encoded for a query string.
    pub back_query: String,
}

fn query_value(value: &str) -> String {
    url::form_urlencoded::byte_serialize(value.as_bytes()).collect()
}

fn with_composer(mut view: CaptionView, post_url: Option<&str>) -> CaptionView {
    view.composer = view.platform.parse::<Platform>().ok().and_then(|platform| {
        composer_view(platform, &view.text, post_url, MASTODON_CHOOSER, &view.id)
    });
    view
}

/// Posts with their captions as the desk and a feed's page show them; the caption forms
/// come back to `back`, the page they are on.
pub fn caption_groups(groups: Vec<PostCaptions>, back: &str) -> Vec<CaptionGroup> {
    groups
        .into_iter()
        .map(|g| CaptionGroup {
            captions: g
                .captions
                .into_iter()
                .map(|c| with_composer(CaptionView::from(c), g.url.as_deref()))
                .collect(),
            post_id: g.post_id.0,
            title: g.title,
            url: g.url,
            published: g.published_at.as_ref().map(format_time),
            feed_title: g
                .feed_title
                .filter(|t| !t.trim().is_empty())
                .unwrap_or_else(|| g.feed_url.clone()),
            feed_url: g.feed_url,
            has_image: g.image_url.is_some(),
            back: back.to_string(),
            back_query: query_value(back),
        })
        .collect()
}

/// The dashboard's query: every filter optional; an empty value (the "All" choice) is none.
#[derive(Debug, Default, Clone, serde::Deserialize)]
pub struct DeskQuery {
    #[serde(default)]
    feed: String,
    #[serde(default)]
    platform: String,
    #[serde(default)]
    status: String,
    /// One post (a digest links to it).
    #[serde(default)]
    post: String,
    #[serde(default)]
    page: Option<u32>,
}

impl DeskQuery {
    /// The filter, or `None` when a value is not one the page offers.
    fn filter(&self) -> Option<DeskFilter> {
        let platform = match self.platform.as_str() {
            "" => None,
            p => Some(p.parse::<Platform>().ok()?),
        };
        let status = match self.status.as_str() {
            "" | "all" => None,
            s => Some(s.parse::<CaptionStatus>().ok()?),
        };
        Some(DeskFilter {
            feed: Some(self.feed.clone()).filter(|f| !f.is_empty()),
            platform,
            status,
            post: Some(self.post.clone()).filter(|p| !p.is_empty()),
        })
    }

    /// This view's address, on `page` (from 1).
    fn path(&self, page: u32) -> String {
        self.with_filters("/captions", page)
    }

    /// `base` with this view's filters (and page, from 1) as its query.
    fn with_filters(&self, base: &str, page: u32) -> String {
        let mut query = url::form_urlencoded::Serializer::new(String::new());
        for (name, value) in [
            ("feed", &self.feed),
            ("platform", &self.platform),
            ("status", &self.status),
            ("post", &self.post),
        ] {
            if !value.is_empty() {
                query.append_pair(name, value);
            }
        }
        if page > 1 {
            query.append_pair("page", &page.to_string());
        }
        let query = query.finish();
        if query.is_empty() {
            base.into()
        } else {
            format!("{base}?{query}")
        }
    }
}

pub struct Choice {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

#[derive(Template)]
#[template(path = "captions.html")]
struct CaptionsPage {
    layout: Layout,
    groups: Vec<CaptionGroup>,
    has_feeds: bool,
    filtered: bool,
    empty_message: &'static str,
    /// The account's feeds have not given it a caption yet: app.js shows them once they come.
    awaiting: bool,
    new_count: i64,
    feeds: Vec<Choice>,
    platforms: Vec<Choice>,
    statuses: Vec<Choice>,
    newer: Option<String>,
    older: Option<String>,
    /// The CSV export of the captions these filters show.
    csv: String,
}

#[get("/captions")]
#[tracing::instrument(skip_all)]
pub async fn list(
    req: HttpRequest,
    state: web::Data<AppState>,
    query: Result<web::Query<DeskQuery>, actix_web::Error>,
) -> Result<HttpResponse, actix_web::Error> {
    let query = query?.into_inner();
    let page = query.page.unwrap_or(1).max(1);
    let (req, state) = (&req, state.get_ref());
    // The filters are checked only when the page is rendered: a stored page's view passed
    // that check when it was stored.
    Ok(
        stored_pages::serve_desk(req, state, query.path(page), |user| async move {
            let filter = query.filter().ok_or(WebError::NotFound)?;
            let html = render_desk(req, state, user, &query, filter, page).await?;
            Ok(Rendered::Keep(html))
        })
        .await?,
    )
}

/// The desk page as HTML, from the database.
async fn render_desk(
    req: &HttpRequest,
    state: &AppState,
    user: CurrentUser,
    query: &DeskQuery,
    filter: DeskFilter,
    page: u32,
) -> Result<String, WebError> {
    let (id, desk_filter) = (user.id(), filter.clone());
    let (desk_page, feeds, new_count) = state
        .db
        .run(move |conn| {
            let found =
                desk::desk_page(conn, &id, &desk_filter, i64::from(page - 1), POSTS_PER_PAGE)?;
            let feeds = crate::subscriptions::list(conn, &id)?;
            let new_count = desk::count_new(conn, &id, &desk_filter)?;
            Ok::<_, DbError>((found, feeds, new_count))
        })
        .await?;
    let choice = |value: &str, label: &str, current: &str| Choice {
        value: value.to_string(),
        label: label.to_string(),
        selected: value == current,
    };
    let labels = feed_labels(
        feeds
            .iter()
            .map(|f| (f.feed.title.as_deref(), f.feed.url.as_str())),
    );
    let mut feed_choices = vec![choice("", "All feeds", &query.feed)];
    feed_choices.extend(
        feeds
            .iter()
            .zip(&labels)
            .map(|(f, label)| choice(&f.subscription.id, label, &query.feed)),
    );
    let mut platforms = vec![choice("", "All platforms", &query.platform)];
    platforms.extend(
        Platform::ALL
            .iter()
            .map(|p| choice(p.id(), p.display_name(), &query.platform)),
    );
    let current_status = if query.status.is_empty() {
        "all"
    } else {
        query.status.as_str()
    };
    let statuses = vec![
        choice("all", "All", current_status),
        choice("new", "Not posted yet", current_status),
        choice("posted", "Posted", current_status),
    ];
    let filtered = filter.feed.is_some()
        || filter.platform.is_some()
        || filter.status.is_some()
        || filter.post.is_some();
    let empty_message = match (&filter.feed, filter.platform, filter.status) {
        _ if filter.post.is_some() => "This post has no captions here any more.",
        (None, None, Some(CaptionStatus::New)) => "All caught up: every caption has been posted.",
        (None, None, Some(CaptionStatus::Posted)) => {
            "Nothing is marked as posted yet. Captions you mark as posted are kept here."
        }
        (None, None, None) => {
            "Your feeds are being checked; captions for their newest posts appear here within a minute."
        }
        _ => "No captions match these filters.",
    };
    let back = query.path(page);
    let mut groups = caption_groups(desk_page.posts, &back);
    for group in &mut groups {
        if let Some((_, label)) = feeds
            .iter()
            .zip(&labels)
            .find(|(f, _)| f.feed.url == group.feed_url)
        {
            group.feed_title = label.clone();
        }
    }
    let page_view = CaptionsPage {
        layout: Layout::new(req, state, Some(&user.user)),
        awaiting: groups.is_empty() && !feeds.is_empty() && !filtered && page == 1,
        groups,
        has_feeds: !feeds.is_empty(),
        filtered,
        empty_message,
        new_count,
        feeds: feed_choices,
        platforms,
        statuses,
        newer: (page > 1).then(|| query.path(page - 1)),
        older: desk_page.more.then(|| query.path(page + 1)),
        csv: query.with_filters("/export/captions.csv", 1),
    };
    Ok(page_view.render()?)
}

/// What names each feed in a list: its title, with its address's host when another feed
/// has the same title (one blog followed as RSS and as Atom), and the path too when the
/// host does not tell them apart; the address when there is no title.
pub fn feed_labels<'a>(feeds: impl Iterator<Item = (Option<&'a str>, &'a str)>) -> Vec<String> {
    let feeds: Vec<(Option<&str>, &str)> = feeds
        .map(|(title, url)| (title.map(str::trim).filter(|t| !t.is_empty()), url))
        .collect();
    let host = |url: &str| {
        url::Url::parse(url)
            .ok()
            .and_then(|u| u.host_str().map(str::to_string))
            .unwrap_or_else(|| url.to_string())
    };
    let without_scheme = |url: &str| {
        url.split_once("://")
            .map_or(url, |(_, rest)| rest)
            .trim_end_matches('/')
            .to_string()
    };
    feeds
        .iter()
        .map(|&(title, url)| {
            let Some(title) = title else {
                return url.to_string();
            };
            let same_title: Vec<&str> = feeds
                .iter()
                .filter(|(t, u)| *t == Some(title) && *u != url)
                .map(|(_, u)| *u)
                .collect();
            if same_title.is_empty() {
                title.to_string()
            } else if same_title.iter().all(|u| host(u) != host(url)) {
                format!("{title} ({})", host(url))
            } else {
                format!("{title} ({})", without_scheme(url))
            }
        })
        .collect()
}

/// Where a form goes back to: a path of this site, never another site's address.
fn safe_back(back: &str) -> &str {
    let local = back.starts_with('/')
        && !back.starts_with("//")
        && !back.contains('\\')
        && !back.chars().any(char::is_control);
    if local {
        back
    } else {
        "/captions"
    }
}

/// Whether the form was sent by app.js, which wants JSON rather than a new page.
fn wants_json(req: &HttpRequest) -> bool {
    req.headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("application/json"))
}

/// The caption as app.js redraws it.
fn caption_json(c: &StoredCaption) -> serde_json::Value {
    serde_json::json!({
        "id": c.id,
        "text": c.body,
        "length": c.length,
        "limit": c.char_limit,
        "status": c.status().as_str(),
        "posted_at": c.posted_at.as_ref().map(format_time),
        "edited": c.is_edited(),
    })
}

/// Back to the caption in the page it was changed from, or JSON for app.js.
fn after_change(req: &HttpRequest, caption: &StoredCaption, back: &str) -> HttpResponse {
    if wants_json(req) {
        HttpResponse::Ok().json(caption_json(caption))
    } else {
        see_other(&format!("{}#c-{}", safe_back(back), caption.id))
    }
}

#[derive(serde::Deserialize)]
pub struct StatusForm {
    status: String,
    #[serde(default)]
    back: String,
}

#[post("/captions/{id}/status")]
#[tracing::instrument(skip_all, fields(caption = %path))]
pub async fn set_status(
    req: HttpRequest,
    state: web::Data<AppState>,
    user: CurrentUser,
    path: web::Path<String>,
    form: CheckedForm<StatusForm>,
) -> Result<HttpResponse, WebError> {
    let form = form.0;
    let status: CaptionStatus = form.status.parse().map_err(|_| WebError::NotFound)?;
    let (id, caption_id) = (user.id(), CaptionId(path.into_inner()));
    let caption = state
        .db
        .run(move |conn| desk::set_status(conn, &id, &caption_id, status).map_err(DbError::from))
        .await?
        .ok_or(WebError::NotFound)?;
    Ok(after_change(&req, &caption, &form.back))
}

#[derive(serde::Deserialize)]
pub struct TextForm {
    text: String,
    #[serde(default)]
    back: String,
}

#[derive(Template)]
#[template(path = "caption_edit.html")]
struct EditPage {
    layout: Layout,
    caption: CaptionView,
    original: Option<String>,
    post_title: String,
    back: String,
    error: Option<String>,
}

#[derive(serde::Deserialize)]
pub struct BackQuery {
    #[serde(default)]
    back: String,
}

async fn edit_page(
    req: &HttpRequest,
    state: &AppState,
    user: &CurrentUser,
    caption_id: CaptionId,
    back: &str,
    attempt: Option<(String, String)>,
) -> Result<HttpResponse, WebError> {
    let id = user.id();
    let found = state
        .db
        .run(move |conn| {
            crate::desk::query::caption_with_post(conn, &id, &caption_id).map_err(DbError::from)
        })
        .await?
        .ok_or(WebError::NotFound)?;
    let original = found.caption.original_body.clone();
    let mut caption = CaptionView::from(found.caption);
    let (status, error) = match attempt {
        // A refused edit comes back with the text as typed, so nothing is lost.
        Some((text, error)) => {
            caption.text = text;
            (StatusCode::UNPROCESSABLE_ENTITY, Some(error))
        }
        None => (StatusCode::OK, None),
    };
    let page = EditPage {
        layout: Layout::new(req, state, Some(&user.user)),
        caption,
        original,
        post_title: found.post_title,
        back: safe_back(back).to_string(),
        error,
    };
    render(status, &page)
}

/// The editor on a page of its own, for browsers without JavaScript.
#[get("/captions/{id}/edit")]
pub async fn edit_form(
    req: HttpRequest,
    state: web::Data<AppState>,
    user: CurrentUser,
    path: web::Path<String>,
    query: web::Query<BackQuery>,
) -> Result<HttpResponse, WebError> {
    let caption_id = CaptionId(path.into_inner());
    edit_page(&req, &state, &user, caption_id, &query.back, None).await
}

#[post("/captions/{id}/text")]
#[tracing::instrument(skip_all, fields(caption = %path))]
pub async fn save_text(
    req: HttpRequest,
    state: web::Data<AppState>,
    user: CurrentUser,
    path: web::Path<String>,
    form: CheckedForm<TextForm>,
) -> Result<HttpResponse, WebError> {
    let form = form.0;
    let (id, caption_id, text) = (user.id(), CaptionId(path.into_inner()), form.text.clone());
    let saved = state
        .db
        .transaction(move |conn| desk::edit_text(conn, &id, &caption_id, &text))
        .await;
    match saved {
        Ok(Some(caption)) => Ok(after_change(&req, &caption, &form.back)),
        Ok(None) => Err(WebError::NotFound),
        Err(EditError::Refused(message)) if wants_json(&req) => {
            Ok(HttpResponse::UnprocessableEntity().json(serde_json::json!({ "error": message })))
        }
        Err(EditError::Refused(message)) => {
            let caption_id = CaptionId::from(req.match_info().get("id").unwrap_or_default());
            edit_page(
                &req,
                &state,
                &user,
                caption_id,
                &form.back,
                Some((form.text, message)),
            )
            .await
        }
        Err(EditError::Db(e)) => Err(e.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::feed_labels;

    #[test]
    fn feeds_with_the_same_title_are_told_apart_by_their_address() {
        let labels = feed_labels(
            [
                (Some("Field Notes"), "https://fieldnotes.dev/feed.xml"),
                (Some("Field Notes"), "https://fieldnotes.dev/atom.xml"),
                (Some("Field Notes"), "https://mirror.example/feed.xml"),
                (Some("Other"), "https://other.example/rss"),
                (None, "https://untitled.example/feed"),
            ]
            .into_iter(),
        );
        assert_eq!(
            labels,
            [
                "Field Notes (fieldnotes.dev/feed.xml)",
                "Field Notes (fieldnotes.dev/atom.xml)",
                "Field Notes (mirror.example)",
                "Other",
                "https://untitled.example/feed",
            ]
        );
    }
}
