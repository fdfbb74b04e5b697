//! The shape of an annual report: the fiscal year it is for, the public
//! figures' table for that year, the education sponsorship's counts of
//! children and the aid distributed at the shelters.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use time::OffsetDateTime;

use crate::cases::model::{FieldError, LeaveReason};
use crate::figures::model::{Shown, Table, TableId, canonical};
use crate::ids::{AidKindId, ReportId};
use crate::programmes::aid::model::Currency;
use crate::publication::period::Period;

/// A count of children in the education sponsorship. The stocks are the
/// children in the plan before the year's first month began and after its
/// last month ended; the flows are what happened during the year.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(tag = "cell", content = "reason", rename_all = "snake_case")]
pub enum ChildCell {
    Start,
    Joined,
    Left(LeaveReason),
    LeftTotal,
    Graduated,
    End,
}

impl ChildCell {
    /// Every cell, in the order the report lists them.
    pub fn all() -> Vec<ChildCell> {
        let mut out = vec![ChildCell::Start, ChildCell::Joined];
        out.extend(LeaveReason::ALL.into_iter().map(ChildCell::Left));
        out.extend([ChildCell::LeftTotal, ChildCell::Graduated, ChildCell::End]);
        out
    }

    /// A stable code, for the exports.
    pub fn code(self) -> String {
        match self {
            ChildCell::Start => "start".into(),
            ChildCell::Joined => "joined".into(),
            ChildCell::Left(r) => format!("left_{}", r.as_str()),
            ChildCell::LeftTotal => "left_total".into(),
            ChildCell::Graduated => "graduated".into(),
            ChildCell::End => "end".into(),
        }
    }
}

/// One count of children and what it shows. A hidden count keeps no value,
/// not even in the sealed report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChildCount {
    pub cell: ChildCell,
    pub shown: Shown,
}

/// What a currency's cash for food adds up to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CashLine {
    pub currency: Currency,
    pub amount: u64,
}

/// A kind of aid a coordinator added, with its name and unit as they wrote
/// them, and what the year's entries add up to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AddedLine {
    pub id: AidKindId,
    pub name: String,
    pub unit: String,
    pub quantity: u64,
}

/// The aid given in the year, from the entries that count (a corrected
/// entry only as its correction). Goods are sums and never hidden; the
/// averages of people asking for food are counts of people.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AidTotals {
    /// Distinct shelters with at least one counted entry in the year.
    pub shelters: u64,
    pub food_kg: u64,
    pub food_people_per_day: Shown,
    pub food_people_per_month: Shown,
    pub clothes: u64,
    pub first_aid_kits: u64,
    pub medical_visits: u64,
    /// By currency code.
    pub cash: Vec<CashLine>,
    /// Every added kind, by id.
    pub added: Vec<AddedLine>,
}

/// A report as it is previewed and published.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Report {
    pub period: Period,
    /// The public figures' table for the same fiscal year: people helped to
    /// safety, and by destination the people resettled.
    pub figures: Table,
    /// Every [`ChildCell`], in order.
    pub children: Vec<ChildCount>,
    pub aid: AidTotals,
}

impl Report {
    pub fn child(&self, cell: ChildCell) -> Shown {
        self.children.iter().find(|c| c.cell == cell).map_or(Shown::FewerThanTen, |c| c.shown)
    }

    /// A short fingerprint of everything the report publishes: the approval
    /// form carries the preview's, so a coordinator approves exactly the
    /// report they reviewed.
    pub fn digest(&self) -> String {
        let mut hash = Sha256::new();
        hash.update(self.figures.digest().as_bytes());
        hash.update(serde_json::to_vec(&(self.period, &self.children, &self.aid)).unwrap_or_default());
        crate::crypto::to_hex(hash.finalize().get(..16).unwrap_or_default())
    }
}

/// An approved report, as communications staff read it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApprovedReport {
    pub id: ReportId,
    pub period: Period,
    #[serde(with = "time::serde::rfc3339")]
    pub approved_at: OffsetDateTime,
    /// The approved figures table whose cells the report repeats.
    pub figures_table: TableId,
    pub report: Report,
}

/// Reads the fiscal year a coordinator chose: the year it starts in
/// ("2025"), or its code as the addresses write it ("FY2025-09", or "2025"
/// when the fiscal year is the calendar year).
pub fn parse_year(text: &str, fiscal_start: u8) -> Result<Period, FieldError> {
    let err = |m: &str| FieldError::new("year", m);
    let text = text.trim();
    if text.is_empty() {
        return Err(err("Choose a fiscal year."));
    }
    let period = match Period::parse(text) {
        Some(Period::Year { year }) => Period::FiscalYear { year, start_month: fiscal_start },
        Some(p @ Period::FiscalYear { .. }) => p,
        _ => return Err(err("Write a fiscal year as the year it starts in, such as 2025.")),
    };
    match period {
        Period::FiscalYear { start_month, .. } if start_month != fiscal_start => {
            Err(err("This is not the organisation's fiscal year: check the month it starts in."))
        }
        p => Ok(canonical(p)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fiscal_years_are_read_by_their_first_year_or_code() {
        let fy = Period::FiscalYear { year: 2025, start_month: 9 };
        assert_eq!(parse_year(" 2025 ", 9), Ok(fy));
        assert_eq!(parse_year("FY2025-09", 9), Ok(fy));
        // From January the fiscal year is the calendar year, under one name.
        assert_eq!(parse_year("2025", 1), Ok(Period::Year { year: 2025 }));
        assert_eq!(parse_year("FY2025-01", 1), Ok(Period::Year { year: 2025 }));
        for bad in ["", "25", "2025-Q1", "2025-03", "FY2025-04", "junk"] {
            assert_eq!(parse_year(bad, 9).unwrap_err().field, "year", "{bad:?}");
        }
    }

    #[test]
    fn cells_are_listed_once_each_in_order() {
        let all = ChildCell::all();
        assert_eq!(all.len(), 5 + LeaveReason::ALL.len());
        assert_eq!(all.first(), Some(&ChildCell::Start));
        assert_eq!(all.last(), Some(&ChildCell::End));
        let codes: std::collections::BTreeSet<String> = all.iter().map(|c| c.code()).collect();
        assert_eq!(codes.len(), all.len());
    }
}
