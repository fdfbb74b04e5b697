//! The annual report's pages: the coordinator's preview and approval, the
//! list and one report for communications staff and coordinators, and the
//! exports.

use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use serde::{Deserialize, Serialize};

use super::export::ReportView;
use super::model::parse_year;
use super::service::{self, Preview};
use crate::error::ServiceError;
use crate::figures::export::{Format, month_name, period_name};
use crate::ids::ReportId;
use crate::publication::export::LangQuery;
use crate::publication::period::Period;
use crate::web::AppState;
use crate::web::error::AppError;
use crate::web::guards::{CurrentUser, check_csrf};
use crate::web::messages::{self, Messages};
use crate::web::notice;
use crate::web::templates::{FormErrors, Nav};
use crate::web::when;

/// The fiscal year form, on the preview page (GET) and the approval (POST).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct YearForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    year: String,
    /// The preview's digest, so what is approved is what was seen.
    #[serde(default)]
    digest: String,
}

impl YearForm {
    /// The form as it shows a fiscal year: the year it starts in.
    fn showing(period: Period) -> YearForm {
        YearForm { year: period.first_day().year().to_string(), ..YearForm::default() }
    }
}

pub struct ReadyLink {
    pub code: String,
    pub name: String,
}

#[derive(Template)]
#[template(path = "report/new.html")]
struct NewPage {
    t: &'static Messages,
    nav: Option<Nav>,
    csrf: String,
    form: YearForm,
    errors: FormErrors,
    hint: String,
    ready: Vec<ReadyLink>,
    /// The year previewed: its code, the preview's digest, its words, and
    /// whether approving it approves the year's figures too.
    preview: Option<(String, String, ReportView, bool)>,
    changed: bool,
}

/// What the new page shows besides the form: a preview, or errors.
enum Outcome {
    Blank,
    Errors(FormErrors),
    Preview(Box<Preview>, bool),
}

async fn render_new(
    state: &AppState,
    user: &CurrentUser,
    form: YearForm,
    outcome: Outcome,
) -> Result<Response, AppError> {
    let t = messages::current();
    let vault = &state.vault;
    let ready = service::ready(vault, &user.actor)
        .await?
        .into_iter()
        .map(|p| ReadyLink { code: p.code(), name: period_name(t, p) })
        .collect();
    let (status, errors, preview, changed) = match outcome {
        Outcome::Blank => (StatusCode::OK, FormErrors::default(), None, false),
        Outcome::Errors(errors) => (StatusCode::UNPROCESSABLE_ENTITY, errors, None, false),
        Outcome::Preview(preview, changed) => {
            let status = if changed { StatusCode::CONFLICT } else { StatusCode::OK };
            let view = (
                preview.report.period.code(),
                preview.report.digest(),
                ReportView::of(t, &preview.report),
                preview.figures_table.is_none(),
            );
            (status, FormErrors::default(), Some(view), changed)
        }
    };
    let page = NewPage {
        t,
        nav: Some(Nav::of(user)),
        csrf: user.csrf.clone(),
        form,
        errors,
        hint: t.report_year_hint.replace("{month}", month_name(t, vault.publication.fiscal_year_start)),
        ready,
        preview,
        changed,
    };
    Ok((status, Html(page.render()?)).into_response())
}

/// GET /reports/new: the fiscal year form and, once a year is named, the
/// preview of its report exactly as it will be published.
pub(crate) async fn new_page(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(form): Query<YearForm>,
) -> Result<Response, AppError> {
    if form.year.trim().is_empty() {
        return render_new(&state, &user, form, Outcome::Blank).await;
    }
    let period = match parse_year(&form.year, state.vault.publication.fiscal_year_start) {
        Ok(p) => p,
        Err(e) => return render_new(&state, &user, form, Outcome::Errors(e.into())).await,
    };
    // A link by code fills the form as a coordinator writes the year.
    let form = YearForm::showing(period);
    match service::preview(&state.vault, &user.actor, period).await {
        Ok(preview) => render_new(&state, &user, form, Outcome::Preview(Box::new(preview), false)).await,
        Err(ServiceError::Invalid(e)) => render_new(&state, &user, form, Outcome::Errors(e.into())).await,
        Err(e) => Err(e.into()),
    }
}

/// What the list says once after an approval.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
enum ReportDone {
    Approved(Period),
}

/// POST /reports: approve the previewed report.
pub(crate) async fn approve(
    State(state): State<AppState>,
    user: CurrentUser,
    Form(form): Form<YearForm>,
) -> Result<Response, AppError> {
    check_csrf(&user, &form.csrf)?;
    let period = match parse_year(&form.year, state.vault.publication.fiscal_year_start) {
        Ok(p) => p,
        Err(e) => return render_new(&state, &user, form, Outcome::Errors(e.into())).await,
    };
    let shown = YearForm::showing(period);
    match service::approve(&state.vault, &user.actor, period, &form.digest).await {
        Ok(_) => notice::leave(&user.session, "/reports", ReportDone::Approved(period)).await,
        Err(ServiceError::Invalid(e)) => render_new(&state, &user, shown, Outcome::Errors(e.into())).await,
        Err(ServiceError::Conflict) => {
            let preview = service::preview(&state.vault, &user.actor, period).await?;
            render_new(&state, &user, shown, Outcome::Preview(Box::new(preview), true)).await
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
#[template(path = "report/list.html")]
struct ListPage {
    t: &'static Messages,
    nav: Option<Nav>,
    notice: Option<String>,
    lines: Vec<ListLine>,
    can_prepare: bool,
}

/// GET /reports: the approved reports, newest year first.
pub(crate) async fn list(State(state): State<AppState>, user: CurrentUser) -> Result<Response, AppError> {
    let t = messages::current();
    let done = notice::take::<ReportDone>(&user.session, "/reports").await?;
    let reports = service::approved(&state.vault, &user.actor).await?;
    let notice =
        done.map(|ReportDone::Approved(p)| t.report_approved_notice.replace("{period}", &period_name(t, p)));
    let lines = reports
        .iter()
        .map(|r| ListLine {
            id: r.id.to_string(),
            name: period_name(t, r.period),
            approved_at: when::minute(r.approved_at, user.zone()),
        })
        .collect();
    let page = ListPage { t, nav: Some(Nav::of(&user)), notice, lines, can_prepare: user.coordinators_team };
    Ok(Html(page.render()?).into_response())
}

#[derive(Template)]
#[template(path = "report/show.html")]
struct ShowPage {
    t: &'static Messages,
    nav: Option<Nav>,
    id: String,
    approved_at: String,
    view: ReportView,
    langs: Vec<crate::publication::export::LangLink>,
}

fn report_id(text: &str) -> Result<ReportId, AppError> {
    ReportId::parse(text).ok_or(AppError::NotFound)
}

/// GET /reports/{id}: one approved report, with its exports.
pub(crate) async fn show(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let t = messages::current();
    let approved = service::read(&state.vault, &user.actor, report_id(&id)?).await?;
    let page = ShowPage {
        t,
        nav: Some(Nav::of(&user)),
        id: approved.id.to_string(),
        approved_at: when::minute(approved.approved_at, user.zone()),
        view: ReportView::of(t, &approved.report),
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
    let id = report_id(id)?;
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
