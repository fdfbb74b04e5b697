//! The purge pages (coordinators): the closed cases with when each may be
//! purged, and per case a confirmation page that names the case, says the
//! purge cannot be undone, and offers either the purge itself (past the
//! retention period, or confirming another coordinator's request) or a
//! request for a second coordinator.

use askama::Template;
use axum::Form;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use serde::{Deserialize, Serialize};

use super::service::{self, Candidate};
use crate::error::ServiceError;
use crate::ids::CaseId;
use crate::web::AppState;
use crate::web::error::AppError;
use crate::web::guards::{CurrentUser, check_csrf};
use crate::web::messages::{self, Messages};
use crate::web::notice;
use crate::web::templates::{FormErrors, Nav};
use crate::web::when;

/// What the list says once after an action, by case id.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
enum PurgeDone {
    Purged(CaseId),
    Requested(CaseId),
}

pub struct Line {
    pub id: String,
    pub aliases: String,
    pub closed: String,
    pub due: bool,
    pub due_on: String,
}

#[derive(Template)]
#[template(path = "purge/list.html")]
struct ListPage {
    t: &'static Messages,
    nav: Option<Nav>,
    notice: Option<String>,
    retention_days: u16,
    lines: Vec<Line>,
}

#[derive(Template)]
#[template(path = "purge/confirm.html")]
struct ConfirmPage {
    t: &'static Messages,
    nav: Option<Nav>,
    csrf: String,
    id: String,
    aliases: String,
    closed: String,
    due_on: String,
    retention_days: u16,
    /// What the page offers: the purge now, or a request.
    can_purge: bool,
    /// Why not, when a request is waiting: the user's own, or lapsed.
    own_request: bool,
    lapsed_request: bool,
    /// Another coordinator's live request, which this purge confirms.
    confirming: bool,
    version: i64,
    understood: bool,
    errors: FormErrors,
}

#[derive(Default, Deserialize)]
pub struct PurgeForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    version: String,
    #[serde(default)]
    understood: String,
}

fn parse_case_id(text: &str) -> Result<CaseId, AppError> {
    CaseId::parse(text).ok_or(AppError::NotFound)
}

fn aliases_of(aliases: &[String]) -> String {
    aliases.join(", ")
}

pub(crate) async fn list(State(state): State<AppState>, user: CurrentUser) -> Result<Response, AppError> {
    let done = notice::take::<PurgeDone>(&user.session, "/purge").await?;
    let notice = done.map(|d| match d {
        PurgeDone::Purged(id) => messages::current().purge_done_notice.replace("{case}", &id.to_string()),
        PurgeDone::Requested(id) => {
            messages::current().purge_requested_notice.replace("{case}", &id.to_string())
        }
    });
    let zone = user.zone();
    let retention = time::Duration::days(i64::from(state.vault.purge_retention_days));
    let lines = service::closed(&state.vault, &user.actor)
        .await?
        .into_iter()
        .map(|(id, aliases, closed_at, due)| Line {
            id: id.to_string(),
            aliases: aliases_of(&aliases),
            closed: when::day(closed_at, zone),
            due,
            due_on: when::day(closed_at + retention, zone),
        })
        .collect();
    let page = ListPage {
        t: messages::current(),
        nav: Some(Nav::of(&user)),
        notice,
        retention_days: state.vault.purge_retention_days,
        lines,
    };
    Ok(Html(page.render()?).into_response())
}

fn confirm_page(
    state: &AppState,
    user: &CurrentUser,
    c: &Candidate,
    understood: bool,
    errors: FormErrors,
    status: StatusCode,
) -> Result<Response, AppError> {
    let zone = user.zone();
    let live = c.request.filter(|r| !r.lapsed);
    let confirming = live.is_some_and(|r| !r.by_me);
    let page = ConfirmPage {
        t: messages::current(),
        nav: Some(Nav::of(user)),
        csrf: user.csrf.clone(),
        id: c.case_id.to_string(),
        aliases: aliases_of(&c.aliases),
        closed: when::day(c.closed_at, zone),
        due_on: when::day(c.due_at, zone),
        retention_days: state.vault.purge_retention_days,
        can_purge: c.due || confirming,
        own_request: !c.due && live.is_some_and(|r| r.by_me),
        lapsed_request: !c.due && c.request.is_some_and(|r| r.lapsed),
        confirming: !c.due && confirming,
        version: c.version,
        understood,
        errors,
    };
    Ok((status, Html(page.render()?)).into_response())
}

pub(crate) async fn page(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let id = parse_case_id(&id)?;
    let c = service::candidate_of(&state.vault, &user.actor, id).await.map_err(not_closed_is_404)?;
    confirm_page(&state, &user, &c, false, FormErrors::default(), StatusCode::OK)
}

/// An open case has no purge page: as for any case the page cannot serve.
fn not_closed_is_404(e: ServiceError) -> ServiceError {
    match e {
        ServiceError::Invalid(_) => ServiceError::NotFound,
        other => other,
    }
}

/// After a refusal: the page again, as the case stands now, with the
/// problem named and the tick kept.
async fn refused(
    state: &AppState,
    user: &CurrentUser,
    id: CaseId,
    understood: bool,
    errors: FormErrors,
    status: StatusCode,
) -> Result<Response, AppError> {
    let c = service::candidate_of(&state.vault, &user.actor, id).await.map_err(not_closed_is_404)?;
    confirm_page(state, user, &c, understood, errors, status)
}

fn parse_version(form: &PurgeForm) -> Result<i64, AppError> {
    form.version.trim().parse::<i64>().map_err(|_| AppError::BadRequest)
}

pub(crate) async fn purge(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    Form(form): Form<PurgeForm>,
) -> Result<Response, AppError> {
    check_csrf(&user, &form.csrf)?;
    let id = parse_case_id(&id)?;
    let version = parse_version(&form)?;
    let understood = form.understood == "yes";
    match service::purge(&state.vault, &user.actor, id, version, understood).await {
        Ok(()) => notice::leave(&user.session, "/purge", PurgeDone::Purged(id)).await,
        Err(e) => after_refusal(&state, &user, id, understood, e).await,
    }
}

pub(crate) async fn request(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    Form(form): Form<PurgeForm>,
) -> Result<Response, AppError> {
    check_csrf(&user, &form.csrf)?;
    let id = parse_case_id(&id)?;
    let version = parse_version(&form)?;
    match service::request(&state.vault, &user.actor, id, version).await {
        Ok(()) => notice::leave(&user.session, "/purge", PurgeDone::Requested(id)).await,
        Err(e) => after_refusal(&state, &user, id, false, e).await,
    }
}

async fn after_refusal(
    state: &AppState,
    user: &CurrentUser,
    id: CaseId,
    understood: bool,
    e: ServiceError,
) -> Result<Response, AppError> {
    match e {
        ServiceError::Invalid(e) => {
            refused(state, user, id, understood, e.into(), StatusCode::UNPROCESSABLE_ENTITY).await
        }
        ServiceError::Conflict => {
            let errors = FormErrors::from(crate::cases::model::FieldError {
                field: "case",
                message: messages::current().purge_changed.to_owned(),
            });
            refused(state, user, id, understood, errors, StatusCode::CONFLICT).await
        }
        other => Err(other.into()),
    }
}
