//! Which language a request reads before anyone has logged in: the `lang`
//! cookie the login page's language links set, else the browser's
//! `Accept-Language`, else the organisation's default (`language` in the
//! configuration).

use axum::http::{HeaderMap, header};

use super::Lang;

/// The cookie the language links before login set. It says only which of
/// three languages the browser reads, and is no credential.
pub const COOKIE: &str = "safehouse-lang";

/// The first of the browser's languages, by its q weights (RFC 9110
/// 12.5.4; a weight of 0 means "not this one"), that Safehouse speaks.
/// Read here rather than by fluent-langneg, whose parser drops the weights.
pub fn from_accept_language(header: &str) -> Option<Lang> {
    let mut tags: Vec<(u16, Lang)> = header
        .split(',')
        .filter_map(|item| {
            let mut parts = item.split(';');
            let lang = Lang::parse(parts.next()?)?;
            let weight = parts
                .filter_map(|p| p.trim().strip_prefix("q="))
                .map(|q| q.trim().parse::<f32>().map_or(0, |q| (q.clamp(0.0, 1.0) * 1000.0) as u16))
                .next()
                .unwrap_or(1000);
            (weight > 0).then_some((weight, lang))
        })
        .collect();
    // Stable: among equal weights, the browser's order stands.
    tags.sort_by_key(|t| std::cmp::Reverse(t.0));
    tags.first().map(|(_, lang)| *lang)
}

pub fn from_cookie(headers: &HeaderMap) -> Option<Lang> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE)
        .and_then(|(_, value)| Lang::parse(value))
}

/// The language before the session is checked.
pub fn for_request(headers: &HeaderMap, default: Lang) -> Lang {
    from_cookie(headers)
        .or_else(|| {
            headers.get(header::ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok()).and_then(from_accept_language)
        })
        .unwrap_or(default)
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn the_browser_s_first_language_we_speak_wins_by_weight() {
        assert_eq!(from_accept_language("ko-KR,ko;q=0.9,en-US;q=0.8"), Some(Lang::Ko));
        assert_eq!(from_accept_language("fr-FR, ja;q=0.7, en;q=0.5"), Some(Lang::Ja));
        assert_eq!(from_accept_language("en;q=0.2, ja;q=0.9"), Some(Lang::Ja));
        assert_eq!(from_accept_language("fr, de"), None);
        assert_eq!(from_accept_language(""), None);
        assert_eq!(from_accept_language("*"), None);
        assert_eq!(from_accept_language("ja;q=0, ko;q=0.1"), Some(Lang::Ko));
        assert_eq!(from_accept_language("ja;q=abc"), None);
    }

    #[test]
    fn the_cookie_comes_before_the_header_and_the_default_last() {
        let mut h = HeaderMap::new();
        assert_eq!(for_request(&h, Lang::Ja), Lang::Ja);
        h.insert(header::ACCEPT_LANGUAGE, HeaderValue::from_static("ko"));
        assert_eq!(for_request(&h, Lang::Ja), Lang::Ko);
        h.insert(header::COOKIE, HeaderValue::from_static("id=abc; safehouse-lang=en"));
        assert_eq!(for_request(&h, Lang::Ja), Lang::En);
        h.insert(header::COOKIE, HeaderValue::from_static("safehouse-lang=xx"));
        assert_eq!(for_request(&h, Lang::Ja), Lang::Ko);
    }
}
