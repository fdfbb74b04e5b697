//! What every page's layout needs, and form errors shown beside fields.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use super::guards::CurrentUser;
use crate::accounts::model::Role;
use crate::cases::model::FieldError;
use crate::web::messages::Messages;

/// The navigation of a logged-in page, with the CSRF token for its forms.
/// `None` on pages for anonymous visitors.
#[derive(Debug, Clone)]
pub struct Nav {
    pub csrf: String,
    pub admin: bool,
    pub coordinator: bool,
    pub casework: bool,
    pub auditor: bool,
    pub caseworker: bool,
    pub communications: bool,
    /// Whether the user's current key is certified (checked in this request).
    pub certified: bool,
    /// A member of the coordinators team (its key opened in this request):
    /// the coordinator's pages are offered only then.
    pub coordinators_team: bool,
}

impl Nav {
    pub fn of(user: &CurrentUser) -> Nav {
        Nav {
            csrf: user.csrf.clone(),
            admin: user.actor.has(Role::Admin),
            coordinator: user.actor.has(Role::Coordinator),
            casework: user.coordinators_team || user.actor.has(Role::Caseworker),
            auditor: user.actor.has(Role::Auditor),
            caseworker: user.actor.has(Role::Caseworker),
            communications: user.actor.has(Role::Communications),
            certified: user.certified,
            coordinators_team: user.coordinators_team,
        }
    }

    /// For a session that may only enrol its second factor.
    pub fn enrolling(csrf: &str) -> Nav {
        Nav {
            csrf: csrf.to_owned(),
            admin: false,
            coordinator: false,
            casework: false,
            auditor: false,
            caseworker: false,
            communications: false,
            certified: false,
            coordinators_team: false,
        }
    }

    /// Whether any of the user's roles opens sealed records with their own
    /// key, which a coordinator must certify first.
    pub fn needs_key(&self) -> bool {
        self.coordinator || self.caseworker || self.communications
    }

    /// Whether the pages must say the key is not certified yet and offer
    /// nothing that would be refused for it.
    pub fn awaiting_certification(&self) -> bool {
        self.needs_key() && !self.certified
    }

    /// What certification means for this user, by their strongest role.
    pub fn key_means(&self, t: &Messages) -> &'static str {
        if self.coordinator {
            t.key_means_coordinator
        } else if self.caseworker {
            t.key_means_caseworker
        } else if self.communications {
            t.key_means_communications
        } else {
            t.key_means_nothing
        }
    }
}

/// The menu of the user this request was checked for, left by the session
/// check for the error page the middleware renders after the handler: a
/// logged-in user who meets an error keeps the menu, and the session is
/// checked once, by the same code as any page (nothing is re-read here).
#[derive(Debug, Clone, Default)]
pub struct NavSlot(Arc<Mutex<Option<Nav>>>);

impl NavSlot {
    pub fn fill(&self, nav: Nav) {
        if let Ok(mut slot) = self.0.lock() {
            *slot = Some(nav);
        }
    }

    pub fn take(&self) -> Option<Nav> {
        self.0.lock().ok().and_then(|mut slot| slot.take())
    }
}

/// Problems with a submitted form, by field, shown beside each field.
#[derive(Debug, Clone, Default)]
pub struct FormErrors(BTreeMap<&'static str, String>);

impl FormErrors {
    pub fn add(&mut self, error: FieldError) {
        self.0.entry(error.field).or_insert(error.message);
    }

    pub fn get(&self, field: &str) -> Option<&str> {
        self.0.get(field).map(String::as_str)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl From<FieldError> for FormErrors {
    fn from(error: FieldError) -> Self {
        let mut errors = FormErrors::default();
        errors.add(error);
        errors
    }
}
