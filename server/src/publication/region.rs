//! Where a public text may say someone went: a destination country, or
//! its region when few cases reach the country. Transit countries never
//! reach this module: only an arrival's country is a destination.

use serde::{Deserialize, Serialize};

use crate::cases::model::CountryCode;

/// Wide regions, so that a region alone never narrows a story to a handful
/// of countries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Region {
    EastAsia,
    SoutheastAsia,
    SouthAndCentralAsia,
    WesternAsia,
    Europe,
    NorthAmerica,
    LatinAmerica,
    Africa,
    Oceania,
}

impl Region {
    pub const ALL: [Region; 9] = [
        Region::EastAsia,
        Region::SoutheastAsia,
        Region::SouthAndCentralAsia,
        Region::WesternAsia,
        Region::Europe,
        Region::NorthAmerica,
        Region::LatinAmerica,
        Region::Africa,
        Region::Oceania,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Region::EastAsia => "east_asia",
            Region::SoutheastAsia => "southeast_asia",
            Region::SouthAndCentralAsia => "south_and_central_asia",
            Region::WesternAsia => "western_asia",
            Region::Europe => "europe",
            Region::NorthAmerica => "north_america",
            Region::LatinAmerica => "latin_america",
            Region::Africa => "africa",
            Region::Oceania => "oceania",
        }
    }

    /// The region a country belongs to.
    pub fn of(country: CountryCode) -> Region {
        let code = country.as_str();
        REGIONS.iter().find(|(_, codes)| codes.contains(&code)).map_or(Region::Africa, |(region, _)| *region)
    }
}

/// Each region's countries; every officially assigned code is in exactly
/// one (a test walks them all). Antarctica and uninhabited territories are
/// put with the nearest populated region.
const REGIONS: [(Region, &[&str]); 9] = [
    (Region::EastAsia, EAST_ASIA),
    (Region::SoutheastAsia, SOUTHEAST_ASIA),
    (Region::SouthAndCentralAsia, SOUTH_AND_CENTRAL_ASIA),
    (Region::WesternAsia, WESTERN_ASIA),
    (Region::Europe, EUROPE),
    (Region::NorthAmerica, NORTH_AMERICA),
    (Region::LatinAmerica, LATIN_AMERICA),
    (Region::Africa, AFRICA),
    (Region::Oceania, OCEANIA),
];

/// A destination as a public text names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(tag = "level", content = "code", rename_all = "snake_case")]
pub enum Place {
    Country(CountryCode),
    Region(Region),
}

impl Place {
    /// Whether a case whose destination is `country` is described by this place.
    pub fn covers(self, country: CountryCode) -> bool {
        match self {
            Place::Country(c) => c == country,
            Place::Region(r) => Region::of(country) == r,
        }
    }

    /// One step wider: a country becomes its region; a region stays.
    pub fn widened(self) -> Place {
        match self {
            Place::Country(c) => Place::Region(Region::of(c)),
            region => region,
        }
    }
}

/// The destinations a story may name as a country: those every language's
/// phrasing has a name for (a test checks). Any other is named as its region.
pub const NAMED_COUNTRIES: &[&str] = &[
    "AT", "AU", "BE", "CA", "CH", "CZ", "DE", "DK", "ES", "FI", "FR", "GB", "IE", "IT", "JP", "KR", "NL",
    "NO", "NZ", "PL", "PT", "SE", "TW", "US",
];

pub fn is_named(country: CountryCode) -> bool {
    NAMED_COUNTRIES.contains(&country.as_str())
}

const EAST_ASIA: &[&str] = &["CN", "HK", "JP", "KP", "KR", "MN", "MO", "TW"];
const SOUTHEAST_ASIA: &[&str] = &["BN", "ID", "KH", "LA", "MM", "MY", "PH", "SG", "TH", "TL", "VN"];
const SOUTH_AND_CENTRAL_ASIA: &[&str] =
    &["AF", "BD", "BT", "IN", "IO", "IR", "KG", "KZ", "LK", "MV", "NP", "PK", "TJ", "TM", "UZ"];
const WESTERN_ASIA: &[&str] = &[
    "AE", "AM", "AZ", "BH", "CY", "GE", "IL", "IQ", "JO", "KW", "LB", "OM", "PS", "QA", "SA", "SY", "TR",
    "YE",
];
const EUROPE: &[&str] = &[
    "AD", "AL", "AT", "AX", "BA", "BE", "BG", "BY", "CH", "CZ", "DE", "DK", "EE", "ES", "FI", "FO", "FR",
    "GB", "GG", "GI", "GR", "HR", "HU", "IE", "IM", "IS", "IT", "JE", "LI", "LT", "LU", "LV", "MC", "MD",
    "ME", "MK", "MT", "NL", "NO", "PL", "PT", "RO", "RS", "RU", "SE", "SI", "SJ", "SK", "SM", "UA", "VA",
];
const NORTH_AMERICA: &[&str] = &["BM", "CA", "GL", "PM", "US", "UM"];
const LATIN_AMERICA: &[&str] = &[
    "AG", "AI", "AR", "AW", "BB", "BL", "BO", "BQ", "BR", "BS", "BV", "BZ", "CL", "CO", "CR", "CU", "CW",
    "DM", "DO", "EC", "FK", "GD", "GF", "GP", "GS", "GT", "GY", "HN", "HT", "JM", "KN", "KY", "LC", "MF",
    "MQ", "MS", "MX", "NI", "PA", "PE", "PR", "PY", "SR", "SV", "SX", "TC", "TT", "UY", "VC", "VE", "VG",
    "VI",
];
const OCEANIA: &[&str] = &[
    "AQ", "AS", "AU", "CC", "CK", "CX", "FJ", "FM", "GU", "HM", "KI", "MH", "MP", "NC", "NF", "NR", "NU",
    "NZ", "PF", "PG", "PN", "PW", "SB", "TF", "TK", "TO", "TV", "VU", "WF", "WS",
];
const AFRICA: &[&str] = &[
    "AO", "BF", "BI", "BJ", "BW", "CD", "CF", "CG", "CI", "CM", "CV", "DJ", "DZ", "EG", "EH", "ER", "ET",
    "GA", "GH", "GM", "GN", "GQ", "GW", "KE", "KM", "LR", "LS", "LY", "MA", "MG", "ML", "MR", "MU", "MW",
    "MZ", "NA", "NE", "NG", "RE", "RW", "SC", "SD", "SH", "SL", "SN", "SO", "SS", "ST", "SZ", "TD", "TG",
    "TN", "TZ", "UG", "YT", "ZA", "ZM", "ZW",
];

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn every_country_is_in_exactly_one_listed_region() {
        let mut all: Vec<&str> = REGIONS.iter().flat_map(|(_, l)| l.iter().copied()).collect();
        let listed = all.len();
        all.sort_unstable();
        all.dedup();
        assert_eq!(all.len(), listed, "a code is in two regions");
        for code in &all {
            assert!(CountryCode::parse(code).is_ok(), "{code} is not a country code");
        }
        assert_eq!(all.len(), 249, "every officially assigned code is placed");
    }

    #[test]
    fn places_widen_to_their_region() {
        let jp = CountryCode::parse("JP").unwrap();
        let kr = CountryCode::parse("KR").unwrap();
        let de = CountryCode::parse("DE").unwrap();
        assert_eq!(Region::of(jp), Region::EastAsia);
        assert_eq!(Place::Country(jp).widened(), Place::Region(Region::EastAsia));
        assert!(Place::Region(Region::EastAsia).covers(kr));
        assert!(!Place::Country(jp).covers(kr));
        assert!(!Place::Region(Region::EastAsia).covers(de));
        assert_eq!(Region::of(de), Region::Europe);
    }
}
