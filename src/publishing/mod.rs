//! The publishing worker: each pass admits the new captions of "join at once" feeds to the
//! queue, then, for every connection that is not broken, sends the account's captions
//! whose time has come (pinned by "post now" or at their posting time) and records what
//! happened on the caption and its queue entry.
//!
//! - `compose`: a caption as it goes out (text, language, link card, image scaled down);
//! - `networks`: the connection's network, chosen by its platform, its session kept
//!   between passes (stored sealed on the connection) and refreshed when it expires;
//! - `broken`: a refused connection marked broken, the subscriber mailed once.
//!
//! Exactly once: each caption is claimed with the shared lease before it is sent, so one
//! replica sends it at a time; a crash between sending and recording is covered by the
//! network's key made from the caption id (Bluesky's record key: the retry finds the post
//! and records it instead of writing another).

pub mod broken;
pub mod compose;
pub mod networks;

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use diesel::prelude::*;

use crate::accounts::UserId;
use crate::captions::Platform;
use crate::config::Settings;
use crate::db::schema::subscriptions;
use crate::db::{now, AnyConnection, Db, DbError};
use crate::desk::CaptionId;
use crate::digests::settings as digest_settings;
use crate::publish::connections::{self, Connection};
use crate::publish::outgoing::PublishError;
use crate::publish::secrets::SecretBox;
use crate::queue::entries::{self, QueueItem};
use crate::queue::{outcomes, timed};
use networks::Network;

const TICK: Duration = Duration::from_secs(15);
/// How long a claimed caption is left to the replica sending it: longer than a login, a
/// thumbnail and a post, each within the client's 30 s timeout. A replica that dies
/// mid-send frees it after this.
const LEASE: chrono::Duration = chrono::Duration::minutes(5);
/// The longest `Retry-After` honoured; a longer one is read as this.
const MAX_RETRY_AFTER_SECS: u64 = 3600;

/// What one pass did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct PublishReport {
    pub admitted: usize,
    pub posted: usize,
    /// Tries that failed for now and wait for their backoff.
    pub retried: usize,
    /// Captions the network refused.
    pub failed: usize,
    /// Connections found broken.
    pub broken: usize,
}

#[derive(Clone)]
pub struct Publisher {
    db: Db,
    secrets: Arc<SecretBox>,
    connections_url: String,
    message_host: String,
    /// Where subscribers' PDSes and instances may be reached: as feeds may.
    policy: crate::feeds::guard::AddressPolicy,
}

impl Publisher {
    pub async fn new(db: Db, settings: &Settings) -> Result<Self, DbError> {
        let key_settings = settings.clone();
        let key = db
            .run(move |conn| crate::signing::key::load_signing_key(conn, &key_settings))
            .await?;
        Ok(Publisher {
            db,
            secrets: Arc::new(SecretBox::from_service_key(&key)),
            connections_url: settings
                .base_url
                .join("connections")
                .map(|u| u.to_string())
                .unwrap_or_else(|_| "/connections".into()),
            message_host: crate::mail::message_host(&settings.base_url),
            policy: settings.address_policy(),
        })
    }

    /// One pass: admit, then send what is due on every working connection.
    pub async fn run_once(&self) -> Result<PublishReport, DbError> {
        let mut report = PublishReport {
            admitted: self.db.run(admit_everywhere).await?,
            ..Default::default()
        };
        let secrets = self.secrets.clone();
        let connected = self
            .db
            .run(move |conn| {
                Ok::<_, DbError>(connections::all_unbroken_with_secrets(conn, &secrets)?)
            })
            .await?;
        for found in connected {
            let (user, connection) = (found.user, found.connection);
            let secret = match found.secret {
                Ok(secret) => secret,
                Err(error) => {
                    self.break_connection(&user, &connection, &error.to_string(), &mut report)
                        .await?;
                    continue;
                }
            };
            let network = Network::new(connection, secret, &self.policy)
                .with_kept_session(found.session.as_deref());
            self.publish_connection(user, network, &mut report).await?;
        }
        Ok(report)
    }

    /// Runs passes until `shutdown` resolves; a failed pass is logged and retried.
    pub async fn run_until_stopped(self, shutdown: impl std::future::Future<Output = ()>) {
        crate::jobs::run_every("publisher", TICK, shutdown, || self.run_once()).await
    }

    async fn publish_connection(
        &self,
        user: UserId,
        mut network: Network,
        report: &mut PublishReport,
    ) -> Result<(), DbError> {
        let Ok(platform) = network.connection().platform.parse::<Platform>() else {
            return Ok(());
        };
        let due = {
            let user = user.clone();
            self.db
                .run(move |conn| due_captions(conn, &user, platform))
                .await?
        };
        // After a refusal for now (the network is down, or asks to wait), the rest of
        // the connection's due captions wait the same way instead of each trying again.
        let mut unavailable: Option<PublishError> = None;
        for item in due {
            let Some(token) = self.claim(&item.caption_id).await? else {
                continue; // another replica has it, or it waits for its backoff
            };
            if let Some(PublishError::Retry {
                message,
                retry_after,
                ..
            }) = &unavailable
            {
                self.record_retry(&item.caption_id, &token, message, *retry_after)
                    .await?;
                report.retried += 1;
                continue;
            }
            let outgoing = {
                let (user, id) = (user.clone(), item.caption_id.clone());
                self.db
                    .run(move |conn| Ok::<_, DbError>(compose::outgoing(conn, &user, &id)?))
                    .await?
            };
            let Some(outgoing) = outgoing else {
                continue; // deleted meanwhile; its queue entry went with it
            };
            let sent = network.send(&outgoing).await;
            // Kept at once, before anything else can fail: the next pass (or replica)
            // starts from this session instead of logging in again.
            self.keep_session(&user, &mut network).await?;
            if let Some(media) = network.take_uploaded_media() {
                let (id, token) = (item.caption_id.clone(), token.clone());
                self.db
                    .run(move |conn| {
                        Ok::<_, DbError>(outcomes::keep_media(conn, &id, &token, &media)?)
                    })
                    .await?;
            }
            match sent {
                Ok(published) => {
                    let (id, token) = (item.caption_id.clone(), token.clone());
                    let recorded = self
                        .db
                        .run(move |conn| {
                            Ok::<_, DbError>(outcomes::record_posted(
                                conn,
                                &id,
                                &token,
                                &published.uri,
                                &published.web_url,
                                now(),
                            )?)
                        })
                        .await?;
                    if recorded {
                        report.posted += 1;
                    } else {
                        tracing::warn!(caption = %item.caption_id, "publish lease lost before recording; the replica holding it records the post");
                    }
                }
                Err(PublishError::Retry {
                    network: name,
                    message,
                    retry_after,
                }) => {
                    tracing::warn!(caption = %item.caption_id, network = name, %message, ?retry_after, "publishing failed for now; retrying later");
                    self.record_retry(&item.caption_id, &token, &message, retry_after)
                        .await?;
                    report.retried += 1;
                    unavailable = Some(PublishError::Retry {
                        network: name,
                        message,
                        retry_after,
                    });
                }
                Err(PublishError::Unauthorized { message, .. }) => {
                    let (id, token) = (item.caption_id.clone(), token.clone());
                    self.db
                        .run(move |conn| Ok::<_, DbError>(outcomes::release(conn, &id, &token)?))
                        .await?;
                    let connection = network.connection().clone();
                    self.break_connection(&user, &connection, &message, report)
                        .await?;
                    return Ok(());
                }
                Err(refused @ PublishError::Refused { .. }) => {
                    tracing::warn!(caption = %item.caption_id, error = %refused, "caption refused");
                    let (id, token, reason) =
                        (item.caption_id.clone(), token.clone(), refused.to_string());
                    self.db
                        .run(move |conn| {
                            Ok::<_, DbError>(outcomes::record_failed(conn, &id, &token, &reason)?)
                        })
                        .await?;
                    report.failed += 1;
                }
            }
        }
        Ok(())
    }

    async fn keep_session(&self, user: &UserId, network: &mut Network) -> Result<(), DbError> {
        let Some(session) = network.take_new_session() else {
            return Ok(());
        };
        let (user, id, secrets) = (
            user.clone(),
            network.connection().id.clone(),
            self.secrets.clone(),
        );
        self.db
            .run(move |conn| {
                Ok::<_, DbError>(connections::save_session(
                    conn, &secrets, &user, &id, &session,
                )?)
            })
            .await?;
        Ok(())
    }

    async fn claim(&self, caption_id: &CaptionId) -> Result<Option<String>, DbError> {
        let id = caption_id.clone();
        self.db
            .run(move |conn| {
                let at = now();
                Ok::<_, DbError>(outcomes::claim(conn, &id, at, at + LEASE)?)
            })
            .await
    }

    async fn record_retry(
        &self,
        caption_id: &CaptionId,
        token: &str,
        message: &str,
        retry_after: Option<u64>,
    ) -> Result<(), DbError> {
        let wait = retry_after
            .map(|secs| chrono::Duration::seconds(secs.clamp(1, MAX_RETRY_AFTER_SECS) as i64));
        let (id, token, message) = (caption_id.clone(), token.to_string(), message.to_string());
        self.db
            .run(move |conn| {
                Ok::<_, DbError>(outcomes::record_retry(
                    conn,
                    &id,
                    &token,
                    &message,
                    wait,
                    now(),
                )?)
            })
            .await?;
        Ok(())
    }

    async fn break_connection(
        &self,
        user: &UserId,
        connection: &Connection,
        reason: &str,
        report: &mut PublishReport,
    ) -> Result<(), DbError> {
        tracing::warn!(connection = %connection.id, platform = %connection.platform, %reason, "connection refused; marked broken");
        let (user, connection, reason) = (user.clone(), connection.clone(), reason.to_string());
        let (url, host) = (self.connections_url.clone(), self.message_host.clone());
        let broke = self
            .db
            .run(move |conn| {
                Ok::<_, DbError>(broken::mark_and_tell(
                    conn,
                    &user,
                    &connection,
                    &reason,
                    &url,
                    &host,
                )?)
            })
            .await?;
        if broke {
            report.broken += 1;
        }
        Ok(())
    }
}

/// Puts the new captions of every account's "join at once" feeds in the queue.
fn admit_everywhere(conn: &mut AnyConnection) -> Result<usize, DbError> {
    let accounts: Vec<String> = subscriptions::table
        .filter(subscriptions::queue_mode.eq(entries::QueueMode::Auto.as_str()))
        .select(subscriptions::user_id)
        .distinct()
        .load(conn)?;
    let mut admitted = 0;
    for account in accounts {
        admitted += entries::admit(conn, &UserId(account))?;
    }
    Ok(admitted)
}

/// The account's queued captions of `platform` whose time has come, in queue order.
fn due_captions(
    conn: &mut AnyConnection,
    user: &UserId,
    platform: Platform,
) -> Result<Vec<QueueItem>, DbError> {
    let queued: Vec<QueueItem> = entries::queued(conn, user)?
        .into_iter()
        .filter(|i| i.platform == platform.id())
        .collect();
    if queued.is_empty() {
        return Ok(Vec::new());
    }
    let zone = digest_settings::find(conn, user)?
        .map(|row| row.prefs().time_zone)
        .unwrap_or(chrono_tz::Tz::UTC);
    let now = Utc::now();
    let (_, scheduled) = timed(conn, user, platform, queued, zone, now)?;
    Ok(scheduled
        .into_iter()
        .filter(|s| s.at.is_some_and(|at| at <= now))
        .map(|s| s.item)
        .collect())
}
