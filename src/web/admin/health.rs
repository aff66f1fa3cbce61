//! `GET /admin/health`: the system's health, each number linking to the rows behind it
//! (`/admin/health/{feeds,mail,digests,webhooks,images}`), and the retries an operator
//! can ask for from there.

use std::collections::BTreeMap;

use actix_web::http::StatusCode;
use actix_web::{get, post, web, HttpRequest, HttpResponse};
use askama::Template;

use super::Operator;
use crate::accounts::UserId;
use crate::db::{now, DbError};
use crate::feeds::store::Feed;
use crate::operators::audit::{self, Action};
use crate::web::csrf::CheckedForm;
use crate::web::error::WebError;
use crate::web::pages::auth::NoFields;
use crate::web::pages::{format_optional_time, format_time, render, see_other, Layout};
use crate::web::AppState;

/// The most rows a list shows; the counts on the health page are exact.
const ROWS: i64 = 500;

/// Why a feed fails, as a short group name: the HTTP status, else the error's kind (the
/// text before its first colon).
pub fn cause(feed: &Feed) -> String {
    if let Some(status) = feed.last_status.filter(|s| *s >= 400) {
        return format!("HTTP {status}");
    }
    let error = feed.last_error.as_deref().unwrap_or("unknown").trim();
    let kind = error.split(':').next().unwrap_or(error).trim();
    kind.chars().take(60).collect()
}

pub fn host(feed: &Feed) -> String {
    url::Url::parse(&feed.url)
        .ok()
        .and_then(|u| u.host_str().map(str::to_string))
        .unwrap_or_else(|| feed.url.clone())
}

fn query(name: &str, value: &str) -> String {
    format!(
        "{name}={}",
        url::form_urlencoded::byte_serialize(value.as_bytes()).collect::<String>()
    )
}

pub struct Group {
    pub name: String,
    pub count: usize,
    pub link: String,
}

fn grouped(feeds: &[Feed], key: impl Fn(&Feed) -> String, param: &str) -> Vec<Group> {
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    for feed in feeds {
        *counts.entry(key(feed)).or_default() += 1;
    }
    let mut groups: Vec<Group> = counts
        .into_iter()
        .map(|(name, count)| Group {
            link: format!("/admin/health/feeds?{}", query(param, &name)),
            name,
            count,
        })
        .collect();
    groups.sort_by(|a, b| b.count.cmp(&a.count).then(a.name.cmp(&b.name)));
    groups
}

#[derive(Template)]
#[template(path = "admin/health.html")]
struct HealthPage {
    layout: Layout,
    queue_lag: String,
    overdue: usize,
    failing_feeds: usize,
    by_cause: Vec<Group>,
    by_host: Vec<Group>,
    mail: crate::mail::outbox::OutboxState,
    mail_oldest: String,
    digests_failing: usize,
    webhooks: crate::webhooks::send::DeliveriesState,
    images: crate::images::ImagesState,
}

#[get("/health")]
pub async fn show(
    req: HttpRequest,
    state: web::Data<AppState>,
    operator: web::ReqData<Operator>,
) -> Result<HttpResponse, WebError> {
    let at = now();
    let (oldest, overdue, failing, mail, digests, webhooks, images) = state
        .db
        .run(move |conn| {
            Ok::<_, DbError>((
                crate::poller::leases::oldest_overdue(conn, at)?,
                crate::poller::leases::overdue_feed_rows(conn, at, ROWS)?.len(),
                crate::poller::leases::failing_feed_rows(conn, ROWS)?,
                crate::mail::outbox::state(conn, at)?,
                crate::digests::settings::failing(conn, ROWS)?.len(),
                crate::webhooks::send::state(conn, at)?,
                crate::images::state(conn)?,
            ))
        })
        .await?;
    let age = |since: Option<chrono::NaiveDateTime>| match since {
        None => "none".to_string(),
        Some(since) => {
            let minutes = (at - since).num_minutes().max(0);
            if minutes < 120 {
                format!("{minutes} min")
            } else {
                format!("{} h", minutes / 60)
            }
        }
    };
    let page = HealthPage {
        layout: Layout::new(&req, &state, Some(&operator.user)),
        queue_lag: age(oldest),
        overdue,
        failing_feeds: failing.len(),
        by_cause: grouped(&failing, cause, "cause"),
        by_host: grouped(&failing, host, "host"),
        mail_oldest: age(mail.oldest_waiting),
        mail,
        digests_failing: digests,
        webhooks,
        images,
    };
    render(StatusCode::OK, &page)
}

/// A list of rows behind a number: cells, and at most one action per row.
pub struct Row {
    pub cells: Vec<String>,
    pub action: Option<(String, String)>,
}

#[derive(Template)]
#[template(path = "admin/rows.html")]
struct RowsPage {
    layout: Layout,
    title: String,
    headers: Vec<&'static str>,
    rows: Vec<Row>,
}

#[derive(serde::Deserialize, Default)]
#[serde(default)]
pub struct FeedFilter {
    cause: Option<String>,
    host: Option<String>,
    overdue: Option<String>,
}

fn feed_row(feed: Feed) -> Row {
    Row {
        cells: vec![
            host(&feed),
            feed.url.clone(),
            cause(&feed),
            feed.last_error.clone().unwrap_or_default(),
            format_optional_time(&feed.erroring_since),
            format_time(&feed.next_check_at),
        ],
        action: None,
    }
}

#[get("/health/{kind}")]
pub async fn rows(
    req: HttpRequest,
    state: web::Data<AppState>,
    operator: web::ReqData<Operator>,
    kind: web::Path<String>,
    filter: web::Query<FeedFilter>,
) -> Result<HttpResponse, WebError> {
    let at = now();
    let filter = filter.into_inner();
    let (title, headers, rows): (String, Vec<&'static str>, Vec<Row>) = match kind.as_str() {
        "feeds" => {
            let overdue = filter.overdue.is_some();
            let feeds = state
                .db
                .run(move |conn| {
                    if overdue {
                        crate::poller::leases::overdue_feed_rows(conn, at, ROWS)
                    } else {
                        crate::poller::leases::failing_feed_rows(conn, ROWS)
                    }
                    .map_err(DbError::from)
                })
                .await?;
            let rows = feeds
                .into_iter()
                .filter(|f| filter.cause.as_ref().is_none_or(|c| cause(f) == *c))
                .filter(|f| filter.host.as_ref().is_none_or(|h| host(f) == *h))
                .map(feed_row)
                .collect();
            let title = match (&filter.cause, &filter.host, overdue) {
                (_, _, true) => "Feeds past their check time".to_string(),
                (Some(c), _, _) => format!("Failing feeds: {c}"),
                (_, Some(h), _) => format!("Failing feeds on {h}"),
                _ => "Failing feeds".to_string(),
            };
            let headers = vec![
                "Host",
                "Address",
                "Cause",
                "Error",
                "Failing since",
                "Next check",
            ];
            (title, headers, rows)
        }
        "mail" => {
            let mail = state
                .db
                .run(move |conn| crate::mail::outbox::failing(conn, ROWS).map_err(DbError::from))
                .await?;
            let rows = mail
                .into_iter()
                .map(|m| {
                    let given_up = m.given_up(at);
                    Row {
                        cells: vec![
                            format_time(&m.created_at),
                            m.to_address.clone(),
                            m.kind.clone(),
                            m.attempts.to_string(),
                            m.last_error.clone().unwrap_or_default(),
                            if given_up { "given up" } else { "retrying" }.to_string(),
                        ],
                        action: (!given_up)
                            .then(|| (format!("/admin/mail/{}/retry", m.id), "Retry now".into())),
                    }
                })
                .collect();
            let headers = vec!["Queued", "To", "Kind", "Tries", "Last error", "State"];
            ("Account mail that failed".to_string(), headers, rows)
        }
        "digests" => {
            let failing = state
                .db
                .run(move |conn| {
                    crate::digests::settings::failing(conn, ROWS).map_err(DbError::from)
                })
                .await?;
            let rows = failing
                .into_iter()
                .map(|(account, error, when)| Row {
                    cells: vec![account, error, format_optional_time(&when)],
                    action: None,
                })
                .collect();
            (
                "Digests that failed".to_string(),
                vec!["Account", "Error", "When"],
                rows,
            )
        }
        "webhooks" => {
            let failing = state
                .db
                .run(move |conn| crate::webhooks::send::failing(conn, ROWS).map_err(DbError::from))
                .await?;
            let rows = failing
                .into_iter()
                .map(|d| Row {
                    cells: vec![
                        format_time(&d.created_at),
                        d.account_id.clone(),
                        d.endpoint_url.clone(),
                        d.event.clone(),
                        d.attempts.to_string(),
                        d.last_error.clone().unwrap_or_default(),
                        if d.gave_up_at.is_some() {
                            "given up"
                        } else {
                            "retrying"
                        }
                        .to_string(),
                    ],
                    action: Some((
                        format!("/admin/webhooks/{}/retry", d.id),
                        "Send again".into(),
                    )),
                })
                .collect();
            let headers = vec![
                "Queued",
                "Account",
                "Endpoint",
                "Event",
                "Tries",
                "Last error",
                "State",
            ];
            ("Webhook deliveries that failed".to_string(), headers, rows)
        }
        "images" => {
            let failing = state
                .db
                .run(move |conn| crate::images::failing(conn, ROWS).map_err(DbError::from))
                .await?;
            let rows = failing
                .into_iter()
                .map(|(post, source, error, attempts)| Row {
                    cells: vec![
                        post,
                        source.unwrap_or_default(),
                        error.unwrap_or_default(),
                        attempts.to_string(),
                    ],
                    action: None,
                })
                .collect();
            (
                "Image fetches that failed".to_string(),
                vec!["Post", "Image", "Error", "Tries"],
                rows,
            )
        }
        _ => return Err(WebError::NotFound),
    };
    render(
        StatusCode::OK,
        &RowsPage {
            layout: Layout::new(&req, &state, Some(&operator.user)),
            title,
            headers,
            rows,
        },
    )
}

#[post("/mail/{id}/retry")]
pub async fn retry_mail(
    state: web::Data<AppState>,
    operator: web::ReqData<Operator>,
    id: web::Path<String>,
    _form: CheckedForm<NoFields>,
) -> Result<HttpResponse, WebError> {
    let operator_id = operator.user.user_id();
    let mail_id = id.into_inner();
    let sent_soon = mail_id.clone();
    let retried = state
        .db
        .transaction(move |conn| {
            let Some(account) = crate::mail::outbox::retry_now(conn, &mail_id, now())? else {
                return Ok::<_, WebError>(false);
            };
            let account = account.map(UserId);
            audit::record(
                conn,
                Some(&operator_id),
                Action::RetryMail,
                account.as_ref(),
                &mail_id,
            )?;
            Ok(true)
        })
        .await?;
    if !retried {
        return Err(WebError::NotFound);
    }
    state.account_mail.send_soon(vec![sent_soon]);
    Ok(see_other("/admin/health/mail"))
}

#[post("/webhooks/{id}/retry")]
pub async fn retry_webhook(
    state: web::Data<AppState>,
    operator: web::ReqData<Operator>,
    id: web::Path<String>,
    _form: CheckedForm<NoFields>,
) -> Result<HttpResponse, WebError> {
    let operator_id = operator.user.user_id();
    let delivery = id.into_inner();
    let retried = state
        .db
        .transaction(move |conn| {
            let Some(owner) = crate::webhooks::send::owner_of(conn, &delivery)? else {
                return Ok::<_, WebError>(false);
            };
            let owner = UserId(owner);
            if !crate::webhooks::endpoints::replay(conn, &owner, &delivery)? {
                return Ok(false);
            }
            audit::record(
                conn,
                Some(&operator_id),
                Action::RetryWebhook,
                Some(&owner),
                &delivery,
            )?;
            Ok(true)
        })
        .await?;
    if !retried {
        return Err(WebError::NotFound);
    }
    Ok(see_other("/admin/health/webhooks"))
}
