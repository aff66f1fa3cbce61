//! The statements the two backends spell differently, kept together for review.
//!
//! diesel's `MultiConnection` cannot express `ON CONFLICT`, so those inserts are
//! built once per backend from the same code through [`insert_or_ignore!`]. The lease
//! claim every job queue and the poller run is spelled once in [`claim`]. The batched
//! writes, one statement of arrays on PostgreSQL and row by row or in chunks on SQLite,
//! are in [`feeds`] (check results), [`posts`] (new posts and the lookup of known
//! ones) and [`captions`] (new captions).

pub mod captions;
pub mod claim;
pub mod feeds;
pub mod posts;

/// `INSERT ... ON CONFLICT DO NOTHING` on either backend; evaluates to the number of
/// rows inserted (0 when the row existed), as `QueryResult<usize>`.
#[macro_export]
macro_rules! insert_or_ignore {
    ($conn:expr, $table:expr, $values:expr) => {{
        use diesel::RunQueryDsl as _;
        match $conn {
            $crate::db::AnyConnection::Sqlite(c) => diesel::insert_into($table)
                .values($values)
                .on_conflict_do_nothing()
                .execute(c),
            $crate::db::AnyConnection::Postgresql(c) => diesel::insert_into($table)
                .values($values)
                .on_conflict_do_nothing()
                .execute(c),
        }
    }};
}

/// [`insert_or_ignore!`] for many rows: one multi-row statement on PostgreSQL (where each
/// statement is a network round trip), row by row on SQLite (in-process, and diesel cannot
/// combine SQLite's multi-row insert with `ON CONFLICT`).
#[macro_export]
macro_rules! insert_all_or_ignore {
    ($conn:expr, $table:expr, $rows:expr) => {{
        use diesel::RunQueryDsl as _;
        let rows = $rows;
        match $conn {
            $crate::db::AnyConnection::Sqlite(c) => {
                let mut inserted = 0;
                for row in rows {
                    inserted += diesel::insert_into($table)
                        .values(row)
                        .on_conflict_do_nothing()
                        .execute(c)?;
                }
                Ok::<usize, diesel::result::Error>(inserted)
            }
            $crate::db::AnyConnection::Postgresql(c) => {
                if rows.is_empty() {
                    Ok(0)
                } else {
                    diesel::insert_into($table)
                        .values(rows)
                        .on_conflict_do_nothing()
                        .execute(c)
                }
            }
        }
    }};
}
