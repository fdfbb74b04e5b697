//! Time-based one-time codes (RFC 6238: SHA-1, 6 digits, 30 s, one step of
//! drift either way). The secret is sealed under a key derived from the
//! directory key; a code is accepted once (the last accepted step is kept,
//! sealed too, and only a newer one passes, atomically).

use rand::RngCore;
use rand::rngs::OsRng;
use totp_rs::{Algorithm, Builder, Totp};
use zeroize::Zeroizing;

use crate::cases::model::FieldError;
use crate::crypto::{self, Aad, Label, RecordKind};
use crate::error::{ServiceError, ServiceResult};
use crate::ids::UserId;
use crate::storage::{StoreError, TotpRow, Write};
use crate::vault::Vault;

const ISSUER: &str = "Safehouse";

fn place(user_id: &str) -> Aad<'_> {
    Aad { kind: RecordKind::Totp, owner: user_id, record: "", field: "secret", version: 1 }
}

/// The last accepted step: in clear it would tell a thief each user's last
/// login to 30 seconds. Same key as the secret; the field in the associated
/// data keeps the two ciphertexts apart, the owner binds it to the user.
fn step_place(user_id: &str) -> Aad<'_> {
    Aad { kind: RecordKind::Totp, owner: user_id, record: "", field: "last_step", version: 1 }
}

fn totp_key(vault: &Vault) -> crypto::Key32 {
    vault.keyring.directory_key().derive(Label::TotpSeal, b"")
}

fn seal_step(vault: &Vault, user_id: &str, step: i64) -> Vec<u8> {
    crypto::seal(&totp_key(vault), &step_place(user_id), &step.to_be_bytes())
}

/// The last accepted step of a row, if one was recorded.
fn last_step(vault: &Vault, row: &TotpRow) -> ServiceResult<Option<i64>> {
    let Some(sealed) = &row.sealed_last_step else { return Ok(None) };
    let plain = crypto::open(&totp_key(vault), &step_place(&row.user_id), sealed)?;
    let bytes: [u8; 8] = plain.as_slice().try_into().map_err(|_| ServiceError::Internal("totp step"))?;
    Ok(Some(i64::from_be_bytes(bytes)))
}

fn totp(secret: &[u8], account: &str) -> ServiceResult<Totp> {
    Builder::new()
        .with_algorithm(Algorithm::SHA1)
        .with_digits(6)
        .with_skew(1)
        .with_step_duration(30)
        .with_secret(secret.to_vec())
        .with_issuer(Some(ISSUER))
        .with_account_name(account)
        .build()
        .map_err(|_| ServiceError::Internal("totp parameters"))
}

/// What a user needs to enrol: the secret in base32, the otpauth URL and a
/// QR code of it as inline SVG (no script, no style: allowed by the CSP).
pub struct Enrolment {
    pub secret_base32: Zeroizing<String>,
    pub qr_svg: String,
}

impl std::fmt::Debug for Enrolment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Enrolment(<redacted>)")
    }
}

fn secret_of(vault: &Vault, row: &TotpRow) -> ServiceResult<Zeroizing<Vec<u8>>> {
    Ok(crypto::open(&totp_key(vault), &place(&row.user_id), &row.sealed_secret)?)
}

/// Start (or restart) an enrolment: a fresh secret, not yet confirmed. The
/// account name in the authenticator app is a neutral label, not the
/// username, so a seized phone does not list volunteers.
pub async fn begin(vault: &Vault, user_id: UserId) -> ServiceResult<(Enrolment, Write)> {
    let uid = user_id.to_string();
    if vault.store().totp(&uid).await?.is_some_and(|row| row.confirmed == 1) {
        return Err(ServiceError::Forbidden("two-factor authentication is already set up"));
    }
    let mut secret = Zeroizing::new([0u8; 20]);
    OsRng.fill_bytes(secret.as_mut());
    let write = Write::PutTotp(TotpRow {
        user_id: uid.clone(),
        sealed_secret: crypto::seal(&totp_key(vault), &place(&uid), secret.as_ref()),
        confirmed: 0,
        sealed_last_step: None,
    });
    let enrolment = render(secret.as_ref())?;
    Ok((enrolment, write))
}

/// The enrolment view of an unconfirmed secret (to show the page again).
pub async fn pending(vault: &Vault, user_id: UserId) -> ServiceResult<Option<Enrolment>> {
    match vault.store().totp(&user_id.to_string()).await? {
        Some(row) if row.confirmed == 0 => Ok(Some(render(&secret_of(vault, &row)?)?)),
        _ => Ok(None),
    }
}

fn render(secret: &[u8]) -> ServiceResult<Enrolment> {
    let t = totp(secret, "account")?;
    let url = Zeroizing::new(t.to_url().map_err(|_| ServiceError::Internal("totp url"))?);
    let code = qrcode::QrCode::new(url.as_bytes()).map_err(|_| ServiceError::Internal("qr code"))?;
    let qr_svg = code
        .render::<qrcode::render::svg::Color<'_>>()
        .min_dimensions(200, 200)
        .dark_color(qrcode::render::svg::Color("#000000"))
        .light_color(qrcode::render::svg::Color("#ffffff"))
        .build();
    // Inline in HTML: the XML declaration has no place there.
    let qr_svg = qr_svg.trim_start_matches(r#"<?xml version="1.0" standalone="yes"?>"#).to_owned();
    Ok(Enrolment { secret_base32: Zeroizing::new(t.secret().to_base32()), qr_svg })
}

/// Parse a typed code: six digits, spaces allowed.
pub fn parse_code(input: &str) -> Result<String, FieldError> {
    let digits: String = input.chars().filter(|c| !c.is_whitespace()).collect();
    if digits.len() == 6 && digits.chars().all(|c| c.is_ascii_digit()) {
        Ok(digits)
    } else {
        Err(FieldError {
            field: "code",
            message: "The code is the six digits your authenticator app shows.".into(),
        })
    }
}

/// Check a code against the user's secret at the vault's clock: the
/// matched step, or `None`. Does not consume it.
async fn matched_step(vault: &Vault, row: &TotpRow, code: &str) -> ServiceResult<Option<i64>> {
    let secret = secret_of(vault, row)?;
    let t = totp(&secret, "account")?;
    let now = u64::try_from(vault.clock.now().unix_timestamp()).unwrap_or(0);
    Ok(t.check(code, now).map(|step| i64::try_from(step).unwrap_or(i64::MAX)))
}

/// Confirm an enrolment with a first code.
pub async fn confirm(vault: &Vault, user_id: UserId, code: &str) -> ServiceResult<Vec<Write>> {
    let code = parse_code(code)?;
    let uid = user_id.to_string();
    let row = vault.store().totp(&uid).await?.filter(|r| r.confirmed == 0).ok_or(ServiceError::NotFound)?;
    let step = matched_step(vault, &row, &code).await?.ok_or_else(|| {
        ServiceError::Invalid(FieldError {
            field: "code",
            message: "That code is not correct. Check the clock on your phone and try the next code.".into(),
        })
    })?;
    let sealed_last_step = Some(seal_step(vault, &uid, step));
    Ok(vec![Write::PutTotp(TotpRow { confirmed: 1, sealed_last_step, ..row })])
}

/// Whether the user has a confirmed second factor.
pub async fn is_enrolled(vault: &Vault, user_id: UserId) -> ServiceResult<bool> {
    Ok(vault.store().totp(&user_id.to_string()).await?.is_some_and(|r| r.confirmed == 1))
}

/// Verify and consume a login code: true once per step, never for a step at
/// or before the last accepted one.
pub async fn verify(vault: &Vault, user_id: UserId, code: &str) -> ServiceResult<bool> {
    let Ok(code) = parse_code(code) else { return Ok(false) };
    let uid = user_id.to_string();
    let Some(row) = vault.store().totp(&uid).await?.filter(|r| r.confirmed == 1) else { return Ok(false) };
    let Some(step) = matched_step(vault, &row, &code).await? else { return Ok(false) };
    if last_step(vault, &row)?.is_some_and(|last| step <= last) {
        return Ok(false);
    }
    // Only if the sealed step is still the one just checked against: a
    // request that read the same row and got here first wins, and a later
    // one fails the swap.
    let sealed_step = seal_step(vault, &uid, step);
    let write = Write::UseTotpStep { user_id: uid, expected: row.sealed_last_step, sealed_step };
    match vault.store().apply(vec![write]).await {
        Ok(()) => Ok(true),
        // Another request accepted a step first.
        Err(StoreError::Conflict) => Ok(false),
        Err(e) => Err(e.into()),
    }
}

/// Check a code without spending it, for a request that spends it in the
/// same transaction as what the code allows (a recovery): the write that
/// spends its step, or `None`. The write fails as a conflict if another
/// request used that step first, as in [`verify`]. Without a confirmed
/// secret (or a user) the same work runs on a throwaway secret, which
/// never passes, so the time does not tell whether either exists.
pub async fn check_unspent(
    vault: &Vault,
    user_id: Option<UserId>,
    code: &str,
) -> ServiceResult<Option<Write>> {
    let uid = user_id.unwrap_or_else(UserId::random).to_string();
    let row = vault.store().totp(&uid).await?.filter(|r| r.confirmed == 1 && user_id.is_some());
    let real = row.is_some();
    let row = row.unwrap_or_else(|| {
        let mut secret = Zeroizing::new([0u8; 20]);
        OsRng.fill_bytes(secret.as_mut());
        TotpRow {
            sealed_secret: crypto::seal(&totp_key(vault), &place(&uid), secret.as_ref()),
            user_id: uid.clone(),
            confirmed: 1,
            sealed_last_step: None,
        }
    });
    let Ok(code) = parse_code(code) else { return Ok(None) };
    let step = matched_step(vault, &row, &code).await?;
    let last = last_step(vault, &row)?;
    Ok(step.filter(|step| real && last.is_none_or(|last| *step > last)).map(|step| Write::UseTotpStep {
        sealed_step: seal_step(vault, &uid, step),
        user_id: uid,
        expected: row.sealed_last_step,
    }))
}

/// Enrol a second factor without a first code: for the throwaway demo only,
/// which prints the secret for a newcomer to type into an app.
pub async fn enrol_for_demo(vault: &Vault, user_id: UserId) -> ServiceResult<String> {
    let (enrolment, write) = begin(vault, user_id).await?;
    let Write::PutTotp(row) = write else { return Err(ServiceError::Internal("totp write")) };
    vault.store().apply(vec![Write::PutTotp(TotpRow { confirmed: 1, ..row })]).await?;
    Ok(enrolment.secret_base32.to_string())
}
