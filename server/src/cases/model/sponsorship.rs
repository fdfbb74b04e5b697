//! The education sponsorship's words: a child's school level, why a child
//! left the plan, and the sponsor's reference. A sponsor's name never
//! enters Safehouse: only a code the organisation's donor office can look up.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::{Alias, FieldError};
use crate::ids::MilestoneId;

code_enum! {
    /// A school level in bands, never a school's name.
    pub enum SchoolLevel {
        field: "school_level",
        unknown: "Choose a school level: pre-school, primary, lower secondary or upper secondary.",
        PreSchool => "pre_school", "Pre-school";
        Primary => "primary", "Primary school";
        LowerSecondary => "lower_secondary", "Lower secondary school";
        UpperSecondary => "upper_secondary", "Upper secondary school";
    }
}

code_enum! {
    /// Why a child left the plan (a closed list: the annual report counts by it).
    pub enum LeaveReason {
        field: "reason",
        unknown: "Choose why the child left: fear after an arrest, moved, reached safety, returned, lost contact or other.",
        FearAfterArrest => "fear_after_arrest", "Fear after an arrest";
        Moved => "moved", "Moved away";
        ReachedSafety => "reached_safety", "Reached safety";
        Returned => "returned", "Returned";
        LostContact => "lost_contact", "Lost contact";
        Other => "other", "Other";
    }
}

/// A sponsor's reference such as `SP-0142`: 2 to 24 capital letters, digits
/// and hyphens with at least one digit, so a name cannot be typed in its place.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct SponsorCode(String);

impl SponsorCode {
    pub fn parse(input: &str) -> Result<Self, FieldError> {
        let code = input.trim().to_ascii_uppercase();
        let shaped = (2..=24).contains(&code.len())
            && code.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'-')
            && code.bytes().any(|b| b.is_ascii_digit());
        if shaped {
            Ok(Self(code))
        } else {
            Err(FieldError::new(
                "sponsor",
                "A sponsor reference looks like SP-0142: 2 to 24 letters, digits and hyphens, with a digit. Never a sponsor's name.",
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

string_conversions!(SponsorCode);

/// What a sponsorship milestone says beyond its kind and date (its month).
/// An enrolment is named by the id of its "joined" milestone: a child who
/// rejoins later has a new enrolment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "step", rename_all = "snake_case")]
pub enum SponsorshipStep {
    /// A child of the case (age band under 18) joins the plan.
    Joined {
        child: Alias,
        level: SchoolLevel,
        sponsor: SponsorCode,
    },
    Left {
        enrolment: MilestoneId,
        reason: LeaveReason,
    },
    Graduated {
        enrolment: MilestoneId,
    },
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::cases::model::test_support::{check_codes, message};

    #[test]
    fn codes_round_trip() {
        check_codes(&SchoolLevel::ALL, SchoolLevel::parse, |v| v.as_str());
        check_codes(&LeaveReason::ALL, LeaveReason::parse, |v| v.as_str());
    }

    #[test]
    fn a_sponsor_reference_is_a_code_not_a_name() {
        assert_eq!(SponsorCode::parse(" sp-0142 ").unwrap().as_str(), "SP-0142");
        assert!(message(SponsorCode::parse("Tanaka Hiroshi")).contains("Never a sponsor's name"));
        assert!(SponsorCode::parse("TANAKA").is_err());
        assert!(SponsorCode::parse("1").is_err());
        assert!(SponsorCode::parse(&"A1".repeat(13)).is_err());
    }
}
