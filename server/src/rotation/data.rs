//! Rotations of the keys that seal data: the index key, the two register
//! keys, and (a compromise rotation) every case key. Each makes the new
//! key, re-seals every record the old key sealed, and replaces every wrap
//! of the old key with a wrap of the new one to the same holders; after
//! the commit no row holds the old key or anything only it opens.
//!
//! Each takes the coordinators team identity that opens the old keys and
//! wraps the new ones to the coordinators recipient pinned now (a team
//! rotation, if any, is a separate commit after this one).
//!
//! Re-sealed rows keep their versions: a re-seal changes no content, the
//! places (and so the associated data) stay valid, and every version a
//! pending decision recorded (a story approval, a purge request) still
//! holds. Every server is stopped meanwhile, so no form open before the
//! rotation saves with the old key.

use std::collections::BTreeMap;

use super::{Plan, Progress};
use crate::cases;
use crate::crypto::{Identity, Key32, wrap};
use crate::error::{ServiceError, ServiceResult};
use crate::keyring::Team;
use crate::membership::{self, SharedKey, wrap_row};
use crate::programmes::aid::service as aid;
use crate::shelters::service as shelters;
use crate::storage::{HolderKind, ObjectKind, SealedTable, Write};
use crate::stories;
use crate::vault::Vault;

/// How many items a long loop handles between two reports.
const REPORT_EVERY: usize = 100;

fn report(progress: &dyn Progress, step: &'static str, done: usize, total: usize) {
    if done % REPORT_EVERY == 0 || done == total {
        progress.advance(step, done as u64, total as u64);
    }
}

/// A new index key: every index record re-sealed under it (`PutIndex`, so
/// every node's cache reads them again), its wrap to the coordinators
/// team replaced.
pub async fn index(vault: &Vault, coordinators: &Identity, progress: &dyn Progress) -> ServiceResult<Plan> {
    let old = membership::shared_key_for_team(vault, coordinators, SharedKey::Index).await?;
    let new = Key32::random();
    let mut plan = Plan::default();
    let rows = vault.store().index_rows().await?;
    for (done, row) in rows.iter().enumerate() {
        plan.reseal(cases::index::reseal(&old, &new, row)?);
        report(progress, "index records", done + 1, rows.len());
    }
    rewrap(vault, &mut plan, ObjectKind::Shared, SharedKey::Index.as_str(), &new).await?;
    Ok(plan)
}

/// New register keys (codes and details): shelter rows, aid entries and
/// aid kinds re-sealed; the codes key wrapped again to the coordinators
/// team and to each user who held it (to their current key).
pub async fn registers(
    vault: &Vault,
    coordinators: &Identity,
    progress: &dyn Progress,
) -> ServiceResult<Plan> {
    let old_codes = membership::shared_key_for_team(vault, coordinators, SharedKey::RegisterCodes).await?;
    let old_details =
        membership::shared_key_for_team(vault, coordinators, SharedKey::RegisterDetails).await?;
    let (new_codes, new_details) = (Key32::random(), Key32::random());
    let mut plan = Plan::default();
    let rows = vault.store().shelters().await?;
    for (done, row) in rows.iter().enumerate() {
        plan.reseal(shelters::reseal([&old_codes, &old_details], [&new_codes, &new_details], row)?);
        report(progress, "shelters", done + 1, rows.len());
    }
    let entries = vault.store().aid_entries().await?;
    for (done, row) in entries.iter().enumerate() {
        plan.reseal(aid::reseal_entry(&old_details, &new_details, row)?);
        report(progress, "aid entries", done + 1, entries.len());
    }
    for row in vault.store().aid_kinds().await? {
        plan.reseal(aid::reseal_kind(&old_details, &new_details, &row)?);
    }
    rewrap(vault, &mut plan, ObjectKind::Shared, SharedKey::RegisterCodes.as_str(), &new_codes).await?;
    rewrap(vault, &mut plan, ObjectKind::Shared, SharedKey::RegisterDetails.as_str(), &new_details).await?;
    Ok(plan)
}

/// The compromise rotation of the case keys: a new key for every case;
/// the case row, its milestones and its story links re-sealed; pending
/// index-inbox, aid-inbox entries and story drafts checked under the old
/// key and authenticated again under the new; story tags derived again;
/// the new key wrapped to the coordinators team and to each assignee who
/// held the old one (to their current key).
///
/// Pending grants name a case and a user, not a key: the certification
/// that issues one opens the new key then. Approved stories are sealed to
/// the communications team, never under a case key: untouched.
pub async fn case_keys(
    vault: &Vault,
    coordinators: &Identity,
    progress: &dyn Progress,
) -> ServiceResult<Plan> {
    let ids = vault.store().case_ids().await?;
    let total = ids.len();
    let mut keys: BTreeMap<String, (Key32, Key32)> = BTreeMap::new();
    for (done, id) in ids.into_iter().enumerate() {
        let old = membership::case_key_for_team(vault, coordinators, &id).await.map_err(|e| match e {
            ServiceError::NotFound => {
                ServiceError::Internal("a case key is not wrapped to the coordinators team")
            }
            other => other,
        })?;
        keys.insert(id, (old, Key32::random()));
        report(progress, "case keys opened", done + 1, total);
    }
    let mut plan = Plan::default();
    for (done, (id, (old, new))) in keys.iter().enumerate() {
        for write in cases::service::reseal(vault, old, new, id).await? {
            plan.reseal(write);
        }
        let tag = stories::tag(new, id);
        for link in vault.store().story_links(&stories::tag(old, id)).await? {
            let sealed = stories::service::reseal_link(old, new, id, &link)?;
            plan.reseal(Write::RetagStoryLink { id: link.id, tag: tag.clone(), sealed });
        }
        rewrap(vault, &mut plan, ObjectKind::Case, id, new).await?;
        report(progress, "cases", done + 1, keys.len());
    }
    let both = |case_id: &str| keys.get(case_id).map(|(old, new)| (old, new));
    let recipient = vault.keyring.team_recipient(vault.store(), Team::Coordinators).await?;
    let before = plan.refused;
    for row in vault.store().inbox().await? {
        let rekeyed = match both(&row.case_id) {
            Some((old, new)) => cases::index::rekey_inbox_entry(coordinators, &recipient, old, new, &row)?,
            None => None,
        };
        match rekeyed {
            Some(sealed) => plan.reseal(Write::ResealInbox { seq: row.seq, sealed }),
            None => plan.refuse(Write::DeleteInbox { seq: row.seq }),
        }
    }
    for row in vault.store().aid_inbox().await? {
        match aid::rekey_inbox_entry(coordinators, &recipient, both, &row)? {
            Some(sealed) => plan.reseal(Write::Reseal { table: SealedTable::AidInbox, id: row.id, sealed }),
            None => plan.refuse(Write::DeleteAidInbox { id: row.id }),
        }
    }
    for row in vault.store().story_drafts().await? {
        match stories::service::rekey_draft(coordinators, &recipient, both, &row)? {
            Some((tag, sealed)) => plan.reseal(Write::RetagStoryDraft { id: row.id, tag, sealed }),
            None => plan.refuse(Write::DeleteStoryDraft { id: row.id }),
        }
    }
    if plan.refused > before {
        tracing::warn!(
            target: "safehouse::rotation",
            refused = plan.refused - before,
            "dropped pending entries that did not check under their case's old key"
        );
    }
    Ok(plan)
}

/// Replace every wrap of one object with a wrap of `secret` to the same
/// holder: a team at its pinned recipient (the coordinators team always,
/// whether it held a wrap or not), a recovery recipient still in the trust
/// file, a user at their current key when the old wrap was to that key.
/// Any other wrap (to a user's older key, to a recipient no longer
/// trusted) is deleted: no row keeps the old key.
async fn rewrap(
    vault: &Vault,
    plan: &mut Plan,
    object: ObjectKind,
    object_id: &str,
    secret: &Key32,
) -> ServiceResult<()> {
    let mut coordinators_key_no = None;
    for old in vault.store().wraps_of_object(object, object_id).await? {
        let holder = super::holder_kind(&old.holder_kind)?;
        if holder == HolderKind::Team && old.holder_id == Team::Coordinators.as_str() {
            coordinators_key_no = Some(old.key_no);
            continue;
        }
        match super::holder_recipient(vault, vault.keyring.trust(), holder, &old).await? {
            Some(recipient) => plan.wrap(Write::PutWrap(wrap_row(
                object,
                object_id,
                holder,
                &old.holder_id,
                old.key_no,
                wrap::wrap(&recipient, secret.expose())?,
            ))),
            None => plan.other(Write::DeleteWrap {
                object_kind: object,
                object_id: object_id.to_owned(),
                holder_kind: holder,
                holder_id: old.holder_id,
            }),
        }
    }
    let coordinators = vault.keyring.team_recipient(vault.store(), Team::Coordinators).await?;
    plan.wrap(Write::PutWrap(wrap_row(
        object,
        object_id,
        HolderKind::Team,
        Team::Coordinators.as_str(),
        coordinators_key_no.unwrap_or(0),
        wrap::wrap(&coordinators, secret.expose())?,
    )));
    Ok(())
}
