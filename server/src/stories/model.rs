//! What a story may say: its kind and its facts, every one of them coarse.
//! A story is only ever these values; its text is written from them by a
//! language's phrasing (`phrasing/`), so nothing a caseworker typed can
//! reach it.

use serde::{Deserialize, Serialize};
use time::Date;

use crate::cases::model::{AgeBand, Gender, MilestoneKind, Outcome, Stage};
use crate::publication::period::Period;
use crate::publication::region::Place;

/// The kinds of story there are. There is no appeal for people still in
/// danger: that is a human decision made outside the system.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StoryKind {
    ReachedSafety,
    Settling,
    LanguageCourse,
    School,
    Work,
}

impl StoryKind {
    pub const ALL: [StoryKind; 5] = [
        StoryKind::ReachedSafety,
        StoryKind::Settling,
        StoryKind::LanguageCourse,
        StoryKind::School,
        StoryKind::Work,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            StoryKind::ReachedSafety => "reached_safety",
            StoryKind::Settling => "settling",
            StoryKind::LanguageCourse => "language_course",
            StoryKind::School => "school",
            StoryKind::Work => "work",
        }
    }

    pub fn parse(code: &str) -> Option<StoryKind> {
        StoryKind::ALL.into_iter().find(|k| k.as_str() == code.trim())
    }

    /// The milestone a progress story is about, besides the arrival.
    pub fn progress(self) -> Option<MilestoneKind> {
        match self {
            StoryKind::ReachedSafety | StoryKind::Settling => None,
            StoryKind::LanguageCourse => Some(MilestoneKind::LanguageCourseCompleted),
            StoryKind::School => Some(MilestoneKind::Enrolled),
            StoryKind::Work => Some(MilestoneKind::Employed),
        }
    }
}

/// An age in words wider than a band.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AgeRange {
    /// Under 18.
    Child,
    /// 18 to 59.
    Adult,
    /// 60 and over.
    Older,
}

impl AgeRange {
    pub fn of(band: AgeBand) -> AgeRange {
        match band {
            AgeBand::Under5 | AgeBand::Child | AgeBand::Teen => AgeRange::Child,
            AgeBand::YoungAdult | AgeBand::Adult | AgeBand::MiddleAged => AgeRange::Adult,
            AgeBand::Senior => AgeRange::Older,
        }
    }
}

/// How a story names an age: the record's band, or a wider range.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "level", content = "value", rename_all = "snake_case")]
pub enum AgeWords {
    Band(AgeBand),
    Range(AgeRange),
}

impl AgeWords {
    pub fn covers(self, band: AgeBand) -> bool {
        match self {
            AgeWords::Band(b) => b == band,
            AgeWords::Range(r) => AgeRange::of(band) == r,
        }
    }

    /// One step wider, or `None` when the range says no more than the band.
    pub fn widened(self) -> Option<AgeWords> {
        match self {
            AgeWords::Band(AgeBand::Senior) => None,
            AgeWords::Band(b) => Some(AgeWords::Range(AgeRange::of(b))),
            AgeWords::Range(_) => None,
        }
    }
}

/// A group's size in bands, never the exact number (beyond two).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SizeBand {
    Two,
    ThreeOrFour,
    /// Five or more: "a family of several".
    Several,
}

impl SizeBand {
    pub fn of(persons: usize) -> Option<SizeBand> {
        match persons {
            0 | 1 => None,
            2 => Some(SizeBand::Two),
            3 | 4 => Some(SizeBand::ThreeOrFour),
            _ => Some(SizeBand::Several),
        }
    }

    pub fn covers(self, persons: usize) -> bool {
        SizeBand::of(persons) == Some(self)
    }
}

/// Who the story is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "who", rename_all = "snake_case")]
pub enum Subject {
    /// One person travelling alone. Without an age the gender goes too
    /// ("a refugee"): a gender alone would need an age word to read right.
    Person { age: Option<AgeWords>, gender: Option<Gender> },
    /// Two or more people; `size` none is "a family", `child` the
    /// youngest when a child is among them.
    Group { size: Option<SizeBand>, child: Option<AgeWords> },
}

/// Everything a story says. Every field is a quasi-identifier that the
/// k-anonymity check counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Facts {
    pub kind: StoryKind,
    pub subject: Subject,
    /// When they arrived; none: the story says they arrived, not when.
    pub arrival: Option<Period>,
    /// Where they arrived; none: not said.
    pub destination: Option<Place>,
    /// When the progress happened (progress stories only).
    pub progress: Option<Period>,
}

/// One generalisation step, in the order the check tries them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Step {
    /// Arrival: month to quarter, then quarter to year.
    WidenArrival,
    WidenProgress,
    /// Age band to a wider range (the person's, or a group's child's).
    WidenAge,
    /// A group's size band to "a family".
    WidenSize,
    DestinationToRegion,
    DropGender,
    DropProgress,
    DropArrival,
    DropDestination,
    /// The age (and with it the gender), or a group's child.
    DropAge,
}

impl Step {
    /// The ladder: dates first, then bands, then places, then whole facts.
    pub const LADDER: [Step; 12] = [
        Step::WidenArrival,
        Step::WidenProgress,
        Step::WidenArrival,
        Step::WidenProgress,
        Step::WidenAge,
        Step::WidenSize,
        Step::DestinationToRegion,
        Step::DropGender,
        Step::DropProgress,
        Step::DropArrival,
        Step::DropDestination,
        Step::DropAge,
    ];

    pub const ALL: [Step; 10] = [
        Step::WidenArrival,
        Step::WidenProgress,
        Step::WidenAge,
        Step::WidenSize,
        Step::DestinationToRegion,
        Step::DropGender,
        Step::DropProgress,
        Step::DropArrival,
        Step::DropDestination,
        Step::DropAge,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Step::WidenArrival => "widen_arrival",
            Step::WidenProgress => "widen_progress",
            Step::WidenAge => "widen_age",
            Step::WidenSize => "widen_size",
            Step::DestinationToRegion => "destination_to_region",
            Step::DropGender => "drop_gender",
            Step::DropProgress => "drop_progress",
            Step::DropArrival => "drop_arrival",
            Step::DropDestination => "drop_destination",
            Step::DropAge => "drop_age",
        }
    }

    pub fn parse(code: &str) -> Option<Step> {
        Step::ALL.into_iter().find(|s| s.as_str() == code.trim())
    }

    /// The facts after this step, or `None` if it changes nothing. Every
    /// step only ever says less, so a story that fits k cases still does
    /// after any number of them.
    pub fn apply(self, f: &Facts) -> Option<Facts> {
        let mut out = *f;
        match self {
            Step::WidenArrival => out.arrival = Some(f.arrival?.widened()?),
            Step::WidenProgress => out.progress = Some(f.progress?.widened()?),
            Step::WidenAge => {
                out.subject = match f.subject {
                    Subject::Person { age, gender } => Subject::Person { age: Some(age?.widened()?), gender },
                    Subject::Group { size, child } => Subject::Group { size, child: Some(child?.widened()?) },
                }
            }
            Step::WidenSize => match f.subject {
                Subject::Group { size: Some(_), child } => out.subject = Subject::Group { size: None, child },
                _ => return None,
            },
            Step::DestinationToRegion => match f.destination? {
                Place::Country(c) => out.destination = Some(Place::Country(c).widened()),
                Place::Region(_) => return None,
            },
            Step::DropGender => match f.subject {
                Subject::Person { age, gender: Some(_) } => {
                    out.subject = Subject::Person { age, gender: None }
                }
                _ => return None,
            },
            Step::DropProgress => {
                f.progress?;
                out.progress = None;
            }
            Step::DropArrival => {
                f.arrival?;
                out.arrival = None;
            }
            Step::DropDestination => {
                f.destination?;
                out.destination = None;
            }
            Step::DropAge => match f.subject {
                Subject::Person { age: Some(_), .. } => {
                    out.subject = Subject::Person { age: None, gender: None }
                }
                Subject::Group { size, child: Some(_) } => out.subject = Subject::Group { size, child: None },
                _ => return None,
            },
        }
        Some(out)
    }
}

/// How the text opens: one of a few fixed phrasings, never free text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Opening {
    /// "Thanks to your support, ..."
    #[default]
    Thanks,
    /// "We are glad to share that ..."
    News,
    /// No opening words.
    Plain,
}

impl Opening {
    pub const ALL: [Opening; 3] = [Opening::Thanks, Opening::News, Opening::Plain];

    pub fn as_str(self) -> &'static str {
        match self {
            Opening::Thanks => "thanks",
            Opening::News => "news",
            Opening::Plain => "plain",
        }
    }

    pub fn parse(code: &str) -> Option<Opening> {
        Opening::ALL.into_iter().find(|o| o.as_str() == code.trim())
    }
}

/// The gates, in the order a drafter meets them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Gate {
    /// The case has what the kind of story needs (an arrival, the progress milestone).
    Facts,
    Consent,
    OutOfDanger,
    Embargo,
    KAnonymity,
}

impl Gate {
    pub const ALL: [Gate; 5] =
        [Gate::Facts, Gate::Consent, Gate::OutOfDanger, Gate::Embargo, Gate::KAnonymity];
}

/// Why a gate refused (or is waiting), in values a language puts into words.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "reason", rename_all = "snake_case")]
pub enum Reason {
    /// The case has no milestone of this kind.
    Missing {
        kind: MilestoneKind,
    },
    /// A story is never about a child travelling alone.
    ChildAlone,
    /// `missing` of the `of` people have no recorded consent.
    NoConsent {
        missing: usize,
        of: usize,
    },
    NotArrived {
        stage: Stage,
    },
    ClosedAs {
        outcome: Outcome,
    },
    /// A detention or repatriation is recorded on or after the arrival.
    DangerAfterArrival {
        kind: MilestoneKind,
    },
    /// Not before this day.
    Embargoed {
        until: Date,
        days: u32,
    },
    /// Even with every generalisation the facts fit only this many cases.
    TooFew {
        fits: usize,
        k: u32,
    },
    /// The check needs every case's index record: it runs in a
    /// coordinator's review.
    Pending,
}

/// What one gate decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "decision", rename_all = "snake_case")]
pub enum Decision {
    Passed,
    Refused(Reason),
    Waiting(Reason),
}

impl Decision {
    pub fn passed(self) -> bool {
        matches!(self, Decision::Passed)
    }
}
