//! The one integration-test binary. Modules by capability; `helpers` makes
//! throwaway instances.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

mod aid;
mod annual_report;
mod audit;
mod audit_pages;
mod backups;
mod case_list;
mod case_page;
mod case_reads;
mod casework;
mod clear_columns;
mod cli;
mod crash;
mod dashboards;
mod feedback;
mod figures;
mod foundation;
mod helpers;
mod index_cache;
mod languages;
mod login;
mod migrations;
mod nodes;
mod onboarding;
mod pages;
mod permissions;
mod purge;
mod recovery_ops;
mod rotation;
mod rotation_data;
mod sessions_life;
mod sponsorship;
mod storage;
mod stories;
mod teams;
mod throttles;
