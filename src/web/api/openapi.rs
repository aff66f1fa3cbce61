//! The OpenAPI 3 document, generated from the handlers' annotations.

use actix_web::HttpResponse;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

#[derive(OpenApi)]
#[openapi(
    info(title = "captionfeed API", description = "Feeds in, ready-to-post captions out. Authenticate with a personal API token: `Authorization: Bearer cf_...`."),
    paths(
        super::feeds::list,
        super::feeds::create,
        super::feeds::show,
        super::feeds::delete,
        super::feeds::poll_now,
        super::feed_settings::patch,
        super::feed_settings::list_templates,
        super::feed_settings::put_template,
        super::feed_settings::delete_template,
        super::captions::list,
        super::captions::update,
        super::posts::list,
        super::posts::show,
        super::measure::measure,
        super::preview::preview,
        super::templates::list,
        super::templates::put,
        super::templates::delete,
    ),
    components(schemas(
        super::error::ErrorBody,
        super::error::ErrorDetail,
        super::feeds::FeedOut,
        super::feeds::NewFeed,
        super::feed_settings::FeedSettingsOut,
        super::feed_settings::HashtagsOut,
        super::feed_settings::HashtagCapsOut,
        super::feed_settings::FeedSettingsPatch,
        super::feed_settings::HashtagsPatch,
        super::feed_settings::FeedTemplateOut,
        super::feed_settings::FeedTemplateList,
        super::captions::CaptionOut,
        super::captions::PostOut,
        super::captions::CaptionPage,
        super::captions::CaptionPatch,
        super::posts::PostSummary,
        super::posts::PostPage,
        super::posts::PostWithCaptions,
        super::measure::MeasureIn,
        super::measure::MeasureOut,
        super::preview::PreviewIn,
        super::preview::PreviewOut,
        super::preview::PreviewPostOut,
        super::preview::PreviewCaptionOut,
        super::templates::TemplateOut,
        super::templates::TemplateList,
        super::templates::StyleOut,
        super::templates::TemplateIn,
        super::templates::TemplateErrorBody,
        super::templates::TemplateErrorDetail,
    )),
    modifiers(&BearerAuth),
)]
pub struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

pub async fn document() -> HttpResponse {
    HttpResponse::Ok().json(ApiDoc::openapi())
}
