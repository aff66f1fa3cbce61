//! PostgreSQL statements of constant text that each connection prepares once.
//!
//! diesel prepares a raw `sql_query`, an `IN` list or a multi-row insert again at every
//! run: on PostgreSQL that is a second round trip and a new plan each time. The poller's
//! batch statements take whole columns as array binds (`unnest($1::text[], ...)`), so
//! their text never changes; wrapped in [`Prepared`], diesel's statement cache keeps them
//! prepared on the connection, and each run costs one round trip.

use diesel::pg::Pg;
use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};
use diesel::QueryResult;

/// A statement whose text is the same at every run; only its bound values change.
pub trait PgStatement: 'static {
    /// Writes the text with [`AstPass::push_sql`] and each value with
    /// [`AstPass::push_bind_param`], always in the same order.
    fn walk<'b>(&'b self, out: AstPass<'_, 'b, Pg>) -> QueryResult<()>;
}

/// Runs a [`PgStatement`] through diesel's prepared-statement cache; rows load by name
/// (`QueryableByName`), as with `sql_query`.
pub struct Prepared<S>(pub S);

impl<S: PgStatement> QueryId for Prepared<S> {
    type QueryId = S;
    const HAS_STATIC_QUERY_ID: bool = true;
}

impl<S: PgStatement> QueryFragment<Pg> for Prepared<S> {
    fn walk_ast<'b>(&'b self, out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        self.0.walk(out)
    }
}

impl<S: PgStatement> Query for Prepared<S> {
    type SqlType = diesel::sql_types::Untyped;
}

impl<S, Conn> diesel::RunQueryDsl<Conn> for Prepared<S> {}

/// Runs a query built with diesel's DSL on the backend's own connection rather than
/// through [`super::AnyConnection`]: there, on PostgreSQL, `eq_any` binds one array
/// (`= ANY($1)`) and the statement stays prepared, where the multi-backend form spells
/// out one parameter per value and is prepared again at every run.
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

    #[test]
    fn the_text_does_not_depend_on_the_number_of_values() {
        let text = |n: usize| {
            diesel::debug_query::<Pg, _>(&Prepared(Echo(vec!["a".into(); n])))
                .to_string()
                .split(" -- binds")
                .next()
                .map(str::to_owned)
        };
        assert_eq!(text(1), text(64));
        assert_eq!(text(3).as_deref(), Some("SELECT x FROM unnest($1) AS x"));
    }
}
