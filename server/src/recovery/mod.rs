//! The offline recovery procedure, for when every coordinator's password is
//! lost: the server exports a request, an operator answers it on an offline
//! machine with the recovery key, and the server imports the answer.
//!
//! The request names one activated account (a new coordinator) and carries
//! the team keys and the directory key as wrapped to the recovery
//! recipients. The answer wraps the team keys to that account's key,
//! certifies it, and is authenticated by a MAC under the directory key
//! (which the offline machine opens from its recovery wrap and the server
//! holds), so a forged or mismatched answer is refused before anything is
//! written.

use serde::{Deserialize, Serialize};

use crate::accounts::model::{Role, UserState, Username};
use crate::accounts::service::{self as accounts, voucher_parts};
use crate::audit::model::new_request_id;
use crate::audit::{Action, Event, Outcome};
use crate::crypto::{self, Identity, Key32, Label, Recipient, fingerprint, wrap};
use crate::error::{ServiceError, ServiceResult};
use crate::ids::UserId;
use crate::keyring::{Team, from_base64, to_base64};
use crate::membership::wrap_row;
use crate::storage::{CertificationRow, HolderKind, ObjectKind, RecoveryRequestRow, Write};
use crate::vault::Vault;

pub mod pepper;

// Format 2: the request no longer carries the key's fingerprint, which must
// reach the offline machine from the person only.
const REQUEST_FORMAT: &str = "safehouse-recovery-request/2";
const ANSWER_FORMAT: &str = "safehouse-recovery-answer/1";

#[derive(Debug, thiserror::Error)]
pub enum RecoveryError {
    #[error("{0}")]
    Refused(String),
    #[error(transparent)]
    Service(#[from] ServiceError),
}

pub(crate) fn refused(message: impl Into<String>) -> RecoveryError {
    RecoveryError::Refused(message.into())
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct WrappedFor {
    pub recovery_recipient: String,
    pub wrapped: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Request {
    pub format: String,
    pub instance_id: String,
    pub request_id: String,
    pub user_id: String,
    pub key_no: i64,
    pub recipient: String,
    pub coordinators: Vec<WrappedFor>,
    pub communications: Vec<WrappedFor>,
    pub directory: Vec<WrappedFor>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Answer {
    pub format: String,
    pub instance_id: String,
    pub request_id: String,
    pub user_id: String,
    pub key_no: i64,
    pub recipient: String,
    pub coordinators_wrap: String,
    pub communications_wrap: String,
    pub certification_mac: String,
    pub handover_to_user: String,
    pub handover_to_coordinators: String,
    pub mac: String,
}

impl Answer {
    fn mac_parts(&self) -> Vec<&[u8]> {
        vec![
            self.format.as_bytes(),
            self.instance_id.as_bytes(),
            self.request_id.as_bytes(),
            self.user_id.as_bytes(),
            self.recipient.as_bytes(),
            self.coordinators_wrap.as_bytes(),
            self.communications_wrap.as_bytes(),
            self.certification_mac.as_bytes(),
            self.handover_to_user.as_bytes(),
            self.handover_to_coordinators.as_bytes(),
        ]
    }
}

async fn recovery_wraps(vault: &Vault, kind: ObjectKind, id: &str) -> ServiceResult<Vec<WrappedFor>> {
    Ok(vault
        .store()
        .wraps_of_object(kind, id)
        .await?
        .into_iter()
        .filter(|w| w.holder_kind == HolderKind::Recovery.as_str())
        .map(|w| WrappedFor { recovery_recipient: w.holder_id, wrapped: to_base64(&w.wrapped) })
        .collect())
}

/// Export a request naming the activated account to be made a coordinator.
/// It carries the account's public key but not its fingerprint: the
/// operator answering offline must hear that from the person, who reads it
/// on their own page, or the check proves nothing.
pub async fn export(vault: &Vault, username: &Username) -> Result<Request, RecoveryError> {
    let entry = accounts::entry_by_username(vault, username)
        .await?
        .ok_or_else(|| refused("no account with that username"))?;
    if entry.profile.state != UserState::Active || !entry.profile.roles.contains(&Role::Coordinator) {
        return Err(refused(
            "the account must be an activated coordinator account (create it, then let its owner activate it)",
        ));
    }
    let uid = entry.id.to_string();
    let key = vault
        .store()
        .user_key(&uid)
        .await
        .map_err(ServiceError::from)?
        .ok_or_else(|| refused("the account has no key yet: it must be activated first"))?;
    // Parsed only to refuse a malformed key here rather than offline.
    let _: Recipient = key.recipient.parse().map_err(|_| refused("the account's stored key is malformed"))?;
    let request_id = uuid::Uuid::new_v4().to_string();
    let request = Request {
        format: REQUEST_FORMAT.into(),
        instance_id: vault.keyring.trust().instance_id.clone(),
        request_id: request_id.clone(),
        user_id: uid.clone(),
        key_no: key.key_no,
        recipient: key.recipient.clone(),
        coordinators: recovery_wraps(vault, ObjectKind::Team, Team::Coordinators.as_str()).await?,
        communications: recovery_wraps(vault, ObjectKind::Team, Team::Communications.as_str()).await?,
        directory: recovery_wraps(vault, ObjectKind::System, "directory").await?,
    };
    let event = Event::system(Action::RecoveryExport, &new_request_id()).on(entry.id);
    let row = RecoveryRequestRow { id: request_id, user_id: uid, key_no: key.key_no };
    vault.commit(&event, vec![Write::PutRecoveryRequest(row)]).await?;
    Ok(request)
}

pub(crate) fn open_for(
    identity: &Identity,
    wraps: &[WrappedFor],
    what: &str,
) -> Result<zeroize::Zeroizing<Vec<u8>>, RecoveryError> {
    let mine = identity.recipient().to_string();
    let found = wraps.iter().find(|w| w.recovery_recipient == mine).ok_or_else(|| {
        refused(format!("this recovery key is not a recipient of the {what} key in this request"))
    })?;
    let blob = from_base64(&found.wrapped).ok_or_else(|| refused("the request is malformed"))?;
    wrap::unwrap(identity, &blob)
        .map_err(|_| refused(format!("the {what} key does not open with this recovery key")))
}

/// Answer a request on the offline machine. `spoken_fingerprint` is what the
/// new coordinator reads aloud from their key page; it must match.
pub fn answer(
    request: &Request,
    recovery: &Identity,
    spoken_fingerprint: &str,
) -> Result<Answer, RecoveryError> {
    if request.format != REQUEST_FORMAT {
        return Err(refused(
            "not a Safehouse recovery request of this version: export a new one with this version",
        ));
    }
    let recipient: Recipient =
        request.recipient.parse().map_err(|_| refused("the request's key is malformed"))?;
    let digits = |s: &str| s.chars().filter(char::is_ascii_digit).collect::<String>();
    if digits(spoken_fingerprint) != digits(&fingerprint(&recipient)) {
        return Err(refused("the fingerprint does not match the key in the request: do not answer it"));
    }
    let coordinators =
        Identity::from_secret_bytes(&open_for(recovery, &request.coordinators, "coordinators")?)
            .map_err(|_| refused("malformed coordinators key"))?;
    let communications = open_for(recovery, &request.communications, "communications")?;
    let directory = Key32::from_slice(&open_for(recovery, &request.directory, "directory")?)
        .map_err(|_| refused("malformed directory key"))?;

    let handover = Key32::random();
    let parts = voucher_parts(&request.user_id, &request.recipient, request.key_no);
    let cert_mac = crypto::mac(
        &coordinators.derive(Label::Certification, b""),
        &[&parts[0], &parts[1], &parts[2], handover.expose()],
    );
    let w = |r: &Recipient, secret: &[u8]| -> Result<String, RecoveryError> {
        wrap::wrap(r, secret).map(|b| to_base64(&b)).map_err(|_| refused("wrapping failed"))
    };
    let mut out = Answer {
        format: ANSWER_FORMAT.into(),
        instance_id: request.instance_id.clone(),
        request_id: request.request_id.clone(),
        user_id: request.user_id.clone(),
        key_no: request.key_no,
        recipient: request.recipient.clone(),
        coordinators_wrap: w(&recipient, &coordinators.to_secret_bytes())?,
        communications_wrap: w(&recipient, &communications)?,
        certification_mac: to_base64(&cert_mac),
        handover_to_user: w(&recipient, handover.expose())?,
        handover_to_coordinators: w(&coordinators.recipient(), handover.expose())?,
        mac: String::new(),
    };
    let key_no = out.key_no.to_be_bytes();
    let mut parts = out.mac_parts();
    parts.push(&key_no);
    out.mac = to_base64(&crypto::mac(&directory.derive(Label::RecoveryAnswer, b""), &parts));
    Ok(out)
}

/// Import an answer: checked completely before anything is written.
pub async fn import(vault: &Vault, answer: &Answer) -> Result<UserId, RecoveryError> {
    let event = Event::system(Action::RecoveryImport, &new_request_id());
    let result = import_checked(vault, answer, &event).await;
    if let Err(RecoveryError::Refused(_)) = &result {
        vault.record(&event, Outcome::Denied).await?;
    }
    result
}

async fn import_checked(vault: &Vault, answer: &Answer, event: &Event) -> Result<UserId, RecoveryError> {
    if answer.format != ANSWER_FORMAT {
        return Err(refused("not a Safehouse recovery answer"));
    }
    if answer.instance_id != vault.keyring.trust().instance_id {
        return Err(refused("the answer is for another instance"));
    }
    let mac = from_base64(&answer.mac).ok_or_else(|| refused("the answer is malformed"))?;
    let key_no = answer.key_no.to_be_bytes();
    let mut parts = answer.mac_parts();
    parts.push(&key_no);
    if !crypto::mac_verify(&vault.keyring.directory_key().derive(Label::RecoveryAnswer, b""), &parts, &mac) {
        return Err(refused(
            "the answer's MAC does not verify: it was not made with this instance's recovery key, or it was altered",
        ));
    }
    let request =
        vault.store().recovery_request(&answer.request_id).await.map_err(ServiceError::from)?.ok_or_else(
            || refused("no open request with this id (already imported, or never exported here)"),
        )?;
    let key = vault.store().user_key(&request.user_id).await.map_err(ServiceError::from)?;
    let current = key.as_ref().is_some_and(|k| {
        k.key_no == request.key_no
            && k.recipient == answer.recipient
            && request.user_id == answer.user_id
            && request.key_no == answer.key_no
    });
    if !current {
        return Err(refused(
            "the account's key changed since the request was exported: export a new request",
        ));
    }
    let user_id = UserId::parse(&request.user_id).ok_or_else(|| refused("malformed user id"))?;
    let blob = |s: &str| from_base64(s).ok_or_else(|| refused("the answer is malformed"));
    let uid = request.user_id.clone();
    let writes = vec![
        Write::PutWrap(wrap_row(
            ObjectKind::Team,
            Team::Coordinators.as_str(),
            HolderKind::User,
            &uid,
            request.key_no,
            blob(&answer.coordinators_wrap)?,
        )),
        Write::PutWrap(wrap_row(
            ObjectKind::Team,
            Team::Communications.as_str(),
            HolderKind::User,
            &uid,
            request.key_no,
            blob(&answer.communications_wrap)?,
        )),
        Write::PutCertification(CertificationRow {
            user_id: uid.clone(),
            key_no: request.key_no,
            recipient: answer.recipient.clone(),
            mac: blob(&answer.certification_mac)?,
            handover_to_user: blob(&answer.handover_to_user)?,
            handover_to_coordinators: blob(&answer.handover_to_coordinators)?,
        }),
        Write::DeleteVoucher { user_id: uid },
        Write::DeleteRecoveryRequest { id: request.id },
    ];
    vault.commit(&event.clone().on(user_id), writes).await?;
    Ok(user_id)
}
