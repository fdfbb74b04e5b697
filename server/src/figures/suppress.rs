//! Secondary suppression: no total or difference of shown cells, in one
//! table or across every approved table, may give away a hidden cell.
//!
//! Every cell is a sum over atoms: a measure, a destination and a month. A
//! hidden cell is revealed when its atom vector lies
//! in the linear span of the shown cells' vectors. While any hidden cell,
//! of the new table or of an approved one, is revealed, the smallest shown
//! cell of the new table is hidden too (preferring one that shares atoms
//! with a revealed cell) and the test runs again; at worst the whole new
//! table is hidden. Approved tables never change.
//!
//! The span test is Gaussian elimination modulo two primes near 2^61 and
//! 2^64, and a cell counts as revealed if either prime says so. A rank
//! taken modulo a prime can only be lower than the exact one, so one prime
//! alone errs only if it divides one of a handful of particular integers;
//! both must err together for a revealed cell to be missed. Exact rational
//! arithmetic would need big integers for the same answer.
//!
//! Atoms that every cell treats alike (the same cells contain them) are
//! merged into one column first, which keeps the matrix to a few hundred
//! columns however many destinations and months there are.

use std::collections::BTreeSet;

use super::compute::universe;
use super::model::{Measure, Shown, Table};
use crate::publication::period::Period;

/// A month: what every period is made of.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TimeAtom {
    pub year: i32,
    pub month: u8,
}

/// The months a period sums over. An event known only to its year counts
/// in that calendar year and in no quarter, so a year is in truth a little
/// more than its four quarters; a reader cannot be assumed not to know
/// there were no such events, so the test treats the year as exactly the
/// sum of its months (more is hidden, never less).
pub fn time_atoms(period: Period) -> BTreeSet<TimeAtom> {
    let (first, last) = (period.first_day(), period.last_day());
    let mut out = BTreeSet::new();
    let (mut year, mut month) = (first.year(), u8::from(first.month()));
    while (year, month) <= (last.year(), u8::from(last.month())) {
        out.insert(TimeAtom { year, month });
        (year, month) = if month == 12 { (year + 1, 1) } else { (year, month + 1) };
    }
    out
}

/// One published cell as the span test sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Spec {
    pub measure: Measure,
    pub times: BTreeSet<TimeAtom>,
    pub over: BTreeSet<String>,
    pub hidden: bool,
}

impl Spec {
    fn of_table(table: &Table) -> Vec<Spec> {
        let times = time_atoms(table.period);
        table
            .cells
            .iter()
            .map(|c| Spec {
                measure: c.measure,
                times: times.clone(),
                over: c.over.iter().cloned().collect(),
                hidden: c.shown.is_hidden(),
            })
            .collect()
    }

    fn shares_atoms(&self, other: &Spec) -> bool {
        self.measure == other.measure
            && !self.times.is_disjoint(&other.times)
            && !self.over.is_disjoint(&other.over)
    }
}

/// Hide further cells of `table` until no hidden cell of it or of the
/// `approved` tables is revealed. `values` are the true counts of the
/// table's cells, in order (to find the smallest shown cell).
///
/// Each round hides the smallest shown cell of the new table among, first,
/// those whose hiding alone keeps some revealed cell from following (in a
/// single table: the smallest other row rather than the total), then those
/// sharing atoms with a revealed cell, then any.
pub fn protect(table: &mut Table, values: &[u64], approved: &[Table]) {
    let mut specs: Vec<Spec> = approved.iter().flat_map(Spec::of_table).collect();
    let first_new = specs.len();
    specs.extend(Spec::of_table(table));
    let prepared = prepare(&specs, first_new);
    let mut hidden: Vec<bool> = specs.iter().map(|s| s.hidden).collect();
    loop {
        let revealed = revealed_now(&prepared, &hidden, None);
        if revealed.is_empty() {
            return;
        }
        let shown: Vec<usize> =
            (first_new..specs.len()).filter(|i| !hidden.get(*i).copied().unwrap_or(true)).collect();
        let helps = |i: &usize| {
            let mut trial = hidden.clone();
            if let Some(h) = trial.get_mut(*i) {
                *h = true;
            }
            revealed_now(&prepared, &trial, Some(&revealed)).len() < revealed.len()
        };
        let near = |i: &usize| {
            specs
                .get(*i)
                .is_some_and(|s| revealed.iter().any(|r| specs.get(*r).is_some_and(|r| s.shares_atoms(r))))
        };
        let helpful: Vec<usize> = shown.iter().copied().filter(helps).collect();
        let sharing: Vec<usize> = shown.iter().copied().filter(near).collect();
        let pool = [&helpful, &sharing, &shown].into_iter().find(|p| !p.is_empty());
        let value = |i: usize| i.checked_sub(first_new).and_then(|n| values.get(n)).copied().unwrap_or(0);
        let Some(pick) = pool.and_then(|p| p.iter().copied().min_by_key(|i| (value(*i), *i))) else { return };
        if let Some(h) = hidden.get_mut(pick) {
            *h = true;
        }
        if let Some(cell) = pick.checked_sub(first_new).and_then(|n| table.cells.get_mut(n)) {
            cell.shown = Shown::Hidden;
        }
    }
}

/// The indices of the hidden cells whose value follows from the shown ones.
pub fn revealed(specs: &[Spec]) -> Vec<usize> {
    let hidden: Vec<bool> = specs.iter().map(|s| s.hidden).collect();
    revealed_now(&prepare(specs, 0), &hidden, None)
}

/// One measure's vectors modulo one prime, reduced once by the shown cells
/// of the approved tables (which never change), so each round of
/// [`protect`] works only with the new table's few cells.
struct Prepared {
    prime: u64,
    /// Hidden cells of approved tables, by index, reduced (and not already
    /// revealed by the approved tables alone: nothing the new table hides
    /// could change that).
    old_hidden: Vec<(usize, Vec<u64>)>,
    /// The new table's cells, by index, reduced.
    new: Vec<(usize, Vec<u64>)>,
}

fn prepare(specs: &[Spec], first_new: usize) -> Vec<Prepared> {
    let mut out = Vec::new();
    for measure in Measure::ALL {
        let local: Vec<usize> =
            (0..specs.len()).filter(|i| specs.get(*i).is_some_and(|s| s.measure == measure)).collect();
        let cells: Vec<&Spec> = local.iter().filter_map(|i| specs.get(*i)).collect();
        let vectors = vectors(&cells);
        for prime in PRIMES {
            let mut old = Basis::new(prime);
            for ((cell, v), index) in cells.iter().zip(&vectors).zip(&local) {
                if *index < first_new && !cell.hidden {
                    old.insert(v.clone());
                }
            }
            let mut prepared = Prepared { prime, old_hidden: Vec::new(), new: Vec::new() };
            for ((cell, v), index) in cells.iter().zip(&vectors).zip(&local) {
                if *index >= first_new {
                    prepared.new.push((*index, old.reduce(v.clone())));
                } else if cell.hidden {
                    let reduced = old.reduce(v.clone());
                    if reduced.iter().any(|x| *x != 0) {
                        prepared.old_hidden.push((*index, reduced));
                    } else {
                        tracing::warn!("an approved figure is already revealed by other approved figures");
                    }
                }
            }
            out.push(prepared);
        }
    }
    out
}

/// Which hidden cells (of `only`, if given: hiding more never reveals
/// more) follow from the shown ones, with `hidden` saying which are hidden.
fn revealed_now(prepared: &[Prepared], hidden: &[bool], only: Option<&[usize]>) -> Vec<usize> {
    let is_hidden = |i: usize| hidden.get(i).copied().unwrap_or(false);
    let asked = |i: usize| only.is_none_or(|o| o.contains(&i));
    let mut out = Vec::new();
    for p in prepared {
        let mut basis = Basis::new(p.prime);
        for (index, v) in &p.new {
            if !is_hidden(*index) {
                basis.insert(v.clone());
            }
        }
        let new_hidden = p.new.iter().filter(|(i, _)| is_hidden(*i));
        for (index, v) in p.old_hidden.iter().chain(new_hidden) {
            if asked(*index) && !out.contains(index) && basis.spans(v.clone()) {
                out.push(*index);
            }
        }
    }
    out.sort_unstable();
    out
}

/// The cells' 0/1 vectors over merged atom classes.
fn vectors(cells: &[&Spec]) -> Vec<Vec<u64>> {
    let words = cells.len().div_ceil(64);
    let signature = |member: &dyn Fn(&Spec) -> bool| -> Vec<u64> {
        let mut bits = vec![0u64; words];
        for (j, cell) in cells.iter().enumerate() {
            if member(cell) {
                if let Some(w) = bits.get_mut(j / 64) {
                    *w |= 1 << (j % 64);
                }
            }
        }
        bits
    };
    let times: BTreeSet<TimeAtom> = cells.iter().flat_map(|c| c.times.iter().copied()).collect();
    let time_classes: BTreeSet<Vec<u64>> =
        times.iter().map(|t| signature(&|c| c.times.contains(t))).collect();
    let mut places: BTreeSet<&str> = universe().iter().copied().collect();
    places.extend(cells.iter().flat_map(|c| c.over.iter().map(String::as_str)));
    let place_classes: BTreeSet<Vec<u64>> =
        places.iter().map(|p| signature(&|c| c.over.contains(*p))).collect();
    // A column per pair of classes that some cell contains; identical
    // columns are merged too.
    let mut columns: BTreeSet<Vec<u64>> = BTreeSet::new();
    for t in &time_classes {
        for p in &place_classes {
            let both: Vec<u64> = t.iter().zip(p).map(|(a, b)| a & b).collect();
            if both.iter().any(|w| *w != 0) {
                columns.insert(both);
            }
        }
    }
    (0..cells.len())
        .map(|j| columns.iter().map(|col| col.get(j / 64).map_or(0, |w| (w >> (j % 64)) & 1)).collect())
        .collect()
}

/// 2^61 - 1 and 2^64 - 59, both prime, both quick to reduce by.
const PRIMES: [u64; 2] = [(1 << 61) - 1, u64::MAX - 58];

fn mul(a: u64, b: u64, p: u64) -> u64 {
    let x = u128::from(a) * u128::from(b);
    if p == (1 << 61) - 1 {
        // 2^61 = 1: fold the high bits onto the low ones.
        let folded = (x & u128::from(p)) + (x >> 61);
        let folded = (folded & u128::from(p)) + (folded >> 61);
        let r = folded as u64;
        if r >= p { r - p } else { r }
    } else {
        // 2^64 = 59 modulo 2^64 - 59.
        let c = u128::from(u64::MAX - p + 1);
        let folded = (x >> 64) * c + (x & u128::from(u64::MAX));
        let mut r = (folded >> 64) * c + (folded & u128::from(u64::MAX));
        while r >= u128::from(p) {
            r -= u128::from(p);
        }
        r as u64
    }
}

fn sub(a: u64, b: u64, p: u64) -> u64 {
    if a >= b { a - b } else { p - (b - a) }
}

fn inverse(a: u64, p: u64) -> u64 {
    // Fermat: a^(p-2).
    let (mut base, mut exp, mut acc) = (a % p, p - 2, 1u64);
    while exp > 0 {
        if exp & 1 == 1 {
            acc = mul(acc, base, p);
        }
        base = mul(base, base, p);
        exp >>= 1;
    }
    acc
}

/// Row-echelon vectors modulo a prime, each with a pivot of 1 that the
/// vectors after it have reduced to 0.
struct Basis {
    prime: u64,
    rows: Vec<(usize, Vec<u64>)>,
}

impl Basis {
    fn new(prime: u64) -> Self {
        Basis { prime, rows: Vec::new() }
    }

    fn reduce(&self, mut v: Vec<u64>) -> Vec<u64> {
        let p = self.prime;
        for (pivot, row) in &self.rows {
            let f = v.get(*pivot).copied().unwrap_or(0);
            if f != 0 {
                for (x, r) in v.iter_mut().zip(row) {
                    if *r != 0 {
                        *x = sub(*x, mul(f, *r, p), p);
                    }
                }
            }
        }
        v
    }

    fn insert(&mut self, v: Vec<u64>) {
        let mut v = self.reduce(v);
        if let Some(pivot) = v.iter().position(|x| *x != 0) {
            let inv = inverse(v.get(pivot).copied().unwrap_or(1), self.prime);
            for x in v.iter_mut() {
                *x = mul(*x, inv, self.prime);
            }
            self.rows.push((pivot, v));
        }
    }

    fn spans(&self, v: Vec<u64>) -> bool {
        self.reduce(v).iter().all(|x| *x == 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cases::model::{CountryCode, EventDate};
    use crate::figures::compute::{self, CaseFigures};
    use crate::figures::model::Row;

    fn spec(measure: Measure, period: Period, over: &[&str], hidden: bool) -> Spec {
        Spec {
            measure,
            times: time_atoms(period),
            over: over.iter().map(|s| (*s).to_owned()).collect(),
            hidden,
        }
    }

    fn q(quarter: u8) -> Period {
        Period::Quarter { year: 2025, quarter }
    }

    const Y: Period = Period::Year { year: 2025 };

    #[test]
    fn arithmetic_modulo_each_prime_is_exact() {
        for p in PRIMES {
            for (a, b) in [(p - 1, p - 1), (p - 2, 3), (123_456_789_012, 987_654_321_098), (0, p - 1)] {
                let exact = ((u128::from(a) * u128::from(b)) % u128::from(p)) as u64;
                assert_eq!(mul(a, b, p), exact);
            }
            assert_eq!(mul(inverse(12345, p), 12345, p), 1);
        }
    }

    #[test]
    fn periods_sum_over_their_months_and_a_year_over_its_whole() {
        assert_eq!(time_atoms(q(1)).len(), 3);
        assert_eq!(time_atoms(Y).len(), 12);
        let fiscal = time_atoms(Period::FiscalYear { year: 2025, start_month: 9 });
        assert_eq!(fiscal.len(), 12);
        assert!(fiscal.contains(&TimeAtom { year: 2025, month: 9 }));
        assert!(fiscal.contains(&TimeAtom { year: 2026, month: 8 }));
    }

    #[test]
    fn a_total_minus_the_shown_cells_reveals_the_hidden_one() {
        let a = Measure::Arrivals;
        let specs = vec![
            spec(a, q(1), &["KR"], false),
            spec(a, q(1), &["US"], true),
            spec(a, q(1), &["KR", "US"], false),
        ];
        assert_eq!(revealed(&specs), vec![1]);
        // With two hidden rows the total gives away only their sum.
        let specs = vec![
            spec(a, q(1), &["KR"], true),
            spec(a, q(1), &["US"], true),
            spec(a, q(1), &["KR", "US"], false),
        ];
        assert!(revealed(&specs).is_empty());
        // Other measures are other atoms.
        let specs = vec![
            spec(Measure::Resettlements, q(1), &["KR"], false),
            spec(a, q(1), &["US"], true),
            spec(Measure::Resettlements, q(1), &["KR", "US"], false),
        ];
        assert!(revealed(&specs).is_empty());
    }

    #[test]
    fn a_year_minus_its_four_quarters_reveals_a_hidden_quarter() {
        let a = Measure::Arrivals;
        let mut specs: Vec<Spec> = (1..=4).map(|n| spec(a, q(n), &["KR"], n == 4)).collect();
        specs.push(spec(a, Y, &["KR"], false));
        assert_eq!(revealed(&specs), vec![3]);
        let mut specs: Vec<Spec> = (1..=4).map(|n| spec(a, q(n), &["KR"], n == 4)).collect();
        specs.push(spec(a, Y, &["KR"], false));
        specs.push(spec(a, Y, &["US"], false));
        assert_eq!(revealed(&specs), vec![3], "another row changes nothing");
        // A fiscal year overlapping two calendar years is no year's sum.
        let mut specs: Vec<Spec> = (1..=4).map(|n| spec(a, q(n), &["KR"], n == 4)).collect();
        specs.push(spec(a, Period::FiscalYear { year: 2025, start_month: 9 }, &["KR"], false));
        assert!(revealed(&specs).is_empty());
    }

    fn arrivals(people: u64, date: &str, dest: &'static str) -> CaseFigures {
        let d = EventDate::from_stored(date).unwrap();
        CaseFigures { people, helped: Some(d), arrived: Some((d, dest)), resettled: None }
    }

    fn protected(cases: &[CaseFigures], period: Period, approved: &[Table]) -> Table {
        let mut t = compute::table(cases, period);
        let values = compute::values(cases, &t);
        protect(&mut t, &values, approved);
        t
    }

    fn all_specs(tables: &[Table]) -> Vec<Spec> {
        tables.iter().flat_map(Spec::of_table).collect()
    }

    fn resettled(people: u64, day: time::Date, dest: &'static str) -> CaseFigures {
        CaseFigures { people, helped: None, arrived: None, resettled: Some((day, dest)) }
    }

    fn day(month: u8) -> time::Date {
        time::Date::from_calendar_date(2025, time::Month::try_from(month).unwrap(), 15).unwrap()
    }

    #[test]
    fn the_total_minus_the_shown_rows_would_reveal_a_small_cell_so_the_smallest_row_is_hidden() {
        // Korea has a row for its 12 arrivals; 3 people resettled there,
        // which the resettlement total minus the US and "other" would give away.
        let cases = [
            arrivals(12, "2025-01", "KR"),
            arrivals(15, "2025-02", "US"),
            arrivals(11, "2025-03", "DE"),
            resettled(3, day(2), "KR"),
            resettled(15, day(2), "US"),
            resettled(11, day(3), "DE"),
        ];
        let t = protected(&cases, q(1), &[]);
        let kr = Row::Country(CountryCode::parse("KR").unwrap());
        let us = Row::Country(CountryCode::parse("US").unwrap());
        let shown = |row, m| t.cell(row, m).unwrap().shown;
        let r = Measure::Resettlements;
        assert_eq!(shown(kr, r), Shown::FewerThanTen);
        assert_eq!(shown(Row::Other, r), Shown::Hidden, "the smallest cell whose hiding protects Korea");
        assert_eq!(shown(us, r), Shown::Count(15));
        assert_eq!(shown(Row::Total, r), Shown::Count(29), "the total stays");
        for row in [kr, us, Row::Other, Row::Total] {
            assert!(!shown(row, Measure::Arrivals).is_hidden());
        }
        assert!(revealed(&all_specs(std::slice::from_ref(&t))).is_empty());
        // Unprotected, Korea's 3 follows from the rest.
        let bare = compute::table(&cases, q(1));
        assert!(!revealed(&all_specs(&[bare])).is_empty());
    }

    #[test]
    fn a_year_after_its_quarters_hides_what_the_quarters_would_give_away() {
        let mut cases = Vec::new();
        for (n, kr) in [(1u8, 12), (2, 11), (3, 14), (4, 4)] {
            let month = n * 3;
            cases.push(arrivals(12, &format!("2025-{month:02}"), "KR"));
            cases.push(arrivals(20, &format!("2025-{month:02}"), "US"));
            cases.push(arrivals(12, &format!("2025-{month:02}"), "DE"));
            cases.push(resettled(kr, day(month), "KR"));
            cases.push(resettled(20, day(month), "US"));
            cases.push(resettled(12, day(month), "DE"));
        }
        let mut approved = Vec::new();
        for n in 1..=4 {
            let t = protected(&cases, q(n), &approved);
            approved.push(t);
        }
        let kr = Row::Country(CountryCode::parse("KR").unwrap());
        let q4 = approved.last().unwrap();
        assert_eq!(q4.cell(kr, Measure::Resettlements).unwrap().shown, Shown::FewerThanTen);
        let alone = protected(&cases, Y, &[]);
        let year = protected(&cases, Y, &approved);
        let hidden = |t: &Table| t.cells.iter().filter(|c| c.shown == Shown::Hidden).count();
        assert_eq!(hidden(&alone), 0, "on its own the year hides nothing");
        assert!(hidden(&year) > 0, "after the quarters it must");
        assert!(
            year.cell(kr, Measure::Resettlements).unwrap().shown.is_hidden(),
            "Korea's year minus three quarters"
        );
        let mut all = approved.clone();
        all.push(year);
        assert!(revealed(&all_specs(&all)).is_empty());
        // Without protection the year would have given Q4's Korea away.
        let mut unprotected = approved;
        unprotected.push(alone);
        assert!(!revealed(&all_specs(&unprotected)).is_empty());
    }

    #[test]
    fn hundreds_of_cells_over_years_and_countries_are_checked() {
        let dests = ["KR", "JP", "US", "CA", "DE", "FR", "GB", "AU", "MN", "TH", "unknown"];
        let mut cases = Vec::new();
        for year in 2021..=2025 {
            for m in 1..=12u8 {
                for (i, d) in dests.iter().enumerate() {
                    let people = ((year as u64 * 7 + u64::from(m) * 3 + i as u64 * 5) % 9) + 1;
                    cases.push(arrivals(people, &format!("{year}-{m:02}"), d));
                }
            }
        }
        let mut approved: Vec<Table> = Vec::new();
        for year in 2021..=2025 {
            for quarter in 1..=4 {
                let t = protected(&cases, Period::Quarter { year, quarter }, &approved);
                approved.push(t);
            }
            let t = protected(&cases, Period::Year { year }, &approved);
            approved.push(t);
            let t = protected(&cases, Period::FiscalYear { year, start_month: 9 }, &approved);
            approved.push(t);
        }
        let cells: usize = approved.iter().map(|t| t.cells.len()).sum();
        assert!(cells > 300, "{cells} cells");
        assert!(revealed(&all_specs(&approved)).is_empty());
    }
}
