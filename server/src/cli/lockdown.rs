//! `safehouse lockdown`: end every session now and refuse logins, or with
//! `--lift` allow them again.

use anyhow::{Context, Result};

use crate::config::Config;
use crate::sessions::service;
use crate::setup;
use crate::web;

pub async fn run(config: &Config, lift: bool) -> Result<()> {
    let (_lock, vault) = super::open_shared(config).await?;
    if lift {
        service::lift(&vault).await?;
        println!("Lockdown lifted: logins are allowed again.");
    } else {
        let state =
            web::state(vault, &setup::sessions_at(config)?).await.context("cannot open the session store")?;
        service::lock_down(&state.vault, &state.sessions, None).await?;
        println!(
            "Lockdown: every session has ended and logins are refused until `safehouse lockdown --lift`."
        );
    }
    Ok(())
}
