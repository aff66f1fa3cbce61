//! PostgreSQL's LISTEN: changes other processes commit, told to this one as they happen.
//!
//! One connection of its own, outside the pool (a pooled connection would miss
//! notifications while it runs other work), kept open for as long as the service runs and
//! opened again after a loss. Whoever listens is told when notifications start to flow and
//! when they may have stopped: what it learned from them is only good in between.

use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt as _;
use tokio_postgres::AsyncMessage;

/// What the listening connection tells its listener.
#[derive(Debug, PartialEq, Eq)]
pub enum Event<'a> {
    /// LISTEN is in place: every change committed from now on will be told.
    Listening,
    /// The connection is gone: changes may go untold until `Listening` again.
    Lost,
    /// A notification's payload.
    Notified(&'a str),
}

pub trait Listener: Send + Sync + 'static {
    fn event(&self, event: Event<'_>);
}

/// A connection that stays silent this long is asked a question, and given up on when it
/// does not answer in time: a dead peer would otherwise look like a quiet one for good.
const PING_EVERY: Duration = Duration::from_secs(10);
const PING_TIMEOUT: Duration = Duration::from_secs(5);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
const FIRST_RETRY: Duration = Duration::from_millis(250);
const LAST_RETRY: Duration = Duration::from_secs(30);

/// Listens on `channel` of the database at `url` until the runtime ends.
pub fn spawn(
    url: String,
    channel: &'static str,
    listener: Arc<dyn Listener>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut retry = FIRST_RETRY;
        loop {
            match listen(&url, channel, &listener).await {
                Heard::Nothing(e) => {
                    tracing::warn!(error = %e, channel, retry_in = ?retry, "cannot listen for changes");
                }
                Heard::Listened(e) => {
                    retry = FIRST_RETRY;
                    tracing::warn!(error = %e, channel, "lost the connection listening for changes");
                }
            }
            listener.event(Event::Lost);
            tokio::time::sleep(retry).await;
            retry = (retry * 2).min(LAST_RETRY);
        }
    })
}

/// How one connection ended: before LISTEN was in place, or after.
enum Heard {
    Nothing(String),
    Listened(String),
}

async fn listen(url: &str, channel: &str, listener: &Arc<dyn Listener>) -> Heard {
    let mut config: tokio_postgres::Config = match url.parse() {
        Ok(config) => config,
        Err(e) => return Heard::Nothing(e.to_string()),
    };
    config.connect_timeout(CONNECT_TIMEOUT);
    config.application_name("captionfeed listener");
    let (client, mut connection) = match config.connect(tokio_postgres::NoTls).await {
        Ok(pair) => pair,
        Err(e) => return Heard::Nothing(e.to_string()),
    };
    let told = listener.clone();
    // Polling for messages also drives the connection, so the client's queries go
    // through this task as well.
    let driver = tokio::spawn(async move {
        let mut messages = futures_util::stream::poll_fn(move |cx| connection.poll_message(cx));
        while let Some(message) = messages.next().await {
            match message {
                Ok(AsyncMessage::Notification(n)) => told.event(Event::Notified(n.payload())),
                Ok(_) => {}
                Err(e) => return e.to_string(),
            }
        }
        "the database closed the connection".to_string()
    });
    let _stop_driver = AbortOnDrop(driver.abort_handle());
    let mut driver = driver;
    // The channel name is ours, a constant: nothing to quote.
    if let Err(e) = client.batch_execute(&format!("LISTEN {channel}")).await {
        return Heard::Nothing(e.to_string());
    }
    listener.event(Event::Listening);
    loop {
        tokio::select! {
            ended = &mut driver => {
                return Heard::Listened(ended.unwrap_or_else(|e| e.to_string()));
            }
            () = tokio::time::sleep(PING_EVERY) => {
                match tokio::time::timeout(PING_TIMEOUT, client.simple_query("SELECT 1")).await {
                    Ok(Ok(_)) => {}
                    Ok(Err(e)) => return Heard::Listened(e.to_string()),
                    Err(_) => return Heard::Listened(format!(
                        "no answer within {}s", PING_TIMEOUT.as_secs()
                    )),
                }
            }
        }
    }
}

struct AbortOnDrop(tokio::task::AbortHandle);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}
