//! The annual report (issue 13, part 3): for the fiscal year from
//! September 2024 to August 2025, every published figure equals a count
//! or a sum made here from the generated cases, enrolments and aid entries
//! (a corrected entry once, as corrected); small counts of children are
//! "fewer than 10" and one more is hidden so the stock identity does not
//! give a small one away; the year's public figures are approved with it
//! and `/figures` shows the same numbers; a year is approved once, even by
//! two approvals at once; communications staff read and export only the
//! approved report (each export audited on its id) and reach no case and
//! no preview; caseworkers reach no report route at all.

use std::collections::BTreeMap;

use safehouse::accounts::model::Role;
use safehouse::cases::model::{
    AgeBand, Alias, CountryCode, LeaveReason, MilestoneKind, Note, Outcome, SchoolLevel, SponsorCode,
    SponsorshipStep, Stage, Status,
};
use safehouse::cases::service::{self as cases, CaseDraft, MilestoneDraft};
use safehouse::ids::{AidEntryId, AidKindId, CaseId, MilestoneId, ShelterId};
use safehouse::membership::{self, SharedKey};
use safehouse::programmes::aid::model::{self as aid, AidEntry, AidKind, Currency, CustomKind, Month};
use safehouse::publication::PublicationPolicy;
use safehouse::publication::region::Region;
use safehouse::storage::Write;
use time::Duration;
use time::macros::datetime;

use crate::helpers::*;

const YEAR: &str = "FY2024-09";
const YEAR_NAME: &str = "the fiscal year from September 2024 to August 2025";

fn in_year(month: &str) -> bool {
    ("2024-09"..="2025-08").contains(&month)
}

fn sponsorship_milestone(kind: MilestoneKind, date: &str, step: SponsorshipStep) -> MilestoneDraft {
    MilestoneDraft { sponsorship: Some(step), ..milestone(kind, date, None) }
}

fn children_draft(aliases: &[String]) -> CaseDraft {
    let aliases: Vec<&str> = aliases.iter().map(String::as_str).collect();
    CaseDraft { stage: Stage::Sheltered, ..draft_aged(&aliases, AgeBand::Child, "") }
}

/// One child's enrolment as the test made it: joining month, and the
/// month and reason (none: graduated) it ended.
struct Child {
    joined: String,
    ended: Option<(String, Option<LeaveReason>)>,
}

/// What the test generated, to count from.
#[derive(Default)]
struct World {
    children: Vec<Child>,
    /// People helped to safety in the year, and resettled by country.
    helped: u64,
    resettled: BTreeMap<&'static str, u64>,
    entries: Vec<AidEntry>,
    kinds: Vec<CustomKind>,
    cases: Vec<CaseId>,
}

async fn seal_entries(t: &TestApp, entries: &[AidEntry]) {
    let vault = &t.app.vault;
    let coordinators = membership::coordinators_identity(vault, &t.app.coordinator).await.unwrap();
    let key =
        membership::shared_key_for_team(vault, &coordinators, SharedKey::RegisterDetails).await.unwrap();
    let writes = entries.iter().map(|e| Write::InsertAidEntry(aid::seal_entry(&key, e).unwrap())).collect();
    vault.store().apply(writes).await.unwrap();
}

async fn seal_kind(t: &TestApp, kind: &CustomKind) {
    let vault = &t.app.vault;
    let coordinators = membership::coordinators_identity(vault, &t.app.coordinator).await.unwrap();
    let key =
        membership::shared_key_for_team(vault, &coordinators, SharedKey::RegisterDetails).await.unwrap();
    vault.store().apply(vec![Write::InsertAidKind(aid::seal_kind(&key, kind).unwrap())]).await.unwrap();
}

fn entry(
    t: &TestApp,
    shelter: ShelterId,
    month: &str,
    kind: AidKind,
    quantity: u64,
    people: u32,
) -> AidEntry {
    let (year, m) = month.split_once('-').unwrap();
    AidEntry {
        id: AidEntryId::random(),
        shelter,
        month: Month { year: year.parse().unwrap(), month: m.parse().unwrap() },
        kind,
        quantity,
        currency: (kind == AidKind::CashForFood).then(|| Currency::parse("JPY").unwrap()),
        people_served: people,
        note: Note::parse("").unwrap(),
        supersedes: None,
        recorded_by: t.app.coordinator.user_id(),
        recorded_at: t.now(),
    }
}

/// A case of `people` adults who arrived in `country` on `date`, resettled
/// now (the clock is then in the year) if `resettle`.
async fn arrival(
    t: &TestApp,
    world: &mut World,
    n: usize,
    people: usize,
    date: &str,
    country: &'static str,
    resettle: bool,
) {
    let vault = &t.app.vault;
    let k = &t.app.coordinator;
    let aliases: Vec<String> = (0..people).map(|p| format!("Report{n}x{p}")).collect();
    let names: Vec<&str> = aliases.iter().map(String::as_str).collect();
    let mut d = draft(&names, "generated");
    let id = cases::create(vault, k, d.clone()).await.unwrap();
    cases::add_milestone(vault, k, id, milestone(MilestoneKind::Arrived, date, Some(country))).await.unwrap();
    if in_year(&date[..7]) {
        world.helped += people as u64;
    }
    if resettle {
        let version = cases::read(vault, k, id).await.unwrap().version;
        d.status = Status::Closed(Outcome::Resettled);
        cases::update(vault, k, id, version, d).await.unwrap();
        *world.resettled.entry(country).or_default() += people as u64;
    }
    world.cases.push(id);
}

/// The year's world:
///
/// - helped to safety and resettled: Korea 12 and the US 11 people
///   arrived in the year, and 3 in Japan, all resettled in the year; 4
///   people arrived in Korea in August 2024, before it;
/// - 44 children in 11 families: 30 joined before the year, 14 during it;
///   in the year 12 left because they moved, 3 for fear after an arrest,
///   4 lost contact, 2 returned, and 2 graduated; before it 2 left (lost
///   contact);
/// - aid at three shelters, every kind, one kind a coordinator added whose
///   name a spreadsheet would run, and corrections (one entry corrected
///   twice, one moved out of the year).
async fn world(t: &TestApp) -> World {
    let mut w = World::default();
    // The clock walks through the year for the resettlements' closing days.
    t.clock.advance(Duration::days((datetime!(2024-10-15 12:00 UTC) - t.now()).whole_days()));
    arrival(t, &mut w, 0, 12, "2024-10-02", "KR", true).await;
    arrival(t, &mut w, 1, 4, "2024-08", "KR", false).await;
    t.clock.advance(Duration::days(120));
    arrival(t, &mut w, 2, 11, "2025-02", "US", true).await;
    arrival(t, &mut w, 3, 3, "2025-02-10", "JP", true).await;
    t.clock.advance(Duration::days((datetime!(2025-09-10 09:00 UTC) - t.now()).whole_days()));

    let vault = &t.app.vault;
    let k = &t.app.coordinator;
    let mut plan: Vec<Child> = Vec::new();
    for i in 0..30 {
        plan.push(Child { joined: format!("2023-{:02}", 1 + i % 12), ended: None });
    }
    for i in 0..14 {
        plan.push(Child {
            joined: ["2024-09", "2024-11", "2025-01", "2025-04", "2025-06"][i % 5].to_owned(),
            ended: None,
        });
    }
    for (i, c) in plan.iter_mut().enumerate() {
        let left = |month: &str, reason| Some((month.to_owned(), Some(reason)));
        c.ended = match i {
            0..=11 => left(["2024-10", "2025-03", "2025-07"][i % 3], LeaveReason::Moved),
            12..=14 => left("2025-05", LeaveReason::FearAfterArrest),
            15..=18 => left("2025-02", LeaveReason::LostContact),
            19 | 20 => left("2024-12", LeaveReason::Returned),
            21 | 31 => Some(("2025-06".to_owned(), None)),
            22 | 23 => left("2024-05", LeaveReason::LostContact),
            _ => None,
        };
    }
    for (family, children) in plan.chunks(4).enumerate() {
        let aliases: Vec<String> = (0..children.len()).map(|c| format!("Pupil{family}x{c}")).collect();
        let id = cases::create(vault, k, children_draft(&aliases)).await.unwrap();
        for (child, alias) in children.iter().zip(&aliases) {
            let step = SponsorshipStep::Joined {
                child: Alias::parse(alias).unwrap(),
                level: SchoolLevel::Primary,
                sponsor: SponsorCode::parse("SP-0142").unwrap(),
            };
            let joined = sponsorship_milestone(MilestoneKind::SponsorshipJoined, &child.joined, step);
            let enrolment: MilestoneId = cases::add_milestone(vault, k, id, joined).await.unwrap();
            if let Some((month, reason)) = &child.ended {
                let (kind, step) = match reason {
                    Some(reason) => {
                        (MilestoneKind::SponsorshipLeft, SponsorshipStep::Left { enrolment, reason: *reason })
                    }
                    None => (MilestoneKind::SponsorshipGraduated, SponsorshipStep::Graduated { enrolment }),
                };
                cases::add_milestone(vault, k, id, sponsorship_milestone(kind, month, step)).await.unwrap();
            }
        }
        w.cases.push(id);
    }
    w.children = plan;

    let shelters: Vec<ShelterId> = (0..3).map(|_| ShelterId::random()).collect();
    let blankets = CustomKind { id: AidKindId::random(), name: "=Blankets".into(), unit: "pieces".into() };
    seal_kind(t, &blankets).await;
    let mut entries = Vec::new();
    for (i, month) in
        ["2024-08", "2024-09", "2024-12", "2025-01", "2025-04", "2025-08", "2025-09"].iter().enumerate()
    {
        for (s, shelter) in shelters.iter().enumerate() {
            let q = (i * 3 + s) as u64;
            entries.push(entry(t, *shelter, month, AidKind::Food, 2_400 + 100 * q, 200 + q as u32));
            entries.push(entry(t, *shelter, month, AidKind::Clothes, 40 + q, 40));
            entries.push(entry(t, *shelter, month, AidKind::FirstAidKits, 6 + q, 6));
            if s == 0 {
                entries.push(entry(t, *shelter, month, AidKind::MedicalVisits, 1, 1));
            }
            entries.push(entry(t, *shelter, month, AidKind::CashForFood, 10_000 + q, 30));
            entries.push(entry(t, *shelter, month, AidKind::Custom(blankets.id), 5, 5));
        }
    }
    // One food entry corrected twice: only the last counts.
    let first = entry(t, shelters[0], "2025-01", AidKind::Food, 1_000, 100);
    let mut second = entry(t, shelters[0], "2025-01", AidKind::Food, 1_500, 120);
    second.supersedes = Some(first.id);
    let mut third = entry(t, shelters[0], "2025-01", AidKind::Food, 1_200, 110);
    third.supersedes = Some(second.id);
    // An entry of a fourth shelter moved out of the year by its correction.
    let wrong = entry(t, ShelterId::random(), "2025-08", AidKind::Clothes, 900, 90);
    let mut moved = wrong.clone();
    moved.id = AidEntryId::random();
    moved.month = Month { year: 2025, month: 9 };
    moved.supersedes = Some(wrong.id);
    entries.extend([first, second, third, wrong, moved]);
    seal_entries(t, &entries).await;
    w.entries = entries;
    w.kinds = vec![blankets];
    w
}

/// The children's counts of the year, by the report's figure codes.
fn expected_children(w: &World) -> BTreeMap<String, u64> {
    let mut out = BTreeMap::new();
    let mut add = |code: &str| *out.entry(code.to_owned()).or_insert(0u64) += 1;
    for c in &w.children {
        let end = c.ended.as_ref().map(|(m, _)| m.as_str());
        if c.joined.as_str() < "2024-09" && end.is_none_or(|e| e >= "2024-09") {
            add("start");
        }
        if c.joined.as_str() <= "2025-08" && end.is_none_or(|e| e > "2025-08") {
            add("end");
        }
        if in_year(&c.joined) {
            add("joined");
        }
        match &c.ended {
            Some((m, Some(reason))) if in_year(m) => {
                add(&format!("left_{}", reason.as_str()));
                add("left_total");
            }
            Some((m, None)) if in_year(m) => add("graduated"),
            _ => {}
        }
    }
    out
}

/// Preview the year, approve it through the form, and return the report's
/// id (from the list) and the list page after the approval.
async fn approve(client: &mut Client) -> (String, String) {
    let preview = client.get(&format!("/reports/new?year={YEAR}")).await;
    assert_eq!(preview.status(), 200, "preview");
    let body = preview.text().await.unwrap();
    let (csrf, digest) = (field(&body, "csrf"), field(&body, "digest"));
    let response = client.post("/reports", &[("csrf", &csrf), ("year", YEAR), ("digest", &digest)]).await;
    assert_eq!(response.status(), 303, "approval");
    assert_eq!(response.headers()["location"], "/reports");
    let list = client.follow(response).await.text().await.unwrap();
    let end = list.find(&format!("\">{YEAR_NAME}</a>")).expect("the approved year in the list");
    let id = list[..end].rsplit("/reports/").next().unwrap().to_owned();
    assert!(safehouse::ids::ReportId::parse(&id).is_some(), "{id}");
    (id, list)
}

fn field(body: &str, name: &str) -> String {
    let needle = format!("name=\"{name}\" value=\"");
    let start = body.rfind(&needle).unwrap_or_else(|| panic!("{name} in the page")) + needle.len();
    body[start..].split('"').next().unwrap().to_owned()
}

async fn json(client: &mut Client, path: &str) -> serde_json::Value {
    let response = client.get(path).await;
    assert_eq!(response.status(), 200, "{path}");
    serde_json::from_str(&response.text().await.unwrap()).unwrap()
}

/// A published count against the count made here.
fn check(cell: &serde_json::Value, want: u64, what: &str) -> &'static str {
    match (cell["value"].as_u64(), cell["text"].as_str().unwrap()) {
        (Some(v), text) => {
            assert_eq!(v, want, "{what}");
            assert!(v >= 10, "{what}: a shown count is at least 10");
            assert_eq!(text, v.to_string());
            "shown"
        }
        (None, "fewer than 10") => {
            assert!(want < 10, "{what}: {want} shown as fewer than 10");
            "small"
        }
        (None, "not shown") => {
            assert!(want >= 10, "{what}: only a count of 10 or more is hidden beside others");
            "hidden"
        }
        other => panic!("{what}: {other:?}"),
    }
}

async fn setup() -> (TestApp, World) {
    let fiscal = PublicationPolicy { fiscal_year_start: 9, ..PublicationPolicy::default() };
    let t = spawn_app_at(datetime!(2024-08-20 09:00 UTC), fiscal).await;
    let w = world(&t).await;
    (t, w)
}

#[tokio::test]
async fn annual_report_every_figure_equals_an_independent_count_and_the_figures_agree() {
    let (t, w) = setup().await;
    let mut k = t.login_coordinator().await;
    let page = k.get("/reports/new").await.text().await.unwrap();
    assert!(page.contains(&format!("<a href=\"/reports/new?year={YEAR}\">{YEAR_NAME}</a>")), "{page}");
    // The preview says what is hidden and why, and that the figures come with it.
    let preview = k.get(&format!("/reports/new?year={YEAR}")).await.text().await.unwrap();
    assert!(preview.contains("Graduated: fewer than 10"), "{preview}");
    assert!(preview.contains("approving the report approves them too"), "{preview}");
    assert!(
        preview.contains("Joined: hidden so that the year&#39;s other counts of children")
            || preview.contains("Joined: hidden so that the year's other counts of children"),
        "{preview}"
    );
    let (id, list) = approve(&mut k).await;
    assert!(list.contains(&format!("The annual report for {YEAR_NAME} was approved.")), "{list}");

    let doc = json(&mut k, &format!("/reports/{id}/export.json")).await;
    assert_eq!(doc["period"], YEAR);
    check(&doc["helped_to_safety"], w.helped, "helped to safety");
    assert_eq!(w.helped, 26);
    // Each destination counts in its row of the published table: its
    // country's, its region's, or "other destinations".
    let rows = doc["resettled"].as_array().unwrap();
    let codes: Vec<&str> = rows.iter().map(|r| r["code"].as_str().unwrap()).collect();
    let mut want: BTreeMap<String, u64> = BTreeMap::new();
    for (country, people) in &w.resettled {
        let region = Region::of(CountryCode::parse(country).unwrap()).as_str();
        let row = [*country, region].into_iter().find(|c| codes.contains(c)).unwrap_or("other");
        *want.entry(row.to_owned()).or_default() += people;
        *want.entry("total".to_owned()).or_default() += people;
    }
    assert_eq!(want["total"], 26);
    for row in rows {
        let code = row["code"].as_str().unwrap();
        check(row, want.get(code).copied().unwrap_or(0), code);
    }
    let children = expected_children(&w);
    let mut tally: BTreeMap<&str, usize> = BTreeMap::new();
    for c in doc["children"].as_array().unwrap() {
        let code = c["figure"].as_str().unwrap();
        *tally.entry(check(c, children.get(code).copied().unwrap_or(0), code)).or_default() += 1;
    }
    assert_eq!(children["start"], 28, "30 joined before, 2 left before");
    assert_eq!(children["end"], 28 + 14 - 21 - 2);
    assert!(tally["shown"] >= 4 && tally["small"] >= 5, "{tally:?}");
    // 28 + 14 − 21 − end 19 = 2 graduated: with the other four shown the
    // 2 would follow, so one more is not shown.
    assert!(tally.get("hidden").copied().unwrap_or(0) >= 1, "{tally:?}");

    // Aid, from the entries no other entry corrects, in the year's months.
    let corrected: Vec<AidEntryId> = w.entries.iter().filter_map(|e| e.supersedes).collect();
    let counted: Vec<&AidEntry> = w
        .entries
        .iter()
        .filter(|e| !corrected.contains(&e.id) && in_year(&format!("{}-{:02}", e.month.year, e.month.month)))
        .collect();
    let sum = |kind: AidKind| counted.iter().filter(|e| e.kind == kind).map(|e| e.quantity).sum::<u64>();
    let a = &doc["aid"];
    assert_eq!(a["shelters"], 3, "the fourth shelter's only entry moved out of the year");
    assert_eq!(a["food"]["kg"], sum(AidKind::Food));
    assert!(sum(AidKind::Food) > 40_000);
    assert!(counted.iter().any(|e| e.quantity == 1_200) && !counted.iter().any(|e| e.quantity == 1_500));
    let tonnes = (sum(AidKind::Food) + 50) / 100;
    assert_eq!(a["food"]["tonnes"], format!("{}.{}", tonnes / 10, tonnes % 10));
    let asked: u64 =
        counted.iter().filter(|e| e.kind == AidKind::Food).map(|e| u64::from(e.people_served)).sum();
    assert_eq!(a["food_people_per_month"]["value"], (asked * 2 + 12) / 24);
    assert_eq!(
        a["food_people_per_day"],
        serde_json::json!({"value": null, "text": "fewer than 10"}),
        "{asked} over 365 days"
    );
    assert!(asked < 3650);
    assert_eq!(a["clothes_sets"], sum(AidKind::Clothes));
    assert_eq!(a["first_aid_kits"], sum(AidKind::FirstAidKits));
    assert_eq!(a["medical_visits"], sum(AidKind::MedicalVisits));
    assert!(sum(AidKind::MedicalVisits) < 10, "goods are never hidden, however few");
    assert_eq!(
        a["cash_for_food"][0],
        serde_json::json!({"currency": "JPY", "amount": sum(AidKind::CashForFood)})
    );
    assert_eq!(a["added"][0]["name"], "=Blankets");
    assert_eq!(a["added"][0]["quantity"], sum(AidKind::Custom(w.kinds[0].id)));

    // The exports say the same in their own forms.
    let csv = k.get(&format!("/reports/{id}/export.csv")).await.text().await.unwrap();
    assert!(csv.starts_with("Period,Section,Figure,Value,Unit\r\n"), "{csv}");
    assert!(
        csv.contains(&format!("{YEAR},Education sponsorship,Graduated,fewer than 10,children\r\n")),
        "{csv}"
    );
    assert!(
        csv.contains(&format!(
            "{YEAR},Aid at the shelters,'=Blankets,{},pieces\r\n",
            sum(AidKind::Custom(w.kinds[0].id))
        )),
        "{csv}"
    );
    assert!(csv.contains(&format!(
        "{YEAR},Aid at the shelters,Medical visits,{},visits\r\n",
        sum(AidKind::MedicalVisits)
    )));
    for line in csv.split("\r\n").filter(|l| !l.is_empty()) {
        for cell in line.split(',') {
            assert!(!cell.trim_start_matches('"').starts_with(['=', '+', '-', '@']), "{cell:?} in {line:?}");
        }
    }
    let md = k.get(&format!("/reports/{id}/export.md")).await.text().await.unwrap();
    assert!(md.starts_with(&format!("## Annual report for {YEAR_NAME}\n")), "{md}");
    assert!(md.contains(&format!("| At the start of the year | {} |", children["start"])), "{md}");
    // The page shows the same words.
    let page = k.get(&format!("/reports/{id}")).await.text().await.unwrap();
    assert!(page.contains(&format!("Annual report for {YEAR_NAME}")));
    assert!(page.contains(&format!("data-label=\"Children\">{}</td>", children["start"])), "{page}");

    // The year's public figures were approved with it, with the same numbers.
    let figures = k.get("/figures").await.text().await.unwrap();
    let end = figures.find(&format!("\">{YEAR_NAME}</a>")).expect("the year's figures in the list");
    let table = figures[..end].rsplit("/figures/").next().unwrap().to_owned();
    assert_eq!(doc["figures_table"], table);
    let fig = json(&mut k, &format!("/figures/{table}/export.json")).await;
    assert_eq!(fig["period"], YEAR);
    assert_eq!(fig["helped_to_safety"], doc["helped_to_safety"]);
    for (row, mine) in fig["rows"].as_array().unwrap().iter().zip(doc["resettled"].as_array().unwrap()) {
        assert_eq!(row["code"], mine["code"]);
        assert_eq!(row["resettlements"]["value"], mine["value"]);
        assert_eq!(row["resettlements"]["text"], mine["text"]);
    }
    // And it cannot be approved again on its own.
    let r = k.get(&format!("/figures/new?period={YEAR}")).await;
    assert_eq!(r.status(), 422);

    // The approval is audited on the report's id, in a request of its own.
    let log = t.app.audit_log().await;
    let approval: Vec<_> = log.iter().filter(|e| e.action == "report.approve").collect();
    assert_eq!(approval.len(), 1);
    assert_eq!((approval[0].target.as_str(), approval[0].outcome.as_str()), (id.as_str(), "ok"));
    assert!(!log.iter().any(|e| e.action.starts_with("case.") && e.request_id == approval[0].request_id));
    assert!(
        !log.iter().any(|e| e.action == "figures.approve"),
        "the table is approved by the report's entry"
    );
    let case_ids: Vec<String> = w.cases.iter().map(|c| c.to_string()).collect();
    for e in log
        .iter()
        .filter(|e| e.action.starts_with("report.") || e.action == "aid.read" || e.action == "export")
    {
        assert!(!case_ids.contains(&e.target), "{} names a case", e.action);
    }
    assert!(
        log.iter().any(|e| e.action == "aid.read" && e.target.is_empty() && e.outcome == "ok"),
        "the preview read every shelter's aid"
    );
}

#[tokio::test]
async fn annual_report_a_year_is_approved_once_even_by_two_approvals_at_once() {
    let (t, _) = setup().await;
    let mut k = t.login_coordinator().await;
    // Not ended yet: the year from September 2025.
    let r = k.get("/reports/new?year=2025").await;
    assert_eq!(r.status(), 422);
    assert!(r.text().await.unwrap().contains("This fiscal year has not ended yet"));
    // A bad year is named beside the field, the input kept.
    let r = k.get("/reports/new?year=2025-Q1").await;
    assert_eq!(r.status(), 422);
    let body = r.text().await.unwrap();
    assert!(body.contains("value=\"2025-Q1\""), "{body}");
    assert!(body.contains("<p class=\"field-error\" role=\"alert\">Write a fiscal year as the year it starts in, such as 2025.</p>"), "{body}");
    // A preview that changed before approval is not approved: the new one is shown.
    let preview = k.get(&format!("/reports/new?year={YEAR}")).await.text().await.unwrap();
    let (csrf, digest) = (field(&preview, "csrf"), field(&preview, "digest"));
    let late = entry(&t, ShelterId::random(), "2025-02", AidKind::Clothes, 77, 7);
    seal_entries(&t, &[late]).await;
    let r = k.post("/reports", &[("csrf", &csrf), ("year", YEAR), ("digest", &digest)]).await;
    assert_eq!(r.status(), 409);
    let body = r.text().await.unwrap();
    assert!(body.contains("The report changed since the preview was shown"), "{body}");
    let digest = field(&body, "digest");
    // Two approvals of the same preview at once: one is published.
    let mut other = k.clone();
    let form = [("csrf", csrf.as_str()), ("year", YEAR), ("digest", digest.as_str())];
    let (a, b) = tokio::join!(k.post("/reports", &form), other.post("/reports", &form));
    let mut statuses = [a.status().as_u16(), b.status().as_u16()];
    statuses.sort_unstable();
    assert_eq!(statuses, [303, 422]);
    let refused = if a.status() == 422 { a } else { b };
    assert!(refused.text().await.unwrap().contains("A year is approved only once"));
    // Once approved, the form refuses the year with the reason, and the
    // list of years ready no longer offers it.
    let r = k.post("/reports", &[("csrf", &csrf), ("year", YEAR), ("digest", &digest)]).await;
    assert_eq!(r.status(), 422);
    let r = k.get(&format!("/reports/new?year={YEAR}")).await;
    assert_eq!(r.status(), 422);
    assert!(!k.get("/reports/new").await.text().await.unwrap().contains(&format!("?year={YEAR}\"")));
    let log = t.app.audit_log().await;
    let approvals: Vec<_> = log.iter().filter(|e| e.action == "report.approve").collect();
    assert_eq!(approvals.iter().filter(|e| e.outcome == "ok").count(), 1);
    assert!(approvals.iter().any(|e| e.outcome == "conflict"));
    assert!(approvals.iter().any(|e| e.outcome == "invalid"));
    let reports = t.app.vault.store().annual_reports().await.unwrap();
    assert_eq!(reports.len(), 1);
    let tables = t.app.vault.store().figure_tables().await.unwrap();
    assert_eq!(tables.len(), 1, "one figures table for the year");
}

#[tokio::test]
async fn annual_report_reaches_communications_once_approved_and_never_caseworkers() {
    let (t, w) = setup().await;
    let comms = t.web_user("rep.comms", Role::Communications).await;
    let worker = t.web_user("rep.worker", Role::Caseworker).await;
    let mut c = t.login(&comms).await;
    let mut cw = t.login(&worker).await;
    // Before approval: communications staff see no report, and no preview.
    let list = c.get("/reports").await;
    assert_eq!(list.status(), 200);
    let list = list.text().await.unwrap();
    assert!(list.contains("No annual report has been approved yet."), "{list}");
    assert!(!list.contains("/reports/new"), "no preparing for communications staff");
    assert_eq!(c.get("/reports/new").await.status(), 403);
    assert_eq!(c.get(&format!("/reports/new?year={YEAR}")).await.status(), 403);
    let csrf = c.csrf("/account").await;
    assert_eq!(c.post("/reports", &[("csrf", &csrf), ("year", YEAR), ("digest", "x")]).await.status(), 403);
    // Caseworkers: nothing, before.
    let fake = safehouse::ids::ReportId::random().to_string();
    let routes = |id: &str| {
        vec![
            "/reports".to_owned(),
            "/reports/new".to_owned(),
            format!("/reports/new?year={YEAR}"),
            format!("/reports/{id}"),
            format!("/reports/{id}/export.md"),
            format!("/reports/{id}/export.csv"),
            format!("/reports/{id}/export.json"),
        ]
    };
    let worker_csrf = cw.csrf("/account").await;
    for path in routes(&fake) {
        assert_eq!(cw.get(&path).await.status(), 403, "caseworker GET {path}");
    }
    let r = cw.post("/reports", &[("csrf", &worker_csrf), ("year", YEAR), ("digest", "x")]).await;
    assert_eq!(r.status(), 403);

    let mut k = t.login_coordinator().await;
    let (id, _) = approve(&mut k).await;
    // After: communications staff read and export it.
    let list = c.get("/reports").await.text().await.unwrap();
    assert!(list.contains(&format!("<a href=\"/reports/{id}\">{YEAR_NAME}</a>")), "{list}");
    let home = c.get("/").await.text().await.unwrap();
    assert!(home.contains("<a href=\"/reports\">"), "the communications home links the reports");
    let reads = [
        (format!("/reports/{id}"), "text/html"),
        (format!("/reports/{id}/export.md"), "text/markdown"),
        (format!("/reports/{id}/export.csv"), "text/csv"),
        (format!("/reports/{id}/export.json"), "application/json"),
    ];
    // Each export in the three languages, named in its own; any other refused.
    let show = c.get(&format!("/reports/{id}")).await.text().await.unwrap();
    for (code, name) in [("en", "English"), ("ja", "日本語"), ("ko", "한국어")] {
        let link = format!(
            "<a href=\"/reports/{id}/export.csv?lang={code}\" hreflang=\"{code}\" lang=\"{code}\" download>{name}</a>"
        );
        assert!(show.contains(&link), "{link} in {show}");
    }
    assert_eq!(c.get(&format!("/reports/{id}/export.md?lang=xx")).await.status(), 400);
    for (path, kind) in &reads {
        let r = c.get(path).await;
        assert_eq!(r.status(), 200, "communications {path}");
        assert!(r.headers()["content-type"].to_str().unwrap().starts_with(kind), "{path}");
        if path.contains("export") {
            let disposition = r.headers()["content-disposition"].to_str().unwrap().to_owned();
            assert!(
                disposition.starts_with(&format!("attachment; filename=\"annual-report-{YEAR}.")),
                "{disposition}"
            );
        }
    }
    let ko = c.get(&format!("/reports/{id}/export.md?lang=ko")).await;
    assert_eq!(ko.status(), 200);
    assert_eq!(ko.headers()["content-language"], "ko", "the file says its language");
    assert_eq!(c.get(&format!("/reports/{fake}")).await.status(), 404, "an unknown report");
    assert_eq!(c.get(&format!("/reports/{fake}/export.csv")).await.status(), 404);
    assert_eq!(c.get("/reports/not-an-id").await.status(), 404);
    assert_eq!(c.get("/reports/new").await.status(), 403, "still no preview");
    // No case, by any route.
    assert_eq!(c.get("/cases").await.status(), 403);
    for case in &w.cases[..3] {
        let status = c.get(&format!("/cases/{case}")).await.status().as_u16();
        assert!(status == 403 || status == 404, "communications on a case: {status}");
    }
    // Caseworkers: nothing, after either.
    for path in routes(&id) {
        assert_eq!(cw.get(&path).await.status(), 403, "caseworker GET {path}");
    }
    for lang in ["en", "ja", "ko", "xx"] {
        let path = format!("/reports/{id}/export.json?lang={lang}");
        assert_eq!(cw.get(&path).await.status(), 403, "caseworker GET {path}");
    }
    let r = cw.post("/reports", &[("csrf", &worker_csrf), ("year", YEAR), ("digest", "x")]).await;
    assert_eq!(r.status(), 403);
    // Each read and export left its entry on the report's id.
    let log = t.app.audit_log().await;
    let exports: Vec<_> = log.iter().filter(|e| e.action == "export" && e.outcome == "ok").collect();
    assert_eq!(exports.len(), 4);
    let targets: Vec<&str> = exports.iter().map(|e| e.target.as_str()).collect();
    let (en, ko) = (format!("{id} en"), format!("{id} ko"));
    assert_eq!(targets, [en.as_str(), &en, &en, &ko], "{exports:?}");
    assert!(exports.iter().all(|e| e.role == "communications"), "{exports:?}");
    assert!(log.iter().any(|e| e.action == "report.read" && e.target == id && e.role == "communications"));
    let denied =
        log.iter().filter(|e| e.action == "route.denied" && e.target.starts_with("/reports")).count();
    assert!(denied >= 16, "{denied} refusals recorded");
}

/// What a thief copying the data directory finds: none of the report's
/// words or the added kind's name in clear.
#[tokio::test]
async fn annual_report_is_sealed_at_rest() {
    let (t, _) = setup().await;
    let mut k = t.login_coordinator().await;
    approve(&mut k).await;
    for (path, bytes) in t.app.at_rest() {
        for needle in ["=Blankets", "Graduated", "fewer_than_ten", "food_kg"] {
            for encoded in encodings(needle) {
                assert!(!contains(&bytes, &encoded), "{needle} in clear in {}", path.display());
            }
        }
    }
}
