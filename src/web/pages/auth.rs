//! Sign up, log in, log out.

use actix_web::http::StatusCode;
use actix_web::{get, post, web, HttpRequest, HttpResponse};
use askama::Template;

use super::{render, see_other, Layout};
use crate::accounts::signup::{sign_up, SignedUp};
use crate::accounts::validate::{Email, Password, MIN_PASSWORD_CHARS};
use crate::accounts::{password, sessions, throttle, users, AccountError};
use crate::db::now;
use crate::feeds::address::parse_feed_url;
use crate::subscriptions::follow::{FollowError, SameBlog};
use crate::web::csrf::CheckedForm;
use crate::web::error::WebError;
use crate::web::session::{expired_session_cookie, session_cookie, MaybeUser, SESSION_COOKIE};
use crate::web::AppState;

#[derive(Template)]
#[template(path = "signup.html")]
struct SignupPage {
    layout: Layout,
    email: String,
    error: Option<String>,
    min_password: usize,
    /// A feed tried on the front page, followed as soon as the account exists.
    feed: Option<String>,
}

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    layout: Layout,
    email: String,
    error: Option<String>,
    notice: Option<&'static str>,
}

#[derive(serde::Deserialize, Default)]
#[serde(default)]
pub struct Credentials {
    email: String,
    password: String,
}

#[derive(serde::Deserialize, Default)]
#[serde(default)]
pub struct SignupForm {
    email: String,
    password: String,
    /// Carried from the front page's preview; checked again like any typed address.
    feed: String,
}

#[derive(serde::Deserialize, Default)]
#[serde(default)]
pub struct SignupQuery {
    feed: String,
}

fn non_empty(s: String) -> Option<String> {
    Some(s.trim().to_string()).filter(|s| !s.is_empty())
}

#[get("/signup")]
pub async fn signup_form(
    req: HttpRequest,
    state: web::Data<AppState>,
    user: MaybeUser,
    query: web::Query<SignupQuery>,
) -> Result<HttpResponse, WebError> {
    if user.0.is_some() {
        return Ok(see_other("/captions"));
    }
    let page = SignupPage {
        layout: Layout::new(&req, &state, None),
        email: String::new(),
        error: None,
        min_password: MIN_PASSWORD_CHARS,
        feed: non_empty(query.into_inner().feed),
    };
    render(StatusCode::OK, &page)
}

#[post("/signup")]
pub async fn signup(
    req: HttpRequest,
    state: web::Data<AppState>,
    form: CheckedForm<SignupForm>,
) -> Result<HttpResponse, WebError> {
    let SignupForm {
        email,
        password: raw_password,
        feed,
    } = form.0;
    let feed = non_empty(feed);
    let refuse = |status, error: String, feed: Option<String>| {
        let page = SignupPage {
            layout: Layout::new(&req, &state, None),
            email: email.clone(),
            error: Some(error),
            min_password: MIN_PASSWORD_CHARS,
            feed,
        };
        render(status, &page)
    };
    // Before the account exists, so a refused address costs the person nothing.
    if let Some(raw) = &feed {
        if let Err(message) = parse_feed_url(raw, &state.settings.address_policy()) {
            return refuse(
                StatusCode::UNPROCESSABLE_ENTITY,
                format!("The feed cannot be followed: {message} Sign up without it, then add your feed."),
                None,
            );
        }
    }
    let db = state.db.clone();
    let email_for_db = email.clone();
    let base_url = state.settings.base_url.clone();
    let key = state.signing_key.clone();
    let checked = match (Email::parse(&email_for_db), Password::parse(&raw_password)) {
        (Ok(email), Ok(password)) => password::hash_blocking(password)
            .await
            .map(|hash| (email, hash)),
        (Err(e), _) | (_, Err(e)) => Err(e),
    };
    // One transaction: the mail is queued if and only if the account is made (or found).
    let signed_up = match checked {
        Err(e) => Err(e),
        Ok((email, hash)) => {
            db.transaction(move |conn| sign_up(conn, &base_url, &key, &email, &hash, now()))
                .await
        }
    };
    match signed_up {
        Ok(done) => {
            state
                .account_mail
                .send_soon(done.mail().into_iter().collect());
            if let (SignedUp::Created { user, .. }, Some(feed)) = (done, feed) {
                // In the background: fetching the feed would make a new address's answer
                // slower than a known one's. The person signs in later anyway.
                let state = state.clone();
                actix_web::rt::spawn(async move {
                    match state.follow().feed(&user, &feed, SameBlog::Refuse).await {
                        Ok(_) => {}
                        Err(FollowError::Db(e)) => {
                            tracing::error!(error = %e, "following the tried feed after sign-up failed");
                        }
                        Err(_) => {
                            tracing::info!("the feed tried before sign-up could not be followed");
                        }
                    }
                });
            }
            Ok(see_other("/signup/check-inbox"))
        }
        Err(AccountError::Db(e)) => Err(e.into()),
        Err(e) => refuse(
            StatusCode::UNPROCESSABLE_ENTITY,
            super::sentence(&e.to_string()),
            feed,
        ),
    }
}

#[derive(Template)]
#[template(path = "signup_sent.html")]
struct SignupSentPage {
    layout: Layout,
}

/// The one answer to every accepted sign-up, new address or not.
#[get("/signup/check-inbox")]
pub async fn signup_sent(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, WebError> {
    render(
        StatusCode::OK,
        &SignupSentPage {
            layout: Layout::new(&req, &state, None),
        },
    )
}

#[derive(serde::Deserialize, Default)]
#[serde(default)]
pub struct LoginQuery {
    /// Set by a password reset that went through.
    reset: Option<String>,
}

#[get("/login")]
pub async fn login_form(
    req: HttpRequest,
    state: web::Data<AppState>,
    user: MaybeUser,
    query: web::Query<LoginQuery>,
) -> Result<HttpResponse, WebError> {
    if user.0.is_some() {
        return Ok(see_other("/captions"));
    }
    render(
        StatusCode::OK,
        &LoginPage {
            layout: Layout::new(&req, &state, None),
            email: String::new(),
            error: None,
            notice: query.reset.is_some().then_some(
                "Your new password is set, and every session was signed out. Sign in with the new password.",
            ),
        },
    )
}

#[post("/login")]
pub async fn login(
    req: HttpRequest,
    state: web::Data<AppState>,
    form: CheckedForm<Credentials>,
) -> Result<HttpResponse, WebError> {
    let Credentials {
        email,
        password: raw_password,
    } = form.0;
    let client = crate::web::client::address(&req);
    let result = log_in(&state, &email, raw_password, &client).await;
    match result {
        Ok(token) => Ok(logged_in(token, state.settings.secure_cookies())),
        Err(AccountError::Db(e)) => Err(e.into()),
        Err(e) => {
            let status = match e {
                AccountError::TooManyAttempts(_) => StatusCode::TOO_MANY_REQUESTS,
                _ => StatusCode::UNAUTHORIZED,
            };
            let page = LoginPage {
                layout: Layout::new(&req, &state, None),
                email,
                error: Some(super::sentence(&e.to_string())),
                notice: None,
            };
            let mut response = render(status, &page)?;
            if let AccountError::TooManyAttempts(wait) = e {
                response.headers_mut().insert(
                    actix_web::http::header::RETRY_AFTER,
                    actix_web::http::header::HeaderValue::from(throttle::retry_after_seconds(wait)),
                );
            }
            Ok(response)
        }
    }
}

/// A new session for the account these credentials open. Every failure is the same
/// answer after the same amount of hashing work, and the hashing holds no database
/// connection.
///
/// Every try is counted for the address typed and for the client before the password is
/// checked ([`throttle::begin_attempt`]); a right password takes the count back.
async fn log_in(
    state: &AppState,
    email: &str,
    password: String,
    client: &str,
) -> Result<String, AccountError> {
    let parsed = Email::parse(email).ok();
    let account_key = throttle::account_key(
        &parsed
            .as_ref()
            .map_or_else(|| email.trim().to_lowercase(), |e| e.as_str().to_string()),
    );
    let client_key = throttle::client_key(client);
    let keys = (account_key.clone(), client_key.clone());
    let (refused, user) = state
        .db
        .run(move |conn| {
            let (account, client) = &keys;
            let refused = throttle::begin_attempt(
                conn,
                &[
                    (account, throttle::PER_ACCOUNT),
                    (client, throttle::PER_CLIENT),
                ],
                now(),
            )?;
            let user = match (&refused, &parsed) {
                (None, Some(email)) => users::find_by_email(conn, email)?,
                _ => None,
            };
            Ok::<_, AccountError>((refused, user))
        })
        .await?;
    if let Some(wait) = refused {
        return Err(AccountError::TooManyAttempts(wait));
    }
    // Without an account this does the decoy verification, so the time is the same.
    let verified =
        password::verify_blocking(password, user.as_ref().map(|u| u.password_hash.clone())).await;
    match user {
        Some(user) if verified => {
            state
                .db
                .run(move |conn| {
                    throttle::clear(conn, &account_key)?;
                    throttle::forgive(conn, &client_key)?;
                    sessions::create(conn, &user.id)
                })
                .await
        }
        _ => Err(AccountError::BadCredentials),
    }
}

#[derive(serde::Deserialize, Default)]
pub struct NoFields {}

#[post("/logout")]
pub async fn logout(
    req: HttpRequest,
    state: web::Data<AppState>,
    _form: CheckedForm<NoFields>,
) -> Result<HttpResponse, WebError> {
    if let Some(token) = req.cookie(SESSION_COOKIE).map(|c| c.value().to_string()) {
        state
            .db
            .run(move |conn| sessions::delete(conn, &token))
            .await?;
    }
    let mut response = see_other("/login");
    response
        .add_cookie(&expired_session_cookie(state.settings.secure_cookies()))
        .map_err(|e| WebError::Internal(e.into()))?;
    Ok(response)
}

fn logged_in(token: String, secure: bool) -> HttpResponse {
    logged_in_to(token, secure, "/captions")
}

fn logged_in_to(token: String, secure: bool, location: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((actix_web::http::header::LOCATION, location))
        .cookie(session_cookie(token, secure))
        .finish()
}
