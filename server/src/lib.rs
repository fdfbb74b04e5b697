//! Safehouse: confidential case management for refugee rescue and
//! resettlement. See docs/architecture.md for the map of this crate.

#![forbid(unsafe_code)]
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic))]

pub mod accounts;
pub mod audit;
pub mod backup;
pub mod cases;
pub mod cli;
pub mod clock;
pub mod config;
pub mod crypto;
pub mod dashboard;
pub mod demo;
pub mod error;
pub mod figures;
pub mod i18n;
pub mod ids;
pub mod keyring;
pub mod membership;
pub mod policy;
pub mod programmes;
pub mod publication;
pub mod purge;
pub mod recovery;
pub mod rotation;
pub mod sessions;
pub mod setup;
pub mod shelters;
pub mod storage;
pub mod stories;
pub mod vault;
pub mod web;
