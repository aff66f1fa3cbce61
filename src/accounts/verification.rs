//! Email verification: a signed, expiring link mailed on sign-up. Digests go only to
//! verified addresses, so nobody can sign a stranger up for mail.
//!
//! The signature covers the account, the address and the expiry: a link for an address
//! the account no longer has, or one past its time, opens nothing. No table is needed.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::UserId;
use crate::db::schema::users;
use crate::db::{now, AnyConnection};
use crate::mail::outbox::{Draft, Kind};

/// How long a verification link works.
pub const VALID_HOURS: i64 = 72;

/// What a link signs: its purpose, the account, the email and the expiry.
fn signed_parts<'a>(user: &'a UserId, email: &'a str, expires: &'a str) -> [&'a str; 3] {
    [user.as_str(), email, expires]
}

const PURPOSE: &str = "verify-email";

/// The link for `email`, valid until `expires` (Unix seconds).
pub fn link(base_url: &url::Url, key: &[u8], user: &UserId, email: &str, expires: i64) -> String {
    let expiry = expires.to_string();
    let signature = crate::signing::sign(key, PURPOSE, &signed_parts(user, email, &expiry));
    let path = format!("verify-email/{}/{expires}/{signature}", user.as_str());
    base_url
        .join(&path)
        .map(|u| u.to_string())
        .unwrap_or_else(|_| format!("{base_url}{path}"))
}

/// Whether the link's parts were signed for this account and address and are still valid.
pub fn check(
    key: &[u8],
    user: &UserId,
    email: &str,
    expires: i64,
    signature: &str,
    at: NaiveDateTime,
) -> bool {
    if at.and_utc().timestamp() > expires {
        return false;
    }
    let expiry = expires.to_string();
    crate::signing::verify(key, PURPOSE, &signed_parts(user, email, &expiry), signature)
}

/// The expiry of a link made now.
pub fn expiry_from(at: NaiveDateTime) -> i64 {
    (at + chrono::Duration::hours(VALID_HOURS))
        .and_utc()
        .timestamp()
}

/// The account's address and whether it is verified.
pub fn status(conn: &mut AnyConnection, user: &UserId) -> QueryResult<Option<(String, bool)>> {
    users::table
        .find(user.as_str())
        .select((users::email, users::email_verified_at))
        .first::<(String, Option<NaiveDateTime>)>(conn)
        .optional()
        .map(|r| r.map(|(email, at)| (email, at.is_some())))
}

/// Marks the address verified, only if it is still the account's address.
pub fn mark_verified(conn: &mut AnyConnection, user: &UserId, email: &str) -> QueryResult<bool> {
    diesel::update(
        users::table
            .find(user.as_str())
            .filter(users::email.eq(email)),
    )
    .set(users::email_verified_at.eq(now()))
    .execute(conn)
    .map(|n| n == 1)
}

/// Queues the mail with a fresh link for `email`; call it in the transaction of the action
/// that needs it, so the mail is written if and only if the action is. Returns the mail's id,
/// or `None` when one went to this address minutes ago (the earlier link still works).
pub fn queue(
    conn: &mut AnyConnection,
    base_url: &url::Url,
    key: &[u8],
    user: &UserId,
    email: &str,
    at: NaiveDateTime,
) -> QueryResult<Option<String>> {
    let link = link(base_url, key, user, email, expiry_from(at));
    crate::mail::outbox::enqueue_limited(
        conn,
        Some(user.as_str()),
        &draft(email, &link),
        at,
        &crate::mail::message_host(base_url),
    )
}

/// The message that carries the link.
pub fn draft(to: &str, link: &str) -> Draft {
    Draft {
        kind: Kind::VerifyEmail,
        to: to.to_string(),
        subject: "Confirm your email address for captionfeed".into(),
        text_body: format!(
            "Open this link to confirm your address and receive caption digests:\n\n{link}\n\n\
             It works for {VALID_HOURS} hours. If you did not sign up for captionfeed, ignore this message.\n"
        ),
        html_body: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_link_works_for_its_account_address_and_time_only() {
        let key = b"0123456789abcdef0123456789abcdef";
        let user = UserId("u1".into());
        let at = now();
        let expires = expiry_from(at);
        let url = link(
            &url::Url::parse("http://x/").unwrap(),
            key,
            &user,
            "a@example.com",
            expires,
        );
        let signature = url.rsplit('/').next().unwrap();
        assert!(check(key, &user, "a@example.com", expires, signature, at));
        assert!(
            !check(key, &user, "b@example.com", expires, signature, at),
            "address changed"
        );
        assert!(!check(
            key,
            &UserId("u2".into()),
            "a@example.com",
            expires,
            signature,
            at
        ));
        assert!(
            !check(key, &user, "a@example.com", expires + 1, signature, at),
            "expiry is signed"
        );
        let late = at + chrono::Duration::hours(VALID_HOURS + 1);
        assert!(
            !check(key, &user, "a@example.com", expires, signature, late),
            "expired"
        );
    }
}
