//! The posts table's batched lookup and insert, spelled per backend: on PostgreSQL one
//! statement of arrays for many feeds (each statement is a round trip), on SQLite chunks
//! under its limit of bound values.

use chrono::NaiveDateTime;
use diesel::pg::Pg;
use diesel::prelude::*;
use diesel::query_builder::AstPass;
use diesel::sql_types::{Array, Bool, Nullable, Text, Timestamp};
use diesel::sqlite::Sqlite;

use crate::db::schema::posts;
use crate::db::sqlite_batch::{insert_or_ignore_returning, SqliteRow};
use crate::db::statement::{BindList, PgQuery, PgStatement};
use crate::db::AnyConnection;

/// A post to store, as its row holds it.
#[derive(Insertable)]
#[diesel(table_name = posts)]
pub struct NewPost<'a> {
    pub id: String,
    pub feed_id: &'a str,
    pub entry_key: &'a str,
    pub title: &'a str,
    pub url: Option<&'a str>,
    pub summary: &'a str,
    pub content_text: &'a str,
    pub author: Option<&'a str>,
    pub published_at: Option<NaiveDateTime>,
    pub categories: String,
    pub image_url: Option<&'a str>,
    pub first_seen_at: NaiveDateTime,
    pub lead: &'a str,
    pub headings: String,
    pub title_from_text: bool,
    pub summary_source: &'static str,
    pub angles: String,
}

/// Stores the rows whose (feed, entry key) is not stored yet; returns the feed id of each
/// row stored, so the caller counts new posts per feed.
pub fn insert_posts(conn: &mut AnyConnection, rows: &[NewPost<'_>]) -> QueryResult<Vec<String>> {
    let inserted: Vec<OfFeed> = match conn {
        AnyConnection::Postgresql(pg) => {
            let columns = PostsOnPostgres::new(rows.iter());
            if columns.ids.is_empty() {
                return Ok(Vec::new());
            }
            PgQuery(columns).load(pg)?
        }
        AnyConnection::Sqlite(sqlite) => insert_or_ignore_returning(sqlite, rows, "feed_id")?,
    };
    Ok(inserted.into_iter().map(|row| row.feed_id).collect())
}

/// Of these entry keys per feed, the (feed, entry key) pairs stored already.
pub fn stored_entry_keys(
    conn: &mut AnyConnection,
    feeds: &[(&str, Vec<&str>)],
) -> QueryResult<Vec<(String, String)>> {
    let mut stored: Vec<(String, String)> = Vec::new();
    match conn {
        AnyConnection::Postgresql(pg) => {
            let (feed_ids, keys) = feeds
                .iter()
                .flat_map(|(f, keys)| keys.iter().map(|k| (f.to_string(), k.to_string())))
                .unzip();
            if !feeds.iter().all(|(_, keys)| keys.is_empty()) {
                let rows: Vec<StoredKey> =
                    PgQuery(KnownKeysOnPostgres { feed_ids, keys }).load(pg)?;
                stored.extend(rows.into_iter().map(|r| (r.feed_id, r.entry_key)));
            }
        }
        AnyConnection::Sqlite(_) => {
            for (feed_id, keys) in feeds {
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
    Ok(stored)
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

/// Entry keys per SQLite lookup, under its limit of bound values.
const KEY_CHUNK: usize = 500;

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

/// On PostgreSQL, the id, feed, publication and first sight of the newest `limit` posts of
/// each of these feeds by first sight, in one statement for all of them. `None` on SQLite,
/// where the caller asks feed by feed: each statement there is an in-process index walk,
/// not a round trip.
pub fn latest_post_dates<T>(
    conn: &mut AnyConnection,
    feed_ids: &[&str],
    limit: i64,
) -> QueryResult<Option<Vec<T>>>
where
    T: QueryableByName<Pg> + 'static,
{
    match conn {
        AnyConnection::Postgresql(pg) => PgQuery(LatestOnPostgres {
            feed_ids: feed_ids.iter().map(|id| id.to_string()).collect(),
            limit,
        })
        .load(pg)
        .map(Some),
        AnyConnection::Sqlite(_) => Ok(None),
    }
}

struct LatestOnPostgres {
    feed_ids: Vec<String>,
    limit: i64,
}

impl PgStatement for LatestOnPostgres {
    fn walk<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        // A per-feed index probe (posts_feed_seen, walked backwards), as the feed-by-feed
        // query makes: a window over the feeds' posts would read all of them.
        out.push_sql("SELECT p.id, p.feed_id, p.published_at, p.first_seen_at FROM unnest(");
        out.push_bind_param::<Array<Text>, _>(&self.feed_ids)?;
        out.push_sql(
            ") AS f(id) CROSS JOIN LATERAL ( \
               SELECT id, feed_id, published_at, first_seen_at FROM posts \
               WHERE posts.feed_id = f.id \
               ORDER BY posts.first_seen_at DESC LIMIT ",
        );
        out.push_bind_param::<diesel::sql_types::BigInt, _>(&self.limit)?;
        out.push_sql(") p");
        Ok(())
    }
}
