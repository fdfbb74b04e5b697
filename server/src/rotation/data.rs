//! Rotations of the keys that seal data: the index key, the two register
//! keys, and (a compromise rotation) every case key. Each makes the new
//! key, re-seals every record the old key sealed, and replaces every wrap
//! of the old key with a wrap of the new one to the same holders; after
//! the commit no row holds the old key or anything only it opens.
//!
//! Each takes the coordinators team identity that opens the old keys and
//! wraps the new ones to the coordinators recipient pinned now (a team
//! rotation, if any, is a separate commit after this one).

use super::{Plan, Progress};
use crate::crypto::Identity;
use crate::error::{ServiceError, ServiceResult};
use crate::vault::Vault;

/// A new index key: every index record re-sealed under it (`PutIndex`, so
/// every node's cache reads them again), its wrap to the coordinators
/// team replaced.
pub async fn index(vault: &Vault, coordinators: &Identity, progress: &dyn Progress) -> ServiceResult<Plan> {
    let _ = (vault, coordinators, progress);
    Err(ServiceError::Internal("index rotation not built yet"))
}

/// New register keys (codes and details): shelter rows, aid entries and
/// aid kinds re-sealed; the codes key wrapped again to the coordinators
/// team and to each user who held it (to their current key).
pub async fn registers(
    vault: &Vault,
    coordinators: &Identity,
    progress: &dyn Progress,
) -> ServiceResult<Plan> {
    let _ = (vault, coordinators, progress);
    Err(ServiceError::Internal("register rotation not built yet"))
}

/// The compromise rotation of the case keys: a new key for every case;
/// the case row, its milestones and its story links re-sealed; pending
/// index-inbox, aid-inbox entries and story drafts checked under the old
/// key and authenticated again under the new; story tags derived again;
/// the new key wrapped to the coordinators team and to each assignee who
/// held the old one (to their current key).
pub async fn case_keys(
    vault: &Vault,
    coordinators: &Identity,
    progress: &dyn Progress,
) -> ServiceResult<Plan> {
    let _ = (vault, coordinators, progress);
    Err(ServiceError::Internal("case key rotation not built yet"))
}
