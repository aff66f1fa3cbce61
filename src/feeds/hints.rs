//! How long a server asks us to stay away, read from its response headers.

use std::time::Duration;

use chrono::{DateTime, Utc};
use reqwest::header::{self, HeaderMap};

/// The longest wait the headers ask for: `Cache-Control: max-age`, `Expires` (measured
/// against the server's own `Date` when it sends one, so clock skew does not count) and
/// `Retry-After` (seconds or an HTTP date). None when they ask for nothing.
pub fn wait_hint(headers: &HeaderMap, now: DateTime<Utc>) -> Option<Duration> {
    let text = |name| headers.get(name).and_then(|v| v.to_str().ok());
    let max_age = text(header::CACHE_CONTROL).and_then(max_age);
    let server_now = text(header::DATE).and_then(http_date).unwrap_or(now);
    let expires = text(header::EXPIRES)
        .and_then(http_date)
        .and_then(|at| positive(at - server_now));
    let retry_after = retry_after(headers, now);
    // Cache-Control wins over Expires when both are present (RFC 9111 5.3).
    let cache = max_age.or(expires);
    [cache, retry_after].into_iter().flatten().max()
}

/// `Retry-After` alone, in seconds or as an HTTP date: how long a 429 or 503 asks us to
/// wait (a cache lifetime says nothing about that).
pub fn retry_after(headers: &HeaderMap, now: DateTime<Utc>) -> Option<Duration> {
    let value = headers.get(header::RETRY_AFTER)?.to_str().ok()?;
    match value.trim().parse::<u64>() {
        Ok(seconds) => Some(Duration::from_secs(seconds)),
        Err(_) => http_date(value).and_then(|at| positive(at - now)),
    }
}

fn max_age(cache_control: &str) -> Option<Duration> {
    cache_control.split(',').find_map(|directive| {
        let (name, value) = directive.trim().split_once('=')?;
        if !name.trim().eq_ignore_ascii_case("max-age") {
            return None;
        }
        let seconds: u64 = value.trim().trim_matches('"').parse().ok()?;
        Some(Duration::from_secs(seconds))
    })
}

/// HTTP dates are RFC 2822 dates with `GMT` as the zone, which chrono reads.
fn http_date(value: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc2822(value.trim())
        .ok()
        .map(|d| d.with_timezone(&Utc))
}

fn positive(delta: chrono::Duration) -> Option<Duration> {
    delta.to_std().ok().filter(|d| !d.is_zero())
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    fn hint(pairs: &[(&'static str, &'static str)]) -> Option<u64> {
        let mut headers = HeaderMap::new();
        for (name, value) in pairs {
            headers.insert(*name, HeaderValue::from_static(value));
        }
        let now = DateTime::parse_from_rfc2822("Mon, 23 Nov 2026 10:00:00 GMT")
            .unwrap()
            .with_timezone(&Utc);
        wait_hint(&headers, now).map(|d| d.as_secs())
    }

    #[test]
    fn nothing_asked_means_no_hint() {
        assert_eq!(hint(&[]), None);
        assert_eq!(hint(&[("cache-control", "no-cache")]), None);
        assert_eq!(hint(&[("retry-after", "soon")]), None);
    }

    #[test]
    fn cache_control_max_age_is_read_among_other_directives() {
        assert_eq!(
            hint(&[("cache-control", "public, max-age=3600")]),
            Some(3600)
        );
        assert_eq!(
            hint(&[("cache-control", "Max-Age=\"60\", must-revalidate")]),
            Some(60)
        );
    }

    #[test]
    fn expires_counts_from_the_servers_own_date() {
        assert_eq!(
            hint(&[
                ("date", "Mon, 23 Nov 2026 09:00:00 GMT"),
                ("expires", "Mon, 23 Nov 2026 09:30:00 GMT"),
            ]),
            Some(1800)
        );
        assert_eq!(
            hint(&[("expires", "Mon, 23 Nov 2026 11:00:00 GMT")]),
            Some(3600)
        );
        assert_eq!(hint(&[("expires", "Mon, 23 Nov 2026 09:00:00 GMT")]), None);
        assert_eq!(hint(&[("expires", "0")]), None);
    }

    #[test]
    fn max_age_wins_over_expires() {
        assert_eq!(
            hint(&[
                ("cache-control", "max-age=60"),
                ("expires", "Mon, 23 Nov 2026 12:00:00 GMT"),
            ]),
            Some(60)
        );
    }

    #[test]
    fn retry_after_in_seconds_or_as_a_date() {
        assert_eq!(hint(&[("retry-after", "120")]), Some(120));
        assert_eq!(
            hint(&[("retry-after", "Mon, 23 Nov 2026 12:00:00 GMT")]),
            Some(7200)
        );
        assert_eq!(
            hint(&[("retry-after", "7200"), ("cache-control", "max-age=60")]),
            Some(7200)
        );
    }
}
