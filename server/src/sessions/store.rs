use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use time::OffsetDateTime;
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::{self, SessionStore};

use super::auth::{AUTH_KEY, AuthState};
use crate::clock::{Clock, SystemClock};
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
    /// The application's clock, so a row ends when its session does.
    clock: Arc<dyn Clock>,
    lifetime: Lifetime,
}

/// How long a logged-in session lives: the web layer's session policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lifetime {
    pub idle: time::Duration,
    pub absolute: time::Duration,
}

impl Default for Lifetime {
    fn default() -> Self {
        Self { idle: time::Duration::minutes(30), absolute: time::Duration::hours(12) }
    }
}

/// A session not logged in (yet) lives this long after its last save.
const ANONYMOUS: i64 = 10 * 60;

/// When a session ends, from its own data: once logged in, the earlier of
/// last activity plus idle and start plus absolute. Returns the exact end,
/// checked on load, and the coarse one kept in clear (the idle end rounded
/// up to the minute, the absolute end down, so the row never outlives the
/// absolute lifetime).
fn session_end(data: &HashMap<String, serde_json::Value>, now: i64, lifetime: Lifetime) -> (i64, i64) {
    let auth = data.get(AUTH_KEY).and_then(|v| serde_json::from_value::<AuthState>(v.clone()).ok());
    match auth {
        Some(auth) => {
            let idle_end = auth.last_seen.saturating_add(lifetime.idle.whole_seconds());
            let absolute_end = auth.created_at.saturating_add(lifetime.absolute.whole_seconds());
            (idle_end.min(absolute_end), minute_up(idle_end).min(minute_down(absolute_end)))
        }
        None => (now + ANONYMOUS, minute_up(now + ANONYMOUS)),
    }
}

fn minute_up(t: i64) -> i64 {
    minute_down(t.saturating_add(59))
}

fn minute_down(t: i64) -> i64 {
    t - t.rem_euclid(60)
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

impl SealedStore {
    pub async fn open(at: &SessionsAt, owner_key: Key32) -> Result<Self, sqlx::Error> {
        let pool = match at {
            SessionsAt::File(path) => Pool::Sqlite(open_file(path).await?),
            SessionsAt::Postgres(options) => Pool::Postgres(
                PgPoolOptions::new().max_connections(4).connect_with((**options).clone()).await?,
            ),
        };
        Ok(Self { pool, owner_key, clock: Arc::new(SystemClock), lifetime: Lifetime::default() })
    }

    /// The clock and session lifetime the application uses: a row's expiry
    /// is its session's end, by the same clock as the session checks.
    pub fn with_lifetime(mut self, clock: Arc<dyn Clock>, lifetime: Lifetime) -> Self {
        self.clock = clock;
        self.lifetime = lifetime;
        self
    }

    fn now(&self) -> i64 {
        self.clock.now().unix_timestamp()
    }

    /// The clear expiry of a record about to be written.
    fn expiry(&self, record: &Record) -> i64 {
        session_end(&record.data, self.now(), self.lifetime).1
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
                .bind(self.now())
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
                .bind(self.now())
                .fetch_one(pool)
                .await?
        });
        Ok(n)
    }

    /// End every session (lockdown).
    pub async fn delete_all(&self) -> Result<u64, sqlx::Error> {
        Ok(on_pool!(self, |pool| sqlx::query("DELETE FROM sessions").execute(pool).await?.rows_affected()))
    }

    /// The periodic purge: delete every ended session's row. Rows written
    /// before expiry followed the session (two weeks ahead) are first
    /// brought down to the longest a session may still live.
    pub async fn delete_expired(&self) -> Result<u64, sqlx::Error> {
        let now = self.now();
        let longest = minute_up(now.saturating_add(self.lifetime.absolute.whole_seconds()));
        Ok(on_pool!(self, |pool| {
            sqlx::query("UPDATE sessions SET expires_at = $1 WHERE expires_at > $1")
                .bind(longest)
                .execute(pool)
                .await?;
            sqlx::query("DELETE FROM sessions WHERE expires_at <= $1")
                .bind(now)
                .execute(pool)
                .await?
                .rows_affected()
        }))
    }

    async fn delete_row(&self, rk: &[u8]) -> Result<(), sqlx::Error> {
        on_pool!(self, |pool| {
            sqlx::query("DELETE FROM sessions WHERE row_key = $1")
                .bind(rk)
                .execute(pool)
                .await?
                .rows_affected()
        });
        Ok(())
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
            let (rk, expires) = (row_key(&record.id), self.expiry(record));
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
        let (rk, expires, sealed) = (row_key(&record.id), self.expiry(record), Self::seal_record(record)?);
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

    /// An ended session (by its clear expiry, or exactly, by its own data)
    /// is refused and its row deleted.
    async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
        let rk = row_key(id);
        let row: Option<(i64, Vec<u8>)> = on_pool!(self, |pool| {
            sqlx::query_as("SELECT expires_at, sealed FROM sessions WHERE row_key = $1")
                .bind(&rk)
                .fetch_optional(pool)
                .await
                .map_err(backend)?
        });
        let Some((expires_at, sealed)) = row else { return Ok(None) };
        let now = self.now();
        if expires_at <= now {
            self.delete_row(&rk).await.map_err(backend)?;
            return Ok(None);
        }
        // A record that does not open is answered as no session at all.
        let Ok(json) = crypto::open(&seal_key(id), &place("record", &hex(&rk)), &sealed) else {
            return Ok(None);
        };
        let Ok(data) = serde_json::from_slice::<HashMap<String, serde_json::Value>>(&json) else {
            return Ok(None);
        };
        if session_end(&data, now, self.lifetime).0 < now {
            self.delete_row(&rk).await.map_err(backend)?;
            return Ok(None);
        }
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

    fn data_of(created_at: i64, last_seen: i64) -> HashMap<String, serde_json::Value> {
        let auth = AuthState {
            user_id: UserId::random(),
            key_no: 1,
            generation: 0,
            epoch: 0,
            created_at,
            last_seen,
            authenticated_at: created_at,
            enrolling: false,
            failed_codes: 0,
        };
        HashMap::from([(AUTH_KEY.to_owned(), serde_json::to_value(auth).unwrap())])
    }

    #[test]
    fn a_row_ends_with_its_session_never_later_than_the_absolute_end() {
        let l = Lifetime::default();
        let start = 1_700_000_010;
        // Fresh: the idle end, rounded up to the minute in clear.
        let (exact, clear) = session_end(&data_of(start, start), start, l);
        assert_eq!(exact, start + 30 * 60);
        assert!(clear >= exact && clear < exact + 60 && clear % 60 == 0);
        // Active near the end: the absolute end, rounded down in clear.
        let late = start + 12 * 3600 - 100;
        let (exact, clear) = session_end(&data_of(start, late), late, l);
        assert_eq!(exact, start + 12 * 3600);
        assert!(clear <= exact && clear > exact - 60 && clear % 60 == 0);
        // Not logged in: a short life from now.
        let (exact, clear) = session_end(&HashMap::new(), start, l);
        assert_eq!(exact, start + ANONYMOUS);
        assert!(clear >= exact && clear < exact + 60);
    }

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
