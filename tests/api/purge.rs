//! Purge of closed cases (issue 14, part 3) over real HTTP, on either
//! backend: after a purge no row, wrap or key of the case remains and none
//! of its ciphertext or wrap bytes (captured before) is in any file of the
//! data directory; the chain verifies and keeps the case's entries; before
//! the retention period a second coordinator confirms a first one's
//! request, the requester cannot, a change lapses the request, two
//! confirmations at once purge once; an open case cannot be purged; other
//! roles get 403; the case then answers 404 and leaves the dashboard.

use safehouse::accounts::model::Role;
use safehouse::audit::service as audit;
use safehouse::cases::model::{EventDate, MilestoneKind, Note, Outcome, Status};
use safehouse::cases::service::{self as cases, MilestoneDraft};
use safehouse::ids::CaseId;
use safehouse::membership;
use safehouse::storage::{HolderKind, ObjectKind};
use time::Duration;

use crate::helpers::*;

fn milestone(t: &TestApp, note: &str) -> MilestoneDraft {
    milestone_on(t.now().date(), note)
}

/// A contact three days before `today`.
fn milestone_on(today: time::Date, note: &str) -> MilestoneDraft {
    MilestoneDraft {
        kind: MilestoneKind::ContactMade,
        date: EventDate::parse(&(today - Duration::days(3)).to_string(), today).unwrap(),
        country: None,
        place_code: None,
        note: Note::parse(note).unwrap(),
        sponsorship: None,
    }
}

/// A closed case with a coordinator's and a caseworker's milestone (the
/// latter also leaves an index inbox row), assigned to `worker`.
async fn closed_case(t: &TestApp, worker: &WebUser, alias: &str) -> CaseId {
    let (vault, k) = (&t.app.vault, &t.app.coordinator);
    let id = cases::create(vault, k, draft(&[alias], "purge canary note")).await.unwrap();
    membership::assign(vault, k, id, worker.actor.user_id()).await.unwrap();
    cases::add_milestone(vault, k, id, milestone(t, "coordinator milestone canary")).await.unwrap();
    cases::add_milestone(vault, &worker.actor, id, milestone(t, "worker milestone canary")).await.unwrap();
    let version = cases::read(vault, k, id).await.unwrap().version;
    let mut closed = draft(&[alias], "purge canary note");
    closed.status = Status::Closed(Outcome::Resettled);
    cases::update(vault, k, id, version, closed).await.unwrap();
    id
}

async fn version(t: &TestApp, id: CaseId) -> String {
    cases::read(&t.app.vault, &t.app.coordinator, id).await.unwrap().version.to_string()
}

/// The tables holding a row that names `needle` (as text, or as the hex
/// of a blob), on whichever backend.
async fn tables_naming(t: &TestApp, needle: &str) -> Vec<String> {
    let mut out = Vec::new();
    match &t.app.pg {
        Some(db) => {
            let dump = String::from_utf8(db.dump()).unwrap();
            let mut table = None;
            for line in dump.lines() {
                if let Some(rest) = line.strip_prefix("COPY ") {
                    table = rest.split_whitespace().next().map(str::to_owned);
                } else if line == "\\." {
                    table = None;
                } else if let Some(name) = &table {
                    if line.contains(needle) && !out.contains(name) {
                        out.push(name.clone());
                    }
                }
            }
        }
        None => {
            use sqlx::Row;
            let path = t.app.data_dir().join("safehouse.db");
            let options = sqlx::sqlite::SqliteConnectOptions::new().filename(path).read_only(true);
            let pool = sqlx::SqlitePool::connect_with(options).await.unwrap();
            let tables: Vec<(String,)> =
                sqlx::query_as("SELECT name FROM sqlite_master WHERE type = 'table'")
                    .fetch_all(&pool)
                    .await
                    .unwrap();
            for (table,) in tables {
                for row in sqlx::query(&format!("SELECT * FROM \"{table}\"")).fetch_all(&pool).await.unwrap()
                {
                    let hit = (0..row.columns().len()).any(|i| {
                        let text = row.try_get::<Option<String>, _>(i).ok().flatten().unwrap_or_default();
                        let blob = row.try_get::<Option<Vec<u8>>, _>(i).ok().flatten().unwrap_or_default();
                        text.contains(needle) || contains(&blob, needle.as_bytes())
                    });
                    if hit && !out.contains(&table) {
                        out.push(table.clone());
                    }
                }
            }
            pool.close().await;
        }
    }
    out.sort();
    out
}

fn is_audit_log(table: &str) -> bool {
    table == "audit_log" || table == "public.audit_log"
}

async fn body(response: reqwest::Response) -> (u16, String) {
    (response.status().as_u16(), response.text().await.unwrap())
}

#[tokio::test]
async fn a_due_purge_leaves_no_row_and_no_byte_of_the_case() {
    let t = spawn_app().await;
    let worker = t.web_user("purge.worker", Role::Caseworker).await;
    let id = closed_case(&t, &worker, "Purgecanary").await;
    let other = closed_case(&t, &worker, "Keptcanary").await;
    let cid = id.to_string();
    let store = t.app.vault.store();
    // Everything sealed of the case, and its key's wraps, before the purge.
    let row = store.case(&cid).await.unwrap().unwrap();
    let mut captured = vec![row.sealed_group, row.sealed_placement, row.sealed_notes];
    let milestones = store.milestones(&cid).await.unwrap();
    assert_eq!(milestones.len(), 2);
    captured.extend(milestones.into_iter().map(|m| m.sealed));
    let wraps = store.wraps_of_object(ObjectKind::Case, &cid).await.unwrap();
    assert_eq!(wraps.len(), 2, "the coordinators' wrap and the caseworker's");
    captured.extend(wraps.into_iter().map(|w| w.wrapped));
    captured.push(store.index_row(&cid).await.unwrap().unwrap().sealed);
    let inbox: Vec<_> = store.inbox().await.unwrap().into_iter().filter(|r| r.case_id == cid).collect();
    assert!(!inbox.is_empty(), "the caseworker's change waits in the inbox");
    captured.extend(inbox.into_iter().map(|r| r.sealed));
    let coordinators = membership::coordinators_identity(&t.app.vault, &t.app.coordinator).await.unwrap();
    let key = membership::case_key_for_team(&t.app.vault, &coordinators, &cid).await.unwrap();
    let tag = safehouse::stories::tag(&key, &cid);
    drop(key);

    // A year and a day later, any one coordinator may purge it.
    t.clock.advance(Duration::days(366));
    let mut k = t.login_coordinator().await;
    assert_eq!(k.get(&format!("/cases/{cid}")).await.status(), 200, "a read leaves a case_reads row");
    assert!(tables_naming(&t, &cid).await.contains(&"case_reads".to_owned()) || t.app.pg.is_some());
    // (After the case page, which would open them.) A story draft and a
    // story link of the case (found by its tag), and
    // the approved story they point at, which stays published.
    use safehouse::storage::{StoryDraftRow, StoryLinkRow, StoryRow, Write};
    let story_bytes = b"approved story ciphertext stand-in".to_vec();
    let draft_bytes = b"story draft ciphertext stand-in".to_vec();
    let link_bytes = b"story link ciphertext stand-in".to_vec();
    store
        .apply(vec![
            Write::InsertStoryDraft(StoryDraftRow {
                id: "draft-1".into(),
                tag: tag.clone(),
                sealed: draft_bytes.clone(),
            }),
            Write::InsertStory(StoryRow { id: "story-1".into(), withdrawn: 0, sealed: story_bytes.clone() }),
            Write::InsertStoryLink(StoryLinkRow {
                id: "link-1".into(),
                tag: tag.clone(),
                sealed: link_bytes.clone(),
            }),
        ])
        .await
        .unwrap();
    captured.push(draft_bytes);
    captured.push(link_bytes);
    let (status, list) = body(k.get("/purge").await).await;
    assert_eq!(status, 200);
    assert!(list.contains(&format!("/purge/{cid}")) && list.contains("may be purged now"), "{list}");
    let (status, page) = body(k.get(&format!("/purge/{cid}")).await).await;
    assert_eq!(status, 200);
    assert!(
        page.contains("Purgecanary") && page.contains(&cid) && page.contains("cannot be undone"),
        "{page}"
    );

    // Without the tick: refused, named beside the box, nothing deleted.
    let csrf = k.csrf(&format!("/purge/{cid}")).await;
    let v = version(&t, id).await;
    let (status, page) =
        body(k.post(&format!("/purge/{cid}"), &[("csrf", &csrf), ("version", &v)]).await).await;
    assert_eq!(status, 422);
    assert!(page.contains("Tick the box to confirm that the purge cannot be undone."), "{page}");
    assert!(store.case(&cid).await.unwrap().is_some());

    let response =
        k.post(&format!("/purge/{cid}"), &[("csrf", &csrf), ("version", &v), ("understood", "yes")]).await;
    assert_eq!(response.status(), 303);
    assert_eq!(response.headers()["location"], "/purge");
    let (_, list) = body(k.get("/purge").await).await;
    assert!(list.contains(&format!("Case {cid} was purged")), "{list}");
    assert!(!list.contains("Purgecanary") && list.contains("Keptcanary"));

    // No row of it anywhere but the audit trail; no story row by its tag.
    let naming: Vec<_> = tables_naming(&t, &cid).await.into_iter().filter(|t| !is_audit_log(t)).collect();
    assert!(naming.is_empty(), "rows naming the case remain in {naming:?}");
    assert!(tables_naming(&t, &tag).await.is_empty());
    assert!(store.wraps_of_object(ObjectKind::Case, &cid).await.unwrap().is_empty());
    assert!(
        store
            .wrap(ObjectKind::Case, &cid, HolderKind::User, &worker.actor.user_id().to_string())
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        store.story_drafts_of(&tag).await.unwrap().is_empty()
            && store.story_links(&tag).await.unwrap().is_empty()
    );
    assert_eq!(store.story("story-1").await.unwrap().map(|s| s.sealed), Some(story_bytes));
    // The other case is whole.
    assert!(store.case(&other.to_string()).await.unwrap().is_some());

    // None of its bytes in any file of the data directory (after the checkpoint).
    for (path, bytes) in t.app.at_rest() {
        for (n, needle) in captured.iter().enumerate() {
            assert!(!contains(&bytes, needle), "captured value {n} of the purged case is still in {path:?}");
        }
    }

    // The chain verifies and keeps the case's entries, the purge's last.
    audit::verify(&t.app.vault, &[], |_| {}).await.unwrap();
    let entries: Vec<_> = t.app.audit_log().await.into_iter().filter(|e| e.target == cid).collect();
    let actions: Vec<&str> = entries.iter().map(|e| e.action.as_str()).collect();
    assert!(actions.contains(&"case.create") && actions.contains(&"milestone.add"), "{actions:?}");
    assert_eq!(entries.iter().filter(|e| e.action == "case.purge" && e.outcome == "ok").count(), 1);

    // It answers 404 for everyone, and the dashboards no longer show it.
    assert_eq!(k.get(&format!("/cases/{cid}")).await.status(), 404);
    assert_eq!(k.get(&format!("/purge/{cid}")).await.status(), 404);
    let (_, home) = body(k.get("/").await).await;
    assert!(!home.contains("Purgecanary"));
    let (_, list) = body(k.get("/cases").await).await;
    assert!(!list.contains("Purgecanary") && list.contains("Keptcanary"), "{list}");
    let mut w = t.login(&worker).await;
    assert_eq!(w.get(&format!("/cases/{cid}")).await.status(), 404);
    let (_, home) = body(w.get("/cases").await).await;
    assert!(!home.contains("Purgecanary") && home.contains("Keptcanary"));
}

#[tokio::test]
async fn before_retention_a_second_coordinator_confirms_and_two_confirmations_purge_once() {
    let t = spawn_app().await;
    let worker = t.web_user("purge.worker2", Role::Caseworker).await;
    let two = t.web_user("coord.two", Role::Coordinator).await;
    let three = t.web_user("coord.three", Role::Coordinator).await;
    let id = closed_case(&t, &worker, "Earlycanary").await;
    let cid = id.to_string();
    let path = format!("/purge/{cid}");
    let mut k = t.login_coordinator().await;

    // Alone, before the retention period: refused, and the page offers a request.
    let (_, page) = body(k.get(&path).await).await;
    assert!(page.contains("Ask another coordinator to confirm a purge") && !page.contains("Purge this case"));
    let csrf = k.csrf(&path).await;
    let v = version(&t, id).await;
    let (status, page) =
        body(k.post(&path, &[("csrf", &csrf), ("version", &v), ("understood", "yes")]).await).await;
    assert_eq!(status, 422);
    assert!(page.contains("another coordinator must confirm a request to purge it"), "{page}");
    assert!(t.app.vault.store().case(&cid).await.unwrap().is_some());

    let response = k.post(&format!("{path}/request"), &[("csrf", &csrf), ("version", &v)]).await;
    assert_eq!(response.status(), 303);
    let (_, list) = body(k.get("/purge").await).await;
    assert!(list.contains(&format!("Purge of case {cid} requested")), "{list}");

    // The requester cannot confirm their own request.
    let (_, page) = body(k.get(&path).await).await;
    assert!(page.contains("You asked for this purge."), "{page}");
    let (status, page) =
        body(k.post(&path, &[("csrf", &csrf), ("version", &v), ("understood", "yes")]).await).await;
    assert_eq!(status, 422);
    assert!(page.contains("You asked for this purge: another coordinator must confirm it."), "{page}");
    assert!(t.app.vault.store().case(&cid).await.unwrap().is_some());

    // Two other coordinators confirm at once: one purge, one audit entry of it.
    let mut c2 = t.login(&two).await;
    let mut c3 = t.login(&three).await;
    let (_, page) = body(c2.get(&path).await).await;
    assert!(page.contains("Another coordinator asked for this purge"), "{page}");
    let (csrf2, csrf3) = (c2.csrf(&path).await, c3.csrf(&path).await);
    let form2 = [("csrf", csrf2.as_str()), ("version", v.as_str()), ("understood", "yes")];
    let form3 = [("csrf", csrf3.as_str()), ("version", v.as_str()), ("understood", "yes")];
    let (a, b) = tokio::join!(c2.post(&path, &form2), c3.post(&path, &form3));
    let mut statuses = [a.status().as_u16(), b.status().as_u16()];
    statuses.sort_unstable();
    assert_eq!(statuses[0], 303, "{statuses:?}");
    assert!(statuses[1] == 404 || statuses[1] == 409, "{statuses:?}");
    assert!(t.app.vault.store().case(&cid).await.unwrap().is_none());
    let purges = t.app.audit_log().await.into_iter().filter(|e| e.target == cid && e.action == "case.purge");
    assert_eq!(purges.filter(|e| e.outcome == "ok").count(), 1);
    audit::verify(&t.app.vault, &[], |_| {}).await.unwrap();
    assert_eq!(c2.get(&format!("/cases/{cid}")).await.status(), 404);
}

#[tokio::test]
async fn a_reopened_case_lapses_its_request_and_an_open_case_cannot_be_purged() {
    let t = spawn_app().await;
    let worker = t.web_user("purge.worker3", Role::Caseworker).await;
    let two = t.web_user("coord.two", Role::Coordinator).await;
    let id = closed_case(&t, &worker, "Lapsecanary").await;
    let cid = id.to_string();
    let path = format!("/purge/{cid}");
    let mut k = t.login_coordinator().await;
    let csrf = k.csrf(&path).await;
    let v = version(&t, id).await;
    assert_eq!(k.post(&format!("{path}/request"), &[("csrf", &csrf), ("version", &v)]).await.status(), 303);

    // Reopened: no purge page, no purge, even by a second coordinator, even past retention.
    let (vault, coordinator) = (&t.app.vault, &t.app.coordinator);
    let version_now = cases::read(vault, coordinator, id).await.unwrap().version;
    cases::update(vault, coordinator, id, version_now, draft(&["Lapsecanary"], "purge canary note"))
        .await
        .unwrap();
    let mut c2 = t.login(&two).await;
    assert_eq!(c2.get(&path).await.status(), 404);
    let csrf2 = c2.csrf("/purge").await;
    let v = version(&t, id).await;
    let response = c2.post(&path, &[("csrf", &csrf2), ("version", &v), ("understood", "yes")]).await;
    assert_eq!(response.status(), 404);
    assert!(t.app.vault.store().case(&cid).await.unwrap().is_some());
    let (_, list) = body(c2.get("/purge").await).await;
    assert!(!list.contains(&cid), "an open case is not listed");

    // Closed again: the old request has lapsed, so a confirmation is refused.
    let version_now = cases::read(vault, coordinator, id).await.unwrap().version;
    let mut closed = draft(&["Lapsecanary"], "purge canary note");
    closed.status = Status::Closed(Outcome::Withdrew);
    cases::update(vault, coordinator, id, version_now, closed).await.unwrap();
    let (_, page) = body(c2.get(&path).await).await;
    assert!(page.contains("An earlier request lapsed"), "{page}");
    let v = version(&t, id).await;
    let response = c2.post(&path, &[("csrf", &csrf2), ("version", &v), ("understood", "yes")]).await;
    assert_eq!(response.status(), 422);
    assert!(t.app.vault.store().case(&cid).await.unwrap().is_some());
    // A stale version (the page before a change) is refused as a change.
    let response = c2.post(&path, &[("csrf", &csrf2), ("version", "1"), ("understood", "yes")]).await;
    assert_eq!(response.status(), 409);

    // Another open case cannot be purged even long past any retention.
    let open = cases::create(vault, coordinator, draft(&["Opencanary"], "n")).await.unwrap();
    t.clock.advance(Duration::days(4000));
    let mut k = t.login(&two).await;
    let opath = format!("/purge/{open}");
    assert_eq!(k.get(&opath).await.status(), 404);
    let csrf = k.csrf("/purge").await;
    let response = k.post(&opath, &[("csrf", &csrf), ("version", "1"), ("understood", "yes")]).await;
    assert_eq!(response.status(), 404);
    assert!(t.app.vault.store().case(&open.to_string()).await.unwrap().is_some());
}

#[tokio::test]
async fn caseworkers_and_communications_staff_get_403() {
    let t = spawn_app().await;
    let worker = t.web_user("purge.worker4", Role::Caseworker).await;
    let comms = t.web_user("purge.comms", Role::Communications).await;
    let id = closed_case(&t, &worker, "Rolecanary").await;
    t.clock.advance(Duration::days(366));
    let path = format!("/purge/{id}");
    for user in [&worker, &comms] {
        let mut c = t.login(user).await;
        let csrf = c.csrf("/").await;
        assert_eq!(c.get("/purge").await.status(), 403, "{}", user.username);
        assert_eq!(c.get(&path).await.status(), 403, "{}", user.username);
        let form = [("csrf", csrf.as_str()), ("version", "2"), ("understood", "yes")];
        assert_eq!(c.post(&path, &form).await.status(), 403, "{}", user.username);
        assert_eq!(c.post(&format!("{path}/request"), &form).await.status(), 403, "{}", user.username);
    }
    assert!(t.app.vault.store().case(&id.to_string()).await.unwrap().is_some());
}

/// The purge is one transaction: if anything in it fails (here a write
/// after it in the same list), nothing of it is applied: the case, its
/// milestones, wraps and index record are all still there. A kill before
/// the commit is the same rollback.
#[tokio::test]
async fn a_purge_that_fails_part_way_leaves_the_case_whole() {
    let t = spawn_app().await;
    let worker = t.web_user("purge.worker5", Role::Caseworker).await;
    let id = closed_case(&t, &worker, "Wholecanary").await;
    let cid = id.to_string();
    let store = t.app.vault.store();
    let version = store.case(&cid).await.unwrap().unwrap().version;
    let result = store
        .apply(vec![
            safehouse::storage::Write::PurgeCase { case_id: cid.clone(), version, tag: "t".into() },
            safehouse::storage::Write::DeleteRecoveryRequest { id: "no such request".into() },
        ])
        .await;
    assert!(result.is_err());
    assert!(store.case(&cid).await.unwrap().is_some());
    assert_eq!(store.milestones(&cid).await.unwrap().len(), 2);
    assert_eq!(store.wraps_of_object(ObjectKind::Case, &cid).await.unwrap().len(), 2);
    assert!(store.index_row(&cid).await.unwrap().is_some());
    // A stale version purges nothing either.
    let stale = store
        .apply(vec![safehouse::storage::Write::PurgeCase {
            case_id: cid.clone(),
            version: version - 1,
            tag: "t".into(),
        }])
        .await;
    assert!(stale.is_err());
    assert!(store.case(&cid).await.unwrap().is_some());
    let mut k = t.login_coordinator().await;
    assert_eq!(k.get(&format!("/cases/{cid}")).await.status(), 200);
}

/// `safehouse purge ARGS` as coord.one, without a terminal.
fn purge_command(env: &crate::cli::Env, args: &[&str], code: &str) -> std::process::Output {
    env.as_first_coordinator(&[&["purge"], args].concat(), code)
}

/// `safehouse purge --due` through the real binary, without a terminal:
/// every closed case past the retention period goes, each with its own
/// `case.purge` entry and a plain line; a case closed recently and an open
/// case created long ago stay; the chain verifies.
#[tokio::test]
async fn purge_due_from_the_command_line_purges_only_the_cases_past_retention() {
    use safehouse::clock::{Clock, ManualClock};
    use std::sync::Arc;

    let env = crate::cli::Env::on_suite().await;
    let recipient = env.keygen();
    assert!(env.init(&recipient).status.success());
    let (due, kept, secret) = {
        let vault =
            safehouse::setup::open(&env.config(), Arc::new(safehouse::clock::SystemClock)).await.unwrap();
        let one = safehouse::accounts::service::unlock(&vault, "coord.one", "first coordinator passphrase")
            .await
            .unwrap();
        let secret = enrol_a_step_back(&vault, &one).await;
        // Cases made on a clock of their own: closed 400 days ago (due),
        // closed 10 days ago (not due), open since 400 days ago.
        let at = |days: i64| {
            let clock: Arc<dyn Clock> =
                Arc::new(ManualClock::new(time::OffsetDateTime::now_utc() - Duration::days(days)));
            safehouse::vault::Vault::new(vault.store.clone(), vault.keyring.clone(), clock, vault.kdf)
        };
        let closed_at = async |days: i64, alias: &str| {
            let old = at(days);
            let id = cases::create(&old, &one, draft(&[alias], "n")).await.unwrap();
            cases::add_milestone(&old, &one, id, milestone_on(old.clock.now().date(), "m")).await.unwrap();
            let version = cases::read(&old, &one, id).await.unwrap().version;
            let mut closed = draft(&[alias], "n");
            closed.status = Status::Closed(Outcome::Resettled);
            cases::update(&old, &one, id, version, closed).await.unwrap();
            id
        };
        let due = vec![closed_at(400, "Dueone").await, closed_at(366, "Duetwo").await];
        let recent = closed_at(10, "Recentone").await;
        let open = cases::create(&at(400), &one, draft(&["Openone"], "n")).await.unwrap();
        (due, vec![recent, open], secret)
    };
    let out = purge_command(&env, &["--due"], &oath_code(&secret, time::OffsetDateTime::now_utc()));
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "{}", crate::cli::stderr(&out));
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 3, "a line per case and a total: {stdout}");
    for (n, line) in lines.iter().take(2).enumerate() {
        assert!(line.starts_with(&format!("[{}/2] case ", n + 1)) && line.ends_with(" purged"), "{line}");
        assert!(line.contains(&due[n].to_string()) || line.contains(&due[1 - n].to_string()), "{line}");
    }
    assert!(due.iter().all(|id| stdout.contains(&id.to_string())), "{stdout}");
    assert_eq!(lines[2], "2 case(s) past the retention period purged.");
    let vault = safehouse::setup::open(&env.config(), Arc::new(safehouse::clock::SystemClock)).await.unwrap();
    let log = vault.store().audit_rows(0, i64::MAX).await.unwrap();
    let purges = |id: &CaseId| {
        log.iter()
            .filter(|e| e.target == id.to_string() && e.action == "case.purge" && e.outcome == "ok")
            .count()
    };
    for id in &due {
        assert!(vault.store().case(&id.to_string()).await.unwrap().is_none(), "{id} purged");
        assert_eq!(purges(id), 1, "{id}: one case.purge entry");
    }
    for id in &kept {
        assert!(vault.store().case(&id.to_string()).await.unwrap().is_some(), "{id} kept");
        assert_eq!(purges(id), 0, "{id}: not purged");
    }
    audit::verify(&vault, &[], |_| {}).await.unwrap();
}

/// `safehouse purge --case` as a coordinator (password from the file,
/// code on stdin) confirms another coordinator's request; a wrong code
/// purges nothing; the requester's own confirmation is refused.
#[tokio::test]
async fn the_command_line_confirms_another_coordinators_request() {
    use safehouse::accounts::model::Username;
    use safehouse::accounts::service as accounts;
    use std::sync::Arc;

    let env = crate::cli::Env::on_suite().await;
    let recipient = env.keygen();
    assert!(env.init(&recipient).status.success());
    let id = {
        let vault =
            safehouse::setup::open(&env.config(), Arc::new(safehouse::clock::SystemClock)).await.unwrap();
        let one = accounts::unlock(&vault, "coord.one", "first coordinator passphrase").await.unwrap();
        std::fs::write(env.path("totp.secret"), enrol_a_step_back(&vault, &one).await).unwrap();
        // A second coordinator, certified and admitted by coord.one.
        let token = accounts::create_account_unchecked(
            &vault,
            &Username::parse("coord.two").unwrap(),
            [Role::Coordinator].into(),
        )
        .await
        .unwrap()
        .activation;
        let issued = accounts::activate(&vault, token.expose(), &password(PASSWORD)).await.unwrap();
        membership::certify(&vault, &one, issued.actor.user_id(), &issued.fingerprint).await.unwrap();
        membership::admit(&vault, &one, safehouse::keyring::Team::Coordinators, issued.actor.user_id())
            .await
            .unwrap();
        let two = accounts::unlock(&vault, "coord.two", PASSWORD).await.unwrap();
        let id = cases::create(&vault, &one, draft(&["Clicanary"], "n")).await.unwrap();
        let mut closed = draft(&["Clicanary"], "n");
        closed.status = Status::Closed(Outcome::LostContact);
        cases::update(&vault, &one, id, 1, closed).await.unwrap();
        safehouse::purge::service::request(&vault, &two, id, 2).await.unwrap();
        id
    };
    let secret = std::fs::read_to_string(env.path("totp.secret")).unwrap();
    let run = |code: &str| purge_command(&env, &["--case", &id.to_string()], code);
    let out = run("000000");
    assert!(!out.status.success());
    assert!(crate::cli::stderr(&out).contains("not correct"), "{}", crate::cli::stderr(&out));
    let out = run(&oath_code(&secret, time::OffsetDateTime::now_utc()));
    assert!(out.status.success(), "{}", crate::cli::stderr(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains(&format!("Case {id} purged.")));
    let vault = safehouse::setup::open(&env.config(), Arc::new(safehouse::clock::SystemClock)).await.unwrap();
    assert!(vault.store().case(&id.to_string()).await.unwrap().is_none());
    audit::verify(&vault, &[], |_| {}).await.unwrap();
}

/// Another node's purge (a second vault on the same database, with its
/// own in-memory index) reaches this node's lists through the index
/// counter: the case leaves them at the next request.
#[tokio::test]
async fn a_purge_on_another_node_leaves_this_nodes_lists() {
    let t = spawn_app().await;
    let worker = t.web_user("purge.worker6", Role::Caseworker).await;
    let id = closed_case(&t, &worker, "Nodecanary").await;
    closed_case(&t, &worker, "Staycanary").await;
    t.clock.advance(Duration::days(366));
    let mut k = t.login_coordinator().await;
    let (_, list) = body(k.get("/cases").await).await;
    assert!(list.contains("Nodecanary") && list.contains("Staycanary"));
    assert_eq!(t.state.vault.index_cache.entries(), 2, "this node holds both");
    let vault = &t.app.vault;
    let clock: std::sync::Arc<dyn safehouse::clock::Clock> = t.clock.clone();
    let other = safehouse::vault::Vault::new(vault.store.clone(), vault.keyring.clone(), clock, vault.kdf);
    let version = cases::read(&other, &t.app.coordinator, id).await.unwrap().version;
    safehouse::purge::service::purge(&other, &t.app.coordinator, id, version, true).await.unwrap();
    let (_, list) = body(k.get("/cases").await).await;
    assert!(!list.contains("Nodecanary") && list.contains("Staycanary"), "{list}");
    assert_eq!(t.state.vault.index_cache.entries(), 1);
}

// ---------------------------------------------------------------------------
// A purge cut by a kill, beside the crash test's writers (crash.rs)
// ---------------------------------------------------------------------------

const PURGER: &str = "coord.purger";
/// The coordinator the command logs in as: a TOTP step of its own.
const COMMAND_PURGER: &str = "coord.purgecli";
const PURGE_WORKER: &str = "case.purger";
/// Closed cases made for the scenario to purge, one at a time.
const DOOMED: u64 = 16;
/// The longest `safehouse purge` runs before the scenario kills it: about
/// its whole run (open, argon2 login, purge), so kills land in each part.
const MAX_COMMAND_MS: u64 = 600;

/// Rows of each table keyed by a case: a purge leaves none, and the
/// audit trail (not keyed by it) keeps its entries.
const KEYED_BY_CASE: [(&str, &str); 8] = [
    ("cases", "SELECT COUNT(*) FROM cases WHERE id = $1"),
    ("milestones", "SELECT COUNT(*) FROM milestones WHERE case_id = $1"),
    ("wraps", "SELECT COUNT(*) FROM wraps WHERE object_kind = 'case' AND object_id = $1"),
    ("case_index", "SELECT COUNT(*) FROM case_index WHERE case_id = $1"),
    ("index_inbox", "SELECT COUNT(*) FROM index_inbox WHERE case_id = $1"),
    ("pending_grants", "SELECT COUNT(*) FROM pending_grants WHERE case_id = $1"),
    ("purge_requests", "SELECT COUNT(*) FROM purge_requests WHERE case_id = $1"),
    ("case_reads", "SELECT COUNT(*) FROM case_reads WHERE case_id = $1"),
];

/// For each case, its rows in each table keyed by a case.
async fn rows_keyed_by(site: &crate::crash::Settings, ids: &[&str]) -> Vec<Vec<(&'static str, i64)>> {
    macro_rules! count_on {
        ($pool:expr) => {{
            let pool = $pool;
            let mut out = Vec::new();
            for id in ids {
                let mut rows = Vec::new();
                for (table, sql) in KEYED_BY_CASE {
                    let (n,): (i64,) = sqlx::query_as(sql).bind(*id).fetch_one(&pool).await.unwrap();
                    rows.push((table, n));
                }
                out.push(rows);
            }
            pool.close().await;
            out
        }};
    }
    match &site.database_url {
        Some(url) => count_on!(sqlx::PgPool::connect(url).await.unwrap()),
        None => {
            let options = sqlx::sqlite::SqliteConnectOptions::new()
                .filename(site.data_dir.join("safehouse.db"))
                .read_only(true);
            count_on!(sqlx::SqlitePool::connect_with(options).await.unwrap())
        }
    }
}

/// A whole case: its row, both milestones, both wraps (the coordinators'
/// and its caseworker's), its index record.
fn is_whole(rows: &[(&str, i64)]) -> bool {
    let count = |table: &str| rows.iter().find(|(t, _)| *t == table).map_or(0, |(_, n)| *n);
    (count("cases"), count("milestones"), count("wraps"), count("case_index")) == (1, 2, 2, 1)
}

fn is_gone(rows: &[(&str, i64)]) -> bool {
    rows.iter().all(|(_, n)| *n == 0)
}

#[derive(Clone)]
struct Doomed {
    id: String,
    alias: String,
    version: i64,
}

#[derive(Default)]
struct PurgeTally {
    by_page: u32,
    by_command: u32,
    lost: u32,
    commands_killed: u32,
}

/// Closed cases past the retention period, purged one at a time while the
/// server is killed: over HTTP (the server's kill cuts the request) or with
/// `safehouse purge --user --case` (password from the file, code on stdin;
/// killed by the scenario at a moment of its own). After every restart the
/// case is wholly there (row, milestones, wraps, index record, open for
/// its coordinator and its caseworker) or wholly gone (no row keyed by it,
/// one `case.purge` entry), and the chain verifies.
#[derive(Default)]
pub(crate) struct InterruptedPurge {
    doomed: Vec<Doomed>,
    /// The first case not known to be gone.
    next: usize,
    /// Its purge was answered: it must be gone at the next check.
    answered: bool,
    coordinator: Option<crate::crash::Login>,
    command_coordinator: Option<crate::crash::Login>,
    caseworker: Option<crate::crash::Login>,
    coordinator_cookie: Option<String>,
    caseworker_cookie: Option<String>,
    password_file: std::path::PathBuf,
    tally: PurgeTally,
}

impl InterruptedPurge {
    /// The code of the coordinator's next unspent step, if one is current.
    fn command_code(&mut self) -> Option<String> {
        let who = self.command_coordinator.as_mut()?;
        let step = (crate::crash::step_now() - 1).max(who.last_step + 1);
        if step > crate::crash::step_now() + 1 {
            return None;
        }
        who.last_step = step;
        Some(oath_code(&who.secret, time::OffsetDateTime::from_unix_timestamp(step * 30).unwrap()))
    }

    async fn purge_on_page(&mut self, base: &str, case: &Doomed) {
        let Some(who) = self.coordinator.as_mut() else { return };
        let mut s = crate::crash::Session::new(base, self.coordinator_cookie.take());
        let answer = async {
            s.ready(who, false).await?;
            let (csrf, version) = (s.csrf(), case.version.to_string());
            let form = [("csrf", csrf.as_str()), ("version", version.as_str()), ("understood", "yes")];
            s.post(&format!("/purge/{}", case.id), &form).await
        }
        .await;
        self.coordinator_cookie = s.cookie.take();
        match answer {
            Ok(answer) => {
                assert_eq!(answer.status, 303, "the purge of {} was refused: {}", case.id, answer.body);
                self.answered = true;
                self.tally.by_page += 1;
            }
            Err(crate::crash::Down) => self.tally.lost += 1,
        }
    }

    async fn purge_by_command(
        &mut self,
        site: &crate::crash::Settings,
        case: &Doomed,
        code: &str,
        after: u64,
    ) {
        use std::io::{Read, Write};
        let mut child = site
            .command()
            .env("SAFEHOUSE_COORDINATOR_PASSWORD_FILE", &self.password_file)
            .args(["purge", "--user", COMMAND_PURGER, "--case", &case.id])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        writeln!(child.stdin.take().unwrap(), "{code}").unwrap();
        let started = std::time::Instant::now();
        let status = loop {
            if let Some(status) = child.try_wait().unwrap() {
                break Some(status);
            }
            if started.elapsed() >= std::time::Duration::from_millis(after) {
                child.kill().unwrap();
                child.wait().unwrap();
                break None;
            }
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        };
        let Some(status) = status else {
            self.tally.commands_killed += 1;
            return;
        };
        let (mut stdout, mut stderr) = (String::new(), String::new());
        child.stdout.take().unwrap().read_to_string(&mut stdout).unwrap();
        child.stderr.take().unwrap().read_to_string(&mut stderr).unwrap();
        assert!(status.success() && stdout.contains("purged."), "safehouse purge: {stdout}{stderr}");
        self.answered = true;
        self.tally.by_command += 1;
    }

    /// Whether `case` is there, and panics unless wholly there or wholly gone.
    async fn present(&mut self, site: &crate::crash::Settings, base: &str, case: &Doomed) -> bool {
        let rows = rows_keyed_by(site, &[&case.id]).await.remove(0);
        let (gone, whole) = (is_gone(&rows), is_whole(&rows));
        assert!(gone || whole, "case {} after a kill: neither whole nor gone: {rows:?}", case.id);
        // Its people open it, or nobody does.
        let mut people = [
            (self.coordinator.as_mut().unwrap(), &mut self.coordinator_cookie),
            (self.caseworker.as_mut().unwrap(), &mut self.caseworker_cookie),
        ];
        for (who, cookie) in people.iter_mut() {
            let mut s = crate::crash::Session::new(base, cookie.take());
            s.ready(who, true).await.unwrap();
            let page = s.get(&format!("/cases/{}", case.id)).await.unwrap();
            **cookie = s.cookie.take();
            if whole {
                assert!(
                    page.status == 200 && page.body.contains(&case.alias),
                    "{} opens {}",
                    who.username,
                    case.id
                );
            } else {
                assert_eq!(page.status, 404, "{} after the purge of {}", who.username, case.id);
            }
        }
        whole
    }
}

#[async_trait::async_trait]
impl crate::crash::Interrupted for InterruptedPurge {
    fn name(&self) -> &'static str {
        "purge"
    }

    async fn prepare(&mut self, app: &Instance) {
        use safehouse::clock::{Clock, ManualClock};
        let purger = app.user(PURGER, Role::Coordinator, true).await;
        let command_purger = app.user(COMMAND_PURGER, Role::Coordinator, true).await;
        let worker = app.user(PURGE_WORKER, Role::Caseworker, true).await;
        // Closed long ago, so past the retention period on the servers'
        // real clock: a vault of this process on a clock of 400 days back.
        let then = time::OffsetDateTime::now_utc() - Duration::days(400);
        let clock: std::sync::Arc<dyn Clock> = std::sync::Arc::new(ManualClock::new(then));
        let vault = &app.vault;
        let old = safehouse::vault::Vault::new(vault.store.clone(), vault.keyring.clone(), clock, vault.kdf);
        let k = &app.coordinator;
        for n in 0..DOOMED {
            let alias = format!("Doomed {}", crate::crash::letters(n));
            let id = cases::create(&old, k, draft(&[&alias], "to be purged")).await.unwrap();
            membership::assign(&old, k, id, worker.user_id()).await.unwrap();
            cases::add_milestone(&old, k, id, milestone_on(then.date(), "coordinator's")).await.unwrap();
            cases::add_milestone(&old, &worker, id, milestone_on(then.date(), "caseworker's")).await.unwrap();
            let version = cases::read(&old, k, id).await.unwrap().version;
            let mut closed = draft(&[&alias], "to be purged");
            closed.status = Status::Closed(Outcome::Resettled);
            cases::update(&old, k, id, version, closed).await.unwrap();
            self.doomed.push(Doomed { id: id.to_string(), alias, version: version + 1 });
        }
        let login = |username: &str, (secret, last_step): (String, i64)| crate::crash::Login {
            username: username.to_owned(),
            password: PASSWORD.to_owned(),
            secret,
            last_step,
        };
        self.coordinator = Some(login(PURGER, crate::crash::enrol(app, &purger).await));
        // Enrolled a step back, so two steps are unspent at the start.
        let secret = enrol_a_step_back(&app.vault, &command_purger).await;
        self.command_coordinator = Some(login(COMMAND_PURGER, (secret, crate::crash::step_now() - 1)));
        self.caseworker = Some(login(PURGE_WORKER, crate::crash::enrol(app, &worker).await));
        self.password_file = app.dir.path().join("purger.pw");
        std::fs::write(&self.password_file, PASSWORD).unwrap();
    }

    async fn run(&mut self, site: &crate::crash::Settings, base: &str, mut rng: crate::crash::Rng) {
        let Some(case) = self.doomed.get(self.next).cloned() else { return };
        // About one round in two, at a moment of its own.
        if rng.upto(1) == 0 {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(rng.upto(400))).await;
        let by_command = if rng.upto(1) == 0 { self.command_code() } else { None };
        match by_command {
            Some(code) => self.purge_by_command(site, &case, &code, rng.upto(MAX_COMMAND_MS)).await,
            None => self.purge_on_page(base, &case).await,
        }
    }

    async fn check(&mut self, site: &crate::crash::Settings, base: &str) {
        let Some(case) = self.doomed.get(self.next).cloned() else { return };
        let present = self.present(site, base, &case).await;
        assert!(!(present && self.answered), "case {}: its purge was answered, yet it is there", case.id);
        self.answered = false;
        if !present {
            self.next += 1;
        }
        // The ones before stay gone, the ones after stay whole.
        let ids: Vec<&str> = self.doomed.iter().map(|d| d.id.as_str()).collect();
        for (n, rows) in rows_keyed_by(site, &ids).await.into_iter().enumerate() {
            let kept = if n < self.next { is_gone(&rows) } else { is_whole(&rows) };
            assert!(kept, "case {}: {rows:?}", ids[n]);
        }
        let vault =
            safehouse::setup::open(&site.config(), std::sync::Arc::new(safehouse::clock::SystemClock))
                .await
                .unwrap();
        audit::verify(&vault, &[], |_| {}).await.unwrap();
        let purges = vault.store().audit_rows(0, i64::MAX).await.unwrap();
        for (n, other) in self.doomed.iter().enumerate() {
            let entries = purges
                .iter()
                .filter(|e| e.target == other.id && e.action == "case.purge" && e.outcome == "ok");
            assert_eq!(
                entries.count(),
                usize::from(n < self.next),
                "case {}: one case.purge once gone",
                other.id
            );
        }
    }

    fn finish(&mut self) {
        let t = &self.tally;
        println!(
            "crash: purge: {} of {DOOMED} cases purged ({} answered on the page, {} by the command; {} answers \
             lost in a kill, {} commands killed), each whole or gone after every kill",
            self.next, t.by_page, t.by_command, t.lost, t.commands_killed
        );
        assert!(self.next > 0, "no purge completed: the run says nothing about purges");
    }
}
