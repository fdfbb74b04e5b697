//! `safehouse purge --case ID` / `safehouse purge --due`: purge closed
//! cases from the console, as a coordinator. A purge needs the coordinators
//! key, which only a coordinator's own key opens, so the command logs in
//! like the login page does (`cli::login_coordinator`).
//! The rules are the pages': a case past the retention period goes at
//! once; one that is not needs a second coordinator's confirmation of a
//! request (`--case` confirms another coordinator's live request).

use std::io::IsTerminal;

use anyhow::{Context, Result, bail};

use crate::config::Config;
use crate::ids::CaseId;
use crate::purge::service;

pub async fn run(config: &Config, case: Option<String>, due: bool, username: &str) -> Result<()> {
    let case = match (case, due) {
        (Some(text), false) => Some(CaseId::parse(&text).context("--case takes a case id")?),
        (None, true) => None,
        _ => bail!("give either --case ID or --due"),
    };
    let (_lock, vault) = super::open_shared(config).await?;
    let actor = super::login_coordinator(&vault, username).await?;
    match case {
        Some(id) => {
            let candidate = service::candidate_of(&vault, &actor, id).await?;
            service::purge(&vault, &actor, id, candidate.version, true).await?;
            println!("Case {id} purged.");
        }
        None => {
            let due: Vec<CaseId> =
                service::closed(&vault, &actor).await?.into_iter().filter(|c| c.3).map(|c| c.0).collect();
            let total = due.len();
            // Progress: a bar on a terminal, a plain line per case otherwise.
            let bar = std::io::stderr().is_terminal().then(|| {
                indicatif::ProgressBar::new(u64::try_from(total).unwrap_or(u64::MAX)).with_message("purging")
            });
            for (n, id) in due.into_iter().enumerate() {
                let candidate = service::candidate_of(&vault, &actor, id).await?;
                service::purge(&vault, &actor, id, candidate.version, true).await?;
                match &bar {
                    Some(bar) => bar.inc(1),
                    None => println!("[{}/{total}] case {id} purged", n + 1),
                }
            }
            if let Some(bar) = bar {
                bar.finish_and_clear();
            }
            println!("{total} case(s) past the retention period purged.");
        }
    }
    Ok(())
}
