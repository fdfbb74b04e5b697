//! Who is logged in: the `CurrentUser` extractor checks, on every request,
//! the idle and absolute lifetimes, the user's session generation, the
//! lockdown epoch and the account's state, then opens the user key from the
//! session's sealed column. Any failure ends the session.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use serde::{Deserialize, Serialize};
use tower_sessions::Session;

use crate::accounts::model::{Actor, Role, UserState};
use crate::accounts::service as accounts;
use crate::ids::UserId;
use crate::web::AppState;
use crate::web::error::AppError;
use crate::web::templates::{Nav, NavSlot};

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

pub struct CurrentUser {
    pub actor: Actor,
    pub auth: AuthState,
    pub session: Session,
    pub csrf: String,
    /// Whether the user's current key is certified, for the pages to say
    /// so (the services check it again where it matters).
    pub certified: bool,
}

/// A logged-in user who may still be enrolling their second factor.
pub struct EnrollingUser(pub CurrentUser);

impl CurrentUser {
    /// Whether the password or a code was checked within the re-auth window.
    pub fn recently_authenticated(&self, state: &AppState) -> bool {
        let now = state.vault.clock.now().unix_timestamp();
        now - self.auth.authenticated_at <= state.policy.reauth.whole_seconds()
    }
}

async fn current(
    parts: &mut Parts,
    state: &AppState,
    allow_enrolling: bool,
) -> Result<CurrentUser, AppError> {
    let session = Session::from_request_parts(parts, state).await.map_err(|_| AppError::LoginRequired)?;
    let auth: AuthState = session.get(AUTH_KEY).await.ok().flatten().ok_or(AppError::LoginRequired)?;
    let end = async |session: &Session| {
        let _ = session.flush().await;
        AppError::LoginRequired
    };
    let now = state.vault.clock.now().unix_timestamp();
    let policy = &state.policy;
    if now - auth.created_at > policy.absolute.whole_seconds()
        || now - auth.last_seen > policy.idle.whole_seconds()
    {
        return Err(end(&session).await);
    }
    let store = state.vault.store();
    let uid = auth.user_id.to_string();
    let (epoch, locked) = store.lockdown().await?;
    if locked || epoch != auth.epoch || store.generation(&uid).await? != auth.generation {
        return Err(end(&session).await);
    }
    let entry = accounts::entry(&state.vault, auth.user_id).await.map_err(|_| AppError::LoginRequired)?;
    if entry.profile.state != UserState::Active {
        return Err(end(&session).await);
    }
    if auth.enrolling && !allow_enrolling {
        return Err(AppError::EnrolmentRequired);
    }
    let Some(id) = session.id() else { return Err(end(&session).await) };
    let Some(identity) = state.sessions.user_key(&id).await? else { return Err(end(&session).await) };
    if identity.recipient().to_string()
        != store.user_key(&uid).await?.map(|k| k.recipient).unwrap_or_default()
    {
        // The key changed (password changed elsewhere): this session is stale.
        return Err(end(&session).await);
    }
    let csrf: String = session.get(CSRF_KEY).await.ok().flatten().ok_or(AppError::LoginRequired)?;
    let mut auth = auth;
    if now - auth.last_seen >= 60 {
        auth.last_seen = now;
        session.insert(AUTH_KEY, &auth).await.map_err(|_| AppError::LoginRequired)?;
    }
    let request_id = parts.extensions.get::<crate::web::RequestId>().map(|r| r.0.clone()).unwrap_or_default();
    let actor =
        Actor::new(auth.user_id, entry.profile.roles, auth.key_no, identity).with_request_id(&request_id);
    let needs_key = [Role::Caseworker, Role::Coordinator, Role::Communications].iter().any(|r| actor.has(*r));
    let certified = needs_key && crate::membership::is_self_certified(&state.vault, &actor).await?;
    let user = CurrentUser { actor, auth, session, csrf, certified };
    // Checked in full above: an error page for this request may show the menu.
    if let Some(slot) = parts.extensions.get::<NavSlot>() {
        slot.fill(if user.auth.enrolling { Nav::enrolling(&user.csrf) } else { Nav::of(&user) });
    }
    Ok(user)
}

/// The user the route's access check already loaded, handed on to the
/// handler so a request checks its session once, not twice.
#[derive(Clone)]
pub(crate) struct Checked(std::sync::Arc<std::sync::Mutex<Option<CurrentUser>>>);

impl Checked {
    pub(crate) fn new(user: CurrentUser) -> Self {
        Self(std::sync::Arc::new(std::sync::Mutex::new(Some(user))))
    }
}

/// Take the checked user, if the access check left one (and, for a handler
/// that needs an enrolled user, if it is not mid-enrolment).
fn take_checked(parts: &Parts, allow_enrolling: bool) -> Option<CurrentUser> {
    let checked = parts.extensions.get::<Checked>()?;
    let mut slot = checked.0.lock().ok()?;
    if slot.as_ref().is_some_and(|u| allow_enrolling || !u.auth.enrolling) { slot.take() } else { None }
}

impl FromRequestParts<AppState> for CurrentUser {
    type Rejection = AppError;
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        match take_checked(parts, false) {
            Some(user) => Ok(user),
            None => current(parts, state, false).await,
        }
    }
}

impl FromRequestParts<AppState> for EnrollingUser {
    type Rejection = AppError;
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        match take_checked(parts, true) {
            Some(user) => Ok(EnrollingUser(user)),
            None => current(parts, state, true).await.map(EnrollingUser),
        }
    }
}

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
