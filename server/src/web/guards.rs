//! The request guards, in one place: who is logged in (`CurrentUser`,
//! `EnrollingUser`), the form's CSRF token, recent authentication before a
//! sensitive action. A capability's routes use these and their own service,
//! never another capability's routes.
//!
//! `CurrentUser` checks, on every request, the idle and absolute lifetimes,
//! the user's session generation, the lockdown epoch and the account's
//! state, then opens the user key from the session's sealed column. Any
//! failure ends the session.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Redirect, Response};
use tower_sessions::Session;

use super::AppState;
use super::error::AppError;
use crate::accounts::directory;
use crate::accounts::model::{Actor, Role, UserState};
use crate::crypto::Identity;
use crate::sessions::auth::{AUTH_KEY, AuthState, CSRF_KEY};
use crate::web::templates::{Nav, NavSlot};

/// A logged-in, enrolled user: their actor (with the user key opened from
/// the session), the session's auth state, the session and its CSRF token.
pub struct CurrentUser {
    pub actor: Actor,
    pub auth: AuthState,
    pub session: Session,
    pub csrf: String,
    /// Whether the user's current key is certified, for the pages to say
    /// so (the services check it again where it matters).
    pub certified: bool,
    /// Whether the coordinators team key opened with the user's key in this
    /// request: what every coordinator power needs besides the role.
    pub coordinators_team: bool,
    /// The zone pages show this user times in (see `web::when`): their
    /// own choice, else the organisation's.
    pub(crate) zone: time::UtcOffset,
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
    // One statement, one snapshot: lockdown, generation, the directory
    // row, the current key's recipient and the certification's key numbers.
    let facts = state.vault.store().session_facts(&auth.user_id.to_string()).await?;
    // A lockdown seen here drops this node's in-memory index at once.
    state.vault.index_cache.observe_lockdown(facts.lockdown_epoch, facts.locked).await;
    if facts.locked || facts.lockdown_epoch != auth.epoch || facts.generation != auth.generation {
        return Err(end(&session).await);
    }
    let Some(row) = facts.user.as_ref() else { return Err(AppError::LoginRequired) };
    let entry = directory::open_entry(&state.vault.keyring, row).map_err(|_| AppError::LoginRequired)?;
    if entry.id != auth.user_id || entry.profile.state != UserState::Active {
        return Err(end(&session).await);
    }
    if auth.enrolling && !allow_enrolling {
        return Err(AppError::EnrolmentRequired);
    }
    let Some(id) = session.id() else { return Err(end(&session).await) };
    let Some(identity) = state.sessions.user_key(&id).await? else { return Err(end(&session).await) };
    if identity.recipient().to_string() != facts.recipient.unwrap_or_default() {
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
    // The rule of `membership::is_self_certified`, on the facts read above:
    // a certification of this very key, or a certification and a voucher
    // for this key (a password change carried the certification over).
    let key_no = actor.key_no();
    let certified = needs_key
        && (facts.certified_key_no == Some(key_no)
            || (facts.certified_key_no.is_some() && facts.vouched_key_no == Some(key_no)));
    // One unwrap, for coordinators only: the route's access check, the menu
    // and the handler's services all use the key it opens.
    let opened =
        if certified && actor.has(Role::Coordinator) { coordinators_key(state, &actor).await? } else { None };
    let coordinators_team = opened.is_some();
    let actor = match opened {
        Some(identity) => actor.with_coordinators(identity),
        None => actor,
    };
    let zone = entry.profile.zone.map_or(state.display_zone, |z| z.offset());
    // The user's own language, for the rest of this request (before the
    // handler runs, so its page and any error page are in it).
    if let Some(lang) = entry.profile.lang {
        crate::i18n::choose(lang);
    }
    let user = CurrentUser { actor, auth, session, csrf, certified, coordinators_team, zone };
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

/// The coordinators team key, if the user is a member of that team: it
/// opens with their own user key, now. The coordinator role alone is not
/// membership (an account made with the role, never certified nor admitted).
async fn coordinators_key(state: &AppState, actor: &Actor) -> Result<Option<Identity>, AppError> {
    match crate::membership::coordinators_identity(&state.vault, actor).await {
        Ok(identity) => Ok(Some(identity)),
        Err(crate::error::ServiceError::Forbidden(_)) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// Compare a form's token with the session's, in constant time.
pub fn check_csrf(user: &CurrentUser, token: &str) -> Result<(), AppError> {
    if crate::crypto::mac_verify_tag(user.csrf.as_bytes(), token.as_bytes()) {
        Ok(())
    } else {
        Err(AppError::CrossSite)
    }
}

/// A redirect to the password prompt, if the user has not entered their
/// password recently; `None` when they may go on.
pub fn require_recent(state: &AppState, user: &CurrentUser, back_to: &str) -> Option<Response> {
    (!user.recently_authenticated(state))
        .then(|| Redirect::to(&format!("/reauth?next={back_to}")).into_response())
}
