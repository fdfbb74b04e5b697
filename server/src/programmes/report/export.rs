//! How a report is written out: its lines in words for the pages, and the
//! Markdown (a newsletter section), CSV (formula-safe) and JSON exports. A
//! hidden count is written as words, never as a number.

use serde_json::json;

use super::model::{ApprovedReport, ChildCell, Report};
use crate::figures::export::{row_code, row_label, shown_text};
use crate::figures::model::{Measure, Row, Shown};
use crate::publication::export::{csv_line, markdown_text};
use crate::publication::period::period_name;
use crate::web::messages::Messages;

/// Food in tonnes with one decimal. An amount that would round to 0.0 is
/// "less than 0.1", so some food never reads as none.
pub fn tonnes(t: &Messages, kg: u64) -> String {
    if kg == 0 {
        return "0.0".to_owned();
    }
    if kg < 50 {
        return t.report_less_than_tenth.to_owned();
    }
    let tenths = kg.saturating_add(50) / 100;
    format!("{}.{}", tenths / 10, tenths % 10)
}

/// A child count's words.
pub fn child_label(t: &Messages, cell: ChildCell) -> String {
    match cell {
        ChildCell::Start => t.report_child_start.to_owned(),
        ChildCell::Joined => t.report_child_joined.to_owned(),
        ChildCell::Left(reason) => {
            let i = crate::cases::model::LeaveReason::ALL.iter().position(|r| *r == reason);
            let words = i.and_then(|i| t.report_leave_reasons.get(i)).copied().unwrap_or("");
            t.report_child_left.replace("{reason}", words)
        }
        ChildCell::LeftTotal => t.report_child_left_total.to_owned(),
        ChildCell::Graduated => t.report_child_graduated.to_owned(),
        ChildCell::End => t.report_child_end.to_owned(),
    }
}

/// One line of a section as the pages and exports write it.
pub struct Line {
    pub label: String,
    pub text: String,
    pub unit: String,
    pub hidden: bool,
    /// A total line (shown in bold).
    pub total: bool,
}

impl Line {
    fn of(t: &Messages, label: String, shown: Shown, unit: &str) -> Line {
        Line {
            label,
            text: shown_text(t, shown),
            unit: unit.to_owned(),
            hidden: shown.is_hidden(),
            total: false,
        }
    }

    fn goods(label: &str, amount: String, unit: &str) -> Line {
        Line { label: label.to_owned(), text: amount, unit: unit.to_owned(), hidden: false, total: false }
    }
}

/// A report as the pages show it, with, for the coordinator's preview, the
/// list of hidden figures and why each is hidden.
pub struct ReportView {
    pub caption: String,
    pub helped: Line,
    pub resettled: Vec<Line>,
    pub children: Vec<Line>,
    pub shelters: String,
    pub aid: Vec<Line>,
    /// Whether any figure is "not shown" (the footnote says why).
    pub secondary: bool,
    /// "Joined: fewer than 10", one a hidden figure.
    pub hidden: Vec<String>,
}

fn resettlement(report: &Report, row: Row) -> Shown {
    report.figures.cell(row, Measure::Resettlements).map_or(Shown::FewerThanTen, |c| c.shown)
}

fn helped(report: &Report) -> Shown {
    report.figures.cell(Row::Total, Measure::HelpedToSafety).map_or(Shown::FewerThanTen, |c| c.shown)
}

fn aid_lines(t: &Messages, report: &Report) -> Vec<Line> {
    let aid = &report.aid;
    let mut out = vec![
        Line::goods(t.report_food, tonnes(t, aid.food_kg), t.report_tonnes),
        Line::of(t, t.report_food_per_day.to_owned(), aid.food_people_per_day, t.report_people),
        Line::of(t, t.report_food_per_month.to_owned(), aid.food_people_per_month, t.report_people),
        Line::goods(t.report_clothes, aid.clothes.to_string(), t.report_sets),
        Line::goods(t.report_kits, aid.first_aid_kits.to_string(), t.report_kits_unit),
        Line::goods(t.report_visits, aid.medical_visits.to_string(), t.report_visits_unit),
    ];
    for cash in &aid.cash {
        out.push(Line::goods(t.report_cash, cash.amount.to_string(), cash.currency.as_str()));
    }
    for added in &aid.added {
        out.push(Line::goods(&added.name, added.quantity.to_string(), &added.unit));
    }
    out
}

impl ReportView {
    pub fn of(t: &Messages, report: &Report) -> ReportView {
        let figures = &report.figures;
        let resettled: Vec<Line> = figures
            .rows
            .iter()
            .map(|row| Line {
                total: *row == Row::Total,
                ..Line::of(t, row_label(t, figures, *row), resettlement(report, *row), t.report_people)
            })
            .collect();
        let children: Vec<Line> = report
            .children
            .iter()
            .map(|c| Line {
                total: c.cell == ChildCell::LeftTotal,
                ..Line::of(t, child_label(t, c.cell), c.shown, "")
            })
            .collect();
        let why = |shown: Shown, secondary: &str| match shown {
            Shown::FewerThanTen => Some(t.figures_hidden_small.to_owned()),
            Shown::Hidden => Some(secondary.to_owned()),
            Shown::Count(_) => None,
        };
        let line = |figure: &str, why: String| {
            t.report_hidden_line.replace("{figure}", figure).replace("{why}", &why)
        };
        let mut hidden = Vec::new();
        if let Some(w) = why(helped(report), t.figures_hidden_secondary) {
            hidden.push(line(t.figures_helped, w));
        }
        for row in &figures.rows {
            if let Some(w) = why(resettlement(report, *row), t.figures_hidden_secondary) {
                hidden.push(line(
                    &t.report_resettled_in.replace("{destination}", &row_label(t, figures, *row)),
                    w,
                ));
            }
        }
        for c in &report.children {
            if let Some(w) = why(c.shown, t.report_hidden_secondary) {
                hidden.push(line(&child_label(t, c.cell), w));
            }
        }
        let aid = aid_lines(t, report);
        for (label, shown) in [
            (t.report_food_per_day, report.aid.food_people_per_day),
            (t.report_food_per_month, report.aid.food_people_per_month),
        ] {
            if let Some(w) = why(shown, "") {
                hidden.push(line(label, w));
            }
        }
        let secondary = helped(report) == Shown::Hidden
            || resettled.iter().chain(&children).any(|l| l.hidden && l.text == t.figures_not_shown);
        ReportView {
            caption: t.report_for.replace("{period}", &period_name(t, report.period)),
            helped: Line::of(t, t.figures_helped.to_owned(), helped(report), t.report_people),
            resettled,
            children,
            shelters: report.aid.shelters.to_string(),
            aid,
            secondary,
            hidden,
        }
    }
}

/// A newsletter section: a heading, then each part of the report with its
/// table and notes. Every word is escaped so nothing becomes markup.
pub fn markdown(t: &Messages, approved: &ApprovedReport) -> String {
    let view = ReportView::of(t, &approved.report);
    let md = |s: &str| markdown_text(s);
    let bold = |l: &Line| if l.total { format!("**{}**", md(&l.label)) } else { md(&l.label) };
    let mut out = format!("## {}\n\n", md(&view.caption));
    out.push_str(&format!("### {}\n\n", md(t.report_section_rescue)));
    out.push_str(&format!("{}: {}\n\n", md(t.figures_helped), md(&view.helped.text)));
    out.push_str(&format!("| {} | {} |\n|---|---:|\n", md(t.figures_destination), md(t.report_resettled)));
    for l in &view.resettled {
        out.push_str(&format!("| {} | {} |\n", bold(l), md(&l.text)));
    }
    out.push_str(&format!("\n{}\n\n", md(t.figures_helped_note)));
    out.push_str(&format!("### {}\n\n", md(t.report_section_children)));
    out.push_str(&format!("| {} | {} |\n|---|---:|\n", md(t.report_child_figure), md(t.report_children)));
    for l in &view.children {
        out.push_str(&format!("| {} | {} |\n", bold(l), md(&l.text)));
    }
    out.push_str(&format!("\n### {}\n\n", md(t.report_section_aid)));
    out.push_str(&format!("{}: {}\n\n", md(t.report_shelters), md(&view.shelters)));
    out.push_str(&format!(
        "| {} | {} | {} |\n|---|---:|---|\n",
        md(t.report_aid),
        md(t.report_amount),
        md(t.report_unit)
    ));
    for l in &view.aid {
        out.push_str(&format!("| {} | {} | {} |\n", md(&l.label), md(&l.text), md(&l.unit)));
    }
    out.push_str(&format!(
        "\n{}\n\n{}\n\n{}\n",
        md(t.report_shelters_note),
        md(t.report_averages_note),
        md(t.report_goods_note)
    ));
    if view.secondary {
        out.push_str(&format!("\n{}\n", md(t.report_footnote)));
    }
    out
}

/// One line a figure: period, section, figure, value (or words), unit.
pub fn csv(t: &Messages, approved: &ApprovedReport) -> String {
    let view = ReportView::of(t, &approved.report);
    let code = approved.period.code();
    let mut out = csv_line(&t.report_csv_header);
    let mut line = |section: &str, figure: &str, value: &str, unit: &str| {
        out.push_str(&csv_line(&[code.as_str(), section, figure, value, unit]));
    };
    let rescue = t.report_section_rescue;
    line(rescue, t.figures_helped, &view.helped.text, t.report_people);
    for l in &view.resettled {
        line(rescue, &t.report_resettled_in.replace("{destination}", &l.label), &l.text, t.report_people);
    }
    for l in &view.children {
        line(t.report_section_children, &l.label, &l.text, t.report_children_unit);
    }
    line(t.report_section_aid, t.report_shelters, &view.shelters, "");
    for l in &view.aid {
        line(t.report_section_aid, &l.label, &l.text, &l.unit);
    }
    out
}

fn json_shown(t: &Messages, shown: Shown) -> serde_json::Value {
    json!({ "value": shown.value(), "text": shown_text(t, shown) })
}

/// A labelled count: its own fields, then its value and words.
fn json_labelled(t: &Messages, fields: &[(&str, String)], shown: Shown) -> serde_json::Value {
    let mut map = serde_json::Map::new();
    for (k, v) in fields {
        map.insert((*k).to_owned(), json!(v));
    }
    map.insert("value".into(), json!(shown.value()));
    map.insert("text".into(), json!(shown_text(t, shown)));
    serde_json::Value::Object(map)
}

/// The report as data: every hidden count has a `null` value and its words.
pub fn json(t: &Messages, approved: &ApprovedReport) -> String {
    let report = &approved.report;
    let figures = &report.figures;
    let resettled: Vec<serde_json::Value> = figures
        .rows
        .iter()
        .map(|row| {
            let fields = [("destination", row_label(t, figures, *row)), ("code", row_code(*row))];
            json_labelled(t, &fields, resettlement(report, *row))
        })
        .collect();
    let children: Vec<serde_json::Value> = report
        .children
        .iter()
        .map(|c| json_labelled(t, &[("figure", c.cell.code()), ("label", child_label(t, c.cell))], c.shown))
        .collect();
    let aid = &report.aid;
    let cash: Vec<serde_json::Value> =
        aid.cash.iter().map(|c| json!({ "currency": c.currency.as_str(), "amount": c.amount })).collect();
    let added: Vec<serde_json::Value> =
        aid.added.iter().map(|a| json!({ "name": a.name, "unit": a.unit, "quantity": a.quantity })).collect();
    let approved_at = crate::web::when::rfc3339_utc(approved.approved_at);
    let doc = json!({
        "id": approved.id.to_string(),
        "period": approved.period.code(),
        "period_name": period_name(t, approved.period),
        "approved_at": approved_at,
        "figures_table": approved.figures_table.to_string(),
        "helped_to_safety": json_shown(t, helped(report)),
        "resettled": resettled,
        "children": children,
        "aid": {
            "shelters": aid.shelters,
            "food": { "kg": aid.food_kg, "tonnes": tonnes(t, aid.food_kg) },
            "food_people_per_day": json_shown(t, aid.food_people_per_day),
            "food_people_per_month": json_shown(t, aid.food_people_per_month),
            "clothes_sets": aid.clothes,
            "first_aid_kits": aid.first_aid_kits,
            "medical_visits": aid.medical_visits,
            "cash_for_food": cash,
            "added": added,
        },
    });
    let mut text = serde_json::to_string_pretty(&doc).unwrap_or_default();
    text.push('\n');
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::figures::model::{Cell, Table, TableId};
    use crate::ids::{AidKindId, ReportId};
    use crate::programmes::aid::model::Currency;
    use crate::programmes::report::model::{AddedLine, AidTotals, CashLine, ChildCount};
    use crate::publication::export::test_support::{number_cells, values_only};
    use crate::publication::period::Period;
    use crate::web::messages::EN;

    fn sample() -> ApprovedReport {
        let period = Period::FiscalYear { year: 2025, start_month: 9 };
        let kr = Row::Country(crate::cases::model::CountryCode::parse("KR").unwrap());
        let cell = |row, measure, shown| Cell { row, measure, over: vec![], shown };
        let children = ChildCell::all()
            .into_iter()
            .map(|cell| ChildCount {
                cell,
                shown: match cell {
                    ChildCell::Start => Shown::Count(32),
                    ChildCell::End => Shown::Count(20),
                    ChildCell::LeftTotal => Shown::Hidden,
                    _ => Shown::FewerThanTen,
                },
            })
            .collect();
        ApprovedReport {
            id: ReportId::random(),
            period,
            approved_at: time::macros::datetime!(2026-09-02 10:00 UTC),
            figures_table: TableId::random(),
            report: Report {
                period,
                figures: Table {
                    period,
                    rows: vec![kr, Row::Other, Row::Total],
                    cells: vec![
                        cell(Row::Total, Measure::HelpedToSafety, Shown::Count(41)),
                        cell(kr, Measure::Resettlements, Shown::Count(17)),
                        cell(Row::Other, Measure::Resettlements, Shown::FewerThanTen),
                        cell(Row::Total, Measure::Resettlements, Shown::Count(21)),
                    ],
                },
                children,
                aid: AidTotals {
                    shelters: 3,
                    food_kg: 30_040,
                    food_people_per_day: Shown::Count(20),
                    food_people_per_month: Shown::Count(600),
                    clothes: 500,
                    first_aid_kits: 80,
                    medical_visits: 1,
                    cash: vec![CashLine { currency: Currency::parse("JPY").unwrap(), amount: 120_000 }],
                    added: vec![AddedLine {
                        id: AidKindId::random(),
                        name: "=Blankets".into(),
                        unit: "pieces".into(),
                        quantity: 40,
                    }],
                },
            },
        }
    }

    #[test]
    fn tonnes_keep_one_decimal_and_never_round_food_to_none() {
        assert_eq!(tonnes(&EN, 0), "0.0");
        assert_eq!(tonnes(&EN, 1), "less than 0.1");
        assert_eq!(tonnes(&EN, 49), "less than 0.1");
        assert_eq!(tonnes(&EN, 50), "0.1");
        assert_eq!(tonnes(&EN, 30_040), "30.0");
        assert_eq!(tonnes(&EN, 30_050), "30.1");
        assert_eq!(tonnes(&EN, 10_000_000), "10000.0");
    }

    #[test]
    fn exports_write_hidden_counts_as_words_only() {
        let a = sample();
        let md = markdown(&EN, &a);
        assert!(
            md.starts_with("## Annual report for the fiscal year from September 2025 to August 2026\n"),
            "{md}"
        );
        assert!(md.contains("People helped to safety: 41\n"), "{md}");
        assert!(md.contains("| South Korea | 17 |"), "{md}");
        assert!(md.contains("| **All destinations** | 21 |"), "{md}");
        assert!(md.contains("| At the start of the year | 32 |"), "{md}");
        assert!(md.contains("| Left: fear after an arrest | fewer than 10 |"), "{md}");
        assert!(md.contains("| **Left in all** | not shown |"), "{md}");
        assert!(md.contains("| Food | 30.0 | tonnes |"), "{md}");
        assert!(md.contains("| =Blankets | 40 | pieces |"), "{md}");
        assert!(md.contains("Not shown"), "{md}");
        let csv = csv(&EN, &a);
        assert!(csv.starts_with("Period,Section,Figure,Value,Unit\r\n"), "{csv}");
        assert!(
            csv.contains("FY2025-09,Rescue and resettlement,People helped to safety,41,people\r\n"),
            "{csv}"
        );
        assert!(
            csv.contains("FY2025-09,Rescue and resettlement,People resettled: South Korea,17,people\r\n")
        );
        assert!(csv.contains("FY2025-09,Education sponsorship,Joined,fewer than 10,children\r\n"), "{csv}");
        assert!(csv.contains("FY2025-09,Aid at the shelters,Cash for food,120000,JPY\r\n"), "{csv}");
        assert!(
            csv.contains("FY2025-09,Aid at the shelters,'=Blankets,40,pieces\r\n"),
            "a kind's name is formula-safe"
        );
        let doc: serde_json::Value = serde_json::from_str(&json(&EN, &a)).unwrap();
        assert_eq!(doc["helped_to_safety"]["value"], 41);
        assert_eq!(doc["resettled"][0]["code"], "KR");
        assert!(doc["resettled"][1]["value"].is_null());
        assert_eq!(doc["children"][0]["figure"], "start");
        assert_eq!(doc["children"][0]["value"], 32);
        assert!(doc["children"][1]["value"].is_null());
        assert_eq!(doc["children"][1]["text"], "fewer than 10");
        assert_eq!(doc["aid"]["food"]["kg"], 30_040);
        assert_eq!(doc["aid"]["cash_for_food"][0]["currency"], "JPY");
        assert_eq!(doc["aid"]["added"][0]["quantity"], 40);
    }

    #[test]
    fn the_preview_names_every_hidden_figure_and_why() {
        let view = ReportView::of(&EN, &sample().report);
        assert!(
            view.hidden.contains(&"People resettled: Other destinations: fewer than 10".to_owned()),
            "{:?}",
            view.hidden
        );
        assert!(view.hidden.contains(&"Joined: fewer than 10".to_owned()));
        assert!(
            view.hidden.iter().any(|h| h.starts_with("Left in all: hidden so that")),
            "{:?}",
            view.hidden
        );
        assert!(!view.hidden.iter().any(|h| h.starts_with("At the start")));
        assert!(view.secondary);
    }

    #[test]
    fn a_japanese_export_carries_the_same_values_as_the_english_one() {
        // Only what does not depend on the translated words: the same
        // numbers, the same hidden cells, the same codes.
        let ja = Messages::of(crate::i18n::Lang::Ja);
        let a = sample();
        let (en_doc, ja_doc): (serde_json::Value, serde_json::Value) =
            (serde_json::from_str(&json(&EN, &a)).unwrap(), serde_json::from_str(&json(ja, &a)).unwrap());
        assert_eq!(values_only(&ja_doc), values_only(&en_doc));
        assert_eq!(number_cells(&markdown(ja, &a)), number_cells(&markdown(&EN, &a)));
        assert!(!number_cells(&markdown(ja, &a)).is_empty());
        assert_eq!(csv(ja, &a).matches("\r\n").count(), csv(&EN, &a).matches("\r\n").count());
    }
}
