//! Typing the password again while signed in: the operator's console, changing the
//! password or the address, deleting the account.
//!
//! These forms are what a stolen session cookie cannot get past without the password, so
//! they are counted like sign-in tries ([`throttle`]): per account, five wrong ones free,
//! then waits that double up to 15 minutes. Their count is the account's own
//! (`reauth:{id}`), not the sign-in count of its address, so a guesser holding a session
//! cannot lock the owner out of signing in; the right password clears it.

use super::{password, throttle, AccountError, UserId};
use crate::db::{now, Db};

/// The key these tries are counted under.
pub fn key(user: &UserId) -> String {
    format!("reauth:{}", user.as_str())
}

/// Whether `typed` is the password whose hash is `hash`, the account's. Refused without
/// checking (`TooManyAttempts`) while the account must wait.
pub async fn check(
    db: &Db,
    user: &UserId,
    typed: String,
    hash: String,
) -> Result<bool, AccountError> {
    let counted = key(user);
    let refused = {
        let counted = counted.clone();
        db.run(move |conn| {
            Ok::<_, AccountError>(throttle::begin_attempt(
                conn,
                &[(&counted, throttle::PER_ACCOUNT)],
                now(),
            )?)
        })
        .await?
    };
    if let Some(wait) = refused {
        return Err(AccountError::TooManyAttempts(wait));
    }
    // On the blocking pool, with no database connection held: argon2 is slow on purpose.
    let right = password::verify_blocking(typed, Some(hash)).await;
    if right {
        db.run(move |conn| Ok::<_, AccountError>(throttle::clear(conn, &counted)?))
            .await?;
    }
    Ok(right)
}
