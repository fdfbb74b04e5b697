//! The coordinator's certification page: compare a fingerprint heard from
//! the person, certify, and the grants waiting for them are issued.

use askama::Template;
use axum::Form;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use serde::Deserialize;

use crate::accounts::model::Role;
use crate::error::ServiceError;
use crate::ids::UserId;
use crate::web::AppState;
use crate::web::error::AppError;
use crate::web::guards::{CurrentUser, check_csrf, require_recent};
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

// ---------------------------------------------------------------------------
// The team page: freeze and unfreeze (a detained caseworker, a lost laptop)
// ---------------------------------------------------------------------------

struct Member {
    id: String,
    username: String,
    roles: String,
    frozen: bool,
    is_self: bool,
}

#[derive(Template)]
#[template(path = "membership/team.html")]
struct TeamPage {
    t: &'static Messages,
    nav: Option<Nav>,
    nav_csrf: String,
    members: Vec<Member>,
    notice: Option<&'static str>,
}

async fn team_view(
    state: &AppState,
    user: &CurrentUser,
    notice: Option<&'static str>,
) -> Result<Response, AppError> {
    let entries = crate::accounts::service::list(&state.vault, &user.actor).await?;
    let members = entries
        .into_iter()
        .filter(|e| {
            matches!(
                e.profile.state,
                crate::accounts::model::UserState::Active | crate::accounts::model::UserState::Frozen
            )
        })
        .map(|e| Member {
            id: e.id.to_string(),
            username: e.profile.username.as_str().to_owned(),
            roles: e.profile.roles.iter().map(|r| r.as_str()).collect::<Vec<_>>().join(", "),
            frozen: e.profile.state == crate::accounts::model::UserState::Frozen,
            is_self: e.id == user.actor.user_id(),
        })
        .collect();
    let page = TeamPage { t: &EN, nav: Some(Nav::of(user)), nav_csrf: user.csrf.clone(), members, notice };
    Ok(Html(page.render()?).into_response())
}

pub(crate) async fn team_page(
    State(state): State<AppState>,
    user: CurrentUser,
) -> Result<Response, AppError> {
    team_view(&state, &user, None).await
}

#[derive(Deserialize)]
pub struct FreezeForm {
    #[serde(default)]
    csrf: String,
}

/// Freeze: sessions end, grants and certification go, the account is
/// disabled, in one action; only a coordinator lifts it.
pub(crate) async fn team_action(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((id, action)): Path<(String, String)>,
    Form(form): Form<FreezeForm>,
) -> Result<Response, AppError> {
    check_csrf(&user, &form.csrf)?;
    if let Some(redirect) = require_recent(&state, &user, "/team") {
        return Ok(redirect);
    }
    let target = UserId::parse(&id).ok_or(AppError::NotFound)?;
    match action.as_str() {
        "freeze" => {
            super::freeze(&state.vault, &user.actor, target).await?;
            state.sessions.delete_owner(target).await?;
            team_view(&state, &user, Some(EN.frozen_notice)).await
        }
        "unfreeze" => {
            super::unfreeze(&state.vault, &user.actor, target).await?;
            team_view(&state, &user, Some(EN.unfrozen_notice)).await
        }
        _ => Err(AppError::NotFound),
    }
}
