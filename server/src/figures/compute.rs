//! Counting a period's figures from the case index, and laying them out in
//! rows that do not themselves name a destination few people reach. Pure:
//! no storage, no keys, no clock.
//!
//! An event counts in a period only if the period covers the whole span its
//! date stands for (`Period::covers`): a date known only to a year never
//! counts in a quarter, nor in a fiscal year that does not start in January.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use time::{Date, OffsetDateTime, UtcOffset};

use super::model::{Cell, Measure, Row, Shown, Table, UNKNOWN_DESTINATION};
use crate::cases::index::MilestoneFacts;
use crate::cases::model::{CountryCode, EventDate, MilestoneKind, Outcome, Status};
use crate::cases::service::Summary;
use crate::publication::PublicationPolicy;
use crate::publication::period::Period;
use crate::publication::region::{self, Region};

/// What the figures need of one case, and nothing else.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CaseFigures {
    /// The group's size.
    pub people: u64,
    /// The first "reached protection" or "arrived" milestone.
    pub helped: Option<EventDate>,
    /// The earliest arrival and the country of that arrival (the case's
    /// destination if that milestone names none).
    pub arrived: Option<(EventDate, &'static str)>,
    /// Closed as resettled: the day (UTC) and the case's destination.
    pub resettled: Option<(Date, &'static str)>,
}

fn destination_code(country: Option<CountryCode>) -> &'static str {
    country.map_or(UNKNOWN_DESTINATION, |c| c.as_str())
}

impl CaseFigures {
    pub fn of(
        people: usize,
        milestones: &[MilestoneFacts],
        status: Status,
        closed_at: Option<OffsetDateTime>,
    ) -> Self {
        let helped = milestones
            .iter()
            .filter(|m| matches!(m.kind, MilestoneKind::ReachedProtection | MilestoneKind::Arrived))
            .map(|m| m.date)
            .min();
        let destination = crate::cases::index::destination(milestones);
        let arrived = crate::cases::index::arrived(milestones).map(|date| {
            let country = milestones
                .iter()
                .filter(|m| m.kind == MilestoneKind::Arrived && m.date == date)
                .find_map(|m| m.country)
                .or(destination);
            (date, destination_code(country))
        });
        let resettled = match (status, closed_at) {
            (Status::Closed(Outcome::Resettled), Some(at)) => {
                Some((at.to_offset(UtcOffset::UTC).date(), destination_code(destination)))
            }
            _ => None,
        };
        CaseFigures { people: people as u64, helped, arrived, resettled }
    }

    pub fn of_summary(summary: &Summary) -> Self {
        Self::of(summary.persons.len(), &summary.milestones, summary.status, summary.closed_at)
    }
}

/// Every destination a cell can sum over: each officially assigned country
/// code (as `CountryCode::parse` knows them), then "unknown".
pub fn universe() -> &'static [&'static str] {
    static ALL: OnceLock<Vec<&'static str>> = OnceLock::new();
    ALL.get_or_init(|| {
        let letters = b'A'..=b'Z';
        let mut all: Vec<&'static str> = letters
            .clone()
            .flat_map(|a| letters.clone().map(move |b| [a, b]))
            .filter_map(|pair| std::str::from_utf8(&pair).ok().and_then(|s| CountryCode::parse(s).ok()))
            .map(|c| c.as_str())
            .collect();
        all.push(UNKNOWN_DESTINATION);
        all
    })
}

/// A period's counts of people: helped to safety in all, and arrivals and
/// resettlements by destination code.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Counts {
    pub helped: u64,
    pub by_destination: BTreeMap<(Measure, &'static str), u64>,
}

impl Counts {
    pub fn of(cases: &[CaseFigures], period: Period) -> Counts {
        let mut counts = Counts::default();
        for case in cases {
            if case.helped.is_some_and(|d| period.covers(d)) {
                counts.helped += case.people;
            }
            if let Some((_, dest)) = case.arrived.filter(|(d, _)| period.covers(*d)) {
                *counts.by_destination.entry((Measure::Arrivals, dest)).or_default() += case.people;
            }
            if let Some((_, dest)) = case.resettled.filter(|(d, _)| period.contains(*d)) {
                *counts.by_destination.entry((Measure::Resettlements, dest)).or_default() += case.people;
            }
        }
        counts
    }

    fn sum<S: AsRef<str>>(&self, measure: Measure, over: &[S]) -> u64 {
        over.iter()
            .map(|d| {
                let d: &str = d.as_ref();
                self.by_destination
                    .iter()
                    .find(|((m, dd), _)| *m == measure && *dd == d)
                    .map_or(0, |(_, n)| *n)
            })
            .sum()
    }

    /// The people a measure counts over a set of destinations (helped to
    /// safety: in all, whatever the set).
    pub fn sum_over(&self, measure: Measure, over: &std::collections::BTreeSet<String>) -> u64 {
        if measure == Measure::HelpedToSafety {
            return self.helped;
        }
        self.by_destination
            .iter()
            .filter(|((m, d), _)| *m == measure && over.contains(*d))
            .map(|(_, n)| *n)
            .sum()
    }

    /// The most people either by-destination measure counts over these destinations.
    fn most(&self, over: &[&'static str]) -> u64 {
        Measure::BY_DESTINATION.iter().map(|m| self.sum(*m, over)).max().unwrap_or(0)
    }
}

fn region_of(code: &str) -> Option<Region> {
    CountryCode::parse(code).ok().map(Region::of)
}

/// The table for a period, before secondary suppression: rows chosen so
/// that no label names a destination few people reach, and every count
/// under 10 shown as "fewer than 10".
///
/// A named country gets a row of its own when at least 10 people are
/// counted there in arrivals or in resettlements; the rest of each region
/// gets the region's row on the same terms; everything else, an unknown
/// destination included, is "other destinations". Rows are in a fixed
/// order (countries by code, regions, other, total), never by size, so the
/// order says nothing about a hidden cell.
pub fn table(cases: &[CaseFigures], period: Period) -> Table {
    let counts = Counts::of(cases, period);
    let all = universe();
    let small = PublicationPolicy::SMALL_COUNT;
    let mut rows: Vec<(Row, Vec<&'static str>)> = Vec::new();
    let mut placed: Vec<&'static str> = Vec::new();
    for code in all.iter().copied() {
        let Ok(country) = CountryCode::parse(code) else { continue };
        if region::is_named(country) && counts.most(&[code]) >= small {
            rows.push((Row::Country(country), vec![code]));
            placed.push(code);
        }
    }
    for region in Region::ALL {
        let rest: Vec<&'static str> =
            all.iter().copied().filter(|c| !placed.contains(c) && region_of(c) == Some(region)).collect();
        if counts.most(&rest) >= small {
            placed.extend(rest.iter().copied());
            rows.push((Row::Region(region), rest));
        }
    }
    let mut other: Vec<&'static str> = all.iter().copied().filter(|c| !placed.contains(c)).collect();
    fold_until_other_is_safe(&counts, &mut rows, &mut other);
    rows.push((Row::Other, other));
    rows.push((Row::Total, all.to_vec()));

    let shown = |n: u64| if n < small { Shown::FewerThanTen } else { Shown::Count(n) };
    let strings = |over: &[&'static str]| {
        let mut v: Vec<String> = over.iter().map(|s| (*s).to_owned()).collect();
        v.sort();
        v
    };
    let mut cells = vec![Cell {
        row: Row::Total,
        measure: Measure::HelpedToSafety,
        over: strings(all),
        shown: shown(counts.helped),
    }];
    for (row, over) in &rows {
        for measure in Measure::BY_DESTINATION {
            cells.push(Cell {
                row: *row,
                measure,
                over: strings(over),
                shown: shown(counts.sum(measure, over)),
            });
        }
    }
    Table { period, rows: rows.into_iter().map(|(r, _)| r).collect(), cells }
}

/// When, in some measure, every destination row holds 10 or more and
/// "other destinations" fewer, the total minus the rows would give "other"
/// away and the total itself would have to be hidden. Rather than lose the
/// total, the smallest row joins a wider one (a country its region's row,
/// if the table has one, else "other destinations") until that no longer
/// holds.
fn fold_until_other_is_safe(
    counts: &Counts,
    rows: &mut Vec<(Row, Vec<&'static str>)>,
    other: &mut Vec<&'static str>,
) {
    let small = PublicationPolicy::SMALL_COUNT;
    loop {
        let unsafe_measure = Measure::BY_DESTINATION.into_iter().find(|m| {
            counts.sum(*m, other) < small && rows.iter().all(|(_, over)| counts.sum(*m, over) >= small)
        });
        let Some(measure) = unsafe_measure else { return };
        let Some(smallest) = (0..rows.len())
            .min_by_key(|i| (rows.get(*i).map_or(0, |(_, over)| counts.sum(measure, over)), *i))
        else {
            return;
        };
        let (row, over) = rows.remove(smallest);
        let region_row = match row {
            Row::Country(c) => rows.iter_mut().find(|(r, _)| *r == Row::Region(Region::of(c))),
            _ => None,
        };
        match region_row {
            Some((_, region_over)) => region_over.extend(over),
            None => other.extend(over),
        }
    }
}

/// The counts behind a table's cells, for secondary suppression to choose
/// the smallest shown cell: each cell's true sum.
pub fn values(cases: &[CaseFigures], table: &Table) -> Vec<u64> {
    let counts = Counts::of(cases, table.period);
    table
        .cells
        .iter()
        .map(|cell| match cell.measure {
            Measure::HelpedToSafety => counts.helped,
            m => counts.sum(m, &cell.over),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::{date, datetime};

    fn facts(kind: MilestoneKind, date: &str, country: Option<&str>) -> MilestoneFacts {
        MilestoneFacts::of(
            kind,
            EventDate::from_stored(date).unwrap(),
            country.map(|c| CountryCode::parse(c).unwrap()),
        )
    }

    fn arrival(people: u64, date: &str, dest: &'static str) -> CaseFigures {
        let d = EventDate::from_stored(date).unwrap();
        CaseFigures { people, helped: Some(d), arrived: Some((d, dest)), resettled: None }
    }

    fn q(year: i32, quarter: u8) -> Period {
        Period::Quarter { year, quarter }
    }

    #[test]
    fn the_universe_is_every_country_and_unknown() {
        assert_eq!(universe().len(), 250);
        assert!(universe().contains(&"KR") && universe().contains(&UNKNOWN_DESTINATION));
    }

    #[test]
    fn a_case_gives_its_first_safety_its_earliest_arrival_and_its_resettlement() {
        let milestones = [
            facts(MilestoneKind::CrossedBorder, "2025-01-10", None),
            facts(MilestoneKind::ReachedProtection, "2025-02", None),
            facts(MilestoneKind::Arrived, "2025-05-02", Some("KR")),
            facts(MilestoneKind::Arrived, "2026-01-20", Some("US")),
        ];
        let closed = Some(datetime!(2026-03-31 23:30 -02:00));
        let f = CaseFigures::of(3, &milestones, Status::Closed(Outcome::Resettled), closed);
        assert_eq!(f.people, 3);
        assert_eq!(f.helped, Some(EventDate::from_stored("2025-02").unwrap()));
        assert_eq!(f.arrived, Some((EventDate::from_stored("2025-05-02").unwrap(), "KR")));
        // Closed at 01:30 UTC on 1 April: counted in April, at the destination.
        assert_eq!(f.resettled, Some((date!(2026 - 04 - 01), "US")));
        // Closed otherwise: no resettlement.
        let other = CaseFigures::of(3, &milestones, Status::Closed(Outcome::SelfSettled), closed);
        assert_eq!(other.resettled, None);
        // An arrival with no country: the destination is unknown.
        let bare = [facts(MilestoneKind::Arrived, "2025-05", None)];
        let f = CaseFigures::of(1, &bare, Status::Open, None);
        assert_eq!(f.arrived.map(|a| a.1), Some(UNKNOWN_DESTINATION));
    }

    #[test]
    fn a_date_counts_only_in_a_period_that_covers_all_of_it() {
        let cases = [arrival(12, "2025", "KR"), arrival(11, "2025-03", "KR")];
        let quarter = Counts::of(&cases, q(2025, 1));
        assert_eq!(quarter.by_destination.get(&(Measure::Arrivals, "KR")), Some(&11));
        let year = Counts::of(&cases, Period::Year { year: 2025 });
        assert_eq!(year.by_destination.get(&(Measure::Arrivals, "KR")), Some(&23));
        assert_eq!(year.helped, 23);
        let fiscal = Counts::of(&cases, Period::FiscalYear { year: 2024, start_month: 9 });
        assert_eq!(fiscal.helped, 11, "the year-only date is in no fiscal year from September");
    }

    #[test]
    fn rows_name_only_countries_and_regions_many_people_reach() {
        let cases = [
            arrival(10, "2025-01", "KR"),
            arrival(9, "2025-02", "JP"),
            // Mongolia is not a named country: it is counted in East Asia's rest.
            arrival(4, "2025-02", "MN"),
            arrival(6, "2025-02", "MN"),
            arrival(5, "2025-03", "DE"),
            arrival(4, "2025-03", "FR"),
            arrival(2, "2025-03", UNKNOWN_DESTINATION),
        ];
        let t = table(&cases, q(2025, 1));
        assert_eq!(
            t.rows,
            vec![
                Row::Country(CountryCode::parse("KR").unwrap()),
                Row::Region(Region::EastAsia),
                Row::Other,
                Row::Total
            ]
        );
        let east = t.cell(Row::Region(Region::EastAsia), Measure::Arrivals).unwrap();
        assert_eq!(east.shown, Shown::Count(19), "JP and MN");
        assert!(!east.over.contains(&"KR".to_owned()) && east.over.contains(&"MN".to_owned()));
        let other = t.cell(Row::Other, Measure::Arrivals).unwrap();
        assert_eq!(other.shown, Shown::Count(11), "Germany, France and unknown");
        assert!(other.over.contains(&"DE".to_owned()) && other.over.contains(&"unknown".to_owned()));
        assert_eq!(t.cell(Row::Total, Measure::Arrivals).unwrap().shown, Shown::Count(40));
        assert_eq!(t.cell(Row::Total, Measure::HelpedToSafety).unwrap().shown, Shown::Count(40));
        assert_eq!(t.cell(Row::Total, Measure::Resettlements).unwrap().shown, Shown::FewerThanTen);
        assert_eq!(t.cell(Row::Other, Measure::Resettlements).unwrap().shown, Shown::FewerThanTen);
        assert!(t.cell(Row::Other, Measure::HelpedToSafety).is_none(), "helped to safety is a total only");
        assert_eq!(values(&cases, &t)[0], 40);
    }

    #[test]
    fn a_small_other_row_beside_rows_all_shown_takes_in_the_smallest_row() {
        // Korea 12, the US 15, Germany 4: "other" (Germany) would follow
        // from the total, so the smallest row (Korea) joins it.
        let cases = [arrival(12, "2025-01", "KR"), arrival(15, "2025-02", "US"), arrival(4, "2025-03", "DE")];
        let t = table(&cases, q(2025, 1));
        let us = Row::Country(CountryCode::parse("US").unwrap());
        assert_eq!(t.rows, vec![us, Row::Other, Row::Total]);
        assert_eq!(t.cell(Row::Other, Measure::Arrivals).unwrap().shown, Shown::Count(16));
        // The rest of East Asia, the smallest row, joins "other".
        let cases = [
            arrival(12, "2025-01", "KR"),
            arrival(11, "2025-01", "MN"),
            arrival(15, "2025-02", "US"),
            arrival(4, "2025-03", "DE"),
        ];
        let t = table(&cases, q(2025, 1));
        let kr = Row::Country(CountryCode::parse("KR").unwrap());
        assert_eq!(t.rows, vec![kr, us, Row::Other, Row::Total]);
        assert_eq!(t.cell(Row::Other, Measure::Arrivals).unwrap().shown, Shown::Count(15));
        // A country joins its region's row first: Korea (11) into East
        // Asia, then the US (15), now the smallest, into "other".
        let cases = [
            arrival(11, "2025-01", "KR"),
            arrival(12, "2025-01", "MN"),
            arrival(15, "2025-02", "US"),
            arrival(4, "2025-03", "DE"),
        ];
        let t = table(&cases, q(2025, 1));
        assert_eq!(t.rows, vec![Row::Region(Region::EastAsia), Row::Other, Row::Total]);
        assert_eq!(t.cell(Row::Region(Region::EastAsia), Measure::Arrivals).unwrap().shown, Shown::Count(23));
        assert_eq!(t.cell(Row::Other, Measure::Arrivals).unwrap().shown, Shown::Count(19));
        // A small row elsewhere already keeps "other" from following: nothing moves.
        let cases = [
            arrival(12, "2025-01", "KR"),
            arrival(15, "2025-02", "US"),
            arrival(4, "2025-03", "DE"),
            arrival(30, "2025-03", "FR"),
        ];
        let t = table(&cases, q(2025, 1));
        let fr = Row::Country(CountryCode::parse("FR").unwrap());
        assert_eq!(t.rows, vec![fr, us, Row::Other, Row::Total], "Korea joined other");
    }

    #[test]
    fn a_region_under_ten_folds_into_other_destinations() {
        let cases = [arrival(12, "2025-01", "US"), arrival(9, "2025-01", "CA"), arrival(1, "2025-01", "MX")];
        let t = table(&cases, q(2025, 1));
        assert_eq!(t.rows, vec![Row::Country(CountryCode::parse("US").unwrap()), Row::Other, Row::Total]);
        let other = t.cell(Row::Other, Measure::Arrivals).unwrap();
        assert!(other.over.contains(&"CA".to_owned()) && !other.over.contains(&"US".to_owned()));
        // Every destination is in exactly one row besides the total.
        for code in universe() {
            let n = t
                .cells
                .iter()
                .filter(|c| {
                    c.measure == Measure::Arrivals
                        && c.row != Row::Total
                        && c.over.contains(&(*code).to_owned())
                })
                .count();
            assert_eq!(n, 1, "{code}");
        }
    }
}
