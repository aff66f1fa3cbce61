//! A connection the network refused: marked broken, and the subscriber told once, through
//! the mail outbox, in the same transaction, so a crash cannot leave one without the other.

use diesel::prelude::*;
use diesel::Connection as _;

use crate::accounts::UserId;
use crate::db::schema::users;
use crate::db::{now, AnyConnection};
use crate::mail::outbox::{self, Draft, Kind};
use crate::publish::connections::{self, Connection};

/// Marks the connection broken with `reason` and queues the one mail that says so.
/// `true` for the call that broke it.
pub fn mark_and_tell(
    conn: &mut AnyConnection,
    user: &UserId,
    connection: &Connection,
    reason: &str,
    connections_url: &str,
    message_host: &str,
) -> QueryResult<bool> {
    conn.transaction(|conn| {
        if !connections::mark_broken(conn, user, &connection.id, reason)? {
            return Ok(false);
        }
        if !connections::mark_mailed(conn, user, &connection.id)? {
            return Ok(true);
        }
        let email: Option<String> = users::table
            .find(user.as_str())
            .select(users::email)
            .first(conn)
            .optional()?;
        if let Some(email) = email {
            let draft = draft(email, connection, reason, connections_url);
            outbox::enqueue(conn, Some(user.as_str()), &draft, now(), message_host)?;
        }
        Ok(true)
    })
}

fn network_name(platform: &str) -> &'static str {
    match platform {
        "bluesky" => "Bluesky",
        "mastodon" => "Mastodon",
        _ => "the network",
    }
}

fn draft(to: String, connection: &Connection, reason: &str, connections_url: &str) -> Draft {
    let network = network_name(&connection.platform);
    Draft {
        kind: Kind::ConnectionBroken,
        to,
        subject: format!("captionfeed stopped posting to {network}"),
        text_body: format!(
            "Hello,\n\n{network} no longer accepts captionfeed's connection to {handle} ({reason}). \
             This happens when the app password is revoked or the account's password changes.\n\n\
             Nothing is lost: your queued captions wait and go out once you connect again at \
             {connections_url}\n",
            handle = connection.handle,
        ),
        html_body: None,
    }
}
