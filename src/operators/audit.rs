//! The audit table: who did what to which account, and when. Operator actions and the
//! command line's grants write here; nothing ever updates or deletes a row.

use diesel::prelude::*;

use crate::accounts::UserId;
use crate::db::schema::admin_audit;
use crate::db::{new_id, now, AnyConnection};

/// What was done; stored by its id so old rows keep their meaning when labels change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Grant,
    Revoke,
    ViewAccount,
    ResendVerification,
    RetryMail,
    RetryWebhook,
    StopFeed,
    StopHost,
}

impl Action {
    pub const ALL: [Action; 8] = [
        Action::Grant,
        Action::Revoke,
        Action::ViewAccount,
        Action::ResendVerification,
        Action::RetryMail,
        Action::RetryWebhook,
        Action::StopFeed,
        Action::StopHost,
    ];

    pub fn id(self) -> &'static str {
        match self {
            Action::Grant => "operator.grant",
            Action::Revoke => "operator.revoke",
            Action::ViewAccount => "account.view",
            Action::ResendVerification => "account.resend_verification",
            Action::RetryMail => "mail.retry",
            Action::RetryWebhook => "webhook.retry",
            Action::StopFeed => "feed.stop",
            Action::StopHost => "host.stop",
        }
    }

    pub fn from_id(id: &str) -> Option<Action> {
        Action::ALL.into_iter().find(|a| a.id() == id)
    }
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = admin_audit)]
pub struct AuditRow {
    pub id: String,
    /// `None` for the command line.
    pub operator_id: Option<String>,
    pub action: String,
    pub account_id: Option<String>,
    pub detail: String,
    pub created_at: chrono::NaiveDateTime,
}

pub fn record(
    conn: &mut AnyConnection,
    operator: Option<&UserId>,
    action: Action,
    account: Option<&UserId>,
    detail: &str,
) -> QueryResult<()> {
    diesel::insert_into(admin_audit::table)
        .values((
            admin_audit::id.eq(new_id()),
            admin_audit::operator_id.eq(operator.map(|o| o.as_str())),
            admin_audit::action.eq(action.id()),
            admin_audit::account_id.eq(account.map(|a| a.as_str())),
            admin_audit::detail.eq(detail),
            admin_audit::created_at.eq(now()),
        ))
        .execute(conn)?;
    Ok(())
}

/// The newest rows first.
pub fn recent(conn: &mut AnyConnection, limit: i64) -> QueryResult<Vec<AuditRow>> {
    admin_audit::table
        .order((admin_audit::created_at.desc(), admin_audit::id.desc()))
        .limit(limit)
        .select(AuditRow::as_select())
        .load(conn)
}
