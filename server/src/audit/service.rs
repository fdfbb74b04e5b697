//! Reading the trail (auditors), bulk-reading flags, the chain head.

use time::Duration;
use time::format_description::well_known::Rfc3339;

use super::chain::{self, Break, Checkpoint, Verified};
use super::model::{Action, Event, Outcome};
use crate::accounts::model::{Actor, Role};
use crate::error::{ServiceError, ServiceResult};
use crate::storage::{AuditRow, FlagRow, Write};
use crate::vault::Vault;

/// When one user's reading counts as bulk reading.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BulkReadPolicy {
    /// More than this many distinct cases ...
    pub cases: i64,
    /// ... within this many minutes raises a flag.
    pub minutes: i64,
}

impl Default for BulkReadPolicy {
    fn default() -> Self {
        Self { cases: 25, minutes: 10 }
    }
}

fn rfc3339(at: time::OffsetDateTime) -> String {
    at.to_offset(time::UtcOffset::UTC).format(&Rfc3339).unwrap_or_default()
}

/// What a successful case read writes beside its entry, in the same job:
/// the reader's latest read of that case, which the bulk-reading check
/// counts (so the check never walks the trail).
pub fn case_read_mark(vault: &Vault, actor: &Actor, case_id: &str) -> Write {
    Write::MarkCaseRead {
        actor: actor.user_id().to_string(),
        case_id: case_id.to_owned(),
        at: rfc3339(vault.clock.now()),
    }
}

/// After a successful case read: raise a flag if the reader opened more
/// distinct cases than the policy allows within its window (once per
/// window). Two index probes of at most `policy.cases + 1` rows: the same
/// cost at a million entries as at ten.
pub async fn check_bulk_reading(vault: &Vault, actor: &Actor) -> ServiceResult<()> {
    let policy = vault.bulk_read;
    let now = vault.clock.now();
    let since = rfc3339(now - Duration::minutes(policy.minutes));
    let uid = actor.user_id().to_string();
    // Already flagged in this window: nothing to count.
    if let Some(flag) = vault.store().latest_flag(&uid).await? {
        if flag.raised_at >= since {
            return Ok(());
        }
    }
    let distinct = vault.store().distinct_reads_since(&uid, &since, policy.cases.saturating_add(1)).await?;
    if distinct <= policy.cases {
        return Ok(());
    }
    tracing::warn!(actor = ?uid, distinct, "bulk reading flagged");
    let event = actor.event(Action::FlagBulkRead).on(uid.clone());
    vault
        .commit(
            &event,
            vec![Write::InsertFlag {
                actor: uid,
                raised_at: rfc3339(now),
                distinct_cases: distinct,
                window_minutes: policy.minutes,
            }],
        )
        .await
}

/// Bulk-reading flags, for auditors and coordinators.
pub async fn flags(vault: &Vault, actor: &Actor) -> ServiceResult<Vec<FlagRow>> {
    read_flags(vault, actor, vault.store().flags()).await
}

/// The flags raised since `since`, for the homes of auditors and
/// coordinators; recorded like a view of the flags page.
pub async fn flags_since(
    vault: &Vault,
    actor: &Actor,
    since: time::OffsetDateTime,
) -> ServiceResult<Vec<FlagRow>> {
    let since = rfc3339(since);
    read_flags(vault, actor, vault.store().flags_since(&since)).await
}

/// One read of the flags, recorded in the reader's auditor or coordinator
/// role; anyone else is refused (and that is recorded too).
async fn read_flags(
    vault: &Vault,
    actor: &Actor,
    read: impl std::future::Future<Output = Result<Vec<FlagRow>, crate::storage::StoreError>>,
) -> ServiceResult<Vec<FlagRow>> {
    let role = if actor.has(Role::Auditor) {
        Role::Auditor
    } else if actor.has(Role::Coordinator) {
        Role::Coordinator
    } else {
        let event = actor.event(Action::AuditRead);
        return vault.finish(&event, Err(ServiceError::Forbidden("auditors and coordinators only"))).await;
    };
    let event = actor.event(Action::AuditRead).as_role(role).on("flags");
    let result = read.await.map_err(ServiceError::from);
    vault.finish(&event, result).await
}

/// A page of the trail, for auditors: entries after `after`, at most `limit`.
pub async fn entries(vault: &Vault, actor: &Actor, after: i64, limit: i64) -> ServiceResult<Vec<AuditRow>> {
    let event = actor.event(Action::AuditRead).as_role(Role::Auditor);
    if !actor.has(Role::Auditor) {
        return vault.finish(&event, Err(ServiceError::Forbidden("auditors only"))).await;
    }
    let result = vault.store().audit_rows(after, limit.clamp(1, 1000)).await.map_err(ServiceError::from);
    vault.finish(&event, result).await
}

/// A filtered page of the trail, for auditors.
pub async fn search(
    vault: &Vault,
    actor: &Actor,
    filter: &crate::storage::AuditFilter,
    after: i64,
    limit: i64,
    action: Action,
) -> ServiceResult<Vec<AuditRow>> {
    let event = actor.event(action).as_role(Role::Auditor);
    if !actor.has(Role::Auditor) {
        return vault.finish(&event, Err(ServiceError::Forbidden("auditors only"))).await;
    }
    let result =
        vault.store().audit_search(filter, after, limit.clamp(1, 100_000)).await.map_err(ServiceError::from);
    vault.finish(&event, result).await
}

/// A filtered page of the trail read backwards, for auditors: entries
/// below `before`, newest first, at most `limit`.
pub async fn search_back(
    vault: &Vault,
    actor: &Actor,
    filter: &crate::storage::AuditFilter,
    before: i64,
    limit: i64,
) -> ServiceResult<Vec<AuditRow>> {
    let event = actor.event(Action::AuditRead).as_role(Role::Auditor);
    if !actor.has(Role::Auditor) {
        return vault.finish(&event, Err(ServiceError::Forbidden("auditors only"))).await;
    }
    let result = vault
        .store()
        .audit_search_back(filter, before, limit.clamp(1, 1000))
        .await
        .map_err(ServiceError::from);
    vault.finish(&event, result).await
}

pub use crate::publication::export::csv_cell;

/// The current head, as a checkpoint to keep off the server.
pub async fn head(vault: &Vault) -> ServiceResult<Option<Checkpoint>> {
    Ok(vault.store().audit_head().await?.map(|row| Checkpoint {
        instance_id: vault.keyring.trust().instance_id.clone(),
        seq: row.seq,
        mac: row.mac,
    }))
}

/// Verify the whole chain (and the given checkpoints).
pub async fn verify(
    vault: &Vault,
    checkpoints: &[Checkpoint],
    progress: impl FnMut(i64),
) -> Result<Verified, Break> {
    chain::verify(
        vault.store(),
        &vault.chain_key(),
        &vault.keyring.trust().instance_id,
        checkpoints,
        progress,
    )
    .await
}

/// Record a verification run: by an auditor on the web (`by`, role
/// auditor) or by the command line (`by` none: actor "system"). The target
/// is the seq, in decimal, of the head that was verified; after a break,
/// of the first entry found wrong (none if the trail could not be read).
/// The outcome says which: `ok` or `error`.
pub async fn record_verification(
    vault: &Vault,
    by: Option<&Actor>,
    request_id: &str,
    result: &Result<Verified, Break>,
) -> ServiceResult<()> {
    let event = match by {
        Some(actor) => {
            let event = actor.event(Action::AuditVerify).as_role(Role::Auditor);
            if !actor.has(Role::Auditor) {
                return vault.finish(&event, Err(ServiceError::Forbidden("auditors only"))).await;
            }
            event
        }
        None => Event::system(Action::AuditVerify, request_id),
    };
    let seq = match result {
        Ok(verified) => verified.head.as_ref().map(|h| h.seq),
        Err(Break::Mac { seq } | Break::Gap { seq, .. } | Break::Link { seq } | Break::Rewritten { seq }) => {
            Some(*seq)
        }
        Err(Break::Cut { head, .. }) => Some(*head),
        Err(Break::OtherInstance(_) | Break::Store(_)) => None,
    };
    let event = match seq {
        Some(seq) => event.on(seq),
        None => event,
    };
    vault.record(&event, if result.is_ok() { Outcome::Ok } else { Outcome::Error }).await
}
