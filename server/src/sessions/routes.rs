//! The coordinator's lockdown button (with confirmation and the password
//! again). Lifting is for the command line only.

use askama::Template;
use axum::Form;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use serde::Deserialize;

use crate::accounts::model::Role;
use crate::cases::model::FieldError;
use crate::web::AppState;
use crate::web::error::AppError;
use crate::web::guards::{CurrentUser, check_csrf, require_recent};
use crate::web::messages::{self, Messages};
use crate::web::templates::{FormErrors, Nav};

#[derive(Template)]
#[template(path = "sessions/lockdown.html")]
struct LockdownPage {
    t: &'static Messages,
    nav: Option<Nav>,
    nav_csrf: String,
    errors: FormErrors,
}

pub(crate) async fn page(State(state): State<AppState>, user: CurrentUser) -> Result<Response, AppError> {
    if !user.actor.has(Role::Coordinator) {
        return Err(AppError::Forbidden);
    }
    if let Some(redirect) = require_recent(&state, &user, "/lockdown") {
        return Ok(redirect);
    }
    let page = LockdownPage {
        t: messages::current(),
        nav: Some(Nav::of(&user)),
        nav_csrf: user.csrf.clone(),
        errors: FormErrors::default(),
    };
    Ok(Html(page.render()?).into_response())
}

#[derive(Deserialize)]
pub struct LockdownForm {
    #[serde(default)]
    csrf: String,
    confirm: Option<String>,
}

pub(crate) async fn engage(
    State(state): State<AppState>,
    user: CurrentUser,
    Form(form): Form<LockdownForm>,
) -> Result<Response, AppError> {
    if !user.actor.has(Role::Coordinator) {
        return Err(AppError::Forbidden);
    }
    check_csrf(&user, &form.csrf)?;
    if let Some(redirect) = require_recent(&state, &user, "/lockdown") {
        return Ok(redirect);
    }
    if form.confirm.as_deref() != Some("yes") {
        let errors = FormErrors::from(FieldError {
            field: "confirm",
            message: messages::current().lockdown_confirm.into(),
        });
        let page = LockdownPage {
            t: messages::current(),
            nav: Some(Nav::of(&user)),
            nav_csrf: user.csrf.clone(),
            errors,
        };
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, Html(page.render()?)).into_response());
    }
    super::service::lock_down(&state.vault, &state.sessions, Some(&user.actor)).await?;
    // Every session is gone, this one too: the login page says what happened.
    let mut response = Redirect::to("/login?ended=lockdown").into_response();
    response
        .headers_mut()
        .insert(header::HeaderName::from_static("clear-site-data"), HeaderValue::from_static("\"cookies\""));
    Ok(response)
}
