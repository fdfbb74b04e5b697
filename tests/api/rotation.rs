//! Key rotation (issue 14): after each rotation every case, register,
//! story, table and report opens for the people it opened for and for no
//! one else, the old key opens no stored row, the trust file and the
//! database agree, and a rotation killed at any moment leaves the old keys
//! or the new, never a mix. The demo instance carries every kind of
//! sealed row; the command-line tests run on the suite's backend.

use std::collections::BTreeMap;
use std::sync::Arc;

use safehouse::accounts::model::Actor;
use safehouse::accounts::service as accounts;
use safehouse::audit::service as audit;
use safehouse::cases::service::{self as cases, CaseDraft};
use safehouse::crypto::{Identity, Recipient, wrap};
use safehouse::demo::Demo;
use safehouse::keyring::{Keyring, SecretsDir, Team};
use safehouse::rotation::{self, Authority, Quiet, Request, Target};
use safehouse::storage::{HolderKind, ObjectKind};
use safehouse::vault::Vault;
use safehouse::{figures, membership, shelters, stories};

use crate::helpers::*;

/// What each demo user can open, in words: every case they can list (its
/// fields, without version numbers, which a re-seal may move), the
/// registers, and what communications staff read.
async fn views(vault: &Vault, demo: &Demo) -> BTreeMap<String, String> {
    let mut seen = BTreeMap::new();
    for user in &demo.users {
        let Ok(actor) = accounts::unlock(vault, &user.username, &user.password).await else {
            seen.insert(user.username.clone(), "no login".into());
            continue;
        };
        let mut text = String::new();
        if let Ok(list) = cases::list_visible(vault, &actor).await {
            for summary in list {
                match cases::read(vault, &actor, summary.id).await {
                    Ok(case) => {
                        let notes: Vec<&str> =
                            case.milestones.iter().map(|m| m.draft.note.as_str()).collect();
                        text += &format!(
                            "{} {:?} {:?} {:?} {} {notes:?}\n",
                            case.id,
                            case.group,
                            case.stage,
                            case.status,
                            case.notes.as_str()
                        );
                    }
                    Err(e) => text += &format!("{} unreadable: {e}\n", summary.id),
                }
            }
        }
        text += &format!("shelters {:?}\n", shelters::list(vault, &actor).await.map_err(|e| e.to_string()));
        text += &format!(
            "stories {:?}\n",
            stories::service::published(vault, &actor).await.map_err(|e| e.to_string())
        );
        text += &format!(
            "figures {:?}\n",
            figures::service::approved(vault, &actor).await.map_err(|e| e.to_string())
        );
        text += &format!(
            "reports {:?}\n",
            safehouse::programmes::report::service::approved(vault, &actor).await.map_err(|e| e.to_string())
        );
        seen.insert(user.username.clone(), text);
    }
    seen
}

/// The instance opened afresh from its secrets directory, as a restarted
/// server would (a rotation changed the trust file under the old vault).
async fn reopen(vault: &Vault, secrets: &std::path::Path) -> Vault {
    let keyring = Keyring::open(vault.store(), &SecretsDir::new(secrets)).await.unwrap();
    Vault::new(vault.store.clone(), Arc::new(keyring), vault.clock.clone(), vault.kdf)
        .with_publication(vault.publication)
}

async fn coordinator(vault: &Vault, demo: &Demo) -> Actor {
    let user = demo.users.iter().find(|u| u.role == "coordinator").unwrap();
    accounts::unlock(vault, &user.username, &user.password).await.unwrap()
}

/// Every stored blob that an age identity could open: wraps, the sealed
/// rows of the team inboxes and publications, hand-over keys.
async fn age_blobs(vault: &Vault) -> Vec<(String, Vec<u8>)> {
    let store = vault.store();
    let mut blobs = Vec::new();
    for kind in [HolderKind::User, HolderKind::Team, HolderKind::Recovery] {
        let mut holders: Vec<String> = match kind {
            HolderKind::Team => Team::ALL.iter().map(|t| t.as_str().to_owned()).collect(),
            HolderKind::User => store.users().await.unwrap().into_iter().map(|u| u.id).collect(),
            HolderKind::Recovery => Vec::new(),
        };
        if kind == HolderKind::Recovery {
            for object in ["coordinators", "communications"] {
                for w in store.wraps_of_object(ObjectKind::Team, object).await.unwrap() {
                    holders.push(w.holder_id);
                }
            }
        }
        holders.sort();
        holders.dedup();
        for holder in holders {
            for w in store.wraps_of_holder(kind, &holder).await.unwrap() {
                blobs.push((
                    format!("wrap {} {} -> {} {}", w.object_kind, w.object_id, w.holder_kind, w.holder_id),
                    w.wrapped,
                ));
            }
        }
    }
    for row in store.inbox().await.unwrap() {
        blobs.push((format!("inbox {}", row.seq), row.sealed));
    }
    for row in store.aid_inbox().await.unwrap() {
        blobs.push((format!("aid inbox {}", row.id), row.sealed));
    }
    for row in store.story_drafts().await.unwrap() {
        blobs.push((format!("draft {}", row.id), row.sealed));
    }
    for row in store.stories().await.unwrap() {
        blobs.push((format!("story {}", row.id), row.sealed));
    }
    for row in store.figure_tables().await.unwrap() {
        blobs.push((format!("table {}", row.id), row.sealed));
    }
    for row in store.annual_reports().await.unwrap() {
        blobs.push((format!("report {}", row.id), row.sealed));
    }
    for row in store.certifications().await.unwrap() {
        blobs.push((format!("hand-over {}", row.user_id), row.handover_to_coordinators));
    }
    blobs
}

/// What `identity` still opens among the stored blobs.
async fn opened_by(vault: &Vault, identity: &Identity) -> Vec<String> {
    age_blobs(vault)
        .await
        .into_iter()
        .filter(|(_, b)| wrap::unwrap(identity, b).is_ok())
        .map(|(n, _)| n)
        .collect()
}

fn trust_of(demo: &Demo) -> safehouse::keyring::Trust {
    SecretsDir::new(demo.root.join("secrets")).read_trust().unwrap()
}

async fn rotate(
    vault: &Vault,
    demo: &Demo,
    authority: &Authority,
    target: Target,
    recipients: Vec<Recipient>,
) -> rotation::Done {
    let request = Request { target, compromised: false, recipients };
    rotation::rotate(vault, &SecretsDir::new(demo.root.join("secrets")), authority, request, &Quiet)
        .await
        .unwrap()
}

#[tokio::test]
async fn rotating_the_team_keys_keeps_every_view_and_the_old_keys_open_nothing() {
    let demo = safehouse::demo::build(Arc::new(safehouse::clock::SystemClock)).await.unwrap();
    let secrets = demo.root.join("secrets");
    let vault = demo.vault.clone();
    // Twice: the first coordinator read folds what was waiting.
    views(&vault, &demo).await;
    let before = views(&vault, &demo).await;
    let amber = coordinator(&vault, &demo).await;
    // Something waiting for the coordinators when the key changes: a
    // caseworker's change to the index, a story draft, an aid entry.
    let river = demo.users.iter().find(|u| u.username == "case.river").unwrap();
    let worker = accounts::unlock(&vault, &river.username, &river.password).await.unwrap();
    let mine = cases::list_visible(&vault, &worker).await.unwrap();
    let case = cases::read(&vault, &worker, mine[0].id).await.unwrap();
    let edit = CaseDraft {
        group: case.group.clone(),
        shelter: case.shelter,
        stage: case.stage,
        status: case.status,
        notes: safehouse::cases::model::Note::parse("rotation pending note").unwrap(),
    };
    cases::update(&vault, &worker, case.id, case.version, edit).await.unwrap();
    assert!(!vault.store().inbox().await.unwrap().is_empty());
    let old_coordinators = membership::coordinators_identity(&vault, &amber).await.unwrap();
    let export = safehouse::recovery::export(
        &vault,
        &safehouse::accounts::model::Username::parse("coord.amber").unwrap(),
    )
    .await
    .unwrap();

    let done = rotate(
        &vault,
        &demo,
        &Authority::coordinator(&vault, &amber).await.unwrap(),
        Target::Coordinators,
        vec![],
    )
    .await;
    assert!(done.trust_changed && done.rewrapped > demo.cases && done.resealed >= 1, "{done:?}");
    let vault = reopen(&vault, &secrets).await;
    let trust = trust_of(&demo);
    assert_ne!(trust.coordinators, old_coordinators.recipient());
    assert_eq!(
        vault.store().team_recipient("coordinators").await.unwrap().unwrap(),
        trust.coordinators.to_string()
    );
    assert!(!secrets.join(".trust-new").exists());
    assert_eq!(
        opened_by(&vault, &old_coordinators).await,
        Vec::<String>::new(),
        "the old coordinators key opens nothing"
    );
    // The waiting change folds in under the new key.
    let amber = coordinator(&vault, &demo).await;
    let read = cases::read(&vault, &amber, case.id).await.unwrap();
    assert_eq!(read.notes.as_str(), "rotation pending note");
    cases::list_visible(&vault, &amber).await.unwrap();
    assert!(vault.store().inbox().await.unwrap().is_empty(), "folded under the new key");
    // Certifications were made again: an assignment still needs, and finds, one.
    let new_coordinators = membership::coordinators_identity(&vault, &amber).await.unwrap();
    assert_eq!(new_coordinators.recipient(), trust.coordinators);
    membership::certified_key(&vault, &new_coordinators, worker.user_id()).await.unwrap();
    // The recovery request exported before the rotation is closed.
    assert!(vault.store().recovery_request(&export.request_id).await.unwrap().is_none());
    let mut after = views(&vault, &demo).await;
    let river_before = before[&river.username].clone();
    assert_ne!(after[&river.username], river_before, "river's own change shows");
    after.insert(river.username.clone(), river_before);
    let mut expected = before.clone();
    for (name, text) in expected.iter_mut() {
        // The coordinators see river's change too.
        if text.contains(&case.id.to_string()) && name != &river.username {
            *text = after[name].clone();
        }
    }
    assert_eq!(after, expected);

    // The communications key: published rows re-encrypted, staff still read them.
    let old_communications =
        rotation::teams::team_identity_of(&vault, &new_coordinators, Team::Communications).await.unwrap();
    let done = rotate(
        &vault,
        &demo,
        &Authority::coordinator(&vault, &amber).await.unwrap(),
        Target::Communications,
        vec![],
    )
    .await;
    assert!(done.resealed >= 3, "stories, tables and a report: {done:?}");
    let vault = reopen(&vault, &secrets).await;
    assert_ne!(trust_of(&demo).communications, old_communications.recipient());
    assert_eq!(opened_by(&vault, &old_communications).await, Vec::<String>::new());
    assert_eq!(views(&vault, &demo).await, views(&reopen(&demo.vault, &secrets).await, &demo).await);
    let comms = demo.users.iter().find(|u| u.role == "communications").unwrap();
    let staff = accounts::unlock(&vault, &comms.username, &comms.password).await.unwrap();
    assert!(!stories::service::published(&vault, &staff).await.unwrap().is_empty());
    assert!(!figures::service::approved(&vault, &staff).await.unwrap().is_empty());

    let trail = vault.store().audit_rows(0, 100_000).await.unwrap();
    let rotations: Vec<_> = trail
        .iter()
        .filter(|e| e.action == "key.rotate")
        .map(|e| (e.target.as_str(), e.outcome.as_str()))
        .collect();
    assert_eq!(rotations, [("coordinators", "ok"), ("communications", "ok")]);
    assert!(
        trail.iter().filter(|e| e.action == "key.rotate").all(|e| e.actor == amber.user_id().to_string())
    );
    audit::verify(&vault, &[], |_| {}).await.unwrap();
    demo.remove();
}

/// Every case key the coordinators can open now, by case.
async fn case_keys(vault: &Vault, coordinators: &Identity) -> Vec<(String, safehouse::crypto::Key32)> {
    let mut keys = Vec::new();
    for id in vault.store().case_ids().await.unwrap() {
        let row = vault
            .store()
            .wrap(ObjectKind::Case, &id, HolderKind::Team, "coordinators")
            .await
            .unwrap()
            .unwrap();
        let key =
            safehouse::crypto::Key32::from_slice(&wrap::unwrap(coordinators, &row.wrapped).unwrap()).unwrap();
        keys.push((id, key));
    }
    keys
}

/// The compromise rotation with the coordinators key, on the demo: every
/// view the same, the old case keys open no stored case row or milestone
/// (tried as every field's key: a wrong key fails its integrity check),
/// the old team key opens nothing, and two `key.rotate` entries.
#[tokio::test]
async fn a_compromise_rotation_keeps_every_view_and_the_old_case_keys_open_nothing() {
    let demo = safehouse::demo::build(Arc::new(safehouse::clock::SystemClock)).await.unwrap();
    let secrets = demo.root.join("secrets");
    let vault = demo.vault.clone();
    views(&vault, &demo).await;
    let before = views(&vault, &demo).await;
    let amber = coordinator(&vault, &demo).await;
    let old_team = membership::coordinators_identity(&vault, &amber).await.unwrap();
    let old_keys = case_keys(&vault, &old_team).await;
    assert_eq!(old_keys.len(), demo.cases);
    let stored_before: Vec<Vec<u8>> = {
        let mut all = Vec::new();
        for (id, _) in &old_keys {
            all.push(vault.store().case(id).await.unwrap().unwrap().sealed_group);
            for m in vault.store().milestones(id).await.unwrap() {
                all.push(m.sealed);
            }
        }
        all
    };

    let authority = Authority::coordinator(&vault, &amber).await.unwrap();
    let request = Request { target: Target::Coordinators, compromised: true, recipients: vec![] };
    let done =
        rotation::rotate(&vault, &SecretsDir::new(&secrets), &authority, request, &Quiet).await.unwrap();
    assert!(done.resealed > demo.cases && done.refused == 0, "{done:?}");
    let vault = reopen(&vault, &secrets).await;
    assert_eq!(views(&vault, &demo).await, before);
    assert_eq!(opened_by(&vault, &old_team).await, Vec::<String>::new());
    let amber = coordinator(&vault, &demo).await;
    let new_team = membership::coordinators_identity(&vault, &amber).await.unwrap();
    let new_keys = case_keys(&vault, &new_team).await;
    for ((id, old), (same, new)) in old_keys.iter().zip(&new_keys) {
        assert_eq!(id, same);
        assert_ne!(old.expose(), new.expose(), "case {id} has a new key");
        let row = vault.store().case(id).await.unwrap().unwrap();
        assert!(!stored_before.contains(&row.sealed_group), "case {id} re-sealed");
        let place = |field| safehouse::crypto::Aad {
            kind: safehouse::crypto::RecordKind::Case,
            owner: id,
            record: "",
            field,
            version: row.version,
        };
        for (field, blob) in
            [("group", &row.sealed_group), ("placement", &row.sealed_placement), ("notes", &row.sealed_notes)]
        {
            assert!(safehouse::crypto::open(old, &place(field), blob).is_err(), "{id} {field}");
        }
        for m in vault.store().milestones(id).await.unwrap() {
            assert!(!stored_before.contains(&m.sealed), "milestone {} re-sealed", m.id);
        }
    }
    let trail = vault.store().audit_rows(0, 100_000).await.unwrap();
    let rotations: Vec<_> =
        trail.iter().filter(|e| e.action == "key.rotate").map(|e| e.target.as_str()).collect();
    assert_eq!(rotations, ["compromise", "coordinators"]);
    audit::verify(&vault, &[], |_| {}).await.unwrap();
    demo.remove();
}

#[tokio::test]
async fn rotating_the_recovery_recipient_moves_every_recovery_wrap_and_the_backup_one_the_trust_file() {
    let app = instance().await;
    let secrets = SecretsDir::new(app.dir.path().join("secrets"));
    let recovery_wraps = async |v: &Vault| {
        let mut held = Vec::new();
        for (kind, id) in [
            (ObjectKind::Team, "coordinators"),
            (ObjectKind::Team, "communications"),
            (ObjectKind::System, "directory"),
            (ObjectKind::System, "audit"),
        ] {
            for w in v.store().wraps_of_object(kind, id).await.unwrap() {
                if w.holder_kind == "recovery" {
                    held.push((id.to_owned(), w.holder_id, w.wrapped));
                }
            }
        }
        held
    };
    assert_eq!(recovery_wraps(&app.vault).await.len(), 4);

    // A backup recipient is refused as a recovery recipient, and nothing changes.
    let backup_key = Identity::generate();
    let trust = secrets.read_trust().unwrap();
    secrets
        .replace_trust(&safehouse::keyring::Trust { backup: vec![backup_key.recipient()], ..trust })
        .unwrap();
    let vault = reopen(&app.vault, secrets.path()).await;
    let authority = Authority::coordinator(&vault, &app.coordinator).await.unwrap();
    let ask = |target, recipients| Request { target, compromised: false, recipients };
    let refused = rotation::rotate(
        &vault,
        &secrets,
        &authority,
        ask(Target::Recovery, vec![backup_key.recipient()]),
        &Quiet,
    )
    .await
    .unwrap_err();
    assert!(refused.to_string().contains("is a backup recipient"), "{refused}");
    assert_eq!(recovery_wraps(&vault).await.len(), 4);

    let (first, second) = (Identity::generate(), Identity::generate());
    let done = rotation::rotate(
        &vault,
        &secrets,
        &authority,
        ask(Target::Recovery, vec![first.recipient(), second.recipient()]),
        &Quiet,
    )
    .await
    .unwrap();
    assert_eq!(done.rewrapped, 8, "four keys, two recipients each");
    let vault = reopen(&vault, secrets.path()).await;
    let held = recovery_wraps(&vault).await;
    assert_eq!(held.len(), 8);
    for (id, holder, blob) in &held {
        let identity = if *holder == first.recipient().to_string() { &first } else { &second };
        assert!(wrap::unwrap(identity, blob).is_ok(), "{id} for {holder}");
    }
    assert_eq!(secrets.read_trust().unwrap().recovery, vec![first.recipient(), second.recipient()]);
    // The new recovery keys can rotate; the old one opens nothing and is refused.
    assert!(Authority::recovery(&vault, &second).await.is_ok());
    assert!(Authority::recovery(&vault, &app.recovery).await.is_err());
    assert_eq!(opened_by(&vault, &app.recovery).await, Vec::<String>::new());

    // Backup recipients: the trust file only; a recovery recipient refused.
    let new_backup = Identity::generate();
    let authority = Authority::recovery(&vault, &first).await.unwrap();
    let refused =
        rotation::rotate(&vault, &secrets, &authority, ask(Target::Backup, vec![first.recipient()]), &Quiet)
            .await
            .unwrap_err();
    assert!(refused.to_string().contains("is a recovery recipient"), "{refused}");
    rotation::rotate(&vault, &secrets, &authority, ask(Target::Backup, vec![new_backup.recipient()]), &Quiet)
        .await
        .unwrap();
    assert_eq!(secrets.read_trust().unwrap().backup, vec![new_backup.recipient()]);
    let trail = app.audit_log().await;
    let rotations: Vec<_> = trail
        .iter()
        .filter(|e| e.action == "key.rotate")
        .map(|e| (e.target.clone(), e.actor.clone()))
        .collect();
    let coordinator = app.coordinator.user_id().to_string();
    assert_eq!(rotations, [("recovery".to_owned(), coordinator), ("backup".to_owned(), "-".to_owned())]);
}

/// A crash between the database commit and the trust file's rename: the
/// next opening finds the staged file and promotes it when the database
/// agrees with it, drops it when the database agrees with the current
/// file, and leaves both (and refuses to open) when it agrees with neither;
/// an empty staging directory (a kill before the write, or after the
/// rename) is removed, and a staged file cut short by a kill is dropped.
#[tokio::test]
async fn an_interrupted_rotation_settles_at_the_next_opening() {
    let app = instance().await;
    let secrets = SecretsDir::new(app.dir.path().join("secrets"));
    let trust_file = secrets.path().join("trust.toml");
    let staged_dir = secrets.path().join(".trust-new");
    let old = secrets.read_trust().unwrap();
    let old_text = std::fs::read_to_string(&trust_file).unwrap();
    // Staged, never committed: dropped, the old trust kept.
    let stray = safehouse::keyring::Trust { coordinators: Identity::generate().recipient(), ..old.clone() };
    secrets.stage_trust(&stray).unwrap();
    let vault = reopen(&app.vault, secrets.path()).await;
    assert_eq!(secrets.read_trust().unwrap(), old);
    assert!(secrets.read_staged_trust().unwrap().is_none());
    // Killed before the staged file was written (or after its rename and
    // before the directory went): the empty staging directory goes.
    std::fs::create_dir_all(&staged_dir).unwrap();
    let vault = reopen(&vault, secrets.path()).await;
    assert!(!staged_dir.exists(), "an empty staging directory is removed");
    assert_eq!(secrets.read_trust().unwrap(), old);
    // Killed while writing it (the file is synced before the commit, so a
    // file cut short was never committed): dropped, the old trust kept.
    std::fs::create_dir_all(&staged_dir).unwrap();
    std::fs::write(staged_dir.join("trust.toml"), &old_text[..old_text.len() / 2]).unwrap();
    let vault = reopen(&vault, secrets.path()).await;
    assert!(!staged_dir.exists(), "a staged file cut short is dropped");
    assert_eq!(secrets.read_trust().unwrap(), old);
    // Committed, not renamed: put the files back as a kill would leave them.
    let authority = Authority::recovery(&vault, &app.recovery).await.unwrap();
    let request = Request { target: Target::Coordinators, compromised: false, recipients: vec![] };
    rotation::rotate(&vault, &secrets, &authority, request, &Quiet).await.unwrap();
    let new = secrets.read_trust().unwrap();
    assert_ne!(new.coordinators, old.coordinators);
    std::fs::create_dir_all(&staged_dir).unwrap();
    std::fs::rename(&trust_file, staged_dir.join("trust.toml")).unwrap();
    secrets.write_private("trust.toml", &old_text, true).unwrap();
    let vault = reopen(&vault, secrets.path()).await;
    assert_eq!(secrets.read_trust().unwrap(), new, "promoted");
    assert_eq!(vault.keyring.trust(), &new);
    assert!(!staged_dir.exists());
    // Neither agrees: left as found, and the opening refuses.
    secrets.stage_trust(&stray).unwrap();
    secrets.write_private("trust.toml", &old_text, true).unwrap();
    let refused = Keyring::open(vault.store(), &secrets).await.unwrap_err();
    assert!(refused.to_string().contains("differs from the trust file"), "{refused}");
    assert!(secrets.read_staged_trust().unwrap().is_some());
}

/// Whether the instance behind `env` is whole: opened afresh (which
/// settles a staged trust file), its trust file and database agree, the
/// coordinators key coord.one opens is the pinned one, the recovery key
/// still opens it, and the chain verifies. Returns the pinned recipient.
async fn whole(env: &crate::cli::Env) -> Recipient {
    let vault = safehouse::setup::open(&env.config(), Arc::new(safehouse::clock::SystemClock)).await.unwrap();
    let trust = vault.keyring.trust().clone();
    assert!(!env.path("secrets/.trust-new").exists(), "settled");
    let one = accounts::unlock(&vault, "coord.one", "first coordinator passphrase").await.unwrap();
    let opened = membership::coordinators_identity(&vault, &one).await.unwrap();
    assert_eq!(opened.recipient(), trust.coordinators);
    let recovery = std::fs::read_to_string(env.path("recovery.key")).unwrap();
    let line = recovery.lines().find(|l| l.starts_with("AGE-SECRET-KEY-")).unwrap();
    let recovery = Identity::from_secret_bytes(line.as_bytes()).unwrap();
    assert!(Authority::recovery(&vault, &recovery).await.is_ok());
    let id = cases::create(&vault, &one, draft(&["Rotalias"], "n")).await.unwrap();
    assert_eq!(cases::read(&vault, &one, id).await.unwrap().notes.as_str(), "n");
    audit::verify(&vault, &[], |_| {}).await.unwrap();
    trust.coordinators
}

/// `safehouse rotate` refuses while a server runs; as a coordinator it
/// needs the right code; killed at random moments it leaves the old key
/// or the new, and the next run completes.
#[tokio::test]
async fn the_command_waits_for_every_server_and_a_kill_leaves_old_or_new() {
    let env = crate::cli::Env::on_suite().await;
    let recipient = env.keygen();
    assert!(env.init(&recipient).status.success());
    let secret = env.enrol_first_coordinator().await;
    let first = whole(&env).await;
    let recovery = env.path("recovery.key");
    let rotate = |extra: &[&str]| {
        let mut cmd = env.command();
        cmd.args(["rotate", "coordinators"]).args(extra);
        cmd
    };

    let server = Node::start(env.command());
    let out = rotate(&["--recovery-identity", recovery.to_str().unwrap()]).output().unwrap();
    assert!(!out.status.success());
    let said = crate::cli::stderr(&out);
    assert!(said.contains("is running on this instance") && said.contains("stop every server"), "{said}");
    // And a server does not start while a rotation holds the lock: shown
    // by the lock itself, held here as the command holds it.
    drop(server);
    let held =
        safehouse::setup::lock::take(&env.config(), safehouse::setup::lock::Mode::Exclusive).await.unwrap();
    let out = env.command().env("SAFEHOUSE_LISTEN", "127.0.0.1:0").arg("serve").output().unwrap();
    assert!(crate::cli::stderr(&out).contains("a key rotation is running"), "{}", crate::cli::stderr(&out));
    drop(held);
    assert_eq!(whole(&env).await, first, "nothing changed");

    // As a coordinator: a wrong code rotates nothing, the right one does.
    let run_as_coordinator = |code: &str| env.as_first_coordinator(&["rotate", "coordinators"], code);
    let out = run_as_coordinator("000000");
    assert!(crate::cli::stderr(&out).contains("not correct"), "{}", crate::cli::stderr(&out));
    assert_eq!(whole(&env).await, first);
    let out = run_as_coordinator(&oath_code(&secret, time::OffsetDateTime::now_utc()));
    assert!(out.status.success(), "{}", crate::cli::stderr(&out));
    let said = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        said.contains("Rotated the coordinators key") && said.contains("copy it to every other node"),
        "{said}"
    );
    let mut current = whole(&env).await;
    assert_ne!(current, first);

    // How long one whole run takes here, so the kills fall inside runs.
    let started = std::time::Instant::now();
    let out = rotate(&["--recovery-identity", recovery.to_str().unwrap()]).output().unwrap();
    assert!(out.status.success(), "{}", crate::cli::stderr(&out));
    let span = u64::try_from(started.elapsed().as_millis()).unwrap().max(10);
    current = whole(&env).await;

    // Killed at random moments (seeded, CRASH_SEED repeats a run).
    let seed: u64 =
        std::env::var("CRASH_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or_else(rand::random);
    let mut rng = <rand::rngs::StdRng as rand::SeedableRng>::seed_from_u64(seed);
    let (mut kept, mut moved) = (0, 0);
    for round in 0..12 {
        let delay = rand::Rng::gen_range(&mut rng, 0..span + span / 4);
        let mut child = rotate(&["--recovery-identity", recovery.to_str().unwrap()])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(std::time::Duration::from_millis(delay));
        let _ = child.kill();
        let finished = child.wait().unwrap().success();
        let now = whole(&env).await;
        if now == current {
            assert!(!finished, "round {round} (seed {seed}): a finished rotation changed nothing");
            kept += 1;
        } else {
            moved += 1;
        }
        current = now;
    }
    println!("seed {seed}: runs of {span} ms; {kept} kills left the old key, {moved} the new");
    let out = rotate(&["--recovery-identity", recovery.to_str().unwrap()]).output().unwrap();
    assert!(out.status.success(), "{}", crate::cli::stderr(&out));
    let current = whole(&env).await;
    assert_ne!(current, first);
    // The data keys from the command line: the team key stays, the trust file too.
    for target in ["index", "registers"] {
        let out = env
            .command()
            .args(["rotate", target, "--recovery-identity", recovery.to_str().unwrap()])
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", crate::cli::stderr(&out));
        let said = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(said.contains(&format!("Rotated the {target} key")) && !said.contains("copy it"), "{said}");
        assert_eq!(whole(&env).await, current);
    }
}
