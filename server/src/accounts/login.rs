//! Login: username, password and a second factor (a TOTP code or a
//! recovery code) in one step. Every failure (unknown user, wrong password,
//! wrong code, disabled account) is the same answer after the same argon2
//! work. Per-account growing delays and per-address limits keep guessing
//! slow without a hard lock an attacker could use to shut a coordinator out.

use std::net::IpAddr;

use super::model::Actor;
use super::{service, totp, userkey};
use crate::audit::model::new_request_id;
use crate::audit::{Action, Event, Outcome};
use crate::crypto::{self, Label};
use crate::error::{ServiceError, ServiceResult};
use crate::storage::Write;
use crate::vault::Vault;

/// Failures before delays start, and the longest delay (seconds).
const FREE_FAILURES: i64 = 3;
const MAX_DELAY_SECS: i64 = 300;
/// Attempts one address may make per window.
pub const ADDRESS_WINDOW_SECS: i64 = 300;
pub const ADDRESS_ATTEMPTS: i64 = 30;

#[derive(Debug)]
pub enum LoginError {
    /// Wrong username, password or code: deliberately not said which.
    Failed,
    /// Too many attempts: try again after this many seconds.
    Throttled {
        retry_after: i64,
    },
    /// The instance is locked down: nobody logs in until it is lifted.
    LockedDown,
    Internal(ServiceError),
}

impl From<ServiceError> for LoginError {
    fn from(e: ServiceError) -> Self {
        LoginError::Internal(e)
    }
}

impl From<crate::storage::StoreError> for LoginError {
    fn from(e: crate::storage::StoreError) -> Self {
        LoginError::Internal(e.into())
    }
}

pub struct LoggedIn {
    pub actor: Actor,
    /// The user has not confirmed a second factor yet: enrolment first.
    pub needs_enrolment: bool,
    /// Logins since the last one that passed the password but not the code.
    pub failed_codes: i64,
    /// A recovery code set the password since the last login.
    pub recovered: bool,
    pub generation: i64,
    pub lockdown_epoch: i64,
}

impl std::fmt::Debug for LoggedIn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoggedIn")
            .field("actor", &self.actor)
            .field("needs_enrolment", &self.needs_enrolment)
            .finish()
    }
}

/// The delay after `failures` consecutive failures: none for the first few,
/// then doubling, capped.
pub fn delay_after(failures: i64) -> i64 {
    if failures < FREE_FAILURES {
        return 0;
    }
    let exponent = u32::try_from((failures - FREE_FAILURES).min(16)).unwrap_or(16);
    2i64.pow(exponent).min(MAX_DELAY_SECS)
}

fn account_key(vault: &Vault, typed: &str) -> Vec<u8> {
    let normalised = typed.trim().to_lowercase();
    crypto::mac(&vault.keyring.directory_key().derive(Label::AccountThrottle, b""), &[normalised.as_bytes()])
        .to_vec()
}

fn address_key(vault: &Vault, address: IpAddr) -> Vec<u8> {
    let text = address.to_string();
    crypto::mac(&vault.keyring.directory_key().derive(Label::AddressThrottle, b""), &[text.as_bytes()])
        .to_vec()
}

/// How often an attempt re-reads the account's throttle after another
/// attempt was counted between its read and its count; past that it is
/// refused, the safe direction.
const COUNT_TRIES: usize = 8;

/// Count an attempt from `address`, in one statement; refuse past the
/// window's limit.
async fn count_address(vault: &Vault, address: IpAddr, now: i64) -> Result<(), LoginError> {
    let key = address_key(vault, address);
    let (start, attempts) = vault.store().count_address_attempt(&key, now, ADDRESS_WINDOW_SECS).await?;
    if attempts > ADDRESS_ATTEMPTS {
        return Err(LoginError::Throttled { retry_after: (start + ADDRESS_WINDOW_SECS - now).max(1) });
    }
    Ok(())
}

/// Count an attempt on an account before any work is done for it: refused
/// while the delay of the failures so far runs, otherwise counted as a
/// failure at once, so parallel attempts see each other. Only a success
/// clears it ([`Admitted::clear`]). The count is a compare-and-set on what
/// was read, so the decision is always made on the state it changes.
async fn count_account(vault: &Vault, key: &[u8], now: i64) -> Result<(), LoginError> {
    for _ in 0..COUNT_TRIES {
        let seen = vault.store().login_throttle(key).await?.unwrap_or((0, 0));
        let wait = seen.1 + delay_after(seen.0) - now;
        if wait > 0 {
            return Err(LoginError::Throttled { retry_after: wait });
        }
        if vault.store().count_account_attempt(key, seen, now).await?.is_some() {
            return Ok(());
        }
    }
    Err(LoginError::Throttled { retry_after: 1 })
}

/// An attempt the throttles let through, already counted as a failure.
pub(crate) struct Admitted {
    account: Vec<u8>,
    /// The lockdown epoch it was admitted in.
    epoch: i64,
}

impl Admitted {
    /// The write that clears the account's failures, for the success's
    /// transaction.
    pub(crate) fn clear(&self) -> Write {
        Write::DeleteLoginThrottle { key: self.account.clone() }
    }
}

/// Refuse while locked down, then count the attempt against the address
/// (when there is one: a re-authentication comes from a session) and the
/// account named by `username` as typed, known or not. Shared by login,
/// re-authentication and recovery: one budget for all three.
pub(crate) async fn admit(
    vault: &Vault,
    username: &str,
    address: Option<IpAddr>,
) -> Result<Admitted, LoginError> {
    let now = vault.clock.now().unix_timestamp();
    let (epoch, locked) = vault.store().lockdown().await?;
    if locked {
        return Err(LoginError::LockedDown);
    }
    if let Some(address) = address {
        count_address(vault, address, now).await?;
    }
    let account = account_key(vault, username);
    count_account(vault, &account, now).await?;
    Ok(Admitted { account, epoch })
}

/// Log in. `second` is a TOTP code, or a recovery code (32 hexadecimal
/// digits, shown in 8 groups of 4).
pub async fn login(
    vault: &Vault,
    username: &str,
    password: &str,
    second: &str,
    address: IpAddr,
) -> Result<LoggedIn, LoginError> {
    let request_id = new_request_id();
    let admitted = admit(vault, username, Some(address)).await?;
    // The attempt is already counted; a failure only adds its alert and
    // audit entry.
    let fail = async |actor: Option<crate::ids::UserId>| -> Result<LoggedIn, LoginError> {
        if let Some(user) = actor {
            vault.store().apply(vec![Write::CountLoginAlert { user_id: user.to_string() }]).await?;
        }
        let event = Event { actor, ..Event::system(Action::LoginFail, &request_id) };
        vault.record(&event, Outcome::Denied).await?;
        Err(LoginError::Failed)
    };

    let actor = match service::unlock(vault, username, password).await {
        Ok(actor) => actor,
        Err(ServiceError::BadLogin) => return fail(None).await,
        Err(other) => return Err(other.into()),
    };
    let user_id = actor.user_id();
    let enrolled = totp::is_enrolled(vault, user_id).await?;
    let second = second.trim();
    let second_ok = if !enrolled {
        // No confirmed second factor yet (new account, or an administrator
        // reset it): the session is limited to enrolment.
        true
    } else if second.chars().filter(char::is_ascii_hexdigit).count() == 32 {
        use_recovery_code(vault, &actor, second).await?
    } else {
        totp::verify(vault, user_id, second).await?
    };
    if !second_ok {
        return fail(Some(user_id)).await;
    }

    let uid = user_id.to_string();
    let failed_codes = vault.store().login_alert(&uid).await?.unwrap_or(0);
    let recovered = vault.store().recovery_notice(&uid).await?;
    let event = actor.event(Action::LoginOk).on(user_id);
    vault
        .commit(
            &event,
            vec![
                admitted.clear(),
                Write::DeleteLoginAlert { user_id: uid.clone() },
                Write::DeleteRecoveryNotice { user_id: uid.clone() },
            ],
        )
        .await?;
    let generation = vault.store().generation(&uid).await?;
    let actor = actor.with_request_id(&request_id);
    Ok(LoggedIn {
        actor,
        needs_enrolment: !enrolled,
        failed_codes,
        recovered,
        generation,
        lockdown_epoch: admitted.epoch,
    })
}

/// A recovery code as the second factor: it must open this user's key, and
/// it is spent.
async fn use_recovery_code(vault: &Vault, actor: &Actor, code: &str) -> ServiceResult<bool> {
    let Ok(bytes) = userkey::RecoveryCode::parse(code) else { return Ok(false) };
    let uid = actor.user_id().to_string();
    let rows = vault.store().recovery_codes(&uid, actor.key_no()).await?;
    match userkey::open_with_code(vault, &rows, &bytes) {
        Some((slot, identity)) if identity.recipient() == actor.identity().recipient() => {
            let spent = vault
                .store()
                .apply(vec![Write::DeleteRecoveryCode { user_id: uid, key_no: actor.key_no(), slot }])
                .await;
            Ok(spent.is_ok())
        }
        _ => Ok(false),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_grow_then_cap() {
        assert_eq!(delay_after(0), 0);
        assert_eq!(delay_after(2), 0);
        assert_eq!(delay_after(3), 1);
        assert_eq!(delay_after(4), 2);
        assert_eq!(delay_after(8), 32);
        assert_eq!(delay_after(30), MAX_DELAY_SECS);
    }
}
