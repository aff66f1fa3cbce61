//! Fetch errors, worded for the subscriber who will see them on the feed
//! page rather than for a log reader.

use std::error::Error as StdError;
use std::time::Duration;

/// Why a feed could not be fetched. `Display` is the human message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FetchError {
    /// Catch-all kept from the original interface.
    #[error("{0}")]
    Other(String),
    #[error("invalid feed URL: {0}")]
    InvalidUrl(String),
    /// The address guard said no (non-public address, bad scheme).
    #[error("refused: {0}")]
    Refused(String),
    #[error("{0}")]
    Dns(String),
    /// Could not open a connection (refused, unreachable, TLS failure...).
    #[error("{0}")]
    Connect(String),
    #[error("timed out after {}", human_duration(*.0))]
    Timeout(Duration),
    #[error("too many redirects (more than {0})")]
    TooManyRedirects(usize),
    #[error("HTTP {status} {reason}")]
    Status { status: u16, reason: String },
    /// Body over the configured cap, measured after decompression.
    #[error("response larger than {}", human_bytes(*limit))]
    TooLarge { limit: usize },
    /// The connection broke or the body could not be decoded mid-download.
    #[error("error reading the response: {0}")]
    Body(String),
}

impl FetchError {
    /// The `outcome` label of a failed fetch in the metrics: the status for HTTP errors, else its kind.
    pub fn outcome(&self) -> String {
        use FetchError as E;
        match self {
            E::Status { status, .. } => format!("http_{status}"),
            E::Other(_) => "other".into(),
            E::InvalidUrl(_) => "invalid_url".into(),
            E::Refused(_) => "refused".into(),
            E::Dns(_) => "dns".into(),
            E::Connect(_) => "connect".into(),
            E::Timeout(_) => "timeout".into(),
            E::TooManyRedirects(_) => "too_many_redirects".into(),
            E::TooLarge { .. } => "too_large".into(),
            E::Body(_) => "body".into(),
        }
    }

    /// Builds the status error, using the standard reason phrase so the
    /// message does not depend on what the server chose to send.
    pub fn status(code: reqwest::StatusCode) -> Self {
        FetchError::Status {
            status: code.as_u16(),
            reason: code.canonical_reason().unwrap_or("error").to_owned(),
        }
    }

    /// Translates a reqwest error into something a subscriber can act on.
    ///
    /// Guard refusals raised inside the resolver or the redirect policy are
    /// buried in reqwest's source chain; they are dug out so the subscriber
    /// sees "refused: ..." rather than "error sending request".
    pub(crate) fn from_reqwest(err: &reqwest::Error, timeout: Duration) -> Self {
        if let Some(own) = find_in_chain::<FetchError>(err) {
            return own.clone();
        }
        if err.is_timeout() || chain_has_io_kind(err, std::io::ErrorKind::TimedOut) {
            return FetchError::Timeout(timeout);
        }
        if err.is_redirect() {
            return FetchError::Other(format!("redirect failed: {}", innermost(err)));
        }
        if err.is_connect() {
            if chain_has_io_kind(err, std::io::ErrorKind::ConnectionRefused) {
                return FetchError::Connect("connection refused".into());
            }
            return FetchError::Connect(format!("could not connect: {}", innermost(err)));
        }
        if err.is_body() || err.is_decode() {
            return FetchError::Body(innermost(err));
        }
        FetchError::Other(format!("request failed: {}", innermost(err)))
    }
}

fn find_in_chain<'a, T: StdError + 'static>(err: &'a (dyn StdError + 'static)) -> Option<&'a T> {
    let mut cur: Option<&(dyn StdError + 'static)> = Some(err);
    while let Some(e) = cur {
        if let Some(found) = e.downcast_ref::<T>() {
            return Some(found);
        }
        cur = e.source();
    }
    None
}

fn chain_has_io_kind(err: &(dyn StdError + 'static), kind: std::io::ErrorKind) -> bool {
    find_in_chain::<std::io::Error>(err).is_some_and(|io| io.kind() == kind)
}

/// The deepest cause usually says what actually went wrong; the outer
/// layers only say "error sending request for url ...".
fn innermost(err: &(dyn StdError + 'static)) -> String {
    let mut cur = err;
    while let Some(next) = cur.source() {
        cur = next;
    }
    cur.to_string()
}

fn human_duration(d: Duration) -> String {
    if d.subsec_millis() == 0 {
        format!("{}s", d.as_secs())
    } else {
        format!("{:.1}s", d.as_secs_f64())
    }
}

fn human_bytes(n: usize) -> String {
    const KIB: usize = 1024;
    const MIB: usize = 1024 * 1024;
    if n >= MIB && n.is_multiple_of(MIB) {
        format!("{} MiB", n / MIB)
    } else if n >= KIB && n.is_multiple_of(KIB) {
        format!("{} KiB", n / KIB)
    } else {
        format!("{n} bytes")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_read_well() {
        assert_eq!(
            FetchError::status(reqwest::StatusCode::NOT_FOUND).to_string(),
            "HTTP 404 Not Found"
        );
        assert_eq!(
            FetchError::Timeout(Duration::from_secs(30)).to_string(),
            "timed out after 30s"
        );
        assert_eq!(
            FetchError::Timeout(Duration::from_millis(1500)).to_string(),
            "timed out after 1.5s"
        );
        assert_eq!(
            FetchError::TooLarge {
                limit: 5 * 1024 * 1024
            }
            .to_string(),
            "response larger than 5 MiB"
        );
        assert_eq!(
            FetchError::TooLarge { limit: 64 * 1024 }.to_string(),
            "response larger than 64 KiB"
        );
        assert_eq!(
            FetchError::TooLarge { limit: 1000 }.to_string(),
            "response larger than 1000 bytes"
        );
    }
}
