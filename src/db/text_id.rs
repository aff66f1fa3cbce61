//! Id newtypes over the `Text` id columns. Every table's ids are strings in both
//! databases, so a feed's id and a post's would pass for one another; each domain module
//! declares its own id type with [`crate::text_id!`] and the compiler tells them apart.

/// Declares `pub struct $name(pub String)`, an id read from and bound to `Text` columns
/// as a string is, on either backend (and on [`crate::db::AnyConnection`]'s), so rows and
/// filters hold the typed id with no conversion.
///
/// It derefs to `str`: a function not converted yet, that takes `&str`, still takes it
/// as it took the string. The check is in the converted functions' signatures: a
/// function that wants a feed's id takes `&FeedId`, and a post's id is refused.
///
/// ```no_run
/// fn newest(conn: &mut captionfeed::db::AnyConnection, post: &captionfeed::feeds::store::Post) {
///     let _ = captionfeed::feeds::store::latest_feed_posts(conn, &post.feed_id, 10);
/// }
/// ```
///
/// The same call with the post's own id does not compile:
///
/// ```compile_fail
/// fn newest(conn: &mut captionfeed::db::AnyConnection, post: &captionfeed::feeds::store::Post) {
///     let _ = captionfeed::feeds::store::latest_feed_posts(conn, &post.id, 10);
/// }
/// ```
///
/// A caption is found by its own id:
///
/// ```no_run
/// use captionfeed::accounts::UserId;
/// use captionfeed::desk::store::StoredCaption;
///
/// fn reread(conn: &mut captionfeed::db::AnyConnection, user: &UserId, caption: &StoredCaption) {
///     let _ = captionfeed::desk::get(conn, user, &caption.id);
/// }
/// ```
///
/// and not by its post's:
///
/// ```compile_fail
/// use captionfeed::accounts::UserId;
/// use captionfeed::desk::store::StoredCaption;
///
/// fn reread(conn: &mut captionfeed::db::AnyConnection, user: &UserId, caption: &StoredCaption) {
///     let _ = captionfeed::desk::get(conn, user, &caption.post_id);
/// }
/// ```
#[macro_export]
macro_rules! text_id {
    ($(#[$meta:meta])* $vis:vis struct $name:ident;) => {
        $(#[$meta])*
        #[derive(
            Debug,
            Clone,
            PartialEq,
            Eq,
            Hash,
            PartialOrd,
            Ord,
            serde::Serialize,
            serde::Deserialize,
            diesel::AsExpression,
            diesel::FromSqlRow,
        )]
        #[serde(transparent)]
        #[diesel(sql_type = diesel::sql_types::Text)]
        $vis struct $name(pub String);

        impl $name {
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl std::ops::Deref for $name {
            type Target = str;

            fn deref(&self) -> &str {
                &self.0
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl From<String> for $name {
            fn from(id: String) -> Self {
                $name(id)
            }
        }

        impl From<&str> for $name {
            fn from(id: &str) -> Self {
                $name(id.to_owned())
            }
        }

        impl<DB> diesel::deserialize::FromSql<diesel::sql_types::Text, DB> for $name
        where
            DB: diesel::backend::Backend,
            String: diesel::deserialize::FromSql<diesel::sql_types::Text, DB>,
        {
            fn from_sql(bytes: DB::RawValue<'_>) -> diesel::deserialize::Result<Self> {
                <String as diesel::deserialize::FromSql<diesel::sql_types::Text, DB>>::from_sql(bytes)
                    .map($name)
            }
        }

        impl<DB> diesel::serialize::ToSql<diesel::sql_types::Text, DB> for $name
        where
            DB: diesel::backend::Backend,
            str: diesel::serialize::ToSql<diesel::sql_types::Text, DB>,
        {
            fn to_sql<'b>(
                &'b self,
                out: &mut diesel::serialize::Output<'b, '_, DB>,
            ) -> diesel::serialize::Result {
                <str as diesel::serialize::ToSql<diesel::sql_types::Text, DB>>::to_sql(
                    self.0.as_str(),
                    out,
                )
            }
        }
    };
}
