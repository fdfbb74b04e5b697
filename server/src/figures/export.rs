//! How a table is written out: the words of its rows and cells for the
//! pages, and the Markdown (a newsletter section), CSV (formula-safe) and
//! JSON exports. A hidden cell is written as words, never as a number.

use serde_json::json;

use super::model::{Measure, Row, Shown, Table};
use super::service::ApprovedTable;
use crate::publication::export::{csv_line, markdown_text};
use crate::publication::region::Region;
use crate::web::messages::Messages;

pub use crate::publication::export::Format;

pub use crate::publication::period::{month_name, period_name};

fn region_name(t: &Messages, region: Region) -> &'static str {
    Region::ALL
        .iter()
        .position(|r| *r == region)
        .and_then(|i| t.figures_regions.get(i))
        .copied()
        .unwrap_or("")
}

/// A row's label. A region's row is "Elsewhere in ..." when some of its
/// countries have rows of their own in the same table.
pub fn row_label(t: &Messages, table: &Table, row: Row) -> String {
    match row {
        Row::Country(c) => t
            .figures_countries
            .iter()
            .find(|(code, _)| *code == c.as_str())
            .map_or_else(|| c.as_str().to_owned(), |(_, name)| (*name).to_owned()),
        Row::Region(r) => {
            let split =
                table.rows.iter().any(|other| matches!(other, Row::Country(c) if Region::of(*c) == r));
            if split {
                t.figures_region_rest.replace("{region}", region_name(t, r))
            } else {
                region_name(t, r).to_owned()
            }
        }
        Row::Other => t.figures_other.to_owned(),
        Row::Total => t.figures_total.to_owned(),
    }
}

/// A stable code for a row, for the JSON export.
pub fn row_code(row: Row) -> String {
    match row {
        Row::Country(c) => c.as_str().to_owned(),
        Row::Region(r) => r.as_str().to_owned(),
        Row::Other => "other".to_owned(),
        Row::Total => "total".to_owned(),
    }
}

pub fn measure_name(t: &Messages, measure: Measure) -> &'static str {
    match measure {
        Measure::HelpedToSafety => t.figures_helped,
        Measure::Arrivals => t.figures_arrivals,
        Measure::Resettlements => t.figures_resettlements,
    }
}

/// What a cell shows, in words or digits.
pub fn shown_text(t: &Messages, shown: Shown) -> String {
    match shown {
        Shown::Count(n) => n.to_string(),
        Shown::FewerThanTen => t.figures_fewer.to_owned(),
        Shown::Hidden => t.figures_not_shown.to_owned(),
    }
}

fn shown_of(table: &Table, row: Row, measure: Measure) -> Shown {
    table.cell(row, measure).map_or(Shown::FewerThanTen, |c| c.shown)
}

/// A cell as a page shows it.
pub struct CellView {
    pub text: String,
    pub hidden: bool,
}

impl CellView {
    fn of(t: &Messages, shown: Shown) -> CellView {
        CellView { text: shown_text(t, shown), hidden: shown.is_hidden() }
    }
}

pub struct RowView {
    pub label: String,
    pub total: bool,
    pub arrivals: CellView,
    pub resettlements: CellView,
}

/// A table as the pages show it, with, for the coordinator's preview, the
/// list of hidden cells and why each is hidden.
pub struct TableView {
    pub caption: String,
    pub helped: CellView,
    pub rows: Vec<RowView>,
    /// Whether a cell is "not shown" (the footnote says why).
    pub secondary: bool,
    /// "Japan, arrivals: fewer than 10", one a cell.
    pub hidden: Vec<String>,
}

impl TableView {
    pub fn of(t: &Messages, table: &Table) -> TableView {
        let rows = table
            .rows
            .iter()
            .map(|row| RowView {
                label: row_label(t, table, *row),
                total: *row == Row::Total,
                arrivals: CellView::of(t, shown_of(table, *row, Measure::Arrivals)),
                resettlements: CellView::of(t, shown_of(table, *row, Measure::Resettlements)),
            })
            .collect();
        let hidden = table
            .cells
            .iter()
            .filter(|c| c.shown.is_hidden())
            .map(|c| {
                let why = if c.shown == Shown::Hidden {
                    t.figures_hidden_secondary
                } else {
                    t.figures_hidden_small
                };
                format!(
                    "{}, {}: {why}",
                    row_label(t, table, c.row),
                    measure_name(t, c.measure).to_lowercase()
                )
            })
            .collect();
        TableView {
            caption: t.figures_for.replace("{period}", &period_name(t, table.period)),
            helped: CellView::of(t, shown_of(table, Row::Total, Measure::HelpedToSafety)),
            rows,
            secondary: table.cells.iter().any(|c| c.shown == Shown::Hidden),
            hidden,
        }
    }
}

/// A newsletter section: a heading, the "helped to safety" sentence, the
/// table and its footnote. Every word is escaped so nothing becomes markup.
pub fn markdown(t: &Messages, approved: &ApprovedTable) -> String {
    let table = &approved.table;
    let view = TableView::of(t, table);
    let md = |s: &str| markdown_text(s);
    let mut out = format!("## {}\n\n", md(&view.caption));
    out.push_str(&format!("{}: {}\n\n", md(t.figures_helped), md(&view.helped.text)));
    out.push_str(&format!(
        "| {} | {} | {} |\n|---|---:|---:|\n",
        md(t.figures_destination),
        md(t.figures_arrivals),
        md(t.figures_resettlements)
    ));
    for row in &view.rows {
        let label = if row.total { format!("**{}**", md(&row.label)) } else { md(&row.label) };
        out.push_str(&format!(
            "| {label} | {} | {} |\n",
            md(&row.arrivals.text),
            md(&row.resettlements.text)
        ));
    }
    out.push_str(&format!("\n{}\n", md(t.figures_helped_note)));
    if view.secondary {
        out.push_str(&format!("\n{}\n", md(t.figures_footnote)));
    }
    out
}

/// One line a cell: period, figure, destination, people (or words).
pub fn csv(t: &Messages, approved: &ApprovedTable) -> String {
    let table = &approved.table;
    let mut out = csv_line(&t.figures_csv_header);
    let code = table.period.code();
    for cell in &table.cells {
        out.push_str(&csv_line(&[
            code.as_str(),
            measure_name(t, cell.measure),
            &row_label(t, table, cell.row),
            &shown_text(t, cell.shown),
        ]));
    }
    out
}

fn json_cell(t: &Messages, shown: Shown) -> serde_json::Value {
    json!({ "value": shown.value(), "text": shown_text(t, shown) })
}

/// The table as data: every hidden cell has a `null` value and its words.
pub fn json(t: &Messages, approved: &ApprovedTable) -> String {
    let table = &approved.table;
    let rows: Vec<serde_json::Value> = table
        .rows
        .iter()
        .map(|row| {
            json!({
                "destination": row_label(t, table, *row),
                "code": row_code(*row),
                "arrivals": json_cell(t, shown_of(table, *row, Measure::Arrivals)),
                "resettlements": json_cell(t, shown_of(table, *row, Measure::Resettlements)),
            })
        })
        .collect();
    let approved_at = crate::web::when::rfc3339_utc(approved.approved_at);
    let doc = json!({
        "id": approved.id.to_string(),
        "period": table.period.code(),
        "period_name": period_name(t, table.period),
        "approved_at": approved_at,
        "helped_to_safety": json_cell(t, shown_of(table, Row::Total, Measure::HelpedToSafety)),
        "rows": rows,
    });
    let mut text = serde_json::to_string_pretty(&doc).unwrap_or_default();
    text.push('\n');
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cases::model::CountryCode;
    use crate::figures::model::{Cell, TableId};
    use crate::publication::export::test_support::{number_cells, values_only};
    use crate::publication::period::Period;
    use crate::web::messages::EN;

    fn sample(label_country: &str) -> ApprovedTable {
        let kr = Row::Country(CountryCode::parse(label_country).unwrap());
        let cell = |row, measure, shown| Cell { row, measure, over: vec![], shown };
        ApprovedTable {
            id: TableId::random(),
            period: Period::Quarter { year: 2026, quarter: 1 },
            approved_at: time::macros::datetime!(2026-04-02 10:00 UTC),
            table: Table {
                period: Period::Quarter { year: 2026, quarter: 1 },
                rows: vec![kr, Row::Region(Region::EastAsia), Row::Other, Row::Total],
                cells: vec![
                    cell(Row::Total, Measure::HelpedToSafety, Shown::Count(41)),
                    cell(kr, Measure::Arrivals, Shown::Count(17)),
                    cell(kr, Measure::Resettlements, Shown::FewerThanTen),
                    cell(Row::Region(Region::EastAsia), Measure::Arrivals, Shown::Hidden),
                    cell(Row::Region(Region::EastAsia), Measure::Resettlements, Shown::FewerThanTen),
                    cell(Row::Other, Measure::Arrivals, Shown::FewerThanTen),
                    cell(Row::Other, Measure::Resettlements, Shown::FewerThanTen),
                    cell(Row::Total, Measure::Arrivals, Shown::Count(33)),
                    cell(Row::Total, Measure::Resettlements, Shown::Count(12)),
                ],
            },
        }
    }

    #[test]
    fn periods_and_rows_have_names() {
        assert_eq!(period_name(&EN, Period::Quarter { year: 2026, quarter: 1 }), "the first quarter of 2026");
        assert_eq!(period_name(&EN, Period::Year { year: 2025 }), "2025");
        assert_eq!(
            period_name(&EN, Period::FiscalYear { year: 2025, start_month: 9 }),
            "the fiscal year from September 2025 to August 2026"
        );
        let a = sample("KR");
        assert_eq!(row_label(&EN, &a.table, Row::Region(Region::EastAsia)), "Elsewhere in East Asia");
        assert_eq!(row_label(&EN, &a.table, Row::Region(Region::Europe)), "Europe");
        for code in crate::publication::region::NAMED_COUNTRIES {
            assert!(EN.figures_countries.iter().any(|(c, _)| c == code), "{code} has a row name");
        }
    }

    #[test]
    fn exports_write_hidden_cells_as_words_only() {
        let a = sample("KR");
        let md = markdown(&EN, &a);
        assert!(md.starts_with("## Figures for the first quarter of 2026\n"));
        assert!(md.contains("| South Korea | 17 | fewer than 10 |"), "{md}");
        assert!(md.contains("| Elsewhere in East Asia | not shown | fewer than 10 |"), "{md}");
        assert!(md.contains("| **All destinations** | 33 | 12 |"), "{md}");
        assert!(md.contains("Not shown"));
        let csv = csv(&EN, &a);
        assert!(csv.starts_with("Period,Figure,Destination,People\r\n"));
        assert!(csv.contains("2026-Q1,Arrivals,South Korea,17\r\n"));
        assert!(csv.contains("2026-Q1,Resettlements,South Korea,fewer than 10\r\n"));
        let doc: serde_json::Value = serde_json::from_str(&json(&EN, &a)).unwrap();
        assert_eq!(doc["helped_to_safety"]["value"], 41);
        assert_eq!(doc["rows"][0]["arrivals"]["value"], 17);
        assert!(doc["rows"][0]["resettlements"]["value"].is_null());
        assert_eq!(doc["rows"][0]["resettlements"]["text"], "fewer than 10");
        assert!(doc["rows"][1]["arrivals"]["value"].is_null());
    }

    #[test]
    fn csv_cells_that_a_spreadsheet_would_run_are_neutralised() {
        // No label of ours starts so, but a translation might: every cell
        // goes through the formula guard.
        let t = Messages {
            figures_countries: &[("KR", "=HYPERLINK(\"http://x\")")],
            figures_total: "+total",
            figures_other: "-other",
            figures_arrivals: "@arrivals",
            figures_resettlements: "\tresettled",
            figures_helped: "\rhelped",
            ..EN.clone()
        };
        let csv = csv(&t, &sample("KR"));
        assert!(csv.contains(",\"'=HYPERLINK(\"\"http://x\"\")\","), "{csv}");
        assert!(csv.contains(",'+total,"));
        assert!(csv.contains(",'-other,"));
        assert!(csv.contains(",'@arrivals,"));
        assert!(csv.contains(",'\tresettled,"));
        assert!(csv.contains(",\"'\rhelped\","));
        for line in csv.split("\r\n").filter(|l| !l.is_empty()) {
            for cell in line.split(',') {
                let cell = cell.trim_start_matches('"');
                assert!(!cell.starts_with(['=', '+', '-', '@', '\t', '\r']), "{cell:?} in {line:?}");
            }
        }
    }

    #[test]
    fn a_japanese_export_carries_the_same_values_as_the_english_one() {
        // Only what does not depend on the translated words: the same
        // numbers, the same hidden cells, the same codes.
        let ja = Messages::of(crate::i18n::Lang::Ja);
        let a = sample("KR");
        let (en_doc, ja_doc): (serde_json::Value, serde_json::Value) =
            (serde_json::from_str(&json(&EN, &a)).unwrap(), serde_json::from_str(&json(ja, &a)).unwrap());
        assert_eq!(values_only(&ja_doc), values_only(&en_doc));
        assert_eq!(number_cells(&markdown(ja, &a)), number_cells(&markdown(&EN, &a)));
        assert!(!number_cells(&markdown(ja, &a)).is_empty());
        assert_eq!(csv(ja, &a).matches("\r\n").count(), csv(&EN, &a).matches("\r\n").count());
    }
}
