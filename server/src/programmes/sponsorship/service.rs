//! The sponsorship's rules: what a sponsorship milestone may say about a
//! case (checked by `cases::service` on every add and edit, against the
//! case as read in that request), and the coordinator's figures for the
//! plan, counted from the index lines the dashboard already holds.

use std::collections::BTreeMap;

use super::{End, Enrolment, YearMonth, enrolments, month_of, of_case};
use crate::cases::model::{FieldError, LeaveReason, MilestoneKind, Precision, SponsorshipStep};
use crate::cases::service::{Case, Milestone, MilestoneDraft, Summary};
use crate::ids::{CaseId, MilestoneId};

pub const NOT_SPONSORSHIP: &str = "Only the education sponsorship's milestones name a child or an enrolment.";
pub const STEP_MISSING: &str = "An education sponsorship milestone names its child or its enrolment.";
pub const KEEPS_KIND: &str =
    "An education sponsorship milestone keeps its kind: record a new milestone instead.";
pub const NEEDS_MONTH: &str =
    "An education sponsorship milestone needs its month: write it as 2024-03 or as a day, not only a year.";
pub const NOT_IN_CASE: &str = "Choose a child of this case.";
pub const NOT_A_CHILD: &str = "Only a person under 18 can join the education sponsorship.";
pub const ALREADY_IN_PLAN: &str =
    "This child is already in the plan: record that they left or graduated before they join again.";
pub const REJOIN_TOO_EARLY: &str =
    "This child's earlier enrolment ended after that month: a new enrolment starts on or after it.";
pub const JOIN_AFTER_END: &str =
    "This enrolment ended before that month: its joining month cannot be after its end.";
pub const NO_SUCH_ENROLMENT: &str = "Choose an enrolment of this case.";
pub const ALREADY_ENDED: &str =
    "This enrolment has already ended: the child left or graduated. Reload the case to see it.";
pub const BEFORE_JOINING: &str = "A child cannot leave or graduate before the month they joined.";

/// The case's enrolments, as its milestones say, leaving out the milestone
/// `without` (the one being edited, so that it is checked as if new).
pub fn case_enrolments(case: &Case, without: Option<MilestoneId>) -> Vec<Enrolment> {
    let facts: Vec<_> = case
        .milestones
        .iter()
        .filter(|m| Some(m.id) != without)
        .map(|m| m.draft.facts(m.id, &case.group))
        .collect();
    of_case(case.id, &facts)
}

/// Whether `draft` may be added to `case` (`editing`: the milestone it
/// replaces). Any milestone goes through here: a kind outside the
/// sponsorship passes when it carries no step.
pub fn check(case: &Case, draft: &MilestoneDraft, editing: Option<&Milestone>) -> Result<(), FieldError> {
    if let Some(old) = editing {
        // Changing the kind would leave the enrolment's other steps
        // pointing at a milestone that no longer says the same thing.
        if old.draft.kind.is_sponsorship() && old.draft.kind != draft.kind {
            return Err(FieldError::new("kind", KEEPS_KIND));
        }
    }
    let step = match (&draft.sponsorship, draft.kind.is_sponsorship()) {
        (None, false) => return Ok(()),
        (Some(_), false) => return Err(FieldError::new("kind", NOT_SPONSORSHIP)),
        (None, true) => return Err(FieldError::new("kind", STEP_MISSING)),
        (Some(step), true) => step,
    };
    let matching = matches!(
        (draft.kind, step),
        (MilestoneKind::SponsorshipJoined, SponsorshipStep::Joined { .. })
            | (MilestoneKind::SponsorshipLeft, SponsorshipStep::Left { .. })
            | (MilestoneKind::SponsorshipGraduated, SponsorshipStep::Graduated { .. })
    );
    if !matching {
        return Err(FieldError::new("kind", STEP_MISSING));
    }
    if draft.date.precision() == Precision::Year {
        return Err(FieldError::new("date", NEEDS_MONTH));
    }
    let month = month_of(draft.date);
    let others = case_enrolments(case, editing.map(|m| m.id));
    match step {
        SponsorshipStep::Joined { child, .. } => {
            let persons = case.group.persons();
            let Some(place) = persons.iter().position(|p| &p.alias == child) else {
                return Err(FieldError::new("child", NOT_IN_CASE));
            };
            if !persons.get(place).is_some_and(|p| p.age_band.is_child()) {
                return Err(FieldError::new("child", NOT_A_CHILD));
            }
            let place = u8::try_from(place).ok();
            let own: Vec<&Enrolment> =
                others.iter().filter(|e| place.is_some() && e.child == place).collect();
            // This enrolment's own end, when an existing "joined" is edited.
            let this_end = editing.and_then(|old| end_of(case, old.id));
            match this_end {
                Some(end) if month > end => return Err(FieldError::new("date", JOIN_AFTER_END)),
                Some(_) => {}
                None => {
                    if own.iter().any(|e| e.ended.is_none()) {
                        return Err(FieldError::new("child", ALREADY_IN_PLAN));
                    }
                    if own.iter().filter_map(|e| e.ended).any(|(end, _)| end > month) {
                        return Err(FieldError::new("date", REJOIN_TOO_EARLY));
                    }
                }
            }
        }
        SponsorshipStep::Left { enrolment, .. } | SponsorshipStep::Graduated { enrolment } => {
            let Some(e) = others.iter().find(|e| e.id == *enrolment) else {
                return Err(FieldError::new("enrolment", NO_SUCH_ENROLMENT));
            };
            if e.ended.is_some() {
                return Err(FieldError::new("enrolment", ALREADY_ENDED));
            }
            if month < e.joined {
                return Err(FieldError::new("date", BEFORE_JOINING));
            }
        }
    }
    Ok(())
}

/// The month enrolment `id` ended in, by any milestone of the case.
fn end_of(case: &Case, id: MilestoneId) -> Option<YearMonth> {
    case.milestones
        .iter()
        .filter(|m| match &m.draft.sponsorship {
            Some(SponsorshipStep::Left { enrolment, .. } | SponsorshipStep::Graduated { enrolment }) => {
                *enrolment == id
            }
            _ => false,
        })
        .map(|m| month_of(m.draft.date))
        .min()
}

/// What happened to one child in the period a block counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Change {
    Joined,
    Ended(End),
}

/// One line of "who joined, left or graduated".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangeLine {
    pub case: CaseId,
    pub month: YearMonth,
    /// The child's alias from the case's line; `None` once it left the group.
    pub child: Option<String>,
    pub change: Change,
}

/// The plan as the coordinator's dashboard shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanFigures {
    /// In the plan at the end of the current month.
    pub in_plan: usize,
    /// The first month of the fiscal year counted, and the current month.
    pub from: YearMonth,
    pub to: YearMonth,
    pub joined: usize,
    /// Children who left, by reason (every reason, zero or not).
    pub left: BTreeMap<LeaveReason, usize>,
    pub graduated: usize,
    /// Newest first.
    pub changes: Vec<ChangeLine>,
}

impl PlanFigures {
    pub fn left_total(&self) -> usize {
        self.left.values().sum()
    }
}

/// The first month of the fiscal year that holds `month`, for a year that
/// starts in `start` (1..=12).
pub fn fiscal_start(month: YearMonth, start: u8) -> YearMonth {
    let start = start.clamp(1, 12);
    let (year, m) = month;
    if m >= start { (year, start) } else { (year - 1, start) }
}

/// Count the plan over `cases` (index lines, or a caseworker's own), for
/// the fiscal year so far up to `now` (a month). Exact counts: this is the
/// coordinators' internal view.
pub fn plan_figures<S: std::ops::Deref<Target = Summary>>(
    cases: &[S],
    now: YearMonth,
    fiscal_year_start: u8,
) -> PlanFigures {
    let from = fiscal_start(now, fiscal_year_start);
    let within = |m: YearMonth| from <= m && m <= now;
    let alias_of = |case: CaseId, child: Option<u8>| -> Option<String> {
        let line = cases.iter().find(|c| c.id == case)?;
        line.aliases.get(usize::from(child?)).cloned()
    };
    let mut figures = PlanFigures {
        in_plan: 0,
        from,
        to: now,
        joined: 0,
        left: LeaveReason::ALL.iter().map(|r| (*r, 0)).collect(),
        graduated: 0,
        changes: Vec::new(),
    };
    for e in enrolments(cases) {
        if e.in_plan_after(now) {
            figures.in_plan += 1;
        }
        let line =
            |month, change| ChangeLine { case: e.case, month, child: alias_of(e.case, e.child), change };
        if within(e.joined) {
            figures.joined += 1;
            figures.changes.push(line(e.joined, Change::Joined));
        }
        if let Some((month, end)) = e.ended.filter(|(m, _)| within(*m)) {
            match end {
                End::Left(reason) => *figures.left.entry(reason).or_default() += 1,
                End::Graduated => figures.graduated += 1,
            }
            figures.changes.push(line(month, Change::Ended(end)));
        }
    }
    figures.changes.sort_by(|a, b| {
        b.month.cmp(&a.month).then_with(|| a.child.cmp(&b.child)).then_with(|| a.change.cmp(&b.change))
    });
    figures
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::cases::model::{
        AgeBand, Alias, EventDate, Group, Note, Person, SchoolLevel, SponsorCode, Stage, Status,
    };
    use time::macros::datetime;

    fn case(milestones: Vec<Milestone>) -> Case {
        let person = |alias: &str, age_band| Person {
            alias: Alias::parse(alias).unwrap(),
            age_band,
            gender: None,
            consent: false,
        };
        Case {
            id: CaseId::random(),
            version: 1,
            group: Group::new(vec![person("Wren", AgeBand::Adult), person("Sparrow", AgeBand::Child)])
                .unwrap(),
            shelter: None,
            stage: Stage::Sheltered,
            status: Status::Open,
            notes: Note::parse("").unwrap(),
            created_at: datetime!(2026-01-01 00:00 UTC),
            updated_at: datetime!(2026-01-01 00:00 UTC),
            closed_at: None,
            milestones,
        }
    }

    fn draft(kind: MilestoneKind, date: &str, step: Option<SponsorshipStep>) -> MilestoneDraft {
        MilestoneDraft {
            kind,
            date: EventDate::from_stored(date).unwrap(),
            country: None,
            place_code: None,
            note: Note::parse("").unwrap(),
            sponsorship: step,
        }
    }

    fn joins(child: &str) -> SponsorshipStep {
        SponsorshipStep::Joined {
            child: Alias::parse(child).unwrap(),
            level: SchoolLevel::Primary,
            sponsor: SponsorCode::parse("SP-1").unwrap(),
        }
    }

    fn recorded(draft: MilestoneDraft) -> Milestone {
        Milestone { id: MilestoneId::random(), version: 1, draft }
    }

    fn refused(r: Result<(), FieldError>) -> (&'static str, String) {
        let e = r.unwrap_err();
        (e.field, e.message)
    }

    #[test]
    fn a_step_belongs_to_its_own_kind_only() {
        let c = case(Vec::new());
        let moved = draft(MilestoneKind::Moved, "2026-03", Some(joins("Sparrow")));
        assert_eq!(refused(check(&c, &moved, None)), ("kind", NOT_SPONSORSHIP.to_owned()));
        let bare = draft(MilestoneKind::SponsorshipJoined, "2026-03", None);
        assert_eq!(refused(check(&c, &bare, None)).1, STEP_MISSING);
        let crossed = draft(MilestoneKind::SponsorshipLeft, "2026-03", Some(joins("Sparrow")));
        assert_eq!(refused(check(&c, &crossed, None)).1, STEP_MISSING);
        assert!(check(&c, &draft(MilestoneKind::Moved, "2026", None), None).is_ok(), "other kinds pass");
    }

    #[test]
    fn a_child_rejoins_only_after_the_earlier_enrolment_ended() {
        let first = recorded(draft(MilestoneKind::SponsorshipJoined, "2025-03", Some(joins("Sparrow"))));
        let end = recorded(draft(
            MilestoneKind::SponsorshipLeft,
            "2025-10",
            Some(SponsorshipStep::Left { enrolment: first.id, reason: LeaveReason::Moved }),
        ));
        let c = case(vec![first.clone(), end.clone()]);
        let early = draft(MilestoneKind::SponsorshipJoined, "2025-09", Some(joins("Sparrow")));
        assert_eq!(refused(check(&c, &early, None)), ("date", REJOIN_TOO_EARLY.to_owned()));
        let again = draft(MilestoneKind::SponsorshipJoined, "2025-10", Some(joins("Sparrow")));
        assert!(check(&c, &again, None).is_ok());
        // The ended enrolment's "joined" may not move after its end, nor change kind.
        let later = draft(MilestoneKind::SponsorshipJoined, "2025-11", Some(joins("Sparrow")));
        assert_eq!(refused(check(&c, &later, Some(&first))), ("date", JOIN_AFTER_END.to_owned()));
        let earlier = draft(MilestoneKind::SponsorshipJoined, "2025-01-15", Some(joins("Sparrow")));
        assert!(check(&c, &earlier, Some(&first)).is_ok());
        let other = draft(MilestoneKind::Moved, "2025-03", None);
        assert_eq!(refused(check(&c, &other, Some(&first))).1, KEEPS_KIND);
        // Its "left", edited, may end it again (it is the one that ended it).
        let moved_end = draft(
            MilestoneKind::SponsorshipLeft,
            "2025-12",
            Some(SponsorshipStep::Left { enrolment: first.id, reason: LeaveReason::LostContact }),
        );
        assert!(check(&c, &moved_end, Some(&end)).is_ok());
        assert_eq!(refused(check(&c, &moved_end, None)), ("enrolment", ALREADY_ENDED.to_owned()));
    }

    #[test]
    fn a_fiscal_year_starts_in_its_month() {
        assert_eq!(fiscal_start((2026, 12), 9), (2026, 9));
        assert_eq!(fiscal_start((2026, 8), 9), (2025, 9));
        assert_eq!(fiscal_start((2026, 9), 9), (2026, 9));
        assert_eq!(fiscal_start((2026, 3), 1), (2026, 1));
        assert_eq!(fiscal_start((2026, 3), 0), (2026, 1), "a month out of range counts as January");
    }
}
