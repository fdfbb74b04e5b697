//! Public figures: people helped to safety, arrivals and resettlements for
//! one fixed period (a quarter, a calendar year, the fiscal year), by
//! destination, counted from the case index; every count under 10 hidden,
//! and further cells hidden so that no total or difference (within a table
//! or across every approved table) gives a hidden one away. A coordinator
//! approves a table once; it is sealed to the communications team, who read
//! and export it. See docs/figures.md.

pub mod compute;
pub mod export;
pub mod model;
pub mod routes;
pub mod service;
pub mod suppress;

pub use model::*;
pub use service::{ApprovedTable, approved};
