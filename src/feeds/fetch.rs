//! Conditional, size-capped HTTP fetching of feed documents.

use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use reqwest::header::{self, HeaderMap, HeaderValue};
use reqwest::{redirect, StatusCode};
use url::Url;

use super::guard::{check_url, GuardedResolver};
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
    },
}

/// Cheap to clone: clones share one connection pool.
#[derive(Clone, Debug)]
pub struct Fetcher {
    client: reqwest::Client,
    allow_private: bool,
    timeout: Duration,
    max_body_bytes: usize,
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
        let allow_private = cfg.allow_private_networks;

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
            .redirect(redirect_policy(allow_private));
        if !allow_private {
            builder = builder.dns_resolver(Arc::new(GuardedResolver));
        }
        let client = builder
            .build()
            .map_err(|e| FetchError::Other(format!("could not set up the HTTP client: {e}")))?;
        Ok(Fetcher {
            client,
            allow_private,
            timeout,
            max_body_bytes,
        })
    }

    /// Fetches `url`, sending the stored validators so an unchanged feed
    /// costs a 304 instead of a full download.
    pub async fn fetch(&self, url: &str, v: &Validators) -> Result<FetchOutcome, FetchError> {
        let url = Url::parse(url.trim()).map_err(|e| FetchError::InvalidUrl(format!("{e}")))?;
        check_url(&url, self.allow_private)?;

        let mut request = self.client.get(url);
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
        if status == StatusCode::NOT_MODIFIED {
            return Ok(FetchOutcome::NotModified);
        }
        if !status.is_success() {
            let mut err = FetchError::status(status);
            // A 3xx only gets here when its Location could not be followed.
            if let FetchError::Status { reason, .. } = &mut err {
                if status.is_redirection() {
                    reason.push_str(" (redirect not followed)");
                }
            }
            return Err(err);
        }

        let final_url = response.url().clone();
        let validators = Validators {
            etag: header_string(response.headers(), header::ETAG),
            last_modified: header_string(response.headers(), header::LAST_MODIFIED),
        };
        let body = self.read_capped(response).await?;
        Ok(FetchOutcome::Fetched {
            body,
            final_url,
            validators,
        })
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

/// Every hop is re-checked: a public feed must not be able to bounce the
/// fetcher to an internal address.
fn redirect_policy(allow_private: bool) -> redirect::Policy {
    redirect::Policy::custom(move |attempt| {
        // `previous` includes the original URL, so hops taken = len - 1.
        if attempt.previous().len() > MAX_REDIRECTS {
            return attempt.error(FetchError::TooManyRedirects(MAX_REDIRECTS));
        }
        match check_url(attempt.url(), allow_private) {
            Ok(()) => attempt.follow(),
            Err(e) => attempt.error(e),
        }
    })
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
