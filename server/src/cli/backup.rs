//! `safehouse backup`, `safehouse backup verify`, `safehouse backup
//! add-recipient` and `safehouse restore`.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use clap::{Args, Subcommand};
use secrecy::{ExposeSecret, SecretString};

use crate::backup::{self, Checked, Scratchpad, Secrets, format, progress::Interrupt};
use crate::config::Config;
use crate::crypto::Recipient;
use crate::keyring::SecretsDir;

#[derive(Args)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
pub struct BackupArgs {
    /// Where to write the encrypted backup (refuses to overwrite).
    #[arg(long, required = true)]
    pub out: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Option<BackupCommand>,
}

#[derive(Subcommand)]
pub enum BackupCommand {
    /// Check a backup with the backup identity, on any machine: it opens,
    /// its schema is known, its audit chain holds; print its counts and
    /// chain head.
    Verify {
        file: PathBuf,
        /// A file holding the backup identity (or
        /// SAFEHOUSE_BACKUP_IDENTITY_FILE, or typed at the console).
        #[arg(long)]
        identity: Option<PathBuf>,
        /// Also check every audit entry's MAC, with the configured secrets
        /// directory (the pepper unseals the audit key).
        #[arg(long)]
        with_secrets: bool,
        /// A PostgreSQL backup: an empty scratch database to restore it
        /// into for the full check.
        #[arg(long)]
        scratch_database: Option<String>,
    },
    /// Pin one more backup recipient (from `safehouse keygen --backup`) in
    /// the trust file.
    AddRecipient { recipient: String },
}

pub async fn run(config: &Config, args: BackupArgs) -> Result<()> {
    match args.command {
        Some(BackupCommand::AddRecipient { recipient }) => {
            let recipient = parse_recipient(&recipient)?;
            let trust = SecretsDir::new(&config.secrets_dir).add_backup_recipient(&recipient)?;
            println!(
                "Backup recipient pinned; backups are now encrypted to {} recipient(s). Copy the new \
                 trust.toml to every node and to where its copies are kept.",
                trust.backup.len()
            );
            Ok(())
        }
        Some(BackupCommand::Verify { file, identity, with_secrets, scratch_database }) => {
            let identity = load_identity(identity.as_deref())?;
            let dir = SecretsDir::new(&config.secrets_dir);
            let secrets = if with_secrets { Secrets::Dir(&dir) } else { Secrets::None };
            let scratch = scratch_database
                .as_deref()
                .map(|url| Scratchpad { url, allow_insecure: config.database_allow_insecure });
            let interrupt = Interrupt::watch();
            match backup::verify(&file, &identity, secrets, scratch, &interrupt).await? {
                Some(checked) => print_checked(&checked),
                None => {
                    println!("backup opens: every chunk authenticates; PostgreSQL archive; schema known");
                    println!(
                        "not checked without a database: the counts and the audit chain. Give \
                         --scratch-database URL (an empty database) for those"
                    );
                }
            }
            Ok(())
        }
        None => {
            let out = args.out.context("--out FILE is required")?;
            let interrupt = Interrupt::watch();
            let taken = backup::take(config, &out, &interrupt).await?;
            println!(
                "Backup written to {} ({} bytes of {} database, schema {}, taken {}), encrypted to {} backup \
                 recipient(s); audited as backup {}. Check it with `safehouse backup verify`.",
                out.display(),
                taken.bytes,
                taken.header.backend.as_str(),
                schema_version(&taken.header),
                taken.header.created,
                taken.recipients,
                taken.id
            );
            Ok(())
        }
    }
}

/// `safehouse restore --from FILE`.
pub async fn restore(config: &Config, from: &Path, identity: Option<&Path>) -> Result<()> {
    let identity = load_identity(identity)?;
    let interrupt = Interrupt::watch();
    let restored = backup::restore(config, from, &identity, &interrupt).await?;
    println!(
        "Restored instance {} from a backup taken {}.",
        restored.checked.header.instance_id, restored.checked.header.created
    );
    print_checked(&restored.checked);
    if restored.secrets_match {
        println!(
            "The secrets directory opens the restored database; the restore of backup {} is in its audit \
             trail. Start the server (`safehouse serve`).",
            restored.id
        );
    } else {
        println!(
            "No secrets directory at {}: put back this instance's pepper and trust.toml (mode 0600, \
             directory 0700) and start the server; if the pepper is lost, put back a copy of trust.toml and \
             follow \"Offline recovery: the pepper is lost\" in docs/operations.md. Without the audit key \
             the restore of backup {} is not in the audit trail.",
            config.secrets_dir.display(),
            restored.id
        );
    }
    Ok(())
}

fn schema_version(header: &format::Header) -> String {
    header.schema.last().map_or_else(|| "none".to_owned(), |m| format!("{:04}", m.version))
}

fn print_checked(checked: &Checked) {
    let header = &checked.header;
    println!(
        "backup of instance {} ({}), taken {}, schema {} ({} migrations, all known)",
        header.instance_id,
        header.backend.as_str(),
        header.created,
        schema_version(header),
        header.schema.len()
    );
    for (table, n) in &checked.counts {
        println!("  {table:<28} {n}");
    }
    if checked.macs_checked {
        println!("audit chain intact: {} entries, every link and MAC checked", checked.entries);
    } else {
        println!(
            "audit chain links intact: {} entries (MACs not checked: they need the audit key, which only \
             the pepper or the recovery key opens; run on the server with --with-secrets for those)",
            checked.entries
        );
    }
    if let Some(head) = &checked.head {
        println!("{}", head.to_line());
    }
}

fn parse_recipient(text: &str) -> Result<Recipient> {
    text.parse::<Recipient>().map_err(|_| anyhow::anyhow!("not an age recipient: {text}"))
}

fn load_identity(path: Option<&Path>) -> Result<age::x25519::Identity> {
    let text = match path {
        Some(path) => {
            SecretString::from(std::fs::read_to_string(path).context("cannot read the backup identity file")?)
        }
        None => super::secret_input(
            "SAFEHOUSE_BACKUP_IDENTITY_FILE",
            "Backup identity (AGE-SECRET-KEY-...): ",
            false,
        )?,
    };
    format::parse_identity(text.expose_secret())
}

/// The backup recipients given to `init`, checked against the recovery
/// ones before anything is made.
pub fn parse_backup_recipients(backup: &[String], recovery: &[Recipient]) -> Result<Vec<Recipient>> {
    let parsed = backup.iter().map(|r| parse_recipient(r)).collect::<Result<Vec<_>>>()?;
    if let Some(both) = parsed.iter().find(|b| recovery.contains(b)) {
        anyhow::bail!(
            "{both} is given both as a recovery and as a backup recipient: make a separate backup key \
             (`safehouse keygen --backup`)"
        );
    }
    Ok(parsed)
}
