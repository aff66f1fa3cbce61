//! `/api/v1/templates`: the account's caption templates, per platform and
//! variant; saving validates as the templates page does and returns the
//! reason (and line) as data.

use actix_web::{web, HttpResponse};

use super::auth::ApiUser;
use super::error::ApiError;
use super::rfc3339;
use crate::captions::{Platform, STYLES, TEMPLATE_VARIABLES};
use crate::db::DbError;
use crate::desk::template_edits;
use crate::desk::templates_store::{self, InForce, SaveError};
use crate::web::AppState;

#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct TemplateOut {
    /// x, mastodon, bluesky, threads, linkedin, instagram or facebook.
    pub platform: String,
    /// `default` is the one every feed uses unless its settings pick others.
    pub variant: String,
    /// minijinja source.
    pub source: String,
    /// True for the built-in template (the account has not written its own).
    pub builtin: bool,
    /// When the account saved it; absent for a built-in template.
    pub updated_at: Option<String>,
}

impl From<InForce> for TemplateOut {
    fn from(t: InForce) -> Self {
        TemplateOut {
            platform: t.platform.id().to_owned(),
            variant: t.variant,
            source: t.source,
            builtin: t.builtin,
            updated_at: t.updated_at.as_ref().map(rfc3339),
        }
    }
}

#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct TemplateList {
    /// Every platform's `default` (the account's or the built-in one), then
    /// the account's other variants.
    pub templates: Vec<TemplateOut>,
    /// The names a template can use.
    pub variables: Vec<String>,
    /// The built-in styles, which a feed adds as variants beside `default`.
    pub styles: Vec<StyleOut>,
}

/// A built-in style: a way into a post with a template on every platform.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct StyleOut {
    /// The variant name, as in a feed's variants.
    #[schema(example = "quote")]
    pub name: String,
    /// What the desk, the digest and the API call it.
    #[schema(example = "Quote")]
    pub label: String,
}

#[derive(serde::Deserialize, utoipa::ToSchema)]
pub struct TemplateIn {
    /// minijinja source, at most 8 KB.
    #[schema(example = "{{ title }}\n{{ url }}")]
    pub source: String,
}

/// A refused template: why, and on which line when known.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct TemplateErrorBody {
    pub error: TemplateErrorDetail,
}

#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct TemplateErrorDetail {
    /// `invalid_template`.
    pub code: String,
    /// The line and the reason together, as the templates page shows them.
    pub message: String,
    /// 1-based line of the template the problem is on, when known.
    pub line: Option<usize>,
    /// The reason without the line. Absent when the request itself was
    /// malformed (then the body is the usual error body).
    pub reason: Option<String>,
}

/// The platform of a path: an unknown one is no resource at all.
fn platform_of(id: &str) -> Result<Platform, ApiError> {
    id.parse().map_err(|_| ApiError::NotFound)
}

async fn load(state: &AppState, user: &ApiUser) -> Result<Vec<InForce>, ApiError> {
    let id = user.id();
    let stored = state
        .db
        .run(move |conn| Ok::<_, DbError>(templates_store::list(conn, &id)?))
        .await?;
    Ok(templates_store::in_force(&stored))
}

// Operation ids are spelled out: the handlers' names (list, delete) are also the
// feeds handlers', and OpenAPI wants every id once.
#[utoipa::path(get, path = "/api/v1/templates", tag = "templates", operation_id = "list_templates",
    responses((status = 200, body = TemplateList), (status = 401, body = super::error::ErrorBody)),
    security(("bearer" = [])))]
#[tracing::instrument(skip_all)]
pub async fn list(
    state: web::Data<AppState>,
    user: ApiUser,
) -> Result<web::Json<TemplateList>, ApiError> {
    let templates = load(&state, &user).await?;
    Ok(web::Json(TemplateList {
        templates: templates.into_iter().map(TemplateOut::from).collect(),
        variables: TEMPLATE_VARIABLES.iter().map(|v| (*v).to_owned()).collect(),
        styles: STYLES
            .iter()
            .map(|s| StyleOut {
                name: s.name.to_owned(),
                label: s.label.to_owned(),
            })
            .collect(),
    }))
}

/// A template save that did not happen, as the API answers it: 422 with the line and
/// reason for a template or variant refused, the database's error otherwise. The account's
/// templates and a feed's own answer alike.
pub(super) fn refused(error: SaveError) -> Result<HttpResponse, ApiError> {
    let (code, line, reason) = match error {
        SaveError::Db(e) => return Err(e.into()),
        SaveError::Invalid(ref e) => ("invalid_template", e.line, e.reason.clone()),
        SaveError::BadVariant => ("invalid", None, error.to_string()),
    };
    Ok(HttpResponse::UnprocessableEntity().json(TemplateErrorBody {
        error: TemplateErrorDetail {
            code: code.into(),
            message: error.to_string(),
            line,
            reason: Some(reason),
        },
    }))
}

#[utoipa::path(put, path = "/api/v1/templates/{platform}/{variant}", tag = "templates", operation_id = "put_template",
    params(
        ("platform" = String, Path, description = "x, mastodon, bluesky, threads, linkedin, instagram or facebook"),
        ("variant" = String, Path, description = "1 to 32 lowercase letters, digits, - or _; `default` for the platform's main template"),
    ),
    request_body = TemplateIn,
    responses(
        (status = 200, description = "saved; in force for the next captions, and the account's captions not used yet (not posted, edited or served) of the last 7 days are rewritten with it", body = TemplateOut),
        (status = 401, body = super::error::ErrorBody),
        (status = 404, description = "unknown platform", body = super::error::ErrorBody),
        (status = 429, description = "more than 30 template saves and previews in a minute for this account (pages and API together); `Retry-After` says when to try again", body = super::error::ErrorBody),
        (status = 422, description = "refused (the saved template stays in force): a bad variant name (`invalid`), or a template that does not compile, uses an unknown variable or fails on a sample post (`invalid_template`, with `line` and `reason`)", body = TemplateErrorBody),
    ),
    security(("bearer" = [])))]
#[tracing::instrument(skip_all)]
pub async fn put(
    state: web::Data<AppState>,
    user: ApiUser,
    path: web::Path<(String, String)>,
    body: web::Json<TemplateIn>,
) -> Result<HttpResponse, ApiError> {
    let (platform, variant) = path.into_inner();
    let platform = platform_of(&platform)?;
    state.template_limiter.check(user.id().as_str())?;
    let id = user.id();
    let (v, source) = (variant.clone(), body.into_inner().source);
    let saved = state
        .db
        .transaction(move |conn| template_edits::save(conn, &id, platform, &v, &source))
        .await;
    if let Err(e) = saved {
        return refused(e);
    }
    let saved = load(&state, &user)
        .await?
        .into_iter()
        .find(|t| t.platform == platform && t.variant == variant)
        .ok_or_else(|| ApiError::internal("a saved template was not found"))?;
    Ok(HttpResponse::Ok().json(TemplateOut::from(saved)))
}

#[utoipa::path(delete, path = "/api/v1/templates/{platform}/{variant}", tag = "templates", operation_id = "delete_template",
    params(
        ("platform" = String, Path, description = "x, mastodon, bluesky, threads, linkedin, instagram or facebook"),
        ("variant" = String, Path, description = "the variant's name"),
    ),
    responses(
        (status = 204, description = "removed: `default` goes back to the built-in template, another variant is gone"),
        (status = 401, body = super::error::ErrorBody),
        (status = 404, description = "unknown platform, or the account has no such template", body = super::error::ErrorBody),
    ),
    security(("bearer" = [])))]
#[tracing::instrument(skip_all)]
pub async fn delete(
    state: web::Data<AppState>,
    user: ApiUser,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (platform, variant) = path.into_inner();
    let platform = platform_of(&platform)?;
    let id = user.id();
    let removed = state
        .db
        .transaction(move |conn| {
            Ok::<_, DbError>(template_edits::delete(conn, &id, platform, &variant)?)
        })
        .await?;
    if removed.is_some() {
        Ok(HttpResponse::NoContent().finish())
    } else {
        Err(ApiError::NotFound)
    }
}
