//! The SQLite implementation of [`Store`]: one file in the data directory.

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use sqlx::SqliteConnection;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};

use super::append::{AuditTx, append_jobs};
use super::*;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");

#[derive(Clone)]
pub struct SqliteStore {
    pool: SqlitePool,
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SqliteStore")
    }
}

impl SqliteStore {
    /// Open (or with `create`, create) the database file and bring its
    /// schema up to date.
    pub async fn open(path: &Path, create: bool) -> Result<Self, StoreError> {
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(create)
            .journal_mode(SqliteJournalMode::Wal)
            // FULL: an acknowledged write survives a crash of the process and
            // of the machine; the group-commit writer recovers the throughput.
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            // Overwrite deleted content, so a removed wrap or an old record
            // version does not linger in free pages.
            .pragma("secure_delete", "ON")
            .busy_timeout(Duration::from_secs(10));
        let pool = SqlitePoolOptions::new().max_connections(8).connect_with(options).await?;
        MIGRATOR.run(&pool).await?;
        Ok(Self { pool })
    }

    /// Open from a `sqlite://` URL (used by configuration).
    pub async fn open_url(url: &str) -> Result<Self, StoreError> {
        let options = SqliteConnectOptions::from_str(url)?;
        Self::open(options.get_filename(), false).await
    }

    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }
}

fn map_constraint(error: sqlx::Error) -> StoreError {
    if let sqlx::Error::Database(db) = &error {
        let message = db.message();
        if message.contains("users.lookup") || message.contains("users_lookup_unique") {
            return StoreError::Duplicate("users_lookup_unique");
        }
        // A second correction of one aid entry: the other correction won.
        if message.contains("aid_entries.supersedes") {
            return StoreError::Conflict;
        }
        if db.is_unique_violation() {
            return StoreError::Duplicate("primary key");
        }
    }
    StoreError::Database(error)
}

/// Begin an audit append. IMMEDIATE: take the write lock before the chain
/// head is read, so no other writer (another process) can append in
/// between.
async fn begin_append(conn: &mut SqliteConnection) -> Result<(), StoreError> {
    sqlx::query("BEGIN IMMEDIATE").execute(&mut *conn).await?;
    Ok(())
}

/// `PRAGMA wal_checkpoint(TRUNCATE)`: copy every frame of the log into the
/// database file and truncate the log to nothing. Its first column is 1
/// when a reader or writer kept it from completing.
async fn checkpoint(pool: &SqlitePool) -> Result<bool, StoreError> {
    let (busy, _, _): (i64, i64, i64) =
        sqlx::query_as("PRAGMA wal_checkpoint(TRUNCATE)").fetch_one(pool).await?;
    Ok(busy == 0)
}

super::sql::sql_store!(SqliteStore, SqliteConnection);
