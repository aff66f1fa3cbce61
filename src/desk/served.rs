//! The "served" stamp: when a caption first left the desk (the API, a caption feed, a
//! CSV export, a digest, a webhook). From then on someone may hold its text, so
//! [`super::regenerate`] never rewrites it.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::store::CaptionId;
use crate::db::schema::captions;
use crate::db::AnyConnection;

/// Stamps these captions as served at `at`, leaving earlier stamps as they are. Readers
/// call it on every listing, so it only writes when something went out for the first
/// time: on SQLite a write, even one that changes nothing, waits for the database lock.
pub fn mark(
    conn: &mut AnyConnection,
    caption_ids: &[&CaptionId],
    at: NaiveDateTime,
) -> QueryResult<()> {
    // Chunked to stay well under SQLite's bound-parameter limit.
    for chunk in caption_ids.chunks(500) {
        let fresh: Vec<String> = captions::table
            .filter(captions::id.eq_any(chunk))
            .filter(captions::served_at.is_null())
            .select(captions::id)
            .load(conn)?;
        if fresh.is_empty() {
            continue;
        }
        diesel::update(
            captions::table
                .filter(captions::id.eq_any(&fresh))
                .filter(captions::served_at.is_null()),
        )
        .set(captions::served_at.eq(at))
        .execute(conn)?;
    }
    Ok(())
}
