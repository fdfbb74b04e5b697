//! The purge rules. A purge is one audited write (`case.purge` on the case
//! id): [`Write::PurgeCase`] deletes the case row, its milestones, every
//! wrap of its key, its index record and inbox rows, pending grants, purge
//! request, read marks, story drafts and story links, in the same
//! transaction as its audit entry, so a kill leaves either all of it or
//! none. Then SQLite's log is checkpointed and truncated. The audit trail
//! keeps every entry of the case: they hold no case values.

use time::{Duration, OffsetDateTime};

use crate::accounts::model::{Actor, Role};
use crate::audit::Action;
use crate::cases::model::FieldError;
use crate::cases::service::Case;
use crate::error::{ServiceError, ServiceResult};
use crate::ids::{CaseId, UserId};
use crate::membership;
use crate::storage::{PurgeRequestRow, Write};
use crate::vault::Vault;

/// A closed case as the purge page shows it.
#[derive(Debug, Clone)]
pub struct Candidate {
    pub case_id: CaseId,
    pub version: i64,
    pub aliases: Vec<String>,
    pub closed_at: OffsetDateTime,
    /// When one coordinator alone may purge it.
    pub due_at: OffsetDateTime,
    pub due: bool,
    pub request: Option<Request>,
}

/// A request to purge at once, as it stands now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Request {
    pub requester: Option<UserId>,
    pub by_me: bool,
    /// The case changed (or reopened and closed again) since the request:
    /// it no longer counts.
    pub lapsed: bool,
}

/// What a purge did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Done {
    Purged,
    Requested,
}

fn field(field: &'static str, message: &str) -> ServiceError {
    FieldError { field, message: message.to_owned() }.into()
}

const NOT_CLOSED: &str = "Only a closed case can be purged.";
const NEEDS_SECOND: &str = "This case closed less than the retention period ago: another coordinator must confirm a request to purge it.";
const OWN_REQUEST: &str = "You asked for this purge: another coordinator must confirm it.";
const ALREADY_DUE: &str = "The retention period has passed: purge the case directly.";
const NOT_UNDERSTOOD: &str = "Tick the box to confirm that the purge cannot be undone.";

/// Only a coordinator of the team, in this request: the identity that
/// opens the case keys.
async fn team(vault: &Vault, actor: &Actor) -> ServiceResult<crate::crypto::Identity> {
    if !actor.has(Role::Coordinator) {
        return Err(ServiceError::Forbidden("coordinators only"));
    }
    membership::coordinators_identity(vault, actor).await
}

fn closed_at(case: &Case) -> ServiceResult<OffsetDateTime> {
    if !case.status.is_closed() {
        return Err(field("case", NOT_CLOSED));
    }
    // A case closed before closing times were kept counts from its last update.
    Ok(case.closed_at.unwrap_or(case.updated_at))
}

fn candidate(
    vault: &Vault,
    actor: &Actor,
    case: &Case,
    row: Option<PurgeRequestRow>,
) -> ServiceResult<Candidate> {
    let closed_at = closed_at(case)?;
    let due_at = closed_at + Duration::days(i64::from(vault.purge_retention_days));
    let request = row.map(|r| {
        let requester = UserId::parse(&r.requester);
        Request {
            requester,
            by_me: requester == Some(actor.user_id()),
            lapsed: r.case_version != case.version,
        }
    });
    Ok(Candidate {
        case_id: case.id,
        version: case.version,
        aliases: case.group.persons().iter().map(|p| p.alias.as_str().to_owned()).collect(),
        closed_at,
        due_at,
        due: vault.clock.now() >= due_at,
        request,
    })
}

/// The confirmation page's facts: recorded as a read of the case.
pub async fn candidate_of(vault: &Vault, actor: &Actor, case_id: CaseId) -> ServiceResult<Candidate> {
    let event = actor.event(Action::CaseRead).as_role(Role::Coordinator).on(case_id);
    let result = async {
        let coordinators = team(vault, actor).await.map_err(|_| ServiceError::NotFound)?;
        let (case, _) = crate::cases::service::read_for_team(vault, &coordinators, case_id).await?;
        let row = vault.store().purge_request(&case_id.to_string()).await?;
        candidate(vault, actor, &case, row)
    }
    .await;
    vault.finish(&event, result).await
}

/// Ask for a purge before the retention period ends, for a second
/// coordinator to confirm. `version` is the case version the page showed.
pub async fn request(vault: &Vault, actor: &Actor, case_id: CaseId, version: i64) -> ServiceResult<()> {
    let event = actor.event(Action::CasePurgeRequest).as_role(Role::Coordinator).on(case_id);
    let prepared = async {
        let coordinators = team(vault, actor).await.map_err(|_| ServiceError::NotFound)?;
        let (case, _) = crate::cases::service::read_for_team(vault, &coordinators, case_id).await?;
        if case.version != version {
            return Err(ServiceError::Conflict);
        }
        let c = candidate(vault, actor, &case, None)?;
        if c.due {
            return Err(field("case", ALREADY_DUE));
        }
        let cid = case_id.to_string();
        Ok(vec![
            // The request holds only while the case is as it was read.
            Write::RequireCaseState {
                case_id: cid.clone(),
                version: case.version,
                milestones: case.milestones.iter().map(|m| (m.id.to_string(), m.version)).collect(),
            },
            Write::PutPurgeRequest(PurgeRequestRow {
                case_id: cid,
                requester: actor.user_id().to_string(),
                case_version: case.version,
            }),
        ])
    }
    .await;
    vault.write(&event, prepared).await
}

/// Purge a closed case the page showed at `version`: alone once the
/// retention period has passed, or as the confirmation of another
/// coordinator's live request. `understood`: the user ticked that it
/// cannot be undone.
pub async fn purge(
    vault: &Vault,
    actor: &Actor,
    case_id: CaseId,
    version: i64,
    understood: bool,
) -> ServiceResult<()> {
    let event = actor.event(Action::CasePurge).as_role(Role::Coordinator).on(case_id);
    let prepared = async {
        if !understood {
            return Err(field("understood", NOT_UNDERSTOOD));
        }
        purge_writes(vault, actor, case_id, version).await
    }
    .await;
    vault.write(&event, prepared).await?;
    after_purge(vault).await;
    Ok(())
}

async fn purge_writes(
    vault: &Vault,
    actor: &Actor,
    case_id: CaseId,
    version: i64,
) -> ServiceResult<Vec<Write>> {
    let coordinators = team(vault, actor).await.map_err(|_| ServiceError::NotFound)?;
    let (case, key) = crate::cases::service::read_for_team(vault, &coordinators, case_id).await?;
    if case.version != version {
        return Err(ServiceError::Conflict);
    }
    let cid = case_id.to_string();
    let row = vault.store().purge_request(&cid).await?;
    let c = candidate(vault, actor, &case, row)?;
    if !c.due {
        match c.request {
            Some(r) if r.lapsed || r.requester.is_none() => return Err(field("case", NEEDS_SECOND)),
            Some(r) if r.by_me => return Err(field("case", OWN_REQUEST)),
            Some(_) => {}
            None => return Err(field("case", NEEDS_SECOND)),
        }
    }
    // Caseworkers' aid entries name their case only inside their envelope,
    // checked with the case key: fold them now, while the key exists.
    let (_, _, mut writes) = crate::programmes::aid::service::fold_inbox(vault, &coordinators).await?;
    writes.push(Write::PurgeCase { case_id: cid.clone(), version, tag: crate::stories::tag(&key, &cid) });
    Ok(writes)
}

/// Move SQLite's log into the file and truncate it, so no copy of the
/// purged pages stays in it. The purge is committed already: a checkpoint
/// held back by a reader is logged and done again by the next purge (or
/// by SQLite's own checkpoints), never an error for the user.
async fn after_purge(vault: &Vault) {
    match vault.store().checkpoint().await {
        Ok(true) => {}
        Ok(false) => tracing::warn!(
            target: "safehouse::purge",
            "the log checkpoint after a purge was held back by a reader; it completes at the next checkpoint"
        ),
        Err(e) => {
            tracing::warn!(target: "safehouse::purge", error = %e, "the log checkpoint after a purge failed")
        }
    }
}

/// Every closed case, from the index (a case list, recorded as one): for
/// the purge page and `safehouse purge --due`.
pub async fn closed(
    vault: &Vault,
    actor: &Actor,
) -> ServiceResult<Vec<(CaseId, Vec<String>, OffsetDateTime, bool)>> {
    let lines = crate::cases::service::list_visible(vault, actor).await?;
    let now = vault.clock.now();
    let retention = Duration::days(i64::from(vault.purge_retention_days));
    Ok(lines
        .iter()
        .filter(|s| s.status.is_closed())
        .map(|s| {
            let closed_at = s.closed_at.unwrap_or(s.updated_at);
            (s.id, s.aliases.clone(), closed_at, now >= closed_at + retention)
        })
        .collect())
}
