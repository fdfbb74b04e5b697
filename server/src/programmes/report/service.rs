//! The rules of the annual report: a coordinator (coordinators team)
//! prepares the report of a fiscal year that has ended and approves it
//! once; it is sealed to the communications team; communications staff
//! and coordinators read and export it. Every read and export is audited
//! by the report's random id, never a case or a shelter.

use std::ops::Deref;

use time::UtcOffset;

use super::compute;
use super::export;
use super::model::{ApprovedReport, ChildCount, Report};
use super::suppress;
use crate::accounts::model::{Actor, Role};
use crate::audit::{Action, Event};
use crate::cases::model::FieldError;
use crate::cases::service::Summary;
use crate::crypto::wrap;
use crate::error::{ServiceError, ServiceResult};
use crate::figures::compute::CaseFigures;
use crate::figures::export::{Format, month_name};
use crate::figures::model::{TableId, canonical};
use crate::figures::service::{self as figures, ApprovedTable, Download};
use crate::i18n::Lang;
use crate::ids::ReportId;
use crate::keyring::Team;
use crate::membership;
use crate::programmes::aid::model::{AidEntry, CustomKind};
use crate::programmes::sponsorship;
use crate::publication::period::Period;
use crate::storage::{SealedRow, Write};
use crate::vault::Vault;
use crate::web::messages::{self, Messages};

/// A report as it would be approved now, and the approved figures table it
/// repeats (none yet: approving the report approves the table with it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Preview {
    pub report: Report,
    pub figures_table: Option<TableId>,
}

fn reader_role(actor: &Actor) -> Role {
    if actor.has(Role::Communications) { Role::Communications } else { Role::Coordinator }
}

/// Every approved report, opened with the communications team key (a
/// communications member's own copy, or a coordinator's through the
/// coordinators team). Newest first.
async fn open_all(vault: &Vault, actor: &Actor) -> ServiceResult<Vec<ApprovedReport>> {
    if !actor.has(Role::Communications) && !actor.has(Role::Coordinator) {
        return Err(ServiceError::Forbidden("annual reports are for communications staff and coordinators"));
    }
    let identity = membership::team_identity(vault, actor, Team::Communications).await?;
    let mut out = Vec::new();
    for row in vault.store().annual_reports().await? {
        let json = zeroize::Zeroizing::new(wrap::unwrap(&identity, &row.sealed)?);
        let report: ApprovedReport =
            serde_json::from_slice(&json).map_err(|_| ServiceError::Integrity("annual report"))?;
        // A sealed report moved under another row's id is refused.
        if report.id.to_string() != row.id {
            return Err(ServiceError::Integrity("annual report id"));
        }
        out.push(report);
    }
    out.sort_by(|a, b| b.period.first_day().cmp(&a.period.first_day()).then(b.id.cmp(&a.id)));
    Ok(out)
}

/// The approved reports, newest year first. Recorded as one `report.read`.
pub async fn approved(vault: &Vault, actor: &Actor) -> ServiceResult<Vec<ApprovedReport>> {
    let event = actor.event(Action::ReportRead).as_role(reader_role(actor));
    let result = open_all(vault, actor).await;
    vault.finish(&event, result).await
}

/// One approved report, recorded as `report.read` on its id.
pub async fn read(vault: &Vault, actor: &Actor, id: ReportId) -> ServiceResult<ApprovedReport> {
    let event = actor.event(Action::ReportRead).as_role(reader_role(actor)).on(id);
    let result = async {
        open_all(vault, actor).await?.into_iter().find(|r| r.id == id).ok_or(ServiceError::NotFound)
    }
    .await;
    vault.finish(&event, result).await
}

/// One approved report as a file in `lang`, recorded as `export` on its id
/// and the language (`{id} ja`).
pub async fn export(
    vault: &Vault,
    actor: &Actor,
    id: ReportId,
    format: Format,
    lang: Lang,
) -> ServiceResult<Download> {
    // The entry names the language the file was written in.
    let event = actor.event(Action::Export).as_role(reader_role(actor)).on(format!("{id} {}", lang.code()));
    let t = Messages::of(lang);
    let result = async {
        let report =
            open_all(vault, actor).await?.into_iter().find(|r| r.id == id).ok_or(ServiceError::NotFound)?;
        let body = match format {
            Format::Markdown => export::markdown(t, &report),
            Format::Csv => export::csv(t, &report),
            Format::Json => export::json(t, &report),
        };
        Ok(Download::new(&format!("annual-report-{}", report.period.code()), format, body))
    }
    .await;
    vault.finish(&event, result).await
}

/// Whether a report may be prepared for `period` now: the organisation's
/// fiscal year (the calendar year when it starts in January), over, and
/// never approved before.
pub fn check_period(
    vault: &Vault,
    period: Period,
    approved: &[ApprovedReport],
) -> Result<Period, FieldError> {
    let err = |m: String| FieldError::new("year", m);
    let start = vault.publication.fiscal_year_start;
    let period = canonical(period);
    let fiscal = canonical(Period::FiscalYear { year: period.first_day().year(), start_month: start });
    if period != fiscal {
        return Err(err(format!(
            "An annual report is for a whole fiscal year, from {}: give the year it starts in.",
            month_name(messages::current(), start)
        )));
    }
    let today = vault.clock.now().to_offset(UtcOffset::UTC).date();
    if !period.has_ended(today) {
        let from = period.last_day().next_day().map(|d| d.to_string()).unwrap_or_default();
        return Err(err(crate::web::messages::current().tr("This fiscal year has not ended yet: its report can be prepared from {from}, and never changes once approved.").replace("{from}", &from.to_string())));
    }
    if let Some(before) = approved.iter().find(|a| canonical(a.period) == period) {
        let on = before.approved_at.to_offset(UtcOffset::UTC).date();
        return Err(err(crate::web::messages::current().tr("The report for this fiscal year was approved on {on}. A year is approved only once: a second version would reveal the difference between the two.").replace("{on}", &on.to_string())));
    }
    Ok(period)
}

/// The report for `period` from what was read: the cases' index records,
/// every aid entry and added kind, the approved figures tables and reports.
/// The people helped to safety and resettled are the approved figures
/// table of the year, as published, or the table `/figures` would publish
/// now; the children are protected against every approved report.
pub fn build<S: Deref<Target = Summary>>(
    period: Period,
    summaries: &[S],
    entries: &[AidEntry],
    kinds: &[CustomKind],
    tables: &[ApprovedTable],
    reports: &[ApprovedReport],
) -> ServiceResult<Preview> {
    let (figures, figures_table) = match tables.iter().find(|t| canonical(t.period) == period) {
        Some(t) => (t.table.clone(), Some(t.id)),
        None => {
            let cases: Vec<CaseFigures> = summaries.iter().map(|s| CaseFigures::of_summary(s)).collect();
            (figures::protected_table(&cases, period, tables), None)
        }
    };
    let enrolments = sponsorship::enrolments(summaries);
    let values = compute::children(&enrolments, period);
    let earlier: Vec<(Period, Vec<ChildCount>)> =
        reports.iter().map(|r| (r.period, r.report.children.clone())).collect();
    let children = suppress::protect(period, &values, &earlier);
    let aid = compute::aid(entries, kinds, period)?;
    Ok(Preview { report: Report { period, figures, children, aid }, figures_table })
}

/// The report for `period` as it would be approved now, after checking the
/// period: read from every case's index record (recorded as the
/// coordinator's `case.list`) and every aid entry.
async fn prepare(vault: &Vault, actor: &Actor, period: Period) -> ServiceResult<Preview> {
    let coordinators = membership::coordinators_identity(vault, actor).await?;
    let reports = open_all(vault, actor).await?;
    let period = check_period(vault, period, &reports)?;
    let tables = figures::open_all(vault, actor).await?;
    // The case list folds the inboxes first, the aid inbox included: the
    // aid entries are read after it so a caseworker's waiting entry counts.
    let (_, summaries) = crate::cases::service::dashboard(vault, actor).await?;
    let (entries, kinds) = crate::programmes::aid::service::all_for_team(vault, &coordinators).await?;
    build(period, &summaries, &entries, &kinds, &tables, &reports)
}

/// The preview of the report for `period`: exactly what approving it now
/// would publish. Reading every shelter's aid entries is recorded as one
/// `aid.read` with no target (every shelter), beside the `case.list`.
pub async fn preview(vault: &Vault, actor: &Actor, period: Period) -> ServiceResult<Preview> {
    let event = actor.event(Action::AidRead).as_role(Role::Coordinator);
    let result = prepare(vault, actor, period).await;
    vault.finish(&event, result).await
}

/// The fiscal years a coordinator may prepare now: the last three that
/// have ended and have no approved report. Recorded as one `report.read`
/// (the approved reports are opened to see which years they cover).
pub async fn ready(vault: &Vault, actor: &Actor) -> ServiceResult<Vec<Period>> {
    let event = actor.event(Action::ReportRead).as_role(Role::Coordinator);
    let result = async {
        membership::coordinators_identity(vault, actor).await?;
        let approved = open_all(vault, actor).await?;
        let today = vault.clock.now().to_offset(UtcOffset::UTC).date();
        let start = vault.publication.fiscal_year_start;
        let Period::FiscalYear { year, .. } = Period::fiscal_year_of(today, start) else {
            return Ok(Vec::new());
        };
        Ok((1..=3)
            .map(|back| canonical(Period::FiscalYear { year: year - back, start_month: start }))
            .filter(|p| check_period(vault, *p, &approved).is_ok())
            .collect())
    }
    .await;
    vault.finish(&event, result).await
}

/// Approve the report for `period`, if it is still the one the coordinator
/// saw (`digest` of the preview; otherwise `Conflict`): sealed to the
/// communications team under a random id, with the year's figures table
/// approved in the same write if it was not yet, recorded as
/// `report.approve` on the report's id in an entry with a request id of
/// its own. Approvals of figures and reports wait for each other.
pub async fn approve(vault: &Vault, actor: &Actor, period: Period, digest: &str) -> ServiceResult<ReportId> {
    let _one_at_a_time = figures::one_approval_at_a_time().await;
    let id = ReportId::random();
    let mut event: Event = actor.event(Action::ReportApprove).as_role(Role::Coordinator).on(id);
    event.request_id = crate::audit::model::new_request_id();
    let prepared = async {
        let Preview { report, figures_table } = prepare(vault, actor, period).await?;
        if report.digest() != digest.trim() {
            return Err(ServiceError::Conflict);
        }
        let approved_at = vault.clock.now();
        let mut writes = Vec::new();
        let figures_table = match figures_table {
            Some(table) => table,
            None => {
                let table = ApprovedTable {
                    id: TableId::random(),
                    period: report.period,
                    approved_at,
                    table: report.figures.clone(),
                };
                writes.push(figures::sealed_table(vault, &table).await?);
                table.id
            }
        };
        let approved = ApprovedReport { id, period: report.period, approved_at, figures_table, report };
        let json = zeroize::Zeroizing::new(
            serde_json::to_vec(&approved).map_err(|_| ServiceError::Internal("annual report encoding"))?,
        );
        let recipient = vault.keyring.team_recipient(vault.store(), Team::Communications).await?;
        let sealed = wrap::wrap(&recipient, &json)?;
        writes.push(Write::InsertAnnualReport(SealedRow { id: id.to_string(), sealed }));
        Ok(writes)
    }
    .await;
    vault.write(&event, prepared).await?;
    Ok(id)
}
