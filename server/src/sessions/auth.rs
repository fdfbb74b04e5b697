//! A logged-in session's state: what the session's sealed data map holds,
//! how a login starts a session and how a password change carries it over.
//! The `CurrentUser` guard that checks it on every request is the web
//! layer's (`web::guards`).

use serde::{Deserialize, Serialize};
use tower_sessions::Session;

use crate::accounts::model::Actor;
use crate::ids::UserId;
use crate::web::AppState;
use crate::web::error::AppError;
use crate::web::guards::CurrentUser;

/// The session's data map holds this (and the CSRF token), never the key.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct AuthState {
    pub user_id: UserId,
    pub key_no: i64,
    pub generation: i64,
    pub epoch: i64,
    pub created_at: i64,
    pub last_seen: i64,
    /// When the password (or a code) was last checked: re-authentication.
    pub authenticated_at: i64,
    /// Logged in without a confirmed second factor: enrolment only.
    pub enrolling: bool,
    /// Failed codes to show once after this login.
    pub failed_codes: i64,
}

pub const AUTH_KEY: &str = "auth";
pub const CSRF_KEY: &str = "csrf";

/// Start a logged-in session: a fresh id, the auth state and a CSRF token
/// in the (sealed) data map, the user key in its own sealed column.
pub async fn begin(
    state: &AppState,
    session: &Session,
    actor: &Actor,
    enrolling: bool,
    failed_codes: i64,
) -> Result<(), AppError> {
    let store = state.vault.store();
    let (epoch, locked) = store.lockdown().await?;
    if locked {
        return Err(AppError::Forbidden);
    }
    let generation = store.generation(&actor.user_id().to_string()).await?;
    let now = state.vault.clock.now().unix_timestamp();
    // A fresh session id at login: a planted id is worthless.
    session.cycle_id().await?;
    let auth = AuthState {
        user_id: actor.user_id(),
        key_no: actor.key_no(),
        generation,
        epoch,
        created_at: now,
        last_seen: now,
        authenticated_at: now,
        enrolling,
        failed_codes,
    };
    session.insert(AUTH_KEY, &auth).await?;
    session.insert(CSRF_KEY, crate::audit::model::new_request_id()).await?;
    session.save().await?;
    let id = session.id().ok_or_else(|| AppError::Internal("session without id".into()))?;
    state.sessions.attach(&id, actor.user_id(), actor.identity()).await?;
    if enrolling && crate::accounts::totp::pending(&state.vault, actor.user_id()).await?.is_none() {
        // The secret is made here, in a POST, so the enrolment page's GET
        // changes nothing.
        let (_, write) = crate::accounts::totp::begin(&state.vault, actor.user_id()).await?;
        state.vault.store().apply(vec![write]).await?;
    }
    Ok(())
}

/// After the user's key changed in this session's own request (password
/// change): carry this session over to the new key and generation.
pub async fn rebind(state: &AppState, user: &CurrentUser, actor: &Actor) -> Result<(), AppError> {
    let mut auth = user.auth.clone();
    auth.key_no = actor.key_no();
    auth.generation = state.vault.store().generation(&actor.user_id().to_string()).await?;
    auth.authenticated_at = state.vault.clock.now().unix_timestamp();
    user.session.insert(AUTH_KEY, &auth).await?;
    user.session.save().await?;
    let id = user.session.id().ok_or_else(|| AppError::Internal("session without id".into()))?;
    state.sessions.attach(&id, actor.user_id(), actor.identity()).await?;
    Ok(())
}
