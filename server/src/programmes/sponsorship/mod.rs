//! The education sponsorship: children of cases enrolled in a plan that
//! pays their schooling. Joining, leaving and graduating are milestones of
//! the case (`MilestoneKind::Sponsorship*`, with a `SponsorshipStep`); this
//! module reads the plan back from the index's milestone facts, for the
//! coordinator's dashboard and the annual report. `service` holds the
//! rules a sponsorship milestone is checked by and the dashboard's counts;
//! `routes` the parts of the milestone form, the case page and the homes.

pub mod routes;
pub mod service;

use crate::cases::index::MilestoneFacts;
use crate::cases::model::{EventDate, LeaveReason, MilestoneKind};
use crate::cases::service::Summary;
use crate::ids::{CaseId, MilestoneId};

/// How an enrolment ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum End {
    Left(LeaveReason),
    Graduated,
}

/// A month, as (year, month): the sponsorship counts by month.
pub type YearMonth = (i32, u8);

pub fn month_of(date: EventDate) -> YearMonth {
    let d = date.date();
    (d.year(), u8::from(d.month()))
}

/// One child's time in the plan, from a "joined" milestone to the first
/// "left" or "graduated" milestone naming it (if any).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Enrolment {
    pub case: CaseId,
    /// The "joined" milestone's id.
    pub id: MilestoneId,
    /// The child's place in the case's group, if the alias is still there.
    pub child: Option<u8>,
    pub joined: YearMonth,
    /// Never before `joined`: an end dated earlier counts in the joining month.
    pub ended: Option<(YearMonth, End)>,
}

impl Enrolment {
    /// In the plan at the end of `month`.
    pub fn in_plan_after(&self, month: YearMonth) -> bool {
        self.joined <= month && self.ended.is_none_or(|(end, _)| end > month)
    }

    /// In the plan before `month` began.
    pub fn in_plan_before(&self, month: YearMonth) -> bool {
        self.joined < month && self.ended.is_none_or(|(end, _)| end >= month)
    }
}

/// The enrolments of one case's milestones.
pub fn of_case(case: CaseId, milestones: &[MilestoneFacts]) -> Vec<Enrolment> {
    let mut out: Vec<Enrolment> = milestones
        .iter()
        .filter(|m| m.kind == MilestoneKind::SponsorshipJoined)
        .filter_map(|m| {
            let s = m.sponsorship?;
            Some(Enrolment { case, id: s.enrolment, child: s.child, joined: month_of(m.date), ended: None })
        })
        .collect();
    let mut ends: Vec<(YearMonth, MilestoneId, End)> = milestones
        .iter()
        .filter_map(|m| {
            let s = m.sponsorship?;
            let end = match m.kind {
                MilestoneKind::SponsorshipLeft => End::Left(s.reason.unwrap_or(LeaveReason::Other)),
                MilestoneKind::SponsorshipGraduated => End::Graduated,
                _ => return None,
            };
            Some((month_of(m.date), s.enrolment, end))
        })
        .collect();
    ends.sort();
    for (month, enrolment, end) in ends {
        if let Some(e) = out.iter_mut().find(|e| e.id == enrolment && e.ended.is_none()) {
            e.ended = Some((month.max(e.joined), end));
        }
    }
    out
}

/// Every enrolment of every case.
pub fn enrolments<S: std::ops::Deref<Target = Summary>>(cases: &[S]) -> Vec<Enrolment> {
    cases.iter().flat_map(|c| of_case(c.id, &c.milestones)).collect()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::cases::index::SponsorshipFacts;

    fn fact(
        kind: MilestoneKind,
        date: &str,
        enrolment: MilestoneId,
        reason: Option<LeaveReason>,
    ) -> MilestoneFacts {
        MilestoneFacts::of(kind, EventDate::from_stored(date).unwrap(), None)
            .with_sponsorship(SponsorshipFacts { enrolment, child: Some(0), reason })
    }

    #[test]
    fn an_enrolment_runs_from_joining_to_its_first_end() {
        let (a, b) = (MilestoneId::random(), MilestoneId::random());
        let facts = [
            fact(MilestoneKind::SponsorshipJoined, "2025-03", a, None),
            fact(MilestoneKind::SponsorshipLeft, "2025-10", a, Some(LeaveReason::Moved)),
            fact(MilestoneKind::SponsorshipGraduated, "2026-01", a, None),
            fact(MilestoneKind::SponsorshipJoined, "2026-02", b, None),
        ];
        let got = of_case(CaseId::random(), &facts);
        assert_eq!(got.len(), 2);
        assert_eq!(got[0].ended, Some(((2025, 10), End::Left(LeaveReason::Moved))));
        assert!(got[0].in_plan_after((2025, 9)) && !got[0].in_plan_after((2025, 10)));
        assert!(got[0].in_plan_before((2025, 10)) && !got[0].in_plan_before((2025, 3)));
        assert_eq!(got[1].ended, None);
        assert!(got[1].in_plan_after((2030, 1)));
    }
}
