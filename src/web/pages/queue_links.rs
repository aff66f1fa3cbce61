//! The signed approve / skip / snooze links of a digest, opened without logging in.
//!
//! As with the unsubscribe link, the GET only shows a button (mail scanners open links in
//! messages) and the POST acts; the signature authenticates both, so there is no CSRF
//! token. A tampered, expired or already used link gets a page that says so.

use actix_web::http::StatusCode;
use actix_web::{get, post, web, HttpRequest, HttpResponse};
use askama::Template;
use chrono::{Duration, Utc};

use super::{render, Layout};
use crate::db::now;
use crate::desk::CaptionId;
use crate::queue::entries;
use crate::queue::links::{self, LinkAction};
use crate::web::error::WebError;
use crate::web::AppState;

#[derive(Template)]
#[template(path = "queue_link.html")]
struct LinkPage {
    layout: Layout,
    heading: String,
    message: String,
    /// The form's target, when there is something to confirm, and its button.
    button_action: Option<String>,
    button_label: String,
}

fn page(
    status: StatusCode,
    heading: &str,
    message: &str,
    button: Option<(String, String)>,
) -> Result<HttpResponse, WebError> {
    let page = LinkPage {
        layout: Layout::without_session(),
        heading: heading.to_string(),
        message: message.to_string(),
        button_label: button.as_ref().map(|(_, l)| l.clone()).unwrap_or_default(),
        button_action: button.map(|(a, _)| a),
    };
    render(status, &page)
}

type LinkPath = web::Path<(String, String, i64, String)>;

enum Checked {
    Ready(crate::accounts::UserId, CaptionId, LinkAction),
    Refused(HttpResponse),
}

async fn check(state: &AppState, path: LinkPath) -> Result<Checked, WebError> {
    let (caption, action, expires, signature) = path.into_inner();
    let caption = CaptionId(caption);
    let parsed = links::parse_segment(&action);
    let genuine = parsed.is_some()
        && links::verify_segment(&state.signing_key, &caption, &action, expires, &signature);
    let Some((action, queued_link)) = parsed.filter(|_| genuine) else {
        return Ok(Checked::Refused(page(
            StatusCode::NOT_FOUND,
            "This link does not work",
            "It may have been cut or changed on the way. Open your queue to decide on the caption there.",
            None,
        )?));
    };
    if Utc::now().timestamp() > expires {
        return Ok(Checked::Refused(page(
            StatusCode::GONE,
            "This link has expired",
            "Links in a digest work for two weeks. Open your queue to decide on the caption there.",
            None,
        )?));
    }
    // When the digest carrying the link was sent: links live VALID_DAYS from then.
    let issued = expires - links::VALID_DAYS * 86_400;
    let id = caption.clone();
    let found = state
        .db
        .run(move |conn| {
            let Some(owner) = entries::owner_of_caption(conn, &id)? else {
                return Ok::<_, WebError>(None);
            };
            let decided = entries::decision(conn, &owner, &id)?;
            let decided_at = entries::decided_at(conn, &owner, &id)?;
            Ok(Some((owner, decided, decided_at)))
        })
        .await?;
    match found {
        None => Ok(Checked::Refused(page(
            StatusCode::NOT_FOUND,
            "This caption is gone",
            "Its feed was removed since the digest was sent.",
            None,
        )?)),
        // A snoozed caption can still be approved or skipped from its other links.
        Some((owner, Some(entries::SNOOZED), _)) if action != LinkAction::Snooze => {
            Ok(Checked::Ready(owner, caption, action))
        }
        // A link of today's queue, made for a caption already queued: it can take it out
        // (skip or snooze), once. A decision made after the link was issued (this link or
        // another used, or the queue page) refuses it.
        Some((owner, Some(entries::QUEUED), decided_at))
            if queued_link
                && action != LinkAction::Approve
                && decided_at.is_none_or(|at| at.and_utc().timestamp() <= issued) =>
        {
            Ok(Checked::Ready(owner, caption, action))
        }
        Some((_, Some(decided), _)) => Ok(Checked::Refused(page(
            StatusCode::CONFLICT,
            "Already decided",
            &format!(
                "This caption is already {decided}, so this link has been used. Your queue shows where it stands."
            ),
            None,
        )?)),
        Some((owner, None, _)) => Ok(Checked::Ready(owner, caption, action)),
    }
}

#[get("/queue/mail/{caption}/{action}/{expires}/{signature}")]
pub async fn confirm(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: LinkPath,
) -> Result<HttpResponse, WebError> {
    match check(&state, path).await? {
        Checked::Refused(response) => Ok(response),
        Checked::Ready(_, _, action) => page(
            StatusCode::OK,
            action.label(),
            "One click, and it is done.",
            Some((req.path().to_string(), action.label().to_string())),
        ),
    }
}

#[post("/queue/mail/{caption}/{action}/{expires}/{signature}")]
pub async fn act(state: web::Data<AppState>, path: LinkPath) -> Result<HttpResponse, WebError> {
    let (owner, caption, action) = match check(&state, path).await? {
        Checked::Refused(response) => return Ok(response),
        Checked::Ready(owner, caption, action) => (owner, caption, action),
    };
    state
        .db
        .run(move |conn| {
            Ok::<_, WebError>(match action {
                LinkAction::Approve => entries::approve(conn, &owner, &caption)?,
                LinkAction::Skip => entries::skip(conn, &owner, &caption)?,
                LinkAction::Snooze => {
                    entries::snooze(conn, &owner, &caption, now() + Duration::days(1))?
                }
            })
        })
        .await?;
    let message = match action {
        LinkAction::Approve => "The caption is in your queue.",
        LinkAction::Skip => "The caption is out of the queue; it stays on your desk.",
        LinkAction::Snooze => "We will ask again tomorrow, on your queue page.",
    };
    page(StatusCode::OK, "Done", message, None)
}
