//! The index: one small record per case (stage, status, shelter, assignees,
//! times, aliases) sealed under the index key, so a coordinator's dashboard
//! over every case costs one unwrap, not one per case.
//!
//! Caseworkers hold no index key. Their changes go to an inbox: an entry
//! age-encrypted to the pinned coordinators recipient, carrying a MAC under
//! a key derived from that case's key. age alone proves nothing about the
//! sender (anyone can encrypt to a public key); the MAC proves the writer
//! held the case key. The next coordinator request checks and folds it.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::model::{
    AgeBand, CountryCode, EventDate, Gender, Group, LeaveReason, MilestoneKind, SponsorshipStep, Stage,
    Status,
};
use crate::crypto::{self, Aad, Identity, Key32, Label, Recipient, RecordKind, wrap};
use crate::error::{ServiceError, ServiceResult};
use crate::ids::{CaseId, MilestoneId, ShelterId, UserId};
use crate::keyring::Team;
use crate::membership::{self, SharedKey};
use crate::storage::{HolderKind, InboxRow, IndexRow, ObjectKind, Write};
use crate::vault::Vault;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IndexRecord {
    pub case_id: CaseId,
    pub version: i64,
    pub stage: Stage,
    pub status: Status,
    pub shelter: Option<ShelterId>,
    pub aliases: Vec<String>,
    /// Users holding a grant to the case; set only by coordinators, never
    /// taken from the inbox.
    pub assignees: Vec<UserId>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
    /// Coarse facts of each person (never the alias): what the dashboard
    /// counts. The group size is their number.
    #[serde(default)]
    pub persons: Vec<PersonFacts>,
    /// Each milestone's kind and date (never its note, and a place only
    /// for an arrival): the dashboard's "this week", the arrival period
    /// and destination that stories and figures count.
    #[serde(default)]
    pub milestones: Vec<MilestoneFacts>,
    /// When the case was last closed (none while open or on hold): the
    /// period public figures count a resettlement in.
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub closed_at: Option<OffsetDateTime>,
}

/// What the index keeps of a person: an age band and a gender, nothing else.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PersonFacts {
    pub age_band: AgeBand,
    pub gender: Option<Gender>,
}

/// What the index keeps of a milestone: its kind and date, and for an
/// arrival the destination country. Never a transit country: the country of
/// any other kind of milestone is dropped here.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct MilestoneFacts {
    pub kind: MilestoneKind,
    pub date: EventDate,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country: Option<CountryCode>,
    /// For the sponsorship kinds: the enrolment, the child and the reason.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sponsorship: Option<SponsorshipFacts>,
}

impl MilestoneFacts {
    /// The facts of a milestone: its country is kept only for an arrival.
    pub fn of(kind: MilestoneKind, date: EventDate, country: Option<CountryCode>) -> Self {
        let country = if kind == MilestoneKind::Arrived { country } else { None };
        MilestoneFacts { kind, date, country, sponsorship: None }
    }

    /// The same facts with a sponsorship milestone's own.
    pub fn with_sponsorship(self, sponsorship: SponsorshipFacts) -> Self {
        MilestoneFacts { sponsorship: Some(sponsorship), ..self }
    }
}

/// What the index keeps of a sponsorship milestone: which enrolment (the id
/// of its "joined" milestone), which child (their place in the group, for
/// the coordinator's dashboard; none once that alias is no longer in the
/// group) and, on leaving, the reason. Never the school level nor the sponsor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SponsorshipFacts {
    pub enrolment: MilestoneId,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub child: Option<u8>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<LeaveReason>,
}

impl SponsorshipFacts {
    /// The facts of milestone `id`'s step; a child is placed by the alias
    /// the "joined" step names (later steps name only the enrolment).
    pub fn of(id: MilestoneId, step: &SponsorshipStep, group: &Group) -> Self {
        let place = |alias: &super::model::Alias| {
            group.persons().iter().position(|p| &p.alias == alias).and_then(|i| u8::try_from(i).ok())
        };
        match step {
            SponsorshipStep::Joined { child, .. } => {
                SponsorshipFacts { enrolment: id, child: place(child), reason: None }
            }
            SponsorshipStep::Left { enrolment, reason } => {
                SponsorshipFacts { enrolment: *enrolment, child: None, reason: Some(*reason) }
            }
            SponsorshipStep::Graduated { enrolment } => {
                SponsorshipFacts { enrolment: *enrolment, child: None, reason: None }
            }
        }
    }
}

/// The milestone facts' questions that the index record, a case line and a
/// whole case all answer the same way.
pub fn arrived(milestones: &[MilestoneFacts]) -> Option<EventDate> {
    milestones.iter().filter(|m| m.kind == MilestoneKind::Arrived).map(|m| m.date).min()
}

/// The destination: the country of the latest arrival that names one.
pub fn destination(milestones: &[MilestoneFacts]) -> Option<CountryCode> {
    milestones
        .iter()
        .filter(|m| m.kind == MilestoneKind::Arrived && m.country.is_some())
        .max_by_key(|m| m.date)
        .and_then(|m| m.country)
}

impl IndexRecord {
    /// When the group arrived: the earliest "arrived" milestone, if any.
    pub fn arrived(&self) -> Option<EventDate> {
        arrived(&self.milestones)
    }

    pub fn destination(&self) -> Option<CountryCode> {
        destination(&self.milestones)
    }
}

fn place(case_id: &str) -> Aad<'_> {
    Aad { kind: RecordKind::Index, owner: case_id, record: "", field: "index", version: 1 }
}

pub fn seal(index_key: &Key32, record: &IndexRecord) -> ServiceResult<Write> {
    let case_id = record.case_id.to_string();
    let json = zeroize::Zeroizing::new(
        serde_json::to_vec(record).map_err(|_| ServiceError::Internal("index encoding"))?,
    );
    Ok(Write::PutIndex(IndexRow {
        sealed: crypto::seal(index_key, &place(&case_id), &json),
        case_id,
        revision: 0,
    }))
}

pub fn open(index_key: &Key32, row: &IndexRow) -> ServiceResult<IndexRecord> {
    let json = crypto::open(index_key, &place(&row.case_id), &row.sealed)?;
    let record: IndexRecord =
        serde_json::from_slice(&json).map_err(|_| ServiceError::Integrity("index record"))?;
    if record.case_id.to_string() != row.case_id {
        return Err(ServiceError::Integrity("index record moved"));
    }
    Ok(record)
}

/// An inbox entry, inside its age envelope.
#[derive(Serialize, Deserialize)]
struct InboxEntry {
    case_id: String,
    record: String,
    mac: String,
}

fn inbox_mac_key(case_key: &Key32, case_id: &str) -> Key32 {
    case_key.derive(Label::InboxMac, case_id.as_bytes())
}

/// An inbox entry's envelope: the record as JSON with its MAC under the
/// case key, encrypted to the coordinators recipient.
fn envelope(
    recipient: &Recipient,
    case_key: &Key32,
    case_id: String,
    json: String,
) -> ServiceResult<Vec<u8>> {
    let mac = crypto::mac(&inbox_mac_key(case_key, &case_id), &[case_id.as_bytes(), json.as_bytes()]);
    let entry = InboxEntry { case_id, record: json, mac: crate::keyring::to_base64(&mac) };
    let plain = zeroize::Zeroizing::new(
        serde_json::to_vec(&entry).map_err(|_| ServiceError::Internal("inbox encoding"))?,
    );
    Ok(wrap::wrap(recipient, &plain)?)
}

/// An inbox entry for a case whose key the writer holds.
pub async fn inbox_write(vault: &Vault, case_key: &Key32, record: &IndexRecord) -> ServiceResult<Write> {
    let case_id = record.case_id.to_string();
    let json = serde_json::to_string(record).map_err(|_| ServiceError::Internal("index encoding"))?;
    let recipient = vault.keyring.team_recipient(vault.store(), Team::Coordinators).await?;
    Ok(Write::InsertInbox { sealed: envelope(&recipient, case_key, case_id.clone(), json)?, case_id })
}

/// Check one entry: it must open with the coordinators key, name the case
/// whose row it sits in, and carry a MAC under that case's key.
fn check_entry(
    coordinators: &Identity,
    case_key: &Key32,
    row_case_id: &str,
    sealed: &[u8],
) -> Option<(IndexRecord, InboxEntry)> {
    let plain = wrap::unwrap(coordinators, sealed).ok()?;
    let entry: InboxEntry = serde_json::from_slice(&plain).ok()?;
    if entry.case_id != row_case_id {
        return None;
    }
    let mac = crate::keyring::from_base64(&entry.mac)?;
    if !crypto::mac_verify(
        &inbox_mac_key(case_key, &entry.case_id),
        &[entry.case_id.as_bytes(), entry.record.as_bytes()],
        &mac,
    ) {
        return None;
    }
    let record: IndexRecord = serde_json::from_str(&entry.record).ok()?;
    (record.case_id.to_string() == entry.case_id).then_some((record, entry))
}

/// An index record sealed again under a new index key (an index key
/// rotation): the same place, so the record reads as before.
pub(crate) fn reseal(old: &Key32, new: &Key32, row: &IndexRow) -> ServiceResult<Write> {
    seal(new, &open(old, row)?)
}

/// A pending inbox entry authenticated again under its case's new key (a
/// case key rotation), to the coordinators recipient pinned now. `None`
/// for an entry the fold would refuse under the old key: a forged entry
/// is dropped, never given a genuine MAC.
pub(crate) fn rekey_inbox_entry(
    coordinators: &Identity,
    recipient: &Recipient,
    old: &Key32,
    new: &Key32,
    row: &InboxRow,
) -> ServiceResult<Option<Vec<u8>>> {
    let Some((_, entry)) = check_entry(coordinators, old, &row.case_id, &row.sealed) else {
        return Ok(None);
    };
    Ok(Some(envelope(recipient, new, entry.case_id, entry.record)?))
}

/// The users that hold a grant to a case, from its wrap rows.
pub async fn assignees(vault: &Vault, case_id: &str) -> ServiceResult<Vec<UserId>> {
    Ok(vault
        .store()
        .wraps_of_object(ObjectKind::Case, case_id)
        .await?
        .into_iter()
        .filter(|w| w.holder_kind == HolderKind::User.as_str())
        .filter_map(|w| UserId::parse(&w.holder_id))
        .collect())
}

/// Fold every inbox entry into the index. Returns (applied, refused, the
/// writes that do it); refused entries are dropped: they were not written by
/// a holder of the case key.
pub async fn fold_inbox(vault: &Vault, coordinators: &Identity) -> ServiceResult<(usize, usize, Vec<Write>)> {
    let inbox = vault.store().inbox().await?;
    if inbox.is_empty() {
        return Ok((0, 0, Vec::new()));
    }
    let index_key = membership::shared_key_for_team(vault, coordinators, SharedKey::Index).await?;
    let (mut applied, mut refused) = (0, 0);
    let mut writes = Vec::new();
    for row in inbox {
        writes.push(Write::DeleteInbox { seq: row.seq });
        let Ok(case_key) = membership::case_key_for_team(vault, coordinators, &row.case_id).await else {
            refused += 1;
            continue;
        };
        let Some((mut record, _)) = check_entry(coordinators, &case_key, &row.case_id, &row.sealed) else {
            tracing::warn!(target: "safehouse::index", "refused an index inbox entry without a valid case-key MAC");
            refused += 1;
            continue;
        };
        let current = match vault.store().index_row(&row.case_id).await? {
            Some(existing) => Some(open(&index_key, &existing)?),
            None => None,
        };
        if current.as_ref().is_some_and(|c| c.version > record.version) {
            // An older change arriving after a newer one: keep the newer.
            applied += 1;
            continue;
        }
        record.assignees = assignees(vault, &row.case_id).await?;
        writes.push(seal(&index_key, &record)?);
        applied += 1;
    }
    Ok((applied, refused, writes))
}
