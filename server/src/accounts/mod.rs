//! Accounts: the sealed user directory, user keys sealed under passwords and
//! recovery codes, activation, unlocking, password change and reset.

pub mod admin_routes;
pub mod directory;
pub mod login;
pub mod model;
pub mod routes;
pub mod service;
pub mod totp;
pub mod userkey;

pub use model::{Actor, Password, Profile, Role, Roles, UserState, Username};
