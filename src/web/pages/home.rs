//! The front page.

use actix_web::http::StatusCode;
use actix_web::{get, web, HttpRequest, HttpResponse};
use askama::Template;

use super::{render, see_other, Layout};
use crate::web::error::WebError;
use crate::web::session::MaybeUser;
use crate::web::AppState;

#[derive(Template)]
#[template(path = "home.html")]
struct HomePage {
    layout: Layout,
}

#[get("/")]
pub async fn home(
    req: HttpRequest,
    state: web::Data<AppState>,
    user: MaybeUser,
) -> Result<HttpResponse, WebError> {
    if user.0.is_some() {
        return Ok(see_other("/captions"));
    }
    render(
        StatusCode::OK,
        &HomePage {
            layout: Layout::new(&req, &state, None),
        },
    )
}
