//! One connection's network as the publisher talks to it: chosen by the connection's
//! platform, logged in once per pass and again when a session expires.

use crate::publish::bluesky::{self, Client, Session};
use crate::publish::connections::Connection;
use crate::publish::outgoing::{Outgoing, PublishError, Published};

/// A connected network for one pass of the publisher.
pub struct Network {
    connection: Connection,
    secret: String,
    bluesky: Option<(Client, Session)>,
}

impl Network {
    pub fn new(connection: Connection, secret: String) -> Self {
        Network {
            connection,
            secret,
            bluesky: None,
        }
    }

    pub fn connection(&self) -> &Connection {
        &self.connection
    }

    /// Publishes one caption on the connection's network.
    pub async fn send(&mut self, outgoing: &Outgoing) -> Result<Published, PublishError> {
        match self.connection.platform.as_str() {
            "bluesky" => self.send_to_bluesky(outgoing).await,
            // MASTODON: the Mastodon client lands separately; at merge this arm becomes
            // `crate::publish::mastodon::publish(...)`. Until then a Mastodon caption is
            // refused with the reason shown, never silently dropped.
            "mastodon" => Err(PublishError::Refused {
                network: "Mastodon",
                message: "not built".into(),
            }),
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

    async fn bluesky_session(&mut self) -> Result<&(Client, Session), PublishError> {
        if self.bluesky.is_none() {
            let client = Client::new(&self.connection.service_url)?;
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
