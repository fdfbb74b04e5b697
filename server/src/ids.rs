//! Opaque random identifiers. Random (UUID v4), never sequential, so an id
//! says nothing about when or in what order a record was made.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

macro_rules! opaque_id {
    ($name:ident, $what:literal) => {
        #[doc = concat!("The opaque id of a ", $what, ".")]
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(Uuid);

        impl $name {
            pub fn random() -> Self {
                Self(Uuid::new_v4())
            }

            /// Parse an id from a path or a form; any malformed input is `None`.
            pub fn parse(text: &str) -> Option<Self> {
                Uuid::try_parse(text.trim()).ok().map(Self)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.hyphenated().fmt(f)
            }
        }

        impl FromStr for $name {
            type Err = ();
            fn from_str(s: &str) -> Result<Self, ()> {
                Self::parse(s).ok_or(())
            }
        }
    };
}

opaque_id!(UserId, "user");
opaque_id!(CaseId, "case");
opaque_id!(MilestoneId, "milestone");
opaque_id!(ShelterId, "shelter");
opaque_id!(AidEntryId, "aid entry");
opaque_id!(AidKindId, "kind of aid a coordinator added");
opaque_id!(ReportId, "approved annual report");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_random_and_round_trip() {
        let a = CaseId::random();
        assert_ne!(a, CaseId::random());
        assert_eq!(CaseId::parse(&a.to_string()), Some(a));
        assert_eq!(CaseId::parse("1"), None);
        assert_eq!(CaseId::parse("../etc/passwd"), None);
    }
}
