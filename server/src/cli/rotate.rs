//! `safehouse rotate TARGET`: a new coordinators, communications, index or
//! register key, or new recovery or backup recipients (`rotation`). It
//! runs with every server stopped (it takes the instance lock alone), as
//! a coordinator (`--user`, logged in like the login page) or with the
//! recovery key (`--recovery-identity`, for when no coordinator can).

use std::io::IsTerminal;
use std::path::Path;
use std::sync::Arc;

use anyhow::{Result, bail};

use crate::clock::SystemClock;
use crate::config::Config;
use crate::crypto::Recipient;
use crate::rotation::{self, Authority, Progress, Request, Target};
use crate::setup;

/// Progress: a bar on a terminal, a plain line per step's end otherwise.
struct Shown {
    bar: Option<indicatif::ProgressBar>,
}

impl Progress for Shown {
    fn advance(&self, step: &'static str, done: u64, total: u64) {
        match &self.bar {
            Some(bar) => {
                bar.set_message(step);
                bar.set_length(total);
                bar.set_position(done);
            }
            None if done == total => println!("{step}: {done}/{total}"),
            None => {}
        }
    }
}

pub async fn run(
    config: &Config,
    target: Target,
    compromised: bool,
    recipients: &[String],
    user: Option<&str>,
    recovery_identity: Option<&Path>,
) -> Result<()> {
    let recipients = recipients
        .iter()
        .map(|r| r.parse::<Recipient>().map_err(|_| anyhow::anyhow!("not an age recipient: {r}")))
        .collect::<Result<Vec<_>>>()?;
    let takes_recipients = matches!(target, Target::Recovery | Target::Backup);
    if takes_recipients && recipients.is_empty() {
        bail!("give the new recipient(s) with --recipient age1... (made offline with `safehouse keygen`)");
    }
    if !takes_recipients && !recipients.is_empty() {
        bail!("--recipient is for `rotate recovery` and `rotate backup` only");
    }
    let lock = setup::lock::take(config, setup::lock::Mode::Exclusive).await?;
    let vault = setup::open(config, Arc::new(SystemClock)).await?;
    let authority = match (user, recovery_identity) {
        (Some(user), None) => {
            Authority::coordinator(&vault, &super::login_coordinator(&vault, user).await?).await?
        }
        (None, Some(path)) => Authority::recovery(&vault, &super::recovery_identity(Some(path))?).await?,
        (None, None) if std::env::var_os("SAFEHOUSE_RECOVERY_IDENTITY_FILE").is_some() => {
            Authority::recovery(&vault, &super::recovery_identity(None)?).await?
        }
        _ => bail!("give either --user NAME (a coordinator) or --recovery-identity FILE"),
    };
    let bar = std::io::stderr().is_terminal().then(indicatif::ProgressBar::no_length);
    let shown = Shown { bar };
    let secrets = crate::keyring::SecretsDir::new(&config.secrets_dir);
    let request = Request { target, compromised, recipients };
    let done = rotation::rotate(&vault, &secrets, &authority, request, &shown).await?;
    if let Some(bar) = shown.bar {
        bar.finish_and_clear();
    }
    drop(lock);
    let what = match target {
        Target::Recovery | Target::Backup => format!("the {} recipients", target.as_str()),
        _ => format!("the {} key", target.as_str()),
    };
    let extra =
        if compromised { " and every case, index and register key (compromise rotation)" } else { "" };
    println!(
        "Rotated {what}{extra}: {} wraps made again, {} sealed rows re-sealed.",
        done.rewrapped, done.resealed
    );
    if done.refused > 0 {
        println!(
            "{} waiting entries did not verify under their case's key and were dropped (forged, or altered).",
            done.refused
        );
    }
    if done.trust_changed {
        println!(
            "The trust file {} changed: copy it to every other node before starting it there.",
            secrets.path().join("trust.toml").display()
        );
    }
    match target {
        Target::Recovery => println!(
            "The old recovery key opens nothing in this database now; backups made before still need it \
             (or the backup key) until they are destroyed."
        ),
        Target::Backup => println!(
            "Backups from now on are encrypted to the new recipients; older backups still open with the old \
             backup key: destroy them, or keep that key, as your retention rules say."
        ),
        _ => {}
    }
    Ok(())
}
