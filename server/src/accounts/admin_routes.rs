//! The administrator's pages: list, create, disable, enable, reset a
//! password, reset two-factor (the last three behind a confirmation that
//! names the person and what will happen). An administrator never reads a
//! case, never changes their own account here, and never lifts a freeze.

use askama::Template;
use axum::Form;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use serde::{Deserialize, Serialize};

use super::model::{Role, Roles, UserState, Username};
use super::service;
use crate::error::ServiceError;
use crate::ids::UserId;
use crate::membership::routes::{Confirmation, fill};
use crate::web::AppState;
use crate::web::error::AppError;
use crate::web::guards::{CurrentUser, check_csrf, require_recent};
use crate::web::messages::{self, Messages};
use crate::web::notice;
use crate::web::templates::{FormErrors, Nav};

struct UserLine {
    id: String,
    username: String,
    roles: String,
    state: &'static str,
    disabled: bool,
    frozen: bool,
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
    notice: Option<String>,
    problem: Option<String>,
    username: String,
    role_choices: Vec<(&'static str, &'static str, bool)>,
    errors: FormErrors,
}

pub(crate) fn state_label(state: UserState) -> &'static str {
    match state {
        UserState::Pending => messages::current().state_pending,
        UserState::Active => messages::current().state_active,
        UserState::Disabled => messages::current().state_disabled,
        UserState::Frozen => messages::current().state_frozen,
    }
}

struct View {
    activation: Option<String>,
    notice: Option<String>,
    problem: Option<String>,
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
            problem: None,
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
            roles: e
                .profile
                .roles
                .iter()
                .map(|r| messages::current().role(*r))
                .collect::<Vec<_>>()
                .join(", "),
            state: state_label(e.profile.state),
            disabled: e.profile.state == UserState::Disabled,
            frozen: e.profile.state == UserState::Frozen,
            is_self: e.id == user.actor.user_id(),
        })
        .collect();
    let page = UsersPage {
        t: messages::current(),
        nav: Some(Nav::of(user)),
        nav_csrf: user.csrf.clone(),
        users,
        activation: view.activation,
        notice: view.notice,
        problem: view.problem,
        username: view.username,
        role_choices: Role::ALL
            .iter()
            .map(|r| (r.as_str(), messages::current().role(*r), view.chosen.contains(r)))
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
    let notice = match notice::take::<AdminDone>(&user.session, "/admin/users").await? {
        Some(done) => done.text(&state).await?,
        None => None,
    };
    render_users(&state, &user, View { notice, ..View::default() }).await
}

/// What the users page says once after an action: which, on whom. (A new
/// account's or a reset's activation code is shown in the answer itself:
/// a secret is never kept for later.)
#[derive(Debug, Clone, Serialize, Deserialize)]
struct AdminDone {
    action: String,
    user: UserId,
}

impl AdminDone {
    async fn text(&self, state: &AppState) -> Result<Option<String>, AppError> {
        let name = service::entry(&state.vault, self.user).await?.profile.username;
        let text = match AdminAction::parse(&self.action) {
            Some(AdminAction::Disable) => messages::current().disabled_notice,
            Some(AdminAction::Enable) => messages::current().enabled_notice,
            Some(AdminAction::Reset2fa) => messages::current().reset_2fa_notice,
            Some(AdminAction::ResetPassword) => messages::current().reset_password_notice,
            None => return Ok(None),
        };
        Ok(Some(fill(text, name.as_str())))
    }
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
            let view = View {
                activation: Some(created.activation.expose().to_owned()),
                notice: Some(fill(messages::current().account_created_notice, username.as_str())),
                ..View::default()
            };
            render_users(&state, &user, view).await
        }
        Err(ServiceError::Invalid(e)) => render_users(&state, &user, invalid(e.into(), chosen)).await,
        Err(e) => Err(e.into()),
    }
}

/// What the administrator asks for, parsed from the path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum AdminAction {
    Disable,
    Enable,
    ResetPassword,
    Reset2fa,
}

impl AdminAction {
    fn parse(text: &str) -> Option<AdminAction> {
        match text {
            "disable" => Some(AdminAction::Disable),
            "enable" => Some(AdminAction::Enable),
            "reset-password" => Some(AdminAction::ResetPassword),
            "reset-2fa" => Some(AdminAction::Reset2fa),
            _ => None,
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            AdminAction::Disable => "disable",
            AdminAction::Enable => "enable",
            AdminAction::ResetPassword => "reset-password",
            AdminAction::Reset2fa => "reset-2fa",
        }
    }

    /// (title, what will happen, button) of the confirmation; enabling
    /// needs none.
    fn confirmation(self) -> Option<(&'static str, &'static str, &'static str)> {
        match self {
            AdminAction::Disable => Some((
                messages::current().confirm_disable_title,
                messages::current().confirm_disable_what,
                messages::current().confirm_disable_submit,
            )),
            AdminAction::Enable => None,
            AdminAction::ResetPassword => Some((
                messages::current().confirm_reset_password_title,
                messages::current().confirm_reset_password_what,
                messages::current().confirm_reset_password_submit,
            )),
            AdminAction::Reset2fa => Some((
                messages::current().confirm_reset_2fa_title,
                messages::current().confirm_reset_2fa_what,
                messages::current().confirm_reset_2fa_submit,
            )),
        }
    }
}

/// The users page saying why an action on a frozen account is refused.
async fn frozen_refusal(state: &AppState, user: &CurrentUser, name: &str) -> Result<Response, AppError> {
    let view = View {
        problem: Some(fill(messages::current().admin_frozen_refused, name)),
        status: StatusCode::FORBIDDEN,
        ..View::default()
    };
    render_users(state, user, view).await
}

async fn confirmation(
    state: &AppState,
    user: &CurrentUser,
    action: AdminAction,
    target: UserId,
) -> Result<Response, AppError> {
    let entry = service::entry(&state.vault, target).await?;
    let name = entry.profile.username.as_str();
    if entry.profile.state == UserState::Frozen {
        return frozen_refusal(state, user, name).await;
    }
    let Some((title, what, submit)) = action.confirmation() else { return Err(AppError::NotFound) };
    let path = format!("/admin/users/{target}/{}", action.as_str());
    Confirmation::page(user, fill(title, name), &fill(what, name), path, submit, true, "/admin/users")
}

/// The confirmation of a disable or a reset (after the password again).
pub(crate) async fn confirm_page(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((id, action)): Path<(String, String)>,
) -> Result<Response, AppError> {
    admin_only(&user)?;
    let target = UserId::parse(&id).ok_or(AppError::NotFound)?;
    let action = AdminAction::parse(&action).ok_or(AppError::NotFound)?;
    if let Some(redirect) =
        require_recent(&state, &user, &format!("/admin/users/{target}/{}", action.as_str()))
    {
        return Ok(redirect);
    }
    confirmation(&state, &user, action, target).await
}

#[derive(Deserialize)]
pub struct ActionForm {
    #[serde(default)]
    csrf: String,
    confirm: Option<String>,
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
    let action = AdminAction::parse(&action).ok_or(AppError::NotFound)?;
    if let Some(redirect) =
        require_recent(&state, &user, &format!("/admin/users/{target}/{}", action.as_str()))
    {
        return Ok(redirect);
    }
    if action.confirmation().is_some() && form.confirm.as_deref() != Some("yes") {
        return confirmation(&state, &user, action, target).await;
    }
    let vault = &state.vault;
    let name = service::entry(vault, target).await?.profile.username.as_str().to_owned();
    // Only a reset of the password has something to show once (its code).
    let mut activation = None;
    let done = match action {
        AdminAction::Disable => service::set_disabled(vault, &user.actor, target, true).await,
        AdminAction::Enable => service::set_disabled(vault, &user.actor, target, false).await,
        AdminAction::ResetPassword => service::reset_password(vault, &user.actor, target)
            .await
            .map(|token| activation = Some(token.expose().to_owned())),
        AdminAction::Reset2fa => service::reset_2fa(vault, &user.actor, target).await,
    };
    match done {
        Ok(()) => {
            if action != AdminAction::Enable {
                // The bumped generation already refuses them; this drops the rows.
                state.sessions.delete_owner(target).await?;
            }
            let done = AdminDone { action: action.as_str().to_owned(), user: target };
            match activation {
                // The code is shown in this answer and kept nowhere.
                Some(code) => {
                    let view =
                        View { activation: Some(code), notice: done.text(&state).await?, ..View::default() };
                    render_users(&state, &user, view).await
                }
                None => notice::leave(&user.session, "/admin/users", done).await,
            }
        }
        // Refused by the service, and recorded there: only a coordinator
        // lifts a freeze.
        Err(ServiceError::Forbidden(service::FROZEN)) => frozen_refusal(&state, &user, &name).await,
        Err(e) => Err(e.into()),
    }
}
