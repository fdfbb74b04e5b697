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
}

impl Access {
    /// Whether a logged-in user with `roles` may use the route.
    pub fn permits(&self, roles: &Roles) -> bool {
        match self {
            Access::Public | Access::Enrolling | Access::Authenticated => true,
            Access::AnyOf(allowed) => allowed.iter().any(|r| roles.contains(r)),
        }
    }
}

pub const ADMIN: &[Role] = &[Role::Admin];
pub const COORDINATOR: &[Role] = &[Role::Coordinator];
/// Who works on cases: communications staff never reach a case, by any route.
pub const CASEWORK: &[Role] = &[Role::Coordinator, Role::Caseworker];
pub const AUDITOR: &[Role] = &[Role::Auditor];
/// Bulk-reading flags: auditors and coordinators.
pub const FLAGS: &[Role] = &[Role::Auditor, Role::Coordinator];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn any_of_is_the_union_of_roles() {
        let both: Roles = [Role::Caseworker, Role::Auditor].into();
        assert!(Access::AnyOf(&[Role::Auditor]).permits(&both));
        assert!(!Access::AnyOf(ADMIN).permits(&both));
        assert!(Access::Authenticated.permits(&Roles::new()));
    }
}
