//! Case rules: create, read, update (optimistic concurrency), milestones,
//! listing. Access is checked twice: by role and assignment here, and by
//! keys (a user without a wrap row simply cannot open the case key).

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use zeroize::Zeroizing;

use super::index::{self, IndexRecord, MilestoneFacts, PersonFacts, SponsorshipFacts};
use super::model::{
    CountryCode, EventDate, FieldError, Group, MilestoneKind, Note, ShelterCode, SponsorshipStep, Stage,
    Status,
};
use crate::accounts::model::{Actor, Role};
use crate::audit::{self, Action};
use crate::crypto::{self, Aad, Identity, Key32, RecordKind, wrap};
use crate::error::{ServiceError, ServiceResult};
use crate::ids::{CaseId, MilestoneId, ShelterId};
use crate::keyring::Team;
use crate::membership::FoldReport;
use crate::membership::{self, SharedKey, wrap_row};
use crate::programmes::sponsorship::service as sponsorship;
use crate::storage::{CaseRow, HolderKind, MilestoneRow, ObjectKind, Write};
use crate::stories;
use crate::vault::Vault;

/// What a user enters for a case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseDraft {
    pub group: Group,
    pub shelter: Option<ShelterId>,
    pub stage: Stage,
    pub status: Status,
    pub notes: Note,
}

/// The placement field of a case: where it is in the pipeline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Placement {
    shelter: Option<ShelterId>,
    stage: Stage,
    status: Status,
    #[serde(with = "time::serde::rfc3339")]
    created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    updated_at: OffsetDateTime,
    /// Set when the case closes, cleared when it reopens.
    #[serde(default, with = "time::serde::rfc3339::option")]
    closed_at: Option<OffsetDateTime>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Case {
    pub id: CaseId,
    pub version: i64,
    pub group: Group,
    pub shelter: Option<ShelterId>,
    pub stage: Stage,
    pub status: Status,
    pub notes: Note,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
    pub closed_at: Option<OffsetDateTime>,
    pub milestones: Vec<Milestone>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MilestoneDraft {
    pub kind: MilestoneKind,
    pub date: EventDate,
    /// Country level: the only place a public story may ever use.
    pub country: Option<CountryCode>,
    /// A code name (a shelter or waypoint), never a real place name.
    pub place_code: Option<ShelterCode>,
    pub note: Note,
    /// For the sponsorship kinds only: which child, and what changed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sponsorship: Option<SponsorshipStep>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Milestone {
    pub id: MilestoneId,
    pub version: i64,
    pub draft: MilestoneDraft,
}

/// A line of a case list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Summary {
    pub id: CaseId,
    pub version: i64,
    pub aliases: Vec<String>,
    pub stage: Stage,
    pub status: Status,
    pub shelter: Option<ShelterId>,
    pub assignees: Vec<crate::ids::UserId>,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
    /// Age band and gender of each person, never the alias.
    pub persons: Vec<PersonFacts>,
    /// Kind and date of each milestone, never its note (a country only
    /// for an arrival).
    pub milestones: Vec<MilestoneFacts>,
    pub closed_at: Option<OffsetDateTime>,
}

/// Aliases leave memory with the line: lines live in the in-memory index
/// (`index_cache`) until it is dropped.
impl Drop for Summary {
    fn drop(&mut self) {
        for alias in &mut self.aliases {
            zeroize::Zeroize::zeroize(alias);
        }
    }
}

impl From<IndexRecord> for Summary {
    fn from(r: IndexRecord) -> Self {
        Summary {
            id: r.case_id,
            version: r.version,
            aliases: r.aliases,
            stage: r.stage,
            status: r.status,
            shelter: r.shelter,
            assignees: r.assignees,
            created_at: r.created_at,
            updated_at: r.updated_at,
            persons: r.persons,
            milestones: r.milestones,
            closed_at: r.closed_at,
        }
    }
}

impl Summary {
    pub fn arrived(&self) -> Option<EventDate> {
        index::arrived(&self.milestones)
    }

    pub fn destination(&self) -> Option<CountryCode> {
        index::destination(&self.milestones)
    }
}

impl MilestoneDraft {
    /// The milestone as the index keeps it: `id` is its own (a "joined"
    /// milestone names its enrolment), `group` the case's, which places
    /// an enrolled child's alias.
    pub fn facts(&self, id: MilestoneId, group: &Group) -> MilestoneFacts {
        let facts = MilestoneFacts::of(self.kind, self.date, self.country);
        match &self.sponsorship {
            Some(step) => facts.with_sponsorship(SponsorshipFacts::of(id, step, group)),
            None => facts,
        }
    }
}

impl Case {
    /// The milestones as the index keeps them.
    pub fn milestone_facts(&self) -> Vec<MilestoneFacts> {
        self.milestones.iter().map(|m| m.draft.facts(m.id, &self.group)).collect()
    }
}

const FIELD_GROUP: &str = "group";
const FIELD_PLACEMENT: &str = "placement";
const FIELD_NOTES: &str = "notes";

fn case_place<'a>(case_id: &'a str, field: &'a str, version: i64) -> Aad<'a> {
    Aad { kind: RecordKind::Case, owner: case_id, record: "", field, version }
}

fn milestone_place<'a>(case_id: &'a str, milestone_id: &'a str, version: i64) -> Aad<'a> {
    Aad { kind: RecordKind::Milestone, owner: case_id, record: milestone_id, field: "milestone", version }
}

fn encode<T: Serialize>(value: &T) -> ServiceResult<Zeroizing<Vec<u8>>> {
    serde_json::to_vec(value).map(Zeroizing::new).map_err(|_| ServiceError::Internal("case encoding"))
}

fn decode<T: for<'de> Deserialize<'de>>(bytes: &[u8]) -> ServiceResult<T> {
    serde_json::from_slice(bytes).map_err(|_| ServiceError::Integrity("case field does not decode"))
}

/// How the actor reaches a case key.
enum Access {
    /// Through the coordinators team key (which also opens the index key).
    Team(Identity),
    /// Through the actor's own grant.
    Own,
}

/// Open a case key for the actor, or `NotFound`: a case the actor may not
/// see is answered exactly like one that does not exist.
async fn case_key(vault: &Vault, actor: &Actor, case_id: CaseId) -> ServiceResult<(Key32, Access)> {
    let cid = case_id.to_string();
    if actor.has(Role::Coordinator) {
        let coordinators =
            membership::coordinators_identity(vault, actor).await.map_err(|_| ServiceError::NotFound)?;
        let key = membership::case_key_for_team(vault, &coordinators, &cid).await?;
        return Ok((key, Access::Team(coordinators)));
    }
    if actor.has(Role::Caseworker) {
        let row = vault
            .store()
            .wrap(ObjectKind::Case, &cid, HolderKind::User, &actor.user_id().to_string())
            .await?
            .filter(|row| row.key_no == actor.key_no())
            .ok_or(ServiceError::NotFound)?;
        let key = Key32::from_slice(
            &wrap::unwrap(actor.identity(), &row.wrapped).map_err(|_| ServiceError::NotFound)?,
        )?;
        return Ok((key, Access::Own));
    }
    Err(ServiceError::NotFound)
}

fn seal_case(
    key: &Key32,
    id: &str,
    version: i64,
    group: &Group,
    placement: &Placement,
    notes: &Note,
) -> ServiceResult<CaseRow> {
    Ok(CaseRow {
        id: id.to_owned(),
        version,
        sealed_group: crypto::seal(key, &case_place(id, FIELD_GROUP, version), &encode(group)?),
        sealed_placement: crypto::seal(key, &case_place(id, FIELD_PLACEMENT, version), &encode(placement)?),
        sealed_notes: crypto::seal(key, &case_place(id, FIELD_NOTES, version), &encode(notes)?),
    })
}

fn open_case(key: &Key32, row: &CaseRow) -> ServiceResult<(Group, Placement, Note)> {
    let group =
        decode(&crypto::open(key, &case_place(&row.id, FIELD_GROUP, row.version), &row.sealed_group)?)?;
    let placement = decode(&crypto::open(
        key,
        &case_place(&row.id, FIELD_PLACEMENT, row.version),
        &row.sealed_placement,
    )?)?;
    let notes =
        decode(&crypto::open(key, &case_place(&row.id, FIELD_NOTES, row.version), &row.sealed_notes)?)?;
    Ok((group, placement, notes))
}

/// A case row and each of its milestones sealed again under a new case
/// key (the compromise rotation). The versions stay as they are: the
/// places (and so the associated data) are unchanged, every version a
/// story approval or a purge request recorded still holds, and an
/// editor's open form meets no conflict (their save opens the new key).
pub(crate) async fn reseal(
    vault: &Vault,
    old: &Key32,
    new: &Key32,
    case_id: &str,
) -> ServiceResult<Vec<Write>> {
    let row = vault.store().case(case_id).await?.ok_or(ServiceError::NotFound)?;
    let again = |field: &str, sealed: &[u8]| -> ServiceResult<Vec<u8>> {
        let place = case_place(case_id, field, row.version);
        Ok(crypto::seal(new, &place, &crypto::open(old, &place, sealed)?))
    };
    let resealed = CaseRow {
        id: row.id.clone(),
        version: row.version,
        sealed_group: again(FIELD_GROUP, &row.sealed_group)?,
        sealed_placement: again(FIELD_PLACEMENT, &row.sealed_placement)?,
        sealed_notes: again(FIELD_NOTES, &row.sealed_notes)?,
    };
    let mut writes = vec![Write::UpdateCase { expected_version: row.version, row: resealed }];
    for m in vault.store().milestones(case_id).await? {
        let place = milestone_place(case_id, &m.id, m.version);
        let sealed = crypto::seal(new, &place, &crypto::open(old, &place, &m.sealed)?);
        writes
            .push(Write::UpdateMilestone { expected_version: m.version, row: MilestoneRow { sealed, ..m } });
    }
    Ok(writes)
}

async fn check_shelter(vault: &Vault, shelter: Option<ShelterId>) -> ServiceResult<()> {
    if let Some(id) = shelter {
        if vault.store().shelter(&id.to_string()).await?.is_none() {
            return Err(FieldError {
                field: "shelter",
                message: "Choose a shelter from the register.".into(),
            }
            .into());
        }
    }
    Ok(())
}

fn index_record(
    id: CaseId,
    version: i64,
    group: &Group,
    placement: &Placement,
    assignees: Vec<crate::ids::UserId>,
    milestones: Vec<MilestoneFacts>,
) -> IndexRecord {
    IndexRecord {
        case_id: id,
        version,
        stage: placement.stage,
        status: placement.status,
        shelter: placement.shelter,
        aliases: group.persons().iter().map(|p| p.alias.as_str().to_owned()).collect(),
        assignees,
        created_at: placement.created_at,
        updated_at: placement.updated_at,
        persons: group
            .persons()
            .iter()
            .map(|p| PersonFacts { age_band: p.age_band, gender: p.gender })
            .collect(),
        milestones,
        closed_at: placement.closed_at,
    }
}

/// The index change for a write: sealed directly by a coordinator, or sent
/// through the inbox by a caseworker.
async fn index_write(
    vault: &Vault,
    access: &Access,
    case_key: &Key32,
    record: IndexRecord,
) -> ServiceResult<Write> {
    match access {
        Access::Team(coordinators) => team_index_write(vault, coordinators, record).await,
        Access::Own => index::inbox_write(vault, case_key, &record).await,
    }
}

async fn team_index_write(
    vault: &Vault,
    coordinators: &Identity,
    mut record: IndexRecord,
) -> ServiceResult<Write> {
    let index_key = membership::shared_key_for_team(vault, coordinators, SharedKey::Index).await?;
    record.assignees = index::assignees(vault, &record.case_id.to_string()).await?;
    index::seal(&index_key, &record)
}

/// The role a case operation is done in: coordinator if held, else caseworker.
fn case_role(actor: &Actor) -> Role {
    if actor.has(Role::Coordinator) { Role::Coordinator } else { Role::Caseworker }
}

/// Create a case. A certified caseworker does it alone: the case key is
/// wrapped to the pinned coordinators recipient and to their own key.
pub async fn create(vault: &Vault, actor: &Actor, draft: CaseDraft) -> ServiceResult<CaseId> {
    let id = CaseId::random();
    let event = actor.event(Action::CaseCreate).as_role(case_role(actor)).on(id);
    let prepared = create_writes(vault, actor, id, draft).await;
    vault.write(&event, prepared).await?;
    Ok(id)
}

async fn create_writes(
    vault: &Vault,
    actor: &Actor,
    id: CaseId,
    draft: CaseDraft,
) -> ServiceResult<Vec<Write>> {
    let access = if actor.has(Role::Coordinator) {
        Access::Team(membership::coordinators_identity(vault, actor).await?)
    } else if actor.has(Role::Caseworker) {
        if !membership::is_self_certified(vault, actor).await? {
            return Err(ServiceError::Uncertified);
        }
        Access::Own
    } else {
        return Err(ServiceError::Forbidden("only caseworkers and coordinators create cases"));
    };
    if draft.status.is_closed() {
        return Err(FieldError { field: "status", message: "A new case cannot start closed.".into() }.into());
    }
    check_shelter(vault, draft.shelter).await?;
    let cid = id.to_string();
    let key = Key32::random();
    let now = vault.clock.now();
    let placement = Placement {
        shelter: draft.shelter,
        stage: draft.stage,
        status: draft.status,
        created_at: now,
        updated_at: now,
        // A case created closed (an old case entered late) counts from now.
        closed_at: draft.status.is_closed().then_some(now),
    };
    let coordinators_recipient = vault.keyring.team_recipient(vault.store(), Team::Coordinators).await?;
    let mut writes = vec![
        Write::InsertCase(seal_case(&key, &cid, 1, &draft.group, &placement, &draft.notes)?),
        Write::PutWrap(wrap_row(
            ObjectKind::Case,
            &cid,
            HolderKind::Team,
            Team::Coordinators.as_str(),
            0,
            wrap::wrap(&coordinators_recipient, key.expose())?,
        )),
    ];
    let mut assignees = Vec::new();
    if matches!(access, Access::Own) {
        // A wrap to the very key this request holds needs no certification.
        writes.push(Write::PutWrap(wrap_row(
            ObjectKind::Case,
            &cid,
            HolderKind::User,
            &actor.user_id().to_string(),
            actor.key_no(),
            wrap::wrap(&actor.identity().recipient(), key.expose())?,
        )));
        assignees.push(actor.user_id());
    }
    let record = index_record(id, 1, &draft.group, &placement, assignees, Vec::new());
    writes.push(match &access {
        Access::Team(coordinators) => {
            let index_key = membership::shared_key_for_team(vault, coordinators, SharedKey::Index).await?;
            index::seal(&index_key, &record)?
        }
        Access::Own => index::inbox_write(vault, &key, &record).await?,
    });
    Ok(writes)
}

/// Read a case with its milestones. The read is recorded, durably, before
/// any of it is returned; a refusal is recorded too.
pub async fn read(vault: &Vault, actor: &Actor, case_id: CaseId) -> ServiceResult<Case> {
    Ok(read_keyed(vault, actor, case_id).await?.0)
}

/// As [`read`], with the case key the actor opened (through the
/// coordinators team, or their own grant): for the stories service, which
/// computes the case's story tag and seals its story links. Recorded as a
/// case read, with the same checks.
pub(crate) async fn read_keyed(
    vault: &Vault,
    actor: &Actor,
    case_id: CaseId,
) -> ServiceResult<(Case, Key32)> {
    let event = actor.event(Action::CaseRead).as_role(case_role(actor)).on(case_id);
    let result = async {
        let (key, _) = case_key(vault, actor, case_id).await?;
        Ok((read_with_key(vault, &key, case_id).await?, key))
    }
    .await;
    let case = match result {
        // The entry and the read's mark for the bulk-reading check in one
        // job: durable together before any case data is returned.
        Ok(case) => {
            let mark = audit::service::case_read_mark(vault, actor, &case_id.to_string());
            vault.commit(&event, vec![mark]).await?;
            case
        }
        Err(error) => return vault.finish(&event, Err(error)).await,
    };
    audit::service::check_bulk_reading(vault, actor).await?;
    Ok(case)
}

/// The case key alone, for a page that already recorded its read of the
/// case (the case page's stories section): the same checks as a read.
pub(crate) async fn open_key(vault: &Vault, actor: &Actor, case_id: CaseId) -> ServiceResult<Key32> {
    Ok(case_key(vault, actor, case_id).await?.0)
}

async fn read_with_key(vault: &Vault, key: &Key32, case_id: CaseId) -> ServiceResult<Case> {
    let cid = case_id.to_string();
    let row = vault.store().case(&cid).await?.ok_or(ServiceError::NotFound)?;
    let (group, placement, notes) = open_case(key, &row)?;
    let milestones = read_milestones(vault, key, &cid).await?;
    Ok(Case {
        id: case_id,
        version: row.version,
        group,
        shelter: placement.shelter,
        stage: placement.stage,
        status: placement.status,
        notes,
        created_at: placement.created_at,
        updated_at: placement.updated_at,
        closed_at: placement.closed_at,
        milestones,
    })
}

/// A case's milestones, opened and in date order.
async fn read_milestones(vault: &Vault, key: &Key32, cid: &str) -> ServiceResult<Vec<Milestone>> {
    let mut milestones = Vec::new();
    for m in vault.store().milestones(cid).await? {
        let plain = crypto::open(key, &milestone_place(cid, &m.id, m.version), &m.sealed)?;
        milestones.push(Milestone {
            id: MilestoneId::parse(&m.id).ok_or(ServiceError::Integrity("milestone id"))?,
            version: m.version,
            draft: decode(&plain)?,
        });
    }
    milestones.sort_by(|a, b| a.draft.date.date().cmp(&b.draft.date.date()).then(a.id.cmp(&b.id)));
    Ok(milestones)
}

/// Update a case the actor read at `expected_version`. A stale version is a
/// conflict: nothing is written, and the caller shows both versions.
pub async fn update(
    vault: &Vault,
    actor: &Actor,
    case_id: CaseId,
    expected_version: i64,
    draft: CaseDraft,
) -> ServiceResult<i64> {
    let event = actor.event(Action::CaseUpdate).as_role(case_role(actor)).on(case_id);
    let prepared = async {
        let (key, access) = case_key(vault, actor, case_id).await?;
        let cid = case_id.to_string();
        let row = vault.store().case(&cid).await?.ok_or(ServiceError::NotFound)?;
        if row.version != expected_version {
            return Err(ServiceError::Conflict);
        }
        let (_, old, _) = open_case(&key, &row)?;
        let closing_or_reopening =
            draft.status != old.status && (draft.status.is_closed() || old.status.is_closed());
        if closing_or_reopening && !actor.has(Role::Coordinator) {
            return Err(FieldError {
                field: "status",
                message: "Only a coordinator closes or reopens a case.".into(),
            }
            .into());
        }
        check_shelter(vault, draft.shelter).await?;
        let version = expected_version + 1;
        let now = vault.clock.now();
        let closed_at = match (old.status.is_closed(), draft.status.is_closed()) {
            (_, false) => None,
            (false, true) => Some(now),
            (true, true) => old.closed_at.or(Some(now)),
        };
        let placement = Placement {
            shelter: draft.shelter,
            stage: draft.stage,
            status: draft.status,
            created_at: old.created_at,
            updated_at: now,
            closed_at,
        };
        let sealed = seal_case(&key, &cid, version, &draft.group, &placement, &draft.notes)?;
        let milestones = read_milestones(vault, &key, &cid).await?;
        let facts = milestones.iter().map(|m| m.draft.facts(m.id, &draft.group)).collect();
        let record = index_record(case_id, version, &draft.group, &placement, Vec::new(), facts);
        let after = Case {
            id: case_id,
            version,
            group: draft.group,
            shelter: placement.shelter,
            stage: placement.stage,
            status: placement.status,
            notes: draft.notes,
            created_at: placement.created_at,
            updated_at: placement.updated_at,
            closed_at: placement.closed_at,
            milestones,
        };
        let guard = stories::service::guard(vault, &key, &after).await?;
        let mut writes = vec![
            Write::UpdateCase { expected_version, row: sealed },
            index_write(vault, &access, &key, record).await?,
        ];
        writes.extend(guard.writes);
        Ok((writes, guard.withdrawn))
    }
    .await;
    commit_guarded(vault, actor, &event, prepared).await?;
    Ok(expected_version + 1)
}

/// Commit a case write that carries its stories' guard, then record one
/// entry per story it withdrew (each with a request id of its own: a
/// story entry never shares a request with a case entry).
async fn commit_guarded(
    vault: &Vault,
    actor: &Actor,
    event: &audit::Event,
    prepared: ServiceResult<(Vec<Write>, Vec<String>)>,
) -> ServiceResult<()> {
    match prepared {
        Ok((writes, withdrawn)) => {
            vault.commit(event, writes).await?;
            stories::service::record_withdrawals(vault, actor, case_role(actor), &withdrawn).await
        }
        Err(error) => vault.finish(event, Err(error)).await,
    }
}

/// Touch the case's update time in the index after a milestone change;
/// `milestones` are the case's milestones as they will be after it, and
/// `version` the case's version then.
async fn touch(
    vault: &Vault,
    access: &Access,
    key: &Key32,
    case: &Case,
    version: i64,
    milestones: Vec<MilestoneFacts>,
) -> ServiceResult<Write> {
    let record = index_record(case.id, version, &case.group, &touched(vault, case), Vec::new(), milestones);
    index_write(vault, access, key, record).await
}

/// The case's placement as it stands, updated now.
fn touched(vault: &Vault, case: &Case) -> Placement {
    Placement {
        shelter: case.shelter,
        stage: case.stage,
        status: case.status,
        created_at: case.created_at,
        updated_at: vault.clock.now(),
        closed_at: case.closed_at,
    }
}

/// The case row again at the next version, unchanged but for its update
/// time. A sponsorship milestone is checked against the case's other
/// milestones as read in its request; carrying the case's version check
/// makes a concurrent change of the same case (a second end of the same
/// enrolment, a second enrolment of the same child, an edit of the group)
/// a conflict instead of a second write that those checks never saw.
fn bump_version(vault: &Vault, key: &Key32, case: &Case) -> ServiceResult<Write> {
    let placement = touched(vault, case);
    let row = seal_case(key, &case.id.to_string(), case.version + 1, &case.group, &placement, &case.notes)?;
    Ok(Write::UpdateCase { expected_version: case.version, row })
}

pub async fn add_milestone(
    vault: &Vault,
    actor: &Actor,
    case_id: CaseId,
    draft: MilestoneDraft,
) -> ServiceResult<MilestoneId> {
    let id = MilestoneId::random();
    let event = actor.event(Action::MilestoneAdd).as_role(case_role(actor)).on(case_id);
    let prepared = async {
        let (key, access) = case_key(vault, actor, case_id).await?;
        let case = read_with_key(vault, &key, case_id).await?;
        sponsorship::check(&case, &draft, None)?;
        let (cid, mid) = (case_id.to_string(), id.to_string());
        let mut facts = case.milestone_facts();
        facts.push(draft.facts(id, &case.group));
        let bump = draft.kind.is_sponsorship();
        let version = if bump { case.version + 1 } else { case.version };
        let mut writes = vec![
            Write::InsertMilestone(MilestoneRow {
                id: mid.clone(),
                case_id: cid.clone(),
                version: 1,
                sealed: crypto::seal(&key, &milestone_place(&cid, &mid, 1), &encode(&draft)?),
            }),
            touch(vault, &access, &key, &case, version, facts).await?,
        ];
        if bump {
            writes.push(bump_version(vault, &key, &case)?);
        }
        let mut after = case;
        after.milestones.push(Milestone { id, version: 1, draft });
        let guard = stories::service::guard(vault, &key, &after).await?;
        writes.extend(guard.writes);
        Ok((writes, guard.withdrawn))
    }
    .await;
    commit_guarded(vault, actor, &event, prepared).await?;
    Ok(id)
}

pub async fn edit_milestone(
    vault: &Vault,
    actor: &Actor,
    case_id: CaseId,
    milestone_id: MilestoneId,
    expected_version: i64,
    draft: MilestoneDraft,
) -> ServiceResult<i64> {
    let event = actor.event(Action::MilestoneEdit).as_role(case_role(actor)).on(case_id);
    let prepared = async {
        let (key, access) = case_key(vault, actor, case_id).await?;
        let (cid, mid) = (case_id.to_string(), milestone_id.to_string());
        let row = vault
            .store()
            .milestone(&mid)
            .await?
            .filter(|m| m.case_id == cid)
            .ok_or(ServiceError::NotFound)?;
        if row.version != expected_version {
            return Err(ServiceError::Conflict);
        }
        let case = read_with_key(vault, &key, case_id).await?;
        let old = case.milestones.iter().find(|m| m.id == milestone_id).ok_or(ServiceError::NotFound)?;
        sponsorship::check(&case, &draft, Some(old))?;
        let bump = draft.kind.is_sponsorship() || old.draft.kind.is_sponsorship();
        let case_version = if bump { case.version + 1 } else { case.version };
        let version = expected_version + 1;
        let facts = case
            .milestones
            .iter()
            .map(|m| {
                if m.id == milestone_id {
                    draft.facts(m.id, &case.group)
                } else {
                    m.draft.facts(m.id, &case.group)
                }
            })
            .collect();
        let mut writes = vec![
            Write::UpdateMilestone {
                expected_version,
                row: MilestoneRow {
                    id: mid.clone(),
                    case_id: cid.clone(),
                    version,
                    sealed: crypto::seal(&key, &milestone_place(&cid, &mid, version), &encode(&draft)?),
                },
            },
            touch(vault, &access, &key, &case, case_version, facts).await?,
        ];
        if bump {
            writes.push(bump_version(vault, &key, &case)?);
        }
        let mut after = case;
        for m in after.milestones.iter_mut().filter(|m| m.id == milestone_id) {
            m.version = version;
            m.draft = draft.clone();
        }
        let guard = stories::service::guard(vault, &key, &after).await?;
        writes.extend(guard.writes);
        Ok((writes, guard.withdrawn))
    }
    .await;
    commit_guarded(vault, actor, &event, prepared).await?;
    Ok(expected_version + 1)
}

/// The cases the actor may see: every case for a coordinator (from the
/// index, after folding the inbox), the assigned ones for a caseworker,
/// newest update first. Recorded as one list entry.
pub async fn list_visible(vault: &Vault, actor: &Actor) -> ServiceResult<Vec<Arc<Summary>>> {
    Ok(dashboard(vault, actor).await?.1)
}

/// As `list_visible`, with what a coordinator's request folded for others.
///
/// A coordinator's lines come from the in-memory index (`index_cache`):
/// this request opens the index key with the coordinators key it proved,
/// and the copy is brought up to the index counter before it is read, so
/// the answer is as current as a scan of the table would be.
pub async fn dashboard(vault: &Vault, actor: &Actor) -> ServiceResult<(FoldReport, Vec<Arc<Summary>>)> {
    let event = actor.event(Action::CaseList).as_role(case_role(actor));
    if actor.has(Role::Coordinator) {
        let prepared = async {
            let coordinators = membership::coordinators_identity(vault, actor).await?;
            let (report, writes) = membership::prepare_fold(vault, &coordinators).await?;
            Ok((coordinators, report, writes))
        }
        .await;
        let (coordinators, report, writes) = match prepared {
            Ok(p) => p,
            Err(e) => return vault.finish(&event, Err(e)).await,
        };
        // The fold's writes and the list entry commit together, before any
        // case data is read for the answer.
        vault.commit(&event, writes).await?;
        let index_key = membership::shared_key_for_team(vault, &coordinators, SharedKey::Index).await?;
        let newest = vault.index_cache.read(vault, &index_key, actor.user_id()).await?;
        return Ok((report, newest.as_ref().clone()));
    }
    if !actor.has(Role::Caseworker) {
        return vault.finish(&event, Err(ServiceError::Forbidden("no case list for this role"))).await;
    }
    let result = async {
        let uid = actor.user_id().to_string();
        let mut out = Vec::new();
        for grant in vault.store().wraps_of_holder(HolderKind::User, &uid).await? {
            if grant.object_kind != ObjectKind::Case.as_str() || grant.key_no != actor.key_no() {
                continue;
            }
            let Some(id) = CaseId::parse(&grant.object_id) else { continue };
            let key = Key32::from_slice(&wrap::unwrap(actor.identity(), &grant.wrapped)?)?;
            let case = read_with_key(vault, &key, id).await?;
            out.push(Arc::new(Summary {
                id,
                version: case.version,
                aliases: case.group.persons().iter().map(|p| p.alias.as_str().to_owned()).collect(),
                stage: case.stage,
                status: case.status,
                shelter: case.shelter,
                assignees: vec![actor.user_id()],
                created_at: case.created_at,
                updated_at: case.updated_at,
                persons: case
                    .group
                    .persons()
                    .iter()
                    .map(|p| PersonFacts { age_band: p.age_band, gender: p.gender })
                    .collect(),
                milestones: case.milestone_facts(),
                closed_at: case.closed_at,
            }));
        }
        out.sort_by(|a, b| b.updated_at.cmp(&a.updated_at).then_with(|| a.id.cmp(&b.id)));
        Ok((FoldReport::default(), out))
    }
    .await;
    vault.finish(&event, result).await
}

/// The shelter a case's placement names, opened with the case key (`None`
/// if it names none or the case is gone): for the aid log, which lets a
/// caseworker record aid only for a shelter of one of their cases.
/// Unaudited: the aid log's own entry records the request.
pub(crate) async fn shelter_of(
    vault: &Vault,
    key: &Key32,
    case_id: CaseId,
) -> ServiceResult<Option<ShelterId>> {
    let cid = case_id.to_string();
    let Some(row) = vault.store().case(&cid).await? else { return Ok(None) };
    let plain = crypto::open(key, &case_place(&cid, FIELD_PLACEMENT, row.version), &row.sealed_placement)?;
    Ok(decode::<Placement>(&plain)?.shelter)
}

/// A case the caseworker holds (their own grant to their current key, as
/// their dashboard reads them) whose shelter is `shelter`, with its key;
/// `None` if they hold none there. Unaudited, as [`shelter_of`].
pub(crate) async fn own_case_at(
    vault: &Vault,
    actor: &Actor,
    shelter: ShelterId,
) -> ServiceResult<Option<(CaseId, Key32)>> {
    let uid = actor.user_id().to_string();
    for grant in vault.store().wraps_of_holder(HolderKind::User, &uid).await? {
        if grant.object_kind != ObjectKind::Case.as_str() || grant.key_no != actor.key_no() {
            continue;
        }
        let Some(id) = CaseId::parse(&grant.object_id) else { continue };
        let key = Key32::from_slice(&wrap::unwrap(actor.identity(), &grant.wrapped)?)?;
        if shelter_of(vault, &key, id).await? == Some(shelter) {
            return Ok(Some((id, key)));
        }
    }
    Ok(None)
}

/// A case's index record with the given assignees, sealed by a coordinator
/// (after an assignment changed).
pub async fn index_write_for_team(
    vault: &Vault,
    coordinators: &Identity,
    case_key: &Key32,
    case_id: CaseId,
    assignees: Vec<crate::ids::UserId>,
) -> ServiceResult<Write> {
    let case = read_with_key(vault, case_key, case_id).await?;
    let index_key = membership::shared_key_for_team(vault, coordinators, SharedKey::Index).await?;
    // A milestone change moves the index's update time but not the case's
    // placement: an assignment must not set it back.
    let indexed = match vault.store().index_row(&case_id.to_string()).await? {
        Some(row) => Some(index::open(&index_key, &row)?.updated_at),
        None => None,
    };
    let placement = Placement {
        shelter: case.shelter,
        stage: case.stage,
        status: case.status,
        created_at: case.created_at,
        updated_at: indexed.map_or(case.updated_at, |at| at.max(case.updated_at)),
        closed_at: case.closed_at,
    };
    let facts = case.milestone_facts();
    index::seal(&index_key, &index_record(case_id, case.version, &case.group, &placement, assignees, facts))
}

/// A case and the key that opens it, through the coordinators key this
/// request proved, unaudited: for the purge (`purge::service`), whose own
/// entry (`case.purge`, `case.purge_request`) records the request.
pub(crate) async fn read_for_team(
    vault: &Vault,
    coordinators: &Identity,
    case_id: CaseId,
) -> ServiceResult<(Case, Key32)> {
    let key = membership::case_key_for_team(vault, coordinators, &case_id.to_string()).await?;
    Ok((read_with_key(vault, &key, case_id).await?, key))
}
