//! The HTTP client every Mastodon call goes through, and what its answers mean.
//!
//! The instance's address is typed by a subscriber, so it is treated like a feed address:
//! checked by the feeds' address guard before each request and again when the connection is
//! made (the guarded resolver), with no proxy and no redirects (an instance could point us
//! anywhere). Answers are read up to [`ANSWER_CAP`]: a hostile instance cannot fill memory.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde_json::Value;
use url::Url;

use crate::feeds::guard::{check_url, guarded_client, AddressPolicy};
use crate::feeds::hints::wait_hint;
use crate::feeds::FetchError;
use crate::publish::outgoing::PublishError;
use crate::sentence::sentence;

pub const TIMEOUT: Duration = Duration::from_secs(30);
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// The largest answer read: statuses, media and instance descriptions are a few KiB.
pub const ANSWER_CAP: usize = 1024 * 1024;

/// Why a call failed, sorted by what the caller does next.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MastodonError {
    /// The instance's address is not one we may reach (not public, not HTTPS, malformed).
    #[error("{0}")]
    Address(String),
    /// 401/403: the token was revoked or lacks a scope; the subscriber connects again.
    #[error("the instance refused the token ({status}): {message}")]
    Unauthorized { status: u16, message: String },
    /// 429, 5xx, timeouts, refused connections, answers we cannot read: try again after
    /// `retry_after` seconds when the instance said.
    #[error("the instance is unavailable for now: {message}")]
    Retry {
        message: String,
        retry_after: Option<u64>,
    },
    /// 422 and the other 4xx: the same request would be refused the same way.
    #[error("{message}")]
    Refused { status: u16, message: String },
}

impl From<MastodonError> for PublishError {
    fn from(e: MastodonError) -> Self {
        const NETWORK: &str = "Mastodon";
        match e {
            MastodonError::Unauthorized { .. } => PublishError::Unauthorized {
                network: NETWORK,
                message: e.to_string(),
            },
            MastodonError::Retry {
                message,
                retry_after,
            } => PublishError::Retry {
                network: NETWORK,
                message,
                retry_after,
            },
            MastodonError::Address(message) | MastodonError::Refused { message, .. } => {
                PublishError::Refused {
                    network: NETWORK,
                    message: sentence(&message),
                }
            }
        }
    }
}

/// A successful answer: its status (200, 202, 206…) and JSON body.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub body: Value,
}

/// One client for all instances; cheap to clone.
#[derive(Clone)]
pub struct Client {
    http: reqwest::Client,
    policy: Arc<AddressPolicy>,
}

impl Client {
    pub fn new(policy: &AddressPolicy) -> Result<Self, MastodonError> {
        let builder = guarded_client(policy)
            .connect_timeout(CONNECT_TIMEOUT)
            .timeout(TIMEOUT)
            .user_agent(crate::feeds::fetch::default_user_agent());
        let http = builder.build().map_err(|e| MastodonError::Retry {
            message: format!("cannot build the HTTP client: {e}"),
            retry_after: None,
        })?;
        Ok(Client {
            http,
            policy: Arc::new(policy.clone()),
        })
    }

    pub fn policy(&self) -> &AddressPolicy {
        &self.policy
    }

    /// `path` on the instance at `origin`, once the guard agrees to the address.
    pub fn url(&self, origin: &str, path: &str) -> Result<Url, MastodonError> {
        let url = Url::parse(origin)
            .and_then(|o| o.join(path))
            .map_err(|e| MastodonError::Address(format!("{origin} is not an address: {e}")))?;
        check_url(&url, &self.policy).map_err(guard_refusal)?;
        Ok(url)
    }

    pub fn get(&self, url: Url) -> reqwest::RequestBuilder {
        self.http.get(url)
    }

    pub fn post(&self, url: Url) -> reqwest::RequestBuilder {
        self.http.post(url)
    }

    /// Sends `request` and sorts its answer: a 2xx with its JSON body, or the error.
    pub async fn send(&self, request: reqwest::RequestBuilder) -> Result<Answer, MastodonError> {
        let response = request.send().await.map_err(transport_error)?;
        let status = response.status().as_u16();
        let wait = retry_after(response.headers(), Utc::now());
        let body = read_capped(response).await?;
        let json: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
        if (200..300).contains(&status) {
            if json.is_null() {
                return Err(MastodonError::Retry {
                    message: format!("the instance answered {status} without JSON"),
                    retry_after: None,
                });
            }
            return Ok(Answer { status, body: json });
        }
        let message = error_message(&json, status);
        Err(match status {
            401 | 403 => MastodonError::Unauthorized { status, message },
            408 | 429 | 500..=599 => MastodonError::Retry {
                message: format!("HTTP {status}: {message}"),
                retry_after: wait,
            },
            _ => MastodonError::Refused { status, message },
        })
    }
}

/// What an error answer says: Mastodon's `error` (with OAuth's `error_description`), else
/// the status.
fn error_message(json: &Value, status: u16) -> String {
    let error = json["error"].as_str().unwrap_or_default();
    let description = json["error_description"].as_str().unwrap_or_default();
    match (error, description) {
        ("", _) => format!("the instance answered HTTP {status}"),
        (error, "") => error.to_string(),
        (error, description) => format!("{error}: {description}"),
    }
}

/// How long the instance asks us to wait, in whole seconds: `Retry-After`, else the rate
/// limit's `X-RateLimit-Reset` (an ISO 8601 time, api/rate-limits.md).
pub fn retry_after(headers: &reqwest::header::HeaderMap, now: DateTime<Utc>) -> Option<u64> {
    let asked = wait_hint(headers, now).or_else(|| {
        let reset = headers.get("x-ratelimit-reset")?.to_str().ok()?;
        let at = DateTime::parse_from_rfc3339(reset.trim()).ok()?;
        (at.with_timezone(&Utc) - now).to_std().ok()
    })?;
    // Rounded up: waking a moment early would only be refused again.
    Some(asked.as_secs() + u64::from(asked.subsec_nanos() > 0))
}

async fn read_capped(mut response: reqwest::Response) -> Result<Vec<u8>, MastodonError> {
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(transport_error)? {
        if body.len() + chunk.len() > ANSWER_CAP {
            return Err(MastodonError::Retry {
                message: format!("the answer is larger than {ANSWER_CAP} bytes"),
                retry_after: None,
            });
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

fn guard_refusal(e: FetchError) -> MastodonError {
    MastodonError::Address(match e {
        FetchError::Refused(why) => format!("this instance address cannot be used: {why}"),
        other => format!("this instance address cannot be used: {other}"),
    })
}

/// A failed exchange: the guard's refusal (found in the error's causes, where the resolver
/// put it) is about the address; everything else may pass.
fn transport_error(e: reqwest::Error) -> MastodonError {
    let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(&e);
    while let Some(c) = cause {
        if let Some(FetchError::Refused(why)) = c.downcast_ref::<FetchError>() {
            return guard_refusal(FetchError::Refused(why.clone()));
        }
        cause = c.source();
    }
    let what = if e.is_timeout() {
        "the instance did not answer in time"
    } else if e.is_connect() {
        "cannot connect to the instance"
    } else {
        "the exchange with the instance failed"
    };
    // Without the URL: it may carry a query worth keeping out of logs.
    MastodonError::Retry {
        message: format!("{what}: {}", e.without_url()),
        retry_after: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::{HeaderMap, HeaderValue};

    #[test]
    fn the_wait_comes_from_retry_after_else_the_rate_limit_reset() {
        let now = DateTime::parse_from_rfc3339("2026-12-07T10:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let mut headers = HeaderMap::new();
        headers.insert(
            "x-ratelimit-reset",
            HeaderValue::from_static("2026-12-07T10:04:59.500000Z"),
        );
        assert_eq!(retry_after(&headers, now), Some(300));
        headers.insert("retry-after", HeaderValue::from_static("7"));
        assert_eq!(retry_after(&headers, now), Some(7));
        assert_eq!(retry_after(&HeaderMap::new(), now), None);
    }

    #[test]
    fn errors_become_what_the_worker_does_next() {
        let refused: PublishError = MastodonError::Refused {
            status: 422,
            message: "Validation failed: Text character limit of 500 exceeded".into(),
        }
        .into();
        assert_eq!(
            refused,
            PublishError::Refused {
                network: "Mastodon",
                message: "Validation failed: Text character limit of 500 exceeded.".into()
            }
        );
        let gone: PublishError = MastodonError::Unauthorized {
            status: 401,
            message: "The access token is invalid".into(),
        }
        .into();
        assert!(matches!(gone, PublishError::Unauthorized { .. }));
    }
}
