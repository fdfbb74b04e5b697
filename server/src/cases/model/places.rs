//! Places: shelter code names and countries, never a real address.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize};

use super::FieldError;

/// A shelter's code name such as `JRL-01`, or in another script `ヤン-02`,
/// `연변-03`: 2 to 6 letters, a hyphen, 1 to 3 digits. Never a real place
/// name. Compatibility-normalised (NFKC: a full-width `ＪＲＬ－０１` is
/// `JRL-01`) and upper-cased, so one code has one form.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ShelterCode(String);

impl ShelterCode {
    const FIELD: &'static str = "shelter_code";

    pub fn parse(input: &str) -> Result<Self, FieldError> {
        use unicode_normalization::UnicodeNormalization;
        // Normalised again after upper-casing: a few capitals decompose.
        let code: String = input.trim().nfkc().flat_map(char::to_uppercase).nfkc().collect();
        let shaped = match code.split_once('-') {
            Some((letters, digits)) => {
                (2..=6).contains(&letters.chars().count())
                    && letters.chars().all(|c| c.is_alphabetic() && !c.is_lowercase())
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
                "A shelter code looks like JRL-01: 2 to 6 letters of any script, a hyphen, 1 to 3 digits.",
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

string_conversions!(ShelterCode);

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

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]
mod tests {
    use super::*;
    use crate::cases::model::test_support::message;
    use proptest::prelude::*;

    // --- Shelter code -------------------------------------------------------

    #[test]
    fn shelter_code_shapes() {
        assert_eq!(ShelterCode::parse(" jrl-01 ").unwrap().as_str(), "JRL-01");
        for ok in ["YAN-02", "AB-1", "ABCDEF-123", "ヤン-02", "연변-03", "ÄBC-01"] {
            assert_eq!(ShelterCode::parse(ok).unwrap().as_str(), ok);
        }
        // One code, one form, however it was typed.
        assert_eq!(ShelterCode::parse("ＪＲＬ－０１").unwrap().as_str(), "JRL-01");
        assert_eq!(ShelterCode::parse("ﾔﾝ-02").unwrap().as_str(), "ヤン-02");
        for bad in [
            "",
            "J-01",
            "ABCDEFG-01",
            "JRL-",
            "JRL-1234",
            "JRL01",
            "JRL-0A",
            "JR L-01",
            "JRL--01",
            "연-01",
            "J1-01",
        ] {
            assert_eq!(
                message(ShelterCode::parse(bad)),
                "A shelter code looks like JRL-01: 2 to 6 letters of any script, a hyphen, 1 to 3 digits.",
                "{bad:?}"
            );
        }
        let s: ShelterCode = serde_json::from_str("\"yan-02\"").unwrap();
        assert_eq!(serde_json::to_string(&s).unwrap(), "\"YAN-02\"");
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

    proptest! {
        #[test]
        fn shelter_code_round_trips(letters in "[a-zA-Z]{2,6}", digits in "[0-9]{1,3}") {
            let code = ShelterCode::parse(&format!(" {letters}-{digits} ")).unwrap();
            prop_assert_eq!(code.as_str(), format!("{}-{digits}", letters.to_ascii_uppercase()));
            prop_assert_eq!(ShelterCode::parse(code.as_str()).unwrap(), code);
        }

        #[test]
        fn shelter_code_never_panics_and_is_short(s in any::<String>()) {
            if let Ok(c) = ShelterCode::parse(&s) {
                prop_assert!(c.as_str().chars().count() <= 10);
                prop_assert_eq!(ShelterCode::parse(c.as_str()).unwrap(), c);
            }
        }

        #[test]
        fn shelter_code_rejects_long_letter_runs(letters in "[A-Z]{7,20}", digits in "[0-9]{1,3}") {
            let input = format!("{letters}-{digits}");
            prop_assert!(ShelterCode::parse(&input).is_err());
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
    }
}
