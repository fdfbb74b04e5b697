//! The case record's value types.
//!
//! Everything a caseworker types, and everything read back from storage, is
//! turned into one of these types by its parser before any other code sees
//! it ("parse, don't validate"). Once a value exists it is known to be good,
//! so the rest of the server never re-checks it.
//!
//! Records hold aliases only: never legal names or birth dates. Ages are bands,
//! places are shelter code names and countries.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use time::{Date, Month};

/// Which form field a problem belongs to, and what is wrong, in words for the user.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct FieldError {
    pub field: &'static str,
    pub message: String,
}

impl FieldError {
    pub fn new(field: &'static str, message: impl Into<String>) -> Self {
        Self { field, message: message.into() }
    }
}

/// The string-conversion impls every text newtype shares, so forms, storage
/// and serde all go through the one parser.
macro_rules! string_conversions {
    ($name:ident) => {
        impl FromStr for $name {
            type Err = FieldError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Self::parse(s)
            }
        }

        impl TryFrom<String> for $name {
            type Error = FieldError;
            fn try_from(s: String) -> Result<Self, Self::Error> {
                Self::parse(&s)
            }
        }

        impl From<$name> for String {
            fn from(value: $name) -> String {
                value.as_str().to_owned()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                self.as_str()
            }
        }
    };
}

/// A closed list of choices stored as short snake_case codes. Parsing is
/// case-insensitive and ignores surrounding spaces because the codes come
/// from form selects and hand-edited imports; the stored form is canonical.
macro_rules! code_enum {
    (
        $(#[$meta:meta])*
        pub enum $name:ident {
            field: $field:literal,
            unknown: $unknown:literal,
            $( $(#[$vmeta:meta])* $variant:ident => $code:literal, $label:literal; )+
        }
    ) => {
        $(#[$meta])*
        #[derive(
            Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize,
        )]
        #[serde(try_from = "String", into = "String")]
        pub enum $name {
            $( $(#[$vmeta])* $variant, )+
        }

        impl $name {
            /// Every value, in declaration order (the order forms list them).
            pub const ALL: [$name; 0 $(+ code_enum!(@one $variant))+] = [$($name::$variant),+];

            pub fn parse(input: &str) -> Result<Self, FieldError> {
                let input = input.trim();
                Self::ALL
                    .into_iter()
                    .find(|v| v.as_str().eq_ignore_ascii_case(input))
                    .ok_or_else(|| FieldError::new($field, $unknown))
            }

            /// The stored code.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $( $name::$variant => $code, )+
                }
            }

            /// Words for a caseworker.
            pub const fn label(self) -> &'static str {
                match self {
                    $( $name::$variant => $label, )+
                }
            }
        }

        impl FromStr for $name {
            type Err = FieldError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Self::parse(s)
            }
        }

        impl TryFrom<String> for $name {
            type Error = FieldError;
            fn try_from(s: String) -> Result<Self, Self::Error> {
                Self::parse(&s)
            }
        }

        impl From<$name> for String {
            fn from(value: $name) -> String {
                value.as_str().to_owned()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
    (@one $variant:ident) => { 1 };
}

// ---------------------------------------------------------------------------
// Alias
// ---------------------------------------------------------------------------

/// The name a person is known by in the record. Never a legal name.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Alias(String);

impl Alias {
    pub const MAX_CHARS: usize = 40;
    const FIELD: &'static str = "alias";
    const CHARSET: &'static str =
        "An alias may contain only letters, digits, spaces, hyphens, apostrophes and full stops.";

    pub fn parse(input: &str) -> Result<Self, FieldError> {
        let err = |m: &str| FieldError::new(Self::FIELD, m);
        // Checked before collapsing, or a tab or newline would silently turn
        // into a space and hide pasted junk.
        if input.chars().any(char::is_control) {
            return Err(err(Self::CHARSET));
        }
        let collapsed = input.split_whitespace().collect::<Vec<_>>().join(" ");
        if collapsed.is_empty() {
            return Err(err("An alias is required."));
        }
        if collapsed.chars().count() > Self::MAX_CHARS {
            return Err(err("An alias is at most 40 characters."));
        }
        let mut previous_is_letter = false;
        for c in collapsed.chars() {
            let allowed = if c.is_alphabetic() {
                previous_is_letter = true;
                true
            } else if is_combining_mark(c) {
                // A mark belongs to the letter before it; alone it is junk.
                previous_is_letter
            } else {
                previous_is_letter = false;
                // ASCII digits only: other scripts' digits would slip a year
                // past the date check below.
                c.is_ascii_digit() || matches!(c, ' ' | '-' | '\'' | '.')
            };
            if !allowed {
                return Err(err(Self::CHARSET));
            }
        }
        if !collapsed.chars().any(char::is_alphabetic) {
            return Err(err("An alias must contain at least one letter."));
        }
        if looks_like_date(&collapsed) {
            return Err(err("An alias must not contain a date or a year."));
        }
        Ok(Self(collapsed))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The form used to decide whether two aliases are "the same" person
    /// label: caseworkers would not tell "Mai" from "mai" apart.
    fn folded(&self) -> String {
        self.0.to_lowercase()
    }
}

string_conversions!(Alias);

/// Combining marks that `char::is_alphabetic` does not cover but that real
/// names need: decomposed accents, and vowel, tone and virama marks of the
/// scripts caseworkers write in (Thai, Lao, Myanmar, Khmer, Arabic, Hebrew,
/// Devanagari, Bengali, kana voicing marks).
fn is_combining_mark(c: char) -> bool {
    matches!(
        c,
        // Combining diacritics (decomposed Latin, Greek and Cyrillic accents)
        '\u{0300}'..='\u{036F}'
        // Hebrew points
        | '\u{05B0}'..='\u{05BD}'
        | '\u{05BF}'
        | '\u{05C1}'..='\u{05C2}'
        | '\u{05C4}'..='\u{05C5}'
        | '\u{05C7}'
        // Arabic vowel marks
        | '\u{064B}'..='\u{065F}'
        | '\u{0670}'
        // Devanagari and Bengali nukta and virama
        | '\u{093C}'
        | '\u{094D}'
        | '\u{09BC}'
        | '\u{09CD}'
        // Thai vowel and tone marks
        | '\u{0E31}'
        | '\u{0E34}'..='\u{0E3A}'
        | '\u{0E47}'..='\u{0E4E}'
        // Lao vowel and tone marks
        | '\u{0EB1}'
        | '\u{0EB4}'..='\u{0EBC}'
        | '\u{0EC8}'..='\u{0ECD}'
        // Myanmar vowel signs, tones, asat and virama
        | '\u{102B}'..='\u{103E}'
        | '\u{1056}'..='\u{1059}'
        | '\u{105E}'..='\u{1060}'
        | '\u{1062}'..='\u{1064}'
        | '\u{1067}'..='\u{106D}'
        | '\u{1071}'..='\u{1074}'
        | '\u{1082}'..='\u{108D}'
        | '\u{108F}'
        | '\u{109A}'..='\u{109D}'
        // Khmer vowel signs and diacritics
        | '\u{17B4}'..='\u{17D3}'
        | '\u{17DD}'
        // Kana voicing marks
        | '\u{3099}'..='\u{309A}'
    )
}

/// Whether an alias seems to carry a birth date: a four-digit year, digits
/// joined like a day and month ("15-03", "3.5"), or a short year ("'99").
fn looks_like_date(s: &str) -> bool {
    let chars: Vec<char> = s.chars().collect();
    let four_digits = chars.windows(4).any(|w| w.iter().all(char::is_ascii_digit));
    let joined_numbers = chars
        .windows(3)
        .any(|w| matches!(w, [a, '-' | '.' | '\'', b] if a.is_ascii_digit() && b.is_ascii_digit()));
    let short_year =
        chars.windows(3).any(|w| matches!(w, ['\'', a, b] if a.is_ascii_digit() && b.is_ascii_digit()));
    four_digits || joined_numbers || short_year
}

// ---------------------------------------------------------------------------
// Closed lists
// ---------------------------------------------------------------------------

code_enum! {
    /// An age range instead of a birth date, so a record never pins a person down.
    pub enum AgeBand {
        field: "age_band",
        unknown: "Choose an age band: 0-4, 5-11, 12-17, 18-29, 30-44, 45-59 or 60+.",
        Under5 => "0-4", "Under 5";
        Child => "5-11", "5 to 11";
        Teen => "12-17", "12 to 17";
        YoungAdult => "18-29", "18 to 29";
        Adult => "30-44", "30 to 44";
        MiddleAged => "45-59", "45 to 59";
        Senior => "60+", "60 and over";
    }
}

impl AgeBand {
    /// Under 18: minors get extra protection (never in stories, guardianship).
    pub const fn is_child(self) -> bool {
        matches!(self, AgeBand::Under5 | AgeBand::Child | AgeBand::Teen)
    }
}

code_enum! {
    pub enum Gender {
        field: "gender",
        unknown: "Choose female, male or other.",
        Female => "female", "Female";
        Male => "male", "Male";
        Other => "other", "Other";
    }
}

code_enum! {
    /// Where a case is in the pipeline. Ordered, so "has reached" is a comparison.
    pub enum Stage {
        field: "stage",
        unknown: "Choose one of the listed stages.",
        Intake => "intake", "Intake";
        Assessment => "assessment", "Assessment";
        Sheltered => "sheltered", "Sheltered";
        TransitPlanning => "transit_planning", "Transit planning";
        InTransit => "in_transit", "In transit";
        ThirdCountryProcessing => "third_country_processing", "Third-country processing";
        ResettlementSubmitted => "resettlement_submitted", "Resettlement submitted";
        DecisionReceived => "decision_received", "Decision received";
        PreDeparture => "pre_departure", "Pre-departure";
        Arrived => "arrived", "Arrived";
        FollowUp => "follow_up", "Follow-up";
    }
}

impl Stage {
    pub const fn is_out_of_danger(self) -> bool {
        matches!(self, Stage::Arrived | Stage::FollowUp)
    }
}

code_enum! {
    /// Why a case was closed.
    pub enum Outcome {
        field: "outcome",
        unknown: "Choose one of the listed outcomes.",
        Resettled => "resettled", "Resettled";
        SelfSettled => "self_settled", "Self-settled";
        LostContact => "lost_contact", "Lost contact";
        Detained => "detained", "Detained";
        Repatriated => "repatriated", "Repatriated";
        Withdrew => "withdrew", "Withdrew";
        Deceased => "deceased", "Deceased";
        Duplicate => "duplicate", "Duplicate record";
    }
}

code_enum! {
    /// A dated event in a case's timeline.
    pub enum MilestoneKind {
        field: "kind",
        unknown: "Choose one of the listed milestone kinds.",
        ContactMade => "contact_made", "Contact made";
        Sheltered => "sheltered", "Sheltered";
        Moved => "moved", "Moved";
        CrossedBorder => "crossed_border", "Crossed a border";
        ReachedProtection => "reached_protection", "Reached protection";
        Departed => "departed", "Departed";
        Arrived => "arrived", "Arrived";
        LanguageCourseCompleted => "language_course_completed", "Language course completed";
        Enrolled => "enrolled", "Enrolled";
        Employed => "employed", "Employed";
        Housed => "housed", "Housed";
        Reunited => "reunited", "Reunited";
        Detained => "detained", "Detained";
        Repatriated => "repatriated", "Repatriated";
        Other => "other", "Other";
    }
}

impl MilestoneKind {
    /// The only kinds a published story may mention. Everything else can
    /// reveal a route, a hiding place or a setback, so it is never public.
    pub const fn is_public_safe(self) -> bool {
        matches!(
            self,
            MilestoneKind::ReachedProtection
                | MilestoneKind::Departed
                | MilestoneKind::Arrived
                | MilestoneKind::LanguageCourseCompleted
                | MilestoneKind::Enrolled
                | MilestoneKind::Employed
                | MilestoneKind::Housed
                | MilestoneKind::Reunited
        )
    }
}

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

// ---------------------------------------------------------------------------
// Status
// ---------------------------------------------------------------------------

/// Whether a case is being worked on. A closed case always says why.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum Status {
    Open,
    OnHold,
    Closed(Outcome),
}

impl Status {
    const FIELD: &'static str = "status";

    /// Every status, open ones first, then one closed status per outcome.
    pub const ALL: [Status; 10] = [
        Status::Open,
        Status::OnHold,
        Status::Closed(Outcome::Resettled),
        Status::Closed(Outcome::SelfSettled),
        Status::Closed(Outcome::LostContact),
        Status::Closed(Outcome::Detained),
        Status::Closed(Outcome::Repatriated),
        Status::Closed(Outcome::Withdrew),
        Status::Closed(Outcome::Deceased),
        Status::Closed(Outcome::Duplicate),
    ];

    pub fn parse(input: &str) -> Result<Self, FieldError> {
        let input = input.trim().to_ascii_lowercase();
        match input.as_str() {
            "open" => return Ok(Status::Open),
            "on_hold" => return Ok(Status::OnHold),
            "closed" => {
                return Err(FieldError::new(
                    Self::FIELD,
                    "A closed case needs an outcome, such as closed:resettled.",
                ));
            }
            _ => {}
        }
        match input.strip_prefix("closed:") {
            Some(outcome) => Outcome::parse(outcome).map(Status::Closed).map_err(|_| {
                FieldError::new(Self::FIELD, "Choose one of the listed outcomes for a closed case.")
            }),
            None => Err(FieldError::new(Self::FIELD, "Choose open, on hold, or closed with an outcome.")),
        }
    }

    /// The stored code: "open", "on_hold" or "closed:<outcome>".
    pub const fn as_str(self) -> &'static str {
        match self {
            Status::Open => "open",
            Status::OnHold => "on_hold",
            Status::Closed(outcome) => match outcome {
                Outcome::Resettled => "closed:resettled",
                Outcome::SelfSettled => "closed:self_settled",
                Outcome::LostContact => "closed:lost_contact",
                Outcome::Detained => "closed:detained",
                Outcome::Repatriated => "closed:repatriated",
                Outcome::Withdrew => "closed:withdrew",
                Outcome::Deceased => "closed:deceased",
                Outcome::Duplicate => "closed:duplicate",
            },
        }
    }

    pub const fn label(self) -> &'static str {
        match self {
            Status::Open => "Open",
            Status::OnHold => "On hold",
            Status::Closed(outcome) => match outcome {
                Outcome::Resettled => "Closed: resettled",
                Outcome::SelfSettled => "Closed: self-settled",
                Outcome::LostContact => "Closed: lost contact",
                Outcome::Detained => "Closed: detained",
                Outcome::Repatriated => "Closed: repatriated",
                Outcome::Withdrew => "Closed: withdrew",
                Outcome::Deceased => "Closed: deceased",
                Outcome::Duplicate => "Closed: duplicate record",
            },
        }
    }

    pub const fn is_closed(self) -> bool {
        matches!(self, Status::Closed(_))
    }
}

impl FromStr for Status {
    type Err = FieldError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl TryFrom<String> for Status {
    type Error = FieldError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

impl From<Status> for String {
    fn from(value: Status) -> String {
        value.as_str().to_owned()
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

// ---------------------------------------------------------------------------
// Shelter code
// ---------------------------------------------------------------------------

/// A shelter's code name such as `JRL-01`. Never a real place name.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ShelterCode(String);

impl ShelterCode {
    const FIELD: &'static str = "shelter_code";

    pub fn parse(input: &str) -> Result<Self, FieldError> {
        let code = input.trim().to_ascii_uppercase();
        let shaped = match code.split_once('-') {
            Some((letters, digits)) => {
                (2..=6).contains(&letters.len())
                    && letters.bytes().all(|b| b.is_ascii_uppercase())
                    && (1..=3).contains(&digits.len())
                    && digits.bytes().all(|b| b.is_ascii_digit())
            }
            None => false,
        };
        if shaped {
            Ok(Self(code))
        } else {
            Err(FieldError::new(
                Self::FIELD,
                "A shelter code looks like JRL-01: 2 to 6 letters, a hyphen, 1 to 3 digits.",
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

string_conversions!(ShelterCode);

// ---------------------------------------------------------------------------
// Event date
// ---------------------------------------------------------------------------

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

// ---------------------------------------------------------------------------
// Country code
// ---------------------------------------------------------------------------

/// An officially assigned ISO 3166-1 alpha-2 country code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(into = "String")]
pub struct CountryCode(&'static str);

// Written by hand: serde's derive would demand `'de: 'static` for the
// borrowed field, though parsing always yields a code from the static list.
impl<'de> Deserialize<'de> for CountryCode {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = String::deserialize(deserializer)?;
        CountryCode::parse(&s).map_err(serde::de::Error::custom)
    }
}

impl CountryCode {
    const FIELD: &'static str = "country";

    pub fn parse(input: &str) -> Result<Self, FieldError> {
        let code = input.trim().to_ascii_uppercase();
        match COUNTRY_CODES.binary_search(&code.as_str()) {
            Ok(i) => COUNTRY_CODES.get(i).copied().map(Self),
            Err(_) => None,
        }
        .ok_or_else(|| {
            FieldError::new(Self::FIELD, "Use a two-letter country code such as TH, MN, KR or JP.")
        })
    }

    pub fn as_str(&self) -> &'static str {
        self.0
    }
}

string_conversions!(CountryCode);

/// ISO 3166-1 alpha-2, all 249 officially assigned codes, sorted for binary
/// search. Reserved and user-assigned codes (UK, EU, XK, ...) are left out on
/// purpose so a typo cannot become a "country".
const COUNTRY_CODES: [&str; 249] = [
    "AD", "AE", "AF", "AG", "AI", "AL", "AM", "AO", "AQ", "AR", "AS", "AT", "AU", "AW", "AX", "AZ", "BA",
    "BB", "BD", "BE", "BF", "BG", "BH", "BI", "BJ", "BL", "BM", "BN", "BO", "BQ", "BR", "BS", "BT", "BV",
    "BW", "BY", "BZ", "CA", "CC", "CD", "CF", "CG", "CH", "CI", "CK", "CL", "CM", "CN", "CO", "CR", "CU",
    "CV", "CW", "CX", "CY", "CZ", "DE", "DJ", "DK", "DM", "DO", "DZ", "EC", "EE", "EG", "EH", "ER", "ES",
    "ET", "FI", "FJ", "FK", "FM", "FO", "FR", "GA", "GB", "GD", "GE", "GF", "GG", "GH", "GI", "GL", "GM",
    "GN", "GP", "GQ", "GR", "GS", "GT", "GU", "GW", "GY", "HK", "HM", "HN", "HR", "HT", "HU", "ID", "IE",
    "IL", "IM", "IN", "IO", "IQ", "IR", "IS", "IT", "JE", "JM", "JO", "JP", "KE", "KG", "KH", "KI", "KM",
    "KN", "KP", "KR", "KW", "KY", "KZ", "LA", "LB", "LC", "LI", "LK", "LR", "LS", "LT", "LU", "LV", "LY",
    "MA", "MC", "MD", "ME", "MF", "MG", "MH", "MK", "ML", "MM", "MN", "MO", "MP", "MQ", "MR", "MS", "MT",
    "MU", "MV", "MW", "MX", "MY", "MZ", "NA", "NC", "NE", "NF", "NG", "NI", "NL", "NO", "NP", "NR", "NU",
    "NZ", "OM", "PA", "PE", "PF", "PG", "PH", "PK", "PL", "PM", "PN", "PR", "PS", "PT", "PW", "PY", "QA",
    "RE", "RO", "RS", "RU", "RW", "SA", "SB", "SC", "SD", "SE", "SG", "SH", "SI", "SJ", "SK", "SL", "SM",
    "SN", "SO", "SR", "SS", "ST", "SV", "SX", "SY", "SZ", "TC", "TD", "TF", "TG", "TH", "TJ", "TK", "TL",
    "TM", "TN", "TO", "TR", "TT", "TV", "TW", "TZ", "UA", "UG", "UM", "US", "UY", "UZ", "VA", "VC", "VE",
    "VG", "VI", "VN", "VU", "WF", "WS", "YE", "YT", "ZA", "ZM", "ZW",
];

// ---------------------------------------------------------------------------
// Note
// ---------------------------------------------------------------------------

/// Free-text case notes.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Note(String);

impl Note {
    pub const MAX_CHARS: usize = 4000;
    const FIELD: &'static str = "notes";

    pub fn parse(input: &str) -> Result<Self, FieldError> {
        // Bidirectional overrides are not control characters to Rust, but
        // they can make a note display differently from what it says.
        let forbidden = |c: char| {
            (c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
                || matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
        };
        if input.chars().any(forbidden) {
            return Err(FieldError::new(Self::FIELD, "Notes may not contain control characters."));
        }
        let normalised = input.replace("\r\n", "\n").replace('\r', "\n");
        let text = normalised.trim_end();
        let count = text.chars().count();
        if count > Self::MAX_CHARS {
            return Err(FieldError::new(
                Self::FIELD,
                format!("Notes are at most 4000 characters; these have {count}."),
            ));
        }
        Ok(Self(text.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

string_conversions!(Note);

// ---------------------------------------------------------------------------
// Person and group
// ---------------------------------------------------------------------------

/// One person in a case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Person {
    pub alias: Alias,
    pub age_band: AgeBand,
    pub gender: Option<Gender>,
    /// Consent to publication. Missing means no: publishing by mistake cannot be undone.
    #[serde(default)]
    pub consent: bool,
}

/// The people a case is about: a person alone or a family travelling together.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "Vec<Person>", into = "Vec<Person>")]
pub struct Group(Vec<Person>);

impl Group {
    pub const MAX_PERSONS: usize = 20;
    const FIELD: &'static str = "group";

    pub fn new(persons: Vec<Person>) -> Result<Self, FieldError> {
        if persons.is_empty() {
            return Err(FieldError::new(Self::FIELD, "A case needs at least one person."));
        }
        if persons.len() > Self::MAX_PERSONS {
            return Err(FieldError::new(Self::FIELD, "A group has at most 20 persons."));
        }
        // Aliases are how caseworkers tell people apart, so they must differ
        // even ignoring case.
        let mut folded: Vec<String> = persons.iter().map(|p| p.alias.folded()).collect();
        folded.sort_unstable();
        if folded.windows(2).any(|w| matches!(w, [a, b] if a == b)) {
            return Err(FieldError::new(Self::FIELD, "Two persons in a group cannot share an alias."));
        }
        Ok(Self(persons))
    }

    pub fn persons(&self) -> &[Person] {
        &self.0
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Always false: a group has at least one person. Present for the usual
    /// `len`/`is_empty` pair.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl TryFrom<Vec<Person>> for Group {
    type Error = FieldError;
    fn try_from(persons: Vec<Person>) -> Result<Self, Self::Error> {
        Self::new(persons)
    }
}

impl From<Group> for Vec<Person> {
    fn from(group: Group) -> Vec<Person> {
        group.0
    }
}

// ---------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use time::macros::date;

    const TODAY: Date = date!(2024 - 06 - 30);

    fn message<T: fmt::Debug>(r: Result<T, FieldError>) -> String {
        r.unwrap_err().message
    }

    fn person(alias: &str) -> Person {
        Person { alias: Alias::parse(alias).unwrap(), age_band: AgeBand::Adult, gender: None, consent: false }
    }

    // --- FieldError ---------------------------------------------------------

    #[test]
    fn field_error_displays_field_and_message() {
        let e = Alias::parse("").unwrap_err();
        assert_eq!(e.field, "alias");
        assert_eq!(e.to_string(), "alias: An alias is required.");
    }

    // --- Alias --------------------------------------------------------------

    #[test]
    fn alias_trims_and_collapses_whitespace() {
        assert_eq!(Alias::parse("  Blue   River ").unwrap().as_str(), "Blue River");
        assert_eq!(Alias::parse("Mai\u{00A0}\u{00A0}Lin").unwrap().as_str(), "Mai Lin");
    }

    #[test]
    fn alias_accepts_the_allowed_punctuation_and_digits() {
        for ok in ["O'Neil", "Jean-Luc", "St. Clair", "Team 7", "A1"] {
            assert_eq!(Alias::parse(ok).unwrap().as_str(), ok);
        }
    }

    #[test]
    fn alias_accepts_other_scripts_including_their_marks() {
        for ok in ["สมศักดิ์", "မောင်မောင်", "សុខា", "ນ້ຳ", "김민준", "さくら", "Ölçü", "e\u{0301}lise", "Нина"]
        {
            assert!(Alias::parse(ok).is_ok(), "{ok} should be accepted");
        }
    }

    #[test]
    fn alias_requires_something() {
        assert_eq!(message(Alias::parse("")), "An alias is required.");
        assert_eq!(message(Alias::parse("   ")), "An alias is required.");
    }

    #[test]
    fn alias_length_counts_characters_not_bytes() {
        let forty_thai = "ก".repeat(40);
        assert!(Alias::parse(&forty_thai).is_ok());
        assert_eq!(message(Alias::parse(&"ก".repeat(41))), "An alias is at most 40 characters.");
        // Collapsed spaces do not count against the limit.
        let padded = format!("{}     {}", "a".repeat(20), "b".repeat(19));
        assert!(Alias::parse(&padded).is_ok());
    }

    #[test]
    fn alias_rejects_other_characters() {
        let msg = Alias::CHARSET;
        for bad in [
            "a@b",
            "name_1",
            "Mai\tLin",
            "Mai\nLin",
            "a\u{0}b",
            "smile🙂",
            "a\u{200D}b",
            "\u{0301}a",
            "a \u{0301}",
            "๒๕a",
        ] {
            assert_eq!(message(Alias::parse(bad)), msg, "{bad:?}");
        }
    }

    #[test]
    fn alias_needs_a_letter() {
        assert_eq!(message(Alias::parse("12 - 3")), "An alias must contain at least one letter.");
        assert_eq!(message(Alias::parse("'.-")), "An alias must contain at least one letter.");
    }

    #[test]
    fn alias_refuses_dates_and_years() {
        for bad in ["Mai 1987", "Lin2001x", "Mai 15-03", "Mai 3.5", "Mai '99"] {
            assert_eq!(message(Alias::parse(bad)), "An alias must not contain a date or a year.", "{bad:?}");
        }
        assert!(Alias::parse("Mai 15 B").is_ok());
        assert!(Alias::parse("Mai 123").is_ok());
    }

    #[test]
    fn alias_serde_goes_through_the_parser() {
        let a: Alias = serde_json::from_str("\" Blue  River \"").unwrap();
        assert_eq!(serde_json::to_string(&a).unwrap(), "\"Blue River\"");
        assert!(serde_json::from_str::<Alias>("\"born 1990\"").is_err());
        assert_eq!("Mai".parse::<Alias>().unwrap().as_str(), "Mai");
        assert_eq!(String::from(Alias::try_from("Mai".to_owned()).unwrap()), "Mai");
    }

    // --- Closed lists -------------------------------------------------------

    fn check_codes<T>(all: &[T], parse: fn(&str) -> Result<T, FieldError>, code: fn(&T) -> &'static str)
    where
        T: PartialEq + fmt::Debug + Serialize + for<'de> Deserialize<'de>,
    {
        let mut seen = std::collections::HashSet::new();
        for v in all {
            assert!(seen.insert(code(v)), "duplicate code {}", code(v));
            assert_eq!(&parse(code(v)).unwrap(), v);
            assert_eq!(&parse(&format!(" {} ", code(v).to_uppercase())).unwrap(), v);
            let json = serde_json::to_string(v).unwrap();
            assert_eq!(json, format!("\"{}\"", code(v)));
            assert_eq!(&serde_json::from_str::<T>(&json).unwrap(), v);
        }
        assert!(parse("").is_err());
        assert!(parse("nonsense").is_err());
        assert!(serde_json::from_str::<T>("\"nonsense\"").is_err());
    }

    #[test]
    fn age_band_codes() {
        check_codes(&AgeBand::ALL, AgeBand::parse, |v| v.as_str());
        assert_eq!(AgeBand::Senior.as_str(), "60+");
        assert_eq!(AgeBand::parse("12-17").unwrap(), AgeBand::Teen);
        assert_eq!(AgeBand::parse("x").unwrap_err().field, "age_band");
        let children: Vec<_> = AgeBand::ALL.into_iter().filter(|b| b.is_child()).collect();
        assert_eq!(children, [AgeBand::Under5, AgeBand::Child, AgeBand::Teen]);
    }

    #[test]
    fn gender_codes() {
        check_codes(&Gender::ALL, Gender::parse, |v| v.as_str());
        assert_eq!(message(Gender::parse("x")), "Choose female, male or other.");
        assert_eq!(Gender::parse("x").unwrap_err().field, "gender");
    }

    #[test]
    fn stage_codes_order_and_labels() {
        check_codes(&Stage::ALL, Stage::parse, |v| v.as_str());
        assert_eq!(Stage::ALL.len(), 11);
        assert!(Stage::ALL.windows(2).all(|w| w[0] < w[1]));
        assert_eq!(Stage::TransitPlanning.label(), "Transit planning");
        assert_eq!(Stage::parse("third_country_processing").unwrap(), Stage::ThirdCountryProcessing);
        let safe: Vec<_> = Stage::ALL.into_iter().filter(|s| s.is_out_of_danger()).collect();
        assert_eq!(safe, [Stage::Arrived, Stage::FollowUp]);
        assert_eq!(Stage::parse("x").unwrap_err().field, "stage");
    }

    #[test]
    fn outcome_codes() {
        check_codes(&Outcome::ALL, Outcome::parse, |v| v.as_str());
        assert_eq!(Outcome::SelfSettled.as_str(), "self_settled");
        assert_eq!(Outcome::LostContact.label(), "Lost contact");
        assert_eq!(Outcome::parse("x").unwrap_err().field, "outcome");
    }

    #[test]
    fn milestone_codes_and_public_safety() {
        check_codes(&MilestoneKind::ALL, MilestoneKind::parse, |v| v.as_str());
        assert_eq!(MilestoneKind::ALL.len(), 15);
        let public: Vec<_> = MilestoneKind::ALL.into_iter().filter(|k| k.is_public_safe()).collect();
        assert_eq!(
            public,
            [
                MilestoneKind::ReachedProtection,
                MilestoneKind::Departed,
                MilestoneKind::Arrived,
                MilestoneKind::LanguageCourseCompleted,
                MilestoneKind::Enrolled,
                MilestoneKind::Employed,
                MilestoneKind::Housed,
                MilestoneKind::Reunited,
            ]
        );
        assert_eq!(MilestoneKind::CrossedBorder.as_str(), "crossed_border");
        assert_eq!(MilestoneKind::parse("x").unwrap_err().field, "kind");
    }

    #[test]
    fn precision_codes() {
        check_codes(&Precision::ALL, Precision::parse, |v| v.as_str());
        assert_eq!(Precision::parse("x").unwrap_err().field, "date_precision");
    }

    // --- Status -------------------------------------------------------------

    #[test]
    fn status_codes() {
        check_codes(&Status::ALL, Status::parse, |v| v.as_str());
        assert_eq!(Status::Closed(Outcome::Resettled).to_string(), "closed:resettled");
        assert_eq!(Status::OnHold.label(), "On hold");
        assert!(Status::Closed(Outcome::Withdrew).is_closed());
        assert!(!Status::Open.is_closed());
        // Every outcome has its closed status in ALL.
        for o in Outcome::ALL {
            assert!(Status::ALL.contains(&Status::Closed(o)));
            assert_eq!(Status::Closed(o).as_str(), format!("closed:{}", o.as_str()));
        }
    }

    #[test]
    fn status_errors() {
        assert_eq!(
            message(Status::parse("closed")),
            "A closed case needs an outcome, such as closed:resettled."
        );
        assert_eq!(
            message(Status::parse("closed:happy")),
            "Choose one of the listed outcomes for a closed case."
        );
        assert_eq!(message(Status::parse("pending")), "Choose open, on hold, or closed with an outcome.");
        assert_eq!(Status::parse("closed:happy").unwrap_err().field, "status");
    }

    // --- Shelter code -------------------------------------------------------

    #[test]
    fn shelter_code_shapes() {
        assert_eq!(ShelterCode::parse(" jrl-01 ").unwrap().as_str(), "JRL-01");
        for ok in ["YAN-02", "AB-1", "ABCDEF-123"] {
            assert_eq!(ShelterCode::parse(ok).unwrap().as_str(), ok);
        }
        for bad in
            ["", "J-01", "ABCDEFG-01", "JRL-", "JRL-1234", "JRL01", "JRL-0A", "JR L-01", "JRL--01", "ÄBC-01"]
        {
            assert_eq!(
                message(ShelterCode::parse(bad)),
                "A shelter code looks like JRL-01: 2 to 6 letters, a hyphen, 1 to 3 digits.",
                "{bad:?}"
            );
        }
        let s: ShelterCode = serde_json::from_str("\"yan-02\"").unwrap();
        assert_eq!(serde_json::to_string(&s).unwrap(), "\"YAN-02\"");
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

    // --- Country code -------------------------------------------------------

    #[test]
    fn country_table_is_sorted_unique_and_well_formed() {
        assert!(COUNTRY_CODES.windows(2).all(|w| w[0] < w[1]));
        assert!(COUNTRY_CODES.iter().all(|c| c.len() == 2 && c.bytes().all(|b| b.is_ascii_uppercase())));
    }

    #[test]
    fn country_codes() {
        for ok in ["TH", "MN", "KR", "JP", "MM", "LA", "KH", "CN", "US", "AX", "SS", "ZW"] {
            assert_eq!(CountryCode::parse(ok).unwrap().as_str(), ok);
        }
        assert_eq!(CountryCode::parse(" th ").unwrap().as_str(), "TH");
        for bad in ["", "UK", "EU", "XK", "ZZ", "THA", "T", "T H", "1A"] {
            assert_eq!(
                message(CountryCode::parse(bad)),
                "Use a two-letter country code such as TH, MN, KR or JP.",
                "{bad:?}"
            );
        }
        let c: CountryCode = serde_json::from_str("\"kr\"").unwrap();
        assert_eq!(serde_json::to_string(&c).unwrap(), "\"KR\"");
        assert!(serde_json::from_str::<CountryCode>("\"UK\"").is_err());
    }

    // --- Note ---------------------------------------------------------------

    #[test]
    fn note_normalises() {
        let n = Note::parse("line one\r\nline two\rline three\n\tindented  \n\n ").unwrap();
        assert_eq!(n.as_str(), "line one\nline two\nline three\n\tindented");
        assert!(Note::parse("").unwrap().is_empty());
        assert!(Note::parse(" \n\t ").unwrap().is_empty());
        assert_eq!(Note::parse("  leading kept").unwrap().as_str(), "  leading kept");
    }

    #[test]
    fn note_limits() {
        assert!(Note::parse(&"ก".repeat(4000)).is_ok());
        assert_eq!(
            message(Note::parse(&"a".repeat(4001))),
            "Notes are at most 4000 characters; these have 4001."
        );
        // Trailing whitespace does not count.
        assert!(Note::parse(&format!("{}   \n", "a".repeat(4000))).is_ok());
        for bad in ["a\u{0}b", "bell\u{7}", "esc\u{1b}[31m", "\u{202E}evil"] {
            assert_eq!(message(Note::parse(bad)), "Notes may not contain control characters.", "{bad:?}");
        }
        assert_eq!(Note::parse("\u{0}").unwrap_err().field, "notes");
    }

    // --- Person and group ---------------------------------------------------

    #[test]
    fn group_sizes_and_duplicates() {
        assert_eq!(message(Group::new(vec![])), "A case needs at least one person.");
        let twenty: Vec<_> = (0..20).map(|i| person(&format!("Person {i}"))).collect();
        let g = Group::new(twenty.clone()).unwrap();
        assert_eq!(g.len(), 20);
        assert!(!g.is_empty());
        let mut twenty_one = twenty;
        twenty_one.push(person("One More"));
        assert_eq!(message(Group::new(twenty_one)), "A group has at most 20 persons.");
        assert_eq!(
            message(Group::new(vec![person("Mai"), person("Lin"), person("mai")])),
            "Two persons in a group cannot share an alias."
        );
        assert_eq!(Group::new(vec![]).unwrap_err().field, "group");
    }

    #[test]
    fn group_serde_is_a_list_checked_on_the_way_in() {
        let g = Group::new(vec![
            Person {
                alias: Alias::parse("Mai").unwrap(),
                age_band: AgeBand::Teen,
                gender: Some(Gender::Female),
                consent: true,
            },
            person("Lin"),
        ])
        .unwrap();
        let json = serde_json::to_string(&g).unwrap();
        assert_eq!(
            json,
            r#"[{"alias":"Mai","age_band":"12-17","gender":"female","consent":true},{"alias":"Lin","age_band":"30-44","gender":null,"consent":false}]"#
        );
        assert_eq!(serde_json::from_str::<Group>(&json).unwrap(), g);
        assert!(serde_json::from_str::<Group>("[]").is_err());
        let dup = r#"[{"alias":"Mai","age_band":"0-4"},{"alias":"MAI","age_band":"0-4"}]"#;
        assert!(serde_json::from_str::<Group>(dup).is_err());
        // A missing consent is no consent.
        let g: Group = serde_json::from_str(r#"[{"alias":"Mai","age_band":"0-4"}]"#).unwrap();
        assert!(!g.persons()[0].consent);
        assert_eq!(g.persons()[0].gender, None);
        assert!(serde_json::from_str::<Group>(r#"[{"alias":"Mai 1999","age_band":"0-4"}]"#).is_err());
    }

    // --- Properties ---------------------------------------------------------

    /// Characters an alias may be built from, plus a few it may not.
    fn alias_chars() -> impl Strategy<Value = String> {
        prop::collection::vec(
            prop::sample::select(vec![
                'a', 'Z', 'é', 'ก', 'ั', '์', 'မ', '်', 'ក', '김', ' ', ' ', '-', '\'', '.', '1', '9', '\t',
                '@', '\u{0301}',
            ]),
            0..60,
        )
        .prop_map(|v| v.into_iter().collect())
    }

    fn any_date() -> impl Strategy<Value = Date> {
        (1990i32..=2024, 1u8..=12, 1u8..=31).prop_filter_map("real dates", |(y, m, d)| {
            Date::from_calendar_date(y, Month::try_from(m).ok()?, d).ok()
        })
    }

    proptest! {
        #[test]
        fn alias_never_panics_and_accepted_values_are_stable(s in any::<String>()) {
            if let Ok(a) = Alias::parse(&s) {
                prop_assert_eq!(Alias::parse(a.as_str()).unwrap(), a);
            }
        }

        #[test]
        fn alias_accepted_values_keep_the_rules(s in alias_chars()) {
            if let Ok(a) = Alias::parse(&s) {
                let t = a.as_str();
                prop_assert!(!t.is_empty() && t.chars().count() <= 40);
                prop_assert_eq!(t.trim(), t);
                prop_assert!(!t.contains("  "));
                prop_assert!(!t.contains("1999") && !t.contains("9191"));
                prop_assert!(t.chars().any(char::is_alphabetic));
                prop_assert!(!t.chars().any(char::is_control));
                let json = serde_json::to_string(&a).unwrap();
                prop_assert_eq!(serde_json::from_str::<Alias>(&json).unwrap(), a);
            }
        }

        #[test]
        fn alias_of_letters_is_accepted_up_to_40_and_rejected_beyond(s in "[a-zA-Zก-ฮ]{1,80}") {
            let n = s.chars().count();
            prop_assert_eq!(Alias::parse(&s).is_ok(), n <= 40);
        }

        #[test]
        fn enums_never_panic_and_accept_only_their_codes(s in any::<String>()) {
            if let Ok(v) = AgeBand::parse(&s) {
                prop_assert_eq!(AgeBand::parse(v.as_str()).unwrap(), v);
            }
            if let Ok(v) = Gender::parse(&s) {
                prop_assert_eq!(Gender::parse(v.as_str()).unwrap(), v);
            }
            if let Ok(v) = Stage::parse(&s) {
                prop_assert_eq!(Stage::parse(v.as_str()).unwrap(), v);
            }
            if let Ok(v) = Outcome::parse(&s) {
                prop_assert_eq!(Outcome::parse(v.as_str()).unwrap(), v);
            }
            if let Ok(v) = MilestoneKind::parse(&s) {
                prop_assert_eq!(MilestoneKind::parse(v.as_str()).unwrap(), v);
            }
            if let Ok(v) = Precision::parse(&s) {
                prop_assert_eq!(Precision::parse(v.as_str()).unwrap(), v);
            }
            if let Ok(v) = Status::parse(&s) {
                prop_assert_eq!(Status::parse(v.as_str()).unwrap(), v);
            }
        }

        #[test]
        fn status_round_trips(i in 0usize..10) {
            let s = Status::ALL[i];
            prop_assert_eq!(Status::parse(&s.to_string()).unwrap(), s);
        }

        #[test]
        fn shelter_code_round_trips(letters in "[a-zA-Z]{2,6}", digits in "[0-9]{1,3}") {
            let code = ShelterCode::parse(&format!(" {letters}-{digits} ")).unwrap();
            prop_assert_eq!(code.as_str(), format!("{}-{digits}", letters.to_ascii_uppercase()));
            prop_assert_eq!(ShelterCode::parse(code.as_str()).unwrap(), code);
        }

        #[test]
        fn shelter_code_never_panics_and_is_short(s in any::<String>()) {
            if let Ok(c) = ShelterCode::parse(&s) {
                prop_assert!(c.as_str().len() <= 10);
                prop_assert_eq!(ShelterCode::parse(c.as_str()).unwrap(), c);
            }
        }

        #[test]
        fn shelter_code_rejects_long_letter_runs(letters in "[A-Z]{7,20}", digits in "[0-9]{1,3}") {
            let input = format!("{letters}-{digits}");
            prop_assert!(ShelterCode::parse(&input).is_err());
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

        #[test]
        fn country_code_accepts_only_the_table(s in any::<String>(), pair in "[a-zA-Z]{2}") {
            if let Ok(c) = CountryCode::parse(&s) {
                prop_assert!(COUNTRY_CODES.contains(&c.as_str()));
            }
            let upper = pair.to_ascii_uppercase();
            prop_assert_eq!(
                CountryCode::parse(&pair).is_ok(),
                COUNTRY_CODES.contains(&upper.as_str())
            );
        }

        #[test]
        fn every_listed_country_parses(i in 0usize..249) {
            let code = COUNTRY_CODES[i];
            prop_assert_eq!(CountryCode::parse(&code.to_ascii_lowercase()).unwrap().as_str(), code);
        }

        #[test]
        fn note_never_panics_and_is_stable(s in any::<String>()) {
            if let Ok(n) = Note::parse(&s) {
                prop_assert!(!n.as_str().contains('\r'));
                prop_assert_eq!(n.as_str().trim_end(), n.as_str());
                prop_assert_eq!(Note::parse(n.as_str()).unwrap(), n);
            }
        }

        #[test]
        fn note_over_the_limit_is_rejected(extra in 1usize..100, c in "[a-zก\u{00e9}]") {
            let text = c.repeat(4000 + extra);
            prop_assert!(Note::parse(&text).is_err());
        }

        #[test]
        fn group_accepts_distinct_aliases_up_to_20(n in 0usize..30) {
            let persons: Vec<_> = (0..n).map(|i| person(&format!("P{i}x"))).collect();
            let ok = (1..=20).contains(&n);
            prop_assert_eq!(Group::new(persons).is_ok(), ok);
        }
    }
}
