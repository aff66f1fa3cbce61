//! One connection's network as the publisher talks to it, chosen by the connection's
//! platform.
//!
//! Bluesky sessions are kept between passes: bsky.social allows an account 30 logins in
//! 5 minutes and 300 a day, so logging in on every pass would lock a busy account out.
//! The kept access token is used until the PDS says it expired, then the refresh token
//! gets a new session (`refreshSession`), and only when that is refused does the app
//! password log in again. A login or refresh hands back a session for the publisher to
//! keep ([`Network::take_new_session`]).

use crate::feeds::guard::AddressPolicy;
use crate::publish::bluesky::{self, Client, Session};
use crate::publish::connections::Connection;
use crate::publish::mastodon::{self, client::Client as MastodonClient};
use crate::publish::outgoing::{Outgoing, PublishError, Published};

/// A connected network for one pass of the publisher.
pub struct Network {
    connection: Connection,
    secret: String,
    /// Where the subscriber's PDS or instance may be reached: as feeds may.
    policy: AddressPolicy,
    bluesky: Option<Client>,
    session: Option<Session>,
    /// The session changed (a login or a refresh) since it was last taken to be kept.
    session_changed: bool,
    mastodon: Option<MastodonClient>,
    /// The id of an image the last send uploaded, to keep with its caption.
    uploaded_media: Option<String>,
}

impl Network {
    pub fn new(connection: Connection, secret: String, policy: &AddressPolicy) -> Self {
        Network {
            connection,
            secret,
            policy: policy.clone(),
            bluesky: None,
            session: None,
            session_changed: false,
            mastodon: None,
            uploaded_media: None,
        }
    }

    /// Starts from the session kept by an earlier pass (as [`Session::to_kept`] wrote it);
    /// one that does not read is ignored, and the app password logs in instead.
    pub fn with_kept_session(mut self, kept: Option<&str>) -> Self {
        self.session = kept.and_then(Session::from_kept);
        self
    }

    /// The session to keep, once after each login or refresh.
    pub fn take_new_session(&mut self) -> Option<String> {
        if !std::mem::take(&mut self.session_changed) {
            return None;
        }
        self.session.as_ref().map(Session::to_kept)
    }

    pub fn connection(&self) -> &Connection {
        &self.connection
    }

    /// The id of the image the last send uploaded (Mastodon), once: kept with the caption,
    /// its retry attaches that image instead of uploading it again.
    pub fn take_uploaded_media(&mut self) -> Option<String> {
        self.uploaded_media.take()
    }

    /// Publishes one caption on the connection's network.
    pub async fn send(&mut self, outgoing: &Outgoing) -> Result<Published, PublishError> {
        match self.connection.platform.as_str() {
            "bluesky" => self.send_to_bluesky(outgoing).await,
            "mastodon" => self.send_to_mastodon(outgoing).await,
            other => Err(PublishError::Refused {
                network: "captionfeed",
                message: format!("{other} is not posted to directly"),
            }),
        }
    }

    async fn send_to_bluesky(&mut self, outgoing: &Outgoing) -> Result<Published, PublishError> {
        let client = self.bluesky_client()?;
        let (session, fresh) = match self.session.clone() {
            Some(kept) => (kept, false),
            None => (self.log_in(&client).await?, true),
        };
        match bluesky::send(&client, &session, outgoing).await {
            // The kept access token expired (or was revoked): renew it once, then retry.
            Err(PublishError::Unauthorized { .. }) if !fresh => {
                let session = self.renew(&client, &session).await?;
                bluesky::send(&client, &session, outgoing).await
            }
            other => other,
        }
    }

    fn bluesky_client(&mut self) -> Result<Client, PublishError> {
        if let Some(client) = &self.bluesky {
            return Ok(client.clone());
        }
        let client = Client::new(&self.connection.service_url, &self.policy)?;
        self.bluesky = Some(client.clone());
        Ok(client)
    }

    /// Logs in with the app password: the one call bsky.social limits hard.
    async fn log_in(&mut self, client: &Client) -> Result<Session, PublishError> {
        let session = client
            .create_session(&self.connection.handle, &self.secret)
            .await?;
        self.keep(session.clone());
        Ok(session)
    }

    /// A new session from the refresh token; when the PDS refuses it (expired, or the app
    /// password behind it was revoked), a login with the app password. A PDS that cannot
    /// be reached is a wait, not a reason to log in.
    async fn renew(&mut self, client: &Client, old: &Session) -> Result<Session, PublishError> {
        match client.refresh_session(old).await {
            Ok(session) => {
                self.keep(session.clone());
                Ok(session)
            }
            Err(bluesky::BlueskyError::Retry {
                message,
                retry_after,
            }) => Err(PublishError::Retry {
                network: "Bluesky",
                message,
                retry_after,
            }),
            Err(refused) => {
                tracing::info!(connection = %self.connection.id, reason = %refused, "Bluesky session not refreshed; logging in with the app password");
                self.session = None;
                self.log_in(client).await
            }
        }
    }

    fn keep(&mut self, session: Session) {
        self.session = Some(session);
        self.session_changed = true;
    }

    async fn send_to_mastodon(&mut self, outgoing: &Outgoing) -> Result<Published, PublishError> {
        let client = match &mut self.mastodon {
            Some(client) => client,
            slot @ None => {
                slot.insert(MastodonClient::new(&self.policy).map_err(PublishError::from)?)
            }
        };
        // The token is the connection's secret; the status is sent under an Idempotency-Key
        // made from the caption's id, so a retry after a crash finds the same status.
        let mut uploaded = None;
        let sent = mastodon::post::publish_keeping_media(
            client,
            &self.connection.service_url,
            &self.secret,
            outgoing,
            &mut uploaded,
        )
        .await;
        self.uploaded_media = uploaded;
        sent
    }
}
