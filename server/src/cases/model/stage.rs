//! Where a case stands: its stage in the pipeline, its status, and why it closed.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::FieldError;

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

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]
mod tests {
    use super::*;
    use crate::cases::model::test_support::{check_codes, message};
    use proptest::prelude::*;

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

    proptest! {
        #[test]
        fn stage_outcome_and_status_never_panic_and_accept_only_their_codes(s in any::<String>()) {
            if let Ok(v) = Stage::parse(&s) {
                prop_assert_eq!(Stage::parse(v.as_str()).unwrap(), v);
            }
            if let Ok(v) = Outcome::parse(&s) {
                prop_assert_eq!(Outcome::parse(v.as_str()).unwrap(), v);
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
    }
}
