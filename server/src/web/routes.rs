//! Every route, in one table: method, path, who may use it, and its
//! handler. The router is built from this table and nothing else, and the
//! permission test walks the same table, so no route can escape either.

use axum::Router;
use axum::extract::{Request, State};
use axum::http::Method;
use axum::middleware::{Next, from_fn_with_state};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, get, post};

use super::AppState;
use super::error::AppError;
use super::guards::{Checked, CurrentUser, EnrollingUser};
use crate::accounts::{admin_routes as admin, routes as account};
use crate::audit::{Action, Outcome};
use crate::cases::routes as cases;
use crate::figures::routes as figures;
use crate::policy::{ADMIN, AUDITOR, Access, CASEWORK, FLAGS, PUBLICATIONS, Standing};
use crate::programmes::aid::routes as aid;
use crate::{membership, sessions};

pub struct Route {
    pub method: Method,
    pub path: &'static str,
    pub access: Access,
    pub handler: MethodRouter<AppState>,
}

fn route(method: Method, path: &'static str, access: Access, handler: MethodRouter<AppState>) -> Route {
    Route { method, path, access, handler }
}

pub fn table() -> Vec<Route> {
    use crate::programmes::report::routes as report;
    use Access::{Authenticated, CoordinatorsTeam as Team, Enrolling, Public};
    let (g, p) = (Method::GET, Method::POST);
    vec![
        route(g.clone(), "/health", Public, get(super::health)),
        route(g.clone(), "/static/app.css", Public, get(super::stylesheet)),
        route(g.clone(), "/login", Public, get(account::login_page)),
        route(p.clone(), "/login", Public, post(account::login_submit)),
        route(g.clone(), "/activate", Public, get(account::activate_page)),
        route(p.clone(), "/activate", Public, post(account::activate_submit)),
        route(g.clone(), "/recover", Public, get(account::recover_page)),
        route(p.clone(), "/recover", Public, post(account::recover_submit)),
        route(g.clone(), "/enrol", Enrolling, get(account::enrol_page)),
        route(p.clone(), "/enrol", Enrolling, post(account::enrol_submit)),
        route(g.clone(), "/", Authenticated, get(crate::dashboard::routes::home)),
        route(g.clone(), "/account", Authenticated, get(account::account_page)),
        route(p.clone(), "/account/password", Authenticated, post(account::change_password)),
        route(p.clone(), "/account/zone", Authenticated, post(account::set_zone)),
        route(p.clone(), "/account/language", Authenticated, post(account::set_language)),
        route(g.clone(), "/reauth", Authenticated, get(account::reauth_page)),
        route(p.clone(), "/reauth", Authenticated, post(account::reauth_submit)),
        route(g.clone(), "/cases", CASEWORK, get(cases::list)),
        route(g.clone(), "/cases/new", CASEWORK, get(cases::new_case)),
        route(p.clone(), "/cases", CASEWORK, post(cases::create)),
        route(g.clone(), "/cases/{id}", CASEWORK, get(cases::show)),
        route(g.clone(), "/cases/{id}/edit", CASEWORK, get(cases::edit)),
        route(p.clone(), "/cases/{id}", CASEWORK, post(cases::update)),
        route(p.clone(), "/cases/{id}/milestones", CASEWORK, post(cases::add_milestone)),
        route(g.clone(), "/cases/{id}/milestones/{mid}/edit", CASEWORK, get(cases::edit_milestone)),
        route(p.clone(), "/cases/{id}/milestones/{mid}", CASEWORK, post(cases::update_milestone)),
        route(p.clone(), "/cases/{id}/{action}", Team, post(cases::assignment)),
        route(g.clone(), "/shelters", Team, get(crate::shelters::routes::page)),
        route(p.clone(), "/shelters", Team, post(crate::shelters::routes::add)),
        route(g.clone(), "/shelters/{id}/edit", Team, get(crate::shelters::routes::edit)),
        route(p.clone(), "/shelters/{id}", Team, post(crate::shelters::routes::save)),
        route(g.clone(), "/audit", Access::AnyOf(AUDITOR), get(crate::audit::routes::trail)),
        route(g.clone(), "/audit/export.csv", Access::AnyOf(AUDITOR), get(crate::audit::routes::export)),
        route(p.clone(), "/audit/verify", Access::AnyOf(AUDITOR), post(crate::audit::routes::verify)),
        route(g.clone(), "/audit/flags", FLAGS, get(crate::audit::routes::flags)),
        route(g.clone(), "/admin/users", Access::AnyOf(ADMIN), get(admin::users_page)),
        route(p.clone(), "/admin/users", Access::AnyOf(ADMIN), post(admin::create_user)),
        route(g.clone(), "/admin/users/{id}/{action}", Access::AnyOf(ADMIN), get(admin::confirm_page)),
        route(p.clone(), "/admin/users/{id}/{action}", Access::AnyOf(ADMIN), post(admin::user_action)),
        route(g.clone(), "/certify", Team, get(membership::routes::certify_page)),
        route(p.clone(), "/certify/{id}", Team, post(membership::routes::certify_submit)),
        route(g.clone(), "/team", Team, get(membership::routes::team_page)),
        route(g.clone(), "/team/{id}/{action}", Team, get(membership::routes::team_confirm)),
        route(p.clone(), "/team/{id}/{action}", Team, post(membership::routes::team_action)),
        // -- stories (begin)
        route(g.clone(), "/cases/{id}/story", CASEWORK, get(crate::stories::routes::case_story)),
        route(p.clone(), "/cases/{id}/story/send", CASEWORK, post(crate::stories::routes::case_send)),
        route(p.clone(), "/cases/{id}/story/approve", Team, post(crate::stories::routes::case_approve)),
        route(g.clone(), "/stories/drafts", Team, get(crate::stories::routes::drafts_page)),
        route(g.clone(), "/stories/drafts/{id}", Team, get(crate::stories::routes::draft_review)),
        route(p.clone(), "/stories/drafts/{id}/approve", Team, post(crate::stories::routes::draft_approve)),
        route(p.clone(), "/stories/drafts/{id}/reject", Team, post(crate::stories::routes::draft_reject)),
        route(g.clone(), "/stories", crate::policy::PUBLICATIONS, get(crate::stories::routes::list)),
        route(
            g.clone(),
            "/stories/export.md",
            crate::policy::PUBLICATIONS,
            get(crate::stories::routes::export_md),
        ),
        route(
            g.clone(),
            "/stories/export.csv",
            crate::policy::PUBLICATIONS,
            get(crate::stories::routes::export_csv),
        ),
        route(
            g.clone(),
            "/stories/export.json",
            crate::policy::PUBLICATIONS,
            get(crate::stories::routes::export_json),
        ),
        // -- stories (end)
        // -- figures (begin)
        route(g.clone(), "/figures", PUBLICATIONS, get(figures::list)),
        route(g.clone(), "/figures/new", Team, get(figures::new_page)),
        route(p.clone(), "/figures", Team, post(figures::approve)),
        route(g.clone(), "/figures/{id}", PUBLICATIONS, get(figures::show)),
        route(g.clone(), "/figures/{id}/export.md", PUBLICATIONS, get(figures::export_markdown)),
        route(g.clone(), "/figures/{id}/export.csv", PUBLICATIONS, get(figures::export_csv)),
        route(g.clone(), "/figures/{id}/export.json", PUBLICATIONS, get(figures::export_json)),
        // -- figures (end)
        // -- aid (begin)
        route(g.clone(), "/shelters/{id}/aid", CASEWORK, get(aid::page)),
        route(p.clone(), "/shelters/{id}/aid", CASEWORK, post(aid::record)),
        route(g.clone(), "/shelters/{id}/aid/{entry}/correct", Team, get(aid::correct_page)),
        route(p.clone(), "/shelters/{id}/aid/{entry}", Team, post(aid::correct)),
        route(p.clone(), "/aid/kinds", Team, post(aid::add_kind)),
        // -- aid (end)
        // -- sponsorship (begin)
        // -- sponsorship (end)
        // -- report (begin)
        route(g.clone(), "/reports", PUBLICATIONS, get(report::list)),
        route(g.clone(), "/reports/new", Team, get(report::new_page)),
        route(p.clone(), "/reports", Team, post(report::approve)),
        route(g.clone(), "/reports/{id}", PUBLICATIONS, get(report::show)),
        route(g.clone(), "/reports/{id}/export.md", PUBLICATIONS, get(report::export_markdown)),
        route(g.clone(), "/reports/{id}/export.csv", PUBLICATIONS, get(report::export_csv)),
        route(g.clone(), "/reports/{id}/export.json", PUBLICATIONS, get(report::export_json)),
        // -- report (end)
        // -- purge (begin)
        route(g.clone(), "/purge", Team, get(crate::purge::routes::list)),
        route(g.clone(), "/purge/{id}", Team, get(crate::purge::routes::page)),
        route(p.clone(), "/purge/{id}", Team, post(crate::purge::routes::purge)),
        route(p.clone(), "/purge/{id}/request", Team, post(crate::purge::routes::request)),
        // -- purge (end)
        route(g.clone(), "/lockdown", Team, get(sessions::routes::page)),
        route(p.clone(), "/lockdown", Team, post(sessions::routes::engage)),
        // These two end sessions: the permission test visits them last.
        route(p.clone(), "/account/sessions/end", Authenticated, post(account::end_sessions)),
        // Any session may end itself, an unfinished enrolment included.
        route(p, "/logout", Enrolling, post(account::logout)),
    ]
}

/// Enforce a route's access before its handler: no session, the login page;
/// a role the route does not serve, or a coordinator power without the
/// coordinators team key, 403, recorded in the audit trail with the route's
/// pattern (never the values in the path: an id there is the caller's).
async fn enforce(
    State((state, access, pattern)): State<(AppState, Access, &'static str)>,
    request: Request,
    next: Next,
) -> Response {
    let (mut parts, body) = request.into_parts();
    use axum::extract::FromRequestParts;
    let checked = match access {
        Access::Public => Ok(None),
        Access::Enrolling => EnrollingUser::from_request_parts(&mut parts, &state).await.map(|u| Some(u.0)),
        Access::Authenticated | Access::AnyOf(_) | Access::CoordinatorsTeam | Access::AnyOfOrTeam(_) => {
            match CurrentUser::from_request_parts(&mut parts, &state).await {
                Ok(user) => {
                    let coordinators_team = user.coordinators_team;
                    if access.permits(Standing { roles: user.actor.roles(), coordinators_team }) {
                        Ok(Some(user))
                    } else {
                        let event = user.actor.event(Action::RouteDenied).on(pattern);
                        match state.vault.record(&event, Outcome::Denied).await {
                            Ok(()) => Err(AppError::Forbidden),
                            // No refusal goes unrecorded: if the entry cannot be written, an error.
                            Err(e) => Err(e.into()),
                        }
                    }
                }
                Err(e) => Err(e),
            }
        }
    };
    match checked {
        Ok(user) => {
            if let Some(user) = user {
                parts.extensions.insert(Checked::new(user));
            }
            next.run(Request::from_parts(parts, body)).await
        }
        Err(e) => e.into_response(),
    }
}

/// The router: every route of the table, each behind its access check.
pub fn router(state: &AppState) -> Router<AppState> {
    let mut by_path: Vec<(&'static str, MethodRouter<AppState>)> = Vec::new();
    for r in table() {
        let guarded = r.handler.route_layer(from_fn_with_state((state.clone(), r.access, r.path), enforce));
        match by_path.iter_mut().find(|(path, _)| *path == r.path) {
            Some((_, existing)) => *existing = std::mem::take(existing).merge(guarded),
            None => by_path.push((r.path, guarded)),
        }
    }
    by_path.into_iter().fold(Router::new(), |router, (path, handler)| router.route(path, handler))
}
