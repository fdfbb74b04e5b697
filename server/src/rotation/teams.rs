//! Rotations of the team keys and of the recovery and backup recipients.
//! A team key is an age identity: its rotation makes a new one, wraps it
//! again to every holder of the old one, re-wraps every key the old one
//! held, re-encrypts the rows sealed to the old recipient (age files
//! cannot be re-addressed without opening them), and makes again what was
//! derived from it (certifications, for the coordinators key).

use super::{Plan, Progress, RotationError, refused};
use crate::crypto::{self, Identity, Key32, Label, Recipient, wrap};
use crate::error::{ServiceError, ServiceResult};
use crate::keyring::{Team, Trust};
use crate::membership::wrap_row;
use crate::storage::{CertificationRow, HolderKind, ObjectKind, SealedTable, WrapRow, Write};
use crate::vault::Vault;

/// A team rotation: the writes, the new identity (in no file: only in its
/// wraps) and the trust file that pins its recipient.
pub struct TeamRotation {
    pub plan: Plan,
    pub trust: Trust,
}

/// Wrap `secret` again for every holder of `rows` (the wraps of one
/// object): a user at their current key (a wrap to an older key is stale
/// and goes), a team at its pinned recipient, a recovery recipient if it
/// is still pinned in `trust`. The recovery recipients of `trust` that held
/// no wrap get one.
async fn rewrap_for_holders(
    vault: &Vault,
    plan: &mut Plan,
    trust: &Trust,
    rows: &[WrapRow],
    secret: &[u8],
) -> ServiceResult<()> {
    for row in rows {
        let (object, holder) = (super::object_kind(&row.object_kind)?, super::holder_kind(&row.holder_kind)?);
        let to = super::holder_recipient(vault, trust, holder, row).await?;
        match to {
            Some(recipient) => plan.wrap(Write::PutWrap(wrap_row(
                object,
                &row.object_id,
                holder,
                &row.holder_id,
                row.key_no,
                wrap::wrap(&recipient, secret)?,
            ))),
            None => plan.other(Write::DeleteWrap {
                object_kind: object,
                object_id: row.object_id.clone(),
                holder_kind: holder,
                holder_id: row.holder_id.clone(),
            }),
        }
    }
    if let Some(first) = rows.first() {
        let object = super::object_kind(&first.object_kind)?;
        for recipient in &trust.recovery {
            let text = recipient.to_string();
            if !rows.iter().any(|r| r.holder_kind == HolderKind::Recovery.as_str() && r.holder_id == text) {
                let wrapped = wrap::wrap(recipient, secret)?;
                plan.wrap(Write::PutWrap(wrap_row(
                    object,
                    &first.object_id,
                    HolderKind::Recovery,
                    &text,
                    0,
                    wrapped,
                )));
            }
        }
    }
    Ok(())
}

/// Every key the team held (case keys, shared keys, the communications
/// key for the coordinators): opened with the old identity, wrapped to
/// the new recipient.
async fn rewrap_held(
    vault: &Vault,
    plan: &mut Plan,
    team: Team,
    old: &Identity,
    new: &Recipient,
    progress: &dyn Progress,
) -> ServiceResult<()> {
    let held = vault.store().wraps_of_holder(HolderKind::Team, team.as_str()).await?;
    let total = held.len() as u64;
    for (n, row) in held.into_iter().enumerate() {
        let secret = wrap::unwrap(old, &row.wrapped)?;
        plan.wrap(Write::PutWrap(WrapRow { wrapped: wrap::wrap(new, &secret)?, ..row }));
        if n % 256 == 255 {
            progress.advance("re-wrapping the keys the team holds", n as u64 + 1, total);
        }
    }
    progress.advance("re-wrapping the keys the team holds", total, total);
    Ok(())
}

/// Rows sealed (age) to the old recipient, re-encrypted to the new one. A
/// row the old identity cannot open was never readable by the team (a
/// forged inbox entry): it is left for the fold to drop, and not counted.
fn reencrypt(old: &Identity, new: &Recipient, sealed: &[u8]) -> ServiceResult<Option<Vec<u8>>> {
    match wrap::unwrap(old, sealed) {
        Ok(plain) => Ok(Some(wrap::wrap(new, &plain)?)),
        Err(_) => Ok(None),
    }
}

/// The certifications made again under the new coordinators key: each
/// one whose MAC verifies under the old key gets a MAC under the new key
/// and its hand-over key wrapped to the new recipient. One that does not
/// verify certifies nothing already and goes, so the old key opens no
/// hand-over key left behind.
async fn recertify(vault: &Vault, plan: &mut Plan, old: &Identity, new: &Identity) -> ServiceResult<()> {
    let (old_key, new_key) = (old.derive(Label::Certification, b""), new.derive(Label::Certification, b""));
    for cert in vault.store().certifications().await? {
        let parts = crate::accounts::service::voucher_parts(&cert.user_id, &cert.recipient, cert.key_no);
        let handover =
            wrap::unwrap(old, &cert.handover_to_coordinators).ok().and_then(|h| Key32::from_slice(&h).ok());
        let genuine = handover.as_ref().is_some_and(|h| {
            crypto::mac_verify(&old_key, &[&parts[0], &parts[1], &parts[2], h.expose()], &cert.mac)
        });
        match handover.filter(|_| genuine) {
            Some(handover) => {
                let mac = crypto::mac(&new_key, &[&parts[0], &parts[1], &parts[2], handover.expose()]);
                plan.wrap(Write::PutCertification(CertificationRow {
                    mac: mac.to_vec(),
                    handover_to_coordinators: wrap::wrap(&new.recipient(), handover.expose())?,
                    ..cert
                }));
            }
            None => plan.other(Write::DeleteCertification { user_id: cert.user_id }),
        }
    }
    Ok(())
}

/// A new coordinators key. `old` is the current one.
pub async fn coordinators(
    vault: &Vault,
    old: &Identity,
    progress: &dyn Progress,
) -> ServiceResult<TeamRotation> {
    let new = Identity::generate();
    let recipient = new.recipient();
    let mut trust = vault.keyring.trust().clone();
    trust.coordinators = recipient.clone();
    let mut plan = Plan::default();
    let team = Team::Coordinators;
    let holders = vault.store().wraps_of_object(ObjectKind::Team, team.as_str()).await?;
    rewrap_for_holders(vault, &mut plan, &trust, &holders, &new.to_secret_bytes()).await?;
    rewrap_held(vault, &mut plan, team, old, &recipient, progress).await?;
    recertify(vault, &mut plan, old, &new).await?;
    // What caseworkers and coordinators sent to the team, still waiting.
    for row in vault.store().inbox().await? {
        if let Some(sealed) = reencrypt(old, &recipient, &row.sealed)? {
            plan.reseal(Write::ResealInbox { seq: row.seq, sealed });
        }
    }
    reseal_tables(vault, &mut plan, &[SealedTable::AidInbox, SealedTable::StoryDrafts], old, &recipient)
        .await?;
    finish(&mut plan, team, &recipient);
    Ok(TeamRotation { plan, trust })
}

/// A new communications key. `coordinators` opens the old one (it is
/// wrapped to the coordinators team).
pub async fn communications(
    vault: &Vault,
    coordinators: &Identity,
    progress: &dyn Progress,
) -> ServiceResult<TeamRotation> {
    let team = Team::Communications;
    let old = team_identity_of(vault, coordinators, team).await?;
    let new = Identity::generate();
    let recipient = new.recipient();
    let mut trust = vault.keyring.trust().clone();
    trust.communications = recipient.clone();
    let mut plan = Plan::default();
    let holders = vault.store().wraps_of_object(ObjectKind::Team, team.as_str()).await?;
    rewrap_for_holders(vault, &mut plan, &trust, &holders, &new.to_secret_bytes()).await?;
    rewrap_held(vault, &mut plan, team, &old, &recipient, progress).await?;
    // What was published: approved stories, figure tables, annual reports.
    let published = [SealedTable::Stories, SealedTable::FigureTables, SealedTable::AnnualReports];
    reseal_tables(vault, &mut plan, &published, &old, &recipient).await?;
    finish(&mut plan, team, &recipient);
    Ok(TeamRotation { plan, trust })
}

/// Every row of `tables` sealed to the old team key, sealed again to the
/// new one (a row the old key does not open is left as it is).
async fn reseal_tables(
    vault: &Vault,
    plan: &mut Plan,
    tables: &[SealedTable],
    old: &Identity,
    recipient: &Recipient,
) -> ServiceResult<()> {
    for &table in tables {
        for row in vault.store().sealed_rows(table).await? {
            if let Some(sealed) = reencrypt(old, recipient, &row.sealed)? {
                plan.reseal(Write::Reseal { table, id: row.id, sealed });
            }
        }
    }
    Ok(())
}

/// The communications identity, opened through its wrap to the
/// coordinators team.
pub async fn team_identity_of(vault: &Vault, coordinators: &Identity, team: Team) -> ServiceResult<Identity> {
    crate::membership::service::wrapped_to_coordinators(vault, coordinators, team)
        .await?
        .ok_or(ServiceError::Internal("the communications key is not wrapped to the coordinators"))
}

/// The team's new recipient, and no recovery request left open: one
/// exported before the rotation carries wraps of the old keys, and its
/// answer would bring an old key back.
fn finish(plan: &mut Plan, team: Team, recipient: &Recipient) {
    plan.other(Write::PutTeam { name: team.as_str().to_owned(), recipient: recipient.to_string() });
    plan.other(Write::DeleteRecoveryRequests);
}

/// New recovery recipients: every recovery wrap (of both team keys and of
/// the directory and audit keys) replaced by wraps to `recipients`.
pub async fn recovery(
    vault: &Vault,
    coordinators: &Identity,
    recipients: Vec<Recipient>,
) -> Result<TeamRotation, RotationError> {
    let mut trust = vault.keyring.trust().clone();
    if recipients.is_empty() {
        return Err(refused("give at least one new recovery recipient (--recipient)"));
    }
    if let Some(both) = recipients.iter().find(|r| trust.backup.contains(r)) {
        return Err(refused(format!(
            "{both} is a backup recipient: a recovery key must be a key of its own (`safehouse keygen`)"
        )));
    }
    trust.recovery = recipients;
    let mut plan = Plan::default();
    let communications = team_identity_of(vault, coordinators, Team::Communications).await?;
    let secrets: [(ObjectKind, &str, zeroize::Zeroizing<Vec<u8>>); 4] = [
        (ObjectKind::Team, Team::Coordinators.as_str(), coordinators.to_secret_bytes()),
        (ObjectKind::Team, Team::Communications.as_str(), communications.to_secret_bytes()),
        (
            ObjectKind::System,
            "directory",
            zeroize::Zeroizing::new(vault.keyring.directory_key().expose().to_vec()),
        ),
        (ObjectKind::System, "audit", zeroize::Zeroizing::new(vault.keyring.audit_key().expose().to_vec())),
    ];
    for (object, id, secret) in secrets {
        for row in vault.store().wraps_of_object(object, id).await.map_err(ServiceError::from)? {
            if row.holder_kind == HolderKind::Recovery.as_str() {
                plan.other(Write::DeleteWrap {
                    object_kind: object,
                    object_id: row.object_id,
                    holder_kind: HolderKind::Recovery,
                    holder_id: row.holder_id,
                });
            }
        }
        for recipient in &trust.recovery {
            let wrapped = wrap::wrap(recipient, &secret).map_err(ServiceError::from)?;
            plan.wrap(Write::PutWrap(wrap_row(
                object,
                id,
                HolderKind::Recovery,
                &recipient.to_string(),
                0,
                wrapped,
            )));
        }
    }
    plan.other(Write::DeleteRecoveryRequests);
    Ok(TeamRotation { plan, trust })
}

/// New backup recipients: only the trust file changes (backups made from
/// now on are encrypted to them; older backups still need the old key).
pub fn backup(trust: &Trust, recipients: Vec<Recipient>) -> Result<Trust, RotationError> {
    if recipients.is_empty() {
        return Err(refused("give at least one new backup recipient (--recipient)"));
    }
    if let Some(both) = recipients.iter().find(|r| trust.recovery.contains(r)) {
        return Err(refused(format!(
            "{both} is a recovery recipient: a backup key must be a key of its own (`safehouse keygen --backup`)"
        )));
    }
    Ok(Trust { backup: recipients, ..trust.clone() })
}
