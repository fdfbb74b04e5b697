//! Sessions: tower-sessions over a sealed store. The store never sees the
//! cookie, only tower-sessions' id, from which it derives two keys with
//! separate HKDF labels: the row key (stored) and the seal key (never
//! stored). A stolen sessions file holds no id, no cookie and nothing
//! readable; a live cookie is needed to open a row.

pub mod auth;
pub mod routes;
pub mod service;
pub mod store;

pub use auth::AuthState;
pub use store::{SealedStore, SessionsAt};

/// The session cookie's name: `__Host-` binds it to this origin, Secure,
/// path `/`, no Domain.
pub const COOKIE_NAME: &str = "__Host-safehouse";
