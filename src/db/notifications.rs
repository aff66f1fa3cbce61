//! PostgreSQL's LISTEN: changes other processes commit, told to this one as they happen.
//!
//! One connection of its own, outside the pool (a pooled connection would miss
//! notifications while it runs other work), opened from the same URL by the same libpq as
//! the pool, so whatever the pool's URL asks for (TLS and its certificates, a service file,
//! keepalives) holds here too. It lives on a thread of its own, opened again after a loss,
//! until nobody listens any more. Whoever listens is told when notifications start to flow,
//! that they still do, and when they may have stopped: what it learned from them is only
//! good in between.

use std::sync::Weak;
use std::time::{Duration, Instant};

use diesel::connection::SimpleConnection as _;
use diesel::{Connection as _, PgConnection};

use super::{Db, DbError};

/// What the listening connection tells its listener.
#[derive(Debug, PartialEq, Eq)]
pub enum Event<'a> {
    /// LISTEN is in place, and this connection's first heartbeat came back through it:
    /// every change committed from now on will be told.
    Listening,
    /// Another heartbeat came back: notifications still flow, and every change committed
    /// before it has been told.
    Alive,
    /// The connection is gone: changes may go untold until `Listening` again.
    Lost,
    /// A notification's payload.
    Notified(&'a str),
}

pub trait Listener: Send + Sync + 'static {
    fn event(&self, event: Event<'_>);
}

/// libpq reads what arrived without blocking (diesel gives no way to wait on the socket),
/// so the connection is looked at now and then: every 2 ms after a notification, less
/// often the longer nothing comes, down to every 50 ms. A change reaches this process at
/// most that much later; an idle process wakes 20 times a second (looking every 2 ms
/// throughout cost an idle server 1% of a core).
const LOOK_SOON: Duration = Duration::from_millis(2);
const LOOK_LATEST: Duration = Duration::from_millis(50);
/// A heartbeat through the channel this often: a notification with this connection's own
/// token, which must come back within [`BEAT_TIMEOUT`] or the connection is given up on
/// (and, by [`Event::Alive`] not coming, even while sending it hangs).
pub const BEAT_EVERY: Duration = Duration::from_secs(10);
const BEAT_TIMEOUT: Duration = Duration::from_secs(5);
/// What heartbeats' payloads start with; they are not passed on.
const HEARTBEAT: &str = "hb:";
const FIRST_RETRY: Duration = Duration::from_millis(250);
const LAST_RETRY: Duration = Duration::from_secs(30);
pub const APPLICATION_NAME: &str = "captionfeed listener";

/// Listens on `channel` of the database at `url`, on a thread of its own, for as long as
/// `listener` is alive. Heartbeats are sent through `senders` (the service's pool, the way
/// every change is written).
pub fn spawn(
    url: String,
    senders: Db,
    channel: &'static str,
    listener: Weak<dyn Listener>,
) -> std::io::Result<std::thread::JoinHandle<()>> {
    std::thread::Builder::new()
        .name("db-listener".into())
        .spawn(move || {
            let mut retry = FIRST_RETRY;
            loop {
                match listen(&url, &senders, channel, &listener) {
                    Heard::Nothing(e) => {
                        tracing::warn!(error = %e, channel, retry_in = ?retry, "cannot listen for changes");
                    }
                    Heard::Listened(e) => {
                        retry = FIRST_RETRY;
                        tracing::warn!(error = %e, channel, "lost the connection listening for changes");
                    }
                    Heard::Unwanted => return,
                }
                if !tell(&listener, Event::Lost) {
                    return;
                }
                std::thread::sleep(retry);
                retry = (retry * 2).min(LAST_RETRY);
            }
        })
}

/// How one connection ended: before LISTEN was in place, after, or because nobody listens.
enum Heard {
    Nothing(String),
    Listened(String),
    Unwanted,
}

/// Tells the listener, if there still is one.
fn tell(listener: &Weak<dyn Listener>, event: Event<'_>) -> bool {
    match listener.upgrade() {
        Some(listener) => {
            listener.event(event);
            true
        }
        None => false,
    }
}

fn listen(url: &str, senders: &Db, channel: &str, listener: &Weak<dyn Listener>) -> Heard {
    let mut conn = match PgConnection::establish(url) {
        Ok(conn) => conn,
        Err(e) => return Heard::Nothing(e.to_string()),
    };
    // The channel name is ours, a constant, and the token is hex: nothing to quote.
    let setup = format!("SET application_name = '{APPLICATION_NAME}'; LISTEN {channel}");
    if let Err(e) = conn.batch_execute(&setup) {
        return Heard::Nothing(e.to_string());
    }
    // Heartbeats go through the channel itself, sent on a pooled connection as changes are:
    // this listener's own notification coming back proves that what the service writes
    // reaches it, which an answer to a query on this connection would not (behind a pooler
    // in transaction mode, say, LISTEN holds on a server connection that is not ours).
    let own = format!("{HEARTBEAT}{:016x}", rand::random::<u64>());
    let beat = format!("NOTIFY {channel}, '{own}'");
    let mut beat_sent: Option<Instant> = None;
    let mut last_heard: Option<Instant> = None;
    let mut listening = false;
    let ended = |listening: bool, why: String| {
        if listening {
            Heard::Listened(why)
        } else {
            Heard::Nothing(why)
        }
    };
    let mut look_in = LOOK_SOON;
    loop {
        let due = match (beat_sent, last_heard) {
            (Some(_), _) => false,
            (None, None) => true,
            (None, Some(heard)) => heard.elapsed() >= BEAT_EVERY,
        };
        if due {
            let sent = senders
                .get()
                .and_then(|mut sender| sender.batch_execute(&beat).map_err(DbError::from));
            match sent {
                Ok(()) => beat_sent = Some(Instant::now()),
                Err(e) => {
                    // The pool's trouble, not this connection's: try again at the next beat,
                    // while the listener's trust runs out.
                    tracing::warn!(error = %e, "cannot send a heartbeat for the listener");
                    last_heard = Some(Instant::now());
                }
            }
        }
        let mut payloads = Vec::new();
        for notification in conn.notifications_iter() {
            match notification {
                Ok(n) => payloads.push(n.payload),
                Err(e) => return ended(listening, e.to_string()),
            }
        }
        // In commit order: what came before the heartbeat is told before it.
        for payload in &payloads {
            let told = if *payload == own {
                beat_sent = None;
                last_heard = Some(Instant::now());
                let event = if listening {
                    Event::Alive
                } else {
                    Event::Listening
                };
                listening = true;
                tell(listener, event)
            } else if payload.starts_with(HEARTBEAT) {
                // Another process's heartbeat.
                true
            } else {
                tell(listener, Event::Notified(payload))
            };
            if !told {
                return Heard::Unwanted;
            }
        }
        if beat_sent.is_some_and(|sent| sent.elapsed() >= BEAT_TIMEOUT) {
            let mut why = format!(
                "a heartbeat sent through the pool did not come back within {} s",
                BEAT_TIMEOUT.as_secs()
            );
            if !listening {
                why.push_str(" (does the URL lead through a pooler in transaction mode?)");
            }
            return ended(listening, why);
        }
        look_in = if payloads.is_empty() {
            (look_in * 2).min(LOOK_LATEST)
        } else {
            LOOK_SOON
        };
        std::thread::sleep(look_in);
    }
}
