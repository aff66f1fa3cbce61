//! Signing up without telling anyone which addresses have accounts: a new address gets an
//! account and its verification link, an address that has one gets a message saying so,
//! and the person at the form sees the same page either way.

use chrono::NaiveDateTime;

use super::validate::Email;
use super::{users, verification, AccountError, UserId};
use crate::db::AnyConnection;
use crate::mail::outbox::{self, Draft, Kind};

/// What a sign-up did; only the mailbox learns which.
pub enum SignedUp {
    /// A new account, and the id of its verification mail (none if held back).
    Created { user: UserId, mail: Option<String> },
    /// The address has an account: it was told so (unless told minutes ago).
    AlreadyRegistered { mail: Option<String> },
}

impl SignedUp {
    pub fn mail(&self) -> Option<String> {
        match self {
            SignedUp::Created { mail, .. } | SignedUp::AlreadyRegistered { mail } => mail.clone(),
        }
    }
}

/// Creates the account, or mails the address's owner; call it in one transaction, so the
/// mail is written if and only if the account is.
pub fn sign_up(
    conn: &mut AnyConnection,
    base_url: &url::Url,
    key: &[u8],
    email: &Email,
    password_hash: &str,
    at: NaiveDateTime,
) -> Result<SignedUp, AccountError> {
    match users::create(conn, email, password_hash) {
        Ok(user) => {
            let mail = verification::queue(conn, base_url, key, &user.user_id(), &user.email, at)?;
            Ok(SignedUp::Created {
                user: user.user_id(),
                mail,
            })
        }
        Err(AccountError::EmailTaken) => {
            let existing = users::find_by_email(conn, email)?;
            let mail = outbox::enqueue_limited(
                conn,
                existing.as_ref().map(|u| u.id.as_str()),
                &already_registered(email.as_str(), base_url),
                at,
                &crate::mail::message_host(base_url),
            )?;
            Ok(SignedUp::AlreadyRegistered { mail })
        }
        Err(e) => Err(e),
    }
}

/// The message to an address that signed up again.
pub fn already_registered(to: &str, base_url: &url::Url) -> Draft {
    let page = |path: &str| {
        base_url
            .join(path)
            .map(|u| u.to_string())
            .unwrap_or_else(|_| format!("{base_url}{path}"))
    };
    Draft {
        kind: Kind::AccountExists,
        to: to.to_string(),
        subject: "You already have a captionfeed account".into(),
        text_body: format!(
            "Someone (hopefully you) tried to sign up for captionfeed with this address, \
             but you already have an account.\n\n\
             Log in at {}\n\
             Forgot your password? Choose a new one at {}\n\n\
             If it was not you, ignore this message: nothing changed.\n",
            page("login"),
            page("forgot-password"),
        ),
        html_body: None,
    }
}
