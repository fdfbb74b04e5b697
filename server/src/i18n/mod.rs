//! Languages: the three a page can be read in, which one a request reads,
//! and the catalogues (`locales/*.ftl`, Fluent) every text comes from.
//!
//! A request's language is decided once, by the outer middleware (the
//! `lang` cookie or `Accept-Language` before login), and then by the
//! session check (the user's own sealed choice). It is kept task-local for
//! that request, so a template, a form check and an error page all read
//! the same one without each handler passing it on: `current()`.

pub mod catalogue;
pub mod negotiate;
pub mod text;

use std::cell::Cell;

use serde::{Deserialize, Serialize};

use crate::web::messages::Messages;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    #[default]
    En,
    Ja,
    Ko,
}

impl Lang {
    pub const ALL: [Lang; 3] = [Lang::En, Lang::Ja, Lang::Ko];

    /// The BCP 47 tag, as the `lang` attribute and the configuration say it.
    pub fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Ja => "ja",
            Lang::Ko => "ko",
        }
    }

    /// Exactly "en", "ja" or "ko", as a setting, a form or a link says it
    /// (a longer tag there is a mistake, not a wish).
    pub fn from_code(code: &str) -> Option<Lang> {
        Lang::ALL.into_iter().find(|l| l.code() == code)
    }

    /// "en", "ja" or "ko"; also a longer tag of one of them ("ja-JP"), as
    /// browsers send them.
    pub fn parse(text: &str) -> Option<Lang> {
        let primary = text.trim().split(['-', '_']).next().unwrap_or_default();
        Lang::ALL.into_iter().find(|l| l.code().eq_ignore_ascii_case(primary))
    }

    /// The language's name in itself, as the language menus list it.
    pub fn native_name(self) -> &'static str {
        match self {
            Lang::En => "English",
            Lang::Ja => "日本語",
            Lang::Ko => "한국어",
        }
    }

    pub fn messages(self) -> &'static Messages {
        Messages::of(self)
    }
}

tokio::task_local! {
    static CURRENT: Cell<Lang>;
}

/// The language of the request this task serves; English outside one (the
/// command line, a background job).
pub fn current() -> Lang {
    CURRENT.try_with(Cell::get).unwrap_or_default()
}

/// Serve `future` in `lang`; `choose` may change it later in the request.
pub async fn scope<F: Future>(lang: Lang, future: F) -> F::Output {
    CURRENT.scope(Cell::new(lang), future).await
}

/// The session check found the user's own choice: the rest of the request
/// (the handler, an error page) is in it.
pub fn choose(lang: Lang) {
    let _ = CURRENT.try_with(|c| c.set(lang));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_parse_by_their_primary_subtag() {
        assert_eq!(Lang::parse("ja"), Some(Lang::Ja));
        assert_eq!(Lang::parse("ko-KR"), Some(Lang::Ko));
        assert_eq!(Lang::parse("EN_gb"), Some(Lang::En));
        assert_eq!(Lang::parse("fr"), None);
        assert_eq!(Lang::parse(""), None);
    }

    #[tokio::test]
    async fn a_request_keeps_its_language_and_may_change_it_once_known() {
        assert_eq!(current(), Lang::En);
        let seen = scope(Lang::Ko, async {
            let before = current();
            choose(Lang::Ja);
            (before, current())
        })
        .await;
        assert_eq!(seen, (Lang::Ko, Lang::Ja));
        assert_eq!(current(), Lang::En);
    }
}
