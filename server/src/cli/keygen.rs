//! `safehouse keygen`: a recovery key, made on a machine that never joins a
//! network.

use std::path::Path;

use anyhow::{Context, Result};

use crate::crypto::Identity;

/// With `backup`, a backup key: the same kind of age key, made and kept
/// apart from the recovery key (a backup key is used wherever backups are
/// checked; the recovery key only in the offline recovery procedure).
pub fn run(output: &Path, backup: bool) -> Result<()> {
    let identity = Identity::generate();
    let secret = String::from_utf8(identity.to_secret_bytes().to_vec()).context("identity encoding")?;
    if backup {
        let contents = format!(
            "# Safehouse backup key. Keep offline; it opens every backup. Not a recovery key.\n\
             # public key: {}\n{secret}\n",
            identity.recipient()
        );
        super::write_file(output, &contents)?;
        println!("{}", identity.recipient());
        eprintln!(
            "Backup key written to {}. Keep it offline; pin only the public key above \
             (`safehouse init --backup-recipient` or `safehouse backup add-recipient`).",
            output.display()
        );
        return Ok(());
    }
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
