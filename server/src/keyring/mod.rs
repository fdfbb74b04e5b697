//! The server's own keys: the pepper and trust file in the secrets
//! directory, and the directory and audit keys they unlock. Everything here
//! is needed without any user's key; nothing here opens a case.

pub mod secrets;

use std::path::Path;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use crate::crypto::{self, Aad, Key32, Label, Recipient, RecordKind};
use crate::storage::{InstanceRow, Store, StoreError, Write};

pub use secrets::{SecretsDir, Trust};

/// The schema format this build writes; recorded in the instance row.
pub const INSTANCE_FORMAT: i64 = 1;

#[derive(Debug, thiserror::Error)]
pub enum KeyringError {
    #[error("{0}")]
    Secrets(#[from] secrets::SecretsError),
    #[error("the database has not been initialised (run `safehouse init`)")]
    NotInitialised,
    #[error("the secrets directory belongs to another database (instance ids differ)")]
    InstanceMismatch,
    #[error("the pepper in the secrets directory does not match this database")]
    PepperMismatch,
    #[error(
        "the {team} recipient in the database differs from the trust file: refusing to wrap to it (if the key \
         was rotated on another node, copy that node's trust.toml here)"
    )]
    RecipientMismatch { team: &'static str },
    #[error("a system key in the database could not be opened: {0}")]
    SystemKey(&'static str),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The two teams whose identities are pinned in the trust file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Team {
    Coordinators,
    Communications,
}

impl Team {
    pub const ALL: [Team; 2] = [Team::Coordinators, Team::Communications];

    pub fn as_str(self) -> &'static str {
        match self {
            Team::Coordinators => "coordinators",
            Team::Communications => "communications",
        }
    }
}

/// The server's keys, opened at start-up from the secrets directory.
pub struct Keyring {
    pepper: Key32,
    trust: Trust,
    directory: Key32,
    audit: Key32,
}

impl std::fmt::Debug for Keyring {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Keyring")
            .field("instance_id", &self.trust.instance_id)
            .field("pepper", &"<redacted>")
            .field("directory", &"<redacted>")
            .field("audit", &"<redacted>")
            .finish()
    }
}

pub fn pepper_check(pepper: &Key32, instance_id: &str) -> Vec<u8> {
    crypto::mac(&pepper.derive(Label::PepperCheck, b""), &[instance_id.as_bytes()]).to_vec()
}

fn system_key_place(name: &str) -> Aad<'_> {
    Aad { kind: RecordKind::SystemKey, owner: name, record: "", field: "key", version: 1 }
}

impl Keyring {
    /// Make the keys of a new instance: returns the keyring and the writes
    /// that record it (instance row, sealed system keys, their recovery
    /// wraps, team recipients). The caller writes the secrets directory.
    pub fn create(pepper: Key32, trust: Trust) -> Result<(Keyring, Vec<Write>), KeyringError> {
        let directory = Key32::random();
        let audit = Key32::random();
        let seal_key = pepper.derive(Label::SystemKeySeal, trust.instance_id.as_bytes());
        let mut writes = vec![Write::InsertInstance(InstanceRow {
            instance_id: trust.instance_id.clone(),
            pepper_check: pepper_check(&pepper, &trust.instance_id),
            format: INSTANCE_FORMAT,
        })];
        for (name, key) in [("directory", &directory), ("audit", &audit)] {
            writes.push(Write::PutSystemKey {
                name: name.to_owned(),
                sealed: crypto::seal(&seal_key, &system_key_place(name), key.expose()),
            });
            for recipient in &trust.recovery {
                writes.push(crate::storage::Write::PutWrap(crate::storage::WrapRow {
                    object_kind: "system".into(),
                    object_id: name.to_owned(),
                    holder_kind: "recovery".into(),
                    holder_id: recipient.to_string(),
                    key_no: 0,
                    wrapped: crypto::wrap::wrap(recipient, key.expose())
                        .map_err(|_| KeyringError::SystemKey(name_static(name)))?,
                }));
            }
        }
        for team in Team::ALL {
            writes.push(Write::PutTeam {
                name: team.as_str().to_owned(),
                recipient: trust.team(team).to_string(),
            });
        }
        Ok((Keyring { pepper, trust, directory, audit }, writes))
    }

    /// Open the keyring of an existing instance, checking that the secrets
    /// directory and the database belong together.
    pub async fn open(store: &dyn Store, secrets: &SecretsDir) -> Result<Keyring, KeyringError> {
        let pepper = secrets.read_pepper()?;
        let trust = settle_trust(store, secrets).await?;
        Self::open_with(store, pepper, trust).await
    }

    pub async fn open_with(store: &dyn Store, pepper: Key32, trust: Trust) -> Result<Keyring, KeyringError> {
        let instance = store.instance().await?.ok_or(KeyringError::NotInitialised)?;
        if instance.instance_id != trust.instance_id {
            return Err(KeyringError::InstanceMismatch);
        }
        if !crypto::mac_verify(
            &pepper.derive(Label::PepperCheck, b""),
            &[instance.instance_id.as_bytes()],
            &instance.pepper_check,
        ) {
            return Err(KeyringError::PepperMismatch);
        }
        let seal_key = pepper.derive(Label::SystemKeySeal, trust.instance_id.as_bytes());
        let open_system = async |name: &'static str| -> Result<Key32, KeyringError> {
            let sealed = store.system_key(name).await?.ok_or(KeyringError::SystemKey(name))?;
            let plain = crypto::open(&seal_key, &system_key_place(name), &sealed)
                .map_err(|_| KeyringError::SystemKey(name))?;
            Key32::from_slice(&plain).map_err(|_| KeyringError::SystemKey(name))
        };
        let directory = open_system("directory").await?;
        let audit = open_system("audit").await?;
        let keyring = Keyring { pepper, trust, directory, audit };
        for team in Team::ALL {
            keyring.team_recipient(store, team).await?;
        }
        Ok(keyring)
    }

    pub fn pepper(&self) -> &Key32 {
        &self.pepper
    }

    pub fn trust(&self) -> &Trust {
        &self.trust
    }

    pub fn directory_key(&self) -> &Key32 {
        &self.directory
    }

    pub fn audit_key(&self) -> &Key32 {
        &self.audit
    }

    /// The pinned recipient of a team, after checking that the database
    /// still holds the same one. Called before every wrap to a team.
    pub async fn team_recipient(&self, store: &dyn Store, team: Team) -> Result<Recipient, KeyringError> {
        let pinned = self.trust.team(team);
        let stored = store.team_recipient(team.as_str()).await?;
        match stored {
            Some(text) if text == pinned.to_string() => Ok(pinned.clone()),
            _ => Err(KeyringError::RecipientMismatch { team: team.as_str() }),
        }
    }

    /// Re-seal the system keys under a new pepper (offline recovery).
    pub fn reseal_writes(&self, new_pepper: &Key32) -> Vec<Write> {
        let seal_key = new_pepper.derive(Label::SystemKeySeal, self.trust.instance_id.as_bytes());
        let mut writes = Vec::new();
        for (name, key) in [("directory", &self.directory), ("audit", &self.audit)] {
            writes.push(Write::PutSystemKey {
                name: name.to_owned(),
                sealed: crypto::seal(&seal_key, &system_key_place(name), key.expose()),
            });
        }
        writes
    }

    /// Assemble a keyring from recovered system keys (offline recovery with
    /// a new pepper).
    pub fn from_parts(pepper: Key32, trust: Trust, directory: Key32, audit: Key32) -> Keyring {
        Keyring { pepper, trust, directory, audit }
    }
}

/// The trust file to open with, after a key rotation that a crash may
/// have cut between its database commit and its trust file: the staged
/// file a rotation left is promoted if the database agrees with it and
/// not with the current file (the rotation committed), and dropped if the
/// database still agrees with the current file (it did not).
async fn settle_trust(store: &dyn Store, secrets: &SecretsDir) -> Result<Trust, KeyringError> {
    let current = secrets.read_trust()?;
    let staged = match secrets.read_staged_trust() {
        Ok(Some(staged)) => staged,
        Ok(None) => {
            // A rotation killed before its staged file was written, or after
            // it was renamed into place, leaves the staging directory empty.
            secrets.remove_empty_staging()?;
            return Ok(current);
        }
        Err(secrets::SecretsError::TrustMalformed { .. }) => {
            // Only a rotation writes there, and it syncs the whole file
            // before its commit begins: a file cut short was never committed.
            secrets.discard_staged_trust()?;
            return Ok(current);
        }
        Err(e) => return Err(e.into()),
    };
    if agrees(store, &current).await? {
        secrets.discard_staged_trust()?;
        return Ok(current);
    }
    if agrees(store, &staged).await? {
        secrets.promote_staged_trust()?;
        return Ok(staged);
    }
    // Neither: left as found, and opening refuses with the mismatch.
    Ok(current)
}

/// Whether the database holds what `trust` pins: both team recipients, and
/// exactly its recovery recipients as holders of the directory key.
pub(crate) async fn agrees(store: &dyn Store, trust: &Trust) -> Result<bool, KeyringError> {
    if store.instance().await?.is_none_or(|i| i.instance_id != trust.instance_id) {
        return Ok(false);
    }
    for team in Team::ALL {
        if store.team_recipient(team.as_str()).await?.as_deref()
            != Some(trust.team(team).to_string().as_str())
        {
            return Ok(false);
        }
    }
    let mut held: Vec<String> = store
        .wraps_of_object(crate::storage::ObjectKind::System, "directory")
        .await?
        .into_iter()
        .filter(|w| w.holder_kind == crate::storage::HolderKind::Recovery.as_str())
        .map(|w| w.holder_id)
        .collect();
    let mut pinned: Vec<String> = trust.recovery.iter().map(ToString::to_string).collect();
    held.sort_unstable();
    pinned.sort_unstable();
    Ok(held == pinned)
}

fn name_static(name: &str) -> &'static str {
    if name == "directory" { "directory" } else { "audit" }
}

/// Encode bytes for a text file.
pub fn to_base64(bytes: &[u8]) -> String {
    STANDARD.encode(bytes)
}

pub fn from_base64(text: &str) -> Option<Vec<u8>> {
    STANDARD.decode(text.trim()).ok()
}

/// Refuse a secrets directory inside the data directory: the pepper must
/// never travel with a backup of the data.
pub fn check_layout(data_dir: &Path, secrets_dir: &Path) -> Result<(), secrets::SecretsError> {
    let data = std::path::absolute(data_dir).unwrap_or_else(|_| data_dir.to_path_buf());
    let secrets = std::path::absolute(secrets_dir).unwrap_or_else(|_| secrets_dir.to_path_buf());
    if secrets.starts_with(&data) || data.starts_with(&secrets) {
        return Err(secrets::SecretsError::Layout);
    }
    Ok(())
}
