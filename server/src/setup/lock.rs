//! The instance lock: every running server holds it shared, a key rotation
//! holds it alone. A rotation replaces keys that a running server has
//! open or is about to wrap to, so it must never run beside one; the lock
//! makes "stop every server first" a check rather than a hope.
//!
//! On SQLite it is an advisory file lock on `instance.lock` in the data
//! directory; on PostgreSQL a session-level advisory lock on the shared
//! database (every node holds one, shared), kept on a connection of its
//! own. Both go with the process: a killed server leaves no stale lock.

use rustix::fs::{FlockOperation, flock};
use sqlx::{Connection, PgConnection};

use super::{SetupError, is_postgres, postgres_options};
use crate::config::Config;

/// The advisory lock's key on PostgreSQL (any fixed number: the lock is
/// per database, and only Safehouse takes advisory locks on its database).
const PG_LOCK_KEY: i64 = 0x5afe_4015e;

const LOCK_FILE: &str = "instance.lock";

/// Held until dropped.
pub enum InstanceLock {
    File(std::fs::File),
    Postgres(Box<PgConnection>),
}

impl std::fmt::Debug for InstanceLock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            InstanceLock::File(_) => "InstanceLock::File",
            InstanceLock::Postgres(_) => "InstanceLock::Postgres",
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// A server, or a command that writes beside servers.
    Shared,
    /// A key rotation: nothing else may run.
    Exclusive,
}

#[derive(Debug, thiserror::Error)]
pub enum LockError {
    #[error(
        "a Safehouse server (or another command) is running on this instance: stop every server, on every \
         node, before rotating a key"
    )]
    Busy,
    #[error("a key rotation is running on this instance: wait for it to finish, then start again")]
    Rotating,
    #[error(transparent)]
    Setup(#[from] SetupError),
}

impl Mode {
    fn busy(self) -> LockError {
        match self {
            Mode::Shared => LockError::Rotating,
            Mode::Exclusive => LockError::Busy,
        }
    }
}

/// How many times, 100 ms apart, a PostgreSQL lock is tried again before a
/// refusal (see `take`).
const PG_RELEASE_TRIES: u32 = 20;

/// Take the instance lock without waiting for its holder to finish (on
/// PostgreSQL, two seconds at most for one that has just stopped): a
/// refusal names who holds it.
pub async fn take(config: &Config, mode: Mode) -> Result<InstanceLock, LockError> {
    if let Some(url) = config.database_url_exposed().filter(|u| is_postgres(u)) {
        let options = postgres_options(url, config.database_allow_insecure)?;
        let store = |e: sqlx::Error| LockError::Setup(SetupError::Store(e.into()));
        let mut conn = PgConnection::connect_with(&options).await.map_err(store)?;
        let sql = match mode {
            Mode::Shared => "SELECT pg_try_advisory_lock_shared($1)",
            Mode::Exclusive => "SELECT pg_try_advisory_lock($1)",
        };
        // A process that has just stopped still holds its lock until its
        // database backend notices the closed connection (milliseconds): a
        // refusal waits that long first, never longer.
        for attempt in 0..=PG_RELEASE_TRIES {
            let (taken,): (bool,) =
                sqlx::query_as(sql).bind(PG_LOCK_KEY).fetch_one(&mut conn).await.map_err(store)?;
            if taken {
                return Ok(InstanceLock::Postgres(Box::new(conn)));
            }
            if attempt < PG_RELEASE_TRIES {
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            }
        }
        return Err(mode.busy());
    }
    let path = config.data_dir.join(LOCK_FILE);
    let io = |source| LockError::Setup(SetupError::Io { path: path.clone(), source });
    // No lock file where there is no instance: an empty data directory
    // made ready for a restore must stay empty.
    if !config.sqlite_path().exists() {
        return Err(LockError::Setup(SetupError::NoDatabase(config.sqlite_path())));
    }
    let file =
        std::fs::OpenOptions::new().create(true).truncate(false).write(true).open(&path).map_err(io)?;
    let operation = match mode {
        Mode::Shared => FlockOperation::NonBlockingLockShared,
        Mode::Exclusive => FlockOperation::NonBlockingLockExclusive,
    };
    match flock(&file, operation) {
        Ok(()) => Ok(InstanceLock::File(file)),
        Err(e) if e == rustix::io::Errno::WOULDBLOCK => Err(mode.busy()),
        Err(e) => Err(io(e.into())),
    }
}
