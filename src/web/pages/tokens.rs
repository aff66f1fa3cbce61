//! Personal API tokens: create (shown once), list, revoke.

use actix_web::http::StatusCode;
use actix_web::{get, post, web, HttpRequest, HttpResponse};
use askama::Template;

use super::{
    format_optional_time, format_time, render, see_other, see_other_if_found, sentence, Layout,
};
use crate::accounts::{feed_keys, tokens, AccountError};
use crate::billing::Feature;
use crate::web::csrf::CheckedForm;
use crate::web::error::WebError;
use crate::web::session::CurrentUser;
use crate::web::AppState;

pub struct TokenRow {
    pub id: String,
    pub name: String,
    pub created: String,
    pub last_used: String,
}

#[derive(Template)]
#[template(path = "tokens.html")]
struct TokensPage {
    layout: Layout,
    tokens: Vec<TokenRow>,
    new_secret: Option<String>,
    error: Option<String>,
    base_url: String,
    /// The private caption feed URLs without their format suffix.
    caption_feed_base: String,
}

async fn page(
    req: &HttpRequest,
    state: &AppState,
    user: &CurrentUser,
    status: StatusCode,
    new_secret: Option<String>,
    error: Option<String>,
) -> Result<HttpResponse, WebError> {
    let id = user.id();
    let (tokens, feed_key) = state
        .db
        .run(move |conn| {
            Ok::<_, AccountError>((
                tokens::list(conn, &id)?,
                feed_keys::get_or_create(conn, &id)?,
            ))
        })
        .await?;
    let base_url = state
        .settings
        .base_url
        .as_str()
        .trim_end_matches('/')
        .to_string();
    let tokens = tokens
        .into_iter()
        .map(|t| TokenRow {
            id: t.id,
            name: t.name,
            created: format_time(&t.created_at),
            last_used: format_optional_time(&t.last_used_at),
        })
        .collect();
    let page = TokensPage {
        layout: Layout::new(req, state, Some(&user.user)),
        tokens,
        new_secret,
        error,
        caption_feed_base: format!("{base_url}/caption-feeds/{feed_key}"),
        base_url,
    };
    render(status, &page)
}

#[get("/settings/tokens")]
pub async fn list(
    req: HttpRequest,
    state: web::Data<AppState>,
    user: CurrentUser,
) -> Result<HttpResponse, WebError> {
    page(&req, &state, &user, StatusCode::OK, None, None).await
}

#[derive(serde::Deserialize, Default)]
#[serde(default)]
pub struct NewToken {
    name: String,
}

#[post("/settings/tokens")]
pub async fn create(
    req: HttpRequest,
    state: web::Data<AppState>,
    user: CurrentUser,
    form: CheckedForm<NewToken>,
) -> Result<HttpResponse, WebError> {
    if let Err(refused) = super::billing::require(&state, &user, Feature::Api).await? {
        return page(
            &req,
            &state,
            &user,
            StatusCode::FORBIDDEN,
            None,
            Some(refused.sentence()),
        )
        .await;
    }
    let id = user.id();
    let name = form.0.name;
    match state
        .db
        .run(move |conn| tokens::create(conn, &id, &name))
        .await
    {
        // Shown in this answer only; the table keeps its hash.
        Ok((_, secret)) => page(&req, &state, &user, StatusCode::CREATED, Some(secret), None).await,
        Err(AccountError::Invalid(message)) => {
            page(
                &req,
                &state,
                &user,
                StatusCode::UNPROCESSABLE_ENTITY,
                None,
                Some(sentence(&message)),
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}

#[post("/settings/tokens/{id}/revoke")]
pub async fn revoke(
    state: web::Data<AppState>,
    user: CurrentUser,
    path: web::Path<String>,
    _form: CheckedForm<super::auth::NoFields>,
) -> Result<HttpResponse, WebError> {
    let (id, token_id) = (user.id(), path.into_inner());
    let found = state
        .db
        .run(move |conn| tokens::revoke(conn, &id, &token_id))
        .await?;
    see_other_if_found(found, "/settings/tokens")
}

#[post("/settings/caption-feeds/rotate")]
pub async fn rotate_caption_feeds(
    state: web::Data<AppState>,
    user: CurrentUser,
    _form: CheckedForm<super::auth::NoFields>,
) -> Result<HttpResponse, WebError> {
    let id = user.id();
    state
        .db
        .run(move |conn| feed_keys::rotate(conn, &id))
        .await?;
    Ok(see_other("/settings/tokens"))
}
