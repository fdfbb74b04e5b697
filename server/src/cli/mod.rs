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
pub mod demo;
pub mod init;
pub mod keygen;
pub mod lockdown;
pub mod migrate;
pub mod recover;
pub mod serve;

/// A secret from the file named by `var`, or typed at the console.
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

/// Write an output file readable by its owner only; never overwrite.
fn write_file(path: &Path, contents: &str) -> Result<()> {
    let dir = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let name = path.file_name().and_then(|n| n.to_str()).context("--output must name a file")?;
    SecretsDir::new(dir).write_private(name, contents, false)?;
    Ok(())
}
