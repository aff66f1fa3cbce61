//! Many rows in one SQLite `INSERT ... ON CONFLICT DO NOTHING RETURNING`, and many rows
//! updated each from its own values in one `WITH ... AS (VALUES ...) UPDATE ... FROM`.
//!
//! diesel cannot combine SQLite's multi-row insert with `ON CONFLICT`, and one statement
//! per row costs the poller's batch write a statement step (and its constraint checks'
//! set-up) per caption. Rows go in chunks whose bound values stay under SQLite's oldest
//! variable limit (999), so a full chunk's text is always the same and diesel's statement
//! cache keeps it prepared; only a batch's last, shorter chunk is prepared afresh.

use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};
use diesel::sqlite::{Sqlite, SqliteConnection};
use diesel::{QueryResult, QueryableByName, RunQueryDsl as _};

/// SQLITE_MAX_VARIABLE_NUMBER before SQLite 3.32; later versions allow 32,766.
pub const MAX_VARIABLES: usize = 999;

/// A row of a table, as the values of one `VALUES` tuple.
pub trait SqliteRow {
    /// The table and its columns, in the order [`SqliteRow::bind`] binds them:
    /// `"captions (id, user_id, ...)"`.
    const INTO: &'static str;
    /// How many values [`SqliteRow::bind`] binds.
    const COLUMNS: usize;
    /// Binds each column's value with [`AstPass::push_bind_param`], comma-separated.
    fn bind<'b>(&'b self, out: &mut AstPass<'_, 'b, Sqlite>) -> QueryResult<()>;
}

/// Inserts the rows that break no unique constraint, skipping the others, and returns
/// `returning` (a column list) of each row inserted.
pub fn insert_or_ignore_returning<R, U>(
    conn: &mut SqliteConnection,
    rows: &[R],
    returning: &'static str,
) -> QueryResult<Vec<U>>
where
    R: SqliteRow,
    U: QueryableByName<Sqlite> + 'static,
{
    let mut inserted = Vec::new();
    for chunk in rows.chunks(rows_per_statement::<R>()) {
        inserted.extend(
            InsertOrIgnore {
                rows: chunk,
                returning,
            }
            .load::<U>(conn)?,
        );
    }
    Ok(inserted)
}

fn rows_per_statement<R: SqliteRow>() -> usize {
    (MAX_VARIABLES / R::COLUMNS.max(1)).max(1)
}

struct InsertOrIgnore<'r, R> {
    rows: &'r [R],
    returning: &'static str,
}

impl<R: SqliteRow> QueryFragment<Sqlite> for InsertOrIgnore<'_, R> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Sqlite>) -> QueryResult<()> {
        // Cached by its text: only full chunks repeat it, a shorter one would stay in the
        // cache for nothing.
        if self.rows.len() != rows_per_statement::<R>() {
            out.unsafe_to_cache_prepared();
        }
        out.push_sql("INSERT INTO ");
        out.push_sql(R::INTO);
        out.push_sql(" VALUES ");
        push_tuples(&mut out, self.rows, R::bind)?;
        out.push_sql(" ON CONFLICT DO NOTHING RETURNING ");
        out.push_sql(self.returning);
        Ok(())
    }
}

/// Each row's values as one tuple of a `VALUES` list: `(…), (…), …`.
fn push_tuples<'b, T>(
    out: &mut AstPass<'_, 'b, Sqlite>,
    rows: &'b [T],
    bind: impl Fn(&'b T, &mut AstPass<'_, 'b, Sqlite>) -> QueryResult<()>,
) -> QueryResult<()> {
    for (i, row) in rows.iter().enumerate() {
        out.push_sql(if i == 0 { "(" } else { ", (" });
        bind(row, out)?;
        out.push_sql(")");
    }
    Ok(())
}

/// The values one row of an [`update_from_values`] is updated with.
pub trait SqliteUpdateRow {
    /// The values' name and columns, as the statement's common table names them:
    /// `"u (id, next_check_at)"`.
    const VALUES: &'static str;
    /// How many values [`SqliteUpdateRow::bind`] binds.
    const COLUMNS: usize;
    /// The update that reads them: `"UPDATE feeds SET next_check_at = u.next_check_at
    /// FROM u WHERE feeds.id = u.id"`. It must pick rows by `=` on a key, so that the
    /// padding's NULLs pick none.
    const UPDATE: &'static str;
    /// Binds each column's value with [`AstPass::push_bind_param`], comma-separated.
    fn bind<'b>(&'b self, out: &mut AstPass<'_, 'b, Sqlite>) -> QueryResult<()>;
}

/// Updates many rows, each with its own values, in one statement per chunk instead of one
/// per row: each statement costs SQLite a compile or a reset and a step, so a batch of 64
/// feeds' 304s cost 64 of them. Returns how many rows changed.
///
/// A chunk is padded to a power of two with rows of NULLs, which match no row (`NULL = x`
/// is never true), so that only a handful of texts exist and each stays prepared in
/// diesel's statement cache: compiling the statement (and the triggers it fires) anew for
/// every batch cost about as much as running it.
pub fn update_from_values<R: SqliteUpdateRow>(
    conn: &mut SqliteConnection,
    rows: &[R],
) -> QueryResult<usize> {
    let mut changed = 0;
    let most = (MAX_VARIABLES / R::COLUMNS.max(1)).max(1);
    // The largest power of two under SQLite's variable limit.
    let per_statement = 1 << most.ilog2();
    for chunk in rows.chunks(per_statement) {
        changed += UpdateFromValues {
            rows: chunk,
            padded: chunk.len().next_power_of_two(),
        }
        .execute(conn)?;
    }
    Ok(changed)
}

struct UpdateFromValues<'r, R> {
    rows: &'r [R],
    /// How many tuples the statement lists, padding included.
    padded: usize,
}

impl<R: SqliteUpdateRow> QueryFragment<Sqlite> for UpdateFromValues<'_, R> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Sqlite>) -> QueryResult<()> {
        out.push_sql("WITH ");
        out.push_sql(R::VALUES);
        out.push_sql(" AS (VALUES ");
        push_tuples(&mut out, self.rows, R::bind)?;
        for _ in self.rows.len()..self.padded {
            out.push_sql(", (NULL");
            for _ in 1..R::COLUMNS {
                out.push_sql(", NULL");
            }
            out.push_sql(")");
        }
        out.push_sql(") ");
        out.push_sql(R::UPDATE);
        Ok(())
    }
}

impl<R> QueryId for UpdateFromValues<'_, R> {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl<R, Conn> diesel::RunQueryDsl<Conn> for UpdateFromValues<'_, R> {}

impl<R> QueryId for InsertOrIgnore<'_, R> {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl<R> Query for InsertOrIgnore<'_, R> {
    type SqlType = diesel::sql_types::Untyped;
}

impl<R, Conn> diesel::RunQueryDsl<Conn> for InsertOrIgnore<'_, R> {}

#[cfg(test)]
mod tests {
    use super::*;
    use diesel::connection::SimpleConnection as _;
    use diesel::sql_types::{Integer, Text};
    use diesel::Connection as _;

    struct Pair(String, i32);

    impl SqliteRow for Pair {
        const INTO: &'static str = "pairs (name, n)";
        const COLUMNS: usize = 2;
        fn bind<'b>(&'b self, out: &mut AstPass<'_, 'b, Sqlite>) -> QueryResult<()> {
            out.push_bind_param::<Text, _>(&self.0)?;
            out.push_sql(", ");
            out.push_bind_param::<Integer, _>(&self.1)
        }
    }

    #[derive(QueryableByName, Debug, PartialEq)]
    struct Name {
        #[diesel(sql_type = Text)]
        name: String,
    }

    fn table() -> SqliteConnection {
        let mut conn = SqliteConnection::establish(":memory:").expect("an in-memory database");
        conn.batch_execute(
            "CREATE TABLE pairs (name TEXT PRIMARY KEY NOT NULL, n INTEGER NOT NULL)",
        )
        .expect("the table");
        conn
    }

    #[test]
    fn more_rows_than_one_statement_binds_are_all_inserted_and_returned() {
        let mut conn = table();
        // 40,000 values: more than even the newest SQLite binds in one statement (32,766).
        let rows: Vec<Pair> = (0..20_000).map(|i| Pair(format!("row {i}"), i)).collect();
        let names: Vec<Name> =
            insert_or_ignore_returning(&mut conn, &rows, "name").expect("insert");
        assert_eq!(names.len(), 20_000);
        let stored: i64 =
            diesel::dsl::sql::<diesel::sql_types::BigInt>("SELECT count(*) FROM pairs")
                .get_result(&mut conn)
                .expect("count");
        assert_eq!(stored, 20_000);
    }

    struct NewN<'a>(&'a str, i32);

    impl SqliteUpdateRow for NewN<'_> {
        const VALUES: &'static str = "u (name, n)";
        const COLUMNS: usize = 2;
        const UPDATE: &'static str = "UPDATE pairs SET n = u.n FROM u WHERE pairs.name = u.name";
        fn bind<'b>(&'b self, out: &mut AstPass<'_, 'b, Sqlite>) -> QueryResult<()> {
            out.push_bind_param::<Text, _>(self.0)?;
            out.push_sql(", ");
            out.push_bind_param::<Integer, _>(&self.1)
        }
    }

    #[derive(QueryableByName, Debug, PartialEq)]
    struct Row {
        #[diesel(sql_type = Text)]
        name: String,
        #[diesel(sql_type = Integer)]
        n: i32,
    }

    #[test]
    fn each_row_gets_its_own_values_and_the_padding_touches_none() {
        let mut conn = table();
        let all: Vec<Pair> = (0..700).map(|i| Pair(format!("row {i}"), i)).collect();
        let _: Vec<Name> = insert_or_ignore_returning(&mut conn, &all, "name").expect("insert");
        // 5 rows (padded to 8), then 650 (a full chunk of 256, another, and 138 padded).
        for count in [5, 650] {
            let names: Vec<String> = (0..count).map(|i| format!("row {i}")).collect();
            let updates: Vec<NewN> = names
                .iter()
                .enumerate()
                .map(|(i, name)| NewN(name, 10_000 + i as i32))
                .collect();
            let changed = update_from_values(&mut conn, &updates).expect("update");
            assert_eq!(changed, count);
            let rows: Vec<Row> = diesel::sql_query("SELECT name, n FROM pairs")
                .load(&mut conn)
                .expect("rows");
            for row in rows {
                let i: usize = row.name["row ".len()..].parse().expect("a number");
                let expected = if i < count { 10_000 + i } else { i };
                assert_eq!(row.n as usize, expected, "{}", row.name);
            }
        }
    }

    #[test]
    fn rows_already_stored_are_skipped_and_not_returned() {
        let mut conn = table();
        let first = [Pair("a".into(), 1), Pair("b".into(), 2)];
        let _: Vec<Name> = insert_or_ignore_returning(&mut conn, &first, "name").expect("insert");
        let again = [Pair("b".into(), 20), Pair("c".into(), 3)];
        let names: Vec<Name> =
            insert_or_ignore_returning(&mut conn, &again, "name").expect("insert");
        assert_eq!(names, vec![Name { name: "c".into() }]);
        let b: i32 = diesel::dsl::sql::<Integer>("SELECT n FROM pairs WHERE name = 'b'")
            .get_result(&mut conn)
            .expect("b");
        assert_eq!(b, 2, "a stored row is left as it was");
    }
}
