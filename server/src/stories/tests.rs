//! The promises of the story logic, tested on generated cases:
//! nothing outside the allowlist reaches a story, every gate refuses what
//! it must, and an adversary holding every index record cannot narrow a
//! published story (or all stories about one case together) to fewer
//! than k cases.

use std::sync::Arc;

use proptest::prelude::*;
use time::macros::{date, datetime};
use time::{Date, Duration};

use super::anonymity::{self, anonymise};
use super::compose::{self, case_gates};
use super::model::{Decision, Facts, Gate, Opening, Reason, Step, StoryKind};
use super::phrasing::EN;
use crate::cases::index::PersonFacts;
use crate::cases::model::{
    AgeBand, Alias, CountryCode, EventDate, Gender, Group, MilestoneKind, Note, Outcome, Person, ShelterCode,
    Stage, Status,
};
use crate::cases::service::{Case, Milestone, MilestoneDraft, Summary};
use crate::ids::{CaseId, MilestoneId, ShelterId};
use crate::publication::PublicationPolicy;

const TODAY: Date = date!(2026 - 12 - 01);

fn milestone(
    kind: MilestoneKind,
    date: &str,
    country: Option<&str>,
    note: &str,
    place: Option<&str>,
) -> Milestone {
    Milestone {
        id: MilestoneId::random(),
        version: 1,
        draft: MilestoneDraft {
            kind,
            date: EventDate::from_stored(date).unwrap(),
            country: country.map(|c| CountryCode::parse(c).unwrap()),
            place_code: place.map(|p| ShelterCode::parse(p).unwrap()),
            note: Note::parse(note).unwrap(),
            sponsorship: None,
        },
    }
}

fn person(alias: &str, band: AgeBand, gender: Option<Gender>, consent: bool) -> Person {
    Person { alias: Alias::parse(alias).unwrap(), age_band: band, gender, consent }
}

fn case(persons: Vec<Person>, stage: Stage, status: Status, milestones: Vec<Milestone>) -> Case {
    Case {
        id: CaseId::random(),
        version: 1,
        group: Group::new(persons).unwrap(),
        shelter: Some(ShelterId::random()),
        stage,
        status,
        notes: Note::parse("private notes").unwrap(),
        created_at: datetime!(2024-01-01 0:00 UTC),
        updated_at: datetime!(2025-01-01 0:00 UTC),
        closed_at: None,
        milestones,
    }
}

/// The case as the index keeps it.
fn summary(c: &Case) -> Arc<Summary> {
    Arc::new(Summary {
        id: c.id,
        version: c.version,
        aliases: c.group.persons().iter().map(|p| p.alias.as_str().to_owned()).collect(),
        stage: c.stage,
        status: c.status,
        shelter: c.shelter,
        assignees: Vec::new(),
        created_at: c.created_at,
        updated_at: c.updated_at,
        persons: c
            .group
            .persons()
            .iter()
            .map(|p| PersonFacts { age_band: p.age_band, gender: p.gender })
            .collect(),
        milestones: c.milestone_facts(),
        closed_at: c.closed_at,
    })
}

/// An adult who arrived in `country` on `arrived`, with consent.
fn arrived_adult(alias: &str, band: AgeBand, gender: Gender, arrived: &str, country: &str) -> Case {
    case(
        vec![person(alias, band, Some(gender), true)],
        Stage::Arrived,
        Status::Open,
        vec![
            milestone(MilestoneKind::CrossedBorder, "2024-11-02", Some("CN"), "", None),
            milestone(MilestoneKind::Arrived, arrived, Some(country), "", None),
        ],
    )
}

fn policy() -> PublicationPolicy {
    PublicationPolicy::default()
}

fn refused(gates: &[(Gate, Decision)], gate: Gate) -> Option<Reason> {
    gates.iter().find(|(g, _)| *g == gate).and_then(|(_, d)| match d {
        Decision::Refused(r) => Some(*r),
        _ => None,
    })
}

// --- The gates ----------------------------------------------------------------

#[test]
fn a_case_in_transit_or_detained_is_refused_with_the_reason() {
    let mut c = arrived_adult("Blue River", AgeBand::YoungAdult, Gender::Male, "2025-03-10", "JP");
    c.stage = Stage::InTransit;
    let (_, gates) = case_gates(&c, StoryKind::ReachedSafety, TODAY, &policy());
    assert_eq!(refused(&gates, Gate::OutOfDanger), Some(Reason::NotArrived { stage: Stage::InTransit }));
    assert!(EN.reason(&Reason::NotArrived { stage: Stage::InTransit }).contains("In transit"));

    c.stage = Stage::FollowUp;
    c.status = Status::Closed(Outcome::Detained);
    let (_, gates) = case_gates(&c, StoryKind::ReachedSafety, TODAY, &policy());
    assert_eq!(refused(&gates, Gate::OutOfDanger), Some(Reason::ClosedAs { outcome: Outcome::Detained }));

    for outcome in [Outcome::Repatriated, Outcome::LostContact, Outcome::Deceased, Outcome::Withdrew] {
        c.status = Status::Closed(outcome);
        let (_, gates) = case_gates(&c, StoryKind::ReachedSafety, TODAY, &policy());
        assert!(refused(&gates, Gate::OutOfDanger).is_some(), "{outcome:?}");
    }
    c.status = Status::Closed(Outcome::Resettled);
    let (_, gates) = case_gates(&c, StoryKind::ReachedSafety, TODAY, &policy());
    assert!(compose::all_passed(&gates), "{gates:?}");

    // A detention recorded after the arrival puts the case back in danger,
    // whatever its stage says; one known only to the arrival's year too.
    c.status = Status::Open;
    c.milestones.push(milestone(MilestoneKind::Detained, "2025", None, "", None));
    let (_, gates) = case_gates(&c, StoryKind::ReachedSafety, TODAY, &policy());
    assert_eq!(
        refused(&gates, Gate::OutOfDanger),
        Some(Reason::DangerAfterArrival { kind: MilestoneKind::Detained })
    );
}

#[test]
fn everyone_mentioned_must_have_consented() {
    let mut c = arrived_adult("Blue River", AgeBand::YoungAdult, Gender::Male, "2025-03-10", "JP");
    let mut persons = c.group.persons().to_vec();
    persons.push(person("Small Leaf", AgeBand::Under5, None, false));
    persons.push(person("Tall Pine", AgeBand::Adult, Some(Gender::Female), false));
    c.group = Group::new(persons).unwrap();
    let (_, gates) = case_gates(&c, StoryKind::Settling, TODAY, &policy());
    assert_eq!(refused(&gates, Gate::Consent), Some(Reason::NoConsent { missing: 2, of: 3 }));
    assert_eq!(
        EN.reason(&Reason::NoConsent { missing: 2, of: 3 }),
        "2 of the 3 people in this case have not consented to publication."
    );
}

#[test]
fn a_child_alone_is_never_a_story() {
    let c = case(
        vec![person("Small Leaf", AgeBand::Teen, None, true)],
        Stage::Arrived,
        Status::Open,
        vec![milestone(MilestoneKind::Arrived, "2025-03", Some("JP"), "", None)],
    );
    let (source, gates) = case_gates(&c, StoryKind::ReachedSafety, TODAY, &policy());
    assert!(source.is_none());
    assert_eq!(refused(&gates, Gate::Facts), Some(Reason::ChildAlone));
}

#[test]
fn the_embargo_counts_from_the_end_of_the_latest_milestone_mentioned() {
    let mut c = arrived_adult("Blue River", AgeBand::YoungAdult, Gender::Male, "2026-06", "JP");
    c.milestones.push(milestone(MilestoneKind::LanguageCourseCompleted, "2026-08-20", None, "", None));
    let p = policy();
    // The arrival is known to a month: 90 days from 30 June.
    let (_, gates) = case_gates(&c, StoryKind::Settling, date!(2026 - 09 - 27), &p);
    assert_eq!(
        refused(&gates, Gate::Embargo),
        Some(Reason::Embargoed { until: date!(2026 - 09 - 28), days: 90 })
    );
    let (_, gates) = case_gates(&c, StoryKind::Settling, date!(2026 - 09 - 28), &p);
    assert!(compose::all_passed(&gates), "{gates:?}");
    // The progress story also mentions the course: 90 days from 20 August.
    let (_, gates) = case_gates(&c, StoryKind::LanguageCourse, date!(2026 - 11 - 17), &p);
    assert!(refused(&gates, Gate::Embargo).is_some());
    let (_, gates) = case_gates(&c, StoryKind::LanguageCourse, date!(2026 - 11 - 18), &p);
    assert!(compose::all_passed(&gates), "{gates:?}");
    assert!(
        EN.reason(&Reason::Embargoed { until: date!(2026 - 11 - 18), days: 90 }).contains("18 November 2026")
    );
}

#[test]
fn a_story_needs_the_milestones_it_tells_of() {
    let c = arrived_adult("Blue River", AgeBand::YoungAdult, Gender::Male, "2025-03-10", "JP");
    let (_, gates) = case_gates(&c, StoryKind::Work, TODAY, &policy());
    assert_eq!(refused(&gates, Gate::Facts), Some(Reason::Missing { kind: MilestoneKind::Employed }));
    let mut c = c;
    c.milestones.retain(|m| m.draft.kind != MilestoneKind::Arrived);
    let (_, gates) = case_gates(&c, StoryKind::ReachedSafety, TODAY, &policy());
    assert_eq!(refused(&gates, Gate::Facts), Some(Reason::Missing { kind: MilestoneKind::Arrived }));
}

// --- Words --------------------------------------------------------------------

#[test]
fn the_english_text_says_the_coarse_facts() {
    let mut index: Vec<Arc<Summary>> = Vec::new();
    for i in 0..12 {
        index.push(summary(&arrived_adult(
            &format!("Common {}", letters(i)),
            AgeBand::YoungAdult,
            Gender::Male,
            "2025-02-11",
            "JP",
        )));
    }
    let c = arrived_adult("Blue River", AgeBand::YoungAdult, Gender::Male, "2025-02-23", "JP");
    index.push(summary(&c));
    let source = compose::source(&c, StoryKind::ReachedSafety).unwrap();
    let a = anonymise(source.facts, &[], &index, 10).unwrap();
    assert!(a.steps.is_empty(), "{:?}", a.steps);
    assert_eq!(a.fits, 13);
    assert_eq!(
        EN.story(&a.facts, Opening::Thanks),
        "Thanks to your support, a young man reached safety in Japan in February 2025."
    );
    let family = case(
        vec![
            person("Tall Pine", AgeBand::Adult, Some(Gender::Female), true),
            person("Small Leaf", AgeBand::Under5, Some(Gender::Female), true),
            person("Old Oak", AgeBand::Adult, Some(Gender::Male), true),
            person("Red Sky", AgeBand::Teen, None, true),
            person("Grey Cloud", AgeBand::Senior, None, true),
            person("Quick Fox", AgeBand::YoungAdult, None, true),
        ],
        Stage::FollowUp,
        Status::Open,
        vec![
            milestone(MilestoneKind::Arrived, "2024-09-01", Some("KR"), "", None),
            milestone(MilestoneKind::Employed, "2025-05", None, "", None),
        ],
    );
    let f = compose::source(&family, StoryKind::Work).unwrap().facts;
    assert_eq!(
        EN.story(&f, Opening::Plain),
        "A family of several, among them a small child, who arrived in South Korea in September 2024, is making progress: one of them found work in May 2025."
    );
}

fn letters(mut i: usize) -> String {
    let mut s = String::new();
    loop {
        s.push(char::from(b'a' + (i % 26) as u8));
        i /= 26;
        if i == 0 {
            return s;
        }
    }
}

// --- Re-identification --------------------------------------------------------

/// The adversary's own matcher, written from the published JSON alone (not
/// with `anonymity::fits`): which index records a published story could
/// be about.
fn adversary_fits(story: &serde_json::Value, s: &Summary) -> bool {
    use serde_json::Value;
    let Some(arrived) = s.arrived() else { return false };
    let period_covers = |p: &Value, d: EventDate| -> bool {
        let period: crate::publication::period::Period = serde_json::from_value(p.clone()).unwrap();
        period.first_day() <= d.date() && d.last_day() <= period.last_day()
    };
    if !story["arrival"].is_null() && !period_covers(&story["arrival"], arrived) {
        return false;
    }
    let dest = &story["destination"];
    if !dest.is_null() {
        let Some(c) = s.destination() else { return false };
        let ok = match dest["level"].as_str().unwrap() {
            "country" => dest["code"].as_str() == Some(c.as_str()),
            _ => serde_json::to_value(crate::publication::region::Region::of(c)).unwrap() == dest["code"],
        };
        if !ok {
            return false;
        }
    }
    let progress_kind = match story["kind"].as_str().unwrap() {
        "language_course" => Some(MilestoneKind::LanguageCourseCompleted),
        "school" => Some(MilestoneKind::Enrolled),
        "work" => Some(MilestoneKind::Employed),
        _ => None,
    };
    if let Some(k) = progress_kind {
        let dates: Vec<EventDate> =
            s.milestones.iter().filter(|m| m.kind == k && m.date >= arrived).map(|m| m.date).collect();
        if dates.is_empty() {
            return false;
        }
        if !story["progress"].is_null() && !dates.iter().any(|d| period_covers(&story["progress"], *d)) {
            return false;
        }
    }
    let subject = &story["subject"];
    let band_ok = |words: &Value, band: AgeBand| -> bool {
        if words.is_null() {
            return true;
        }
        let range = |b: AgeBand| match b {
            AgeBand::Under5 | AgeBand::Child | AgeBand::Teen => "child",
            AgeBand::Senior => "older",
            _ => "adult",
        };
        match words["level"].as_str().unwrap() {
            "band" => words["value"].as_str() == Some(band.as_str()),
            _ => words["value"].as_str() == Some(range(band)),
        }
    };
    match subject["who"].as_str().unwrap() {
        "person" => {
            let [one] = s.persons.as_slice() else { return false };
            let gender_ok =
                subject["gender"].is_null() || one.gender.map(|g| g.as_str()) == subject["gender"].as_str();
            band_ok(&subject["age"], one.age_band) && gender_ok
        }
        _ => {
            let n = s.persons.len();
            let size_ok = match subject["size"].as_str() {
                None => true,
                Some("two") => n == 2,
                Some("three_or_four") => (3..=4).contains(&n),
                Some(_) => n >= 5,
            };
            let youngest = s.persons.iter().map(|p| p.age_band).min().unwrap();
            n >= 2 && size_ok && band_ok(&subject["child"], youngest)
        }
    }
}

/// Out of danger as the index shows it: the adversary knows the rules.
fn could_be_subject(s: &Summary) -> bool {
    s.stage.is_out_of_danger()
        && matches!(
            s.status,
            Status::Open | Status::OnHold | Status::Closed(Outcome::Resettled | Outcome::SelfSettled)
        )
}

#[test]
fn an_adversary_with_every_index_record_cannot_narrow_a_story_below_k() {
    let k = 10;
    let mut cases = Vec::new();
    // A crowd: 40 people alone and 20 families who arrived in Japan or
    // Korea in 2025, in two age bands and both genders.
    for i in 0..40 {
        let band = if i % 2 == 0 { AgeBand::YoungAdult } else { AgeBand::Adult };
        let gender = if i % 3 == 0 { Gender::Female } else { Gender::Male };
        let month = 1 + i % 6;
        let country = if i % 4 == 0 { "KR" } else { "JP" };
        let mut c = arrived_adult(
            &format!("Crowd {}", letters(i)),
            band,
            gender,
            &format!("2025-{month:02}-{:02}", 1 + i % 27),
            country,
        );
        if i % 5 == 0 {
            c.milestones.push(milestone(MilestoneKind::LanguageCourseCompleted, "2025-09", None, "", None));
        }
        cases.push(c);
    }
    for i in 0..20 {
        let mut persons = vec![
            person(&format!("Parent {}", letters(i)), AgeBand::Adult, Some(Gender::Female), true),
            person(
                &format!("Child {}", letters(i)),
                if i % 2 == 0 { AgeBand::Under5 } else { AgeBand::Child },
                None,
                true,
            ),
        ];
        if i % 3 == 0 {
            persons.push(person(&format!("Other {}", letters(i)), AgeBand::Adult, Some(Gender::Male), true));
        }
        cases.push(case(
            persons,
            Stage::FollowUp,
            Status::Open,
            vec![milestone(MilestoneKind::Arrived, &format!("2025-{:02}", 1 + i % 12), Some("JP"), "", None)],
        ));
    }
    // The unique ones: an older woman alone who went to New Zealand; a
    // family of seven; the only arrival of February 2024.
    let rare = case(
        vec![person("Grey Cloud", AgeBand::Senior, Some(Gender::Female), true)],
        Stage::Arrived,
        Status::Open,
        vec![milestone(MilestoneKind::Arrived, "2025-04-09", Some("NZ"), "", None)],
    );
    let large = case(
        (0..7)
            .map(|i| {
                person(
                    &format!("Large {}", letters(i)),
                    if i == 6 { AgeBand::Under5 } else { AgeBand::Adult },
                    None,
                    true,
                )
            })
            .collect(),
        Stage::Arrived,
        Status::Open,
        vec![
            milestone(MilestoneKind::Arrived, "2025-05-02", Some("JP"), "", None),
            milestone(MilestoneKind::Enrolled, "2025-10", None, "", None),
        ],
    );
    let lonely_month = arrived_adult("Early Bird", AgeBand::YoungAdult, Gender::Male, "2024-02-14", "JP");
    // Cases in danger are in the index too, and a story must not count them.
    for i in 0..30 {
        let mut c = arrived_adult(
            &format!("Hidden {}", letters(i)),
            AgeBand::Senior,
            Gender::Female,
            "2025-04-10",
            "NZ",
        );
        c.stage = Stage::InTransit;
        cases.push(c);
    }
    cases.push(rare.clone());
    cases.push(large.clone());
    cases.push(lonely_month.clone());
    let index: Vec<Arc<Summary>> = cases.iter().map(summary).collect();

    let mut published: Vec<(CaseId, serde_json::Value)> = Vec::new();
    let subjects: Vec<(&Case, StoryKind)> = vec![
        (&rare, StoryKind::ReachedSafety),
        (&rare, StoryKind::Settling),
        (&large, StoryKind::ReachedSafety),
        (&large, StoryKind::School),
        (&lonely_month, StoryKind::ReachedSafety),
        (&lonely_month, StoryKind::Settling),
        (&cases[0], StoryKind::ReachedSafety),
        (&cases[0], StoryKind::LanguageCourse),
        (&cases[45], StoryKind::Settling),
    ];
    for (c, kind) in subjects {
        let source = compose::source(c, kind).unwrap();
        let others: Vec<Facts> = published
            .iter()
            .filter(|(id, _)| *id == c.id)
            .map(|(_, v)| serde_json::from_value(v.clone()).unwrap())
            .collect();
        match anonymise(source.facts, &others, &index, k) {
            Ok(a) => {
                // What generalising did is always shown; a unique case needs it.
                if c.id == rare.id || c.id == large.id || c.id == lonely_month.id {
                    assert!(!a.steps.is_empty(), "{kind:?} of a unique case published unchanged");
                }
                published.push((c.id, serde_json::to_value(a.facts).unwrap()));
            }
            Err(Reason::TooFew { fits, k: needed }) => {
                assert!(fits < needed as usize);
            }
            Err(other) => panic!("unexpected {other:?}"),
        }
    }
    assert!(published.len() >= 6, "most stories publish after generalising: {}", published.len());
    let k = usize::try_from(k).unwrap();
    for (id, story) in &published {
        let matching: Vec<&Arc<Summary>> =
            index.iter().filter(|s| could_be_subject(s) && adversary_fits(story, s)).collect();
        assert!(matching.len() >= k, "{story} fits {} cases", matching.len());
        assert!(matching.iter().any(|s| s.id == *id), "the subject itself fits its story");
    }
    // All stories about one case combined.
    for c in [&rare, &large, &lonely_month, &cases[0]] {
        let about: Vec<&serde_json::Value> =
            published.iter().filter(|(id, _)| *id == c.id).map(|(_, v)| v).collect();
        if about.len() < 2 {
            continue;
        }
        let together = index
            .iter()
            .filter(|s| could_be_subject(s) && about.iter().all(|story| adversary_fits(story, s)))
            .count();
        assert!(together >= k, "stories about one case together fit {together} cases");
    }
}

#[test]
fn coarsening_never_lowers_the_count() {
    let mut index = Vec::new();
    for i in 0..15 {
        index.push(summary(&arrived_adult(
            &format!("Crowd {}", letters(i)),
            AgeBand::YoungAdult,
            Gender::Male,
            "2025-03-03",
            "JP",
        )));
    }
    let c = arrived_adult("Blue River", AgeBand::YoungAdult, Gender::Male, "2025-03-10", "JP");
    index.push(summary(&c));
    let mut f = compose::source(&c, StoryKind::Settling).unwrap().facts;
    let mut before = anonymity::count(&[f], &index);
    for step in Step::LADDER {
        if let Some(wider) = step.apply(&f) {
            let after = anonymity::count(&[wider], &index);
            assert!(after >= before, "{step:?} lowered the count");
            f = wider;
            before = after;
        }
    }
    assert_eq!(anonymity::further_steps(&f), Vec::<Step>::new());
}

// --- Nothing outside the allowlist -------------------------------------------

/// Words no template uses: notes and aliases are made of these, so finding
/// one in a text means it leaked.
fn secret_word() -> impl Strategy<Value = String> {
    "[bcdfghjklmnpqrstvwxz]{3}[aeiou][bcdfghjklmnpqrstvwxz]{3}".prop_map(|s| format!("Q{s}"))
}

fn band() -> impl Strategy<Value = AgeBand> {
    prop::sample::select(AgeBand::ALL.to_vec())
}

fn gender() -> impl Strategy<Value = Option<Gender>> {
    prop::option::of(prop::sample::select(Gender::ALL.to_vec()))
}

/// Transit countries: every milestone but the arrival names one.
const TRANSIT: [&str; 5] = ["CN", "LA", "TH", "VN", "MN"];

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn no_alias_shelter_note_exact_date_transit_country_or_id_reaches_a_story(
        aliases in prop::collection::vec(secret_word(), 1..6),
        bands in prop::collection::vec(band(), 6),
        genders in prop::collection::vec(gender(), 6),
        note in secret_word(),
        milestone_note in secret_word(),
        shelter_letters in "[A-Z]{3}",
        day in 1u8..=28,
        month in 1u8..=12,
        year in 2019i32..=2025,
        transit in prop::sample::select(TRANSIT.to_vec()),
        destination in prop::sample::select(vec!["JP", "KR", "US", "DE", "NZ", "IS", "BR"]),
        steps in prop::collection::vec(prop::sample::select(Step::ALL.to_vec()), 0..5),
    ) {
        let mut aliases = aliases;
        aliases.sort();
        aliases.dedup();
        let persons: Vec<Person> = aliases
            .iter()
            .enumerate()
            .map(|(i, a)| person(a, bands[i % 6], genders[i % 6], true))
            .collect();
        let place = format!("{shelter_letters}-07");
        let arrived = format!("{year}-{month:02}-{day:02}");
        let mut c = case(
            persons,
            Stage::FollowUp,
            Status::Open,
            vec![
                milestone(MilestoneKind::Moved, &format!("{}-01-05", year - 1), Some(transit), &milestone_note, Some(&place)),
                milestone(MilestoneKind::CrossedBorder, &format!("{}-02-06", year - 1), Some(transit), &milestone_note, None),
                milestone(MilestoneKind::Arrived, &arrived, Some(destination), &milestone_note, Some(&place)),
                milestone(MilestoneKind::LanguageCourseCompleted, &format!("{}-03-17", year + 1), Some(transit), &milestone_note, Some(&place)),
                milestone(MilestoneKind::Employed, &format!("{}-04-19", year + 1), None, &milestone_note, None),
                milestone(MilestoneKind::Enrolled, &format!("{}-05-21", year + 1), None, &milestone_note, None),
            ],
        );
        c.notes = Note::parse(&format!("{note} lives at {place}")).unwrap();
        let index = vec![summary(&c)];
        for kind in StoryKind::ALL {
            let Ok(source) = compose::source(&c, kind) else { continue };
            // Whatever the check and the coordinator choose, and in every opening.
            let facts = anonymise(source.facts, &[], &index, 1).map(|a| a.facts).unwrap_or(source.facts);
            for f in [source.facts, facts, anonymity::apply_chosen(facts, &steps)] {
                let json = serde_json::to_string(&f).unwrap();
                for opening in Opening::ALL {
                    let text = EN.story(&f, opening);
                    for out in [&text, &json] {
                        for a in &aliases {
                            prop_assert!(!out.contains(a.as_str()), "alias {a} in {out}");
                        }
                        prop_assert!(!out.contains(&note) && !out.contains(&milestone_note), "note in {out}");
                        prop_assert!(!out.contains(&place) && !out.contains(&shelter_letters), "place code in {out}");
                        prop_assert!(!out.contains(&c.id.to_string()), "case id in {out}");
                        for m in &c.milestones {
                            prop_assert!(!out.contains(&m.id.to_string()), "milestone id in {out}");
                        }
                        prop_assert!(!out.contains(&arrived), "exact date in {out}");
                        prop_assert!(!out.contains(&format!("{} {year}", day)), "day in {out}");
                        prop_assert!(!out.contains(&format!("\"{transit}\"")), "transit country code in {out}");
                    }
                    let transit_name = EN.country(CountryCode::parse(transit).unwrap());
                    for name in ["China", "Laos", "Thailand", "Vietnam", "Viet Nam", "Mongolia"].iter().copied().chain(transit_name) {
                        prop_assert!(!text.contains(name), "transit country {name} in {text}");
                    }
                    // No digits but years.
                    for word in text.split(|ch: char| !ch.is_ascii_digit()).filter(|w| !w.is_empty()) {
                        prop_assert_eq!(word.len(), 4, "a number that is not a year in {}", text);
                    }
                    // Japanese and Korean carry the same facts and nothing more.
                    for p in [super::phrasing::JA, super::phrasing::KO] {
                        let native = p.story(&f, opening);
                        for a in &aliases {
                            prop_assert!(!native.contains(a.as_str()), "alias {a} in {native}");
                        }
                        prop_assert!(!native.contains(&place) && !native.contains(&shelter_letters), "place code in {native}");
                        let transit_name = p.country(CountryCode::parse(transit).unwrap());
                        prop_assert!(transit_name.is_none_or(|n| !native.contains(n)), "transit country in {native}");
                        super::phrasing::tests::no_latin_and_only_period_digits(p, &f, &native);
                    }
                }
            }
        }
    }
}

#[test]
fn every_named_destination_has_an_english_name_and_others_are_regions() {
    for code in crate::publication::region::NAMED_COUNTRIES {
        assert!(EN.country(CountryCode::parse(code).unwrap()).is_some(), "{code}");
    }
    let c = arrived_adult("Blue River", AgeBand::YoungAdult, Gender::Male, "2025-03-10", "IS");
    let f = compose::source(&c, StoryKind::ReachedSafety).unwrap().facts;
    assert_eq!(
        f.destination,
        Some(crate::publication::region::Place::Region(crate::publication::region::Region::Europe))
    );
    assert!(EN.story(&f, Opening::Plain).contains("in Europe"));
    let _ = Duration::ZERO;
}
