//! Whether a feed's stored URL follows where the server redirects it.
//!
//! The rule: 302/307 never move it (the server says "for now"). A chain that starts with
//! 301/308 names a permanent target; an http→https move of the same host, port and path
//! is taken at once (nothing can go wrong), any other target only once it was seen on
//! [`CONFIRMATIONS`] checks spread over at least [`CONFIRM_SPAN`], so one misconfigured
//! deploy does not move a feed for good. A check without that redirect resets the count.

use chrono::NaiveDateTime;

use crate::feeds::store::Feed;
use crate::feeds::Hop;

pub const CONFIRMATIONS: i32 = 3;
pub const CONFIRM_SPAN: chrono::Duration = chrono::Duration::hours(24);

#[derive(Debug, PartialEq, Eq)]
pub enum Decision {
    /// Nothing to store (no permanent redirect, none watched).
    Nothing,
    /// Forget a watched redirect: this check did not see it.
    Forget,
    /// Keep watching this target: seen `count` times since `first_seen_at`.
    Watch {
        to: String,
        first_seen_at: NaiveDateTime,
        count: i32,
    },
    /// Store this URL as the feed's.
    Move(String),
}

pub fn decide(feed: &Feed, hops: &[Hop], now: NaiveDateTime) -> Decision {
    let Some(target) = permanent_target(hops) else {
        return if feed.redirect_to.is_some() {
            Decision::Forget
        } else {
            Decision::Nothing
        };
    };
    if target == feed.url {
        return Decision::Nothing;
    }
    if is_https_upgrade(&feed.url, &target) {
        return Decision::Move(target);
    }
    let (first_seen_at, count) = match (&feed.redirect_to, feed.redirect_first_seen_at) {
        (Some(watched), Some(first)) if *watched == target => (first, feed.redirect_count + 1),
        _ => (now, 1),
    };
    if count >= CONFIRMATIONS && now - first_seen_at >= CONFIRM_SPAN {
        Decision::Move(target)
    } else {
        Decision::Watch {
            to: target,
            first_seen_at,
            count,
        }
    }
}

/// Where the leading run of 301/308 hops ends; a temporary hop ends the run.
fn permanent_target(hops: &[Hop]) -> Option<String> {
    hops.iter()
        .take_while(|hop| matches!(hop.status, 301 | 308))
        .last()
        .map(|hop| hop.to.to_string())
}

fn is_https_upgrade(from: &str, to: &str) -> bool {
    let (Ok(from), Ok(to)) = (url::Url::parse(from), url::Url::parse(to)) else {
        return false;
    };
    from.scheme() == "http"
        && to.scheme() == "https"
        && from.host_str() == to.host_str()
        && from.path() == to.path()
        && from.query() == to.query()
        && from.port().is_none()
        && to.port().is_none()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn feed(url: &str) -> Feed {
        let t = chrono::DateTime::from_timestamp(0, 0).unwrap().naive_utc();
        Feed {
            id: "f".into(),
            url: url.into(),
            title: None,
            site_url: None,
            etag: None,
            last_modified: None,
            last_checked_at: None,
            last_success_at: None,
            next_check_at: t,
            error_count: 0,
            last_error: None,
            lease_until: None,
            created_at: t,
            erroring_since: None,
            last_status: None,
            gone_at: None,
            redirect_to: None,
            redirect_first_seen_at: None,
            redirect_count: 0,
            lease_token: None,
            websub_hub: None,
            websub_topic: None,
            websub_state: "none".into(),
            websub_lease_until: None,
            websub_error: None,
            language: None,
            seen_keys: String::new(),
            stopped_at: None,
            stop_note: None,
        }
    }

    fn hop(status: u16, to: &str) -> Hop {
        Hop {
            status,
            to: url::Url::parse(to).unwrap(),
        }
    }

    fn day(n: i64) -> NaiveDateTime {
        chrono::DateTime::from_timestamp(n * 86400, 0)
            .unwrap()
            .naive_utc()
    }

    #[test]
    fn http_to_https_of_the_same_address_moves_at_once() {
        let f = feed("http://blog.example/feed.xml");
        assert_eq!(
            decide(&f, &[hop(301, "https://blog.example/feed.xml")], day(0)),
            Decision::Move("https://blog.example/feed.xml".into())
        );
        // Another path is not a plain upgrade.
        assert!(matches!(
            decide(&f, &[hop(308, "https://blog.example/rss")], day(0)),
            Decision::Watch { count: 1, .. }
        ));
    }

    #[test]
    fn temporary_redirects_never_move_a_feed() {
        let f = feed("http://blog.example/feed.xml");
        for status in [302, 303, 307] {
            assert_eq!(
                decide(&f, &[hop(status, "https://blog.example/feed.xml")], day(0)),
                Decision::Nothing
            );
        }
        // A temporary hop ends the permanent run.
        assert_eq!(
            decide(
                &f,
                &[
                    hop(302, "https://a.example/"),
                    hop(301, "https://b.example/")
                ],
                day(0)
            ),
            Decision::Nothing
        );
    }

    #[test]
    fn a_permanent_move_elsewhere_needs_three_sightings_over_a_day() {
        let mut f = feed("https://old.example/feed");
        let hops = [hop(301, "https://new.example/feed")];
        let watch = |f: &mut Feed, at| match decide(f, &hops, at) {
            Decision::Watch {
                to,
                first_seen_at,
                count,
            } => {
                f.redirect_to = Some(to);
                f.redirect_first_seen_at = Some(first_seen_at);
                f.redirect_count = count;
                None
            }
            other => Some(other),
        };
        assert_eq!(watch(&mut f, day(0)), None);
        assert_eq!(watch(&mut f, day(0)), None);
        // Three sightings, but all within minutes: not yet.
        assert_eq!(watch(&mut f, day(0)), None);
        assert_eq!(
            watch(&mut f, day(1)),
            Some(Decision::Move("https://new.example/feed".into()))
        );
    }

    #[test]
    fn a_check_without_the_redirect_forgets_it() {
        let mut f = feed("https://old.example/feed");
        f.redirect_to = Some("https://new.example/feed".into());
        f.redirect_first_seen_at = Some(day(0));
        f.redirect_count = 2;
        assert_eq!(decide(&f, &[], day(1)), Decision::Forget);
        // A different target starts over.
        assert!(matches!(
            decide(&f, &[hop(301, "https://other.example/feed")], day(2)),
            Decision::Watch { count: 1, .. }
        ));
    }
}
