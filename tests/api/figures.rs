//! Public figures (issue 12): every published figure equals a count made
//! here from the generated cases (quarters, a year and a fiscal year from
//! September that crosses a calendar year); small cells are "fewer than 10"
//! and absent from the exports' values; a total minus the shown rows, and a
//! year minus its approved quarters, would give a hidden cell away, so more
//! is hidden, and so is a year's row for a country folded into "other
//! destinations" in one of its approved quarters; unfinished and already approved periods are refused; only
//! communications staff and coordinators-team members reach the figures,
//! only the latter prepare and approve them; exports are audited by the
//! table's id, never a case's.

use std::collections::BTreeMap;

use safehouse::accounts::model::Role;
use safehouse::cases::model::{CountryCode, MilestoneKind, Outcome, Status};
use safehouse::cases::service as cases;
use safehouse::ids::CaseId;
use safehouse::publication::PublicationPolicy;
use safehouse::publication::region::{Region, is_named};
use time::macros::datetime;
use time::{Date, Duration};

use crate::helpers::*;

/// A generated case as the test knows it: its people and, as spans of
/// days, when it was first safe and when it first arrived (and where), and
/// the day it was closed as resettled (and where).
struct Made {
    id: CaseId,
    people: u64,
    helped: Option<(Date, Date)>,
    arrived: Option<((Date, Date), Option<&'static str>)>,
    resettled: Option<(Date, Option<&'static str>)>,
}

/// The days a stored date stands for: a day, a whole month or a whole year.
fn span(text: &str) -> (Date, Date) {
    let parts: Vec<&str> = text.split('-').collect();
    let year: i32 = parts[0].parse().unwrap();
    let month = |m: &str| time::Month::try_from(m.parse::<u8>().unwrap()).unwrap();
    match parts.len() {
        1 => (
            Date::from_calendar_date(year, time::Month::January, 1).unwrap(),
            Date::from_calendar_date(year, time::Month::December, 31).unwrap(),
        ),
        2 => {
            let first = Date::from_calendar_date(year, month(parts[1]), 1).unwrap();
            let next = first.replace_day(28).unwrap() + Duration::days(4);
            (first, next.replace_day(1).unwrap() - Duration::days(1))
        }
        _ => {
            let d = Date::from_calendar_date(year, month(parts[1]), parts[2].parse().unwrap()).unwrap();
            (d, d)
        }
    }
}

/// Create a case of `people` with these milestones (kind, date as stored,
/// country) through the case service, and close it with `outcome` now.
async fn make(
    t: &TestApp,
    n: usize,
    people: usize,
    milestones: &[(MilestoneKind, String, Option<&'static str>)],
    outcome: Option<Outcome>,
) -> Made {
    let vault = &t.app.vault;
    let k = &t.app.coordinator;
    let aliases: Vec<String> = (0..people).map(|p| format!("Figure{n}x{p}")).collect();
    let names: Vec<&str> = aliases.iter().map(String::as_str).collect();
    let mut d = draft(&names, "generated");
    let id = cases::create(vault, k, d.clone()).await.unwrap();
    for (kind, date, country) in milestones {
        cases::add_milestone(vault, k, id, milestone(*kind, date, *country)).await.unwrap();
    }
    let safe = milestones
        .iter()
        .filter(|m| matches!(m.0, MilestoneKind::ReachedProtection | MilestoneKind::Arrived))
        .map(|m| span(&m.1))
        .min();
    let arrivals: Vec<_> = milestones.iter().filter(|m| m.0 == MilestoneKind::Arrived).collect();
    let latest = arrivals.iter().filter(|m| m.2.is_some()).max_by_key(|m| span(&m.1)).and_then(|m| m.2);
    let first = arrivals.iter().min_by_key(|m| span(&m.1)).map(|m| (span(&m.1), m.2.or(latest)));
    let mut resettled = None;
    if let Some(outcome) = outcome {
        let version = cases::read(vault, k, id).await.unwrap().version;
        d.status = Status::Closed(outcome);
        cases::update(vault, k, id, version, d).await.unwrap();
        if outcome == Outcome::Resettled {
            resettled = Some((t.now().date(), latest));
        }
    }
    Made { id, people: people as u64, helped: safe, arrived: first, resettled }
}

/// What a row of a published table sums over, read from the table's own
/// rows: a country row its country; a region row the region's countries
/// without a row of their own; "other" everything else.
fn row_of(rows: &[serde_json::Value], destination: Option<&str>) -> String {
    let codes: Vec<&str> = rows.iter().map(|r| r["code"].as_str().unwrap()).collect();
    match destination {
        Some(c) if codes.contains(&c) => c.to_owned(),
        Some(c) => {
            let region = Region::of(CountryCode::parse(c).unwrap()).as_str();
            if codes.contains(&region) { region.to_owned() } else { "other".to_owned() }
        }
        None => "other".to_owned(),
    }
}

/// Check one exported table against the cases: every shown figure equals
/// the count made here and is at least 10; every "fewer than 10" is under
/// 10 and has no value; every "not shown" has no value. Returns how many
/// cells were shown, "fewer than 10" and "not shown".
fn check_table(doc: &serde_json::Value, made: &[Made], first: Date, last: Date) -> (usize, usize, usize) {
    let inside = |(a, b): (Date, Date)| a >= first && b <= last;
    let rows = doc["rows"].as_array().unwrap();
    let mut expected: BTreeMap<(String, &str), u64> = BTreeMap::new();
    let mut helped = 0;
    for m in made {
        if m.helped.is_some_and(inside) {
            helped += m.people;
        }
        if let Some(dest) = m.arrived.filter(|(w, _)| inside(*w)).map(|(_, d)| d) {
            *expected.entry((row_of(rows, dest), "arrivals")).or_default() += m.people;
            *expected.entry(("total".to_owned(), "arrivals")).or_default() += m.people;
        }
        if let Some(dest) = m.resettled.filter(|(d, _)| inside((*d, *d))).map(|(_, d)| d) {
            *expected.entry((row_of(rows, dest), "resettlements")).or_default() += m.people;
            *expected.entry(("total".to_owned(), "resettlements")).or_default() += m.people;
        }
    }
    let mut tally = (0, 0, 0);
    let mut check = |cell: &serde_json::Value, want: u64, what: &str| match (
        cell["value"].as_u64(),
        cell["text"].as_str().unwrap(),
    ) {
        (Some(v), text) => {
            assert_eq!(v, want, "{what}");
            assert!(v >= 10, "{what}: a shown count is at least 10");
            assert_eq!(text, v.to_string());
            tally.0 += 1;
        }
        (None, "fewer than 10") => {
            assert!(want < 10, "{what}: {want} shown as fewer than 10");
            assert!(cell["value"].is_null());
            tally.1 += 1;
        }
        (None, "not shown") => {
            assert!(want >= 10, "{what}: only a count of 10 or more is hidden beside others");
            tally.2 += 1;
        }
        other => panic!("{what}: {other:?}"),
    };
    check(&doc["helped_to_safety"], helped, "helped to safety");
    for row in rows {
        let code = row["code"].as_str().unwrap().to_owned();
        for measure in ["arrivals", "resettlements"] {
            let want = expected.get(&(code.clone(), measure)).copied().unwrap_or(0);
            check(&row[measure], want, &format!("{code} {measure}"));
        }
        // A country has a row of its own only if it is named and at least
        // 10 people are counted there.
        if code.len() == 2 {
            let country = CountryCode::parse(&code).unwrap();
            let most = ["arrivals", "resettlements"]
                .iter()
                .map(|m| expected.get(&(code.clone(), *m)).copied().unwrap_or(0))
                .max()
                .unwrap();
            assert!(is_named(country) && most >= 10, "{code} has a row of its own");
        }
    }
    tally
}

/// Preview the period, approve it through the form, and return the new
/// table's id (the list's first line) and the list page after the approval.
async fn approve(client: &mut Client, code: &str) -> (String, String) {
    let preview = client.get(&format!("/figures/new?period={code}")).await;
    assert_eq!(preview.status(), 200, "preview of {code}");
    let body = preview.text().await.unwrap();
    let field = |name: &str| {
        let needle = format!("name=\"{name}\" value=\"");
        let start =
            body.rfind(&needle).unwrap_or_else(|| panic!("{name} in the preview of {code}")) + needle.len();
        body[start..].split('"').next().unwrap().to_owned()
    };
    let (csrf, digest) = (field("csrf"), field("digest"));
    let response = client.post("/figures", &[("csrf", &csrf), ("period", code), ("digest", &digest)]).await;
    assert_eq!(response.status(), 303, "approval of {code}");
    assert_eq!(response.headers()["location"], "/figures");
    let list = client.follow(response).await.text().await.unwrap();
    // The line of the period just approved.
    let period = safehouse::publication::period::Period::parse(code).unwrap();
    let name = safehouse::figures::export::period_name(&safehouse::web::messages::EN, period);
    let end = list.find(&format!("\">{name}</a>")).expect("the approved period in the list");
    let id = list[..end].rsplit("/figures/").next().unwrap().to_owned();
    assert!(safehouse::figures::TableId::parse(&id).is_some(), "{id}");
    (id, list)
}

async fn json(client: &mut Client, id: &str) -> serde_json::Value {
    let response = client.get(&format!("/figures/{id}/export.json")).await;
    assert_eq!(response.status(), 200);
    serde_json::from_str(&response.text().await.unwrap()).unwrap()
}

#[tokio::test]
async fn figures_every_published_count_equals_an_independent_count_over_quarters_a_year_and_a_fiscal_year() {
    let fiscal = PublicationPolicy { fiscal_year_start: 9, ..PublicationPolicy::default() };
    let t = spawn_app_at(datetime!(2024-07-01 09:00 UTC), fiscal).await;
    // 90 cases over eighteen months: groups of one to six and a few large
    // ones, arrivals mostly in Korea and the US, some in named countries
    // few people reach, in unnamed ones and with no country; some known to
    // the day, some to the month, a few only to the year; some only
    // reached protection; a third of the arrived closed as resettled, a
    // few closed otherwise.
    let places: [Option<&'static str>; 12] = [
        Some("KR"),
        Some("KR"),
        Some("US"),
        Some("KR"),
        Some("US"),
        Some("JP"),
        Some("CA"),
        Some("DE"),
        Some("MN"),
        Some("TH"),
        None,
        Some("KR"),
    ];
    let mut made = Vec::new();
    let mut seed: u64 = 7;
    let mut next = move || {
        seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (seed >> 33) as usize
    };
    for n in 0..90usize {
        t.clock.advance(Duration::days(6));
        let today = t.now().date();
        let people = if n % 9 == 4 { 10 + next() % 5 } else { 1 + next() % 6 };
        let mut milestones = Vec::new();
        if n % 3 != 2 {
            let safe = today - Duration::days(10 + (next() % 40) as i64);
            milestones.push((MilestoneKind::ReachedProtection, safe.to_string(), None));
        }
        let arrives = n % 8 != 7;
        if arrives {
            let day = today - Duration::days((next() % 5) as i64);
            let date = match n % 11 {
                3 => format!("{}", day.year()),
                5 | 9 => format!("{}-{:02}", day.year(), u8::from(day.month())),
                _ => day.to_string(),
            };
            milestones.push((MilestoneKind::Arrived, date, places[next() % places.len()]));
        }
        let outcome = match (arrives, n % 10) {
            (true, 0 | 3 | 6) => Some(Outcome::Resettled),
            (_, 8) => Some(Outcome::SelfSettled),
            _ => None,
        };
        made.push(make(&t, n, people, &milestones, outcome).await);
    }
    assert!(t.now().date() > time::macros::date!(2025 - 12 - 20), "{}", t.now());
    t.clock.advance(Duration::days(20));
    let mut k = t.login_coordinator().await;

    let periods = [
        ("2025-Q1", "the first quarter of 2025"),
        ("2025-Q2", "the second quarter of 2025"),
        ("2025-Q3", "the third quarter of 2025"),
        ("2025-Q4", "the fourth quarter of 2025"),
        ("2025", "2025"),
        ("FY2024-09", "the fiscal year from September 2024 to August 2025"),
        ("2024-Q4", "the fourth quarter of 2024"),
    ];
    let mut totals = (0, 0, 0);
    for (code, name) in periods {
        let (id, list) = approve(&mut k, code).await;
        assert!(list.contains(&format!("Figures for {name} approved.")), "{code}: {list}");
        let doc = json(&mut k, &id).await;
        assert_eq!(doc["period"], code);
        let p = safehouse::publication::period::Period::parse(code).unwrap();
        let (shown, small, hidden) = check_table(&doc, &made, p.first_day(), p.last_day());
        assert!(shown >= 3, "{code}: {shown} figures shown");
        totals = (totals.0 + shown, totals.1 + small, totals.2 + hidden);
        // The page shows the same words as the export.
        let page = k.get(&format!("/figures/{id}")).await.text().await.unwrap();
        assert!(page.contains(&format!("Figures for {name}")));
        for row in doc["rows"].as_array().unwrap() {
            let text = row["arrivals"]["text"].as_str().unwrap();
            let hidden = if row["arrivals"]["value"].is_null() { " class=\"hidden-cell\"" } else { "" };
            assert!(page.contains(&format!("data-label=\"Arrivals\"{hidden}>{text}</td>")), "{code} {text}");
        }
    }
    assert!(totals.0 >= 40, "{totals:?}");
    assert!(totals.1 > 0, "the data set has small cells");
    // A fiscal year from September and a calendar year are different sums:
    // the data set has events between September and December 2024.
    assert!(
        made.iter().any(|m| m.arrived.is_some_and(|(w, _)| w.0.year() == 2024 && w.0.month() as u8 >= 9))
    );
}

/// Quarters of 2025 with Korea reached by 12 people a quarter and resettled
/// to by 12, 11, 14 and 4: the fourth quarter's 4 is "fewer than 10", and
/// the total minus the US and "other" would give it away.
async fn suppression_world() -> (TestApp, Vec<Made>) {
    let t = spawn_app_at(datetime!(2024-12-01 09:00 UTC), PublicationPolicy::default()).await;
    let mut made = Vec::new();
    let mut n = 0;
    for (quarter, kr) in [(1u8, 12usize), (2, 11), (3, 14), (4, 4)] {
        let mid = time::Date::from_calendar_date(2025, time::Month::try_from(quarter * 3 - 1).unwrap(), 15)
            .unwrap();
        let now = t.now().date();
        t.clock.advance(Duration::days((mid - now).whole_days()));
        for (place, arrivals, resettled) in [("KR", 12, kr), ("US", 20, 20), ("DE", 12, 12)] {
            let arrived = vec![(MilestoneKind::Arrived, t.now().date().to_string(), Some(place))];
            made.push(make(&t, n, arrivals, &arrived, None).await);
            n += 1;
            let earlier = vec![(MilestoneKind::Arrived, "2024-06".to_owned(), Some(place))];
            made.push(make(&t, n, resettled, &earlier, Some(Outcome::Resettled)).await);
            n += 1;
        }
    }
    let now = t.now().date();
    t.clock.advance(Duration::days((time::macros::date!(2026 - 01 - 10) - now).whole_days()));
    (t, made)
}

fn row<'a>(doc: &'a serde_json::Value, code: &str) -> &'a serde_json::Value {
    doc["rows"].as_array().unwrap().iter().find(|r| r["code"] == code).unwrap()
}

#[tokio::test]
async fn figures_small_cells_are_fewer_than_10_and_no_total_or_difference_gives_one_away() {
    let (t, made) = suppression_world().await;
    let mut k = t.login_coordinator().await;
    let mut ids = Vec::new();
    for q in 1..=4 {
        ids.push(approve(&mut k, &format!("2025-Q{q}")).await.0);
    }
    // The fourth quarter: Korea's 4 is "fewer than 10", absent from the
    // values; "other destinations" (12), the smallest cell whose hiding
    // protects it, is not shown either. Then 36 − 20 = 16 would be Korea
    // and "other" (at least 10) together, Korea at most 6: the US (20) is
    // not shown too, and 36 in all says no more than "fewer than 10". The
    // total stays.
    let doc = json(&mut k, &ids[3]).await;
    check_table(&doc, &made, time::macros::date!(2025 - 10 - 01), time::macros::date!(2025 - 12 - 31));
    assert_eq!(row(&doc, "KR")["resettlements"], serde_json::json!({"value": null, "text": "fewer than 10"}));
    assert_eq!(row(&doc, "other")["resettlements"], serde_json::json!({"value": null, "text": "not shown"}));
    assert_eq!(row(&doc, "US")["resettlements"], serde_json::json!({"value": null, "text": "not shown"}));
    assert_eq!(row(&doc, "total")["resettlements"]["value"], 36);
    let values: Vec<u64> = doc["rows"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|r| [r["arrivals"]["value"].as_u64(), r["resettlements"]["value"].as_u64()])
        .flatten()
        .collect();
    assert!(!values.contains(&4) && values.len() >= 5, "no 4 among the values: {values:?}");
    let csv = k.get(&format!("/figures/{}/export.csv", ids[3])).await.text().await.unwrap();
    assert!(csv.contains("2025-Q4,Resettlements,South Korea,fewer than 10\r\n"), "{csv}");
    assert!(csv.contains("2025-Q4,Resettlements,Other destinations,not shown\r\n"), "{csv}");
    assert!(csv.contains("2025-Q4,Resettlements,All destinations,36\r\n"), "{csv}");
    assert!(!csv.lines().any(|l| l.ends_with(",4")), "{csv}");
    let md = k.get(&format!("/figures/{}/export.md", ids[3])).await.text().await.unwrap();
    assert!(md.contains("| South Korea | 12 | fewer than 10 |"), "{md}");
    // The page says which are hidden and why, before approval: the year.
    let preview = k.get("/figures/new?period=2025").await.text().await.unwrap();
    assert!(
        preview.contains("South Korea, resettlements: hidden so the total does not reveal another"),
        "{preview}"
    );
    // The year minus the three approved quarters would give the fourth's
    // Korea away: the year hides Korea's resettlements (41) too.
    let (year, _) = approve(&mut k, "2025").await;
    let doc = json(&mut k, &year).await;
    let (_, _, hidden) =
        check_table(&doc, &made, time::macros::date!(2025 - 01 - 01), time::macros::date!(2025 - 12 - 31));
    assert_eq!(row(&doc, "KR")["resettlements"], serde_json::json!({"value": null, "text": "not shown"}));
    assert!(hidden >= 2, "one hidden cell alone would follow from the year's total");
    assert_eq!(row(&doc, "KR")["arrivals"]["value"], 48);
}

/// Japan: 12, 11 and 13 arrivals in the first three quarters of 2025, and
/// 4 in the fourth, where it has no row (its 4 are in "other
/// destinations"); Korea and the US 20 a quarter, an unknown destination 12.
/// The year's Japan minus the first three quarters' would be the fourth
/// quarter's 4, which no table ever showed.
#[tokio::test]
async fn figures_a_count_that_was_never_a_cell_does_not_follow_from_a_year_and_its_quarters() {
    let t = spawn_app_at(datetime!(2026-01-10 09:00 UTC), PublicationPolicy::default()).await;
    let mut made = Vec::new();
    let mut n = 0;
    for (quarter, jp) in [(1u8, 12usize), (2, 11), (3, 13), (4, 4)] {
        let day = format!("2025-{:02}-15", quarter * 3 - 1);
        for (place, people) in [(Some("KR"), 20), (Some("US"), 20), (None, 12), (Some("JP"), jp)] {
            let arrived = vec![(MilestoneKind::Arrived, day.clone(), place)];
            made.push(make(&t, n, people, &arrived, None).await);
            n += 1;
        }
    }
    let mut k = t.login_coordinator().await;
    let mut ids = Vec::new();
    for q in 1..=4 {
        ids.push(approve(&mut k, &format!("2025-Q{q}")).await.0);
    }
    let mut japan = 0;
    for id in &ids[..3] {
        japan += row(&json(&mut k, id).await, "JP")["arrivals"]["value"].as_u64().unwrap();
    }
    assert_eq!(japan, 36, "Japan shown in the first three quarters");
    let q4 = json(&mut k, &ids[3]).await;
    assert!(q4["rows"].as_array().unwrap().iter().all(|r| r["code"] != "JP"), "no Japan row in the fourth");
    assert_eq!(row(&q4, "other")["arrivals"]["value"], 16);
    let (year, _) = approve(&mut k, "2025").await;
    let doc = json(&mut k, &year).await;
    let (_, _, hidden) =
        check_table(&doc, &made, time::macros::date!(2025 - 01 - 01), time::macros::date!(2025 - 12 - 31));
    assert_eq!(row(&doc, "JP")["arrivals"], serde_json::json!({"value": null, "text": "not shown"}));
    assert!(hidden >= 2, "one hidden cell alone would follow from the year's total");
    assert_eq!(row(&doc, "KR")["arrivals"]["value"], 80);
}

#[tokio::test]
async fn figures_unfinished_periods_and_a_second_approval_are_refused_with_the_reason() {
    let (t, _) = suppression_world().await;
    let mut k = t.login_coordinator().await;
    approve(&mut k, "2025-Q1").await;
    // Approved once: the preview and the form both say why not again.
    let r = k.get("/figures/new?period=2025-Q1").await;
    assert_eq!(r.status(), 422);
    let body = r.text().await.unwrap();
    assert!(body.contains("approved only once: a second version would reveal the difference"), "{body}");
    let csrf = k.csrf("/figures/new").await;
    let r = k.post("/figures", &[("csrf", &csrf), ("period", "2025-Q1"), ("digest", "x")]).await;
    assert_eq!(r.status(), 422);
    assert!(r.text().await.unwrap().contains("approved only once"));
    // Not ended yet (today is 10 January 2026): neither the quarter nor the year.
    for code in ["2026-Q1", "2026"] {
        let r = k.get(&format!("/figures/new?period={code}")).await;
        assert_eq!(r.status(), 422, "{code}");
        let body = r.text().await.unwrap();
        assert!(body.contains("This period has not ended yet"), "{body}");
        let r = k.post("/figures", &[("csrf", &csrf), ("period", code), ("digest", "x")]).await;
        assert_eq!(r.status(), 422, "{code}");
    }
    // A bad period is named beside the field, the input kept.
    let r = k.get("/figures/new?kind=quarter&period=2025-Q9").await;
    assert_eq!(r.status(), 422);
    let body = r.text().await.unwrap();
    assert!(body.contains("value=\"2025-Q9\""));
    assert!(
        body.contains("<p class=\"field-error\" role=\"alert\">Write a quarter as 2026-Q1.</p>"),
        "{body}"
    );
    // A preview whose figures changed before approval is not approved.
    let preview = k.get("/figures/new?period=2025-Q2").await.text().await.unwrap();
    assert!(preview.contains("name=\"digest\""));
    let r = k.post("/figures", &[("csrf", &csrf), ("period", "2025-Q2"), ("digest", "0123")]).await;
    assert_eq!(r.status(), 409);
    assert!(r.text().await.unwrap().contains("The figures changed since the preview was shown"));
    // Nothing but the one table was approved.
    let log = t.app.audit_log().await;
    let approvals: Vec<_> = log.iter().filter(|e| e.action == "figures.approve").collect();
    assert_eq!(approvals.iter().filter(|e| e.outcome == "ok").count(), 1);
    assert!(approvals.iter().any(|e| e.outcome == "invalid"));
    assert!(approvals.iter().any(|e| e.outcome == "conflict"));
}

#[tokio::test]
async fn figures_reach_communications_staff_and_the_coordinators_team_only_and_exports_are_audited() {
    let (t, made) = suppression_world().await;
    let mut k = t.login_coordinator().await;
    let (id, _) = approve(&mut k, "2025-Q4").await;
    let comms = t.web_user("fig.comms", Role::Communications).await;
    let mut c = t.login(&comms).await;
    let reads = [
        "/figures".to_owned(),
        format!("/figures/{id}"),
        format!("/figures/{id}/export.md"),
        format!("/figures/{id}/export.csv"),
        format!("/figures/{id}/export.json"),
    ];
    let types = ["text/html", "text/html", "text/markdown", "text/csv", "application/json"];
    for (path, kind) in reads.iter().zip(types) {
        let r = c.get(path).await;
        assert_eq!(r.status(), 200, "communications {path}");
        assert!(r.headers()["content-type"].to_str().unwrap().starts_with(kind), "{path}");
        if path.contains("export") {
            let disposition = r.headers()["content-disposition"].to_str().unwrap().to_owned();
            assert!(disposition.starts_with("attachment; filename=\"figures-2025-Q4."), "{disposition}");
        }
    }
    // The page offers each export in the three languages, each link named
    // in its own; a language not among them is refused, never defaulted.
    let show = c.get(&format!("/figures/{id}")).await.text().await.unwrap();
    for (code, name) in [("en", "English"), ("ja", "日本語"), ("ko", "한국어")] {
        let link = format!(
            "<a href=\"/figures/{id}/export.md?lang={code}\" hreflang=\"{code}\" lang=\"{code}\" download>{name}</a>"
        );
        assert!(show.contains(&link), "{link} in {show}");
    }
    for bad in ["xx", "", "ja-JP"] {
        let r = c.get(&format!("/figures/{id}/export.json?lang={bad}")).await;
        assert_eq!(r.status(), 400, "?lang={bad}");
        assert!(r.text().await.unwrap().contains("<html"), "the error page");
    }
    let ja = c.get(&format!("/figures/{id}/export.json?lang=ja")).await;
    assert_eq!(ja.status(), 200);
    let list = c.get("/figures").await.text().await.unwrap();
    assert!(list.contains("the fourth quarter of 2025"));
    assert!(!list.contains("/figures/new"), "no preparing for communications staff");
    // Communications staff prepare and approve nothing.
    assert_eq!(c.get("/figures/new").await.status(), 403);
    assert_eq!(c.get("/figures/new?period=2025-Q3").await.status(), 403);
    let csrf = c.csrf("/account").await;
    assert_eq!(
        c.post("/figures", &[("csrf", &csrf), ("period", "2025-Q3"), ("digest", "x")]).await.status(),
        403
    );
    // Everyone else: nothing at all.
    let mut all = reads.to_vec();
    all.push("/figures/new".to_owned());
    let mut others = Vec::new();
    for (name, role) in
        [("fig.worker", Role::Caseworker), ("fig.admin", Role::Admin), ("fig.auditor", Role::Auditor)]
    {
        let user = t.web_user(name, role).await;
        others.push((name.to_owned(), t.login(&user).await));
    }
    // A coordinator by role only, never admitted to the team.
    let lone = t.app.user("fig.lone", Role::Coordinator, false).await;
    let secret = t.enrol(&lone).await;
    let lone = WebUser { username: "fig.lone".into(), secret, actor: lone };
    others.push(("fig.lone".into(), t.login(&lone).await));
    for (name, client) in others.iter_mut() {
        for path in &all {
            assert_eq!(client.get(path).await.status(), 403, "{name} GET {path}");
        }
        let csrf = client.csrf("/account").await;
        let r = client.post("/figures", &[("csrf", &csrf), ("period", "2025-Q3"), ("digest", "x")]).await;
        assert_eq!(r.status(), 403, "{name} POST /figures");
    }
    // Each export left an `export` entry on the table's id; no figures
    // entry names a case; the approval's entry shares no request with a
    // case entry.
    let log = t.app.audit_log().await;
    let exports: Vec<_> = log.iter().filter(|e| e.action == "export" && e.outcome == "ok").collect();
    // Without `?lang=` an export is in the page's language, English here;
    // the entry names the language.
    assert_eq!(exports.len(), 4);
    assert!(exports.iter().all(|e| e.role == "communications"));
    let targets: Vec<&str> = exports.iter().map(|e| e.target.as_str()).collect();
    let (en, ja) = (format!("{id} en"), format!("{id} ja"));
    assert_eq!(targets, [en.as_str(), &en, &en, &ja]);
    let case_ids: Vec<String> = made.iter().map(|m| m.id.to_string()).collect();
    let figures: Vec<_> = log
        .iter()
        .filter(|e| ["figures.approve", "figures.read", "export"].contains(&e.action.as_str()))
        .collect();
    assert!(figures.len() >= 6);
    for e in &figures {
        assert!(!case_ids.contains(&e.target), "{} names a case", e.action);
        assert!(
            // An export's target is the table's id and the language.
            e.target.is_empty()
                || safehouse::figures::TableId::parse(e.target.split(' ').next().unwrap_or_default())
                    .is_some(),
            "{}",
            e.target
        );
    }
    let approval = figures.iter().find(|e| e.action == "figures.approve" && e.outcome == "ok").unwrap();
    assert!(
        !log.iter().any(|e| e.action.starts_with("case.") && e.request_id == approval.request_id),
        "the approval has a request id of its own"
    );
    assert!(figures.iter().any(|e| e.action == "figures.read" && e.target == id));
}
