//! Sends the account-mail outbox: a pass every 30 seconds on workers, and an attempt right
//! after a page queued a message, so a working server delivers it at once.

use std::time::Duration;

use chrono::NaiveDateTime;
use lettre::message::{header::ContentType, Mailbox, MultiPart, SinglePart};
use lettre::Message;

use super::outbox::{self, OutgoingMail};
use super::{MailError, Mailer};
use crate::db::{now, Db, DbError};

/// How many messages one pass sends at most.
const BATCH: i64 = 50;
/// Well beyond the SMTP timeout, so only a crash lets a claim expire.
const LEASE_MINUTES: i64 = 5;
const TICK: Duration = Duration::from_secs(30);

/// What one pass did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct MailReport {
    pub sent: usize,
    pub failed: usize,
}

/// The account-mail sender; cheap to clone.
#[derive(Clone)]
pub struct AccountMail {
    db: Db,
    mailer: Mailer,
}

impl AccountMail {
    pub fn new(db: Db, mailer: Mailer) -> Self {
        AccountMail { db, mailer }
    }

    pub async fn run_once(&self) -> Result<MailReport, DbError> {
        self.run_once_at(now()).await
    }

    /// A pass as if it were `at` (tests move time forward instead of waiting).
    #[tracing::instrument(name = "account mail pass", skip_all)]
    pub async fn run_once_at(&self, at: NaiveDateTime) -> Result<MailReport, DbError> {
        let lease_until = at + chrono::Duration::minutes(LEASE_MINUTES);
        let claimed = self
            .db
            .run(move |conn| Ok::<_, DbError>(outbox::claim_due(conn, at, lease_until, BATCH)?))
            .await?;
        let mut report = MailReport::default();
        for mail in claimed {
            if self.deliver(mail, at).await? {
                report.sent += 1;
            } else {
                report.failed += 1;
            }
        }
        Ok(report)
    }

    /// Tries the given messages in the background, now; whatever fails stays in the outbox
    /// for the next pass. The caller answers without waiting: a slow or dead server must
    /// not hold up a page, nor let its timing tell whether an address has an account.
    pub fn send_soon(&self, ids: Vec<String>) {
        if ids.is_empty() {
            return;
        }
        let sender = self.clone();
        tokio::spawn(async move {
            for id in ids {
                if let Err(error) = sender.send_one(id.clone()).await {
                    tracing::warn!(mail = %id, %error, "account mail left for the next pass");
                }
            }
        });
    }

    async fn send_one(&self, id: String) -> Result<bool, DbError> {
        let at = now();
        let lease_until = at + chrono::Duration::minutes(LEASE_MINUTES);
        let claimed = self
            .db
            .run(move |conn| Ok::<_, DbError>(outbox::claim(conn, &id, at, lease_until)?))
            .await?;
        match claimed {
            Some(mail) => self.deliver(mail, at).await,
            None => Ok(false),
        }
    }

    /// Sends one claimed message and records the outcome; `Ok(true)` when it went out.
    async fn deliver(&self, mail: OutgoingMail, at: NaiveDateTime) -> Result<bool, DbError> {
        let outcome = match build(self.mailer.from_address(), &mail) {
            Ok(message) => self.mailer.send(message).await,
            Err(error) => Err(error),
        };
        match outcome {
            Ok(()) => {
                self.db
                    .run(move |conn| Ok::<_, DbError>(outbox::mark_sent(conn, &mail, now())?))
                    .await?;
                Ok(true)
            }
            Err(error) => {
                let message = error.to_string();
                let retry_at = at + crate::jobs::backoff(mail.attempts);
                tracing::warn!(mail = %mail.id, kind = %mail.kind, attempts = mail.attempts + 1, %message, "account mail not sent; will retry");
                self.db
                    .run(move |conn| {
                        Ok::<_, DbError>(outbox::mark_failed(conn, &mail, &message, retry_at)?)
                    })
                    .await?;
                Ok(false)
            }
        }
    }

    /// Runs passes until `shutdown` resolves; a failed pass is logged and retried.
    pub async fn run_until_stopped(self, shutdown: impl std::future::Future<Output = ()>) {
        crate::jobs::run_every("account mail sender", TICK, shutdown, || self.run_once()).await
    }
}

/// The message as stored, with this deployment's `From` and the row's fixed `Message-ID`.
pub fn build(from: &Mailbox, mail: &OutgoingMail) -> Result<Message, MailError> {
    let to: Mailbox = mail
        .to_address
        .parse()
        .map_err(|e| MailError::Build(format!("{:?}: {e}", mail.to_address)))?;
    let builder = Message::builder()
        .from(from.clone())
        .to(to)
        .subject(mail.subject.clone())
        .message_id(Some(mail.message_id.clone()));
    let built = match &mail.html_body {
        Some(html) => builder.multipart(MultiPart::alternative_plain_html(
            mail.text_body.clone(),
            html.clone(),
        )),
        None => builder.singlepart(
            SinglePart::builder()
                .header(ContentType::TEXT_PLAIN)
                .body(mail.text_body.clone()),
        ),
    };
    built.map_err(|e| MailError::Build(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(html: Option<&str>) -> OutgoingMail {
        let at = now();
        OutgoingMail {
            id: "m1".into(),
            user_id: None,
            kind: "verify_email".into(),
            to_address: "ann@example.com".into(),
            subject: "Confirm your address".into(),
            text_body: "Open the link".into(),
            html_body: html.map(str::to_string),
            message_id: "<account-m1@captions.example>".into(),
            created_at: at,
            attempts: 0,
            next_attempt_at: at,
            lease_until: None,
            lease_token: None,
            last_error: None,
            sent_at: None,
        }
    }

    #[test]
    fn the_message_keeps_the_stored_message_id_and_parts() {
        let from: Mailbox = "captionfeed <cf@captions.example>".parse().unwrap();
        let plain = String::from_utf8(build(&from, &row(None)).unwrap().formatted()).unwrap();
        assert!(plain.contains("Message-ID: <account-m1@captions.example>"));
        assert!(plain.contains("To: ann@example.com"));
        assert!(plain.contains("text/plain"));
        assert!(!plain.contains("multipart"));
        let both = String::from_utf8(build(&from, &row(Some("<p>Open</p>"))).unwrap().formatted())
            .unwrap();
        assert!(both.contains("multipart/alternative"));
        assert!(both.contains("text/html"));
    }

    #[test]
    fn an_unusable_address_is_an_error_to_record_not_a_panic() {
        let from: Mailbox = "cf@captions.example".parse().unwrap();
        let mut bad = row(None);
        bad.to_address = "not an address".into();
        assert!(matches!(build(&from, &bad), Err(MailError::Build(_))));
    }
}
