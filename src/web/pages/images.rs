//! `GET /posts/{id}/image`: a post's stored image, for accounts that follow its feed.

use actix_web::http::header;
use actix_web::{get, web, HttpResponse};

use crate::feeds::PostId;
use crate::images::{extension, image_for_account};
use crate::web::error::WebError;
use crate::web::session::CurrentUser;
use crate::web::AppState;

#[derive(serde::Deserialize, Default)]
#[serde(default)]
pub struct ImageQuery {
    /// `?download=1` saves the file instead of showing it (Instagram wants a file).
    download: Option<String>,
}

#[get("/posts/{id}/image")]
pub async fn show(
    state: web::Data<AppState>,
    user: CurrentUser,
    path: web::Path<String>,
    query: web::Query<ImageQuery>,
) -> Result<HttpResponse, WebError> {
    let (id, post_id) = (user.id(), PostId(path.into_inner()));
    let name = post_id.clone();
    let image = state
        .db
        .run(move |conn| Ok::<_, crate::db::DbError>(image_for_account(conn, &id, &post_id)?))
        .await?
        .ok_or(WebError::NotFound)?;
    let mut response = HttpResponse::Ok();
    response
        .insert_header((header::CONTENT_TYPE, image.content_type.as_str()))
        // Private: it is served only to followers of the feed.
        .insert_header((header::CACHE_CONTROL, "private, max-age=86400"))
        // The bytes come from a blog: whatever they are, they run nothing here.
        .insert_header((
            header::CONTENT_SECURITY_POLICY,
            "default-src 'none'; sandbox",
        ));
    if query
        .download
        .as_deref()
        .is_some_and(|d| !d.is_empty() && d != "0")
    {
        // The post id is hex: safe in the header as it is.
        response.insert_header((
            header::CONTENT_DISPOSITION,
            format!(
                "attachment; filename=\"post-{name}.{}\"",
                extension(&image.content_type)
            ),
        ));
    }
    Ok(response.body(image.data))
}
