//! The one integration-test binary. Modules by capability; `helpers` makes
//! throwaway instances.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

mod audit;
mod casework;
mod cli;
mod foundation;
mod helpers;
mod login;
mod migrations;
mod nodes;
mod onboarding;
mod permissions;
mod storage;
mod throttles;
mod teams;
mod sessions_life;
mod recovery_ops;
mod clear_columns;
mod pages;
