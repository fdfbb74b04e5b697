//! Sealing of record fields: XChaCha20-Poly1305 with associated data that
//! names the exact place a ciphertext belongs to.
//!
//! Wire format, version 1: `0x01 || nonce (24 bytes) || ciphertext || tag (16 bytes)`.
//! The associated data is not stored; it is rebuilt from the place the
//! reader is looking at, so a ciphertext moved to another case, field,
//! record or version no longer opens.

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use rand::RngCore;
use rand::rngs::OsRng;
use zeroize::Zeroizing;

use super::{CryptoError, Key32};

/// The only format written today. Readers reject any other.
pub const FORMAT_V1: u8 = 1;
const NONCE_LEN: usize = 24;
const TAG_LEN: usize = 16;

/// What kind of record a sealed field belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecordKind {
    Case,
    Milestone,
    Index,
    Shelter,
    Profile,
    SystemKey,
    UserKey,
    Session,
    Totp,
    StoryLink,
    AidEntry,
    AidKind,
}

impl RecordKind {
    fn as_bytes(self) -> &'static [u8] {
        match self {
            RecordKind::Case => b"case",
            RecordKind::Milestone => b"milestone",
            RecordKind::Index => b"index",
            RecordKind::Shelter => b"shelter",
            RecordKind::Profile => b"profile",
            RecordKind::SystemKey => b"system-key",
            RecordKind::UserKey => b"user-key",
            RecordKind::Session => b"session",
            RecordKind::Totp => b"totp",
            RecordKind::StoryLink => b"story-link",
            RecordKind::AidEntry => b"aid-entry",
            RecordKind::AidKind => b"aid-kind",
        }
    }
}

/// The place a ciphertext belongs to: its owner (a case id, a user id, a
/// shelter id), the record within it (a milestone id, or empty), the field,
/// and the record's version.
#[derive(Debug, Clone, Copy)]
pub struct Aad<'a> {
    pub kind: RecordKind,
    pub owner: &'a str,
    pub record: &'a str,
    pub field: &'a str,
    pub version: i64,
}

impl Aad<'_> {
    fn encode(&self, format: u8) -> Vec<u8> {
        let mut out = Vec::with_capacity(96);
        out.extend_from_slice(b"safehouse-aad");
        out.push(format);
        for part in
            [self.kind.as_bytes(), self.owner.as_bytes(), self.record.as_bytes(), self.field.as_bytes()]
        {
            out.extend_from_slice(&(part.len() as u32).to_be_bytes());
            out.extend_from_slice(part);
        }
        out.extend_from_slice(&self.version.to_be_bytes());
        out
    }
}

/// Seal `plaintext` for the place `aad` under `key`, with a random nonce.
pub fn seal(key: &Key32, aad: &Aad<'_>, plaintext: &[u8]) -> Vec<u8> {
    let mut nonce = [0u8; NONCE_LEN];
    OsRng.fill_bytes(&mut nonce);
    seal_with_nonce(key, aad, plaintext, &nonce)
}

pub(crate) fn seal_with_nonce(
    key: &Key32,
    aad: &Aad<'_>,
    plaintext: &[u8],
    nonce: &[u8; NONCE_LEN],
) -> Vec<u8> {
    let cipher = XChaCha20Poly1305::new(key.expose().into());
    let aad_bytes = aad.encode(FORMAT_V1);
    // Encryption fails only for plaintexts beyond 256 GiB; fields are tiny.
    let sealed = cipher
        .encrypt(XNonce::from_slice(nonce), Payload { msg: plaintext, aad: &aad_bytes })
        .unwrap_or_default();
    let mut out = Vec::with_capacity(1 + NONCE_LEN + sealed.len());
    out.push(FORMAT_V1);
    out.extend_from_slice(nonce);
    out.extend_from_slice(&sealed);
    out
}

/// Open a sealed field at the place `aad`. Any change to the ciphertext, the
/// key or the place gives [`CryptoError::Integrity`].
pub fn open(key: &Key32, aad: &Aad<'_>, blob: &[u8]) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
    let (&format, rest) = blob.split_first().ok_or(CryptoError::Integrity)?;
    if format != FORMAT_V1 {
        return Err(CryptoError::UnsupportedFormat(format));
    }
    if rest.len() < NONCE_LEN + TAG_LEN {
        return Err(CryptoError::Integrity);
    }
    let (nonce, sealed) = rest.split_at(NONCE_LEN);
    let cipher = XChaCha20Poly1305::new(key.expose().into());
    let aad_bytes = aad.encode(format);
    cipher
        .decrypt(XNonce::from_slice(nonce), Payload { msg: sealed, aad: &aad_bytes })
        .map(Zeroizing::new)
        .map_err(|_| CryptoError::Integrity)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn place(field: &str) -> Aad<'_> {
        Aad {
            kind: RecordKind::Case,
            owner: "3f1c2b9e-0000-4000-8000-000000000001",
            record: "",
            field,
            version: 1,
        }
    }

    /// A fixed test vector: if this changes, every stored record becomes
    /// unreadable. Bump FORMAT_V1 instead of changing the encoding. The
    /// expected bytes were computed independently with libsodium's
    /// crypto_aead_xchacha20poly1305_ietf_encrypt over the same encoding.
    #[test]
    fn format_v1_test_vector() {
        let key = Key32::from_bytes([0x42; 32]);
        let nonce = [0x24; NONCE_LEN];
        let blob = seal_with_nonce(&key, &place("notes"), b"canary", &nonce);
        let hex = crate::crypto::to_hex(&blob);
        assert_eq!(
            hex,
            "01242424242424242424242424242424242424242424242424\
             c63fb9041c5dd73fea298f5fa5bb5c8f874dfc5d8b5c"
        );
        assert_eq!(&*open(&key, &place("notes"), &blob).unwrap(), b"canary");
    }

    #[test]
    fn round_trip() {
        let key = Key32::random();
        let blob = seal(&key, &place("notes"), b"hello");
        assert_eq!(&*open(&key, &place("notes"), &blob).unwrap(), b"hello");
    }

    #[test]
    fn wrong_place_key_or_bytes_fail() {
        let key = Key32::random();
        let blob = seal(&key, &place("notes"), b"hello");
        assert_eq!(open(&key, &place("group"), &blob), Err(CryptoError::Integrity));
        let mut other_version = place("notes");
        other_version.version = 2;
        assert_eq!(open(&key, &other_version, &blob), Err(CryptoError::Integrity));
        let mut other_owner = place("notes");
        other_owner.owner = "another-case";
        assert_eq!(open(&key, &other_owner, &blob), Err(CryptoError::Integrity));
        assert_eq!(open(&Key32::random(), &place("notes"), &blob), Err(CryptoError::Integrity));
        let mut flipped = blob.clone();
        if let Some(last) = flipped.last_mut() {
            *last ^= 1;
        }
        assert_eq!(open(&key, &place("notes"), &flipped), Err(CryptoError::Integrity));
        assert_eq!(open(&key, &place("notes"), &[]), Err(CryptoError::Integrity));
        let mut future = blob;
        future[0] = 9;
        assert_eq!(open(&key, &place("notes"), &future), Err(CryptoError::UnsupportedFormat(9)));
    }
}
