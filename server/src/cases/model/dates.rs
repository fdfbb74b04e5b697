//! Dates of events, known to a day, a month or a year.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use time::{Date, Month};

use super::FieldError;

code_enum! {
    /// How exactly a date is known: people often remember only a month or a year.
    pub enum Precision {
        field: "date_precision",
        unknown: "Choose day, month or year.",
        Day => "day", "Exact day";
        Month => "month", "Month";
        Year => "year", "Year";
    }
}

/// A date known to a day, a month or a year. A month is stored as its 1st
/// and a year as 1 January, so dates still sort and compare.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct EventDate {
    date: Date,
    precision: Precision,
}

impl EventDate {
    const FIELD: &'static str = "date";
    const FORMAT: &'static str = "Write a date as 2024-03-15, a month as 2024-03, or a year as 2024.";
    const EARLIEST_YEAR: i32 = 1990;

    /// Parses a date a caseworker typed. `today` is passed in because the
    /// clock is injected; a date after it is refused.
    pub fn parse(input: &str, today: Date) -> Result<Self, FieldError> {
        let parsed = Self::from_stored(input)?;
        if parsed.date > today {
            return Err(FieldError::new(Self::FIELD, "A date cannot be in the future."));
        }
        Ok(parsed)
    }

    /// Parses the same formats without the future check, for values read
    /// back from storage or serde: a date that was in the past when entered
    /// must still load even if the clock was later set back. Do not use it
    /// for user input.
    pub fn from_stored(input: &str) -> Result<Self, FieldError> {
        let err = |m: &str| FieldError::new(Self::FIELD, m);
        let input = input.trim();
        if input.is_empty() {
            return Err(err("A date is required."));
        }
        let mut parts = input.split('-');
        let year = parts.next().unwrap_or_default();
        let month = parts.next();
        let day = parts.next();
        if parts.next().is_some() || !is_digits(year, 4, 4) {
            return Err(err(Self::FORMAT));
        }
        let year: i32 = year.parse().map_err(|_| err(Self::FORMAT))?;
        if year < Self::EARLIEST_YEAR {
            return Err(err("A date cannot be before 1990."));
        }
        let month = match month {
            None => None,
            Some(m) if is_digits(m, 1, 2) => {
                let m: u8 = m.parse().map_err(|_| err(Self::FORMAT))?;
                let m = Month::try_from(m).map_err(|_| err("A month is a number from 01 to 12."))?;
                Some(m)
            }
            Some(_) => return Err(err(Self::FORMAT)),
        };
        let day = match day {
            None => None,
            Some(d) if is_digits(d, 1, 2) => Some(d.parse::<u8>().map_err(|_| err(Self::FORMAT))?),
            Some(_) => return Err(err(Self::FORMAT)),
        };
        let (month_value, day_value, precision) = match (month, day) {
            (Some(m), Some(d)) => (m, d, Precision::Day),
            (Some(m), None) => (m, 1, Precision::Month),
            // split never yields a day without a month; treat it as a year.
            (None, _) => (Month::January, 1, Precision::Year),
        };
        let date = Date::from_calendar_date(year, month_value, day_value)
            .map_err(|_| err("That day does not exist in that month."))?;
        Ok(Self { date, precision })
    }

    /// The first day of the period the date stands for.
    pub fn date(&self) -> Date {
        self.date
    }

    pub fn precision(&self) -> Precision {
        self.precision
    }

    /// The last day of the period the date stands for: an embargo counts
    /// from it, so a date known only to a month or a year is never released
    /// early.
    pub fn last_day(&self) -> Date {
        match self.precision {
            Precision::Day => self.date,
            Precision::Month => last_of_month(self.date.year(), self.date.month()),
            Precision::Year => last_of_month(self.date.year(), Month::December),
        }
    }
}

/// The last day of a month.
pub fn last_of_month(year: i32, month: Month) -> Date {
    let days = time::util::days_in_month(month, year);
    Date::from_calendar_date(year, month, days).unwrap_or(Date::MAX)
}

fn is_digits(s: &str, min: usize, max: usize) -> bool {
    (min..=max).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit())
}

impl fmt::Display for EventDate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (y, m, d) = (self.date.year(), u8::from(self.date.month()), self.date.day());
        match self.precision {
            Precision::Day => write!(f, "{y:04}-{m:02}-{d:02}"),
            Precision::Month => write!(f, "{y:04}-{m:02}"),
            Precision::Year => write!(f, "{y:04}"),
        }
    }
}

impl Serialize for EventDate {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

// No TryFrom<String> on purpose: that would be a way to skip the future check.
impl<'de> Deserialize<'de> for EventDate {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = String::deserialize(deserializer)?;
        EventDate::from_stored(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]
mod tests {
    use super::*;
    use crate::cases::model::test_support::{check_codes, message};
    use proptest::prelude::*;
    use time::macros::date;

    const TODAY: Date = date!(2024 - 06 - 30);

    #[test]
    fn precision_codes() {
        check_codes(&Precision::ALL, Precision::parse, |v| v.as_str());
        assert_eq!(Precision::parse("x").unwrap_err().field, "date_precision");
    }
    // --- Event date ---------------------------------------------------------

    #[test]
    fn event_date_precisions() {
        let d = EventDate::parse("2024-03-15", TODAY).unwrap();
        assert_eq!((d.date(), d.precision()), (date!(2024 - 03 - 15), Precision::Day));
        assert_eq!(d.to_string(), "2024-03-15");

        let m = EventDate::parse("2024-03", TODAY).unwrap();
        assert_eq!((m.date(), m.precision()), (date!(2024 - 03 - 01), Precision::Month));
        assert_eq!(m.to_string(), "2024-03");

        let y = EventDate::parse(" 2019 ", TODAY).unwrap();
        assert_eq!((y.date(), y.precision()), (date!(2019 - 01 - 01), Precision::Year));
        assert_eq!(y.to_string(), "2019");

        // Unpadded month and day are read, and printed padded.
        assert_eq!(EventDate::parse("2024-3-5", TODAY).unwrap().to_string(), "2024-03-05");
    }

    #[test]
    fn event_date_future_and_past_limits() {
        assert!(EventDate::parse("2024-06-30", TODAY).is_ok());
        assert!(EventDate::parse("2024-06", TODAY).is_ok());
        assert!(EventDate::parse("2024", TODAY).is_ok());
        for future in ["2024-07-01", "2024-07", "2025"] {
            assert_eq!(message(EventDate::parse(future, TODAY)), "A date cannot be in the future.");
        }
        assert!(EventDate::parse("1990-01-01", TODAY).is_ok());
        assert_eq!(message(EventDate::parse("1989-12-31", TODAY)), "A date cannot be before 1990.");
        assert_eq!(message(EventDate::parse("1989", TODAY)), "A date cannot be before 1990.");
    }

    #[test]
    fn event_date_malformed() {
        let format = "Write a date as 2024-03-15, a month as 2024-03, or a year as 2024.";
        for bad in [
            "15/03/2024",
            "24-03-15",
            "2024-03-15-1",
            "2024-",
            "2024--15",
            "20240315",
            "2024-003",
            "2024-03-015",
            "march 2024",
            "+2024",
            "2024-03-1a",
            "２０２４",
        ] {
            assert_eq!(message(EventDate::parse(bad, TODAY)), format, "{bad:?}");
        }
        assert_eq!(message(EventDate::parse("", TODAY)), "A date is required.");
        assert_eq!(message(EventDate::parse("2024-13", TODAY)), "A month is a number from 01 to 12.");
        assert_eq!(message(EventDate::parse("2023-02-29", TODAY)), "That day does not exist in that month.");
        assert!(EventDate::parse("2024-02-29", TODAY).is_ok());
        assert_eq!(EventDate::parse("x", TODAY).unwrap_err().field, "date");
    }

    #[test]
    fn event_date_from_stored_skips_only_the_future_check() {
        let d = EventDate::from_stored("2030-01-02").unwrap();
        assert_eq!(d.to_string(), "2030-01-02");
        assert!(EventDate::from_stored("1980").is_err());
        assert!(EventDate::from_stored("soon").is_err());
    }

    #[test]
    fn event_date_serde_uses_display_and_from_stored() {
        let d = EventDate::parse("2024-03", TODAY).unwrap();
        let json = serde_json::to_string(&d).unwrap();
        assert_eq!(json, "\"2024-03\"");
        assert_eq!(serde_json::from_str::<EventDate>(&json).unwrap(), d);
        assert!(serde_json::from_str::<EventDate>("\"2031\"").is_ok());
        assert!(serde_json::from_str::<EventDate>("\"03/2024\"").is_err());
    }
    fn any_date() -> impl Strategy<Value = Date> {
        (1990i32..=2024, 1u8..=12, 1u8..=31).prop_filter_map("real dates", |(y, m, d)| {
            Date::from_calendar_date(y, Month::try_from(m).ok()?, d).ok()
        })
    }

    proptest! {
        #[test]
        fn precision_never_panic_and_accept_only_their_codes(s in any::<String>()) {
            if let Ok(v) = Precision::parse(&s) {
                prop_assert_eq!(Precision::parse(v.as_str()).unwrap(), v);
            }
        }

        #[test]
        fn event_date_round_trips_at_every_precision(d in any_date(), p in 0usize..3) {
            let precision = Precision::ALL[p];
            let text = match precision {
                Precision::Day => format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day()),
                Precision::Month => format!("{:04}-{:02}", d.year(), u8::from(d.month())),
                Precision::Year => format!("{:04}", d.year()),
            };
            let parsed = EventDate::parse(&text, TODAY);
            if d <= TODAY {
                let parsed = parsed.unwrap();
                prop_assert_eq!(parsed.precision(), precision);
                prop_assert_eq!(parsed.to_string(), text.clone());
                prop_assert_eq!(EventDate::parse(&parsed.to_string(), TODAY).unwrap(), parsed);
                prop_assert_eq!(EventDate::from_stored(&text).unwrap(), parsed);
            } else if precision == Precision::Day {
                prop_assert_eq!(message(parsed), "A date cannot be in the future.");
            }
        }

        #[test]
        fn event_date_is_never_after_today(s in any::<String>(), today in any_date()) {
            if let Ok(d) = EventDate::parse(&s, today) {
                prop_assert!(d.date() <= today);
                prop_assert!(d.date().year() >= 1990);
            }
        }

        #[test]
        fn event_date_junk_never_panics(s in "[0-9-]{0,14}") {
            if let Ok(d) = EventDate::from_stored(&s) {
                prop_assert_eq!(EventDate::from_stored(&d.to_string()).unwrap(), d);
            }
        }
    }
}
