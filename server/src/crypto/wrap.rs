//! age (X25519) wrapping of small secrets (data keys, team identities) to
//! public recipients. age does not authenticate the sender: whoever relies
//! on a wrapped value's origin checks a MAC beside it.

use std::fmt;
use std::str::FromStr;

use age::secrecy::ExposeSecret;
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use super::{CryptoError, Key32};

/// A public age recipient (`age1...`).
#[derive(Clone)]
pub struct Recipient(age::x25519::Recipient);

impl Recipient {
    pub fn as_age(&self) -> &age::x25519::Recipient {
        &self.0
    }
}

impl fmt::Display for Recipient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl fmt::Debug for Recipient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Recipient({})", self.0)
    }
}

impl PartialEq for Recipient {
    fn eq(&self, other: &Self) -> bool {
        self.to_string() == other.to_string()
    }
}
impl Eq for Recipient {}

impl FromStr for Recipient {
    type Err = CryptoError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        age::x25519::Recipient::from_str(s.trim()).map(Recipient).map_err(|_| CryptoError::MalformedKey)
    }
}

/// A secret age identity (a user key or a team key). Never printed.
pub struct Identity(age::x25519::Identity);

impl Identity {
    pub fn generate() -> Self {
        Self(age::x25519::Identity::generate())
    }

    pub fn recipient(&self) -> Recipient {
        Recipient(self.0.to_public())
    }

    /// The secret in age's text form, for sealing or wrapping it.
    pub fn to_secret_bytes(&self) -> Zeroizing<Vec<u8>> {
        Zeroizing::new(self.0.to_string().expose_secret().as_bytes().to_vec())
    }

    pub fn from_secret_bytes(bytes: &[u8]) -> Result<Self, CryptoError> {
        let text = std::str::from_utf8(bytes).map_err(|_| CryptoError::MalformedKey)?;
        age::x25519::Identity::from_str(text.trim()).map(Identity).map_err(|_| CryptoError::MalformedKey)
    }

    /// A symmetric key derived from this identity's secret, for MACs that
    /// only holders of the identity can make (certifications).
    pub fn derive(&self, label: super::Label, context: &[u8]) -> Key32 {
        super::derive::derive(&self.to_secret_bytes(), None, label, context)
    }
}

impl fmt::Debug for Identity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Identity(<redacted>, public {})", self.0.to_public())
    }
}

/// Encrypt `secret` to one recipient.
pub fn wrap(recipient: &Recipient, secret: &[u8]) -> Result<Vec<u8>, CryptoError> {
    age::encrypt(&recipient.0, secret).map_err(|_| CryptoError::Wrap)
}

/// Decrypt a wrapped secret with an identity.
pub fn unwrap(identity: &Identity, blob: &[u8]) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
    age::decrypt(&identity.0, blob).map(Zeroizing::new).map_err(|_| CryptoError::Integrity)
}

/// A short fingerprint of a public key, read aloud between a user and a
/// coordinator: five groups of five digits (about 83 bits).
pub fn fingerprint(recipient: &Recipient) -> String {
    let digest = Sha256::digest(recipient.to_string().as_bytes());
    let mut groups = Vec::with_capacity(5);
    for chunk in digest.chunks(5).take(5) {
        let mut n: u64 = 0;
        for b in chunk {
            n = (n << 8) | u64::from(*b);
        }
        groups.push(format!("{:05}", n % 100_000));
    }
    groups.join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrap_round_trip_and_wrong_identity() {
        let alice = Identity::generate();
        let bob = Identity::generate();
        let blob = wrap(&alice.recipient(), b"data key").unwrap();
        assert_eq!(&*unwrap(&alice, &blob).unwrap(), b"data key");
        assert_eq!(unwrap(&bob, &blob), Err(CryptoError::Integrity));
    }

    #[test]
    fn identity_text_round_trip() {
        let id = Identity::generate();
        let back = Identity::from_secret_bytes(&id.to_secret_bytes()).unwrap();
        assert_eq!(id.recipient(), back.recipient());
    }

    #[test]
    fn debug_hides_identity() {
        let id = Identity::generate();
        let secret = String::from_utf8(id.to_secret_bytes().to_vec()).unwrap();
        let shown = format!("{id:?}");
        assert!(!shown.contains(&secret));
        assert!(!shown.to_lowercase().contains("age-secret-key"));
    }

    #[test]
    fn fingerprint_shape() {
        let fp = fingerprint(&Identity::generate().recipient());
        assert_eq!(fp.len(), 29, "{fp}");
        assert!(fp.split(' ').all(|g| g.len() == 5 && g.chars().all(|c| c.is_ascii_digit())));
    }
}
