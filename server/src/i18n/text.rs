//! Text typed in any script (Hangul, kana, kanji, Latin): how it is
//! compared and how long it is.

use unicode_normalization::UnicodeNormalization;

/// The form a search compares: compatibility-normalised (NFKC: full-width
/// "Ａ" is "A", half-width "ｶ" is "カ", "㈱" is "(株)") and lower-cased, so
/// an alias is found however the keyboard typed it.
pub fn folded(text: &str) -> String {
    text.nfkc().flat_map(char::to_lowercase).collect()
}

/// Length as a reader counts it: characters, not bytes (a Hangul syllable
/// is three bytes of UTF-8 and one character).
pub fn char_len(text: &str) -> usize {
    text.chars().count()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn width_and_case_fold_away_and_scripts_stay_apart() {
        assert_eq!(folded("ＲＩＶＥＲ"), "river");
        assert_eq!(folded("River"), folded("rIVER"));
        assert_eq!(folded("ｶﾜ"), "カワ");
        assert_eq!(folded("한강"), "한강");
        assert_ne!(folded("かわ"), folded("カワ"));
        assert_eq!(char_len("한강"), 2);
        assert_eq!(char_len("川"), 1);
    }
}
