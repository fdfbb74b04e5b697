//! The secrets directory: the pepper and the trust file. It lives outside
//! the data directory and out of every backup.

use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::Team;
use crate::crypto::{Key32, Recipient};

const PEPPER_FILE: &str = "pepper";
const TRUST_FILE: &str = "trust.toml";
/// Where a rotation stages the next trust file (a directory, so the file in
/// it can keep its name and be renamed over the current one).
const STAGED_TRUST_DIR: &str = ".trust-new";

#[derive(Debug, thiserror::Error)]
pub enum SecretsError {
    #[error(
        "the pepper file {0} is missing: the server cannot start without it. If it is only misplaced, \
         put it back (mode 0600); if it is lost for good, follow \"Offline recovery: the pepper is lost\" \
         in docs/operations.md (`safehouse recover export --lost-pepper`)"
    )]
    PepperMissing(PathBuf),
    #[error(
        "the trust file {0} is missing: put back a copy of this instance's trust.toml (it is not secret: \
         the copy kept when the instance was made, or the one of any other node, will do). It is never \
         rebuilt from the database, which it is there to check"
    )]
    TrustMissing(PathBuf),
    #[error(
        "{path} can be read by other users of this machine (mode {mode:o}): refusing to use it. \
         Make the secrets directory private: chmod 700 {dir} && chmod 600 {dir}/*"
    )]
    NotPrivate { path: PathBuf, dir: PathBuf, mode: u32 },
    #[error("the pepper file {0} is malformed")]
    PepperMalformed(PathBuf),
    #[error("the trust file {path} is malformed: {message}")]
    TrustMalformed { path: PathBuf, message: String },
    #[error("the secrets directory {0} already holds a pepper or trust file; refusing to overwrite it")]
    Exists(PathBuf),
    #[error("the secrets directory must be outside the data directory (and not contain it)")]
    Layout,
    #[error("cannot write {path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
}

/// The pinned public recipients and the instance they belong to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Trust {
    pub instance_id: String,
    pub coordinators: Recipient,
    pub communications: Recipient,
    pub recovery: Vec<Recipient>,
    /// Backup recipients (`safehouse keygen --backup`): every backup is
    /// encrypted to each of them. Never one of the recovery recipients.
    pub backup: Vec<Recipient>,
}

impl Trust {
    pub fn team(&self, team: Team) -> &Recipient {
        match team {
            Team::Coordinators => &self.coordinators,
            Team::Communications => &self.communications,
        }
    }
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct TrustFile {
    instance_id: String,
    coordinators: String,
    communications: String,
    recovery: Vec<String>,
    // Optional: a trust file made before backups existed has none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    backup: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct SecretsDir {
    path: PathBuf,
}

impl SecretsDir {
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self { path: path.into() }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn read_pepper(&self) -> Result<Key32, SecretsError> {
        let path = self.path.join(PEPPER_FILE);
        self.check_private(&self.path)?;
        self.check_private(&path)?;
        let text = fs::read_to_string(&path).map_err(|_| SecretsError::PepperMissing(path.clone()))?;
        let bytes = super::from_base64(&text).ok_or_else(|| SecretsError::PepperMalformed(path.clone()))?;
        Key32::from_slice(&bytes).map_err(|_| SecretsError::PepperMalformed(path))
    }

    pub fn read_trust(&self) -> Result<Trust, SecretsError> {
        let path = self.path.join(TRUST_FILE);
        let text = fs::read_to_string(&path).map_err(|_| SecretsError::TrustMissing(path.clone()))?;
        let malformed = |message: String| SecretsError::TrustMalformed { path: path.clone(), message };
        let file: TrustFile = toml::from_str(&text).map_err(|e| malformed(e.message().to_owned()))?;
        let parse =
            |s: &str| s.parse::<Recipient>().map_err(|_| malformed(format!("not an age recipient: {s}")));
        let recovery = file.recovery.iter().map(|s| parse(s)).collect::<Result<Vec<_>, _>>()?;
        if recovery.is_empty() {
            return Err(malformed("at least one recovery recipient is required".into()));
        }
        let backup = file.backup.iter().map(|s| parse(s)).collect::<Result<Vec<_>, _>>()?;
        if let Some(both) = backup.iter().find(|b| recovery.contains(b)) {
            return Err(malformed(format!(
                "{both} is both a recovery and a backup recipient: make a separate backup key \
                 (`safehouse keygen --backup`)"
            )));
        }
        Ok(Trust {
            instance_id: file.instance_id,
            coordinators: parse(&file.coordinators)?,
            communications: parse(&file.communications)?,
            recovery,
            backup,
        })
    }

    /// Refuse a secrets directory or pepper that other users can read or
    /// enter: the pepper is what makes a copy of the database worthless,
    /// and a warning in a log nobody reads would leave it exposed. A
    /// missing path is left to the caller's own message.
    fn check_private(&self, path: &Path) -> Result<(), SecretsError> {
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            if let Ok(meta) = fs::metadata(path) {
                let mode = meta.permissions().mode() & 0o777;
                if mode & 0o077 != 0 {
                    return Err(SecretsError::NotPrivate {
                        path: path.to_path_buf(),
                        dir: self.path.clone(),
                        mode,
                    });
                }
            }
        }
        Ok(())
    }

    /// Refuse to start a new instance over existing secrets.
    pub fn ensure_empty(&self) -> Result<(), SecretsError> {
        if self.path.join(PEPPER_FILE).exists() || self.path.join(TRUST_FILE).exists() {
            return Err(SecretsError::Exists(self.path.clone()));
        }
        Ok(())
    }

    pub fn write_pepper(&self, pepper: &Key32) -> Result<(), SecretsError> {
        self.write_private(PEPPER_FILE, &format!("{}\n", super::to_base64(pepper.expose())), false)
    }

    /// Replace the pepper (offline recovery with a new pepper).
    pub fn replace_pepper(&self, pepper: &Key32) -> Result<(), SecretsError> {
        self.write_private(PEPPER_FILE, &format!("{}\n", super::to_base64(pepper.expose())), true)
    }

    pub fn write_trust(&self, trust: &Trust) -> Result<(), SecretsError> {
        let file = TrustFile {
            instance_id: trust.instance_id.clone(),
            coordinators: trust.coordinators.to_string(),
            communications: trust.communications.to_string(),
            recovery: trust.recovery.iter().map(ToString::to_string).collect(),
            backup: trust.backup.iter().map(ToString::to_string).collect(),
        };
        let text = toml::to_string(&file).map_err(|e| SecretsError::TrustMalformed {
            path: self.path.join(TRUST_FILE),
            message: e.to_string(),
        })?;
        let header = "# Pinned public keys of this Safehouse instance. Not secret, but an\n\
                      # attacker who could change it could redirect new key wraps: keep it\n\
                      # read-only, beside the pepper, outside the data directory.\n";
        self.write_private(TRUST_FILE, &format!("{header}{text}"), false)
    }

    /// Pin one more backup recipient in the trust file, whole at every
    /// moment (staged beside it and renamed over it).
    pub fn add_backup_recipient(&self, recipient: &Recipient) -> Result<Trust, SecretsError> {
        let mut trust = self.read_trust()?;
        let refuse = |message: &str| SecretsError::TrustMalformed {
            path: self.path.join(TRUST_FILE),
            message: message.into(),
        };
        if trust.recovery.contains(recipient) {
            return Err(refuse(
                "refusing to pin a recovery recipient as a backup recipient: make a separate backup key \
                 (`safehouse keygen --backup`)",
            ));
        }
        if trust.backup.contains(recipient) {
            return Err(refuse("that backup recipient is already pinned"));
        }
        trust.backup.push(recipient.clone());
        self.replace_trust(&trust)?;
        Ok(trust)
    }

    /// Replace the trust file at once (staged, then renamed over it).
    pub fn replace_trust(&self, trust: &Trust) -> Result<(), SecretsError> {
        self.stage_trust(trust)?;
        self.promote_staged_trust()
    }

    fn staged(&self) -> SecretsDir {
        SecretsDir::new(self.path.join(STAGED_TRUST_DIR))
    }

    /// Write the trust file a key rotation is about to make true, beside
    /// the current one. Refused while another staged file waits: only
    /// opening the instance (`Keyring::open`) decides what becomes of it.
    pub fn stage_trust(&self, trust: &Trust) -> Result<(), SecretsError> {
        let staged = self.staged();
        if staged.path.join(TRUST_FILE).exists() {
            return Err(SecretsError::TrustMalformed {
                path: staged.path.join(TRUST_FILE),
                message: "a trust file from an interrupted key rotation is waiting: open the instance once \
                          (start the server, or run `safehouse audit verify`) to settle it"
                    .into(),
            });
        }
        let _ = fs::remove_dir_all(&staged.path);
        staged.write_trust(trust)
    }

    /// The staged trust file, if a rotation left one.
    pub fn read_staged_trust(&self) -> Result<Option<Trust>, SecretsError> {
        let staged = self.staged();
        if !staged.path.join(TRUST_FILE).exists() {
            return Ok(None);
        }
        staged.read_trust().map(Some)
    }

    /// Make the staged trust file the trust file (one rename, then the
    /// directory synced so the rename survives a crash).
    pub fn promote_staged_trust(&self) -> Result<(), SecretsError> {
        let staged = self.staged();
        let io = |source| SecretsError::Io { path: self.path.join(TRUST_FILE), source };
        fs::rename(staged.path.join(TRUST_FILE), self.path.join(TRUST_FILE)).map_err(io)?;
        fs::remove_dir(&staged.path).map_err(io)?;
        fs::File::open(&self.path).and_then(|dir| dir.sync_all()).map_err(io)
    }

    /// Remove a staging directory that holds no trust file: nothing in it
    /// was ever committed (the file is staged before the commit and renamed
    /// away after it).
    pub fn remove_empty_staging(&self) -> Result<(), SecretsError> {
        let staged = self.staged();
        if !staged.path.exists() || staged.path.join(TRUST_FILE).exists() {
            return Ok(());
        }
        fs::remove_dir_all(&staged.path)
            .map_err(|source| SecretsError::Io { path: staged.path.clone(), source })
    }

    /// Drop the staged trust file (its rotation never committed).
    pub fn discard_staged_trust(&self) -> Result<(), SecretsError> {
        let staged = self.staged();
        fs::remove_dir_all(&staged.path)
            .map_err(|source| SecretsError::Io { path: staged.path.clone(), source })
    }

    /// Write a file readable by its owner only; with `replace` false, never
    /// overwrite.
    pub fn write_private(&self, name: &str, contents: &str, replace: bool) -> Result<(), SecretsError> {
        let io = |source| SecretsError::Io { path: self.path.clone(), source };
        create_private_dir(&self.path).map_err(io)?;
        let path = self.path.join(name);
        let mut options = fs::OpenOptions::new();
        options.write(true);
        if replace {
            options.create(true).truncate(true);
        } else {
            options.create_new(true);
        }
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let mut file =
            options.open(&path).map_err(|source| SecretsError::Io { path: path.clone(), source })?;
        file.write_all(contents.as_bytes())
            .and_then(|()| file.sync_all())
            .map_err(|source| SecretsError::Io { path: path.clone(), source })
    }
}

/// Create a directory readable by its owner only.
pub fn create_private_dir(path: &Path) -> std::io::Result<()> {
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(path)
}
