//! Encrypted backups: take one while the server runs, check one on any
//! machine with the backup identity, restore one into an empty data
//! directory or database. The file format is in `format`; the operator's
//! steps are in docs/operations.md ("Backups and restore").
//!
//! Sessions are never in a backup: on SQLite they live in `sessions.db`,
//! which is not the file snapshotted; on PostgreSQL the dump leaves out the
//! data of the (UNLOGGED) sessions table.

pub mod format;
mod postgres;
pub mod progress;

use std::fs::File;
use std::io::{BufWriter, Read};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, Result, bail};
use sqlx::sqlite::{SqliteConnectOptions, SqlitePool};

use crate::audit::chain::{self, ChainKey, Checkpoint};
use crate::audit::model::new_request_id;
use crate::audit::{Action, Event, Outcome};
use crate::clock::SystemClock;
use crate::config::{Config, KdfParams};
use crate::keyring::{Keyring, SecretsDir, secrets};
use crate::storage::{GENESIS_MAC, SqliteStore, Store};
use crate::vault::Vault;
use format::{Backend, Digest, Hashing, Header, Migration};
use progress::{Interrupt, Progress};

/// A file removed when dropped unless kept: the clear snapshot, the
/// partial output.
struct Scratch(Option<PathBuf>);

impl Scratch {
    fn path(&self) -> &Path {
        self.0.as_deref().unwrap_or(Path::new(""))
    }
    fn keep(mut self) {
        self.0 = None;
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        if let Some(path) = self.0.take() {
            if path.is_dir() {
                let _ = std::fs::remove_dir_all(&path);
            } else {
                let _ = std::fs::remove_file(&path);
            }
        }
    }
}

fn random_suffix() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

/// A scratch name in `dir`: `{before}{marker}{pid}-{random}{after}`. The
/// process id lets a later run tell what a killed run left (its process
/// gone) from what a running one is using.
fn scratch_in(dir: &Path, before: &str, marker: &str, after: &str) -> Scratch {
    let name = format!("{before}{marker}{}-{}{after}", std::process::id(), random_suffix());
    Scratch(Some(dir.join(name)))
}

/// Remove what a run killed with SIGKILL left in `dir`: hidden names
/// holding `marker` and then the id of a process that is gone. Where
/// `/proc` does not list processes (not Linux), nothing is removed.
fn remove_leftovers(dir: &Path, marker: &str) {
    if !Path::new("/proc/self").exists() {
        return;
    }
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(name) = name.to_str().filter(|n| n.starts_with('.')) else { continue };
        let Some((_, rest)) = name.split_once(marker) else { continue };
        let pid = rest.split('-').next().unwrap_or_default();
        if pid.is_empty() || !pid.bytes().all(|b| b.is_ascii_digit()) || Path::new("/proc").join(pid).exists()
        {
            continue;
        }
        let path = entry.path();
        let removed =
            if path.is_dir() { std::fs::remove_dir_all(&path) } else { std::fs::remove_file(&path) };
        if removed.is_ok() {
            tracing::info!(target: "safehouse::backup", "removed {name}, left by an interrupted run");
        }
    }
}

/// Append a system entry (a backup taken, a restore made) to the instance
/// in `store`, whose audit key `keyring` holds.
async fn record(store: Arc<dyn Store>, keyring: Keyring, kdf: KdfParams, event: Event) -> Result<()> {
    let vault = Vault::new(store, Arc::new(keyring), Arc::new(SystemClock), kdf);
    vault.record(&event, Outcome::Ok).await?;
    Ok(())
}

fn now_rfc3339() -> String {
    crate::web::when::rfc3339_utc(time::OffsetDateTime::now_utc())
}

fn postgres_url(config: &Config) -> Option<&str> {
    config.database_url_exposed().filter(|u| u.starts_with("postgres://") || u.starts_with("postgresql://"))
}

/// What `backup` reports.
pub struct Taken {
    pub header: Header,
    pub bytes: u64,
    pub recipients: usize,
    /// The file's id in the audit trail (`backup.create`).
    pub id: String,
}

/// Take a backup of the configured instance into `out`, encrypted to every
/// backup recipient pinned in the trust file. Written to a file beside
/// `out` and linked to its name only when whole; never overwrites. Then a
/// `backup.create` entry names it by its id (so the pepper is needed, to
/// open the audit key).
pub async fn take(config: &Config, out: &Path, interrupt: &Interrupt) -> Result<Taken> {
    if out.exists() {
        bail!("{} already exists: a backup never overwrites a file; choose another --out", out.display());
    }
    let trust = SecretsDir::new(&config.secrets_dir).read_trust()?;
    if trust.backup.is_empty() {
        bail!(
            "no backup recipient is pinned in the trust file: make a backup key offline with \
             `safehouse keygen --backup --output FILE` and pin its public key with \
             `safehouse backup add-recipient age1...`"
        );
    }
    let store = crate::setup::open_store(config).await?;
    let instance = store.instance().await?.context("the database has not been initialised")?;
    if instance.instance_id != trust.instance_id {
        bail!("the trust file belongs to another instance than this database: refusing to back it up");
    }
    // The audit key now, so that a missing pepper stops the backup before
    // anything is written.
    let keyring = Keyring::open(store.as_ref(), &SecretsDir::new(&config.secrets_dir)).await?;
    let dir = out.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let name = out.file_name().and_then(|n| n.to_str()).context("--out must name a file")?;
    remove_leftovers(dir, PARTIAL);
    let partial = scratch_in(dir, &format!(".{name}"), PARTIAL, "");
    let digest = Digest::default();
    let (header, bytes) = match postgres_url(config) {
        Some(url) => {
            let schema = postgres::schema(url, config.database_allow_insecure).await?;
            let header = Header {
                format: 1,
                instance_id: instance.instance_id,
                backend: Backend::Postgres,
                created: now_rfc3339(),
                schema,
            };
            let bytes = postgres::dump(
                url,
                config.database_allow_insecure,
                &header,
                &trust.backup,
                partial.path(),
                &digest,
                interrupt,
            )
            .await?;
            (header, bytes)
        }
        None => {
            let snapshot = sqlite_snapshot(config, store.as_ref()).await?;
            interrupt.check()?;
            let schema = sqlite_schema(snapshot.path()).await?;
            let header = Header {
                format: 1,
                instance_id: instance.instance_id,
                backend: Backend::Sqlite,
                created: now_rfc3339(),
                schema,
            };
            let (path, partial_path, recipients, interrupt, digest) = (
                snapshot.path().to_owned(),
                partial.path().to_owned(),
                trust.backup.clone(),
                interrupt.clone(),
                digest.clone(),
            );
            let header_copy = header.clone();
            let bytes = tokio::task::spawn_blocking(move || -> Result<u64> {
                let mut input = File::open(&path)?;
                let total = input.metadata()?.len();
                let mut writer =
                    format::encrypt(create_output(&partial_path, &digest)?, &recipients, &header_copy)?;
                let mut progress = Progress::new("backup", Some(total));
                let n = progress::copy(&mut input, &mut writer, &mut progress, &interrupt, Into::into)?;
                finish_output(writer)?;
                progress.finish();
                Ok(n)
            })
            .await??;
            drop(snapshot);
            (header, bytes)
        }
    };
    interrupt.check()?;
    // A hard link fails if the name exists: never overwrite, even a file
    // made meanwhile.
    std::fs::hard_link(partial.path(), out).with_context(|| format!("cannot write {}", out.display()))?;
    drop(partial);
    if let Ok(dir) = File::open(dir) {
        let _ = dir.sync_all();
    }
    let id = digest.id();
    let event = Event::system(Action::BackupCreate, &new_request_id()).on(&id);
    record(store, keyring, config.kdf, event).await.with_context(|| {
        format!("the backup is in {}, but its audit entry could not be appended", out.display())
    })?;
    Ok(Taken { header, bytes, recipients: trust.backup.len(), id })
}

/// Marks a backup's output while it is written, beside its final name.
const PARTIAL: &str = ".partial-";
/// Marks the clear snapshot of the SQLite file, in the data directory.
const SNAPSHOT: &str = ".backup-";
/// Marks a restore's staging directory, beside the target.
const RESTORING: &str = ".restoring-";
/// Marks the private directory `backup verify` decrypts into.
const VERIFYING: &str = ".safehouse-verify-";

/// The encrypted output: private, new, and hashed as it is written.
fn create_output(path: &Path, digest: &Digest) -> Result<Hashing<BufWriter<File>>> {
    Ok(Hashing::new(create_private(path)?, digest))
}

fn create_private(path: &Path) -> Result<BufWriter<File>> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let file = options.open(path).with_context(|| format!("cannot create {}", path.display()))?;
    Ok(BufWriter::new(file))
}

fn finish_output(writer: age::stream::StreamWriter<Hashing<BufWriter<File>>>) -> Result<()> {
    let buffered = writer.finish()?.into_inner();
    let file = buffered.into_inner().map_err(|e| e.into_error())?;
    file.sync_all()?;
    Ok(())
}

/// A consistent copy of the live SQLite file, beside it in the data
/// directory (as private as the database itself): `VACUUM INTO` reads in
/// one transaction, so writers carry on and the copy is one moment.
async fn sqlite_snapshot(config: &Config, store: &dyn Store) -> Result<Scratch> {
    // A snapshot a killed backup left holds clear pages, purged ones too.
    remove_leftovers(&config.data_dir, SNAPSHOT);
    let snapshot = scratch_in(&config.data_dir, "", SNAPSHOT, ".db");
    let path = snapshot.path().to_str().context("the data directory's path is not UTF-8")?.to_owned();
    // Opened through the store first, so the schema is current and the
    // file is ours; the snapshot itself on a connection of its own.
    store.instance().await?;
    let pool = SqlitePool::connect_with(SqliteConnectOptions::new().filename(config.sqlite_path())).await?;
    let result = sqlx::query("VACUUM INTO ?").bind(&path).execute(&pool).await;
    pool.close().await;
    result.context("cannot take a snapshot of the database")?;
    Ok(snapshot)
}

async fn sqlite_schema(path: &Path) -> Result<Vec<Migration>> {
    let pool = SqlitePool::connect_with(SqliteConnectOptions::new().filename(path).read_only(true)).await?;
    let rows: Result<Vec<(i64, String, Vec<u8>)>, _> = sqlx::query_as(
        "SELECT version, description, checksum FROM _sqlx_migrations WHERE success ORDER BY version",
    )
    .fetch_all(&pool)
    .await;
    pool.close().await;
    Ok(rows?
        .into_iter()
        .map(|(version, description, checksum)| Migration {
            version,
            description,
            checksum: crate::crypto::to_hex(&checksum),
        })
        .collect())
}

/// What a check of a backup found.
pub struct Checked {
    pub header: Header,
    /// Rows per table (sessions are never among them).
    pub counts: Vec<(String, i64)>,
    pub entries: i64,
    pub head: Option<Checkpoint>,
    /// Whether each entry's MAC was checked too (with the secrets
    /// directory), or only the links between entries.
    pub macs_checked: bool,
}

/// The secrets a check may use: `None` checks links only.
pub enum Secrets<'a> {
    None,
    Dir(&'a SecretsDir),
}

/// Check an opened database: the instance row, the counts, the chain.
async fn check_store(
    store: &dyn Store,
    header: Header,
    counts: Vec<(String, i64)>,
    secrets: Secrets<'_>,
) -> Result<Checked> {
    let instance = store.instance().await?.context("the backup holds no instance")?;
    if instance.instance_id != header.instance_id {
        bail!("the backup's header and its database name different instances: refusing it");
    }
    let (entries, head, macs_checked) = match secrets {
        Secrets::Dir(dir) => {
            let keyring = Keyring::open(store, dir).await.context(
                "the secrets directory does not open this backup (another instance, or another pepper)",
            )?;
            let key = ChainKey::new(keyring.audit_key());
            let verified = chain::verify(store, &key, &header.instance_id, &[], |_| {})
                .await
                .map_err(|e| anyhow::anyhow!("audit chain broken: {e}"))?;
            (verified.entries, verified.head, true)
        }
        Secrets::None => {
            let (entries, head) = chain_links(store, &header.instance_id).await?;
            (entries, head, false)
        }
    };
    Ok(Checked { header, counts, entries, head, macs_checked })
}

/// Walk the chain without the audit key: every sequence number follows the
/// last and every entry names the one before. This finds a removed, added
/// or reordered entry, not one rewritten by someone with the key.
async fn chain_links(store: &dyn Store, instance_id: &str) -> Result<(i64, Option<Checkpoint>)> {
    const PAGE: i64 = 10_000;
    let (mut last_seq, mut last_mac) = (0i64, GENESIS_MAC.to_vec());
    let mut count = 0i64;
    loop {
        let rows = store.audit_rows(last_seq, PAGE).await?;
        if rows.is_empty() {
            break;
        }
        for row in rows {
            if row.seq != last_seq + 1 {
                bail!("audit chain broken: entry {} follows {last_seq}", row.seq);
            }
            if row.prev_mac != last_mac {
                bail!("audit chain broken: entry {} does not follow the one before it", row.seq);
            }
            last_seq = row.seq;
            last_mac = row.mac;
            count += 1;
        }
    }
    let head = (last_seq > 0).then(|| Checkpoint {
        instance_id: instance_id.to_owned(),
        seq: last_seq,
        mac: last_mac,
    });
    Ok((count, head))
}

/// Rows per table of the configured instance's database (the counts
/// `backup verify` and `restore` print).
pub async fn table_counts(config: &Config) -> Result<Vec<(String, i64)>> {
    if postgres_url(config).is_some() {
        return postgres::counts_of(config).await;
    }
    let options = SqliteConnectOptions::new().filename(config.sqlite_path()).read_only(true);
    let pool = SqlitePool::connect_with(options).await?;
    let counts = sqlite_counts(&pool).await;
    pool.close().await;
    counts
}

async fn sqlite_counts(pool: &SqlitePool) -> Result<Vec<(String, i64)>> {
    let tables: Vec<(String,)> = sqlx::query_as(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' \
         AND name <> '_sqlx_migrations' ORDER BY name",
    )
    .fetch_all(pool)
    .await?;
    let mut counts = Vec::new();
    for (table,) in tables {
        let sql = format!("SELECT COUNT(*) FROM \"{}\"", table.replace('"', "\"\""));
        let (n,): (i64,) = sqlx::query_as(&sql).fetch_one(pool).await?;
        counts.push((table, n));
    }
    Ok(counts)
}

/// A backup opened once: its header (schema checked), the reader of the
/// database bytes, and the file's size for the progress.
pub(crate) struct Opened {
    pub(crate) header: Header,
    pub(crate) reader: std::io::BufReader<age::stream::StreamReader<Hashing<File>>>,
    pub(crate) total: Option<u64>,
    /// The file's id, complete once the reader has been read to its end.
    pub(crate) digest: Digest,
}

/// Open a backup (blocking: the file may be a pipe).
async fn open_backup(file: &Path, identity: &age::x25519::Identity) -> Result<Opened> {
    let (file, identity) = (file.to_owned(), identity.clone());
    tokio::task::spawn_blocking(move || -> Result<Opened> {
        let input = File::open(&file).with_context(|| format!("cannot read {}", file.display()))?;
        let total = input.metadata().ok().filter(|m| m.is_file()).map(|m| m.len());
        let digest = Digest::default();
        let (header, reader) = format::open(Hashing::new(input, &digest), &identity)?;
        format::check_schema(&header)?;
        Ok(Opened { header, reader, total, digest })
    })
    .await?
}

/// Decrypt a backup's SQLite file into `target` (a new file).
async fn decrypt_sqlite(opened: Opened, target: &Path, interrupt: &Interrupt) -> Result<Header> {
    let (target, interrupt) = (target.to_owned(), interrupt.clone());
    tokio::task::spawn_blocking(move || copy_sqlite(opened, &target, &interrupt)).await?
}

fn copy_sqlite(opened: Opened, target: &Path, interrupt: &Interrupt) -> Result<Header> {
    let Opened { header, mut reader, total, .. } = opened;
    if header.backend != Backend::Sqlite {
        bail!("this backup is of a PostgreSQL database");
    }
    let mut output = create_private(target)?;
    let mut progress = Progress::new("decrypt", total);
    progress::copy(&mut reader, &mut output, &mut progress, interrupt, format::damaged)?;
    let file = output.into_inner().map_err(|e| e.into_error())?;
    file.sync_all()?;
    progress.finish();
    Ok(header)
}

/// Open a decrypted SQLite file, check its integrity, count its rows and
/// check it (then close it).
async fn check_sqlite_file(path: &Path, header: Header, secrets: Secrets<'_>) -> Result<Checked> {
    {
        let pool =
            SqlitePool::connect_with(SqliteConnectOptions::new().filename(path).read_only(true)).await?;
        let integrity: Result<(String,), _> = sqlx::query_as("PRAGMA integrity_check").fetch_one(&pool).await;
        pool.close().await;
        match integrity {
            Ok((ok,)) if ok == "ok" => {}
            _ => bail!("the database inside the backup is damaged"),
        }
    }
    let store = SqliteStore::open(path, false).await?;
    let counts = sqlite_counts(store.pool()).await;
    let checked = match counts {
        Ok(counts) => check_store(&store, header, counts, secrets).await,
        Err(e) => Err(e),
    };
    store.close().await;
    checked
}

/// Where a PostgreSQL backup's check may restore it.
pub struct Scratchpad<'a> {
    pub url: &'a str,
    pub allow_insecure: bool,
}

/// Check a backup on any machine. SQLite: decrypted into a private
/// temporary directory, opened, counted, its chain walked, then removed.
/// PostgreSQL: without a scratch database, only that it opens and its
/// header and schema; with one (empty), restored there and checked as fully.
pub async fn verify(
    file: &Path,
    identity: &age::x25519::Identity,
    secrets: Secrets<'_>,
    scratch: Option<Scratchpad<'_>>,
    interrupt: &Interrupt,
) -> Result<Option<Checked>> {
    let opened = open_backup(file, identity).await?;
    match opened.header.backend {
        Backend::Sqlite => {
            let temp = std::env::temp_dir();
            remove_leftovers(&temp, VERIFYING);
            let dir = scratch_in(&temp, "", VERIFYING, "");
            secrets::create_private_dir(dir.path())?;
            let db = dir.path().join("safehouse.db");
            let header = decrypt_sqlite(opened, &db, interrupt).await?;
            let checked = check_sqlite_file(&db, header, secrets).await?;
            drop(dir);
            Ok(Some(checked))
        }
        Backend::Postgres => match scratch {
            None => {
                postgres::check_archive(opened, interrupt).await?;
                Ok(None)
            }
            Some(scratch) => {
                let header =
                    postgres::restore(opened, scratch.url, scratch.allow_insecure, interrupt).await?;
                let store = crate::storage::PgStore::open_with(crate::setup::postgres_options(
                    scratch.url,
                    scratch.allow_insecure,
                )?)
                .await?;
                let counts = postgres::counts(store.pool()).await;
                let checked = match counts {
                    Ok(counts) => check_store(&store, header, counts, secrets).await,
                    Err(e) => Err(e),
                };
                store.close().await;
                Ok(Some(checked?))
            }
        },
    }
}

/// What `restore` reports.
pub struct Restored {
    pub checked: Checked,
    /// Whether the secrets directory was found and opens the restored
    /// database (and so the `backup.restore` entry was appended).
    pub secrets_match: bool,
    /// The backup file's id, as its `backup.create` entry names it.
    pub id: String,
}

/// Restore a backup into the configured data directory (SQLite) or
/// database (PostgreSQL), which must be empty. SQLite: decrypted, checked
/// and given its `backup.restore` entry in a directory beside the target,
/// then renamed onto it in one step. PostgreSQL: one `pg_restore
/// --single-transaction`, then the checks and the entry. Either way an
/// interruption leaves the target as empty as it was; a refused or failed
/// restore writes nothing to it. Without the secrets directory there is no
/// audit key, so no entry.
pub async fn restore(
    config: &Config,
    file: &Path,
    identity: &age::x25519::Identity,
    interrupt: &Interrupt,
) -> Result<Restored> {
    let secrets_dir = SecretsDir::new(&config.secrets_dir);
    let has_secrets =
        config.secrets_dir.join("pepper").exists() && config.secrets_dir.join("trust.toml").exists();
    // Opened once and read once: the file may be a pipe.
    let opened = open_backup(file, identity).await?;
    let peek = opened.header.clone();
    let digest = opened.digest.clone();
    if has_secrets {
        let trust = secrets_dir.read_trust()?;
        if trust.instance_id != peek.instance_id {
            bail!(
                "the secrets directory {} belongs to instance {}, but the backup is of instance {}: \
                 use this instance's secrets directory, or move it away to restore without one",
                config.secrets_dir.display(),
                trust.instance_id,
                peek.instance_id
            );
        }
    }
    let secrets = if has_secrets { Secrets::Dir(&secrets_dir) } else { Secrets::None };
    let dir = &secrets_dir;
    let restored = |store: Arc<dyn Store>, checked: Checked| async move {
        let id = digest.id();
        // A restore finished on a second run may have its entry already.
        let head = store.audit_head().await?;
        let recorded = head.is_some_and(|h| h.action == Action::BackupRestore.as_str() && h.target == id);
        if has_secrets && !recorded {
            let keyring = Keyring::open(store.as_ref(), dir).await?;
            let event = Event::system(Action::BackupRestore, &new_request_id()).on(&id);
            record(store, keyring, config.kdf, event).await?;
        }
        anyhow::Ok(Restored { checked, secrets_match: has_secrets, id })
    };
    match (peek.backend, postgres_url(config)) {
        (Backend::Sqlite, None) => {
            let target = &config.data_dir;
            if !is_empty_or_missing(target) {
                bail!(
                    "the data directory {} is not empty: restore only ever fills an empty one",
                    target.display()
                );
            }
            crate::keyring::check_layout(target, &config.secrets_dir)?;
            let parent = target.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
            let name = target.file_name().and_then(|n| n.to_str()).unwrap_or("data");
            std::fs::create_dir_all(parent)?;
            remove_leftovers(parent, RESTORING);
            let staging = scratch_in(parent, &format!(".{name}"), RESTORING, "");
            secrets::create_private_dir(staging.path())?;
            let db = staging.path().join("safehouse.db");
            let header = decrypt_sqlite(opened, &db, interrupt).await?;
            let checked = check_sqlite_file(&db, header, secrets).await?;
            interrupt.check()?;
            // The entry goes into the staged copy, so the target holds it
            // from the moment it holds anything.
            let store = SqliteStore::open(&db, false).await?;
            let shared: Arc<dyn Store> = Arc::new(store.clone());
            let done = restored(shared, checked).await;
            store.close().await;
            let done = done?;
            interrupt.check()?;
            if !is_empty_or_missing(target) {
                bail!("the data directory {} was filled meanwhile: nothing restored", target.display());
            }
            // rename(2) replaces an empty directory in one step.
            std::fs::rename(staging.path(), target)
                .with_context(|| format!("cannot move the restored database into {}", target.display()))?;
            staging.keep();
            Ok(done)
        }
        (Backend::Postgres, Some(url)) => {
            let allow = config.database_allow_insecure;
            // Marked from before pg_restore until after the checks and the
            // entry, so that no server starts on a restore a kill cut
            // short; a second run finishes it.
            let header = match postgres::target(url, allow).await? {
                postgres::Target::Loaded => postgres::check_archive(opened, interrupt).await?,
                postgres::Target::Empty => {
                    postgres::mark(url, allow, true).await?;
                    match postgres::restore(opened, url, allow, interrupt).await {
                        Ok(header) => header,
                        Err(e) => {
                            let _ = postgres::mark(url, allow, false).await;
                            return Err(e);
                        }
                    }
                }
            };
            let options = crate::setup::postgres_options(url, allow)?;
            let store: Arc<dyn Store> = Arc::new(crate::storage::PgStore::open_unfinished(options).await?);
            let counts = postgres::counts_of(config).await?;
            let checked = check_store(store.as_ref(), header, counts, secrets).await?;
            let done = restored(store, checked).await?;
            postgres::mark(url, allow, false).await?;
            Ok(done)
        }
        (Backend::Sqlite, Some(_)) => bail!(
            "this backup is of a SQLite instance, but SAFEHOUSE_DATABASE_URL names PostgreSQL: \
             unset it to restore into the data directory"
        ),
        (Backend::Postgres, None) => bail!(
            "this backup is of a PostgreSQL instance: set SAFEHOUSE_DATABASE_URL to an empty database to restore it"
        ),
    }
}

fn is_empty_or_missing(path: &Path) -> bool {
    match std::fs::read_dir(path) {
        Ok(mut entries) => entries.next().is_none(),
        Err(_) => !path.exists(),
    }
}

/// Read a whole stream, for a check that only needs age to authenticate
/// every chunk.
fn drain(reader: &mut impl Read, interrupt: &Interrupt, total: Option<u64>) -> Result<u64> {
    let mut progress = Progress::new("verify", total);
    let n = progress::copy(reader, &mut std::io::sink(), &mut progress, interrupt, format::damaged)?;
    progress.finish();
    Ok(n)
}
