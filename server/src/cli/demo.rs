//! `safehouse demo`: a throwaway instance with sample data, on loopback only.

use std::sync::Arc;

use anyhow::{Result, bail};

use crate::clock::SystemClock;
use crate::config::Config;
use crate::demo;
use crate::sessions::SessionsAt;
use crate::web::{self, Application};

pub async fn run(config: &Config, json: bool, lang: Option<crate::i18n::Lang>) -> Result<()> {
    if !config.listen.ip().is_loopback() {
        bail!("the demo listens on loopback only; set SAFEHOUSE_LISTEN to a 127.0.0.1 or [::1] address");
    }
    let built = demo::build_in(Arc::new(SystemClock), lang).await?;
    let state =
        match web::state(built.vault.clone(), &SessionsAt::File(built.root.join("data/sessions.db"))).await {
            // Pages before login too, for a browser that asks for none of
            // the three (its own choice still wins, as on a real instance).
            Ok(state) => web::AppState { language: lang.unwrap_or(config.language), ..state },
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
