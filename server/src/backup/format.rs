//! The backup file: one age file (X25519, to every pinned backup
//! recipient). Inside it, in order: the line `safehouse-backup/1`, one line
//! of JSON (the header), then the database itself to the end: the SQLite
//! file made by `VACUUM INTO`, or `pg_dump --format=custom` output. age
//! authenticates every 64 KiB chunk and marks the last one, so a changed or
//! truncated file fails to open rather than restoring part of a database.

use std::io::{BufRead, BufReader, Read, Write};
use std::str::FromStr;
use std::sync::{Arc, Mutex};

use anyhow::{Context, Result, bail};
use serde::{Deserialize, Serialize};

use crate::crypto::Recipient;

pub const MAGIC: &str = "safehouse-backup/1";
/// The header is one short line; a longer one is not a backup of ours.
const HEADER_LIMIT: u64 = 1 << 20;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn as_str(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }
}

/// One applied migration, as `_sqlx_migrations` records it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Migration {
    pub version: i64,
    pub description: String,
    /// SHA-384 of the migration's text, hex.
    pub checksum: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Header {
    /// The format of this file (1).
    pub format: u32,
    pub instance_id: String,
    pub backend: Backend,
    /// When the snapshot was taken (RFC 3339, UTC).
    pub created: String,
    /// The schema: every migration applied to the database in the file.
    pub schema: Vec<Migration>,
}

/// The migrations this build knows, for a backend.
pub fn known_migrations(backend: Backend) -> Vec<Migration> {
    static SQLITE: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");
    static POSTGRES: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");
    let migrator = match backend {
        Backend::Sqlite => &SQLITE,
        Backend::Postgres => &POSTGRES,
    };
    migrator
        .iter()
        .map(|m| Migration {
            version: m.version,
            description: m.description.to_string(),
            checksum: crate::crypto::to_hex(&m.checksum),
        })
        .collect()
}

/// Refuse a schema this build does not know: a migration it lacks (the
/// backup comes from a newer version) or one whose text differs. An older
/// schema is fine: opening the restored database brings it up to date.
pub fn check_schema(header: &Header) -> Result<()> {
    let known = known_migrations(header.backend);
    for migration in &header.schema {
        match known.iter().find(|k| k.version == migration.version) {
            None => bail!(
                "the backup's schema has migration {} ({}), which this version of Safehouse does not know: \
                 restore it with the version that made it, or a newer one",
                migration.version,
                migration.description
            ),
            Some(k) if k.checksum != migration.checksum => bail!(
                "the backup's migration {} ({}) differs from this version's: not a schema this version knows",
                migration.version,
                migration.description
            ),
            Some(_) => {}
        }
    }
    if header.schema.is_empty() {
        bail!("the backup records no schema");
    }
    Ok(())
}

/// Start an encrypted backup on `output`: returns the writer for the
/// database bytes (call `finish` on it when they are all written).
pub fn encrypt<W: Write>(
    output: W,
    recipients: &[Recipient],
    header: &Header,
) -> Result<age::stream::StreamWriter<W>> {
    let encryptor =
        age::Encryptor::with_recipients(recipients.iter().map(|r| r.as_age() as &dyn age::Recipient))
            .context("no backup recipient")?;
    let mut writer = encryptor.wrap_output(output)?;
    let json = serde_json::to_string(header)?;
    writer.write_all(format!("{MAGIC}\n{json}\n").as_bytes())?;
    Ok(writer)
}

/// A backup identity (`AGE-SECRET-KEY-...`) from the text of its file.
pub fn parse_identity(text: &str) -> Result<age::x25519::Identity> {
    let line = text
        .lines()
        .map(str::trim)
        .find(|l| l.starts_with("AGE-SECRET-KEY-"))
        .context("no AGE-SECRET-KEY line in the backup identity")?;
    age::x25519::Identity::from_str(line).map_err(|_| anyhow::anyhow!("malformed backup identity"))
}

/// Open a backup: check the identity and read the header. The reader that
/// comes back yields the database bytes; age checks each chunk as it is
/// read, so a read error later means the file was changed or cut.
pub fn open<R: Read>(
    input: R,
    identity: &age::x25519::Identity,
) -> Result<(Header, BufReader<age::stream::StreamReader<R>>)> {
    let decryptor = age::Decryptor::new(input).map_err(|e| match e {
        age::DecryptError::InvalidHeader | age::DecryptError::UnknownFormat => {
            anyhow::anyhow!("not a Safehouse backup (not an age file, or its header was changed)")
        }
        other => anyhow::anyhow!("cannot open the backup: {other}"),
    })?;
    let reader = decryptor.decrypt(std::iter::once(identity as &dyn age::Identity)).map_err(|e| match e {
        age::DecryptError::NoMatchingKeys => anyhow::anyhow!(
            "this backup is not encrypted to this backup identity (or its header was changed)"
        ),
        age::DecryptError::InvalidMac => anyhow::anyhow!("the backup's header was changed: refusing it"),
        other => anyhow::anyhow!("cannot open the backup: {other}"),
    })?;
    let mut reader = BufReader::new(reader);
    let magic = read_line(&mut reader)?;
    if magic != MAGIC {
        bail!("not a Safehouse backup of a format this version knows");
    }
    let header: Header =
        serde_json::from_str(&read_line(&mut reader)?).context("the backup's header is malformed")?;
    if header.format != 1 {
        bail!("backup format {} is not one this version knows", header.format);
    }
    Ok((header, reader))
}

fn read_line<R: BufRead>(reader: &mut R) -> Result<String> {
    let mut line = String::new();
    reader.take(HEADER_LIMIT).read_line(&mut line).map_err(damaged)?;
    if !line.ends_with('\n') {
        bail!("not a Safehouse backup (no header line)");
    }
    Ok(line.trim_end_matches('\n').to_owned())
}

/// A read error inside the payload: age refused a chunk.
pub fn damaged(error: std::io::Error) -> anyhow::Error {
    anyhow::anyhow!("the backup is damaged, changed or cut short: {error}")
}

/// A running SHA-256 of a backup file's bytes as they are written or
/// read: its first 64 bits, in hex, name the file in the audit trail
/// (`backup.create`, `backup.restore`) without its path, and an operator
/// finds the file with `sha256sum FILE | cut -c1-16`.
#[derive(Clone, Default)]
pub struct Digest(Arc<Mutex<sha2::Sha256>>);

impl Digest {
    fn update(&self, bytes: &[u8]) {
        use sha2::Digest as _;
        self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner).update(bytes);
    }

    /// The id of the bytes seen so far.
    pub fn id(&self) -> String {
        use sha2::Digest as _;
        let sum = self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clone().finalize();
        crate::crypto::to_hex(sum.get(..8).unwrap_or_default())
    }
}

/// A reader or writer that feeds every byte through a [`Digest`].
pub struct Hashing<T> {
    inner: T,
    digest: Digest,
}

impl<T> Hashing<T> {
    pub fn new(inner: T, digest: &Digest) -> Hashing<T> {
        Hashing { inner, digest: digest.clone() }
    }

    pub fn into_inner(self) -> T {
        self.inner
    }
}

impl<W: Write> Write for Hashing<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.digest.update(buf.get(..n).unwrap_or_default());
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

impl<R: Read> Read for Hashing<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.digest.update(buf.get(..n).unwrap_or_default());
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(schema: Vec<Migration>) -> Header {
        Header {
            format: 1,
            instance_id: "instance-a".into(),
            backend: Backend::Sqlite,
            created: "2026-01-01T00:00:00Z".into(),
            schema,
        }
    }

    #[test]
    fn a_backup_opens_with_its_key_only_and_keeps_its_header_and_bytes() {
        let key = age::x25519::Identity::generate();
        let recipient: Recipient = key.to_public().to_string().parse().unwrap();
        let mut file = Vec::new();
        let mut writer =
            encrypt(&mut file, &[recipient], &header(known_migrations(Backend::Sqlite))).unwrap();
        writer.write_all(b"database bytes").unwrap();
        writer.finish().unwrap();
        assert!(!file.windows(10).any(|w| w == b"instance-a"), "the header is encrypted too");

        let (opened, mut reader) = open(file.as_slice(), &key).unwrap();
        assert_eq!(opened.instance_id, "instance-a");
        check_schema(&opened).unwrap();
        let mut rest = Vec::new();
        reader.read_to_end(&mut rest).unwrap();
        assert_eq!(rest, b"database bytes");

        let other = age::x25519::Identity::generate();
        let error = open(file.as_slice(), &other).err().unwrap().to_string();
        assert!(error.contains("not encrypted to this backup identity"), "{error}");
    }

    #[test]
    fn a_file_has_the_same_id_written_and_read_and_it_is_its_digest_prefix() {
        use sha2::Digest as _;
        let key = age::x25519::Identity::generate();
        let recipient: Recipient = key.to_public().to_string().parse().unwrap();
        let written = Digest::default();
        let mut file = Vec::new();
        let mut writer = encrypt(
            Hashing::new(&mut file, &written),
            &[recipient],
            &header(known_migrations(Backend::Sqlite)),
        )
        .unwrap();
        writer.write_all(&vec![7u8; 200_000]).unwrap();
        writer.finish().unwrap();
        let read = Digest::default();
        let (_, mut reader) = open(Hashing::new(file.as_slice(), &read), &key).unwrap();
        std::io::copy(&mut reader, &mut std::io::sink()).unwrap();
        let expected = crate::crypto::to_hex(&sha2::Sha256::digest(&file)[..8]);
        assert_eq!((written.id(), read.id()), (expected.clone(), expected));
    }

    #[test]
    fn a_schema_from_a_newer_or_different_build_is_refused() {
        let mut newer = known_migrations(Backend::Sqlite);
        newer.push(Migration { version: 9999, description: "future".into(), checksum: "00".into() });
        let error = check_schema(&header(newer)).unwrap_err().to_string();
        assert!(error.contains("does not know"), "{error}");
        let mut changed = known_migrations(Backend::Sqlite);
        changed.first_mut().unwrap().checksum = "00".into();
        assert!(check_schema(&header(changed)).unwrap_err().to_string().contains("differs"));
        // An older schema (a prefix) is known: the restore migrates it up.
        let older: Vec<_> = known_migrations(Backend::Sqlite).into_iter().take(3).collect();
        check_schema(&header(older)).unwrap();
        assert!(check_schema(&header(Vec::new())).is_err());
    }
}
