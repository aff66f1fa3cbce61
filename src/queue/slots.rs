//! When queued captions go out: the next free posting times of a plan.
//!
//! Pure: the plan, the moment to start from and the times already used go in, the slots
//! come out, so the queue page, the publishing worker and the tests agree. The plan's
//! times are local wall-clock times in the account's zone; across a daylight-saving change
//! they stay on the clock (09:30 is 09:30 before and after), a time that does not exist
//! that day (spring forward) moves to the first local time after the gap, and a time that
//! comes twice (fall back) is taken at its first occurrence, as the digests do.
//!
//! Nothing is dropped: a caption that does not fit in a day (its times taken, or its
//! `max_per_day` reached) takes the next free time of a later day. Only a plan without any
//! posting time gives no slot, and the queue page says so.

use std::collections::BTreeSet;

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;

/// How far ahead slots are looked for. Plans whose every day is quiet for longer than this
/// give no slot rather than searching forever.
pub const HORIZON_DAYS: i64 = 731;

/// One account's posting rules for one platform.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PostingPlan {
    pub zone: Tz,
    /// The local posting times of each weekday, Monday first. A weekday without times is a
    /// quiet weekday.
    pub times: [Vec<NaiveTime>; 7],
    /// At most this many posts in one local day, counting those already made.
    pub max_per_day: u32,
    /// No two posts closer together than this.
    pub min_spacing: Duration,
    /// Days without posts (holidays), in the plan's zone.
    pub quiet_dates: BTreeSet<NaiveDate>,
}

impl PostingPlan {
    /// Whether the plan has any posting time at all.
    pub fn has_times(&self) -> bool {
        self.times.iter().any(|day| !day.is_empty())
    }

    fn times_on(&self, day: NaiveDate) -> &[NaiveTime] {
        let index = day.weekday().num_days_from_monday() as usize;
        self.times.get(index).map(Vec::as_slice).unwrap_or(&[])
    }

    fn local_day(&self, at: DateTime<Utc>) -> NaiveDate {
        at.with_timezone(&self.zone).date_naive()
    }
}

/// The UTC moment of `time` local on `day`: the first occurrence when the clock goes back,
/// the first local time after the gap when it skips `time`.
pub fn local_moment(zone: Tz, day: NaiveDate, time: NaiveTime) -> Option<DateTime<Utc>> {
    let start = day.and_time(time);
    let utc = |local: chrono::NaiveDateTime| {
        zone.from_local_datetime(&local)
            .earliest()
            .map(|t| t.with_timezone(&Utc))
    };
    utc(start).or_else(|| {
        // In a gap: the first quarter hour after it (gaps are at most two hours and end on
        // a quarter hour in every zone in use), so 02:30 in a 02:00-03:00 gap is 03:00.
        let floor = start - Duration::seconds(start.and_utc().timestamp().rem_euclid(900));
        (1..=8).find_map(|quarter| utc(floor + Duration::minutes(15 * quarter)))
    })
}

/// The next `count` free posting times at or after `from`, in order. `taken` holds the
/// times already used on this platform (posts made or fixed), which count against each
/// day's maximum and the spacing. Fewer than `count` only when the plan has no time within
/// [`HORIZON_DAYS`].
pub fn next_slots(
    plan: &PostingPlan,
    from: DateTime<Utc>,
    taken: &[DateTime<Utc>],
    count: usize,
) -> Vec<DateTime<Utc>> {
    let mut slots = Vec::with_capacity(count);
    if count == 0 || !plan.has_times() || plan.max_per_day == 0 {
        return slots;
    }
    let mut used: Vec<DateTime<Utc>> = taken.to_vec();
    let first_day = plan.local_day(from);
    for offset in 0..HORIZON_DAYS {
        let Some(day) = first_day.checked_add_signed(Duration::days(offset)) else {
            break;
        };
        if plan.quiet_dates.contains(&day) {
            continue;
        }
        let mut on_day = used.iter().filter(|t| plan.local_day(**t) == day).count();
        for &time in plan.times_on(day) {
            if on_day >= plan.max_per_day as usize {
                break;
            }
            let Some(at) = local_moment(plan.zone, day, time) else {
                continue;
            };
            // A time moved past a gap may land on the next day's date in rare zones; it
            // belongs to the day it is on.
            if at < from || plan.local_day(at) != day {
                continue;
            }
            let too_close = used
                .iter()
                .any(|t| *t == at || (*t - at).abs() < plan.min_spacing);
            if too_close {
                continue;
            }
            used.push(at);
            slots.push(at);
            on_day += 1;
            if slots.len() == count {
                return slots;
            }
        }
    }
    slots
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono_tz::{America, Europe, Pacific, UTC};

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s)
            .expect("a time")
            .with_timezone(&Utc)
    }

    fn hm(s: &str) -> NaiveTime {
        NaiveTime::parse_from_str(s, "%H:%M").expect("HH:MM")
    }

    fn date(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("a date")
    }

    /// 09:30 and 17:30 on weekdays, nothing on weekends.
    fn office_hours(zone: Tz) -> PostingPlan {
        let weekday = vec![hm("09:30"), hm("17:30")];
        PostingPlan {
            zone,
            times: [
                weekday.clone(),
                weekday.clone(),
                weekday.clone(),
                weekday.clone(),
                weekday,
                vec![],
                vec![],
            ],
            max_per_day: 5,
            min_spacing: Duration::zero(),
            quiet_dates: BTreeSet::new(),
        }
    }

    fn every_day(zone: Tz, times: &[&str]) -> PostingPlan {
        let times: Vec<NaiveTime> = times.iter().map(|t| hm(t)).collect();
        PostingPlan {
            zone,
            times: std::array::from_fn(|_| times.clone()),
            max_per_day: 10,
            min_spacing: Duration::zero(),
            quiet_dates: BTreeSet::new(),
        }
    }

    fn strings(slots: &[DateTime<Utc>]) -> Vec<String> {
        slots.iter().map(|t| t.to_rfc3339()).collect()
    }

    #[test]
    fn the_next_times_of_the_plan_in_order() {
        // Monday 2026-12-07, 08:00 in Berlin (07:00 UTC).
        let plan = office_hours(Europe::Berlin);
        let slots = next_slots(&plan, at("2026-12-07T07:00:00Z"), &[], 3);
        assert_eq!(
            strings(&slots),
            [
                "2026-12-07T08:30:00+00:00",
                "2026-12-07T16:30:00+00:00",
                "2026-12-08T08:30:00+00:00"
            ]
        );
    }

    #[test]
    fn times_already_past_today_are_not_offered() {
        let plan = office_hours(Europe::Berlin);
        let slots = next_slots(&plan, at("2026-12-07T12:00:00Z"), &[], 2);
        assert_eq!(
            strings(&slots),
            ["2026-12-07T16:30:00+00:00", "2026-12-08T08:30:00+00:00"]
        );
        // A slot exactly at `from` is still free.
        let exact = next_slots(&plan, at("2026-12-07T08:30:00Z"), &[], 1);
        assert_eq!(strings(&exact), ["2026-12-07T08:30:00+00:00"]);
    }

    #[test]
    fn quiet_weekdays_and_quiet_dates_are_skipped() {
        let mut plan = office_hours(UTC);
        // Friday 2026-12-11 evening: the weekend is quiet, Monday the 14th a holiday.
        plan.quiet_dates.insert(date("2026-12-14"));
        let slots = next_slots(&plan, at("2026-12-11T18:00:00Z"), &[], 2);
        assert_eq!(
            strings(&slots),
            ["2026-12-15T09:30:00+00:00", "2026-12-15T17:30:00+00:00"]
        );
    }

    #[test]
    fn a_full_day_carries_over_to_the_next_free_time() {
        let mut plan = every_day(UTC, &["09:00", "12:00", "15:00", "18:00"]);
        plan.max_per_day = 2;
        // Two posts went out this morning: today is full.
        let taken = [at("2026-12-07T08:00:00Z"), at("2026-12-07T09:00:00Z")];
        let slots = next_slots(&plan, at("2026-12-07T10:00:00Z"), &taken, 5);
        assert_eq!(
            strings(&slots),
            [
                "2026-12-08T09:00:00+00:00",
                "2026-12-08T12:00:00+00:00",
                "2026-12-09T09:00:00+00:00",
                "2026-12-09T12:00:00+00:00",
                "2026-12-10T09:00:00+00:00"
            ]
        );
    }

    #[test]
    fn many_captions_all_get_a_time() {
        let plan = office_hours(Europe::Berlin);
        let slots = next_slots(&plan, at("2026-12-07T07:00:00Z"), &[], 500);
        assert_eq!(slots.len(), 500, "nothing is dropped");
        assert!(slots.windows(2).all(|w| w[0] < w[1]));
        // 10 a week: 500 captions reach 50 weeks ahead.
        assert_eq!(
            plan.local_day(slots[499]),
            date("2027-11-19"),
            "{}",
            slots[499]
        );
    }

    #[test]
    fn the_daily_maximum_counts_local_days() {
        // Auckland is UTC+13 in December: its 09:00 and 23:00 are on two UTC dates.
        let mut plan = every_day(Pacific::Auckland, &["09:00", "23:00"]);
        plan.max_per_day = 1;
        // Posted at 08:00 local on the 8th (19:00 UTC on the 7th): the 8th is full.
        let taken = [at("2026-12-07T19:00:00Z")];
        let slots = next_slots(&plan, at("2026-12-07T19:30:00Z"), &taken, 2);
        assert_eq!(
            strings(&slots),
            ["2026-12-08T20:00:00+00:00", "2026-12-09T20:00:00+00:00"],
            "09:00 local on the 9th and the 10th"
        );
    }

    #[test]
    fn spacing_keeps_posts_apart_from_each_other_and_from_posts_made() {
        let mut plan = every_day(UTC, &["09:00", "09:10", "09:50", "12:00"]);
        plan.min_spacing = Duration::minutes(45);
        let slots = next_slots(&plan, at("2026-12-07T00:00:00Z"), &[], 3);
        assert_eq!(
            strings(&slots),
            [
                "2026-12-07T09:00:00+00:00",
                "2026-12-07T09:50:00+00:00",
                "2026-12-07T12:00:00+00:00"
            ]
        );
        // A post made by hand at 11:30 keeps 12:00 free of queued ones too.
        let taken = [at("2026-12-07T11:30:00Z")];
        let slots = next_slots(&plan, at("2026-12-07T10:00:00Z"), &taken, 1);
        assert_eq!(strings(&slots), ["2026-12-08T09:00:00+00:00"]);
    }

    #[test]
    fn local_times_stay_on_the_clock_across_the_spring_change() {
        // Berlin moves from UTC+1 to UTC+2 on Sunday 2026-03-29.
        let plan = every_day(Europe::Berlin, &["09:30"]);
        let slots = next_slots(&plan, at("2026-03-28T00:00:00Z"), &[], 3);
        assert_eq!(
            strings(&slots),
            [
                "2026-03-28T08:30:00+00:00",
                "2026-03-29T07:30:00+00:00",
                "2026-03-30T07:30:00+00:00"
            ]
        );
    }

    #[test]
    fn a_time_skipped_by_spring_forward_goes_right_after_the_gap() {
        // 02:30 does not exist in Berlin on 2026-03-29 (02:00 jumps to 03:00).
        let plan = every_day(Europe::Berlin, &["02:30"]);
        let slots = next_slots(&plan, at("2026-03-28T12:00:00Z"), &[], 2);
        assert_eq!(
            strings(&slots),
            ["2026-03-29T01:00:00+00:00", "2026-03-30T00:30:00+00:00"],
            "03:00 CEST, then 02:30 CEST"
        );
        // New York skips 02:00-03:00 on 2026-03-08; 02:15 and 02:45 both become 03:00,
        // which is one slot, not two.
        let plan = every_day(America::New_York, &["02:15", "02:45", "08:00"]);
        let slots = next_slots(&plan, at("2026-03-08T05:00:00Z"), &[], 3);
        assert_eq!(
            strings(&slots),
            [
                "2026-03-08T07:00:00+00:00",
                "2026-03-08T12:00:00+00:00",
                "2026-03-09T06:15:00+00:00"
            ]
        );
    }

    #[test]
    fn a_time_repeated_by_fall_back_is_used_once_at_its_first_occurrence() {
        // Berlin's 02:00-03:00 comes twice on 2026-10-25: first at UTC+2, then UTC+1.
        let plan = every_day(Europe::Berlin, &["02:30", "09:30"]);
        let slots = next_slots(&plan, at("2026-10-25T00:00:00Z"), &[], 3);
        assert_eq!(
            strings(&slots),
            [
                "2026-10-25T00:30:00+00:00",
                "2026-10-25T08:30:00+00:00",
                "2026-10-26T01:30:00+00:00"
            ]
        );
        // Starting between the two occurrences, the repeated one is not offered again.
        let slots = next_slots(&plan, at("2026-10-25T01:00:00Z"), &[], 1);
        assert_eq!(strings(&slots), ["2026-10-25T08:30:00+00:00"]);
    }

    #[test]
    fn a_plan_without_times_gives_no_slot_and_ends() {
        let mut plan = every_day(UTC, &[]);
        assert!(next_slots(&plan, at("2026-12-07T00:00:00Z"), &[], 3).is_empty());
        plan = every_day(UTC, &["09:00"]);
        plan.max_per_day = 0;
        assert!(next_slots(&plan, at("2026-12-07T00:00:00Z"), &[], 3).is_empty());
        // Every day quiet for longer than the horizon: none, and quickly.
        plan.max_per_day = 1;
        let start = date("2026-12-07");
        plan.quiet_dates = (0..HORIZON_DAYS + 5)
            .map(|d| start + Duration::days(d))
            .collect();
        assert!(next_slots(&plan, at("2026-12-07T00:00:00Z"), &[], 3).is_empty());
        assert!(next_slots(&plan, at("2026-12-07T00:00:00Z"), &[], 0).is_empty());
    }
}
