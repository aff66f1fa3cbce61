//! Posting plans as stored and as typed: one per account and platform.
//!
//! Stored as text the page can show again: times per weekday as
//! `mon=09:30,17:30;tue=…`, quiet dates as `2026-12-24,2026-12-25`.

use std::collections::BTreeSet;

use chrono::{Duration, NaiveDate, NaiveTime};
use chrono_tz::Tz;
use diesel::prelude::*;

use super::slots::PostingPlan;
use crate::accounts::UserId;
use crate::captions::Platform;
use crate::db::schema::posting_plans;
use crate::db::{now, AnyConnection};

pub const WEEKDAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

/// The most posting times one weekday may list, and the highest daily maximum.
pub const MAX_TIMES_PER_DAY: usize = 24;
pub const MAX_PER_DAY: u32 = 50;

/// The plan an account has before it sets one: 09:30 and 17:30 on weekdays, at most two a
/// day, an hour apart, in UTC (the page asks for the zone).
pub fn default_plan(zone: Tz) -> PostingPlan {
    let weekday = vec![time(9, 30), time(17, 30)];
    PostingPlan {
        zone,
        times: [
            weekday.clone(),
            weekday.clone(),
            weekday.clone(),
            weekday.clone(),
            weekday,
            Vec::new(),
            Vec::new(),
        ],
        max_per_day: 2,
        min_spacing: Duration::minutes(60),
        quiet_dates: BTreeSet::new(),
    }
}

fn time(h: u32, m: u32) -> NaiveTime {
    NaiveTime::from_hms_opt(h, m, 0).unwrap_or_default()
}

/// One weekday's times as typed: `09:30 17:30` or `9:30, 17:30`; empty is a quiet weekday.
pub fn parse_times(input: &str) -> Result<Vec<NaiveTime>, String> {
    let mut times = Vec::new();
    for word in input.split([',', ' ', ';']).filter(|w| !w.is_empty()) {
        let parsed = NaiveTime::parse_from_str(word, "%H:%M")
            .map_err(|_| format!("{word:?} is not a time; write it as 09:30 or 17:05"))?;
        times.push(parsed);
    }
    times.sort();
    times.dedup();
    if times.len() > MAX_TIMES_PER_DAY {
        return Err(format!(
            "At most {MAX_TIMES_PER_DAY} posting times a day, please."
        ));
    }
    Ok(times)
}

/// Quiet dates as typed: `2026-12-24, 2026-12-25`.
pub fn parse_dates(input: &str) -> Result<BTreeSet<NaiveDate>, String> {
    input
        .split([',', ' ', ';', '\n'])
        .map(str::trim)
        .filter(|w| !w.is_empty())
        .map(|word| {
            NaiveDate::parse_from_str(word, "%Y-%m-%d")
                .map_err(|_| format!("{word:?} is not a date; write it as 2026-12-24"))
        })
        .collect()
}

pub fn format_times(times: &[NaiveTime]) -> String {
    times
        .iter()
        .map(|t| t.format("%H:%M").to_string())
        .collect::<Vec<_>>()
        .join(" ")
}

pub fn format_dates(dates: &BTreeSet<NaiveDate>) -> String {
    dates
        .iter()
        .map(|d| d.format("%Y-%m-%d").to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

fn week_to_text(times: &[Vec<NaiveTime>; 7]) -> String {
    WEEKDAYS
        .iter()
        .zip(times)
        .map(|(day, t)| format!("{day}={}", format_times(t).replace(' ', ",")))
        .collect::<Vec<_>>()
        .join(";")
}

fn week_from_text(text: &str) -> [Vec<NaiveTime>; 7] {
    let mut week: [Vec<NaiveTime>; 7] = Default::default();
    for part in text.split(';') {
        if let Some((day, times)) = part.split_once('=') {
            if let Some(i) = WEEKDAYS.iter().position(|d| *d == day.trim()) {
                // Stored by this module: a value that no longer reads is a quiet day, not
                // an error that would stop the whole queue.
                week[i] = parse_times(times).unwrap_or_default();
            }
        }
    }
    week
}

/// What a plan form submitted, checked; messages are fit to show.
pub struct PlanInput<'a> {
    pub time_zone: &'a str,
    pub times: [&'a str; 7],
    pub max_per_day: &'a str,
    pub min_spacing_minutes: &'a str,
    pub quiet_dates: &'a str,
}

pub fn parse_plan(input: &PlanInput<'_>) -> Result<PostingPlan, String> {
    let zone: Tz = input
        .time_zone
        .trim()
        .parse()
        .map_err(|_| "Choose a time zone from the list, like Europe/Berlin.".to_string())?;
    let mut times: [Vec<NaiveTime>; 7] = Default::default();
    for (slot, typed) in times.iter_mut().zip(input.times) {
        *slot = parse_times(typed)?;
    }
    let max_per_day = input
        .max_per_day
        .trim()
        .parse::<u32>()
        .ok()
        .filter(|n| (1..=MAX_PER_DAY).contains(n))
        .ok_or_else(|| format!("At most … a day is a whole number from 1 to {MAX_PER_DAY}."))?;
    let spacing = input
        .min_spacing_minutes
        .trim()
        .parse::<i64>()
        .ok()
        .filter(|m| (0..=24 * 60).contains(m))
        .ok_or_else(|| "The spacing is a number of minutes from 0 to 1440.".to_string())?;
    Ok(PostingPlan {
        zone,
        times,
        max_per_day,
        min_spacing: Duration::minutes(spacing),
        quiet_dates: parse_dates(input.quiet_dates)?,
    })
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = posting_plans)]
struct PlanRow {
    time_zone: String,
    times: String,
    max_per_day: i32,
    min_spacing_minutes: i32,
    quiet_dates: String,
}

/// The account's plan for `platform`: the one it saved, else the default in `zone`.
pub fn find(
    conn: &mut AnyConnection,
    user: &UserId,
    platform: Platform,
    zone: Tz,
) -> QueryResult<(PostingPlan, bool)> {
    let row: Option<PlanRow> = posting_plans::table
        .filter(posting_plans::user_id.eq(user.as_str()))
        .filter(posting_plans::platform.eq(platform.id()))
        .select(PlanRow::as_select())
        .first(conn)
        .optional()?;
    Ok(match row {
        Some(row) => (
            PostingPlan {
                zone: row.time_zone.parse().unwrap_or(zone),
                times: week_from_text(&row.times),
                max_per_day: u32::try_from(row.max_per_day).unwrap_or(1),
                min_spacing: Duration::minutes(i64::from(row.min_spacing_minutes.max(0))),
                quiet_dates: parse_dates(&row.quiet_dates).unwrap_or_default(),
            },
            true,
        ),
        None => (default_plan(zone), false),
    })
}

/// Saves the account's plan for `platform`, replacing the one before.
pub fn save(
    conn: &mut AnyConnection,
    user: &UserId,
    platform: Platform,
    plan: &PostingPlan,
) -> QueryResult<()> {
    conn.transaction(|conn| {
        diesel::delete(
            posting_plans::table
                .filter(posting_plans::user_id.eq(user.as_str()))
                .filter(posting_plans::platform.eq(platform.id())),
        )
        .execute(conn)?;
        diesel::insert_into(posting_plans::table)
            .values((
                posting_plans::user_id.eq(user.as_str()),
                posting_plans::platform.eq(platform.id()),
                posting_plans::time_zone.eq(plan.zone.name()),
                posting_plans::times.eq(week_to_text(&plan.times)),
                posting_plans::max_per_day.eq(i32::try_from(plan.max_per_day).unwrap_or(1)),
                posting_plans::min_spacing_minutes
                    .eq(i32::try_from(plan.min_spacing.num_minutes()).unwrap_or(0)),
                posting_plans::quiet_dates.eq(format_dates(&plan.quiet_dates)),
                posting_plans::updated_at.eq(now()),
            ))
            .execute(conn)?;
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_read_as_people_type_them() {
        assert_eq!(
            format_times(&parse_times(" 17:30, 9:30 09:30;12:00 ").unwrap()),
            "09:30 12:00 17:30"
        );
        assert_eq!(parse_times("").unwrap(), Vec::<NaiveTime>::new());
        for bad in ["9", "25:00", "09:60", "noon", "09:30pm"] {
            assert!(parse_times(bad).is_err(), "{bad}");
        }
        let many = (0..25)
            .map(|h| format!("{:02}:{:02}", h % 24, h))
            .collect::<Vec<_>>();
        assert!(parse_times(&many.join(" ")).is_err());
    }

    #[test]
    fn a_week_survives_its_stored_form() {
        let plan = default_plan(chrono_tz::Europe::Berlin);
        let text = week_to_text(&plan.times);
        assert_eq!(
            text,
            "mon=09:30,17:30;tue=09:30,17:30;wed=09:30,17:30;thu=09:30,17:30;fri=09:30,17:30;sat=;sun="
        );
        assert_eq!(week_from_text(&text), plan.times);
    }

    #[test]
    fn a_plan_form_is_checked_with_messages() {
        let mut input = PlanInput {
            time_zone: "Europe/Berlin",
            times: ["09:30", "", "", "", "", "", "10:00 11:00"],
            max_per_day: "3",
            min_spacing_minutes: "30",
            quiet_dates: "2026-12-24, 2026-12-25",
        };
        let plan = parse_plan(&input).unwrap();
        assert_eq!(plan.times[6].len(), 2);
        assert_eq!(plan.quiet_dates.len(), 2);
        input.time_zone = "Mars/Olympus";
        assert!(parse_plan(&input).unwrap_err().contains("time zone"));
        input.time_zone = "UTC";
        input.max_per_day = "0";
        assert!(parse_plan(&input).is_err());
        input.max_per_day = "2";
        input.min_spacing_minutes = "-5";
        assert!(parse_plan(&input).is_err());
        input.min_spacing_minutes = "0";
        input.quiet_dates = "24.12.2026";
        assert!(parse_plan(&input).unwrap_err().contains("not a date"));
    }
}
