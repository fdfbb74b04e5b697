//! Home pages: what each role sees first, with the figures that need
//! action, every one a link to the case list filtered to it. Charts are
//! SVG drawn on the server (`charts`), each beside a table.

pub mod charts;
pub mod routes;
pub mod service;
