//! The whole report from generated cases, enrolments and aid entries for
//! the fiscal year from September 2024 to August 2025, every figure
//! compared with a count or a sum made here from the generated data.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use time::macros::datetime;
use time::{Date, Month as CalendarMonth, OffsetDateTime};

use super::model::{ApprovedReport, ChildCell, Report};
use super::service::build;
use crate::cases::index::{MilestoneFacts, PersonFacts, SponsorshipFacts};
use crate::cases::model::{
    AgeBand, CountryCode, EventDate, LeaveReason, MilestoneKind, Outcome, Stage, Status,
};
use crate::cases::service::Summary;
use crate::figures::compute::CaseFigures;
use crate::figures::model::{Measure, Row, Shown, TableId};
use crate::figures::service::{ApprovedTable, protected_table};
use crate::ids::{AidEntryId, AidKindId, CaseId, MilestoneId, ReportId, ShelterId, UserId};
use crate::programmes::aid::model::{AidEntry, AidKind, Currency, CustomKind, Month};
use crate::publication::period::Period;

const FY: Period = Period::FiscalYear { year: 2024, start_month: 9 };

/// A small deterministic generator.
struct Seed(u64);

impl Seed {
    fn next(&mut self, n: u64) -> u64 {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (self.0 >> 33) % n
    }
}

/// A month counted from January 2022.
fn month(n: u64) -> (i32, u8) {
    (2022 + (n / 12) as i32, (n % 12) as u8 + 1)
}

fn stored((year, m): (i32, u8)) -> EventDate {
    EventDate::from_stored(&format!("{year}-{m:02}")).unwrap()
}

fn in_fy((year, m): (i32, u8)) -> bool {
    (2024, 9) <= (year, m) && (year, m) <= (2025, 8)
}

/// One child's time in the plan as the test knows it.
struct Child {
    joined: (i32, u8),
    ended: Option<((i32, u8), Option<LeaveReason>)>,
}

/// What the test made of one case besides its summary.
struct Made {
    people: u64,
    safe: Option<(i32, u8)>,
    resettled_at: Option<OffsetDateTime>,
    children: Vec<Child>,
}

fn summary(
    people: usize,
    milestones: Vec<MilestoneFacts>,
    closed_at: Option<OffsetDateTime>,
) -> Arc<Summary> {
    Arc::new(Summary {
        id: CaseId::random(),
        version: 1,
        aliases: (0..people).map(|i| format!("Child{i}")).collect(),
        stage: Stage::Sheltered,
        status: if closed_at.is_some() { Status::Closed(Outcome::Resettled) } else { Status::Open },
        shelter: None,
        assignees: Vec::new(),
        created_at: datetime!(2022-01-01 0:00 UTC),
        updated_at: datetime!(2025-10-01 0:00 UTC),
        persons: (0..people).map(|_| PersonFacts { age_band: AgeBand::Child, gender: None }).collect(),
        milestones,
        closed_at,
    })
}

/// 70 cases over four years: families of one to five, most of them with
/// children in the plan (joined from 2022, leaving for every reason or
/// graduating, some still in it), some reaching safety and some resettled.
fn cases(seed: &mut Seed) -> (Vec<Arc<Summary>>, Vec<Made>) {
    let mut summaries = Vec::new();
    let mut made = Vec::new();
    for n in 0..70u64 {
        let people = 1 + seed.next(5) as usize;
        let mut facts = Vec::new();
        let mut children = Vec::new();
        for child in 0..people.min(3) {
            if seed.next(4) == 0 {
                continue;
            }
            let joined = seed.next(44);
            let id = MilestoneId::random();
            let place = SponsorshipFacts { enrolment: id, child: Some(child as u8), reason: None };
            facts.push(
                MilestoneFacts::of(MilestoneKind::SponsorshipJoined, stored(month(joined)), None)
                    .with_sponsorship(place),
            );
            let ended = match seed.next(10) {
                0..=2 => None,
                roll => {
                    let at = month(joined + seed.next(30));
                    let (kind, reason) = if roll == 3 {
                        (MilestoneKind::SponsorshipGraduated, None)
                    } else {
                        let reason = LeaveReason::ALL[seed.next(6) as usize];
                        (MilestoneKind::SponsorshipLeft, Some(reason))
                    };
                    let step = SponsorshipFacts { enrolment: id, child: None, reason };
                    facts.push(MilestoneFacts::of(kind, stored(at), None).with_sponsorship(step));
                    Some((at, reason))
                }
            };
            children.push(Child { joined: month(joined), ended });
        }
        let safe = (n % 3 != 0).then(|| month(24 + seed.next(20)));
        if let Some(m) = safe {
            let country = ["KR", "JP", "US", "KR"][seed.next(4) as usize];
            let country = CountryCode::parse(country).ok();
            facts.push(MilestoneFacts::of(MilestoneKind::Arrived, stored(m), country));
        }
        let resettled_at = safe.filter(|_| n % 4 == 1).map(|(y, m)| {
            let day = Date::from_calendar_date(y, CalendarMonth::try_from(m).unwrap(), 20).unwrap();
            day.with_hms(12, 0, 0).unwrap().assume_utc()
        });
        summaries.push(summary(people, facts, resettled_at));
        made.push(Made { people: people as u64, safe, resettled_at, children });
    }
    (summaries, made)
}

/// The expected children's counts of the year, counted from what the test
/// generated.
fn expected_children(made: &[Made]) -> BTreeMap<ChildCell, u64> {
    let first = (2024, 9);
    let last = (2025, 8);
    let mut out: BTreeMap<ChildCell, u64> = ChildCell::all().into_iter().map(|c| (c, 0)).collect();
    let mut add = |c: ChildCell| *out.entry(c).or_default() += 1;
    for child in made.iter().flat_map(|m| &m.children) {
        let ended_at = child.ended.map(|(at, _)| at.max(child.joined));
        if child.joined < first && ended_at.is_none_or(|e| e >= first) {
            add(ChildCell::Start);
        }
        if child.joined <= last && ended_at.is_none_or(|e| e > last) {
            add(ChildCell::End);
        }
        if in_fy(child.joined) {
            add(ChildCell::Joined);
        }
        if let (Some(at), Some((_, reason))) = (ended_at, child.ended) {
            if in_fy(at) {
                match reason {
                    Some(r) => {
                        add(ChildCell::Left(r));
                        add(ChildCell::LeftTotal);
                    }
                    None => add(ChildCell::Graduated),
                }
            }
        }
    }
    out
}

/// Aid entries over eighteen months at five shelters, every kind, and
/// corrections: some change a quantity, one moves an entry out of the year
/// (so its shelter, with nothing else in the year, is not counted), one
/// moves an entry into it.
struct Aid {
    entries: Vec<AidEntry>,
    kinds: Vec<CustomKind>,
    quiet_shelter: ShelterId,
}

fn entry(shelter: ShelterId, m: (i32, u8), kind: AidKind, quantity: u64, people: u32) -> AidEntry {
    AidEntry {
        id: AidEntryId::random(),
        shelter,
        month: Month { year: m.0, month: m.1 },
        kind,
        quantity,
        currency: (kind == AidKind::CashForFood)
            .then(|| Currency::parse(["JPY", "KRW"][(quantity % 2) as usize]).unwrap()),
        people_served: people,
        note: crate::cases::model::Note::parse("").unwrap(),
        supersedes: None,
        recorded_by: UserId::random(),
        recorded_at: datetime!(2025-09-01 0:00 UTC),
    }
}

fn aid(seed: &mut Seed) -> Aid {
    let shelters: Vec<ShelterId> = (0..4).map(|_| ShelterId::random()).collect();
    let kinds = vec![
        CustomKind { id: AidKindId::random(), name: "Blankets".into(), unit: "pieces".into() },
        CustomKind { id: AidKindId::random(), name: "Shoes".into(), unit: "pairs".into() },
    ];
    let mut all = AidKind::BUILT_IN.to_vec();
    all.extend(kinds.iter().map(|k| AidKind::Custom(k.id)));
    let mut entries = Vec::new();
    for n in 0..240u64 {
        let m = month(28 + seed.next(18));
        let kind = all[seed.next(all.len() as u64) as usize];
        let quantity = 1 + seed.next(900);
        let people = 200 + seed.next(600) as u32;
        entries.push(entry(shelters[(n % 4) as usize], m, kind, quantity, people));
    }
    // Corrections: a third of the entries are corrected once; some of those
    // corrections are corrected again.
    let originals: Vec<AidEntry> = entries.iter().step_by(3).cloned().collect();
    for old in originals {
        let mut fix = entry(
            old.shelter,
            (old.month.year, old.month.month),
            old.kind,
            old.quantity + 7,
            old.people_served + 1,
        );
        fix.currency = old.currency.clone();
        fix.supersedes = Some(old.id);
        if seed.next(3) == 0 {
            let mut again = fix.clone();
            again.id = AidEntryId::random();
            again.quantity += 100;
            again.supersedes = Some(fix.id);
            entries.push(again);
        }
        entries.push(fix);
    }
    // A shelter whose only entry in the year was moved out of it, and one
    // entry moved in from the month before the year.
    let quiet_shelter = ShelterId::random();
    let wrong = entry(quiet_shelter, (2025, 3), AidKind::Food, 5_000, 40);
    let mut moved = entry(quiet_shelter, (2025, 9), AidKind::Food, 5_000, 40);
    moved.supersedes = Some(wrong.id);
    let early = entry(shelters[0], (2024, 8), AidKind::Clothes, 333, 3);
    let mut into = entry(shelters[0], (2024, 9), AidKind::Clothes, 333, 3);
    into.supersedes = Some(early.id);
    entries.extend([wrong, moved, early, into]);
    Aid { entries, kinds, quiet_shelter }
}

fn check_people(shown: Shown, want: u64, what: &str) {
    match shown {
        Shown::Count(v) => assert!(v == want && v >= 10, "{what}: {v} shown, {want} counted"),
        Shown::FewerThanTen => assert!(want < 10, "{what}: {want} shown as fewer than 10"),
        Shown::Hidden => assert!(want >= 10, "{what}: only a count of 10 or more is not shown"),
    }
}

fn report_of(
    summaries: &[Arc<Summary>],
    aid: &Aid,
    tables: &[ApprovedTable],
    reports: &[ApprovedReport],
) -> (Report, Option<TableId>) {
    let p = build(FY, summaries, &aid.entries, &aid.kinds, tables, reports).unwrap();
    (p.report, p.figures_table)
}

#[test]
fn every_figure_of_a_fiscal_year_across_two_calendar_years_equals_an_independent_count() {
    let mut seed = Seed(2024);
    let (summaries, made) = cases(&mut seed);
    let aid = aid(&mut seed);
    let (report, table) = report_of(&summaries, &aid, &[], &[]);
    assert_eq!(table, None, "no figures approved yet");

    // People helped to safety and resettled: the figures' own table for
    // the year, and its totals are the people counted here.
    let cases: Vec<CaseFigures> = summaries.iter().map(|s| CaseFigures::of_summary(s)).collect();
    assert_eq!(report.figures, protected_table(&cases, FY, &[]), "what /figures would publish");
    let helped: u64 = made.iter().filter(|m| m.safe.is_some_and(in_fy)).map(|m| m.people).sum();
    let cell = |row, measure| report.figures.cell(row, measure).unwrap().shown;
    check_people(cell(Row::Total, Measure::HelpedToSafety), helped, "helped to safety");
    let resettled: u64 = made
        .iter()
        .filter(|m| m.resettled_at.is_some_and(|at| FY.contains(at.date())))
        .map(|m| m.people)
        .sum();
    check_people(cell(Row::Total, Measure::Resettlements), resettled, "resettled");
    assert!(helped >= 10 && resettled >= 10, "{helped} {resettled}");

    // Children.
    let want = expected_children(&made);
    let mut tally = (0, 0, 0);
    for c in &report.children {
        check_people(c.shown, want[&c.cell], &format!("{:?}", c.cell));
        match c.shown {
            Shown::Count(_) => tally.0 += 1,
            Shown::FewerThanTen => tally.1 += 1,
            Shown::Hidden => tally.2 += 1,
        }
    }
    assert_eq!(report.children.len(), ChildCell::all().len());
    assert!(tally.0 >= 3 && tally.1 >= 1, "{tally:?} of {want:?}");
    assert_eq!(
        want[&ChildCell::Start] + want[&ChildCell::Joined]
            - want[&ChildCell::LeftTotal]
            - want[&ChildCell::Graduated],
        want[&ChildCell::End],
        "the generated data keeps the identity"
    );

    // Aid: only entries no other entry corrects, in the year's months.
    let superseded: BTreeSet<AidEntryId> = aid.entries.iter().filter_map(|e| e.supersedes).collect();
    let counted: Vec<&AidEntry> = aid
        .entries
        .iter()
        .filter(|e| !superseded.contains(&e.id) && in_fy((e.month.year, e.month.month)))
        .collect();
    let sum = |kind: AidKind| counted.iter().filter(|e| e.kind == kind).map(|e| e.quantity).sum::<u64>();
    let a = &report.aid;
    assert_eq!(a.food_kg, sum(AidKind::Food));
    assert_eq!(a.clothes, sum(AidKind::Clothes));
    assert_eq!(a.first_aid_kits, sum(AidKind::FirstAidKits));
    assert_eq!(a.medical_visits, sum(AidKind::MedicalVisits));
    for line in &a.cash {
        let want: u64 = counted
            .iter()
            .filter(|e| e.kind == AidKind::CashForFood && e.currency.as_ref() == Some(&line.currency))
            .map(|e| e.quantity)
            .sum();
        assert_eq!(line.amount, want, "{}", line.currency.as_str());
    }
    assert_eq!(a.cash.iter().map(|c| c.amount).sum::<u64>(), sum(AidKind::CashForFood));
    assert_eq!(a.added.len(), 2);
    for line in &a.added {
        assert_eq!(line.quantity, sum(AidKind::Custom(line.id)), "{}", line.name);
        let kind = aid.kinds.iter().find(|k| k.id == line.id).unwrap();
        assert_eq!((&line.name, &line.unit), (&kind.name, &kind.unit));
    }
    let shelters: BTreeSet<ShelterId> = counted.iter().map(|e| e.shelter).collect();
    assert_eq!(a.shelters, shelters.len() as u64);
    assert_eq!(a.shelters, 4, "the shelter whose only entry moved out of the year is not counted");
    assert!(!shelters.contains(&aid.quiet_shelter));
    let asked: u64 =
        counted.iter().filter(|e| e.kind == AidKind::Food).map(|e| u64::from(e.people_served)).sum();
    assert!(asked >= 10 * 365, "{asked}: enough to show both averages");
    assert_eq!(a.food_people_per_month, Shown::Count((asked * 2 + 12) / 24));
    assert_eq!(a.food_people_per_day, Shown::Count((asked * 2 + 365) / 730), "365 days from September 2024");
    // A superseded entry is counted once, as its correction: counting
    // every stored entry would give more.
    let naive: u64 = aid
        .entries
        .iter()
        .filter(|e| e.kind == AidKind::Food && in_fy((e.month.year, e.month.month)))
        .map(|e| e.quantity)
        .sum();
    assert!(naive > a.food_kg, "{naive} {}", a.food_kg);
}

#[test]
fn an_approved_figures_table_is_repeated_as_published_and_a_corrected_entry_counts_once() {
    let mut seed = Seed(7);
    let (summaries, _) = cases(&mut seed);
    let shelter = ShelterId::random();
    let first = entry(shelter, (2025, 1), AidKind::Food, 1_000, 30);
    let mut fix = entry(shelter, (2025, 1), AidKind::Food, 1_200, 30);
    fix.supersedes = Some(first.id);
    let aid = Aid { entries: vec![first, fix], kinds: Vec::new(), quiet_shelter: ShelterId::random() };
    let (report, _) = report_of(&summaries, &aid, &[], &[]);
    assert_eq!(report.aid.food_kg, 1_200, "the correction, once");
    assert_eq!(report.aid.shelters, 1);
    assert_eq!(report.aid.food_people_per_month, Shown::FewerThanTen, "30 in the year: 2.5 a month");
    // A table approved for the year: its cells exactly, whatever the cases say now.
    let mut published = report.figures.clone();
    for c in published.cells.iter_mut() {
        c.shown = Shown::Hidden;
    }
    let table = ApprovedTable {
        id: TableId::random(),
        period: FY,
        approved_at: datetime!(2025-09-02 0:00 UTC),
        table: published.clone(),
    };
    let (again, id) = report_of(&summaries, &aid, std::slice::from_ref(&table), &[]);
    assert_eq!(id, Some(table.id));
    assert_eq!(again.figures, published);
    assert_ne!(again.digest(), report.digest(), "the digest follows what is published");
    // An approved report of the year before protects this one's counts.
    let before = ApprovedReport {
        id: ReportId::random(),
        period: Period::FiscalYear { year: 2023, start_month: 9 },
        approved_at: datetime!(2024-09-02 0:00 UTC),
        figures_table: TableId::random(),
        report: Report { period: Period::FiscalYear { year: 2023, start_month: 9 }, ..report.clone() },
    };
    let (after, _) = report_of(&summaries, &aid, &[], std::slice::from_ref(&before));
    let mut specs: Vec<super::suppress::Spec> = Vec::new();
    for (p, cells) in [(before.period, &before.report.children), (FY, &after.children)] {
        specs.extend(cells.iter().map(|c| super::suppress::Spec {
            period: p,
            cell: c.cell,
            hidden: c.shown.is_hidden(),
        }));
    }
    assert!(super::suppress::revealed(&specs).is_empty());
}
