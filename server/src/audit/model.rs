use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::accounts::model::Role;
use crate::error::ServiceError;
use crate::ids::UserId;
use crate::storage::AuditRow;

macro_rules! actions {
    ($($variant:ident => $code:literal,)+) => {
        /// What an entry records: a closed list.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Action { $($variant,)+ }

        impl Action {
            pub const ALL: &'static [Action] = &[$(Action::$variant,)+];

            pub fn as_str(self) -> &'static str {
                match self { $(Action::$variant => $code,)+ }
            }

            pub fn parse(code: &str) -> Option<Action> {
                match code { $($code => Some(Action::$variant),)+ _ => None }
            }
        }
    };
}

actions! {
    InstanceInit => "instance.init",
    CaseRead => "case.read",
    CaseList => "case.list",
    CaseSearch => "case.search",
    CaseCreate => "case.create",
    CaseUpdate => "case.update",
    CaseAssign => "case.assign",
    CaseUnassign => "case.unassign",
    MilestoneAdd => "milestone.add",
    MilestoneEdit => "milestone.edit",
    // A purge and its request name the case; a purge keeps every entry.
    CasePurge => "case.purge",
    CasePurgeRequest => "case.purge_request",
    // Operations from the command line: a backup taken, a restore made,
    // a key rotated (the target names the key, never a case).
    BackupCreate => "backup.create",
    BackupRestore => "backup.restore",
    KeyRotate => "key.rotate",
    KeyCertify => "key.certify",
    TeamAdmit => "team.admit",
    TeamRemove => "team.remove",
    UserCreate => "user.create",
    UserActivate => "user.activate",
    UserList => "user.list",
    UserDisable => "user.disable",
    UserEnable => "user.enable",
    UserFreeze => "user.freeze",
    UserUnfreeze => "user.unfreeze",
    PasswordChange => "password.change",
    PasswordReset => "password.reset",
    TotpEnrol => "totp.enrol",
    TotpReset => "totp.reset",
    // A user chose the zone their pages show times in.
    ZoneChange => "account.zone",
    // A user chose the language of their pages.
    LanguageChange => "account.language",
    Logout => "logout",
    RecoveryCodeUse => "recovery_code.use",
    ShelterCreate => "shelter.create",
    ShelterUpdate => "shelter.update",
    ShelterList => "shelter.list",
    RecoveryExport => "recovery.export",
    RecoveryImport => "recovery.import",
    // Stories and figures: their entries name a story, a draft or a table
    // by its own random id, never a case, and have a request id of their own.
    StoryDraft => "story.draft",
    StoryApprove => "story.approve",
    StoryReject => "story.reject",
    StoryWithdraw => "story.withdraw",
    StoryRead => "story.read",
    FiguresApprove => "figures.approve",
    FiguresRead => "figures.read",
    // Programmes: aid entries name their shelter; the annual report its
    // own random id, with a request id of its own like the figures.
    AidRecord => "aid.record",
    AidCorrect => "aid.correct",
    AidRead => "aid.read",
    AidKindAdd => "aid.kind_add",
    ReportApprove => "report.approve",
    ReportRead => "report.read",
    Export => "export",
    LoginOk => "login.ok",
    LoginFail => "login.fail",
    Reauth => "reauth",
    SessionRevoke => "session.revoke",
    Lockdown => "lockdown",
    // A route refused a logged-in user; the target is the route's pattern.
    RouteDenied => "route.denied",
    AuditRead => "audit.read",
    AuditVerify => "audit.verify",
    FlagBulkRead => "flag.bulk_read",
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Ok,
    /// Refused: no such record, not allowed, not certified, bad login.
    Denied,
    /// Someone else changed the record first.
    Conflict,
    /// The input was rejected.
    Invalid,
    Error,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Ok => "ok",
            Outcome::Denied => "denied",
            Outcome::Conflict => "conflict",
            Outcome::Invalid => "invalid",
            Outcome::Error => "error",
        }
    }

    pub fn of<T>(result: &Result<T, ServiceError>) -> Outcome {
        match result {
            Ok(_) => Outcome::Ok,
            Err(
                ServiceError::NotFound
                | ServiceError::Forbidden(_)
                | ServiceError::Uncertified
                | ServiceError::BadLogin,
            ) => Outcome::Denied,
            Err(ServiceError::Conflict) => Outcome::Conflict,
            Err(ServiceError::Invalid(_)) => Outcome::Invalid,
            Err(_) => Outcome::Error,
        }
    }
}

/// Who did what to which record, in which request. Opaque ids only.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    pub actor: Option<UserId>,
    pub role: Option<Role>,
    pub action: Action,
    pub target: Option<String>,
    pub request_id: String,
}

impl Event {
    pub fn system(action: Action, request_id: &str) -> Event {
        Event { actor: None, role: None, action, target: None, request_id: request_id.to_owned() }
    }

    pub fn on(mut self, target: impl ToString) -> Event {
        self.target = Some(target.to_string());
        self
    }

    pub fn as_role(mut self, role: Role) -> Event {
        self.role = Some(role);
        self
    }

    pub fn row(&self, outcome: Outcome, at: OffsetDateTime) -> AuditRow {
        AuditRow {
            seq: 0,
            at: at.to_offset(time::UtcOffset::UTC).format(&Rfc3339).unwrap_or_default(),
            actor: self.actor.map(|a| a.to_string()).unwrap_or_else(|| "-".to_owned()),
            role: self.role.map_or("-", Role::as_str).to_owned(),
            action: self.action.as_str().to_owned(),
            target: self.target.clone().unwrap_or_default(),
            outcome: outcome.as_str().to_owned(),
            request_id: self.request_id.clone(),
            prev_mac: Vec::new(),
            mac: Vec::new(),
        }
    }
}

/// A fresh request id: 128 random bits in hex. Shown on error pages and in
/// the log, so an operator can find a request without seeing its content.
pub fn new_request_id() -> String {
    use rand::RngCore;
    let mut bytes = [0u8; 16];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    crate::crypto::to_hex(&bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn action_codes_round_trip_and_are_unique() {
        let mut seen = std::collections::HashSet::new();
        for action in Action::ALL {
            assert!(seen.insert(action.as_str()), "duplicate {}", action.as_str());
            assert_eq!(Action::parse(action.as_str()), Some(*action));
        }
    }
}
