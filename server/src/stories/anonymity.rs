//! The k-anonymity check: an adversary holding every index record matches
//! a published story to the cases it fits. A story is published only if
//! it, together with every other story ever approved about the same case
//! (withdrawn ones too: they may already be out), fits at least k cases
//! that a story could be about. Otherwise the facts are generalised one
//! step at a time (`Step::LADDER`) until they do, or the story is refused.

use std::borrow::Borrow;

use super::compose::out_of_danger_by_facts;
use super::model::{Facts, Reason, Step, Subject};
use crate::cases::model::MilestoneKind;
use crate::cases::service::Summary;
use crate::publication::region::Place;

/// Whether a case could be the subject of a story: it is out of danger by
/// the same rule the gate uses, read from the index.
pub fn is_candidate(s: &Summary) -> bool {
    out_of_danger_by_facts(s.stage, s.status, &s.milestones).passed()
}

/// Whether every fact of a story is true of a case, as its index record
/// tells. A date known more loosely than the story's period does not fit:
/// counting it would overstate how many cases hide the subject.
pub fn fits(f: &Facts, s: &Summary) -> bool {
    let Some(arrived) = s.arrived() else { return false };
    if f.arrival.is_some_and(|p| !p.covers(arrived)) {
        return false;
    }
    if let Some(place) = f.destination {
        if !s.destination().is_some_and(|c| place.covers(c)) {
            return false;
        }
    }
    if let Some(kind) = f.kind.progress() {
        let progress = s.milestones.iter().filter(|m| m.kind == kind && m.date >= arrived);
        let fits_progress = match f.progress {
            Some(p) => progress.into_iter().any(|m| p.covers(m.date)),
            None => progress.into_iter().next().is_some(),
        };
        if !fits_progress {
            return false;
        }
    }
    match f.subject {
        Subject::Person { age, gender } => match s.persons.as_slice() {
            [one] => {
                age.is_none_or(|a| a.covers(one.age_band)) && gender.is_none_or(|g| one.gender == Some(g))
            }
            _ => false,
        },
        Subject::Group { size, child } => {
            s.persons.len() >= 2
                && size.is_none_or(|b| b.covers(s.persons.len()))
                && child.is_none_or(|c| {
                    // The story names the youngest: the case's youngest must be it.
                    s.persons.iter().map(|p| p.age_band).min().is_some_and(|b| c.covers(b))
                })
        }
    }
}

/// How many candidate cases fit every one of `stories` at once.
pub fn count<S: Borrow<Summary>>(stories: &[Facts], index: &[S]) -> usize {
    index.iter().map(Borrow::borrow).filter(|s| is_candidate(s) && stories.iter().all(|f| fits(f, s))).count()
}

/// The facts that passed, the steps taken to get there, and how many cases
/// they fit together with the case's other stories.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Anonymised {
    pub facts: Facts,
    pub steps: Vec<Step>,
    pub fits: usize,
}

/// Generalise `finest` until it, with `others` (the case's earlier
/// stories), fits at least `k` candidate cases; or refuse with the best
/// count reached. A destination that fewer than `k` candidates reach is
/// named as its region from the start.
pub fn anonymise<S: Borrow<Summary>>(
    finest: Facts,
    others: &[Facts],
    index: &[S],
    k: u32,
) -> Result<Anonymised, Reason> {
    let k_cases = usize::try_from(k).unwrap_or(usize::MAX);
    let mut facts = finest;
    let mut steps = Vec::new();
    if let Some(Place::Country(c)) = facts.destination {
        let reaching = index
            .iter()
            .map(Borrow::borrow)
            .filter(|s| is_candidate(s) && s.destination() == Some(c))
            .count();
        if reaching < k_cases {
            if let Some(wider) = Step::DestinationToRegion.apply(&facts) {
                facts = wider;
                steps.push(Step::DestinationToRegion);
            }
        }
    }
    let together = |f: &Facts| {
        let mut all = Vec::with_capacity(others.len() + 1);
        all.push(*f);
        all.extend_from_slice(others);
        count(&all, index)
    };
    let mut fits = together(&facts);
    for step in Step::LADDER {
        if fits >= k_cases {
            return Ok(Anonymised { facts, steps, fits });
        }
        if let Some(wider) = step.apply(&facts) {
            facts = wider;
            steps.push(step);
            fits = together(&facts);
        }
    }
    if fits >= k_cases { Ok(Anonymised { facts, steps, fits }) } else { Err(Reason::TooFew { fits, k }) }
}

/// Further steps a coordinator may choose on top of the check's: every
/// step that still changes something. Each only says less, so the story
/// still fits at least as many cases.
pub fn further_steps(facts: &Facts) -> Vec<Step> {
    Step::ALL.into_iter().filter(|s| s.apply(facts).is_some()).collect()
}

/// Apply a coordinator's chosen steps (in the ladder's order), ignoring
/// any that no longer change anything.
pub fn apply_chosen(facts: Facts, chosen: &[Step]) -> Facts {
    let mut out = facts;
    for step in Step::LADDER {
        if chosen.contains(&step) {
            if let Some(wider) = step.apply(&out) {
                out = wider;
            }
        }
    }
    out
}

/// The milestone kinds a story's facts mention, for the reader of a draft.
pub fn mentions(f: &Facts) -> Vec<MilestoneKind> {
    let mut kinds = vec![MilestoneKind::Arrived];
    kinds.extend(f.kind.progress());
    kinds
}
