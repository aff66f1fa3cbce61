//! The posting queue page: the coming days per platform, captions waiting for review, each
//! feed's queue mode, and each platform's posting plan.

use actix_web::http::StatusCode;
use actix_web::{get, post, web, HttpRequest, HttpResponse};
use askama::Template;
use chrono::Utc;
use chrono_tz::Tz;

use super::share::{composer_view, ComposerView, MASTODON_CHOOSER};
use super::{render, see_other_if_found, Layout};
use crate::accounts::UserId;
use crate::captions::Platform;
use crate::db::AnyConnection;
use crate::desk::CaptionId;
use crate::digests::settings as digest_settings;
use crate::publish::connections;
use crate::queue::entries::{self, QueueItem, QueueMode};
use crate::queue::outcomes;
use crate::queue::plans::{self, PlanInput, WEEKDAYS};
use crate::queue::slots::PostingPlan;
use crate::queue::{timed, Scheduled};
use crate::subscriptions::SubscriptionId;
use crate::web::csrf::CheckedForm;
use crate::web::error::WebError;
use crate::web::session::CurrentUser;
use crate::web::AppState;

pub struct ItemView {
    pub caption_id: String,
    pub when: String,
    pub first_line: String,
    /// The whole caption, for the composer link (copied first where only a link goes).
    pub text: String,
    pub post_title: String,
    pub pinned: bool,
    /// The last try failed for now: when the next one is, and why.
    pub waiting: Option<String>,
    /// Read by the shared composer template, as `caption.composer`.
    pub composer: Option<ComposerView>,
}

pub struct PlatformQueue {
    pub id: String,
    pub name: String,
    pub plan: String,
    pub items: Vec<ItemView>,
    /// "The queue reaches Tue 15 Dec 17:30", or why it has no times.
    pub reach: String,
}

pub struct FeedMode {
    pub id: String,
    pub name: String,
    pub mode: &'static str,
}

#[derive(Template)]
#[template(path = "queue.html")]
struct QueuePage {
    layout: Layout,
    platforms: Vec<PlatformQueue>,
    review: Vec<ItemView>,
    feeds: Vec<FeedMode>,
    plan_links: Vec<(String, String)>,
    /// Connections a network refused: posting there stopped until connected again.
    broken: Vec<BrokenView>,
    /// Captions a network refused, with the reason.
    failures: Vec<FailureView>,
}

pub struct BrokenView {
    pub network: String,
    pub handle: String,
    pub reason: String,
}

pub struct FailureView {
    pub caption_id: String,
    pub network: String,
    pub first_line: String,
    pub post_title: String,
    pub reason: String,
}

/// The zone plans start in: the account's digest zone, which the settings page asks for.
fn account_zone(conn: &mut AnyConnection, user: &UserId) -> Result<Tz, WebError> {
    Ok(digest_settings::find(conn, user)?
        .map(|row| row.prefs().time_zone)
        .unwrap_or(Tz::UTC))
}

fn first_line(text: &str) -> String {
    let line = text.lines().next().unwrap_or_default();
    let mut cut: String = line.chars().take(120).collect();
    if cut.len() < line.len() {
        cut.push('…');
    }
    cut
}

fn when(plan: &PostingPlan, at: chrono::DateTime<Utc>) -> String {
    at.with_timezone(&plan.zone)
        .format("%a %-d %b %H:%M")
        .to_string()
}

fn plan_summary(plan: &PostingPlan) -> String {
    let days: Vec<String> = WEEKDAYS
        .iter()
        .zip(&plan.times)
        .filter(|(_, t)| !t.is_empty())
        .map(|(d, t)| format!("{} {}", capitalized(d), plans::format_times(t)))
        .collect();
    let mut summary = if days.is_empty() {
        "No posting times".to_string()
    } else {
        days.join(" · ")
    };
    summary.push_str(&format!(
        "; at most {} a day, {} minutes apart, {}",
        plan.max_per_day,
        plan.min_spacing.num_minutes(),
        plan.zone.name()
    ));
    if !plan.quiet_dates.is_empty() {
        summary.push_str(&format!(
            "; quiet on {}",
            plans::format_dates(&plan.quiet_dates)
        ));
    }
    summary
}

fn capitalized(day: &str) -> String {
    let mut chars = day.chars();
    chars
        .next()
        .map(|c| c.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

fn item_view(item: QueueItem, when: String, pinned: bool) -> ItemView {
    let composer = item.platform.parse::<Platform>().ok().and_then(|p| {
        composer_view(
            p,
            &item.text,
            item.post_url.as_deref(),
            MASTODON_CHOOSER,
            &format!("q-{}", item.caption_id),
        )
    });
    ItemView {
        first_line: first_line(&item.text),
        text: item.text,
        caption_id: item.caption_id.0,
        when,
        post_title: item.post_title,
        pinned,
        waiting: None,
        composer,
    }
}

struct Loaded {
    per_platform: Vec<(Platform, PostingPlan, Vec<Scheduled>)>,
    review: Vec<QueueItem>,
    modes: Vec<(String, String, QueueMode)>,
    waiting: Vec<outcomes::Waiting>,
    failures: Vec<outcomes::Failure>,
    connections: Vec<connections::Connection>,
}

fn network_name(platform: &str) -> String {
    platform
        .parse::<Platform>()
        .map(|p| p.display_name().to_string())
        .unwrap_or_else(|_| platform.to_string())
}

/// Reads only: new captions of "join at once" feeds were admitted when the poller wrote
/// them (and by the publisher's passes).
fn load(conn: &mut AnyConnection, user: &UserId) -> Result<Loaded, WebError> {
    let zone = account_zone(conn, user)?;
    let queued = entries::queued(conn, user)?;
    let now = Utc::now();
    let mut per_platform = Vec::new();
    for platform in Platform::ALL {
        if !queued.iter().any(|i| i.platform == platform.id()) {
            continue;
        }
        let (plan, scheduled) = timed(conn, user, platform, queued.clone(), zone, now)?;
        per_platform.push((platform, plan, scheduled));
    }
    Ok(Loaded {
        per_platform,
        review: entries::waiting_for_review(conn, user)?,
        modes: entries::modes(conn, user)?,
        waiting: outcomes::waiting_again(conn, user)?,
        failures: outcomes::failures(conn, user)?,
        connections: connections::list(conn, user)?,
    })
}

#[get("/queue")]
pub async fn show(
    req: HttpRequest,
    state: web::Data<AppState>,
    user: CurrentUser,
) -> Result<HttpResponse, WebError> {
    let id = user.id();
    let loaded = state.db.run(move |conn| load(conn, &id)).await?;
    let waiting = &loaded.waiting;
    // Where "Post now" posts by itself, "Post on Bluesky" beside it would read as a second
    // way to post directly: there the composer link only opens the network's compose box.
    let posts_directly: Vec<&str> = loaded
        .connections
        .iter()
        .filter(|c| c.broken_at.is_none())
        .map(|c| c.platform.as_str())
        .collect();
    let platforms = loaded
        .per_platform
        .into_iter()
        .map(|(platform, plan, scheduled)| {
            let last = scheduled.iter().filter_map(|s| s.at).max();
            let unscheduled = scheduled.iter().filter(|s| s.at.is_none()).count();
            let reach = if unscheduled > 0 {
                format!(
                    "{unscheduled} caption{} wait{} for a posting time: add some to the plan.",
                    if unscheduled == 1 { "" } else { "s" },
                    if unscheduled == 1 { "s" } else { "" }
                )
            } else if let Some(last) = last {
                format!(
                    "{} caption{} queued; the queue reaches {}.",
                    scheduled.len(),
                    if scheduled.len() == 1 { "" } else { "s" },
                    when(&plan, last)
                )
            } else {
                String::new()
            };
            PlatformQueue {
                id: platform.id().to_string(),
                name: platform.display_name().to_string(),
                plan: plan_summary(&plan),
                items: scheduled
                    .into_iter()
                    .map(|s| {
                        let pinned = s.item.due_at.is_some();
                        let at =
                            s.at.map(|t| when(&plan, t))
                                .unwrap_or_else(|| "no time yet".to_string());
                        let waiting = waiting
                            .iter()
                            .find(|w| w.caption_id == s.item.caption_id)
                            .map(|w| {
                                format!(
                                    "Trying again after {}: {}",
                                    when(&plan, w.next_attempt_at.and_utc()),
                                    w.error.as_deref().unwrap_or("the network did not answer")
                                )
                            });
                        let mut view = item_view(s.item, at, pinned);
                        view.waiting = waiting;
                        if posts_directly.contains(&platform.id()) {
                            if let Some(composer) = &mut view.composer {
                                composer.label = format!("Open in {}", platform.display_name());
                            }
                        }
                        view
                    })
                    .collect(),
                reach,
            }
        })
        .collect();
    let page = QueuePage {
        layout: Layout::new(&req, &state, Some(&user.user)),
        platforms,
        review: loaded
            .review
            .into_iter()
            .map(|i| item_view(i, String::new(), false))
            .collect(),
        feeds: loaded
            .modes
            .into_iter()
            .map(|(id, name, mode)| FeedMode {
                id,
                name,
                mode: mode.as_str(),
            })
            .collect(),
        plan_links: Platform::ALL
            .iter()
            .map(|p| (p.id().to_string(), p.display_name().to_string()))
            .collect(),
        broken: loaded
            .connections
            .into_iter()
            .filter(|c| c.broken_at.is_some())
            .map(|c| BrokenView {
                network: network_name(&c.platform),
                handle: c.handle,
                reason: c.broken_reason.unwrap_or_default(),
            })
            .collect(),
        failures: loaded
            .failures
            .into_iter()
            .map(|f| FailureView {
                network: network_name(&f.platform),
                first_line: first_line(&f.text),
                caption_id: f.caption_id.0,
                post_title: f.post_title,
                reason: f.reason.unwrap_or_default(),
            })
            .collect(),
    };
    render(StatusCode::OK, &page)
}

#[derive(serde::Deserialize)]
pub struct NoFields {}

/// One of the queue's buttons on one caption: `up`, `now`, `skip`, `approve`, or `retry`
/// (a refused caption back in the queue).
#[post("/queue/{caption}/{action}")]
pub async fn act(
    state: web::Data<AppState>,
    user: CurrentUser,
    path: web::Path<(String, String)>,
    _form: CheckedForm<NoFields>,
) -> Result<HttpResponse, WebError> {
    let (caption, action) = path.into_inner();
    let (id, caption) = (user.id(), CaptionId(caption));
    let found = state
        .db
        .run(move |conn| {
            let done = match action.as_str() {
                "up" => entries::move_up(conn, &id, &caption)?,
                "now" => entries::post_now(conn, &id, &caption)?,
                "skip" => entries::skip(conn, &id, &caption)?,
                "approve" => entries::approve(conn, &id, &caption)?,
                "retry" => crate::queue::outcomes::retry(conn, &id, &caption, crate::db::now())?,
                _ => false,
            };
            Ok::<_, WebError>(done)
        })
        .await?;
    see_other_if_found(found, "/queue")
}

#[derive(serde::Deserialize)]
pub struct ModeForm {
    mode: String,
}

#[post("/queue/feeds/{subscription}")]
pub async fn set_mode(
    state: web::Data<AppState>,
    user: CurrentUser,
    path: web::Path<String>,
    form: CheckedForm<ModeForm>,
) -> Result<HttpResponse, WebError> {
    let subscription = SubscriptionId(path.into_inner());
    let mode = QueueMode::parse(&form.0.mode).ok_or(WebError::NotFound)?;
    let id = user.id();
    let found = state
        .db
        .run(move |conn| Ok::<_, WebError>(entries::set_mode(conn, &id, &subscription, mode)?))
        .await?;
    see_other_if_found(found, "/queue")
}

#[derive(Template)]
#[template(path = "queue_plan.html")]
struct PlanPage {
    layout: Layout,
    platform_id: String,
    platform_name: String,
    time_zone: String,
    days: Vec<(String, String, String)>,
    max_per_day: String,
    min_spacing_minutes: String,
    quiet_dates: String,
    error: Option<String>,
}

fn plan_page(
    req: &HttpRequest,
    state: &AppState,
    user: &CurrentUser,
    platform: Platform,
    plan: &PostingPlan,
    error: Option<String>,
) -> PlanPage {
    PlanPage {
        layout: Layout::new(req, state, Some(&user.user)),
        platform_id: platform.id().to_string(),
        platform_name: platform.display_name().to_string(),
        time_zone: plan.zone.name().to_string(),
        days: WEEKDAYS
            .iter()
            .zip(&plan.times)
            .map(|(d, t)| (d.to_string(), capitalized(d), plans::format_times(t)))
            .collect(),
        max_per_day: plan.max_per_day.to_string(),
        min_spacing_minutes: plan.min_spacing.num_minutes().to_string(),
        quiet_dates: plans::format_dates(&plan.quiet_dates),
        error,
    }
}

#[get("/queue/plans/{platform}")]
pub async fn plan_form(
    req: HttpRequest,
    state: web::Data<AppState>,
    user: CurrentUser,
    path: web::Path<String>,
) -> Result<HttpResponse, WebError> {
    let platform: Platform = path.parse().map_err(|_| WebError::NotFound)?;
    let id = user.id();
    let (plan, _) = state
        .db
        .run(move |conn| {
            let zone = account_zone(conn, &id)?;
            Ok::<_, WebError>(plans::find(conn, &id, platform, zone)?)
        })
        .await?;
    render(
        StatusCode::OK,
        &plan_page(&req, &state, &user, platform, &plan, None),
    )
}

#[derive(serde::Deserialize)]
pub struct PlanForm {
    time_zone: String,
    mon: String,
    tue: String,
    wed: String,
    thu: String,
    fri: String,
    sat: String,
    sun: String,
    max_per_day: String,
    min_spacing_minutes: String,
    #[serde(default)]
    quiet_dates: String,
}

#[post("/queue/plans/{platform}")]
pub async fn save_plan(
    req: HttpRequest,
    state: web::Data<AppState>,
    user: CurrentUser,
    path: web::Path<String>,
    form: CheckedForm<PlanForm>,
) -> Result<HttpResponse, WebError> {
    let platform: Platform = path.parse().map_err(|_| WebError::NotFound)?;
    let f = form.0;
    let input = PlanInput {
        time_zone: &f.time_zone,
        times: [&f.mon, &f.tue, &f.wed, &f.thu, &f.fri, &f.sat, &f.sun],
        max_per_day: &f.max_per_day,
        min_spacing_minutes: &f.min_spacing_minutes,
        quiet_dates: &f.quiet_dates,
    };
    match plans::parse_plan(&input) {
        Ok(plan) => {
            let id = user.id();
            let saved = plan.clone();
            state
                .db
                .run(move |conn| Ok::<_, WebError>(plans::save(conn, &id, platform, &saved)?))
                .await?;
            Ok(super::see_other("/queue"))
        }
        Err(reason) => {
            // Shown again as typed, with the reason.
            let mut page = plan_page(
                &req,
                &state,
                &user,
                platform,
                &plans::default_plan(Tz::UTC),
                Some(reason),
            );
            page.time_zone = f.time_zone.clone();
            for (day, typed) in page.days.iter_mut().zip(input.times) {
                day.2 = typed.to_string();
            }
            page.max_per_day = f.max_per_day.clone();
            page.min_spacing_minutes = f.min_spacing_minutes.clone();
            page.quiet_dates = f.quiet_dates.clone();
            render(StatusCode::UNPROCESSABLE_ENTITY, &page)
        }
    }
}
