//! One connection's network as the publisher talks to it: chosen by the connection's
//! platform, logged in once per pass and again when a session expires.

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
    bluesky: Option<(Client, Session)>,
    mastodon: Option<MastodonClient>,
}

impl Network {
    pub fn new(connection: Connection, secret: String, policy: &AddressPolicy) -> Self {
        Network {
            connection,
            secret,
            policy: policy.clone(),
            bluesky: None,
            mastodon: None,
        }
    }

    pub fn connection(&self) -> &Connection {
        &self.connection
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
        let had_session = self.bluesky.is_some();
        let (client, session) = self.bluesky_session().await?;
        match bluesky::send(client, session, outgoing).await {
            // An access token expired mid-pass: log in again once before calling the
            // connection broken.
            Err(PublishError::Unauthorized { .. }) if had_session => {
                self.bluesky = None;
                let (client, session) = self.bluesky_session().await?;
                bluesky::send(client, session, outgoing).await
            }
            other => other,
        }
    }

    async fn send_to_mastodon(&mut self, outgoing: &Outgoing) -> Result<Published, PublishError> {
        if self.mastodon.is_none() {
            let client = MastodonClient::new(&self.policy).map_err(PublishError::from)?;
            self.mastodon = Some(client);
        }
        let Some(client) = self.mastodon.as_ref() else {
            return Err(PublishError::Retry {
                network: "Mastodon",
                message: "no client".into(),
                retry_after: None,
            });
        };
        // The token is the connection's secret; the status is sent under an Idempotency-Key
        // made from the caption's id, so a retry after a crash finds the same status.
        mastodon::post::publish(client, &self.connection.service_url, &self.secret, outgoing).await
    }

    async fn bluesky_session(&mut self) -> Result<&(Client, Session), PublishError> {
        if self.bluesky.is_none() {
            let client = Client::new(&self.connection.service_url, &self.policy)?;
            let session = client
                .create_session(&self.connection.handle, &self.secret)
                .await?;
            self.bluesky = Some((client, session));
        }
        self.bluesky.as_ref().ok_or(PublishError::Retry {
            network: "Bluesky",
            message: "no session".into(),
            retry_after: None,
        })
    }
}
