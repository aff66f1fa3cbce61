//! Accounts: users, password hashing, sessions.

pub mod email_change;
pub mod feed_keys;
pub mod password;
pub mod password_change;
pub mod reauth;
pub mod reset;
pub mod sessions;
pub mod signup;
pub mod throttle;
pub mod tokens;
pub mod users;
pub mod validate;
pub mod verification;

pub use users::{User, UserId};

/// What can go wrong with an account action; messages are fit to show to the person.
#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    #[error("{0}")]
    Invalid(String),
    #[error("an account with this email already exists")]
    EmailTaken,
    /// Deliberately the same for an unknown email and a wrong password.
    #[error("email or password is incorrect")]
    BadCredentials,
    /// Too many wrong passwords (signing in, or typing it again while signed in) for this
    /// account or from this client; try again after the wait.
    #[error("too many wrong passwords: try again in {} seconds, or reset your password", throttle::retry_after_seconds(*.0))]
    TooManyAttempts(std::time::Duration),
    #[error(transparent)]
    Db(#[from] crate::db::DbError),
}

impl From<diesel::result::Error> for AccountError {
    fn from(e: diesel::result::Error) -> Self {
        AccountError::Db(e.into())
    }
}

impl crate::db::IsBusy for AccountError {
    fn is_busy(&self) -> bool {
        matches!(self, AccountError::Db(e) if e.is_busy())
    }
}
