//! The sponsorship's parts of other pages (it has no page of its own): the
//! milestone form's fields and their parsing, the case page's section, and
//! the block of the dashboards. docs/programmes.md describes them.

use std::sync::Arc;

use super::service::{self, Change, PlanFigures};
use super::{End, YearMonth};
use crate::cases::model::{
    Alias, EventDate, FieldError, LeaveReason, MilestoneKind, Precision, SchoolLevel, SponsorCode,
    SponsorshipStep,
};
use crate::cases::service::{Case, Summary};
use crate::ids::MilestoneId;
use crate::publication::period::{Period, period_name};
use crate::web::messages::Messages;
use crate::web::templates::FormErrors;

fn pick<T: PartialEq + Copy, const N: usize>(
    all: &[T; N],
    words: &[&'static str; N],
    value: T,
) -> &'static str {
    all.iter().position(|v| *v == value).and_then(|i| words.get(i)).copied().unwrap_or("")
}

pub fn level_word(t: &Messages, level: SchoolLevel) -> &'static str {
    pick(&SchoolLevel::ALL, &t.sponsorship_levels, level)
}

pub fn reason_word(t: &Messages, reason: LeaveReason) -> &'static str {
    pick(&LeaveReason::ALL, &t.sponsorship_reasons, reason)
}

/// "March 2025".
pub fn month_words(t: &Messages, (year, month): YearMonth) -> String {
    period_name(t, Period::Month { year, month })
}

// ---------------------------------------------------------------------------
// The milestone form
// ---------------------------------------------------------------------------

/// What the sponsorship fields of the milestone form offer.
pub struct FormChoices {
    /// Open the fields at once: the form is about a sponsorship kind.
    pub open: bool,
    /// Aliases of the case's persons under 18.
    pub children: Vec<String>,
    pub levels: Vec<(&'static str, &'static str)>,
    /// (enrolment id, "Sparrow, joined March 2025"): the case's open
    /// enrolments, the edited milestone's own counted as open.
    pub enrolments: Vec<(String, String)>,
    pub reasons: Vec<(&'static str, &'static str)>,
}

pub fn choices(t: &Messages, case: &Case, editing: Option<MilestoneId>, kind: &str) -> FormChoices {
    let open = MilestoneKind::parse(kind).is_ok_and(MilestoneKind::is_sponsorship);
    let enrolments = service::case_enrolments(case, editing)
        .into_iter()
        .filter(|e| e.ended.is_none())
        .map(|e| {
            let alias = joined_child(case, e.id).unwrap_or(t.sponsorship_child_gone);
            let label = t
                .sponsorship_enrolment_option
                .replace("{month}", &month_words(t, e.joined))
                .replace("{alias}", alias);
            (e.id.to_string(), label)
        })
        .collect();
    FormChoices {
        open,
        children: case
            .group
            .persons()
            .iter()
            .filter(|p| p.age_band.is_child())
            .map(|p| p.alias.as_str().to_owned())
            .collect(),
        levels: SchoolLevel::ALL.iter().map(|l| (l.as_str(), level_word(t, *l))).collect(),
        enrolments,
        reasons: LeaveReason::ALL.iter().map(|r| (r.as_str(), reason_word(t, *r))).collect(),
    }
}

/// The alias a "joined" milestone names.
fn joined_child(case: &Case, enrolment: MilestoneId) -> Option<&str> {
    case.milestones.iter().find(|m| m.id == enrolment).and_then(|m| match &m.draft.sponsorship {
        Some(SponsorshipStep::Joined { child, .. }) => Some(child.as_str()),
        _ => None,
    })
}

/// The form's sponsorship fields, as typed.
pub struct StepInput<'a> {
    pub child: &'a str,
    pub school_level: &'a str,
    pub sponsor: &'a str,
    pub enrolment: &'a str,
    pub reason: &'a str,
}

/// The step a milestone of `kind` carries: none for the other kinds (their
/// sponsorship fields are ignored), each problem named beside its field.
/// `None` when something was added to `errors`.
pub fn parse_step(
    kind: MilestoneKind,
    date: Option<EventDate>,
    input: &StepInput<'_>,
    errors: &mut FormErrors,
) -> Option<Option<SponsorshipStep>> {
    if !kind.is_sponsorship() {
        return Some(None);
    }
    let mut keep_date = true;
    if date.is_some_and(|d| d.precision() == Precision::Year) {
        errors.add(FieldError::new("date", service::NEEDS_MONTH));
        keep_date = false;
    }
    let enrolment = |errors: &mut FormErrors| {
        keep(
            MilestoneId::parse(input.enrolment)
                .ok_or_else(|| FieldError::new("enrolment", service::NO_SUCH_ENROLMENT)),
            errors,
        )
    };
    let step = match kind {
        MilestoneKind::SponsorshipJoined => {
            let child = keep(
                Alias::parse(input.child).map_err(|_| FieldError::new("child", service::NOT_IN_CASE)),
                errors,
            );
            let level = keep(SchoolLevel::parse(input.school_level), errors);
            let sponsor = keep(SponsorCode::parse(input.sponsor), errors);
            match (child, level, sponsor) {
                (Some(child), Some(level), Some(sponsor)) => {
                    Some(SponsorshipStep::Joined { child, level, sponsor })
                }
                _ => None,
            }
        }
        MilestoneKind::SponsorshipLeft => {
            let enrolment = enrolment(errors);
            let reason = keep(LeaveReason::parse(input.reason), errors);
            match (enrolment, reason) {
                (Some(enrolment), Some(reason)) => Some(SponsorshipStep::Left { enrolment, reason }),
                _ => None,
            }
        }
        _ => enrolment(errors).map(|enrolment| SponsorshipStep::Graduated { enrolment }),
    };
    step.filter(|_| keep_date).map(Some)
}

fn keep<T>(result: Result<T, FieldError>, errors: &mut FormErrors) -> Option<T> {
    result.map_err(|e| errors.add(e)).ok()
}

/// The form's fields for a recorded step: (child, level, sponsor, enrolment, reason).
pub fn step_fields(step: Option<&SponsorshipStep>) -> [String; 5] {
    match step {
        Some(SponsorshipStep::Joined { child, level, sponsor }) => [
            child.as_str().to_owned(),
            level.as_str().to_owned(),
            sponsor.as_str().to_owned(),
            String::new(),
            String::new(),
        ],
        Some(SponsorshipStep::Left { enrolment, reason }) => {
            [String::new(), String::new(), String::new(), enrolment.to_string(), reason.as_str().to_owned()]
        }
        Some(SponsorshipStep::Graduated { enrolment }) => {
            [String::new(), String::new(), String::new(), enrolment.to_string(), String::new()]
        }
        None => Default::default(),
    }
}

/// The notice after a sponsorship milestone was added, with `{case}` left
/// for the caller: "In the case of {case}, Sparrow joined the education sponsorship."
pub fn notice(t: &Messages, case: &Case, milestone: MilestoneId) -> Option<String> {
    let m = case.milestones.iter().find(|m| m.id == milestone)?;
    let (template, enrolment) = match m.draft.sponsorship.as_ref()? {
        SponsorshipStep::Joined { .. } => (t.sponsorship_notice_joined, m.id),
        SponsorshipStep::Left { enrolment, .. } => (t.sponsorship_notice_left, *enrolment),
        SponsorshipStep::Graduated { enrolment } => (t.sponsorship_notice_graduated, *enrolment),
    };
    let child = joined_child(case, enrolment).unwrap_or(t.sponsorship_child_gone);
    Some(template.replace("{child}", child))
}

// ---------------------------------------------------------------------------
// The case page
// ---------------------------------------------------------------------------

pub struct CaseLine {
    pub child: String,
    pub joined: String,
    pub level: &'static str,
    pub sponsor: String,
    pub status: String,
}

/// The case page's section: shown when a child of the case is or was in
/// the plan, or could join it.
pub struct CaseSection {
    pub shown: bool,
    pub lines: Vec<CaseLine>,
}

pub fn case_section(t: &Messages, case: &Case) -> CaseSection {
    let lines: Vec<CaseLine> = service::case_enrolments(case, None)
        .into_iter()
        .filter_map(|e| {
            let joined = case.milestones.iter().find(|m| m.id == e.id)?;
            let Some(SponsorshipStep::Joined { child, level, sponsor }) = &joined.draft.sponsorship else {
                return None;
            };
            let status = match e.ended {
                None => t.sponsorship_in_plan.to_owned(),
                Some((month, End::Left(reason))) => t
                    .sponsorship_left_in
                    .replace("{month}", &month_words(t, month))
                    .replace("{reason}", reason_word(t, reason)),
                Some((month, End::Graduated)) => {
                    t.sponsorship_graduated_in.replace("{month}", &month_words(t, month))
                }
            };
            Some(CaseLine {
                child: child.as_str().to_owned(),
                joined: month_words(t, e.joined),
                level: level_word(t, *level),
                sponsor: sponsor.as_str().to_owned(),
                status,
            })
        })
        .collect();
    let shown = !lines.is_empty() || case.group.persons().iter().any(|p| p.age_band.is_child());
    CaseSection { shown, lines }
}

// ---------------------------------------------------------------------------
// The dashboards
// ---------------------------------------------------------------------------

pub struct CountLine {
    pub what: String,
    pub children: usize,
    /// A reason's line, under "Left".
    pub detail: bool,
}

pub struct ChangeView {
    pub href: String,
    pub child: String,
    pub month: String,
    pub what: String,
}

pub struct DashBlock {
    /// A caseworker's own cases, not the whole programme.
    pub own: bool,
    pub heading: &'static str,
    pub intro: &'static str,
    pub in_plan: usize,
    /// "This fiscal year so far, from September 2026".
    pub fiscal: String,
    pub counts: Vec<CountLine>,
    pub changes: Vec<ChangeView>,
}

/// The block of a home page, over the lines it already holds (`own`: a
/// caseworker's own cases).
pub fn dash_block(
    t: &Messages,
    cases: &[Arc<Summary>],
    today: time::Date,
    fiscal_year_start: u8,
    own: bool,
) -> DashBlock {
    let now = (today.year(), u8::from(today.month()));
    let f: PlanFigures = service::plan_figures(cases, now, fiscal_year_start);
    let mut counts = vec![
        CountLine { what: t.sponsorship_dash_joined.to_owned(), children: f.joined, detail: false },
        CountLine { what: t.sponsorship_dash_left.to_owned(), children: f.left_total(), detail: false },
    ];
    counts.extend(f.left.iter().map(|(reason, n)| CountLine {
        what: reason_word(t, *reason).to_owned(),
        children: *n,
        detail: true,
    }));
    counts.push(CountLine {
        what: t.sponsorship_dash_graduated.to_owned(),
        children: f.graduated,
        detail: false,
    });
    let changes = f
        .changes
        .iter()
        .map(|c| ChangeView {
            href: format!("/cases/{}", c.case),
            child: c.child.clone().unwrap_or_else(|| t.sponsorship_child_gone.to_owned()),
            month: month_words(t, c.month),
            what: match c.change {
                Change::Joined => t.sponsorship_dash_joined.to_owned(),
                Change::Ended(End::Left(reason)) => {
                    t.sponsorship_dash_left_because.replace("{reason}", reason_word(t, reason))
                }
                Change::Ended(End::Graduated) => t.sponsorship_dash_graduated.to_owned(),
            },
        })
        .collect();
    DashBlock {
        own,
        heading: if own { t.sponsorship_dash_own_heading } else { t.sponsorship_title },
        intro: if own { t.sponsorship_dash_own_intro } else { t.sponsorship_dash_intro },
        in_plan: f.in_plan,
        fiscal: t.sponsorship_dash_fiscal.replace("{start}", &month_words(t, f.from)),
        counts,
        changes,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::web::messages;

    #[test]
    fn every_level_and_reason_has_its_words() {
        for l in SchoolLevel::ALL {
            assert_eq!(level_word(messages::current(), l), l.label());
        }
        for r in LeaveReason::ALL {
            assert_eq!(reason_word(messages::current(), r), r.label());
        }
        assert_eq!(month_words(messages::current(), (2025, 3)), "March 2025");
    }

    #[test]
    fn the_form_names_each_problem_beside_its_field() {
        let today = time::macros::date!(2026 - 12 - 01);
        let input = StepInput {
            child: "",
            school_level: "college",
            sponsor: "Tanaka Hiroshi",
            enrolment: "",
            reason: "",
        };
        let mut errors = FormErrors::default();
        let year = EventDate::parse("2026", today).ok();
        assert!(parse_step(MilestoneKind::SponsorshipJoined, year, &input, &mut errors).is_none());
        for field in ["date", "child", "school_level", "sponsor"] {
            assert!(errors.get(field).is_some(), "{field}");
        }
        assert!(errors.get("sponsor").unwrap().contains("Never a sponsor's name"));
        let mut errors = FormErrors::default();
        assert!(parse_step(MilestoneKind::SponsorshipLeft, None, &input, &mut errors).is_none());
        assert!(errors.get("enrolment").is_some() && errors.get("reason").is_some());
        let mut errors = FormErrors::default();
        assert_eq!(parse_step(MilestoneKind::Moved, year, &input, &mut errors), Some(None), "ignored");
        assert!(errors.is_empty());
        let good = StepInput {
            child: "Sparrow",
            school_level: "primary",
            sponsor: "sp-0142",
            enrolment: "",
            reason: "",
        };
        let step = parse_step(
            MilestoneKind::SponsorshipJoined,
            EventDate::parse("2026-03", today).ok(),
            &good,
            &mut errors,
        );
        assert!(matches!(step, Some(Some(SponsorshipStep::Joined { .. }))));
    }
}
