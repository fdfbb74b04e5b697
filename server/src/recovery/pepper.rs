//! Recovery after the pepper is lost. The directory and audit keys are
//! wrapped to the recovery recipients, so they survive; user keys were
//! sealed under the lost pepper and do not. The procedure:
//!
//! 1. `export --lost-pepper`: the server (without its keyring) writes a
//!    request with the recovery wraps of the two system keys and a fresh
//!    ephemeral recipient whose identity stays in the secrets directory.
//! 2. `answer` on the offline machine wraps the two keys to that ephemeral
//!    recipient.
//! 3. `import` checks the directory key against every sealed profile (a
//!    forged key opens none), makes a new pepper, re-seals the system keys
//!    under it, and sets every account to activate anew: keys,
//!    certifications, grants and second factors are void, case grants wait
//!    for a coordinator to certify the new keys. Then one coordinator account is admitted
//!    through the ordinary recovery request (`export --username`).

use serde::{Deserialize, Serialize};

use super::{RecoveryError, WrappedFor, refused};
use crate::accounts::directory;
use crate::accounts::model::UserState;
use crate::accounts::service::{self as accounts, ActivationToken};
use crate::audit::chain::ChainKey;
use crate::audit::model::new_request_id;
use crate::audit::{Action, Event, Outcome};
use crate::crypto::{Identity, Key32, Recipient, wrap};
use crate::error::ServiceError;
use crate::keyring::{self, Keyring, SecretsDir, from_base64, pepper_check, to_base64};
use crate::storage::{AuditedWrite, HolderKind, ObjectKind, Store, Write};

const REQUEST_FORMAT: &str = "safehouse-pepper-request/1";
const ANSWER_FORMAT: &str = "safehouse-pepper-answer/1";
const EPHEMERAL_FILE: &str = "recovery-pending.key";
const NEW_PEPPER_FILE: &str = "pepper.new";

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PepperRequest {
    pub format: String,
    pub instance_id: String,
    pub request_id: String,
    pub ephemeral: String,
    pub directory: Vec<WrappedFor>,
    pub audit: Vec<WrappedFor>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PepperAnswer {
    pub format: String,
    pub instance_id: String,
    pub request_id: String,
    pub directory: String,
    pub audit: String,
}

async fn system_wraps(store: &dyn Store, name: &str) -> Result<Vec<WrappedFor>, RecoveryError> {
    Ok(store
        .wraps_of_object(ObjectKind::System, name)
        .await
        .map_err(ServiceError::from)?
        .into_iter()
        .filter(|w| w.holder_kind == HolderKind::Recovery.as_str())
        .map(|w| WrappedFor { recovery_recipient: w.holder_id, wrapped: to_base64(&w.wrapped) })
        .collect())
}

/// Step 1, on the server, without its pepper.
pub async fn export(store: &dyn Store, secrets: &SecretsDir) -> Result<PepperRequest, RecoveryError> {
    let instance = store
        .instance()
        .await
        .map_err(ServiceError::from)?
        .ok_or_else(|| refused("the database has not been initialised"))?;
    let trust = secrets.read_trust().map_err(|e| refused(e.to_string()))?;
    if trust.instance_id != instance.instance_id {
        return Err(refused("the trust file belongs to another database"));
    }
    let ephemeral = Identity::generate();
    let secret =
        String::from_utf8(ephemeral.to_secret_bytes().to_vec()).map_err(|_| refused("key encoding"))?;
    secrets
        .write_private(EPHEMERAL_FILE, &format!("{secret}\n"), true)
        .map_err(|e| refused(e.to_string()))?;
    Ok(PepperRequest {
        format: REQUEST_FORMAT.into(),
        instance_id: instance.instance_id,
        request_id: uuid::Uuid::new_v4().to_string(),
        ephemeral: ephemeral.recipient().to_string(),
        directory: system_wraps(store, "directory").await?,
        audit: system_wraps(store, "audit").await?,
    })
}

/// Step 2, on the offline machine.
pub fn answer(request: &PepperRequest, recovery: &Identity) -> Result<PepperAnswer, RecoveryError> {
    if request.format != REQUEST_FORMAT {
        return Err(refused("not a Safehouse lost-pepper request"));
    }
    let ephemeral: Recipient = request.ephemeral.parse().map_err(|_| refused("malformed request"))?;
    let directory = super::open_for(recovery, &request.directory, "directory")?;
    let audit = super::open_for(recovery, &request.audit, "audit")?;
    let w = |secret: &[u8]| {
        wrap::wrap(&ephemeral, secret).map(|b| to_base64(&b)).map_err(|_| refused("wrapping failed"))
    };
    Ok(PepperAnswer {
        format: ANSWER_FORMAT.into(),
        instance_id: request.instance_id.clone(),
        request_id: request.request_id.clone(),
        directory: w(&directory)?,
        audit: w(&audit)?,
    })
}

/// Step 3, on the server: returns each account's username and its new
/// activation token, to hand to its owner.
pub async fn import(
    store: &dyn Store,
    secrets: &SecretsDir,
    answer: &PepperAnswer,
    now: time::OffsetDateTime,
) -> Result<Vec<(String, ActivationToken)>, RecoveryError> {
    if answer.format != ANSWER_FORMAT {
        return Err(refused("not a Safehouse lost-pepper answer"));
    }
    let trust = secrets.read_trust().map_err(|e| refused(e.to_string()))?;
    if answer.instance_id != trust.instance_id {
        return Err(refused("the answer is for another instance"));
    }
    let ephemeral_text = std::fs::read(secrets.path().join(EPHEMERAL_FILE))
        .map_err(|_| refused("no pending lost-pepper request in the secrets directory (export one first)"))?;
    let ephemeral =
        Identity::from_secret_bytes(&ephemeral_text).map_err(|_| refused("malformed pending request key"))?;
    let open = |text: &str| -> Result<Key32, RecoveryError> {
        let blob = from_base64(text).ok_or_else(|| refused("the answer is malformed"))?;
        let plain = wrap::unwrap(&ephemeral, &blob)
            .map_err(|_| refused("the answer was not made for this request"))?;
        Key32::from_slice(&plain).map_err(|_| refused("the answer is malformed"))
    };
    let directory_key = open(&answer.directory)?;
    let audit_key = open(&answer.audit)?;
    let new_pepper = Key32::random();
    let keyring = Keyring::from_parts(new_pepper.clone(), trust.clone(), directory_key, audit_key);

    // A forged directory key opens no profile: check every one before writing.
    let rows = store.users().await.map_err(ServiceError::from)?;
    let mut entries = Vec::with_capacity(rows.len());
    for row in &rows {
        entries.push(directory::open_entry(&keyring, row).map_err(|_| {
            refused("the recovered directory key does not open the user directory: wrong answer")
        })?);
    }

    let mut writes = keyring.reseal_writes(&new_pepper);
    writes.push(Write::SetPepperCheck { pepper_check: pepper_check(&new_pepper, &trust.instance_id) });
    let mut tokens = Vec::new();
    for entry in &entries {
        let uid = entry.id.to_string();
        writes.extend(accounts::void_key_writes(store, &uid).await.map_err(ServiceError::from)?);
        // Every second factor is enrolled anew. The secrets are sealed under
        // the directory key, which survives; but whoever holds the lost
        // pepper (a stolen server, say) could open that key and compute
        // every code. A new enrolment makes a stale or stolen authenticator
        // worthless, as an administrator's reset does.
        writes.push(Write::DeleteTotp { user_id: uid.clone() });
        let mut profile = entry.profile.clone();
        if matches!(profile.state, UserState::Active | UserState::Pending) {
            profile.state = UserState::Pending;
            let token = accounts::new_activation_token();
            writes.push(Write::PutActivation {
                lookup: directory::activation_lookup(&keyring, token.expose()),
                user_id: uid.clone(),
                expires_at: (now + accounts::ACTIVATION_LIFETIME).unix_timestamp(),
            });
            tokens.push((profile.username.as_str().to_owned(), token));
        }
        writes.push(Write::UpdateUser {
            id: uid,
            expected_version: entry.version,
            lookup: entry.lookup.clone(),
            sealed_profile: directory::seal_profile(&keyring, entry.id, entry.version + 1, &profile)?,
        });
    }

    // The new pepper goes to disk before the database changes, so a crash
    // between the two never loses it: an operator finds it in pepper.new.
    secrets
        .write_private(NEW_PEPPER_FILE, &format!("{}\n", keyring::to_base64(new_pepper.expose())), true)
        .map_err(|e| refused(e.to_string()))?;
    // Recorded in the audit chain like every other change.
    let event = Event::system(Action::RecoveryImport, &new_request_id()).on("pepper");
    let entry = event.row(Outcome::Ok, now);
    let chain = ChainKey::new(keyring.audit_key());
    let results = store
        .commit_audited(vec![AuditedWrite { writes, entry }], &chain)
        .await
        .map_err(ServiceError::from)?;
    for result in results {
        result.map_err(ServiceError::from)?;
    }
    secrets.replace_pepper(&new_pepper).map_err(|e| refused(e.to_string()))?;
    let _ = std::fs::remove_file(secrets.path().join(NEW_PEPPER_FILE));
    let _ = std::fs::remove_file(secrets.path().join(EPHEMERAL_FILE));
    Ok(tokens)
}
