//! The fixed periods public texts speak of: a month, a quarter, a calendar
//! year, the organisation's fiscal year. Periods of one kind never overlap,
//! so a figure for one is never a difference of two others of its kind.

use serde::{Deserialize, Serialize};
use time::{Date, Month};

use crate::cases::model::{EventDate, Precision, last_of_month};
use crate::web::messages::Messages;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Period {
    Month {
        year: i32,
        month: u8,
    },
    Quarter {
        year: i32,
        quarter: u8,
    },
    Year {
        year: i32,
    },
    /// Starts on the 1st of `start_month` of `year` and lasts twelve months.
    FiscalYear {
        year: i32,
        start_month: u8,
    },
}

fn month(n: u8) -> Month {
    Month::try_from(n.clamp(1, 12)).unwrap_or(Month::January)
}

fn first(year: i32, m: u8) -> Date {
    Date::from_calendar_date(year, month(m), 1).unwrap_or(Date::MIN)
}

impl Period {
    pub fn month_of(date: Date) -> Period {
        Period::Month { year: date.year(), month: u8::from(date.month()) }
    }

    pub fn quarter_of(date: Date) -> Period {
        Period::Quarter { year: date.year(), quarter: (u8::from(date.month()) - 1) / 3 + 1 }
    }

    pub fn year_of(date: Date) -> Period {
        Period::Year { year: date.year() }
    }

    /// The fiscal year containing `date`, for a year starting in `start_month` (1..=12).
    pub fn fiscal_year_of(date: Date, start_month: u8) -> Period {
        let start_month = start_month.clamp(1, 12);
        let year = if u8::from(date.month()) >= start_month { date.year() } else { date.year() - 1 };
        Period::FiscalYear { year, start_month }
    }

    /// The finest period an event date can honestly be put in: a date known
    /// to a day or a month is in its month, one known to a year only in its year.
    pub fn finest_of(date: EventDate) -> Period {
        match date.precision() {
            Precision::Day | Precision::Month => Period::month_of(date.date()),
            Precision::Year => Period::year_of(date.date()),
        }
    }

    pub fn first_day(self) -> Date {
        match self {
            Period::Month { year, month } => first(year, month),
            Period::Quarter { year, quarter } => first(year, (quarter.clamp(1, 4) - 1) * 3 + 1),
            Period::Year { year } => first(year, 1),
            Period::FiscalYear { year, start_month } => first(year, start_month),
        }
    }

    pub fn last_day(self) -> Date {
        match self {
            Period::Month { year, month: m } => last_of_month(year, month(m)),
            Period::Quarter { year, quarter } => last_of_month(year, month(quarter.clamp(1, 4) * 3)),
            Period::Year { year } => last_of_month(year, Month::December),
            Period::FiscalYear { year, start_month } => {
                let start_month = start_month.clamp(1, 12);
                if start_month == 1 {
                    last_of_month(year, Month::December)
                } else {
                    last_of_month(year + 1, month(start_month - 1))
                }
            }
        }
    }

    pub fn contains(self, date: Date) -> bool {
        (self.first_day()..=self.last_day()).contains(&date)
    }

    /// Whether the whole span an event date stands for lies in the period:
    /// a date known only to 2025 is not "in March 2025", nor in a fiscal
    /// year that starts in September 2025.
    pub fn covers(self, date: EventDate) -> bool {
        self.contains(date.date()) && self.contains(date.last_day())
    }

    /// One step coarser: month to quarter to year. A year and a fiscal year
    /// have nothing wider.
    pub fn widened(self) -> Option<Period> {
        match self {
            Period::Month { .. } => Some(Period::quarter_of(self.first_day())),
            Period::Quarter { .. } => Some(Period::year_of(self.first_day())),
            Period::Year { .. } | Period::FiscalYear { .. } => None,
        }
    }

    /// Over: only a period that has ended is published, so its figures
    /// never change after they are approved.
    pub fn has_ended(self, today: Date) -> bool {
        self.last_day() < today
    }

    /// A short stable code: `2026-03`, `2026-Q1`, `2026`, `FY2025-09`.
    pub fn code(self) -> String {
        match self {
            Period::Month { year, month } => format!("{year:04}-{month:02}"),
            Period::Quarter { year, quarter } => format!("{year:04}-Q{quarter}"),
            Period::Year { year } => format!("{year:04}"),
            Period::FiscalYear { year, start_month } => format!("FY{year:04}-{start_month:02}"),
        }
    }

    /// Reads a code written by [`Period::code`]; `None` for anything else.
    pub fn parse(code: &str) -> Option<Period> {
        let code = code.trim();
        let year_of = |s: &str| -> Option<i32> {
            (s.len() == 4 && s.bytes().all(|b| b.is_ascii_digit())).then(|| s.parse().ok()).flatten()
        };
        let small = |s: &str, max: u8| -> Option<u8> {
            (!s.is_empty() && s.len() <= 2 && s.bytes().all(|b| b.is_ascii_digit()))
                .then(|| s.parse().ok())
                .flatten()
                .filter(|n| (1..=max).contains(n))
        };
        if let Some(rest) = code.strip_prefix("FY") {
            let (y, m) = rest.split_once('-')?;
            return Some(Period::FiscalYear { year: year_of(y)?, start_month: small(m, 12)? });
        }
        match code.split_once('-') {
            None => Some(Period::Year { year: year_of(code)? }),
            Some((y, rest)) => match rest.strip_prefix('Q') {
                Some(q) => Some(Period::Quarter { year: year_of(y)?, quarter: small(q, 4)? }),
                None => Some(Period::Month { year: year_of(y)?, month: small(rest, 12)? }),
            },
        }
    }
}

/// How the catalogue names a period, for figures and stories alike.
/// A period as a sentence names it: "the first quarter of 2026", "2026",
/// "the fiscal year from September 2025 to August 2026".
pub fn period_name(t: &Messages, period: Period) -> String {
    let month_of_year = |m: u8, year: i32| {
        t.figures_month_name.replace("{month}", month_name(t, m)).replace("{year}", &year.to_string())
    };
    match period {
        Period::Month { year, month: m } => month_of_year(m, year),
        Period::Quarter { year, quarter } => t
            .figures_quarter_name
            .replace(
                "{which}",
                t.figures_quarters.get(usize::from(quarter.clamp(1, 4)) - 1).copied().unwrap_or(""),
            )
            .replace("{year}", &year.to_string()),
        Period::Year { year } => t.figures_year_name.replace("{year}", &year.to_string()),
        Period::FiscalYear { .. } => {
            let (first, last) = (period.first_day(), period.last_day());
            t.figures_fiscal_name
                .replace("{start}", &month_of_year(u8::from(first.month()), first.year()))
                .replace("{end}", &month_of_year(u8::from(last.month()), last.year()))
        }
    }
}

/// The name of a month (1..=12).
pub fn month_name(t: &Messages, month: u8) -> &'static str {
    t.months.get(usize::from(month.clamp(1, 12)) - 1).copied().unwrap_or("")
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use time::macros::date;

    #[test]
    fn periods_know_their_days() {
        let q = Period::quarter_of(date!(2026 - 02 - 14));
        assert_eq!(q, Period::Quarter { year: 2026, quarter: 1 });
        assert_eq!((q.first_day(), q.last_day()), (date!(2026 - 01 - 01), date!(2026 - 03 - 31)));
        let fy = Period::fiscal_year_of(date!(2026 - 02 - 14), 9);
        assert_eq!(fy, Period::FiscalYear { year: 2025, start_month: 9 });
        assert_eq!((fy.first_day(), fy.last_day()), (date!(2025 - 09 - 01), date!(2026 - 08 - 31)));
        let jan = Period::fiscal_year_of(date!(2026 - 02 - 14), 1);
        assert_eq!(jan.last_day(), date!(2026 - 12 - 31));
        assert_eq!(Period::month_of(date!(2024 - 02 - 10)).last_day(), date!(2024 - 02 - 29));
    }

    #[test]
    fn an_event_date_is_covered_only_by_a_period_holding_all_of_it() {
        let year_only = EventDate::from_stored("2025").unwrap();
        assert!(!Period::month_of(date!(2025 - 01 - 01)).covers(year_only));
        assert!(Period::Year { year: 2025 }.covers(year_only));
        assert!(!Period::FiscalYear { year: 2025, start_month: 9 }.covers(year_only));
        let march = EventDate::from_stored("2025-03").unwrap();
        assert!(Period::quarter_of(date!(2025 - 01 - 01)).covers(march));
        assert_eq!(Period::finest_of(year_only), Period::Year { year: 2025 });
        assert_eq!(Period::finest_of(march), Period::Month { year: 2025, month: 3 });
    }

    #[test]
    fn periods_widen_month_quarter_year() {
        let m = Period::Month { year: 2025, month: 8 };
        assert_eq!(m.widened(), Some(Period::Quarter { year: 2025, quarter: 3 }));
        assert_eq!(m.widened().unwrap().widened(), Some(Period::Year { year: 2025 }));
        assert_eq!(Period::Year { year: 2025 }.widened(), None);
    }

    #[test]
    fn codes_round_trip_and_junk_is_refused() {
        for p in [
            Period::Month { year: 2026, month: 3 },
            Period::Quarter { year: 2026, quarter: 4 },
            Period::Year { year: 2026 },
            Period::FiscalYear { year: 2025, start_month: 9 },
        ] {
            assert_eq!(Period::parse(&p.code()), Some(p));
        }
        for bad in ["", "2026-13", "2026-Q5", "26", "FY2025", "FY2025-00", "2026-Q", "x2026", "2026-1-1"] {
            assert_eq!(Period::parse(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn only_ended_periods_are_over() {
        let q = Period::Quarter { year: 2026, quarter: 1 };
        assert!(!q.has_ended(date!(2026 - 03 - 31)));
        assert!(q.has_ended(date!(2026 - 04 - 01)));
    }
}
