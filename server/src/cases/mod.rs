//! Cases: the sealed case record, its milestones, and the sealed index
//! that dashboards read.

pub mod filter;
pub mod index;
pub mod index_cache;
pub mod model;
pub mod routes;
pub mod service;
