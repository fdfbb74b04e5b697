//! `safehouse routes`: the route table as JSON lines, one route a line:
//! method, path and which roles may use it. The attack battery
//! (`scripts/attack`) sweeps every route of it for every role; an operator
//! can read it to set a reverse proxy's allow list.

use anyhow::Result;
use serde::Serialize;

use crate::accounts::model::{Role, Roles};
use crate::policy::{Access, Standing};
use crate::web::routes;

#[derive(Serialize)]
struct Line {
    method: String,
    path: &'static str,
    /// `public`, `enrolling` (a session not yet past its second factor),
    /// or `roles`: only the roles in `roles` pass.
    access: &'static str,
    /// The roles a user holding only that role may use it with: a
    /// coordinator counted as a member of the coordinators team.
    roles: Vec<&'static str>,
}

pub fn run() -> Result<()> {
    for route in routes::table() {
        let roles = Role::ALL
            .into_iter()
            .filter(|role| {
                let held = Roles::from_iter([*role]);
                route.access.permits(Standing { roles: &held, coordinators_team: *role == Role::Coordinator })
            })
            .map(Role::as_str)
            .collect();
        let access = match route.access {
            Access::Public => "public",
            Access::Enrolling => "enrolling",
            _ => "roles",
        };
        let line = Line { method: route.method.to_string(), path: route.path, access, roles };
        println!("{}", serde_json::to_string(&line)?);
    }
    Ok(())
}
