//! The sealed case store: what a thief, a curious administrator, an
//! attacker with write access to the database and a stale editor each get.

use safehouse::accounts::model::Role;
use safehouse::accounts::service as accounts;
use safehouse::cases::model::{CountryCode, EventDate, MilestoneKind, Note, ShelterCode};
use safehouse::cases::service::{self as cases, MilestoneDraft};
use safehouse::crypto::{Identity, wrap};
use safehouse::error::ServiceError;
use safehouse::ids::CaseId;
use safehouse::keyring::{KeyringError, Team};
use safehouse::membership;
use safehouse::recovery;
use safehouse::shelters::{self, ShelterDetails};
use safehouse::storage::{HolderKind, ObjectKind};

use crate::helpers::*;

fn milestone(note: &str, place: Option<&str>) -> MilestoneDraft {
    let today = time::OffsetDateTime::now_utc().date();
    MilestoneDraft {
        kind: MilestoneKind::Sheltered,
        date: EventDate::parse("2024-03", today).unwrap(),
        country: Some(CountryCode::parse("TH").unwrap()),
        place_code: place.map(|p| ShelterCode::parse(p).unwrap()),
        note: Note::parse(note).unwrap(),
        sponsorship: None,
    }
}

#[tokio::test]
async fn canary_strings_never_reach_the_disk_the_audit_trail_or_the_log() {
    let logs = LogCapture::default();
    let _guard = logs.install();
    let app = instance().await;
    let canaries = [
        "canary.user.qzv",
        "Qzvalias Canarymagpie",
        "Qzvsecond Canaryheron",
        "QZVX-97",
        "QZVR-42",
        "Qzvregioncanary",
        "shelter private qzv canary note",
        "case notes qzv canary text",
        "milestone qzv canary remark",
        "edited qzv canary notes",
    ];
    let caseworker = app.user(canaries[0], Role::Caseworker, true).await;
    let shelter = shelters::create(
        &app.vault,
        &app.coordinator,
        ShelterCode::parse(canaries[3]).unwrap(),
        ShelterDetails::parse(canaries[5], "10", canaries[6]).unwrap(),
    )
    .await
    .unwrap();
    let mut d = draft(&[canaries[1], canaries[2]], canaries[7]);
    d.shelter = Some(shelter);
    let id = cases::create(&app.vault, &caseworker, d.clone()).await.unwrap();
    cases::add_milestone(&app.vault, &caseworker, id, milestone(canaries[8], Some(canaries[4])))
        .await
        .unwrap();
    d.notes = Note::parse(canaries[9]).unwrap();
    cases::update(&app.vault, &caseworker, id, 1, d).await.unwrap();
    // A coordinator's request folds the caseworker's index entries.
    let listed = cases::list_visible(&app.vault, &app.coordinator).await.unwrap();
    assert_eq!(listed.len(), 1);
    assert!(
        listed[0].aliases.iter().any(|a| a == canaries[1]),
        "the coordinator sees the alias through the index"
    );

    let check = |when: &str| {
        // The data directory and, on PostgreSQL, a pg_dump of the database.
        let files = app.at_rest();
        let database = if app.pg.is_some() { "pg_dump" } else { "safehouse.db" };
        assert!(files.iter().any(|(p, _)| p.ends_with(database)));
        // A control: the opaque case id is stored in clear, so the scan must find it.
        assert!(
            files.iter().any(|(_, bytes)| contains(bytes, id.to_string().as_bytes())),
            "{when}: the scan is blind"
        );
        for (path, bytes) in &files {
            for canary in canaries {
                for needle in encodings(canary) {
                    assert!(!contains(bytes, &needle), "{when}: {canary:?} found in {}", path.display());
                }
            }
        }
    };
    check("with the WAL live");
    // Audit entries: nothing but opaque ids, times, actions and outcomes.
    let entries = app.vault.store().audit_rows(0, 100_000).await.unwrap();
    assert!(entries.iter().any(|e| e.action == "case.update"), "the trail recorded the work");
    for entry in &entries {
        let shown = format!("{entry:?}");
        for canary in canaries {
            assert!(!shown.to_lowercase().contains(&canary.to_lowercase()), "{canary:?} in an audit entry");
        }
    }
    // Log lines at every level, TRACE included.
    let logged = logs.text();
    assert!(logged.contains("sqlx::query"), "the capture sees the database layer's own lines");
    for canary in canaries {
        assert!(!logged.to_lowercase().contains(&canary.to_lowercase()), "{canary:?} in the log");
    }
    if app.pg.is_none() {
        let raw = app.raw().await;
        sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)").execute(raw.pool()).await.unwrap();
        raw.close().await;
        check("after a checkpoint");
    }
}

#[tokio::test]
async fn keys_open_only_what_was_granted() {
    let app = instance().await;
    let a = app.user("case.a", Role::Caseworker, true).await;
    let b = app.user("case.b", Role::Caseworker, true).await;
    let id = cases::create(&app.vault, &a, draft(&["Lark"], "granted to A only")).await.unwrap();

    // The code layer: B and the administrator get "not found".
    assert!(matches!(cases::read(&app.vault, &b, id).await, Err(ServiceError::NotFound)));
    assert!(matches!(cases::read(&app.vault, &app.admin, id).await, Err(ServiceError::NotFound)));
    // The key layer: B's key cannot open A's wrap, nor the coordinators'.
    let store = app.vault.store();
    let a_wrap = store
        .wrap(ObjectKind::Case, &id.to_string(), HolderKind::User, &a.user_id().to_string())
        .await
        .unwrap()
        .unwrap();
    assert!(wrap::unwrap(b.identity(), &a_wrap.wrapped).is_err());
    assert!(wrap::unwrap(app.admin.identity(), &a_wrap.wrapped).is_err());
    let team_wrap = store
        .wrap(ObjectKind::Case, &id.to_string(), HolderKind::Team, "coordinators")
        .await
        .unwrap()
        .unwrap();
    assert!(wrap::unwrap(b.identity(), &team_wrap.wrapped).is_err());
    assert!(wrap::unwrap(app.admin.identity(), &team_wrap.wrapped).is_err());
    // No wrap of anything at all is addressed to the administrator.
    assert!(
        store.wraps_of_holder(HolderKind::User, &app.admin.user_id().to_string()).await.unwrap().is_empty()
    );
    assert!(matches!(
        membership::coordinators_identity(&app.vault, &app.admin).await,
        Err(ServiceError::Forbidden(_))
    ));

    // A coordinator opens every case; A opens their own.
    assert_eq!(
        cases::read(&app.vault, &app.coordinator, id).await.unwrap().notes.as_str(),
        "granted to A only"
    );
    assert_eq!(cases::read(&app.vault, &a, id).await.unwrap().notes.as_str(), "granted to A only");

    // Assigning B wraps the key to B's certified key; unassigning A removes A's wrap.
    assert!(membership::assign(&app.vault, &app.coordinator, id, b.user_id()).await.unwrap());
    assert_eq!(cases::read(&app.vault, &b, id).await.unwrap().notes.as_str(), "granted to A only");
    membership::unassign(&app.vault, &app.coordinator, id, a.user_id()).await.unwrap();
    assert!(matches!(cases::read(&app.vault, &a, id).await, Err(ServiceError::NotFound)));
    assert!(
        store
            .wrap(ObjectKind::Case, &id.to_string(), HolderKind::User, &a.user_id().to_string())
            .await
            .unwrap()
            .is_none()
    );
    assert!(cases::list_visible(&app.vault, &a).await.unwrap().is_empty());
    let listed = cases::list_visible(&app.vault, &app.coordinator).await.unwrap();
    assert_eq!(listed[0].assignees, vec![b.user_id()]);
}

#[tokio::test]
async fn administrator_takeover_gets_nothing_until_a_coordinator_certifies() {
    let app = instance().await;
    let victim = app.user("case.victim", Role::Caseworker, true).await;
    let id = cases::create(&app.vault, &victim, draft(&["Crane"], "the victim's case")).await.unwrap();

    // The administrator resets the password and activates the account themselves.
    let token = accounts::reset_password(&app.vault, &app.admin, victim.user_id()).await.unwrap();
    let taken = accounts::activate(&app.vault, token.expose(), &password("the administrator's choice"))
        .await
        .unwrap();
    let impostor = taken.actor;
    assert!(matches!(cases::read(&app.vault, &impostor, id).await, Err(ServiceError::NotFound)));
    assert!(cases::list_visible(&app.vault, &impostor).await.unwrap().is_empty());
    assert!(matches!(
        cases::create(&app.vault, &impostor, draft(&["Gull"], "x")).await,
        Err(ServiceError::Uncertified)
    ));

    // Coordinator requests of every kind do not re-issue the grant.
    cases::dashboard(&app.vault, &app.coordinator).await.unwrap();
    cases::list_visible(&app.vault, &app.coordinator).await.unwrap();
    assert!(
        matches!(
            membership::assign(&app.vault, &app.coordinator, id, impostor.user_id()).await,
            Err(ServiceError::Invalid(_))
        ),
        "an uncertified key is refused, not queued"
    );
    assert!(matches!(cases::read(&app.vault, &impostor, id).await, Err(ServiceError::NotFound)));
    let waiting = membership::waiting_for_certification(&app.vault, &app.coordinator).await.unwrap();
    let entry = waiting.iter().find(|w| w.user_id == impostor.user_id()).expect("listed as waiting");
    assert_eq!(entry.waiting_cases, vec![id.to_string()]);

    // No team admission for an uncertified key, by any path.
    for team in Team::ALL {
        assert!(membership::admit(&app.vault, &app.coordinator, team, impostor.user_id()).await.is_err());
    }
    // A wrong fingerprint is refused.
    assert!(matches!(
        membership::certify(
            &app.vault,
            &app.coordinator,
            impostor.user_id(),
            "00000 00000 00000 00000 00000"
        )
        .await,
        Err(ServiceError::Invalid(_))
    ));
    assert!(matches!(cases::read(&app.vault, &impostor, id).await, Err(ServiceError::NotFound)));

    // Only once a coordinator certifies (after comparing the fingerprint with
    // the real person) do the grants issue.
    membership::certify(&app.vault, &app.coordinator, impostor.user_id(), &taken.fingerprint).await.unwrap();
    assert_eq!(cases::read(&app.vault, &impostor, id).await.unwrap().notes.as_str(), "the victim's case");
}

#[tokio::test]
async fn a_swapped_recipient_is_refused_at_the_next_wrap() {
    let app = instance().await;
    let caseworker = app.user("case.swap", Role::Caseworker, true).await;
    let attacker = Identity::generate();
    let swap_team = "UPDATE teams SET recipient = $1 WHERE name = 'coordinators'";

    // A team recipient swapped in the database: no wrap to it.
    app.execute_raw(swap_team, &[&attacker.recipient().to_string()]).await;
    let refused = cases::create(&app.vault, &caseworker, draft(&["Kite"], "x")).await;
    assert!(
        matches!(
            refused,
            Err(ServiceError::Keyring(KeyringError::RecipientMismatch { team: "coordinators" }))
        ),
        "{refused:?}"
    );
    app.execute_raw(swap_team, &[&app.vault.keyring.trust().coordinators.to_string()]).await;
    let id = cases::create(&app.vault, &app.coordinator, draft(&["Kite"], "x")).await.unwrap();

    // A user's recipient swapped in the database: the certification no
    // longer matches, so the coordinator's request does not wrap to it.
    let other = app.user("case.other", Role::Caseworker, true).await;
    app.execute_raw(
        "UPDATE user_keys SET recipient = $1 WHERE user_id = $2",
        &[&attacker.recipient().to_string(), &other.user_id().to_string()],
    )
    .await;
    assert!(matches!(
        membership::assign(&app.vault, &app.coordinator, id, other.user_id()).await,
        Err(ServiceError::Invalid(_))
    ));
    let wraps = app.vault.store().wraps_of_object(ObjectKind::Case, &id.to_string()).await.unwrap();
    assert!(
        wraps.iter().all(|w| wrap::unwrap(&attacker, &w.wrapped).is_err()),
        "nothing is wrapped to the attacker"
    );
    assert!(
        membership::admit(&app.vault, &app.coordinator, Team::Communications, other.user_id()).await.is_err()
    );
    let _ = caseworker;
}

#[tokio::test]
async fn swapped_ciphertexts_fail_their_integrity_check() {
    let app = instance().await;
    let first = cases::create(&app.vault, &app.coordinator, draft(&["Swift"], "first notes")).await.unwrap();
    let second =
        cases::create(&app.vault, &app.coordinator, draft(&["Robin"], "second notes")).await.unwrap();

    // Between cases: the second case's notes moved into the first.
    app.execute_raw(
        "UPDATE cases SET sealed_notes = (SELECT sealed_notes FROM cases WHERE id = $1) WHERE id = $2",
        &[&second.to_string(), &first.to_string()],
    )
    .await;
    assert!(matches!(
        cases::read(&app.vault, &app.coordinator, first).await,
        Err(ServiceError::Integrity(_))
    ));

    // Between fields of one case: group and notes exchanged.
    app.execute_raw(
        "UPDATE cases SET sealed_group = sealed_notes, sealed_notes = sealed_group WHERE id = $1",
        &[&second.to_string()],
    )
    .await;
    assert!(matches!(
        cases::read(&app.vault, &app.coordinator, second).await,
        Err(ServiceError::Integrity(_))
    ));

    // Between wrap rows: the second case's key offered for the first.
    let third = cases::create(&app.vault, &app.coordinator, draft(&["Finch"], "third")).await.unwrap();
    let fourth = cases::create(&app.vault, &app.coordinator, draft(&["Wren"], "fourth")).await.unwrap();
    app.execute_raw(
        "UPDATE wraps SET wrapped = (SELECT wrapped FROM wraps WHERE object_id = $1 AND holder_kind = 'team') \
         WHERE object_id = $2 AND holder_kind = 'team'",
        &[&fourth.to_string(), &third.to_string()],
    )
    .await;
    assert!(matches!(
        cases::read(&app.vault, &app.coordinator, third).await,
        Err(ServiceError::Integrity(_))
    ));
}

#[tokio::test]
async fn an_inbox_entry_without_the_case_key_mac_is_refused() {
    let app = instance().await;
    let caseworker = app.user("case.inbox", Role::Caseworker, true).await;
    let id = cases::create(&app.vault, &caseworker, draft(&["Plover"], "x")).await.unwrap();
    let (report, _) = cases::dashboard(&app.vault, &app.coordinator).await.unwrap();
    assert_eq!((report.inbox_applied, report.inbox_refused), (1, 0));

    // Anyone can encrypt to the public coordinators recipient; without the
    // case key they cannot make the MAC.
    let forged = serde_json::json!({
        "case_id": id.to_string(),
        "record": serde_json::json!({
            "case_id": id.to_string(), "version": 99, "stage": "arrived", "status": "open",
            "shelter": null, "aliases": ["Forged"], "assignees": [],
            "created_at": "2024-01-01T00:00:00Z", "updated_at": "2024-01-01T00:00:00Z"
        }).to_string(),
        "mac": "AAAA",
    });
    let sealed = wrap::wrap(&app.vault.keyring.trust().coordinators, forged.to_string().as_bytes()).unwrap();
    app.vault
        .store()
        .apply(vec![safehouse::storage::Write::InsertInbox { case_id: id.to_string(), sealed }])
        .await
        .unwrap();
    let (report, _) = cases::dashboard(&app.vault, &app.coordinator).await.unwrap();
    assert_eq!((report.inbox_applied, report.inbox_refused), (0, 1));
    let listed = cases::list_visible(&app.vault, &app.coordinator).await.unwrap();
    assert_eq!(listed[0].aliases, vec!["Plover".to_owned()]);
    assert!(app.vault.store().inbox().await.unwrap().is_empty());
}

#[tokio::test]
async fn a_stale_update_is_a_conflict_and_overwrites_nothing() {
    let app = instance().await;
    let a = app.user("case.first", Role::Caseworker, true).await;
    let id = cases::create(&app.vault, &a, draft(&["Egret"], "original")).await.unwrap();
    cases::dashboard(&app.vault, &app.coordinator).await.unwrap();
    let b = app.user("case.second", Role::Caseworker, true).await;
    membership::assign(&app.vault, &app.coordinator, id, b.user_id()).await.unwrap();

    let seen_by_a = cases::read(&app.vault, &a, id).await.unwrap();
    let seen_by_b = cases::read(&app.vault, &b, id).await.unwrap();
    assert_eq!(seen_by_a.version, seen_by_b.version);
    cases::update(&app.vault, &b, id, seen_by_b.version, draft(&["Egret"], "saved first by B"))
        .await
        .unwrap();
    let stale =
        cases::update(&app.vault, &a, id, seen_by_a.version, draft(&["Egret"], "A's late save")).await;
    assert!(matches!(stale, Err(ServiceError::Conflict)), "{stale:?}");
    let now = cases::read(&app.vault, &a, id).await.unwrap();
    assert_eq!(now.notes.as_str(), "saved first by B");
    assert_eq!(now.version, seen_by_a.version + 1);

    // Milestones follow the same rule.
    let m = cases::add_milestone(&app.vault, &a, id, milestone("first", None)).await.unwrap();
    cases::edit_milestone(&app.vault, &b, id, m, 1, milestone("B's edit", None)).await.unwrap();
    assert!(matches!(
        cases::edit_milestone(&app.vault, &a, id, m, 1, milestone("A's stale edit", None)).await,
        Err(ServiceError::Conflict)
    ));
    assert_eq!(cases::read(&app.vault, &a, id).await.unwrap().milestones[0].draft.note.as_str(), "B's edit");
}

#[tokio::test]
async fn password_change_keeps_grants_and_needs_no_coordinator() {
    let app = instance().await;
    let a = app.user("case.rekey", Role::Caseworker, true).await;
    let id = cases::create(&app.vault, &a, draft(&["Ibis"], "kept across a password change")).await.unwrap();
    let old_wrap = app
        .vault
        .store()
        .wrap(ObjectKind::Case, &id.to_string(), HolderKind::User, &a.user_id().to_string())
        .await
        .unwrap()
        .unwrap();

    let issued = accounts::change_password(&app.vault, &a, PASSWORD, &password("a brand new passphrase"))
        .await
        .unwrap();
    let a2 = issued.actor;
    assert_eq!(a2.key_no(), a.key_no() + 1);
    assert_eq!(
        cases::read(&app.vault, &a2, id).await.unwrap().notes.as_str(),
        "kept across a password change"
    );
    // Vouched, so still able to create cases before any coordinator acts.
    cases::create(&app.vault, &a2, draft(&["Rail"], "new")).await.unwrap();
    // The old key no longer opens the new wrap; the old password no longer unlocks.
    let new_wrap = app
        .vault
        .store()
        .wrap(ObjectKind::Case, &id.to_string(), HolderKind::User, &a.user_id().to_string())
        .await
        .unwrap()
        .unwrap();
    assert_ne!(old_wrap.wrapped, new_wrap.wrapped);
    assert!(wrap::unwrap(a.identity(), &new_wrap.wrapped).is_err());
    assert!(matches!(
        accounts::unlock(&app.vault, "case.rekey", PASSWORD).await,
        Err(ServiceError::BadLogin)
    ));
    // The next coordinator request checks the voucher and re-certifies.
    let (report, _) = cases::dashboard(&app.vault, &app.coordinator).await.unwrap();
    assert_eq!(report.recertified, 1);
    let other = cases::create(&app.vault, &app.coordinator, draft(&["Snipe"], "assigned after the change"))
        .await
        .unwrap();
    assert!(membership::assign(&app.vault, &app.coordinator, other, a2.user_id()).await.unwrap());
    assert_eq!(
        cases::read(&app.vault, &a2, other).await.unwrap().notes.as_str(),
        "assigned after the change"
    );

    // A recovery code (with the authenticator code) also sets a new
    // password without losing grants, once.
    let code = issued.recovery_codes[0].expose().to_owned();
    let secret = safehouse::accounts::totp::enrol_for_demo(&app.vault, a.user_id()).await.unwrap();
    let totp = oath_code(&secret, time::OffsetDateTime::now_utc());
    let recover = async |password: &str| {
        accounts::recover_with_code(
            &app.vault,
            "case.rekey",
            &code,
            &totp,
            &crate::helpers::password(password),
            None,
        )
        .await
    };
    let again = recover("recovered passphrase").await.unwrap();
    assert_eq!(
        cases::read(&app.vault, &again.actor, id).await.unwrap().notes.as_str(),
        "kept across a password change"
    );
    assert!(recover("another passphrase").await.is_err());
}

#[tokio::test]
async fn freeze_removes_every_grant_at_once() {
    let app = instance().await;
    let a = app.user("case.frozen", Role::Caseworker, true).await;
    let id = cases::create(&app.vault, &a, draft(&["Tern"], "x")).await.unwrap();
    membership::freeze(&app.vault, &app.coordinator, a.user_id()).await.unwrap();
    assert!(matches!(cases::read(&app.vault, &a, id).await, Err(ServiceError::NotFound)));
    assert!(
        app.vault
            .store()
            .wraps_of_holder(HolderKind::User, &a.user_id().to_string())
            .await
            .unwrap()
            .is_empty()
    );
    assert!(matches!(
        accounts::unlock(&app.vault, "case.frozen", PASSWORD).await,
        Err(ServiceError::BadLogin)
    ));
    // The administrator cannot lift a freeze.
    assert!(accounts::set_disabled(&app.vault, &app.admin, a.user_id(), false).await.is_err());
}

#[tokio::test]
async fn offline_recovery_admits_a_new_coordinator_who_reads_every_case() {
    let app = instance().await;
    let a = app.user("case.rec", Role::Caseworker, true).await;
    let cases_made = [
        cases::create(&app.vault, &a, draft(&["Owl"], "by a caseworker")).await.unwrap(),
        cases::create(&app.vault, &app.coordinator, draft(&["Hawk"], "by the coordinator")).await.unwrap(),
    ];
    // Every coordinator password is lost. The administrator creates a new
    // coordinator account; its owner activates it (no team key yet).
    let created = accounts::create_account(
        &app.vault,
        &app.admin,
        &safehouse::accounts::Username::parse("coord.new").unwrap(),
        [Role::Coordinator].into(),
    )
    .await
    .unwrap();
    let issued =
        accounts::activate(&app.vault, created.activation.expose(), &password(PASSWORD)).await.unwrap();
    let newcomer = issued.actor;
    assert!(cases::read(&app.vault, &newcomer, cases_made[0]).await.is_err());

    let request = recovery::export(&app.vault, &safehouse::accounts::Username::parse("coord.new").unwrap())
        .await
        .unwrap();
    // A wrong fingerprint or a wrong recovery key: no answer.
    assert!(recovery::answer(&request, &app.recovery, "12345 12345 12345 12345 12345").is_err());
    assert!(recovery::answer(&request, &Identity::generate(), &issued.fingerprint).is_err());
    let answer = recovery::answer(&request, &app.recovery, &issued.fingerprint).unwrap();
    // A tampered answer is refused and changes nothing.
    let mut tampered = answer.clone();
    tampered.coordinators_wrap = answer.communications_wrap.clone();
    assert!(recovery::import(&app.vault, &tampered).await.is_err());
    assert!(app.vault.store().certification(&newcomer.user_id().to_string()).await.unwrap().is_none());

    recovery::import(&app.vault, &answer).await.unwrap();
    let newcomer = accounts::unlock(&app.vault, "coord.new", PASSWORD).await.unwrap();
    for id in cases_made {
        assert!(cases::read(&app.vault, &newcomer, id).await.is_ok());
    }
    assert_eq!(cases::list_visible(&app.vault, &newcomer).await.unwrap().len(), 2);
    // The same answer cannot be imported twice.
    assert!(recovery::import(&app.vault, &answer).await.is_err());
    let _ = CaseId::random();
}
