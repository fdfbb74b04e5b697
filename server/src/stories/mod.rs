//! Public stories: drafted from a case's milestones through an allowlist,
//! passed through the gates (consent, out of danger, embargo,
//! k-anonymity), approved by a coordinator, sealed to the communications
//! team. See docs/stories.md.

pub mod anonymity;
pub mod compose;
pub mod model;
pub mod phrasing;
pub mod routes;
pub mod service;

use crate::crypto::{self, Key32, Label};

/// A case's story tag: how its drafts and story links are found. Only a
/// holder of the case key can compute it, so in the database it names no case.
pub fn tag(case_key: &Key32, case_id: &str) -> String {
    let key = case_key.derive(Label::StoryTag, case_id.as_bytes());
    crypto::to_hex(&crypto::mac(&key, &[b"story-tag".as_slice()]))
}

#[cfg(test)]
mod tests;
