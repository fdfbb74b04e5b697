use std::path::{Path, PathBuf};
use std::time::Duration;

use async_trait::async_trait;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use time::OffsetDateTime;
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::{self, SessionStore};

use crate::crypto::{self, Aad, Identity, Key32, Label, RecordKind, to_hex as hex};
use crate::ids::UserId;

/// Where the sessions live.
#[derive(Debug, Clone)]
pub enum SessionsAt {
    /// One node on SQLite: a file of their own beside the database, so a
    /// copy or backup of the database never carries them.
    File(PathBuf),
    /// Several nodes on PostgreSQL: the UNLOGGED `sessions` table
    /// (migration 0004), shared by every node, so a session made on one is
    /// honoured, and ended, on all.
    Postgres(Box<PgConnectOptions>),
}

#[derive(Clone)]
enum Pool {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// Run the same statement on whichever pool holds the sessions. Statements
/// use `$n` placeholders, which both SQLite and PostgreSQL accept.
macro_rules! on_pool {
    ($store:expr, |$pool:ident| $body:expr) => {
        match &$store.pool {
            Pool::Sqlite($pool) => $body,
            Pool::Postgres($pool) => $body,
        }
    };
}

/// Sessions sealed at rest: each row under a key derived from the session
/// id, which only the browser's cookie holds.
#[derive(Clone)]
pub struct SealedStore {
    pool: Pool,
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

fn now() -> i64 {
    OffsetDateTime::now_utc().unix_timestamp()
}

impl SealedStore {
    pub async fn open(at: &SessionsAt, owner_key: Key32) -> Result<Self, sqlx::Error> {
        let pool = match at {
            SessionsAt::File(path) => Pool::Sqlite(open_file(path).await?),
            SessionsAt::Postgres(options) => Pool::Postgres(
                PgPoolOptions::new().max_connections(4).connect_with((**options).clone()).await?,
            ),
        };
        Ok(Self { pool, owner_key })
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
        let owner = self.owner(user_id);
        on_pool!(self, |pool| {
            sqlx::query("UPDATE sessions SET owner = $1, sealed_user_key = $2 WHERE row_key = $3")
                .bind(&owner)
                .bind(&sealed)
                .bind(&rk)
                .execute(pool)
                .await?
                .rows_affected()
        });
        Ok(())
    }

    /// The user key held by a live session, or `None`.
    pub async fn user_key(&self, id: &Id) -> Result<Option<Identity>, sqlx::Error> {
        let rk = row_key(id);
        let row: Option<(Option<Vec<u8>>,)> = on_pool!(self, |pool| {
            sqlx::query_as("SELECT sealed_user_key FROM sessions WHERE row_key = $1 AND expires_at > $2")
                .bind(&rk)
                .bind(now())
                .fetch_optional(pool)
                .await?
        });
        let Some((Some(sealed),)) = row else { return Ok(None) };
        Ok(crypto::open(&seal_key(id), &place("user-key", &hex(&rk)), &sealed)
            .ok()
            .and_then(|secret| Identity::from_secret_bytes(&secret).ok()))
    }

    /// End every session of a user now.
    pub async fn delete_owner(&self, user_id: UserId) -> Result<u64, sqlx::Error> {
        let owner = self.owner(user_id);
        Ok(on_pool!(self, |pool| {
            sqlx::query("DELETE FROM sessions WHERE owner = $1")
                .bind(&owner)
                .execute(pool)
                .await?
                .rows_affected()
        }))
    }

    pub async fn count_owner(&self, user_id: UserId) -> Result<i64, sqlx::Error> {
        let owner = self.owner(user_id);
        let (n,): (i64,) = on_pool!(self, |pool| {
            sqlx::query_as("SELECT COUNT(*) FROM sessions WHERE owner = $1 AND expires_at > $2")
                .bind(&owner)
                .bind(now())
                .fetch_one(pool)
                .await?
        });
        Ok(n)
    }

    /// End every session (lockdown).
    pub async fn delete_all(&self) -> Result<u64, sqlx::Error> {
        Ok(on_pool!(self, |pool| sqlx::query("DELETE FROM sessions").execute(pool).await?.rows_affected()))
    }

    pub async fn delete_expired(&self) -> Result<u64, sqlx::Error> {
        Ok(on_pool!(self, |pool| {
            sqlx::query("DELETE FROM sessions WHERE expires_at <= $1")
                .bind(now())
                .execute(pool)
                .await?
                .rows_affected()
        }))
    }
}

/// The SQLite sessions file, made on first use.
async fn open_file(path: &Path) -> Result<SqlitePool, sqlx::Error> {
    let options = SqliteConnectOptions::new()
        .filename(path)
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Normal)
        .pragma("secure_delete", "ON")
        .busy_timeout(Duration::from_secs(10));
    let pool = SqlitePoolOptions::new().max_connections(4).connect_with(options).await?;
    // The same columns as the PostgreSQL table (migrations/postgres/0004).
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
    sqlx::query("CREATE INDEX IF NOT EXISTS sessions_by_owner ON sessions (owner)").execute(&pool).await?;
    Ok(pool)
}

#[async_trait]
impl SessionStore for SealedStore {
    /// Insert, choosing a new id on the (astronomically unlikely) collision.
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        for _ in 0..8 {
            let sealed = Self::seal_record(record)?;
            let (rk, expires) = (row_key(&record.id), coarse(record.expiry_date));
            let inserted = on_pool!(self, |pool| {
                sqlx::query(
                    "INSERT INTO sessions (row_key, expires_at, sealed) VALUES ($1, $2, $3) \
                     ON CONFLICT (row_key) DO NOTHING",
                )
                .bind(&rk)
                .bind(expires)
                .bind(&sealed)
                .execute(pool)
                .await
                .map_err(backend)?
                .rows_affected()
            });
            if inserted == 1 {
                return Ok(());
            }
            record.id = Id::default();
        }
        Err(session_store::Error::Backend("could not allocate a session id".into()))
    }

    /// Update only: a request still in flight cannot bring back a session
    /// that was deleted meanwhile (logout everywhere, lockdown).
    async fn save(&self, record: &Record) -> session_store::Result<()> {
        let (rk, expires, sealed) =
            (row_key(&record.id), coarse(record.expiry_date), Self::seal_record(record)?);
        on_pool!(self, |pool| {
            sqlx::query("UPDATE sessions SET expires_at = $1, sealed = $2 WHERE row_key = $3")
                .bind(expires)
                .bind(&sealed)
                .bind(&rk)
                .execute(pool)
                .await
                .map_err(backend)?
                .rows_affected()
        });
        Ok(())
    }

    async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
        let rk = row_key(id);
        let row: Option<(i64, Vec<u8>)> = on_pool!(self, |pool| {
            sqlx::query_as("SELECT expires_at, sealed FROM sessions WHERE row_key = $1 AND expires_at > $2")
                .bind(&rk)
                .bind(now())
                .fetch_optional(pool)
                .await
                .map_err(backend)?
        });
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
        let rk = row_key(id);
        on_pool!(self, |pool| {
            sqlx::query("DELETE FROM sessions WHERE row_key = $1")
                .bind(&rk)
                .execute(pool)
                .await
                .map_err(backend)?
                .rows_affected()
        });
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
