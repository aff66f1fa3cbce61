//! The JSON API for programs (`/api/v1`), authenticated by personal API tokens.
//! Its OpenAPI document is generated from these handlers and served at
//! `/api/v1/openapi.json`.

mod auth;
mod captions;
pub mod error;
mod feed_settings;
mod feeds;
mod measure;
mod openapi;
mod paging;
mod posts;
mod preview;
pub mod rate_limit;
mod templates;

use actix_web::web;
use chrono::NaiveDateTime;

pub use openapi::ApiDoc;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::scope("/api/v1")
            .app_data(
                web::JsonConfig::default()
                    .limit(256 * 1024)
                    .error_handler(|e, _| {
                        error::ApiError::Invalid(format!(
                            "the request body is not valid JSON for this operation: {e}"
                        ))
                        .into()
                    }),
            )
            .app_data(web::QueryConfig::default().error_handler(|e, _| {
                error::ApiError::Invalid(format!("invalid query parameters: {e}")).into()
            }))
            .app_data(
                web::PathConfig::default()
                    .error_handler(|e, _| error::ApiError::Invalid(e.to_string()).into()),
            )
            .route("/openapi.json", web::get().to(openapi::document))
            .route("/feeds", web::get().to(feeds::list))
            .route("/feeds", web::post().to(feeds::create))
            .route("/feeds/{id}", web::get().to(feeds::show))
            .route("/feeds/{id}", web::delete().to(feeds::delete))
            .route("/feeds/{id}/poll", web::post().to(feeds::poll_now))
            .route(
                "/feeds/{id}/settings",
                web::patch().to(feed_settings::patch),
            )
            .route(
                "/feeds/{id}/templates",
                web::get().to(feed_settings::list_templates),
            )
            .route(
                "/feeds/{id}/templates/{platform}/{variant}",
                web::put().to(feed_settings::put_template),
            )
            .route(
                "/feeds/{id}/templates/{platform}/{variant}",
                web::delete().to(feed_settings::delete_template),
            )
            .route("/captions", web::get().to(captions::list))
            .route("/captions/{id}", web::patch().to(captions::update))
            .route("/posts", web::get().to(posts::list))
            .route("/posts/{id}", web::get().to(posts::show))
            .route("/measure", web::post().to(measure::measure))
            .route("/preview", web::post().to(preview::preview))
            .route("/templates", web::get().to(templates::list))
            .route(
                "/templates/{platform}/{variant}",
                web::put().to(templates::put),
            )
            .route(
                "/templates/{platform}/{variant}",
                web::delete().to(templates::delete),
            )
            .default_service(web::to(|| async {
                Err::<actix_web::HttpResponse, _>(error::ApiError::NotFound)
            })),
    );
}

/// Times in the API: RFC 3339, UTC.
fn rfc3339(at: &NaiveDateTime) -> String {
    at.and_utc()
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}
