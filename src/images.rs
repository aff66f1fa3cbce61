//! Post images: the feed's enclosure or media image, else the post page's `og:image`,
//! fetched in the background (never while a page waits) and kept in `post_images`.
//!
//! The same page fetch brings the page's description (`og:description`, else
//! `twitter:description`, else the meta description). A post whose summary was made from its
//! text (the feed had no real one) takes it as its summary. Captions never wait for it: they
//! are written when the post is read, and the description only improves what reads the post
//! later (captions written for it afterwards, regenerated ones, the API). A page that fails
//! leaves the post as it was.
//!
//! Pages and images come through the guarded fetcher like feeds, so an image URL cannot
//! reach the server's own network. Images are capped at [`MAX_IMAGE_BYTES`] and must say
//! they are raster images: SVG can carry scripts, and these bytes are served from our origin.
//! They live in the database, not in files, because replicas share the database and not a
//! disk; the cap and the one-image-per-post rule bound its growth.

use std::cell::RefCell;
use std::time::Duration;

use chrono::NaiveDateTime;
use diesel::dsl::{exists, not};
use diesel::prelude::*;
use html5ever::tendril::StrTendril;
use html5ever::tokenizer::states::RawKind;
use html5ever::tokenizer::{
    BufferQueue, Tag, TagKind, Token, TokenSink, TokenSinkResult, Tokenizer, TokenizerOpts,
};
use url::Url;

use crate::accounts::UserId;
use crate::config::Settings;
use crate::db::schema::{captions, post_images, posts, subscriptions};
use crate::db::{now, AnyConnection, Db, DbError};
use crate::feeds::reading::{self, SummarySource};
use crate::feeds::store::PostId;
use crate::feeds::{
    normalize, sentences, FetchConfig, FetchError, FetchOutcome, Fetcher, Validators,
};
use crate::jobs::lease::{self, Only, Param, Queue};

pub const MAX_IMAGE_BYTES: usize = 5 * 1024 * 1024;
/// A post page is read only for its `<head>`; a megabyte is plenty.
const MAX_PAGE_BYTES: usize = 1024 * 1024;
/// Tries before an image is given up (a refused, oversized or non-image one at once).
const MAX_ATTEMPTS: i32 = 3;
/// Images fetched per pass; the rest wait for the next.
const BATCH: i64 = 20;
const TICK: Duration = Duration::from_secs(15);

/// An image as served: its type and bytes.
pub struct StoredImage {
    pub content_type: String,
    pub data: Vec<u8>,
}

/// The image of `post_id`, if the account follows the post's feed and the image is stored.
pub fn image_for_account(
    conn: &mut AnyConnection,
    user: &UserId,
    post_id: &PostId,
) -> QueryResult<Option<StoredImage>> {
    let row: Option<(Option<String>, Option<Vec<u8>>)> = post_images::table
        .inner_join(posts::table)
        .filter(post_images::post_id.eq(post_id))
        .filter(exists(
            subscriptions::table
                .filter(subscriptions::user_id.eq(user.as_str()))
                .filter(subscriptions::feed_id.eq(posts::feed_id)),
        ))
        .select((post_images::content_type, post_images::data))
        .first(conn)
        .optional()?;
    Ok(match row {
        Some((Some(content_type), Some(data))) => Some(StoredImage { content_type, data }),
        _ => None,
    })
}

/// A post waiting for its image (feed-level: for the worker).
#[derive(Debug, Queryable)]
struct Due {
    id: PostId,
    url: Option<String>,
    image_url: Option<String>,
    summary_source: String,
}

impl Due {
    /// The summary was made from the text, so the page's description would be better.
    fn wants_description(&self) -> bool {
        SummarySource::parse(&self.summary_source) == SummarySource::Text
    }
}

/// Posts some account has captions for (those the dashboard shows) with no image yet,
/// newest first, then earlier tries that are due again.
fn due_posts(conn: &mut AnyConnection, at: NaiveDateTime) -> QueryResult<Vec<Due>> {
    let mut due: Vec<Due> = posts::table
        .filter(exists(
            captions::table.filter(captions::post_id.eq(posts::id)),
        ))
        .filter(not(exists(
            post_images::table.filter(post_images::post_id.eq(posts::id)),
        )))
        .order(posts::first_seen_at.desc())
        .limit(BATCH)
        .select((
            posts::id,
            posts::url,
            posts::image_url,
            posts::summary_source,
        ))
        .load(conn)?;
    let retries: Vec<Due> = posts::table
        .inner_join(post_images::table)
        .filter(post_images::data.is_null())
        .filter(post_images::attempts.lt(MAX_ATTEMPTS))
        .filter(post_images::next_attempt_at.le(at))
        .filter(
            post_images::lease_until
                .is_null()
                .or(post_images::lease_until.lt(at)),
        )
        .order(post_images::next_attempt_at.asc())
        .limit(BATCH)
        .select((
            posts::id,
            posts::url,
            posts::image_url,
            posts::summary_source,
        ))
        .load(conn)?;
    due.extend(retries);
    due.truncate(BATCH as usize);
    Ok(due)
}

/// How long a claimed post is left to the replica that claimed it: longer than a page and
/// an image fetch (15 s + 30 s). A replica that dies mid-fetch frees it after this.
const CLAIM: chrono::Duration = chrono::Duration::minutes(5);

/// Each post's image row is its job, claimed with the shared lease.
const QUEUE: Queue = Queue {
    table: "post_images",
    key: "post_id",
    pending: "j.data IS NULL",
};

/// A post this replica holds the lease on, until it records what its try found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claimed {
    pub post_id: PostId,
    token: String,
    /// Tries made before this one.
    attempts: i32,
}

/// Takes the post for this replica, if it still wants an image and no live claim holds
/// it, so that replicas never fetch the same image at once. A fresh post gets its row
/// first (of replicas racing, one insert stands); then the shared lease claims the row,
/// under a token only this claim can [`record`] with.
pub fn claim(
    conn: &mut AnyConnection,
    post_id: &PostId,
    at: NaiveDateTime,
) -> QueryResult<Option<Claimed>> {
    crate::insert_or_ignore!(
        conn,
        post_images::table,
        (
            post_images::post_id.eq(post_id),
            post_images::attempts.eq(0),
            post_images::next_attempt_at.eq(at),
        )
    )?;
    let only = Only::default()
        .and("j.post_id = ?", [Param::Text(post_id.to_string())])
        .and("j.attempts < ?", [Param::Int(MAX_ATTEMPTS.into())]);
    let claim = lease::claim_only(conn, &QUEUE, &only, at, at + CLAIM, 1)?;
    if claim.won == 0 {
        return Ok(None);
    }
    let attempts = post_images::table
        .find(post_id)
        .filter(post_images::lease_token.eq(&claim.token))
        .select(post_images::attempts)
        .first(conn)
        .optional()?;
    Ok(attempts.map(|attempts| Claimed {
        post_id: post_id.clone(),
        token: claim.token,
        attempts,
    }))
}

/// What one try found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Stored {
        source: String,
        content_type: String,
        data: Vec<u8>,
    },
    /// Worth another try later (timeouts, server errors).
    Retry { source: Option<String>, why: String },
    /// Never worth another try (no image, refused address, too large, not an image).
    GiveUp { source: Option<String>, why: String },
}

/// Records what the try of `claimed` found and ends its lease; `false`, writing nothing,
/// when the claim was lost meanwhile (it outlived its lease and another replica took the
/// post): that replica's outcome stands.
pub fn record(conn: &mut AnyConnection, claimed: &Claimed, outcome: &Outcome) -> QueryResult<bool> {
    let at = now();
    let attempts = claimed.attempts;
    let (source, content_type, data, error, attempts, next) = match outcome {
        Outcome::Stored {
            source,
            content_type,
            data,
        } => (
            Some(source.as_str()),
            Some(content_type.as_str()),
            Some(data.as_slice()),
            None,
            attempts + 1,
            at,
        ),
        Outcome::Retry { source, why } => {
            let wait = chrono::Duration::minutes(15 * (1 << attempts.clamp(0, 8)));
            (
                source.as_deref(),
                None,
                None,
                Some(why.as_str()),
                attempts + 1,
                at + wait,
            )
        }
        Outcome::GiveUp { source, why } => (
            source.as_deref(),
            None,
            None,
            Some(why.as_str()),
            MAX_ATTEMPTS,
            at,
        ),
    };
    let fetched_at = data.as_ref().map(|_| at);
    let recorded = diesel::update(
        post_images::table
            .find(&claimed.post_id)
            .filter(post_images::lease_token.eq(&claimed.token)),
    )
    .set((
        post_images::source_url.eq(source),
        post_images::content_type.eq(content_type),
        post_images::data.eq(data),
        post_images::error.eq(error),
        post_images::attempts.eq(attempts),
        post_images::next_attempt_at.eq(next),
        post_images::fetched_at.eq(fetched_at),
        post_images::lease_until.eq(None::<NaiveDateTime>),
        post_images::lease_token.eq(None::<String>),
    ))
    .execute(conn)?;
    Ok(recorded == 1)
}

/// Fetches post images in the background.
#[derive(Clone)]
pub struct Images {
    db: Db,
    pages: Fetcher,
    images: Fetcher,
}

/// What one pass did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct ImagesReport {
    pub stored: usize,
    pub failed: usize,
}

impl Images {
    pub fn new(db: Db, settings: &Settings) -> Result<Self, FetchError> {
        let fetcher = |max_body_bytes, timeout| {
            Fetcher::new(FetchConfig {
                allow_private_networks: settings.allow_private_networks,
                allowed_networks: settings.allowed_networks.clone(),
                timeout,
                max_body_bytes,
                user_agent: String::new(),
            })
        };
        Ok(Images {
            db,
            pages: fetcher(MAX_PAGE_BYTES, Duration::from_secs(15))?,
            images: fetcher(MAX_IMAGE_BYTES, Duration::from_secs(30))?,
        })
    }

    /// One pass: the image of each due post, one after another (a pass is small, and
    /// images are a courtesy, not worth many connections to one blog at once).
    #[tracing::instrument(name = "image pass", skip_all)]
    pub async fn run_once(&self) -> Result<ImagesReport, DbError> {
        let due = self
            .db
            .run(|conn| Ok::<_, DbError>(due_posts(conn, now())?))
            .await?;
        let mut report = ImagesReport::default();
        for post in due {
            let id = post.id.clone();
            let claimed = self
                .db
                .run(move |conn| Ok::<_, DbError>(claim(conn, &id, now())?))
                .await?;
            let Some(claimed) = claimed else {
                // Another replica has it, or just stored it.
                continue;
            };
            let (outcome, description) = self.fetch_image(&post).await;
            if let Some(description) = description {
                let id = post.id.clone();
                self.db
                    .run(move |conn| Ok::<_, DbError>(record_description(conn, &id, &description)?))
                    .await?;
            }
            let label = match outcome {
                Outcome::Stored { .. } => {
                    report.stored += 1;
                    "stored"
                }
                Outcome::Retry { .. } => {
                    report.failed += 1;
                    "retry"
                }
                Outcome::GiveUp { .. } => {
                    report.failed += 1;
                    "gave_up"
                }
            };
            crate::metrics::metrics()
                .images
                .with_label_values(&[label])
                .inc();
            let recorded = self
                .db
                .run(move |conn| Ok::<_, DbError>(record(conn, &claimed, &outcome)?))
                .await?;
            if !recorded {
                tracing::info!(post = %post.id, "image claim lost to another replica; its outcome stands");
            }
        }
        Ok(report)
    }

    /// The first pass waits a tick: just after a start the poller catches up on every feed
    /// that fell due meanwhile, and the image fetcher's lookups and claims would compete
    /// with it for the CPU and, on SQLite, for the one write lock. Images can wait.
    pub async fn run_until_stopped(self, shutdown: impl std::future::Future<Output = ()>) {
        let images = || self.run_once();
        crate::jobs::run_every_after("post image fetcher", TICK, TICK, shutdown, images).await
    }

    /// The post's image, and its page's description when the post wants one.
    async fn fetch_image(&self, post: &Due) -> (Outcome, Option<String>) {
        let page = if post.image_url.is_none() || post.wants_description() {
            self.page_meta(post.url.as_deref()).await
        } else {
            Ok(PageMeta::default())
        };
        let (meta, page_failure) = match page {
            Ok(meta) => (meta, None),
            Err(outcome) => (PageMeta::default(), Some(outcome)),
        };
        let description = meta.description.filter(|_| post.wants_description());
        let source = match (&post.image_url, meta.image, page_failure) {
            (Some(url), _, _) => url.clone(),
            (None, Some(url), _) => url,
            (None, None, Some(outcome)) => return (outcome, description),
            (None, None, None) => {
                let outcome = Outcome::GiveUp {
                    source: None,
                    why: "the post names no image".into(),
                };
                return (outcome, description);
            }
        };
        (self.fetch_source(source).await, description)
    }

    async fn fetch_source(&self, source: String) -> Outcome {
        match self.images.fetch(&source, &Validators::default()).await {
            Ok(FetchOutcome::Fetched {
                body, content_type, ..
            }) => match raster_type(content_type.as_deref()) {
                Some(content_type) if !body.is_empty() => Outcome::Stored {
                    source,
                    content_type,
                    data: body.to_vec(),
                },
                _ => Outcome::GiveUp {
                    source: Some(source),
                    why: format!(
                        "not an image (Content-Type: {})",
                        content_type.as_deref().unwrap_or("none")
                    ),
                },
            },
            Ok(FetchOutcome::NotModified) => Outcome::Retry {
                source: Some(source),
                why: "the server answered 304 to an unconditional request".into(),
            },
            Err(e) => failed(Some(source), e),
        }
    }

    /// The image and description of the post's page, when the post links to one.
    async fn page_meta(&self, page: Option<&str>) -> Result<PageMeta, Outcome> {
        let Some(page) = page else {
            return Ok(PageMeta::default());
        };
        match self.pages.fetch(page, &Validators::default()).await {
            Ok(FetchOutcome::Fetched {
                body, final_url, ..
            }) => Ok(page_meta(&String::from_utf8_lossy(&body), &final_url)),
            Ok(FetchOutcome::NotModified) => Ok(PageMeta::default()),
            Err(e) => Err(failed(None, e)),
        }
    }
}

fn failed(source: Option<String>, e: FetchError) -> Outcome {
    let why = e.to_string();
    match e {
        FetchError::Refused(_) | FetchError::InvalidUrl(_) | FetchError::TooLarge { .. } => {
            Outcome::GiveUp { source, why }
        }
        FetchError::Status { status, .. } if (400..500).contains(&status) && status != 429 => {
            Outcome::GiveUp { source, why }
        }
        _ => Outcome::Retry { source, why },
    }
}

/// The media type when it names a raster image; SVG is refused (it can carry scripts).
fn raster_type(content_type: Option<&str>) -> Option<String> {
    let essence = content_type?.split(';').next()?.trim().to_ascii_lowercase();
    (essence.starts_with("image/") && !essence.starts_with("image/svg") && essence.len() > 6)
        .then_some(essence)
}

/// The file extension for a stored image's type, for downloads.
pub fn extension(content_type: &str) -> &'static str {
    match content_type {
        "image/png" => "png",
        "image/jpeg" | "image/jpg" | "image/pjpeg" => "jpg",
        "image/gif" => "gif",
        "image/webp" => "webp",
        "image/avif" => "avif",
        _ => "img",
    }
}

/// Stores a page's description as the summary of a post whose summary was made from its
/// text (a post whose summary changed meanwhile keeps it).
fn record_description(
    conn: &mut AnyConnection,
    post_id: &PostId,
    description: &str,
) -> QueryResult<()> {
    diesel::update(
        posts::table
            .filter(posts::id.eq(post_id))
            .filter(posts::summary_source.eq(SummarySource::Text.as_str())),
    )
    .set((
        posts::summary.eq(description),
        posts::summary_source.eq(SummarySource::Page.as_str()),
    ))
    .execute(conn)?;
    Ok(())
}

/// What a post's page says about itself in its `<head>`.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct PageMeta {
    /// `og:image` (else `twitter:image`), absolute, http(s) only.
    pub image: Option<String>,
    /// `og:description`, else `twitter:description`, else the meta description: plain text
    /// ending on a whole sentence (or "…"), and none that is only a link or an address.
    pub description: Option<String>,
}

/// A page's image and description.
pub fn page_meta(html: &str, base: &Url) -> PageMeta {
    let tokenizer = Tokenizer::new(MetaSink::default(), TokenizerOpts::default());
    let input = BufferQueue::default();
    input.push_back(StrTendril::from(html));
    let _ = tokenizer.feed(&input);
    tokenizer.end();
    let found = tokenizer.sink.found.into_inner();
    let pick = |names: &[&str]| {
        found
            .iter()
            .filter(|(name, _)| names.contains(&name.as_str()))
            .filter_map(|(_, content)| base.join(content.trim()).ok())
            .find(|url| matches!(url.scheme(), "http" | "https"))
            .map(String::from)
    };
    let describe = |name: &str| {
        found
            .iter()
            .filter(|(n, _)| n == name)
            .map(|(_, content)| normalize::one_line(content))
            .find(|d| !d.is_empty() && !reading::is_link_or_address(d))
            .map(|d| sentences::cut_to_sentences(&d, normalize::SUMMARY_CHARS))
    };
    PageMeta {
        image: pick(&["og:image", "og:image:url", "og:image:secure_url"])
            .or_else(|| pick(&["twitter:image", "twitter:image:src"])),
        description: describe("og:description")
            .or_else(|| describe("twitter:description"))
            .or_else(|| describe("description")),
    }
}

/// A page's `og:image` (else `twitter:image`), absolute, http(s) only.
pub fn og_image(html: &str, base: &Url) -> Option<String> {
    page_meta(html, base).image
}

#[derive(Default)]
struct MetaSink {
    /// (property or name, lowercased; content)
    found: RefCell<Vec<(String, String)>>,
}

impl TokenSink for MetaSink {
    type Handle = ();

    fn process_token(&self, token: Token, _line: u64) -> TokenSinkResult<()> {
        let Token::TagToken(tag) = token else {
            return TokenSinkResult::Continue;
        };
        self.tag(&tag)
    }
}

impl MetaSink {
    fn tag(&self, tag: &Tag) -> TokenSinkResult<()> {
        if tag.kind != TagKind::StartTag {
            return TokenSinkResult::Continue;
        }
        match &*tag.name {
            // Their contents are not markup; a "<meta" in a script is not a meta tag.
            "script" => return TokenSinkResult::RawData(RawKind::ScriptData),
            "style" => return TokenSinkResult::RawData(RawKind::Rawtext),
            "meta" => {}
            _ => return TokenSinkResult::Continue,
        }
        let attr = |name: &str| {
            tag.attrs
                .iter()
                .find(|a| &*a.name.local == name)
                .map(|a| a.value.to_string())
        };
        let key = attr("property").or_else(|| attr("name"));
        if let (Some(key), Some(content)) = (key, attr("content")) {
            self.found
                .borrow_mut()
                .push((key.trim().to_ascii_lowercase(), content));
        }
        TokenSinkResult::Continue
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn og_image_is_found_and_made_absolute() {
        let base = Url::parse("https://blog.example/posts/1").unwrap();
        let html = r#"<html><head>
            <script>var s = '<meta property="og:image" content="/fake.png">';</script>
            <meta name="twitter:image" content="/twitter.png">
            <meta property="og:image" content="javascript:alert(1)">
            <meta property="OG:IMAGE" content=" /img/cover.jpg ">
            </head></html>"#;
        assert_eq!(
            og_image(html, &base).as_deref(),
            Some("https://blog.example/img/cover.jpg")
        );
        let only_twitter = r#"<meta name="twitter:image" content="t.png">"#;
        assert_eq!(
            og_image(only_twitter, &base).as_deref(),
            Some("https://blog.example/posts/t.png")
        );
        assert_eq!(og_image("<p>no image</p>", &base), None);
    }

    #[test]
    fn the_page_description_is_a_summary_or_nothing() {
        let base = Url::parse("https://blog.example/posts/1").unwrap();
        let page = |head: &str| page_meta(&format!("<html><head>{head}</head></html>"), &base);
        let meta = page(
            r#"<meta name="description" content="Meta one.">
               <meta name="twitter:description" content="Twitter one.">
               <meta property="og:description" content=" Bears wake up
                  hungry in spring &amp; eat sedges. ">"#,
        );
        assert_eq!(
            meta.description.as_deref(),
            Some("Bears wake up hungry in spring & eat sedges.")
        );
        assert_eq!(
            page(r#"<meta name="twitter:description" content="Twitter one."><meta name="description" content="Meta one.">"#)
                .description
                .as_deref(),
            Some("Twitter one.")
        );
        // A wallet address or a bare link is no description; the next one is taken.
        assert_eq!(
            page(r#"<meta property="og:description" content="bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq"><meta name="description" content="Episode 12.">"#)
                .description
                .as_deref(),
            Some("Episode 12.")
        );
        let long = format!(
            r#"<meta name="description" content="{}">"#,
            "A short sentence here. ".repeat(40)
        );
        let cut = page(&long).description.unwrap();
        assert!(
            cut.chars().count() <= normalize::SUMMARY_CHARS && cut.ends_with("here."),
            "{cut}"
        );
        assert_eq!(page("").description, None);
    }

    #[test]
    fn only_raster_images_are_kept() {
        assert_eq!(
            raster_type(Some("Image/PNG; charset=binary")).as_deref(),
            Some("image/png")
        );
        for refused in [
            Some("image/svg+xml"),
            Some("text/html"),
            Some("image/"),
            Some(""),
            None,
        ] {
            assert_eq!(raster_type(refused), None, "{refused:?}");
        }
    }
}

/// Post image fetches at a glance, for operators.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ImagesState {
    pub stored: i64,
    /// Not fetched yet, or failed and to be tried again.
    pub waiting: i64,
    /// Failed [`MAX_ATTEMPTS`] times: given up.
    pub given_up: i64,
}

pub fn state(conn: &mut AnyConnection) -> QueryResult<ImagesState> {
    let unstored = || post_images::table.filter(post_images::data.is_null());
    Ok(ImagesState {
        stored: post_images::table
            .filter(post_images::data.is_not_null())
            .count()
            .get_result(conn)?,
        waiting: unstored()
            .filter(post_images::attempts.lt(MAX_ATTEMPTS))
            .count()
            .get_result(conn)?,
        given_up: unstored()
            .filter(post_images::attempts.ge(MAX_ATTEMPTS))
            .count()
            .get_result(conn)?,
    })
}

/// One image fetch that failed: (post, image address, error, attempts).
pub type FailedImage = (String, Option<String>, Option<String>, i32);

/// Image fetches that failed, newest tries first.
pub fn failing(conn: &mut AnyConnection, limit: i64) -> QueryResult<Vec<FailedImage>> {
    post_images::table
        .filter(post_images::data.is_null())
        .filter(post_images::error.is_not_null())
        .order(post_images::next_attempt_at.desc())
        .limit(limit)
        .select((
            post_images::post_id,
            post_images::source_url,
            post_images::error,
            post_images::attempts,
        ))
        .load(conn)
}
