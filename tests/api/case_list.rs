//! The case list over HTTP: 50 rows a page with next and previous keeping
//! the filters, the count, each sort order and its header, each filter of
//! the vocabulary (with `none` and `closed`), a named error for each bad
//! value with the rest kept, and the assignee column for coordinators only.

use safehouse::accounts::model::Role;
use safehouse::cases::model::{EventDate, MilestoneKind, Note, Outcome, ShelterCode, Stage, Status};
use safehouse::cases::service::{self as cases, MilestoneDraft};
use safehouse::ids::CaseId;
use safehouse::membership;
use safehouse::shelters::{self, ShelterDetails};

use crate::helpers::*;

/// An alias for the n-th case: "Aawing", "Abwing", ... in alphabetical order.
fn word(n: usize) -> String {
    format!("{}{}wing", (b'A' + (n / 26) as u8) as char, (b'a' + (n % 26) as u8) as char)
}

/// The page as a browser reads its links: askama writes `&` as `&#38;`.
async fn page(c: &mut Client, path: &str) -> (u16, String) {
    let response = c.get(path).await;
    let status = response.status().as_u16();
    (status, response.text().await.unwrap().replace("&#38;", "&"))
}

fn rows(body: &str) -> usize {
    body.matches("data-label=\"Aliases\"").count()
}

/// Where each alias first appears: the order the rows are in.
fn order(body: &str, aliases: &[&str]) -> Vec<String> {
    let mut found: Vec<(usize, String)> = aliases
        .iter()
        .filter_map(|a| body.find(&format!(">{a}</a>")).map(|at| (at, (*a).to_owned())))
        .collect();
    found.sort();
    found.into_iter().map(|(_, a)| a).collect()
}

#[tokio::test]
async fn the_list_pages_by_fifty_counts_and_keeps_the_filters_in_its_links() {
    let t = spawn_app().await;
    for n in 0..120 {
        cases::create(&t.app.vault, &t.app.coordinator, draft(&[&word(n)], "n")).await.unwrap();
        t.clock.advance(time::Duration::seconds(1));
    }
    let mut k = t.login_coordinator().await;

    let (status, first) = page(&mut k, "/cases").await;
    assert_eq!(status, 200);
    assert_eq!(rows(&first), 50);
    assert!(first.contains("120 cases, 1–50 shown"), "{first}");
    assert!(first.contains("Page 1 of 3"));
    assert!(first.contains("rel=\"next\" href=\"/cases?page=2\""));
    assert!(!first.contains("rel=\"prev\""), "no previous page before the first");
    assert_eq!(order(&first, &[&word(119), &word(118)]), [word(119), word(118)], "latest update first");
    assert!(!first.contains(&format!(">{}</a>", word(69))), "the 51st row is on page 2");

    let (_, second) = page(&mut k, "/cases?page=2").await;
    assert_eq!(rows(&second), 50);
    assert!(second.contains("120 cases, 51–100 shown"));
    assert!(
        second.contains("rel=\"prev\" href=\"/cases\"")
            && second.contains("rel=\"next\" href=\"/cases?page=3\"")
    );
    assert!(second.contains(&format!(">{}</a>", word(69))));

    let (_, third) = page(&mut k, "/cases?page=3").await;
    assert_eq!(rows(&third), 20);
    assert!(third.contains("120 cases, 101–120 shown") && third.contains("Page 3 of 3"));
    assert!(third.contains("rel=\"prev\" href=\"/cases?page=2\"") && !third.contains("rel=\"next\""));
    assert!(third.contains(&format!(">{}</a>", word(0))), "the oldest last");

    // The filters and the order stay in the paging links.
    let (_, narrowed) = page(&mut k, "/cases?q=wing&sort=alias&page=2").await;
    assert!(narrowed.contains("rel=\"prev\" href=\"/cases?q=wing&sort=alias\""), "{narrowed}");
    assert!(narrowed.contains("rel=\"next\" href=\"/cases?q=wing&sort=alias&page=3\""));
    assert!(narrowed.contains(&format!(">{}</a>", word(50))), "alias order: the 51st alias opens page 2");
    let (_, few) = page(&mut k, "/cases?q=Aa").await;
    assert_eq!(rows(&few), 1);
    assert!(
        few.contains("1 case, shown below") && few.contains("Page 1 of 1") && !few.contains("rel=\"next\"")
    );

    // Beyond the end, or page 0: said so, and a page that exists is shown.
    let (status, beyond) = page(&mut k, "/cases?page=9").await;
    assert_eq!(status, 422);
    assert!(beyond.contains("There is no page 9: the list has 3 pages. This is the last one."), "{beyond}");
    assert_eq!(rows(&beyond), 20);
    let (status, zero) = page(&mut k, "/cases?page=0").await;
    assert_eq!(status, 422);
    assert!(zero.contains("Write the page as a whole number from 1."));
    assert_eq!(rows(&zero), 50);
    let (status, none) = page(&mut k, "/cases?q=nothing&page=2").await;
    assert_eq!(status, 422);
    assert!(none.contains("No cases match.") && none.contains("There is no page 2: the list has one page."));
}

#[tokio::test]
async fn each_sort_order_and_its_header() {
    let t = spawn_app().await;
    let specs = [("Cedar", Stage::Sheltered), ("alder", Stage::Arrived), ("Birch", Stage::Intake)];
    for (alias, stage) in specs {
        let mut d = draft(&[alias], "n");
        d.stage = stage;
        cases::create(&t.app.vault, &t.app.coordinator, d).await.unwrap();
        t.clock.advance(time::Duration::seconds(5));
    }
    let mut k = t.login_coordinator().await;
    let names = ["Cedar", "alder", "Birch"];
    let expect = [
        ("/cases", ["Birch", "alder", "Cedar"]),
        ("/cases?sort=updated&dir=asc", ["Cedar", "alder", "Birch"]),
        ("/cases?sort=alias", ["alder", "Birch", "Cedar"]),
        ("/cases?sort=alias&dir=desc", ["Cedar", "Birch", "alder"]),
        ("/cases?sort=stage", ["Birch", "Cedar", "alder"]),
        ("/cases?sort=stage&dir=desc", ["alder", "Cedar", "Birch"]),
    ];
    for (path, want) in expect {
        let (status, body) = page(&mut k, path).await;
        assert_eq!(status, 200, "{path}");
        assert_eq!(order(&body, &names), want, "{path}");
    }

    // The current column says its order; its link turns it round, the
    // others start in their own order.
    let (_, body) = page(&mut k, "/cases").await;
    assert!(body.contains("aria-sort=\"descending\"><a href=\"/cases?dir=asc\">Updated</a>"), "{body}");
    assert!(body.contains("<a href=\"/cases?sort=alias\">Aliases</a>"));
    assert!(body.contains("<a href=\"/cases?sort=stage\">Stage</a>"));
    assert_eq!(body.matches("aria-sort=").count(), 1, "one current column");
    let (_, body) = page(&mut k, "/cases?sort=alias&stage=intake").await;
    assert!(
        body.contains(
            "aria-sort=\"ascending\"><a href=\"/cases?stage=intake&sort=alias&dir=desc\">Aliases</a>"
        ),
        "the filter stays in the header links: {body}"
    );
    assert!(body.contains("<a href=\"/cases?stage=intake\">Updated</a>"));
    let (_, body) = page(&mut k, "/cases?sort=stage&dir=desc").await;
    assert!(body.contains("aria-sort=\"descending\"><a href=\"/cases?sort=stage\">Stage</a>"));
    // The form offers the same choices, for a phone where the header is hidden.
    assert!(
        body.contains("<option value=\"stage\" selected>")
            && body.contains("<option value=\"desc\" selected>")
    );
}

async fn close(t: &TestApp, id: CaseId, aliases: &[&str], outcome: Outcome) {
    let mut d = draft(aliases, "n");
    d.status = Status::Closed(outcome);
    cases::update(&t.app.vault, &t.app.coordinator, id, 1, d).await.unwrap();
}

#[tokio::test]
async fn each_filter_of_the_vocabulary_including_none_and_closed() {
    let t = spawn_app().await;
    let worker = t.web_user("list.worker", Role::Caseworker).await;
    let shelter = shelters::create(
        &t.app.vault,
        &t.app.coordinator,
        ShelterCode::parse("LST-01").unwrap(),
        ShelterDetails::parse("North", "10", "").unwrap(),
    )
    .await
    .unwrap();
    // Stale: created now, untouched for 20 days.
    let stale = cases::create(&t.app.vault, &t.app.coordinator, draft(&["Stalewood"], "n")).await.unwrap();
    t.clock.advance(time::Duration::days(20));
    let _open = cases::create(&t.app.vault, &t.app.coordinator, draft(&["Openfield"], "n")).await.unwrap();
    let mut held = draft(&["Heldback"], "n");
    held.status = Status::OnHold;
    cases::create(&t.app.vault, &t.app.coordinator, held).await.unwrap();
    let closed = cases::create(&t.app.vault, &t.app.coordinator, draft(&["Closedgate"], "n")).await.unwrap();
    close(&t, closed, &["Closedgate"], Outcome::Resettled).await;
    let mut sheltered = draft(&["Shelterby"], "n");
    sheltered.shelter = Some(shelter);
    sheltered.stage = Stage::Sheltered;
    cases::create(&t.app.vault, &worker.actor, sheltered).await.unwrap();
    let dated = cases::create(&t.app.vault, &t.app.coordinator, draft(&["Datedmark"], "n")).await.unwrap();
    let today = t.now().date();
    let milestone = |date: &str| MilestoneDraft {
        kind: MilestoneKind::Arrived,
        date: EventDate::parse(date, today).unwrap(),
        country: None,
        place_code: None,
        note: Note::parse("").unwrap(),
        sponsorship: None,
    };
    cases::add_milestone(&t.app.vault, &t.app.coordinator, dated, milestone(&today.to_string()))
        .await
        .unwrap();
    let old_mark = cases::create(&t.app.vault, &t.app.coordinator, draft(&["Oldmark"], "n")).await.unwrap();
    cases::add_milestone(&t.app.vault, &t.app.coordinator, old_mark, milestone("2024")).await.unwrap();

    let mut k = t.login_coordinator().await;
    let all = ["Stalewood", "Openfield", "Heldback", "Closedgate", "Shelterby", "Datedmark", "Oldmark"];
    let shown = |body: &str| {
        let mut v: Vec<&str> = all.iter().copied().filter(|a| body.contains(&format!(">{a}</a>"))).collect();
        v.sort_unstable();
        v
    };
    let sorted = |mut v: Vec<&'static str>| {
        v.sort_unstable();
        v
    };
    let uid = worker.actor.user_id().to_string();
    let sid = shelter.to_string();
    let checks: Vec<(String, Vec<&str>)> = vec![
        ("/cases".into(), all.to_vec()),
        ("/cases?status=closed".into(), vec!["Closedgate"]),
        ("/cases?status=closed:resettled".into(), vec!["Closedgate"]),
        ("/cases?status=closed:withdrew".into(), vec![]),
        ("/cases?status=on_hold".into(), vec!["Heldback"]),
        ("/cases?status=open".into(), vec!["Stalewood", "Openfield", "Shelterby", "Datedmark", "Oldmark"]),
        ("/cases?stage=sheltered".into(), vec!["Shelterby"]),
        (format!("/cases?shelter={sid}"), vec!["Shelterby"]),
        ("/cases?shelter=none".into(), all.iter().copied().filter(|a| *a != "Shelterby").collect()),
        (format!("/cases?assignee={uid}"), vec!["Shelterby"]),
        ("/cases?assignee=none".into(), all.iter().copied().filter(|a| *a != "Shelterby").collect()),
        ("/cases?stale_days=14".into(), vec!["Stalewood"]),
        ("/cases?stale_days=21".into(), vec![]),
        ("/cases?milestones=week".into(), vec!["Datedmark"]),
        ("/cases?milestones=month".into(), vec!["Datedmark"]),
        ("/cases?q=MARK".into(), vec!["Datedmark", "Oldmark"]),
        ("/cases?status=open&shelter=none&q=mark".into(), vec!["Datedmark", "Oldmark"]),
    ];
    for (path, want) in checks {
        let (status, body) = page(&mut k, &path).await;
        assert_eq!(status, 200, "{path}: {body}");
        assert_eq!(shown(&body), sorted(want), "{path}");
        let narrowed = path != "/cases";
        assert_eq!(
            body.contains("<details class=\"filters\" open>"),
            narrowed,
            "{path}: filters unfolded when on"
        );
    }
    let _ = stale;
    // The selects show what is applied.
    let (_, body) = page(&mut k, "/cases?status=closed&assignee=none&shelter=none&milestones=week").await;
    assert!(body.contains("<option value=\"closed\" selected>Closed (any outcome)</option>"), "{body}");
    assert!(body.contains("<option value=\"none\" selected>nobody</option>"));
    assert!(body.contains("<option value=\"none\" selected>No shelter</option>"));
    assert!(body.contains("<option value=\"week\" selected>"));
    assert!(body.contains("(4 on)"), "the folded filters say how many are on");
}

#[tokio::test]
async fn each_bad_filter_value_is_named_beside_its_field_and_the_rest_applies() {
    let t = spawn_app().await;
    let mut arrived = draft(&["Arrowhead"], "n");
    arrived.stage = Stage::Arrived;
    cases::create(&t.app.vault, &t.app.coordinator, arrived).await.unwrap();
    cases::create(&t.app.vault, &t.app.coordinator, draft(&["Intaker"], "n")).await.unwrap();
    let mut k = t.login_coordinator().await;

    let unknown = format!("shelter={}", safehouse::ids::ShelterId::random());
    let bad = [
        ("stale_days=abc", "stale_days-error", "Write the days as a whole number from 1 to 3650."),
        ("stale_days=0", "stale_days-error", "Write the days as a whole number from 1 to 3650."),
        ("stale_days=4000", "stale_days-error", "Write the days as a whole number from 1 to 3650."),
        ("stage=nonsense", "stage-error", "“nonsense” is not a stage: choose one from the list."),
        ("status=closed:maybe", "status-error", "“closed:maybe” is not a status"),
        ("shelter=somewhere", "shelter-error", "“somewhere” is not a shelter"),
        (unknown.as_str(), "shelter-error", "No shelter in the register has this id"),
        ("assignee=bob", "assignee-error", "“bob” is not a caseworker"),
        ("milestones=year", "milestones-error", "Choose milestones this week or this month."),
        ("sort=size", "sort-error", "Sort by last update, stage or alias."),
        ("dir=up", "dir-error", "Choose ascending or descending order."),
        ("page=abc", "", "Write the page as a whole number from 1."),
    ];
    for (query, id, message) in bad {
        // Every bad value beside a good filter: the good one still applies.
        let path = format!("/cases?q=Arrow&{query}");
        let (status, body) = page(&mut k, &path).await;
        assert_eq!(status, 422, "{path}");
        assert!(body.contains(message), "{path}: {body}");
        if !id.is_empty() {
            assert!(
                body.contains(&format!("<p id=\"{id}\" class=\"field-error\">")),
                "{path}: beside its field"
            );
        }
        assert!(body.contains("role=\"alert\""), "{path}: announced");
        assert!(body.contains("<details class=\"filters\" open>"), "{path}");
        assert!(
            body.contains(">Arrowhead</a>") && !body.contains(">Intaker</a>"),
            "{path}: the rest applies"
        );
        assert!(body.contains("name=\"q\" value=\"Arrow\""), "{path}: the good value kept");
    }
    // What was typed in a text field comes back as typed.
    let (_, body) = page(&mut k, "/cases?stale_days=abc&q=Arrow").await;
    assert!(
        body.contains("id=\"stale_days\" name=\"stale_days\" inputmode=\"numeric\" value=\"abc\""),
        "{body}"
    );
    assert!(body.contains("value=\"Arrow\""));
    let long = "x".repeat(41);
    let (status, body) = page(&mut k, &format!("/cases?q={long}")).await;
    assert_eq!(status, 422);
    assert!(body.contains(&format!("value=\"{long}\"")) && body.contains("at most 40 characters"));
    // A hostile value is quoted escaped, never as markup.
    let (status, body) = page(&mut k, "/cases?stage=%3Cscript%3Ex").await;
    assert_eq!(status, 422);
    assert!(!body.contains("<script>x") && body.contains("&#60;script&#62;x"));
}

#[tokio::test]
async fn the_assignee_column_is_for_coordinators_and_a_caseworker_lists_only_their_cases() {
    let t = spawn_app().await;
    let a = t.web_user("list.alpha", Role::Caseworker).await;
    let b = t.web_user("list.beta", Role::Caseworker).await;
    let shared = cases::create(&t.app.vault, &a.actor, draft(&["Sharedoak"], "n")).await.unwrap();
    cases::create(&t.app.vault, &b.actor, draft(&["Betaonly"], "n")).await.unwrap();
    cases::create(&t.app.vault, &t.app.coordinator, draft(&["Nobodys"], "n")).await.unwrap();
    cases::list_visible(&t.app.vault, &t.app.coordinator).await.unwrap();
    membership::assign(&t.app.vault, &t.app.coordinator, shared, b.actor.user_id()).await.unwrap();

    let mut k = t.login_coordinator().await;
    let (_, body) = page(&mut k, "/cases").await;
    assert!(body.contains("<th scope=\"col\">Assigned to</th>"));
    let row = |alias: &str| {
        let start = body.find(&format!(">{alias}</a>")).unwrap();
        body[start..].split("</tr>").next().unwrap().to_owned()
    };
    assert!(row("Sharedoak").contains(">list.alpha, list.beta</td>"), "{}", row("Sharedoak"));
    assert!(row("Betaonly").contains(">list.beta</td>"));
    assert!(row("Nobodys").contains("data-label=\"Assigned to\" class=\"assignees\">nobody</td>"));
    assert!(body.contains("<option value=\"none\">nobody</option>"), "the assignee filter offers nobody");

    let mut w = t.login(&a).await;
    let (_, mine) = page(&mut w, "/cases").await;
    assert!(mine.contains(">Sharedoak</a>") && !mine.contains("Betaonly") && !mine.contains("Nobodys"));
    assert!(!mine.contains("Assigned to"), "no assignee column or filter for a caseworker");
    assert!(!mine.contains("list.beta"), "no other caseworker named in a caseworker's list");
    assert!(mine.contains("1 case, shown below"));
}
