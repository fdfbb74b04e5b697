//! The auditor's pages (issue 11): the trail newest first with paging both
//! ways, a bad date named beside its field with the rest kept, usernames
//! beside ids for the auditor only, actions in words, the verified line and
//! the verification's entry; the organisation's zone and a user's own
//! changing the times shown.

use safehouse::accounts::model::Role;
use safehouse::audit::service as audit;
use safehouse::audit::{Action, Event, Outcome};
use safehouse::web::when::{self, Zone};

use crate::helpers::*;

/// The sequence numbers of the trail's rows, in page order.
fn seqs(page: &str) -> Vec<i64> {
    page.split("<td data-label=\"#\">")
        .skip(1)
        .map(|s| s.split('<').next().unwrap().parse().unwrap())
        .collect()
}

/// The href of a pager link (by its words), unescaped.
fn link(page: &str, words: &str) -> Option<String> {
    let end = page.find(&format!("\">{words}</a>"))?;
    let start = page[..end].rfind("href=\"")? + 6;
    Some(
        page[start..end]
            .replace("&amp;", "&")
            .replace("&#38;", "&")
            .trim_end_matches("\" rel=\"next")
            .trim_end_matches("\" rel=\"prev")
            .to_owned(),
    )
}

async fn record_many(t: &TestApp, n: usize, action: Action) {
    for i in 0..n {
        let event = Event::system(action, "req").on(format!("probe-{i:03}"));
        t.app.vault.record(&event, Outcome::Ok).await.unwrap();
    }
}

#[tokio::test]
async fn the_trail_reads_newest_first_and_pages_back_and_forth() {
    let t = spawn_app().await;
    let auditor = t.web_user("audit.pager", Role::Auditor).await;
    record_many(&t, 230, Action::CaseList).await;
    let mut c = t.login(&auditor).await;
    let first = c.get("/audit?action=case.list").await.text().await.unwrap();
    let newest = seqs(&first);
    assert_eq!(newest.len(), 100);
    assert!(newest.windows(2).all(|w| w[0] > w[1]), "newest first: {newest:?}");
    let head = t.app.audit_log().await.into_iter().filter(|e| e.action == "case.list").map(|e| e.seq).max();
    assert_eq!(newest.first().copied(), head, "the first row is the newest entry");
    assert!(first.contains("Newest first"), "the page says its order");
    assert!(link(&first, "Newer entries").is_none(), "nothing newer than the head");

    let older = link(&first, "Older entries").expect("an older page");
    assert!(older.contains("action=case.list"), "the filter is kept: {older}");
    let second = c.get(&older).await.text().await.unwrap();
    let middle = seqs(&second);
    assert_eq!(middle.len(), 100);
    assert!(
        middle[0] < *newest.last().unwrap(),
        "continues below the first page: {older} {newest:?} {middle:?}"
    );
    let third = c.get(&link(&second, "Older entries").unwrap()).await.text().await.unwrap();
    assert_eq!(seqs(&third).len(), 30, "the oldest 30");
    assert!(link(&third, "Older entries").is_none(), "nothing older than the first");

    // And back: the newer link shows the page before, in the same order.
    let back = c.get(&link(&third, "Newer entries").unwrap()).await.text().await.unwrap();
    assert_eq!(seqs(&back), middle);
    let top = c.get(&link(&back, "Newer entries").unwrap()).await.text().await.unwrap();
    assert_eq!(seqs(&top), newest);
    assert!(link(&top, "Newer entries").is_none());
    // The export says it is oldest first, and is.
    assert!(first.contains("oldest first"));
}

#[tokio::test]
async fn a_bad_date_is_named_beside_its_field_and_the_filter_kept() {
    let t = spawn_app().await;
    let auditor = t.web_user("audit.dates", Role::Auditor).await;
    let mut c = t.login(&auditor).await;
    let before = t.app.audit_log().await.len();
    let r = c.get("/audit?actor=audit.dates&action=login.ok&target=x1&from=yesterday&to=2026-12-01").await;
    assert_eq!(r.status(), 422);
    let page = r.text().await.unwrap();
    let from = page_between(&page, "id=\"from\"", "<label for=\"to\">");
    assert!(from.contains("value=\"yesterday\""), "the bad input kept: {from}");
    assert!(from.contains("class=\"field-error\">Write a day as 2026-12-01"), "named beside From: {from}");
    let to = page_between(&page, "id=\"to\"", "</form>");
    assert!(to.contains("value=\"2026-12-01\"") && !to.contains("field-error"), "a good field is left alone");
    assert!(page.contains("id=\"actor\" name=\"actor\" value=\"audit.dates\""));
    assert!(page.contains("value=\"login.ok\" selected"));
    assert!(page.contains("value=\"x1\""));
    assert!(!page.contains("<tbody>"), "no entries for a filter that was not understood");
    assert_eq!(t.app.audit_log().await.len(), before, "nothing was read, so nothing recorded");

    // A reversed range is named on the end.
    let reversed = c.get("/audit?from=2026-12-02&to=2026-12-01").await;
    assert_eq!(reversed.status(), 422);
    assert!(reversed.text().await.unwrap().contains("The end is before the start."));

    // Good dates filter by the day in the viewer's zone, the actor by name.
    let today = when::day(t.now(), time::UtcOffset::UTC);
    let yesterday = when::day(t.now() - time::Duration::days(1), time::UtcOffset::UTC);
    let page = c.get(&format!("/audit?actor=audit.dates&action=login.ok&from={today}&to={today}")).await;
    assert_eq!(page.status(), 200);
    assert_eq!(seqs(&page.text().await.unwrap()).len(), 1, "today's login");
    let none = c.get(&format!("/audit?action=login.ok&to={yesterday}")).await.text().await.unwrap();
    assert!(seqs(&none).is_empty() && none.contains("No entries match."));
}

#[tokio::test]
async fn the_auditor_sees_usernames_beside_ids_and_actions_in_words() {
    let t = spawn_app().await;
    let auditor = t.web_user("audit.names", Role::Auditor).await;
    let worker = t.web_user("case.mika", Role::Caseworker).await;
    let _w = t.login(&worker).await;
    let mut c = t.login(&auditor).await;
    let page = c.get("/audit?action=login.ok").await.text().await.unwrap();
    let uid = worker.actor.user_id().to_string();
    let row = page.split("<tr>").skip(1).find(|r| r.contains(&uid)).expect("mika's login");
    assert!(row.contains("<span class=\"who\">case.mika</span> <code class=\"id\">"), "{row}");
    assert!(row.contains("Logged in") && !row.contains(">login.ok<"), "the action in words: {row}");
    assert!(row.contains("Caseworker") && row.contains("Done"), "role and outcome in words: {row}");
    // The stored entries keep the id only.
    let log = t.app.audit_log().await;
    assert!(log.iter().any(|e| e.actor == uid));
    assert!(log.iter().all(|e| !e.actor.contains("case.mika") && !e.target.contains("case.mika")));
    // The filter offers the actions in words.
    assert!(page.contains("<option value=\"case.read\">Opened a case</option>"));
    // Nobody else reads the trail, so nobody else sees the names beside ids.
    let mut k = t.login_coordinator().await;
    assert_eq!(k.get("/audit").await.status(), 403);
    let mut w = t.login(&worker).await;
    assert_eq!(w.get("/audit").await.status(), 403);
    assert_eq!(w.get("/audit/export.csv").await.status(), 403);
}

#[tokio::test]
async fn verification_says_what_it_verified_once_and_records_the_auditor() {
    let t = spawn_app().await;
    let auditor = t.web_user("audit.verifier", Role::Auditor).await;
    let mut c = t.login(&auditor).await;
    let csrf = c.csrf("/audit").await;
    let head = t.app.vault.store().audit_head().await.unwrap().unwrap();
    let done = c.post("/audit/verify", &[("csrf", &csrf)]).await;
    assert_eq!(done.status(), 303);
    assert_eq!(done.headers()["location"], "/audit");
    let page = c.follow(done).await.text().await.unwrap();
    let mac: String = safehouse::crypto::to_hex(&head.mac).chars().take(8).collect();
    let line = format!("Verified {} entries up to #{} (MAC {mac}…), no break.", head.seq, head.seq);
    assert!(page.contains(&line), "{line} in {page}");
    let again = c.get("/audit").await.text().await.unwrap();
    assert!(!again.contains("no break."), "shown once");

    let entry = t.app.audit_log().await.into_iter().rev().find(|e| e.action == "audit.verify").unwrap();
    assert_eq!(entry.actor, auditor.actor.user_id().to_string(), "the auditor is the actor");
    assert_eq!(entry.role, "auditor");
    assert_eq!(entry.target, head.seq.to_string(), "the verified head's seq");
    assert_eq!(entry.outcome, "ok");

    // The command line's run: actor "system", the same target rule.
    let result = audit::verify(&t.app.vault, &[], |_| {}).await;
    let verified_to = result.as_ref().unwrap().head.as_ref().unwrap().seq;
    audit::record_verification(&t.app.vault, None, "cli-run", &result).await.unwrap();
    let entry = t.app.audit_log().await.pop().unwrap();
    assert_eq!(
        (entry.action.as_str(), entry.actor.as_str(), entry.role.as_str()),
        ("audit.verify", "-", "-")
    );
    assert_eq!(entry.target, verified_to.to_string());
    // Only an auditor's run is recorded as theirs.
    let worker = t.web_user("case.notauditor", Role::Caseworker).await;
    assert!(audit::record_verification(&t.app.vault, Some(&worker.actor), "x", &result).await.is_err());
}

/// A second server on the same data whose organisation zone is `zone`.
async fn server_in_zone(t: &TestApp, zone: &str) -> String {
    let mut state = t.state.clone();
    state.display_zone = Zone::parse(zone).unwrap().offset();
    let server = safehouse::web::Application::bind("127.0.0.1:0".parse().unwrap(), state).await.unwrap();
    let base = format!("http://{}", server.local_addr().unwrap());
    tokio::spawn(server.run_until(std::future::pending()));
    base
}

async fn login_at(t: &TestApp, base: &str, user: &WebUser) -> Client {
    let mut client = Client::new(base);
    let code = oath_code(&user.secret, t.now());
    let r =
        client.post("/login", &[("username", &user.username), ("password", PASSWORD), ("code", &code)]).await;
    assert_eq!(r.status(), 303);
    t.next_step();
    client
}

/// The time column of the probe entry's row.
fn probe_time(page: &str) -> String {
    let row = page.split("<tr>").skip(1).find(|r| r.contains(">zone-probe</code>")).expect("the probe row");
    page_between(row, "<time>", "</time>").to_owned()
}

#[tokio::test]
async fn the_organisations_zone_and_a_users_own_change_the_times_shown() {
    let t = spawn_app().await;
    let auditor = t.web_user("audit.zones", Role::Auditor).await;
    let at = t.now();
    t.app.vault.record(&Event::system(Action::CaseList, "req").on("zone-probe"), Outcome::Ok).await.unwrap();
    let tokyo = Zone::parse("+09:00").unwrap().offset();

    // The default organisation zone is UTC.
    let mut c = t.login(&auditor).await;
    let page = c.get("/audit?target=zone-probe").await.text().await.unwrap();
    assert_eq!(probe_time(&page), when::minute(at, time::UtcOffset::UTC));
    assert!(page.contains("Time (UTC+00:00)"));

    // An organisation in Tokyo sees Tokyo times, on the trail and the account page.
    let base = server_in_zone(&t, "+09:00").await;
    let mut k = login_at(&t, &base, &auditor).await;
    let page = k.get("/audit?target=zone-probe").await.text().await.unwrap();
    assert_eq!(probe_time(&page), when::minute(at, tokyo));
    assert!(page.contains("Time (UTC+09:00)") && page.contains("From (UTC+09:00)"));
    let account = k.get("/account").await.text().await.unwrap();
    assert!(account.contains("zone is UTC+09:00."), "{account}");
    assert!(account.contains(&format!("{} (UTC+09:00)", when::minute(t.now(), tokyo))));

    // The user's own choice wins, is audited, and is said once.
    let csrf = k.csrf("/account").await;
    let bad = k.post("/account/zone", &[("csrf", &csrf), ("zone", "+09:07")]).await;
    assert_eq!(bad.status(), 422);
    assert!(bad.text().await.unwrap().contains("Choose a zone from the list."));
    let saved = k.post("/account/zone", &[("csrf", &csrf), ("zone", "+05:30")]).await;
    assert_eq!(saved.headers()["location"], "/account");
    let account = k.follow(saved).await.text().await.unwrap();
    assert!(account.contains("Times are now shown in UTC+05:30."), "{account}");
    assert!(account.contains("<option value=\"+05:30\" selected>UTC+05:30</option>"));
    assert!(!k.get("/account").await.text().await.unwrap().contains("Times are now shown"), "once");
    let kolkata = Zone::parse("+05:30").unwrap().offset();
    let page = k.get("/audit?target=zone-probe").await.text().await.unwrap();
    assert_eq!(probe_time(&page), when::minute(at, kolkata));
    // On the other server too: the choice is the user's, kept in their profile.
    let page = c.get("/audit?target=zone-probe").await.text().await.unwrap();
    assert_eq!(probe_time(&page), when::minute(at, kolkata));
    let profile =
        safehouse::accounts::service::entry(&t.app.vault, auditor.actor.user_id()).await.unwrap().profile;
    assert_eq!(profile.zone.map(|z| z.code()), Some("+05:30".to_owned()));
    let entry = t.app.audit_log().await.into_iter().rev().find(|e| e.action == "account.zone").unwrap();
    assert_eq!(entry.actor, auditor.actor.user_id().to_string());
    assert_eq!(entry.target, auditor.actor.user_id().to_string());
    assert!(!entry.target.contains("05:30"), "the entry names the account, not the choice");

    // Back to the organisation's zone.
    let saved = k.post("/account/zone", &[("csrf", &csrf), ("zone", "")]).await;
    let account = k.follow(saved).await.text().await.unwrap();
    assert!(
        account.contains("zone (UTC+09:00).") && account.contains("Times are now shown in the organisation")
    );
    let page = k.get("/audit?target=zone-probe").await.text().await.unwrap();
    assert_eq!(probe_time(&page), when::minute(at, tokyo));
}
