//! The annual report: for the organisation's fiscal year, what the
//! programmes did, counted with the public figures' suppression rules.
//! People helped to safety and resettled are the fiscal year's public
//! figures; children in the education sponsorship are counts of people,
//! small ones hidden and more hidden so that no sum or difference, in this
//! report or with earlier ones, gives one away; aid is quantities of goods,
//! never hidden. A coordinator approves a year once; the report is sealed
//! to the communications team, who read and export it. See
//! docs/programmes.md.

pub mod compute;
pub mod export;
pub mod model;
pub mod routes;
pub mod service;
pub mod suppress;
#[cfg(test)]
mod tests;

pub use model::*;
