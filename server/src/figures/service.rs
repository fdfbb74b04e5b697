//! The rules of public figures: a coordinator (coordinators team) prepares
//! a table for a period that has ended and approves it once; the approved
//! table is sealed to the communications team; communications staff and
//! coordinators read and export it. Every read and export is audited by
//! the table's random id, never a case.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::compute::{self, CaseFigures};
use super::export::{self, Format};
use super::model::{Table, TableId, canonical};
use super::suppress;
use crate::accounts::model::{Actor, Role};
use crate::audit::{Action, Event};
use crate::cases::model::FieldError;
use crate::crypto::wrap;
use crate::error::{ServiceError, ServiceResult};
use crate::i18n::Lang;
use crate::keyring::Team;
use crate::membership;
use crate::publication::period::Period;
use crate::storage::{FigureTableRow, Write};
use crate::vault::Vault;
use crate::web::messages::Messages;

/// An approved table, as communications staff read it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApprovedTable {
    pub id: TableId,
    pub period: Period,
    #[serde(with = "time::serde::rfc3339")]
    pub approved_at: OffsetDateTime,
    pub table: Table,
}

pub use crate::publication::export::Download;

/// Approvals on one node, one at a time: two coordinators approving the
/// same period at once must not both pass the "approved once" check.
static APPROVING: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// Held by every approval that publishes figures (a table, or an annual
/// report that brings its fiscal year's table with it), one at a time.
pub(crate) async fn one_approval_at_a_time() -> tokio::sync::MutexGuard<'static, ()> {
    APPROVING.lock().await
}

fn reader_role(actor: &Actor) -> Role {
    if actor.has(Role::Communications) { Role::Communications } else { Role::Coordinator }
}

/// Every approved table, opened with the communications team key (a
/// communications member's own copy, or a coordinator's through the
/// coordinators team). Newest first.
pub(crate) async fn open_all(vault: &Vault, actor: &Actor) -> ServiceResult<Vec<ApprovedTable>> {
    if !actor.has(Role::Communications) && !actor.has(Role::Coordinator) {
        return Err(ServiceError::Forbidden("figures are for communications staff and coordinators"));
    }
    let identity = membership::team_identity(vault, actor, Team::Communications).await?;
    let mut out = Vec::new();
    for row in vault.store().figure_tables().await? {
        let json = wrap::unwrap(&identity, &row.sealed)?;
        let table: ApprovedTable =
            serde_json::from_slice(&json).map_err(|_| ServiceError::Integrity("figure table"))?;
        // A sealed table moved under another row's id is refused.
        if table.id.to_string() != row.id {
            return Err(ServiceError::Integrity("figure table id"));
        }
        out.push(table);
    }
    out.sort_by(|a, b| b.approved_at.cmp(&a.approved_at).then(b.id.cmp(&a.id)));
    Ok(out)
}

/// The approved tables, newest first, for the figures page and the
/// communications home. Recorded as one `figures.read`.
pub async fn approved(vault: &Vault, actor: &Actor) -> ServiceResult<Vec<ApprovedTable>> {
    let event = actor.event(Action::FiguresRead).as_role(reader_role(actor));
    let result = open_all(vault, actor).await;
    vault.finish(&event, result).await
}

/// One approved table, recorded as `figures.read` on its id.
pub async fn read(vault: &Vault, actor: &Actor, id: TableId) -> ServiceResult<ApprovedTable> {
    let event = actor.event(Action::FiguresRead).as_role(reader_role(actor)).on(id);
    let result = async {
        open_all(vault, actor).await?.into_iter().find(|t| t.id == id).ok_or(ServiceError::NotFound)
    }
    .await;
    vault.finish(&event, result).await
}

/// One approved table as a file in `lang`, recorded as `export` on its id
/// and the language (`{id} ja`).
pub async fn export(
    vault: &Vault,
    actor: &Actor,
    id: TableId,
    format: Format,
    lang: Lang,
) -> ServiceResult<Download> {
    // The entry names the language the file was written in.
    let event = actor.event(Action::Export).as_role(reader_role(actor)).on(format!("{id} {}", lang.code()));
    let t = Messages::of(lang);
    let result = async {
        let table =
            open_all(vault, actor).await?.into_iter().find(|t| t.id == id).ok_or(ServiceError::NotFound)?;
        let body = match format {
            Format::Markdown => export::markdown(t, &table),
            Format::Csv => export::csv(t, &table),
            Format::Json => export::json(t, &table),
        };
        Ok(Download::new(&format!("figures-{}", table.period.code()), format, body))
    }
    .await;
    vault.finish(&event, result).await
}

/// Whether a table may be prepared for `period` now: a quarter, a year or
/// the organisation's fiscal year, over, and never approved before.
pub fn check_period(vault: &Vault, period: Period, approved: &[ApprovedTable]) -> Result<Period, FieldError> {
    let err = |m: String| FieldError::new("period", m);
    let period = canonical(period);
    match period {
        Period::Month { .. } => {
            return Err(err("Figures are for a quarter, a calendar year or the fiscal year.".into()));
        }
        Period::FiscalYear { start_month, .. } if start_month != vault.publication.fiscal_year_start => {
            return Err(err(
                "This is not the organisation's fiscal year: check the month it starts in.".into()
            ));
        }
        _ => {}
    }
    let today = vault.clock.now().to_offset(time::UtcOffset::UTC).date();
    if !period.has_ended(today) {
        let from = period.last_day().next_day().map(|d| d.to_string()).unwrap_or_default();
        return Err(err(crate::web::messages::current().tr("This period has not ended yet: its figures can be prepared from {from}, and never change once approved.").replace("{from}", &from.to_string())));
    }
    if let Some(before) = approved.iter().find(|a| canonical(a.period) == period) {
        let on = before.approved_at.to_offset(time::UtcOffset::UTC).date();
        return Err(err(crate::web::messages::current().tr("Figures for this period were approved on {on}. A period is approved only once: a second version would reveal the difference between the two.").replace("{on}", &on.to_string())));
    }
    Ok(period)
}

/// The table for `period` as it would be published now, after checking the
/// period: counted from every case's index record (recorded as the
/// coordinator's `case.list`) and protected against every approved table.
async fn compute_table(vault: &Vault, actor: &Actor, period: Period) -> ServiceResult<(Period, Table)> {
    membership::coordinators_identity(vault, actor).await?;
    let approved = open_all(vault, actor).await?;
    let period = check_period(vault, period, &approved)?;
    let (_, summaries) = crate::cases::service::dashboard(vault, actor).await?;
    let cases: Vec<CaseFigures> = summaries.iter().map(|s| CaseFigures::of_summary(s)).collect();
    drop(summaries);
    Ok((period, protected_table(&cases, period, &approved)))
}

/// The table for `period` counted from `cases` and protected against every
/// `approved` table: what `/figures` publishes for a period not yet approved.
pub(crate) fn protected_table(cases: &[CaseFigures], period: Period, approved: &[ApprovedTable]) -> Table {
    let mut table = compute::table(cases, period);
    let earlier: Vec<Table> = approved.iter().map(|a| a.table.clone()).collect();
    suppress::protect(&mut table, cases, &earlier);
    table
}

/// The write that stores an approved table, sealed to the communications team.
pub(crate) async fn sealed_table(vault: &Vault, approved: &ApprovedTable) -> ServiceResult<Write> {
    let json = zeroize::Zeroizing::new(
        serde_json::to_vec(approved).map_err(|_| ServiceError::Internal("figure table encoding"))?,
    );
    let recipient = vault.keyring.team_recipient(vault.store(), Team::Communications).await?;
    let sealed = wrap::wrap(&recipient, &json)?;
    Ok(Write::InsertFigureTable(FigureTableRow { id: approved.id.to_string(), sealed }))
}

/// The preview of the table for `period`: exactly what approving it now
/// would publish.
pub async fn preview(vault: &Vault, actor: &Actor, period: Period) -> ServiceResult<Table> {
    compute_table(vault, actor, period).await.map(|(_, t)| t)
}

/// The periods a coordinator may prepare now: recent quarters, years and
/// fiscal years that have ended and have no approved table.
pub async fn ready(vault: &Vault, actor: &Actor) -> ServiceResult<Vec<Period>> {
    membership::coordinators_identity(vault, actor).await?;
    let approved = open_all(vault, actor).await?;
    let today = vault.clock.now().to_offset(time::UtcOffset::UTC).date();
    let mut candidates = Vec::new();
    let mut day = today;
    for _ in 0..4 {
        let q = Period::quarter_of(day);
        let before = q.first_day().previous_day().unwrap_or(day);
        candidates.push(Period::quarter_of(before));
        day = before;
    }
    for back in 1..=2 {
        candidates.push(Period::Year { year: today.year() - back });
    }
    let start = vault.publication.fiscal_year_start;
    if start != 1 {
        let current = Period::fiscal_year_of(today, start);
        if let Period::FiscalYear { year, .. } = current {
            for back in 1..=2 {
                candidates.push(Period::FiscalYear { year: year - back, start_month: start });
            }
        }
    }
    Ok(candidates.into_iter().filter(|p| check_period(vault, *p, &approved).is_ok()).collect())
}

/// Approve the table for `period`, if it is still the one the coordinator
/// saw (`digest` of the preview; otherwise `Conflict`): sealed to the
/// communications team under a random id, recorded as `figures.approve` on
/// that id, in an entry with a request id of its own.
pub async fn approve(vault: &Vault, actor: &Actor, period: Period, digest: &str) -> ServiceResult<TableId> {
    let _one_at_a_time = one_approval_at_a_time().await;
    let id = TableId::random();
    let mut event: Event = actor.event(Action::FiguresApprove).as_role(Role::Coordinator).on(id);
    event.request_id = crate::audit::model::new_request_id();
    let prepared = async {
        let (period, table) = compute_table(vault, actor, period).await?;
        if table.digest() != digest.trim() {
            return Err(ServiceError::Conflict);
        }
        let approved = ApprovedTable { id, period, approved_at: vault.clock.now(), table };
        Ok(vec![sealed_table(vault, &approved).await?])
    }
    .await;
    vault.write(&event, prepared).await?;
    Ok(id)
}
