//! The sealed user directory: usernames, roles and state under a key
//! derived from the directory key (itself sealed under the pepper), found at
//! login by a keyed hash of the username. Without the pepper, the users
//! table is a list of random ids and ciphertexts.

use crate::crypto::{self, Aad, Label, RecordKind};
use crate::error::{ServiceError, ServiceResult};
use crate::ids::UserId;
use crate::keyring::Keyring;
use crate::storage::UserRow;

use super::model::{Profile, Username};

pub fn username_lookup(keyring: &Keyring, username: &Username) -> Vec<u8> {
    let key = keyring.directory_key().derive(Label::UsernameLookup, b"");
    crypto::mac(&key, &[username.as_str().as_bytes()]).to_vec()
}

pub fn activation_lookup(keyring: &Keyring, token: &str) -> Vec<u8> {
    let key = keyring.directory_key().derive(Label::ActivationLookup, b"");
    crypto::mac(&key, &[token.as_bytes()]).to_vec()
}

fn place(user_id: &str, version: i64) -> Aad<'_> {
    Aad { kind: RecordKind::Profile, owner: user_id, record: "", field: "profile", version }
}

pub fn seal_profile(
    keyring: &Keyring,
    user_id: UserId,
    version: i64,
    profile: &Profile,
) -> ServiceResult<Vec<u8>> {
    let key = keyring.directory_key().derive(Label::ProfileSeal, b"");
    let json = zeroize::Zeroizing::new(
        serde_json::to_vec(profile).map_err(|_| ServiceError::Internal("profile encoding"))?,
    );
    Ok(crypto::seal(&key, &place(&user_id.to_string(), version), &json))
}

pub fn open_profile(keyring: &Keyring, row: &UserRow) -> ServiceResult<Profile> {
    let key = keyring.directory_key().derive(Label::ProfileSeal, b"");
    let json = crypto::open(&key, &place(&row.id, row.version), &row.sealed_profile)?;
    serde_json::from_slice(&json).map_err(|_| ServiceError::Integrity("profile does not decode"))
}

/// A directory entry, opened.
#[derive(Debug, Clone)]
pub struct Entry {
    pub id: UserId,
    pub version: i64,
    pub lookup: Vec<u8>,
    pub profile: Profile,
}

pub fn open_entry(keyring: &Keyring, row: &UserRow) -> ServiceResult<Entry> {
    Ok(Entry {
        id: UserId::parse(&row.id).ok_or(ServiceError::Integrity("user id"))?,
        version: row.version,
        lookup: row.lookup.clone(),
        profile: open_profile(keyring, row)?,
    })
}
