//! What the stored pages check on every request, known without asking the database: whose
//! a session is, until when, and the account's change versions (the desk's and the other
//! pages').
//!
//! Only while PostgreSQL tells this process of every change to either (LISTEN, see
//! `db::notifications`): the database's triggers notify on channel [`CHANNEL`] whenever a
//! counter of `desk_versions` or `page_versions` rises (`u:<user id>`) and whenever a
//! session is removed or changed (`s:<session hash>`), and what they name is forgotten
//! here, to be read again from the database on its next request. Without that connection (SQLite, or PostgreSQL while the
//! connection is down) nothing is kept, and each request reads the database as before.
//!
//! A change shows here once its notification has arrived and been looked at: within 50 ms
//! of commit (see `db::notifications`). A subscriber's own changes show at once, on every
//! replica: a request that may write (anything but GET and HEAD) forgets its session here
//! before its answer leaves, and gives the browser a cookie that lives two seconds
//! ([`FRESH_COOKIE`]); while the browser sends it, the desk reads the database whichever
//! replica answers, so the page after a form's redirect shows what the form changed.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use actix_web::body::MessageBody;
use actix_web::cookie::{time::Duration as CookieDuration, Cookie, SameSite};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::Method;
use actix_web::middleware::Next;
use actix_web::web;
use chrono::NaiveDateTime;

use crate::accounts::sessions::token_hash;
use crate::accounts::sessions::Versions;
use crate::db::notifications::{Event, Listener, BEAT_EVERY};
use crate::web::session::SESSION_COOKIE;
use crate::web::AppState;

/// The channel the triggers of migration `desk_notify` notify on.
pub const CHANNEL: &str = "captionfeed_desk";

/// Sent for two seconds after the subscriber changed something: read the database, not
/// memory, since this replica may not have been told yet.
pub const FRESH_COOKIE: &str = "cf_fresh";
const FRESH_FOR_SECONDS: i64 = 2;

/// Sessions kept at most; past that all are dropped, each one read again when next used.
const MAX_SESSIONS: usize = 100_000;

/// How long what is kept is trusted without a heartbeat from the listening connection (a
/// connection stuck sending one, to a peer gone silent, may have stopped telling).
/// Notifications queued meanwhile still arrive, in order, before the next heartbeat.
const TRUSTED_FOR: Duration = Duration::from_secs(3 * BEAT_EVERY.as_secs());

#[derive(Default)]
pub struct DeskWatch {
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    /// Set while the database tells this process of changes, and refreshed by each sign
    /// of life from the listening connection.
    trusted_until: Option<Instant>,
    /// Raised whenever something is forgotten: a database answer read before that may be
    /// stale, and is not kept (see [`Ticket`]).
    generation: u64,
    /// By session hash: the account and when the session ends.
    sessions: HashMap<String, (String, NaiveDateTime)>,
    /// By account: its change versions.
    versions: HashMap<String, Versions>,
}

impl State {
    fn trusted(&self, now: Instant) -> bool {
        self.trusted_until.is_some_and(|until| now < until)
    }

    fn forget_all(&mut self) {
        self.sessions.clear();
        self.versions.clear();
        self.generation += 1;
    }
}

/// Taken before reading the database: what is read is kept only if nothing was forgotten
/// in between (a change may have been committed after the read saw the rows).
#[derive(Debug, Clone, Copy)]
pub struct Ticket(u64);

impl DeskWatch {
    /// The account and change versions of a session that is still live at `at`, if known.
    pub fn known(&self, session: &str, at: NaiveDateTime) -> Option<(String, Versions)> {
        let state = self.state.lock().ok()?;
        if !state.trusted(Instant::now()) {
            return None;
        }
        let (user_id, expires_at) = state.sessions.get(session)?;
        if *expires_at <= at {
            return None;
        }
        let version = state.versions.get(user_id)?;
        Some((user_id.clone(), *version))
    }

    /// A ticket for keeping what is about to be read, if anything can be kept now.
    pub fn ticket(&self) -> Option<Ticket> {
        let state = self.state.lock().ok()?;
        state
            .trusted(Instant::now())
            .then_some(Ticket(state.generation))
    }

    /// Keeps a session's account, its end and the account's change versions, read from the
    /// database after `ticket` was taken.
    pub fn learn(
        &self,
        ticket: Ticket,
        session: &str,
        user_id: &str,
        expires_at: NaiveDateTime,
        versions: Versions,
    ) {
        let Ok(mut state) = self.state.lock() else {
            return;
        };
        if !state.trusted(Instant::now()) || state.generation != ticket.0 {
            return;
        }
        if state.sessions.len() >= MAX_SESSIONS {
            // Not a forgetting of changes: what is kept stays true, there is just less of it.
            state.sessions.clear();
            state.versions.clear();
        }
        state
            .sessions
            .insert(session.to_string(), (user_id.to_string(), expires_at));
        state.versions.insert(user_id.to_string(), versions);
    }

    /// Forgets a session and its account's version (after a change it may have made).
    pub fn forget_session(&self, session: &str) {
        let Ok(mut state) = self.state.lock() else {
            return;
        };
        if let Some((user_id, _)) = state.sessions.remove(session) {
            state.versions.remove(&user_id);
        }
        state.generation += 1;
    }

    fn forget_user(&self, user_id: &str) {
        let Ok(mut state) = self.state.lock() else {
            return;
        };
        state.versions.remove(user_id);
        state.generation += 1;
    }
}

impl Listener for DeskWatch {
    fn event(&self, event: Event<'_>) {
        match event {
            Event::Notified(payload) => match payload.split_once(':') {
                Some(("u", user_id)) => self.forget_user(user_id),
                Some(("s", session)) => self.forget_session(session),
                _ => {
                    tracing::warn!(payload, "unknown desk notification; forgetting all");
                    if let Ok(mut state) = self.state.lock() {
                        state.forget_all();
                    }
                }
            },
            Event::Alive => {
                if let Ok(mut state) = self.state.lock() {
                    if state.trusted_until.is_some() {
                        state.trusted_until = Some(Instant::now() + TRUSTED_FOR);
                    }
                }
            }
            Event::Listening | Event::Lost => {
                if let Ok(mut state) = self.state.lock() {
                    // Changes made while nobody listened were not told: start again empty.
                    state.forget_all();
                    state.trusted_until =
                        (event == Event::Listening).then(|| Instant::now() + TRUSTED_FOR);
                }
            }
        }
    }
}

/// Middleware: a request that may have changed something forgets its session's entry
/// once it is done and gives the browser the fresh-read cookie, so the subscriber's next
/// pages are read afresh on any replica, told of the change yet or not.
pub async fn forget_after_writes(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let writes = !matches!(*req.method(), Method::GET | Method::HEAD);
    let session = writes
        .then(|| req.cookie(SESSION_COOKIE).map(|c| token_hash(c.value())))
        .flatten();
    let state = req.app_data::<web::Data<AppState>>().cloned();
    let mut res = next.call(req).await?;
    if let (Some(session), Some(state)) = (session, state) {
        state.desk_watch.forget_session(&session);
        let fresh = Cookie::build(FRESH_COOKIE, "1")
            .path("/")
            .http_only(true)
            .secure(state.settings.secure_cookies())
            .same_site(SameSite::Lax)
            .max_age(CookieDuration::seconds(FRESH_FOR_SECONDS))
            .finish();
        if let Err(e) = res.response_mut().add_cookie(&fresh) {
            tracing::warn!(error = %e, "cannot set the fresh-read cookie");
        }
    }
    Ok(res)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(hour: u32) -> NaiveDateTime {
        chrono::NaiveDate::from_ymd_opt(2026, 11, 24)
            .and_then(|d| d.and_hms_opt(hour, 0, 0))
            .expect("a valid time")
    }

    fn listening() -> DeskWatch {
        let watch = DeskWatch::default();
        watch.event(Event::Listening);
        watch
    }

    fn v(version: i64) -> Versions {
        Versions {
            desk: version,
            pages: version + 100,
        }
    }

    fn learned(watch: &DeskWatch, session: &str, user: &str, version: i64) {
        let ticket = watch.ticket().expect("listening");
        watch.learn(ticket, session, user, at(12), v(version));
    }

    #[test]
    fn keeps_nothing_until_listening() {
        let watch = DeskWatch::default();
        assert!(watch.ticket().is_none());
        watch.event(Event::Listening);
        learned(&watch, "s1", "ann", 7);
        assert_eq!(watch.known("s1", at(9)), Some(("ann".into(), v(7))));
    }

    #[test]
    fn a_session_past_its_end_is_not_known() {
        let watch = listening();
        learned(&watch, "s1", "ann", 7);
        assert_eq!(watch.known("s1", at(12)), None);
        assert_eq!(watch.known("s1", at(13)), None);
    }

    #[test]
    fn a_desk_change_forgets_the_accounts_version_only() {
        let watch = listening();
        learned(&watch, "s1", "ann", 7);
        learned(&watch, "s2", "bob", 3);
        watch.event(Event::Notified("u:ann"));
        assert_eq!(watch.known("s1", at(9)), None);
        assert_eq!(watch.known("s2", at(9)), Some(("bob".into(), v(3))));
    }

    #[test]
    fn a_removed_session_is_forgotten() {
        let watch = listening();
        learned(&watch, "s1", "ann", 7);
        watch.event(Event::Notified("s:s1"));
        assert_eq!(watch.known("s1", at(9)), None);
    }

    #[test]
    fn a_read_that_a_change_overtook_is_not_kept() {
        let watch = listening();
        let ticket = watch.ticket().expect("listening");
        // The change commits (and is told) after the read saw the old version.
        watch.event(Event::Notified("u:ann"));
        watch.learn(ticket, "s1", "ann", at(12), v(7));
        assert_eq!(watch.known("s1", at(9)), None);
    }

    #[test]
    fn losing_the_connection_forgets_everything_and_keeps_nothing_new() {
        let watch = listening();
        learned(&watch, "s1", "ann", 7);
        let ticket = watch.ticket().expect("listening");
        watch.event(Event::Lost);
        assert_eq!(watch.known("s1", at(9)), None);
        watch.learn(ticket, "s1", "ann", at(12), v(7));
        assert_eq!(watch.known("s1", at(9)), None);
        assert!(watch.ticket().is_none());
        // Listening again starts from nothing: what was told in between is unknown.
        watch.event(Event::Listening);
        watch.learn(ticket, "s1", "ann", at(12), v(7));
        assert_eq!(watch.known("s1", at(9)), None);
    }

    #[test]
    fn a_listener_that_goes_quiet_is_trusted_for_a_while_only() {
        let watch = listening();
        let state = watch.state.lock().expect("not poisoned");
        assert!(state.trusted(Instant::now()));
        assert!(!state.trusted(Instant::now() + TRUSTED_FOR));
        drop(state);
        // Each sign of life extends the trust.
        let before = watch.state.lock().expect("not poisoned").trusted_until;
        std::thread::sleep(Duration::from_millis(2));
        watch.event(Event::Alive);
        let after = watch.state.lock().expect("not poisoned").trusted_until;
        assert!(after > before, "{after:?} after {before:?}");
        // But never revives a lost connection.
        watch.event(Event::Lost);
        watch.event(Event::Alive);
        assert!(watch.ticket().is_none());
    }

    #[test]
    fn an_unknown_notification_forgets_everything() {
        let watch = listening();
        learned(&watch, "s1", "ann", 7);
        watch.event(Event::Notified("something new"));
        assert_eq!(watch.known("s1", at(9)), None);
    }
}
