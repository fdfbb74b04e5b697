//! The PostgreSQL implementation of [`Store`]: one database shared by
//! several stateless nodes.

use async_trait::async_trait;
use sqlx::PgConnection;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};

use super::append::{AuditTx, append_jobs};
use super::*;

/// The advisory lock every node takes to append to the audit log (an
/// arbitrary constant: "safehouse audit" as ASCII, truncated).
const AUDIT_LOCK: i64 = 0x7361_6665_6175_6469;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

/// The PostgreSQL implementation of [`Store`]: the same rows as SQLite, for
/// several stateless nodes on one database.
#[derive(Clone)]
pub struct PgStore {
    pool: PgPool,
}

impl std::fmt::Debug for PgStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PgStore")
    }
}

impl PgStore {
    /// Connect and bring the schema up to date.
    pub async fn open(url: &str) -> Result<Self, StoreError> {
        Self::open_with(url.parse()?).await
    }

    /// Connect with parsed options (TLS settings included) and bring the
    /// schema up to date when a migration is pending. A schema already
    /// current is left alone, so a node may run as a role that can read and
    /// write rows but not change tables (docs/deployment.md).
    pub async fn open_with(options: PgConnectOptions) -> Result<Self, StoreError> {
        Self::connect(options, false).await
    }

    /// The same, also on a database a restore has not finished: for the
    /// restore itself.
    pub async fn open_unfinished(options: PgConnectOptions) -> Result<Self, StoreError> {
        Self::connect(options, true).await
    }

    async fn connect(options: PgConnectOptions, unfinished_restore: bool) -> Result<Self, StoreError> {
        // A commit is acknowledged only once its WAL record is on disk,
        // whatever the database's or the role's default says: an answered
        // write must survive a crash of PostgreSQL itself.
        let options = options.options([("synchronous_commit", "on")]);
        let pool = PgPoolOptions::new().max_connections(8).connect_with(options).await?;
        // Before any migration: one must not fill a target the restore
        // would then take for restored.
        if !unfinished_restore && restore_unfinished(&pool).await? {
            pool.close().await;
            return Err(StoreError::RestoreUnfinished);
        }
        if !schema_is_current(&pool).await? {
            MIGRATOR.run(&pool).await?;
        }
        Ok(Self { pool })
    }

    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// The schema a restore makes before `pg_restore` and drops once its
/// checks and its audit entry are done (backup::restore).
pub const RESTORE_MARKER: &str = "safehouse_restore_unfinished";

async fn restore_unfinished(pool: &PgPool) -> Result<bool, StoreError> {
    let (marked,): (bool,) =
        sqlx::query_as("SELECT to_regnamespace($1) IS NOT NULL").bind(RESTORE_MARKER).fetch_one(pool).await?;
    Ok(marked)
}

/// Every migration of this build applied, with the same checksum.
async fn schema_is_current(pool: &PgPool) -> Result<bool, StoreError> {
    let (exists,): (bool,) =
        sqlx::query_as("SELECT to_regclass('_sqlx_migrations') IS NOT NULL").fetch_one(pool).await?;
    if !exists {
        return Ok(false);
    }
    let applied: Vec<(i64, Vec<u8>)> =
        sqlx::query_as("SELECT version, checksum FROM _sqlx_migrations WHERE success")
            .fetch_all(pool)
            .await?;
    Ok(MIGRATOR.iter().all(|m| applied.iter().any(|(v, sum)| *v == m.version && *sum == *m.checksum)))
}

fn map_constraint(error: sqlx::Error) -> StoreError {
    if let sqlx::Error::Database(db) = &error {
        if db.constraint() == Some("users_lookup_unique") {
            return StoreError::Duplicate("users_lookup_unique");
        }
        // A second correction of one aid entry: the other correction won.
        if db.constraint() == Some("aid_entries_supersedes_key") {
            return StoreError::Conflict;
        }
        if db.is_unique_violation() {
            return StoreError::Duplicate("primary key");
        }
    }
    StoreError::Database(error)
}

/// Begin an audit append. Take the audit lock before the chain head is
/// read: appends from every node are serialised, so the chain never forks
/// (and the primary key on seq refuses a fork even without it). An advisory
/// transaction lock rather than LOCK TABLE, which would need UPDATE or
/// DELETE privilege on the log, and the nodes' role has neither
/// (docs/deployment.md). Readers are never blocked.
async fn begin_append(conn: &mut PgConnection) -> Result<(), StoreError> {
    sqlx::query("BEGIN").execute(&mut *conn).await?;
    if let Err(e) = sqlx::query("SELECT pg_advisory_xact_lock($1)").bind(AUDIT_LOCK).execute(&mut *conn).await
    {
        let _ = sqlx::query("ROLLBACK").execute(&mut *conn).await;
        return Err(e.into());
    }
    Ok(())
}

/// Nothing to do on the nodes' side: dead tuples are reclaimed by VACUUM,
/// which the database owner runs (docs/operations.md, "Purging closed
/// cases"); the nodes' role may not be allowed to.
async fn checkpoint(_pool: &PgPool) -> Result<bool, StoreError> {
    Ok(true)
}

super::sql::sql_store!(PgStore, PgConnection);
