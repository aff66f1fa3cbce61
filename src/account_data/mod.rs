//! A subscriber's own data: all of it in one archive, and all of it removed when they
//! leave. Both read across the tables every domain module owns, so they live above them.

pub mod export;
pub mod removal;

#[derive(Debug, thiserror::Error)]
pub enum AccountDataError {
    #[error("the password is not right")]
    WrongPassword,
    #[error(transparent)]
    Account(#[from] crate::accounts::AccountError),
    #[error("the subscription could not be cancelled at Stripe, so the account is kept: {0}")]
    Billing(String),
    #[error("the archive could not be written: {0}")]
    Archive(String),
    #[error(transparent)]
    Db(#[from] crate::db::DbError),
}

impl From<diesel::result::Error> for AccountDataError {
    fn from(e: diesel::result::Error) -> Self {
        AccountDataError::Db(e.into())
    }
}

impl crate::db::IsBusy for AccountDataError {
    fn is_busy(&self) -> bool {
        matches!(self, AccountDataError::Db(e) if e.is_busy())
    }
}
