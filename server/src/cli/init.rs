//! `safehouse init`: a new instance.

use std::sync::Arc;

use anyhow::{Result, bail};

use crate::accounts::model::{Password, Username};
use crate::clock::SystemClock;
use crate::config::Config;
use crate::crypto::Recipient;
use crate::setup::{self, InitOptions};

pub async fn run(
    config: &Config,
    recovery: Vec<String>,
    backup: Vec<String>,
    coordinator: &str,
    admin: &str,
) -> Result<()> {
    let recovery = recovery
        .iter()
        .map(|r| r.parse::<Recipient>().map_err(|_| anyhow::anyhow!("not an age recipient: {r}")))
        .collect::<Result<Vec<_>>>()?;
    let backup = super::backup::parse_backup_recipients(&backup, &recovery)?;
    let coordinator =
        Username::parse(coordinator).map_err(|e| anyhow::anyhow!("--coordinator: {}", e.message))?;
    let admin = Username::parse(admin).map_err(|e| anyhow::anyhow!("--admin: {}", e.message))?;
    if coordinator == admin {
        bail!("the first coordinator and the first administrator are two accounts with two usernames");
    }
    let password = super::secret_input(
        "SAFEHOUSE_COORDINATOR_PASSWORD_FILE",
        "Password for the first coordinator: ",
        true,
    )?;
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
    let secrets = crate::keyring::SecretsDir::new(&config.secrets_dir);
    for recipient in &backup {
        secrets.add_backup_recipient(recipient)?;
    }
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
