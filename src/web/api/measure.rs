//! `POST /api/v1/measure`: the length of any text as a platform counts it.

use actix_web::web;

use super::auth::ApiUser;
use super::error::ApiError;
use crate::captions::{measure as count, Platform};

#[derive(serde::Deserialize, utoipa::ToSchema)]
pub struct MeasureIn {
    /// x, mastodon, bluesky, threads, linkedin, instagram or facebook.
    #[schema(
        pattern = "^(x|mastodon|bluesky|threads|linkedin|instagram|facebook)$",
        example = "bluesky"
    )]
    pub platform: String,
    pub text: String,
}

#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct MeasureOut {
    pub platform: String,
    pub length: usize,
    pub limit: usize,
    pub fits: bool,
}

#[utoipa::path(post, path = "/api/v1/measure", tag = "captions", request_body = MeasureIn,
    responses(
        (status = 200, body = MeasureOut),
        (status = 401, body = super::error::ErrorBody),
        (status = 422, description = "unknown platform or bad body", body = super::error::ErrorBody),
    ),
    security(("bearer" = [])))]
pub async fn measure(
    _user: ApiUser,
    body: web::Json<MeasureIn>,
) -> Result<web::Json<MeasureOut>, ApiError> {
    let platform: Platform = body
        .platform
        .parse()
        .map_err(|e: crate::captions::UnknownPlatform| ApiError::Invalid(e.to_string()))?;
    let length = count(platform, &body.text);
    Ok(web::Json(MeasureOut {
        platform: platform.id().into(),
        length,
        limit: platform.limit(),
        fits: length <= platform.limit(),
    }))
}
