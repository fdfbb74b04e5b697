//! Secondary suppression: no total or difference of shown cells, in one
//! table or across every approved table, may give away a hidden cell, nor
//! a count under 10 that was never a cell.
//!
//! Every cell is a sum over atoms: a measure, a destination and a month. A
//! hidden cell is revealed when its atom vector lies
//! in the linear span of the shown cells' vectors. So is a virtual cell:
//! the count, under 10, of a grouping of destinations that is a row in some
//! table (or a single destination) in some table's period or a quarter of
//! one (Japan's fourth quarter, when the fourth quarter folded Japan into
//! "other destinations" but the year and three quarters name it). While any
//! hidden or virtual cell is revealed, the smallest shown cell of the new
//! table is hidden too (preferring one that shares atoms with a revealed
//! cell) and the test runs again; at worst the whole new table is hidden.
//! Approved tables never change.
//!
//! Within each column of the new table, "not shown" cells (at least 10)
//! must not narrow a "fewer than 10" through the column's total: see
//! [`narrowed_column`]. Bounds from combining several tables are not
//! checked (docs/figures.md says why).
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
//! columns however many destinations and months there are. The approved
//! tables' shown cells are kept in reduced echelon form, so each of the
//! many hidden and virtual cells is reduced once, by the few rows whose
//! pivots it holds; only those the new table could still complete are kept
//! for the rounds of hiding.

use std::collections::BTreeSet;

use super::compute::{self, CaseFigures, Counts, universe};
use super::model::{Measure, Row, Shown, Table};
use crate::publication::PublicationPolicy;
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

/// Hide further cells of `table` until nothing small follows from the shown
/// cells of it and of the `approved` tables, counted from `cases`:
///
/// - no hidden cell, of the new table or an approved one, and no virtual
///   cell (see [`virtual_cells`]) under 10 lies in the span of the shown
///   cells;
/// - within each column of the new table, the "not shown" cells do not
///   narrow a "fewer than 10" one (see [`narrowed_column`]).
///
/// Each round of the span test hides the smallest shown cell of the new
/// table among, first, those whose hiding alone keeps some revealed cell
/// from following (in a single table: the smallest other row rather than
/// the total), then those sharing atoms with a revealed cell, then any.
pub fn protect(table: &mut Table, cases: &[CaseFigures], approved: &[Table]) {
    let values = compute::values(cases, table);
    let mut specs: Vec<Spec> = approved.iter().flat_map(Spec::of_table).collect();
    let first_new = specs.len();
    specs.extend(Spec::of_table(table));
    let first_virtual = specs.len();
    let tables: Vec<&Table> = approved.iter().chain(std::iter::once(&*table)).collect();
    specs.extend(virtual_cells(cases, &tables));
    let prepared = prepare(&specs, first_new, first_virtual);
    let mut fixed = vec![false; table.cells.len()];
    for (index, _) in prepared.iter().flat_map(|p| &p.new).filter(|(_, v)| v.iter().all(|x| *x == 0)) {
        if let Some(f) = index.checked_sub(first_new).and_then(|n| fixed.get_mut(n)) {
            *f = true;
        }
    }
    let mut hidden: Vec<bool> = specs.iter().map(|s| s.hidden).collect();
    loop {
        hide_while_revealed(table, &values, &specs, &prepared, &mut hidden, first_new..first_virtual);
        // Hiding more never reveals more by the span test, but a cell
        // hidden here is itself protected from then on: test again.
        let Some(pick) = narrowed_column(table, &values, &fixed) else { return };
        if let Some(h) = hidden.get_mut(first_new + pick) {
            *h = true;
        }
        if let Some(cell) = table.cells.get_mut(pick) {
            cell.shown = Shown::Hidden;
        }
    }
}

fn hide_while_revealed(
    table: &mut Table,
    values: &[u64],
    specs: &[Spec],
    prepared: &[Prepared],
    hidden: &mut [bool],
    new: std::ops::Range<usize>,
) {
    let first_new = new.start;
    loop {
        let revealed = revealed_now(prepared, hidden, None);
        if revealed.is_empty() {
            return;
        }
        let shown: Vec<usize> = new.clone().filter(|i| !hidden.get(*i).copied().unwrap_or(true)).collect();
        let helps = |i: &usize| {
            let mut trial = hidden.to_vec();
            if let Some(h) = trial.get_mut(*i) {
                *h = true;
            }
            revealed_now(prepared, &trial, Some(&revealed)).len() < revealed.len()
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

/// Counts that were never a cell but follow from cells all the same: for
/// every period (each table's, and each quarter overlapping one: a year
/// minus three approved quarters is the fourth, approved or not), every
/// measure and every grouping of destinations that is a row in any table
/// or a single destination with people in any of those periods, the count
/// of that grouping in that period, counted from `cases` now. Only those
/// under 10 are kept (protected like a hidden cell); one equal to a cell of
/// its own table is that cell, and is left out.
fn virtual_cells(cases: &[CaseFigures], tables: &[&Table]) -> Vec<Spec> {
    let small = PublicationPolicy::SMALL_COUNT;
    let mut periods: Vec<(Period, Option<&Table>)> = tables.iter().map(|t| (t.period, Some(*t))).collect();
    for t in tables {
        let mut day = t.period.first_day();
        while day <= t.period.last_day() {
            let quarter = Period::quarter_of(day);
            if !periods.iter().any(|(p, _)| *p == quarter) {
                periods.push((quarter, None));
            }
            match quarter.last_day().next_day() {
                Some(next) => day = next,
                None => break,
            }
        }
    }
    let counts: Vec<Counts> = periods.iter().map(|(p, _)| Counts::of(cases, *p)).collect();
    let mut groupings: BTreeSet<BTreeSet<String>> = BTreeSet::new();
    for t in tables {
        for c in t.cells.iter().filter(|c| c.measure != Measure::HelpedToSafety) {
            groupings.insert(c.over.iter().cloned().collect());
        }
    }
    for c in &counts {
        for ((_, d), _) in c.by_destination.iter().filter(|(_, n)| **n > 0) {
            groupings.insert(BTreeSet::from([(*d).to_owned()]));
        }
    }
    let everywhere: BTreeSet<String> = universe().iter().map(|s| (*s).to_owned()).collect();
    let mut out = Vec::new();
    for ((period, table), counts) in periods.iter().zip(&counts) {
        let times = time_atoms(*period);
        let is_a_cell = |measure: Measure, over: &BTreeSet<String>| {
            table.is_some_and(|t| {
                t.cells.iter().any(|c| {
                    c.measure == measure
                        && c.over.len() == over.len()
                        && c.over.iter().all(|d| over.contains(d))
                })
            })
        };
        let helped = std::iter::once((Measure::HelpedToSafety, &everywhere));
        let by_destination =
            Measure::BY_DESTINATION.into_iter().flat_map(|m| groupings.iter().map(move |g| (m, g)));
        for (measure, over) in helped.chain(by_destination) {
            if counts.sum_over(measure, over) < small && !is_a_cell(measure, over) {
                out.push(Spec { measure, times: times.clone(), over: over.clone(), hidden: true });
            }
        }
    }
    out
}

/// A column of the new table where "not shown" cells narrow a "fewer than
/// 10" one, and the cell to hide for it. With the total known, the total
/// minus the known rows is R, the sum of the other rows; with P of them
/// "fewer than 10" and S "not shown" (each at least 10), each "fewer than
/// 10" is at most R − 10·S, which says more than the label when it is under
/// 9 (and everything when it is 0). Several "fewer than 10" and no "not
/// shown" are narrowed the same way: their sum R bounds each of them (a
/// sum of 0 proves they are all 0). While P ≥ 1 (P ≥ 2 without S: one
/// alone is the span test's) and R − 10·S < 9, the largest shown row (it
/// raises R − 10·S the most) is hidden, or with none left the total.
///
/// A cell is known if it is shown or `fixed` (its value follows from the
/// approved tables alone, so hiding it hides nothing). A column whose
/// narrowing no hiding can undo is left, with a warning.
fn narrowed_column(table: &Table, values: &[u64], fixed: &[bool]) -> Option<usize> {
    let small = PublicationPolicy::SMALL_COUNT;
    let cell = |i: usize| table.cells.get(i);
    let value = |i: usize| values.get(i).copied().unwrap_or(0);
    let is_fixed = |i: usize| fixed.get(i).copied().unwrap_or(false);
    let shown = |i: usize| cell(i).is_some_and(|c| !c.shown.is_hidden());
    let known = |i: usize| shown(i) || is_fixed(i);
    for measure in Measure::BY_DESTINATION {
        let column: Vec<usize> =
            (0..table.cells.len()).filter(|i| cell(*i).is_some_and(|c| c.measure == measure)).collect();
        let Some(total) = column.iter().copied().find(|i| cell(*i).is_some_and(|c| c.row == Row::Total))
        else {
            continue;
        };
        if !known(total) {
            continue;
        }
        let rows: Vec<usize> = column.iter().copied().filter(|i| *i != total).collect();
        let kind = |k: Shown| {
            rows.iter().filter(|i| !known(**i) && cell(**i).is_some_and(|c| c.shown == k)).count() as u64
        };
        let (primary, secondary) = (kind(Shown::FewerThanTen), kind(Shown::Hidden));
        // One "fewer than 10" alone is the span test's: its value would follow.
        if primary == 0 || (primary == 1 && secondary == 0) {
            continue;
        }
        let rest = value(total).saturating_sub(rows.iter().filter(|i| known(**i)).map(|i| value(*i)).sum());
        if rest >= small * secondary + (small - 1) {
            continue;
        }
        let largest = rows
            .iter()
            .copied()
            .filter(|i| shown(*i) && !is_fixed(*i))
            .max_by_key(|i| (value(*i), std::cmp::Reverse(*i)));
        match largest.or((shown(total) && !is_fixed(total)).then_some(total)) {
            Some(pick) => return Some(pick),
            None => tracing::warn!("the approved figures fix a total that narrows a count under 10"),
        }
    }
    None
}

/// The indices of the hidden cells whose value follows from the shown ones.
pub fn revealed(specs: &[Spec]) -> Vec<usize> {
    let hidden: Vec<bool> = specs.iter().map(|s| s.hidden).collect();
    revealed_now(&prepare(specs, 0, specs.len()), &hidden, None)
}

/// One measure's vectors modulo one prime, reduced once by the shown cells
/// of the approved tables (which never change), so each round of
/// [`protect`] works only with the new table's few cells.
struct Prepared {
    prime: u64,
    /// Hidden cells of approved tables and virtual cells, by index,
    /// reduced; only those the approved tables alone do not reveal
    /// (nothing the new table hides could change that) and that the new
    /// table's cells, all of them shown, would (the others never follow).
    old_hidden: Vec<(usize, Vec<u64>)>,
    /// The new table's cells, by index, reduced.
    new: Vec<(usize, Vec<u64>)>,
}

/// `specs` are the approved tables' cells, then from `first_new` the new
/// table's, then from `first_virtual` the virtual cells.
fn prepare(specs: &[Spec], first_new: usize, first_virtual: usize) -> Vec<Prepared> {
    let mut out = Vec::new();
    for measure in Measure::ALL {
        let local: Vec<usize> =
            (0..specs.len()).filter(|i| specs.get(*i).is_some_and(|s| s.measure == measure)).collect();
        let cells: Vec<&Spec> = local.iter().filter_map(|i| specs.get(*i)).collect();
        let vectors = vectors(&cells);
        for prime in PRIMES {
            // The approved tables' shown cells, in reduced echelon form
            // once: each candidate is then reduced by the few rows whose
            // pivot it touches.
            let mut old = Basis::new(prime);
            for ((cell, v), index) in cells.iter().zip(&vectors).zip(&local) {
                if *index < first_new && !cell.hidden {
                    old.insert(v.clone());
                }
            }
            let mut prepared = Prepared { prime, old_hidden: Vec::new(), new: Vec::new() };
            let mut all_new = Basis::new(prime);
            let cells_hidden = |i: &usize| specs.get(*i).is_some_and(|s| s.hidden);
            for (v, index) in vectors.iter().zip(&local) {
                if (first_new..first_virtual).contains(index) {
                    let reduced = old.reduce(v.clone());
                    if cells_hidden(index) && reduced.iter().all(|x| *x == 0) {
                        tracing::warn!("a hidden figure already follows from the approved figures");
                    }
                    all_new.insert(reduced.clone());
                    prepared.new.push((*index, reduced));
                }
            }
            for ((cell, v), index) in cells.iter().zip(&vectors).zip(&local) {
                let is_old_hidden = *index < first_new && cell.hidden;
                if !is_old_hidden && *index < first_virtual {
                    continue;
                }
                let reduced = old.reduce(v.clone());
                if reduced.iter().all(|x| *x == 0) {
                    if is_old_hidden {
                        tracing::warn!("an approved figure is already revealed by other approved figures");
                    } else {
                        tracing::warn!("a count under 10 already follows from the approved figures");
                    }
                } else if all_new.spans(reduced.clone()) {
                    prepared.old_hidden.push((*index, reduced));
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
        // A new cell the approved tables alone give is known however it
        // is shown: hiding more cannot help it.
        let new_hidden = p.new.iter().filter(|(i, v)| is_hidden(*i) && v.iter().any(|x| *x != 0));
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
pub(crate) const PRIMES: [u64; 2] = [(1 << 61) - 1, u64::MAX - 58];

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

/// Vectors modulo a prime in reduced row-echelon form: each has a pivot of
/// 1 where every other row has 0.
pub(crate) struct Basis {
    prime: u64,
    rows: Vec<(usize, Vec<u64>)>,
}

impl Basis {
    pub(crate) fn new(prime: u64) -> Self {
        Basis { prime, rows: Vec::new() }
    }

    pub(crate) fn reduce(&self, mut v: Vec<u64>) -> Vec<u64> {
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

    /// Adds a vector, keeping the rows in reduced echelon form: no row has
    /// anything at another row's pivot, so reducing a sparse vector touches
    /// only the rows whose pivots it holds.
    pub(crate) fn insert(&mut self, v: Vec<u64>) {
        let p = self.prime;
        let mut v = self.reduce(v);
        if let Some(pivot) = v.iter().position(|x| *x != 0) {
            let inv = inverse(v.get(pivot).copied().unwrap_or(1), p);
            for x in v.iter_mut() {
                *x = mul(*x, inv, p);
            }
            for (_, row) in self.rows.iter_mut() {
                let f = row.get(pivot).copied().unwrap_or(0);
                if f != 0 {
                    for (x, r) in row.iter_mut().zip(&v) {
                        if *r != 0 {
                            *x = sub(*x, mul(f, *r, p), p);
                        }
                    }
                }
            }
            self.rows.push((pivot, v));
        }
    }

    pub(crate) fn spans(&self, v: Vec<u64>) -> bool {
        self.reduce(v).iter().all(|x| *x == 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cases::model::{CountryCode, EventDate};
    use crate::figures::model::UNKNOWN_DESTINATION;

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
        protect(&mut t, cases, approved);
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
        // 29 − 15 = 14 would be Korea and "other" together, "other" at
        // least 10: Korea at most 4. So the US is not shown either.
        assert_eq!(shown(us, r), Shown::Hidden);
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
        assert!(exposed(&cases, &approved).is_empty());
        for t in &approved {
            assert_eq!(narrowed_column(t, &compute::values(&cases, t), &[]), None, "{:?}", t.period);
        }
    }

    /// The hidden and virtual cells that follow from the shown cells of `tables`.
    fn exposed(cases: &[CaseFigures], tables: &[Table]) -> Vec<Spec> {
        let mut specs = all_specs(tables);
        let refs: Vec<&Table> = tables.iter().collect();
        specs.extend(virtual_cells(cases, &refs));
        revealed(&specs).into_iter().filter_map(|i| specs.get(i).cloned()).collect()
    }

    /// Each quarter of 2025: Korea and the US 20 arrivals, an unknown
    /// destination 12, and Japan 12, 11 and 13, then 4 in the fourth
    /// quarter, where Japan has no row (its 4 are in "other destinations").
    fn japan_folded_in_q4() -> Vec<CaseFigures> {
        let mut cases = Vec::new();
        for (n, jp) in [(1u8, 12), (2, 11), (3, 13), (4, 4)] {
            let month = format!("2025-{:02}", n * 3);
            for (dest, people) in [("KR", 20), ("US", 20), (UNKNOWN_DESTINATION, 12), ("JP", jp)] {
                cases.push(arrivals(people, &month, dest));
            }
        }
        cases
    }

    fn japan_q4(spec: &Spec) -> bool {
        spec.measure == Measure::Arrivals
            && spec.over == BTreeSet::from(["JP".to_owned()])
            && spec.times == time_atoms(q(4))
    }

    #[test]
    fn a_count_that_was_never_a_cell_is_protected_like_a_hidden_one() {
        let cases = japan_folded_in_q4();
        let jp = Row::Country(CountryCode::parse("JP").unwrap());
        let mut quarters = Vec::new();
        for n in 1..=4 {
            let t = protected(&cases, q(n), &quarters);
            quarters.push(t);
        }
        assert!(
            quarters
                .iter()
                .take(3)
                .all(|t| t.cell(jp, Measure::Arrivals).is_some_and(|c| !c.shown.is_hidden()))
        );
        assert!(quarters.last().unwrap().cell(jp, Measure::Arrivals).is_none(), "Japan folded into other");
        assert!(
            quarters
                .iter()
                .all(|t| !t.cells.iter().any(|c| c.shown.is_hidden() && c.measure == Measure::Arrivals))
        );
        // Unprotected, the year's Japan minus three quarters is Japan's 4
        // in the fourth: no published cell held it.
        let bare = compute::table(&cases, Y);
        assert_eq!(bare.cell(jp, Measure::Arrivals).unwrap().shown, Shown::Count(40));
        let mut unprotected = quarters.clone();
        unprotected.push(bare);
        assert!(revealed(&all_specs(&unprotected)).is_empty(), "no hidden cell follows");
        assert!(exposed(&cases, &unprotected).iter().any(japan_q4), "but the count does");
        // Protected, the year hides Japan (and what its total needs).
        let year = protected(&cases, Y, &quarters);
        assert_eq!(year.cell(jp, Measure::Arrivals).unwrap().shown, Shown::Hidden);
        let mut all = quarters.clone();
        all.push(year);
        assert!(exposed(&cases, &all).is_empty());
        // The year before the fourth quarter is approved: the fourth
        // quarter's count follows all the same, and is protected.
        let early = protected(&cases, Y, &quarters[..3]);
        assert_eq!(early.cell(jp, Measure::Arrivals).unwrap().shown, Shown::Hidden);
        let mut all = quarters[..3].to_vec();
        all.push(early);
        assert!(exposed(&cases, &all).is_empty());
        let q4 = protected(&cases, q(4), &all);
        all.push(q4);
        assert!(exposed(&cases, &all).is_empty());
    }

    #[test]
    fn several_fewer_than_10_are_not_narrowed_by_their_own_sum() {
        // Resettlements: Korea 2, Germany 1 (in "other"), the US 15, in all
        // 18. With the total and the US shown, 18 − 15 = 3 would say Korea
        // and "other" are at most 3 each, and both 0 had it been 15.
        let cases = [
            arrivals(12, "2025-01", "KR"),
            arrivals(15, "2025-02", "US"),
            arrivals(11, "2025-03", "DE"),
            resettled(2, day(2), "KR"),
            resettled(15, day(2), "US"),
            resettled(1, day(3), "DE"),
        ];
        let r = Measure::Resettlements;
        let t = compute::table(&cases, q(1));
        let values = compute::values(&cases, &t);
        assert!(revealed(&all_specs(std::slice::from_ref(&t))).is_empty(), "no exact value follows");
        assert!(narrowed_column(&t, &values, &[]).is_some(), "but the sum of 3 narrows both");
        let t = protected(&cases, q(1), &[]);
        assert_eq!(narrowed_column(&t, &compute::values(&cases, &t), &[]), None);
        assert!(
            t.cells.iter().filter(|c| c.measure == r).all(|c| c.shown.is_hidden()),
            "{:?}",
            t.cells.iter().filter(|c| c.measure == r).map(|c| c.shown).collect::<Vec<_>>()
        );
    }

    #[test]
    fn not_shown_cells_do_not_narrow_a_fewer_than_10_in_their_column() {
        // Korea 3 resettlements, the US 15, "other" 11, in all 29.
        let cases = [
            arrivals(12, "2025-01", "KR"),
            arrivals(15, "2025-02", "US"),
            arrivals(11, "2025-03", "DE"),
            resettled(3, day(2), "KR"),
            resettled(15, day(2), "US"),
            resettled(11, day(3), "DE"),
        ];
        let kr = Row::Country(CountryCode::parse("KR").unwrap());
        let us = Row::Country(CountryCode::parse("US").unwrap());
        let r = Measure::Resettlements;
        // What the span test alone leaves: "other" not shown, so 29 − 15 =
        // 14 is Korea and "other", "other" at least 10: Korea at most 4.
        let mut t = compute::table(&cases, q(1));
        let values = compute::values(&cases, &t);
        let index = |t: &Table, row| t.cells.iter().position(|c| c.row == row && c.measure == r).unwrap();
        let other = index(&t, Row::Other);
        t.cells[other].shown = Shown::Hidden;
        assert!(revealed(&all_specs(std::slice::from_ref(&t))).is_empty(), "no exact value follows");
        assert_eq!(narrowed_column(&t, &values, &[]), Some(index(&t, us)), "the largest shown row");
        // Protected: the US is not shown either, and 29 − 20 leaves Korea its 0 to 9.
        let t = protected(&cases, q(1), &[]);
        assert_eq!(t.cell(kr, r).unwrap().shown, Shown::FewerThanTen);
        assert_eq!(t.cell(us, r).unwrap().shown, Shown::Hidden);
        assert_eq!(t.cell(Row::Other, r).unwrap().shown, Shown::Hidden);
        assert_eq!(t.cell(Row::Total, r).unwrap().shown, Shown::Count(29));
        assert_eq!(narrowed_column(&t, &values, &[]), None);
        // With no shown row left to hide, the total goes: Korea 3 and
        // "other" 11 would leave Korea at most 4 by the total of 14.
        let cases = [
            arrivals(12, "2025-01", "KR"),
            arrivals(11, "2025-03", "DE"),
            resettled(3, day(2), "KR"),
            resettled(11, day(3), "DE"),
        ];
        let t = protected(&cases, q(1), &[]);
        assert_eq!(t.rows, vec![kr, Row::Other, Row::Total]);
        assert_eq!(t.cell(kr, r).unwrap().shown, Shown::FewerThanTen);
        assert_eq!(t.cell(Row::Other, r).unwrap().shown, Shown::Hidden);
        assert_eq!(t.cell(Row::Total, r).unwrap().shown, Shown::Hidden);
        assert_eq!(t.cell(kr, Measure::Arrivals).unwrap().shown, Shown::Count(12), "arrivals untouched");
        assert_eq!(narrowed_column(&t, &compute::values(&cases, &t), &[]), None);
        // Enough room beside a "not shown" cell: nothing more is hidden.
        let mut t = compute::table(&cases, q(1));
        let values: Vec<u64> = compute::values(&cases, &t);
        let other = index(&t, Row::Other);
        t.cells[other].shown = Shown::Hidden;
        let total = index(&t, Row::Total);
        let mut roomy = values.clone();
        roomy[total] = 18;
        assert_eq!(narrowed_column(&t, &roomy, &[]), Some(total), "18 − 10: Korea at most 8");
        // A total the approved tables already give is no use hiding.
        let mut fixed = vec![false; t.cells.len()];
        fixed[total] = true;
        assert_eq!(narrowed_column(&t, &roomy, &fixed), None);
        roomy[total] = 19;
        assert_eq!(narrowed_column(&t, &roomy, &[]), None, "19 − 10: Korea at most 9, as the label says");
    }
}
