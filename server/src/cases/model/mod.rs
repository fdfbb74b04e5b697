//! The case record's value types.
//!
//! Everything a caseworker types, and everything read back from storage, is
//! turned into one of these types by its parser before any other code sees
//! it ("parse, don't validate"). Once a value exists it is known to be good,
//! so the rest of the server never re-checks it.
//!
//! Records hold aliases only: never legal names or birth dates. Ages are bands,
//! places are shelter code names and countries.

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

        string_conversions!($name);
    };
    (@one $variant:ident) => { 1 };
}

mod dates;
mod group;
mod milestones;
mod notes;
mod places;
mod sponsorship;
mod stage;

pub use dates::{EventDate, Precision, last_of_month};
pub use group::{AgeBand, Alias, Gender, Group, Person};
pub use milestones::MilestoneKind;
pub use notes::Note;
pub use places::{CountryCode, ShelterCode};
pub use sponsorship::{LeaveReason, SchoolLevel, SponsorCode, SponsorshipStep};
pub use stage::{Outcome, Stage, Status};

/// Helpers the submodules' tests share.
#[cfg(test)]
#[allow(clippy::unwrap_used)]
pub(crate) mod test_support {
    use std::fmt;

    use serde::{Deserialize, Serialize};

    use super::FieldError;

    pub fn message<T: fmt::Debug>(r: Result<T, FieldError>) -> String {
        r.unwrap_err().message
    }

    pub fn check_codes<T>(all: &[T], parse: fn(&str) -> Result<T, FieldError>, code: fn(&T) -> &'static str)
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
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn field_error_displays_field_and_message() {
        let e = Alias::parse("").unwrap_err();
        assert_eq!(e.field, "alias");
        assert_eq!(e.to_string(), "alias: An alias is required.");
    }
}
