//! What every page's layout needs, and form errors shown beside fields.

use std::collections::BTreeMap;

use super::guards::CurrentUser;
use crate::accounts::model::Role;
use crate::cases::model::FieldError;

/// The navigation of a logged-in page, with the CSRF token for its forms.
/// `None` on pages for anonymous visitors.
#[derive(Debug, Clone)]
pub struct Nav {
    pub csrf: String,
    pub admin: bool,
    pub coordinator: bool,
    pub casework: bool,
    pub auditor: bool,
}

impl Nav {
    pub fn of(user: &CurrentUser) -> Nav {
        Nav {
            csrf: user.csrf.clone(),
            admin: user.actor.has(Role::Admin),
            coordinator: user.actor.has(Role::Coordinator),
            casework: user.actor.has(Role::Coordinator) || user.actor.has(Role::Caseworker),
            auditor: user.actor.has(Role::Auditor),
        }
    }

    /// For a session that may only enrol its second factor.
    pub fn enrolling(csrf: &str) -> Nav {
        Nav { csrf: csrf.to_owned(), admin: false, coordinator: false, casework: false, auditor: false }
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
