//! The feeds and posts tables. Feed rows are shared by every account, so these
//! functions are feed-level (no account id): only the poller and `subscriptions` call them.

use chrono::NaiveDateTime;
use diesel::pg::Pg;
use diesel::prelude::*;
use diesel::query_builder::AstPass;
use diesel::sql_types::{Array, Bool, Integer, Nullable, Text, Timestamp};
use diesel::sqlite::Sqlite;

use super::{NewEntry, ParsedFeed, Validators};
use crate::db::prepared::{BindList, PgStatement, Prepared};
use crate::db::schema::{feeds, posts};
use crate::db::sqlite_batch::{insert_or_ignore_returning, SqliteRow};
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
    Ok(())
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

/// [`record_feed_fetched`] for a batch of feeds (each at most once): on PostgreSQL three
/// statements whatever their number, as each statement costs a round trip. Returns how
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
    let new_posts = insert_posts_of_feeds(conn, &entries)?;
    let checked = now();
    match conn {
        AnyConnection::Postgresql(pg) => {
            Prepared(FetchedOnPostgres::new(fetched, checked)).execute(pg)?;
        }
        AnyConnection::Sqlite(_) => {
            for f in fetched {
                diesel::update(feeds::table.find(f.feed_id))
                    .set((
                        feeds::title.eq(f.parsed.title.as_deref()),
                        feeds::site_url.eq(f.parsed.site_url.as_deref()),
                        feeds::language.eq(f.parsed.language.as_deref()),
                        feeds::etag.eq(f.validators.etag.as_deref()),
                        feeds::last_modified.eq(f.validators.last_modified.as_deref()),
                        feeds::last_checked_at.eq(checked),
                        feeds::last_success_at.eq(checked),
                        feeds::next_check_at.eq(f.next_check_at),
                        feeds::error_count.eq(0),
                        feeds::last_error.eq(None::<String>),
                        feeds::erroring_since.eq(None::<NaiveDateTime>),
                        feeds::last_status.eq(Some(i32::from(f.status))),
                        feeds::seen_keys.eq(f.parsed.seen.encode()),
                    ))
                    .execute(conn)?;
            }
        }
    }
    Ok(new_posts)
}

/// The feed rows of [`record_feeds_fetched`] on PostgreSQL, one column per array.
struct FetchedOnPostgres {
    checked: NaiveDateTime,
    ids: Vec<String>,
    titles: Vec<Option<String>>,
    site_urls: Vec<Option<String>>,
    languages: Vec<Option<String>>,
    etags: Vec<Option<String>>,
    last_modified: Vec<Option<String>>,
    next: Vec<NaiveDateTime>,
    statuses: Vec<i32>,
    seen_keys: Vec<String>,
}

impl FetchedOnPostgres {
    fn new(fetched: &[FetchedFeed<'_>], checked: NaiveDateTime) -> Self {
        FetchedOnPostgres {
            checked,
            ids: fetched.iter().map(|f| f.feed_id.0.clone()).collect(),
            titles: fetched.iter().map(|f| f.parsed.title.clone()).collect(),
            site_urls: fetched.iter().map(|f| f.parsed.site_url.clone()).collect(),
            languages: fetched.iter().map(|f| f.parsed.language.clone()).collect(),
            etags: fetched.iter().map(|f| f.validators.etag.clone()).collect(),
            last_modified: fetched
                .iter()
                .map(|f| f.validators.last_modified.clone())
                .collect(),
            next: fetched.iter().map(|f| f.next_check_at).collect(),
            statuses: fetched.iter().map(|f| i32::from(f.status)).collect(),
            seen_keys: fetched.iter().map(|f| f.parsed.seen.encode()).collect(),
        }
    }
}

impl PgStatement for FetchedOnPostgres {
    fn walk<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        out.push_sql("UPDATE feeds SET last_checked_at = ");
        out.push_bind_param::<Timestamp, _>(&self.checked)?;
        out.push_sql(", last_success_at = ");
        out.push_bind_param::<Timestamp, _>(&self.checked)?;
        out.push_sql(
            ", title = u.title, site_url = u.site_url, language = u.language, etag = u.etag, \
             last_modified = u.last_modified, next_check_at = u.next, error_count = 0, \
             last_error = NULL, erroring_since = NULL, last_status = u.status, \
             seen_keys = u.seen_keys \
             FROM unnest(",
        );
        BindList::new(&mut out)
            .bind::<Array<Text>, _>(&self.ids)?
            .bind::<Array<Nullable<Text>>, _>(&self.titles)?
            .bind::<Array<Nullable<Text>>, _>(&self.site_urls)?
            .bind::<Array<Nullable<Text>>, _>(&self.languages)?
            .bind::<Array<Nullable<Text>>, _>(&self.etags)?
            .bind::<Array<Nullable<Text>>, _>(&self.last_modified)?
            .bind::<Array<Timestamp>, _>(&self.next)?
            .bind::<Array<Integer>, _>(&self.statuses)?
            .bind::<Array<Text>, _>(&self.seen_keys)?;
        out.push_sql(
            ") AS u(id, title, site_url, language, etag, last_modified, next, status, seen_keys) \
             WHERE feeds.id = u.id",
        );
        Ok(())
    }
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
    let seen = now();
    // Most fetches bring back entries already stored: asking for their keys first keeps
    // their whole text from being sent to the database again only to be ignored.
    let known = known_entry_keys(conn, feeds)?;
    let rows: Vec<Vec<NewPost>> = feeds
        .iter()
        .map(|(feed_id, entries)| {
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
                .collect()
        })
        .collect();
    let inserted: Vec<OfFeed> = match conn {
        AnyConnection::Postgresql(pg) => {
            let columns = PostsOnPostgres::new(rows.iter().flatten());
            if columns.ids.is_empty() {
                return Ok(vec![0; feeds.len()]);
            }
            Prepared(columns).load(pg)?
        }
        AnyConnection::Sqlite(sqlite) => {
            let rows: Vec<NewPost> = rows.into_iter().flatten().collect();
            insert_or_ignore_returning(sqlite, &rows, "feed_id")?
        }
    };
    let mut per_feed: std::collections::HashMap<String, usize> = Default::default();
    for row in inserted {
        *per_feed.entry(row.feed_id).or_default() += 1;
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
    let mut stored: Vec<(String, String)> = Vec::new();
    match conn {
        AnyConnection::Postgresql(pg) => {
            let (feed_ids, keys) = pairs
                .clone()
                .map(|(f, k)| (f.to_owned(), k.to_owned()))
                .unzip();
            if !feeds.iter().all(|(_, entries)| entries.is_empty()) {
                let rows: Vec<StoredKey> =
                    Prepared(KnownKeysOnPostgres { feed_ids, keys }).load(pg)?;
                stored.extend(rows.into_iter().map(|r| (r.feed_id, r.entry_key)));
            }
        }
        AnyConnection::Sqlite(_) => {
            for (feed_id, entries) in feeds {
                let keys: Vec<&str> = entries.iter().map(|e| e.entry_key.as_str()).collect();
                for chunk in keys.chunks(KEY_CHUNK) {
                    let found: Vec<String> = posts::table
                        .filter(posts::feed_id.eq(feed_id))
                        .filter(posts::entry_key.eq_any(chunk))
                        .select(posts::entry_key)
                        .load(conn)?;
                    stored.extend(found.into_iter().map(|k| (feed_id.to_string(), k)));
                }
            }
        }
    }
    let stored: std::collections::HashSet<(String, String)> = stored.into_iter().collect();
    Ok(pairs
        .filter(|(f, k)| stored.contains(&(f.to_string(), k.to_string())))
        .collect())
}

#[derive(QueryableByName)]
struct StoredKey {
    #[diesel(sql_type = Text)]
    feed_id: String,
    #[diesel(sql_type = Text)]
    entry_key: String,
}

#[derive(QueryableByName)]
struct OfFeed {
    #[diesel(sql_type = Text)]
    feed_id: String,
}

/// The known-keys lookup on PostgreSQL: one pair of arrays, one statement.
struct KnownKeysOnPostgres {
    feed_ids: Vec<String>,
    keys: Vec<String>,
}

impl PgStatement for KnownKeysOnPostgres {
    fn walk<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        out.push_sql("SELECT p.feed_id, p.entry_key FROM unnest(");
        out.push_bind_param::<Array<Text>, _>(&self.feed_ids)?;
        out.push_sql(", ");
        out.push_bind_param::<Array<Text>, _>(&self.keys)?;
        // One index probe per key, whatever the size of the posts table: as a plain join,
        // PostgreSQL would rather hash the whole table once the batch holds many keys.
        out.push_sql(
            ") AS k(feed_id, entry_key) \
             CROSS JOIN LATERAL (SELECT p.feed_id, p.entry_key FROM posts p \
               WHERE p.feed_id = k.feed_id AND p.entry_key = k.entry_key OFFSET 0) p",
        );
        Ok(())
    }
}

/// New posts of many feeds as one insert on PostgreSQL, one column per array.
struct PostsOnPostgres {
    ids: Vec<String>,
    feed_ids: Vec<String>,
    entry_keys: Vec<String>,
    titles: Vec<String>,
    urls: Vec<Option<String>>,
    summaries: Vec<String>,
    contents: Vec<String>,
    authors: Vec<Option<String>>,
    published: Vec<Option<NaiveDateTime>>,
    categories: Vec<String>,
    image_urls: Vec<Option<String>>,
    first_seen: Vec<NaiveDateTime>,
    leads: Vec<String>,
    headings: Vec<String>,
    titles_from_text: Vec<bool>,
    summary_sources: Vec<String>,
    angles: Vec<String>,
}

impl PostsOnPostgres {
    fn new<'p, 'a: 'p>(rows: impl Iterator<Item = &'p NewPost<'a>> + Clone) -> Self {
        PostsOnPostgres {
            ids: rows.clone().map(|r| r.id.clone()).collect(),
            feed_ids: rows.clone().map(|r| r.feed_id.to_owned()).collect(),
            entry_keys: rows.clone().map(|r| r.entry_key.to_owned()).collect(),
            titles: rows.clone().map(|r| r.title.to_owned()).collect(),
            urls: rows.clone().map(|r| r.url.map(str::to_owned)).collect(),
            summaries: rows.clone().map(|r| r.summary.to_owned()).collect(),
            contents: rows.clone().map(|r| r.content_text.to_owned()).collect(),
            authors: rows.clone().map(|r| r.author.map(str::to_owned)).collect(),
            published: rows.clone().map(|r| r.published_at).collect(),
            categories: rows.clone().map(|r| r.categories.clone()).collect(),
            image_urls: rows
                .clone()
                .map(|r| r.image_url.map(str::to_owned))
                .collect(),
            first_seen: rows.clone().map(|r| r.first_seen_at).collect(),
            leads: rows.clone().map(|r| r.lead.to_owned()).collect(),
            headings: rows.clone().map(|r| r.headings.clone()).collect(),
            titles_from_text: rows.clone().map(|r| r.title_from_text).collect(),
            summary_sources: rows.clone().map(|r| r.summary_source.to_owned()).collect(),
            angles: rows.map(|r| r.angles.clone()).collect(),
        }
    }
}

impl PgStatement for PostsOnPostgres {
    fn walk<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        out.push_sql(
            "INSERT INTO posts (id, feed_id, entry_key, title, url, summary, content_text, \
             author, published_at, categories, image_url, first_seen_at, lead, headings, \
             title_from_text, summary_source, angles) \
             SELECT * FROM unnest(",
        );
        BindList::new(&mut out)
            .bind::<Array<Text>, _>(&self.ids)?
            .bind::<Array<Text>, _>(&self.feed_ids)?
            .bind::<Array<Text>, _>(&self.entry_keys)?
            .bind::<Array<Text>, _>(&self.titles)?
            .bind::<Array<Nullable<Text>>, _>(&self.urls)?
            .bind::<Array<Text>, _>(&self.summaries)?
            .bind::<Array<Text>, _>(&self.contents)?
            .bind::<Array<Nullable<Text>>, _>(&self.authors)?
            .bind::<Array<Nullable<Timestamp>>, _>(&self.published)?
            .bind::<Array<Text>, _>(&self.categories)?
            .bind::<Array<Nullable<Text>>, _>(&self.image_urls)?
            .bind::<Array<Timestamp>, _>(&self.first_seen)?
            .bind::<Array<Text>, _>(&self.leads)?
            .bind::<Array<Text>, _>(&self.headings)?
            .bind::<Array<Bool>, _>(&self.titles_from_text)?
            .bind::<Array<Text>, _>(&self.summary_sources)?
            .bind::<Array<Text>, _>(&self.angles)?;
        out.push_sql(") ON CONFLICT DO NOTHING RETURNING feed_id");
        Ok(())
    }
}

/// Entry keys per lookup, for the same reason.
const KEY_CHUNK: usize = 500;

#[derive(Insertable)]
#[diesel(table_name = posts)]
struct NewPost<'a> {
    id: String,
    feed_id: &'a str,
    entry_key: &'a str,
    title: &'a str,
    url: Option<&'a str>,
    summary: &'a str,
    content_text: &'a str,
    author: Option<&'a str>,
    published_at: Option<NaiveDateTime>,
    categories: String,
    image_url: Option<&'a str>,
    first_seen_at: NaiveDateTime,
    lead: &'a str,
    headings: String,
    title_from_text: bool,
    summary_source: &'static str,
    angles: String,
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

impl SqliteRow for NewPost<'_> {
    const INTO: &'static str = "posts (id, feed_id, entry_key, title, url, summary, \
         content_text, author, published_at, categories, image_url, first_seen_at, lead, \
         headings, title_from_text, summary_source, angles)";
    const COLUMNS: usize = 17;

    fn bind<'b>(&'b self, out: &mut AstPass<'_, 'b, Sqlite>) -> QueryResult<()> {
        BindList::new(out)
            .bind::<Text, _>(&self.id)?
            .bind::<Text, _>(self.feed_id)?
            .bind::<Text, _>(self.entry_key)?
            .bind::<Text, _>(self.title)?
            .bind::<Nullable<Text>, _>(&self.url)?
            .bind::<Text, _>(self.summary)?
            .bind::<Text, _>(self.content_text)?
            .bind::<Nullable<Text>, _>(&self.author)?
            .bind::<Nullable<Timestamp>, _>(&self.published_at)?
            .bind::<Text, _>(&self.categories)?
            .bind::<Nullable<Text>, _>(&self.image_url)?
            .bind::<Timestamp, _>(&self.first_seen_at)?
            .bind::<Text, _>(self.lead)?
            .bind::<Text, _>(&self.headings)?
            .bind::<Bool, _>(&self.title_from_text)?
            .bind::<Text, _>(self.summary_source)?
            .bind::<Text, _>(&self.angles)?;
        Ok(())
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
    let checked = now();
    diesel::update(feeds::table.find(feed_id))
        .set((
            feeds::last_checked_at.eq(checked),
            feeds::last_success_at.eq(checked),
            feeds::next_check_at.eq(next_check_at),
            feeds::error_count.eq(0),
            feeds::last_error.eq(None::<String>),
            feeds::erroring_since.eq(None::<NaiveDateTime>),
            feeds::last_status.eq(Some(304)),
            feeds::lease_until.eq(None::<NaiveDateTime>),
            feeds::lease_token.eq(None::<String>),
        ))
        .execute(conn)?;
    Ok(())
}

/// [`record_feed_not_modified`] for a batch of feeds, each with its next check time: on
/// PostgreSQL one statement for the batch, as each statement costs a round trip.
pub fn record_feeds_not_modified(
    conn: &mut AnyConnection,
    feeds_next: &[(FeedId, NaiveDateTime)],
) -> QueryResult<()> {
    match conn {
        AnyConnection::Postgresql(pg) => {
            if feeds_next.is_empty() {
                return Ok(());
            }
            let (ids, next) = feeds_next.iter().cloned().unzip();
            Prepared(NotModifiedOnPostgres {
                checked: now(),
                ids,
                next,
            })
            .execute(pg)?;
        }
        AnyConnection::Sqlite(_) => {
            for (id, next) in feeds_next {
                record_feed_not_modified(conn, id, *next)?;
            }
        }
    }
    Ok(())
}

struct NotModifiedOnPostgres {
    checked: NaiveDateTime,
    ids: Vec<FeedId>,
    next: Vec<NaiveDateTime>,
}

impl PgStatement for NotModifiedOnPostgres {
    fn walk<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        out.push_sql("UPDATE feeds SET last_checked_at = ");
        out.push_bind_param::<Timestamp, _>(&self.checked)?;
        out.push_sql(", last_success_at = ");
        out.push_bind_param::<Timestamp, _>(&self.checked)?;
        out.push_sql(
            ", next_check_at = u.next, error_count = 0, last_error = NULL, \
             erroring_since = NULL, last_status = 304, lease_until = NULL, lease_token = NULL \
             FROM unnest(",
        );
        out.push_bind_param::<Array<Text>, _>(&self.ids)?;
        out.push_sql(", ");
        out.push_bind_param::<Array<Timestamp>, _>(&self.next)?;
        out.push_sql(") AS u(id, next) WHERE feeds.id = u.id");
        Ok(())
    }
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
    Ok(())
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
