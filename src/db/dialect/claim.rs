//! The lease claim both backends run, spelled once: one `UPDATE` of the rows a subquery
//! picks. PostgreSQL takes the picked rows' locks with `FOR UPDATE SKIP LOCKED` (claimers
//! pass over each other's rows) and numbers its placeholders; on SQLite one statement is
//! atomic, so of two claimers exactly one changes a row.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text, Timestamp};

use crate::db::AnyConnection;

/// A value bound in place of a `?`.
#[derive(Debug, Clone)]
pub enum Param {
    Time(NaiveDateTime),
    Text(String),
    Int(i64),
}

/// Which rows of a table a claim may take: `pick` is the subquery's condition on the row
/// (named `alias`) with `?` placeholders for `params`; rows are taken in `due` order.
pub struct Claim<'a> {
    pub table: &'a str,
    /// The column naming one row (`id` for most tables).
    pub key: &'a str,
    pub alias: &'a str,
    pub pick: &'a str,
    pub params: Vec<Param>,
    pub due: &'a str,
    pub limit: i64,
    /// Sets these leases, under this token.
    pub lease_until: NaiveDateTime,
    pub token: &'a str,
}

impl Claim<'_> {
    fn sql(&self, skip_locked: bool, returning: bool) -> String {
        let Claim {
            table,
            key,
            alias,
            pick,
            due,
            ..
        } = self;
        format!(
            "UPDATE {table} SET lease_until = ?, lease_token = ? \
             WHERE {key} IN ( \
               SELECT {alias}.{key} FROM {table} {alias} \
               WHERE {pick} \
               ORDER BY {alias}.{due} \
               LIMIT ?{}){}",
            if skip_locked {
                " FOR UPDATE SKIP LOCKED"
            } else {
                ""
            },
            if returning { " RETURNING *" } else { "" },
        )
    }

    fn params(&self) -> Vec<Param> {
        let mut all = vec![
            Param::Time(self.lease_until),
            Param::Text(self.token.to_string()),
        ];
        all.extend(self.params.iter().cloned());
        all.push(Param::Int(self.limit));
        all
    }
}

/// The claim's statement bound on the connection's own backend.
macro_rules! bound {
    ($backend:ty, $sql:expr, $params:expr) => {{
        let mut query = diesel::sql_query($sql).into_boxed::<$backend>();
        for param in $params {
            query = match param {
                Param::Time(time) => query.bind::<Timestamp, _>(time),
                Param::Text(text) => query.bind::<Text, _>(text),
                Param::Int(n) => query.bind::<BigInt, _>(n),
            };
        }
        query
    }};
}

/// Runs the claim; how many rows it took (they carry its token).
pub fn execute(conn: &mut AnyConnection, claim: &Claim) -> QueryResult<usize> {
    match conn {
        AnyConnection::Postgresql(pg) => bound!(
            diesel::pg::Pg,
            numbered(&claim.sql(true, false)),
            claim.params()
        )
        .execute(pg),
        AnyConnection::Sqlite(sqlite) => bound!(
            diesel::sqlite::Sqlite,
            claim.sql(false, false),
            claim.params()
        )
        .execute(sqlite),
    }
}

/// Runs the claim and returns the rows it took.
pub fn load<T>(conn: &mut AnyConnection, claim: &Claim) -> QueryResult<Vec<T>>
where
    T: QueryableByName<diesel::pg::Pg> + QueryableByName<diesel::sqlite::Sqlite> + 'static,
{
    match conn {
        AnyConnection::Postgresql(pg) => bound!(
            diesel::pg::Pg,
            numbered(&claim.sql(true, true)),
            claim.params()
        )
        .load(pg),
        AnyConnection::Sqlite(sqlite) => bound!(
            diesel::sqlite::Sqlite,
            claim.sql(false, true),
            claim.params()
        )
        .load(sqlite),
    }
}

/// Ends the lease `token` holds on the row of `table` whose `key` column is `row`, if that
/// claim still holds it; whether it did. A claim that lost its lease (it expired and
/// another took the row) ends nothing.
pub fn release(
    conn: &mut AnyConnection,
    table: &str,
    key: &str,
    row: &str,
    token: &str,
) -> QueryResult<bool> {
    let sql = format!(
        "UPDATE {table} SET lease_until = NULL, lease_token = NULL \
         WHERE {key} = ? AND lease_token = ?"
    );
    let params = [Param::Text(row.to_string()), Param::Text(token.to_string())];
    let released = match conn {
        AnyConnection::Postgresql(pg) => bound!(diesel::pg::Pg, numbered(&sql), params).execute(pg),
        AnyConnection::Sqlite(sqlite) => {
            bound!(diesel::sqlite::Sqlite, sql, params).execute(sqlite)
        }
    }?;
    Ok(released == 1)
}

/// PostgreSQL numbers its placeholders: `?` becomes `$1`, `$2`, … (the statements here
/// hold no `?` inside a string literal).
fn numbered(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len() + 16);
    let mut n = 0;
    for c in sql.chars() {
        if c == '?' {
            n += 1;
            out.push_str(&format!("${n}"));
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn postgres_placeholders_are_numbered_in_order() {
        assert_eq!(
            numbered("a = ? AND (b <> ? OR c >= ?)"),
            "a = $1 AND (b <> $2 OR c >= $3)"
        );
    }

    #[test]
    fn only_postgres_skips_locked_rows_and_the_statement_is_otherwise_the_same() {
        let claim = Claim {
            table: "feeds",
            key: "id",
            alias: "f",
            pick: "f.next_check_at <= ?",
            params: vec![],
            due: "next_check_at",
            limit: 5,
            lease_until: NaiveDateTime::default(),
            token: "t",
        };
        let pg = claim.sql(true, true);
        let sqlite = claim.sql(false, true);
        assert!(
            pg.contains("LIMIT ? FOR UPDATE SKIP LOCKED) RETURNING *"),
            "{pg}"
        );
        assert_eq!(pg.replace(" FOR UPDATE SKIP LOCKED", ""), sqlite);
    }
}
