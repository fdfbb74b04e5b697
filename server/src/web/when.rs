//! Times as people read them: to the minute, in the viewer's zone. Every
//! page formats times through here, so one setting changes them all.
//!
//! A zone is a fixed offset from UTC: the organisation's (`display_zone`)
//! unless the user chose their own on the account page. Fixed offsets are
//! exact for Japan, Korea and China, which keep no daylight saving time;
//! see docs/accounts.md ("Times and zones") for what a zone with daylight
//! saving would take.

use serde::{Deserialize, Serialize};
use time::format_description::well_known::Rfc3339;

use crate::i18n::Lang;
use time::{Date, OffsetDateTime, PrimitiveDateTime, Time, UtcOffset};

use super::guards::CurrentUser;

impl CurrentUser {
    /// The zone the viewer reads times in: their own choice, else the
    /// organisation's.
    pub fn zone(&self) -> UtcOffset {
        self.zone
    }
}

/// A fixed offset from UTC as written in settings and profiles: "+09:00".
/// Whole quarter hours from -12:00 to +14:00, as every zone in use is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Zone(UtcOffset);

impl Zone {
    pub const UTC: Zone = Zone(UtcOffset::UTC);

    /// The offsets the account page offers: every one in use in the world.
    pub const CHOICES: &'static [(i8, i8)] = &[
        (-12, 0),
        (-11, 0),
        (-10, 0),
        (-9, -30),
        (-9, 0),
        (-8, 0),
        (-7, 0),
        (-6, 0),
        (-5, 0),
        (-4, 0),
        (-3, -30),
        (-3, 0),
        (-2, 0),
        (-1, 0),
        (0, 0),
        (1, 0),
        (2, 0),
        (3, 0),
        (3, 30),
        (4, 0),
        (4, 30),
        (5, 0),
        (5, 30),
        (5, 45),
        (6, 0),
        (6, 30),
        (7, 0),
        (8, 0),
        (8, 45),
        (9, 0),
        (9, 30),
        (10, 0),
        (10, 30),
        (11, 0),
        (12, 0),
        (12, 45),
        (13, 0),
        (14, 0),
    ];

    /// "+09:00", "-03:30", "+00:00" (also "Z" and "UTC" for UTC).
    pub fn parse(text: &str) -> Option<Zone> {
        let text = text.trim();
        if text.eq_ignore_ascii_case("z") || text.eq_ignore_ascii_case("utc") {
            return Some(Zone::UTC);
        }
        let (sign, rest) = match text.split_at_checked(1) {
            Some(("+", rest)) => (1, rest),
            Some(("-", rest)) => (-1, rest),
            _ => return None,
        };
        let (hours, minutes) = rest.split_once(':')?;
        let two_digits = |t: &str| t.len() == 2 && t.bytes().all(|b| b.is_ascii_digit());
        if !two_digits(hours) || !two_digits(minutes) {
            return None;
        }
        let hours: i32 = hours.parse().ok()?;
        let minutes: i32 = minutes.parse().ok()?;
        if minutes % 15 != 0 || minutes >= 60 {
            return None;
        }
        let total = sign * (hours * 60 + minutes);
        if !(-12 * 60..=14 * 60).contains(&total) {
            return None;
        }
        UtcOffset::from_whole_seconds(total * 60).ok().map(Zone)
    }

    pub fn offset(self) -> UtcOffset {
        self.0
    }

    /// "+09:00".
    pub fn code(self) -> String {
        let total = self.0.whole_minutes();
        let sign = if total < 0 { '-' } else { '+' };
        let total = total.unsigned_abs();
        format!("{sign}{:02}:{:02}", total / 60, total % 60)
    }

    /// "UTC+09:00", as pages name a zone.
    pub fn label(self) -> String {
        format!("UTC{}", self.code())
    }

    /// The account page's list, as (code, label).
    pub fn choices() -> Vec<(String, String)> {
        Self::CHOICES
            .iter()
            .filter_map(|(h, m)| UtcOffset::from_hms(*h, *m, 0).ok())
            .map(|o| (Zone(o).code(), Zone(o).label()))
            .collect()
    }
}

impl From<UtcOffset> for Zone {
    fn from(offset: UtcOffset) -> Self {
        Zone(offset)
    }
}

impl TryFrom<String> for Zone {
    type Error = String;
    fn try_from(value: String) -> Result<Self, String> {
        Zone::parse(&value).ok_or_else(|| format!("not a UTC offset: {value:?}"))
    }
}

impl From<Zone> for String {
    fn from(zone: Zone) -> String {
        zone.code()
    }
}

/// "UTC+09:00": the name of the zone pages show times in.
pub fn zone_label(zone: UtcOffset) -> String {
    Zone(zone).label()
}

/// "2026-12-01T20:32:05Z": a time as exports and file headers write it, in UTC.
pub fn rfc3339_utc(at: OffsetDateTime) -> String {
    at.to_offset(UtcOffset::UTC).format(&time::format_description::well_known::Rfc3339).unwrap_or_default()
}

/// "2026-12-01 20:32" (Japanese "2026年12月1日 20:32", Korean "2026년 12월
/// 1일 20:32"): a time to the minute in `zone`, in the request's language.
pub fn minute(at: OffsetDateTime, zone: UtcOffset) -> String {
    let at = at.to_offset(zone);
    format!("{} {:02}:{:02}", date(at.date()), at.hour(), at.minute())
}

/// "2026-12-01" (2026年12月1日, 2026년 12월 1일): the day of a time in `zone`.
pub fn day(at: OffsetDateTime, zone: UtcOffset) -> String {
    date(at.to_offset(zone).date())
}

/// A calendar day as the request's language writes it. English keeps the
/// ISO form the forms take (unambiguous for readers of any country);
/// Japanese and Korean write year, month and day with their own units.
pub fn date(d: time::Date) -> String {
    let (y, m, day) = (d.year(), u8::from(d.month()), d.day());
    match crate::i18n::current() {
        Lang::En => format!("{y:04}-{m:02}-{day:02}"),
        Lang::Ja => format!("{y}年{m}月{day}日"),
        Lang::Ko => format!("{y}년 {m}월 {day}일"),
    }
}

/// A milestone's date, known to the day, the month or the year, for
/// reading (a form's field keeps the typed form, 2024-03).
pub fn event_date(e: crate::cases::model::EventDate) -> String {
    use crate::cases::model::Precision;
    let (y, m) = (e.date().year(), u8::from(e.date().month()));
    match (e.precision(), crate::i18n::current()) {
        (Precision::Day, _) => date(e.date()),
        (Precision::Month, Lang::En) => format!("{y:04}-{m:02}"),
        (Precision::Month, Lang::Ja) => format!("{y}年{m}月"),
        (Precision::Month, Lang::Ko) => format!("{y}년 {m}월"),
        (Precision::Year, Lang::En) => format!("{y:04}"),
        (Precision::Year, Lang::Ja) => format!("{y}年"),
        (Precision::Year, Lang::Ko) => format!("{y}년"),
    }
}

/// A stored RFC 3339 time (the audit trail's, a flag's) to the minute in
/// `zone`; text that is not such a time is shown as it is.
pub fn minute_of_stored(stored: &str, zone: UtcOffset) -> String {
    match OffsetDateTime::parse(stored, &Rfc3339) {
        Ok(at) => minute(at, zone),
        Err(_) => stored.to_owned(),
    }
}

/// Which end of a range a typed time bounds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bound {
    /// The first moment of the day or minute typed.
    Start,
    /// The last moment of the day or minute typed.
    End,
}

/// A time typed by a person in `zone`, "2026-12-01" or "2026-12-01 20:32"
/// (a `T` also works), as the UTC instant that starts or ends it. `None`
/// for anything else: the caller names the field.
pub fn typed(text: &str, zone: UtcOffset, bound: Bound) -> Option<OffsetDateTime> {
    let text = text.trim();
    let day_format = time::macros::format_description!("[year]-[month]-[day]");
    let (date, clock, whole_day) = match text.split_once([' ', 'T']) {
        None => (Date::parse(text, &day_format).ok()?, Time::MIDNIGHT, true),
        Some((d, t)) => {
            let t = t.trim();
            let minute_format = time::macros::format_description!("[hour]:[minute]");
            (Date::parse(d, &day_format).ok()?, Time::parse(t, &minute_format).ok()?, false)
        }
    };
    let start = PrimitiveDateTime::new(date, clock).assume_offset(zone);
    Some(match bound {
        Bound::Start => start,
        Bound::End if whole_day => start + time::Duration::days(1) - time::Duration::seconds(1),
        Bound::End => start + time::Duration::seconds(59),
    })
}

/// An instant as a bound on the stored RFC 3339 texts (UTC, `Z`, with a
/// fraction of a second when there is one), so that text order is time
/// order: a start without its `Z` sorts before every fraction of its first
/// second; an end at `:59Z` sorts after every fraction of its last.
pub fn stored_bound(at: OffsetDateTime, bound: Bound) -> String {
    let at = at.to_offset(UtcOffset::UTC);
    let base = format!("{}T{:02}:{:02}:{:02}", at.date(), at.hour(), at.minute(), at.second());
    match bound {
        Bound::Start => base,
        Bound::End => format!("{base}Z"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_time_is_shown_to_the_minute_in_the_zone() {
        let at = time::macros::datetime!(2026-12-01 23:45:59 UTC);
        assert_eq!(minute(at, UtcOffset::UTC), "2026-12-01 23:45");
        assert_eq!(minute(at, time::macros::offset!(+9)), "2026-12-02 08:45");
        assert_eq!(day(at, time::macros::offset!(+9)), "2026-12-02");
        assert_eq!(
            minute_of_stored("2026-12-01T23:45:59.25Z", time::macros::offset!(+9)),
            "2026-12-02 08:45"
        );
        assert_eq!(minute_of_stored("not a time", UtcOffset::UTC), "not a time");
    }

    #[test]
    fn zones_parse_from_their_codes_and_back() {
        for (text, minutes) in
            [("+09:00", 540), ("-03:30", -210), ("+00:00", 0), ("Z", 0), ("+05:45", 345), ("+14:00", 840)]
        {
            let zone = Zone::parse(text).unwrap_or_else(|| panic!("{text}"));
            assert_eq!(zone.offset().whole_minutes(), minutes, "{text}");
            assert_eq!(Zone::parse(&zone.code()), Some(zone));
        }
        for bad in [
            "",
            "9",
            "+9",
            "+9:00",
            "09:00",
            "+09:10",
            "+15:00",
            "-13:00",
            "+09:60",
            "+0a:00",
            "Asia/Tokyo",
            "+09:00x",
        ] {
            assert_eq!(Zone::parse(bad), None, "{bad:?}");
        }
        assert_eq!(Zone::parse("+09:00").unwrap().label(), "UTC+09:00");
        assert_eq!(Zone::UTC.label(), "UTC+00:00");
        let choices = Zone::choices();
        assert_eq!(choices.len(), Zone::CHOICES.len());
        assert!(choices.iter().all(|(code, _)| Zone::parse(code).is_some()));
        let json = serde_json::to_string(&Zone::parse("+09:00").unwrap()).unwrap();
        assert_eq!(json, "\"+09:00\"");
        assert!(serde_json::from_str::<Zone>("\"+09:07\"").is_err());
    }

    #[test]
    fn a_typed_day_or_minute_bounds_the_stored_times_in_order() {
        let tokyo = time::macros::offset!(+9);
        let from = typed("2026-12-02", tokyo, Bound::Start).unwrap();
        let to = typed("2026-12-02", tokyo, Bound::End).unwrap();
        assert_eq!(stored_bound(from, Bound::Start), "2026-12-01T15:00:00");
        assert_eq!(stored_bound(to, Bound::End), "2026-12-02T14:59:59Z");
        let at = typed("2026-12-02 08:30", tokyo, Bound::End).unwrap();
        assert_eq!(stored_bound(at, Bound::End), "2026-12-01T23:30:59Z");
        assert_eq!(
            typed("2026-12-02T08:30", tokyo, Bound::Start),
            typed("2026-12-02 08:30", tokyo, Bound::Start)
        );
        let (low, high) = (stored_bound(from, Bound::Start), stored_bound(to, Bound::End));
        for inside in [
            "2026-12-01T15:00:00Z",
            "2026-12-01T15:00:00.001Z",
            "2026-12-02T14:59:59Z",
            "2026-12-02T14:59:59.999999Z",
        ] {
            assert!(inside >= low.as_str() && inside <= high.as_str(), "{inside}");
        }
        for outside in ["2026-12-01T14:59:59.999Z", "2026-12-02T15:00:00Z"] {
            assert!(!(outside >= low.as_str() && outside <= high.as_str()), "{outside}");
        }
        for bad in ["", "abc", "2026-13-01", "2026-02-30", "2026-12-01 25:00", "2026-12-01 8", "01/12/2026"] {
            assert_eq!(typed(bad, tokyo, Bound::Start), None, "{bad:?}");
        }
    }

    #[tokio::test]
    async fn days_and_milestone_dates_are_written_as_each_language_writes_them() {
        use crate::cases::model::EventDate;
        let d = time::macros::date!(2026 - 03 - 05);
        let at = time::macros::datetime!(2026-03-05 08:07 UTC);
        let of = |text: &str| EventDate::from_stored(text).unwrap();
        let said = async |lang| {
            crate::i18n::scope(lang, async {
                [date(d), minute(at, UtcOffset::UTC), event_date(of("2024-03")), event_date(of("2024"))]
            })
            .await
        };
        assert_eq!(said(Lang::En).await, ["2026-03-05", "2026-03-05 08:07", "2024-03", "2024"]);
        assert_eq!(said(Lang::Ja).await, ["2026年3月5日", "2026年3月5日 08:07", "2024年3月", "2024年"]);
        assert_eq!(said(Lang::Ko).await, ["2026년 3월 5일", "2026년 3월 5일 08:07", "2024년 3월", "2024년"]);
    }
}
