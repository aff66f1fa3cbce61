//! Posting to Bluesky over XRPC: sessions from a handle and an app password, blobs for
//! link-card thumbnails, and post records written under a record key derived from the
//! caption, so a retry after a crash finds the post instead of making a second one.

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::facets;
use super::outgoing::{Outgoing, PublishError, Published};
use crate::feeds::guard::{check_url, guarded_client, AddressPolicy};

/// Why a call failed, sorted by what the caller should do about it.
#[derive(Debug, thiserror::Error)]
pub enum BlueskyError {
    /// 401/403: the app password was revoked or the session cannot be refreshed; stop and
    /// tell the subscriber.
    #[error("Bluesky refused the connection ({status}): {message}")]
    Unauthorized { status: u16, message: String },
    /// 429, 5xx, timeouts, refused connections: try again later (`retry_after` seconds when
    /// the server said).
    #[error("Bluesky is unavailable for now: {message}")]
    Retry {
        message: String,
        retry_after: Option<u64>,
    },
    /// Anything else (a 400 naming the part of the record it refused): retrying the same
    /// request would fail the same way.
    #[error("Bluesky refused the post ({status} {error}): {message}")]
    Refused {
        status: u16,
        error: String,
        message: String,
    },
}

/// A logged-in session; the tokens are secrets and are never printed. It is kept (sealed)
/// between the publisher's passes, as [`Session::to_kept`] writes it.
#[derive(Clone, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Session {
    pub did: String,
    pub handle: String,
    pub access_jwt: String,
    pub refresh_jwt: String,
}

impl Session {
    /// The session as it is kept: JSON, to be sealed before it is stored.
    pub fn to_kept(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// A kept session; `None` for anything that is not one (it is then logged in again).
    pub fn from_kept(kept: &str) -> Option<Session> {
        serde_json::from_str(kept).ok()
    }
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("did", &self.did)
            .field("handle", &self.handle)
            .finish_non_exhaustive()
    }
}

/// Where a post was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Posted {
    /// `at://did/app.bsky.feed.post/rkey`
    pub uri: String,
    /// `https://bsky.app/profile/did/post/rkey`
    pub web_url: String,
}

impl Posted {
    fn new(did: &str, rkey: &str) -> Self {
        Posted {
            uri: format!("at://{did}/app.bsky.feed.post/{rkey}"),
            web_url: format!("https://bsky.app/profile/{did}/post/{rkey}"),
        }
    }
}

/// The link card under a post.
#[derive(Debug, Clone)]
pub struct LinkCard {
    pub uri: String,
    pub title: String,
    pub description: String,
    /// The blob object `uploadBlob` answered, as it came.
    pub thumb: Option<Value>,
}

/// The largest answer read from a PDS: sessions, records and blob references are small.
const ANSWER_CAP: usize = 1024 * 1024;

const TID_ALPHABET: &[u8; 32] = b"234567abcdefghijklmnopqrstuvwxyz";

/// The record key of a caption's post: a TID (the key type `app.bsky.feed.post` asks for)
/// made from the caption's id, the same on every try. Caption ids are UUIDv7: their first
/// 48 bits are the creation time in milliseconds, which gives the TID's time; ids made in
/// the same millisecond by one process carry consecutive counter values (the `uuid`
/// crate's 42-bit counter, whose low 30 bits sit at the top of the random part), and that
/// counter picks the microseconds within the millisecond and then the 10-bit clock id, so
/// over a million captions made in one millisecond get different keys. Another process's
/// counter starts at random, so its ids meet these one time in a million.
pub fn record_key(caption_id: &str) -> String {
    let hex: String = caption_id.chars().filter(char::is_ascii_hexdigit).collect();
    let millis = u64::from_str_radix(hex.get(..12).unwrap_or("0"), 16).unwrap_or(0);
    let low64 = u64::from_str_radix(hex.get(16..32).unwrap_or("0"), 16).unwrap_or(0);
    let counter = (low64 >> 32) & 0x3fff_ffff;
    let clock = (counter / 1000) & 0x3ff;
    let micros = millis.saturating_mul(1000).saturating_add(counter % 1000) & ((1 << 53) - 1);
    let value = (micros << 10) | clock;
    (0..13)
        .rev()
        .map(|i| TID_ALPHABET[((value >> (i * 5)) & 31) as usize] as char)
        .collect()
}

/// The post record: the text with its link and tag facets, the languages, the link card.
pub fn post_record(
    text: &str,
    langs: &[&str],
    card: Option<&LinkCard>,
    created_at: DateTime<Utc>,
) -> Value {
    let mut record = json!({
        "$type": "app.bsky.feed.post",
        "text": text,
        "createdAt": created_at.to_rfc3339_opts(SecondsFormat::Millis, true),
    });
    let found = facets::detect(text);
    if !found.is_empty() {
        record["facets"] = facets::to_json(&found);
    }
    if !langs.is_empty() {
        record["langs"] = json!(langs);
    }
    if let Some(card) = card {
        let mut external = json!({
            "uri": card.uri,
            "title": card.title,
            "description": card.description,
        });
        if let Some(thumb) = &card.thumb {
            external["thumb"] = thumb.clone();
        }
        record["embed"] = json!({"$type": "app.bsky.embed.external", "external": external});
    }
    record
}

/// An XRPC client for one PDS (`https://bsky.social` or a test server).
#[derive(Clone)]
pub struct Client {
    http: reqwest::Client,
    base: String,
}

impl Client {
    /// A client for the PDS at `base`, which the subscriber typed: it is reached only where
    /// the address policy lets feeds be fetched (checked on the address and again on every
    /// address its name resolves to), like any other address a person gives us.
    pub fn new(base: &str, policy: &AddressPolicy) -> Result<Self, BlueskyError> {
        let refused = |message: String| BlueskyError::Refused {
            status: 0,
            error: "AddressRefused".into(),
            message,
        };
        let url =
            url::Url::parse(base).map_err(|e| refused(format!("{base} is not an address: {e}")))?;
        check_url(&url, policy).map_err(|e| refused(e.to_string()))?;
        let builder = guarded_client(policy)
            .timeout(std::time::Duration::from_secs(30))
            .connect_timeout(std::time::Duration::from_secs(10))
            .user_agent(crate::feeds::fetch::default_user_agent());
        let http = builder.build().map_err(|e| BlueskyError::Retry {
            message: e.to_string(),
            retry_after: None,
        })?;
        Ok(Client {
            http,
            base: base.trim_end_matches('/').to_string(),
        })
    }

    fn url(&self, method: &str) -> String {
        format!("{}/xrpc/{method}", self.base)
    }

    async fn answer(
        response: Result<reqwest::Response, reqwest::Error>,
    ) -> Result<Value, BlueskyError> {
        let response = response.map_err(|e| BlueskyError::Retry {
            message: e.to_string(),
            retry_after: None,
        })?;
        let status = response.status().as_u16();
        let retry_after = wait_asked(response.headers(), Utc::now());
        // A PDS answers with small JSON documents; a larger answer is not read whole.
        let mut bytes = Vec::new();
        let mut response = response;
        while let Ok(Some(chunk)) = response.chunk().await {
            if bytes.len() + chunk.len() > ANSWER_CAP {
                return Err(BlueskyError::Retry {
                    message: format!("the answer is larger than {ANSWER_CAP} bytes"),
                    retry_after,
                });
            }
            bytes.extend_from_slice(&chunk);
        }
        let body: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        if (200..300).contains(&status) {
            return Ok(body);
        }
        let error = body["error"].as_str().unwrap_or_default().to_string();
        let message = body["message"].as_str().unwrap_or_default().to_string();
        Err(match status {
            401 | 403 => BlueskyError::Unauthorized { status, message },
            // An expired access token is a 400 ExpiredToken: refreshing fixes it.
            400 if error == "ExpiredToken" => BlueskyError::Unauthorized { status, message },
            429 | 500..=599 => BlueskyError::Retry {
                message: format!("{status} {error}: {message}"),
                retry_after,
            },
            _ => BlueskyError::Refused {
                status,
                error,
                message,
            },
        })
    }

    /// Logs in with a handle (or DID) and an app password.
    pub async fn create_session(
        &self,
        identifier: &str,
        password: &str,
    ) -> Result<Session, BlueskyError> {
        let body = Self::answer(
            self.http
                .post(self.url("com.atproto.server.createSession"))
                .json(&json!({"identifier": identifier, "password": password}))
                .send()
                .await,
        )
        .await?;
        session_from(body)
    }

    /// A fresh session from the refresh token.
    pub async fn refresh_session(&self, session: &Session) -> Result<Session, BlueskyError> {
        let body = Self::answer(
            self.http
                .post(self.url("com.atproto.server.refreshSession"))
                .bearer_auth(&session.refresh_jwt)
                .send()
                .await,
        )
        .await?;
        session_from(body)
    }

    /// Uploads an image; the answer's `blob` goes into a link card as it is.
    pub async fn upload_blob(
        &self,
        session: &Session,
        bytes: Vec<u8>,
        mime: &str,
    ) -> Result<Value, BlueskyError> {
        let body = Self::answer(
            self.http
                .post(self.url("com.atproto.repo.uploadBlob"))
                .bearer_auth(&session.access_jwt)
                .header(reqwest::header::CONTENT_TYPE, mime)
                .body(bytes)
                .send()
                .await,
        )
        .await?;
        Ok(body["blob"].clone())
    }

    /// The post under `rkey`, if it exists.
    pub async fn get_post(&self, did: &str, rkey: &str) -> Result<Option<Value>, BlueskyError> {
        let answer = Self::answer(
            self.http
                .get(self.url("com.atproto.repo.getRecord"))
                .query(&[
                    ("repo", did),
                    ("collection", "app.bsky.feed.post"),
                    ("rkey", rkey),
                ])
                .send()
                .await,
        )
        .await;
        match answer {
            Ok(body) => Ok(Some(body)),
            Err(BlueskyError::Refused { error, .. }) if error == "RecordNotFound" => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Writes the post under `rkey`, exactly once: a post already there under that key
    /// (an earlier try that was sent but not recorded) is the post, and nothing is written.
    pub async fn publish(
        &self,
        session: &Session,
        rkey: &str,
        record: &Value,
    ) -> Result<Posted, BlueskyError> {
        if self.get_post(&session.did, rkey).await?.is_some() {
            return Ok(Posted::new(&session.did, rkey));
        }
        let written = Self::answer(
            self.http
                .post(self.url("com.atproto.repo.createRecord"))
                .bearer_auth(&session.access_jwt)
                .json(&json!({
                    "repo": session.did,
                    "collection": "app.bsky.feed.post",
                    "rkey": rkey,
                    "record": record,
                }))
                .send()
                .await,
        )
        .await;
        match written {
            Ok(_) => Ok(Posted::new(&session.did, rkey)),
            // Two tries racing: the key is taken, so the other one wrote it.
            Err(BlueskyError::Refused { .. })
                if self.get_post(&session.did, rkey).await?.is_some() =>
            {
                Ok(Posted::new(&session.did, rkey))
            }
            Err(e) => Err(e),
        }
    }
}

impl From<BlueskyError> for PublishError {
    fn from(error: BlueskyError) -> Self {
        const NETWORK: &str = "Bluesky";
        match error {
            BlueskyError::Unauthorized { status, message } => PublishError::Unauthorized {
                network: NETWORK,
                message: format!("{status} {message}"),
            },
            BlueskyError::Retry {
                message,
                retry_after,
            } => PublishError::Retry {
                network: NETWORK,
                message,
                retry_after,
            },
            BlueskyError::Refused {
                status,
                error,
                message,
            } => PublishError::Refused {
                network: NETWORK,
                message: format!("{status} {error}: {message}"),
            },
        }
    }
}

/// The longest link-card description: Bluesky's apps show two or three lines of it.
const CARD_DESCRIPTION_CHARS: usize = 300;

/// Publishes one caption with the session: its thumbnail uploaded first (a thumbnail the
/// PDS refuses leaves the card without one rather than the caption unposted), then the
/// post under the caption's record key, so a retry finds it.
pub async fn send(
    client: &Client,
    session: &Session,
    outgoing: &Outgoing,
) -> Result<Published, PublishError> {
    let mut card = outgoing.link.as_ref().map(|link| LinkCard {
        uri: link.url.clone(),
        title: link.title.clone(),
        description: link
            .description
            .chars()
            .take(CARD_DESCRIPTION_CHARS)
            .collect(),
        thumb: None,
    });
    if let (Some(card), Some(image)) = (card.as_mut(), &outgoing.image) {
        match client
            .upload_blob(session, image.bytes.clone(), &image.mime)
            .await
        {
            Ok(blob) => card.thumb = Some(blob),
            Err(BlueskyError::Refused { message, .. }) => {
                tracing::warn!(caption = %outgoing.caption_id, %message, "thumbnail refused; posting the card without it")
            }
            Err(other) => return Err(other.into()),
        }
    }
    let langs: Vec<&str> = outgoing.language.as_deref().into_iter().collect();
    let record = post_record(&outgoing.text, &langs, card.as_ref(), Utc::now());
    let posted = client
        .publish(session, &record_key(&outgoing.caption_id), &record)
        .await?;
    Ok(Published {
        uri: posted.uri,
        web_url: posted.web_url,
    })
}

/// How long a refusing PDS asks us to wait, in whole seconds: `Retry-After` (seconds or an
/// HTTP date), else the rate limit's `RateLimit-Reset` (the Unix time the PDS's window
/// opens again).
fn wait_asked(headers: &reqwest::header::HeaderMap, now: DateTime<Utc>) -> Option<u64> {
    if let Some(wait) = crate::feeds::hints::retry_after(headers, now) {
        return Some(wait.as_secs() + u64::from(wait.subsec_nanos() > 0));
    }
    let reset: i64 = headers
        .get("ratelimit-reset")?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()?;
    u64::try_from(reset - now.timestamp())
        .ok()
        .filter(|s| *s > 0)
}

fn session_from(body: Value) -> Result<Session, BlueskyError> {
    serde_json::from_value(body).map_err(|e| BlueskyError::Refused {
        status: 200,
        error: "UnexpectedAnswer".into(),
        message: e.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_wait_a_pds_asks_for_is_read_in_seconds_as_a_date_or_from_its_rate_limit() {
        use reqwest::header::{HeaderMap, HeaderValue};
        let now = DateTime::parse_from_rfc3339("2026-12-07T10:00:00Z")
            .expect("a time")
            .with_timezone(&Utc);
        let asked = |pairs: &[(&'static str, &'static str)]| {
            let mut headers = HeaderMap::new();
            for (name, value) in pairs {
                headers.insert(*name, HeaderValue::from_static(value));
            }
            wait_asked(&headers, now)
        };
        assert_eq!(asked(&[("retry-after", "120")]), Some(120));
        assert_eq!(
            asked(&[("retry-after", "Mon, 07 Dec 2026 10:05:00 GMT")]),
            Some(300)
        );
        // 2026-12-07T10:01:30Z
        assert_eq!(asked(&[("ratelimit-reset", "1796637690")]), Some(90));
        assert_eq!(
            asked(&[("ratelimit-reset", "1796637000")]),
            None,
            "already past"
        );
        assert_eq!(asked(&[]), None);
    }

    #[test]
    fn a_pds_address_in_a_private_network_is_refused_unless_private_networks_are_open() {
        let closed = AddressPolicy::default();
        for base in [
            "http://127.0.0.1:2583",
            "http://10.1.2.3",
            "http://[::1]:80",
            "ftp://pds.example",
        ] {
            assert!(
                matches!(
                    Client::new(base, &closed),
                    Err(BlueskyError::Refused { .. })
                ),
                "{base}"
            );
        }
        assert!(Client::new("https://bsky.social", &closed).is_ok());
        assert!(Client::new("http://127.0.0.1:2583", &AddressPolicy::open()).is_ok());
    }

    #[test]
    fn a_captions_record_key_is_a_tid_and_always_the_same() {
        let id = "0193a6f1c2d37e4b8a9c5d6e7f801234";
        let key = record_key(id);
        assert_eq!(key, record_key(id));
        assert_eq!(key.len(), 13);
        // A TID's first character is one of 234567abcdefghij (the top bit is 0).
        assert!("234567abcdefghij".contains(&key[..1]), "{key}");
        assert!(key.bytes().all(|b| TID_ALPHABET.contains(&b)), "{key}");
        // The next caption of the same millisecond (the counter one up) gets another key.
        assert_ne!(key, record_key("0193a6f1c2d37e4b8a9c5d6f7f801234"));
        // Later captions sort after earlier ones, as TIDs do.
        assert!(record_key("0193a6f1c2d47e4b8a9c5d6e7f801234") > key);
    }

    #[test]
    fn captions_made_together_in_one_process_never_share_a_key() {
        // A poll writes many captions within a millisecond; a shared key would make the
        // second caption "find" the first one's post and never be posted.
        let ids: Vec<String> = (0..5000).map(|_| crate::db::new_id()).collect();
        let keys: std::collections::BTreeSet<String> =
            ids.iter().map(|id| record_key(id)).collect();
        assert_eq!(keys.len(), ids.len());
    }

    #[test]
    fn the_record_carries_facets_langs_and_the_card() {
        let at = DateTime::parse_from_rfc3339("2026-12-07T09:30:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let card = LinkCard {
            uri: "https://blog.example/p/1".into(),
            title: "Crème brûlée".into(),
            description: "A post".into(),
            thumb: Some(
                json!({"$type": "blob", "ref": {"$link": "bafk"}, "mimeType": "image/png", "size": 3}),
            ),
        };
        let record = post_record(
            "Crème 🦀 https://blog.example/p/1 #Rust",
            &["fr"],
            Some(&card),
            at,
        );
        assert_eq!(record["createdAt"], "2026-12-07T09:30:00.000Z");
        assert_eq!(record["langs"], json!(["fr"]));
        assert_eq!(
            record["facets"][0]["index"],
            json!({"byteStart": 12, "byteEnd": 36})
        );
        assert_eq!(record["facets"][1]["features"][0]["tag"], "Rust");
        assert_eq!(record["embed"]["external"]["thumb"]["ref"]["$link"], "bafk");
        let bare = post_record("plain", &[], None, at);
        assert!(
            bare.get("facets").is_none()
                && bare.get("langs").is_none()
                && bare.get("embed").is_none()
        );
    }

    #[test]
    fn a_session_never_prints_its_tokens() {
        let session = Session {
            did: "did:plc:abc".into(),
            handle: "ann.test".into(),
            access_jwt: "secret-access".into(),
            refresh_jwt: "secret-refresh".into(),
        };
        let printed = format!("{session:?}");
        assert!(!printed.contains("secret"), "{printed}");
    }

    #[test]
    fn a_kept_session_reads_back_whole_and_junk_is_no_session() {
        let session = Session {
            did: "did:plc:abc".into(),
            handle: "ann.test".into(),
            access_jwt: "access".into(),
            refresh_jwt: "refresh".into(),
        };
        let kept = Session::from_kept(&session.to_kept()).expect("a session");
        assert_eq!(
            (kept.did, kept.handle, kept.access_jwt, kept.refresh_jwt),
            (
                "did:plc:abc".into(),
                "ann.test".into(),
                "access".into(),
                "refresh".into()
            )
        );
        assert!(Session::from_kept("").is_none());
        assert!(Session::from_kept(r#"{"did":"did:plc:abc"}"#).is_none());
    }
}
