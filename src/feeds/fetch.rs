//! Conditional, size-capped HTTP fetching of feed documents.

use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use reqwest::header::{self, HeaderMap, HeaderValue};
use reqwest::{redirect, StatusCode};
use url::Url;

use super::guard::{check_url, AddressPolicy, GuardedResolver};
use super::hints::wait_hint;
use super::FetchError;

/// Used when [`FetchConfig::timeout`] is zero.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
/// Used when [`FetchConfig::max_body_bytes`] is zero.
pub const DEFAULT_MAX_BODY_BYTES: usize = 5 * 1024 * 1024;
/// Redirect hops followed before giving up.
pub const MAX_REDIRECTS: usize = 5;
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Feed types first, but still accept servers that label feeds oddly.
const ACCEPT: &str = "application/rss+xml, application/atom+xml, application/feed+json, \
     application/json;q=0.9, application/xml;q=0.9, text/xml;q=0.9, */*;q=0.8";

/// Zero / empty fields mean "use the default", so `FetchConfig::default()`
/// is a safe production setting.
#[derive(Debug, Clone, Default)]
pub struct FetchConfig {
    /// Lets feeds live on loopback/private addresses; for development and tests.
    pub allow_private_networks: bool,
    /// Ranges opened one by one (`CAPTIONFEED_ALLOWED_NETWORKS`).
    pub allowed_networks: Vec<ipnet::IpNet>,
    pub timeout: std::time::Duration,
    pub max_body_bytes: usize,
    pub user_agent: String,
}

/// HTTP cache validators, stored per feed and replayed verbatim so servers
/// can answer 304 without sending the feed again.
#[derive(Debug, Clone, Default)]
pub struct Validators {
    pub etag: Option<String>,
    pub last_modified: Option<String>,
}

#[derive(Debug)]
pub enum FetchOutcome {
    NotModified,
    Fetched {
        /// Raw bytes (after content-encoding), not decoded to text: the feed
        /// parser needs them to honour the XML prolog's charset.
        body: bytes::Bytes,
        final_url: url::Url,
        validators: Validators,
        /// The `Content-Type` the server sent, as sent.
        content_type: Option<String>,
    },
}

/// Everything one fetch tells the poller, success or not.
#[derive(Debug)]
pub struct FetchReport {
    pub result: Result<FetchOutcome, FetchError>,
    /// The status of the last answer; none when no answer came.
    pub status: Option<u16>,
    /// The longest wait the last answer asked for (Cache-Control max-age, Expires,
    /// Retry-After), uncapped: the scheduler applies the caps.
    pub wait_hint: Option<Duration>,
    /// Redirect hops in the order taken.
    pub redirects: Vec<Hop>,
}

/// Where one request of a fetch led.
enum Step {
    Redirect(Url),
    Done(FetchOutcome),
}

/// One redirect: its status (301, 302, 307, 308...) and where it pointed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hop {
    pub status: u16,
    pub to: Url,
}

/// Cheap to clone: clones share one connection pool.
#[derive(Clone, Debug)]
pub struct Fetcher {
    client: reqwest::Client,
    addresses: Arc<AddressPolicy>,
    timeout: Duration,
    max_body_bytes: usize,
}

/// The fetcher every part of the process shares, configured from the settings.
pub fn fetcher(settings: &crate::config::Settings) -> Result<Fetcher, FetchError> {
    Fetcher::new(FetchConfig {
        allow_private_networks: settings.allow_private_networks,
        allowed_networks: settings.allowed_networks.clone(),
        timeout: Duration::from_secs(30),
        max_body_bytes: 5 * 1024 * 1024,
        user_agent: String::new(),
    })
}

impl Fetcher {
    pub fn new(cfg: FetchConfig) -> Result<Self, FetchError> {
        let timeout = if cfg.timeout.is_zero() {
            DEFAULT_TIMEOUT
        } else {
            cfg.timeout
        };
        let max_body_bytes = if cfg.max_body_bytes == 0 {
            DEFAULT_MAX_BODY_BYTES
        } else {
            cfg.max_body_bytes
        };
        let user_agent = if cfg.user_agent.trim().is_empty() {
            default_user_agent()
        } else {
            cfg.user_agent.clone()
        };
        let addresses = Arc::new(AddressPolicy {
            allow_private: cfg.allow_private_networks,
            allowed: cfg.allowed_networks.clone(),
        });

        let mut headers = HeaderMap::new();
        headers.insert(header::ACCEPT, HeaderValue::from_static(ACCEPT));

        let mut builder = reqwest::Client::builder()
            .use_rustls_tls()
            .gzip(true)
            .brotli(true)
            .deflate(true)
            // A proxy would connect on our behalf and bypass the resolver guard.
            .no_proxy()
            .referer(false)
            .connect_timeout(CONNECT_TIMEOUT.min(timeout))
            .timeout(timeout)
            .user_agent(user_agent)
            .default_headers(headers)
            // Redirects are followed by hand in `fetch_hops`.
            .redirect(redirect::Policy::none());
        if !addresses.allow_private {
            builder = builder.dns_resolver(Arc::new(GuardedResolver {
                policy: addresses.clone(),
            }));
        }
        let client = builder
            .build()
            .map_err(|e| FetchError::Other(format!("could not set up the HTTP client: {e}")))?;
        Ok(Fetcher {
            client,
            addresses,
            timeout,
            max_body_bytes,
        })
    }

    /// Fetches `url`, sending the stored validators so an unchanged feed
    /// costs a 304 instead of a full download.
    pub async fn fetch(&self, url: &str, v: &Validators) -> Result<FetchOutcome, FetchError> {
        self.fetch_report(url, v).await.result
    }

    /// [`Fetcher::fetch`] plus what the poller needs to be polite: the final status,
    /// how long the server asked us to wait, and each redirect hop taken.
    pub async fn fetch_report(&self, url: &str, v: &Validators) -> FetchReport {
        self.fetch_report_through(url, v, (), |_| std::future::ready(()))
            .await
    }

    /// [`Fetcher::fetch_report`], asking for a slot of each hop's host before its request:
    /// `first_slot` is the one the caller took for `url`, `next_slot` gives one for where
    /// a redirect leads. A slot is held until the hop's answer is read, and given back
    /// before the next one is asked for (holding one host while waiting for another could
    /// deadlock). Waiting for a slot does not count against the fetch's timeout: that is
    /// our queue, not the server's slowness.
    pub async fn fetch_report_through<S, F, Fut>(
        &self,
        url: &str,
        v: &Validators,
        first_slot: S,
        next_slot: F,
    ) -> FetchReport
    where
        F: FnMut(&Url) -> Fut,
        Fut: std::future::Future<Output = S>,
    {
        let mut report = FetchReport {
            result: Err(FetchError::Other("not fetched".into())),
            status: None,
            wait_hint: None,
            redirects: Vec::new(),
        };
        report.result = self
            .fetch_hops(url, v, &mut report, first_slot, next_slot)
            .await;
        report
    }

    /// Follows redirects by hand (the client follows none) so every hop is seen:
    /// the poller decides from them whether the stored URL moves. reqwest's timeout is per
    /// request; the fetch's timeout bounds all hops' requests together.
    async fn fetch_hops<S, F, Fut>(
        &self,
        url: &str,
        v: &Validators,
        report: &mut FetchReport,
        first_slot: S,
        mut next_slot: F,
    ) -> Result<FetchOutcome, FetchError>
    where
        F: FnMut(&Url) -> Fut,
        Fut: std::future::Future<Output = S>,
    {
        let mut current =
            Url::parse(url.trim()).map_err(|e| FetchError::InvalidUrl(format!("{e}")))?;
        let mut slot = Some(first_slot);
        let mut left = self.timeout;
        loop {
            check_url(&current, &self.addresses)?;
            let _slot = match slot.take() {
                Some(first) => first,
                None => next_slot(&current).await,
            };
            let started = std::time::Instant::now();
            let hop = tokio::time::timeout(left, self.hop(&current, v, report))
                .await
                .map_err(|_| FetchError::Timeout(self.timeout))??;
            left = left.saturating_sub(started.elapsed());
            match hop {
                Step::Redirect(next) => current = next,
                Step::Done(outcome) => return Ok(outcome),
            }
        }
    }

    /// One request, and its body when it is the feed.
    async fn hop(
        &self,
        current: &Url,
        v: &Validators,
        report: &mut FetchReport,
    ) -> Result<Step, FetchError> {
        let mut request = self.client.get(current.clone());
        if let Some(value) = v.etag.as_deref().and_then(header_value) {
            request = request.header(header::IF_NONE_MATCH, value);
        }
        if let Some(value) = v.last_modified.as_deref().and_then(header_value) {
            request = request.header(header::IF_MODIFIED_SINCE, value);
        }
        let response = request
            .send()
            .await
            .map_err(|e| FetchError::from_reqwest(&e, self.timeout))?;
        let status = response.status();
        report.status = Some(status.as_u16());
        report.wait_hint = wait_hint(response.headers(), chrono::Utc::now());

        if status.is_redirection() && status != StatusCode::NOT_MODIFIED {
            let next = response
                .headers()
                .get(header::LOCATION)
                .and_then(|l| l.to_str().ok())
                .and_then(|l| current.join(l).ok());
            let Some(next) = next else {
                let mut err = FetchError::status(status);
                if let FetchError::Status { reason, .. } = &mut err {
                    reason.push_str(" (redirect not followed)");
                }
                return Err(err);
            };
            if report.redirects.len() >= MAX_REDIRECTS {
                return Err(FetchError::TooManyRedirects(MAX_REDIRECTS));
            }
            report.redirects.push(Hop {
                status: status.as_u16(),
                to: next.clone(),
            });
            return Ok(Step::Redirect(next));
        }
        if status == StatusCode::NOT_MODIFIED {
            return Ok(Step::Done(FetchOutcome::NotModified));
        }
        if !status.is_success() {
            return Err(FetchError::status(status));
        }
        let validators = Validators {
            etag: header_string(response.headers(), header::ETAG),
            last_modified: header_string(response.headers(), header::LAST_MODIFIED),
        };
        let content_type = header_string(response.headers(), header::CONTENT_TYPE);
        let body = self.read_capped(response).await?;
        Ok(Step::Done(FetchOutcome::Fetched {
            body,
            final_url: current.clone(),
            validators,
            content_type,
        }))
    }

    /// Streams the body so an oversized (or decompression-bomb) response is
    /// cut off at the cap instead of being buffered whole.
    async fn read_capped(&self, response: reqwest::Response) -> Result<bytes::Bytes, FetchError> {
        let cap = self.max_body_bytes;
        let too_large = FetchError::TooLarge { limit: cap };
        // reqwest drops Content-Length when it decompresses, so when present
        // it is the real size and lets us refuse without downloading.
        if response
            .content_length()
            .is_some_and(|len| len > cap as u64)
        {
            return Err(too_large);
        }
        let mut body = bytes::BytesMut::new();
        let mut stream = response.bytes_stream();
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(|e| FetchError::from_reqwest(&e, self.timeout))?;
            if body.len() + chunk.len() > cap {
                return Err(too_large);
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body.freeze())
    }
}

pub fn default_user_agent() -> String {
    format!(
        "captionfeed/{} (+https://github.com/captionfeed/captionfeed)",
        env!("CARGO_PKG_VERSION")
    )
}

/// Stored validators are replayed byte for byte; a value that is not a
/// legal header (corrupted storage) is skipped rather than failing the fetch.
fn header_value(s: &str) -> Option<HeaderValue> {
    HeaderValue::from_bytes(s.as_bytes()).ok()
}

fn header_string(headers: &HeaderMap, name: header::HeaderName) -> Option<String> {
    headers
        .get(name)
        .and_then(|v| String::from_utf8(v.as_bytes().to_vec()).ok())
}

#[cfg(test)]
#[path = "fetch_tests.rs"]
mod tests;
