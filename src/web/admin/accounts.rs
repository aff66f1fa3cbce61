//! Finding an account by its address, and what an operator can do for it.

use actix_web::http::StatusCode;
use actix_web::{get, post, web, HttpRequest, HttpResponse};
use askama::Template;

use super::Operator;
use crate::accounts::validate::Email;
use crate::accounts::{users, verification, UserId};
use crate::billing::account as billing_account;
use crate::db::{now, DbError};
use crate::mail::outbox;
use crate::operators::audit::{self, Action};
use crate::subscriptions;
use crate::web::csrf::CheckedForm;
use crate::web::error::WebError;
use crate::web::pages::auth::NoFields;
use crate::web::pages::{format_optional_time, format_time, render, see_other, Layout};
use crate::web::AppState;

pub struct FeedRow {
    pub url: String,
    pub title: String,
    pub last_checked: String,
    pub error: Option<String>,
    pub paused: bool,
}

pub struct MailRow {
    pub kind: String,
    pub subject: String,
    pub created: String,
    pub state: String,
}

pub struct AccountView {
    pub id: String,
    pub email: String,
    pub created: String,
    pub verified: Option<String>,
    pub plan: String,
    pub billing_status: String,
    pub feeds: Vec<FeedRow>,
    pub mail: Vec<MailRow>,
}

#[derive(Template)]
#[template(path = "admin/accounts.html")]
struct AccountsPage {
    layout: Layout,
    email: String,
    account: Option<AccountView>,
    searched: bool,
    sent: bool,
}

#[derive(serde::Deserialize, Default)]
#[serde(default)]
pub struct Search {
    email: String,
    sent: Option<String>,
}

fn account_view(
    conn: &mut crate::db::AnyConnection,
    user: users::User,
) -> Result<AccountView, DbError> {
    let id = user.user_id();
    let verified: Option<chrono::NaiveDateTime> = {
        use crate::db::schema::users as t;
        use diesel::prelude::*;
        t::table
            .find(id.as_str())
            .select(t::email_verified_at)
            .first(conn)?
    };
    let billing = billing_account::get(conn, &id)?;
    let feeds = subscriptions::list(conn, &id)?
        .into_iter()
        .map(|s| FeedRow {
            title: s.feed.title.clone().unwrap_or_default(),
            last_checked: format_optional_time(&s.feed.last_checked_at),
            error: s.feed.last_error.clone(),
            paused: s.subscription.paused,
            url: s.feed.url,
        })
        .collect();
    let at = now();
    let mail = outbox::list_for_user(conn, id.as_str())?
        .into_iter()
        .rev()
        .take(20)
        .map(|m| MailRow {
            state: if m.sent_at.is_some() {
                "sent".to_string()
            } else if m.given_up(at) {
                format!("given up: {}", m.last_error.clone().unwrap_or_default())
            } else if let Some(error) = &m.last_error {
                format!("failing ({} tries): {error}", m.attempts)
            } else {
                "waiting".to_string()
            },
            kind: m.kind,
            subject: m.subject,
            created: format_time(&m.created_at),
        })
        .collect();
    Ok(AccountView {
        id: user.id,
        email: user.email,
        created: format_time(&user.created_at),
        verified: verified.as_ref().map(format_time),
        plan: billing
            .as_ref()
            .map(|b| b.plan.clone())
            .unwrap_or_else(|| "free".into()),
        billing_status: billing.map(|b| b.status).unwrap_or_else(|| "none".into()),
        feeds,
        mail,
    })
}

/// `GET /admin/accounts?email=E`: the account, its feeds and their errors, its plan and
/// its mail. Looking is recorded too: it shows a subscriber's data.
#[get("/accounts")]
pub async fn find(
    req: HttpRequest,
    state: web::Data<AppState>,
    operator: web::ReqData<Operator>,
    query: web::Query<Search>,
) -> Result<HttpResponse, WebError> {
    let Search { email, sent } = query.into_inner();
    let searched = !email.trim().is_empty();
    let account = match Email::parse(&email) {
        Ok(parsed) if searched => {
            let operator_id = operator.user.user_id();
            state
                .db
                .run(move |conn| {
                    let Some(user) = users::find_by_email(conn, &parsed)? else {
                        return Ok::<_, WebError>(None);
                    };
                    audit::record(
                        conn,
                        Some(&operator_id),
                        Action::ViewAccount,
                        Some(&user.user_id()),
                        "",
                    )?;
                    Ok(Some(account_view(conn, user)?))
                })
                .await?
        }
        _ => None,
    };
    let status = if searched && account.is_none() {
        StatusCode::NOT_FOUND
    } else {
        StatusCode::OK
    };
    render(
        status,
        &AccountsPage {
            layout: Layout::new(&req, &state, Some(&operator.user)),
            email,
            account,
            searched,
            sent: sent.is_some(),
        },
    )
}

/// Sends the account a fresh verification link, as its own "send it again" button does.
#[post("/accounts/{id}/resend-verification")]
pub async fn resend_verification(
    state: web::Data<AppState>,
    operator: web::ReqData<Operator>,
    path: web::Path<String>,
    _form: CheckedForm<NoFields>,
) -> Result<HttpResponse, WebError> {
    let account = UserId(path.into_inner());
    let operator_id = operator.user.user_id();
    let base_url = state.settings.base_url.clone();
    let key = state.signing_key.clone();
    let done = state
        .db
        .transaction(move |conn| {
            let Some(user) = users::get(conn, &account)? else {
                return Ok::<_, WebError>(None);
            };
            let mail = verification::queue(conn, &base_url, &key, &account, &user.email, now())?;
            audit::record(
                conn,
                Some(&operator_id),
                Action::ResendVerification,
                Some(&account),
                "",
            )?;
            Ok(Some((user.email, mail)))
        })
        .await?;
    let Some((email, mail)) = done else {
        return Err(WebError::NotFound);
    };
    state.account_mail.send_soon(mail.into_iter().collect());
    let back = format!(
        "/admin/accounts?email={}&sent=1",
        url::form_urlencoded::byte_serialize(email.as_bytes()).collect::<String>()
    );
    Ok(see_other(&back))
}
