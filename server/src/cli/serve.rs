//! `safehouse serve`: run the server until a shutdown signal.

use anyhow::{Context, Result};

use crate::config::Config;
use crate::setup;
use crate::web::{self, Application};

pub async fn run(config: &Config) -> Result<()> {
    // Held while serving: a key rotation waits for every server to stop.
    let (_lock, vault) = super::open_shared(config).await?;
    let mut state =
        web::state(vault, &setup::sessions_at(config)?).await.context("cannot open the session store")?;
    state.hsts = config.tls;
    state.trusted_proxies = config.trusted_proxies.clone().into();
    state.policy.idle = time::Duration::minutes(config.session_idle_minutes);
    state.policy.absolute = time::Duration::hours(config.session_absolute_hours);
    state.display_zone = config.display_zone.offset();
    state.language = config.language;
    let app = Application::bind(config.listen, state)
        .await
        .with_context(|| format!("cannot listen on {}", config.listen))?;
    println!("Safehouse listening on http://{}/", app.local_addr()?);
    app.run_until(web::shutdown_signal()).await?;
    Ok(())
}
