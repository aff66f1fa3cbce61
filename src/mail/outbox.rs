//! The account-mail outbox: a rendered message is written in the transaction of the action
//! that causes it, then claimed with a lease, sent and marked, like a digest.
//!
//! A claim is the shared lease (`jobs::lease`: unsent, due, not given up, lease free or
//! expired, under a random token; `SKIP LOCKED` on PostgreSQL); marking checks the token, so a sender whose lease ran out cannot overwrite
//! what the sender that took over recorded. A crash between sending and marking lets the
//! lease expire and the message goes again with the same `Message-ID`.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::schema::{mail_limits, outgoing_mail};
use crate::db::{new_id, AnyConnection};
use crate::jobs::lease::{self, Only, Param, Queue};

/// After this long unsent, a message is given up (its error is kept): verification links
/// last 72 hours, so later the message would only lead to an expired page.
pub const GIVE_UP_AFTER_HOURS: i64 = 72;
/// A reset link lasts one hour; a later reset mail is given up for the same reason.
/// `accounts::reset` makes its links last exactly this long: the rule is kept here
/// because the outbox sits below the accounts that queue mail in it.
pub const GIVE_UP_RESET_AFTER_MINUTES: i64 = 60;

/// What a message is for (the `kind` column).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    VerifyEmail,
    PasswordReset,
    EmailChanged,
    /// The password was changed from the settings.
    PasswordChanged,
    /// Someone signed up with an address that already has an account.
    AccountExists,
    /// A subscription payment failed: the grace period has begun.
    BillingPastDue,
    /// A network refused a connection's password or token: posting there stopped.
    ConnectionBroken,
}

impl Kind {
    pub fn id(self) -> &'static str {
        match self {
            Kind::VerifyEmail => "verify_email",
            Kind::PasswordReset => "password_reset",
            Kind::EmailChanged => "email_changed",
            Kind::PasswordChanged => "password_changed",
            Kind::AccountExists => "account_exists",
            Kind::BillingPastDue => "billing_past_due",
            Kind::ConnectionBroken => "connection_broken",
        }
    }
}

/// A rendered message before it is queued. The `From` is added when it is sent, so a
/// changed `CAPTIONFEED_MAIL_FROM` applies to mail still waiting.
#[derive(Debug, Clone)]
pub struct Draft {
    pub kind: Kind,
    pub to: String,
    pub subject: String,
    pub text_body: String,
    pub html_body: Option<String>,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = outgoing_mail)]
pub struct OutgoingMail {
    pub id: String,
    pub user_id: Option<String>,
    pub kind: String,
    pub to_address: String,
    pub subject: String,
    pub text_body: String,
    pub html_body: Option<String>,
    pub message_id: String,
    pub created_at: NaiveDateTime,
    pub attempts: i32,
    pub next_attempt_at: NaiveDateTime,
    pub lease_until: Option<NaiveDateTime>,
    pub lease_token: Option<String>,
    pub last_error: Option<String>,
    pub sent_at: Option<NaiveDateTime>,
}

impl OutgoingMail {
    pub fn given_up(&self, at: NaiveDateTime) -> bool {
        let reset_expired =
            self.kind == Kind::PasswordReset.id() && self.created_at < give_up_reset_before(at);
        self.sent_at.is_none() && (self.created_at < give_up_before(at) || reset_expired)
    }
}

fn give_up_before(at: NaiveDateTime) -> NaiveDateTime {
    at - chrono::Duration::hours(GIVE_UP_AFTER_HOURS)
}

fn give_up_reset_before(at: NaiveDateTime) -> NaiveDateTime {
    at - chrono::Duration::minutes(GIVE_UP_RESET_AFTER_MINUTES)
}

/// Queues a message, due at once; returns its id. `message_host` names the site in the
/// `Message-ID`.
pub fn enqueue(
    conn: &mut AnyConnection,
    user_id: Option<&str>,
    draft: &Draft,
    at: NaiveDateTime,
    message_host: &str,
) -> QueryResult<String> {
    let id = new_id();
    diesel::insert_into(outgoing_mail::table)
        .values((
            outgoing_mail::id.eq(&id),
            outgoing_mail::user_id.eq(user_id),
            outgoing_mail::kind.eq(draft.kind.id()),
            outgoing_mail::to_address.eq(&draft.to),
            outgoing_mail::subject.eq(&draft.subject),
            outgoing_mail::text_body.eq(&draft.text_body),
            outgoing_mail::html_body.eq(draft.html_body.as_deref()),
            outgoing_mail::message_id.eq(format!("<account-{id}@{message_host}>")),
            outgoing_mail::created_at.eq(at),
            outgoing_mail::attempts.eq(0),
            outgoing_mail::next_attempt_at.eq(at),
        ))
        .execute(conn)?;
    Ok(id)
}

/// How often one kind of account mail may go to one address: asking again sooner answers
/// the same page but queues nothing, so a form posted in a loop cannot flood a mailbox.
pub const ONE_PER_ADDRESS_EVERY_MINUTES: i64 = 5;

/// [`enqueue`], unless a message of the same kind was queued for the same address within
/// [`ONE_PER_ADDRESS_EVERY_MINUTES`]; returns the id, or `None` when held back. One
/// conditional update decides, so replicas asked at once queue one message between them.
pub fn enqueue_limited(
    conn: &mut AnyConnection,
    user_id: Option<&str>,
    draft: &Draft,
    at: NaiveDateTime,
    message_host: &str,
) -> QueryResult<Option<String>> {
    let address = draft.to.trim().to_lowercase();
    let never = chrono::DateTime::from_timestamp(0, 0)
        .unwrap_or_default()
        .naive_utc();
    crate::insert_or_ignore!(
        conn,
        mail_limits::table,
        (
            mail_limits::address.eq(&address),
            mail_limits::kind.eq(draft.kind.id()),
            mail_limits::last_queued_at.eq(never),
        )
    )?;
    let won = diesel::update(
        mail_limits::table.find((&address, draft.kind.id())).filter(
            mail_limits::last_queued_at
                .le(at - chrono::Duration::minutes(ONE_PER_ADDRESS_EVERY_MINUTES)),
        ),
    )
    .set(mail_limits::last_queued_at.eq(at))
    .execute(conn)?;
    if won == 0 {
        tracing::info!(
            kind = draft.kind.id(),
            "account mail held back: one was queued for this address minutes ago"
        );
        return Ok(None);
    }
    enqueue(conn, user_id, draft, at, message_host).map(Some)
}

/// The account mail waiting to be sent, as the shared lease claims it.
const QUEUE: Queue = Queue {
    table: "outgoing_mail",
    key: "id",
    pending: "j.sent_at IS NULL",
};

/// Mail too old to be worth sending at `at` is given up, a reset link sooner than the rest.
fn still_worth_sending(at: NaiveDateTime) -> Only {
    Only::default().and(
        "j.created_at >= ? AND (j.kind <> ? OR j.created_at >= ?)",
        [
            Param::Time(give_up_before(at)),
            Param::Text(Kind::PasswordReset.id().to_string()),
            Param::Time(give_up_reset_before(at)),
        ],
    )
}

/// Claims one message if it is unsent, due, not given up and not leased by a live claim.
pub fn claim(
    conn: &mut AnyConnection,
    id: &str,
    at: NaiveDateTime,
    lease_until: NaiveDateTime,
) -> QueryResult<Option<OutgoingMail>> {
    let only = still_worth_sending(at).and("j.id = ?", [Param::Text(id.to_string())]);
    Ok(claimed(conn, &only, at, lease_until, 1)?.pop())
}

/// Claims up to `limit` due messages, oldest attempt first.
pub fn claim_due(
    conn: &mut AnyConnection,
    at: NaiveDateTime,
    lease_until: NaiveDateTime,
    limit: i64,
) -> QueryResult<Vec<OutgoingMail>> {
    claimed(conn, &still_worth_sending(at), at, lease_until, limit)
}

fn claimed(
    conn: &mut AnyConnection,
    only: &Only,
    at: NaiveDateTime,
    lease_until: NaiveDateTime,
    limit: i64,
) -> QueryResult<Vec<OutgoingMail>> {
    let claim = lease::claim_only(conn, &QUEUE, only, at, lease_until, limit)?;
    if claim.won == 0 {
        return Ok(Vec::new());
    }
    outgoing_mail::table
        .filter(outgoing_mail::lease_token.eq(&claim.token))
        .order((
            outgoing_mail::next_attempt_at.asc(),
            outgoing_mail::id.asc(),
        ))
        .select(OutgoingMail::as_select())
        .load(conn)
}

pub fn mark_sent(
    conn: &mut AnyConnection,
    mail: &OutgoingMail,
    at: NaiveDateTime,
) -> QueryResult<()> {
    record_attempt(conn, mail, Some(at), mail.next_attempt_at, None)
}

/// Records a failed attempt and when to try again; the error stays until a send succeeds.
pub fn mark_failed(
    conn: &mut AnyConnection,
    mail: &OutgoingMail,
    error: &str,
    retry_at: NaiveDateTime,
) -> QueryResult<()> {
    record_attempt(conn, mail, None, retry_at, Some(error))
}

fn record_attempt(
    conn: &mut AnyConnection,
    mail: &OutgoingMail,
    sent_at: Option<NaiveDateTime>,
    next_attempt_at: NaiveDateTime,
    error: Option<&str>,
) -> QueryResult<()> {
    // Only the holder of the claim's token may mark the row (an unclaimed row has none,
    // and `= NULL` matches nothing).
    diesel::update(
        outgoing_mail::table
            .find(&mail.id)
            .filter(outgoing_mail::lease_token.eq(mail.lease_token.as_deref())),
    )
    .set((
        outgoing_mail::sent_at.eq(sent_at),
        outgoing_mail::attempts.eq(mail.attempts + 1),
        outgoing_mail::next_attempt_at.eq(next_attempt_at),
        outgoing_mail::lease_until.eq(None::<NaiveDateTime>),
        outgoing_mail::lease_token.eq(None::<String>),
        outgoing_mail::last_error.eq(error),
    ))
    .execute(conn)?;
    Ok(())
}

/// The account's newest unsent message that failed, unless a later one has gone out since
/// (then the server works again and the old error would only confuse).
pub fn last_problem(conn: &mut AnyConnection, user_id: &str) -> QueryResult<Option<OutgoingMail>> {
    let failed: Option<OutgoingMail> = outgoing_mail::table
        .filter(outgoing_mail::user_id.eq(user_id))
        .filter(outgoing_mail::sent_at.is_null())
        .filter(outgoing_mail::last_error.is_not_null())
        .order((outgoing_mail::created_at.desc(), outgoing_mail::id.desc()))
        .select(OutgoingMail::as_select())
        .first(conn)
        .optional()?;
    let Some(failed) = failed else {
        return Ok(None);
    };
    let sent_later: i64 = outgoing_mail::table
        .filter(outgoing_mail::user_id.eq(user_id))
        .filter(outgoing_mail::sent_at.is_not_null())
        .filter(outgoing_mail::created_at.gt(failed.created_at))
        .count()
        .get_result(conn)?;
    Ok((sent_later == 0).then_some(failed))
}

/// The account's messages, oldest first (for tests and operators).
pub fn list_for_user(conn: &mut AnyConnection, user_id: &str) -> QueryResult<Vec<OutgoingMail>> {
    outgoing_mail::table
        .filter(outgoing_mail::user_id.eq(user_id))
        .order((outgoing_mail::created_at.asc(), outgoing_mail::id.asc()))
        .select(OutgoingMail::as_select())
        .load(conn)
}

/// Every message, oldest first (for tests and operators).
pub fn list_all(conn: &mut AnyConnection) -> QueryResult<Vec<OutgoingMail>> {
    outgoing_mail::table
        .order((outgoing_mail::created_at.asc(), outgoing_mail::id.asc()))
        .select(OutgoingMail::as_select())
        .load(conn)
}

/// The outbox at a glance, for operators and `/metrics`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OutboxState {
    /// Unsent and not given up.
    pub waiting: i64,
    /// Of those, the ones whose last attempt failed.
    pub failing: i64,
    /// Given up unsent in the last day.
    pub given_up_last_day: i64,
    /// When the oldest waiting message was queued.
    pub oldest_waiting: Option<NaiveDateTime>,
}

pub fn state(conn: &mut AnyConnection, at: NaiveDateTime) -> QueryResult<OutboxState> {
    let cutoff = give_up_before(at);
    let waiting = || {
        outgoing_mail::table
            .filter(outgoing_mail::sent_at.is_null())
            .filter(outgoing_mail::created_at.ge(cutoff))
    };
    Ok(OutboxState {
        waiting: waiting().count().get_result(conn)?,
        failing: waiting()
            .filter(outgoing_mail::last_error.is_not_null())
            .count()
            .get_result(conn)?,
        given_up_last_day: outgoing_mail::table
            .filter(outgoing_mail::sent_at.is_null())
            .filter(outgoing_mail::created_at.lt(cutoff))
            .filter(outgoing_mail::created_at.ge(cutoff - chrono::Duration::days(1)))
            .count()
            .get_result(conn)?,
        oldest_waiting: waiting()
            .select(diesel::dsl::min(outgoing_mail::created_at))
            .first(conn)?,
    })
}

/// Unsent messages whose last attempt failed, newest first (for operators).
pub fn failing(conn: &mut AnyConnection, limit: i64) -> QueryResult<Vec<OutgoingMail>> {
    outgoing_mail::table
        .filter(outgoing_mail::sent_at.is_null())
        .filter(outgoing_mail::last_error.is_not_null())
        .order((outgoing_mail::created_at.desc(), outgoing_mail::id.desc()))
        .limit(limit)
        .select(OutgoingMail::as_select())
        .load(conn)
}

/// Makes a failing, unsent message due at once (an operator's "retry"); returns its
/// account, or `None` when there is no such message or it was sent or given up (a given-up
/// link has expired: send a fresh one instead).
pub fn retry_now(
    conn: &mut AnyConnection,
    mail_id: &str,
    at: NaiveDateTime,
) -> QueryResult<Option<Option<String>>> {
    let Some(mail) = outgoing_mail::table
        .find(mail_id)
        .select(OutgoingMail::as_select())
        .first(conn)
        .optional()?
    else {
        return Ok(None);
    };
    if mail.sent_at.is_some() || mail.given_up(at) {
        return Ok(None);
    }
    diesel::update(outgoing_mail::table.find(mail_id))
        .set(outgoing_mail::next_attempt_at.eq(at))
        .execute(conn)?;
    Ok(Some(mail.user_id))
}
