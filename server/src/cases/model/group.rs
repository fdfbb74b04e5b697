//! The people a case is about: aliases, age bands, genders, persons and groups.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::FieldError;

/// The name a person is known by in the record. Never a legal name.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Alias(String);

impl Alias {
    pub const MAX_CHARS: usize = 40;
    const FIELD: &'static str = "alias";
    const CHARSET: &'static str = "An alias may contain only letters (of any script), digits, spaces, hyphens, apostrophes, full stops and middle dots.";

    pub fn parse(input: &str) -> Result<Self, FieldError> {
        let err = |m: &str| FieldError::new(Self::FIELD, m);
        // Checked before collapsing, or a tab or newline would silently turn
        // into a space and hide pasted junk.
        if input.chars().any(char::is_control) {
            return Err(err(Self::CHARSET));
        }
        // Composed (NFC), so a Hangul syllable typed as its jamo, or a kana
        // with its voicing mark apart, is stored, counted and compared as
        // the one character a reader sees.
        let composed: String = unicode_normalization::UnicodeNormalization::nfc(input).collect();
        let collapsed = composed.split_whitespace().collect::<Vec<_>>().join(" ");
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
                // The middle dots part a name written in katakana or Hangul
                // (キム・ヨンス) as a space parts one in Latin letters.
                c.is_ascii_digit() || matches!(c, ' ' | '-' | '\'' | '.' | '・' | '·')
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
    /// label: caseworkers would not tell "Mai" from "mai", or a full-width
    /// "Ｍａｉ" from either, apart. Searches compare the same form.
    fn folded(&self) -> String {
        crate::i18n::text::folded(&self.0)
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

code_enum! {
    /// An age range instead of a birth date, so a record never pins a person down.
    pub enum AgeBand {
        field: "age_band",
        unknown: "Choose an age band: Under 5, 5 to 11, 12 to 17, 18 to 29, 30 to 44, 45 to 59 or 60 and over.",
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

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]
mod tests {
    use super::*;
    use crate::cases::model::test_support::{check_codes, message};
    use proptest::prelude::*;

    fn person(alias: &str) -> Person {
        Person { alias: Alias::parse(alias).unwrap(), age_band: AgeBand::Adult, gender: None, consent: false }
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
        fn age_band_and_gender_never_panic_and_accept_only_their_codes(s in any::<String>()) {
            if let Ok(v) = AgeBand::parse(&s) {
                prop_assert_eq!(AgeBand::parse(v.as_str()).unwrap(), v);
            }
            if let Ok(v) = Gender::parse(&s) {
                prop_assert_eq!(Gender::parse(v.as_str()).unwrap(), v);
            }
        }

        #[test]
        fn group_accepts_distinct_aliases_up_to_20(n in 0usize..30) {
            let persons: Vec<_> = (0..n).map(|i| person(&format!("P{i}x"))).collect();
            let ok = (1..=20).contains(&n);
            prop_assert_eq!(Group::new(persons).is_ok(), ok);
        }
    }
}
