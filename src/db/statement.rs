//! PostgreSQL statements of constant text, their values bound as whole columns.
//!
//! The poller's batch statements take whole columns as array binds (`unnest($1::text[],
//! ...)`, `= ANY($1)`), so their text never changes whatever the number of rows, and each
//! run is one round trip. diesel's statement cache is off on PostgreSQL (see `db::pool`):
//! every statement goes out with its values as one unnamed statement, planned for those
//! values. [`PgQuery`] makes such a statement a diesel query whose rows load by name
//! (`QueryableByName`), as with `sql_query`. Alongside: [`BindList`] for the columns of a
//! batch on both backends, and [`on_backend!`](crate::on_backend).

use diesel::backend::Backend;
use diesel::pg::Pg;
use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};
use diesel::serialize::ToSql;
use diesel::sql_types::HasSqlType;
use diesel::QueryResult;

/// A statement whose text is the same at every run; only its bound values change.
pub trait PgStatement: 'static {
    /// Writes the text with [`AstPass::push_sql`] and each value with
    /// [`AstPass::push_bind_param`], always in the same order.
    fn walk<'b>(&'b self, out: AstPass<'_, 'b, Pg>) -> QueryResult<()>;
}

/// Runs a [`PgStatement`]; rows load by name (`QueryableByName`), as with `sql_query`.
pub struct PgQuery<S>(pub S);

impl<S: PgStatement> QueryId for PgQuery<S> {
    type QueryId = S;
    const HAS_STATIC_QUERY_ID: bool = true;
}

impl<S: PgStatement> QueryFragment<Pg> for PgQuery<S> {
    fn walk_ast<'b>(&'b self, out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        self.0.walk(out)
    }
}

impl<S: PgStatement> Query for PgQuery<S> {
    type SqlType = diesel::sql_types::Untyped;
}

impl<S, Conn> diesel::RunQueryDsl<Conn> for PgQuery<S> {}

/// Binds values one after another, comma-separated: the columns of an `unnest(...)` on
/// PostgreSQL, or of a `VALUES` row on SQLite.
pub struct BindList<'o, 'a, 'b, DB: Backend = Pg> {
    out: &'o mut AstPass<'a, 'b, DB>,
    first: bool,
}

impl<'o, 'a, 'b, DB: Backend> BindList<'o, 'a, 'b, DB> {
    pub fn new(out: &'o mut AstPass<'a, 'b, DB>) -> Self {
        BindList { out, first: true }
    }

    pub fn bind<T, U>(&mut self, value: &'b U) -> QueryResult<&mut Self>
    where
        DB: HasSqlType<T>,
        U: ToSql<T, DB> + ?Sized,
    {
        if !self.first {
            self.out.push_sql(", ");
        }
        self.first = false;
        self.out.push_bind_param::<T, U>(value)?;
        Ok(self)
    }
}

/// Runs a query built with diesel's DSL on the backend's own connection rather than
/// through [`super::AnyConnection`]: there, on PostgreSQL, `eq_any` binds one array
/// (`= ANY($1)`), so the text stays the same whatever the number of values, and on SQLite
/// the statement stays in diesel's cache; the multi-backend form spells out one parameter
/// per value and is prepared again at every run.
#[macro_export]
macro_rules! on_backend {
    ($conn:expr, |$c:ident| $body:expr) => {
        match $conn {
            $crate::db::AnyConnection::Postgresql($c) => $body,
            $crate::db::AnyConnection::Sqlite($c) => $body,
        }
    };
}

#[cfg(test)]
mod tests {
    use super::*;
    use diesel::sql_types::{Array, Text};

    struct Echo(Vec<String>);

    impl PgStatement for Echo {
        fn walk<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
            out.push_sql("SELECT x FROM unnest(");
            out.push_bind_param::<Array<Text>, _>(&self.0)?;
            out.push_sql(") AS x");
            Ok(())
        }
    }

    struct Three(Vec<String>, Vec<String>, Vec<i32>);

    impl PgStatement for Three {
        fn walk<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
            out.push_sql("SELECT * FROM unnest(");
            BindList::new(&mut out)
                .bind::<Array<Text>, _>(&self.0)?
                .bind::<Array<Text>, _>(&self.1)?
                .bind::<Array<diesel::sql_types::Integer>, _>(&self.2)?;
            out.push_sql(")");
            Ok(())
        }
    }

    #[test]
    fn a_bind_list_separates_its_binds_with_commas() {
        let statement = PgQuery(Three(vec!["a".into()], vec!["b".into()], vec![1]));
        let text = diesel::debug_query::<Pg, _>(&statement).to_string();
        assert!(
            text.starts_with("SELECT * FROM unnest($1, $2, $3) -- binds"),
            "{text}"
        );
    }

    #[test]
    fn the_text_does_not_depend_on_the_number_of_values() {
        let text = |n: usize| {
            diesel::debug_query::<Pg, _>(&PgQuery(Echo(vec!["a".into(); n])))
                .to_string()
                .split(" -- binds")
                .next()
                .map(str::to_owned)
        };
        assert_eq!(text(1), text(64));
        assert_eq!(text(3).as_deref(), Some("SELECT x FROM unnest($1) AS x"));
    }
}
