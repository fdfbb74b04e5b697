//! The coordinator's certification page (compare a fingerprint heard from
//! the person, certify, and the grants waiting for them are issued; then
//! offer the team admission their role calls for) and the team page
//! (freeze, lift a freeze, admit, remove), each action behind a
//! confirmation that names the person and what will happen.

use askama::Template;
use axum::Form;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use serde::{Deserialize, Serialize};

use crate::accounts::model::{Role, UserState};
use crate::error::ServiceError;
use crate::ids::UserId;
use crate::keyring::Team;
use crate::web::AppState;
use crate::web::error::AppError;
use crate::web::guards::{CurrentUser, check_csrf, require_recent};
use crate::web::messages::{self, Messages};
use crate::web::notice;
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
    notice: Option<String>,
    /// Right after a certification: the admissions this person's roles call
    /// for, as (link to the confirmation, label).
    admit_offers: Vec<(String, String)>,
}

pub(crate) async fn render(
    state: &AppState,
    user: &CurrentUser,
    notice: Option<String>,
    admit_offers: Vec<(String, String)>,
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
    let page = CertifyPage {
        t: messages::current(),
        nav: Some(Nav::of(user)),
        nav_csrf: user.csrf.clone(),
        waiting,
        notice,
        admit_offers,
    };
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
    let (notice, offers) = match notice::take::<Certified>(&user.session, "/certify").await? {
        Some(done) => certified_notice(&state, done.user).await?,
        None => (None, Vec::new()),
    };
    render(&state, &user, notice, offers, None, StatusCode::OK).await
}

/// What the certification page says once after a certification: whose key.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
struct Certified {
    user: UserId,
}

/// The notice naming the person certified, and the admissions their roles
/// call for.
async fn certified_notice(
    state: &AppState,
    target: UserId,
) -> Result<(Option<String>, Vec<(String, String)>), AppError> {
    let entry = crate::accounts::service::entry(&state.vault, target).await?;
    let name = entry.profile.username.as_str();
    let mut offers = Vec::new();
    for team in Team::ALL {
        if entry.profile.roles.contains(&super::team_role(team))
            && !super::is_member(&state.vault, team, target).await?
        {
            let label = match team {
                Team::Coordinators => messages::current().admit_offer_coordinators,
                Team::Communications => messages::current().admit_offer_communications,
            };
            offers.push((format!("/team/{target}/admit-{}", team.as_str()), fill(label, name)));
        }
    }
    Ok((Some(fill(messages::current().certified_notice, name)), offers))
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
        Ok(()) => notice::leave(&user.session, "/certify", Certified { user: target }).await,
        Err(ServiceError::Invalid(e)) => {
            let typed: String = form.fingerprint.chars().take(40).collect();
            let problem = Some((target, typed, e.message));
            render(&state, &user, None, Vec::new(), problem, StatusCode::UNPROCESSABLE_ENTITY).await
        }
        Err(e) => Err(e.into()),
    }
}

/// A catalogue text with the person's username put in.
pub(crate) fn fill(text: &str, username: &str) -> String {
    text.replace("{user}", username)
}

// ---------------------------------------------------------------------------
// The team page: every account with its state and teams; freeze, lift a
// freeze, admit, remove
// ---------------------------------------------------------------------------

struct Member {
    id: String,
    username: String,
    roles: String,
    state: &'static str,
    teams: String,
    /// (action in the path, label, destructive)
    actions: Vec<(&'static str, &'static str, bool)>,
}

#[derive(Template)]
#[template(path = "membership/team.html")]
struct TeamPage {
    t: &'static Messages,
    nav: Option<Nav>,
    members: Vec<Member>,
    notice: Option<String>,
    problem: Option<String>,
}

fn team_label(team: Team) -> &'static str {
    match team {
        Team::Coordinators => messages::current().team_coordinators,
        Team::Communications => messages::current().team_communications,
    }
}

async fn team_view(
    state: &AppState,
    user: &CurrentUser,
    notice: Option<String>,
    problem: Option<String>,
    status: StatusCode,
) -> Result<Response, AppError> {
    let roster = super::roster(&state.vault, &user.actor).await?;
    let members = roster
        .into_iter()
        .map(|m| {
            let mut actions = Vec::new();
            if m.user_id != user.actor.user_id() {
                actions.push(if m.state == UserState::Frozen {
                    (TeamAction::Unfreeze.as_str(), messages::current().unfreeze, false)
                } else {
                    (TeamAction::Freeze.as_str(), messages::current().freeze, true)
                });
            }
            for team in Team::ALL {
                if m.teams.contains(&team) {
                    actions.push((TeamAction::Remove(team).as_str(), TeamAction::Remove(team).label(), true));
                } else if m.admissible.contains(&team) {
                    actions.push((TeamAction::Admit(team).as_str(), TeamAction::Admit(team).label(), false));
                }
            }
            let teams = m.teams.iter().map(|t| team_label(*t)).collect::<Vec<_>>().join(", ");
            Member {
                id: m.user_id.to_string(),
                username: m.username,
                roles: m.roles.iter().map(|r| messages::current().role(*r)).collect::<Vec<_>>().join(", "),
                state: crate::accounts::admin_routes::state_label(m.state),
                teams: if teams.is_empty() { messages::current().team_none.to_owned() } else { teams },
                actions,
            }
        })
        .collect();
    let page = TeamPage { t: messages::current(), nav: Some(Nav::of(user)), members, notice, problem };
    Ok((status, Html(page.render()?)).into_response())
}

pub(crate) async fn team_page(
    State(state): State<AppState>,
    user: CurrentUser,
) -> Result<Response, AppError> {
    let notice = match notice::take::<TeamDone>(&user.session, "/team").await? {
        Some(done) => done.text(&state).await?,
        None => None,
    };
    team_view(&state, &user, notice, None, StatusCode::OK).await
}

/// What the team page says once after an action: which, on whom, and for
/// a freeze how many case grants went.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct TeamDone {
    action: String,
    user: UserId,
    grants: usize,
}

impl TeamDone {
    async fn text(&self, state: &AppState) -> Result<Option<String>, AppError> {
        let Some(action) = TeamAction::parse(&self.action) else { return Ok(None) };
        let entry = crate::accounts::service::entry(&state.vault, self.user).await?;
        let name = entry.profile.username.as_str();
        Ok(Some(match action {
            TeamAction::Freeze => {
                let text = if self.grants == 1 {
                    messages::current().frozen_notice_one
                } else {
                    messages::current().frozen_notice_many
                };
                fill(text, name).replace("{grants}", &self.grants.to_string())
            }
            TeamAction::Unfreeze => fill(messages::current().unfrozen_notice_named, name),
            TeamAction::Admit(Team::Coordinators) => {
                fill(messages::current().admitted_coordinators_notice, name)
            }
            TeamAction::Admit(Team::Communications) => {
                fill(messages::current().admitted_communications_notice, name)
            }
            TeamAction::Remove(Team::Coordinators) => {
                fill(messages::current().removed_coordinators_notice, name)
            }
            TeamAction::Remove(Team::Communications) => {
                fill(messages::current().removed_communications_notice, name)
            }
        }))
    }
}

/// What a team page link or form asks for, parsed from the path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TeamAction {
    Freeze,
    Unfreeze,
    Admit(Team),
    Remove(Team),
}

impl TeamAction {
    fn parse(text: &str) -> Option<TeamAction> {
        let team = |name: &str| Team::ALL.into_iter().find(|t| t.as_str() == name);
        match text {
            "freeze" => Some(TeamAction::Freeze),
            "unfreeze" => Some(TeamAction::Unfreeze),
            _ => match text.split_once('-') {
                Some(("admit", name)) => team(name).map(TeamAction::Admit),
                Some(("remove", name)) => team(name).map(TeamAction::Remove),
                _ => None,
            },
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            TeamAction::Freeze => "freeze",
            TeamAction::Unfreeze => "unfreeze",
            TeamAction::Admit(Team::Coordinators) => "admit-coordinators",
            TeamAction::Admit(Team::Communications) => "admit-communications",
            TeamAction::Remove(Team::Coordinators) => "remove-coordinators",
            TeamAction::Remove(Team::Communications) => "remove-communications",
        }
    }

    fn label(self) -> &'static str {
        match self {
            TeamAction::Freeze => messages::current().freeze,
            TeamAction::Unfreeze => messages::current().unfreeze,
            TeamAction::Admit(Team::Coordinators) => messages::current().admit_coordinators,
            TeamAction::Admit(Team::Communications) => messages::current().admit_communications,
            TeamAction::Remove(Team::Coordinators) => messages::current().remove_coordinators,
            TeamAction::Remove(Team::Communications) => messages::current().remove_communications,
        }
    }

    /// (title, what will happen, button, destructive), before `{user}` is put in.
    fn confirmation(self) -> (&'static str, &'static str, &'static str, bool) {
        match self {
            TeamAction::Freeze => (
                messages::current().confirm_freeze_title,
                messages::current().confirm_freeze_what,
                messages::current().confirm_freeze_submit,
                true,
            ),
            TeamAction::Unfreeze => (
                messages::current().confirm_unfreeze_title,
                messages::current().confirm_unfreeze_what,
                messages::current().confirm_unfreeze_submit,
                false,
            ),
            TeamAction::Admit(Team::Coordinators) => (
                messages::current().confirm_admit_coordinators_title,
                messages::current().confirm_admit_coordinators_what,
                messages::current().confirm_admit_submit,
                false,
            ),
            TeamAction::Admit(Team::Communications) => (
                messages::current().confirm_admit_communications_title,
                messages::current().confirm_admit_communications_what,
                messages::current().confirm_admit_submit,
                false,
            ),
            TeamAction::Remove(Team::Coordinators) => (
                messages::current().confirm_remove_coordinators_title,
                messages::current().confirm_remove_coordinators_what,
                messages::current().confirm_remove_submit,
                true,
            ),
            TeamAction::Remove(Team::Communications) => (
                messages::current().confirm_remove_communications_title,
                messages::current().confirm_remove_communications_what,
                messages::current().confirm_remove_submit,
                true,
            ),
        }
    }
}

/// A confirmation step: names the person and what will happen, and sends
/// the same path again with `confirm=yes`. Shared with the administrator's
/// page.
#[derive(Template)]
#[template(path = "membership/confirm.html")]
pub(crate) struct Confirmation {
    pub t: &'static Messages,
    pub nav: Option<Nav>,
    pub nav_csrf: String,
    pub title: String,
    pub points: Vec<String>,
    pub action: String,
    pub submit: &'static str,
    pub danger: bool,
    pub back: &'static str,
}

impl Confirmation {
    pub(crate) fn page(
        user: &CurrentUser,
        title: String,
        what: &str,
        action: String,
        submit: &'static str,
        danger: bool,
        back: &'static str,
    ) -> Result<Response, AppError> {
        let page = Confirmation {
            t: messages::current(),
            nav: Some(Nav::of(user)),
            nav_csrf: user.csrf.clone(),
            title,
            points: what.split('|').map(str::to_owned).collect(),
            action,
            submit,
            danger,
            back,
        };
        Ok(Html(page.render()?).into_response())
    }
}

#[derive(Deserialize)]
pub struct TeamForm {
    #[serde(default)]
    csrf: String,
    confirm: Option<String>,
}

/// The target of a team action, by name, with what may be done to it; a
/// refusal is the team page with its reason (nothing changed).
async fn refusal(
    state: &AppState,
    user: &CurrentUser,
    action: TeamAction,
    target: UserId,
) -> Result<Option<String>, AppError> {
    let entry = crate::accounts::service::entry(&state.vault, target).await?;
    let name = entry.profile.username.as_str();
    let problem = match action {
        TeamAction::Freeze if target == user.actor.user_id() => {
            Some(messages::current().freeze_self_refused.to_owned())
        }
        TeamAction::Freeze => None,
        // Nothing to lift: back to the page, which shows the state.
        TeamAction::Unfreeze if entry.profile.state != UserState::Frozen => return Err(AppError::NotFound),
        TeamAction::Unfreeze => None,
        TeamAction::Admit(team) => {
            let admissible = super::can_admit(&state.vault, &user.actor, team, target).await?;
            (!admissible).then(|| fill(messages::current().admit_refused, name))
        }
        TeamAction::Remove(team) => {
            if !super::is_member(&state.vault, team, target).await? {
                return Err(AppError::NotFound);
            }
            let last = team == Team::Coordinators
                && target == user.actor.user_id()
                && super::members(&state.vault, team).await?.len() <= 1;
            last.then(|| fill(messages::current().last_coordinator_refused, name))
        }
    };
    Ok(problem)
}

/// The confirmation of a team action (after the password again).
pub(crate) async fn team_confirm(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((id, action)): Path<(String, String)>,
) -> Result<Response, AppError> {
    let target = UserId::parse(&id).ok_or(AppError::NotFound)?;
    let action = TeamAction::parse(&action).ok_or(AppError::NotFound)?;
    if let Some(redirect) = require_recent(&state, &user, &format!("/team/{target}/{}", action.as_str())) {
        return Ok(redirect);
    }
    confirm_view(&state, &user, action, target).await
}

async fn confirm_view(
    state: &AppState,
    user: &CurrentUser,
    action: TeamAction,
    target: UserId,
) -> Result<Response, AppError> {
    // Only a member of the coordinators team is shown anything here.
    super::coordinators_identity(&state.vault, &user.actor).await?;
    if let Some(problem) = refusal(state, user, action, target).await? {
        return team_view(state, user, None, Some(problem), StatusCode::FORBIDDEN).await;
    }
    let entry = crate::accounts::service::entry(&state.vault, target).await?;
    let name = entry.profile.username.as_str();
    let (title, what, submit, danger) = action.confirmation();
    let mut what = fill(what, name);
    if action == TeamAction::Freeze {
        let took = super::freeze_preview(&state.vault, &user.actor, target).await?;
        what = what
            .replace("{grants}", &took.grants.to_string())
            .replace("{teams}", &took.teams.to_string())
            .replace("{waiting}", &took.waiting.to_string());
    }
    let path = format!("/team/{target}/{}", action.as_str());
    Confirmation::page(user, fill(title, name), &what, path, submit, danger, "/team")
}

/// Do a team action once confirmed. Freeze: sessions end, grants and
/// certification go, the account is disabled, in one action; only a
/// coordinator lifts it. Admission and removal change one wrap of a team key.
pub(crate) async fn team_action(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((id, action)): Path<(String, String)>,
    Form(form): Form<TeamForm>,
) -> Result<Response, AppError> {
    check_csrf(&user, &form.csrf)?;
    let target = UserId::parse(&id).ok_or(AppError::NotFound)?;
    let action = TeamAction::parse(&action).ok_or(AppError::NotFound)?;
    if let Some(redirect) = require_recent(&state, &user, &format!("/team/{target}/{}", action.as_str())) {
        return Ok(redirect);
    }
    if form.confirm.as_deref() != Some("yes") {
        return confirm_view(&state, &user, action, target).await;
    }
    let name =
        crate::accounts::service::entry(&state.vault, target).await?.profile.username.as_str().to_owned();
    match run(&state, &user, action, target).await {
        Ok(done) => {
            if action == TeamAction::Freeze {
                // The bumped generation already refuses them; this drops the rows.
                state.sessions.delete_owner(target).await?;
            }
            notice::leave(&user.session, "/team", done).await
        }
        // Refused by the service (and recorded there): the page says why,
        // and nothing changed.
        Err(ServiceError::Forbidden(super::FREEZE_SELF)) => {
            team_view(
                &state,
                &user,
                None,
                Some(messages::current().freeze_self_refused.to_owned()),
                StatusCode::FORBIDDEN,
            )
            .await
        }
        Err(ServiceError::Forbidden(super::LAST_COORDINATOR)) => {
            let problem = fill(messages::current().last_coordinator_refused, &name);
            team_view(&state, &user, None, Some(problem), StatusCode::FORBIDDEN).await
        }
        Err(ServiceError::Forbidden(super::WRONG_TEAM) | ServiceError::Uncertified)
            if matches!(action, TeamAction::Admit(_)) =>
        {
            let problem = fill(messages::current().admit_refused, &name);
            team_view(&state, &user, None, Some(problem), StatusCode::FORBIDDEN).await
        }
        Err(e) => Err(e.into()),
    }
}

/// Run a confirmed action; what it did, for the notice that names its
/// object and what changed.
async fn run(
    state: &AppState,
    user: &CurrentUser,
    action: TeamAction,
    target: UserId,
) -> Result<TeamDone, ServiceError> {
    let vault = &state.vault;
    let mut grants = 0;
    match action {
        TeamAction::Freeze => grants = super::freeze(vault, &user.actor, target).await?.grants,
        TeamAction::Unfreeze => super::unfreeze(vault, &user.actor, target).await?,
        TeamAction::Admit(team) => super::admit(vault, &user.actor, team, target).await?,
        TeamAction::Remove(team) => super::remove(vault, &user.actor, team, target).await?,
    }
    Ok(TeamDone { action: action.as_str().to_owned(), user: target, grants })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn team_actions_parse_back_from_their_paths() {
        for action in [
            TeamAction::Freeze,
            TeamAction::Unfreeze,
            TeamAction::Admit(Team::Coordinators),
            TeamAction::Admit(Team::Communications),
            TeamAction::Remove(Team::Coordinators),
            TeamAction::Remove(Team::Communications),
        ] {
            assert_eq!(TeamAction::parse(action.as_str()), Some(action));
        }
        for bad in ["", "admit", "admit-", "admit-admins", "remove-x", "disable", "freeze-coordinators"] {
            assert_eq!(TeamAction::parse(bad), None, "{bad}");
        }
    }
}
