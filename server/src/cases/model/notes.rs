//! Free-text notes on a case, a milestone or a shelter.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::FieldError;

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
                crate::web::messages::current()
                    .tr("Notes are at most 4000 characters; these have {count}.")
                    .replace("{count}", &count.to_string()),
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

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]
mod tests {
    use super::*;
    use crate::cases::model::test_support::message;
    use proptest::prelude::*;

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

    proptest! {
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
    }
}
