//! Operators: the accounts that may use the console under `/admin`, and the record of
//! what they did there.

pub mod audit;
pub mod business;

use diesel::prelude::*;

use crate::accounts::validate::Email;
use crate::accounts::{users, UserId};
use crate::db::schema::operators;
use crate::db::{now, AnyConnection, DbError};

#[derive(Debug, thiserror::Error)]
pub enum OperatorError {
    #[error("no account has the email {0}")]
    NoSuchAccount(String),
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Db(#[from] DbError),
}

impl From<diesel::result::Error> for OperatorError {
    fn from(e: diesel::result::Error) -> Self {
        OperatorError::Db(e.into())
    }
}

impl From<crate::accounts::AccountError> for OperatorError {
    fn from(e: crate::accounts::AccountError) -> Self {
        match e {
            crate::accounts::AccountError::Db(e) => OperatorError::Db(e),
            other => OperatorError::Invalid(other.to_string()),
        }
    }
}

impl crate::db::IsBusy for OperatorError {
    fn is_busy(&self) -> bool {
        matches!(self, OperatorError::Db(e) if e.is_busy())
    }
}

fn account_by_email(conn: &mut AnyConnection, email: &str) -> Result<UserId, OperatorError> {
    let parsed = Email::parse(email).map_err(|e| OperatorError::Invalid(e.to_string()))?;
    users::find_by_email(conn, &parsed)?
        .map(|u| u.user_id())
        .ok_or_else(|| OperatorError::NoSuchAccount(email.to_string()))
}

/// Makes the account an operator (again is fine), and records it. Run from the command
/// line, so nobody is named as the one who did it.
pub fn grant(conn: &mut AnyConnection, email: &str) -> Result<UserId, OperatorError> {
    let user = account_by_email(conn, email)?;
    let already = is_operator(conn, &user)?;
    if !already {
        diesel::insert_into(operators::table)
            .values((
                operators::user_id.eq(user.as_str()),
                operators::granted_at.eq(now()),
            ))
            .execute(conn)?;
        audit::record(conn, None, audit::Action::Grant, Some(&user), "")?;
    }
    Ok(user)
}

/// Takes the console away from the account; `false` when it was not an operator.
pub fn revoke(conn: &mut AnyConnection, email: &str) -> Result<bool, OperatorError> {
    let user = account_by_email(conn, email)?;
    let removed = diesel::delete(operators::table.find(user.as_str())).execute(conn)? > 0;
    if removed {
        audit::record(conn, None, audit::Action::Revoke, Some(&user), "")?;
    }
    Ok(removed)
}

pub fn is_operator(conn: &mut AnyConnection, user: &UserId) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        operators::table.filter(operators::user_id.eq(user.as_str())),
    ))
    .get_result(conn)
}
