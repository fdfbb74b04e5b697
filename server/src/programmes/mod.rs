//! The organisation's programmes beyond casework (docs/programmes.md): aid
//! given at the shelters, the education sponsorship of children in hiding,
//! and the annual report that counts both with the public figures.

pub mod aid;
pub mod report;
pub mod sponsorship;
