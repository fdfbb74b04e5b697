use std::collections::BTreeSet;

use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

use crate::cases::model::FieldError;
use crate::crypto::Identity;
use crate::ids::UserId;

/// A pseudonymous login name: 3..=32 of a-z, 0-9, '.', '-', '_', starting
/// with a letter. Stored lower-case; compared after lower-casing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Username(String);

impl Username {
    pub fn parse(input: &str) -> Result<Username, FieldError> {
        let value = input.trim().to_lowercase();
        let err = |message: &str| FieldError { field: "username", message: message.to_owned() };
        let len = value.chars().count();
        if !(3..=32).contains(&len) {
            return Err(err("A username is 3 to 32 characters."));
        }
        if !value.starts_with(|c: char| c.is_ascii_lowercase()) {
            return Err(err("A username starts with a letter."));
        }
        if !value
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '-' | '_'))
        {
            return Err(err(
                "A username may contain only letters a-z, digits, '.', '-' and '_'. Use a pseudonym, never a real name.",
            ));
        }
        Ok(Username(value))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Username {
    type Error = FieldError;
    fn try_from(value: String) -> Result<Self, FieldError> {
        Username::parse(&value)
    }
}

impl From<Username> for String {
    fn from(value: Username) -> String {
        value.0
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Admin,
    Coordinator,
    Caseworker,
    Communications,
    Auditor,
}

impl Role {
    pub const ALL: [Role; 5] =
        [Role::Admin, Role::Coordinator, Role::Caseworker, Role::Communications, Role::Auditor];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Coordinator => "coordinator",
            Role::Caseworker => "caseworker",
            Role::Communications => "communications",
            Role::Auditor => "auditor",
        }
    }

    pub fn parse(input: &str) -> Result<Role, FieldError> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str() == input.trim())
            .ok_or_else(|| FieldError { field: "roles", message: format!("Unknown role: {}", input.trim()) })
    }
}

/// A user's roles; a user with several holds their union.
pub type Roles = BTreeSet<Role>;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UserState {
    /// Created (or reset) and waiting for its owner to activate it.
    Pending,
    Active,
    Disabled,
    /// Frozen by a coordinator: sessions ended, grants removed.
    Frozen,
}

/// The sealed part of a user's directory entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Profile {
    pub username: Username,
    pub roles: Roles,
    pub state: UserState,
    /// The zone the user reads times in; none: the organisation's. Absent
    /// from profiles sealed before it existed, which load as none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub zone: Option<crate::web::when::Zone>,
    /// The language the user reads pages in; none: as their browser asks.
    /// Absent from profiles sealed before it existed, which load as none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lang: Option<crate::i18n::Lang>,
}

/// A password exactly as typed: 12..=128 characters, no composition rules,
/// refused when a strength estimate (zxcvbn) scores it below `MIN_SCORE`.
pub struct Password(SecretString);

/// zxcvbn's score: 3 means "safely unguessable: moderate protection from an
/// offline slow-hash attack" (about 10^10 guesses), which argon2id at
/// 64 MiB turns into centuries on one machine.
const MIN_SCORE: u8 = 3;

impl Password {
    pub fn parse(input: SecretString) -> Result<Password, FieldError> {
        Self::parse_for(input, &[])
    }

    /// As `parse`, also refusing passwords built from `context` (the
    /// username, the product's name).
    pub fn parse_for(input: SecretString, context: &[&str]) -> Result<Password, FieldError> {
        let text = input.expose_secret();
        let len = text.chars().count();
        let err = |message: &str| FieldError { field: "password", message: message.to_owned() };
        if len < 12 {
            return Err(err("A password is at least 12 characters."));
        }
        if len > 128 {
            return Err(err("A password is at most 128 characters."));
        }
        let mut inputs = vec!["safehouse"];
        inputs.extend_from_slice(context);
        if (zxcvbn::zxcvbn(text, &inputs).score() as u8) < MIN_SCORE {
            return Err(err(
                "This password is too easy to guess. Use a longer phrase of several unrelated words.",
            ));
        }
        Ok(Password(input))
    }

    pub fn expose(&self) -> &str {
        self.0.expose_secret()
    }
}

impl std::fmt::Debug for Password {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Password(<redacted>)")
    }
}

/// A user who has unlocked their key in this request. Holds the user's
/// identity only for as long as the request lives.
pub struct Actor {
    user_id: UserId,
    roles: Roles,
    key_no: i64,
    identity: Identity,
    request_id: String,
    /// The coordinators team key, when this request's guard already opened
    /// it with `identity` (so the services do not unwrap it again). Lives,
    /// like the user key, only as long as the request.
    coordinators: Option<Identity>,
}

impl Actor {
    pub(crate) fn new(user_id: UserId, roles: Roles, key_no: i64, identity: Identity) -> Self {
        Self {
            user_id,
            roles,
            key_no,
            identity,
            request_id: crate::audit::model::new_request_id(),
            coordinators: None,
        }
    }

    /// The same actor, holding the coordinators key its own key just opened.
    pub(crate) fn with_coordinators(mut self, identity: Identity) -> Self {
        self.coordinators = Some(identity);
        self
    }

    pub(crate) fn opened_coordinators(&self) -> Option<&Identity> {
        self.coordinators.as_ref()
    }

    /// The same user in another request (the web layer sets each request's id).
    pub fn with_request_id(mut self, request_id: &str) -> Self {
        self.request_id = request_id.to_owned();
        self
    }

    pub fn request_id(&self) -> &str {
        &self.request_id
    }

    /// An audit event by this actor. The role is the actor's only role, or
    /// left for the service to name with `as_role`.
    pub fn event(&self, action: crate::audit::Action) -> crate::audit::Event {
        let role = if self.roles.len() == 1 { self.roles.iter().next().copied() } else { None };
        crate::audit::Event {
            actor: Some(self.user_id),
            role,
            action,
            target: None,
            request_id: self.request_id.clone(),
        }
    }

    pub fn user_id(&self) -> UserId {
        self.user_id
    }

    pub fn roles(&self) -> &Roles {
        &self.roles
    }

    pub fn has(&self, role: Role) -> bool {
        self.roles.contains(&role)
    }

    pub fn key_no(&self) -> i64 {
        self.key_no
    }

    pub fn identity(&self) -> &Identity {
        &self.identity
    }
}

impl std::fmt::Debug for Actor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Actor")
            .field("user_id", &self.user_id)
            .field("roles", &self.roles)
            .field("key_no", &self.key_no)
            .field("identity", &"<redacted>")
            .field("request_id", &self.request_id)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn usernames() {
        assert_eq!(Username::parse(" Field.Worker_7 ").unwrap().as_str(), "field.worker_7");
        assert!(Username::parse("ab").is_err());
        assert!(Username::parse("7abc").is_err());
        assert!(Username::parse("name with space").is_err());
        assert!(Username::parse(&"a".repeat(33)).is_err());
        assert!(Username::parse("a<script>").is_err());
    }

    #[test]
    fn passwords_by_length_and_strength() {
        assert!(Password::parse(SecretString::from("short")).is_err());
        assert!(Password::parse(SecretString::from("x".repeat(129))).is_err());
        for weak in ["password1234", "aaaaaaaaaaaa", "123456789012", "qwertyuiopas", "safehouse2024"] {
            assert!(Password::parse(SecretString::from(weak)).is_err(), "{weak}");
        }
        assert!(Password::parse_for(SecretString::from("field.worker7!"), &["field.worker7"]).is_err());
        let p = Password::parse(SecretString::from("correct horse battery")).unwrap();
        assert!(!format!("{p:?}").contains("horse"));
    }

    proptest! {
        #[test]
        fn username_round_trips(s in "[a-z][a-z0-9._-]{2,31}") {
            let u = Username::parse(&s).unwrap();
            prop_assert_eq!(Username::parse(u.as_str()).unwrap(), u);
        }

        #[test]
        fn username_never_panics(s in ".{0,80}") {
            let _ = Username::parse(&s);
        }
    }
}
