use crate::accounts::model::{Actor, Role, UserState};
use crate::accounts::service::{self as accounts, voucher_parts};
use crate::audit::Action;
use crate::crypto::{self, Identity, Key32, Label, Recipient, fingerprint, wrap};
use crate::error::{ServiceError, ServiceResult};
use crate::ids::{CaseId, UserId};
use crate::keyring::Team;
use crate::storage::{CertificationRow, HolderKind, ObjectKind, WrapRow, Write};
use crate::vault::Vault;

/// Keys shared by the coordinators: the index key and the two register keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SharedKey {
    Index,
    RegisterCodes,
    RegisterDetails,
}

impl SharedKey {
    pub const ALL: [SharedKey; 3] = [SharedKey::Index, SharedKey::RegisterCodes, SharedKey::RegisterDetails];

    pub fn as_str(self) -> &'static str {
        match self {
            SharedKey::Index => "index",
            SharedKey::RegisterCodes => "register_codes",
            SharedKey::RegisterDetails => "register_details",
        }
    }
}

pub(crate) fn wrap_row(
    object: ObjectKind,
    object_id: &str,
    holder: HolderKind,
    holder_id: &str,
    key_no: i64,
    wrapped: Vec<u8>,
) -> WrapRow {
    WrapRow {
        object_kind: object.as_str().to_owned(),
        object_id: object_id.to_owned(),
        holder_kind: holder.as_str().to_owned(),
        holder_id: holder_id.to_owned(),
        key_no,
        wrapped,
    }
}

/// The actor's own wrap of a team identity, if they are a member.
async fn own_team_identity(vault: &Vault, actor: &Actor, team: Team) -> ServiceResult<Option<Identity>> {
    let uid = actor.user_id().to_string();
    let own = vault.store().wrap(ObjectKind::Team, team.as_str(), HolderKind::User, &uid).await?;
    match own.filter(|row| row.key_no == actor.key_no()) {
        Some(row) => {
            let secret = wrap::unwrap(actor.identity(), &row.wrapped)?;
            Ok(Some(Identity::from_secret_bytes(&secret)?))
        }
        None => Ok(None),
    }
}

/// Open a team's identity with the actor's own key (directly, or for the
/// communications team through the coordinators key).
pub async fn team_identity(vault: &Vault, actor: &Actor, team: Team) -> ServiceResult<Identity> {
    if team == Team::Coordinators {
        return coordinators_identity(vault, actor).await;
    }
    if let Some(identity) = own_team_identity(vault, actor, team).await? {
        return Ok(identity);
    }
    if actor.has(Role::Coordinator) {
        let coordinators = coordinators_identity(vault, actor).await?;
        return wrapped_to_coordinators(vault, &coordinators, team)
            .await?
            .ok_or(ServiceError::Forbidden("no communications key"));
    }
    Err(ServiceError::Forbidden("not a member of this team"))
}

/// A team's key as the coordinators team holds it (the coordinators hold
/// the communications key): `None` when no such wrap is stored.
pub async fn wrapped_to_coordinators(
    vault: &Vault,
    coordinators: &Identity,
    team: Team,
) -> ServiceResult<Option<Identity>> {
    if team == Team::Coordinators {
        return Ok(Some(Identity::from_secret_bytes(&coordinators.to_secret_bytes())?));
    }
    let Some(row) = vault
        .store()
        .wrap(ObjectKind::Team, team.as_str(), HolderKind::Team, Team::Coordinators.as_str())
        .await?
    else {
        return Ok(None);
    };
    Ok(Some(Identity::from_secret_bytes(&wrap::unwrap(coordinators, &row.wrapped)?)?))
}

/// The coordinators team identity, for a coordinator admitted to the team.
pub async fn coordinators_identity(vault: &Vault, actor: &Actor) -> ServiceResult<Identity> {
    if !actor.has(Role::Coordinator) {
        return Err(ServiceError::Forbidden("coordinators only"));
    }
    if let Some(opened) = actor.opened_coordinators() {
        // A copy of the key the guard opened: no second unwrap.
        return Ok(Identity::from_secret_bytes(&opened.to_secret_bytes())?);
    }
    own_team_identity(vault, actor, Team::Coordinators)
        .await?
        .ok_or(ServiceError::Forbidden("not a member of the coordinators team"))
}

/// A shared key, opened with the coordinators identity (or, for the codes
/// register key, with a certified caseworker's own grant).
pub async fn shared_key_for_team(
    vault: &Vault,
    coordinators: &Identity,
    key: SharedKey,
) -> ServiceResult<Key32> {
    let row = vault
        .store()
        .wrap(ObjectKind::Shared, key.as_str(), HolderKind::Team, Team::Coordinators.as_str())
        .await?
        .ok_or(ServiceError::Internal("shared key not wrapped to coordinators"))?;
    Ok(Key32::from_slice(&wrap::unwrap(coordinators, &row.wrapped)?)?)
}

pub async fn shared_key_for_user(
    vault: &Vault,
    actor: &Actor,
    key: SharedKey,
) -> ServiceResult<Option<Key32>> {
    let row = vault
        .store()
        .wrap(ObjectKind::Shared, key.as_str(), HolderKind::User, &actor.user_id().to_string())
        .await?;
    match row.filter(|r| r.key_no == actor.key_no()) {
        Some(row) => Ok(Some(Key32::from_slice(&wrap::unwrap(actor.identity(), &row.wrapped)?)?)),
        None => Ok(None),
    }
}

fn certification_key(coordinators: &Identity) -> Key32 {
    coordinators.derive(Label::Certification, b"")
}

fn parts_ref(parts: &[Vec<u8>; 3]) -> [&[u8]; 3] {
    [&parts[0], &parts[1], &parts[2]]
}

/// Make a certification of (user, recipient, key number, hand-over key):
/// a MAC only holders of the coordinators key can make, and a fresh
/// hand-over key wrapped to the user and to the coordinators.
async fn certification_writes(
    vault: &Vault,
    coordinators: &Identity,
    user_id: &str,
    recipient: &Recipient,
    key_no: i64,
) -> ServiceResult<Vec<Write>> {
    let handover = Key32::random();
    let recipient_text = recipient.to_string();
    let mac = certification_mac(coordinators, user_id, &recipient_text, key_no, &handover);
    let coordinators_recipient = vault.keyring.team_recipient(vault.store(), Team::Coordinators).await?;
    Ok(vec![
        Write::PutCertification(CertificationRow {
            user_id: user_id.to_owned(),
            key_no,
            recipient: recipient_text,
            mac: mac.to_vec(),
            handover_to_user: wrap::wrap(recipient, handover.expose())?,
            handover_to_coordinators: wrap::wrap(&coordinators_recipient, handover.expose())?,
        }),
        Write::DeleteVoucher { user_id: user_id.to_owned() },
    ])
}

fn certification_mac(
    coordinators: &Identity,
    user_id: &str,
    recipient: &str,
    key_no: i64,
    handover: &Key32,
) -> [u8; 32] {
    let parts = voucher_parts(user_id, recipient, key_no);
    crypto::mac(&certification_key(coordinators), &[&parts[0], &parts[1], &parts[2], handover.expose()])
}

/// The certified recipient of a user's current key, checked with the
/// coordinators key: either the certification covers the current key, or
/// the user vouched for it with the hand-over key (then `writes` re-certify
/// it). Anything else, a swapped recipient included, is `Uncertified`.
pub struct Certified {
    pub recipient: Recipient,
    pub key_no: i64,
    pub writes: Vec<Write>,
}

pub async fn certified_key(
    vault: &Vault,
    coordinators: &Identity,
    user_id: UserId,
) -> ServiceResult<Certified> {
    let uid = user_id.to_string();
    let entry = accounts::entry(vault, user_id).await?;
    let key = vault.store().user_key(&uid).await?;
    let cert = vault.store().certification(&uid).await?;
    check_certified(vault, coordinators, &uid, entry.profile.state, key.as_ref(), cert.as_ref()).await
}

/// [`certified_key`] on rows already read (the certification queue reads
/// every account's key and certification at once): the same checks.
async fn check_certified(
    vault: &Vault,
    coordinators: &Identity,
    uid: &str,
    state: UserState,
    key: Option<&crate::storage::UserKeyRow>,
    cert: Option<&crate::storage::CertificationRow>,
) -> ServiceResult<Certified> {
    if state != UserState::Active {
        return Err(ServiceError::Uncertified);
    }
    let key = key.ok_or(ServiceError::Uncertified)?;
    let cert = cert.ok_or(ServiceError::Uncertified)?;
    let recipient: Recipient = key.recipient.parse().map_err(|_| ServiceError::Uncertified)?;
    // The certification itself must be genuine: its MAC covers the
    // hand-over key, so a hand-over key planted in the database (anyone can
    // wrap to the public coordinators recipient) is refused.
    let handover =
        wrap::unwrap(coordinators, &cert.handover_to_coordinators).map_err(|_| ServiceError::Uncertified)?;
    let handover = Key32::from_slice(&handover)?;
    let expected = certification_mac(coordinators, uid, &cert.recipient, cert.key_no, &handover);
    if !crypto::mac_verify_tag(&expected, &cert.mac) {
        return Err(ServiceError::Uncertified);
    }
    if cert.key_no == key.key_no && cert.recipient == key.recipient {
        return Ok(Certified { recipient, key_no: key.key_no, writes: Vec::new() });
    }
    // The certification covers an older key: accept the current one only if
    // the user vouched for it with the hand-over key.
    let Some(voucher) = vault.store().voucher(uid).await?.filter(|v| v.key_no == key.key_no) else {
        return Err(ServiceError::Uncertified);
    };
    let parts = voucher_parts(uid, &key.recipient, key.key_no);
    if !crypto::mac_verify(&handover.derive(Label::Voucher, b""), &parts_ref(&parts), &voucher.mac) {
        return Err(ServiceError::Uncertified);
    }
    let writes = certification_writes(vault, coordinators, uid, &recipient, key.key_no).await?;
    Ok(Certified { recipient, key_no: key.key_no, writes })
}

/// Whether the actor's own current key is certified (or vouched for). The
/// code-level check for a caseworker acting alone; the cryptographic check
/// happens at the next coordinator request.
pub async fn is_self_certified(vault: &Vault, actor: &Actor) -> ServiceResult<bool> {
    let uid = actor.user_id().to_string();
    let cert = vault.store().certification(&uid).await?;
    if cert.as_ref().is_some_and(|c| c.key_no == actor.key_no()) {
        return Ok(true);
    }
    let voucher = vault.store().voucher(&uid).await?;
    Ok(cert.is_some() && voucher.is_some_and(|v| v.key_no == actor.key_no()))
}

/// A coordinator certifies a user's current key after comparing its
/// fingerprint with the user in person or by phone. Grants waiting for this
/// user are issued in the same request.
pub async fn certify(
    vault: &Vault,
    coordinator: &Actor,
    user_id: UserId,
    spoken_fingerprint: &str,
) -> ServiceResult<()> {
    let event = coordinator.event(Action::KeyCertify).as_role(Role::Coordinator).on(user_id);
    let prepared = certify_writes(vault, coordinator, user_id, spoken_fingerprint).await;
    vault.write(&event, prepared).await
}

async fn certify_writes(
    vault: &Vault,
    coordinator: &Actor,
    user_id: UserId,
    spoken_fingerprint: &str,
) -> ServiceResult<Vec<Write>> {
    let coordinators = coordinators_identity(vault, coordinator).await?;
    let uid = user_id.to_string();
    let entry = accounts::entry(vault, user_id).await?;
    if entry.profile.state != UserState::Active {
        return Err(ServiceError::Forbidden("only an active account's key can be certified"));
    }
    let key = vault.store().user_key(&uid).await?.ok_or(ServiceError::NotFound)?;
    let recipient: Recipient =
        key.recipient.parse().map_err(|_| ServiceError::Integrity("stored recipient"))?;
    let normalise = |s: &str| s.chars().filter(char::is_ascii_digit).collect::<String>();
    if normalise(spoken_fingerprint) != normalise(&fingerprint(&recipient)) {
        return Err(crate::cases::model::FieldError {
            field: "fingerprint",
            message: "The fingerprint does not match this account's key. Do not certify: ask the person to read it again.".into(),
        }
        .into());
    }
    let mut writes = certification_writes(vault, &coordinators, &uid, &recipient, key.key_no).await?;
    writes.extend(issue_pending_for(vault, &coordinators, user_id, &recipient, key.key_no).await?);
    if entry.profile.roles.contains(&Role::Caseworker) || entry.profile.roles.contains(&Role::Coordinator) {
        let codes = shared_key_for_team(vault, &coordinators, SharedKey::RegisterCodes).await?;
        writes.push(Write::PutWrap(wrap_row(
            ObjectKind::Shared,
            SharedKey::RegisterCodes.as_str(),
            HolderKind::User,
            &uid,
            key.key_no,
            wrap::wrap(&recipient, codes.expose())?,
        )));
    }
    Ok(writes)
}

/// Open a case key through the coordinators team wrap.
pub async fn case_key_for_team(
    vault: &Vault,
    coordinators: &Identity,
    case_id: &str,
) -> ServiceResult<Key32> {
    let row = vault
        .store()
        .wrap(ObjectKind::Case, case_id, HolderKind::Team, Team::Coordinators.as_str())
        .await?
        .ok_or(ServiceError::NotFound)?;
    Ok(Key32::from_slice(&wrap::unwrap(coordinators, &row.wrapped)?)?)
}

async fn issue_pending_for(
    vault: &Vault,
    coordinators: &Identity,
    user_id: UserId,
    recipient: &Recipient,
    key_no: i64,
) -> ServiceResult<Vec<Write>> {
    let uid = user_id.to_string();
    let mut writes = Vec::new();
    for (case_id, waiting) in vault.store().pending_grants().await? {
        if waiting != uid {
            continue;
        }
        let case_key = case_key_for_team(vault, coordinators, &case_id).await?;
        writes.push(Write::PutWrap(wrap_row(
            ObjectKind::Case,
            &case_id,
            HolderKind::User,
            &uid,
            key_no,
            wrap::wrap(recipient, case_key.expose())?,
        )));
        writes.push(Write::DeletePendingGrant { case_id, user_id: uid.clone() });
    }
    Ok(writes)
}

/// The users holding a grant to a case, after adding or removing one.
async fn assignees_after(
    vault: &Vault,
    case_id: &str,
    add: Option<UserId>,
    remove: Option<UserId>,
) -> ServiceResult<Vec<UserId>> {
    let mut users = crate::cases::index::assignees(vault, case_id).await?;
    users.retain(|u| Some(*u) != remove);
    if let Some(user) = add.filter(|u| !users.contains(u)) {
        users.push(user);
    }
    Ok(users)
}

/// Assign a case to a caseworker: wrap its key to their certified key, or,
/// if they are not certified yet, queue the grant. Returns whether the
/// grant was issued now.
pub async fn assign(
    vault: &Vault,
    coordinator: &Actor,
    case_id: CaseId,
    user_id: UserId,
) -> ServiceResult<bool> {
    let event = coordinator.event(Action::CaseAssign).as_role(Role::Coordinator).on(case_id);
    let prepared = assign_writes(vault, coordinator, case_id, user_id).await;
    let issued = prepared.as_ref().map(|(_, issued)| *issued).unwrap_or(false);
    vault.write(&event, prepared.map(|(writes, _)| writes)).await?;
    Ok(issued)
}

async fn assign_writes(
    vault: &Vault,
    coordinator: &Actor,
    case_id: CaseId,
    user_id: UserId,
) -> ServiceResult<(Vec<Write>, bool)> {
    let coordinators = coordinators_identity(vault, coordinator).await.map_err(|_| ServiceError::NotFound)?;
    let cid = case_id.to_string();
    let case_key = case_key_for_team(vault, &coordinators, &cid).await?;
    let entry = accounts::entry(vault, user_id).await?;
    if !entry.profile.roles.contains(&Role::Caseworker) {
        return Err(crate::cases::model::FieldError {
            field: "caseworker",
            message: "Only a caseworker can be assigned a case.".into(),
        }
        .into());
    }
    // Only an active account with a certified key is assigned: a grant
    // queued for anyone else would be issued by whatever certification
    // came next (a frozen caseworker's, say). Grants wait for a
    // certification only when a reset voided a key that already held them.
    if entry.profile.state != UserState::Active {
        return Err(crate::cases::model::FieldError {
            field: "caseworker",
            message: "This account is not active (frozen, disabled or waiting for activation): it cannot be assigned a case.".into(),
        }
        .into());
    }
    let uid = user_id.to_string();
    let certified = match certified_key(vault, &coordinators, user_id).await {
        Ok(certified) => certified,
        Err(ServiceError::Uncertified) => {
            return Err(crate::cases::model::FieldError {
                field: "caseworker",
                message: "This caseworker's key is not certified yet: certify it on the Certify keys page first, then assign.".into(),
            }
            .into());
        }
        Err(other) => return Err(other),
    };
    let mut writes = certified.writes;
    writes.push(Write::PutWrap(wrap_row(
        ObjectKind::Case,
        &cid,
        HolderKind::User,
        &uid,
        certified.key_no,
        wrap::wrap(&certified.recipient, case_key.expose())?,
    )));
    writes.push(Write::DeletePendingGrant { case_id: cid.clone(), user_id: uid.clone() });
    // Checked again inside the write: a freeze or reset of this account
    // that lands between this check and the write changes its profile, and
    // the grant is then refused rather than wrapped to a voided key.
    writes.push(Write::RequireUserVersion { id: uid.clone(), version: entry.version });
    let issued = true;
    let assignees = assignees_after(vault, &cid, issued.then_some(user_id), None).await?;
    writes.push(
        crate::cases::service::index_write_for_team(vault, &coordinators, &case_key, case_id, assignees)
            .await?,
    );
    Ok((writes, issued))
}

/// Unassign: delete that one wrap row (and any waiting grant).
pub async fn unassign(
    vault: &Vault,
    coordinator: &Actor,
    case_id: CaseId,
    user_id: UserId,
) -> ServiceResult<()> {
    let event = coordinator.event(Action::CaseUnassign).as_role(Role::Coordinator).on(case_id);
    let prepared = async {
        let coordinators =
            coordinators_identity(vault, coordinator).await.map_err(|_| ServiceError::NotFound)?;
        let (cid, uid) = (case_id.to_string(), user_id.to_string());
        let case_key = case_key_for_team(vault, &coordinators, &cid).await?;
        let assignees = assignees_after(vault, &cid, None, Some(user_id)).await?;
        Ok(vec![
            Write::DeleteWrap {
                object_kind: ObjectKind::Case,
                object_id: cid.clone(),
                holder_kind: HolderKind::User,
                holder_id: uid.clone(),
            },
            Write::DeletePendingGrant { case_id: cid, user_id: uid },
            crate::cases::service::index_write_for_team(vault, &coordinators, &case_key, case_id, assignees)
                .await?,
        ])
    }
    .await;
    vault.write(&event, prepared).await
}

/// The role a team's members hold: coordinators for the coordinators team,
/// communications staff for theirs (a coordinator reaches the
/// communications key through the coordinators key and needs no wrap).
pub fn team_role(team: Team) -> Role {
    match team {
        Team::Coordinators => Role::Coordinator,
        Team::Communications => Role::Communications,
    }
}

/// Whether a user holds a wrap of a team's key: a member.
pub async fn is_member(vault: &Vault, team: Team, user_id: UserId) -> ServiceResult<bool> {
    let uid = user_id.to_string();
    Ok(vault.store().wrap(ObjectKind::Team, team.as_str(), HolderKind::User, &uid).await?.is_some())
}

/// Admit a user to a team: explicitly, by a coordinator, and only an
/// active account whose role matches the team, to its certified key.
/// Never queued, never automatic.
pub async fn admit(vault: &Vault, coordinator: &Actor, team: Team, user_id: UserId) -> ServiceResult<()> {
    let event = coordinator.event(Action::TeamAdmit).as_role(Role::Coordinator).on(user_id);
    let prepared = async {
        let coordinators = coordinators_identity(vault, coordinator).await?;
        let entry = accounts::entry(vault, user_id).await?;
        if !entry.profile.roles.contains(&team_role(team)) {
            return Err(ServiceError::Forbidden(WRONG_TEAM));
        }
        // `certified_key` also refuses any account that is not active.
        let certified = certified_key(vault, &coordinators, user_id).await?;
        let team_secret = team_identity(vault, coordinator, team).await?;
        let uid = user_id.to_string();
        let mut writes = certified.writes;
        writes.push(Write::PutWrap(wrap_row(
            ObjectKind::Team,
            team.as_str(),
            HolderKind::User,
            &uid,
            certified.key_no,
            wrap::wrap(&certified.recipient, &team_secret.to_secret_bytes())?,
        )));
        if team == Team::Coordinators {
            // Removal takes the shelter code names away from a coordinator
            // who is no caseworker; admission gives them back.
            let codes = shared_key_for_team(vault, &coordinators, SharedKey::RegisterCodes).await?;
            writes.push(Write::PutWrap(wrap_row(
                ObjectKind::Shared,
                SharedKey::RegisterCodes.as_str(),
                HolderKind::User,
                &uid,
                certified.key_no,
                wrap::wrap(&certified.recipient, codes.expose())?,
            )));
        }
        Ok(writes)
    }
    .await;
    vault.write(&event, prepared).await
}

/// The users who hold a wrap of a team's key.
pub async fn members(vault: &Vault, team: Team) -> ServiceResult<Vec<UserId>> {
    Ok(vault
        .store()
        .wraps_of_object(ObjectKind::Team, team.as_str())
        .await?
        .into_iter()
        .filter(|w| w.holder_kind == HolderKind::User.as_str())
        .filter_map(|w| UserId::parse(&w.holder_id))
        .collect())
}

async fn admissible(
    vault: &Vault,
    coordinators: &Identity,
    entry: &crate::accounts::directory::Entry,
    team: Team,
    members: &[UserId],
) -> bool {
    entry.profile.state == UserState::Active
        && entry.profile.roles.contains(&team_role(team))
        && !members.contains(&entry.id)
        && certified_key(vault, coordinators, entry.id).await.is_ok()
}

/// Whether a coordinator may admit this user to this team now: an active
/// account, its role matching the team, its key certified, not a member.
pub async fn can_admit(
    vault: &Vault,
    coordinator: &Actor,
    team: Team,
    user_id: UserId,
) -> ServiceResult<bool> {
    let coordinators = coordinators_identity(vault, coordinator).await?;
    let entry = accounts::entry(vault, user_id).await?;
    Ok(admissible(vault, &coordinators, &entry, team, &members(vault, team).await?).await)
}

/// One account as the team page shows it.
#[derive(Debug, Clone)]
pub struct Rostered {
    pub user_id: UserId,
    pub username: String,
    pub roles: crate::accounts::model::Roles,
    pub state: UserState,
    /// The teams whose key this account's wrap opens.
    pub teams: Vec<Team>,
    /// The teams it may be admitted to now.
    pub admissible: Vec<Team>,
}

/// Every account, with its state and teams, for the coordinators.
pub async fn roster(vault: &Vault, coordinator: &Actor) -> ServiceResult<Vec<Rostered>> {
    let event = coordinator.event(Action::UserList).as_role(Role::Coordinator).on("team");
    let result = async {
        let coordinators = coordinators_identity(vault, coordinator).await?;
        let mut members_of = Vec::new();
        for team in Team::ALL {
            members_of.push((team, members(vault, team).await?));
        }
        let mut out = Vec::new();
        for entry in accounts::list_unchecked(vault).await? {
            let mut teams = Vec::new();
            let mut can = Vec::new();
            for (team, members) in &members_of {
                if members.contains(&entry.id) {
                    teams.push(*team);
                } else if admissible(vault, &coordinators, &entry, *team, members).await {
                    can.push(*team);
                }
            }
            out.push(Rostered {
                user_id: entry.id,
                username: entry.profile.username.as_str().to_owned(),
                roles: entry.profile.roles.clone(),
                state: entry.profile.state,
                teams,
                admissible: can,
            });
        }
        Ok(out)
    }
    .await;
    vault.finish(&event, result).await
}

/// Why an account is not admitted: its roles do not match the team.
pub const WRONG_TEAM: &str = "the user's roles do not belong in this team";

/// Why a coordinator may not freeze themselves.
pub const FREEZE_SELF: &str = "a coordinator cannot freeze their own account";

/// Why a coordinator may not leave the coordinators team.
pub const LAST_COORDINATOR: &str = "the last member of the coordinators team cannot leave it";

/// Remove a member from a team: their wrap of the team key is deleted.
/// That is all the power there is: sessions hold only the user key, and
/// every request opens a team key afresh from the member's wrap. A
/// coordinator who is no caseworker also loses the shelter code names.
/// The last member of the coordinators team cannot remove themselves.
pub async fn remove(vault: &Vault, coordinator: &Actor, team: Team, user_id: UserId) -> ServiceResult<()> {
    let event = coordinator.event(Action::TeamRemove).as_role(Role::Coordinator).on(user_id);
    let prepared = async {
        coordinators_identity(vault, coordinator).await?;
        let entry = accounts::entry(vault, user_id).await?;
        let uid = user_id.to_string();
        if !is_member(vault, team, user_id).await? {
            return Err(ServiceError::NotFound);
        }
        if team == Team::Coordinators
            && coordinator.user_id() == user_id
            && members(vault, team).await?.iter().all(|m| *m == user_id)
        {
            return Err(ServiceError::Forbidden(LAST_COORDINATOR));
        }
        let mut writes = vec![Write::DeleteWrap {
            object_kind: ObjectKind::Team,
            object_id: team.as_str().to_owned(),
            holder_kind: HolderKind::User,
            holder_id: uid.clone(),
        }];
        if team == Team::Coordinators && !entry.profile.roles.contains(&Role::Caseworker) {
            writes.push(Write::DeleteWrap {
                object_kind: ObjectKind::Shared,
                object_id: SharedKey::RegisterCodes.as_str().to_owned(),
                holder_kind: HolderKind::User,
                holder_id: uid,
            });
        }
        // Checked again inside the write: someone removed at the same time
        // could otherwise leave the team with no member at all.
        writes.push(Write::RequireTeamHolder { team: Team::Coordinators.as_str().to_owned() });
        Ok(writes)
    }
    .await;
    vault.write(&event, prepared).await.map_err(last_coordinator)
}

/// A write refused because it would leave the coordinators team empty.
fn last_coordinator(e: ServiceError) -> ServiceError {
    match e {
        ServiceError::Conflict => ServiceError::Forbidden(LAST_COORDINATOR),
        other => other,
    }
}

/// Freeze (a caseworker detained, a laptop lost): remove every grant and
/// team membership, void the certification and disable the account, in one
/// transaction. Only a coordinator lifts it, and the key then needs a new
/// certification and fresh assignments.
pub async fn freeze(vault: &Vault, coordinator: &Actor, user_id: UserId) -> ServiceResult<Frozen> {
    let event = coordinator.event(Action::UserFreeze).as_role(Role::Coordinator).on(user_id);
    let prepared = async {
        coordinators_identity(vault, coordinator).await?;
        if coordinator.user_id() == user_id {
            return Err(ServiceError::Forbidden(FREEZE_SELF));
        }
        let entry = accounts::entry(vault, user_id).await?;
        let uid = user_id.to_string();
        let report = held_by(vault, &uid).await?;
        let mut profile = entry.profile.clone();
        profile.state = UserState::Frozen;
        let mut writes = vec![
            Write::DeleteWrapsOfHolder { holder_kind: HolderKind::User, holder_id: uid.clone() },
            Write::DeleteCertification { user_id: uid.clone() },
            Write::DeleteVoucher { user_id: uid.clone() },
            // An activation code handed out before the freeze dies with it.
            Write::DeleteActivationsOf { user_id: uid.clone() },
            accounts::update_profile_write(vault, &entry, &profile)?,
            Write::BumpGeneration { user_id: uid.clone() },
        ];
        // Grants queued for this account (an uncertified key, a reset)
        // would be issued by the next certification: they go too.
        for (case_id, waiting) in vault.store().pending_grants().await? {
            if waiting == uid {
                writes.push(Write::DeletePendingGrant { case_id, user_id: uid.clone() });
            }
        }
        // Two coordinators freezing each other at once: the second finds
        // the team empty and is refused.
        writes.push(Write::RequireTeamHolder { team: Team::Coordinators.as_str().to_owned() });
        Ok((writes, report))
    }
    .await;
    let report = prepared.as_ref().map(|(_, report)| *report).unwrap_or_default();
    vault.write(&event, prepared.map(|(writes, _)| writes)).await.map_err(last_coordinator)?;
    Ok(report)
}

/// What a freeze took away: case grants, team memberships, queued grants.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Frozen {
    pub grants: usize,
    pub teams: usize,
    pub waiting: usize,
}

/// What a freeze of this account would take away, for the confirmation.
pub async fn freeze_preview(vault: &Vault, coordinator: &Actor, user_id: UserId) -> ServiceResult<Frozen> {
    coordinators_identity(vault, coordinator).await?;
    held_by(vault, &user_id.to_string()).await
}

async fn held_by(vault: &Vault, uid: &str) -> ServiceResult<Frozen> {
    let held = vault.store().wraps_of_holder(HolderKind::User, uid).await?;
    let waiting = vault.store().pending_grants().await?.into_iter().filter(|(_, u)| u == uid).count();
    Ok(Frozen {
        grants: held.iter().filter(|w| w.object_kind == ObjectKind::Case.as_str()).count(),
        teams: held.iter().filter(|w| w.object_kind == ObjectKind::Team.as_str()).count(),
        waiting,
    })
}

pub async fn unfreeze(vault: &Vault, coordinator: &Actor, user_id: UserId) -> ServiceResult<()> {
    let event = coordinator.event(Action::UserUnfreeze).as_role(Role::Coordinator).on(user_id);
    let prepared = async {
        coordinators_identity(vault, coordinator).await?;
        let entry = accounts::entry(vault, user_id).await?;
        if entry.profile.state != UserState::Frozen {
            return Ok(Vec::new());
        }
        let mut profile = entry.profile.clone();
        // An account frozen before it was ever activated (or after a
        // reset) has no key: it waits for an administrator's new code.
        let has_key = vault.store().user_key(&user_id.to_string()).await?.is_some();
        profile.state = if has_key { UserState::Active } else { UserState::Pending };
        Ok(vec![accounts::update_profile_write(vault, &entry, &profile)?])
    }
    .await;
    vault.write(&event, prepared).await
}

/// A user waiting for a coordinator, with the grants waiting on them.
#[derive(Debug, Clone)]
pub struct Waiting {
    pub user_id: UserId,
    pub username: String,
    pub fingerprint: Option<String>,
    pub waiting_cases: Vec<String>,
}

/// Active users whose current key is not certified, and the grants queued
/// for them.
pub async fn waiting_for_certification(vault: &Vault, coordinator: &Actor) -> ServiceResult<Vec<Waiting>> {
    let event = coordinator.event(Action::UserList).as_role(Role::Coordinator).on("certification-queue");
    let result = async {
        let coordinators = coordinators_identity(vault, coordinator).await?;
        let pending = vault.store().pending_grants().await?;
        // Every account's key and certification in two reads, not two per
        // account: the queue is on every coordinator's home.
        let keys: std::collections::HashMap<String, crate::storage::UserKeyRow> =
            vault.store().current_user_keys().await?.into_iter().map(|k| (k.user_id.clone(), k)).collect();
        let certs: std::collections::HashMap<String, crate::storage::CertificationRow> =
            vault.store().certifications().await?.into_iter().map(|c| (c.user_id.clone(), c)).collect();
        let mut out = Vec::new();
        for entry in accounts::list_unchecked(vault).await? {
            // Only roles that hold case or team keys need a certified key.
            let needs_key = [Role::Caseworker, Role::Coordinator, Role::Communications]
                .iter()
                .any(|r| entry.profile.roles.contains(r));
            if entry.profile.state != UserState::Active || !needs_key {
                continue;
            }
            let uid = entry.id.to_string();
            let (key, cert) = (keys.get(&uid), certs.get(&uid));
            if check_certified(vault, &coordinators, &uid, entry.profile.state, key, cert).await.is_ok() {
                continue;
            }
            out.push(Waiting {
                user_id: entry.id,
                username: entry.profile.username.as_str().to_owned(),
                fingerprint: key.and_then(|k| k.recipient.parse::<Recipient>().ok()).map(|r| fingerprint(&r)),
                waiting_cases: pending.iter().filter(|(_, u)| *u == uid).map(|(c, _)| c.clone()).collect(),
            });
        }
        Ok(out)
    }
    .await;
    vault.finish(&event, result).await
}

/// What a coordinator's request did on behalf of others.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct FoldReport {
    pub recertified: usize,
    pub grants_issued: usize,
    pub inbox_applied: usize,
    pub inbox_refused: usize,
    pub aid_applied: usize,
    pub aid_refused: usize,
}

/// The work a coordinator's request does for others: re-certify vouched
/// keys, issue grants waiting on certified keys, fold the index and aid inboxes. The
/// writes go into that request's own audited commit; folding is not an
/// entry of its own.
pub async fn prepare_fold(vault: &Vault, coordinators: &Identity) -> ServiceResult<(FoldReport, Vec<Write>)> {
    let mut report = FoldReport::default();
    let mut writes = Vec::new();
    for voucher in vault.store().vouchers().await? {
        let Some(user_id) = UserId::parse(&voucher.user_id) else { continue };
        if let Ok(certified) = certified_key(vault, coordinators, user_id).await {
            if !certified.writes.is_empty() {
                report.recertified += 1;
                writes.extend(certified.writes);
            }
        }
    }
    let mut seen = std::collections::BTreeSet::new();
    for (_, user) in vault.store().pending_grants().await? {
        if !seen.insert(user.clone()) {
            continue;
        }
        let Some(user_id) = UserId::parse(&user) else { continue };
        if let Ok(certified) = certified_key(vault, coordinators, user_id).await {
            let grants =
                issue_pending_for(vault, coordinators, user_id, &certified.recipient, certified.key_no)
                    .await?;
            report.grants_issued += grants.iter().filter(|w| matches!(w, Write::PutWrap(_))).count();
            writes.extend(grants);
        }
    }
    let (applied, refused, inbox_writes) = crate::cases::index::fold_inbox(vault, coordinators).await?;
    report.inbox_applied = applied;
    report.inbox_refused = refused;
    writes.extend(inbox_writes);
    let (applied, refused, aid_writes) =
        crate::programmes::aid::service::fold_inbox(vault, coordinators).await?;
    report.aid_applied = applied;
    report.aid_refused = refused;
    writes.extend(aid_writes);
    Ok((report, writes))
}

/// The keys of a new instance: the two team identities and the shared keys,
/// wrapped to the first coordinator (already activated), to the recovery
/// recipients, and to each other as the design says; and the first
/// coordinator's certification.
pub async fn bootstrap_writes(
    vault: &Vault,
    first: &Actor,
    coordinators: &Identity,
    communications: &Identity,
) -> ServiceResult<Vec<Write>> {
    let trust = vault.keyring.trust();
    let uid = first.user_id().to_string();
    let own = first.identity().recipient();
    let mut writes = Vec::new();
    for (team, identity) in [(Team::Coordinators, coordinators), (Team::Communications, communications)] {
        let secret = identity.to_secret_bytes();
        writes.push(Write::PutWrap(wrap_row(
            ObjectKind::Team,
            team.as_str(),
            HolderKind::User,
            &uid,
            first.key_no(),
            wrap::wrap(&own, &secret)?,
        )));
        for recovery in &trust.recovery {
            writes.push(Write::PutWrap(wrap_row(
                ObjectKind::Team,
                team.as_str(),
                HolderKind::Recovery,
                &recovery.to_string(),
                0,
                wrap::wrap(recovery, &secret)?,
            )));
        }
    }
    writes.push(Write::PutWrap(wrap_row(
        ObjectKind::Team,
        Team::Communications.as_str(),
        HolderKind::Team,
        Team::Coordinators.as_str(),
        0,
        wrap::wrap(&trust.coordinators, &communications.to_secret_bytes())?,
    )));
    for shared in SharedKey::ALL {
        let key = Key32::random();
        writes.push(Write::PutWrap(wrap_row(
            ObjectKind::Shared,
            shared.as_str(),
            HolderKind::Team,
            Team::Coordinators.as_str(),
            0,
            wrap::wrap(&trust.coordinators, key.expose())?,
        )));
        if shared == SharedKey::RegisterCodes {
            writes.push(Write::PutWrap(wrap_row(
                ObjectKind::Shared,
                shared.as_str(),
                HolderKind::User,
                &uid,
                first.key_no(),
                wrap::wrap(&own, key.expose())?,
            )));
        }
    }
    writes.extend(certification_writes(vault, coordinators, &uid, &own, first.key_no()).await?);
    Ok(writes)
}

/// The caseworkers a coordinator can assign, by username.
pub async fn caseworkers(vault: &Vault, coordinator: &Actor) -> ServiceResult<Vec<(UserId, String)>> {
    coordinators_identity(vault, coordinator).await?;
    Ok(accounts::list_unchecked(vault)
        .await?
        .into_iter()
        .filter(|e| e.profile.roles.contains(&Role::Caseworker) && e.profile.state == UserState::Active)
        .map(|e| (e.id, e.profile.username.as_str().to_owned()))
        .collect())
}

/// Who holds a grant to a case, and who waits for one, by username.
pub async fn case_assignees(
    vault: &Vault,
    coordinator: &Actor,
    case_id: CaseId,
) -> ServiceResult<(Vec<(UserId, String)>, Vec<(UserId, String)>)> {
    coordinators_identity(vault, coordinator).await?;
    let cid = case_id.to_string();
    let names = |ids: Vec<UserId>| async move {
        let mut out = Vec::new();
        for id in ids {
            if let Ok(entry) = accounts::entry(vault, id).await {
                out.push((id, entry.profile.username.as_str().to_owned()));
            }
        }
        out
    };
    let holders = crate::cases::index::assignees(vault, &cid).await?;
    let waiting: Vec<UserId> = vault
        .store()
        .pending_grants()
        .await?
        .into_iter()
        .filter(|(c, _)| *c == cid)
        .filter_map(|(_, u)| UserId::parse(&u))
        .collect();
    Ok((names(holders).await, names(waiting).await))
}

/// For a caseworker: who holds a case they hold themselves (themselves
/// included), by username. Only a holder of the case may ask: the check is
/// their own current grant, as for reading the case, and anyone else gets
/// `NotFound`, as for a case that does not exist.
pub async fn co_assignees(
    vault: &Vault,
    caseworker: &Actor,
    case_id: CaseId,
) -> ServiceResult<Vec<(UserId, String)>> {
    let cid = case_id.to_string();
    let own = vault
        .store()
        .wrap(ObjectKind::Case, &cid, HolderKind::User, &caseworker.user_id().to_string())
        .await?
        .filter(|row| row.key_no == caseworker.key_no());
    if !caseworker.has(Role::Caseworker) || own.is_none() {
        return Err(ServiceError::NotFound);
    }
    let mut out = Vec::new();
    for id in crate::cases::index::assignees(vault, &cid).await? {
        if let Ok(entry) = accounts::entry(vault, id).await {
            out.push((id, entry.profile.username.as_str().to_owned()));
        }
    }
    out.sort_by(|a, b| a.1.cmp(&b.1));
    Ok(out)
}

/// For a coordinator: the usernames of the given accounts (the case list's
/// assignee column, a case's history). Accounts that do not exist are
/// left out.
pub async fn usernames(
    vault: &Vault,
    coordinator: &Actor,
    ids: &[UserId],
) -> ServiceResult<std::collections::BTreeMap<UserId, String>> {
    coordinators_identity(vault, coordinator).await?;
    let mut out = std::collections::BTreeMap::new();
    for id in ids {
        if out.contains_key(id) {
            continue;
        }
        if let Ok(entry) = accounts::entry(vault, *id).await {
            out.insert(*id, entry.profile.username.as_str().to_owned());
        }
    }
    Ok(out)
}
