//! The kinds of dated event in a case's timeline.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::FieldError;

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
        /// The education sponsorship: a child joins, leaves or graduates.
        SponsorshipJoined => "sponsorship_joined", "Joined the education sponsorship";
        SponsorshipLeft => "sponsorship_left", "Left the education sponsorship";
        SponsorshipGraduated => "sponsorship_graduated", "Graduated from the education sponsorship";
        Other => "other", "Other";
    }
}

impl MilestoneKind {
    /// The kinds that carry a [`super::SponsorshipStep`].
    pub const fn is_sponsorship(self) -> bool {
        matches!(
            self,
            MilestoneKind::SponsorshipJoined
                | MilestoneKind::SponsorshipLeft
                | MilestoneKind::SponsorshipGraduated
        )
    }

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

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]
mod tests {
    use super::*;
    use crate::cases::model::test_support::check_codes;
    use proptest::prelude::*;

    #[test]
    fn milestone_codes_and_public_safety() {
        check_codes(&MilestoneKind::ALL, MilestoneKind::parse, |v| v.as_str());
        assert_eq!(MilestoneKind::ALL.len(), 18);
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

    proptest! {
        #[test]
        fn milestone_kind_never_panic_and_accept_only_their_codes(s in any::<String>()) {
            if let Ok(v) = MilestoneKind::parse(&s) {
                prop_assert_eq!(MilestoneKind::parse(v.as_str()).unwrap(), v);
            }
        }
    }
}
