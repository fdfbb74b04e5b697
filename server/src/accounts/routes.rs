//! Login, logout and the start page.

use std::net::SocketAddr;

use askama::Template;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use serde::Deserialize;
use tower_sessions::Session;

use super::login::{self, LoginError};
use crate::audit::Action;
use crate::sessions::auth::{AUTH_KEY, AuthState, CSRF_KEY, CurrentUser};
use crate::web::AppState;
use crate::web::error::AppError;
use crate::web::messages::{EN, Messages};
use crate::web::templates::Nav;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(home))
        .route("/login", get(login_page).post(login_submit))
        .route("/logout", post(logout))
}

#[derive(Template)]
#[template(path = "accounts/login.html")]
struct LoginPage {
    t: &'static Messages,
    nav: Option<Nav>,
    username: String,
    problem: Option<&'static str>,
    notice: Option<&'static str>,
}

fn render(template: &impl Template) -> Result<Html<String>, AppError> {
    Ok(Html(template.render()?))
}

async fn login_page() -> Result<Response, AppError> {
    let page = LoginPage { t: &EN, nav: None, username: String::new(), problem: None, notice: None };
    Ok(render(&page)?.into_response())
}

#[derive(Deserialize)]
pub struct LoginForm {
    username: String,
    password: String,
    #[serde(default)]
    code: String,
}

impl std::fmt::Debug for LoginForm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("LoginForm(<redacted>)")
    }
}

/// A random token for this session's forms.
fn new_csrf() -> String {
    crate::audit::model::new_request_id()
}

async fn login_submit(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    session: Session,
    Form(form): Form<LoginForm>,
) -> Result<Response, AppError> {
    let failed =
        |problem: &'static str, status: StatusCode, username: String| -> Result<Response, AppError> {
            let page = LoginPage { t: &EN, nav: None, username, problem: Some(problem), notice: None };
            Ok((status, render(&page)?).into_response())
        };
    // Keep what was typed, within reason; never the password or the code.
    let typed: String = form.username.chars().take(64).collect();
    match login::login(&state.vault, &form.username, &form.password, &form.code, peer.ip()).await {
        Ok(done) => {
            let now = state.vault.clock.now().unix_timestamp();
            // A fresh session id at login: a planted id is worthless.
            session.cycle_id().await?;
            let auth = AuthState {
                user_id: done.actor.user_id(),
                key_no: done.actor.key_no(),
                generation: done.generation,
                epoch: done.lockdown_epoch,
                created_at: now,
                last_seen: now,
                authenticated_at: now,
                enrolling: done.needs_enrolment,
                failed_codes: done.failed_codes,
            };
            session.insert(AUTH_KEY, &auth).await?;
            session.insert(CSRF_KEY, new_csrf()).await?;
            session.save().await?;
            let id = session.id().ok_or_else(|| AppError::Internal("session without id".into()))?;
            state.sessions.attach(&id, done.actor.user_id(), done.actor.identity()).await?;
            let next = if done.needs_enrolment { "/enrol" } else { "/" };
            Ok(Redirect::to(next).into_response())
        }
        Err(LoginError::Failed) => failed(EN.login_failed, StatusCode::OK, typed),
        Err(LoginError::Throttled { retry_after }) => {
            let mut response = failed(EN.login_throttled, StatusCode::TOO_MANY_REQUESTS, typed)?;
            if let Ok(value) = HeaderValue::from_str(&retry_after.to_string()) {
                response.headers_mut().insert(header::RETRY_AFTER, value);
            }
            Ok(response)
        }
        Err(LoginError::LockedDown) => failed(EN.login_locked_down, StatusCode::SERVICE_UNAVAILABLE, typed),
        Err(LoginError::Internal(e)) => Err(e.into()),
    }
}

#[derive(Template)]
#[template(path = "home.html")]
struct HomePage {
    t: &'static Messages,
    nav: Option<Nav>,
    failed_codes: i64,
}

async fn home(user: CurrentUser) -> Result<Response, AppError> {
    let failed_codes = user.auth.failed_codes;
    if failed_codes > 0 {
        // Shown once.
        let mut auth = user.auth.clone();
        auth.failed_codes = 0;
        user.session.insert(AUTH_KEY, &auth).await?;
    }
    let page = HomePage { t: &EN, nav: Some(Nav::of(&user)), failed_codes };
    Ok(render(&page)?.into_response())
}

#[derive(Deserialize)]
pub struct CsrfForm {
    #[serde(default)]
    csrf: String,
}

/// Compare a form's token with the session's, in constant time.
pub fn check_csrf(user: &CurrentUser, token: &str) -> Result<(), AppError> {
    if crate::crypto::mac_verify_tag(user.csrf.as_bytes(), token.as_bytes()) {
        Ok(())
    } else {
        Err(AppError::CrossSite)
    }
}

/// The cookie that removes ours. tower-sessions' own removal cookie lacks
/// `Secure`, which a browser requires to touch a `__Host-` cookie.
fn removal_cookie() -> HeaderValue {
    HeaderValue::from_static(
        "__Host-safehouse=; Path=/; Secure; HttpOnly; SameSite=Strict; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT",
    )
}

async fn logout(
    State(state): State<AppState>,
    user: CurrentUser,
    Form(form): Form<CsrfForm>,
) -> Result<Response, AppError> {
    check_csrf(&user, &form.csrf)?;
    let event = user.actor.event(Action::Logout).on(user.actor.user_id());
    user.session.flush().await?;
    state.vault.record(&event, crate::audit::Outcome::Ok).await?;
    let mut response = Redirect::to("/login").into_response();
    response
        .headers_mut()
        .insert(header::HeaderName::from_static("clear-site-data"), HeaderValue::from_static("\"cookies\""));
    response.headers_mut().append(header::SET_COOKIE, removal_cookie());
    Ok(response)
}
