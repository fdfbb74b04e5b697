//! The commands of the `safehouse` binary, one file per command or group.
//! `main.rs` parses the command line and calls into these; each function
//! here takes the parsed arguments and the configuration and does the work.
//! No password or key is ever taken from the command line: they come from a
//! prompt or from a file named by a `*_FILE` variable.

use std::io::IsTerminal;
use std::path::Path;

use anyhow::{Context, Result, bail};
use secrecy::SecretString;

use crate::keyring::secrets::SecretsDir;

pub mod audit;
pub mod backup;
pub mod demo;
pub mod init;
pub mod keygen;
pub mod lockdown;
pub mod migrate;
pub mod purge;
pub mod recover;
pub mod rotate;
pub mod routes;
pub mod serve;

/// An error as the operator reads it: each cause once. Many errors show
/// their cause in their own text and also return it as their source;
/// printing the whole chain would then say it twice ("X: X").
pub fn report(error: &anyhow::Error) -> String {
    let mut text = String::new();
    for cause in error.chain() {
        let message = cause.to_string();
        if text.contains(&message) {
            continue;
        }
        if !text.is_empty() {
            text.push_str(": ");
        }
        text.push_str(&message);
    }
    text
}

/// A secret from the file named by `var`, or typed at the console. From a
/// file, the line breaks at its end are dropped (an editor adds one); a
/// password that ends in a line break cannot come from a file.
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

/// A line typed at the console (not secret: echoed), or `None` without a
/// terminal.
fn line_input(prompt: &str) -> Result<Option<String>> {
    if !std::io::stdin().is_terminal() {
        return Ok(None);
    }
    eprint!("{prompt}");
    let mut line = String::new();
    std::io::stdin().read_line(&mut line)?;
    Ok(Some(line.trim().to_owned()))
}

/// Open the instance beside running servers, holding the instance lock
/// shared until the returned lock is dropped: never beside a key rotation,
/// whose staged trust file an opening would otherwise settle under it.
async fn open_shared(
    config: &crate::config::Config,
) -> Result<(crate::setup::lock::InstanceLock, crate::vault::Vault)> {
    let lock = crate::setup::lock::take(config, crate::setup::lock::Mode::Shared).await?;
    let vault = crate::setup::open(config, std::sync::Arc::new(crate::clock::SystemClock)).await?;
    Ok((lock, vault))
}

/// Log in as a coordinator from the console, as the login page does:
/// username, password (typed, or from the file named by
/// `SAFEHOUSE_COORDINATOR_PASSWORD_FILE`) and a current authenticator code
/// (typed, or the first line of stdin), behind the same throttles and
/// recorded the same way.
async fn login_coordinator(
    vault: &crate::vault::Vault,
    username: &str,
) -> Result<crate::accounts::model::Actor> {
    use crate::accounts::login::{LoginError, login};
    use secrecy::ExposeSecret;
    let password =
        secret_input("SAFEHOUSE_COORDINATOR_PASSWORD_FILE", &format!("Password of {username}: "), false)?;
    let code = match line_input("Authenticator code: ")? {
        Some(code) => code,
        // Without a terminal (a script), the code is the first line of stdin.
        None => {
            let mut line = String::new();
            std::io::stdin().read_line(&mut line).context("cannot read the authenticator code")?;
            line.trim().to_owned()
        }
    };
    if code.is_empty() {
        bail!("no authenticator code: type it at the prompt, or give it as the first line of stdin");
    }
    let localhost = std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST);
    match login(vault, username, password.expose_secret(), &code, localhost).await {
        Ok(logged) if !logged.needs_enrolment => Ok(logged.actor),
        Ok(_) | Err(LoginError::Failed) => bail!("the username, password or code is not correct"),
        Err(LoginError::Throttled { retry_after }) => {
            bail!("too many attempts: try again in {retry_after} s")
        }
        Err(LoginError::LockedDown) => bail!("the instance is locked down"),
        Err(LoginError::Internal(e)) => Err(e.into()),
    }
}

/// The recovery identity, from a file or typed (never from the command line).
fn recovery_identity(path: Option<&Path>) -> Result<crate::crypto::Identity> {
    use secrecy::ExposeSecret;
    let text = match path {
        Some(path) => {
            SecretString::from(std::fs::read_to_string(path).context("cannot read the identity file")?)
        }
        None => secret_input(
            "SAFEHOUSE_RECOVERY_IDENTITY_FILE",
            "Recovery identity (AGE-SECRET-KEY-...): ",
            false,
        )?,
    };
    let line = text
        .expose_secret()
        .lines()
        .map(str::trim)
        .find(|l| l.starts_with("AGE-SECRET-KEY-"))
        .context("no AGE-SECRET-KEY line in the identity")?
        .to_owned();
    crate::crypto::Identity::from_secret_bytes(line.as_bytes())
        .map_err(|_| anyhow::anyhow!("malformed recovery identity"))
}

/// Write an output file readable by its owner only; never overwrite.
fn write_file(path: &Path, contents: &str) -> Result<()> {
    let dir = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let name = path.file_name().and_then(|n| n.to_str()).context("--output must name a file")?;
    SecretsDir::new(dir).write_private(name, contents, false).map_err(|e| match e {
        crate::keyring::secrets::SecretsError::Io { source, .. }
            if source.kind() == std::io::ErrorKind::AlreadyExists =>
        {
            anyhow::anyhow!(
                "{} already exists: this command never overwrites a file; choose another --output, \
                 or move the old file away first",
                path.display()
            )
        }
        other => other.into(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    #[error("{0}")]
    struct Repeats(#[source] std::io::Error);

    #[test]
    fn a_cause_already_in_the_message_is_not_printed_twice() {
        let io = || std::io::Error::new(std::io::ErrorKind::AlreadyExists, "File exists (os error 17)");
        let error = anyhow::Error::new(Repeats(io()));
        assert_eq!(report(&error), "File exists (os error 17)");
        let error = anyhow::Error::new(io()).context("cannot write out.json");
        assert_eq!(report(&error), "cannot write out.json: File exists (os error 17)");
    }

    #[test]
    fn an_existing_output_file_is_named_and_kept() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("request.json");
        std::fs::write(&path, "old").unwrap();
        let error = report(&write_file(&path, "new").unwrap_err());
        assert!(
            error.contains("request.json already exists") && error.contains("never overwrites"),
            "{error}"
        );
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "old");
    }
}
