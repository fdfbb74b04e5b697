//! Home pages per role (issue 11): every figure of the coordinator's home
//! equals a count made independently from the case service (each case read
//! in full, not from the index) over a generated data set, and links to
//! the case list filtered to exactly it; a caseworker's home counts only
//! their own cases and names those someone else changed since they looked;
//! the auditor's, the administrator's and communications staff's homes.

use safehouse::accounts::model::{Role, Username};
use safehouse::accounts::service as accounts;
use safehouse::cases::model::ShelterCode;
use safehouse::cases::model::{EventDate, MilestoneKind, Note, Outcome, Stage, Status};
use safehouse::cases::service::{self as cases, Case, MilestoneDraft};
use safehouse::ids::{CaseId, ShelterId, UserId};
use safehouse::membership;
use safehouse::shelters::{self, ShelterDetails};
use time::Duration;

use crate::helpers::*;

/// The numbers of every `<a href="HREF">N</a>` of a page, in order (the
/// href as the page writes it: askama writes `&` as `&#38;`); links in
/// words (the menu's) are not figures.
fn figures(body: &str, href: &str) -> Vec<usize> {
    let needle = format!("<a href=\"{}\">", href.replace('&', "&#38;"));
    body.match_indices(&needle)
        .filter_map(|(i, _)| {
            let rest = &body[i + needle.len()..];
            rest[..rest.find("</a>").unwrap()].trim().parse().ok()
        })
        .collect()
}

fn milestone(kind: MilestoneKind, date: time::Date) -> MilestoneDraft {
    MilestoneDraft {
        kind,
        date: EventDate::from_stored(&date.to_string()).unwrap(),
        country: None,
        place_code: None,
        note: Note::parse("").unwrap(),
        sponsorship: None,
    }
}

/// A generated organisation: two shelters, two caseworkers, 33 cases over
/// every stage, both open statuses and several outcomes, in three age
/// groups of last update (65, 45 and 25 days ago, then a few today), with
/// milestones this week, earlier this month and long ago.
struct World {
    t: TestApp,
    ids: Vec<CaseId>,
    shelters: Vec<ShelterId>,
    workers: Vec<WebUser>,
}

async fn world() -> World {
    let t = spawn_app().await;
    let k = &t.app.coordinator;
    let vault = &t.app.vault;
    let mut shelter_ids = Vec::new();
    for (code, capacity) in [("NORTH-01", "4"), ("SOUTH-02", "30")] {
        let details = ShelterDetails::parse("Province", capacity, "").unwrap();
        shelter_ids
            .push(shelters::create(vault, k, ShelterCode::parse(code).unwrap(), details).await.unwrap());
    }
    let workers =
        vec![t.web_user("case.anna", Role::Caseworker).await, t.web_user("case.bo", Role::Caseworker).await];
    let mut ids = Vec::new();
    for i in 0..33usize {
        if i == 11 || i == 22 {
            t.clock.advance(Duration::days(20));
        }
        let aliases: Vec<String> = (0..1 + i % 3).map(|p| format!("Person{i}x{p}")).collect();
        let names: Vec<&str> = aliases.iter().map(String::as_str).collect();
        let mut d = draft(&names, "generated");
        d.stage = Stage::ALL[i % 11];
        d.status = if i % 4 == 1 { Status::OnHold } else { Status::Open };
        d.shelter = match i % 3 {
            0 => None,
            1 => Some(shelter_ids[0]),
            _ => Some(shelter_ids[1]),
        };
        let id = cases::create(vault, k, d.clone()).await.unwrap();
        if i % 4 == 3 {
            // Closed with an outcome (only a coordinator closes).
            d.status = Status::Closed(Outcome::ALL[i % Outcome::ALL.len()]);
            cases::update(vault, k, id, 1, d).await.unwrap();
        }
        if i % 5 != 4 {
            membership::assign(vault, k, id, workers[i % 2].actor.user_id()).await.unwrap();
        }
        ids.push(id);
    }
    t.clock.advance(Duration::days(25));
    let today = t.now().date();
    let monday = today - Duration::days(i64::from(today.weekday().number_days_from_monday()));
    for (n, id) in ids.iter().enumerate().filter(|(n, _)| n % 6 == 0) {
        cases::add_milestone(vault, k, *id, milestone(MilestoneKind::Moved, today)).await.unwrap();
        if n % 12 == 0 {
            cases::add_milestone(vault, k, *id, milestone(MilestoneKind::Sheltered, monday)).await.unwrap();
        }
    }
    // Earlier this month (when the month began before this week), and
    // long ago: counted only where they fall.
    let first = today.replace_day(1).unwrap();
    cases::add_milestone(vault, k, ids[1], milestone(MilestoneKind::ContactMade, first)).await.unwrap();
    cases::add_milestone(
        vault,
        k,
        ids[2],
        milestone(MilestoneKind::ContactMade, today - Duration::days(400)),
    )
    .await
    .unwrap();
    // An assignment after a milestone change keeps the case's last update.
    membership::assign(vault, k, ids[0], workers[1].actor.user_id()).await.unwrap();
    World { t, ids, shelters: shelter_ids, workers }
}

/// Every case read in full through the case service (its own key path, not
/// the index), with its holders; its last update is the time of the latest
/// write to it in the audit trail (a milestone change updates a case
/// without rewriting its placement field).
async fn truth(w: &World) -> Vec<(Case, Vec<UserId>)> {
    let writes = ["case.create", "case.update", "milestone.add", "milestone.edit"];
    let mut out = Vec::new();
    for id in &w.ids {
        let mut case = cases::read(&w.t.app.vault, &w.t.app.coordinator, *id).await.unwrap();
        let (holders, _) =
            membership::case_assignees(&w.t.app.vault, &w.t.app.coordinator, *id).await.unwrap();
        let trail = w.t.app.vault.store().audit_of_target(&id.to_string(), i64::MAX, 1000).await.unwrap();
        let last = trail.iter().find(|r| r.outcome == "ok" && writes.contains(&r.action.as_str())).unwrap();
        case.updated_at =
            time::OffsetDateTime::parse(&last.at, &time::format_description::well_known::Rfc3339).unwrap();
        out.push((case, holders.into_iter().map(|(u, _)| u).collect()));
    }
    out
}

#[tokio::test]
async fn dashboards_every_coordinator_figure_equals_an_independent_count_and_links_to_its_list() {
    let w = world().await;
    let all = truth(&w).await;
    let now = w.t.now();
    let mut k = w.t.login_coordinator().await;
    let body = k.get("/").await.text().await.unwrap();

    let count = |f: &dyn Fn(&Case, &[UserId]) -> bool| all.iter().filter(|(c, h)| f(c, h)).count();
    let people = |f: &dyn Fn(&Case) -> bool| {
        all.iter().filter(|(c, _)| f(c)).map(|(c, _)| c.group.len()).sum::<usize>()
    };

    assert_eq!(figures(&body, "/cases"), vec![33], "all cases");
    // The pipeline: all eleven stages, cases and people, then by status.
    for stage in Stage::ALL {
        let s = stage.as_str();
        let at = |c: &Case| c.stage == stage;
        assert_eq!(
            figures(&body, &format!("/cases?stage={s}")),
            vec![count(&|c, _| at(c)), people(&at)],
            "{s}"
        );
        for (code, status) in
            [("open", Some(Status::Open)), ("on_hold", Some(Status::OnHold)), ("closed", None)]
        {
            let expected = count(&|c, _| at(c) && status.map_or(c.status.is_closed(), |st| c.status == st));
            assert_eq!(
                figures(&body, &format!("/cases?stage={s}&status={code}")),
                vec![expected],
                "{s} {code}"
            );
        }
    }
    // Status: open, on hold, and each outcome.
    for status in Status::ALL {
        let is = |c: &Case| c.status == status;
        assert_eq!(
            figures(&body, &format!("/cases?status={}", status.as_str())),
            vec![count(&|c, _| is(c)), people(&is)],
            "{}",
            status.as_str()
        );
    }
    assert!(count(&|c, _| c.status.is_closed()) >= 8, "the data set closes cases with several outcomes");
    // Occupancy: people in open and in on-hold cases at each shelter.
    for (id, key) in w.shelters.iter().map(|s| (Some(*s), s.to_string())).chain([(None, "none".to_owned())]) {
        for (code, status) in [("open", Status::Open), ("on_hold", Status::OnHold)] {
            let expected = people(&|c| c.shelter == id && c.status == status);
            assert_eq!(
                figures(&body, &format!("/cases?shelter={key}&status={code}")),
                vec![expected],
                "{key} {code}"
            );
        }
        assert!(body.contains(&format!("<a href=\"/cases?shelter={key}\">")), "the shelter's whole list");
    }
    // NORTH-01 holds more people than its capacity of 4: the page says so.
    let north = people(&|c| c.shelter == Some(w.shelters[0]) && !c.status.is_closed());
    assert!(north > 4, "the data set overfills one shelter");
    assert!(body.contains(&format!("Over capacity by {}", north - 4)), "over capacity");
    // Not updated for 14, 30 and 60 days, open and on hold.
    for days in [14i64, 30, 60] {
        for (code, status) in [("open", Status::Open), ("on_hold", Status::OnHold)] {
            let expected = count(&|c, _| c.status == status && (now - c.updated_at).whole_days() >= days);
            assert_eq!(
                figures(&body, &format!("/cases?stale_days={days}&status={code}")),
                vec![expected],
                "{days} {code}"
            );
        }
    }
    assert_ne!(
        figures(&body, "/cases?stale_days=30&status=open"),
        figures(&body, "/cases?stale_days=60&status=open"),
        "the thresholds tell cases apart"
    );
    // Load: open cases each caseworker holds, and those no one holds.
    for worker in &w.workers {
        let uid = worker.actor.user_id();
        let expected = count(&|c, h| c.status == Status::Open && h.contains(&uid));
        assert_eq!(
            figures(&body, &format!("/cases?assignee={uid}&status=open")),
            vec![expected],
            "{}",
            worker.username
        );
        assert!(body.contains(&format!("<th scope=\"row\">{}</th>", worker.username)));
    }
    let unheld = count(&|c, h| c.status == Status::Open && h.is_empty());
    assert!(unheld > 0);
    assert_eq!(figures(&body, "/cases?assignee=none&status=open"), vec![unheld]);
    // Milestones this week and this month: how many, and in how many cases.
    let today = now.date();
    let monday = today - Duration::days(i64::from(today.weekday().number_days_from_monday()));
    let first = today.replace_day(1).unwrap();
    for (period, from) in [("week", monday), ("month", first)] {
        let within =
            |c: &Case| c.milestones.iter().filter(|m| (from..=today).contains(&m.draft.date.date())).count();
        let milestones: usize = all.iter().map(|(c, _)| within(c)).sum();
        let with = count(&|c, _| within(c) > 0);
        assert_eq!(
            figures(&body, &format!("/cases?milestones={period}")),
            vec![milestones, with],
            "{period}"
        );
    }
    // Certification: nothing waits in this world; the counts say so.
    assert_eq!(figures(&body, "/certify"), vec![0, 0]);
    // Reading all 33 cases above was bulk reading: one open flag.
    let flags = w.t.app.vault.store().flags().await.unwrap();
    assert_eq!(flags.len(), 1);
    assert_eq!(figures(&body, "/audit/flags"), vec![1]);
    assert!(body.contains("coord.first"), "the flag names who read");
    // Charts: SVG from the server, hidden from screen readers, beside tables.
    assert!(body.matches("<svg class=\"chart\"").count() >= 4);
    assert!(body.contains("aria-hidden=\"true\""));
    assert!(!body.contains("style="), "no inline style: the CSP forbids it");
}

#[tokio::test]
async fn dashboards_a_certification_waiting_shows_on_the_coordinators_home() {
    let t = spawn_app().await;
    let k = &t.app.coordinator;
    // A caseworker holding a case has their password reset: the grant
    // waits for their new key's certification.
    let worker = t.app.user("case.waits", Role::Caseworker, true).await;
    let id = cases::create(&t.app.vault, k, draft(&["Tern"], "x")).await.unwrap();
    membership::assign(&t.app.vault, k, id, worker.user_id()).await.unwrap();
    let token = accounts::reset_password(&t.app.vault, &t.app.admin, worker.user_id()).await.unwrap();
    accounts::activate(&t.app.vault, token.expose(), &password("a new test passphrase 2")).await.unwrap();
    let mut c = t.login_coordinator().await;
    let body = c.get("/").await.text().await.unwrap();
    assert_eq!(figures(&body, "/certify"), vec![1, 1], "one key, one grant waiting: {body}");
}

#[tokio::test]
async fn dashboards_a_caseworkers_home_counts_only_their_cases_and_names_changes_by_others() {
    let t = spawn_app().await;
    let k = &t.app.coordinator;
    let vault = &t.app.vault;
    let me = t.web_user("case.mine", Role::Caseworker).await;
    let other = t.web_user("case.other", Role::Caseworker).await;
    let uid = me.actor.user_id();
    let make = async |alias: &str, status: Status, to: Option<UserId>| {
        let mut d = draft(&[alias], "x");
        d.status = status;
        let id = cases::create(vault, k, d).await.unwrap();
        if let Some(u) = to {
            membership::assign(vault, k, id, u).await.unwrap();
        }
        id
    };
    let stale = make("Stalewood", Status::Open, Some(uid)).await;
    let waiting = make("Waitinglark", Status::OnHold, Some(uid)).await;
    let seen = make("Seenfinch", Status::Open, Some(uid)).await;
    let changed = make("Changedowl", Status::Open, Some(uid)).await;
    // Not mine: on hold and stale, but counted nowhere on my home.
    make("Otherheron", Status::OnHold, Some(other.actor.user_id())).await;
    make("Nobodyswift", Status::OnHold, None).await;
    t.clock.advance(Duration::days(15));
    // Two of mine are fresh again.
    for id in [seen, changed] {
        let case = cases::read(vault, k, id).await.unwrap();
        let d = cases::CaseDraft {
            group: case.group,
            shelter: None,
            stage: Stage::Assessment,
            status: Status::Open,
            notes: case.notes,
        };
        cases::update(vault, k, id, case.version, d).await.unwrap();
    }
    let mut c = t.login(&me).await;
    // I look at two cases; then a coordinator changes one of them.
    for id in [seen, changed] {
        assert_eq!(c.get(&format!("/cases/{id}")).await.status(), 200);
    }
    let case = cases::read(vault, k, changed).await.unwrap();
    let d = cases::CaseDraft {
        group: case.group,
        shelter: None,
        stage: Stage::Sheltered,
        status: Status::Open,
        notes: case.notes,
    };
    cases::update(vault, k, changed, case.version, d).await.unwrap();

    let body = c.get("/").await.text().await.unwrap();
    assert!(body.contains("Your cases needing action"), "{body}");
    assert_eq!(figures(&body, "/cases?stale_days=14&status=open"), vec![1], "only my stale case: {body}");
    assert_eq!(figures(&body, "/cases?status=on_hold"), vec![1], "only my case on hold");
    assert!(body.contains("Changed by someone else since you looked: 1"), "{body}");
    assert!(body.contains("Not opened by you yet: 2"), "{body}");
    let line = |id: CaseId| {
        let at = body.find(&format!("<a href=\"/cases/{id}\">")).unwrap_or_else(|| panic!("{id} listed"));
        body[at..at + body[at..].find("</li>").unwrap()].to_owned()
    };
    assert!(line(changed).contains("changed by someone else since you looked"), "{}", line(changed));
    assert!(line(stale).contains("not updated for 14 days or more"), "{}", line(stale));
    assert!(line(waiting).contains("on hold"), "{}", line(waiting));
    for never in [stale, waiting] {
        assert!(line(never).contains("not opened by you yet"), "{}", line(never));
        assert!(!line(never).contains("since you looked"), "{}", line(never));
    }
    assert!(!body.contains(&format!("/cases/{seen}")), "a case I saw last needs nothing");
    for not_mine in ["Otherheron", "Nobodyswift"] {
        assert!(!body.contains(not_mine), "{not_mine} is not mine");
    }
    // Looking again clears it.
    assert_eq!(c.get(&format!("/cases/{changed}")).await.status(), 200);
    let body = c.get("/").await.text().await.unwrap();
    assert!(body.contains("Changed by someone else since you looked: 0"), "looked again");
    // No coordinator figures for a caseworker.
    assert!(!body.contains("Pipeline") && !body.contains("/certify"));
}

#[tokio::test]
async fn dashboards_the_auditors_home_shows_the_head_and_the_last_verification() {
    let t = spawn_app().await;
    let auditor = t.web_user("audit.ida", Role::Auditor).await;
    let mut a = t.login(&auditor).await;
    let body = a.get("/").await.text().await.unwrap();
    assert!(body.contains("The chain has not been verified yet."), "{body}");
    assert!(body.contains("safehouse audit head"), "the reminder to export the head");
    assert!(body.contains("Open flags: <a href=\"/audit/flags\">0</a>"), "{body}");

    // A verification from the command line.
    let verified = safehouse::audit::service::verify(&t.app.vault, &[], |_| {}).await;
    safehouse::audit::service::record_verification(&t.app.vault, None, "cli-run", &verified).await.unwrap();
    let before = t.app.vault.store().audit_head().await.unwrap().unwrap().seq;
    let body = a.get("/").await.text().await.unwrap();
    let after = t.app.vault.store().audit_head().await.unwrap().unwrap().seq;
    assert!(body.contains("by the command line: intact"), "{body}");
    let head = page_between(&body, "Chain head</dt>", "</dd>");
    let seq: i64 = page_between(head, "entry ", ",").parse().unwrap();
    assert!((before..=after).contains(&seq), "{seq} in {before}..={after}");
    let row = t.app.vault.store().audit_rows(seq - 1, 1).await.unwrap().remove(0);
    let mac: String = row.mac.iter().map(|b| format!("{b:02x}")).collect();
    assert!(head.contains(&format!("<code>{}…</code>", &mac[..16])), "{head}");

    // A verification from the audit page: the auditor is named.
    let csrf = a.csrf("/audit").await;
    assert!(a.post("/audit/verify", &[("csrf", &csrf)]).await.status().is_redirection());
    let body = a.get("/").await.text().await.unwrap();
    assert!(body.contains("by audit.ida: intact"), "{body}");
    // No other role's section.
    assert!(!body.contains("Pipeline") && !body.contains("Your cases needing action"));
}

#[tokio::test]
async fn dashboards_the_administrators_home_counts_accounts_waiting_disabled_and_frozen() {
    let t = spawn_app().await;
    let vault = &t.app.vault;
    let admin = &t.app.admin;
    for name in ["new.one", "new.two"] {
        accounts::create_account(vault, admin, &Username::parse(name).unwrap(), [Role::Caseworker].into())
            .await
            .unwrap();
    }
    let off = t.app.user("case.off", Role::Caseworker, true).await;
    accounts::set_disabled(vault, admin, off.user_id(), true).await.unwrap();
    for name in ["case.cold", "case.colder"] {
        let frozen = t.app.user(name, Role::Caseworker, true).await;
        membership::freeze(vault, &t.app.coordinator, frozen.user_id()).await.unwrap();
    }
    let secret = t.enrol(admin).await;
    let mut c = t.client();
    let code = oath_code(&secret, t.now());
    let login =
        c.post("/login", &[("username", "admin.first"), ("password", PASSWORD), ("code", &code)]).await;
    assert_eq!(login.status(), 303);
    let body = c.get("/").await.text().await.unwrap();
    let entries = accounts::list(vault, admin).await.unwrap();
    let by_state =
        |s: safehouse::accounts::model::UserState| entries.iter().filter(|e| e.profile.state == s).count();
    use safehouse::accounts::model::UserState::{Disabled, Frozen, Pending};
    assert_eq!((by_state(Pending), by_state(Disabled), by_state(Frozen)), (2, 1, 2));
    assert_eq!(figures(&body, "/admin/users"), vec![2, 1, 2], "{body}");
    assert!(!body.contains("Pipeline") && !body.contains("The audit chain"));
}

#[tokio::test]
async fn dashboards_communications_staff_are_told_plainly_that_nothing_waits_yet() {
    let t = spawn_app().await;
    let staff = t.web_user("comms.rae", Role::Communications).await;
    let mut c = t.login(&staff).await;
    let body = c.get("/").await.text().await.unwrap();
    assert!(body.contains("No approved stories yet."), "{body}");
    assert!(!body.contains("href=\"/cases"), "communications staff reach no case, not even a link");
}

#[tokio::test]
async fn dashboards_a_user_with_several_roles_sees_a_section_for_each() {
    let t = spawn_app().await;
    let vault = &t.app.vault;
    let created = accounts::create_account(
        vault,
        &t.app.admin,
        &Username::parse("two.hats").unwrap(),
        [Role::Auditor, Role::Communications].into(),
    )
    .await
    .unwrap();
    let issued = accounts::activate(vault, created.activation.expose(), &password(PASSWORD)).await.unwrap();
    let secret = t.enrol(&issued.actor).await;
    let user = WebUser { username: "two.hats".into(), secret, actor: issued.actor };
    let mut c = t.login(&user).await;
    let body = c.get("/").await.text().await.unwrap();
    let chain = body.find("The audit chain").expect("the auditor's section");
    let stories = body.find(">Stories</h2>").expect("the communications section");
    assert!(chain < stories, "one section per role, in a fixed order");
}
