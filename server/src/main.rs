//! The `safehouse` command line: parses arguments and dispatches to the
//! commands in the library (`safehouse::cli`).

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use clap::{Parser, Subcommand};

use safehouse::cli::{self, audit::AuditCommand, backup::BackupArgs, recover::RecoverCommand};
use safehouse::config::Config;

#[derive(Parser)]
#[command(
    name = "safehouse",
    version,
    about = "Confidential case management for refugee rescue and resettlement"
)]
struct Cli {
    /// A TOML configuration file (or SAFEHOUSE_CONFIG).
    #[arg(long, global = true)]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Make a recovery key. Run it on a machine that never joins a network;
    /// give `init` only the public recipient it prints.
    Keygen {
        /// Where to write the secret identity (refuses to overwrite).
        #[arg(long)]
        output: PathBuf,
        /// A backup key instead: it opens backups, and must differ from
        /// every recovery key.
        #[arg(long)]
        backup: bool,
    },
    /// Create a new instance: data directory, secrets directory, database,
    /// team keys, the first coordinator and the first administrator.
    ///
    /// The first coordinator's password is typed at the console, or read
    /// from the file named by SAFEHOUSE_COORDINATOR_PASSWORD_FILE; the line
    /// breaks at the end of that file are dropped.
    Init {
        /// A recovery recipient (age1...), repeatable; any one recovers.
        #[arg(long = "recovery-recipient", required = true)]
        recovery: Vec<String>,
        /// A backup recipient (age1... from `keygen --backup`), repeatable;
        /// more can be pinned later with `backup add-recipient`.
        #[arg(long = "backup-recipient")]
        backup: Vec<String>,
        /// Username of the first coordinator (a pseudonym).
        #[arg(long)]
        coordinator: String,
        /// Username of the first administrator (a second account).
        #[arg(long)]
        admin: String,
    },
    /// Run the server.
    Serve,
    /// A throwaway instance with sample data, on loopback only.
    Demo {
        /// Print the login details as one JSON object.
        #[arg(long)]
        json: bool,
        /// Every demo user's language, and the sample cases' words: en,
        /// ja or ko (default: each browser's).
        #[arg(long, value_parser = parse_lang)]
        lang: Option<safehouse::i18n::Lang>,
    },
    /// The offline recovery procedure.
    #[command(subcommand)]
    Recover(RecoverCommand),
    /// The audit trail.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// End every session now and refuse logins, or with --lift allow them again.
    Lockdown {
        #[arg(long)]
        lift: bool,
    },
    /// Purge a closed case (--case ID) or every closed case past the
    /// retention period (--due), as a coordinator (password and code prompted).
    Purge {
        #[arg(long)]
        case: Option<String>,
        #[arg(long)]
        due: bool,
        /// The coordinator's username.
        #[arg(long)]
        user: String,
    },
    /// Rotate a key: a new one replaces it and the old one is destroyed
    /// (every server stopped first; as a coordinator, --user, or with the
    /// recovery key, --recovery-identity).
    Rotate {
        target: safehouse::rotation::Target,
        /// The key may have leaked: also new case, index and register
        /// keys, every sealed field re-sealed.
        #[arg(long)]
        compromised: bool,
        /// For `recovery` and `backup`: the new recipient(s), made offline.
        #[arg(long = "recipient")]
        recipients: Vec<String>,
        /// A coordinator's username (password and code prompted).
        #[arg(long)]
        user: Option<String>,
        /// A file holding the recovery identity (or SAFEHOUSE_RECOVERY_IDENTITY_FILE).
        #[arg(long)]
        recovery_identity: Option<PathBuf>,
    },
    /// An encrypted backup, taken while the server runs (or `backup
    /// verify FILE`, `backup add-recipient age1...`).
    Backup(BackupArgs),
    /// Restore a backup into an empty data directory or database.
    Restore {
        #[arg(long)]
        from: PathBuf,
        /// A file holding the backup identity (or
        /// SAFEHOUSE_BACKUP_IDENTITY_FILE, or typed at the console).
        #[arg(long)]
        identity: Option<PathBuf>,
    },
    /// Bring the database schema up to date (every command does so first;
    /// on PostgreSQL run this as the database owner before nodes start).
    Migrate,
    /// Print the route table as JSON lines: method, path and the roles that
    /// may use each route (the security tests sweep every one).
    Routes,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let config = match Config::load(cli.config.as_deref()) {
        Ok(config) => config,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    let filter = tracing_subscriber::EnvFilter::try_new(&config.log)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).init();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli.command, config)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {}", cli::report(&e));
            ExitCode::FAILURE
        }
    }
}

async fn run(command: Command, config: Config) -> Result<()> {
    match command {
        Command::Keygen { output, backup } => cli::keygen::run(&output, backup),
        Command::Init { recovery, backup, coordinator, admin } => {
            cli::init::run(&config, recovery, backup, &coordinator, &admin).await
        }
        Command::Serve => cli::serve::run(&config).await,
        Command::Demo { json, lang } => cli::demo::run(&config, json, lang).await,
        Command::Recover(command) => cli::recover::run(&config, command).await,
        Command::Audit(command) => cli::audit::run(&config, command).await,
        Command::Lockdown { lift } => cli::lockdown::run(&config, lift).await,
        Command::Purge { case, due, user } => cli::purge::run(&config, case, due, &user).await,
        Command::Migrate => cli::migrate::run(&config).await,
        Command::Routes => cli::routes::run(),
        Command::Rotate { target, compromised, recipients, user, recovery_identity } => {
            cli::rotate::run(
                &config,
                target,
                compromised,
                &recipients,
                user.as_deref(),
                recovery_identity.as_deref(),
            )
            .await
        }
        Command::Backup(args) => cli::backup::run(&config, args).await,
        Command::Restore { from, identity } => {
            cli::backup::restore(&config, &from, identity.as_deref()).await
        }
    }
}

fn parse_lang(text: &str) -> Result<safehouse::i18n::Lang, String> {
    safehouse::i18n::Lang::from_code(text)
        .ok_or_else(|| format!("{text:?} is not a language Safehouse speaks: en, ja or ko"))
}
