//! The aid log: what each shelter distributed, month by month. Entries are
//! sealed under the register details key, which only coordinators hold; a
//! caseworker's entry reaches them through an authenticated inbox (the
//! index inbox's pattern). A correction is a new entry that supersedes the
//! old one, never an edit.

pub mod model;
pub mod routes;
pub mod service;
