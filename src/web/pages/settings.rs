//! The account's settings: how often digests come, and the last delivery error.

use actix_web::http::StatusCode;
use actix_web::{get, post, web, HttpRequest, HttpResponse};
use askama::Template;
use chrono::Weekday;

use super::{format_optional_time, render, see_other, Layout};
use crate::accounts::validate::Email;
use crate::accounts::{email_change, verification, AccountError};
use crate::digests::settings::{self as digest_settings, parse_prefs};
use crate::digests::DigestError;
use crate::web::csrf::CheckedForm;
use crate::web::error::WebError;
use crate::web::session::CurrentUser;
use crate::web::AppState;

pub struct Choice {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

#[derive(Template)]
#[template(path = "settings.html")]
struct SettingsPage {
    layout: Layout,
    email: String,
    frequencies: Vec<Choice>,
    weekdays: Vec<Choice>,
    hours: Vec<Choice>,
    batch_minutes: String,
    time_zone: String,
    time_zones: Vec<&'static str>,
    last_error: Option<String>,
    last_error_at: String,
    saved: bool,
    error: Option<String>,
    /// Whether digests can go to the account's address yet.
    verified: bool,
    link_sent: bool,
}

/// The form's current values, whatever the frequency uses.
struct Values {
    frequency: &'static str,
    batch_minutes: i32,
    weekday: i32,
    hour: i32,
    time_zone: String,
}

fn page(
    req: &HttpRequest,
    state: &AppState,
    user: &CurrentUser,
    values: Values,
    last: Option<(String, String)>,
    saved: bool,
    error: Option<String>,
) -> SettingsPage {
    let choice = |value: String, label: &str, selected: bool| Choice {
        value,
        label: label.to_string(),
        selected,
    };
    let (last_error, last_error_at) = match last {
        Some((e, at)) => (Some(e), at),
        None => (None, String::new()),
    };
    SettingsPage {
        layout: Layout::new(req, state, Some(&user.user)),
        email: user.user.email.clone(),
        frequencies: [
            ("off", "Off"),
            ("batched", "As captions come, batched"),
            ("daily", "Daily"),
            ("weekly", "Weekly"),
        ]
        .into_iter()
        .map(|(v, l)| choice(v.into(), l, v == values.frequency))
        .collect(),
        weekdays: (0..7)
            .filter_map(|i| digest_settings::weekday_from_index(i).map(|d| (i, d)))
            .map(|(i, d)| choice(i.to_string(), weekday_name(d), i == values.weekday))
            .collect(),
        hours: (0..24)
            .map(|h| choice(h.to_string(), &format!("{h:02}:00"), h == values.hour))
            .collect(),
        batch_minutes: values.batch_minutes.to_string(),
        time_zone: values.time_zone,
        time_zones: chrono_tz::TZ_VARIANTS.iter().map(|z| z.name()).collect(),
        last_error,
        last_error_at,
        saved,
        error,
        verified: true,
        link_sent: false,
    }
}

fn weekday_name(d: Weekday) -> &'static str {
    match d {
        Weekday::Mon => "Monday",
        Weekday::Tue => "Tuesday",
        Weekday::Wed => "Wednesday",
        Weekday::Thu => "Thursday",
        Weekday::Fri => "Friday",
        Weekday::Sat => "Saturday",
        Weekday::Sun => "Sunday",
    }
}

#[derive(serde::Deserialize)]
pub struct SavedQuery {
    #[serde(default)]
    saved: Option<String>,
    #[serde(default)]
    sent: Option<String>,
}

#[get("/settings")]
pub async fn show(
    req: HttpRequest,
    state: web::Data<AppState>,
    user: CurrentUser,
    query: web::Query<SavedQuery>,
) -> Result<HttpResponse, WebError> {
    let id = user.id();
    let row = state
        .db
        .run(move |conn| Ok::<_, WebError>(digest_settings::find(conn, &id)?))
        .await?;
    let values = match &row {
        Some(r) => Values {
            frequency: digest_settings::frequency_id(r.prefs().frequency),
            batch_minutes: r.batch_minutes,
            weekday: r.weekday,
            hour: r.hour,
            time_zone: r.time_zone.clone(),
        },
        None => Values {
            frequency: "off",
            batch_minutes: 60,
            weekday: 0,
            hour: 8,
            time_zone: "UTC".into(),
        },
    };
    let last = row.and_then(|r| {
        r.last_error
            .map(|e| (e, format_optional_time(&r.last_error_at)))
    });
    let mut page = page(
        &req,
        &state,
        &user,
        values,
        last,
        query.saved.is_some(),
        None,
    );
    let id = user.id();
    page.verified = state
        .db
        .run(move |conn| Ok::<_, WebError>(verification::status(conn, &id)?))
        .await?
        .is_some_and(|(_, verified)| verified);
    page.link_sent = query.sent.is_some();
    render(StatusCode::OK, &page)
}

#[derive(serde::Deserialize, Default)]
#[serde(default)]
pub struct SettingsForm {
    frequency: String,
    batch_minutes: String,
    weekday: String,
    hour: String,
    time_zone: String,
}

#[post("/settings")]
pub async fn save(
    req: HttpRequest,
    state: web::Data<AppState>,
    user: CurrentUser,
    form: CheckedForm<SettingsForm>,
) -> Result<HttpResponse, WebError> {
    let f = form.0;
    match parse_prefs(
        &f.frequency,
        &f.batch_minutes,
        &f.weekday,
        &f.hour,
        &f.time_zone,
    ) {
        Ok(prefs) => {
            let id = user.id();
            state
                .db
                .run(move |conn| Ok::<_, WebError>(digest_settings::save(conn, &id, &prefs)?))
                .await?;
            Ok(see_other("/settings?saved=1"))
        }
        Err(DigestError::Invalid(message)) => {
            let values = Values {
                frequency: match f.frequency.as_str() {
                    "batched" => "batched",
                    "daily" => "daily",
                    "weekly" => "weekly",
                    _ => "off",
                },
                batch_minutes: f.batch_minutes.trim().parse().unwrap_or(60),
                weekday: f.weekday.trim().parse().unwrap_or(0),
                hour: f.hour.trim().parse().unwrap_or(8),
                time_zone: f.time_zone.clone(),
            };
            let page = page(&req, &state, &user, values, None, false, Some(message));
            render(StatusCode::UNPROCESSABLE_ENTITY, &page)
        }
        Err(other) => Err(WebError::Internal(other.to_string())),
    }
}

#[derive(serde::Deserialize, Default)]
#[serde(default)]
pub struct EmailForm {
    email: String,
    password: String,
}

#[post("/settings/email")]
pub async fn change_email(
    state: web::Data<AppState>,
    user: CurrentUser,
    form: CheckedForm<EmailForm>,
) -> Result<HttpResponse, WebError> {
    let EmailForm { email, password } = form.0;
    let id = user.id();
    let changed = state
        .db
        .run(move |conn| {
            let new = Email::parse(&email)?;
            let old = email_change::change(conn, &id, &password, &new)?;
            Ok::<_, AccountError>((old, new.as_str().to_string()))
        })
        .await;
    let (old, new) = match changed {
        Ok(pair) => pair,
        Err(AccountError::Db(e)) => return Err(e.into()),
        Err(e) => {
            let status = match e {
                AccountError::BadCredentials => StatusCode::FORBIDDEN,
                AccountError::EmailTaken => StatusCode::CONFLICT,
                _ => StatusCode::UNPROCESSABLE_ENTITY,
            };
            let message = match e {
                AccountError::BadCredentials => "The password is not right.".to_string(),
                other => super::sentence(&other.to_string()),
            };
            return Ok(super::error_page(status, &message));
        }
    };
    let reset_url = state
        .settings
        .base_url
        .join("forgot-password")
        .map(|u| u.to_string())
        .unwrap_or_default();
    let mailer = state.mailer.clone();
    let (from_old, to_new) = (old.clone(), new.clone());
    tokio::spawn(async move {
        match email_change::notice(mailer.from_address(), &from_old, &to_new, &reset_url) {
            Ok(message) => {
                if let Err(error) = mailer.send(message).await {
                    tracing::warn!(%error, "email change notice not sent");
                }
            }
            Err(error) => tracing::warn!(%error, "email change notice not built"),
        }
    });
    super::verify::send_link(&state, user.id(), new);
    Ok(see_other("/settings?sent=1"))
}
