//! The feeds table's check results, spelled per backend, one statement for a whole batch:
//! on PostgreSQL of arrays (each statement is a round trip), on SQLite of `VALUES` rows
//! (each statement is a reset and a step of the single writer), and the pages version
//! those results raise.

use chrono::NaiveDateTime;
use diesel::pg::Pg;
use diesel::prelude::*;
use diesel::query_builder::AstPass;
use diesel::sql_types::{Array, Integer, Nullable, Text, Timestamp};
use diesel::sqlite::Sqlite;

use crate::db::schema::feeds;
use crate::db::sqlite_batch::{update_from_values, SqliteUpdateRow};
use crate::db::statement::{BindList, PgQuery, PgStatement};
use crate::db::AnyConnection;

/// One feed's successful fetch, as its row stores it.
pub struct FetchedRow<'a> {
    pub id: &'a str,
    pub title: Option<&'a str>,
    pub site_url: Option<&'a str>,
    pub language: Option<&'a str>,
    pub etag: Option<&'a str>,
    pub last_modified: Option<&'a str>,
    pub next_check_at: NaiveDateTime,
    /// The HTTP status of the answer.
    pub status: i32,
    pub seen_keys: String,
}

/// Writes successful fetches onto their feed rows (checked at `checked`): metadata,
/// validators, the next check, and the end of any run of errors.
pub fn record_fetched(
    conn: &mut AnyConnection,
    fetched: &[FetchedRow<'_>],
    checked: NaiveDateTime,
) -> QueryResult<()> {
    if fetched.is_empty() {
        return Ok(());
    }
    match conn {
        AnyConnection::Postgresql(pg) => {
            PgQuery(FetchedOnPostgres::new(fetched, checked)).execute(pg)?;
        }
        AnyConnection::Sqlite(sqlite) => {
            let rows: Vec<FetchedOnSqlite> = fetched
                .iter()
                .map(|row| FetchedOnSqlite { row, checked })
                .collect();
            update_from_values(sqlite, &rows)?;
        }
    }
    Ok(())
}

/// A feed row of [`record_fetched`] on SQLite, one `VALUES` tuple of the batch's update.
struct FetchedOnSqlite<'r, 'a> {
    row: &'r FetchedRow<'a>,
    checked: NaiveDateTime,
}

impl SqliteUpdateRow for FetchedOnSqlite<'_, '_> {
    const VALUES: &'static str = "u (id, title, site_url, language, etag, last_modified, \
         checked, next_check_at, last_status, seen_keys)";
    const COLUMNS: usize = 10;
    const UPDATE: &'static str = "UPDATE feeds SET title = u.title, site_url = u.site_url, \
         language = u.language, etag = u.etag, last_modified = u.last_modified, \
         last_checked_at = u.checked, last_success_at = u.checked, \
         next_check_at = u.next_check_at, error_count = 0, last_error = NULL, \
         erroring_since = NULL, last_status = u.last_status, seen_keys = u.seen_keys \
         FROM u WHERE feeds.id = u.id";

    fn bind<'b>(&'b self, out: &mut AstPass<'_, 'b, Sqlite>) -> QueryResult<()> {
        let f = self.row;
        BindList::new(out)
            .bind::<Text, _>(f.id)?
            .bind::<Nullable<Text>, _>(&f.title)?
            .bind::<Nullable<Text>, _>(&f.site_url)?
            .bind::<Nullable<Text>, _>(&f.language)?
            .bind::<Nullable<Text>, _>(&f.etag)?
            .bind::<Nullable<Text>, _>(&f.last_modified)?
            .bind::<Timestamp, _>(&self.checked)?
            .bind::<Timestamp, _>(&f.next_check_at)?
            .bind::<Integer, _>(&f.status)?
            .bind::<Text, _>(&f.seen_keys)?;
        Ok(())
    }
}

/// The feed rows of [`record_fetched`] on PostgreSQL, one column per array.
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
    fn new(fetched: &[FetchedRow<'_>], checked: NaiveDateTime) -> Self {
        FetchedOnPostgres {
            checked,
            ids: fetched.iter().map(|f| f.id.to_owned()).collect(),
            titles: fetched.iter().map(|f| f.title.map(str::to_owned)).collect(),
            site_urls: fetched
                .iter()
                .map(|f| f.site_url.map(str::to_owned))
                .collect(),
            languages: fetched
                .iter()
                .map(|f| f.language.map(str::to_owned))
                .collect(),
            etags: fetched.iter().map(|f| f.etag.map(str::to_owned)).collect(),
            last_modified: fetched
                .iter()
                .map(|f| f.last_modified.map(str::to_owned))
                .collect(),
            next: fetched.iter().map(|f| f.next_check_at).collect(),
            statuses: fetched.iter().map(|f| f.status).collect(),
            seen_keys: fetched.iter().map(|f| f.seen_keys.clone()).collect(),
        }
    }
}

impl PgStatement for FetchedOnPostgres {
    fn walk<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        update_checked(&mut out, &self.checked)?;
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

/// A 304 on one feed: nothing changed but the check times (and an error state, if any,
/// is over); its lease ends in the same write.
pub fn record_not_modified(
    conn: &mut AnyConnection,
    feed_id: &str,
    next_check_at: NaiveDateTime,
    checked: NaiveDateTime,
) -> QueryResult<()> {
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

/// [`record_not_modified`] for a batch of feeds, each with its next check time, in one
/// statement for the batch.
pub fn record_many_not_modified(
    conn: &mut AnyConnection,
    feeds_next: &[(&str, NaiveDateTime)],
    checked: NaiveDateTime,
) -> QueryResult<()> {
    match conn {
        AnyConnection::Postgresql(pg) => {
            if feeds_next.is_empty() {
                return Ok(());
            }
            let (ids, next) = feeds_next
                .iter()
                .map(|(id, next)| (id.to_string(), *next))
                .unzip();
            PgQuery(NotModifiedOnPostgres { checked, ids, next }).execute(pg)?;
        }
        AnyConnection::Sqlite(sqlite) => {
            let rows: Vec<NotModifiedOnSqlite> = feeds_next
                .iter()
                .map(|(id, next)| NotModifiedOnSqlite { id, next, checked })
                .collect();
            update_from_values(sqlite, &rows)?;
        }
    }
    Ok(())
}

/// A feed row of [`record_many_not_modified`] on SQLite.
struct NotModifiedOnSqlite<'a> {
    id: &'a str,
    next: &'a NaiveDateTime,
    checked: NaiveDateTime,
}

impl SqliteUpdateRow for NotModifiedOnSqlite<'_> {
    const VALUES: &'static str = "u (id, next_check_at, checked)";
    const COLUMNS: usize = 3;
    const UPDATE: &'static str = "UPDATE feeds SET last_checked_at = u.checked, \
         last_success_at = u.checked, next_check_at = u.next_check_at, error_count = 0, \
         last_error = NULL, erroring_since = NULL, last_status = 304, lease_until = NULL, \
         lease_token = NULL FROM u WHERE feeds.id = u.id";

    fn bind<'b>(&'b self, out: &mut AstPass<'_, 'b, Sqlite>) -> QueryResult<()> {
        BindList::new(out)
            .bind::<Text, _>(self.id)?
            .bind::<Timestamp, _>(self.next)?
            .bind::<Timestamp, _>(&self.checked)?;
        Ok(())
    }
}

struct NotModifiedOnPostgres {
    checked: NaiveDateTime,
    ids: Vec<String>,
    next: Vec<NaiveDateTime>,
}

impl PgStatement for NotModifiedOnPostgres {
    fn walk<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        update_checked(&mut out, &self.checked)?;
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

/// How both batched statements of a successful check begin: the feeds are checked, and
/// successfully, at `checked`.
fn update_checked<'b>(
    out: &mut AstPass<'_, 'b, Pg>,
    checked: &'b NaiveDateTime,
) -> QueryResult<()> {
    out.push_sql("UPDATE feeds SET last_checked_at = ");
    out.push_bind_param::<Timestamp, _>(checked)?;
    out.push_sql(", last_success_at = ");
    out.push_bind_param::<Timestamp, _>(checked)
}

/// Raises the pages version (`page_versions`, see `accounts::sessions`) of every
/// subscription of these feeds, in one statement. Every write of a check's result (the
/// feed's health, last and next check, title) or of new posts calls it, once for a whole
/// batch; a database trigger did it before, once per feed row and once per post, which on
/// SQLite cost the poller's single writer about as much as those rows' own writes
/// (migration 2026-12-10-001000_poller_page_versions).
pub fn raise_page_versions(conn: &mut AnyConnection, feed_ids: &[&str]) -> QueryResult<()> {
    if feed_ids.is_empty() {
        return Ok(());
    }
    match conn {
        AnyConnection::Postgresql(pg) => {
            PgQuery(RaiseOnPostgres {
                feed_ids: feed_ids.iter().map(|id| id.to_string()).collect(),
            })
            .execute(pg)?;
        }
        AnyConnection::Sqlite(sqlite) => {
            // The ids as one JSON array: the statement's text stays the same whatever
            // their number.
            let ids = serde_json::to_string(feed_ids)
                .map_err(|e| diesel::result::Error::SerializationError(Box::new(e)))?;
            diesel::sql_query(
                "UPDATE page_versions SET version = version + 1 \
                 WHERE (user_id, scope) IN (SELECT user_id, id FROM subscriptions \
                 WHERE feed_id IN (SELECT value FROM json_each(?)))",
            )
            .bind::<Text, _>(ids)
            .execute(sqlite)?;
        }
    }
    Ok(())
}

struct RaiseOnPostgres {
    feed_ids: Vec<String>,
}

impl PgStatement for RaiseOnPostgres {
    fn walk<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        out.push_sql(
            "UPDATE page_versions SET version = version + 1 \
             WHERE (user_id, scope) IN (SELECT user_id, id FROM subscriptions \
             WHERE feed_id = ANY(",
        );
        out.push_bind_param::<Array<Text>, _>(&self.feed_ids)?;
        out.push_sql("))");
        Ok(())
    }
}
