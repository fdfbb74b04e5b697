//! `safehouse keygen`: a recovery key, made on a machine that never joins a
//! network.

use std::path::Path;

use anyhow::{Context, Result};

use crate::crypto::Identity;

pub fn run(output: &Path) -> Result<()> {
    let identity = Identity::generate();
    let secret = String::from_utf8(identity.to_secret_bytes().to_vec()).context("identity encoding")?;
    let contents = format!(
        "# Safehouse recovery key. Keep offline.\n# public key: {}\n{secret}\n",
        identity.recipient()
    );
    super::write_file(output, &contents)?;
    println!("{}", identity.recipient());
    eprintln!(
        "Recovery key written to {}. Keep it offline; give `safehouse init` only the public key above.",
        output.display()
    );
    Ok(())
}
