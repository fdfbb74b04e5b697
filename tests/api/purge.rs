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
    MilestoneDraft {
        kind: MilestoneKind::ContactMade,
        date: EventDate::parse(&(t.now().date() - Duration::days(3)).to_string(), t.now().date()).unwrap(),
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

/// `safehouse purge --case` as a coordinator (password from the file,
/// code on stdin) confirms another coordinator's request; a wrong code
/// purges nothing; the requester's own confirmation is refused.
#[tokio::test]
async fn the_command_line_confirms_another_coordinators_request() {
    use safehouse::accounts::model::Username;
    use safehouse::accounts::service as accounts;
    use safehouse::accounts::totp;
    use std::io::Write as _;
    use std::sync::Arc;

    let env = crate::cli::Env::on_suite().await;
    let recipient = env.keygen();
    assert!(env.init(&recipient).status.success());
    let id = {
        let vault =
            safehouse::setup::open(&env.config(), Arc::new(safehouse::clock::SystemClock)).await.unwrap();
        let one = accounts::unlock(&vault, "coord.one", "first coordinator passphrase").await.unwrap();
        // coord.one's authenticator, confirmed with the previous step's code
        // (one step of drift), so the current step is still unused.
        let (enrolment, write) = totp::begin(&vault, one.user_id()).await.unwrap();
        vault.store().apply(vec![write]).await.unwrap();
        let secret = enrolment.secret_base32.to_string();
        let earlier = time::OffsetDateTime::now_utc() - Duration::seconds(30);
        let writes = totp::confirm(&vault, one.user_id(), &oath_code(&secret, earlier)).await.unwrap();
        vault.store().apply(writes).await.unwrap();
        std::fs::write(env.path("totp.secret"), &secret).unwrap();
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
    let run = |code: &str| {
        let mut child = env
            .command()
            .env("SAFEHOUSE_COORDINATOR_PASSWORD_FILE", env.path("coordinator.pw"))
            .args(["purge", "--user", "coord.one", "--case", &id.to_string()])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        writeln!(child.stdin.take().unwrap(), "{code}").unwrap();
        child.wait_with_output().unwrap()
    };
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
