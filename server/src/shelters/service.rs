use serde::{Deserialize, Serialize};

use crate::accounts::model::{Actor, Role};
use crate::audit::Action;
use crate::cases::model::{FieldError, Note, ShelterCode};
use crate::crypto::{self, Aad, Key32, RecordKind};
use crate::error::{ServiceError, ServiceResult};
use crate::ids::ShelterId;
use crate::membership::{self, SharedKey};
use crate::storage::{ShelterRow, Write};
use crate::vault::Vault;

/// What only coordinators see about a shelter.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShelterDetails {
    /// A coarse region (a province or a country code), never an address.
    pub region: String,
    pub capacity: u16,
    pub notes: Note,
}

impl ShelterDetails {
    pub fn parse(region: &str, capacity: &str, notes: &str) -> Result<ShelterDetails, FieldError> {
        let region = region.trim();
        if region.is_empty() || region.chars().count() > 60 || region.chars().any(char::is_control) {
            return Err(FieldError {
                field: "region",
                message: "A region is 1 to 60 characters, such as a province name.".into(),
            });
        }
        let capacity: u16 =
            capacity.trim().parse().ok().filter(|c| (1..=500).contains(c)).ok_or_else(|| FieldError {
                field: "capacity",
                message: "Capacity is a whole number from 1 to 500.".into(),
            })?;
        Ok(ShelterDetails { region: region.to_owned(), capacity, notes: Note::parse(notes)? })
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shelter {
    pub id: ShelterId,
    pub version: i64,
    pub code: ShelterCode,
    /// `None` for a caseworker, who may know the code name only.
    pub details: Option<ShelterDetails>,
}

fn place<'a>(id: &'a str, field: &'a str, version: i64) -> Aad<'a> {
    Aad { kind: RecordKind::Shelter, owner: id, record: "", field, version }
}

fn seal_row(
    codes: &Key32,
    details_key: &Key32,
    id: &str,
    version: i64,
    code: &ShelterCode,
    details: &ShelterDetails,
) -> ServiceResult<ShelterRow> {
    let details_json = zeroize::Zeroizing::new(
        serde_json::to_vec(details).map_err(|_| ServiceError::Internal("shelter encoding"))?,
    );
    Ok(ShelterRow {
        id: id.to_owned(),
        version,
        sealed_code: crypto::seal(codes, &place(id, "code", version), code.as_str().as_bytes()),
        sealed_details: crypto::seal(details_key, &place(id, "details", version), &details_json),
    })
}

/// A shelter row sealed again under new register keys (a register key
/// rotation), at its version: the places are unchanged, so it reads as
/// before and an editor's open form meets no conflict.
pub(crate) fn reseal(old: [&Key32; 2], new: [&Key32; 2], row: &ShelterRow) -> ServiceResult<Write> {
    let [old_codes, old_details] = old;
    let [new_codes, new_details] = new;
    let code = place(&row.id, "code", row.version);
    let details = place(&row.id, "details", row.version);
    let resealed = ShelterRow {
        id: row.id.clone(),
        version: row.version,
        sealed_code: crypto::seal(new_codes, &code, &crypto::open(old_codes, &code, &row.sealed_code)?),
        sealed_details: crypto::seal(
            new_details,
            &details,
            &crypto::open(old_details, &details, &row.sealed_details)?,
        ),
    };
    Ok(Write::UpdateShelter { expected_version: row.version, row: resealed })
}

struct RegisterKeys {
    codes: Key32,
    details: Option<Key32>,
}

async fn register_keys(vault: &Vault, actor: &Actor) -> ServiceResult<RegisterKeys> {
    if actor.has(Role::Coordinator) {
        let coordinators = membership::coordinators_identity(vault, actor).await?;
        return Ok(RegisterKeys {
            codes: membership::shared_key_for_team(vault, &coordinators, SharedKey::RegisterCodes).await?,
            details: Some(
                membership::shared_key_for_team(vault, &coordinators, SharedKey::RegisterDetails).await?,
            ),
        });
    }
    if actor.has(Role::Caseworker) {
        if let Some(codes) = membership::shared_key_for_user(vault, actor, SharedKey::RegisterCodes).await? {
            return Ok(RegisterKeys { codes, details: None });
        }
        return Err(ServiceError::Uncertified);
    }
    Err(ServiceError::Forbidden("the shelter register is for coordinators and caseworkers"))
}

fn open_row(keys: &RegisterKeys, row: &ShelterRow) -> ServiceResult<Shelter> {
    let code = crypto::open(&keys.codes, &place(&row.id, "code", row.version), &row.sealed_code)?;
    let code = std::str::from_utf8(&code).map_err(|_| ServiceError::Integrity("shelter code"))?;
    let details = match &keys.details {
        Some(key) => {
            let json = crypto::open(key, &place(&row.id, "details", row.version), &row.sealed_details)?;
            Some(serde_json::from_slice(&json).map_err(|_| ServiceError::Integrity("shelter details"))?)
        }
        None => None,
    };
    Ok(Shelter {
        id: ShelterId::parse(&row.id).ok_or(ServiceError::Integrity("shelter id"))?,
        version: row.version,
        code: ShelterCode::parse(code).map_err(|_| ServiceError::Integrity("shelter code"))?,
        details,
    })
}

pub async fn list(vault: &Vault, actor: &Actor) -> ServiceResult<Vec<Shelter>> {
    let event = actor.event(Action::ShelterList);
    let result = list_unaudited(vault, actor).await;
    vault.finish(&event, result).await
}

async fn list_unaudited(vault: &Vault, actor: &Actor) -> ServiceResult<Vec<Shelter>> {
    let keys = register_keys(vault, actor).await?;
    let mut out = vault
        .store()
        .shelters()
        .await?
        .iter()
        .map(|row| open_row(&keys, row))
        .collect::<ServiceResult<Vec<_>>>()?;
    out.sort_by(|a, b| a.code.as_str().cmp(b.code.as_str()));
    Ok(out)
}

/// The codes key alone: what a code name needs, for coordinators and
/// certified caseworkers alike.
async fn codes_key(vault: &Vault, actor: &Actor) -> ServiceResult<Key32> {
    if actor.has(Role::Coordinator) {
        let coordinators = membership::coordinators_identity(vault, actor).await?;
        return membership::shared_key_for_team(vault, &coordinators, SharedKey::RegisterCodes).await;
    }
    if actor.has(Role::Caseworker) {
        return membership::shared_key_for_user(vault, actor, SharedKey::RegisterCodes)
            .await?
            .ok_or(ServiceError::Uncertified);
    }
    Err(ServiceError::Forbidden("the shelter register is for coordinators and caseworkers"))
}

/// The code name of the one shelter a case names, for that case's page,
/// which the caller has just read: covered by that read's `case.read`
/// entry, not an entry of its own (SECURITY.md, "Case page reads"). Only the
/// code, never the details; `None` if the shelter is gone.
pub async fn code_for_case_page(
    vault: &Vault,
    actor: &Actor,
    id: ShelterId,
) -> ServiceResult<Option<ShelterCode>> {
    let key = codes_key(vault, actor).await?;
    let Some(row) = vault.store().shelter(&id.to_string()).await? else { return Ok(None) };
    let code = crypto::open(&key, &place(&row.id, "code", row.version), &row.sealed_code)?;
    let code = std::str::from_utf8(&code).map_err(|_| ServiceError::Integrity("shelter code"))?;
    Ok(Some(ShelterCode::parse(code).map_err(|_| ServiceError::Integrity("shelter code"))?))
}

pub async fn get(vault: &Vault, actor: &Actor, id: ShelterId) -> ServiceResult<Shelter> {
    let event = actor.event(Action::ShelterList).on(id);
    let result = async {
        let keys = register_keys(vault, actor).await?;
        let row = vault.store().shelter(&id.to_string()).await?.ok_or(ServiceError::NotFound)?;
        open_row(&keys, &row)
    }
    .await;
    vault.finish(&event, result).await
}

async fn coordinator_keys(vault: &Vault, actor: &Actor) -> ServiceResult<(Key32, Key32)> {
    if !actor.has(Role::Coordinator) {
        return Err(ServiceError::Forbidden("only coordinators manage shelters"));
    }
    let keys = register_keys(vault, actor).await?;
    let details = keys.details.ok_or(ServiceError::Forbidden("only coordinators manage shelters"))?;
    Ok((keys.codes, details))
}

async fn check_unique(
    vault: &Vault,
    actor: &Actor,
    code: &ShelterCode,
    except: Option<ShelterId>,
) -> ServiceResult<()> {
    if list_unaudited(vault, actor).await?.iter().any(|s| &s.code == code && Some(s.id) != except) {
        return Err(FieldError {
            field: "shelter_code",
            message: "Another shelter already has this code name.".into(),
        }
        .into());
    }
    Ok(())
}

pub async fn create(
    vault: &Vault,
    actor: &Actor,
    code: ShelterCode,
    details: ShelterDetails,
) -> ServiceResult<ShelterId> {
    let id = ShelterId::random();
    let event = actor.event(Action::ShelterCreate).as_role(Role::Coordinator).on(id);
    let prepared = async {
        let (codes, details_key) = coordinator_keys(vault, actor).await?;
        check_unique(vault, actor, &code, None).await?;
        Ok(vec![Write::InsertShelter(seal_row(&codes, &details_key, &id.to_string(), 1, &code, &details)?)])
    }
    .await;
    vault.write(&event, prepared).await?;
    Ok(id)
}

pub async fn update(
    vault: &Vault,
    actor: &Actor,
    id: ShelterId,
    expected_version: i64,
    code: ShelterCode,
    details: ShelterDetails,
) -> ServiceResult<i64> {
    let event = actor.event(Action::ShelterUpdate).as_role(Role::Coordinator).on(id);
    let version = expected_version + 1;
    let prepared = async {
        let (codes, details_key) = coordinator_keys(vault, actor).await?;
        check_unique(vault, actor, &code, Some(id)).await?;
        let row = seal_row(&codes, &details_key, &id.to_string(), version, &code, &details)?;
        Ok(vec![Write::UpdateShelter { expected_version, row }])
    }
    .await;
    vault.write(&event, prepared).await?;
    Ok(version)
}
