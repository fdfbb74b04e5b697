//! Writing exports that stay what they look like in the program that opens
//! them: CSV cells a spreadsheet will not run as formulas, Markdown text
//! that cannot turn into a link or an image; and the file a download sends.

use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use crate::i18n::{self, Lang};

/// The formats published figures and reports are exported in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Markdown,
    Csv,
    Json,
}

impl Format {
    fn extension_and_type(self) -> (&'static str, &'static str) {
        match self {
            Format::Markdown => ("md", "text/markdown; charset=utf-8"),
            Format::Csv => ("csv", "text/csv; charset=utf-8"),
            Format::Json => ("json", "application/json"),
        }
    }
}

/// `?lang=en|ja|ko` on an export: the language its words are written in.
#[derive(Debug, Default, Deserialize)]
pub struct LangQuery {
    #[serde(default)]
    lang: Option<String>,
}

impl LangQuery {
    /// The language asked for; without one, the page's. Anything else is
    /// `None`: refused, so a file is never in a language nobody asked for.
    pub fn chosen(&self) -> Option<Lang> {
        match &self.lang {
            None => Some(i18n::current()),
            Some(code) => Lang::from_code(code),
        }
    }
}

/// An export's response, marked with the language it is written in.
pub fn in_language(mut response: Response, lang: Lang) -> Response {
    response.headers_mut().insert(header::CONTENT_LANGUAGE, header::HeaderValue::from_static(lang.code()));
    response
}

/// One language an export is offered in: its code and its own name.
pub struct LangLink {
    pub code: &'static str,
    pub name: &'static str,
}

/// The three languages, as the pages that offer exports link them.
pub fn lang_links() -> Vec<LangLink> {
    Lang::ALL.into_iter().map(|l| LangLink { code: l.code(), name: l.native_name() }).collect()
}

/// A file to download: its name, its type and its bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Download {
    pub filename: String,
    pub content_type: &'static str,
    pub body: String,
}

impl Download {
    /// `{stem}.md`, `.csv` or `.json`, with the type of `format`.
    pub fn new(stem: &str, format: Format, body: String) -> Download {
        let (extension, content_type) = format.extension_and_type();
        Download { filename: format!("{stem}.{extension}"), content_type, body }
    }
}

impl IntoResponse for Download {
    fn into_response(self) -> Response {
        let disposition = format!("attachment; filename=\"{}\"", self.filename);
        (
            [
                (header::CONTENT_TYPE, self.content_type.to_owned()),
                (header::CONTENT_DISPOSITION, disposition),
            ],
            self.body,
        )
            .into_response()
    }
}

/// A CSV cell that a spreadsheet will not run as a formula: a cell starting
/// with `=`, `+`, `-`, `@`, a tab or a carriage return gets a leading `'`.
pub fn csv_cell(value: &str) -> String {
    let guarded = if value.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{value}")
    } else {
        value.to_owned()
    };
    if guarded.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", guarded.replace('"', "\"\""))
    } else {
        guarded
    }
}

/// One CSV line of cells, each made safe.
pub fn csv_line<S: AsRef<str>>(cells: &[S]) -> String {
    let mut line = cells.iter().map(|c| csv_cell(c.as_ref())).collect::<Vec<_>>().join(",");
    line.push_str("\r\n");
    line
}

/// Text for a Markdown document: every character Markdown gives a meaning
/// to is escaped, so generated text is shown as written.
pub fn markdown_text(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        if matches!(
            c,
            '\\' | '`'
                | '*'
                | '_'
                | '{'
                | '}'
                | '['
                | ']'
                | '<'
                | '>'
                | '('
                | ')'
                | '#'
                | '+'
                | '-'
                | '!'
                | '|'
        ) {
            out.push('\\');
        }
        if c.is_control() {
            out.push(' ');
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_cells_are_formula_safe_and_quoted() {
        assert_eq!(csv_cell("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
        assert_eq!(csv_cell("+1"), "'+1");
        assert_eq!(csv_cell("-1"), "'-1");
        assert_eq!(csv_cell("@SUM"), "'@SUM");
        assert_eq!(csv_cell("\tx"), "'\tx");
        assert_eq!(csv_cell("\rx"), "\"'\rx\"");
        assert_eq!(csv_cell("a,b"), "\"a,b\"");
        assert_eq!(csv_cell("case.read"), "case.read");
        assert_eq!(csv_line(&["a", "=b"]), "a,'=b\r\n");
    }

    #[test]
    fn an_export_language_is_one_of_the_three_or_refused() {
        let q = |lang: Option<&str>| LangQuery { lang: lang.map(str::to_owned) };
        assert_eq!(q(None).chosen(), Some(Lang::En));
        assert_eq!(q(Some("ja")).chosen(), Some(Lang::Ja));
        assert_eq!(q(Some("ko")).chosen(), Some(Lang::Ko));
        for bad in ["", "xx", "JA", "ja-JP", "en "] {
            assert_eq!(q(Some(bad)).chosen(), None, "{bad:?}");
        }
    }

    #[test]
    fn markdown_text_cannot_become_markup() {
        assert_eq!(markdown_text("[x](http://e)"), "\\[x\\]\\(http://e\\)");
        assert_eq!(markdown_text("# a\nb"), "\\# a b");
        assert_eq!(markdown_text("plain words."), "plain words.");
    }
}

/// What the figures' and the report's export tests share: the parts of an
/// export that do not depend on the catalogue's words.
#[cfg(test)]
pub(crate) mod test_support {
    /// A JSON document with every text blanked: what it says whatever the
    /// catalogue's words are.
    pub(crate) fn values_only(v: &serde_json::Value) -> serde_json::Value {
        match v {
            serde_json::Value::String(_) => serde_json::Value::String(String::new()),
            serde_json::Value::Array(items) => items.iter().map(values_only).collect(),
            serde_json::Value::Object(map) => {
                map.iter().map(|(k, v)| (k.clone(), values_only(v))).collect::<serde_json::Map<_, _>>().into()
            }
            other => other.clone(),
        }
    }

    /// The table cells of a Markdown export that are numbers alone.
    pub(crate) fn number_cells(md: &str) -> Vec<String> {
        md.lines()
            .filter(|l| l.starts_with('|'))
            .flat_map(|l| l.split('|').map(str::trim).map(str::to_owned).collect::<Vec<_>>())
            .filter(|c| !c.is_empty() && c.chars().all(|ch| ch.is_ascii_digit() || ch == '.'))
            .collect()
    }
}
