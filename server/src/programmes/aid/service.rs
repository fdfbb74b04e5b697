//! The rules of the aid log.

use crate::crypto::Identity;
use crate::error::ServiceResult;
use crate::membership::{self, SharedKey};
use crate::storage::Write;
use crate::vault::Vault;

use super::model::{self, AidEntry, CustomKind};

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
    let kinds = vault
        .store()
        .aid_kinds()
        .await?
        .iter()
        .map(|row| model::open_kind(&key, row))
        .collect::<ServiceResult<Vec<_>>>()?;
    Ok((entries, kinds))
}

/// Fold the aid inbox: check each caseworker entry's case-key MAC, write it
/// sealed under the register details key, delete it from the inbox.
/// Returns (applied, refused, the writes that do it).
pub async fn fold_inbox(vault: &Vault, coordinators: &Identity) -> ServiceResult<(usize, usize, Vec<Write>)> {
    // Written with the aid log's inbox (issue 13, part 1).
    let _ = (vault, coordinators);
    Ok((0, 0, Vec::new()))
}
