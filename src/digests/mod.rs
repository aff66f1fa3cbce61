//! Caption digests by email: settings, the schedule, the outbox, rendering, the sender.
//!
//! One pass ([`Digests::run_once`]) first closes every account's period that has ended
//! (putting a digest in the outbox, see [`outbox`]), then claims due digests with leases
//! and sends them. Failed sends wait with exponential backoff; the error shows on the
//! account's settings page until a send succeeds.

pub mod outbox;
pub mod render;
pub mod schedule;
pub mod settings;
pub mod test_digest;
pub mod unsubscribe;

use std::time::Duration;

use chrono::NaiveDateTime;

use crate::accounts::UserId;
use crate::config::Settings;
use crate::db::{now, Db, DbError};
use crate::mail::{MailError, Mailer};

/// How many digests one pass sends at most.
const BATCH: i64 = 50;
/// How long a claim on a digest lasts; well beyond the SMTP timeout, so only a crash lets
/// it expire (and then the digest is sent again, never dropped).
const LEASE: Duration = Duration::from_secs(5 * 60);
/// How often the loop runs.
const TICK: Duration = Duration::from_secs(30);

#[derive(Debug, thiserror::Error)]
pub enum DigestError {
    #[error("{0}")]
    Invalid(String),
    #[error("rendering the digest: {0}")]
    Render(String),
    #[error(transparent)]
    Mail(#[from] MailError),
    #[error(transparent)]
    Db(#[from] DbError),
}

impl From<diesel::result::Error> for DigestError {
    fn from(e: diesel::result::Error) -> Self {
        DigestError::Db(e.into())
    }
}

impl crate::db::IsBusy for DigestError {
    fn is_busy(&self) -> bool {
        matches!(self, DigestError::Db(e) if e.is_busy())
    }
}

/// What one pass did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct DigestReport {
    pub digests_created: usize,
    pub digests_sent: usize,
    pub digests_failed: usize,
}

/// The digest scheduler and sender.
#[derive(Clone)]
pub struct Digests {
    db: Db,
    mailer: Mailer,
    base_url: url::Url,
    signing_key: Vec<u8>,
}

impl Digests {
    /// Loads the signing key the unsubscribe links are signed with (the web's key).
    pub async fn new(db: Db, mailer: Mailer, settings: &Settings) -> Result<Self, DigestError> {
        let key_settings = settings.clone();
        let signing_key = db
            .run(move |conn| crate::signing::key::load_signing_key(conn, &key_settings))
            .await?;
        Ok(Digests {
            db,
            mailer,
            base_url: settings.base_url.clone(),
            signing_key,
        })
    }

    /// A sender for pages that already hold the signing key (the web's "test digest").
    pub fn from_parts(db: Db, mailer: Mailer, base_url: url::Url, signing_key: Vec<u8>) -> Self {
        Digests {
            db,
            mailer,
            base_url,
            signing_key,
        }
    }

    fn message_host(&self) -> String {
        self.base_url
            .host_str()
            .unwrap_or("captionfeed.invalid")
            .to_string()
    }

    pub async fn run_once(&self) -> Result<DigestReport, DigestError> {
        self.run_once_at(now()).await
    }

    /// A pass as if it were `at` (tests move time forward instead of waiting).
    #[tracing::instrument(name = "digest pass", skip_all)]
    pub async fn run_once_at(&self, at: NaiveDateTime) -> Result<DigestReport, DigestError> {
        let mut report = DigestReport::default();
        let accounts = self
            .db
            .run(|conn| Ok::<_, DigestError>(settings::active(conn)?))
            .await?;
        let host = self.message_host();
        for account in accounts {
            let host = host.clone();
            let user = account.user_id.clone();
            // One account's failure (rolled back, retried next pass) must not hold up the rest.
            match self
                .db
                .transaction(move |conn| outbox::close_period(conn, &account, at, &host))
                .await
            {
                Ok(created) => report.digests_created += usize::from(created.is_some()),
                Err(error) => {
                    tracing::warn!(%user, %error, "closing a digest period failed; retrying next pass")
                }
            }
        }
        let lease = chrono::Duration::from_std(LEASE).unwrap_or(chrono::Duration::minutes(5));
        let claimed = self
            .db
            .run(move |conn| Ok::<_, DigestError>(outbox::claim_due(conn, at, at + lease, BATCH)?))
            .await?;
        for digest in claimed {
            match self.send(&digest).await {
                Ok(()) => {
                    let sent = digest.clone();
                    let marked = self
                        .db
                        .run(move |conn| {
                            Ok::<_, DigestError>(outbox::mark_sent(conn, &sent, now())?)
                        })
                        .await?;
                    if !marked {
                        tracing::warn!(digest = %digest.id, "digest sent after its lease ran out; the claim holding it now marks it");
                    }
                    report.digests_sent += 1;
                }
                Err(error) => {
                    let message = error.to_string();
                    tracing::warn!(digest = %digest.id, attempts = digest.attempts + 1, %message, "digest not sent; will retry");
                    let retry_at = at + crate::jobs::backoff(digest.attempts);
                    let failed = digest.clone();
                    self.db
                        .run(move |conn| {
                            Ok::<_, DigestError>(outbox::mark_failed(
                                conn, &failed, &message, retry_at,
                            )?)
                        })
                        .await?;
                    report.digests_failed += 1;
                }
            }
        }
        Ok(report)
    }

    async fn send(&self, digest: &Digest) -> Result<(), DigestError> {
        let id = digest.id.clone();
        let user = UserId(digest.user_id.clone());
        let (captions, queue, zone, still_on) = self
            .db
            .run(move |conn| {
                let row = settings::find(conn, &user)?;
                let on = row
                    .as_ref()
                    .is_some_and(|r| r.prefs().frequency != schedule::Frequency::Off);
                let zone = row.map(|r| r.prefs().time_zone).unwrap_or(chrono_tz::UTC);
                Ok::<_, DigestError>((
                    outbox::contents(conn, &id)?,
                    outbox::queue_contents(conn, &id)?,
                    zone,
                    on,
                ))
            })
            .await?;
        if !still_on {
            // Turned off (unsubscribed) while this digest waited, e.g. for a dead server:
            // the reader asked for no more mail, so it is settled without sending.
            return Ok(());
        }
        let todays_queue = !queue.is_empty();
        let posts = if todays_queue {
            render::group_queue(queue, zone)
        } else {
            render::group(captions)
        };
        if posts.is_empty() {
            // Every caption was deleted with its feed since: nothing is left to say.
            return Ok(());
        }
        self.mail(digest, &posts, false, todays_queue).await
    }

    /// Renders and sends one digest; a test one says so in its subject.
    async fn mail(
        &self,
        digest: &Digest,
        posts: &[render::PostGroup],
        test: bool,
        todays_queue: bool,
    ) -> Result<(), DigestError> {
        let user = UserId(digest.user_id.clone());
        let unsubscribe_url = unsubscribe::link(&self.base_url, &self.signing_key, &user);
        let settings_url = self
            .base_url
            .join("settings")
            .map(|u| u.to_string())
            .unwrap_or_default();
        let desk_url = self
            .base_url
            .join("captions")
            .map(|u| u.to_string())
            .unwrap_or_default();
        let mastodon_chooser = self
            .base_url
            .join("share/mastodon")
            .map(|u| u.to_string())
            .unwrap_or_default();
        let message = render::message(
            &render::Envelope {
                from: self.mailer.from_address(),
                desk_url: &desk_url,
                mastodon_chooser: &mastodon_chooser,
                review: Some(&render::ReviewLinks {
                    base_url: &self.base_url,
                    key: &self.signing_key,
                    expires: chrono::Utc::now().timestamp()
                        + crate::queue::links::VALID_DAYS * 86_400,
                }),
                settings_url: &settings_url,
                unsubscribe_url: &unsubscribe_url,
                test,
                todays_queue,
            },
            digest,
            posts,
        )?;
        self.mailer.send(message).await?;
        Ok(())
    }

    /// Runs passes until `shutdown` resolves; a failed pass is logged and retried.
    pub async fn run_until_stopped(self, shutdown: impl std::future::Future<Output = ()>) {
        crate::jobs::run_every("digest sender", TICK, shutdown, || self.run_once()).await
    }
}

use outbox::Digest;
