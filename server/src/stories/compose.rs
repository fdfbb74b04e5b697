//! A draft from a case: the finest facts the allowlist lets out, and what
//! the consent, danger and embargo gates decide. Only these values leave:
//! the kinds and dates of two milestones, the age bands and genders of the
//! people, the group's size and the arrival's country. Never an alias, a
//! shelter, a note, a place code, a transit country, a caseworker or an id.

use time::{Date, Duration};

use super::model::{AgeWords, Decision, Facts, Gate, Reason, SizeBand, StoryKind, Subject};
use crate::cases::index::MilestoneFacts;
use crate::cases::model::{EventDate, MilestoneKind, Outcome, Stage, Status};
use crate::cases::service::Case;
use crate::publication::PublicationPolicy;
use crate::publication::period::Period;
use crate::publication::region::{self, Place};

/// A case's facts a story may be made from.
#[derive(Debug, Clone)]
pub struct Source {
    pub kind: StoryKind,
    /// The finest facts, before the k-anonymity check generalises them.
    pub facts: Facts,
    /// The latest milestone the story mentions (the embargo counts from it).
    pub latest: EventDate,
}

/// The earliest arrival: the story's arrival, and the index's.
fn arrival(milestones: &[MilestoneFacts]) -> Option<MilestoneFacts> {
    milestones.iter().filter(|m| m.kind == MilestoneKind::Arrived).min_by_key(|m| m.date).copied()
}

/// The finest facts of a story of `kind` about `case`, or why the case has
/// none to tell.
pub fn source(case: &Case, kind: StoryKind) -> Result<Source, Reason> {
    let milestones = case.milestone_facts();
    let arrived = arrival(&milestones).ok_or(Reason::Missing { kind: MilestoneKind::Arrived })?;
    let progress = match kind.progress() {
        None => None,
        Some(k) => Some(
            milestones
                .iter()
                .filter(|m| m.kind == k && m.date >= arrived.date)
                .max_by_key(|m| m.date)
                .copied()
                .ok_or(Reason::Missing { kind: k })?,
        ),
    };
    let persons = case.group.persons();
    let subject = match persons {
        [one] => {
            if one.age_band.is_child() {
                return Err(Reason::ChildAlone);
            }
            Subject::Person { age: Some(AgeWords::Band(one.age_band)), gender: one.gender }
        }
        _ => Subject::Group {
            size: SizeBand::of(persons.len()),
            child: persons.iter().map(|p| p.age_band).filter(|b| b.is_child()).min().map(AgeWords::Band),
        },
    };
    // Only a country every language has a name for is named; any other
    // destination starts as its region.
    let destination = crate::cases::index::destination(&milestones)
        .map(|c| if region::is_named(c) { Place::Country(c) } else { Place::Region(region::Region::of(c)) });
    let latest = progress.map_or(arrived.date, |p| p.date.max(arrived.date));
    Ok(Source {
        kind,
        facts: Facts {
            kind,
            subject,
            arrival: Some(Period::finest_of(arrived.date)),
            destination,
            progress: progress.map(|p| Period::finest_of(p.date)),
        },
        latest,
    })
}

/// Whether a case is out of danger: arrived or later, not closed in a way
/// that means danger or no news, and no detention or repatriation recorded
/// on or after its latest arrival.
pub fn out_of_danger(case: &Case) -> Decision {
    out_of_danger_by_facts(case.stage, case.status, &case.milestone_facts())
}

/// [`out_of_danger`] from what the index keeps, so the k-anonymity check
/// counts only cases a story could be about.
pub fn out_of_danger_by_facts(stage: Stage, status: Status, milestones: &[MilestoneFacts]) -> Decision {
    if !stage.is_out_of_danger() {
        return Decision::Refused(Reason::NotArrived { stage });
    }
    if let Status::Closed(outcome) = status {
        if !matches!(outcome, Outcome::Resettled | Outcome::SelfSettled) {
            return Decision::Refused(Reason::ClosedAs { outcome });
        }
    }
    let latest_arrival = milestones.iter().filter(|m| m.kind == MilestoneKind::Arrived).map(|m| m.date).max();
    let danger = milestones
        .iter()
        .filter(|m| matches!(m.kind, MilestoneKind::Detained | MilestoneKind::Repatriated))
        .filter(|m| latest_arrival.is_none_or(|a| m.date.last_day() >= a.date()))
        .max_by_key(|m| m.date);
    match danger {
        Some(m) => Decision::Refused(Reason::DangerAfterArrival { kind: m.kind }),
        None => Decision::Passed,
    }
}

/// Every person a story mentions must have consented; a group story
/// mentions the whole group.
pub fn consent(case: &Case) -> Decision {
    let persons = case.group.persons();
    let missing = persons.iter().filter(|p| !p.consent).count();
    if missing == 0 {
        Decision::Passed
    } else {
        Decision::Refused(Reason::NoConsent { missing, of: persons.len() })
    }
}

/// Not before `embargo_days` after the last day of the latest milestone
/// mentioned (a date known to a month counts from the month's end).
pub fn embargo(latest: EventDate, today: Date, policy: &PublicationPolicy) -> Decision {
    let until = latest.last_day() + Duration::days(i64::from(policy.embargo_days));
    if today >= until {
        Decision::Passed
    } else {
        Decision::Refused(Reason::Embargoed { until, days: policy.embargo_days })
    }
}

/// The gates that need only the case, in order; the k-anonymity gate is
/// decided by [`super::anonymity`].
pub fn case_gates(
    case: &Case,
    kind: StoryKind,
    today: Date,
    policy: &PublicationPolicy,
) -> (Option<Source>, Vec<(Gate, Decision)>) {
    let mut gates = Vec::with_capacity(Gate::ALL.len());
    let source = match source(case, kind) {
        Ok(s) => {
            gates.push((Gate::Facts, Decision::Passed));
            Some(s)
        }
        Err(reason) => {
            gates.push((Gate::Facts, Decision::Refused(reason)));
            None
        }
    };
    gates.push((Gate::Consent, consent(case)));
    gates.push((Gate::OutOfDanger, out_of_danger(case)));
    if let Some(s) = &source {
        gates.push((Gate::Embargo, embargo(s.latest, today, policy)));
    }
    (source, gates)
}

/// Whether every case-only gate passed.
pub fn all_passed(gates: &[(Gate, Decision)]) -> bool {
    gates.iter().all(|(_, d)| d.passed())
}
