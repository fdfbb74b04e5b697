//! Account rules: who may create, activate, unlock, re-key and reset.

use std::net::IpAddr;

use rand::RngCore;
use rand::rngs::OsRng;
use secrecy::{ExposeSecret, SecretString};
use time::Duration;

use super::directory::{self, Entry};
use super::login::{self, LoginError};
use super::model::{Actor, Password, Profile, Role, Roles, UserState, Username};
use super::totp;
use super::userkey::{self, RecoveryCode};
use crate::audit::{Action, Event, Outcome};
use crate::cases::model::FieldError;
use crate::crypto::{self, Identity, Label, fingerprint, wrap};
use crate::error::{ServiceError, ServiceResult};
use crate::ids::UserId;
use crate::storage::{HolderKind, ObjectKind, Store, StoreError, UserRow, VoucherRow, WrapRow, Write};
use crate::vault::Vault;

/// How long an activation link stays valid.
pub const ACTIVATION_LIFETIME: Duration = Duration::hours(72);

/// A one-time activation token, handed to the new user out of band.
pub struct ActivationToken(SecretString);

/// A fresh activation token (for recovery after a lost pepper).
pub fn new_activation_token() -> ActivationToken {
    ActivationToken::generate()
}

/// The letters of an activation code: lower-case base32 without `i`, `l`,
/// `o` and `u` (Crockford's alphabet), so it reads aloud and types without
/// doubt.
const ACTIVATION_ALPHABET: &[u8; 32] = b"0123456789abcdefghjkmnpqrstvwxyz";
/// 32 letters of 5 bits: 160 bits, in 8 groups of 4.
const ACTIVATION_LETTERS: usize = 32;

impl ActivationToken {
    /// 160 random bits, shown as `xxxx-xxxx-...` (8 groups of 4). Less than
    /// the 256 bits of the old form, and enough: a code can only be tried
    /// online (its lookup is keyed under the directory key, so a copy of the
    /// database gives nothing to test guesses against), it works once and
    /// for 72 hours, and 2^160 is out of reach of any rate of guessing.
    fn generate() -> Self {
        let mut bytes = [0u8; ACTIVATION_LETTERS];
        OsRng.fill_bytes(&mut bytes);
        // 256 is a multiple of 32: each letter is uniform.
        let letters: Vec<char> = bytes
            .iter()
            .map(|b| ACTIVATION_ALPHABET.get(usize::from(b & 31)).map_or('0', |&c| char::from(c)))
            .collect();
        let groups: Vec<String> = letters.chunks(4).map(|group| group.iter().collect()).collect();
        Self(SecretString::from(groups.join("-")))
    }

    pub fn expose(&self) -> &str {
        self.0.expose_secret()
    }
}

/// An activation code as typed or heard: spaces and dashes anywhere, either
/// case, and `i`, `l` and `o` (which the alphabet leaves out) read as `1`
/// and `0`. Returns the code in the form it was issued in; input of any
/// other shape is returned trimmed, as it came (a code of the older form,
/// still valid until it expires, or one that matches nothing).
pub fn canonical_activation_code(input: &str) -> String {
    let letters: Option<Vec<char>> = input
        .chars()
        .filter(|c| !(c.is_whitespace() || *c == '-'))
        .map(|c| match c.to_ascii_lowercase() {
            'i' | 'l' => Some('1'),
            'o' => Some('0'),
            c if c.is_ascii() && ACTIVATION_ALPHABET.contains(&(c as u8)) => Some(c),
            _ => None,
        })
        .collect();
    match letters {
        Some(letters) if letters.len() == ACTIVATION_LETTERS => {
            letters.chunks(4).map(|group| group.iter().collect::<String>()).collect::<Vec<_>>().join("-")
        }
        _ => input.trim().to_owned(),
    }
}

impl std::fmt::Debug for ActivationToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ActivationToken(<redacted>)")
    }
}

#[derive(Debug)]
pub struct NewAccount {
    pub user_id: UserId,
    pub activation: ActivationToken,
}

/// What a user sees once, after activating or re-keying.
#[derive(Debug)]
pub struct KeyIssued {
    pub actor: Actor,
    pub fingerprint: String,
    pub recovery_codes: Vec<RecoveryCode>,
}

fn require(actor: &Actor, role: Role, what: &'static str) -> ServiceResult<()> {
    if actor.has(role) { Ok(()) } else { Err(ServiceError::Forbidden(what)) }
}

/// An administrator creates an account; its owner activates it.
pub async fn create_account(
    vault: &Vault,
    admin: &Actor,
    username: &Username,
    roles: Roles,
) -> ServiceResult<NewAccount> {
    let event = admin.event(Action::UserCreate).as_role(Role::Admin);
    if let Err(e) = require(admin, Role::Admin, "only an administrator creates accounts") {
        return vault.finish(&event, Err(e)).await;
    }
    create(vault, event, username, roles).await
}

/// Create an account without a role check: for `init` and `demo` only.
pub async fn create_account_unchecked(
    vault: &Vault,
    username: &Username,
    roles: Roles,
) -> ServiceResult<NewAccount> {
    create(vault, Event::system(Action::UserCreate, &crate::audit::model::new_request_id()), username, roles)
        .await
}

async fn create(vault: &Vault, event: Event, username: &Username, roles: Roles) -> ServiceResult<NewAccount> {
    let user_id = UserId::random();
    let event = event.on(user_id);
    if roles.is_empty() {
        let refused = Err(FieldError { field: "roles", message: "Choose at least one role.".into() }.into());
        return vault.finish(&event, refused).await;
    }
    let profile =
        Profile { username: username.clone(), roles, state: UserState::Pending, zone: None, lang: None };
    let activation = ActivationToken::generate();
    let expires_at = (vault.clock.now() + ACTIVATION_LIFETIME).unix_timestamp();
    let writes = vec![
        Write::InsertUser(UserRow {
            id: user_id.to_string(),
            lookup: directory::username_lookup(&vault.keyring, username),
            version: 1,
            sealed_profile: directory::seal_profile(&vault.keyring, user_id, 1, &profile)?,
        }),
        Write::PutActivation {
            lookup: directory::activation_lookup(&vault.keyring, activation.expose()),
            user_id: user_id.to_string(),
            expires_at,
        },
    ];
    vault.commit(&event, writes).await.map_err(|e| match e {
        ServiceError::Store(StoreError::Duplicate("users_lookup_unique")) => {
            FieldError { field: "username", message: "That username is already taken.".into() }.into()
        }
        other => other,
    })?;
    Ok(NewAccount { user_id, activation })
}

pub async fn entry(vault: &Vault, user_id: UserId) -> ServiceResult<Entry> {
    let row = vault.store().user(&user_id.to_string()).await?.ok_or(ServiceError::NotFound)?;
    directory::open_entry(&vault.keyring, &row)
}

pub async fn entry_by_username(vault: &Vault, username: &Username) -> ServiceResult<Option<Entry>> {
    let lookup = directory::username_lookup(&vault.keyring, username);
    match vault.store().user_by_lookup(&lookup).await? {
        Some(row) => Ok(Some(directory::open_entry(&vault.keyring, &row)?)),
        None => Ok(None),
    }
}

/// Every account, for the administrator's list.
pub async fn list(vault: &Vault, admin: &Actor) -> ServiceResult<Vec<Entry>> {
    let event = admin.event(Action::UserList);
    if !(admin.has(Role::Admin) || admin.has(Role::Coordinator)) {
        let refused = Err(ServiceError::Forbidden("only administrators and coordinators list accounts"));
        return vault.finish(&event, refused).await;
    }
    let result = list_unchecked(vault).await;
    vault.finish(&event, result).await
}

pub(crate) async fn list_unchecked(vault: &Vault) -> ServiceResult<Vec<Entry>> {
    let rows = vault.store().users().await?;
    let mut entries = rows
        .iter()
        .map(|row| directory::open_entry(&vault.keyring, row))
        .collect::<ServiceResult<Vec<_>>>()?;
    entries.sort_by(|a, b| a.profile.username.as_str().cmp(b.profile.username.as_str()));
    Ok(entries)
}

fn profile_write(vault: &Vault, entry: &Entry, profile: &Profile) -> ServiceResult<Write> {
    Ok(Write::UpdateUser {
        id: entry.id.to_string(),
        expected_version: entry.version,
        lookup: directory::username_lookup(&vault.keyring, &profile.username),
        sealed_profile: directory::seal_profile(&vault.keyring, entry.id, entry.version + 1, profile)?,
    })
}

/// The owner of an activation token sets a password: a new user key is
/// made in this request and sealed under it.
pub async fn activate(vault: &Vault, token: &str, password: &Password) -> ServiceResult<KeyIssued> {
    let request_id = crate::audit::model::new_request_id();
    let lookup = directory::activation_lookup(&vault.keyring, &canonical_activation_code(token));
    let invalid =
        || FieldError { field: "token", message: "This activation link is not valid or has expired.".into() };
    let found = match vault.store().activation(&lookup).await? {
        Some(a) if a.expires_at >= vault.clock.now().unix_timestamp() => UserId::parse(&a.user_id),
        _ => None,
    };
    let Some(user_id) = found else {
        let event = Event::system(Action::UserActivate, &request_id);
        return vault.finish(&event, Err(invalid().into())).await;
    };
    let event =
        Event { actor: Some(user_id), ..Event::system(Action::UserActivate, &request_id) }.on(user_id);
    let entry = entry(vault, user_id).await?;
    if entry.profile.state == UserState::Frozen {
        // Only a coordinator lifts a freeze. Whoever holds the code hears
        // only that it does not work (it may not be its owner); the trail
        // records the refusal.
        vault.record(&event, crate::audit::Outcome::Denied).await?;
        return Err(invalid().into());
    }
    if entry.profile.state != UserState::Pending {
        return vault.finish(&event, Err(invalid().into())).await;
    }
    let key_no = next_key_no(vault, user_id).await?;
    let identity = Identity::generate();
    let key_row = userkey::seal_under_password(vault, user_id, key_no, &identity, password.expose()).await?;
    let (code_rows, codes) = userkey::seal_under_new_codes(vault, user_id, key_no, &identity);
    let mut profile = entry.profile.clone();
    profile.state = UserState::Active;
    let mut writes = vec![
        Write::DeleteActivation { lookup },
        Write::PutUserKey(key_row),
        Write::DeleteUserKeysExcept { user_id: user_id.to_string(), keep_key_no: Some(key_no) },
        profile_write(vault, &entry, &profile)?,
        // Activation always goes on to a new second factor: an
        // authenticator from before (a lost pepper's recovery leaves none,
        // an older one may) must not block the enrolment or outlive the key.
        Write::DeleteTotp { user_id: user_id.to_string() },
    ];
    writes.extend(code_rows.into_iter().map(Write::PutRecoveryCode));
    vault.commit(&event, writes).await.map_err(|e| match e {
        ServiceError::Conflict => ServiceError::Invalid(invalid()),
        other => other,
    })?;
    let fingerprint = fingerprint(&identity.recipient());
    let actor = Actor::new(user_id, profile.roles, key_no, identity).with_request_id(&request_id);
    Ok(KeyIssued { actor, fingerprint, recovery_codes: codes })
}

async fn next_key_no(vault: &Vault, user_id: UserId) -> ServiceResult<i64> {
    Ok(vault.store().user_key(&user_id.to_string()).await?.map_or(1, |k| k.key_no + 1))
}

/// Open a user's key with their password. Every failure (unknown user,
/// wrong password, an account that is not active) is the same `BadLogin`
/// and costs the same argon2 time.
pub async fn unlock(vault: &Vault, username: &str, password: &str) -> ServiceResult<Actor> {
    let Ok(username) = Username::parse(username) else {
        userkey::burn_equal_time(vault, password).await;
        return Err(ServiceError::BadLogin);
    };
    let entry = entry_by_username(vault, &username).await?;
    let key_row = match &entry {
        Some(e) => vault.store().user_key(&e.id.to_string()).await?,
        None => None,
    };
    let (Some(entry), Some(key_row)) = (entry, key_row) else {
        userkey::burn_equal_time(vault, password).await;
        return Err(ServiceError::BadLogin);
    };
    let identity = userkey::open_with_password(vault, &key_row, password).await?;
    if entry.profile.state != UserState::Active {
        return Err(ServiceError::BadLogin);
    }
    Ok(Actor::new(entry.id, entry.profile.roles, key_row.key_no, identity))
}

/// Set a new password with a recovery code and a current authenticator
/// code: two factors, as at login (the user lost the password, not the
/// phone; whoever lost both goes through an administrator's reset and a
/// coordinator's certification). Behind the login's throttles, before any
/// work. An unknown user, a wrong code and a wrong authenticator code do
/// the same reads and the same key-opening work, and are recorded alike.
/// The code and the authenticator step are spent in the transaction that
/// sets the new key; the user's other sessions end and their next login
/// says that a recovery happened. The new key keeps every grant and is
/// vouched for by the hand-over key, exactly as after a password change:
/// the old key was opened by the code and the phone was present, what a
/// login proves.
pub async fn recover_with_code(
    vault: &Vault,
    username: &str,
    code: &str,
    totp_code: &str,
    new_password: &Password,
    address: Option<IpAddr>,
) -> Result<KeyIssued, LoginError> {
    let request_id = crate::audit::model::new_request_id();
    let admitted = login::admit(vault, username, address).await?;
    let entry = match Username::parse(username) {
        Ok(username) => entry_by_username(vault, &username).await?,
        Err(_) => None,
    };
    let entry = entry.filter(|e| e.profile.state == UserState::Active);
    // A stand-in id for an unknown user: the same reads, finding nothing.
    let uid = entry.as_ref().map_or_else(UserId::random, |e| e.id).to_string();
    let key_row = vault.store().user_key(&uid).await?;
    let key_no = key_row.as_ref().map_or(0, |k| k.key_no);
    let rows = vault.store().recovery_codes(&uid, key_no).await?;
    let opened = match RecoveryCode::parse(code) {
        Ok(bytes) => userkey::open_with_code(vault, &rows, &bytes),
        Err(_) => None,
    };
    let step = totp::check_unspent(vault, entry.as_ref().map(|e| e.id), totp_code).await?;
    // A right code with a wrong authenticator code names the account, as a
    // right password with a wrong code does at login: its code may be stolen.
    let code_right = entry.as_ref().filter(|_| opened.is_some()).map(|e| e.id);
    let (Some(entry), Some(key_row), Some((slot, identity)), Some(step)) = (entry, key_row, opened, step)
    else {
        let refused = Event { actor: code_right, ..Event::system(Action::RecoveryCodeUse, &request_id) };
        let refused = match code_right {
            Some(id) => refused.on(id),
            None => refused,
        };
        vault.record(&refused, Outcome::Denied).await?;
        return Err(LoginError::Failed);
    };
    let actor =
        Actor::new(entry.id, entry.profile.roles, key_row.key_no, identity).with_request_id(&request_id);
    let writes = vec![
        Write::DeleteRecoveryCode { user_id: uid.clone(), key_no: key_row.key_no, slot },
        step,
        admitted.clear(),
        Write::PutRecoveryNotice { user_id: uid },
    ];
    let event = actor.event(Action::RecoveryCodeUse).on(entry.id);
    match rekey(vault, &actor, &event, new_password, writes).await {
        Ok(issued) => Ok(issued),
        // The code or the step was used by another request meanwhile.
        Err(ServiceError::Conflict) => Err(LoginError::Failed),
        Err(other) => Err(other.into()),
    }
}

/// Change one's own password: the current one is checked, then a new user
/// key replaces the old one, with every grant re-wrapped to it.
pub async fn change_password(
    vault: &Vault,
    actor: &Actor,
    current: &str,
    new_password: &Password,
) -> ServiceResult<KeyIssued> {
    let event = actor.event(Action::PasswordChange).on(actor.user_id());
    let key_row =
        vault.store().user_key(&actor.user_id().to_string()).await?.ok_or(ServiceError::BadLogin)?;
    if key_row.key_no != actor.key_no() {
        return vault.finish(&event, Err(ServiceError::Conflict)).await;
    }
    let checked = userkey::open_with_password(vault, &key_row, current).await.map_err(|e| match e {
        ServiceError::BadLogin => ServiceError::Invalid(FieldError {
            field: "current_password",
            message: "The current password is not correct.".into(),
        }),
        other => other,
    });
    if let Err(e) = checked {
        return vault.finish(&event, Err(e)).await;
    }
    rekey(vault, actor, &event, new_password, Vec::new()).await
}

/// Make a new key for the actor, re-wrap everything their old key opens to
/// it (a wrap to the key this request itself holds needs no certification),
/// and vouch for it with the hand-over key so no coordinator has to act.
async fn rekey(
    vault: &Vault,
    actor: &Actor,
    event: &Event,
    new_password: &Password,
    mut writes: Vec<Write>,
) -> ServiceResult<KeyIssued> {
    let user_id = actor.user_id();
    let uid = user_id.to_string();
    let key_no = actor.key_no() + 1;
    let identity = Identity::generate();
    let recipient = identity.recipient();
    let key_row =
        userkey::seal_under_password(vault, user_id, key_no, &identity, new_password.expose()).await?;
    let (code_rows, codes) = userkey::seal_under_new_codes(vault, user_id, key_no, &identity);

    writes.push(Write::PutUserKey(key_row));
    for grant in vault.store().wraps_of_holder(HolderKind::User, &uid).await? {
        // A wrap the old key cannot open is stale (from before a reset); drop it.
        let Ok(secret) = wrap::unwrap(actor.identity(), &grant.wrapped) else { continue };
        writes.push(Write::PutWrap(WrapRow { key_no, wrapped: wrap::wrap(&recipient, &secret)?, ..grant }));
    }
    if let Some(cert) = vault.store().certification(&uid).await? {
        if let Ok(handover) = wrap::unwrap(actor.identity(), &cert.handover_to_user) {
            let handover = crypto::Key32::from_slice(&handover)?;
            let parts = voucher_parts(&uid, &recipient.to_string(), key_no);
            let mac = crypto::mac(&handover.derive(Label::Voucher, b""), &as_parts(&parts));
            writes.push(Write::PutVoucher(VoucherRow { user_id: uid.clone(), key_no, mac: mac.to_vec() }));
        }
    }
    writes.push(Write::DeleteUserKeysExcept { user_id: uid.clone(), keep_key_no: Some(key_no) });
    writes.extend(code_rows.into_iter().map(Write::PutRecoveryCode));
    // Every other session of this user ends.
    writes.push(Write::BumpGeneration { user_id: uid.clone() });
    vault.commit(event, writes).await?;
    Ok(KeyIssued {
        actor: Actor::new(user_id, actor.roles().clone(), key_no, identity)
            .with_request_id(actor.request_id()),
        fingerprint: fingerprint(&recipient),
        recovery_codes: codes,
    })
}

/// The parts a voucher MAC and a certification MAC cover.
pub fn voucher_parts<'a>(user_id: &'a str, recipient: &'a str, key_no: i64) -> [Vec<u8>; 3] {
    [user_id.as_bytes().to_vec(), recipient.as_bytes().to_vec(), key_no.to_be_bytes().to_vec()]
}

pub fn as_parts(parts: &[Vec<u8>; 3]) -> [&[u8]; 3] {
    [&parts[0], &parts[1], &parts[2]]
}

/// Void a user's key: every wrap to it goes, and each case it held waits
/// as a pending grant for a coordinator to certify the next key; the
/// certification, voucher, keys and activations go too. Shared by the
/// administrator's reset and the recovery after a lost pepper.
pub(crate) async fn void_key_writes(store: &dyn Store, uid: &str) -> Result<Vec<Write>, StoreError> {
    let mut writes = Vec::new();
    for grant in store.wraps_of_holder(HolderKind::User, uid).await? {
        if grant.object_kind == ObjectKind::Case.as_str() {
            writes.push(Write::PutPendingGrant { case_id: grant.object_id, user_id: uid.to_owned() });
        }
    }
    let user_id = uid.to_owned();
    writes.push(Write::DeleteWrapsOfHolder { holder_kind: HolderKind::User, holder_id: user_id.clone() });
    writes.push(Write::DeleteCertification { user_id: user_id.clone() });
    writes.push(Write::DeleteVoucher { user_id: user_id.clone() });
    writes.push(Write::DeleteUserKeysExcept { user_id: user_id.clone(), keep_key_no: None });
    writes.push(Write::DeleteActivationsOf { user_id });
    Ok(writes)
}

/// Why an administrator's action on a frozen account is refused: only a
/// coordinator lifts a freeze, and a reset would hand the account a fresh
/// key and an activation code past it.
pub const FROZEN: &str = "the account is frozen; only a coordinator lifts a freeze";

fn not_frozen(entry: Entry) -> ServiceResult<Entry> {
    if entry.profile.state == UserState::Frozen { Err(ServiceError::Forbidden(FROZEN)) } else { Ok(entry) }
}

/// An administrator resets a password: the account must be activated anew,
/// its key and certification are void, and its case grants wait for a
/// coordinator to certify the new key. Team membership is not queued.
pub async fn reset_password(vault: &Vault, admin: &Actor, user_id: UserId) -> ServiceResult<ActivationToken> {
    let event = admin.event(Action::PasswordReset).as_role(Role::Admin).on(user_id);
    let allowed = require(admin, Role::Admin, "only an administrator resets passwords").and_then(|()| {
        if admin.user_id() == user_id {
            Err(ServiceError::Forbidden("an administrator cannot reset their own account"))
        } else {
            Ok(())
        }
    });
    let entry = match allowed {
        Ok(()) => entry(vault, user_id).await,
        Err(e) => Err(e),
    };
    let entry = match entry.and_then(not_frozen) {
        Ok(entry) => entry,
        Err(e) => return vault.finish(&event, Err(e)).await,
    };
    let uid = user_id.to_string();
    let mut writes = void_key_writes(vault.store(), &uid).await?;
    let activation = ActivationToken::generate();
    writes.push(Write::PutActivation {
        lookup: directory::activation_lookup(&vault.keyring, activation.expose()),
        user_id: uid,
        expires_at: (vault.clock.now() + ACTIVATION_LIFETIME).unix_timestamp(),
    });
    let mut profile = entry.profile.clone();
    profile.state = UserState::Pending;
    writes.push(profile_write(vault, &entry, &profile)?);
    writes.push(Write::DeleteTotp { user_id: user_id.to_string() });
    writes.push(Write::BumpGeneration { user_id: user_id.to_string() });
    vault.commit(&event, writes).await?;
    Ok(activation)
}

/// An administrator disables or re-enables an account (never their own).
pub async fn set_disabled(
    vault: &Vault,
    admin: &Actor,
    user_id: UserId,
    disabled: bool,
) -> ServiceResult<()> {
    let action = if disabled { Action::UserDisable } else { Action::UserEnable };
    let event = admin.event(action).as_role(Role::Admin).on(user_id);
    let prepared = async {
        require(admin, Role::Admin, "only an administrator disables accounts")?;
        if admin.user_id() == user_id {
            return Err(ServiceError::Forbidden("an administrator cannot disable their own account"));
        }
        let entry = entry(vault, user_id).await?;
        let mut profile = entry.profile.clone();
        profile.state = match (disabled, entry.profile.state) {
            (true, UserState::Active | UserState::Pending) => UserState::Disabled,
            (false, UserState::Disabled) => UserState::Active,
            // Only a coordinator lifts a freeze.
            (_, UserState::Frozen) => return Err(ServiceError::Forbidden(FROZEN)),
            _ => return Ok(Vec::new()),
        };
        Ok(vec![
            profile_write(vault, &entry, &profile)?,
            Write::BumpGeneration { user_id: user_id.to_string() },
        ])
    }
    .await;
    vault.write(&event, prepared).await
}

/// An administrator resets a user's second factor (a lost phone): the user
/// enrols a new one at their next login, and every session of theirs ends.
pub async fn reset_2fa(vault: &Vault, admin: &Actor, user_id: UserId) -> ServiceResult<()> {
    let event = admin.event(Action::TotpReset).as_role(Role::Admin).on(user_id);
    let prepared = async {
        require(admin, Role::Admin, "only an administrator resets two-factor authentication")?;
        if admin.user_id() == user_id {
            return Err(ServiceError::Forbidden("an administrator cannot reset their own second factor"));
        }
        not_frozen(entry(vault, user_id).await?)?;
        Ok(vec![
            Write::DeleteTotp { user_id: user_id.to_string() },
            Write::BumpGeneration { user_id: user_id.to_string() },
        ])
    }
    .await;
    vault.write(&event, prepared).await
}

/// A user chooses the zone their pages show times in (none: the
/// organisation's). Kept in their sealed profile; a change made to the
/// profile at the same moment wins, and this one is a conflict to retry.
pub async fn set_zone(
    vault: &Vault,
    actor: &Actor,
    zone: Option<crate::web::when::Zone>,
) -> ServiceResult<()> {
    set_own_preference(vault, actor, Action::ZoneChange, |p| p.zone = zone).await
}

/// A user chooses the language of their pages (none: as their browser
/// asks). Kept sealed with the zone, and written the same way.
pub async fn set_language(
    vault: &Vault,
    actor: &Actor,
    lang: Option<crate::i18n::Lang>,
) -> ServiceResult<()> {
    set_own_preference(vault, actor, Action::LanguageChange, |p| p.lang = lang).await
}

async fn set_own_preference(
    vault: &Vault,
    actor: &Actor,
    action: Action,
    change: impl FnOnce(&mut Profile),
) -> ServiceResult<()> {
    let event = actor.event(action).on(actor.user_id());
    let prepared = async {
        let entry = entry(vault, actor.user_id()).await?;
        let mut profile = entry.profile.clone();
        change(&mut profile);
        if profile == entry.profile {
            return Ok(Vec::new());
        }
        Ok(vec![profile_write(vault, &entry, &profile)?])
    }
    .await;
    vault.write(&event, prepared).await
}

pub(crate) fn update_profile_write(vault: &Vault, entry: &Entry, profile: &Profile) -> ServiceResult<Write> {
    profile_write(vault, entry, profile)
}

#[cfg(test)]
mod activation_code_tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn a_code_is_eight_groups_of_four_unambiguous_letters() {
        let code = ActivationToken::generate();
        let groups: Vec<&str> = code.expose().split('-').collect();
        assert_eq!(groups.len(), 8);
        for group in groups {
            assert_eq!(group.len(), 4);
            assert!(group.bytes().all(|b| ACTIVATION_ALPHABET.contains(&b)), "{group}");
            assert!(!group.contains(['i', 'l', 'o', 'u']));
        }
        assert_ne!(ActivationToken::generate().expose(), code.expose());
    }

    #[test]
    fn a_code_is_accepted_as_typed_or_heard() {
        let issued = "7k2m-x9qa-bc4d-0e1f-ghjk-mnpq-rstv-wxyz";
        for typed in [
            issued,
            "7k2mx9qabc4d0e1fghjkmnpqrstvwxyz",
            "7K2M X9QA BC4D 0E1F GHJK MNPQ RSTV WXYZ",
            "  7k2m-x9qa bc4d-0e1f ghjkmnpq-rstv-wxyz\n",
            // o, i and l, which the alphabet leaves out, read as 0 and 1.
            "7k2m-x9qa-bc4d-Oe1f-ghjk-mnpq-rstv-wxyz",
            "7k2m-x9qa-bc4d-0eIf-ghjk-mnpq-rstv-wxyz",
            "7k2m-x9qa-bc4d-0elf-ghjk-mnpq-rstv-wxyz",
        ] {
            assert_eq!(canonical_activation_code(typed), issued, "{typed:?}");
        }
    }

    #[test]
    fn other_input_is_left_as_it_came() {
        // A code of the older form (base64url) still matches until it expires.
        let old = "Xy_3-AbCdEfGhIjKlMnOpQrStUvWxYz0123456789ab";
        assert_eq!(canonical_activation_code(&format!(" {old} ")), old);
        for other in [
            "",
            "7k2m-x9qa",
            "7k2m-x9qa-bc4d-0e1f-ghjk-mnpq-rstv-wxyzz",
            "uuuu-x9qa-bc4d-0e1f-ghjk-mnpq-rstv-wxyz",
        ] {
            assert_eq!(canonical_activation_code(other), other.trim());
        }
    }

    proptest! {
        #[test]
        fn any_spacing_and_case_of_an_issued_code_is_that_code(
            seps in proptest::collection::vec(prop_oneof![Just(""), Just(" "), Just("-"), Just("  ")], 32),
            upper in proptest::collection::vec(any::<bool>(), 32),
        ) {
            let code = ActivationToken::generate();
            let letters: Vec<char> = code.expose().chars().filter(|c| *c != '-').collect();
            let mut typed = String::new();
            for (i, c) in letters.iter().enumerate() {
                typed.push_str(seps[i]);
                typed.push(if upper[i] { c.to_ascii_uppercase() } else { *c });
            }
            prop_assert_eq!(canonical_activation_code(&typed), code.expose());
        }
    }
}
