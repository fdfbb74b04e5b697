//! The audit trail: every operation leaves exactly one entry, in the same
//! transaction; the chain catches every kind of tampering.

use std::sync::Arc;

use safehouse::accounts::Username;
use safehouse::accounts::model::Role;
use safehouse::accounts::service as accounts;
use safehouse::audit::chain::{Break, ChainKey, Checkpoint};
use safehouse::audit::service::{self as audit, BulkReadPolicy};
use safehouse::cases::model::{EventDate, MilestoneKind, Note, ShelterCode};
use safehouse::cases::service::{self as cases, MilestoneDraft};
use safehouse::clock::ManualClock;
use safehouse::crypto::Key32;
use safehouse::error::ServiceError;
use safehouse::keyring::Team;
use safehouse::membership;
use safehouse::recovery;
use safehouse::shelters::{self, ShelterDetails};
use safehouse::storage::{AuditRow, ChainMac, GENESIS_MAC};

use crate::helpers::*;

async fn verify(app: &Instance, checkpoints: &[Checkpoint]) -> Result<i64, Break> {
    audit::verify(&app.vault, checkpoints, |_| {}).await.map(|v| v.entries)
}

/// Play someone with the database owner's rights: switch off the triggers
/// that refuse UPDATE and DELETE on the log.
async fn drop_triggers(app: &Instance) {
    if app.pg.is_some() {
        app.execute_raw("ALTER TABLE audit_log DISABLE TRIGGER USER", &[]).await;
        return;
    }
    for t in ["audit_log_no_update", "audit_log_no_delete"] {
        app.execute_raw(&format!("DROP TRIGGER {t}"), &[]).await;
    }
}

/// An instance with a few dozen entries of every kind.
async fn busy_instance() -> Instance {
    let app = instance().await;
    let worker = app.user("case.busy", Role::Caseworker, true).await;
    for n in 0..4 {
        let id = cases::create(&app.vault, &worker, draft(&["Gannet"], &format!("busy {n}"))).await.unwrap();
        cases::read(&app.vault, &worker, id).await.unwrap();
    }
    cases::list_visible(&app.vault, &app.coordinator).await.unwrap();
    app
}

#[tokio::test]
async fn the_database_refuses_to_update_or_delete_entries() {
    let app = instance().await;
    let update = app.execute_raw_error("UPDATE audit_log SET outcome = 'ok' WHERE seq = 1").await;
    assert!(update.contains("append-only"), "{update}");
    let delete = app.execute_raw_error("DELETE FROM audit_log WHERE seq = 1").await;
    assert!(delete.contains("append-only"), "{delete}");
}

#[tokio::test]
async fn verify_detects_an_edit_of_any_field_of_any_row() {
    let app = busy_instance().await;
    let total = verify(&app, &[]).await.unwrap();
    assert!(total > 10, "{total}");
    drop_triggers(&app).await;
    let rows = app.audit_log().await;
    for row in [rows.first().unwrap(), &rows[rows.len() / 2], rows.last().unwrap()] {
        let text_columns = [
            ("at", &row.at),
            ("actor", &row.actor),
            ("role", &row.role),
            ("action", &row.action),
            ("target", &row.target),
            ("outcome", &row.outcome),
            ("request_id", &row.request_id),
        ];
        let set = |column: &str| format!("UPDATE audit_log SET {column} = $1 WHERE seq = $2");
        for (column, original) in text_columns {
            app.execute_raw_with(&set(column), vec![Bind::Text(format!("{original}x")), Bind::Int(row.seq)])
                .await;
            assert_eq!(verify(&app, &[]).await, Err(Break::Mac { seq: row.seq }), "{column} of {}", row.seq);
            app.execute_raw_with(&set(column), vec![Bind::Text(original.clone()), Bind::Int(row.seq)]).await;
        }
        for (column, original) in [("prev_mac", &row.prev_mac), ("mac", &row.mac)] {
            let random: Vec<u8> = (0..32).map(|_| rand::random::<u8>()).collect();
            app.execute_raw_with(&set(column), vec![Bind::Bytes(random), Bind::Int(row.seq)]).await;
            assert_eq!(verify(&app, &[]).await, Err(Break::Mac { seq: row.seq }), "{column} of {}", row.seq);
            app.execute_raw_with(&set(column), vec![Bind::Bytes(original.clone()), Bind::Int(row.seq)]).await;
        }
        // Moving an entry to another sequence number.
        let renumber = "UPDATE audit_log SET seq = seq + $1 WHERE seq = $2";
        app.execute_raw_with(renumber, vec![Bind::Int(100_000), Bind::Int(row.seq)]).await;
        assert!(verify(&app, &[]).await.is_err(), "renumbered {}", row.seq);
        app.execute_raw_with(renumber, vec![Bind::Int(-100_000), Bind::Int(row.seq + 100_000)]).await;
    }
    assert_eq!(verify(&app, &[]).await, Ok(total), "restored rows verify again");
}

#[tokio::test]
async fn verify_detects_a_deleted_row_and_a_cut_end() {
    let app = busy_instance().await;
    let checkpoint = audit::head(&app.vault).await.unwrap().unwrap();
    assert_eq!(Checkpoint::parse(&checkpoint.to_line()), Some(checkpoint.clone()));
    let total = verify(&app, std::slice::from_ref(&checkpoint)).await.unwrap();
    drop_triggers(&app).await;

    // Cutting the last rows leaves a valid chain: only the checkpoint kept
    // off the server shows it.
    let cut_from = checkpoint.seq - 2;
    let saved: Vec<AuditRow> = app.audit_log().await.into_iter().filter(|r| r.seq >= cut_from).collect();
    app.execute_raw_with("DELETE FROM audit_log WHERE seq >= $1", vec![Bind::Int(cut_from)]).await;
    assert_eq!(verify(&app, &[]).await, Ok(total - 3));
    assert_eq!(
        verify(&app, std::slice::from_ref(&checkpoint)).await,
        Err(Break::Cut { seq: checkpoint.seq, head: cut_from - 1 })
    );
    // Rewriting the end (a different entry at the checkpoint's sequence)
    // is caught by the checkpoint too.
    let mut forged = saved.clone();
    forged[0].outcome = "denied".into();
    for row in &forged {
        insert(&app, row).await;
    }
    assert_eq!(verify(&app, std::slice::from_ref(&checkpoint)).await, Err(Break::Mac { seq: cut_from }));

    // A row deleted from the middle.
    app.execute_raw_with("DELETE FROM audit_log WHERE seq = $1", vec![Bind::Int(5)]).await;
    assert_eq!(verify(&app, &[]).await, Err(Break::Gap { previous: 4, seq: 6 }));
}

async fn insert(app: &Instance, row: &AuditRow) {
    app.execute_raw_with("DELETE FROM audit_log WHERE seq = $1", vec![Bind::Int(row.seq)]).await;
    let text = |v: &String| Bind::Text(v.clone());
    app.execute_raw_with(
        "INSERT INTO audit_log (seq, at, actor, role, action, target, outcome, request_id, prev_mac, mac) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        vec![
            Bind::Int(row.seq),
            text(&row.at),
            text(&row.actor),
            text(&row.role),
            text(&row.action),
            text(&row.target),
            text(&row.outcome),
            text(&row.request_id),
            Bind::Bytes(row.prev_mac.clone()),
            Bind::Bytes(row.mac.clone()),
        ],
    )
    .await;
}

/// Rebuild the whole chain with another MAC: consistent links, wrong key.
async fn rebuild(app: &Instance, mac: &dyn ChainMac) {
    drop_triggers(app).await;
    let mut prev = GENESIS_MAC.to_vec();
    for mut row in app.audit_log().await {
        row.target = format!("{}-rewritten", row.target);
        row.prev_mac = prev.clone();
        row.mac = mac.mac(&row);
        prev = row.mac.clone();
        insert(app, &row).await;
    }
}

struct PlainHash;
impl ChainMac for PlainHash {
    fn mac(&self, row: &AuditRow) -> Vec<u8> {
        use sha2::{Digest, Sha256};
        let mut h = Sha256::new();
        for part in [
            &row.prev_mac[..],
            row.at.as_bytes(),
            row.actor.as_bytes(),
            row.action.as_bytes(),
            row.target.as_bytes(),
        ] {
            h.update(part);
        }
        h.finalize().to_vec()
    }
}

#[tokio::test]
async fn a_chain_rebuilt_with_a_plain_hash_or_another_key_fails() {
    let app = busy_instance().await;
    rebuild(&app, &PlainHash).await;
    assert_eq!(verify(&app, &[]).await, Err(Break::Mac { seq: 1 }));

    let app = busy_instance().await;
    rebuild(&app, &ChainKey::new(&Key32::random())).await;
    assert_eq!(verify(&app, &[]).await, Err(Break::Mac { seq: 1 }));
}

/// Run `op` and check it added exactly one entry, with this action and outcome.
macro_rules! one_entry {
    ($app:expr, $action:literal, $outcome:literal, $op:expr) => {{
        let before = $app.audit_log().await.len();
        let result = $op;
        let log = $app.audit_log().await;
        assert_eq!(log.len(), before + 1, "{}: entries added", $action);
        let last = log.last().unwrap();
        assert_eq!((last.action.as_str(), last.outcome.as_str()), ($action, $outcome), "{}", $action);
        result
    }};
}

fn milestone() -> MilestoneDraft {
    MilestoneDraft {
        kind: MilestoneKind::Arrived,
        date: EventDate::parse("2024", time::OffsetDateTime::now_utc().date()).unwrap(),
        country: None,
        place_code: None,
        note: Note::parse("").unwrap(),
        sponsorship: None,
    }
}

#[tokio::test]
async fn every_operation_records_exactly_one_entry() {
    let app = instance().await;
    let name = |n: &str| Username::parse(n).unwrap();

    let created = one_entry!(app, "user.create", "ok", {
        accounts::create_account(&app.vault, &app.admin, &name("case.one"), [Role::Caseworker].into())
            .await
            .unwrap()
    });
    one_entry!(app, "user.create", "denied", {
        accounts::create_account(&app.vault, &app.coordinator, &name("case.nope"), [Role::Caseworker].into())
            .await
            .unwrap_err()
    });
    one_entry!(app, "user.create", "invalid", {
        accounts::create_account(&app.vault, &app.admin, &name("case.one"), [Role::Caseworker].into())
            .await
            .unwrap_err()
    });
    one_entry!(app, "user.activate", "invalid", {
        accounts::activate(&app.vault, "not-a-token", &password(PASSWORD)).await.unwrap_err()
    });
    let issued = one_entry!(app, "user.activate", "ok", {
        accounts::activate(&app.vault, created.activation.expose(), &password(PASSWORD)).await.unwrap()
    });
    let worker = issued.actor;
    one_entry!(app, "key.certify", "invalid", {
        membership::certify(&app.vault, &app.coordinator, worker.user_id(), "1").await.unwrap_err()
    });
    one_entry!(app, "key.certify", "ok", {
        membership::certify(&app.vault, &app.coordinator, worker.user_id(), &issued.fingerprint)
            .await
            .unwrap()
    });
    let id = one_entry!(app, "case.create", "ok", {
        cases::create(&app.vault, &worker, draft(&["Loon"], "x")).await.unwrap()
    });
    one_entry!(app, "case.create", "denied", {
        cases::create(&app.vault, &app.admin, draft(&["Loon"], "x")).await.unwrap_err()
    });
    one_entry!(app, "case.read", "ok", { cases::read(&app.vault, &worker, id).await.unwrap() });
    one_entry!(app, "case.read", "denied", { cases::read(&app.vault, &app.admin, id).await.unwrap_err() });
    one_entry!(app, "case.update", "ok", {
        cases::update(&app.vault, &worker, id, 1, draft(&["Loon"], "y")).await.unwrap()
    });
    one_entry!(app, "case.update", "conflict", {
        cases::update(&app.vault, &worker, id, 1, draft(&["Loon"], "stale")).await.unwrap_err()
    });
    let m = one_entry!(app, "milestone.add", "ok", {
        cases::add_milestone(&app.vault, &worker, id, milestone()).await.unwrap()
    });
    one_entry!(app, "milestone.edit", "ok", {
        cases::edit_milestone(&app.vault, &worker, id, m, 1, milestone()).await.unwrap()
    });
    one_entry!(app, "milestone.edit", "conflict", {
        cases::edit_milestone(&app.vault, &worker, id, m, 1, milestone()).await.unwrap_err()
    });
    one_entry!(app, "case.list", "ok", { cases::list_visible(&app.vault, &app.coordinator).await.unwrap() });
    one_entry!(app, "case.list", "ok", { cases::list_visible(&app.vault, &worker).await.unwrap() });
    one_entry!(app, "case.list", "denied", {
        cases::list_visible(&app.vault, &app.admin).await.unwrap_err()
    });
    one_entry!(app, "case.unassign", "ok", {
        membership::unassign(&app.vault, &app.coordinator, id, worker.user_id()).await.unwrap()
    });
    one_entry!(app, "case.assign", "ok", {
        membership::assign(&app.vault, &app.coordinator, id, worker.user_id()).await.unwrap()
    });
    one_entry!(app, "case.assign", "denied", {
        membership::assign(&app.vault, &worker, id, worker.user_id()).await.unwrap_err()
    });
    one_entry!(app, "shelter.create", "ok", {
        shelters::create(
            &app.vault,
            &app.coordinator,
            ShelterCode::parse("ABC-01").unwrap(),
            ShelterDetails::parse("r", "3", "").unwrap(),
        )
        .await
        .unwrap()
    });
    one_entry!(app, "shelter.list", "ok", { shelters::list(&app.vault, &worker).await.unwrap() });
    one_entry!(app, "user.list", "ok", {
        membership::waiting_for_certification(&app.vault, &app.coordinator).await.unwrap()
    });
    one_entry!(app, "user.list", "ok", { accounts::list(&app.vault, &app.admin).await.unwrap() });
    let worker = one_entry!(app, "password.change", "ok", {
        accounts::change_password(&app.vault, &worker, PASSWORD, &password("changed passphrase"))
            .await
            .unwrap()
    })
    .actor;
    one_entry!(app, "user.freeze", "ok", {
        membership::freeze(&app.vault, &app.coordinator, worker.user_id()).await.unwrap()
    });
    one_entry!(app, "user.unfreeze", "ok", {
        membership::unfreeze(&app.vault, &app.coordinator, worker.user_id()).await.unwrap()
    });
    one_entry!(app, "user.disable", "ok", {
        accounts::set_disabled(&app.vault, &app.admin, worker.user_id(), true).await.unwrap()
    });
    one_entry!(app, "user.enable", "ok", {
        accounts::set_disabled(&app.vault, &app.admin, worker.user_id(), false).await.unwrap()
    });
    one_entry!(app, "password.reset", "ok", {
        accounts::reset_password(&app.vault, &app.admin, worker.user_id()).await.unwrap()
    });
    one_entry!(app, "password.reset", "denied", {
        accounts::reset_password(&app.vault, &app.admin, app.admin.user_id()).await.unwrap_err()
    });
    let comms = app.user("comms.one", Role::Communications, true).await;
    one_entry!(app, "team.admit", "denied", {
        membership::admit(&app.vault, &app.coordinator, Team::Coordinators, comms.user_id())
            .await
            .unwrap_err()
    });
    let created =
        accounts::create_account(&app.vault, &app.admin, &name("coord.two"), [Role::Coordinator].into())
            .await
            .unwrap();
    accounts::activate(&app.vault, created.activation.expose(), &password(PASSWORD)).await.unwrap();
    one_entry!(app, "recovery.export", "ok", {
        recovery::export(&app.vault, &name("coord.two")).await.unwrap()
    });

    // No entry carries a username, and the chain is whole.
    for row in app.audit_log().await {
        for username in ["case.one", "comms.one", "coord.two", "coord.first", "admin.first"] {
            assert!(!format!("{row:?}").contains(username), "{username} in {row:?}");
        }
    }
    verify(&app, &[]).await.unwrap();
}

#[tokio::test]
async fn a_failed_audit_insert_rolls_the_operation_back() {
    let app = instance().await;
    let worker = app.user("case.rollback", Role::Caseworker, true).await;
    let id = cases::create(&app.vault, &worker, draft(&["Shag"], "readable")).await.unwrap();
    // The audit store starts failing for creates and reads.
    let undo = if app.pg.is_some() {
        app.execute_raw(
            "CREATE FUNCTION audit_fails() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN \
             IF NEW.action IN ('case.create', 'case.read') THEN RAISE EXCEPTION 'audit store failing'; END IF; \
             RETURN NEW; END $$",
            &[],
        )
        .await;
        app.execute_raw(
            "CREATE TRIGGER audit_fails BEFORE INSERT ON audit_log FOR EACH ROW EXECUTE FUNCTION audit_fails()",
            &[],
        )
        .await;
        "DROP TRIGGER audit_fails ON audit_log"
    } else {
        app.execute_raw(
            "CREATE TRIGGER audit_fails BEFORE INSERT ON audit_log \
             WHEN NEW.action IN ('case.create', 'case.read') BEGIN SELECT RAISE(ABORT, 'audit store failing'); END",
            &[],
        )
        .await;
        "DROP TRIGGER audit_fails"
    };
    let before = app.vault.store().case_ids().await.unwrap();
    assert!(cases::create(&app.vault, &worker, draft(&["Skua"], "never stored")).await.is_err());
    assert_eq!(
        app.vault.store().case_ids().await.unwrap(),
        before,
        "the case was rolled back with its entry"
    );
    // A read whose entry cannot be written returns no data.
    assert!(matches!(cases::read(&app.vault, &worker, id).await, Err(ServiceError::Store(_))));
    app.execute_raw(undo, &[]).await;
    assert_eq!(cases::read(&app.vault, &worker, id).await.unwrap().notes.as_str(), "readable");
    verify(&app, &[]).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_readers_make_one_unbroken_chain() {
    let app = instance().await;
    let mut ids = Vec::new();
    for n in 0..64 {
        ids.push(
            cases::create(&app.vault, &app.coordinator, draft(&["Auk"], &format!("{n}"))).await.unwrap(),
        );
    }
    let before = app.audit_log().await.len();
    let vault = app.vault.clone();
    let coordinator = Arc::new(app.coordinator);
    let readers: Vec<_> = ids
        .iter()
        .map(|id| {
            let (vault, coordinator, id) = (vault.clone(), coordinator.clone(), *id);
            tokio::spawn(async move { cases::read(&vault, &coordinator, id).await.map(|c| c.id) })
        })
        .collect();
    for (reader, id) in readers.into_iter().zip(&ids) {
        assert_eq!(reader.await.unwrap().unwrap(), *id);
    }
    let log = app.vault.store().audit_rows(before as i64, 1_000_000).await.unwrap();
    let reads: Vec<_> = log.iter().filter(|r| r.action == "case.read").collect();
    assert_eq!(reads.len(), 64);
    let targets: std::collections::BTreeSet<_> = reads.iter().map(|r| r.target.clone()).collect();
    assert_eq!(targets.len(), 64, "one entry per case");
    assert!(reads.iter().all(|r| r.outcome == "ok"));
    // 64 distinct cases in a minute is bulk reading under the default policy.
    assert!(log.iter().any(|r| r.action == "flag.bulk_read"));
    let verified = audit::verify(&vault, &[], |_| {}).await.unwrap();
    assert_eq!(verified.entries, app.vault.store().audit_head().await.unwrap().unwrap().seq);
}

#[tokio::test]
async fn bulk_reading_raises_one_flag_per_window() {
    let clock = Arc::new(ManualClock::new(time::OffsetDateTime::now_utc()));
    let mut app = instance_with_clock(clock.clone()).await;
    app.vault = app.vault.clone().with_bulk_read(BulkReadPolicy { cases: 3, minutes: 10 });
    let worker = app.user("case.reader", Role::Caseworker, true).await;
    let mut ids = Vec::new();
    for n in 0..8 {
        ids.push(cases::create(&app.vault, &worker, draft(&["Smew"], &format!("{n}"))).await.unwrap());
    }
    for id in &ids[..3] {
        cases::read(&app.vault, &worker, *id).await.unwrap();
        cases::read(&app.vault, &worker, *id).await.unwrap();
    }
    assert!(
        audit::flags(&app.vault, &app.coordinator).await.unwrap().is_empty(),
        "3 distinct cases is allowed"
    );
    cases::read(&app.vault, &worker, ids[3]).await.unwrap();
    cases::read(&app.vault, &worker, ids[4]).await.unwrap();
    let flags = audit::flags(&app.vault, &app.coordinator).await.unwrap();
    assert_eq!(flags.len(), 1, "one flag per window");
    assert_eq!(flags[0].actor, worker.user_id().to_string());
    assert_eq!(flags[0].distinct_cases, 4);
    // Auditors see flags; caseworkers do not.
    let auditor = app.user("audit.one", Role::Auditor, false).await;
    assert_eq!(audit::flags(&app.vault, &auditor).await.unwrap().len(), 1);
    assert!(audit::flags(&app.vault, &worker).await.is_err());
    // A new window, a new burst: a second flag.
    clock.advance(time::Duration::minutes(11));
    for id in &ids[4..8] {
        cases::read(&app.vault, &worker, *id).await.unwrap();
    }
    assert_eq!(audit::flags(&app.vault, &auditor).await.unwrap().len(), 2);
    // Auditors page through the trail; nobody else does.
    assert!(!audit::entries(&app.vault, &auditor, 0, 50).await.unwrap().is_empty());
    assert!(audit::entries(&app.vault, &app.coordinator, 0, 50).await.is_err());
}

#[tokio::test]
async fn an_auditor_reads_filters_exports_and_verifies_the_trail() {
    let t = spawn_app().await;
    let auditor = t.web_user("audit.web", Role::Auditor).await;
    let mut c = t.login(&auditor).await;
    let page = c.get("/audit").await.text().await.unwrap();
    assert!(page.contains("Set up the instance") && page.contains("Logged in"), "actions in words");
    assert!(page.contains("safehouse-audit-checkpoint-v1"), "the head, to copy off the server");
    assert!(page.contains("<span class=\"who\">audit.web</span>"), "actors shown with their username");
    let filtered = c.get("/audit?action=login.ok").await.text().await.unwrap();
    let body = filtered.split("<tbody>").nth(1).unwrap();
    assert!(body.contains("Logged in") && !body.contains("Set up the instance"));
    let csv = c.get("/audit/export.csv?action=user.create").await;
    assert_eq!(csv.headers()["content-type"], "text/csv; charset=utf-8");
    let text = csv.text().await.unwrap();
    assert!(text.starts_with("seq,at,actor,username,role,action,target,outcome,request_id\r\n"));
    assert!(text.lines().skip(1).all(|l| l.contains("user.create")));
    assert_eq!(t.app.audit_log().await.last().unwrap().action, "export", "the export is recorded");
    // After five quiet minutes an export asks for the password first.
    t.clock.advance(time::Duration::minutes(6));
    let ask = c.get("/audit/export.csv").await;
    assert_eq!(ask.status(), 303, "{:?}", ask.headers());
    assert_eq!(ask.headers()["location"], "/reauth?next=/audit");
    let csrf = c.csrf("/audit").await;
    let verified = c.post("/audit/verify", &[("csrf", &csrf)]).await;
    let verified = c.follow(verified).await.text().await.unwrap();
    assert!(verified.contains("Verified ") && verified.contains("no break."), "{verified}");
    assert_eq!(c.get("/audit/flags").await.status(), 200);
}
