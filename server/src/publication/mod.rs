//! What stories and public figures share: the publication policy (k, the
//! embargo, the fiscal year), the fixed periods, destinations and regions,
//! and the safe writing of exports. See docs/stories.md.

pub mod export;
pub mod period;
pub mod region;

/// The rules every published text and figure obeys.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PublicationPolicy {
    /// Every story's quasi-identifiers, with those of the case's other
    /// stories, fit at least this many cases; never below [`Self::MIN_K`].
    pub k: u32,
    /// Days after the latest milestone a story mentions before it may be
    /// published; never below [`Self::MIN_EMBARGO_DAYS`].
    pub embargo_days: u32,
    /// The first month (1..=12) of the organisation's fiscal year.
    pub fiscal_year_start: u8,
}

impl PublicationPolicy {
    pub const MIN_K: u32 = 5;
    pub const MIN_EMBARGO_DAYS: u32 = 30;
    /// Counts of people below this are shown as "fewer than 10".
    pub const SMALL_COUNT: u64 = 10;
}

impl Default for PublicationPolicy {
    fn default() -> Self {
        Self { k: 10, embargo_days: 90, fiscal_year_start: 1 }
    }
}
