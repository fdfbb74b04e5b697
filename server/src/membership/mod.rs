//! Who holds which key: certification of user keys, vouchers for a user's
//! next key, team admission, case grants to certified keys, freezing, and
//! the work a coordinator's request does for users who hold no team key
//! (folding vouchers, issuing waiting grants, folding the index inbox).

pub mod routes;
pub mod service;

pub use service::*;
