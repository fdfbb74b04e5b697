use hkdf::Hkdf;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use super::Key32;

/// Every derivation from one secret has its own label, so no two purposes
/// can ever share a key. Add a label here, never reuse one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Label {
    /// pepper -> check value stored in the database, proves the pepper matches.
    PepperCheck,
    /// pepper -> key that seals the directory and audit keys.
    SystemKeySeal,
    /// argon2id(password, pepper) -> key that seals a user key.
    PasswordSeal,
    /// recovery code (salt: pepper) -> key that seals a user key.
    RecoveryCodeSeal,
    /// directory key -> key for the keyed hash of usernames.
    UsernameLookup,
    /// directory key -> key that seals user profiles.
    ProfileSeal,
    /// directory key -> key for the keyed hash of activation tokens.
    ActivationLookup,
    /// coordinators team secret -> key for certification MACs.
    Certification,
    /// hand-over key -> key for a user's voucher of their own next key.
    Voucher,
    /// case key -> key that authenticates index inbox entries of that case.
    InboxMac,
    /// directory key -> key that authenticates an offline recovery answer.
    RecoveryAnswer,
    /// audit key -> key of the audit chain's MACs.
    AuditChain,
    /// directory key -> key that seals TOTP secrets.
    TotpSeal,
    /// directory key -> keyed hash of a username typed at login (throttling).
    AccountThrottle,
    /// directory key -> keyed hash of a client address (throttling).
    AddressThrottle,
    /// directory key -> keyed hash of a session's owner (log out everywhere).
    SessionOwner,
    /// session id -> the session row's key (stored).
    SessionRow,
    /// session id -> the key that seals the session record (never stored).
    SessionSeal,
    /// case key -> key of the case's story tag (finds its drafts and story links).
    StoryTag,
    /// case key -> key that authenticates a story draft of that case.
    StoryDraftMac,
    /// case key -> key that authenticates a caseworker's aid entry for a
    /// shelter of that case.
    AidInboxMac,
}

impl Label {
    fn as_bytes(self) -> &'static [u8] {
        match self {
            Label::PepperCheck => b"safehouse/v1/pepper-check",
            Label::SystemKeySeal => b"safehouse/v1/system-key-seal",
            Label::PasswordSeal => b"safehouse/v1/password-seal",
            Label::RecoveryCodeSeal => b"safehouse/v1/recovery-code-seal",
            Label::UsernameLookup => b"safehouse/v1/username-lookup",
            Label::ProfileSeal => b"safehouse/v1/profile-seal",
            Label::ActivationLookup => b"safehouse/v1/activation-lookup",
            Label::Certification => b"safehouse/v1/certification",
            Label::Voucher => b"safehouse/v1/voucher",
            Label::InboxMac => b"safehouse/v1/inbox-mac",
            Label::RecoveryAnswer => b"safehouse/v1/recovery-answer",
            Label::AuditChain => b"safehouse/v1/audit-chain",
            Label::TotpSeal => b"safehouse/v1/totp-seal",
            Label::AccountThrottle => b"safehouse/v1/account-throttle",
            Label::AddressThrottle => b"safehouse/v1/address-throttle",
            Label::SessionOwner => b"safehouse/v1/session-owner",
            Label::SessionRow => b"safehouse/v1/session-row",
            Label::SessionSeal => b"safehouse/v1/session-seal",
            Label::StoryTag => b"safehouse/v1/story-tag",
            Label::StoryDraftMac => b"safehouse/v1/story-draft-mac",
            Label::AidInboxMac => b"safehouse/v1/aid-inbox-mac",
        }
    }
}

/// HKDF-SHA-256: `ikm` is the secret, `salt` optional, `context` binds the
/// output to one subject (a user id, a key number) where that matters.
pub fn derive(ikm: &[u8], salt: Option<&[u8]>, label: Label, context: &[u8]) -> Key32 {
    let hk = Hkdf::<Sha256>::new(salt, ikm);
    let mut okm = [0u8; 32];
    // 32 bytes is far below HKDF-SHA-256's limit of 8160, so expand cannot fail.
    let _ = hk.expand_multi_info(&[label.as_bytes(), &[0u8], context], &mut okm);
    Key32::from_bytes(okm)
}

impl Key32 {
    /// Derive a subkey of this key for one purpose.
    pub fn derive(&self, label: Label, context: &[u8]) -> Key32 {
        derive(self.expose(), None, label, context)
    }
}

/// HMAC-SHA-256 over length-prefixed parts, so ("ab","c") and ("a","bc")
/// never collide.
pub fn mac(key: &Key32, parts: &[&[u8]]) -> [u8; 32] {
    // HMAC accepts a key of any length, so this cannot fail.
    #[allow(clippy::expect_used)]
    let mut m = <Hmac<Sha256> as Mac>::new_from_slice(key.expose()).expect("HMAC key of any length");
    for part in parts {
        m.update(&(part.len() as u64).to_be_bytes());
        m.update(part);
    }
    m.finalize().into_bytes().into()
}

/// Constant-time comparison of a MAC.
pub fn mac_verify(key: &Key32, parts: &[&[u8]], expected: &[u8]) -> bool {
    use subtle::ConstantTimeEq;
    let actual = mac(key, parts);
    actual.len() == expected.len() && bool::from(actual.as_slice().ct_eq(expected))
}

/// Constant-time comparison of two tags.
pub fn mac_verify_tag(expected: &[u8], actual: &[u8]) -> bool {
    use subtle::ConstantTimeEq;
    expected.len() == actual.len() && bool::from(expected.ct_eq(actual))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_separate_outputs() {
        let key = Key32::from_bytes([7; 32]);
        assert_ne!(key.derive(Label::ProfileSeal, b""), key.derive(Label::UsernameLookup, b""));
        assert_ne!(key.derive(Label::Voucher, b"a"), key.derive(Label::Voucher, b"b"));
    }

    #[test]
    fn mac_parts_are_length_prefixed() {
        let key = Key32::from_bytes([1; 32]);
        assert_ne!(mac(&key, &[b"ab", b"c"]), mac(&key, &[b"a", b"bc"]));
        let tag = mac(&key, &[b"x"]);
        assert!(mac_verify(&key, &[b"x"], &tag));
        assert!(!mac_verify(&key, &[b"y"], &tag));
        assert!(!mac_verify(&key, &[b"x"], &tag[..31]));
    }
}
