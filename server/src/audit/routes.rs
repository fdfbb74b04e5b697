//! The auditor's pages: the trail with filters and paging, a formula-safe
//! CSV export, the chain head to keep off the server, verification on
//! demand; and the bulk-reading flags (auditors and coordinators).

use std::collections::BTreeMap;

use askama::Template;
use axum::Form;
use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{Html, IntoResponse, Response};
use serde::Deserialize;

use super::service::{self as audit, csv_cell};
use super::{Action, Outcome};
use crate::accounts::service as accounts;
use crate::storage::{AuditFilter, AuditRow};
use crate::web::AppState;
use crate::web::error::AppError;
use crate::web::guards::{CurrentUser, check_csrf};
use crate::web::messages::{EN, Messages};
use crate::web::templates::Nav;

const PAGE: i64 = 100;

#[derive(Debug, Clone, Default, Deserialize)]
pub struct TrailQuery {
    #[serde(default)]
    pub actor: String,
    #[serde(default)]
    pub action: String,
    #[serde(default)]
    pub target: String,
    #[serde(default)]
    pub from: String,
    #[serde(default)]
    pub to: String,
    #[serde(default)]
    pub after: i64,
}

impl TrailQuery {
    fn filter(&self) -> AuditFilter {
        AuditFilter {
            actor: self.actor.trim().to_owned(),
            action: self.action.trim().to_owned(),
            target: self.target.trim().to_owned(),
            from: self.from.trim().to_owned(),
            to: self.to.trim().to_owned(),
        }
    }
}

pub struct EntryLine {
    pub seq: i64,
    pub at: String,
    pub actor: String,
    pub role: String,
    pub action: String,
    pub target: String,
    pub outcome: String,
    pub request_id: String,
}

/// Auditors see who acted: the opaque actor id and, beside it, the username
/// from the directory.
async fn lines(state: &AppState, rows: Vec<AuditRow>) -> Vec<EntryLine> {
    let mut names: BTreeMap<String, String> = BTreeMap::new();
    if let Ok(entries) = accounts::list_unchecked(&state.vault).await {
        for e in entries {
            names.insert(e.id.to_string(), e.profile.username.as_str().to_owned());
        }
    }
    rows.into_iter()
        .map(|r| EntryLine {
            seq: r.seq,
            actor: match names.get(&r.actor) {
                Some(name) => format!("{name} ({})", r.actor),
                None => r.actor.clone(),
            },
            at: r.at,
            role: r.role,
            action: r.action,
            target: r.target,
            outcome: r.outcome,
            request_id: r.request_id,
        })
        .collect()
}

#[derive(Template)]
#[template(path = "audit/trail.html")]
struct TrailPage {
    t: &'static Messages,
    nav: Option<Nav>,
    csrf: String,
    q: TrailQuery,
    lines: Vec<EntryLine>,
    next_after: Option<i64>,
    head: String,
    verification: Option<String>,
    actions: Vec<&'static str>,
    export_query: String,
}

fn query_string(q: &TrailQuery) -> String {
    let enc = |s: &str| {
        s.bytes()
            .map(|b| {
                if b.is_ascii_alphanumeric() || b"-._:".contains(&b) {
                    (b as char).to_string()
                } else {
                    format!("%{b:02X}")
                }
            })
            .collect::<String>()
    };
    format!(
        "actor={}&action={}&target={}&from={}&to={}",
        enc(&q.actor),
        enc(&q.action),
        enc(&q.target),
        enc(&q.from),
        enc(&q.to)
    )
}

async fn trail_view(
    state: &AppState,
    user: &CurrentUser,
    q: TrailQuery,
    verification: Option<String>,
) -> Result<Response, AppError> {
    let rows =
        audit::search(&state.vault, &user.actor, &q.filter(), q.after, PAGE, Action::AuditRead).await?;
    let next_after = (rows.len() as i64 == PAGE).then(|| rows.last().map_or(0, |r| r.seq));
    let head = audit::head(&state.vault).await?.map(|c| c.to_line()).unwrap_or_default();
    let page = TrailPage {
        t: &EN,
        nav: Some(Nav::of(user)),
        csrf: user.csrf.clone(),
        lines: lines(state, rows).await,
        next_after,
        head,
        verification,
        actions: Action::ALL.iter().map(|a| a.as_str()).collect(),
        export_query: query_string(&q),
        q,
    };
    Ok(Html(page.render()?).into_response())
}

pub(crate) async fn trail(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(q): Query<TrailQuery>,
) -> Result<Response, AppError> {
    trail_view(&state, &user, q, None).await
}

/// The filtered trail as CSV (every matching entry), recorded as an export.
pub(crate) async fn export(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(q): Query<TrailQuery>,
) -> Result<Response, AppError> {
    // An export leaves the server: the password again after five minutes.
    if let Some(redirect) = crate::web::guards::require_recent(&state, &user, "/audit") {
        return Ok(redirect);
    }
    let rows = audit::search(&state.vault, &user.actor, &q.filter(), 0, 100_000, Action::Export).await?;
    let mut csv = String::from("seq,at,actor,role,action,target,outcome,request_id\r\n");
    for l in lines(&state, rows).await {
        let cells = [l.seq.to_string(), l.at, l.actor, l.role, l.action, l.target, l.outcome, l.request_id];
        csv.push_str(&cells.iter().map(|c| csv_cell(c)).collect::<Vec<_>>().join(","));
        csv.push_str("\r\n");
    }
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (header::CONTENT_DISPOSITION, "attachment; filename=\"audit-trail.csv\""),
        ],
        csv,
    )
        .into_response())
}

#[derive(Deserialize)]
pub struct VerifyForm {
    #[serde(default)]
    csrf: String,
}

pub(crate) async fn verify(
    State(state): State<AppState>,
    user: CurrentUser,
    Form(form): Form<VerifyForm>,
) -> Result<Response, AppError> {
    check_csrf(&user, &form.csrf)?;
    let event = user.actor.event(Action::AuditVerify).as_role(crate::accounts::model::Role::Auditor);
    let result = audit::verify(&state.vault, &[], |_| {}).await;
    let (message, outcome) = match &result {
        Ok(v) => (format!("{} {}", EN.audit_intact, v.entries), Outcome::Ok),
        Err(broken) => (format!("{} {broken}", EN.audit_broken), Outcome::Error),
    };
    state.vault.record(&event, outcome).await?;
    trail_view(&state, &user, TrailQuery::default(), Some(message)).await
}

#[derive(Template)]
#[template(path = "audit/flags.html")]
struct FlagsPage {
    t: &'static Messages,
    nav: Option<Nav>,
    flags: Vec<(String, String, i64, i64)>,
}

pub(crate) async fn flags(State(state): State<AppState>, user: CurrentUser) -> Result<Response, AppError> {
    let rows = audit::flags(&state.vault, &user.actor).await?;
    let mut names: BTreeMap<String, String> = BTreeMap::new();
    for e in accounts::list_unchecked(&state.vault).await? {
        names.insert(e.id.to_string(), e.profile.username.as_str().to_owned());
    }
    let flags = rows
        .into_iter()
        .map(|f| {
            (names.get(&f.actor).cloned().unwrap_or(f.actor), f.raised_at, f.distinct_cases, f.window_minutes)
        })
        .collect();
    let page = FlagsPage { t: &EN, nav: Some(Nav::of(&user)), flags };
    Ok(Html(page.render()?).into_response())
}
