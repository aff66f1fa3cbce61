//! An account's digest settings (the `digest_settings` table); no row means off.

use chrono::{NaiveDateTime, Weekday};
use chrono_tz::Tz;
use diesel::prelude::*;

use super::schedule::{Frequency, BATCH_MINUTES};
use super::DigestError;
use crate::accounts::UserId;
use crate::captions::Platform;
use crate::db::schema::digest_settings;
use crate::db::{now, AnyConnection};

/// What the account chose, as the settings page edits it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DigestPrefs {
    pub frequency: Frequency,
    pub time_zone: Tz,
}

impl Default for DigestPrefs {
    fn default() -> Self {
        DigestPrefs {
            frequency: Frequency::Off,
            time_zone: Tz::UTC,
        }
    }
}

/// The stored row: the choice, the schedule's progress, the last delivery error.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = digest_settings)]
pub struct DigestSettingsRow {
    pub user_id: String,
    pub frequency: String,
    pub batch_minutes: i32,
    pub weekday: i32,
    pub hour: i32,
    pub time_zone: String,
    pub enabled_at: NaiveDateTime,
    pub last_period_at: NaiveDateTime,
    pub last_error: Option<String>,
    pub last_error_at: Option<NaiveDateTime>,
    pub updated_at: NaiveDateTime,
    /// The platforms digests carry (comma-separated ids); empty for every platform.
    pub platforms: String,
    /// What digests hold: [`DigestContents::id`].
    pub contents: String,
}

/// What a digest holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DigestContents {
    /// The captions made since the previous digest.
    NewCaptions,
    /// Today's queue: the captions that go out today, per platform, at their times.
    TodaysQueue,
}

impl DigestContents {
    pub fn id(self) -> &'static str {
        match self {
            DigestContents::NewCaptions => "new",
            DigestContents::TodaysQueue => "queue",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        match value.trim() {
            "new" => Some(DigestContents::NewCaptions),
            "queue" => Some(DigestContents::TodaysQueue),
            _ => None,
        }
    }
}

/// Defaults the form shows for fields the current frequency does not use.
const DEFAULT_HOUR: i32 = 8;
const DEFAULT_BATCH: i32 = 60;

impl DigestSettingsRow {
    /// What the account's digests hold; a value damaged by hand reads as the new captions.
    pub fn contents(&self) -> DigestContents {
        DigestContents::parse(&self.contents).unwrap_or(DigestContents::NewCaptions)
    }

    /// The stored choice; a row damaged by hand reads as "off" rather than failing a pass.
    pub fn prefs(&self) -> DigestPrefs {
        let hour = u32::try_from(self.hour.clamp(0, 23)).unwrap_or(0);
        let frequency = match self.frequency.as_str() {
            "batched" => Frequency::Batched {
                minutes: u32::try_from(self.batch_minutes).unwrap_or(60),
            },
            "daily" => Frequency::Daily { hour },
            "weekly" => Frequency::Weekly {
                weekday: weekday_from_index(self.weekday).unwrap_or(Weekday::Mon),
                hour,
            },
            _ => Frequency::Off,
        };
        DigestPrefs {
            frequency,
            time_zone: self.time_zone.parse().unwrap_or(Tz::UTC),
        }
    }
}

/// The platforms a stored list names, in the desk's order; every platform when it names
/// none (the default, and a list damaged by hand).
pub fn platforms_from_stored(stored: &str) -> Vec<Platform> {
    let named: Vec<Platform> = stored
        .split(',')
        .filter_map(|id| id.trim().parse().ok())
        .collect();
    if named.is_empty() {
        return Platform::ALL.to_vec();
    }
    Platform::ALL
        .iter()
        .copied()
        .filter(|p| named.contains(p))
        .collect()
}

/// The platforms the account's digests carry.
pub fn platforms(conn: &mut AnyConnection, user: &UserId) -> QueryResult<Vec<Platform>> {
    Ok(platforms_from_stored(
        &find(conn, user)?.map(|r| r.platforms).unwrap_or_default(),
    ))
}

/// Keeps the platforms the account's digests carry (at least one; call after [`save`],
/// which makes the row).
pub fn save_platforms(
    conn: &mut AnyConnection,
    user: &UserId,
    platforms: &[Platform],
) -> QueryResult<()> {
    let stored = if platforms.is_empty() || Platform::ALL.iter().all(|p| platforms.contains(p)) {
        String::new()
    } else {
        platforms
            .iter()
            .map(|p| p.id())
            .collect::<Vec<_>>()
            .join(",")
    };
    diesel::update(digest_settings::table.find(user.as_str()))
        .set(digest_settings::platforms.eq(stored))
        .execute(conn)?;
    Ok(())
}

/// Keeps what the account's digests hold (call after [`save`], which makes the row). A
/// change starts the new captions' count afresh: switching back from today's queue mails
/// the captions made from then on, not every one made while the queue was mailed.
pub fn save_contents(
    conn: &mut AnyConnection,
    user: &UserId,
    contents: DigestContents,
) -> QueryResult<()> {
    diesel::update(
        digest_settings::table
            .find(user.as_str())
            .filter(digest_settings::contents.ne(contents.id())),
    )
    .set((
        digest_settings::contents.eq(contents.id()),
        digest_settings::enabled_at.eq(now()),
    ))
    .execute(conn)?;
    Ok(())
}

pub fn weekday_from_index(i: i32) -> Option<Weekday> {
    u8::try_from(i).ok().and_then(|i| Weekday::try_from(i).ok())
}

pub fn frequency_id(f: Frequency) -> &'static str {
    match f {
        Frequency::Off => "off",
        Frequency::Batched { .. } => "batched",
        Frequency::Daily { .. } => "daily",
        Frequency::Weekly { .. } => "weekly",
    }
}

/// Reads and checks what a form submitted; messages are fit to show.
pub fn parse_prefs(
    frequency: &str,
    batch_minutes: &str,
    weekday: &str,
    hour: &str,
    time_zone: &str,
) -> Result<DigestPrefs, DigestError> {
    let invalid = |m: &str| DigestError::Invalid(m.to_string());
    let time_zone: Tz = time_zone
        .trim()
        .parse()
        .map_err(|_| invalid("Choose a time zone from the list, like Europe/Berlin."))?;
    let hour = || -> Result<u32, DigestError> {
        hour.trim()
            .parse::<u32>()
            .ok()
            .filter(|h| *h <= 23)
            .ok_or_else(|| invalid("The hour is a whole number from 0 to 23."))
    };
    let frequency = match frequency {
        "off" => Frequency::Off,
        "batched" => Frequency::Batched {
            minutes: batch_minutes
                .trim()
                .parse::<u32>()
                .ok()
                .filter(|m| BATCH_MINUTES.contains(m))
                .ok_or_else(|| {
                    invalid(&format!(
                        "Batch mails every {} to {} minutes.",
                        BATCH_MINUTES.start(),
                        BATCH_MINUTES.end()
                    ))
                })?,
        },
        "daily" => Frequency::Daily { hour: hour()? },
        "weekly" => Frequency::Weekly {
            weekday: weekday
                .trim()
                .parse::<i32>()
                .ok()
                .and_then(weekday_from_index)
                .ok_or_else(|| invalid("Choose a weekday."))?,
            hour: hour()?,
        },
        _ => return Err(invalid("Choose how often digests come.")),
    };
    Ok(DigestPrefs {
        frequency,
        time_zone,
    })
}

pub fn find(conn: &mut AnyConnection, user: &UserId) -> QueryResult<Option<DigestSettingsRow>> {
    digest_settings::table
        .find(user.as_str())
        .select(DigestSettingsRow::as_select())
        .first(conn)
        .optional()
}

/// Saves the account's choice. Turning digests on (from off) starts them now: captions
/// made before are not mailed, and the first digest is the next period's.
pub fn save(conn: &mut AnyConnection, user: &UserId, prefs: &DigestPrefs) -> QueryResult<()> {
    let at = now();
    let existing = find(conn, user)?;
    let (batch, weekday, hour) = match prefs.frequency {
        Frequency::Off => existing
            .as_ref()
            .map(|r| (r.batch_minutes, r.weekday, r.hour))
            .unwrap_or((DEFAULT_BATCH, 0, DEFAULT_HOUR)),
        Frequency::Batched { minutes } => (
            i32::try_from(minutes).unwrap_or(DEFAULT_BATCH),
            existing.as_ref().map(|r| r.weekday).unwrap_or(0),
            existing.as_ref().map(|r| r.hour).unwrap_or(DEFAULT_HOUR),
        ),
        Frequency::Daily { hour } => (
            existing
                .as_ref()
                .map(|r| r.batch_minutes)
                .unwrap_or(DEFAULT_BATCH),
            existing.as_ref().map(|r| r.weekday).unwrap_or(0),
            i32::try_from(hour).unwrap_or(DEFAULT_HOUR),
        ),
        Frequency::Weekly { weekday, hour } => (
            existing
                .as_ref()
                .map(|r| r.batch_minutes)
                .unwrap_or(DEFAULT_BATCH),
            i32::from(weekday.num_days_from_monday() as u8),
            i32::try_from(hour).unwrap_or(DEFAULT_HOUR),
        ),
    };
    let was_on = existing
        .as_ref()
        .is_some_and(|r| r.prefs().frequency != Frequency::Off);
    let turning_on = !was_on && prefs.frequency != Frequency::Off;
    match existing {
        None => {
            diesel::insert_into(digest_settings::table)
                .values((
                    digest_settings::user_id.eq(user.as_str()),
                    digest_settings::frequency.eq(frequency_id(prefs.frequency)),
                    digest_settings::batch_minutes.eq(batch),
                    digest_settings::weekday.eq(weekday),
                    digest_settings::hour.eq(hour),
                    digest_settings::time_zone.eq(prefs.time_zone.name()),
                    digest_settings::enabled_at.eq(at),
                    digest_settings::last_period_at.eq(at),
                    digest_settings::updated_at.eq(at),
                ))
                .execute(conn)?;
        }
        Some(row) => {
            let (enabled_at, last_period_at) = if turning_on {
                (at, at)
            } else {
                (row.enabled_at, row.last_period_at)
            };
            diesel::update(digest_settings::table.find(user.as_str()))
                .set((
                    digest_settings::frequency.eq(frequency_id(prefs.frequency)),
                    digest_settings::batch_minutes.eq(batch),
                    digest_settings::weekday.eq(weekday),
                    digest_settings::hour.eq(hour),
                    digest_settings::time_zone.eq(prefs.time_zone.name()),
                    digest_settings::enabled_at.eq(enabled_at),
                    digest_settings::last_period_at.eq(last_period_at),
                    digest_settings::updated_at.eq(at),
                ))
                .execute(conn)?;
        }
    }
    Ok(())
}

/// Turns digests off (the unsubscribe link); the other choices stay for next time.
pub fn turn_off(conn: &mut AnyConnection, user: &UserId) -> QueryResult<()> {
    diesel::update(digest_settings::table.find(user.as_str()))
        .set((
            digest_settings::frequency.eq("off"),
            digest_settings::updated_at.eq(now()),
        ))
        .execute(conn)?;
    Ok(())
}

/// The accounts whose digests are on.
pub fn active(conn: &mut AnyConnection) -> QueryResult<Vec<DigestSettingsRow>> {
    digest_settings::table
        .filter(digest_settings::frequency.ne("off"))
        .select(DigestSettingsRow::as_select())
        .load(conn)
}

/// Shows a failed delivery on the settings page (or clears it once one succeeds).
pub fn record_delivery(
    conn: &mut AnyConnection,
    user_id: &str,
    error: Option<&str>,
) -> QueryResult<()> {
    diesel::update(digest_settings::table.find(user_id))
        .set((
            digest_settings::last_error.eq(error),
            digest_settings::last_error_at.eq(error.map(|_| now())),
        ))
        .execute(conn)?;
    Ok(())
}

/// Accounts whose last digest could not be delivered: (account, error, when).
pub fn failing(
    conn: &mut AnyConnection,
    limit: i64,
) -> QueryResult<Vec<(String, String, Option<NaiveDateTime>)>> {
    let rows: Vec<(String, Option<String>, Option<NaiveDateTime>)> = digest_settings::table
        .filter(digest_settings::last_error.is_not_null())
        .order(digest_settings::last_error_at.desc())
        .limit(limit)
        .select((
            digest_settings::user_id,
            digest_settings::last_error,
            digest_settings::last_error_at,
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(user, error, at)| (user, error.unwrap_or_default(), at))
        .collect())
}
