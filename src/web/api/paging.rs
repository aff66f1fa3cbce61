//! What every listing of the API shares: the page size and the cursor to the next page.

use base64::Engine as _;
use chrono::NaiveDateTime;

use super::error::ApiError;

const DEFAULT_LIMIT: u32 = 50;
const MAX_LIMIT: u32 = 200;

/// The page size asked for, or the default; anything outside 1 to 200 is refused.
pub(super) fn page_limit(limit: Option<u32>) -> Result<u32, ApiError> {
    let limit = limit.unwrap_or(DEFAULT_LIMIT);
    if (1..=MAX_LIMIT).contains(&limit) {
        Ok(limit)
    } else {
        Err(ApiError::Invalid(format!(
            "limit must be from 1 to {MAX_LIMIT}"
        )))
    }
}

/// A cursor past the row made at `at` with this id (rows are listed newest first, by
/// time then id, so a cursor never skips or repeats a row made in the same instant).
pub(super) fn encode_cursor(at: &NaiveDateTime, id: &str) -> String {
    let raw = format!("{}:{id}", at.and_utc().timestamp_micros());
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(raw)
}

pub(super) fn decode_cursor(cursor: &str) -> Result<(NaiveDateTime, String), ApiError> {
    let invalid = || ApiError::Invalid("cursor: not a cursor from a previous page".into());
    let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(cursor)
        .map_err(|_| invalid())?;
    let raw = String::from_utf8(raw).map_err(|_| invalid())?;
    let (micros, id) = raw.split_once(':').ok_or_else(invalid)?;
    let micros: i64 = micros.parse().map_err(|_| invalid())?;
    let at = chrono::DateTime::from_timestamp_micros(micros)
        .ok_or_else(invalid)?
        .naive_utc();
    Ok((at, id.to_string()))
}
