use std::path::Path;
use std::time::Duration;

use async_trait::async_trait;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use time::OffsetDateTime;
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::{self, SessionStore};

use crate::crypto::{self, Aad, Identity, Key32, Label, RecordKind};
use crate::ids::UserId;

/// Sessions in their own SQLite file beside the database, so a backup of the
/// database never carries them.
#[derive(Clone)]
pub struct SealedStore {
    pool: SqlitePool,
    /// Keys the owner hash (derived from the directory key): "log out
    /// everywhere" can find a user's rows without their ids.
    owner_key: Key32,
}

impl std::fmt::Debug for SealedStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SealedStore")
    }
}

fn id_bytes(id: &Id) -> [u8; 16] {
    id.0.to_le_bytes()
}

fn row_key(id: &Id) -> Vec<u8> {
    crypto::derive::derive(&id_bytes(id), None, Label::SessionRow, b"").expose().to_vec()
}

fn seal_key(id: &Id) -> Key32 {
    crypto::derive::derive(&id_bytes(id), None, Label::SessionSeal, b"")
}

fn place<'a>(field: &'a str, row: &'a str) -> Aad<'a> {
    Aad { kind: RecordKind::Session, owner: row, record: "", field, version: 1 }
}

fn backend(e: impl std::fmt::Display) -> session_store::Error {
    session_store::Error::Backend(e.to_string())
}

/// Expiry kept in clear, rounded up to the minute: enough to purge rows.
fn coarse(expiry: OffsetDateTime) -> i64 {
    let t = expiry.unix_timestamp();
    t + (60 - t.rem_euclid(60))
}

impl SealedStore {
    pub async fn open(path: &Path, owner_key: Key32) -> Result<Self, sqlx::Error> {
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .pragma("secure_delete", "ON")
            .busy_timeout(Duration::from_secs(10));
        let pool = SqlitePoolOptions::new().max_connections(4).connect_with(options).await?;
        sqlx::query(
            "CREATE TABLE IF NOT EXISTS sessions (
                row_key BLOB PRIMARY KEY,
                owner BLOB,
                expires_at INTEGER NOT NULL,
                sealed BLOB NOT NULL,
                sealed_user_key BLOB
            ) STRICT",
        )
        .execute(&pool)
        .await?;
        sqlx::query("CREATE INDEX IF NOT EXISTS sessions_by_owner ON sessions (owner)")
            .execute(&pool)
            .await?;
        Ok(Self { pool, owner_key })
    }

    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }

    fn owner(&self, user_id: UserId) -> Vec<u8> {
        crypto::mac(&self.owner_key.derive(Label::SessionOwner, b""), &[user_id.to_string().as_bytes()])
            .to_vec()
    }

    fn seal_record(record: &Record) -> session_store::Result<Vec<u8>> {
        let json = zeroize::Zeroizing::new(serde_json::to_vec(&record.data).map_err(backend)?);
        let row = hex(&row_key(&record.id));
        Ok(crypto::seal(&seal_key(&record.id), &place("record", &row), &json))
    }

    /// Bind a logged-in user to the session: their key in its own sealed
    /// column, and the owner hash.
    pub async fn attach(&self, id: &Id, user_id: UserId, identity: &Identity) -> Result<(), sqlx::Error> {
        let rk = row_key(id);
        let sealed = crypto::seal(&seal_key(id), &place("user-key", &hex(&rk)), &identity.to_secret_bytes());
        sqlx::query("UPDATE sessions SET owner = ?, sealed_user_key = ? WHERE row_key = ?")
            .bind(self.owner(user_id))
            .bind(sealed)
            .bind(rk)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// The user key held by a live session, or `None`.
    pub async fn user_key(&self, id: &Id) -> Result<Option<Identity>, sqlx::Error> {
        let rk = row_key(id);
        let row: Option<(Option<Vec<u8>>,)> =
            sqlx::query_as("SELECT sealed_user_key FROM sessions WHERE row_key = ? AND expires_at > ?")
                .bind(&rk)
                .bind(OffsetDateTime::now_utc().unix_timestamp())
                .fetch_optional(&self.pool)
                .await?;
        let Some((Some(sealed),)) = row else { return Ok(None) };
        Ok(crypto::open(&seal_key(id), &place("user-key", &hex(&rk)), &sealed)
            .ok()
            .and_then(|secret| Identity::from_secret_bytes(&secret).ok()))
    }

    /// End every session of a user now.
    pub async fn delete_owner(&self, user_id: UserId) -> Result<u64, sqlx::Error> {
        Ok(sqlx::query("DELETE FROM sessions WHERE owner = ?")
            .bind(self.owner(user_id))
            .execute(&self.pool)
            .await?
            .rows_affected())
    }

    pub async fn count_owner(&self, user_id: UserId) -> Result<i64, sqlx::Error> {
        let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM sessions WHERE owner = ? AND expires_at > ?")
            .bind(self.owner(user_id))
            .bind(OffsetDateTime::now_utc().unix_timestamp())
            .fetch_one(&self.pool)
            .await?;
        Ok(n)
    }

    /// End every session (lockdown).
    pub async fn delete_all(&self) -> Result<u64, sqlx::Error> {
        Ok(sqlx::query("DELETE FROM sessions").execute(&self.pool).await?.rows_affected())
    }

    pub async fn delete_expired(&self) -> Result<u64, sqlx::Error> {
        Ok(sqlx::query("DELETE FROM sessions WHERE expires_at <= ?")
            .bind(OffsetDateTime::now_utc().unix_timestamp())
            .execute(&self.pool)
            .await?
            .rows_affected())
    }
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[async_trait]
impl SessionStore for SealedStore {
    /// Insert, choosing a new id on the (astronomically unlikely) collision.
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        for _ in 0..8 {
            let sealed = Self::seal_record(record)?;
            let inserted = sqlx::query(
                "INSERT INTO sessions (row_key, expires_at, sealed) VALUES (?, ?, ?) ON CONFLICT (row_key) DO NOTHING",
            )
            .bind(row_key(&record.id))
            .bind(coarse(record.expiry_date))
            .bind(sealed)
            .execute(&self.pool)
            .await
            .map_err(backend)?;
            if inserted.rows_affected() == 1 {
                return Ok(());
            }
            record.id = Id::default();
        }
        Err(session_store::Error::Backend("could not allocate a session id".into()))
    }

    /// Update only: a request still in flight cannot bring back a session
    /// that was deleted meanwhile (logout everywhere, lockdown).
    async fn save(&self, record: &Record) -> session_store::Result<()> {
        sqlx::query("UPDATE sessions SET expires_at = ?, sealed = ? WHERE row_key = ?")
            .bind(coarse(record.expiry_date))
            .bind(Self::seal_record(record)?)
            .bind(row_key(&record.id))
            .execute(&self.pool)
            .await
            .map_err(backend)?;
        Ok(())
    }

    async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
        let rk = row_key(id);
        let row: Option<(i64, Vec<u8>)> =
            sqlx::query_as("SELECT expires_at, sealed FROM sessions WHERE row_key = ? AND expires_at > ?")
                .bind(&rk)
                .bind(OffsetDateTime::now_utc().unix_timestamp())
                .fetch_optional(&self.pool)
                .await
                .map_err(backend)?;
        let Some((expires_at, sealed)) = row else { return Ok(None) };
        // A record that does not open is answered as no session at all.
        let Ok(json) = crypto::open(&seal_key(id), &place("record", &hex(&rk)), &sealed) else {
            return Ok(None);
        };
        let Ok(data) = serde_json::from_slice(&json) else { return Ok(None) };
        let expiry_date = OffsetDateTime::from_unix_timestamp(expires_at).map_err(backend)?;
        Ok(Some(Record { id: *id, data, expiry_date }))
    }

    async fn delete(&self, id: &Id) -> session_store::Result<()> {
        sqlx::query("DELETE FROM sessions WHERE row_key = ?")
            .bind(row_key(id))
            .execute(&self.pool)
            .await
            .map_err(backend)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn row_key_and_seal_key_differ_and_neither_is_the_id() {
        let id = Id::default();
        let row = row_key(&id);
        let seal = seal_key(&id);
        assert_ne!(row.as_slice(), seal.expose().as_slice());
        assert_ne!(&row[..16], &id_bytes(&id)[..]);
        assert_ne!(&seal.expose()[..16], &id_bytes(&id)[..]);
        assert_eq!(row, row_key(&id), "stable for one id");
        assert_ne!(row, row_key(&Id::default()));
    }
}
