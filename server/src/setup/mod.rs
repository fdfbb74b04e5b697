//! Making a new instance (`safehouse init`) and opening an existing one
//! (`safehouse serve` and every other command).

pub mod lock;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use sqlx::postgres::{PgConnectOptions, PgSslMode};

use crate::accounts::model::{Password, Role, Username};
use crate::accounts::service as accounts;
use crate::accounts::userkey::RecoveryCode;
use crate::audit::{Action, Event};
use crate::clock::Clock;
use crate::config::{Config, KdfParams};
use crate::crypto::{Identity, Key32, Recipient};
use crate::error::ServiceError;
use crate::keyring::{self, Keyring, KeyringError, SecretsDir, Trust, secrets};
use crate::membership;
use crate::sessions::SessionsAt;
use crate::storage::{SqliteStore, Store, StoreError};
use crate::vault::Vault;

#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    #[error(
        "the data directory {0} already exists and is not empty; init never touches an existing instance"
    )]
    DataDirExists(PathBuf),
    #[error("no database at {0}: run `safehouse init` first, or check SAFEHOUSE_DATA_DIR")]
    NoDatabase(PathBuf),
    #[error("the database already holds a Safehouse instance; init never touches an existing instance")]
    DatabaseInUse,
    #[error(
        "PostgreSQL at {host} is not on this machine, and sslmode={mode} does not verify its certificate and host name: \
         use sslmode=verify-full in the URL (with sslrootcert=FILE for a private certificate authority), \
         or set database_allow_insecure = true if the link is protected some other way"
    )]
    RemoteWithoutTls { host: String, mode: &'static str },
    #[error("at least one recovery recipient (an age public key from `safehouse keygen`) is required")]
    NoRecoveryRecipient,
    #[error("cannot create {path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error(transparent)]
    Secrets(#[from] secrets::SecretsError),
    #[error(transparent)]
    Keyring(#[from] KeyringError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Service(#[from] ServiceError),
}

pub struct InitOptions {
    pub data_dir: PathBuf,
    pub secrets_dir: PathBuf,
    pub recovery: Vec<Recipient>,
    pub coordinator: Username,
    pub coordinator_password: Password,
    pub admin: Username,
    pub kdf: KdfParams,
    /// `None`: the SQLite file in the data directory; otherwise a
    /// `postgres://` URL of an empty database.
    pub database_url: Option<String>,
    /// See [`Config::database_allow_insecure`].
    pub database_allow_insecure: bool,
}

/// What `init` prints once.
#[derive(Debug)]
pub struct InitReport {
    pub instance_id: String,
    pub coordinator_fingerprint: String,
    pub coordinator_recovery_codes: Vec<RecoveryCode>,
    pub admin_activation: accounts::ActivationToken,
    pub vault: Vault,
}

fn is_empty_or_missing(path: &Path) -> bool {
    match std::fs::read_dir(path) {
        Ok(mut entries) => entries.next().is_none(),
        Err(_) => !path.exists(),
    }
}

/// Create a new instance. Refuses an existing data directory or secrets,
/// and removes what it made if any step fails.
pub async fn init(options: InitOptions, clock: Arc<dyn Clock>) -> Result<InitReport, SetupError> {
    keyring::check_layout(&options.data_dir, &options.secrets_dir)?;
    if !is_empty_or_missing(&options.data_dir) {
        return Err(SetupError::DataDirExists(options.data_dir.clone()));
    }
    if options.recovery.is_empty() {
        return Err(SetupError::NoRecoveryRecipient);
    }
    let secrets = SecretsDir::new(&options.secrets_dir);
    secrets.ensure_empty()?;
    let data_existed = options.data_dir.exists();
    let result = init_inner(&options, &secrets, clock).await;
    if result.is_err() {
        // Leave nothing half-made behind.
        let db = options.data_dir.join("safehouse.db");
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", db.display()));
        }
        if !data_existed {
            let _ = std::fs::remove_dir(&options.data_dir);
        }
    }
    result
}

async fn init_inner(
    options: &InitOptions,
    secrets: &SecretsDir,
    clock: Arc<dyn Clock>,
) -> Result<InitReport, SetupError> {
    secrets::create_private_dir(&options.data_dir)
        .map_err(|source| SetupError::Io { path: options.data_dir.clone(), source })?;
    let store: Arc<dyn Store> = match &options.database_url {
        Some(url) => {
            let store = open_postgres(url, options.database_allow_insecure).await?;
            if store.instance().await?.is_some() {
                return Err(SetupError::DatabaseInUse);
            }
            store
        }
        None => Arc::new(SqliteStore::open(&options.data_dir.join("safehouse.db"), true).await?),
    };
    let pepper = Key32::random();
    let coordinators = Identity::generate();
    let communications = Identity::generate();
    let trust = Trust {
        instance_id: uuid::Uuid::new_v4().to_string(),
        coordinators: coordinators.recipient(),
        communications: communications.recipient(),
        recovery: options.recovery.clone(),
        backup: Vec::new(),
    };
    let (keyring, writes) = Keyring::create(pepper.clone(), trust.clone())?;
    let vault = Vault::new(store, Arc::new(keyring), clock, options.kdf);
    let request_id = crate::audit::model::new_request_id();
    vault.commit(&Event::system(Action::InstanceInit, &request_id), writes).await?;

    let coordinator =
        accounts::create_account_unchecked(&vault, &options.coordinator, [Role::Coordinator].into()).await?;
    let issued =
        accounts::activate(&vault, coordinator.activation.expose(), &options.coordinator_password).await?;
    let writes = membership::bootstrap_writes(&vault, &issued.actor, &coordinators, &communications).await?;
    let admitted = Event::system(Action::TeamAdmit, &request_id).on(issued.actor.user_id());
    vault.commit(&admitted, writes).await?;
    let admin = accounts::create_account_unchecked(&vault, &options.admin, [Role::Admin].into()).await?;

    // The secrets directory last: without it the database is inert, and a
    // failure before this point leaves no secret behind.
    secrets.write_pepper(&pepper)?;
    if let Err(e) = secrets.write_trust(&trust) {
        let _ = std::fs::remove_file(secrets.path().join("pepper"));
        return Err(e.into());
    }
    Ok(InitReport {
        instance_id: trust.instance_id,
        coordinator_fingerprint: issued.fingerprint,
        coordinator_recovery_codes: issued.recovery_codes,
        admin_activation: admin.activation,
        vault,
    })
}

/// Open the store named by the configuration.
pub async fn open_store(config: &Config) -> Result<Arc<dyn Store>, SetupError> {
    if let Some(url) = config.database_url_exposed().filter(|u| is_postgres(u)) {
        return open_postgres(url, config.database_allow_insecure).await;
    }
    let path = config.sqlite_path();
    if !path.exists() {
        return Err(SetupError::NoDatabase(path));
    }
    Ok(Arc::new(SqliteStore::open(&path, false).await?))
}

/// Where this node keeps sessions: beside the SQLite file, or in the
/// PostgreSQL database every node shares.
pub fn sessions_at(config: &Config) -> Result<SessionsAt, SetupError> {
    match config.database_url_exposed().filter(|u| is_postgres(u)) {
        Some(url) => {
            Ok(SessionsAt::Postgres(Box::new(postgres_options(url, config.database_allow_insecure)?)))
        }
        None => Ok(SessionsAt::File(config.data_dir.join("sessions.db"))),
    }
}

/// Open an existing instance: the store, then the keyring, which refuses a
/// missing or mismatched pepper or trust file.
pub async fn open(config: &Config, clock: Arc<dyn Clock>) -> Result<Vault, SetupError> {
    let store = open_store(config).await?;
    let keyring = Keyring::open(store.as_ref(), &SecretsDir::new(&config.secrets_dir)).await?;
    let policy = crate::audit::service::BulkReadPolicy {
        cases: config.bulk_read_cases,
        minutes: config.bulk_read_minutes,
    };
    Ok(Vault::new(store, Arc::new(keyring), clock, config.kdf)
        .with_bulk_read(policy)
        .with_stale_days(&config.stale_days)
        .with_publication(config.publication)
        .with_purge_retention(config.purge_retention_days))
}

fn is_postgres(url: &str) -> bool {
    url.starts_with("postgres://") || url.starts_with("postgresql://")
}

async fn open_postgres(url: &str, allow_insecure: bool) -> Result<Arc<dyn Store>, SetupError> {
    Ok(Arc::new(crate::storage::PgStore::open_with(postgres_options(url, allow_insecure)?).await?))
}

/// Connection options for a `postgres://` URL, with the transport rule: a
/// server on this machine (`localhost`, any loopback address, 127.0.0.0/8
/// or ::1, or a Unix socket) may be reached as the URL says; any other
/// needs TLS with a verified certificate for its name. An unset sslmode
/// (which means "prefer", silently plain) becomes `verify-full`; an
/// explicitly weaker one is refused unless `allow_insecure`. `verify-ca`
/// is weaker too: it checks the certificate's issuer but not the host
/// name, and without `sslrootcert` the issuers are every public
/// certificate authority, so any certificate bought for any name would
/// pass. Checked before anything is sent, so a password never crosses a
/// network in clear.
pub fn postgres_options(url: &str, allow_insecure: bool) -> Result<PgConnectOptions, SetupError> {
    let options: PgConnectOptions = url.parse().map_err(StoreError::from)?;
    let host = options.get_host();
    let local = options.get_socket().is_some()
        || host == "localhost"
        || host.starts_with('/')
        || host.trim_matches(['[', ']']).parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback());
    if local || allow_insecure {
        return Ok(options);
    }
    match options.get_ssl_mode() {
        PgSslMode::VerifyFull => Ok(options),
        PgSslMode::Prefer => Ok(options.ssl_mode(PgSslMode::VerifyFull)),
        weaker => Err(SetupError::RemoteWithoutTls {
            host: host.to_owned(),
            mode: match weaker {
                PgSslMode::Disable => "disable",
                PgSslMode::Allow => "allow",
                PgSslMode::VerifyCa => "verify-ca",
                _ => "require",
            },
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mode(url: &str, allow: bool) -> Result<PgSslMode, String> {
        postgres_options(url, allow).map(|o| o.get_ssl_mode()).map_err(|e| e.to_string())
    }

    #[test]
    fn a_remote_database_needs_a_verified_certificate() {
        // Unset (libpq's "prefer", silently plain) becomes verify-full.
        assert!(matches!(mode("postgres://app@db.example.org/safehouse", false), Ok(PgSslMode::VerifyFull)));
        assert!(matches!(mode("postgres://app@10.0.0.5/s?sslmode=prefer", false), Ok(PgSslMode::VerifyFull)));
        assert!(matches!(
            mode("postgres://app@10.0.0.5/s?sslmode=verify-full", false),
            Ok(PgSslMode::VerifyFull)
        ));
        // verify-ca checks no host name: any certificate from any trusted
        // authority would pass.
        for weak in ["disable", "allow", "require", "verify-ca"] {
            let url = format!("postgres://app:hunter2-canary@db.example.org/s?sslmode={weak}");
            let error = mode(&url, false).unwrap_err();
            assert!(error.contains("db.example.org") && error.contains(weak), "{error}");
            assert!(!error.contains("hunter2-canary"), "the password never reaches a message");
            // Told, on purpose: accepted as written.
            assert!(mode(&url, true).is_ok());
        }
    }

    #[test]
    fn a_database_on_this_machine_is_reached_as_the_url_says() {
        for url in [
            "postgres://postgres@127.0.0.1:5432/s?sslmode=disable",
            "postgres://postgres@localhost/s?sslmode=disable",
            "postgres://postgres@[::1]:5432/s?sslmode=disable",
            "postgres:///s?host=/var/run/postgresql",
        ] {
            assert!(mode(url, false).is_ok(), "{url}");
        }
        assert!(matches!(mode("postgres://postgres@127.0.0.1/s", false), Ok(PgSslMode::Prefer)));
    }
}
