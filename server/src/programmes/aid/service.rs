//! The rules of the aid log: a coordinator records and corrects entries
//! and adds kinds of aid, all sealed under the register details key; a
//! caseworker records aid for a shelter of one of their cases, through an
//! inbox sealed to the coordinators and authenticated by that case's key,
//! which the next coordinator request folds in. Every call is audited once,
//! on the shelter (or, for a kind, on the kind's own id).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::model::{self, AidEntry, AidKind, CustomKind, EntryDraft, KindDraft, Month};
use crate::accounts::model::{Actor, Role};
use crate::accounts::service as accounts;
use crate::audit::{Action, Event};
use crate::cases::model::{FieldError, ShelterCode};
use crate::crypto::{self, Identity, Key32, Label, wrap};
use crate::error::{ServiceError, ServiceResult};
use crate::ids::{AidEntryId, AidKindId, CaseId, ShelterId, UserId};
use crate::keyring::Team;
use crate::membership::{self, SharedKey};
use crate::storage::{AidEntryRow, SealedRow, SealedTable, Write};
use crate::vault::Vault;

/// Every stored entry (superseded ones included: `model::current` picks
/// those that count) and every added kind, opened with the coordinators
/// team's register details key. Unaudited: the caller's request records
/// what it reads.
pub async fn all_for_team(
    vault: &Vault,
    coordinators: &Identity,
) -> ServiceResult<(Vec<AidEntry>, Vec<CustomKind>)> {
    let key = membership::shared_key_for_team(vault, coordinators, SharedKey::RegisterDetails).await?;
    let entries = vault
        .store()
        .aid_entries()
        .await?
        .iter()
        .map(|row| model::open_entry(&key, row))
        .collect::<ServiceResult<Vec<_>>>()?;
    let kinds = open_kinds(vault, &key).await?;
    Ok((entries, kinds))
}

async fn open_kinds(vault: &Vault, details_key: &Key32) -> ServiceResult<Vec<CustomKind>> {
    let mut kinds = vault
        .store()
        .aid_kinds()
        .await?
        .iter()
        .map(|row| model::open_kind(details_key, row))
        .collect::<ServiceResult<Vec<_>>>()?;
    kinds.sort_by_key(|k| k.name.to_lowercase());
    Ok(kinds)
}

/// How the actor reaches the aid log.
enum Standing {
    /// A coordinators-team member: reads and writes the log itself.
    Team(Identity),
    /// A caseworker: records through the inbox, reads nothing back.
    Caseworker,
}

impl Standing {
    fn role(&self) -> Role {
        match self {
            Standing::Team(_) => Role::Coordinator,
            Standing::Caseworker => Role::Caseworker,
        }
    }
}

/// The team's key when the actor holds it; else the caseworker's way in. A
/// user with both roles who is not (yet) admitted to the team works as a
/// caseworker.
async fn standing(vault: &Vault, actor: &Actor) -> ServiceResult<Standing> {
    if actor.has(Role::Coordinator) {
        match membership::coordinators_identity(vault, actor).await {
            Ok(identity) => return Ok(Standing::Team(identity)),
            Err(ServiceError::Forbidden(_)) if actor.has(Role::Caseworker) => {}
            Err(e) => return Err(e),
        }
    }
    if actor.has(Role::Caseworker) {
        return Ok(Standing::Caseworker);
    }
    Err(ServiceError::Forbidden("the aid log is for coordinators and caseworkers"))
}

/// Only coordinators-team members read the log, correct and add kinds.
async fn team(vault: &Vault, actor: &Actor) -> ServiceResult<Identity> {
    if !actor.has(Role::Coordinator) {
        return Err(ServiceError::Forbidden("only coordinators read and correct the aid log"));
    }
    membership::coordinators_identity(vault, actor).await
}

/// The latest month an entry may be for: one that has begun somewhere
/// (UTC+14, the zone furthest ahead), so a user whose zone is ahead of UTC
/// records the new month from its first hour. The form checks the user's
/// own month first.
fn this_month(vault: &Vault) -> Month {
    let furthest = time::UtcOffset::from_hms(14, 0, 0).unwrap_or(time::UtcOffset::UTC);
    Month::of(vault.clock.now().to_offset(furthest).date())
}

fn check_month(vault: &Vault, month: Month) -> ServiceResult<()> {
    if month > this_month(vault) {
        return Err(FieldError::new(
            "month",
            "This month has not begun yet: record aid for this month or an earlier one.",
        )
        .into());
    }
    Ok(())
}

fn check_kind(kind: AidKind, kinds: &[CustomKind]) -> ServiceResult<()> {
    match kind {
        AidKind::Custom(id) if !kinds.iter().any(|k| k.id == id) => {
            Err(FieldError::new("kind", "Choose one of the listed kinds of aid.").into())
        }
        _ => Ok(()),
    }
}

/// The shelter's code name, or `NotFound` for a shelter that is not in the
/// register. Read with the same key as the rest of the request; covered by
/// the request's own entry.
async fn code_of(vault: &Vault, actor: &Actor, shelter: ShelterId) -> ServiceResult<ShelterCode> {
    crate::shelters::code_for_case_page(vault, actor, shelter).await?.ok_or(ServiceError::NotFound)
}

/// Who recorded an entry, as the log names them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recorder {
    pub username: String,
    /// The role the entry was recorded in, as far as the account shows it.
    pub role: Option<Role>,
}

/// A shelter's aid log, as a coordinator reads it.
#[derive(Debug, Clone)]
pub struct Log {
    pub shelter: ShelterId,
    pub code: ShelterCode,
    /// This shelter's entries, superseded ones included.
    pub entries: Vec<AidEntry>,
    /// Every kind a coordinator added.
    pub kinds: Vec<CustomKind>,
    /// The accounts that recorded the entries (gone accounts are absent).
    pub recorders: BTreeMap<UserId, Recorder>,
    /// Caseworker entries (for any shelter) this request folded in, and
    /// those it refused.
    pub folded: usize,
    pub refused: usize,
}

impl Log {
    /// The entry with this id, if it is this shelter's.
    pub fn entry(&self, id: AidEntryId) -> Option<&AidEntry> {
        self.entries.iter().find(|e| e.id == id)
    }

    /// The entry that corrects `id`, if any.
    pub fn correction_of(&self, id: AidEntryId) -> Option<&AidEntry> {
        self.entries.iter().find(|e| e.supersedes == Some(id))
    }

    /// The entry that counts in place of `id`: itself, or the last of its corrections.
    pub fn latest(&self, id: AidEntryId) -> Option<&AidEntry> {
        let mut at = self.entry(id)?;
        // Bounded: each step moves to a distinct entry (supersedes is unique).
        for _ in 0..self.entries.len() {
            match self.correction_of(at.id) {
                Some(next) => at = next,
                None => break,
            }
        }
        Some(at)
    }
}

/// What a shelter's aid page shows the actor.
#[derive(Debug, Clone)]
pub enum AidPage {
    /// A coordinator: the log, after folding the inbox.
    Log(Box<Log>),
    /// A caseworker for a shelter of one of their cases: the form only
    /// (the log is sealed to the coordinators).
    Form { code: ShelterCode },
}

async fn recorders(vault: &Vault, entries: &[AidEntry]) -> ServiceResult<BTreeMap<UserId, Recorder>> {
    let mut out = BTreeMap::new();
    for entry in entries {
        if out.contains_key(&entry.recorded_by) {
            continue;
        }
        match accounts::entry(vault, entry.recorded_by).await {
            Ok(account) => {
                let roles = &account.profile.roles;
                let role = [Role::Coordinator, Role::Caseworker].into_iter().find(|r| roles.contains(r));
                out.insert(
                    entry.recorded_by,
                    Recorder { username: account.profile.username.as_str().to_owned(), role },
                );
            }
            Err(ServiceError::NotFound) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(out)
}

/// Fold the inbox, then read one shelter's log: the fold's writes commit
/// with this request's `aid.read` entry, before the log is read, so a
/// caseworker's entry shows in the very page that folded it.
/// With `want`, the log is for correcting that entry, which must be this
/// shelter's (else `NotFound`, recorded as such).
async fn read_log(
    vault: &Vault,
    actor: &Actor,
    event: &Event,
    shelter: ShelterId,
    want: Option<AidEntryId>,
) -> ServiceResult<Log> {
    let prepared = async {
        let coordinators = team(vault, actor).await?;
        let code = code_of(vault, actor, shelter).await?;
        if let Some(id) = want {
            // Entries that can be corrected were shown, so already folded.
            let (entries, _) = all_for_team(vault, &coordinators).await?;
            if !entries.iter().any(|e| e.id == id && e.shelter == shelter) {
                return Err(ServiceError::NotFound);
            }
        }
        let (report, writes) = membership::prepare_fold(vault, &coordinators).await?;
        Ok((coordinators, code, report, writes))
    }
    .await;
    let (coordinators, code, report, writes) = match prepared {
        Ok(p) => p,
        Err(e) => return vault.finish(event, Err(e)).await,
    };
    vault.commit(event, writes).await?;
    let (mut entries, kinds) = all_for_team(vault, &coordinators).await?;
    entries.retain(|e| e.shelter == shelter);
    let recorders = recorders(vault, &entries).await?;
    Ok(Log {
        shelter,
        code,
        entries,
        kinds,
        recorders,
        folded: report.aid_applied,
        refused: report.aid_refused,
    })
}

/// A shelter's aid page: the log for a coordinator (recorded as `aid.read`
/// on the shelter), the form for a caseworker who holds a case there
/// (recorded as `shelter.list` on the shelter: they read its code name
/// only). Anyone else, and any shelter not in the register, `NotFound`.
pub async fn page(vault: &Vault, actor: &Actor, shelter: ShelterId) -> ServiceResult<AidPage> {
    let probe = actor.event(Action::AidRead).on(shelter);
    let standing = match standing(vault, actor).await {
        Ok(s) => s,
        Err(e) => return vault.finish(&probe, Err(e)).await,
    };
    match standing {
        Standing::Team(_) => {
            let event = probe.as_role(Role::Coordinator);
            Ok(AidPage::Log(Box::new(read_log(vault, actor, &event, shelter, None).await?)))
        }
        Standing::Caseworker => {
            let event = actor.event(Action::ShelterList).as_role(Role::Caseworker).on(shelter);
            let result = async {
                caseworker_case(vault, actor, shelter).await?;
                Ok(AidPage::Form { code: code_of(vault, actor, shelter).await? })
            }
            .await;
            vault.finish(&event, result).await
        }
    }
}

/// One shelter's log with the entry a coordinator is about to correct:
/// recorded as `aid.read` on the shelter; an entry that is not this
/// shelter's is `NotFound`.
pub async fn for_correction(
    vault: &Vault,
    actor: &Actor,
    shelter: ShelterId,
    entry: AidEntryId,
) -> ServiceResult<Log> {
    let event = actor.event(Action::AidRead).as_role(Role::Coordinator).on(shelter);
    read_log(vault, actor, &event, shelter, Some(entry)).await
}

/// The case that entitles a caseworker to record aid for `shelter`: one
/// they hold with their certified key whose placement names it. Anything
/// else is `NotFound`, as for a shelter that does not exist.
async fn caseworker_case(vault: &Vault, actor: &Actor, shelter: ShelterId) -> ServiceResult<(CaseId, Key32)> {
    if !membership::is_self_certified(vault, actor).await? {
        return Err(ServiceError::Uncertified);
    }
    crate::cases::service::own_case_at(vault, actor, shelter).await?.ok_or(ServiceError::NotFound)
}

/// Where a recorded entry went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recorded {
    /// Into the log (a coordinator).
    Logged(AidEntryId),
    /// Into the inbox, for the coordinators' next request (a caseworker).
    SentToCoordinators(AidEntryId),
}

fn new_entry(vault: &Vault, actor: &Actor, shelter: ShelterId, draft: EntryDraft) -> AidEntry {
    AidEntry {
        id: AidEntryId::random(),
        shelter,
        month: draft.month,
        kind: draft.kind,
        quantity: draft.quantity,
        currency: draft.currency,
        people_served: draft.people_served,
        note: draft.note,
        supersedes: None,
        recorded_by: actor.user_id(),
        recorded_at: vault.clock.now(),
    }
}

/// Record a distribution at `shelter`, recorded as `aid.record` on the
/// shelter in the role used: a coordinator's entry is sealed into the log;
/// a caseworker's goes to the inbox, and only for a shelter of one of their
/// cases (else `NotFound`), and only of the listed kinds (they cannot read
/// the kinds coordinators added, which are sealed like the log).
pub async fn record(
    vault: &Vault,
    actor: &Actor,
    shelter: ShelterId,
    draft: EntryDraft,
) -> ServiceResult<Recorded> {
    let event = actor.event(Action::AidRecord).on(shelter);
    let standing = match standing(vault, actor).await {
        Ok(s) => s,
        Err(e) => return vault.finish(&event, Err(e)).await,
    };
    let event = event.as_role(standing.role());
    let entry = new_entry(vault, actor, shelter, draft);
    let id = entry.id;
    let prepared = async {
        check_month(vault, entry.month)?;
        match &standing {
            Standing::Team(coordinators) => {
                if vault.store().shelter(&shelter.to_string()).await?.is_none() {
                    return Err(ServiceError::NotFound);
                }
                let key =
                    membership::shared_key_for_team(vault, coordinators, SharedKey::RegisterDetails).await?;
                if matches!(entry.kind, AidKind::Custom(_)) {
                    check_kind(entry.kind, &open_kinds(vault, &key).await?)?;
                }
                Ok(vec![Write::InsertAidEntry(model::seal_entry(&key, &entry)?)])
            }
            Standing::Caseworker => {
                let (case_id, case_key) = caseworker_case(vault, actor, shelter).await?;
                if matches!(entry.kind, AidKind::Custom(_)) {
                    return Err(FieldError::new("kind", "Choose one of the listed kinds of aid.").into());
                }
                Ok(vec![inbox_write(vault, &case_key, case_id, &entry).await?])
            }
        }
    }
    .await;
    vault.write(&event, prepared).await?;
    Ok(match standing {
        Standing::Team(_) => Recorded::Logged(id),
        Standing::Caseworker => Recorded::SentToCoordinators(id),
    })
}

/// Correct an entry of `shelter`: a new entry that supersedes it, recorded
/// as `aid.correct` on the shelter. Only an entry no correction replaced
/// yet can be corrected: otherwise `Conflict`, also when another
/// coordinator's correction commits first (the database refuses a second
/// entry superseding the same one).
pub async fn correct(
    vault: &Vault,
    actor: &Actor,
    shelter: ShelterId,
    corrected: AidEntryId,
    draft: EntryDraft,
) -> ServiceResult<AidEntryId> {
    let event = actor.event(Action::AidCorrect).as_role(Role::Coordinator).on(shelter);
    let mut entry = new_entry(vault, actor, shelter, draft);
    entry.supersedes = Some(corrected);
    let id = entry.id;
    let prepared = async {
        let coordinators = team(vault, actor).await?;
        check_month(vault, entry.month)?;
        let (entries, kinds) = all_for_team(vault, &coordinators).await?;
        if !entries.iter().any(|e| e.id == corrected && e.shelter == shelter) {
            return Err(ServiceError::NotFound);
        }
        if entries.iter().any(|e| e.supersedes == Some(corrected)) {
            return Err(ServiceError::Conflict);
        }
        check_kind(entry.kind, &kinds)?;
        let key = membership::shared_key_for_team(vault, &coordinators, SharedKey::RegisterDetails).await?;
        Ok(vec![Write::InsertAidEntry(model::seal_entry(&key, &entry)?)])
    }
    .await;
    vault.write(&event, prepared).await?;
    Ok(id)
}

/// Kinds added on this node one at a time, so two coordinators adding the
/// same name at once do not both pass the uniqueness check. (Across nodes
/// two such adds could both land; a duplicate name is harmless to the
/// entries, which name their kind by id.)
static ADDING_KIND: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// Add a kind of aid (a name unique whatever its letter case, and a unit),
/// sealed like the log, recorded as `aid.kind_add` on the kind's new id.
pub async fn add_kind(vault: &Vault, actor: &Actor, draft: KindDraft) -> ServiceResult<AidKindId> {
    let _one_at_a_time = ADDING_KIND.lock().await;
    let id = AidKindId::random();
    let event = actor.event(Action::AidKindAdd).as_role(Role::Coordinator).on(id);
    let prepared = async {
        let coordinators = team(vault, actor).await?;
        let key = membership::shared_key_for_team(vault, &coordinators, SharedKey::RegisterDetails).await?;
        if open_kinds(vault, &key).await?.iter().any(|k| draft.same_name(&k.name)) {
            return Err(
                FieldError::new("name", "A kind of aid with this name is already in the list.").into()
            );
        }
        let kind = CustomKind { id, name: draft.name, unit: draft.unit };
        Ok(vec![Write::InsertAidKind(model::seal_kind(&key, &kind)?)])
    }
    .await;
    vault.write(&event, prepared).await?;
    Ok(id)
}

/// A caseworker's entry inside its age envelope: the case that entitles it,
/// the entry as JSON, and a MAC over both under a key derived from that
/// case's key (age alone proves nothing about the sender).
#[derive(Serialize, Deserialize)]
struct InboxEnvelope {
    case_id: String,
    entry: String,
    mac: String,
}

fn inbox_mac_key(case_key: &Key32, case_id: &str) -> Key32 {
    case_key.derive(Label::AidInboxMac, case_id.as_bytes())
}

/// The inbox row for a caseworker's entry: under the entry's own id, so
/// that two folds of it write one entry.
async fn inbox_write(
    vault: &Vault,
    case_key: &Key32,
    case_id: CaseId,
    entry: &AidEntry,
) -> ServiceResult<Write> {
    let json = zeroize::Zeroizing::new(
        serde_json::to_string(entry).map_err(|_| ServiceError::Internal("aid entry encoding"))?,
    );
    let recipient = vault.keyring.team_recipient(vault.store(), Team::Coordinators).await?;
    let sealed = sealed_envelope(&recipient, case_key, case_id.to_string(), json)?;
    Ok(Write::InsertAidInbox(SealedRow { id: entry.id.to_string(), sealed }))
}

/// The envelope of an entry (as JSON) with its MAC under the case key,
/// encrypted to the coordinators recipient.
fn sealed_envelope(
    recipient: &crypto::Recipient,
    case_key: &Key32,
    case_id: String,
    json: zeroize::Zeroizing<String>,
) -> ServiceResult<Vec<u8>> {
    let mac = crypto::mac(&inbox_mac_key(case_key, &case_id), &[case_id.as_bytes(), json.as_bytes()]);
    let envelope = InboxEnvelope { case_id, entry: json.to_string(), mac: crate::keyring::to_base64(&mac) };
    let plain = zeroize::Zeroizing::new(
        serde_json::to_vec(&envelope).map_err(|_| ServiceError::Internal("aid inbox encoding"))?,
    );
    drop(envelope);
    Ok(wrap::wrap(recipient, &plain)?)
}

/// An aid entry and an added kind sealed again under a new register
/// details key (a register key rotation), at the same places.
pub(crate) fn reseal_entry(old: &Key32, new: &Key32, row: &AidEntryRow) -> ServiceResult<Write> {
    let sealed = model::seal_entry(new, &model::open_entry(old, row)?)?.sealed;
    Ok(Write::Reseal { table: SealedTable::AidEntries, id: row.id.clone(), sealed })
}

pub(crate) fn reseal_kind(old: &Key32, new: &Key32, row: &SealedRow) -> ServiceResult<Write> {
    let sealed = model::seal_kind(new, &model::open_kind(old, row)?)?.sealed;
    Ok(Write::Reseal { table: SealedTable::AidKinds, id: row.id.clone(), sealed })
}

/// A caseworker's pending entry authenticated again under its case's new
/// key (a case key rotation), to the coordinators recipient pinned now.
/// `keys` gives a case's old and new key. `None` for an entry whose
/// envelope does not open, whose case is not rotated or whose MAC does not
/// check under the old key: a forged entry is dropped, never laundered.
/// (The fold still checks the rest: kind, month, shelter.)
pub(crate) fn rekey_inbox_entry<'k>(
    coordinators: &Identity,
    recipient: &crypto::Recipient,
    keys: impl Fn(&str) -> Option<(&'k Key32, &'k Key32)>,
    row: &SealedRow,
) -> ServiceResult<Option<Vec<u8>>> {
    let Ok(plain) = wrap::unwrap(coordinators, &row.sealed) else { return Ok(None) };
    let Ok(envelope) = serde_json::from_slice::<InboxEnvelope>(&plain) else { return Ok(None) };
    let Some((old, new)) = keys(&envelope.case_id) else { return Ok(None) };
    let mac = crate::keyring::from_base64(&envelope.mac).unwrap_or_default();
    let parts: [&[u8]; 2] = [envelope.case_id.as_bytes(), envelope.entry.as_bytes()];
    if !crypto::mac_verify(&inbox_mac_key(old, &envelope.case_id), &parts, &mac) {
        return Ok(None);
    }
    Ok(Some(sealed_envelope(recipient, new, envelope.case_id, zeroize::Zeroizing::new(envelope.entry))?))
}

/// Why an inbox entry was refused (for the log line, which carries no value).
#[derive(Debug, Clone, Copy)]
enum Refusal {
    Envelope,
    Case,
    Mac,
    Entry,
    Shelter,
}

impl Refusal {
    fn as_str(self) -> &'static str {
        match self {
            Refusal::Envelope => "it does not open with the coordinators key",
            Refusal::Case => "its case is not one the coordinators hold",
            Refusal::Mac => "it carries no valid case-key MAC",
            Refusal::Entry => "its entry is not a caseworker's entry under its own id",
            Refusal::Shelter => "its case is not at the entry's shelter",
        }
    }
}

/// Check one inbox row: it opens with the coordinators key, names a case
/// the coordinators hold, carries a MAC under that case's key, holds an
/// entry under the row's own id that corrects nothing, of a listed kind,
/// for a month that has begun, at the shelter that case is at now.
async fn check_inbox_row(
    vault: &Vault,
    coordinators: &Identity,
    row: &SealedRow,
) -> ServiceResult<Result<AidEntry, Refusal>> {
    let Ok(plain) = wrap::unwrap(coordinators, &row.sealed) else { return Ok(Err(Refusal::Envelope)) };
    let Ok(envelope) = serde_json::from_slice::<InboxEnvelope>(&plain) else {
        return Ok(Err(Refusal::Envelope));
    };
    let Some(case_id) = CaseId::parse(&envelope.case_id) else { return Ok(Err(Refusal::Case)) };
    let case_key = match membership::case_key_for_team(vault, coordinators, &envelope.case_id).await {
        Ok(key) => key,
        // A database that does not answer refuses nothing: the entry waits.
        Err(ServiceError::Store(e)) => return Err(ServiceError::Store(e)),
        Err(_) => return Ok(Err(Refusal::Case)),
    };
    let mac = crate::keyring::from_base64(&envelope.mac).unwrap_or_default();
    let parts: [&[u8]; 2] = [envelope.case_id.as_bytes(), envelope.entry.as_bytes()];
    if !crypto::mac_verify(&inbox_mac_key(&case_key, &envelope.case_id), &parts, &mac) {
        return Ok(Err(Refusal::Mac));
    }
    let Ok(entry) = serde_json::from_str::<AidEntry>(&envelope.entry) else { return Ok(Err(Refusal::Entry)) };
    let own_id = entry.id.to_string() == row.id;
    if !own_id || entry.supersedes.is_some() || matches!(entry.kind, AidKind::Custom(_)) {
        return Ok(Err(Refusal::Entry));
    }
    if entry.month > this_month(vault) {
        return Ok(Err(Refusal::Entry));
    }
    let at = match crate::cases::service::shelter_of(vault, &case_key, case_id).await {
        Ok(at) => at,
        Err(ServiceError::Store(e)) => return Err(ServiceError::Store(e)),
        Err(_) => None,
    };
    if at != Some(entry.shelter) {
        return Ok(Err(Refusal::Shelter));
    }
    Ok(Ok(entry))
}

/// Fold the aid inbox: check each caseworker entry (see `check_inbox_row`),
/// write it sealed under the register details key, delete it from the
/// inbox. A refused entry is deleted and counted, never written. Two folds
/// at once write each entry once: its id is the row's, and a repeated id is
/// ignored. Returns (applied, refused, the writes that do it).
pub async fn fold_inbox(vault: &Vault, coordinators: &Identity) -> ServiceResult<(usize, usize, Vec<Write>)> {
    let inbox = vault.store().aid_inbox().await?;
    if inbox.is_empty() {
        return Ok((0, 0, Vec::new()));
    }
    let key = membership::shared_key_for_team(vault, coordinators, SharedKey::RegisterDetails).await?;
    let (mut applied, mut refused) = (0, 0);
    let mut writes = Vec::new();
    for row in inbox {
        match check_inbox_row(vault, coordinators, &row).await? {
            Ok(entry) => {
                writes.push(Write::InsertAidEntry(model::seal_entry(&key, &entry)?));
                applied += 1;
            }
            Err(why) => {
                tracing::warn!(target: "safehouse::aid", reason = why.as_str(), "refused an aid inbox entry");
                refused += 1;
            }
        }
        writes.push(Write::DeleteAidInbox { id: row.id });
    }
    Ok((applied, refused, writes))
}
