//! How each language writes a story from its facts. One file per language
//! holds every word a story can contain, so Japanese and Korean can be
//! written natively from the same facts rather than translated.

pub mod en;
pub mod ja;
pub mod ko;

use super::model::{Facts, Gate, Opening, Reason, Step};
use crate::cases::model::CountryCode;
use crate::i18n::Lang;
use crate::publication::period::Period;
use crate::publication::region::{Place, Region};

/// A language's story templates.
pub trait Phrasing: Sync {
    /// The whole story.
    fn story(&self, facts: &Facts, opening: Opening) -> String;
    /// A period as the story says it ("in the first quarter of 2025",
    /// 2025年第1四半期, 2025년 1분기).
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
/// The Japanese and Korean ones, written from the same facts, not translated.
pub const JA: &dyn Phrasing = &ja::Japanese;
pub const KO: &dyn Phrasing = &ko::Korean;

/// The templates of a language.
pub fn of(lang: Lang) -> &'static dyn Phrasing {
    match lang {
        Lang::En => EN,
        Lang::Ja => JA,
        Lang::Ko => KO,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
pub(crate) mod tests {
    use super::*;
    use crate::cases::model::{AgeBand, Gender, MilestoneKind, Outcome, Stage};
    use crate::stories::model::{AgeRange, AgeWords, SizeBand, StoryKind, Subject};

    /// Every subject shape a story can have.
    fn subjects() -> Vec<Subject> {
        let ages: Vec<AgeWords> = AgeBand::ALL
            .into_iter()
            .map(AgeWords::Band)
            .chain([AgeRange::Child, AgeRange::Adult, AgeRange::Older].map(AgeWords::Range))
            .collect();
        let genders = [Some(Gender::Female), Some(Gender::Male), Some(Gender::Other), None];
        let mut out = vec![Subject::Person { age: None, gender: None }];
        for age in &ages {
            for gender in genders {
                out.push(Subject::Person { age: Some(*age), gender });
            }
        }
        for size in [Some(SizeBand::Two), Some(SizeBand::ThreeOrFour), Some(SizeBand::Several), None] {
            out.push(Subject::Group { size, child: None });
            for age in &ages {
                out.push(Subject::Group { size, child: Some(*age) });
            }
        }
        out
    }

    /// Facts of every kind, subject shape, precision and place, in every opening.
    pub fn every_story() -> Vec<(Facts, Opening)> {
        let periods = [
            None,
            Some(Period::Month { year: 2024, month: 3 }),
            Some(Period::Quarter { year: 2024, quarter: 4 }),
            Some(Period::Year { year: 2023 }),
        ];
        let mut places: Vec<Option<Place>> = vec![None];
        places.extend(
            crate::publication::region::NAMED_COUNTRIES
                .iter()
                .map(|c| Some(Place::Country(CountryCode::parse(c).unwrap()))),
        );
        places.extend(Region::ALL.map(|r| Some(Place::Region(r))));
        let mut out = Vec::new();
        for kind in StoryKind::ALL {
            let progress: &[Option<Period>] = if kind.progress().is_some() {
                &[None, Some(Period::Month { year: 2025, month: 11 }), Some(Period::Year { year: 2025 })]
            } else {
                &[None]
            };
            for subject in subjects() {
                for (i, arrival) in periods.iter().enumerate() {
                    for (j, destination) in places.iter().enumerate() {
                        // Every place once with every arrival would be
                        // thousands more of the same shapes.
                        if j > 2 && (i + j) % 4 != 0 {
                            continue;
                        }
                        for progress in progress {
                            for opening in Opening::ALL {
                                let facts = Facts {
                                    kind,
                                    subject,
                                    arrival: *arrival,
                                    destination: *destination,
                                    progress: *progress,
                                };
                                out.push((facts, opening));
                            }
                        }
                    }
                }
            }
        }
        out
    }

    /// One of each reason, with every stage, outcome and milestone kind.
    pub fn every_reason() -> Vec<Reason> {
        let mut out = vec![
            Reason::ChildAlone,
            Reason::NoConsent { missing: 1, of: 1 },
            Reason::NoConsent { missing: 2, of: 3 },
            Reason::Embargoed { until: time::macros::date!(2026 - 11 - 18), days: 90 },
            Reason::TooFew { fits: 1, k: 10 },
            Reason::TooFew { fits: 3, k: 5 },
            Reason::Pending,
        ];
        out.extend(Stage::ALL.map(|stage| Reason::NotArrived { stage }));
        out.extend(Outcome::ALL.map(|outcome| Reason::ClosedAs { outcome }));
        for kind in MilestoneKind::ALL {
            out.push(Reason::Missing { kind });
            out.push(Reason::DangerAfterArrival { kind });
        }
        out
    }

    /// A story in Japanese or Korean: no Latin letter at all; its place
    /// named; and with its periods' own words taken out, no digit left.
    pub fn no_latin_and_only_period_digits(p: &dyn Phrasing, f: &Facts, text: &str) {
        assert!(!text.chars().any(|c| c.is_ascii_alphabetic()), "a Latin letter in {text}");
        if let Some(place) = f.destination {
            assert!(text.contains(&p.place(place)), "{text} does not name its place");
        }
        let mut rest = text.to_owned();
        for period in [f.arrival, f.progress].into_iter().flatten() {
            let said = p.period(period);
            assert!(rest.contains(&said), "{text} does not say {said}");
            rest = rest.replacen(&said, "", 1);
        }
        assert!(!rest.chars().any(char::is_numeric), "a number that is not a period in {text}");
    }

    /// Every story a language can write, and every word of its review page
    /// (steps, gates, reasons), in its own script: no Latin letter, no digit
    /// but a period's, and each sentence ending as the language ends one.
    pub fn speaks_only_its_own_script(p: &dyn Phrasing, sentence_end: &str) {
        for (facts, opening) in every_story() {
            let text = p.story(&facts, opening);
            no_latin_and_only_period_digits(p, &facts, &text);
            assert!(text.ends_with(sentence_end), "{text}");
        }
        for step in Step::ALL {
            assert!(!p.step(step).chars().any(|c| c.is_ascii_alphanumeric()));
        }
        for gate in Gate::ALL {
            assert!(!p.gate(gate).chars().any(|c| c.is_ascii_alphanumeric()));
        }
        for reason in every_reason() {
            assert!(!p.reason(&reason).is_empty());
        }
    }

    #[test]
    fn every_language_names_every_named_destination_and_every_region() {
        for lang in Lang::ALL {
            for code in crate::publication::region::NAMED_COUNTRIES {
                assert!(of(lang).country(CountryCode::parse(code).unwrap()).is_some(), "{code} in {lang:?}");
            }
            for region in Region::ALL {
                assert!(!of(lang).region(region).is_empty());
            }
        }
        assert!(of(Lang::Ja).country(CountryCode::parse("BR").unwrap()).is_none());
    }

    #[test]
    fn the_languages_say_the_same_facts_in_their_own_words() {
        let stories = every_story();
        for (facts, opening) in &stories {
            let [en, ja, ko] = Lang::ALL.map(|l| of(l).story(facts, *opening));
            assert!(en != ja && ja != ko && en != ko, "{en}");
        }
    }
}
