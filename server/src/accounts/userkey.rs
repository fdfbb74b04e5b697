//! A user's age identity, sealed so that only its owner opens it:
//! under HKDF(argon2id(password, salt, secret = pepper)) and under
//! HKDF(recovery code, salt = pepper). Neither the argon2 output nor the
//! sealing key is ever stored; a wrong password simply fails to open.

use rand::RngCore;
use rand::rngs::OsRng;
use secrecy::{ExposeSecret, SecretString};

use crate::cases::model::FieldError;
use crate::config::KdfParams;
use crate::crypto::{self, Aad, Identity, Key32, Label, RecordKind};
use crate::error::{ServiceError, ServiceResult};
use crate::ids::UserId;
use crate::storage::{RecoveryCodeRow, UserKeyRow};
use crate::vault::Vault;

/// How many one-time recovery codes a user gets with each key.
pub const RECOVERY_CODES: usize = 10;

/// A one-time recovery code: 128 random bits, shown once as 8 groups of 4
/// hexadecimal digits.
pub struct RecoveryCode(SecretString);

impl RecoveryCode {
    fn generate() -> (RecoveryCode, [u8; 16]) {
        let mut bytes = [0u8; 16];
        OsRng.fill_bytes(&mut bytes);
        let hex = crate::crypto::to_hex(&bytes);
        let grouped: Vec<String> =
            hex.as_bytes().chunks(4).map(|c| String::from_utf8_lossy(c).into_owned()).collect();
        (RecoveryCode(SecretString::from(grouped.join("-"))), bytes)
    }

    /// Parse a code as typed: dashes and spaces ignored, any case.
    pub fn parse(input: &str) -> Result<[u8; 16], FieldError> {
        let err = || FieldError {
            field: "recovery_code",
            message:
                "A recovery code is 8 groups of 4 letters and digits (0-9, a-f), as on your list of codes."
                    .into(),
        };
        let hex: String =
            input.chars().filter(|c| !matches!(c, '-' | ' ')).collect::<String>().to_lowercase();
        if hex.len() != 32 || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
            return Err(err());
        }
        let mut out = [0u8; 16];
        for (i, slot) in out.iter_mut().enumerate() {
            let pair = hex.get(2 * i..2 * i + 2).ok_or_else(err)?;
            *slot = u8::from_str_radix(pair, 16).map_err(|_| err())?;
        }
        Ok(out)
    }

    pub fn expose(&self) -> &str {
        self.0.expose_secret()
    }
}

impl std::fmt::Debug for RecoveryCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RecoveryCode(<redacted>)")
    }
}

fn password_place<'a>(user_id: &'a str, key_no: &'a str) -> Aad<'a> {
    Aad { kind: RecordKind::UserKey, owner: user_id, record: key_no, field: "password", version: 1 }
}

fn code_place<'a>(user_id: &'a str, key_no: &'a str, field: &'a str) -> Aad<'a> {
    Aad { kind: RecordKind::UserKey, owner: user_id, record: key_no, field, version: 1 }
}

fn context(user_id: UserId, key_no: i64) -> Vec<u8> {
    format!("{user_id}/{key_no}").into_bytes()
}

/// Seal `identity` under `password` as key number `key_no` of `user_id`.
pub async fn seal_under_password(
    vault: &Vault,
    user_id: UserId,
    key_no: i64,
    identity: &Identity,
    password: &str,
) -> ServiceResult<UserKeyRow> {
    let mut salt = [0u8; 16];
    OsRng.fill_bytes(&mut salt);
    let params = vault.kdf;
    let stretched = vault.argon2(password.as_bytes(), &salt, params).await?;
    let sealing_key = stretched.derive(Label::PasswordSeal, &context(user_id, key_no));
    let (uid, kno) = (user_id.to_string(), key_no.to_string());
    Ok(UserKeyRow {
        user_id: uid.clone(),
        key_no,
        recipient: identity.recipient().to_string(),
        kdf_salt: salt.to_vec(),
        kdf_params: params.encode(),
        sealed_by_password: crypto::seal(
            &sealing_key,
            &password_place(&uid, &kno),
            &identity.to_secret_bytes(),
        ),
    })
}

/// Open a sealed user key with a password. A wrong password is `BadLogin`.
pub async fn open_with_password(vault: &Vault, row: &UserKeyRow, password: &str) -> ServiceResult<Identity> {
    let params = KdfParams::decode(&row.kdf_params).ok_or(ServiceError::Internal("stored kdf parameters"))?;
    let stretched = vault.argon2(password.as_bytes(), &row.kdf_salt, params).await?;
    let user_id = UserId::parse(&row.user_id).ok_or(ServiceError::Internal("stored user id"))?;
    let sealing_key = stretched.derive(Label::PasswordSeal, &context(user_id, row.key_no));
    let kno = row.key_no.to_string();
    let secret = crypto::open(&sealing_key, &password_place(&row.user_id, &kno), &row.sealed_by_password)
        .map_err(|_| ServiceError::BadLogin)?;
    Ok(Identity::from_secret_bytes(&secret)?)
}

/// Spend the same argon2 time as a real check, for a login whose user does
/// not exist, so the answer takes as long as any other failure.
pub async fn burn_equal_time(vault: &Vault, password: &str) {
    let _ = vault.argon2(password.as_bytes(), &[0u8; 16], vault.kdf).await;
}

fn code_key(vault: &Vault, code: &[u8; 16], user_id: UserId, key_no: i64, slot: i64) -> Key32 {
    let ctx = format!("{user_id}/{key_no}/{slot}");
    crypto::derive::derive(
        code,
        Some(vault.keyring.pepper().expose()),
        Label::RecoveryCodeSeal,
        ctx.as_bytes(),
    )
}

/// Make a fresh set of recovery codes for a key: the rows to store and the
/// codes to show the user once.
pub fn seal_under_new_codes(
    vault: &Vault,
    user_id: UserId,
    key_no: i64,
    identity: &Identity,
) -> (Vec<RecoveryCodeRow>, Vec<RecoveryCode>) {
    let (uid, kno) = (user_id.to_string(), key_no.to_string());
    let secret = identity.to_secret_bytes();
    let mut rows = Vec::with_capacity(RECOVERY_CODES);
    let mut codes = Vec::with_capacity(RECOVERY_CODES);
    for slot in 0..RECOVERY_CODES as i64 {
        let (code, bytes) = RecoveryCode::generate();
        let key = code_key(vault, &bytes, user_id, key_no, slot);
        let field = format!("code-{slot}");
        rows.push(RecoveryCodeRow {
            user_id: uid.clone(),
            key_no,
            slot,
            sealed: crypto::seal(&key, &code_place(&uid, &kno, &field), &secret),
        });
        codes.push(code);
    }
    (rows, codes)
}

/// The length of a sealed age identity, for the stand-in rows below.
const AGE_SECRET_LEN: usize = 74;

/// Try a recovery code against a key's code rows: the slot it opened and
/// the identity, or `None`. Always the work of a full set: every row is
/// tried, and the slots already spent (all of them, for an account that
/// does not exist) are made up by a throwaway one, so the time tells
/// neither which slot matched, nor how many are left, nor whether the
/// account exists.
pub fn open_with_code(vault: &Vault, rows: &[RecoveryCodeRow], code: &[u8; 16]) -> Option<(i64, Identity)> {
    let mut found = None;
    for row in rows {
        let Some(user_id) = UserId::parse(&row.user_id) else { continue };
        let key = code_key(vault, code, user_id, row.key_no, row.slot);
        let (kno, field) = (row.key_no.to_string(), format!("code-{}", row.slot));
        if let Ok(secret) = crypto::open(&key, &code_place(&row.user_id, &kno, &field), &row.sealed) {
            if found.is_none() {
                found = Identity::from_secret_bytes(&secret).ok().map(|identity| (row.slot, identity));
            }
        }
    }
    let missing = RECOVERY_CODES.saturating_sub(rows.len());
    if missing > 0 {
        let stand_in = UserId::random();
        let uid = stand_in.to_string();
        let sealed = crypto::seal(&Key32::random(), &code_place(&uid, "0", "code-0"), &[0u8; AGE_SECRET_LEN]);
        for slot in 0..missing as i64 {
            let key = code_key(vault, code, stand_in, 0, slot);
            let field = format!("code-{slot}");
            let _ = crypto::open(&key, &code_place(&uid, "0", &field), &sealed);
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recovery_code_parse() {
        let (code, bytes) = RecoveryCode::generate();
        assert_eq!(RecoveryCode::parse(code.expose()).unwrap(), bytes);
        assert_eq!(RecoveryCode::parse(&code.expose().to_uppercase().replace('-', " ")).unwrap(), bytes);
        assert!(RecoveryCode::parse("abc").is_err());
        assert!(RecoveryCode::parse(&"g".repeat(32)).is_err());
        assert!(!format!("{code:?}").contains(code.expose()));
    }

    #[test]
    fn stand_in_rows_are_as_long_as_real_ones() {
        assert_eq!(Identity::generate().to_secret_bytes().len(), AGE_SECRET_LEN);
    }
}
