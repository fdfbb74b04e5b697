//! The coordinator's certification page: compare a fingerprint heard from
//! the person, certify, and the grants waiting for them are issued.

use askama::Template;
use axum::Form;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use serde::Deserialize;

use crate::accounts::model::Role;
use crate::accounts::routes::{check_csrf, require_recent};
use crate::error::ServiceError;
use crate::ids::UserId;
use crate::sessions::CurrentUser;
use crate::web::AppState;
use crate::web::error::AppError;
use crate::web::messages::{EN, Messages};
use crate::web::templates::Nav;

struct WaitingLine {
    id: String,
    username: String,
    cases: usize,
    typed: String,
    error: Option<String>,
}

#[derive(Template)]
#[template(path = "membership/certify.html")]
struct CertifyPage {
    t: &'static Messages,
    nav: Option<Nav>,
    nav_csrf: String,
    waiting: Vec<WaitingLine>,
    notice: Option<&'static str>,
}

pub(crate) async fn render(
    state: &AppState,
    user: &CurrentUser,
    notice: Option<&'static str>,
    problem: Option<(UserId, String, String)>,
    status: StatusCode,
) -> Result<Response, AppError> {
    let waiting = super::waiting_for_certification(&state.vault, &user.actor).await?;
    let waiting = waiting
        .into_iter()
        .map(|w| {
            let (typed, error) = match &problem {
                Some((id, typed, error)) if *id == w.user_id => (typed.clone(), Some(error.clone())),
                _ => (String::new(), None),
            };
            WaitingLine {
                id: w.user_id.to_string(),
                username: w.username,
                cases: w.waiting_cases.len(),
                typed,
                error,
            }
        })
        .collect();
    let page = CertifyPage { t: &EN, nav: Some(Nav::of(user)), nav_csrf: user.csrf.clone(), waiting, notice };
    Ok((status, Html(page.render()?)).into_response())
}

pub(crate) async fn certify_page(
    State(state): State<AppState>,
    user: CurrentUser,
) -> Result<Response, AppError> {
    if !user.actor.has(Role::Coordinator) {
        return Err(AppError::Forbidden);
    }
    if let Some(redirect) = require_recent(&state, &user, "/certify") {
        return Ok(redirect);
    }
    render(&state, &user, None, None, StatusCode::OK).await
}

#[derive(Deserialize)]
pub struct CertifyForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    fingerprint: String,
}

pub(crate) async fn certify_submit(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    Form(form): Form<CertifyForm>,
) -> Result<Response, AppError> {
    if !user.actor.has(Role::Coordinator) {
        return Err(AppError::Forbidden);
    }
    check_csrf(&user, &form.csrf)?;
    if let Some(redirect) = require_recent(&state, &user, "/certify") {
        return Ok(redirect);
    }
    let target = UserId::parse(&id).ok_or(AppError::NotFound)?;
    match super::certify(&state.vault, &user.actor, target, &form.fingerprint).await {
        Ok(()) => render(&state, &user, Some(EN.certified), None, StatusCode::OK).await,
        Err(ServiceError::Invalid(e)) => {
            let typed: String = form.fingerprint.chars().take(40).collect();
            render(&state, &user, None, Some((target, typed, e.message)), StatusCode::UNPROCESSABLE_ENTITY)
                .await
        }
        Err(e) => Err(e.into()),
    }
}
