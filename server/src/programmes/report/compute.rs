//! Counting a fiscal year's report: the children of the education
//! sponsorship from their enrolments, and the aid from the entries that
//! count. Pure: no storage, no keys, no clock.

use std::collections::{BTreeMap, BTreeSet};

use super::model::{AddedLine, AidTotals, CashLine, ChildCell};
use crate::error::{ServiceError, ServiceResult};
use crate::figures::model::Shown;
use crate::programmes::aid::model::{AidEntry, AidKind, CustomKind, current};
use crate::programmes::sponsorship::{End, Enrolment, YearMonth};
use crate::publication::PublicationPolicy;
use crate::publication::period::Period;

/// The first and the last month of a period.
pub fn months(period: Period) -> (YearMonth, YearMonth) {
    let (first, last) = (period.first_day(), period.last_day());
    ((first.year(), u8::from(first.month())), (last.year(), u8::from(last.month())))
}

/// Every child count of the year, before any is hidden, in the order of
/// [`ChildCell::all`].
pub fn children(enrolments: &[Enrolment], period: Period) -> Vec<(ChildCell, u64)> {
    let (first, last) = months(period);
    let during = |m: YearMonth| (first..=last).contains(&m);
    let count = |test: &dyn Fn(&Enrolment) -> bool| enrolments.iter().filter(|e| test(e)).count() as u64;
    ChildCell::all()
        .into_iter()
        .map(|cell| {
            let n = match cell {
                ChildCell::Start => count(&|e| e.in_plan_before(first)),
                ChildCell::End => count(&|e| e.in_plan_after(last)),
                ChildCell::Joined => count(&|e| during(e.joined)),
                ChildCell::Left(reason) => {
                    count(&|e| e.ended.is_some_and(|(m, end)| during(m) && end == End::Left(reason)))
                }
                ChildCell::LeftTotal => {
                    count(&|e| e.ended.is_some_and(|(m, end)| during(m) && matches!(end, End::Left(_))))
                }
                ChildCell::Graduated => {
                    count(&|e| e.ended.is_some_and(|(m, end)| during(m) && end == End::Graduated))
                }
            };
            (cell, n)
        })
        .collect()
}

/// A count of people as published: under 10, "fewer than 10".
pub fn people(n: u64) -> Shown {
    if n < PublicationPolicy::SMALL_COUNT { Shown::FewerThanTen } else { Shown::Count(n) }
}

/// An average of people over `parts` (months or days), rounded to the
/// nearest whole person; "fewer than 10" when the exact average is under
/// 10, so rounding never lifts a small count over the threshold.
pub fn average_people(sum: u64, parts: u64) -> Shown {
    let parts = parts.max(1);
    if sum < PublicationPolicy::SMALL_COUNT.saturating_mul(parts) {
        return Shown::FewerThanTen;
    }
    Shown::Count(sum.saturating_mul(2).saturating_add(parts) / parts.saturating_mul(2))
}

/// The aid of the year: the entries that count (`aid::model::current`, so
/// a corrected entry only as its correction) for the months of `period`.
/// An entry of a kind that is not in `kinds` is refused: kinds are never
/// deleted, so the store was tampered with.
pub fn aid(entries: &[AidEntry], kinds: &[CustomKind], period: Period) -> ServiceResult<AidTotals> {
    let (first, last) = months(period);
    let counted: Vec<&AidEntry> = current(entries)
        .into_iter()
        .filter(|e| (first..=last).contains(&(e.month.year, e.month.month)))
        .collect();
    let shelters: BTreeSet<_> = counted.iter().map(|e| e.shelter).collect();
    let sum = |kind: AidKind| {
        counted.iter().filter(|e| e.kind == kind).fold(0u64, |n, e| n.saturating_add(e.quantity))
    };
    let food_people = counted
        .iter()
        .filter(|e| e.kind == AidKind::Food)
        .fold(0u64, |n, e| n.saturating_add(u64::from(e.people_served)));
    let mut cash: BTreeMap<String, CashLine> = BTreeMap::new();
    for e in counted.iter().filter(|e| e.kind == AidKind::CashForFood) {
        let currency =
            e.currency.clone().ok_or(ServiceError::Integrity("cash for food without a currency"))?;
        let line = cash
            .entry(currency.as_str().to_owned())
            .or_insert_with(|| CashLine { currency: currency.clone(), amount: 0 });
        line.amount = line.amount.saturating_add(e.quantity);
    }
    let mut added: Vec<AddedLine> = kinds
        .iter()
        .map(|k| AddedLine { id: k.id, name: k.name.clone(), unit: k.unit.clone(), quantity: 0 })
        .collect();
    added.sort_by(|a, b| a.name.cmp(&b.name).then(a.id.cmp(&b.id)));
    for e in &counted {
        if let AidKind::Custom(id) = e.kind {
            let line = added.iter_mut().find(|l| l.id == id).ok_or(ServiceError::Integrity("aid kind"))?;
            line.quantity = line.quantity.saturating_add(e.quantity);
        }
    }
    let days = (period.last_day() - period.first_day()).whole_days().saturating_add(1);
    let months = {
        let ((y0, m0), (y1, m1)) = (first, last);
        (i64::from(y1) - i64::from(y0)) * 12 + i64::from(m1) - i64::from(m0) + 1
    };
    Ok(AidTotals {
        shelters: shelters.len() as u64,
        food_kg: sum(AidKind::Food),
        food_people_per_day: average_people(food_people, u64::try_from(days).unwrap_or(1)),
        food_people_per_month: average_people(food_people, u64::try_from(months).unwrap_or(1)),
        clothes: sum(AidKind::Clothes),
        first_aid_kits: sum(AidKind::FirstAidKits),
        medical_visits: sum(AidKind::MedicalVisits),
        cash: cash.into_values().collect(),
        added,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn averages_of_people_round_but_never_over_the_threshold() {
        assert_eq!(average_people(0, 12), Shown::FewerThanTen);
        assert_eq!(average_people(119, 12), Shown::FewerThanTen, "9.9 a month");
        assert_eq!(average_people(120, 12), Shown::Count(10));
        assert_eq!(average_people(7300, 365), Shown::Count(20));
        assert_eq!(average_people(7482, 365), Shown::Count(20), "20.49");
        assert_eq!(average_people(7483, 365), Shown::Count(21), "20.50");
        assert_eq!(average_people(7200, 12), Shown::Count(600));
    }
}
