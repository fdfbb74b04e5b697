//! `safehouse audit head` and `safehouse audit verify`.

use std::io::IsTerminal;
use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use clap::Subcommand;

use crate::audit::chain::{Break, Checkpoint};
use crate::audit::service as audit;
use crate::config::Config;

#[derive(Subcommand)]
pub enum AuditCommand {
    /// Walk the whole chain and report the first break (non-zero exit).
    Verify {
        /// A checkpoint from `audit head`, kept off the server; repeatable.
        #[arg(long = "checkpoint")]
        checkpoints: Vec<PathBuf>,
    },
    /// Print the chain head as a checkpoint line, to keep off the server.
    Head,
}

pub async fn run(config: &Config, command: AuditCommand) -> Result<()> {
    let (_lock, vault) = super::open_shared(config).await?;
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
                    let checkpoint = Checkpoint::parse(line)
                        .with_context(|| format!("{}: not a checkpoint line", path.display()))?;
                    parsed.push((path, checkpoint));
                }
            }
            // A checkpoint of another instance says nothing about this
            // chain: say so before walking it, rather than call it broken.
            let instance = &vault.keyring.trust().instance_id;
            for (path, checkpoint) in &parsed {
                if &checkpoint.instance_id != instance {
                    bail!(
                        "the checkpoint in {} is for instance {}, but this database is instance {instance}: \
                         that file belongs to another Safehouse instance. Nothing was verified; run again \
                         with checkpoints taken from this instance (`safehouse audit head`)",
                        path.display(),
                        checkpoint.instance_id
                    );
                }
            }
            let parsed: Vec<Checkpoint> = parsed.into_iter().map(|(_, checkpoint)| checkpoint).collect();
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
            let request_id = crate::audit::model::new_request_id();
            if !matches!(result, Err(Break::Store(_))) {
                // Recording a failed check extends a broken chain; the
                // break itself stays where verify found it.
                let recorded = audit::record_verification(&vault, None, &request_id, &result).await;
                if result.is_ok() {
                    recorded?;
                }
            }
            match result {
                Ok(verified) => {
                    println!(
                        "audit chain intact: {} entries, {} checkpoint(s) matched",
                        verified.entries,
                        parsed.len()
                    );
                    // The head as a checkpoint line: keep it off the server
                    // for the next run.
                    if let Some(head) = verified.head {
                        println!("{}", head.to_line());
                    }
                    Ok(())
                }
                Err(Break::Store(cause)) => bail!("cannot read the audit log to verify it: {cause}"),
                Err(broken) => bail!("audit chain broken: {broken}"),
            }
        }
    }
}
