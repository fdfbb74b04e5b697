//! The error every service returns. The web layer maps it to a response;
//! the command line prints it. `Invalid` carries a message for the user;
//! everything else is either a plain outcome (not found, conflict) or an
//! internal fault whose details go to the log, never to a page.

use crate::cases::model::FieldError;
use crate::crypto::CryptoError;
use crate::keyring::KeyringError;
use crate::storage::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// The record does not exist, or the actor may not know that it does.
    #[error("not found")]
    NotFound,
    /// The actor's role does not allow this.
    #[error("forbidden: {0}")]
    Forbidden(&'static str),
    /// The actor's key is not (or no longer) certified by a coordinator.
    #[error("this account's key has not been certified by a coordinator yet")]
    Uncertified,
    /// Someone else changed the record since it was read.
    #[error("the record was changed by someone else")]
    Conflict,
    /// The input was wrong; the message is for the user.
    #[error("{0}")]
    Invalid(#[from] FieldError),
    /// Login failed, for whatever reason (deliberately not said which).
    #[error("the username, password or code is not correct")]
    BadLogin,
    /// A ciphertext failed its integrity check.
    #[error("integrity failure: {0}")]
    Integrity(&'static str),
    #[error(transparent)]
    Keyring(#[from] KeyringError),
    #[error(transparent)]
    Store(StoreError),
    #[error("internal error: {0}")]
    Internal(&'static str),
}

impl From<StoreError> for ServiceError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::Conflict => ServiceError::Conflict,
            other => ServiceError::Store(other),
        }
    }
}

impl From<CryptoError> for ServiceError {
    fn from(error: CryptoError) -> Self {
        match error {
            CryptoError::Integrity => ServiceError::Integrity("a sealed value did not open"),
            CryptoError::UnsupportedFormat(_) => ServiceError::Integrity("unsupported ciphertext format"),
            CryptoError::MalformedKey => ServiceError::Integrity("malformed key material"),
            CryptoError::Wrap => ServiceError::Internal("age wrapping failed"),
        }
    }
}

pub type ServiceResult<T> = Result<T, ServiceError>;
