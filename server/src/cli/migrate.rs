//! `safehouse migrate`: bring the schema up to date (every command does so
//! first; on PostgreSQL the owner runs this before nodes start).

use anyhow::Result;

use crate::config::Config;
use crate::setup;

pub async fn run(config: &Config) -> Result<()> {
    setup::open_store(config).await?;
    println!("The database schema is up to date.");
    Ok(())
}
