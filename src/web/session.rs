//! Who is logged in: the session cookie, looked up in the database on each request.

use std::future::Future;
use std::pin::Pin;

use actix_web::cookie::{time::Duration as CookieDuration, Cookie, SameSite};
use actix_web::dev::Payload;
use actix_web::{web, FromRequest, HttpRequest};

use super::error::WebError;
use super::AppState;
use crate::accounts::{sessions, AccountError, User, UserId};

pub const SESSION_COOKIE: &str = "cf_session";

/// The logged-in user; handlers that take it answer "log in first" to anyone else.
pub struct CurrentUser {
    pub user: User,
}

impl CurrentUser {
    pub fn id(&self) -> UserId {
        self.user.user_id()
    }
}

/// The logged-in user, if any (for pages that anyone may see).
pub struct MaybeUser(pub Option<User>);

async fn lookup(req: HttpRequest) -> Result<Option<User>, WebError> {
    let Some(token) = req.cookie(SESSION_COOKIE).map(|c| c.value().to_string()) else {
        return Ok(None);
    };
    let state = req
        .app_data::<web::Data<AppState>>()
        .ok_or_else(|| WebError::internal("application state missing"))?;
    state
        .db
        .run(move |conn| sessions::user_for_token(conn, &token))
        .await
        .map_err(|e: AccountError| WebError::Internal(e.into()))
}

impl FromRequest for CurrentUser {
    type Error = WebError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            lookup(req)
                .await?
                .map(|user| CurrentUser { user })
                .ok_or(WebError::LoginRequired)
        })
    }
}

impl FromRequest for MaybeUser {
    type Error = WebError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move { Ok(MaybeUser(lookup(req).await?)) })
    }
}

/// The cookie that carries a new session.
pub fn session_cookie(token: String, secure: bool) -> Cookie<'static> {
    Cookie::build(SESSION_COOKIE, token)
        .path("/")
        .http_only(true)
        .secure(secure)
        .same_site(SameSite::Lax)
        .max_age(CookieDuration::days(sessions::SESSION_DAYS))
        .finish()
}

/// The cookie that removes the session from the browser.
pub fn expired_session_cookie(secure: bool) -> Cookie<'static> {
    let mut cookie = session_cookie(String::new(), secure);
    cookie.make_removal();
    cookie
}
