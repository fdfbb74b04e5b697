//! Ending sessions: log out everywhere, and lockdown.

use crate::accounts::model::{Actor, Role};
use crate::audit::model::new_request_id;
use crate::audit::{Action, Event};
use crate::error::{ServiceError, ServiceResult};
use crate::storage::Write;
use crate::vault::Vault;

use super::SealedStore;

/// End every session of the actor (this one included).
pub async fn log_out_everywhere(vault: &Vault, sessions: &SealedStore, actor: &Actor) -> ServiceResult<()> {
    let event = actor.event(Action::SessionRevoke).on(actor.user_id());
    vault.commit(&event, vec![Write::BumpGeneration { user_id: actor.user_id().to_string() }]).await?;
    sessions.delete_owner(actor.user_id()).await.map_err(|_| ServiceError::Internal("sessions store"))?;
    Ok(())
}

/// Lockdown: every session ends now and no one logs in until it is lifted
/// from the command line. A coordinator's action, or the command line's.
pub async fn lock_down(vault: &Vault, sessions: &SealedStore, by: Option<&Actor>) -> ServiceResult<()> {
    let event = match by {
        Some(actor) => {
            let event = actor.event(Action::Lockdown).as_role(Role::Coordinator);
            if !actor.has(Role::Coordinator) {
                return vault.finish(&event, Err(ServiceError::Forbidden("coordinators only"))).await;
            }
            event
        }
        None => Event::system(Action::Lockdown, &new_request_id()),
    };
    vault.commit(&event.on("engage"), vec![Write::SetLockdown { locked: true }]).await?;
    // This node's decrypted index goes now; other nodes drop theirs at
    // their next request or sweep.
    vault.index_cache.clear().await;
    sessions.delete_all().await.map_err(|_| ServiceError::Internal("sessions store"))?;
    Ok(())
}

/// Lift a lockdown (command line only).
pub async fn lift(vault: &Vault) -> ServiceResult<()> {
    let event = Event::system(Action::Lockdown, &new_request_id()).on("lift");
    vault.commit(&event, vec![Write::SetLockdown { locked: false }]).await
}
