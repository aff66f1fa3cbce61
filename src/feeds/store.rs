//! The feeds and posts tables. Feed rows are shared by every account, so these
//! functions are feed-level (no account id): only the poller and `subscriptions` call them.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::{NewEntry, ParsedFeed, Validators};
use crate::db::dialect::feeds::raise_page_versions;
use crate::db::dialect::{self, feeds::FetchedRow, posts::NewPost};
use crate::db::schema::{feeds, posts};
use crate::db::{new_id, now, AnyConnection};

crate::text_id! {
    /// The id of a feed, one row shared by every account that follows it.
    pub struct FeedId;
}

crate::text_id! {
    /// The id of a post: one entry of one feed, stored once for every account.
    pub struct PostId;
}

#[derive(Debug, Clone, Queryable, QueryableByName, Selectable)]
#[diesel(table_name = feeds)]
pub struct Feed {
    pub id: FeedId,
    pub url: String,
    pub title: Option<String>,
    pub site_url: Option<String>,
    pub etag: Option<String>,
    pub last_modified: Option<String>,
    pub last_checked_at: Option<NaiveDateTime>,
    pub last_success_at: Option<NaiveDateTime>,
    pub next_check_at: NaiveDateTime,
    pub error_count: i32,
    pub last_error: Option<String>,
    pub lease_until: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
    /// The first failure of the current run of errors; cleared by a success.
    pub erroring_since: Option<NaiveDateTime>,
    /// The HTTP status of the last answer (none when no answer came).
    pub last_status: Option<i32>,
    /// When the feed answered 410 Gone; such a feed is never polled again.
    pub gone_at: Option<NaiveDateTime>,
    /// A permanent redirect being watched before the stored URL follows it.
    pub redirect_to: Option<String>,
    pub redirect_first_seen_at: Option<NaiveDateTime>,
    pub redirect_count: i32,
    pub lease_token: Option<String>,
    /// The WebSub hub and topic the feed named at its last fetch.
    pub websub_hub: Option<String>,
    pub websub_topic: Option<String>,
    /// Our WebSub subscription at that hub: see `crate::websub::store`.
    pub websub_state: String,
    pub websub_lease_until: Option<NaiveDateTime>,
    pub websub_error: Option<String>,
    /// The language the feed declares (RSS `<language>`, Atom `xml:lang`), in lowercase.
    pub language: Option<String>,
    /// The entries of the last fetched document, so the next fetch reads only new ones:
    /// see [`crate::feeds::seen`].
    pub seen_keys: String,
    /// When an operator stopped polling it for every account, and the note its
    /// subscribers see; a stopped feed is never claimed or checked on request.
    pub stopped_at: Option<NaiveDateTime>,
    pub stop_note: Option<String>,
}

impl Feed {
    pub fn validators(&self) -> Validators {
        Validators {
            etag: self.etag.clone(),
            last_modified: self.last_modified.clone(),
        }
    }
}

#[derive(Debug, Clone, Queryable, QueryableByName, Selectable)]
#[diesel(table_name = posts)]
pub struct Post {
    pub id: PostId,
    pub feed_id: FeedId,
    pub entry_key: String,
    pub title: String,
    pub url: Option<String>,
    pub summary: String,
    pub content_text: String,
    pub author: Option<String>,
    pub published_at: Option<NaiveDateTime>,
    pub categories: String,
    pub image_url: Option<String>,
    pub first_seen_at: NaiveDateTime,
    /// The first strong sentence of the post, or empty.
    pub lead: String,
    /// The post's section headings, a JSON list.
    pub headings: String,
    /// The title is a label made from the text: captions use the text instead.
    pub title_from_text: bool,
    /// `feed`, `text` or `page` (see `feeds::reading::SummarySource`).
    pub summary_source: String,
    /// The post's angles as JSON (`feeds::Angles`); `None` for posts stored before angles
    /// were read, whose angles [`Post::angles`] works out from the stored text.
    pub angles: Option<String>,
}

impl Post {
    pub fn category_list(&self) -> Vec<String> {
        serde_json::from_str(&self.categories).unwrap_or_default()
    }

    pub fn heading_list(&self) -> Vec<String> {
        serde_json::from_str(&self.headings).unwrap_or_default()
    }

    /// The stored angles, or for a post stored before angles were read, the same angles
    /// worked out now from its stored text and lead (not written back: reading them again
    /// is cheap next to a poll, and a write would lock the posts every caption reads).
    pub fn angles(&self) -> super::Angles {
        self.angles
            .as_deref()
            .and_then(super::Angles::from_json)
            .unwrap_or_else(|| {
                super::angles::of(
                    super::reading::authors_title(&self.title, self.title_from_text),
                    &self.content_text,
                    &self.lead,
                )
            })
    }
}

/// The feed with this URL, created (due at once) if no account had it yet.
pub fn find_or_create_feed(conn: &mut AnyConnection, url: &str) -> QueryResult<Feed> {
    let created = now();
    crate::insert_or_ignore!(
        conn,
        feeds::table,
        (
            feeds::id.eq(new_id()),
            feeds::url.eq(url),
            feeds::next_check_at.eq(created),
            feeds::error_count.eq(0),
            feeds::created_at.eq(created),
        )
    )?;
    feeds::table
        .filter(feeds::url.eq(url))
        .select(Feed::as_select())
        .first(conn)
}

pub fn feed_by_id(conn: &mut AnyConnection, feed_id: &FeedId) -> QueryResult<Option<Feed>> {
    feeds::table
        .find(feed_id)
        .select(Feed::as_select())
        .first(conn)
        .optional()
}

/// Makes a feed due now (a new subscriber wants it fetched at once).
pub fn make_feed_due_now(conn: &mut AnyConnection, feed_id: &FeedId) -> QueryResult<()> {
    diesel::update(feeds::table.find(feed_id))
        .set(feeds::next_check_at.eq(now()))
        .execute(conn)?;
    raise_page_versions(conn, &[feed_id])
}

/// Asks for a check now, on a person's request. Refused, with how long to wait, when the
/// feed was checked less than `floor` ago or is stopped (410 Gone): a button must not
/// become a way to hammer someone else's server.
pub fn request_feed_check(
    conn: &mut AnyConnection,
    feed: &Feed,
    floor: std::time::Duration,
) -> QueryResult<Result<(), std::time::Duration>> {
    let at = now();
    let floor_ago = at - chrono::Duration::from_std(floor).unwrap_or(chrono::Duration::minutes(1));
    if feed.gone_at.is_some() || feed.stopped_at.is_some() {
        return Ok(Err(std::time::Duration::MAX));
    }
    if let Some(checked) = feed.last_checked_at.filter(|c| *c > floor_ago) {
        let wait = (checked - floor_ago).to_std().unwrap_or(floor);
        return Ok(Err(wait));
    }
    make_feed_due_now(conn, &feed.id)?;
    Ok(Ok(()))
}

/// Stores a successful fetch: new posts (existing entry keys are left alone) and the
/// feed's metadata and validators. Returns how many posts were new.
pub fn record_feed_fetched(
    conn: &mut AnyConnection,
    feed_id: &FeedId,
    parsed: &ParsedFeed,
    validators: &Validators,
    next_check_at: NaiveDateTime,
    status: u16,
) -> QueryResult<usize> {
    let one = FetchedFeed {
        feed_id,
        parsed,
        validators,
        next_check_at,
        status,
    };
    Ok(record_feeds_fetched(conn, &[one])?.iter().sum())
}

/// One successful fetch, for [`record_feeds_fetched`].
pub struct FetchedFeed<'a> {
    pub feed_id: &'a FeedId,
    pub parsed: &'a ParsedFeed,
    pub validators: &'a Validators,
    pub next_check_at: NaiveDateTime,
    pub status: u16,
}

/// [`record_feed_fetched`] for a batch of feeds (each at most once): a few statements
/// whatever their number (one round trip each on PostgreSQL). Returns how
/// many posts were new for each feed, in the order given.
pub fn record_feeds_fetched(
    conn: &mut AnyConnection,
    fetched: &[FetchedFeed<'_>],
) -> QueryResult<Vec<usize>> {
    if fetched.is_empty() {
        return Ok(Vec::new());
    }
    let entries: Vec<(&str, &[NewEntry])> = fetched
        .iter()
        .map(|f| (f.feed_id.as_str(), f.parsed.entries.as_slice()))
        .collect();
    let new_posts = insert_posts_unraised(conn, &entries)?;
    let rows: Vec<FetchedRow> = fetched
        .iter()
        .map(|f| FetchedRow {
            id: f.feed_id,
            title: f.parsed.title.as_deref(),
            site_url: f.parsed.site_url.as_deref(),
            language: f.parsed.language.as_deref(),
            etag: f.validators.etag.as_deref(),
            last_modified: f.validators.last_modified.as_deref(),
            next_check_at: f.next_check_at,
            status: i32::from(f.status),
            seen_keys: f.parsed.seen.encode(),
        })
        .collect();
    dialect::feeds::record_fetched(conn, &rows, now())?;
    // Every fetched feed's row changed (its last check at least), its posts with it.
    let ids: Vec<&str> = fetched.iter().map(|f| f.feed_id.as_str()).collect();
    raise_page_versions(conn, &ids)?;
    Ok(new_posts)
}

/// Stores the entries not stored yet (by entry key); returns how many were new.
/// Concurrent writers of one feed (a poll and a WebSub push) cannot duplicate a post:
/// the insert ignores keys stored meanwhile.
pub fn insert_new_posts(
    conn: &mut AnyConnection,
    feed_id: &FeedId,
    entries: &[NewEntry],
) -> QueryResult<usize> {
    Ok(insert_posts_of_feeds(conn, &[(feed_id.as_str(), entries)])?
        .iter()
        .sum())
}

/// [`insert_new_posts`] for many feeds (each at most once), in the order given: on
/// PostgreSQL one lookup and one insert for them all.
pub fn insert_posts_of_feeds(
    conn: &mut AnyConnection,
    feeds: &[(&str, &[NewEntry])],
) -> QueryResult<Vec<usize>> {
    let new = insert_posts_unraised(conn, feeds)?;
    let with_new: Vec<&str> = feeds
        .iter()
        .zip(&new)
        .filter(|(_, n)| **n > 0)
        .map(|((id, _), _)| *id)
        .collect();
    raise_page_versions(conn, &with_new)?;
    Ok(new)
}

/// [`insert_posts_of_feeds`] without raising the pages version: for a caller that raises
/// it for these feeds anyway.
fn insert_posts_unraised(
    conn: &mut AnyConnection,
    feeds: &[(&str, &[NewEntry])],
) -> QueryResult<Vec<usize>> {
    let seen = now();
    // Most fetches bring back entries already stored: asking for their keys first keeps
    // their whole text from being sent to the database again only to be ignored.
    let known = known_entry_keys(conn, feeds)?;
    let rows: Vec<NewPost> = feeds
        .iter()
        .flat_map(|(feed_id, entries)| {
            entries
                .iter()
                .enumerate()
                .filter(|(_, entry)| !known.contains(&(*feed_id, entry.entry_key.as_str())))
                // Entries seen in one fetch keep the feed's order: the first is the newest
                // seen.
                .map(|(position, entry)| {
                    NewPost::new(
                        feed_id,
                        entry,
                        seen - chrono::Duration::microseconds(position as i64),
                    )
                })
        })
        .collect();
    let mut per_feed: std::collections::HashMap<String, usize> = Default::default();
    for feed_id in dialect::posts::insert_posts(conn, &rows)? {
        *per_feed.entry(feed_id).or_default() += 1;
    }
    Ok(feeds
        .iter()
        .map(|(id, _)| per_feed.get(*id).copied().unwrap_or(0))
        .collect())
}

/// The (feed, entry key) pairs among these entries that are stored already.
fn known_entry_keys<'a>(
    conn: &mut AnyConnection,
    feeds: &[(&'a str, &'a [NewEntry])],
) -> QueryResult<std::collections::HashSet<(&'a str, &'a str)>> {
    let pairs = feeds.iter().flat_map(|(feed_id, entries)| {
        entries
            .iter()
            .map(move |entry| (*feed_id, entry.entry_key.as_str()))
    });
    let keys: Vec<(&str, Vec<&str>)> = feeds
        .iter()
        .map(|(feed_id, entries)| {
            let keys = entries.iter().map(|e| e.entry_key.as_str()).collect();
            (*feed_id, keys)
        })
        .collect();
    let stored: std::collections::HashSet<(String, String)> =
        dialect::posts::stored_entry_keys(conn, &keys)?
            .into_iter()
            .collect();
    Ok(pairs
        .filter(|(f, k)| stored.contains(&(f.to_string(), k.to_string())))
        .collect())
}

impl<'a> NewPost<'a> {
    fn new(feed_id: &'a str, entry: &'a NewEntry, first_seen_at: NaiveDateTime) -> Self {
        NewPost {
            id: new_id(),
            feed_id,
            entry_key: &entry.entry_key,
            title: &entry.title,
            url: entry.url.as_deref(),
            summary: &entry.summary,
            content_text: &entry.content_text,
            author: entry.author.as_deref(),
            published_at: entry.published.map(|d| d.naive_utc()),
            categories: serde_json::to_string(&entry.categories).unwrap_or_else(|_| "[]".into()),
            image_url: entry.image_url.as_deref(),
            first_seen_at,
            lead: &entry.lead,
            headings: serde_json::to_string(&entry.headings).unwrap_or_else(|_| "[]".into()),
            title_from_text: entry.title_from_text,
            summary_source: entry.summary_source.as_str(),
            angles: entry.angles.to_json(),
        }
    }
}

/// A 304: nothing changed but the check times (and an error state, if any, is over). The
/// claim's lease ends in the same write: the caller checked in this transaction that it
/// still holds it.
pub fn record_feed_not_modified(
    conn: &mut AnyConnection,
    feed_id: &FeedId,
    next_check_at: NaiveDateTime,
) -> QueryResult<()> {
    dialect::feeds::record_not_modified(conn, feed_id, next_check_at, now())?;
    raise_page_versions(conn, &[feed_id])
}

/// [`record_feed_not_modified`] for a batch of feeds, each with its next check time, in one
/// statement for the batch: on PostgreSQL each statement costs a round trip, on SQLite a
/// reset and a step of its own.
pub fn record_feeds_not_modified(
    conn: &mut AnyConnection,
    feeds_next: &[(FeedId, NaiveDateTime)],
) -> QueryResult<()> {
    let rows: Vec<(&str, NaiveDateTime)> = feeds_next
        .iter()
        .map(|(id, next)| (id.as_str(), *next))
        .collect();
    dialect::feeds::record_many_not_modified(conn, &rows, now())?;
    let ids: Vec<&str> = rows.iter().map(|(id, _)| *id).collect();
    raise_page_versions(conn, &ids)
}

/// A failed fetch or parse: the posts stay, the error is shown on the feed's page.
/// `since` is when this run of errors began (now, for its first error).
pub fn record_feed_error(
    conn: &mut AnyConnection,
    feed_id: &FeedId,
    failure: &FeedFailure<'_>,
    next_check_at: NaiveDateTime,
) -> QueryResult<()> {
    diesel::update(feeds::table.find(feed_id))
        .set((
            feeds::last_checked_at.eq(now()),
            feeds::next_check_at.eq(next_check_at),
            feeds::error_count.eq(feeds::error_count + 1),
            feeds::last_error.eq(failure.message),
            feeds::erroring_since.eq(failure.since),
            feeds::last_status.eq(failure.status.map(i32::from)),
        ))
        .execute(conn)?;
    raise_page_versions(conn, &[feed_id])
}

/// What went wrong with one check, for [`record_feed_error`].
pub struct FeedFailure<'a> {
    pub message: &'a str,
    /// The HTTP status, when the server answered.
    pub status: Option<u16>,
    pub since: NaiveDateTime,
}

/// A 410 Gone: the feed is stopped for good and its page says so. The posts stay.
pub fn record_feed_gone(conn: &mut AnyConnection, feed_id: &FeedId) -> QueryResult<()> {
    let at = now();
    diesel::update(feeds::table.find(feed_id))
        .set((
            feeds::last_checked_at.eq(at),
            feeds::gone_at.eq(at),
            feeds::last_status.eq(Some(410)),
            feeds::last_error.eq("HTTP 410 Gone: the site says this feed was removed for good"),
        ))
        .execute(conn)?;
    // Its `gone_at` raises the pages version in the database (a trigger).
    Ok(())
}

/// Remembers a permanent redirect being watched (see `poller::redirects`).
pub fn record_redirect_seen(
    conn: &mut AnyConnection,
    feed_id: &FeedId,
    to: Option<&str>,
    first_seen_at: Option<NaiveDateTime>,
    count: i32,
) -> QueryResult<()> {
    diesel::update(feeds::table.find(feed_id))
        .set((
            feeds::redirect_to.eq(to),
            feeds::redirect_first_seen_at.eq(first_seen_at),
            feeds::redirect_count.eq(count),
        ))
        .execute(conn)?;
    Ok(())
}

/// Moves a feed to the URL it permanently redirects to. Returns false, changing nothing
/// but the watch, when another feed row already has that URL: merging two feeds'
/// subscriptions and posts is not worth the risk of duplicate captions, and the old URL
/// keeps working through the redirect.
pub fn move_feed_url(conn: &mut AnyConnection, feed_id: &FeedId, to: &str) -> QueryResult<bool> {
    record_redirect_seen(conn, feed_id, None, None, 0)?;
    let taken = feeds::table
        .filter(feeds::url.eq(to))
        .filter(feeds::id.ne(feed_id))
        .count()
        .get_result::<i64>(conn)?;
    if taken > 0 {
        return Ok(false);
    }
    // A savepoint: a row inserted with that URL since the check above must not abort the
    // whole recording transaction (PostgreSQL would) when the update hits the UNIQUE index.
    let moved = conn.transaction(|conn| {
        diesel::update(feeds::table.find(feed_id))
            .set(feeds::url.eq(to))
            .execute(conn)
    });
    match moved {
        Ok(n) => Ok(n == 1),
        Err(diesel::result::Error::DatabaseError(
            diesel::result::DatabaseErrorKind::UniqueViolation,
            _,
        )) => Ok(false),
        Err(e) => Err(e),
    }
}

/// The newest posts of a feed by when they were first seen (at most `limit`).
pub fn latest_feed_posts(
    conn: &mut AnyConnection,
    feed_id: &FeedId,
    limit: i64,
) -> QueryResult<Vec<Post>> {
    posts::table
        .filter(posts::feed_id.eq(feed_id))
        .order(posts::first_seen_at.desc())
        .limit(limit)
        .select(Post::as_select())
        .load(conn)
}

/// What a backfill chooses a feed's newest posts by, without their texts.
#[derive(Debug, Clone, Queryable, QueryableByName, Selectable)]
#[diesel(table_name = posts)]
pub struct PostDates {
    pub id: PostId,
    pub feed_id: FeedId,
    pub published_at: Option<NaiveDateTime>,
    pub first_seen_at: NaiveDateTime,
}

/// The dates of each of these feeds' newest `limit` posts by first sight, by feed id: one
/// statement on PostgreSQL, one per feed on SQLite. Only the dates: a backfill reads the
/// texts of the few posts it chooses (on a first poll, reading all 21 posts of each feed
/// back whole was 13% of the single SQLite writer's time).
pub fn latest_post_dates_of_feeds(
    conn: &mut AnyConnection,
    feed_ids: &[&str],
    limit: i64,
) -> QueryResult<std::collections::HashMap<FeedId, Vec<PostDates>>> {
    let mut by_feed: std::collections::HashMap<FeedId, Vec<PostDates>> = Default::default();
    if feed_ids.is_empty() {
        return Ok(by_feed);
    }
    let rows =
        match crate::db::dialect::posts::latest_post_dates::<PostDates>(conn, feed_ids, limit)? {
            Some(rows) => rows,
            None => {
                let mut rows = Vec::new();
                // On the backend's own connection, so diesel builds the statement once and
                // keeps it for all the feeds (through `AnyConnection` it built and prepared it
                // for each). SQLite, built with STAT4, still plans it again for each feed id.
                for feed_id in feed_ids {
                    rows.extend(crate::on_backend!(&mut *conn, |c| posts::table
                        .filter(posts::feed_id.eq(feed_id))
                        .order(posts::first_seen_at.desc())
                        .limit(limit)
                        .select(PostDates::as_select())
                        .load(c))?);
                }
                rows
            }
        };
    for row in rows {
        by_feed.entry(row.feed_id.clone()).or_default().push(row);
    }
    Ok(by_feed)
}

/// The posts with these ids, in no particular order.
pub fn posts_with_ids(conn: &mut AnyConnection, ids: &[&PostId]) -> QueryResult<Vec<Post>> {
    let mut found = Vec::with_capacity(ids.len());
    // Under SQLite's limit of bound values, whatever the number of ids.
    for chunk in ids.chunks(crate::db::sqlite_batch::MAX_VARIABLES) {
        found.extend(
            posts::table
                .filter(posts::id.eq_any(chunk))
                .select(Post::as_select())
                .load::<Post>(conn)?,
        );
    }
    Ok(found)
}

/// Posts of a feed first seen after `after`, oldest first.
pub fn feed_posts_seen_after(
    conn: &mut AnyConnection,
    feed_id: &FeedId,
    after: NaiveDateTime,
    limit: i64,
) -> QueryResult<Vec<Post>> {
    posts::table
        .filter(posts::feed_id.eq(feed_id))
        .filter(posts::first_seen_at.gt(after))
        .order(posts::first_seen_at.asc())
        .limit(limit)
        .select(Post::as_select())
        .load(conn)
}

pub fn count_feed_posts(conn: &mut AnyConnection, feed_id: &FeedId) -> QueryResult<i64> {
    posts::table
        .filter(posts::feed_id.eq(feed_id))
        .count()
        .get_result(conn)
}

/// Stops polling the feed at `url` for every account, with a note its subscribers see.
/// Returns its id, or `None` when no feed has that address.
pub fn stop_feed(
    conn: &mut AnyConnection,
    url: &str,
    note: &str,
    at: NaiveDateTime,
) -> QueryResult<Option<FeedId>> {
    let id: Option<FeedId> = feeds::table
        .filter(feeds::url.eq(url))
        .select(feeds::id)
        .first(conn)
        .optional()?;
    if let Some(id) = &id {
        stop_feeds(conn, std::slice::from_ref(id), note, at)?;
    }
    Ok(id)
}

/// Stops polling every feed whose address is on `host` (exactly that host name, not its
/// subdomains); returns their addresses.
pub fn stop_host(
    conn: &mut AnyConnection,
    host: &str,
    note: &str,
    at: NaiveDateTime,
) -> QueryResult<Vec<String>> {
    let host = host.trim().to_ascii_lowercase();
    let all: Vec<(FeedId, String)> = feeds::table
        .filter(feeds::stopped_at.is_null())
        .select((feeds::id, feeds::url))
        .load(conn)?;
    let on_host: Vec<(FeedId, String)> = all
        .into_iter()
        .filter(|(_, url)| {
            url::Url::parse(url)
                .ok()
                .and_then(|u| {
                    u.host_str()
                        .map(|h| h.trim_end_matches('.').to_ascii_lowercase())
                })
                .is_some_and(|h| h == host)
        })
        .collect();
    let ids: Vec<FeedId> = on_host.iter().map(|(id, _)| id.clone()).collect();
    stop_feeds(conn, &ids, note, at)?;
    Ok(on_host.into_iter().map(|(_, url)| url).collect())
}

fn stop_feeds(
    conn: &mut AnyConnection,
    ids: &[FeedId],
    note: &str,
    at: NaiveDateTime,
) -> QueryResult<()> {
    diesel::update(feeds::table.filter(feeds::id.eq_any(ids)))
        .set((
            feeds::stopped_at.eq(Some(at)),
            feeds::stop_note.eq(Some(note)),
        ))
        .execute(conn)?;
    Ok(())
}
