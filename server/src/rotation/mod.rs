//! Key rotation (`safehouse rotate`): a new key replaces an old one, and
//! everything that depended on the old key is re-wrapped or re-sealed in
//! one transaction, so the old key is in no row afterwards.
//!
//! - `teams`: the coordinators and communications team keys, and the
//!   recovery and backup recipients (the trust file changes with them).
//! - `data`: the index key and the register keys (their records re-sealed),
//!   and the compromise rotation: a new key for every case, every field
//!   re-sealed, the old wraps gone.
//!
//! Every rotation runs with every server stopped (the instance lock,
//! `setup::lock`) and reads the keys it replaces with the coordinators team
//! key, opened from a coordinator's credentials or from the recovery key.

pub mod data;
pub mod teams;

use crate::accounts::model::{Actor, Role};
use crate::audit::model::new_request_id;
use crate::audit::{Action, Event, Outcome};
use crate::crypto::{Identity, Recipient, wrap};
use crate::error::{ServiceError, ServiceResult};
use crate::keyring::{SecretsDir, Team, Trust};
use crate::membership;
use crate::storage::{HolderKind, ObjectKind, WrapRow, Write};
use crate::vault::Vault;

/// What `safehouse rotate` can rotate (its argument's words are these
/// names in lower case).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Target {
    Coordinators,
    Communications,
    Index,
    Registers,
    Recovery,
    Backup,
}

impl Target {
    pub fn as_str(self) -> &'static str {
        match self {
            Target::Coordinators => "coordinators",
            Target::Communications => "communications",
            Target::Index => "index",
            Target::Registers => "registers",
            Target::Recovery => "recovery",
            Target::Backup => "backup",
        }
    }
}

/// The writes of one rotation and what they amount to: wraps made again
/// for a new key, rows re-sealed or re-encrypted, and pending entries
/// dropped because they did not check under the old key (forged).
#[derive(Debug, Default)]
pub struct Plan {
    pub writes: Vec<Write>,
    pub rewrapped: usize,
    pub resealed: usize,
    pub refused: usize,
}

impl Plan {
    pub fn wrap(&mut self, write: Write) {
        self.writes.push(write);
        self.rewrapped += 1;
    }

    pub fn reseal(&mut self, write: Write) {
        self.writes.push(write);
        self.resealed += 1;
    }

    /// The deletion of a pending entry refused as forged.
    pub fn refuse(&mut self, write: Write) {
        self.writes.push(write);
        self.refused += 1;
    }

    /// A write that is neither (a team's new recipient, a guard).
    pub fn other(&mut self, write: Write) {
        self.writes.push(write);
    }

    pub fn extend(&mut self, other: Plan) {
        self.writes.extend(other.writes);
        self.rewrapped += other.rewrapped;
        self.resealed += other.resealed;
        self.refused += other.refused;
    }
}

/// Where a new key goes for the holder of an old wrap: a user at their
/// current key (a wrap to an older key is stale), a team or a recovery
/// recipient as `trust` pins it; `None` when the wrap is stale and goes.
pub(crate) async fn holder_recipient(
    vault: &Vault,
    trust: &Trust,
    holder: HolderKind,
    old: &WrapRow,
) -> ServiceResult<Option<Recipient>> {
    Ok(match holder {
        HolderKind::Team => {
            Team::ALL.into_iter().find(|t| t.as_str() == old.holder_id).map(|t| trust.team(t).clone())
        }
        HolderKind::Recovery => trust.recovery.iter().find(|r| r.to_string() == old.holder_id).cloned(),
        HolderKind::User => {
            let current =
                vault.store().user_key(&old.holder_id).await?.filter(|key| key.key_no == old.key_no);
            current.and_then(|key| key.recipient.parse().ok())
        }
    })
}

pub(crate) fn holder_kind(text: &str) -> ServiceResult<HolderKind> {
    [HolderKind::User, HolderKind::Team, HolderKind::Recovery]
        .into_iter()
        .find(|kind| kind.as_str() == text)
        .ok_or(ServiceError::Integrity("a wrap of an unknown kind of holder"))
}

pub(crate) fn object_kind(text: &str) -> ServiceResult<ObjectKind> {
    [ObjectKind::Team, ObjectKind::Case, ObjectKind::Shared, ObjectKind::System]
        .into_iter()
        .find(|kind| kind.as_str() == text)
        .ok_or(ServiceError::Integrity("a wrap of an unknown kind of object"))
}

/// Where a long rotation reports how far it is: `done` of `total` items of
/// the step named `step` (a progress bar on a terminal, lines otherwise).
pub trait Progress: Sync {
    fn advance(&self, step: &'static str, done: u64, total: u64);
}

/// No progress shown (tests, and steps too short to report).
pub struct Quiet;

impl Progress for Quiet {
    fn advance(&self, _: &'static str, _: u64, _: u64) {}
}

#[derive(Debug, thiserror::Error)]
pub enum RotationError {
    /// The request cannot be carried out; the message says why.
    #[error("{0}")]
    Refused(String),
    #[error(transparent)]
    Service(#[from] crate::error::ServiceError),
    #[error(transparent)]
    Secrets(#[from] crate::keyring::secrets::SecretsError),
}

pub(crate) fn refused(message: impl Into<String>) -> RotationError {
    RotationError::Refused(message.into())
}

/// What was asked: the target, whether a key may have leaked, and the new
/// recipients (for `recovery` and `backup`).
#[derive(Debug, Clone)]
pub struct Request {
    pub target: Target,
    pub compromised: bool,
    pub recipients: Vec<crate::crypto::Recipient>,
}

/// What a rotation did, for the operator.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Done {
    pub rewrapped: usize,
    pub resealed: usize,
    /// Waiting entries dropped because their MAC did not verify (forged).
    pub refused: usize,
    /// The trust file changed: every other node needs the new copy.
    pub trust_changed: bool,
}

/// The coordinators team identity that a rotation reads the old keys with.
pub struct Authority {
    coordinators: Identity,
    actor: Option<(crate::ids::UserId, crate::accounts::model::Role)>,
}

impl Authority {
    /// A coordinator's own: their key opens the team key, and the audit
    /// entries name them.
    pub async fn coordinator(vault: &Vault, actor: &Actor) -> Result<Authority, RotationError> {
        let coordinators = membership::coordinators_identity(vault, actor).await?;
        Ok(Authority { coordinators, actor: Some((actor.user_id(), Role::Coordinator)) })
    }

    /// The recovery key's: it opens the coordinators team key from its
    /// recovery wrap (for when no coordinator can log in).
    pub async fn recovery(vault: &Vault, recovery: &Identity) -> Result<Authority, RotationError> {
        let mine = recovery.recipient().to_string();
        let row = vault
            .store()
            .wrap(ObjectKind::Team, Team::Coordinators.as_str(), HolderKind::Recovery, &mine)
            .await
            .map_err(ServiceError::from)?
            .ok_or_else(|| refused("this recovery key is not a recovery recipient of this instance"))?;
        let secret = wrap::unwrap(recovery, &row.wrapped)
            .map_err(|_| refused("the coordinators key does not open with this recovery key"))?;
        let coordinators = Identity::from_secret_bytes(&secret).map_err(ServiceError::from)?;
        Ok(Authority { coordinators, actor: None })
    }

    fn event(&self, target: &str) -> Event {
        let event = Event::system(Action::KeyRotate, &new_request_id()).on(target);
        match self.actor {
            Some((user, role)) => Event { actor: Some(user), ..event }.as_role(role),
            None => event,
        }
    }
}

/// Carry out one rotation. Each database change is one audited
/// transaction; a rotation that changes the trust file stages the new file
/// first and renames it into place after the commit, and opening the
/// instance settles a crash in between (`keyring::settle_trust`), so a kill
/// at any moment leaves the old keys or the new, never a mix.
///
/// A compromise rotation commits the new case, index and register keys
/// first, then the target's own rotation (for a team target) as a second
/// transaction: a kill between them leaves the data re-sealed and the
/// team key as it was, and running the command again finishes it.
pub async fn rotate(
    vault: &Vault,
    secrets: &SecretsDir,
    authority: &Authority,
    request: Request,
    progress: &dyn Progress,
) -> Result<Done, RotationError> {
    let coordinators = &authority.coordinators;
    let mut done = Done::default();
    if request.compromised {
        if matches!(request.target, Target::Recovery | Target::Backup) {
            return Err(refused(
                "--compromised re-seals the data under new keys: give it with coordinators, \
                 communications, index or registers",
            ));
        }
        let mut plan = data::case_keys(vault, coordinators, progress).await?;
        plan.extend(data::index(vault, coordinators, progress).await?);
        plan.extend(data::registers(vault, coordinators, progress).await?);
        commit(vault, authority.event("compromise"), plan, &mut done).await?;
    }
    match request.target {
        Target::Coordinators | Target::Communications | Target::Recovery => {
            let rotation = match request.target {
                Target::Coordinators => teams::coordinators(vault, coordinators, progress).await?,
                Target::Communications => teams::communications(vault, coordinators, progress).await?,
                _ => teams::recovery(vault, coordinators, request.recipients).await?,
            };
            secrets.stage_trust(&rotation.trust)?;
            let committed =
                commit(vault, authority.event(request.target.as_str()), rotation.plan, &mut done).await;
            if committed.is_err() {
                secrets.discard_staged_trust()?;
            }
            committed?;
            secrets.promote_staged_trust()?;
            done.trust_changed = true;
        }
        Target::Index if !request.compromised => {
            let plan = data::index(vault, coordinators, progress).await?;
            commit(vault, authority.event("index"), plan, &mut done).await?;
        }
        Target::Registers if !request.compromised => {
            let plan = data::registers(vault, coordinators, progress).await?;
            commit(vault, authority.event("registers"), plan, &mut done).await?;
        }
        // Already renewed by the compromise rotation above.
        Target::Index | Target::Registers => {}
        Target::Backup => {
            let trust = teams::backup(vault.keyring.trust(), request.recipients)?;
            secrets.replace_trust(&trust)?;
            vault.record(&authority.event("backup"), Outcome::Ok).await?;
            done.trust_changed = true;
        }
    }
    // The old wraps' pages, zeroed by secure_delete, out of the log too.
    vault.store().checkpoint().await.map_err(ServiceError::from)?;
    Ok(done)
}

async fn commit(vault: &Vault, event: Event, plan: Plan, done: &mut Done) -> Result<(), RotationError> {
    vault.commit(&event, plan.writes).await?;
    done.rewrapped += plan.rewrapped;
    done.resealed += plan.resealed;
    done.refused += plan.refused;
    Ok(())
}
