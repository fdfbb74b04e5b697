//! The audit trail: every read and write of case data, every account and key
//! event, appended in the same transaction as what it records, MAC-chained
//! under the audit key, verifiable off the server with checkpoints.

pub mod chain;
pub mod model;
pub mod routes;
pub mod service;
pub mod writer;

pub use model::{Action, Event, Outcome};
