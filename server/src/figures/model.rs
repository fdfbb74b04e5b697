//! The shape of a table of public figures: what each cell counts, what it
//! shows, and the periods a table may be for.

use std::fmt;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::cases::model::{CountryCode, FieldError};
use crate::publication::period::Period;
use crate::publication::region::Region;

/// What a cell counts, always in people (a case counts its group size).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Measure {
    /// The case's first "reached protection" or "arrived" milestone falls
    /// in the period. A total only: protection may be reached in a transit
    /// country, and transit countries are never named.
    HelpedToSafety,
    /// The case's earliest "arrived" milestone falls in the period.
    Arrivals,
    /// The case was closed as resettled in the period.
    Resettlements,
}

impl Measure {
    pub const ALL: [Measure; 3] = [Measure::HelpedToSafety, Measure::Arrivals, Measure::Resettlements];
    /// The measures a table gives by destination.
    pub const BY_DESTINATION: [Measure; 2] = [Measure::Arrivals, Measure::Resettlements];

    pub fn as_str(self) -> &'static str {
        match self {
            Measure::HelpedToSafety => "helped_to_safety",
            Measure::Arrivals => "arrivals",
            Measure::Resettlements => "resettlements",
        }
    }
}

/// A row of a table: the destinations its cells sum over.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(tag = "level", content = "code", rename_all = "snake_case")]
pub enum Row {
    /// A named destination with at least 10 people in the table.
    Country(CountryCode),
    /// The region's other countries, when they hold at least 10 people.
    Region(Region),
    /// Every destination without a row of its own, an unknown one included.
    Other,
    /// Every destination.
    Total,
}

/// What a published cell shows. A hidden cell keeps no value, not even in
/// the sealed table: communications staff never see a count below the
/// threshold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "shown", content = "value", rename_all = "snake_case")]
pub enum Shown {
    Count(u64),
    /// Fewer than 10 people (none included).
    FewerThanTen,
    /// 10 or more, hidden so that a total or a difference does not reveal
    /// a cell of fewer than 10 (secondary suppression).
    Hidden,
}

impl Shown {
    pub fn value(self) -> Option<u64> {
        match self {
            Shown::Count(n) => Some(n),
            Shown::FewerThanTen | Shown::Hidden => None,
        }
    }

    pub fn is_hidden(self) -> bool {
        self.value().is_none()
    }
}

/// The destination code a cell uses for a case whose destination is not
/// recorded.
pub const UNKNOWN_DESTINATION: &str = "unknown";

/// One cell: what it counts (the measure, the destinations it sums over and
/// the table's period) and what it shows. The destinations are written out
/// in full so a later approval can check, across tables, that no
/// combination of shown cells gives a hidden one away.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cell {
    pub row: Row,
    pub measure: Measure,
    /// Country codes, and [`UNKNOWN_DESTINATION`], sorted.
    pub over: Vec<String>,
    pub shown: Shown,
}

/// A table of figures for one period: a "helped to safety" total, and
/// arrivals and resettlements by destination row with a total row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Table {
    pub period: Period,
    pub rows: Vec<Row>,
    pub cells: Vec<Cell>,
}

impl Table {
    pub fn cell(&self, row: Row, measure: Measure) -> Option<&Cell> {
        self.cells.iter().find(|c| c.row == row && c.measure == measure)
    }

    /// A short fingerprint of what the table publishes (its rows and what
    /// each cell shows): the approval form carries the preview's, so a
    /// coordinator approves exactly the table they looked at.
    pub fn digest(&self) -> String {
        let mut hash = Sha256::new();
        hash.update(self.period.code().as_bytes());
        for cell in &self.cells {
            let row = serde_json::to_string(&cell.row).unwrap_or_default();
            let shown = serde_json::to_string(&cell.shown).unwrap_or_default();
            hash.update(format!("|{row}/{}/{shown}", cell.measure.as_str()).as_bytes());
        }
        crate::crypto::to_hex(hash.finalize().get(..16).unwrap_or_default())
    }
}

/// The random id of an approved table: it names the table in the audit
/// trail and in addresses, and says nothing about what the table holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct TableId(Uuid);

impl TableId {
    pub fn random() -> Self {
        Self(Uuid::new_v4())
    }

    pub fn parse(text: &str) -> Option<Self> {
        Uuid::try_parse(text.trim()).ok().map(Self)
    }
}

impl fmt::Display for TableId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.hyphenated().fmt(f)
    }
}

/// The kinds of period a table may be for. Periods of one kind never
/// overlap; a month is too fine for figures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PeriodKind {
    Quarter,
    Year,
    FiscalYear,
}

impl PeriodKind {
    pub const ALL: [PeriodKind; 3] = [PeriodKind::Quarter, PeriodKind::Year, PeriodKind::FiscalYear];

    pub fn as_str(self) -> &'static str {
        match self {
            PeriodKind::Quarter => "quarter",
            PeriodKind::Year => "year",
            PeriodKind::FiscalYear => "fiscal_year",
        }
    }

    pub fn of(period: Period) -> Option<PeriodKind> {
        match period {
            Period::Quarter { .. } => Some(PeriodKind::Quarter),
            Period::Year { .. } => Some(PeriodKind::Year),
            Period::FiscalYear { .. } => Some(PeriodKind::FiscalYear),
            Period::Month { .. } => None,
        }
    }
}

/// The one name of a period: a fiscal year that starts in January is the
/// calendar year, so it cannot be approved a second time under another code.
pub fn canonical(period: Period) -> Period {
    match period {
        Period::FiscalYear { year, start_month: 1 } => Period::Year { year },
        other => other,
    }
}

/// Reads the period a coordinator chose: a kind and its text ("2026-Q1",
/// "2026", or for a fiscal year the year it starts in), or, with no kind, a
/// period code as the addresses write it. `fiscal_start` is the first month
/// of the organisation's fiscal year.
pub fn parse_period(kind: &str, text: &str, fiscal_start: u8) -> Result<Period, FieldError> {
    let err = |m: &str| FieldError::new("period", m);
    let text = text.trim();
    let year = |s: &str| -> Option<i32> {
        (s.len() == 4 && s.bytes().all(|b| b.is_ascii_digit())).then(|| s.parse().ok()).flatten()
    };
    let period = match kind.trim() {
        "quarter" => match Period::parse(&text.to_ascii_uppercase().replace(' ', "-")) {
            Some(p @ Period::Quarter { .. }) => p,
            _ => return Err(err("Write a quarter as 2026-Q1.")),
        },
        "year" => match year(text) {
            Some(year) => Period::Year { year },
            None => return Err(err("Write a year as 2026.")),
        },
        "fiscal_year" => match (year(text), Period::parse(text)) {
            (Some(year), _) => Period::FiscalYear { year, start_month: fiscal_start },
            (None, Some(p @ Period::FiscalYear { .. })) => p,
            _ => return Err(err("Write a fiscal year as the year it starts in, such as 2025.")),
        },
        "" => match Period::parse(text) {
            Some(Period::Month { .. }) => {
                return Err(err("Figures are for a quarter, a calendar year or the fiscal year."));
            }
            Some(p) => p,
            None if text.is_empty() => return Err(err("Choose a period.")),
            None => return Err(err("Write a quarter as 2026-Q1, a year as 2026.")),
        },
        _ => return Err(FieldError::new("kind", "Choose a quarter, a calendar year or the fiscal year.")),
    };
    if let Period::FiscalYear { start_month, .. } = period {
        if start_month != fiscal_start {
            return Err(err("This is not the organisation's fiscal year: check the month it starts in."));
        }
    }
    Ok(canonical(period))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn periods_are_read_by_kind_and_by_code() {
        assert_eq!(parse_period("quarter", "2026-q1", 9), Ok(Period::Quarter { year: 2026, quarter: 1 }));
        assert_eq!(parse_period("quarter", "2026 Q4", 9), Ok(Period::Quarter { year: 2026, quarter: 4 }));
        assert_eq!(parse_period("year", " 2025 ", 9), Ok(Period::Year { year: 2025 }));
        assert_eq!(
            parse_period("fiscal_year", "2025", 9),
            Ok(Period::FiscalYear { year: 2025, start_month: 9 })
        );
        assert_eq!(parse_period("", "FY2025-09", 9), Ok(Period::FiscalYear { year: 2025, start_month: 9 }));
        assert_eq!(parse_period("", "2026-Q2", 9), Ok(Period::Quarter { year: 2026, quarter: 2 }));
        // A fiscal year from January is the calendar year, under one name.
        assert_eq!(parse_period("fiscal_year", "2025", 1), Ok(Period::Year { year: 2025 }));
        assert_eq!(parse_period("", "FY2025-01", 1), Ok(Period::Year { year: 2025 }));
    }

    #[test]
    fn bad_periods_are_named_on_the_period_field() {
        for (kind, text) in [
            ("quarter", "2026"),
            ("quarter", "2026-Q5"),
            ("year", "26"),
            ("year", "2026-Q1"),
            ("fiscal_year", "FY2025-04"),
            ("", "2026-03"),
            ("", ""),
            ("", "junk"),
        ] {
            let e = parse_period(kind, text, 9).unwrap_err();
            assert_eq!(e.field, "period", "{kind} {text}");
        }
        assert_eq!(parse_period("month", "2026-03", 9).unwrap_err().field, "kind");
    }

    #[test]
    fn the_digest_changes_with_what_is_shown() {
        let cell = |shown| Cell { row: Row::Total, measure: Measure::Arrivals, over: vec![], shown };
        let table = |shown| Table {
            period: Period::Year { year: 2025 },
            rows: vec![Row::Total],
            cells: vec![cell(shown)],
        };
        assert_eq!(table(Shown::Count(12)).digest(), table(Shown::Count(12)).digest());
        assert_ne!(table(Shown::Count(12)).digest(), table(Shown::Count(13)).digest());
        assert_ne!(table(Shown::FewerThanTen).digest(), table(Shown::Hidden).digest());
    }
}
