//! How each language writes a story from its facts. One file per language
//! holds every word a story can contain, so Japanese and Korean can be
//! written natively from the same facts rather than translated.

pub mod en;

use super::model::{Facts, Gate, Opening, Reason, Step};
use crate::cases::model::CountryCode;
use crate::publication::period::Period;
use crate::publication::region::{Place, Region};

/// A language's story templates.
pub trait Phrasing: Sync {
    /// The whole story.
    fn story(&self, facts: &Facts, opening: Opening) -> String;
    /// A period as the story says it ("in the first quarter of 2025").
    fn period(&self, period: Period) -> String;
    fn place(&self, place: Place) -> String {
        match place {
            Place::Country(c) => self.country(c).map_or_else(|| self.region(Region::of(c)), str::to_owned),
            Place::Region(r) => self.region(r),
        }
    }
    /// A named destination (`region::NAMED_COUNTRIES`); `None` otherwise.
    fn country(&self, country: CountryCode) -> Option<&'static str>;
    fn region(&self, region: Region) -> String;
    /// What a generalisation step did, for the review page.
    fn step(&self, step: Step) -> &'static str;
    fn gate(&self, gate: Gate) -> &'static str;
    /// Why a gate refused or waits, for the drafter.
    fn reason(&self, reason: &Reason) -> String;
    fn opening(&self, opening: Opening) -> &'static str;
}

/// The English templates.
pub const EN: &dyn Phrasing = &en::English;
