//! Secondary suppression of the report's counts of children: no sum or
//! difference of shown counts, in this report or with every approved one,
//! may give away a hidden count, and no identity a reader knows may narrow
//! a "fewer than 10".
//!
//! A reader knows that the children in the plan at the start of a year,
//! plus those who joined, minus those who left and graduated, are those
//! at its end; that the year's end is the next year's start; and that the
//! reasons for leaving add up to the total. So every cell is a linear
//! combination of monthly flows since the programme began: joined in month
//! m, left for reason r in month m, graduated in month m. A flow cell is
//! the sum of its flow over the year's months (+1 each); a stock is the sum
//! of every flow before the boundary (+1 for joining, −1 for leaving and
//! graduating). A hidden cell is revealed when its vector lies in the span
//! of the shown cells' vectors (the figures' Gaussian elimination modulo
//! two primes, with −1 as p − 1). While one is, the smallest shown cell of
//! the new report that helps is hidden too.
//!
//! Then the bounds: "fewer than 10" is 0 to 9, "not shown" at least 10.
//! In each identity of the new report alone (the reasons and their total;
//! start, joined, left, graduated and end; the same with the reasons in
//! place of the total), the shown cells and these ranges must leave every
//! "fewer than 10" anything from 0 to 9. This is the figures' column rule
//! (`narrowed_column`) for parts and their total, with the lower bound
//! too, and the same test for the stock identity. While a count is
//! narrowed, the largest shown cell of that identity is hidden.

use super::compute::months;
use super::model::{ChildCell, ChildCount};
use crate::cases::model::LeaveReason;
use crate::figures::model::Shown;
use crate::figures::suppress::{Basis, PRIMES};
use crate::programmes::sponsorship::YearMonth;
use crate::publication::PublicationPolicy;
use crate::publication::period::Period;

/// One published count of children as the tests see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Spec {
    pub period: Period,
    pub cell: ChildCell,
    pub hidden: bool,
}

/// What happens to a child in a month.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Flow {
    Joined,
    Left(LeaveReason),
    Graduated,
}

fn flows() -> Vec<Flow> {
    let mut out = vec![Flow::Joined];
    out.extend(LeaveReason::ALL.into_iter().map(Flow::Left));
    out.push(Flow::Graduated);
    out
}

/// How much of `flow` a cell holds, in the months it sums over.
fn coefficient(cell: ChildCell, flow: Flow) -> i64 {
    match (cell, flow) {
        (ChildCell::Start | ChildCell::End, Flow::Joined) => 1,
        (ChildCell::Start | ChildCell::End, _) => -1,
        (ChildCell::Joined, Flow::Joined) => 1,
        (ChildCell::Left(r), Flow::Left(f)) if r == f => 1,
        (ChildCell::LeftTotal, Flow::Left(_)) => 1,
        (ChildCell::Graduated, Flow::Graduated) => 1,
        _ => 0,
    }
}

fn index((year, month): YearMonth) -> i64 {
    i64::from(year) * 12 + i64::from(month) - 1
}

/// The months a cell sums over, as `[from, to)` month indices (`None`:
/// since the programme began).
fn span(spec: &Spec) -> (Option<i64>, i64) {
    let (first, last) = months(spec.period);
    let (first, after) = (index(first), index(last) + 1);
    match spec.cell {
        ChildCell::Start => (None, first),
        ChildCell::End => (None, after),
        _ => (Some(first), after),
    }
}

/// The cells' signed vectors over (flow, stretch of months) atoms. Months
/// between two consecutive boundaries (a year's first month, the month
/// after its last) are in the same cells, so each stretch is one atom; the
/// months before the first boundary are one more.
fn vectors(specs: &[Spec]) -> Vec<Vec<i64>> {
    let mut bounds: Vec<i64> = specs
        .iter()
        .flat_map(|s| {
            let (from, to) = span(s);
            from.into_iter().chain(std::iter::once(to))
        })
        .collect();
    bounds.sort_unstable();
    bounds.dedup();
    // Stretch i runs from the boundary before it (none for the first) to bounds[i].
    let stretches: Vec<(Option<i64>, i64)> = bounds
        .iter()
        .enumerate()
        .map(|(i, to)| (i.checked_sub(1).and_then(|p| bounds.get(p)).copied(), *to))
        .collect();
    let flows = flows();
    specs
        .iter()
        .map(|spec| {
            let (from, to) = span(spec);
            let mut v = Vec::with_capacity(flows.len() * stretches.len());
            for flow in &flows {
                for (lo, hi) in &stretches {
                    let inside = *hi <= to
                        && match from {
                            None => true,
                            Some(from) => lo.is_some_and(|lo| lo >= from),
                        };
                    v.push(if inside { coefficient(spec.cell, *flow) } else { 0 });
                }
            }
            v
        })
        .collect()
}

fn modulo(v: &[i64], p: u64) -> Vec<u64> {
    v.iter()
        .map(|x| {
            let m = x.unsigned_abs() % p;
            if *x < 0 && m != 0 { p - m } else { m }
        })
        .collect()
}

/// Which of `asked` (hidden cells) follow from the cells `shown` says are
/// shown, by either prime.
fn follows(vectors: &[Vec<i64>], shown: &dyn Fn(usize) -> bool, asked: &[usize]) -> Vec<usize> {
    let mut out = Vec::new();
    for p in PRIMES {
        let mut basis = Basis::new(p);
        for (i, v) in vectors.iter().enumerate() {
            if shown(i) {
                basis.insert(modulo(v, p));
            }
        }
        for i in asked {
            if !out.contains(i) && vectors.get(*i).is_some_and(|v| basis.spans(modulo(v, p))) {
                out.push(*i);
            }
        }
    }
    out.sort_unstable();
    out
}

/// The indices of the hidden cells whose value follows from the shown ones.
pub fn revealed(specs: &[Spec]) -> Vec<usize> {
    let vectors = vectors(specs);
    let hidden: Vec<usize> = (0..specs.len()).filter(|i| specs.get(*i).is_some_and(|s| s.hidden)).collect();
    follows(&vectors, &|i| specs.get(i).is_some_and(|s| !s.hidden), &hidden)
}

/// The counts of the new report as published: every count under 10
/// "fewer than 10", and more hidden until no hidden count of it or of the
/// `approved` reports follows from the shown ones, and no identity of the
/// new report narrows one of its "fewer than 10".
pub fn protect(
    period: Period,
    values: &[(ChildCell, u64)],
    approved: &[(Period, Vec<ChildCount>)],
) -> Vec<ChildCount> {
    let small = PublicationPolicy::SMALL_COUNT;
    let mut specs: Vec<Spec> = approved
        .iter()
        .flat_map(|(p, cells)| {
            cells.iter().map(|c| Spec { period: *p, cell: c.cell, hidden: c.shown.is_hidden() })
        })
        .collect();
    let first_new = specs.len();
    specs.extend(values.iter().map(|(cell, n)| Spec { period, cell: *cell, hidden: *n < small }));
    let vectors = vectors(&specs);
    let value = |i: usize| i.checked_sub(first_new).and_then(|n| values.get(n)).map_or(0, |(_, n)| *n);

    // What the approved reports alone give: a new cell they fix is known
    // however it is shown; a hidden cell they already reveal cannot be
    // helped by anything the new report hides.
    let old_shown = |i: usize| i < first_new && specs.get(i).is_some_and(|s| !s.hidden);
    let new: Vec<usize> = (first_new..specs.len()).collect();
    let lost = follows(&vectors, &old_shown, &(0..specs.len()).collect::<Vec<_>>());
    let fixed: Vec<usize> = lost.iter().copied().filter(|i| *i >= first_new).collect();
    for i in lost.iter().filter(|i| specs.get(**i).is_some_and(|s| s.hidden)) {
        let cell = specs.get(*i).map(|s| s.cell);
        tracing::warn!(?cell, "a hidden count of children already follows from the approved reports");
    }

    let mut hidden: Vec<bool> = specs.iter().map(|s| s.hidden).collect();
    let guarded: Vec<usize> = (0..specs.len()).filter(|i| !lost.contains(i)).collect();
    loop {
        hide_while_revealed(&vectors, &mut hidden, &guarded, first_new, &fixed, &value);
        let cells: Vec<(ChildCell, bool, bool, u64)> = new
            .iter()
            .filter_map(|i| {
                let spec = specs.get(*i)?;
                Some((spec.cell, hidden.get(*i).copied().unwrap_or(true), fixed.contains(i), value(*i)))
            })
            .collect();
        let Some(pick) = narrowed(&cells) else { break };
        if let Some(h) = hidden.get_mut(first_new + pick) {
            *h = true;
        }
    }
    new.iter()
        .filter_map(|i| {
            let spec = specs.get(*i)?;
            let n = value(*i);
            let shown = if n < small {
                Shown::FewerThanTen
            } else if hidden.get(*i).copied().unwrap_or(true) {
                Shown::Hidden
            } else {
                Shown::Count(n)
            };
            Some(ChildCount { cell: spec.cell, shown })
        })
        .collect()
}

/// Hide the new report's cells, smallest first, while a hidden cell of
/// `guarded` follows from the shown ones: first among those whose hiding
/// alone keeps a revealed cell from following, then those sharing an atom
/// with one, then any (never one the approved reports fix).
fn hide_while_revealed(
    vectors: &[Vec<i64>],
    hidden: &mut [bool],
    guarded: &[usize],
    first_new: usize,
    fixed: &[usize],
    value: &dyn Fn(usize) -> u64,
) {
    loop {
        let asked: Vec<usize> =
            guarded.iter().copied().filter(|i| hidden.get(*i).copied().unwrap_or(false)).collect();
        let now: &[bool] = hidden;
        let revealed = follows(vectors, &|i| !now.get(i).copied().unwrap_or(true), &asked);
        if revealed.is_empty() {
            return;
        }
        let shown: Vec<usize> = (first_new..vectors.len())
            .filter(|i| !hidden.get(*i).copied().unwrap_or(true) && !fixed.contains(i))
            .collect();
        let helps = |i: &usize| {
            let mut trial = hidden.to_vec();
            if let Some(h) = trial.get_mut(*i) {
                *h = true;
            }
            follows(vectors, &|j| !trial.get(j).copied().unwrap_or(true), &revealed).len() < revealed.len()
        };
        let support = |i: usize| vectors.get(i).map(|v| v.iter().map(|x| *x != 0).collect::<Vec<_>>());
        let near = |i: &usize| {
            let Some(mine) = support(*i) else { return false };
            revealed.iter().any(|r| support(*r).is_some_and(|s| s.iter().zip(&mine).any(|(a, b)| *a && *b)))
        };
        let helpful: Vec<usize> = shown.iter().copied().filter(helps).collect();
        let sharing: Vec<usize> = shown.iter().copied().filter(near).collect();
        let pool = [&helpful, &sharing, &shown].into_iter().find(|p| !p.is_empty());
        let Some(pick) = pool.and_then(|p| p.iter().copied().min_by_key(|i| (value(*i), *i))) else {
            tracing::warn!("a hidden count of children follows whatever the new report hides");
            return;
        };
        if let Some(h) = hidden.get_mut(pick) {
            *h = true;
        }
    }
}

/// An identity a reader knows within one report: signed cells summing to
/// zero, and its total if it is parts and their total (hidden last, as
/// the figures keep a column's total for as long as they can).
struct Identity {
    terms: Vec<(ChildCell, i64)>,
    total: Option<ChildCell>,
}

fn identities() -> Vec<Identity> {
    let reasons = || LeaveReason::ALL.into_iter().map(ChildCell::Left);
    let mut parts = vec![(ChildCell::LeftTotal, 1)];
    parts.extend(reasons().map(|c| (c, -1)));
    let stock =
        [(ChildCell::End, 1), (ChildCell::Start, -1), (ChildCell::Joined, -1), (ChildCell::Graduated, 1)];
    let mut with_total = stock.to_vec();
    with_total.push((ChildCell::LeftTotal, 1));
    let mut with_reasons = stock.to_vec();
    with_reasons.extend(reasons().map(|c| (c, 1)));
    vec![
        Identity { terms: parts, total: Some(ChildCell::LeftTotal) },
        Identity { terms: with_total, total: None },
        Identity { terms: with_reasons, total: None },
    ]
}

/// A bound, `None` when there is none (below or above).
type Bound = Option<i64>;

/// What a reader can say of the cell `j` of an identity from the others:
/// with each known cell its value, each "fewer than 10" 0 to 9 and each
/// "not shown" at least 10, (at least, at most).
fn implied(members: &[(usize, i64, Bound, Bound)], j: usize) -> (Bound, Bound) {
    // a_j·x_j = −S, with S the sum of the others.
    let (mut lo, mut hi): (Bound, Bound) = (Some(0), Some(0));
    let mut a_j = 1;
    for (i, a, l, h) in members {
        if *i == j {
            a_j = *a;
            continue;
        }
        let (low, high) = if *a > 0 { (*l, *h) } else { (*h, *l) };
        lo = lo.zip(low).map(|(x, y)| x.saturating_add(a.saturating_mul(y)));
        hi = hi.zip(high).map(|(x, y)| x.saturating_add(a.saturating_mul(y)));
    }
    if a_j > 0 { (hi.map(i64::saturating_neg), lo.map(i64::saturating_neg)) } else { (lo, hi) }
}

/// An identity of the new report that narrows one of its "fewer than 10",
/// and the cell to hide for it: the largest shown one of that identity
/// (for the reasons, a reason before the total). `cells` are the new
/// report's, each with whether it is hidden, whether the approved reports
/// fix it (known however it is shown) and its value, in
/// [`ChildCell::all`] order. An identity that no hiding can loosen is
/// left, with a warning.
fn narrowed(cells: &[(ChildCell, bool, bool, u64)]) -> Option<usize> {
    let small = PublicationPolicy::SMALL_COUNT;
    let below = i64::try_from(small).unwrap_or(10);
    let known = |c: &(ChildCell, bool, bool, u64)| !c.1 || c.2;
    for identity in identities() {
        let members: Vec<(usize, i64, Bound, Bound)> = identity
            .terms
            .iter()
            .filter_map(|(cell, a)| {
                let i = cells.iter().position(|c| c.0 == *cell)?;
                let c = cells.get(i)?;
                let v = i64::try_from(c.3).unwrap_or(i64::MAX);
                let (l, h) = if known(c) {
                    (Some(v), Some(v))
                } else if c.3 < small {
                    (Some(0), Some(below - 1))
                } else {
                    (Some(below), None)
                };
                Some((i, *a, l, h))
            })
            .collect();
        let narrows = members.iter().any(|(j, _, _, _)| {
            let small_unknown = cells.get(*j).is_some_and(|c| !known(c) && c.3 < small);
            let (at_least, at_most) = implied(&members, *j);
            small_unknown && (at_least.is_some_and(|l| l > 0) || at_most.is_some_and(|h| h < below - 1))
        });
        if !narrows {
            continue;
        }
        let shown = |i: &usize| cells.get(*i).is_some_and(|c| !c.1 && !c.2);
        let largest = |total: bool| {
            members
                .iter()
                .map(|(i, _, _, _)| *i)
                .filter(|i| shown(i) && (cells.get(*i).map(|c| c.0) == identity.total) == total)
                .max_by_key(|i| (cells.get(*i).map_or(0, |c| c.3), std::cmp::Reverse(*i)))
        };
        match largest(false).or_else(|| largest(true)) {
            Some(pick) => return Some(pick),
            None => tracing::warn!("the approved reports fix an identity that narrows a count under 10"),
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fy(year: i32) -> Period {
        Period::FiscalYear { year, start_month: 9 }
    }

    /// The year's values, from (start, joined, left by reason, graduated);
    /// the end follows.
    fn year(start: u64, joined: u64, left: [u64; 6], graduated: u64) -> Vec<(ChildCell, u64)> {
        let total: u64 = left.iter().sum();
        let end = start + joined - total - graduated;
        ChildCell::all()
            .into_iter()
            .map(|c| {
                let n = match c {
                    ChildCell::Start => start,
                    ChildCell::Joined => joined,
                    ChildCell::Left(r) => left[LeaveReason::ALL.iter().position(|x| *x == r).unwrap()],
                    ChildCell::LeftTotal => total,
                    ChildCell::Graduated => graduated,
                    ChildCell::End => end,
                };
                (c, n)
            })
            .collect()
    }

    fn specs(reports: &[(Period, Vec<ChildCount>)]) -> Vec<Spec> {
        reports
            .iter()
            .flat_map(|(p, cells)| {
                cells.iter().map(|c| Spec { period: *p, cell: c.cell, hidden: c.shown.is_hidden() })
            })
            .collect()
    }

    fn shown(cells: &[ChildCount], cell: ChildCell) -> Shown {
        cells.iter().find(|c| c.cell == cell).unwrap().shown
    }

    fn as_cells(values: &[(ChildCell, u64)], cells: &[ChildCount]) -> Vec<(ChildCell, bool, bool, u64)> {
        values.iter().zip(cells).map(|((c, n), s)| (*c, s.shown.is_hidden(), false, *n)).collect()
    }

    const FEAR: usize = 0;

    #[test]
    fn the_atoms_make_start_plus_flows_the_end_and_the_end_the_next_start() {
        let cells = |p| ChildCell::all().into_iter().map(move |cell| Spec { period: p, cell, hidden: false });
        let all: Vec<Spec> = cells(fy(2024)).chain(cells(fy(2025))).collect();
        let v = vectors(&all);
        let at = |p: Period, c: ChildCell| all.iter().position(|s| s.period == p && s.cell == c).unwrap();
        let sum = |terms: &[(usize, i64)]| -> Vec<i64> {
            (0..v[0].len()).map(|k| terms.iter().map(|(i, a)| a * v[*i][k]).sum()).collect()
        };
        let y = fy(2024);
        let identity = sum(&[
            (at(y, ChildCell::Start), 1),
            (at(y, ChildCell::Joined), 1),
            (at(y, ChildCell::LeftTotal), -1),
            (at(y, ChildCell::Graduated), -1),
            (at(y, ChildCell::End), -1),
        ]);
        assert!(identity.iter().all(|x| *x == 0), "start + joined − left − graduated = end");
        assert_eq!(
            v[at(y, ChildCell::End)],
            v[at(fy(2025), ChildCell::Start)],
            "a year's end is the next start"
        );
        let mut parts = vec![(at(y, ChildCell::LeftTotal), 1)];
        parts.extend(LeaveReason::ALL.iter().map(|r| (at(y, ChildCell::Left(*r)), -1)));
        assert!(sum(&parts).iter().all(|x| *x == 0), "the reasons add up to the total");
        assert_ne!(v[at(y, ChildCell::Joined)], v[at(fy(2025), ChildCell::Joined)]);
    }

    #[test]
    fn counts_under_10_are_fewer_than_10_and_keep_no_value() {
        let values = year(40, 25, [20, 12, 0, 0, 0, 0], 3);
        let cells = protect(fy(2024), &values, &[]);
        assert_eq!(shown(&cells, ChildCell::Graduated), Shown::FewerThanTen);
        assert_eq!(shown(&cells, ChildCell::Left(LeaveReason::ReachedSafety)), Shown::FewerThanTen);
        for ((_, n), c) in values.iter().zip(&cells) {
            assert_eq!(*n < 10, c.shown == Shown::FewerThanTen, "{c:?}");
            assert!(c.shown.value().is_none_or(|v| v == *n && v >= 10), "{c:?}");
        }
        let text = serde_json::to_string(&cells).unwrap();
        assert!(!text.contains("\"value\":3}") && !text.contains("\"value\":0}"), "{text}");
    }

    #[test]
    fn graduated_2_would_follow_from_start_joined_left_and_end_so_more_is_hidden() {
        // 30 + 13 − 21 − end 20 = 2 graduated.
        let values = year(30, 13, [12, 0, 4, 3, 2, 0], 2);
        assert_eq!(values.last().unwrap(), &(ChildCell::End, 20));
        let bare: Vec<ChildCount> = values
            .iter()
            .map(|(c, n)| ChildCount { cell: *c, shown: super::super::compute::people(*n) })
            .collect();
        let exposed = revealed(&specs(&[(fy(2024), bare)]));
        let graduated = ChildCell::all().iter().position(|c| *c == ChildCell::Graduated).unwrap();
        assert!(exposed.contains(&graduated), "unprotected, the 2 follows: {exposed:?}");
        let cells = protect(fy(2024), &values, &[]);
        assert_eq!(shown(&cells, ChildCell::Graduated), Shown::FewerThanTen);
        assert!(cells.iter().any(|c| c.shown == Shown::Hidden), "{cells:?}");
        assert!(revealed(&specs(&[(fy(2024), cells.clone())])).is_empty(), "{cells:?}");
        assert_eq!(narrowed(&as_cells(&values, &cells)), None, "{cells:?}");
        // The smallest cell that breaks the sum is hidden, and only it:
        // joined (13), which a reader then knows only to be 10 or more.
        assert_eq!(shown(&cells, ChildCell::Joined), Shown::Hidden);
        let hidden = cells.iter().filter(|c| c.shown == Shown::Hidden).count();
        assert_eq!(hidden, 1, "{cells:?}");
        assert_eq!(shown(&cells, ChildCell::Start), Shown::Count(30));
        assert_eq!(shown(&cells, ChildCell::LeftTotal), Shown::Count(21));
    }

    #[test]
    fn several_fewer_than_10_reasons_are_not_narrowed_by_their_total() {
        // The organisation's year: 16 left for fear after an arrest, 2 for
        // other reasons, 2 graduated, 8 joined, 20 remained. 18 − 16 = 2
        // would bound each other reason by 2.
        let values = year(32, 8, [16, 1, 0, 1, 0, 0], 2);
        assert_eq!(values.last().unwrap(), &(ChildCell::End, 20));
        let primary: Vec<ChildCount> = values
            .iter()
            .map(|(c, n)| ChildCount { cell: *c, shown: super::super::compute::people(*n) })
            .collect();
        assert!(revealed(&specs(&[(fy(2024), primary.clone())])).is_empty(), "no exact value follows");
        assert!(narrowed(&as_cells(&values, &primary)).is_some(), "but the total narrows the reasons");
        let cells = protect(fy(2024), &values, &[]);
        assert_eq!(narrowed(&as_cells(&values, &cells)), None, "{cells:?}");
        assert_eq!(shown(&cells, ChildCell::Left(LeaveReason::ALL[FEAR])), Shown::Hidden);
        assert_eq!(
            shown(&cells, ChildCell::LeftTotal),
            Shown::Hidden,
            "16 not shown still bounds the rest by 8"
        );
        // With the total shown, 20 = 32 + joined − 18 − graduated would have
        // put joined at 6 to 9 and graduated at 0 to 3; hidden, the stocks stay.
        assert_eq!(shown(&cells, ChildCell::Start), Shown::Count(32));
        assert_eq!(shown(&cells, ChildCell::End), Shown::Count(20));
        assert!(revealed(&specs(&[(fy(2024), cells)])).is_empty());
    }

    #[test]
    fn a_hidden_end_of_an_approved_year_is_not_revealed_by_the_next_start() {
        // 40 + 25 − 20 − 0 = 45 at the end; "graduated 0" and the small
        // reasons would follow, so the end is not shown.
        let first = year(40, 25, [20, 0, 0, 0, 0, 0], 0);
        let cells = protect(fy(2024), &first, &[]);
        assert_eq!(shown(&cells, ChildCell::End), Shown::Hidden, "{cells:?}");
        let approved = vec![(fy(2024), cells)];
        let second = year(45, 20, [12, 0, 4, 3, 2, 0], 14);
        // Unprotected, the next start (45) is the hidden end.
        let bare: Vec<ChildCount> = second
            .iter()
            .map(|(c, n)| ChildCount { cell: *c, shown: super::super::compute::people(*n) })
            .collect();
        let mut unprotected = approved.clone();
        unprotected.push((fy(2025), bare));
        assert!(!revealed(&specs(&unprotected)).is_empty());
        let next = protect(fy(2025), &second, &approved);
        assert_eq!(shown(&next, ChildCell::Start), Shown::Hidden, "{next:?}");
        let mut all = approved;
        all.push((fy(2025), next));
        assert!(revealed(&specs(&all)).is_empty());
        // Nor the other way round: the later year approved first, alone
        // it hides nothing but its small counts.
        let later = protect(fy(2025), &second, &[]);
        assert!(later.iter().all(|c| c.shown != Shown::Hidden), "{later:?}");
        assert_eq!(shown(&later, ChildCell::Start), Shown::Count(45));
        let earlier = protect(fy(2024), &first, &[(fy(2025), later.clone())]);
        let mut all = vec![(fy(2025), later)];
        all.push((fy(2024), earlier));
        assert!(revealed(&specs(&all)).is_empty());
    }

    #[test]
    fn years_of_reports_stay_protected_together() {
        let mut seed: u64 = 11;
        let mut next = move |n: u64| {
            seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            (seed >> 33) % n
        };
        let mut approved: Vec<(Period, Vec<ChildCount>)> = Vec::new();
        let mut start = 25;
        for y in 2015..2027 {
            let joined = 3 + next(25);
            let mut room = start + joined;
            let mut left = [0u64; 6];
            for l in left.iter_mut() {
                *l = (next(3) * next(9)).min(room);
                room -= *l;
            }
            let graduated = next(6).min(room);
            let values = year(start, joined, left, graduated);
            let cells = protect(fy(y), &values, &approved);
            assert_eq!(narrowed(&as_cells(&values, &cells)), None, "{y}");
            for ((_, n), c) in values.iter().zip(&cells) {
                match c.shown {
                    Shown::Count(v) => assert!(v == *n && v >= 10),
                    Shown::FewerThanTen => assert!(*n < 10),
                    Shown::Hidden => assert!(*n >= 10),
                }
            }
            approved.push((fy(y), cells));
            start = values.last().unwrap().1;
        }
        assert!(revealed(&specs(&approved)).is_empty());
    }
}
