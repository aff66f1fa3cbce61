//! CSRF protection for every form.
//!
//! The token is an HMAC of a per-visitor key: the session token once logged in, else
//! a random `cf_csrf` cookie that [`ensure_csrf_cookie`] gives every new visitor. A
//! cross-site page can neither read that key nor compute the HMAC.

use std::future::Future;
use std::pin::Pin;

use actix_web::body::MessageBody;
use actix_web::cookie::{Cookie, SameSite};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::{web, FromRequest, HttpMessage, HttpRequest};
use serde::de::DeserializeOwned;

use super::error::WebError;
use super::session::SESSION_COOKIE;
use super::AppState;
use crate::accounts::sessions::random_token;

pub const CSRF_COOKIE: &str = "cf_csrf";

/// The key of a visitor who arrived without one during this request.
#[derive(Clone)]
struct FreshKey(String);

/// What a form token signs besides the visitor, so no other signed value stands in.
const PURPOSE: &str = "csrf";

fn visitor_key(req: &HttpRequest) -> Option<String> {
    if let Some(c) = req.cookie(SESSION_COOKIE) {
        return Some(c.value().to_string());
    }
    if let Some(c) = req.cookie(CSRF_COOKIE) {
        return Some(c.value().to_string());
    }
    req.extensions().get::<FreshKey>().map(|k| k.0.clone())
}

/// The token to put in the forms of this page.
pub fn token(req: &HttpRequest, state: &AppState) -> String {
    let visitor = visitor_key(req).unwrap_or_default();
    crate::signing::sign(&state.signing_key, PURPOSE, &[&visitor])
}

/// Whether a submitted token belongs to this visitor (compared in constant time).
pub fn verify(req: &HttpRequest, state: &AppState, submitted: &str) -> Result<(), WebError> {
    let visitor = visitor_key(req).ok_or(WebError::Csrf)?;
    if crate::signing::verify(&state.signing_key, PURPOSE, &[&visitor], submitted) {
        Ok(())
    } else {
        Err(WebError::Csrf)
    }
}

/// Middleware: a visitor with neither a session nor a CSRF cookie gets a CSRF cookie.
pub async fn ensure_csrf_cookie(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    // Programs calling the API carry a token, not cookies: they get none.
    let is_api = req.path().starts_with("/api/");
    let fresh =
        if !is_api && req.cookie(SESSION_COOKIE).is_none() && req.cookie(CSRF_COOKIE).is_none() {
            let key = random_token();
            req.extensions_mut().insert(FreshKey(key.clone()));
            Some(key)
        } else {
            None
        };
    let secure = req
        .app_data::<web::Data<AppState>>()
        .map(|s| s.settings.secure_cookies())
        .unwrap_or(false);
    let mut res = next.call(req).await?;
    if let Some(key) = fresh {
        let cookie = Cookie::build(CSRF_COOKIE, key)
            .path("/")
            .http_only(true)
            .secure(secure)
            .same_site(SameSite::Lax)
            .finish();
        res.response_mut().add_cookie(&cookie)?;
    }
    Ok(res)
}

#[derive(serde::Deserialize)]
struct WithToken<T> {
    #[serde(default)]
    csrf_token: String,
    #[serde(flatten)]
    fields: T,
}

/// A urlencoded form whose CSRF token has been checked; the only way handlers read forms.
pub struct CheckedForm<T>(pub T);

impl<T: DeserializeOwned + 'static> FromRequest for CheckedForm<T> {
    type Error = actix_web::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let req = req.clone();
        let form = web::Form::<WithToken<T>>::from_request(&req, payload);
        Box::pin(async move {
            let state = req
                .app_data::<web::Data<AppState>>()
                .ok_or_else(|| WebError::internal("application state missing"))?;
            // Check the token before the fields: a forged request learns nothing from validation.
            let form = form.await.map_err(|_| WebError::Csrf)?.into_inner();
            verify(&req, state, &form.csrf_token)?;
            Ok(CheckedForm(form.fields))
        })
    }
}
