//! Rotations of the data keys (issue 14): after each, every case and
//! register reads for the right people and not for others, and the old
//! key opens nothing it used to; after the compromise rotation of the case
//! keys the old case keys open no stored ciphertext, pending entries
//! still fold and approve, and a forged one is dropped.

use safehouse::accounts::model::{Actor, Role};
use safehouse::cases::index;
use safehouse::cases::model::{
    Alias, CountryCode, EventDate, Gender, Group, MilestoneKind, Note, Person, ShelterCode, Stage, Status,
};
use safehouse::cases::service::{self as cases, CaseDraft, MilestoneDraft};
use safehouse::crypto::{self, Aad, Identity, Key32, RecordKind, wrap};
use safehouse::error::ServiceError;
use safehouse::ids::{AidEntryId, CaseId, ShelterId};
use safehouse::keyring::Team;
use safehouse::membership::{self, SharedKey};
use safehouse::programmes::aid::model::{self as aid_model, AidEntry, AidKind, EntryDraft, KindDraft, Month};
use safehouse::programmes::aid::service as aid;
use safehouse::rotation::{Plan, Quiet, data as rotate};
use safehouse::shelters::{self, ShelterDetails};
use safehouse::storage::{HolderKind, ObjectKind, SealedRow, WrapRow, Write};
use safehouse::stories::model::{Opening, StoryKind};
use safehouse::stories::service::{self as stories, Approval, Target};

use crate::helpers::*;

/// Twelve alike cases at one shelter (enough for a story to pass
/// k-anonymity), two of them assigned to `worker`; `other` is a certified
/// caseworker assigned none. The shelter has an aid entry and an added kind.
struct World {
    i: Instance,
    shelter: ShelterId,
    worker: Actor,
    other: Actor,
    cases: Vec<CaseId>,
}

impl World {
    fn k(&self) -> &Actor {
        &self.i.coordinator
    }

    async fn coordinators(&self) -> Identity {
        membership::coordinators_identity(&self.i.vault, self.k()).await.unwrap()
    }

    async fn commit(&self, plan: Plan) {
        self.i.vault.store().apply(plan.writes).await.unwrap();
    }

    async fn wraps(&self, object: ObjectKind, id: &str) -> Vec<WrapRow> {
        self.i.vault.store().wraps_of_object(object, id).await.unwrap()
    }

    async fn shared(&self, key: SharedKey) -> Key32 {
        membership::shared_key_for_team(&self.i.vault, &self.coordinators().await, key).await.unwrap()
    }
}

async fn world() -> World {
    let i = instance().await;
    let (vault, k) = (&i.vault, &i.coordinator);
    let details = ShelterDetails::parse("Province", "30", "rotnote shelter").unwrap();
    let shelter = shelters::create(vault, k, ShelterCode::parse("ROT-01").unwrap(), details).await.unwrap();
    let kind = aid::add_kind(vault, k, KindDraft::parse("Blankets", "pieces").unwrap()).await.unwrap();
    let entry = EntryDraft {
        month: Month::of(vault.clock.now().date()),
        kind: AidKind::Custom(kind),
        quantity: 40,
        currency: None,
        people_served: 12,
        note: Note::parse("rotnote blankets").unwrap(),
    };
    aid::record(vault, k, shelter, entry).await.unwrap();
    let worker = i.user("rot.worker", Role::Caseworker, true).await;
    let other = i.user("rot.other", Role::Caseworker, true).await;
    let year = vault.clock.now().year() - 2;
    let mut ids = Vec::new();
    for n in 0..12u8 {
        let person = Person {
            alias: Alias::parse(&format!("Rotalias{n}")).unwrap(),
            age_band: safehouse::cases::model::AgeBand::Adult,
            gender: Some(Gender::Female),
            consent: true,
        };
        let d = CaseDraft {
            group: Group::new(vec![person]).unwrap(),
            shelter: Some(shelter),
            stage: Stage::Arrived,
            status: Status::Open,
            notes: Note::parse(&format!("rotnote case {n}")).unwrap(),
        };
        let id = cases::create(vault, k, d).await.unwrap();
        let date = time::Date::from_calendar_date(year, time::Month::March, 2 + n).unwrap();
        let m = MilestoneDraft {
            kind: MilestoneKind::Arrived,
            date: EventDate::from_stored(&date.to_string()).unwrap(),
            country: Some(CountryCode::parse("DE").unwrap()),
            place_code: None,
            note: Note::parse("rotnote arrival").unwrap(),
            sponsorship: None,
        };
        cases::add_milestone(vault, k, id, m).await.unwrap();
        ids.push(id);
    }
    for id in &ids[1..3] {
        membership::assign(vault, k, *id, worker.user_id()).await.unwrap();
    }
    World { i, shelter, worker, other, cases: ids }
}

/// A caseworker's save of a case they hold: the index learns of it
/// through the inbox only (the change of stage shows once folded).
async fn caseworker_moves_on(w: &World, id: CaseId) {
    let case = cases::read(&w.i.vault, &w.worker, id).await.unwrap();
    let d = CaseDraft {
        group: case.group.clone(),
        shelter: case.shelter,
        stage: Stage::FollowUp,
        status: case.status,
        notes: case.notes.clone(),
    };
    cases::update(&w.i.vault, &w.worker, id, case.version, d).await.unwrap();
}

/// No wrap row now is one of `old` (same holder, same bytes).
fn none_is_old(now: &[WrapRow], old: &[WrapRow]) {
    for row in now {
        assert!(
            !old.iter().any(|o| o.wrapped == row.wrapped),
            "an old wrap is still there: {}",
            row.holder_id
        );
    }
}

fn shelter_place<'a>(id: &'a str, field: &'a str, version: i64) -> Aad<'a> {
    Aad { kind: RecordKind::Shelter, owner: id, record: "", field, version }
}

#[tokio::test]
async fn rotation_data_index_reads_as_before_and_the_old_index_key_opens_nothing() {
    let w = world().await;
    let (vault, store) = (&w.i.vault, w.i.vault.store());
    let before = cases::list_visible(vault, w.k()).await.unwrap();
    // A change waiting in the inbox: sealed to the coordinators, not the index key.
    caseworker_moves_on(&w, w.cases[1]).await;
    let old = w.shared(SharedKey::Index).await;
    let old_wraps = w.wraps(ObjectKind::Shared, SharedKey::Index.as_str()).await;
    let rows = store.index_rows().await.unwrap();
    assert_eq!(rows.len(), 12);

    let plan = rotate::index(vault, &w.coordinators().await, &Quiet).await.unwrap();
    assert_eq!((plan.resealed, plan.rewrapped), (12, 1));
    w.commit(plan).await;

    let (report, after) = cases::dashboard(vault, w.k()).await.unwrap();
    assert_eq!((report.inbox_applied, report.inbox_refused), (1, 0), "the pending change folds");
    assert_eq!(after.len(), before.len());
    for line in &after {
        let was = before.iter().find(|b| b.id == line.id).unwrap();
        if line.id == w.cases[1] {
            assert_eq!(line.stage, Stage::FollowUp);
            assert_eq!(line.aliases, was.aliases);
        } else {
            assert_eq!(line, was, "case {} reads as before", line.id);
        }
    }
    let new = w.shared(SharedKey::Index).await;
    assert_ne!(new, old);
    for row in store.index_rows().await.unwrap() {
        assert!(index::open(&old, &row).is_err(), "the old index key opens a record");
        index::open(&new, &row).unwrap();
    }
    let now = w.wraps(ObjectKind::Shared, SharedKey::Index.as_str()).await;
    assert_eq!(now.len(), 1);
    none_is_old(&now, &old_wraps);
}

#[tokio::test]
async fn rotation_data_registers_read_for_their_holders_and_the_old_keys_open_nothing() {
    let w = world().await;
    let (vault, store) = (&w.i.vault, w.i.vault.store());
    let coordinators = w.coordinators().await;
    let for_k = shelters::list(vault, w.k()).await.unwrap();
    let for_worker = shelters::list(vault, &w.worker).await.unwrap();
    assert!(for_worker.iter().all(|s| s.details.is_none()));
    let (entries, kinds) = aid::all_for_team(vault, &coordinators).await.unwrap();
    assert_eq!((entries.len(), kinds.len()), (1, 1));
    let old_codes = w.shared(SharedKey::RegisterCodes).await;
    let old_details = w.shared(SharedKey::RegisterDetails).await;
    let codes = SharedKey::RegisterCodes.as_str();
    // `other`'s codes wrap made stale: to a key number that is not theirs now.
    let mut stale = store
        .wrap(ObjectKind::Shared, codes, HolderKind::User, &w.other.user_id().to_string())
        .await
        .unwrap()
        .unwrap();
    stale.key_no += 7;
    store.apply(vec![Write::PutWrap(stale)]).await.unwrap();
    let mut old_wraps = w.wraps(ObjectKind::Shared, codes).await;
    old_wraps.extend(w.wraps(ObjectKind::Shared, SharedKey::RegisterDetails.as_str()).await);

    let plan = rotate::registers(vault, &coordinators, &Quiet).await.unwrap();
    // One shelter, one entry, one kind; codes to the team, the first
    // coordinator and the worker (other's stale wrap goes), details to the team.
    assert_eq!(plan.resealed, 3);
    assert_eq!(plan.rewrapped, 4);
    w.commit(plan).await;

    assert_eq!(shelters::list(vault, w.k()).await.unwrap(), for_k);
    assert_eq!(shelters::list(vault, &w.worker).await.unwrap(), for_worker);
    assert!(matches!(shelters::list(vault, &w.other).await, Err(ServiceError::Uncertified)));
    assert_eq!(aid::all_for_team(vault, &coordinators).await.unwrap(), (entries, kinds));
    let (new_codes, new_details) =
        (w.shared(SharedKey::RegisterCodes).await, w.shared(SharedKey::RegisterDetails).await);
    for row in store.shelters().await.unwrap() {
        let (code, details) =
            (shelter_place(&row.id, "code", row.version), shelter_place(&row.id, "details", row.version));
        assert!(crypto::open(&old_codes, &code, &row.sealed_code).is_err());
        assert!(crypto::open(&old_details, &details, &row.sealed_details).is_err());
        crypto::open(&new_codes, &code, &row.sealed_code).unwrap();
        crypto::open(&new_details, &details, &row.sealed_details).unwrap();
    }
    for row in store.aid_entries().await.unwrap() {
        assert!(aid_model::open_entry(&old_details, &row).is_err());
    }
    for row in store.aid_kinds().await.unwrap() {
        assert!(aid_model::open_kind(&old_details, &row).is_err());
    }
    let mut now = w.wraps(ObjectKind::Shared, codes).await;
    assert!(!now.iter().any(|r| r.holder_id == w.other.user_id().to_string()), "the stale wrap went");
    now.extend(w.wraps(ObjectKind::Shared, SharedKey::RegisterDetails.as_str()).await);
    none_is_old(&now, &old_wraps);
}

/// A forged index inbox entry: anyone can encrypt to the coordinators'
/// recipient, but not MAC under the case key.
async fn forged_index_entry(w: &World, id: CaseId) -> Write {
    let vault = &w.i.vault;
    let record = index::open(
        &w.shared(SharedKey::Index).await,
        &vault.store().index_row(&id.to_string()).await.unwrap().unwrap(),
    )
    .unwrap();
    let envelope = serde_json::json!({
        "case_id": id.to_string(),
        "record": serde_json::to_string(&record).unwrap(),
        "mac": safehouse::keyring::to_base64(&[7u8; 32]),
    });
    let recipient = vault.keyring.team_recipient(vault.store(), Team::Coordinators).await.unwrap();
    Write::InsertInbox {
        case_id: id.to_string(),
        sealed: wrap::wrap(&recipient, envelope.to_string().as_bytes()).unwrap(),
    }
}

/// A forged aid inbox entry for the worker's case, with a wrong MAC.
async fn forged_aid_entry(w: &World, id: CaseId) -> Write {
    let vault = &w.i.vault;
    let entry = AidEntry {
        id: AidEntryId::random(),
        shelter: w.shelter,
        month: Month::of(vault.clock.now().date()),
        kind: AidKind::Food,
        quantity: 5,
        currency: None,
        people_served: 1,
        note: Note::parse("forged qzv").unwrap(),
        supersedes: None,
        recorded_by: w.worker.user_id(),
        recorded_at: vault.clock.now(),
    };
    let envelope = serde_json::json!({
        "case_id": id.to_string(),
        "entry": serde_json::to_string(&entry).unwrap(),
        "mac": safehouse::keyring::to_base64(&[9u8; 32]),
    });
    let recipient = vault.keyring.team_recipient(vault.store(), Team::Coordinators).await.unwrap();
    let sealed = wrap::wrap(&recipient, envelope.to_string().as_bytes()).unwrap();
    Write::InsertAidInbox(SealedRow { id: entry.id.to_string(), sealed })
}

#[tokio::test]
async fn rotation_data_case_keys_open_for_the_right_people_and_the_old_keys_open_nothing() {
    let w = world().await;
    let (vault, store) = (&w.i.vault, w.i.vault.store());
    let story_case = w.cases[3];
    let Approval::Approved { story } = stories::approve(
        vault,
        w.k(),
        &Target::Case { case_id: story_case, kind: StoryKind::ReachedSafety },
        &[],
        Opening::default(),
    )
    .await
    .unwrap() else {
        panic!("the story is refused")
    };
    // Pending for the coordinators, written after their last fold: a draft,
    // an index change and an aid entry, each by the worker; and two forgeries.
    let stories::Sent::Sent { draft } =
        stories::send(vault, &w.worker, w.cases[1], StoryKind::ReachedSafety).await.unwrap()
    else {
        panic!("the draft is refused")
    };
    caseworker_moves_on(&w, w.cases[2]).await;
    let entry = EntryDraft {
        month: Month::of(vault.clock.now().date()),
        kind: AidKind::Food,
        quantity: 321,
        currency: None,
        people_served: 9,
        note: Note::parse("rotnote from the worker").unwrap(),
    };
    aid::record(vault, &w.worker, w.shelter, entry).await.unwrap();
    let forgeries = vec![forged_index_entry(&w, w.cases[0]).await, forged_aid_entry(&w, w.cases[1]).await];
    store.apply(forgeries).await.unwrap();
    assert_eq!(store.inbox().await.unwrap().len(), 2);
    assert_eq!(store.aid_inbox().await.unwrap().len(), 2);

    let coordinators = w.coordinators().await;
    let mut old_keys = Vec::new();
    let mut old_wraps = Vec::new();
    for id in &w.cases {
        let cid = id.to_string();
        old_keys.push(membership::case_key_for_team(vault, &coordinators, &cid).await.unwrap());
        old_wraps.extend(w.wraps(ObjectKind::Case, &cid).await);
    }

    let plan = rotate::case_keys(vault, &coordinators, &Quiet).await.unwrap();
    // Twelve cases and their milestones, one link, three pending entries.
    assert_eq!(plan.resealed, 12 + 12 + 1 + 3);
    assert_eq!(plan.rewrapped, 12 + 2, "the team's twelve and the worker's two");
    assert_eq!(plan.refused, 2, "both forgeries are dropped");
    w.commit(plan).await;

    // Every case opens for the coordinators and its assignee, not for others.
    for (n, id) in w.cases.iter().enumerate() {
        cases::read(vault, w.k(), *id).await.unwrap();
        let worker = cases::read(vault, &w.worker, *id).await;
        if (1..3).contains(&n) {
            worker.unwrap();
        } else {
            assert!(matches!(worker, Err(ServiceError::NotFound)), "case {n} opens for the worker");
        }
        assert!(matches!(cases::read(vault, &w.other, *id).await, Err(ServiceError::NotFound)));
    }
    // The old keys open no stored ciphertext and find no link or draft.
    for (id, old) in w.cases.iter().zip(&old_keys) {
        let cid = id.to_string();
        let new = membership::case_key_for_team(vault, &coordinators, &cid).await.unwrap();
        assert_ne!(&new, old);
        let row = store.case(&cid).await.unwrap().unwrap();
        for (field, sealed) in
            [("group", &row.sealed_group), ("placement", &row.sealed_placement), ("notes", &row.sealed_notes)]
        {
            let place = Aad { kind: RecordKind::Case, owner: &cid, record: "", field, version: row.version };
            assert!(crypto::open(old, &place, sealed).is_err(), "the old key opens {field}");
            crypto::open(&new, &place, sealed).unwrap();
        }
        for m in store.milestones(&cid).await.unwrap() {
            let place = Aad {
                kind: RecordKind::Milestone,
                owner: &cid,
                record: &m.id,
                field: "milestone",
                version: m.version,
            };
            assert!(crypto::open(old, &place, &m.sealed).is_err());
            crypto::open(&new, &place, &m.sealed).unwrap();
        }
        let old_tag = safehouse::stories::tag(old, &cid);
        assert!(store.story_links(&old_tag).await.unwrap().is_empty());
        assert!(store.story_drafts_of(&old_tag).await.unwrap().is_empty());
        let links = store.story_links(&safehouse::stories::tag(&new, &cid)).await.unwrap();
        assert_eq!(links.len(), usize::from(*id == story_case));
        for link in links {
            let place = Aad {
                kind: RecordKind::StoryLink,
                owner: &cid,
                record: &link.id,
                field: "story-link",
                version: 1,
            };
            assert!(crypto::open(old, &place, &link.sealed).is_err());
            crypto::open(&new, &place, &link.sealed).unwrap();
        }
        for wrap_row in w.wraps(ObjectKind::Case, &cid).await {
            if wrap_row.holder_kind == "user" {
                let own = wrap::unwrap(w.worker.identity(), &wrap_row.wrapped).unwrap();
                assert_eq!(own.as_slice(), new.expose());
            }
        }
    }
    let mut now = Vec::new();
    for id in &w.cases {
        now.extend(w.wraps(ObjectKind::Case, &id.to_string()).await);
    }
    assert_eq!(now.len(), old_wraps.len());
    none_is_old(&now, &old_wraps);

    // The pending entries fold, and the draft is genuine and approves.
    let (report, lines) = cases::dashboard(vault, w.k()).await.unwrap();
    assert_eq!((report.inbox_applied, report.inbox_refused), (1, 0));
    assert_eq!((report.aid_applied, report.aid_refused), (1, 0));
    assert_eq!(lines.iter().find(|l| l.id == w.cases[2]).unwrap().stage, Stage::FollowUp);
    let (entries, _) = aid::all_for_team(vault, &coordinators).await.unwrap();
    assert!(entries.iter().any(|e| e.quantity == 321 && e.recorded_by == w.worker.user_id()));
    let waiting = stories::drafts(vault, w.k()).await.unwrap();
    assert_eq!(waiting.len(), 1);
    assert_eq!(waiting[0].genuine.unwrap().case_id, w.cases[1]);
    let approved =
        stories::approve(vault, w.k(), &Target::Draft { id: draft }, &[], Opening::default()).await.unwrap();
    assert!(matches!(approved, Approval::Approved { .. }), "the draft approves after the rotation");

    // The approved story's case goes back into danger: its link is found
    // by the new tag, and the story is withdrawn.
    let case = cases::read(vault, w.k(), story_case).await.unwrap();
    let back = CaseDraft {
        group: case.group.clone(),
        shelter: case.shelter,
        stage: Stage::InTransit,
        status: case.status,
        notes: case.notes.clone(),
    };
    cases::update(vault, w.k(), story_case, case.version, back).await.unwrap();
    assert_eq!(store.story(&story).await.unwrap().unwrap().withdrawn, 1, "the story is withdrawn");
}
