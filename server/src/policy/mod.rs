//! Who may use which route, in one place. The route table (`web::routes`)
//! names an `Access` for every route; the router enforces it before any
//! handler runs, and the permission test walks the same table. Object-level
//! checks (which case) are the services' and the keys': a case the user may
//! not see is answered exactly like one that does not exist.

use crate::accounts::model::{Role, Roles};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Anyone, logged in or not (login, activation, static files).
    Public,
    /// A logged-in user who may still be enrolling their second factor.
    Enrolling,
    /// Any logged-in, enrolled user.
    Authenticated,
    /// A logged-in user holding at least one of these roles.
    AnyOf(&'static [Role]),
    /// A coordinator who is a member of the coordinators team: the team key
    /// opened with their own user key in this request. The role alone (an
    /// account the administrator made, never certified nor admitted) is not
    /// enough for any coordinator power.
    CoordinatorsTeam,
    /// A logged-in user holding one of these roles, or a coordinators-team
    /// member (casework; the bulk-reading flags).
    AnyOfOrTeam(&'static [Role]),
}

/// What the route check learnt of a logged-in user.
#[derive(Debug, Clone, Copy)]
pub struct Standing<'a> {
    pub roles: &'a Roles,
    /// The coordinators team key opened with the user's key in this request.
    pub coordinators_team: bool,
}

impl Access {
    /// Whether a logged-in user of this standing may use the route.
    pub fn permits(&self, who: Standing<'_>) -> bool {
        match self {
            Access::Public | Access::Enrolling | Access::Authenticated => true,
            Access::AnyOf(allowed) => allowed.iter().any(|r| who.roles.contains(r)),
            Access::CoordinatorsTeam => who.roles.contains(&Role::Coordinator) && who.coordinators_team,
            Access::AnyOfOrTeam(allowed) => {
                allowed.iter().any(|r| who.roles.contains(r))
                    || (who.roles.contains(&Role::Coordinator) && who.coordinators_team)
            }
        }
    }
}

pub const ADMIN: &[Role] = &[Role::Admin];
pub const AUDITOR: &[Role] = &[Role::Auditor];
/// Who works on cases: caseworkers and coordinators-team members;
/// communications staff never reach a case, by any route.
pub const CASEWORK: Access = Access::AnyOfOrTeam(&[Role::Caseworker]);
/// Bulk-reading flags: auditors and coordinators-team members.
pub const FLAGS: Access = Access::AnyOfOrTeam(AUDITOR);
/// Approved stories, figures and their exports: communications staff and
/// coordinators-team members (the service also opens the communications
/// key, so the role alone shows nothing).
pub const PUBLICATIONS: Access = Access::AnyOfOrTeam(&[Role::Communications]);

#[cfg(test)]
mod tests {
    use super::*;

    fn who(roles: &Roles, coordinators_team: bool) -> Standing<'_> {
        Standing { roles, coordinators_team }
    }

    #[test]
    fn any_of_is_the_union_of_roles() {
        let both: Roles = [Role::Caseworker, Role::Auditor].into();
        assert!(Access::AnyOf(&[Role::Auditor]).permits(who(&both, false)));
        assert!(!Access::AnyOf(ADMIN).permits(who(&both, false)));
        assert!(Access::Authenticated.permits(who(&Roles::new(), false)));
    }

    #[test]
    fn coordinator_powers_need_the_team_as_well_as_the_role() {
        let coordinator: Roles = [Role::Coordinator].into();
        let caseworker: Roles = [Role::Caseworker].into();
        let auditor: Roles = [Role::Auditor].into();
        assert!(Access::CoordinatorsTeam.permits(who(&coordinator, true)));
        assert!(!Access::CoordinatorsTeam.permits(who(&coordinator, false)));
        // The team flag is only ever set for a coordinator; the role is checked anyway.
        assert!(!Access::CoordinatorsTeam.permits(who(&caseworker, true)));
        assert!(FLAGS.permits(who(&auditor, false)));
        assert!(FLAGS.permits(who(&coordinator, true)));
        assert!(!FLAGS.permits(who(&coordinator, false)));
        assert!(!FLAGS.permits(who(&caseworker, true)));
        assert!(CASEWORK.permits(who(&caseworker, false)));
        assert!(!CASEWORK.permits(who(&coordinator, false)));
        assert!(CASEWORK.permits(who(&coordinator, true)));
    }
}
