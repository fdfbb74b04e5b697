//! Time-based one-time codes (RFC 6238: SHA-1, 6 digits, 30 s, one step of
//! drift either way). The secret is sealed under a key derived from the
//! directory key; a code is accepted once (the last accepted step is kept
//! and only a newer one passes, atomically).

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
    let key = vault.keyring.directory_key().derive(Label::TotpSeal, b"");
    Ok(crypto::open(&key, &place(&row.user_id), &row.sealed_secret)?)
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
    let key = vault.keyring.directory_key().derive(Label::TotpSeal, b"");
    let write = Write::PutTotp(TotpRow {
        user_id: uid.clone(),
        sealed_secret: crypto::seal(&key, &place(&uid), secret.as_ref()),
        confirmed: 0,
        last_step: 0,
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
    Ok(vec![Write::PutTotp(TotpRow { confirmed: 1, last_step: step, ..row })])
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
    if step <= row.last_step {
        return Ok(false);
    }
    match vault.store().apply(vec![Write::UseTotpStep { user_id: uid, step }]).await {
        Ok(()) => Ok(true),
        // Another request used this step first.
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
        let key = vault.keyring.directory_key().derive(Label::TotpSeal, b"");
        TotpRow {
            sealed_secret: crypto::seal(&key, &place(&uid), secret.as_ref()),
            user_id: uid.clone(),
            confirmed: 1,
            last_step: i64::MAX,
        }
    });
    let Ok(code) = parse_code(code) else { return Ok(None) };
    let step = matched_step(vault, &row, &code).await?;
    Ok(step
        .filter(|step| real && *step > row.last_step)
        .map(|step| Write::UseTotpStep { user_id: uid, step }))
}

/// Enrol a second factor without a first code: for the throwaway demo only,
/// which prints the secret for a newcomer to type into an app.
pub async fn enrol_for_demo(vault: &Vault, user_id: UserId) -> ServiceResult<String> {
    let (enrolment, write) = begin(vault, user_id).await?;
    let Write::PutTotp(row) = write else { return Err(ServiceError::Internal("totp write")) };
    vault.store().apply(vec![Write::PutTotp(TotpRow { confirmed: 1, ..row })]).await?;
    Ok(enrolment.secret_base32.to_string())
}
