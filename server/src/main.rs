//! The `safehouse` command line: parses arguments and dispatches to the
//! library. No password or key is ever taken from the command line: they
//! come from a prompt or from a file named by a `*_FILE` variable.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand};
use secrecy::{ExposeSecret, SecretString};

use safehouse::accounts::model::{Password, Username};
use safehouse::clock::SystemClock;
use safehouse::config::Config;
use safehouse::crypto::{Identity, Recipient};
use safehouse::keyring::secrets::SecretsDir;
use safehouse::sessions::SessionsAt;
use safehouse::setup::{self, InitOptions};
use safehouse::web::{self, Application};
use safehouse::{demo, recovery};

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
    },
    /// Create a new instance: data directory, secrets directory, database,
    /// team keys, the first coordinator and the first administrator.
    Init {
        /// A recovery recipient (age1...), repeatable; any one recovers.
        #[arg(long = "recovery-recipient", required = true)]
        recovery: Vec<String>,
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
    /// Bring the database schema up to date (every command does so first;
    /// on PostgreSQL run this as the database owner before nodes start).
    Migrate,
}

#[derive(Subcommand)]
enum AuditCommand {
    /// Walk the whole chain and report the first break (non-zero exit).
    Verify {
        /// A checkpoint from `audit head`, kept off the server; repeatable.
        #[arg(long = "checkpoint")]
        checkpoints: Vec<PathBuf>,
    },
    /// Print the chain head as a checkpoint line, to keep off the server.
    Head,
}

#[derive(Subcommand)]
enum RecoverCommand {
    /// Export a request naming an activated coordinator account, or with
    /// --lost-pepper, a request to recover the system keys after the pepper
    /// was lost (every account then activates anew).
    Export {
        #[arg(long, required_unless_present = "lost_pepper", conflicts_with = "lost_pepper")]
        username: Option<String>,
        #[arg(long)]
        lost_pepper: bool,
        #[arg(long)]
        output: PathBuf,
    },
    /// Answer a request on the offline machine, with the recovery key
    /// (from SAFEHOUSE_RECOVERY_IDENTITY_FILE or --identity).
    Answer {
        #[arg(long)]
        request: PathBuf,
        /// The fingerprint the new coordinator reads from their key page
        /// (not needed for a lost-pepper request).
        #[arg(long)]
        fingerprint: Option<String>,
        /// A file holding the recovery identity.
        #[arg(long)]
        identity: Option<PathBuf>,
        #[arg(long)]
        output: PathBuf,
    },
    /// Import an answer into the server's database.
    Import {
        #[arg(long)]
        answer: PathBuf,
    },
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
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(command: Command, config: Config) -> Result<()> {
    match command {
        Command::Keygen { output } => keygen(&output),
        Command::Init { recovery, coordinator, admin } => init(&config, recovery, &coordinator, &admin).await,
        Command::Serve => serve(&config).await,
        Command::Demo { json } => run_demo(&config, json).await,
        Command::Recover(cmd) => recover(&config, cmd).await,
        Command::Audit(cmd) => audit(&config, cmd).await,
        Command::Lockdown { lift } => lockdown(&config, lift).await,
        Command::Migrate => {
            setup::open_store(&config).await?;
            println!("The database schema is up to date.");
            Ok(())
        }
    }
}

fn keygen(output: &Path) -> Result<()> {
    let identity = Identity::generate();
    let secret = String::from_utf8(identity.to_secret_bytes().to_vec()).context("identity encoding")?;
    let contents = format!(
        "# Safehouse recovery key. Keep offline.\n# public key: {}\n{secret}\n",
        identity.recipient()
    );
    write_file(output, &contents)?;
    println!("{}", identity.recipient());
    eprintln!(
        "Recovery key written to {}. Keep it offline; give `safehouse init` only the public key above.",
        output.display()
    );
    Ok(())
}

/// A secret from the file named by `var`, or typed at the console.
fn secret_input(var: &str, prompt: &str, confirm: bool) -> Result<SecretString> {
    if let Ok(path) = std::env::var(var) {
        let text = std::fs::read_to_string(&path).with_context(|| format!("cannot read {var}"))?;
        return Ok(SecretString::from(text.trim_end_matches(['\n', '\r']).to_owned()));
    }
    if !std::io::stdin().is_terminal() {
        bail!("no terminal to prompt on: set {var} to a file holding the value");
    }
    let first = rpassword::prompt_password(prompt)?;
    if confirm {
        let second = rpassword::prompt_password("Type it again: ")?;
        if first != second {
            bail!("the two entries differ");
        }
    }
    Ok(SecretString::from(first))
}

async fn init(config: &Config, recovery: Vec<String>, coordinator: &str, admin: &str) -> Result<()> {
    let recovery = recovery
        .iter()
        .map(|r| r.parse::<Recipient>().map_err(|_| anyhow::anyhow!("not an age recipient: {r}")))
        .collect::<Result<Vec<_>>>()?;
    let coordinator =
        Username::parse(coordinator).map_err(|e| anyhow::anyhow!("--coordinator: {}", e.message))?;
    let admin = Username::parse(admin).map_err(|e| anyhow::anyhow!("--admin: {}", e.message))?;
    if coordinator == admin {
        bail!("the first coordinator and the first administrator are two accounts with two usernames");
    }
    let password =
        secret_input("SAFEHOUSE_COORDINATOR_PASSWORD_FILE", "Password for the first coordinator: ", true)?;
    let password = Password::parse(password).map_err(|e| anyhow::anyhow!("{}", e.message))?;
    let report = setup::init(
        InitOptions {
            data_dir: config.data_dir.clone(),
            secrets_dir: config.secrets_dir.clone(),
            recovery,
            coordinator,
            coordinator_password: password,
            admin,
            kdf: config.kdf,
            database_url: config.database_url_exposed().map(str::to_owned),
            database_allow_insecure: config.database_allow_insecure,
        },
        Arc::new(SystemClock),
    )
    .await?;
    println!("Safehouse instance {} created.", report.instance_id);
    println!("Data directory:    {}", config.data_dir.display());
    println!("Secrets directory: {} (keep it out of every backup)", config.secrets_dir.display());
    println!();
    println!("First coordinator key fingerprint: {}", report.coordinator_fingerprint);
    println!("Recovery codes for the first coordinator (each works once; store them offline):");
    for code in &report.coordinator_recovery_codes {
        println!("  {}", code.expose());
    }
    println!();
    println!("Activation code for the first administrator (single use, valid 72 hours):");
    println!("  {}", report.admin_activation.expose());
    Ok(())
}

async fn serve(config: &Config) -> Result<()> {
    let vault = setup::open(config, Arc::new(SystemClock)).await?;
    let mut state =
        web::state(vault, &setup::sessions_at(config)?).await.context("cannot open the session store")?;
    state.hsts = config.tls;
    state.trusted_proxies = config.trusted_proxies.clone().into();
    state.policy.idle = time::Duration::minutes(config.session_idle_minutes);
    state.policy.absolute = time::Duration::hours(config.session_absolute_hours);
    let app = Application::bind(config.listen, state)
        .await
        .with_context(|| format!("cannot listen on {}", config.listen))?;
    println!("Safehouse listening on http://{}/", app.local_addr()?);
    app.run_until(web::shutdown_signal()).await?;
    Ok(())
}

async fn run_demo(config: &Config, json: bool) -> Result<()> {
    if !config.listen.ip().is_loopback() {
        bail!("the demo listens on loopback only; set SAFEHOUSE_LISTEN to a 127.0.0.1 or [::1] address");
    }
    let built = demo::build(Arc::new(SystemClock)).await?;
    let state =
        match web::state(built.vault.clone(), &SessionsAt::File(built.root.join("data/sessions.db"))).await {
            Ok(state) => state,
            Err(e) => {
                built.remove();
                bail!("cannot open the session store: {e}");
            }
        };
    let app = match Application::bind(config.listen, state).await {
        Ok(app) => app,
        Err(e) => {
            built.remove();
            bail!("cannot listen on {}: {e}", config.listen);
        }
    };
    let url = format!("http://{}/", app.local_addr()?);
    let info = built.info(url.clone());
    if json {
        println!("{}", serde_json::to_string(&info)?);
    } else {
        println!("Safehouse demo at {url} (throwaway data, removed on exit; invented cases only)");
        println!();
        println!("{:<15} {:<14} {:<26} authenticator secret", "role", "username", "password");
        for user in &info.users {
            println!("{:<15} {:<14} {:<26} {}", user.role, user.username, user.password, user.totp_secret);
        }
        println!();
        println!(
            "Add the secret to an authenticator app (or run `oathtool --totp -b SECRET`) for the login code."
        );
        println!();
        println!("Press Ctrl-C to stop.");
    }
    let result = app.run_until(web::shutdown_signal()).await;
    built.remove();
    Ok(result?)
}

async fn recover(config: &Config, command: RecoverCommand) -> Result<()> {
    match command {
        RecoverCommand::Export { username, lost_pepper, output } => {
            let text = if lost_pepper {
                let store = setup::open_store(config).await?;
                let request =
                    recovery::pepper::export(store.as_ref(), &SecretsDir::new(&config.secrets_dir)).await?;
                serde_json::to_string_pretty(&request)?
            } else {
                let vault = setup::open(config, Arc::new(SystemClock)).await?;
                let username = Username::parse(username.as_deref().unwrap_or_default())
                    .map_err(|e| anyhow::anyhow!("--username: {}", e.message))?;
                let request = recovery::export(&vault, &username).await?;
                println!("Fingerprint of the new coordinator's key: {}", request.fingerprint);
                serde_json::to_string_pretty(&request)?
            };
            write_file(&output, &text)?;
            println!(
                "Request written to {}. Answer it on the offline machine with `safehouse recover answer`.",
                output.display()
            );
            Ok(())
        }
        RecoverCommand::Answer { request, fingerprint, identity, output } => {
            let text = std::fs::read_to_string(&request).context("cannot read the request")?;
            let identity_text = match identity {
                Some(path) => SecretString::from(
                    std::fs::read_to_string(&path).context("cannot read the identity file")?,
                ),
                None => secret_input(
                    "SAFEHOUSE_RECOVERY_IDENTITY_FILE",
                    "Recovery identity (AGE-SECRET-KEY-...): ",
                    false,
                )?,
            };
            let line = identity_text
                .expose_secret()
                .lines()
                .map(str::trim)
                .find(|l| l.starts_with("AGE-SECRET-KEY-"))
                .context("no AGE-SECRET-KEY line in the identity")?
                .to_owned();
            let recovery_identity = Identity::from_secret_bytes(line.as_bytes())
                .map_err(|_| anyhow::anyhow!("malformed recovery identity"))?;
            let answer = if text.contains("safehouse-pepper-request/") {
                let request: recovery::pepper::PepperRequest =
                    serde_json::from_str(&text).context("not a recovery request")?;
                serde_json::to_string_pretty(&recovery::pepper::answer(&request, &recovery_identity)?)?
            } else {
                let request: recovery::Request =
                    serde_json::from_str(&text).context("not a recovery request")?;
                let fingerprint = fingerprint.context(
                    "--fingerprint is required: ask the new coordinator to read it from their key page",
                )?;
                serde_json::to_string_pretty(&recovery::answer(&request, &recovery_identity, &fingerprint)?)?
            };
            write_file(&output, &answer)?;
            println!(
                "Answer written to {}. Carry it to the server and run `safehouse recover import`.",
                output.display()
            );
            Ok(())
        }
        RecoverCommand::Import { answer } => {
            let text = std::fs::read_to_string(&answer).context("cannot read the answer")?;
            if text.contains("safehouse-pepper-answer/") {
                let answer: recovery::pepper::PepperAnswer =
                    serde_json::from_str(&text).context("not a recovery answer")?;
                let store = setup::open_store(config).await?;
                let secrets = SecretsDir::new(&config.secrets_dir);
                let tokens = recovery::pepper::import(
                    store.as_ref(),
                    &secrets,
                    &answer,
                    time::OffsetDateTime::now_utc(),
                )
                .await?;
                println!(
                    "A new pepper is in place. Every account activates anew; hand each owner their code:"
                );
                for (username, token) in &tokens {
                    println!("  {username:<24} {}", token.expose());
                }
                println!("Then admit one coordinator with `safehouse recover export --username NAME`.");
                return Ok(());
            }
            let vault = setup::open(config, Arc::new(SystemClock)).await?;
            let answer: recovery::Answer = serde_json::from_str(&text).context("not a recovery answer")?;
            let user_id = recovery::import(&vault, &answer).await?;
            println!(
                "Imported: account {user_id} is now a certified member of the coordinators and communications teams."
            );
            Ok(())
        }
    }
}

async fn lockdown(config: &Config, lift: bool) -> Result<()> {
    let vault = setup::open(config, Arc::new(SystemClock)).await?;
    if lift {
        safehouse::sessions::service::lift(&vault).await?;
        println!("Lockdown lifted: logins are allowed again.");
    } else {
        let state =
            web::state(vault, &setup::sessions_at(config)?).await.context("cannot open the session store")?;
        safehouse::sessions::service::lock_down(&state.vault, &state.sessions, None).await?;
        println!(
            "Lockdown: every session has ended and logins are refused until `safehouse lockdown --lift`."
        );
    }
    Ok(())
}

async fn audit(config: &Config, command: AuditCommand) -> Result<()> {
    use safehouse::audit::chain::Checkpoint;
    use safehouse::audit::service as audit;
    let vault = setup::open(config, Arc::new(SystemClock)).await?;
    match command {
        AuditCommand::Head => {
            match audit::head(&vault).await? {
                Some(head) => println!("{}", head.to_line()),
                None => bail!("the audit log is empty"),
            }
            Ok(())
        }
        AuditCommand::Verify { checkpoints } => {
            let mut parsed = Vec::new();
            for path in &checkpoints {
                let text = std::fs::read_to_string(path)
                    .with_context(|| format!("cannot read {}", path.display()))?;
                for line in text.lines().filter(|l| !l.trim().is_empty() && !l.starts_with('#')) {
                    parsed.push(
                        Checkpoint::parse(line)
                            .with_context(|| format!("{}: not a checkpoint line", path.display()))?,
                    );
                }
            }
            let show_progress = std::io::stderr().is_terminal();
            let result = audit::verify(&vault, &parsed, |done| {
                if show_progress {
                    eprint!("\rverified {done} entries");
                }
            })
            .await;
            if show_progress {
                eprintln!();
            }
            let request_id = safehouse::audit::model::new_request_id();
            match result {
                Ok(verified) => {
                    println!(
                        "audit chain intact: {} entries, {} checkpoint(s) matched",
                        verified.entries,
                        parsed.len()
                    );
                    if let Some(head) = verified.head {
                        println!("{}", head.to_line());
                    }
                    audit::record_verification(&vault, &request_id, true).await?;
                    Ok(())
                }
                Err(broken) => {
                    // Recording the failed check extends a broken chain; the
                    // break itself stays where verify found it.
                    let _ = audit::record_verification(&vault, &request_id, false).await;
                    bail!("audit chain broken: {broken}")
                }
            }
        }
    }
}

/// Write an output file readable by its owner only; never overwrite.
fn write_file(path: &Path, contents: &str) -> Result<()> {
    let dir = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let name = path.file_name().and_then(|n| n.to_str()).context("--output must name a file")?;
    SecretsDir::new(dir).write_private(name, contents, false)?;
    Ok(())
}
