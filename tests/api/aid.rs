//! The aid log per shelter (issue 13, part 1): a coordinator records and
//! reads a shelter's log; a caseworker records for the shelter of one of
//! their cases only, through the inbox, and reads nothing back; every other
//! role is refused; a correction supersedes (counted once) and two at once
//! cannot both count; a rejected form keeps its input; a forged inbox entry
//! is refused at the fold; notes and added kinds never reach the disk in
//! clear; the demo has a year and more of entries.

use safehouse::accounts::model::Role;
use safehouse::cases::model::ShelterCode;
use safehouse::cases::service as cases;
use safehouse::crypto::{self, Label, wrap};
use safehouse::ids::{AidEntryId, CaseId, ShelterId, UserId};
use safehouse::keyring::Team;
use safehouse::membership;
use safehouse::programmes::aid::model::{AidEntry, AidKind, Month};
use safehouse::programmes::aid::service as aid;
use safehouse::shelters::{self, ShelterDetails};
use safehouse::storage::{SealedRow, Write};

use crate::helpers::*;

/// An instance with two shelters (JRL-01, where the caseworker's case is,
/// and YAN-02, where it is not) and a caseworker who can log in.
struct World {
    t: TestApp,
    here: ShelterId,
    elsewhere: ShelterId,
    worker: WebUser,
    case: CaseId,
}

async fn world() -> World {
    let t = spawn_app().await;
    let (vault, k) = (&t.app.vault, &t.app.coordinator);
    let mut ids = Vec::new();
    for code in ["JRL-01", "YAN-02"] {
        let details = ShelterDetails::parse("Jilin", "40", "").unwrap();
        ids.push(shelters::create(vault, k, ShelterCode::parse(code).unwrap(), details).await.unwrap());
    }
    let worker = t.web_user("aid.worker", Role::Caseworker).await;
    let mut d = draft(&["Aidlark"], "");
    d.shelter = Some(ids[0]);
    let case = cases::create(vault, &worker.actor, d).await.unwrap();
    // A coordinator's request folds the caseworker's index entry.
    cases::list_visible(vault, k).await.unwrap();
    World { here: ids[0], elsewhere: ids[1], t, worker, case }
}

fn log_path(shelter: ShelterId) -> String {
    format!("/shelters/{shelter}/aid")
}

/// This month and the one before, as the month field takes them.
fn months(t: &TestApp) -> (String, String) {
    let today = t.now().date();
    let this = Month::of(today);
    let before = Month::of(today.replace_day(1).unwrap() - time::Duration::days(1));
    (this.code(), before.code())
}

async fn page(c: &mut Client, path: &str) -> (u16, String) {
    let r = c.get(path).await;
    (r.status().as_u16(), r.text().await.unwrap())
}

/// An entry form: month, kind, quantity, currency, people served, note.
fn entry<'a>(csrf: &'a str, fields: [&'a str; 6]) -> Vec<(&'a str, &'a str)> {
    let names = ["month", "kind", "quantity", "currency", "people_served", "note"];
    std::iter::once(("csrf", csrf)).chain(names.into_iter().zip(fields)).collect()
}

async fn post_entry(c: &mut Client, path: &str, fields: [&str; 6]) -> (u16, String) {
    let csrf = c.csrf("/account").await;
    let r = c.post(path, &entry(&csrf, fields)).await;
    let status = r.status().as_u16();
    let r = c.follow(r).await;
    (status, r.text().await.unwrap())
}

async fn entries(t: &TestApp) -> Vec<AidEntry> {
    let coordinators = membership::coordinators_identity(&t.app.vault, &t.app.coordinator).await.unwrap();
    aid::all_for_team(&t.app.vault, &coordinators).await.unwrap().0
}

fn audited(rows: &[safehouse::storage::AuditRow], action: &str, target: &str, outcome: &str) -> usize {
    rows.iter().filter(|e| e.action == action && e.target == target && e.outcome == outcome).count()
}

/// How many rows of the log count, and how many are struck through.
fn counted(body: &str) -> (usize, usize) {
    (body.matches("<tr class=\"aid-current\">").count(), body.matches("<tr class=\"aid-corrected\">").count())
}

#[tokio::test]
async fn aid_a_coordinator_records_and_reads_the_log() {
    let w = world().await;
    let (this, before) = months(&w.t);
    let path = log_path(w.here);
    let mut c = w.t.login_coordinator().await;
    let (status, body) = page(&mut c, &path).await;
    assert_eq!(status, 200);
    assert!(body.contains("Aid log: JRL-01") && body.contains("No aid has been recorded"));
    assert!(body.contains(&format!("action=\"{path}\"")), "the form to record");
    let (status, body) =
        post_entry(&mut c, &path, [&before, "food", "1200", "", "450", "Rice for the spring qzv"]).await;
    assert_eq!(status, 303);
    assert!(body.contains("Recorded for JRL-01: Food,"), "the notice names the entry: {body}");
    assert!(body.contains("1200 kg") && body.contains("Rice for the spring qzv"));
    assert!(body.contains("coord.first (Coordinator)"), "who recorded it");
    assert_eq!(counted(&body), (1, 0));
    let (status, body) = post_entry(&mut c, &path, [&this, "cash_for_food", "50000", "jpy", "30", ""]).await;
    assert_eq!(status, 303);
    assert!(body.contains("50000 JPY") && body.contains("Cash for food"));
    // Newest month first.
    assert!(body.find("50000 JPY").unwrap() < body.find("1200 kg").unwrap());
    assert!(body.contains("Totals by fiscal year"));
    // The shelter register links each shelter's log.
    let (_, register) = page(&mut c, "/shelters").await;
    assert!(register.contains(&format!("href=\"{path}\"")));
    // The other shelter's log is its own.
    let (_, other) = page(&mut c, &log_path(w.elsewhere)).await;
    assert!(!other.contains("1200 kg") && other.contains("No aid has been recorded"));
    let stored = entries(&w.t).await;
    assert_eq!(stored.len(), 2);
    assert!(stored.iter().all(|e| e.shelter == w.here && e.recorded_by == w.t.app.coordinator.user_id()));
    let trail = w.t.app.audit_log().await;
    let target = w.here.to_string();
    assert_eq!(audited(&trail, "aid.record", &target, "ok"), 2);
    assert!(trail.iter().filter(|e| e.action == "aid.record").all(|e| e.role == "coordinator"));
    assert!(audited(&trail, "aid.read", &target, "ok") >= 3);
}

#[tokio::test]
async fn aid_a_caseworker_records_for_the_shelter_of_their_case_only() {
    let w = world().await;
    let (this, _) = months(&w.t);
    let (vault, store) = (&w.t.app.vault, w.t.app.vault.store());
    let mut k = w.t.login(&w.worker).await;
    // The case page offers the shelter's aid form.
    let (_, case_page) = page(&mut k, &format!("/cases/{}", w.case)).await;
    assert!(case_page.contains(&format!("href=\"{}\">Record aid for this shelter", log_path(w.here))));
    // A coordinator's own entry and added kind, which the caseworker must never see.
    let kind = aid::add_kind(
        vault,
        &w.t.app.coordinator,
        safehouse::programmes::aid::model::KindDraft::parse("Blankets", "pieces").unwrap(),
    )
    .await
    .unwrap();
    let mut c = w.t.login_coordinator().await;
    post_entry(&mut c, &log_path(w.here), [&this, "food", "777", "", "300", "Coordinator only note"]).await;

    let (status, body) = page(&mut k, &log_path(w.here)).await;
    assert_eq!(status, 200);
    assert!(body.contains("Aid log: JRL-01") && body.contains("sealed to the coordinators"));
    assert!(!body.contains("Coordinator only note") && !body.contains("777 kg"), "no log for a caseworker");
    assert!(!body.contains("custom:") && !body.contains("Blankets"), "no added kinds for a caseworker");
    let (status, body) =
        post_entry(&mut k, &log_path(w.here), [&this, "clothes", "25", "", "25", "From the caseworker"])
            .await;
    assert_eq!(status, 303);
    assert!(body.contains("Sent to the coordinators: your entry for JRL-01"), "{body}");
    assert!(!body.contains("From the caseworker"), "the caseworker does not read it back");
    assert_eq!(store.aid_inbox().await.unwrap().len(), 1);
    assert_eq!(entries(&w.t).await.len(), 1, "not in the log before a coordinator's request");
    // A kind only coordinators can read is refused, with the input kept.
    let custom = format!("custom:{kind}");
    let (status, body) = post_entry(&mut k, &log_path(w.here), [&this, &custom, "5", "", "5", ""]).await;
    assert_eq!(status, 422);
    assert!(body.contains("Choose one of the listed kinds of aid."));

    // Not a shelter of their cases, or no shelter at all: as if it did not exist.
    for path in [log_path(w.elsewhere), log_path(ShelterId::random())] {
        assert_eq!(page(&mut k, &path).await.0, 404, "{path}");
        let (status, _) = post_entry(&mut k, &path, [&this, "food", "10", "", "10", "elsewhere"]).await;
        assert_eq!(status, 404, "{path}");
    }
    // Coordinator pages only: correction, kinds.
    let (_, log) = page(&mut c, &log_path(w.here)).await;
    let listed = entries(&w.t).await;
    let first = listed.iter().find(|e| e.note.as_str() == "Coordinator only note").unwrap().id;
    let csrf = k.csrf("/account").await;
    let correct = format!("{}/{first}", log_path(w.here));
    assert_eq!(page(&mut k, &format!("{correct}/correct")).await.0, 403);
    assert_eq!(k.post(&correct, &entry(&csrf, [&this, "food", "1", "", "1", ""])).await.status(), 403);
    let kinds = [("csrf", csrf.as_str()), ("shelter", ""), ("name", "Soap"), ("unit", "bars")];
    assert_eq!(k.post("/aid/kinds", &kinds).await.status(), 403);

    // The coordinator's page folded the entry: it shows, by the caseworker.
    assert!(log.contains("From the caseworker") && log.contains("aid.worker (Caseworker)"), "{log}");
    assert!(log.contains("Entries from caseworkers that joined the aid logs just now: 1."));
    assert_eq!(store.aid_inbox().await.unwrap().len(), 0);
    let from_worker = listed.iter().find(|e| e.recorded_by == w.worker.actor.user_id()).unwrap();
    assert_eq!((from_worker.shelter, from_worker.kind, from_worker.quantity), (w.here, AidKind::Clothes, 25));
    // Still nothing for the caseworker to read.
    let (_, body) = page(&mut k, &log_path(w.here)).await;
    assert!(!body.contains("From the caseworker") && !body.contains("Coordinator only note"));

    // Two coordinators' pages folding one entry at once write it once.
    let second = w.t.web_user("aid.coord2", Role::Coordinator).await;
    let mut c2 = w.t.login(&second).await;
    post_entry(&mut k, &log_path(w.here), [&this, "medical_visits", "2", "", "2", "Twice folded"]).await;
    let path = log_path(w.here);
    let (a, b) = tokio::join!(c.get(&path), c2.get(&path));
    assert_eq!((a.status().as_u16(), b.status().as_u16()), (200, 200));
    let listed = entries(&w.t).await;
    assert_eq!(listed.iter().filter(|e| e.note.as_str() == "Twice folded").count(), 1);
    assert_eq!(store.aid_inbox().await.unwrap().len(), 0);

    // Communications staff reach no aid page.
    let comms = w.t.web_user("aid.comms", Role::Communications).await;
    let mut m = w.t.login(&comms).await;
    let csrf = m.csrf("/account").await;
    assert_eq!(page(&mut m, &log_path(w.here)).await.0, 403);
    assert_eq!(
        m.post(&log_path(w.here), &entry(&csrf, [&this, "food", "1", "", "1", ""])).await.status(),
        403
    );
    assert_eq!(m.post("/aid/kinds", &[("csrf", csrf.as_str())]).await.status(), 403);

    let trail = w.t.app.audit_log().await;
    let by_worker = |action: &str, target: &ShelterId, outcome: &str| {
        trail
            .iter()
            .filter(|e| e.actor == w.worker.actor.user_id().to_string() && e.role == "caseworker")
            .filter(|e| e.action == action && e.target == target.to_string() && e.outcome == outcome)
            .count()
    };
    assert_eq!(by_worker("aid.record", &w.here, "ok"), 2);
    assert_eq!(by_worker("aid.record", &w.here, "invalid"), 1);
    assert_eq!(by_worker("aid.record", &w.elsewhere, "denied"), 1);
    assert_eq!(by_worker("shelter.list", &w.elsewhere, "denied"), 1);
    // A caseworker never has an aid.read entry: they read no log.
    assert!(!trail.iter().any(|e| e.action == "aid.read" && e.role == "caseworker"));
}

#[tokio::test]
async fn aid_a_correction_supersedes_and_is_counted_once() {
    let w = world().await;
    let (_, before) = months(&w.t);
    let path = log_path(w.here);
    let mut c = w.t.login_coordinator().await;
    post_entry(&mut c, &path, [&before, "food", "1200", "", "450", "Typed in a hurry"]).await;
    let id = entries(&w.t).await[0].id;
    let (status, form) = page(&mut c, &format!("{path}/{id}/correct")).await;
    assert_eq!(status, 200);
    assert!(
        form.contains("value=\"1200\"")
            && form.contains("value=\"450\"")
            && form.contains(">Typed in a hurry<")
    );
    assert!(form.contains(&format!("action=\"{path}/{id}\"")));
    let (status, body) =
        post_entry(&mut c, &format!("{path}/{id}"), [&before, "food", "1300", "", "460", "Recounted"]).await;
    assert_eq!(status, 303);
    assert!(body.contains("Correction recorded for JRL-01: Food,"), "{body}");
    // Both shown, one counted: the old one struck through as corrected.
    assert_eq!(counted(&body), (1, 1));
    assert!(body.contains("counts (a correction)") && body.contains(">corrected<"));
    assert!(body.contains("1300 kg") && body.contains("1200 kg"));
    let totals = page_between(&body, "Totals by fiscal year", "</table>");
    assert!(
        totals.contains("1300 kg") && !totals.contains("2500") && !totals.contains("1200 kg"),
        "{totals}"
    );
    let stored = entries(&w.t).await;
    assert_eq!(stored.len(), 2);
    let correction = stored.iter().find(|e| e.supersedes == Some(id)).unwrap();
    assert_eq!((correction.quantity, correction.people_served), (1300, 460));

    // The corrected entry cannot be corrected again: told, input kept.
    let (status, body) =
        post_entry(&mut c, &format!("{path}/{id}"), [&before, "food", "1400", "", "470", "Late"]).await;
    assert_eq!(status, 409);
    assert!(body.contains("Someone else corrected this entry first."));
    assert!(body.contains("value=\"1400\"") && body.contains(">Late<"), "the input is kept");
    assert!(body.contains(&format!("action=\"{path}/{}\"", correction.id)), "the next try corrects theirs");
    assert_eq!(entries(&w.t).await.len(), 2);
    // Only this shelter's entries, through this shelter's page; no invented ones.
    let elsewhere = format!("{}/{id}", log_path(w.elsewhere));
    assert_eq!(post_entry(&mut c, &elsewhere, [&before, "food", "1", "", "1", ""]).await.0, 404);
    assert_eq!(page(&mut c, &format!("{elsewhere}/correct")).await.0, 404);
    let invented = format!("{path}/{}", AidEntryId::random());
    assert_eq!(post_entry(&mut c, &invented, [&before, "food", "1", "", "1", ""]).await.0, 404);
    // A correction of the correction chains on.
    let (status, body) =
        post_entry(&mut c, &format!("{path}/{}", correction.id), [&before, "food", "1350", "", "460", ""])
            .await;
    assert_eq!(status, 303);
    assert_eq!(counted(&body), (1, 2));

    let trail = w.t.app.audit_log().await;
    let target = w.here.to_string();
    assert_eq!(audited(&trail, "aid.correct", &target, "ok"), 2);
    assert_eq!(audited(&trail, "aid.correct", &target, "conflict"), 1);
    assert_eq!(audited(&trail, "aid.correct", &w.elsewhere.to_string(), "denied"), 1);
    assert!(trail.iter().filter(|e| e.action == "aid.correct").all(|e| e.role == "coordinator"));
}

#[tokio::test]
async fn aid_two_corrections_at_once_one_wins_the_other_is_told() {
    let w = world().await;
    let (_, before) = months(&w.t);
    let path = log_path(w.here);
    let mut c = w.t.login_coordinator().await;
    let second = w.t.web_user("aid.coord2", Role::Coordinator).await;
    let mut c2 = w.t.login(&second).await;
    post_entry(&mut c, &path, [&before, "food", "900", "", "400", "Original"]).await;
    let id = entries(&w.t).await[0].id;
    let target = format!("{path}/{id}");
    let (csrf1, csrf2) =
        (c.csrf(&format!("{target}/correct")).await, c2.csrf(&format!("{target}/correct")).await);
    let (form1, form2) = (
        entry(&csrf1, [&before, "food", "1500", "", "400", "First fix"]),
        entry(&csrf2, [&before, "food", "1600", "", "400", "Second fix"]),
    );
    let (a, b) = tokio::join!(c.post(&target, &form1), c2.post(&target, &form2));
    let mut statuses = [a.status().as_u16(), b.status().as_u16()];
    statuses.sort();
    assert_eq!(statuses, [303, 409], "one wins, the other is told");
    let (loser, mine, theirs) = if a.status() == 409 { (a, "1500", "1600") } else { (b, "1600", "1500") };
    let body = loser.text().await.unwrap();
    assert!(body.contains("Someone else corrected this entry first."));
    assert!(body.contains(&format!("value=\"{mine}\"")), "the loser's input is kept");
    let shown = page_between(&body, "Their correction", "</section>");
    assert!(shown.contains(&format!("{theirs} kg")), "the winner's correction is shown");
    let log = page_between(&body, "The log as it is now", "Totals by fiscal year");
    assert!(log.contains(&format!("{theirs} kg")) && !log.contains(&format!("{mine} kg")));
    let stored = entries(&w.t).await;
    assert_eq!(stored.len(), 2, "one correction stored");
    assert_eq!(stored.iter().filter(|e| e.supersedes == Some(id)).count(), 1);
    let trail = w.t.app.audit_log().await;
    assert_eq!(audited(&trail, "aid.correct", &w.here.to_string(), "ok"), 1);
    assert_eq!(audited(&trail, "aid.correct", &w.here.to_string(), "conflict"), 1);
}

#[tokio::test]
async fn aid_validation_errors_keep_the_input() {
    let w = world().await;
    let path = log_path(w.here);
    let today = w.t.now().date();
    let next = Month::of(today.replace_day(28).unwrap() + time::Duration::days(5)).code();
    let (this, _) = months(&w.t);
    let mut c = w.t.login_coordinator().await;
    let (status, body) =
        post_entry(&mut c, &path, [&next, "food", "12.5", "JPY", "-3", "bell\u{7}here"]).await;
    assert_eq!(status, 422);
    for message in [
        "This month has not begun yet",
        "The quantity is a whole number from 0 to 10000000",
        "Only cash for food has a currency",
        "People served is a whole number from 0 to 100000.",
        "Notes may not contain control characters.",
    ] {
        assert!(body.contains(message), "{message:?} beside its field");
    }
    for kept in
        [format!("value=\"{next}\""), "value=\"12.5\"".into(), "value=\"JPY\"".into(), "value=\"-3\"".into()]
    {
        assert!(body.contains(&kept), "{kept} kept");
    }
    let (status, body) =
        post_entry(&mut c, &path, [&this, "cash_for_food", "5000", "", "20", "Cash note"]).await;
    assert_eq!(status, 422);
    assert!(body.contains("Cash needs its currency") && body.contains(">Cash note<"));
    assert!(body.contains("<option value=\"cash_for_food\" selected>"), "the kind chosen is kept");
    let (status, body) =
        post_entry(&mut c, &path, [&this, "custom:0b5f0d8e-3c1e-4f7a-9d2b-6a1c2e3f4a5b", "5", "", "5", ""])
            .await;
    assert_eq!(status, 422);
    assert!(body.contains("Choose one of the listed kinds of aid."));
    assert!(entries(&w.t).await.is_empty(), "nothing recorded");

    // Kinds: a name and a unit, unique whatever the case.
    let csrf = c.csrf("/account").await;
    let shelter = w.here.to_string();
    let add = |name: &'static str, unit: &'static str| {
        vec![
            ("csrf", csrf.clone()),
            ("shelter", shelter.clone()),
            ("name", name.into()),
            ("unit", unit.into()),
        ]
    };
    let send = |form: Vec<(&'static str, String)>| {
        let mut c = c.clone();
        async move {
            let pairs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
            let r = c.post("/aid/kinds", &pairs).await;
            let status = r.status().as_u16();
            (status, c.follow(r).await.text().await.unwrap())
        }
    };
    let (status, body) = send(add("", "a unit far too long for its field")).await;
    assert_eq!(status, 422);
    assert!(body.contains("name is 1 to 40 characters on one line"));
    assert!(
        body.contains("A unit is 1 to 20 characters")
            && body.contains("value=\"a unit far too long for its field\"")
    );
    let (status, body) = send(add("Blankets", "pieces")).await;
    assert_eq!(status, 303);
    assert!(body.contains("Kind of aid added: Blankets."), "{body}");
    assert!(body.contains("Blankets (pieces)"), "in the list of kinds");
    let (status, body) = send(add("BLANKETS", "sheets")).await;
    assert_eq!(status, 422);
    assert!(
        body.contains("A kind of aid with this name is already in the list.")
            && body.contains("value=\"BLANKETS\"")
    );
    // An added kind is recorded like any other, in its own unit.
    let kind = body.split("value=\"custom:").nth(1).unwrap().split('"').next().unwrap().to_owned();
    let (status, body) =
        post_entry(&mut c, &path, [&this, &format!("custom:{kind}"), "40", "", "40", ""]).await;
    assert_eq!(status, 303);
    assert!(body.contains("40 pieces"), "{body}");
    let trail = w.t.app.audit_log().await;
    assert_eq!(trail.iter().filter(|e| e.action == "aid.kind_add" && e.outcome == "ok").count(), 1);
    assert_eq!(trail.iter().filter(|e| e.action == "aid.kind_add" && e.outcome == "invalid").count(), 1);
}

/// An inbox row as a caseworker's request writes it, sealed to the
/// coordinators recipient: `mac_key` decides whether its MAC is genuine.
async fn inbox_row(w: &World, row_id: AidEntryId, entry: &AidEntry, mac_key: &crypto::Key32) -> SealedRow {
    let case_id = w.case.to_string();
    let json = serde_json::to_string(entry).unwrap();
    let mac = crypto::mac(mac_key, &[case_id.as_bytes(), json.as_bytes()]);
    let envelope = serde_json::json!({
        "case_id": case_id,
        "entry": json,
        "mac": safehouse::keyring::to_base64(&mac),
    });
    let vault = &w.t.app.vault;
    let recipient = vault.keyring.team_recipient(vault.store(), Team::Coordinators).await.unwrap();
    let sealed = wrap::wrap(&recipient, envelope.to_string().as_bytes()).unwrap();
    SealedRow { id: row_id.to_string(), sealed }
}

#[tokio::test]
async fn aid_a_forged_inbox_entry_is_refused_at_the_fold() {
    let logs = LogCapture::default();
    let _guard = logs.install();
    let w = world().await;
    let (vault, store) = (&w.t.app.vault, w.t.app.vault.store());
    let coordinators = membership::coordinators_identity(vault, &w.t.app.coordinator).await.unwrap();
    let case_key = membership::case_key_for_team(vault, &coordinators, &w.case.to_string()).await.unwrap();
    let genuine_key = case_key.derive(Label::AidInboxMac, w.case.to_string().as_bytes());
    let make = |note: &str, shelter: ShelterId| AidEntry {
        id: AidEntryId::random(),
        shelter,
        month: Month::of(w.t.now().date()),
        kind: AidKind::Food,
        quantity: 999,
        currency: None,
        people_served: 1,
        note: safehouse::cases::model::Note::parse(note).unwrap(),
        supersedes: None,
        recorded_by: w.worker.actor.user_id(),
        recorded_at: w.t.now(),
    };
    // A coordinator's entry, which a forged correction targets.
    let mut c = w.t.login_coordinator().await;
    let (this, _) = months(&w.t);
    post_entry(&mut c, &log_path(w.here), [&this, "food", "100", "", "100", "Real entry"]).await;
    let real = entries(&w.t).await[0].id;

    // Anyone can encrypt to the coordinators' public key: a wrong MAC.
    let forged = make("forged wrong mac qzv", w.here);
    let wrong = inbox_row(&w, forged.id, &forged, &crypto::Key32::random()).await;
    // A genuine entry replayed under another id.
    let replayed = make("replayed under another id qzv", w.here);
    let replay = inbox_row(&w, AidEntryId::random(), &replayed, &genuine_key).await;
    // A caseworker's "correction": caseworker entries supersede nothing.
    let mut sneaky = make("caseworker correction qzv", w.here);
    sneaky.supersedes = Some(real);
    let correction = inbox_row(&w, sneaky.id, &sneaky, &genuine_key).await;
    // A shelter the case is not at.
    let away = make("another shelter qzv", w.elsewhere);
    let elsewhere = inbox_row(&w, away.id, &away, &genuine_key).await;
    // The control: well formed and genuine, so the refusals above are the checks'.
    let fine = make("genuine inbox entry", w.here);
    let genuine = inbox_row(&w, fine.id, &fine, &genuine_key).await;
    let rows = [wrong, replay, correction, elsewhere, genuine];
    store.apply(rows.into_iter().map(Write::InsertAidInbox).collect()).await.unwrap();

    let (status, body) = page(&mut c, &log_path(w.here)).await;
    assert_eq!(status, 200);
    assert!(body.contains("Entries from caseworkers that joined the aid logs just now: 1."), "{body}");
    assert!(body.contains("Entries from caseworkers refused and dropped just now: 4."));
    assert!(body.contains("genuine inbox entry"));
    assert!(!body.contains("qzv"), "no refused entry shows");
    assert_eq!(store.aid_inbox().await.unwrap().len(), 0, "refused entries are dropped");
    let stored = entries(&w.t).await;
    assert_eq!(stored.len(), 2);
    assert!(stored.iter().all(|e| !e.note.as_str().contains("qzv")));
    assert!(!stored.iter().any(|e| e.supersedes.is_some()));
    let (_, other) = page(&mut c, &log_path(w.elsewhere)).await;
    assert!(!other.contains("qzv"));
    // The log says that entries were refused, and nothing of them.
    let logged = logs.text();
    assert_eq!(logged.matches("refused an aid inbox entry").count(), 4, "{logged}");
    assert!(!logged.contains("qzv") && !logged.contains(&w.case.to_string()));
}

#[tokio::test]
async fn aid_canaries_in_notes_and_kinds_never_reach_the_disk() {
    let w = world().await;
    let canaries = [
        "coordinator aid qzv canary note",
        "caseworker aid qzv canary note",
        "Qzvkindcanary",
        "qzvunitcanary",
    ];
    let (this, _) = months(&w.t);
    let path = log_path(w.here);
    let mut c = w.t.login_coordinator().await;
    post_entry(&mut c, &path, [&this, "food", "100", "", "100", canaries[0]]).await;
    let csrf = c.csrf("/account").await;
    let shelter = w.here.to_string();
    let kind = [
        ("csrf", csrf.as_str()),
        ("shelter", shelter.as_str()),
        ("name", canaries[2]),
        ("unit", canaries[3]),
    ];
    assert_eq!(c.post("/aid/kinds", &kind).await.status(), 303);
    let mut k = w.t.login(&w.worker).await;
    assert_eq!(post_entry(&mut k, &path, [&this, "clothes", "3", "", "3", canaries[1]]).await.0, 303);

    let check = |when: &str| {
        let files = w.t.app.at_rest();
        // A control: the shelter's opaque id is in clear (audit targets), so the scan sees.
        assert!(
            files.iter().any(|(_, bytes)| contains(bytes, shelter.as_bytes())),
            "{when}: the scan is blind"
        );
        for (file, bytes) in &files {
            for canary in canaries {
                for needle in encodings(canary) {
                    assert!(!contains(bytes, &needle), "{when}: {canary:?} in {}", file.display());
                }
            }
        }
    };
    check("with the caseworker's entry in the inbox");
    let (_, body) = page(&mut c, &path).await;
    assert!(body.contains(canaries[1]) && body.contains(canaries[2]), "the coordinator reads them");
    check("after the fold");
    if w.t.app.pg.is_none() {
        let raw = w.t.app.raw().await;
        sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)").execute(raw.pool()).await.unwrap();
        raw.close().await;
        check("after a checkpoint");
    }
    for row in w.t.app.audit_log().await {
        let shown = format!("{row:?}").to_lowercase();
        assert!(canaries.iter().all(|c| !shown.contains(&c.to_lowercase())));
    }
}

#[tokio::test]
async fn aid_the_demo_has_a_year_and_more_of_entries() {
    let demo = safehouse::demo::build(std::sync::Arc::new(safehouse::clock::SystemClock)).await.unwrap();
    let user = |role: &str| demo.users.iter().find(|u| u.role == role).unwrap();
    let coordinator =
        safehouse::accounts::service::unlock(&demo.vault, "coord.amber", &user("coordinator").password)
            .await
            .unwrap();
    let river =
        UserId::parse(&demo.users.iter().find(|u| u.username == "case.river").unwrap().user_id).unwrap();
    let coordinators = membership::coordinators_identity(&demo.vault, &coordinator).await.unwrap();
    let (stored, kinds) = aid::all_for_team(&demo.vault, &coordinators).await.unwrap();
    let shelters = shelters::list(&demo.vault, &coordinator).await.unwrap();
    let current = safehouse::programmes::aid::model::current(&stored);
    assert_eq!(shelters.len(), 3);
    for s in &shelters {
        let food: Vec<_> = current.iter().filter(|e| e.shelter == s.id && e.kind == AidKind::Food).collect();
        let months: std::collections::BTreeSet<Month> = food.iter().map(|e| e.month).collect();
        assert_eq!(months.len(), 24, "{}: food in each of the last 24 months", s.code.as_str());
        assert!(
            food.iter().all(|e| (300..=2000).contains(&e.quantity) && (300..=700).contains(&e.people_served))
        );
        for kind in [AidKind::Clothes, AidKind::FirstAidKits, AidKind::MedicalVisits] {
            assert!(current.iter().any(|e| e.shelter == s.id && e.kind == kind), "{kind:?}");
        }
    }
    assert!(
        current
            .iter()
            .any(|e| e.kind == AidKind::CashForFood && e.currency.as_ref().unwrap().as_str() == "JPY")
    );
    assert_eq!(stored.iter().filter(|e| e.supersedes.is_some()).count(), 1, "one corrected entry");
    assert_eq!(kinds.len(), 1);
    assert!(current.iter().any(|e| e.kind == AidKind::Custom(kinds[0].id)));
    // case.river's entry came through the inbox and was folded.
    assert!(stored.iter().any(|e| e.recorded_by == river));
    assert!(demo.vault.store().aid_inbox().await.unwrap().is_empty());
    demo.remove();
}

/// The database itself refuses a second entry superseding one entry, on
/// either backend, whatever the services checked before (two nodes, two
/// coordinators): the race's last line.
#[tokio::test]
async fn aid_the_database_refuses_a_second_correction_of_one_entry() {
    use safehouse::membership::SharedKey;
    use safehouse::programmes::aid::model::seal_entry;
    let w = world().await;
    let (vault, store) = (&w.t.app.vault, w.t.app.vault.store());
    let coordinators = membership::coordinators_identity(vault, &w.t.app.coordinator).await.unwrap();
    let key =
        membership::shared_key_for_team(vault, &coordinators, SharedKey::RegisterDetails).await.unwrap();
    let base = AidEntry {
        id: AidEntryId::random(),
        shelter: w.here,
        month: Month::of(w.t.now().date()),
        kind: AidKind::Food,
        quantity: 10,
        currency: None,
        people_served: 10,
        note: Default::default(),
        supersedes: None,
        recorded_by: w.t.app.coordinator.user_id(),
        recorded_at: w.t.now(),
    };
    store.apply(vec![Write::InsertAidEntry(seal_entry(&key, &base).unwrap())]).await.unwrap();
    let fix =
        |quantity| AidEntry { id: AidEntryId::random(), quantity, supersedes: Some(base.id), ..base.clone() };
    store.apply(vec![Write::InsertAidEntry(seal_entry(&key, &fix(11)).unwrap())]).await.unwrap();
    let second = store.apply(vec![Write::InsertAidEntry(seal_entry(&key, &fix(12)).unwrap())]).await;
    assert!(matches!(second, Err(safehouse::storage::StoreError::Conflict)), "{second:?}");
    // The same entry written twice (two folds) is one entry, not an error.
    store.apply(vec![Write::InsertAidEntry(seal_entry(&key, &base).unwrap())]).await.unwrap();
    assert_eq!(entries(&w.t).await.len(), 2);
}
