//! The shelter register: code names under one register key (coordinators
//! and certified caseworkers), region, capacity and private notes under the
//! other (coordinators only).

pub mod routes;
pub mod service;

pub use service::*;
