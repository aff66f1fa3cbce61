//! When digests are due: a pure function of the account's settings and the time.
//!
//! A digest closes a *period*; the period's start is a moment in UTC, and its key is
//! stored unique per account, so whatever the number of workers or passes, a period
//! yields at most one digest.

use chrono::{DateTime, Datelike as _, Duration, NaiveDate, TimeZone as _, Utc, Weekday};
use chrono_tz::Tz;

/// How often an account gets digests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Frequency {
    Off,
    /// As captions come, at most one mail per this many minutes.
    Batched {
        minutes: u32,
    },
    /// Every day at the hour, local time.
    Daily {
        hour: u32,
    },
    /// Every week on the weekday at the hour, local time.
    Weekly {
        weekday: Weekday,
        hour: u32,
    },
}

impl Frequency {
    /// Whether a period passes even when nothing is pending (a daily digest that finds
    /// nothing at 8:00 waits for tomorrow's 8:00, rather than going out with the next caption).
    pub fn is_calendar(self) -> bool {
        matches!(self, Frequency::Daily { .. } | Frequency::Weekly { .. })
    }
}

/// The smallest and largest batching windows the settings page accepts.
pub const BATCH_MINUTES: std::ops::RangeInclusive<u32> = 5..=1440;

/// The start of the latest period at or before `now`, or `None` when digests are off.
pub fn latest_period(frequency: Frequency, zone: Tz, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    match frequency {
        Frequency::Off => None,
        Frequency::Batched { minutes } => {
            // A grid from the epoch, the same on every replica.
            let step = i64::from(minutes.clamp(*BATCH_MINUTES.start(), *BATCH_MINUTES.end())) * 60;
            let at = now.timestamp() - now.timestamp().rem_euclid(step);
            DateTime::from_timestamp(at, 0)
        }
        Frequency::Daily { hour } => {
            let today = now.with_timezone(&zone).date_naive();
            // Yesterday's slot is the answer until today's has come.
            [today, today.pred_opt()?, today.pred_opt()?.pred_opt()?]
                .into_iter()
                .filter_map(|day| local_hour(zone, day, hour))
                .find(|slot| *slot <= now)
        }
        Frequency::Weekly { weekday, hour } => {
            let today = now.with_timezone(&zone).date_naive();
            (0..=14)
                .filter_map(|back| today.checked_sub_signed(Duration::days(back)))
                .filter(|day| day.weekday() == weekday)
                .filter_map(|day| local_hour(zone, day, hour))
                .find(|slot| *slot <= now)
        }
    }
}

/// The UTC moment of `hour`:00 local time on `day`. On the autumn change the hour comes
/// twice and the first is taken; on the spring change it may not exist, and the first
/// local time after the gap is taken, so a digest is never dropped for a day.
pub fn local_hour(zone: Tz, day: NaiveDate, hour: u32) -> Option<DateTime<Utc>> {
    let start = day.and_hms_opt(hour.min(23), 0, 0)?;
    (0..=8).find_map(|quarter| {
        zone.from_local_datetime(&(start + Duration::minutes(15 * quarter)))
            .earliest()
            .map(|t| t.with_timezone(&Utc))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono_tz::{America, Asia, Europe, UTC};

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn daily(hour: u32) -> Frequency {
        Frequency::Daily { hour }
    }

    #[test]
    fn off_has_no_period() {
        assert_eq!(
            latest_period(Frequency::Off, UTC, utc("2026-11-23T08:00:00Z")),
            None
        );
    }

    #[test]
    fn daily_waits_for_the_local_hour_then_stays_on_it_until_the_next_day() {
        let zone = Europe::Berlin; // UTC+1 in November
        let at = |now| latest_period(daily(8), zone, utc(now)).unwrap();
        assert_eq!(at("2026-11-23T06:59:59Z"), utc("2026-11-22T07:00:00Z"));
        assert_eq!(at("2026-11-23T07:00:00Z"), utc("2026-11-23T07:00:00Z"));
        assert_eq!(at("2026-11-24T06:00:00Z"), utc("2026-11-23T07:00:00Z"));
    }

    #[test]
    fn the_same_hour_is_a_different_instant_in_each_zone() {
        let now = utc("2026-11-23T23:30:00Z");
        assert_eq!(
            latest_period(daily(8), Asia::Tokyo, now).unwrap(),
            utc("2026-11-23T23:00:00Z"),
            "08:00 in Tokyo on the 24th is 23:00 UTC on the 23rd"
        );
        assert_eq!(
            latest_period(daily(8), America::Los_Angeles, now).unwrap(),
            utc("2026-11-23T16:00:00Z")
        );
    }

    #[test]
    fn daily_follows_the_local_hour_across_daylight_saving_changes() {
        let zone = America::New_York;
        // 8:00 in New York is 12:00 UTC in summer and 13:00 UTC in winter (change on 1 Nov 2026).
        assert_eq!(
            latest_period(daily(8), zone, utc("2026-10-31T20:00:00Z")).unwrap(),
            utc("2026-10-31T12:00:00Z")
        );
        assert_eq!(
            latest_period(daily(8), zone, utc("2026-11-01T20:00:00Z")).unwrap(),
            utc("2026-11-01T13:00:00Z")
        );
    }

    #[test]
    fn an_hour_skipped_by_spring_forward_sends_right_after_the_gap() {
        // Europe/Berlin skips 02:00-03:00 on 29 March 2026: 02:00 local does not exist.
        let slot = local_hour(
            Europe::Berlin,
            NaiveDate::from_ymd_opt(2026, 3, 29).unwrap(),
            2,
        );
        assert_eq!(slot.unwrap(), utc("2026-03-29T01:00:00Z"), "03:00 CEST");
        let now = utc("2026-03-29T05:00:00Z");
        assert_eq!(
            latest_period(daily(2), Europe::Berlin, now).unwrap(),
            utc("2026-03-29T01:00:00Z")
        );
    }

    #[test]
    fn an_hour_repeated_by_fall_back_is_sent_once_at_its_first_occurrence() {
        // Europe/Berlin repeats 02:00-03:00 on 25 October 2026.
        let first = utc("2026-10-25T00:00:00Z"); // 02:00 CEST
        assert_eq!(
            local_hour(
                Europe::Berlin,
                NaiveDate::from_ymd_opt(2026, 10, 25).unwrap(),
                2
            )
            .unwrap(),
            first
        );
        // During the second 02:00 (CET), the period is still the first one: no second digest.
        assert_eq!(
            latest_period(daily(2), Europe::Berlin, utc("2026-10-25T01:30:00Z")).unwrap(),
            first
        );
    }

    #[test]
    fn weekly_goes_on_the_chosen_local_weekday() {
        let weekly = Frequency::Weekly {
            weekday: Weekday::Mon,
            hour: 9,
        };
        // Monday 23 Nov 2026 09:00 in Sydney (UTC+11) is Sunday 22:00 UTC.
        let zone = chrono_tz::Australia::Sydney;
        assert_eq!(
            latest_period(weekly, zone, utc("2026-11-22T21:59:00Z")).unwrap(),
            utc("2026-11-15T22:00:00Z")
        );
        assert_eq!(
            latest_period(weekly, zone, utc("2026-11-22T22:00:00Z")).unwrap(),
            utc("2026-11-22T22:00:00Z")
        );
        assert_eq!(
            latest_period(weekly, zone, utc("2026-11-28T12:00:00Z")).unwrap(),
            utc("2026-11-22T22:00:00Z")
        );
    }

    #[test]
    fn batched_periods_are_a_fixed_grid() {
        let every = Frequency::Batched { minutes: 15 };
        assert_eq!(
            latest_period(every, UTC, utc("2026-11-23T10:14:59Z")).unwrap(),
            utc("2026-11-23T10:00:00Z")
        );
        assert_eq!(
            latest_period(every, UTC, utc("2026-11-23T10:15:00Z")).unwrap(),
            utc("2026-11-23T10:15:00Z")
        );
    }
}
