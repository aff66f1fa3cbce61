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

/// What the listening connection tells its listener.
#[derive(Debug, PartialEq, Eq)]
pub enum Event<'a> {
    /// LISTEN is in place: every change committed from now on will be told.
    Listening,
    /// The connection answered its periodic question: notifications still flow.
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
/// A question now and then, so a connection that died without a word is noticed (and, by
/// [`Event::Alive`] not coming, even while the question hangs).
pub const PING_EVERY: Duration = Duration::from_secs(10);
const FIRST_RETRY: Duration = Duration::from_millis(250);
const LAST_RETRY: Duration = Duration::from_secs(30);
pub const APPLICATION_NAME: &str = "captionfeed listener";

/// Listens on `channel` of the database at `url`, on a thread of its own, for as long as
/// `listener` is alive.
pub fn spawn(
    url: String,
    channel: &'static str,
    listener: Weak<dyn Listener>,
) -> std::io::Result<std::thread::JoinHandle<()>> {
    std::thread::Builder::new()
        .name("db-listener".into())
        .spawn(move || {
            let mut retry = FIRST_RETRY;
            loop {
                match listen(&url, channel, &listener) {
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

fn listen(url: &str, channel: &str, listener: &Weak<dyn Listener>) -> Heard {
    let mut conn = match PgConnection::establish(url) {
        Ok(conn) => conn,
        Err(e) => return Heard::Nothing(e.to_string()),
    };
    // The channel name is ours, a constant: nothing to quote.
    let setup = format!("SET application_name = '{APPLICATION_NAME}'; LISTEN {channel}");
    if let Err(e) = conn.batch_execute(&setup) {
        return Heard::Nothing(e.to_string());
    }
    if !tell(listener, Event::Listening) {
        return Heard::Unwanted;
    }
    let mut asked = Instant::now();
    let mut look_in = LOOK_SOON;
    loop {
        let mut answered = false;
        if asked.elapsed() >= PING_EVERY {
            if let Err(e) = conn.batch_execute("SELECT 1") {
                return Heard::Listened(e.to_string());
            }
            asked = Instant::now();
            answered = true;
        }
        // Notifications that came in with the answer are told before the answer is: being
        // alive vouches for everything before it.
        let mut payloads = Vec::new();
        for notification in conn.notifications_iter() {
            match notification {
                Ok(n) => payloads.push(n.payload),
                Err(e) => return Heard::Listened(e.to_string()),
            }
        }
        for payload in &payloads {
            if !tell(listener, Event::Notified(payload)) {
                return Heard::Unwanted;
            }
        }
        if answered && !tell(listener, Event::Alive) {
            return Heard::Unwanted;
        }
        look_in = if payloads.is_empty() {
            (look_in * 2).min(LOOK_LATEST)
        } else {
            LOOK_SOON
        };
        std::thread::sleep(look_in);
    }
}
