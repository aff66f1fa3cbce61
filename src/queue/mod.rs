//! The posting queue: when each approved caption goes out, per account and platform.
//!
//! - `slots`: the pure computation of the next free posting times of a plan;
//! - `plans`: the plans as stored and typed;
//! - `entries`: which captions are queued, in what order, pinned or skipped.
//!
//! A caption's time is never stored: [`schedule`] works it out from the plan, the order and
//! the posts already made each time it is asked, so a full day carries over, a changed plan
//! moves every caption, and nothing is dropped.

pub mod entries;
pub mod links;
pub mod outcomes;
pub mod plans;
pub mod slots;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use diesel::QueryResult;

use crate::accounts::UserId;
use crate::captions::Platform;
use crate::db::AnyConnection;
use crate::desk::CaptionId;
use entries::QueueItem;
use slots::{next_slots, PostingPlan};

/// How far back a posting time missed while nothing could post still counts as the time
/// of a caption queued before it: a longer outage posts at the next times instead of
/// sending a day's backlog at once.
pub const MISSED_TIMES_LOOKBACK_HOURS: i64 = 24;

/// The account's queued captions of `platform` with their times, as the queue page shows
/// them and the publisher sends them: counted from the oldest waiting caption's arrival
/// (see [`outcomes::schedule_start`]), so a time passed while the caption waited is still
/// its time, and a caption whose time is at or before now is due.
pub fn timed(
    conn: &mut AnyConnection,
    user: &UserId,
    platform: Platform,
    queued: Vec<QueueItem>,
    zone: Tz,
    now: DateTime<Utc>,
) -> QueryResult<(PostingPlan, Vec<Scheduled>)> {
    let (plan, _) = plans::find(conn, user, platform, zone)?;
    let lookback = chrono::Duration::hours(MISSED_TIMES_LOOKBACK_HOURS);
    let start =
        outcomes::schedule_start(conn, user, platform.id(), now.naive_utc(), lookback)?.and_utc();
    let since = (start - chrono::Duration::days(2)).naive_utc();
    let posted: Vec<DateTime<Utc>> = entries::posted_since(conn, user, platform.id(), since)?
        .into_iter()
        .map(|t| t.and_utc())
        .collect();
    let items = queued
        .into_iter()
        .filter(|i| i.platform == platform.id())
        .collect();
    let scheduled = schedule(&plan, items, &posted, start);
    Ok((plan, scheduled))
}

/// The account's queued captions of `platforms` whose time falls on `now`'s day in `zone`
/// (pinned "post now" ones included), platform by platform in the order given, each
/// platform's in time order: today's queue, as a digest shows it.
pub fn todays_queue(
    conn: &mut AnyConnection,
    user: &UserId,
    platforms: &[Platform],
    zone: Tz,
    now: DateTime<Utc>,
) -> QueryResult<Vec<(CaptionId, DateTime<Utc>)>> {
    let queued = entries::queued(conn, user)?;
    let today = now.with_timezone(&zone).date_naive();
    let mut out = Vec::new();
    for &platform in platforms {
        if !queued.iter().any(|i| i.platform == platform.id()) {
            continue;
        }
        let (_, scheduled) = timed(conn, user, platform, queued.clone(), zone, now)?;
        let mut day: Vec<(CaptionId, DateTime<Utc>)> = scheduled
            .into_iter()
            .filter_map(|s| {
                s.at.filter(|at| at.with_timezone(&zone).date_naive() == today)
                    .map(|at| (s.item.caption_id, at))
            })
            .collect();
        day.sort_by_key(|(_, at)| *at);
        out.extend(day);
    }
    Ok(out)
}

/// A queued caption with the time it goes out; `None` when the plan has no posting time.
#[derive(Debug, Clone)]
pub struct Scheduled {
    pub item: QueueItem,
    pub at: Option<DateTime<Utc>>,
}

/// The times of one platform's queued captions, in queue order: pinned ones ("post now")
/// at their own time, the rest in the next free slots after `now` and after the posts
/// already made (`posted`).
pub fn schedule(
    plan: &PostingPlan,
    items: Vec<QueueItem>,
    posted: &[DateTime<Utc>],
    now: DateTime<Utc>,
) -> Vec<Scheduled> {
    let mut taken: Vec<DateTime<Utc>> = posted.to_vec();
    taken.extend(items.iter().filter_map(|i| i.due_at.map(|d| d.and_utc())));
    let waiting = items.iter().filter(|i| i.due_at.is_none()).count();
    let mut free = next_slots(plan, now, &taken, waiting).into_iter();
    items
        .into_iter()
        .map(|item| {
            let at = match item.due_at {
                Some(due) => Some(due.and_utc()),
                None => free.next(),
            };
            Scheduled { item, at }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{NaiveDateTime, NaiveTime};

    fn item(id: &str, due: Option<&str>) -> QueueItem {
        QueueItem {
            caption_id: id.into(),
            platform: "bluesky".into(),
            text: format!("caption {id}"),
            post_title: "A post".into(),
            post_url: None,
            rank: Some(0),
            due_at: due
                .map(|d| NaiveDateTime::parse_from_str(d, "%Y-%m-%d %H:%M").expect("a time")),
        }
    }

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn pinned_captions_keep_their_time_and_the_rest_take_the_free_slots() {
        let mut plan = plans::default_plan(chrono_tz::UTC);
        plan.times = std::array::from_fn(|_| {
            vec![
                NaiveTime::from_hms_opt(9, 0, 0).unwrap(),
                NaiveTime::from_hms_opt(17, 0, 0).unwrap(),
            ]
        });
        plan.max_per_day = 2;
        plan.min_spacing = chrono::Duration::zero();
        let items = vec![
            item("now", Some("2026-12-07 08:00")),
            item("a", None),
            item("b", None),
            item("c", None),
        ];
        let got = schedule(&plan, items, &[], utc("2026-12-07T07:00:00Z"));
        let times: Vec<(String, String)> = got
            .iter()
            .map(|s| (s.item.caption_id.0.clone(), s.at.unwrap().to_rfc3339()))
            .collect();
        assert_eq!(
            times,
            [
                ("now".into(), "2026-12-07T08:00:00+00:00".into()),
                // The pinned post counts against the day's two.
                ("a".into(), "2026-12-07T09:00:00+00:00".into()),
                ("b".into(), "2026-12-08T09:00:00+00:00".into()),
                ("c".into(), "2026-12-08T17:00:00+00:00".into()),
            ]
        );
    }

    #[test]
    fn without_posting_times_captions_stay_queued_without_a_time() {
        let mut plan = plans::default_plan(chrono_tz::UTC);
        plan.times = Default::default();
        let got = schedule(&plan, vec![item("a", None)], &[], Utc::now());
        assert_eq!(got.len(), 1, "kept");
        assert!(got[0].at.is_none());
    }
}
