//! The statements the two backends spell differently, kept together for review.
//!
//! diesel's `MultiConnection` cannot express `ON CONFLICT`, so those inserts are
//! built once per backend from the same code through [`insert_or_ignore!`].

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
