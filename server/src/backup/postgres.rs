//! PostgreSQL backups through `pg_dump` and `pg_restore`: the dump streams
//! straight into the age writer (no clear copy on disk), and the restore is
//! one transaction, so an interrupted one leaves the database empty.

use std::io::Read;
use std::path::Path;
use std::process::{Child, Command, Stdio};

use anyhow::{Context, Result, bail};
use percent_encoding::percent_decode_str;
use sqlx::PgPool;
use sqlx::postgres::PgSslMode;

use super::Opened;
use super::format::{self, Backend, Digest, Header, Migration};
use super::progress::{self, Interrupt, Progress};
use crate::config::Config;
use crate::crypto::Recipient;
use crate::storage::postgres::RESTORE_MARKER;

/// The archive format `pg_dump --format=custom` writes starts so.
const ARCHIVE_MAGIC: &[u8] = b"PGDMP";

/// A `pg_dump` or `pg_restore` command for `url`, under the same transport
/// rule as the server (setup::postgres_options). The password goes in
/// PGPASSWORD, never on a command line another user could list.
fn command(program: &str, url: &str, allow_insecure: bool) -> Result<Command> {
    let options = crate::setup::postgres_options(url, allow_insecure)?;
    let (target, password) = without_password(url);
    let mut command = Command::new(program);
    command.arg(format!("--dbname={target}"));
    if let Some(password) = password {
        command.env("PGPASSWORD", password);
    }
    if matches!(options.get_ssl_mode(), PgSslMode::VerifyFull) && !url.contains("sslmode=") {
        command.env("PGSSLMODE", "verify-full");
    }
    Ok(command)
}

/// The URL without its password, and the password.
fn without_password(url: &str) -> (String, Option<String>) {
    let Some((scheme, rest)) = url.split_once("://") else { return (url.to_owned(), None) };
    let end = rest.find(['/', '?']).unwrap_or(rest.len());
    let Some((authority, tail)) = rest.split_at_checked(end) else { return (url.to_owned(), None) };
    let Some((userinfo, host)) = authority.rsplit_once('@') else { return (url.to_owned(), None) };
    let Some((user, password)) = userinfo.split_once(':') else { return (url.to_owned(), None) };
    let password = percent_decode_str(password).decode_utf8_lossy().into_owned();
    (format!("{scheme}://{user}@{host}{tail}"), Some(password))
}

async fn connect(url: &str, allow_insecure: bool) -> Result<PgPool> {
    let options = crate::setup::postgres_options(url, allow_insecure)?;
    Ok(sqlx::postgres::PgPoolOptions::new().max_connections(1).connect_with(options).await?)
}

pub async fn schema(url: &str, allow_insecure: bool) -> Result<Vec<Migration>> {
    let pool = connect(url, allow_insecure).await?;
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

/// Stop a child that will not finish (the copy failed or was interrupted).
fn stop(child: &mut Child) {
    let _ = child.kill();
    let _ = child.wait();
}

/// Dump the database into `partial`, encrypted. The sessions table's rows
/// are left out twice over: it is UNLOGGED, and named.
pub async fn dump(
    url: &str,
    allow_insecure: bool,
    header: &Header,
    recipients: &[Recipient],
    partial: &Path,
    digest: &Digest,
    interrupt: &Interrupt,
) -> Result<u64> {
    let mut command = command("pg_dump", url, allow_insecure)?;
    command
        .args([
            "--format=custom",
            "--no-owner",
            "--no-privileges",
            "--no-unlogged-table-data",
            "--exclude-table-data=sessions",
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::piped());
    let (header, recipients, partial, interrupt, digest) =
        (header.clone(), recipients.to_vec(), partial.to_owned(), interrupt.clone(), digest.clone());
    tokio::task::spawn_blocking(move || -> Result<u64> {
        let mut child =
            command.spawn().context("cannot run pg_dump (install the PostgreSQL client tools)")?;
        let copied = (|| -> Result<u64> {
            let mut stdout = child.stdout.take().context("pg_dump's output")?;
            let mut writer = format::encrypt(super::create_output(&partial, &digest)?, &recipients, &header)?;
            let mut progress = Progress::new("backup", None);
            let n = progress::copy(&mut stdout, &mut writer, &mut progress, &interrupt, Into::into)?;
            super::finish_output(writer)?;
            progress.finish();
            Ok(n)
        })();
        match copied {
            Ok(n) => {
                let status = child.wait()?;
                if !status.success() {
                    bail!("pg_dump failed ({status}): nothing written");
                }
                Ok(n)
            }
            Err(e) => {
                stop(&mut child);
                Err(e)
            }
        }
    })
    .await?
}

/// Without a server: the backup opens, every chunk authenticates, and the
/// payload is a pg_dump archive (read to its end, so its id is complete).
pub async fn check_archive(opened: Opened, interrupt: &Interrupt) -> Result<Header> {
    let interrupt = interrupt.clone();
    tokio::task::spawn_blocking(move || -> Result<Header> {
        let Opened { header, mut reader, total, .. } = opened;
        let mut magic = [0u8; 5];
        reader.read_exact(&mut magic).map_err(format::damaged)?;
        if magic != ARCHIVE_MAGIC {
            bail!("the backup's payload is not a pg_dump archive");
        }
        super::drain(&mut reader, &interrupt, total)?;
        Ok(header)
    })
    .await?
}

const NOT_EMPTY: &str = "the database is not empty: restore only ever fills an empty database";

/// Tables outside PostgreSQL's own schemas, and whether a restore's
/// marker is there.
async fn contents(url: &str, allow_insecure: bool) -> Result<(i64, bool)> {
    let pool = connect(url, allow_insecure).await?;
    let found: Result<(i64, bool), _> = sqlx::query_as(
        "SELECT (SELECT COUNT(*) FROM pg_catalog.pg_tables \
                 WHERE schemaname NOT IN ('pg_catalog', 'information_schema')), \
                to_regnamespace($1) IS NOT NULL",
    )
    .bind(RESTORE_MARKER)
    .fetch_one(&pool)
    .await;
    pool.close().await;
    Ok(found?)
}

/// A restore's target as it finds it.
pub enum Target {
    /// No table (perhaps marked by a restore killed before `pg_restore`
    /// committed): restore into it.
    Empty,
    /// Marked and loaded: a restore was killed after `pg_restore`
    /// committed and before its checks and audit entry. Finish it.
    Loaded,
}

/// Refuses a database in use: tables and no marker.
pub async fn target(url: &str, allow_insecure: bool) -> Result<Target> {
    match contents(url, allow_insecure).await? {
        (0, _) => Ok(Target::Empty),
        (_, true) => Ok(Target::Loaded),
        _ => bail!(NOT_EMPTY),
    }
}

/// Put up (`true`) or take down the marker that keeps every server off a
/// database until the restore into it has finished.
pub async fn mark(url: &str, allow_insecure: bool, up: bool) -> Result<()> {
    let sql = if up {
        format!("CREATE SCHEMA IF NOT EXISTS {RESTORE_MARKER}")
    } else {
        format!("DROP SCHEMA IF EXISTS {RESTORE_MARKER}")
    };
    let pool = connect(url, allow_insecure).await?;
    let done = sqlx::query(&sql).execute(&pool).await;
    pool.close().await;
    done.context("cannot mark the database as being restored")?;
    Ok(())
}

/// Restore into an empty database in one transaction.
pub async fn restore(
    opened: Opened,
    url: &str,
    allow_insecure: bool,
    interrupt: &Interrupt,
) -> Result<Header> {
    if contents(url, allow_insecure).await?.0 != 0 {
        bail!(NOT_EMPTY);
    }
    let mut command = command("pg_restore", url, allow_insecure)?;
    command
        .args(["--single-transaction", "--exit-on-error", "--no-owner", "--no-privileges"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null());
    let interrupt = interrupt.clone();
    tokio::task::spawn_blocking(move || -> Result<Header> {
        let Opened { header, mut reader, total, .. } = opened;
        if header.backend != Backend::Postgres {
            bail!("this backup is of a SQLite database");
        }
        let mut child =
            command.spawn().context("cannot run pg_restore (install the PostgreSQL client tools)")?;
        let copied = (|| -> Result<()> {
            let mut stdin = child.stdin.take().context("pg_restore's input")?;
            let mut progress = Progress::new("restore", total);
            progress::copy(&mut reader, &mut stdin, &mut progress, &interrupt, format::damaged)?;
            progress.finish();
            Ok(())
        })();
        match copied {
            Ok(()) => {
                let status = child.wait()?;
                if !status.success() {
                    bail!(
                        "pg_restore failed ({status}): its transaction was rolled back, the database is empty"
                    );
                }
                Ok(header)
            }
            Err(e) => {
                // Killed mid-transaction: PostgreSQL rolls it back.
                stop(&mut child);
                Err(e)
            }
        }
    })
    .await?
}

pub async fn counts(pool: &PgPool) -> Result<Vec<(String, i64)>> {
    let tables: Vec<(String,)> = sqlx::query_as(
        "SELECT tablename::text FROM pg_catalog.pg_tables WHERE schemaname = current_schema() \
         AND tablename <> '_sqlx_migrations' ORDER BY tablename",
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

pub async fn counts_of(config: &Config) -> Result<Vec<(String, i64)>> {
    let url = super::postgres_url(config).context("no PostgreSQL URL")?;
    let pool = connect(url, config.database_allow_insecure).await?;
    let result = counts(&pool).await;
    pool.close().await;
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_password_leaves_the_url() {
        let (url, password) =
            without_password("postgres://app:p%40ss@db.example.org:5432/s?sslmode=verify-full");
        assert_eq!(url, "postgres://app@db.example.org:5432/s?sslmode=verify-full");
        assert_eq!(password.as_deref(), Some("p@ss"));
        let (url, password) = without_password("postgres://postgres@127.0.0.1/s");
        assert_eq!(url, "postgres://postgres@127.0.0.1/s");
        assert!(password.is_none());
    }
}
