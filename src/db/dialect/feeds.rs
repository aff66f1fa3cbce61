//! The feeds table's check results, spelled per backend: on PostgreSQL one statement of
//! arrays for a whole batch (each statement is a round trip), on SQLite one `UPDATE` per
//! feed (in-process, and a statement per row is what SQLite plans best).

use chrono::NaiveDateTime;
use diesel::pg::Pg;
use diesel::prelude::*;
use diesel::query_builder::AstPass;
use diesel::sql_types::{Array, Integer, Nullable, Text, Timestamp};

use crate::db::prepared::{BindList, PgStatement, Prepared};
use crate::db::schema::feeds;
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
            Prepared(FetchedOnPostgres::new(fetched, checked)).execute(pg)?;
        }
        AnyConnection::Sqlite(_) => {
            for f in fetched {
                diesel::update(feeds::table.find(f.id))
                    .set((
                        feeds::title.eq(f.title),
                        feeds::site_url.eq(f.site_url),
                        feeds::language.eq(f.language),
                        feeds::etag.eq(f.etag),
                        feeds::last_modified.eq(f.last_modified),
                        feeds::last_checked_at.eq(checked),
                        feeds::last_success_at.eq(checked),
                        feeds::next_check_at.eq(f.next_check_at),
                        feeds::error_count.eq(0),
                        feeds::last_error.eq(None::<String>),
                        feeds::erroring_since.eq(None::<NaiveDateTime>),
                        feeds::last_status.eq(Some(f.status)),
                        feeds::seen_keys.eq(&f.seen_keys),
                    ))
                    .execute(conn)?;
            }
        }
    }
    Ok(())
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

/// [`record_not_modified`] for a batch of feeds, each with its next check time: on
/// PostgreSQL one statement for the batch.
pub fn record_many_not_modified(
    conn: &mut AnyConnection,
    feeds_next: &[(String, NaiveDateTime)],
    checked: NaiveDateTime,
) -> QueryResult<()> {
    match conn {
        AnyConnection::Postgresql(pg) => {
            if feeds_next.is_empty() {
                return Ok(());
            }
            let (ids, next) = feeds_next.iter().cloned().unzip();
            Prepared(NotModifiedOnPostgres { checked, ids, next }).execute(pg)?;
        }
        AnyConnection::Sqlite(_) => {
            for (id, next) in feeds_next {
                record_not_modified(conn, id, *next, checked)?;
            }
        }
    }
    Ok(())
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
