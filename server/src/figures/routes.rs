//! The figures pages: the coordinator's preview and approval, the list and
//! one table for communications staff and coordinators, and the exports.

use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use serde::{Deserialize, Serialize};

use super::export::{Format, TableView, month_name, period_name};
use super::model::{PeriodKind, TableId, parse_period};
use super::service;
use crate::error::ServiceError;
use crate::publication::export::LangQuery;
use crate::publication::period::Period;
use crate::web::AppState;
use crate::web::error::AppError;
use crate::web::guards::{CurrentUser, check_csrf};
use crate::web::messages::{self, Messages};
use crate::web::notice;
use crate::web::templates::{FormErrors, Nav};
use crate::web::when;

/// The period form, on the preview page (GET) and the approval (POST).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct PeriodForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    period: String,
    /// The preview's digest, so what is approved is what was seen.
    #[serde(default)]
    digest: String,
}

impl PeriodForm {
    fn is_empty(&self) -> bool {
        self.kind.trim().is_empty() && self.period.trim().is_empty()
    }

    /// The form as it shows a period: its kind chosen and its text as the
    /// kind writes it.
    fn showing(period: Period) -> PeriodForm {
        let text = match period {
            Period::FiscalYear { year, .. } => year.to_string(),
            other => other.code(),
        };
        let kind = PeriodKind::of(period).map_or("", PeriodKind::as_str).to_owned();
        PeriodForm { kind, period: text, ..PeriodForm::default() }
    }
}

pub struct KindChoice {
    pub value: &'static str,
    pub label: &'static str,
    pub selected: bool,
}

pub struct ReadyLink {
    pub code: String,
    pub name: String,
}

#[derive(Template)]
#[template(path = "figures/new.html")]
struct NewPage {
    t: &'static Messages,
    nav: Option<Nav>,
    csrf: String,
    form: PeriodForm,
    errors: FormErrors,
    kinds: Vec<KindChoice>,
    hint: String,
    ready: Vec<ReadyLink>,
    /// The period previewed, its code and the preview's digest.
    preview: Option<(String, String, TableView)>,
    changed: bool,
}

fn kinds(t: &'static Messages, fiscal_start: u8, chosen: &str) -> Vec<KindChoice> {
    PeriodKind::ALL
        .iter()
        // A fiscal year from January is the calendar year.
        .filter(|k| fiscal_start != 1 || **k != PeriodKind::FiscalYear)
        .map(|k| KindChoice {
            value: k.as_str(),
            label: match k {
                PeriodKind::Quarter => t.figures_kind_quarter,
                PeriodKind::Year => t.figures_kind_year,
                PeriodKind::FiscalYear => t.figures_kind_fiscal,
            },
            selected: k.as_str() == chosen,
        })
        .collect()
}

/// What the new page shows besides the form: a preview, or errors.
enum Outcome {
    Blank,
    Errors(FormErrors),
    Preview(Period, super::model::Table, bool),
}

async fn render_new(
    state: &AppState,
    user: &CurrentUser,
    form: PeriodForm,
    outcome: Outcome,
) -> Result<Response, AppError> {
    let t = messages::current();
    let vault = &state.vault;
    let ready = service::ready(vault, &user.actor)
        .await?
        .into_iter()
        .map(|p| ReadyLink { code: p.code(), name: period_name(t, p) })
        .collect();
    let start = vault.publication.fiscal_year_start;
    let (status, errors, preview, changed) = match outcome {
        Outcome::Blank => (StatusCode::OK, FormErrors::default(), None, false),
        Outcome::Errors(errors) => (StatusCode::UNPROCESSABLE_ENTITY, errors, None, false),
        Outcome::Preview(period, table, changed) => {
            let status = if changed { StatusCode::CONFLICT } else { StatusCode::OK };
            (
                status,
                FormErrors::default(),
                Some((period.code(), table.digest(), TableView::of(t, &table))),
                changed,
            )
        }
    };
    let page = NewPage {
        t,
        nav: Some(Nav::of(user)),
        csrf: user.csrf.clone(),
        kinds: kinds(t, start, &form.kind),
        form,
        errors,
        hint: t.figures_period_hint.replace("{month}", month_name(t, start)),
        ready,
        preview,
        changed,
    };
    Ok((status, Html(page.render()?)).into_response())
}

/// GET /figures/new: the period form and, once a period is named, the
/// preview of its table exactly as it will be published.
pub(crate) async fn new_page(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(form): Query<PeriodForm>,
) -> Result<Response, AppError> {
    if form.is_empty() {
        return render_new(&state, &user, form, Outcome::Blank).await;
    }
    let start = state.vault.publication.fiscal_year_start;
    let period = match parse_period(&form.kind, &form.period, start) {
        Ok(p) => p,
        Err(e) => return render_new(&state, &user, form, Outcome::Errors(e.into())).await,
    };
    // A link by code fills the form as the kind writes it.
    let form = if form.kind.trim().is_empty() { PeriodForm::showing(period) } else { form };
    match service::preview(&state.vault, &user.actor, period).await {
        Ok(table) => render_new(&state, &user, form, Outcome::Preview(period, table, false)).await,
        Err(ServiceError::Invalid(e)) => render_new(&state, &user, form, Outcome::Errors(e.into())).await,
        Err(e) => Err(e.into()),
    }
}

/// What the list says once after an approval.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
enum FiguresDone {
    Approved(Period),
}

/// POST /figures: approve the previewed table.
pub(crate) async fn approve(
    State(state): State<AppState>,
    user: CurrentUser,
    Form(form): Form<PeriodForm>,
) -> Result<Response, AppError> {
    check_csrf(&user, &form.csrf)?;
    let start = state.vault.publication.fiscal_year_start;
    let period = match parse_period(&form.kind, &form.period, start) {
        Ok(p) => p,
        Err(e) => return render_new(&state, &user, form, Outcome::Errors(e.into())).await,
    };
    let shown = if form.kind.trim().is_empty() { PeriodForm::showing(period) } else { form.clone() };
    match service::approve(&state.vault, &user.actor, period, &form.digest).await {
        Ok(_) => notice::leave(&user.session, "/figures", FiguresDone::Approved(period)).await,
        Err(ServiceError::Invalid(e)) => render_new(&state, &user, shown, Outcome::Errors(e.into())).await,
        Err(ServiceError::Conflict) => {
            let table = service::preview(&state.vault, &user.actor, period).await?;
            render_new(&state, &user, shown, Outcome::Preview(period, table, true)).await
        }
        Err(e) => Err(e.into()),
    }
}

pub struct ListLine {
    pub id: String,
    pub name: String,
    pub approved_at: String,
}

#[derive(Template)]
#[template(path = "figures/list.html")]
struct ListPage {
    t: &'static Messages,
    nav: Option<Nav>,
    notice: Option<String>,
    lines: Vec<ListLine>,
    can_prepare: bool,
}

/// GET /figures: the approved tables, newest first.
pub(crate) async fn list(State(state): State<AppState>, user: CurrentUser) -> Result<Response, AppError> {
    let t = messages::current();
    let done = notice::take::<FiguresDone>(&user.session, "/figures").await?;
    let tables = service::approved(&state.vault, &user.actor).await?;
    let notice = done
        .map(|FiguresDone::Approved(p)| t.figures_approved_notice.replace("{period}", &period_name(t, p)));
    let lines = tables
        .iter()
        .map(|a| ListLine {
            id: a.id.to_string(),
            name: period_name(t, a.period),
            approved_at: when::minute(a.approved_at, user.zone()),
        })
        .collect();
    let page = ListPage { t, nav: Some(Nav::of(&user)), notice, lines, can_prepare: user.coordinators_team };
    Ok(Html(page.render()?).into_response())
}

#[derive(Template)]
#[template(path = "figures/show.html")]
struct ShowPage {
    t: &'static Messages,
    nav: Option<Nav>,
    id: String,
    approved_at: String,
    view: TableView,
    langs: Vec<crate::publication::export::LangLink>,
}

fn table_id(text: &str) -> Result<TableId, AppError> {
    TableId::parse(text).ok_or(AppError::NotFound)
}

/// GET /figures/{id}: one approved table, with its exports.
pub(crate) async fn show(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let t = messages::current();
    let approved = service::read(&state.vault, &user.actor, table_id(&id)?).await?;
    let page = ShowPage {
        t,
        nav: Some(Nav::of(&user)),
        id: approved.id.to_string(),
        approved_at: when::minute(approved.approved_at, user.zone()),
        view: TableView::of(t, &approved.table),
        langs: crate::publication::export::lang_links(),
    };
    Ok(Html(page.render()?).into_response())
}

async fn download(
    state: &AppState,
    user: &CurrentUser,
    id: &str,
    format: Format,
    q: &LangQuery,
) -> Result<Response, AppError> {
    let id = table_id(id)?;
    let lang = q.chosen().ok_or(AppError::BadRequest)?;
    let file = service::export(&state.vault, &user.actor, id, format, lang).await?;
    Ok(crate::publication::export::in_language(file.into_response(), lang))
}

pub(crate) async fn export_markdown(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    Query(q): Query<LangQuery>,
) -> Result<Response, AppError> {
    download(&state, &user, &id, Format::Markdown, &q).await
}

pub(crate) async fn export_csv(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    Query(q): Query<LangQuery>,
) -> Result<Response, AppError> {
    download(&state, &user, &id, Format::Csv, &q).await
}

pub(crate) async fn export_json(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    Query(q): Query<LangQuery>,
) -> Result<Response, AppError> {
    download(&state, &user, &id, Format::Json, &q).await
}
