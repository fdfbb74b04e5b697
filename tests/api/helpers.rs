//! Throwaway instances for tests: a fresh data and secrets directory, a real
//! SQLite file, real keys and the real argon2 cost.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use safehouse::accounts::model::{Actor, Password, Role, Username};
use safehouse::accounts::service as accounts;
use safehouse::cases::model::{AgeBand, Alias, Group, Note, Person, Stage, Status};
use safehouse::cases::service::CaseDraft;
use safehouse::clock::SystemClock;
use safehouse::config::KdfParams;
use safehouse::crypto::Identity;
use safehouse::keyring::Team;
use safehouse::membership;
use safehouse::setup::{self, InitOptions};
use safehouse::storage::SqliteStore;
use safehouse::vault::Vault;
use secrecy::SecretString;
use tempfile::TempDir;

pub const PASSWORD: &str = "a long test passphrase 1";

pub struct Instance {
    pub dir: TempDir,
    pub vault: Vault,
    pub recovery: Identity,
    pub coordinator: Actor,
    pub admin: Actor,
}

pub fn password(text: &str) -> Password {
    Password::parse(SecretString::from(text.to_owned())).unwrap()
}

impl Instance {
    pub fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    /// A raw connection to the SQLite file, to play the thief or the
    /// attacker with write access.
    /// Every audit entry, in order.
    pub async fn audit_log(&self) -> Vec<safehouse::storage::AuditRow> {
        self.vault.store().audit_rows(0, 1_000_000).await.unwrap()
    }

    pub async fn raw(&self) -> SqliteStore {
        SqliteStore::open(&self.data_dir().join("safehouse.db"), false).await.unwrap()
    }

    /// Create and activate an account; certify it (and admit it to its team)
    /// when `certify` is set.
    pub async fn user(&self, name: &str, role: Role, certify: bool) -> Actor {
        let username = Username::parse(name).unwrap();
        let created =
            accounts::create_account(&self.vault, &self.admin, &username, [role].into()).await.unwrap();
        let issued =
            accounts::activate(&self.vault, created.activation.expose(), &password(PASSWORD)).await.unwrap();
        if certify {
            membership::certify(&self.vault, &self.coordinator, created.user_id, &issued.fingerprint)
                .await
                .unwrap();
            match role {
                Role::Coordinator => {
                    membership::admit(&self.vault, &self.coordinator, Team::Coordinators, created.user_id)
                        .await
                        .unwrap()
                }
                Role::Communications => {
                    membership::admit(&self.vault, &self.coordinator, Team::Communications, created.user_id)
                        .await
                        .unwrap()
                }
                _ => {}
            }
        }
        issued.actor
    }
}

/// A fresh instance with a first coordinator and an activated administrator.
pub async fn instance() -> Instance {
    instance_with_clock(Arc::new(SystemClock)).await
}

pub async fn instance_with_clock(clock: Arc<dyn safehouse::clock::Clock>) -> Instance {
    let dir = tempfile::tempdir().unwrap();
    let recovery = Identity::generate();
    let coordinator_password = "first coordinator passphrase".to_owned();
    let report = setup::init(
        InitOptions {
            data_dir: dir.path().join("data"),
            secrets_dir: dir.path().join("secrets"),
            recovery: vec![recovery.recipient()],
            coordinator: Username::parse("coord.first").unwrap(),
            coordinator_password: password(&coordinator_password),
            admin: Username::parse("admin.first").unwrap(),
            kdf: KdfParams::FLOOR,
        },
        clock,
    )
    .await
    .unwrap();
    let vault = report.vault;
    let coordinator = accounts::unlock(&vault, "coord.first", &coordinator_password).await.unwrap();
    let admin = accounts::activate(&vault, report.admin_activation.expose(), &password(PASSWORD))
        .await
        .unwrap()
        .actor;
    Instance { dir, vault, recovery, coordinator, admin }
}

pub fn draft(aliases: &[&str], notes: &str) -> CaseDraft {
    let persons = aliases
        .iter()
        .map(|a| Person {
            alias: Alias::parse(a).unwrap(),
            age_band: AgeBand::Adult,
            gender: None,
            consent: false,
        })
        .collect();
    CaseDraft {
        group: Group::new(persons).unwrap(),
        shelter: None,
        stage: Stage::Intake,
        status: Status::Open,
        notes: Note::parse(notes).unwrap(),
    }
}

/// Every file below `dir`, as bytes.
pub fn files_below(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(path) = stack.pop() {
        if path.is_dir() {
            for entry in std::fs::read_dir(&path).unwrap() {
                stack.push(entry.unwrap().path());
            }
        } else if let Ok(bytes) = std::fs::read(&path) {
            out.push((path, bytes));
        }
    }
    out
}

/// The needle in UTF-8, UTF-16LE and UTF-16BE, in upper and lower case.
pub fn encodings(needle: &str) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    for text in [needle.to_owned(), needle.to_lowercase(), needle.to_uppercase()] {
        out.push(text.as_bytes().to_vec());
        out.push(text.encode_utf16().flat_map(u16::to_le_bytes).collect());
        out.push(text.encode_utf16().flat_map(u16::to_be_bytes).collect());
    }
    out
}

pub fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && haystack.windows(needle.len()).any(|w| w == needle)
}

/// Every row of every table, as text: the logical content of a database,
/// for "nothing changed" checks (the file's bytes change on a checkpoint).
pub async fn dump_database(path: &Path) -> Vec<String> {
    use sqlx::{Column, Row};
    let options = sqlx::sqlite::SqliteConnectOptions::new().filename(path).read_only(true);
    let pool = sqlx::sqlite::SqlitePoolOptions::new().max_connections(1).connect_with(options).await.unwrap();
    let tables: Vec<(String,)> =
        sqlx::query_as("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
            .fetch_all(&pool)
            .await
            .unwrap();
    let mut out = Vec::new();
    for (table,) in tables {
        for row in sqlx::query(&format!("SELECT * FROM \"{table}\"")).fetch_all(&pool).await.unwrap() {
            let mut line = format!("{table}:");
            for i in 0..row.columns().len() {
                let value: Option<Vec<u8>> = row.try_get::<Option<Vec<u8>>, _>(i).ok().flatten();
                let text = match value {
                    Some(bytes) => bytes.iter().map(|b| format!("{b:02x}")).collect::<String>(),
                    None => row
                        .try_get::<Option<i64>, _>(i)
                        .ok()
                        .flatten()
                        .map(|n| n.to_string())
                        .unwrap_or_default(),
                };
                line.push_str(&format!(" {}={text}", row.columns()[i].name()));
            }
            out.push(line);
        }
    }
    pool.close().await;
    out
}

/// Captures every tracing event (TRACE and up) on this thread into a buffer,
/// for tests that assert what never reaches a log line.
#[derive(Clone, Default)]
pub struct LogCapture(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for LogCapture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl LogCapture {
    /// Install for the whole process (the database driver logs from its own
    /// worker threads). Each test runs in its own process under nextest;
    /// where a subscriber is already set, fall back to this thread only.
    pub fn install(&self) -> Option<tracing::subscriber::DefaultGuard> {
        // The database layer may log through the `log` crate: bridge it too.
        let _ = tracing_log::LogTracer::init();
        let writer = self.clone();
        let make = move || {
            tracing_subscriber::fmt()
                .with_max_level(tracing::Level::TRACE)
                .with_ansi(false)
                .with_writer({
                    let writer = writer.clone();
                    move || writer.clone()
                })
                .finish()
        };
        match tracing::subscriber::set_global_default(make()) {
            Ok(()) => None,
            Err(_) => Some(tracing::subscriber::set_default(make())),
        }
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}
