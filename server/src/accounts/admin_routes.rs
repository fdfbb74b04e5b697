//! The administrator's pages: list, create, disable, enable, reset a
//! password, reset two-factor. An administrator never reads a case and
//! never changes their own account here.

use askama::Template;
use axum::Form;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use serde::Deserialize;

use super::model::{Role, Roles, UserState, Username};
use super::service;
use crate::error::ServiceError;
use crate::ids::UserId;
use crate::web::AppState;
use crate::web::error::AppError;
use crate::web::guards::{CurrentUser, check_csrf, require_recent};
use crate::web::messages::{EN, Messages};
use crate::web::templates::{FormErrors, Nav};

struct UserLine {
    id: String,
    username: String,
    roles: String,
    state: &'static str,
    disabled: bool,
    is_self: bool,
}

#[derive(Template)]
#[template(path = "admin/users.html")]
struct UsersPage {
    t: &'static Messages,
    nav: Option<Nav>,
    nav_csrf: String,
    users: Vec<UserLine>,
    activation: Option<String>,
    notice: Option<&'static str>,
    username: String,
    role_choices: Vec<(&'static str, &'static str, bool)>,
    errors: FormErrors,
}

fn role_label(role: Role) -> &'static str {
    match role {
        Role::Admin => EN.role_admin,
        Role::Coordinator => EN.role_coordinator,
        Role::Caseworker => EN.role_caseworker,
        Role::Communications => EN.role_communications,
        Role::Auditor => EN.role_auditor,
    }
}

fn state_label(state: UserState) -> &'static str {
    match state {
        UserState::Pending => EN.state_pending,
        UserState::Active => EN.state_active,
        UserState::Disabled => EN.state_disabled,
        UserState::Frozen => EN.state_frozen,
    }
}

struct View {
    activation: Option<String>,
    notice: Option<&'static str>,
    username: String,
    chosen: Roles,
    errors: FormErrors,
    status: StatusCode,
}

impl Default for View {
    fn default() -> Self {
        View {
            activation: None,
            notice: None,
            username: String::new(),
            chosen: Roles::new(),
            errors: FormErrors::default(),
            status: StatusCode::OK,
        }
    }
}

async fn render_users(state: &AppState, user: &CurrentUser, view: View) -> Result<Response, AppError> {
    let entries = service::list(&state.vault, &user.actor).await?;
    let users = entries
        .iter()
        .map(|e| UserLine {
            id: e.id.to_string(),
            username: e.profile.username.as_str().to_owned(),
            roles: e.profile.roles.iter().map(|r| role_label(*r)).collect::<Vec<_>>().join(", "),
            state: state_label(e.profile.state),
            disabled: e.profile.state == UserState::Disabled,
            is_self: e.id == user.actor.user_id(),
        })
        .collect();
    let page = UsersPage {
        t: &EN,
        nav: Some(Nav::of(user)),
        nav_csrf: user.csrf.clone(),
        users,
        activation: view.activation,
        notice: view.notice,
        username: view.username,
        role_choices: Role::ALL
            .iter()
            .map(|r| (r.as_str(), role_label(*r), view.chosen.contains(r)))
            .collect(),
        errors: view.errors,
    };
    Ok((view.status, Html(page.render()?)).into_response())
}

fn admin_only(user: &CurrentUser) -> Result<(), AppError> {
    if user.actor.has(Role::Admin) { Ok(()) } else { Err(AppError::Forbidden) }
}

pub(crate) async fn users_page(
    State(state): State<AppState>,
    user: CurrentUser,
) -> Result<Response, AppError> {
    admin_only(&user)?;
    render_users(&state, &user, View::default()).await
}

#[derive(Deserialize)]
pub struct CreateForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    username: String,
    role_admin: Option<String>,
    role_coordinator: Option<String>,
    role_caseworker: Option<String>,
    role_communications: Option<String>,
    role_auditor: Option<String>,
}

impl CreateForm {
    fn roles(&self) -> Roles {
        let mut roles = Roles::new();
        for (flag, role) in [
            (&self.role_admin, Role::Admin),
            (&self.role_coordinator, Role::Coordinator),
            (&self.role_caseworker, Role::Caseworker),
            (&self.role_communications, Role::Communications),
            (&self.role_auditor, Role::Auditor),
        ] {
            if flag.is_some() {
                roles.insert(role);
            }
        }
        roles
    }
}

pub(crate) async fn create_user(
    State(state): State<AppState>,
    user: CurrentUser,
    Form(form): Form<CreateForm>,
) -> Result<Response, AppError> {
    admin_only(&user)?;
    check_csrf(&user, &form.csrf)?;
    // Giving roles is a sensitive action: the password again first.
    if let Some(redirect) = require_recent(&state, &user, "/admin/users") {
        return Ok(redirect);
    }
    let chosen = form.roles();
    let typed: String = form.username.chars().take(64).collect();
    let invalid = |errors: FormErrors, chosen: Roles| View {
        username: typed.clone(),
        chosen,
        errors,
        status: StatusCode::UNPROCESSABLE_ENTITY,
        ..View::default()
    };
    let username = match Username::parse(&form.username) {
        Ok(u) => u,
        Err(e) => return render_users(&state, &user, invalid(e.into(), chosen)).await,
    };
    match service::create_account(&state.vault, &user.actor, &username, chosen.clone()).await {
        Ok(created) => {
            let view = View { activation: Some(created.activation.expose().to_owned()), ..View::default() };
            render_users(&state, &user, view).await
        }
        Err(ServiceError::Invalid(e)) => render_users(&state, &user, invalid(e.into(), chosen)).await,
        Err(e) => Err(e.into()),
    }
}

#[derive(Deserialize)]
pub struct ActionForm {
    #[serde(default)]
    csrf: String,
}

pub(crate) async fn user_action(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((id, action)): Path<(String, String)>,
    Form(form): Form<ActionForm>,
) -> Result<Response, AppError> {
    admin_only(&user)?;
    check_csrf(&user, &form.csrf)?;
    let target = UserId::parse(&id).ok_or(AppError::NotFound)?;
    if matches!(action.as_str(), "reset-password" | "reset-2fa") {
        if let Some(redirect) = require_recent(&state, &user, "/admin/users") {
            return Ok(redirect);
        }
    }
    let vault = &state.vault;
    let view = match action.as_str() {
        "disable" => {
            service::set_disabled(vault, &user.actor, target, true).await?;
            state.sessions.delete_owner(target).await?;
            View { notice: Some(EN.done), ..View::default() }
        }
        "enable" => {
            service::set_disabled(vault, &user.actor, target, false).await?;
            View { notice: Some(EN.done), ..View::default() }
        }
        "reset-password" => {
            let token = service::reset_password(vault, &user.actor, target).await?;
            state.sessions.delete_owner(target).await?;
            View { activation: Some(token.expose().to_owned()), ..View::default() }
        }
        "reset-2fa" => {
            service::reset_2fa(vault, &user.actor, target).await?;
            state.sessions.delete_owner(target).await?;
            View { notice: Some(EN.done), ..View::default() }
        }
        _ => return Err(AppError::NotFound),
    };
    render_users(&state, &user, view).await
}
