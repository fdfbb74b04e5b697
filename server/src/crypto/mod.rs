//! The cryptographic primitives every capability uses, and nothing else.
//!
//! - [`Key32`]: a 256-bit symmetric key, zeroized on drop, never printed.
//! - [`derive`]: HKDF-SHA-256 with one [`Label`] per purpose.
//! - [`aead`]: XChaCha20-Poly1305 with associated data that binds a
//!   ciphertext to its place ([`Aad`]).
//! - [`wrap`]: age (X25519) wrapping of small secrets to public recipients.

pub mod aead;
pub mod derive;
pub mod key;
pub mod wrap;

pub use aead::{Aad, RecordKind, open, seal};
pub use derive::{Label, mac, mac_verify, mac_verify_tag};
pub use key::Key32;
pub use wrap::{Identity, Recipient, fingerprint};

/// Lower-case hex, for ids, MACs and codes shown or stored as text.
pub fn to_hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// What can go wrong in a cryptographic operation. Deliberately coarse: the
/// caller learns that a ciphertext is not genuine, never why.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CryptoError {
    #[error("integrity check failed: the ciphertext is not genuine for this place or key")]
    Integrity,
    #[error("unsupported ciphertext format version {0}")]
    UnsupportedFormat(u8),
    #[error("malformed key material")]
    MalformedKey,
    #[error("age wrapping failed")]
    Wrap,
}
