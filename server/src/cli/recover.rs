//! `safehouse recover`: the offline recovery procedure (export on the
//! server, answer on the offline machine, import on the server), for lost
//! coordinator passwords and for a lost pepper.

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::Subcommand;

use crate::accounts::model::Username;
use crate::config::Config;
use crate::keyring::secrets::SecretsDir;
use crate::{recovery, setup};

#[derive(Subcommand)]
pub enum RecoverCommand {
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
        /// The fingerprint the new coordinator reads to you from their
        /// account page, in person or by phone (asked for at the console
        /// when not given; not needed for a lost-pepper request). Never
        /// take it from the server or from the request.
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

pub async fn run(config: &Config, command: RecoverCommand) -> Result<()> {
    match command {
        RecoverCommand::Export { username, lost_pepper, output } => {
            let text = if lost_pepper {
                let store = setup::open_store(config).await?;
                let request =
                    recovery::pepper::export(store.as_ref(), &SecretsDir::new(&config.secrets_dir)).await?;
                serde_json::to_string_pretty(&request)?
            } else {
                let (_lock, vault) = super::open_shared(config).await?;
                let username = Username::parse(username.as_deref().unwrap_or_default())
                    .map_err(|e| anyhow::anyhow!("--username: {}", e.message))?;
                // No fingerprint printed or written: the one who answers
                // must hear it from the person.
                let request = recovery::export(&vault, &username).await?;
                serde_json::to_string_pretty(&request)?
            };
            super::write_file(&output, &text)?;
            println!(
                "Request written to {}. Answer it on the offline machine with `safehouse recover answer`.",
                output.display()
            );
            Ok(())
        }
        RecoverCommand::Answer { request, fingerprint, identity, output } => {
            let text = std::fs::read_to_string(&request).context("cannot read the request")?;
            let recovery_identity = super::recovery_identity(identity.as_deref())?;
            let answer = if text.contains("safehouse-pepper-request/") {
                let request: recovery::pepper::PepperRequest =
                    serde_json::from_str(&text).context("not a recovery request")?;
                serde_json::to_string_pretty(&recovery::pepper::answer(&request, &recovery_identity)?)?
            } else {
                let request: recovery::Request =
                    serde_json::from_str(&text).context("not a recovery request")?;
                let fingerprint = match fingerprint {
                    Some(fingerprint) => fingerprint,
                    None => super::line_input(
                        "Fingerprint, as the new coordinator reads it to you from their account page: ",
                    )?
                    .context(
                        "the fingerprint is required: ask the new coordinator to read it to you from their \
                         account page, then give it with --fingerprint or type it when asked",
                    )?,
                };
                serde_json::to_string_pretty(&recovery::answer(&request, &recovery_identity, &fingerprint)?)?
            };
            super::write_file(&output, &answer)?;
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
                println!();
                println!(
                    "Start the server again (`safehouse serve`). Each owner activates with their code, sets a \
                     new password and enrols their authenticator app anew (the old entry no longer works). \
                     Then admit one coordinator with `safehouse recover export --username NAME`."
                );
                return Ok(());
            }
            let (_lock, vault) = super::open_shared(config).await?;
            let answer: recovery::Answer = serde_json::from_str(&text).context("not a recovery answer")?;
            let user_id = recovery::import(&vault, &answer).await?;
            println!(
                "Imported: account {user_id} is now a certified member of the coordinators and communications teams."
            );
            Ok(())
        }
    }
}
