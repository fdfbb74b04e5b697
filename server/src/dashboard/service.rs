//! The figures of each role's home page. Counting is done here, over the
//! lines the case service gives (the in-memory index for a coordinator, the
//! caseworker's own grants for a caseworker), with exactly the rules of the
//! case list's filters, so that every figure equals the length of the list
//! its link opens. docs/dashboards.md says what each figure counts.

use std::collections::BTreeMap;
use std::sync::Arc;

use time::{Date, Duration, OffsetDateTime, UtcOffset};

use crate::accounts::model::{Actor, UserState};
use crate::audit::Action;
use crate::cases::model::{Stage, Status};
use crate::cases::service::Summary;
use crate::error::ServiceResult;
use crate::ids::{CaseId, ShelterId, UserId};
use crate::storage::{AuditRow, FlagRow};
use crate::vault::Vault;

/// A bulk-reading flag is "open", on the homes, for this many days after
/// it was raised: flags cannot be acknowledged yet, so recency is the
/// whole of it (docs/dashboards.md).
pub const OPEN_FLAG_DAYS: i64 = 30;

/// One stage of the pipeline: its cases by status, and the people in them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StageRow {
    pub stage: Stage,
    pub open: usize,
    pub on_hold: usize,
    pub closed: usize,
    pub people: usize,
}

impl StageRow {
    pub fn cases(&self) -> usize {
        self.open + self.on_hold + self.closed
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusRow {
    pub status: Status,
    pub cases: usize,
    pub people: usize,
}

/// People in open and in on-hold cases at one shelter (`None`: no shelter).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OccupancyRow {
    pub shelter: Option<ShelterId>,
    pub people_open: usize,
    pub people_on_hold: usize,
}

impl OccupancyRow {
    pub fn people(&self) -> usize {
        self.people_open + self.people_on_hold
    }
}

/// Cases not updated for at least `days` days, open and on hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaleRow {
    pub days: u16,
    pub open: usize,
    pub on_hold: usize,
}

/// Milestones dated in a period, and the cases they belong to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PeriodCount {
    pub milestones: usize,
    pub cases: usize,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CoordinatorFigures {
    pub cases: usize,
    pub people: usize,
    pub pipeline: Vec<StageRow>,
    pub statuses: Vec<StatusRow>,
    /// Every shelter that holds a case, and `None` for cases without one.
    pub occupancy: BTreeMap<Option<ShelterId>, OccupancyRow>,
    pub stale: Vec<StaleRow>,
    /// Open cases held by each assignee; `None`: open cases no one holds.
    pub load: BTreeMap<Option<UserId>, usize>,
    pub week: PeriodCount,
    pub month: PeriodCount,
}

/// Monday of the viewer's current ISO week, and today, in their zone.
pub fn week_of(now: OffsetDateTime, zone: UtcOffset) -> (Date, Date) {
    let today = now.to_offset(zone).date();
    let monday = today - Duration::days(i64::from(today.weekday().number_days_from_monday()));
    (monday, today)
}

/// The first of the viewer's current month, and today, in their zone.
pub fn month_of(now: OffsetDateTime, zone: UtcOffset) -> (Date, Date) {
    let today = now.to_offset(zone).date();
    (today.replace_day(1).unwrap_or(today), today)
}

/// Whether a case was not updated for at least `days` whole days (the
/// list's `stale_days`).
pub fn is_stale(case: &Summary, now: OffsetDateTime, days: u16) -> bool {
    (now - case.updated_at).whole_days() >= i64::from(days)
}

fn count_in(case: &Summary, (from, to): (Date, Date)) -> usize {
    case.milestones.iter().filter(|m| (from..=to).contains(&m.date.date())).count()
}

pub fn coordinator_figures(
    cases: &[Arc<Summary>],
    now: OffsetDateTime,
    zone: UtcOffset,
    stale_days: &[u16],
) -> CoordinatorFigures {
    let mut pipeline: Vec<StageRow> = Stage::ALL
        .iter()
        .map(|&stage| StageRow { stage, open: 0, on_hold: 0, closed: 0, people: 0 })
        .collect();
    let mut statuses: Vec<StatusRow> =
        Status::ALL.iter().map(|&status| StatusRow { status, cases: 0, people: 0 }).collect();
    let mut occupancy: BTreeMap<Option<ShelterId>, OccupancyRow> = BTreeMap::new();
    let mut stale: Vec<StaleRow> =
        stale_days.iter().map(|&days| StaleRow { days, open: 0, on_hold: 0 }).collect();
    let mut load: BTreeMap<Option<UserId>, usize> = BTreeMap::new();
    let (week, month) = (week_of(now, zone), month_of(now, zone));
    let mut figures_week = PeriodCount::default();
    let mut figures_month = PeriodCount::default();
    let mut people = 0;
    for case in cases {
        let n = case.persons.len();
        people += n;
        if let Some(row) = pipeline.iter_mut().find(|r| r.stage == case.stage) {
            row.people += n;
            match case.status {
                Status::Open => row.open += 1,
                Status::OnHold => row.on_hold += 1,
                Status::Closed(_) => row.closed += 1,
            }
        }
        if let Some(row) = statuses.iter_mut().find(|r| r.status == case.status) {
            row.cases += 1;
            row.people += n;
        }
        let at = occupancy.entry(case.shelter).or_insert(OccupancyRow {
            shelter: case.shelter,
            people_open: 0,
            people_on_hold: 0,
        });
        match case.status {
            Status::Open => at.people_open += n,
            Status::OnHold => at.people_on_hold += n,
            Status::Closed(_) => {}
        }
        for row in &mut stale {
            if is_stale(case, now, row.days) {
                match case.status {
                    Status::Open => row.open += 1,
                    Status::OnHold => row.on_hold += 1,
                    Status::Closed(_) => {}
                }
            }
        }
        if case.status == Status::Open {
            if case.assignees.is_empty() {
                *load.entry(None).or_default() += 1;
            }
            for user in &case.assignees {
                *load.entry(Some(*user)).or_default() += 1;
            }
        }
        for (period, figures) in [(week, &mut figures_week), (month, &mut figures_month)] {
            let n = count_in(case, period);
            if n > 0 {
                figures.milestones += n;
                figures.cases += 1;
            }
        }
    }
    CoordinatorFigures {
        cases: cases.len(),
        people,
        pipeline,
        statuses,
        occupancy,
        stale,
        load,
        week: figures_week,
        month: figures_month,
    }
}

/// A caseworker's case that needs them, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attention {
    pub case: Arc<Summary>,
    /// Open and not updated for the first stale threshold.
    pub stale: bool,
    pub looked: Looked,
    pub on_hold: bool,
}

/// What the trail says of a case since its caseworker last looked at it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Looked {
    /// Nothing written by anyone else since their latest read or write.
    Current,
    /// Someone else wrote to it after the caseworker's latest read or write.
    ChangedByOther,
    /// The caseworker never read nor wrote it (a case given to them).
    NeverOpened,
}

/// The actions that change a case, in the trail.
const WRITES: [Action; 4] =
    [Action::CaseCreate, Action::CaseUpdate, Action::MilestoneAdd, Action::MilestoneEdit];

/// How far back a case's trail is read for "changed since you looked".
const TRAIL_PAGE: i64 = 100;
const TRAIL_PAGES: usize = 5;

/// Whether someone other than `me` changed the case after I last looked at
/// it (my latest read of it, or my own latest write), from the trail by
/// target (newest first, through its index), at most
/// `TRAIL_PAGE * TRAIL_PAGES` entries back; past that, an entry by someone
/// else counts as a change.
pub async fn looked(vault: &Vault, me: UserId, case: CaseId) -> ServiceResult<Looked> {
    let (target, me) = (case.to_string(), me.to_string());
    let mut before = i64::MAX;
    let mut changed = false;
    for _ in 0..TRAIL_PAGES {
        let page: Vec<AuditRow> = vault.store().audit_of_target(&target, before, TRAIL_PAGE).await?;
        for row in &page {
            if row.outcome != "ok" {
                continue;
            }
            let is_write = WRITES.iter().any(|a| a.as_str() == row.action);
            if row.actor == me && (is_write || row.action == Action::CaseRead.as_str()) {
                return Ok(if changed { Looked::ChangedByOther } else { Looked::Current });
            }
            changed |= is_write;
        }
        match page.last() {
            Some(last) if page.len() as i64 == TRAIL_PAGE => before = last.seq,
            // The whole trail of the case, and no look of mine in it.
            _ => return Ok(Looked::NeverOpened),
        }
    }
    Ok(if changed { Looked::ChangedByOther } else { Looked::Current })
}

/// A caseworker's own cases that need action: not closed, and stale (by the
/// first threshold), changed by someone else since they looked, never
/// opened by them, or on hold.
pub async fn attention(
    vault: &Vault,
    actor: &Actor,
    cases: &[Arc<Summary>],
    now: OffsetDateTime,
    stale_days: u16,
) -> ServiceResult<Vec<Attention>> {
    let mut out = Vec::new();
    for case in cases {
        if case.status.is_closed() {
            continue;
        }
        let stale = case.status == Status::Open && is_stale(case, now, stale_days);
        let on_hold = case.status == Status::OnHold;
        let looked = looked(vault, actor.user_id(), case.id).await?;
        if stale || on_hold || looked != Looked::Current {
            out.push(Attention { case: case.clone(), stale, looked, on_hold });
        }
    }
    Ok(out)
}

/// Account states, for the administrator's home.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct AccountCounts {
    pub pending: usize,
    pub disabled: usize,
    pub frozen: usize,
}

pub async fn account_counts(vault: &Vault, admin: &Actor) -> ServiceResult<AccountCounts> {
    let mut counts = AccountCounts::default();
    for entry in crate::accounts::service::list(vault, admin).await? {
        match entry.profile.state {
            UserState::Pending => counts.pending += 1,
            UserState::Disabled => counts.disabled += 1,
            UserState::Frozen => counts.frozen += 1,
            UserState::Active => {}
        }
    }
    Ok(counts)
}

/// What the auditor's home shows of the chain.
#[derive(Debug, Clone)]
pub struct ChainState {
    pub head: Option<AuditRow>,
    pub verified: Option<AuditRow>,
}

pub async fn chain_state(vault: &Vault) -> ServiceResult<ChainState> {
    Ok(ChainState {
        head: vault.store().audit_head().await?,
        verified: vault.store().latest_verification().await?,
    })
}

/// The flags still open (raised within `OPEN_FLAG_DAYS`), newest first,
/// read as the flags page reads them (audited, auditors and coordinators).
pub async fn open_flags(vault: &Vault, actor: &Actor) -> ServiceResult<Vec<FlagRow>> {
    let since = vault.clock.now() - Duration::days(OPEN_FLAG_DAYS);
    crate::audit::service::flags_since(vault, actor, since).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cases::index::{MilestoneFacts, PersonFacts};
    use crate::cases::model::{AgeBand, EventDate, MilestoneKind, Outcome};
    use time::macros::datetime;

    fn line(stage: Stage, status: Status, persons: usize, updated: OffsetDateTime) -> Arc<Summary> {
        Arc::new(Summary {
            id: CaseId::random(),
            version: 1,
            aliases: vec!["x".into()],
            stage,
            status,
            shelter: None,
            assignees: Vec::new(),
            created_at: updated,
            updated_at: updated,
            persons: vec![PersonFacts { age_band: AgeBand::Adult, gender: None }; persons],
            milestones: Vec::new(),
            closed_at: None,
        })
    }

    #[test]
    fn the_week_starts_on_monday_in_the_viewers_zone() {
        // Sunday 23:30 UTC is already Monday in Tokyo.
        let now = datetime!(2026-11-29 23:30 UTC);
        assert_eq!(week_of(now, UtcOffset::UTC).0, time::macros::date!(2026 - 11 - 23));
        assert_eq!(week_of(now, time::macros::offset!(+9)).0, time::macros::date!(2026 - 11 - 30));
        assert_eq!(month_of(now, time::macros::offset!(+9)).0, time::macros::date!(2026 - 11 - 01));
        assert_eq!(
            month_of(datetime!(2026-11-30 23:30 UTC), time::macros::offset!(+9)).0,
            time::macros::date!(2026 - 12 - 01)
        );
    }

    #[test]
    fn figures_count_cases_and_people_per_stage_and_status() {
        let now = datetime!(2026-12-01 12:00 UTC);
        let mut stale_one = line(Stage::Intake, Status::Open, 3, now - Duration::days(31));
        Arc::get_mut(&mut stale_one).unwrap().milestones = vec![MilestoneFacts {
            kind: MilestoneKind::Moved,
            date: EventDate::from_stored("2026-12-01").unwrap(),
            country: None,
            sponsorship: None,
        }];
        let cases = vec![
            stale_one,
            line(Stage::Intake, Status::OnHold, 1, now - Duration::days(14)),
            line(Stage::Arrived, Status::Closed(Outcome::Resettled), 2, now),
        ];
        let f = coordinator_figures(&cases, now, UtcOffset::UTC, &[14, 30, 60]);
        assert_eq!((f.cases, f.people), (3, 6));
        let intake = &f.pipeline[0];
        assert_eq!((intake.open, intake.on_hold, intake.closed, intake.people), (1, 1, 0, 4));
        assert_eq!(f.pipeline.len(), 11);
        assert_eq!(
            f.statuses.iter().find(|r| r.status == Status::Closed(Outcome::Resettled)).unwrap().people,
            2
        );
        assert_eq!(
            f.stale,
            vec![
                StaleRow { days: 14, open: 1, on_hold: 1 },
                StaleRow { days: 30, open: 1, on_hold: 0 },
                StaleRow { days: 60, open: 0, on_hold: 0 },
            ]
        );
        assert_eq!(f.occupancy[&None].people(), 4, "closed cases occupy no place");
        assert_eq!(f.load.get(&None), Some(&1), "one open case held by no one");
        assert_eq!(f.week, PeriodCount { milestones: 1, cases: 1 });
    }
}
