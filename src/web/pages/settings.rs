//! The account's settings: how often digests come, and the last delivery error.

use actix_web::http::StatusCode;
use actix_web::{get, post, web, HttpRequest, HttpResponse};
use askama::Template;
use chrono::Weekday;

use super::{format_optional_time, render, see_other, Layout};
use crate::accounts::validate::Email;
use crate::accounts::{email_change, reauth, verification, AccountError};
use crate::billing::Feature;
use crate::captions::Platform;
use crate::db::now;
use crate::digests::settings::{self as digest_settings, parse_prefs, DigestContents};
use crate::digests::{DigestError, Digests};
use crate::mail::{message_host, outbox};
use crate::web::csrf::CheckedForm;
use crate::web::error::WebError;
use crate::web::session::CurrentUser;
use crate::web::AppState;

use super::stored_pages::{self, Rendered};
use actix_web::FromRequest as _;

pub struct Choice {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

/// One platform's box in the digest form.
pub struct PlatformBox {
    pub id: &'static str,
    pub name: &'static str,
    pub checked: bool,
}

fn platform_boxes(chosen: &[Platform]) -> Vec<PlatformBox> {
    Platform::ALL
        .iter()
        .map(|p| PlatformBox {
            id: p.id(),
            name: p.display_name(),
            checked: chosen.contains(p),
        })
        .collect()
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
    time_zones: Vec<ZoneChoice>,
    /// A saved zone missing from the list (see [`time_zone_choices`]).
    unknown_zone: Option<String>,
    /// No zone was saved yet: the browser's own is preselected (`assets/app.js`).
    zone_unchosen: bool,
    platforms: Vec<PlatformBox>,
    /// The digest holds today's queue rather than the new captions.
    todays_queue: bool,
    last_error: Option<String>,
    last_error_at: String,
    saved: bool,
    error: Option<String>,
    /// Whether digests can go to the account's address yet.
    verified: bool,
    link_sent: bool,
    /// Why the account's last verification, reset or address-change mail has not gone out.
    mail_problem: Option<String>,
    /// What "Send me a test digest now" did.
    test_sent: Option<String>,
    password_changed: bool,
    min_password: usize,
}

/// The form's current values, whatever the frequency uses.
struct Values {
    frequency: &'static str,
    batch_minutes: i32,
    weekday: i32,
    hour: i32,
    time_zone: String,
    /// Whether the account saved its digest settings (and so its zone) yet.
    saved_before: bool,
    platforms: Vec<Platform>,
    contents: DigestContents,
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
    let (zones, known_zone) = time_zone_choices(&values.time_zone);
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
        time_zones: zones,
        unknown_zone: (!known_zone).then(|| values.time_zone.clone()),
        zone_unchosen: !values.saved_before,
        platforms: platform_boxes(&values.platforms),
        todays_queue: values.contents == DigestContents::TodaysQueue,
        last_error,
        last_error_at,
        saved,
        error,
        verified: true,
        link_sent: false,
        mail_problem: None,
        test_sent: None,
        password_changed: false,
        min_password: crate::accounts::validate::MIN_PASSWORD_CHARS,
    }
}

/// One time zone in the form's list.
pub struct ZoneChoice {
    pub value: &'static str,
    pub label: &'static str,
    pub selected: bool,
}

/// Every IANA zone chrono-tz knows, sorted, with its label: made once, since the settings
/// page lists all of them on every request.
static ZONES: std::sync::LazyLock<Vec<(&'static str, String)>> = std::sync::LazyLock::new(|| {
    let mut zones: Vec<&'static str> = chrono_tz::TZ_VARIANTS.iter().map(|z| z.name()).collect();
    zones.sort_unstable();
    zones
        .into_iter()
        .map(|z| (z, z.replace('_', " ")))
        .collect()
});

/// The zones with `current` selected, and whether `current` is one of them (a zone this
/// version does not know, saved by a newer one, is shown apart rather than lost).
fn time_zone_choices(current: &str) -> (Vec<ZoneChoice>, bool) {
    let choices: Vec<ZoneChoice> = ZONES
        .iter()
        .map(|(name, label)| ZoneChoice {
            value: name,
            label: label.as_str(),
            selected: *name == current,
        })
        .collect();
    let known = choices.iter().any(|c| c.selected);
    (choices, known)
}

fn mail_problem(mail: &outbox::OutgoingMail, at: chrono::NaiveDateTime) -> String {
    let error = mail.last_error.as_deref().unwrap_or("unknown error");
    if mail.given_up(at) {
        format!(
            "\u{201c}{}\u{201d} to {} could not be sent before its link expired and was given up: {error}.",
            mail.subject, mail.to_address
        )
    } else {
        format!(
            "\u{201c}{}\u{201d} to {} is not sent yet ({} attempts, next {}): {error}. It is retried automatically.",
            mail.subject,
            mail.to_address,
            mail.attempts,
            super::format_time(&mail.next_attempt_at)
        )
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
    /// Set after a test digest went: how many posts it held.
    #[serde(default)]
    test_sent: Option<usize>,
    #[serde(default)]
    password_changed: Option<String>,
}

/// The settings. Opened as is (no notice to show), the page is served from the stored
/// pages while nothing on it changed (see `stored_pages`): the pages version covers the
/// digest settings, the address and its confirmation, and the account's mail.
#[get("/settings")]
pub async fn show(
    req: HttpRequest,
    state: web::Data<AppState>,
    query: web::Query<SavedQuery>,
) -> Result<HttpResponse, WebError> {
    let plain = query.saved.is_none()
        && query.sent.is_none()
        && query.test_sent.is_none()
        && query.password_changed.is_none();
    if plain {
        let (req, state) = (&req, state.get_ref());
        return stored_pages::serve(req, state, "/settings".into(), |user| async move {
            let page = settings_page(req, state, &user).await?;
            // Whether a mail was given up depends on the time, not only on its row.
            let html = page.render()?;
            Ok(match page.mail_problem {
                None => Rendered::Keep(html),
                Some(_) => Rendered::Once(html),
            })
        })
        .await;
    }
    let user = CurrentUser::extract(&req).await?;
    let mut page = settings_page(&req, &state, &user).await?;
    page.saved = query.saved.is_some();
    page.link_sent = query.sent.is_some();
    page.password_changed = query.password_changed.is_some();
    let todays_queue = page.todays_queue;
    page.test_sent = query.test_sent.map(|posts| {
        let plural = if posts == 1 { "" } else { "s" };
        if todays_queue {
            format!(
                "A test digest of today's queue ({posts} post{plural}) is on its way to {}.",
                user.user.email
            )
        } else {
            format!(
                "A test digest of your {posts} newest post{plural} is on its way to {}.",
                user.user.email
            )
        }
    });
    render(StatusCode::OK, &page)
}

/// The settings page as the account has it, without notices.
async fn settings_page(
    req: &HttpRequest,
    state: &AppState,
    user: &CurrentUser,
) -> Result<SettingsPage, WebError> {
    let id = user.id();
    // One trip to the database for everything the page shows besides the account.
    let (row, verification, mail_problem) = state
        .db
        .run(move |conn| {
            Ok::<_, WebError>((
                digest_settings::find(conn, &id)?,
                verification::status(conn, &id)?,
                outbox::last_problem(conn, id.as_str())?,
            ))
        })
        .await?;
    let values = match &row {
        Some(r) => Values {
            frequency: digest_settings::frequency_id(r.prefs().frequency),
            batch_minutes: r.batch_minutes,
            weekday: r.weekday,
            hour: r.hour,
            time_zone: r.time_zone.clone(),
            saved_before: true,
            platforms: digest_settings::platforms_from_stored(&r.platforms),
            contents: r.contents(),
        },
        None => Values {
            frequency: "off",
            batch_minutes: 60,
            weekday: 0,
            hour: 8,
            time_zone: "UTC".into(),
            saved_before: false,
            platforms: Platform::ALL.to_vec(),
            contents: DigestContents::NewCaptions,
        },
    };
    let last = row.and_then(|r| {
        r.last_error
            .map(|e| (e, format_optional_time(&r.last_error_at)))
    });
    let mut page = page(req, state, user, values, last, false, None);
    page.verified = verification.is_some_and(|(_, verified)| verified);
    page.mail_problem = mail_problem.map(|mail| self::mail_problem(&mail, now()));
    Ok(page)
}

#[derive(serde::Deserialize, Default)]
#[serde(default)]
pub struct SettingsForm {
    frequency: String,
    batch_minutes: String,
    weekday: String,
    hour: String,
    time_zone: String,
    // One checkbox per platform: an unchecked box is simply absent from the form.
    platform_x: Option<String>,
    platform_mastodon: Option<String>,
    platform_bluesky: Option<String>,
    platform_threads: Option<String>,
    platform_linkedin: Option<String>,
    platform_instagram: Option<String>,
    platform_facebook: Option<String>,
    /// Set by the form that shows the boxes: without it (an older form, a script) the
    /// platforms stay as they are rather than read as all unchecked.
    platforms_shown: Option<String>,
    /// What the digest holds (`new` or `queue`); absent from an older form: unchanged.
    contents: Option<String>,
}

impl SettingsForm {
    /// The ticked platforms, or `None` when the form did not show the boxes.
    fn platforms(&self) -> Option<Vec<Platform>> {
        self.platforms_shown.as_ref()?;
        let ticked = [
            (Platform::X, &self.platform_x),
            (Platform::Mastodon, &self.platform_mastodon),
            (Platform::Bluesky, &self.platform_bluesky),
            (Platform::Threads, &self.platform_threads),
            (Platform::Linkedin, &self.platform_linkedin),
            (Platform::Instagram, &self.platform_instagram),
            (Platform::Facebook, &self.platform_facebook),
        ];
        Some(
            ticked
                .into_iter()
                .filter(|(_, on)| on.is_some())
                .map(|(p, _)| p)
                .collect(),
        )
    }
}

#[post("/settings")]
#[tracing::instrument(skip_all)]
pub async fn save(
    req: HttpRequest,
    state: web::Data<AppState>,
    user: CurrentUser,
    form: CheckedForm<SettingsForm>,
) -> Result<HttpResponse, WebError> {
    let f = form.0;
    let frequency = f.frequency.trim();
    let in_plan = super::billing::require(&state, &user, Feature::Digests(frequency)).await?;
    let platforms = f.platforms();
    let contents = match f.contents.as_deref().map(DigestContents::parse) {
        None => Ok(None),
        Some(Some(contents)) => Ok(Some(contents)),
        Some(None) => Err("Choose what the digest holds: the new captions or today's queue."),
    };
    let parsed = match in_plan {
        Err(refused) => Err(DigestError::Invalid(refused.sentence())),
        _ if platforms.as_ref().is_some_and(Vec::is_empty) => Err(DigestError::Invalid(
            "Choose at least one platform for your digests.".into(),
        )),
        _ if contents.is_err() => Err(DigestError::Invalid(
            contents.err().unwrap_or_default().to_string(),
        )),
        _ => parse_prefs(
            &f.frequency,
            &f.batch_minutes,
            &f.weekday,
            &f.hour,
            &f.time_zone,
        ),
    };
    match parsed {
        Ok(prefs) => {
            let id = user.id();
            let chosen = platforms.clone();
            let contents = contents.ok().flatten();
            state
                .db
                .transaction(move |conn| {
                    digest_settings::save(conn, &id, &prefs)?;
                    if let Some(platforms) = &chosen {
                        digest_settings::save_platforms(conn, &id, platforms)?;
                    }
                    if let Some(contents) = contents {
                        digest_settings::save_contents(conn, &id, contents)?;
                    }
                    Ok::<_, WebError>(())
                })
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
                // What the person picked stays picked; the browser's zone does not replace it.
                saved_before: true,
                platforms: platforms.unwrap_or_else(|| Platform::ALL.to_vec()),
                contents: f
                    .contents
                    .as_deref()
                    .and_then(DigestContents::parse)
                    .unwrap_or(DigestContents::NewCaptions),
            };
            let page = page(&req, &state, &user, values, None, false, Some(message));
            render(StatusCode::UNPROCESSABLE_ENTITY, &page)
        }
        Err(other) => Err(WebError::Internal(other.into())),
    }
}

#[derive(serde::Deserialize, Default)]
pub struct EmptyForm {}

/// "Send me a test digest now": what the digests hold (the newest captions, or today's
/// queue), at once, to the account's address.
#[post("/settings/digest/test")]
#[tracing::instrument(skip_all)]
pub async fn send_test_digest(
    state: web::Data<AppState>,
    user: CurrentUser,
    _form: CheckedForm<EmptyForm>,
) -> Result<HttpResponse, WebError> {
    let digests = Digests::from_parts(
        state.db.clone(),
        state.mailer.clone(),
        state.settings.base_url.clone(),
        state.signing_key.clone(),
    );
    match digests.send_test(&user.id()).await {
        Ok(sent) => Ok(see_other(&format!("/settings?test_sent={}", sent.posts))),
        Err(DigestError::Invalid(message)) => Ok(super::error_page(
            StatusCode::UNPROCESSABLE_ENTITY,
            &message,
        )),
        Err(DigestError::Db(e)) => Err(e.into()),
        Err(other) => Ok(super::error_page(
            StatusCode::BAD_GATEWAY,
            &format!("The test digest could not be sent: {other}. Try again in a minute."),
        )),
    }
}

#[derive(serde::Deserialize, Default)]
#[serde(default)]
pub struct EmailForm {
    email: String,
    password: String,
}

#[post("/settings/email")]
#[tracing::instrument(skip_all)]
pub async fn change_email(
    state: web::Data<AppState>,
    user: CurrentUser,
    form: CheckedForm<EmailForm>,
) -> Result<HttpResponse, WebError> {
    let EmailForm { email, password } = form.0;
    let id = user.id();
    let base_url = state.settings.base_url.clone();
    let key = state.signing_key.clone();
    let reset_url = base_url
        .join("forgot-password")
        .map(|u| u.to_string())
        .unwrap_or_default();
    let who = id.clone();
    let hash = state
        .db
        .run(move |conn| email_change::password_hash(conn, &who))
        .await?;
    let verified = match reauth::check(&state.db, &id, password, hash.clone()).await {
        Ok(right) => right,
        Err(AccountError::TooManyAttempts(wait)) => return Ok(super::wait_page(wait)),
        Err(e) => return Err(e.into()),
    };
    // One transaction: the change, the notice to the old address and the link to the new
    // one are written together or not at all.
    let changed = state
        .db
        .transaction(move |conn| {
            let new = Email::parse(&email)?;
            if !verified {
                return Err(AccountError::BadCredentials);
            }
            let old = email_change::change(conn, &id, &hash, &new)?;
            let at = now();
            let notice = outbox::enqueue_limited(
                conn,
                Some(id.as_str()),
                &email_change::notice(&old, new.as_str(), &reset_url),
                at,
                &message_host(&base_url),
            )?;
            let confirm = verification::queue(conn, &base_url, &key, &id, new.as_str(), at)?;
            Ok::<_, AccountError>([notice, confirm].into_iter().flatten().collect::<Vec<_>>())
        })
        .await;
    let mails = match changed {
        Ok(mails) => mails,
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
    state.account_mail.send_soon(mails);
    Ok(see_other("/settings?sent=1"))
}
