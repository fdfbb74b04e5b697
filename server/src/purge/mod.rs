//! Purge of closed cases: after the retention period any coordinator, and
//! before it a second coordinator confirming a first one's request,
//! deletes a closed case and everything keyed by it in one audited write
//! (docs/operations.md, "Purging closed cases"; SECURITY.md, "Purge").

pub mod routes;
pub mod service;
