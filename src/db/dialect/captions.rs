//! The captions table's batched insert, spelled per backend: one statement of arrays on
//! PostgreSQL (where each statement is a round trip), multi-row chunks on SQLite.

use std::collections::HashMap;

use chrono::NaiveDateTime;
use diesel::pg::Pg;
use diesel::prelude::*;
use diesel::query_builder::AstPass;
use diesel::sql_types::{Array, Integer, Nullable, Text, Timestamp};
use diesel::sqlite::Sqlite;

use crate::db::sqlite_batch::{insert_or_ignore_returning, SqliteRow};
use crate::db::statement::{BindList, PgQuery, PgStatement};
use crate::db::AnyConnection;

/// One generated caption, ready to store.
pub struct CaptionRow {
    pub id: String,
    pub user_id: String,
    pub subscription_id: String,
    pub post_id: String,
    pub platform: &'static str,
    pub variant: String,
    pub body: String,
    pub length: i32,
    pub char_limit: i32,
    pub created_at: NaiveDateTime,
    pub error: Option<String>,
}

/// Stores the captions not stored yet (one per subscription, post, platform and variant);
/// returns how many each subscription got. One statement on PostgreSQL; on SQLite one per
/// few dozen rows.
pub fn insert_captions(
    conn: &mut AnyConnection,
    rows: &[CaptionRow],
) -> QueryResult<HashMap<String, usize>> {
    let mut written: HashMap<String, usize> = HashMap::new();
    if rows.is_empty() {
        return Ok(written);
    }
    match conn {
        AnyConnection::Postgresql(pg) => {
            let inserted: Vec<OfSubscription> = PgQuery(CaptionsOnPostgres::new(rows)).load(pg)?;
            for row in inserted {
                *written.entry(row.subscription_id).or_default() += 1;
            }
        }
        AnyConnection::Sqlite(sqlite) => {
            let inserted: Vec<OfSubscription> =
                insert_or_ignore_returning(sqlite, rows, "subscription_id")?;
            for row in inserted {
                *written.entry(row.subscription_id).or_default() += 1;
            }
        }
    }
    Ok(written)
}

/// On PostgreSQL, for each of these (backfilled) subscriptions, the posts of its feed first
/// seen since its backfill that it has no captions for yet, oldest first; each row carries
/// its subscription's id in a `subscription_id` column beside the posts columns. `None` on
/// SQLite, where the caller's portable query runs: its planner walks the indexes anyway.
///
/// On PostgreSQL the portable join ran as a sequential scan of all posts for every batch
/// whenever the table's statistics were older than its rows (a new server, or many posts
/// stored since autovacuum's last ANALYZE): 100 ms a batch of 64 feeds at 44,000 posts,
/// growing with the table. Here each subscription probes its own feed's posts by index.
pub fn posts_without_captions<T>(
    conn: &mut AnyConnection,
    subscription_ids: &[&str],
) -> QueryResult<Option<Vec<T>>>
where
    T: QueryableByName<Pg> + 'static,
{
    match conn {
        AnyConnection::Postgresql(pg) => PgQuery(UncaptionedOnPostgres {
            subscription_ids: subscription_ids.iter().map(|id| id.to_string()).collect(),
        })
        .load(pg)
        .map(Some),
        AnyConnection::Sqlite(_) => Ok(None),
    }
}

struct UncaptionedOnPostgres {
    subscription_ids: Vec<String>,
}

impl PgStatement for UncaptionedOnPostgres {
    fn walk<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        // OFFSET 0 keeps the subquery a per-subscription index probe: flattened into a
        // join, it is planned as one over the whole posts table.
        out.push_sql(
            "SELECT s.id AS subscription_id, p.* FROM subscriptions s CROSS JOIN LATERAL ( \
               SELECT p.* FROM posts p \
               WHERE p.feed_id = s.feed_id AND p.first_seen_at > s.backfilled_at \
                 AND NOT EXISTS (SELECT 1 FROM captions c \
                   WHERE c.subscription_id = s.id AND c.post_id = p.id) \
               OFFSET 0) p \
             WHERE s.id = ANY(",
        );
        out.push_bind_param::<Array<Text>, _>(&self.subscription_ids)?;
        out.push_sql(") ORDER BY p.first_seen_at, p.id");
        Ok(())
    }
}

#[derive(QueryableByName)]
struct OfSubscription {
    #[diesel(sql_type = Text)]
    subscription_id: String,
}

impl SqliteRow for CaptionRow {
    const INTO: &'static str = "captions (id, user_id, subscription_id, post_id, platform, \
         variant, body, length, char_limit, created_at, error)";
    const COLUMNS: usize = 11;

    fn bind<'b>(&'b self, out: &mut AstPass<'_, 'b, Sqlite>) -> QueryResult<()> {
        let mut binds = BindList::new(out);
        binds
            .bind::<Text, _>(&self.id)?
            .bind::<Text, _>(&self.user_id)?
            .bind::<Text, _>(&self.subscription_id)?
            .bind::<Text, _>(&self.post_id)?
            .bind::<Text, _>(self.platform)?
            .bind::<Text, _>(&self.variant)?
            .bind::<Text, _>(&self.body)?
            .bind::<Integer, _>(&self.length)?
            .bind::<Integer, _>(&self.char_limit)?
            .bind::<Timestamp, _>(&self.created_at)?
            .bind::<Nullable<Text>, _>(&self.error)?;
        Ok(())
    }
}

/// Captions of many posts and subscriptions as one insert on PostgreSQL, a column per array.
struct CaptionsOnPostgres {
    ids: Vec<String>,
    user_ids: Vec<String>,
    subscription_ids: Vec<String>,
    post_ids: Vec<String>,
    platforms: Vec<&'static str>,
    variants: Vec<String>,
    bodies: Vec<String>,
    lengths: Vec<i32>,
    char_limits: Vec<i32>,
    created: Vec<NaiveDateTime>,
    errors: Vec<Option<String>>,
}

impl CaptionsOnPostgres {
    fn new(rows: &[CaptionRow]) -> Self {
        CaptionsOnPostgres {
            ids: rows.iter().map(|r| r.id.clone()).collect(),
            user_ids: rows.iter().map(|r| r.user_id.clone()).collect(),
            subscription_ids: rows.iter().map(|r| r.subscription_id.clone()).collect(),
            post_ids: rows.iter().map(|r| r.post_id.clone()).collect(),
            platforms: rows.iter().map(|r| r.platform).collect(),
            variants: rows.iter().map(|r| r.variant.clone()).collect(),
            bodies: rows.iter().map(|r| r.body.clone()).collect(),
            lengths: rows.iter().map(|r| r.length).collect(),
            char_limits: rows.iter().map(|r| r.char_limit).collect(),
            created: rows.iter().map(|r| r.created_at).collect(),
            errors: rows.iter().map(|r| r.error.clone()).collect(),
        }
    }
}

impl PgStatement for CaptionsOnPostgres {
    fn walk<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        out.push_sql(
            "INSERT INTO captions (id, user_id, subscription_id, post_id, platform, variant, \
             body, length, char_limit, created_at, error) SELECT * FROM unnest(",
        );
        BindList::new(&mut out)
            .bind::<Array<Text>, _>(&self.ids)?
            .bind::<Array<Text>, _>(&self.user_ids)?
            .bind::<Array<Text>, _>(&self.subscription_ids)?
            .bind::<Array<Text>, _>(&self.post_ids)?
            .bind::<Array<Text>, _>(&self.platforms)?
            .bind::<Array<Text>, _>(&self.variants)?
            .bind::<Array<Text>, _>(&self.bodies)?
            .bind::<Array<Integer>, _>(&self.lengths)?
            .bind::<Array<Integer>, _>(&self.char_limits)?
            .bind::<Array<Timestamp>, _>(&self.created)?
            .bind::<Array<Nullable<Text>>, _>(&self.errors)?;
        out.push_sql(") ON CONFLICT DO NOTHING RETURNING subscription_id");
        Ok(())
    }
}
