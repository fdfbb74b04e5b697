//! English story templates. Every word a story can carry is here.

use super::Phrasing;
use crate::cases::model::{AgeBand, CountryCode, Gender, MilestoneKind, Outcome};
use crate::publication::period::Period;
use crate::publication::region::Region;
use crate::stories::model::{
    AgeRange, AgeWords, Facts, Gate, Opening, Reason, SizeBand, Step, StoryKind, Subject,
};

pub struct English;

fn month_name(m: u8) -> &'static str {
    crate::publication::period::month_name(&crate::web::messages::EN, m)
}

fn person(age: Option<AgeWords>, gender: Option<Gender>) -> &'static str {
    use AgeBand as B;
    let g = |f: &'static str, m: &'static str, n: &'static str| match gender {
        Some(Gender::Female) => f,
        Some(Gender::Male) => m,
        Some(Gender::Other) | None => n,
    };
    match age {
        None => "a refugee",
        Some(AgeWords::Band(B::Under5)) => g("a little girl", "a little boy", "a small child"),
        Some(AgeWords::Band(B::Child)) => {
            g("a girl of primary-school age", "a boy of primary-school age", "a child of primary-school age")
        }
        Some(AgeWords::Band(B::Teen)) => g("a teenage girl", "a teenage boy", "a teenager"),
        Some(AgeWords::Band(B::YoungAdult)) => g("a young woman", "a young man", "a young person"),
        Some(AgeWords::Band(B::Adult)) => g(
            "a woman in her thirties or early forties",
            "a man in his thirties or early forties",
            "an adult in their thirties or early forties",
        ),
        Some(AgeWords::Band(B::MiddleAged)) => g(
            "a woman in her late forties or fifties",
            "a man in his late forties or fifties",
            "an adult in their late forties or fifties",
        ),
        Some(AgeWords::Band(B::Senior) | AgeWords::Range(AgeRange::Older)) => {
            g("an older woman", "an older man", "an older person")
        }
        Some(AgeWords::Range(AgeRange::Child)) => g("a girl", "a boy", "a child"),
        Some(AgeWords::Range(AgeRange::Adult)) => g("a woman", "a man", "an adult"),
    }
}

fn child(age: AgeWords) -> &'static str {
    match age {
        AgeWords::Band(AgeBand::Under5) => "a small child",
        AgeWords::Band(AgeBand::Child) => "a child of primary-school age",
        AgeWords::Band(AgeBand::Teen) => "a teenager",
        _ => "a child",
    }
}

fn subject(s: Subject) -> String {
    match s {
        Subject::Person { age, gender } => person(age, gender).to_owned(),
        Subject::Group { size, child: youngest } => {
            let group = match size {
                Some(SizeBand::Two) => "two people travelling together",
                Some(SizeBand::ThreeOrFour) => "a family of three or four",
                Some(SizeBand::Several) => "a family of several",
                None => "a family",
            };
            match youngest {
                Some(c) => format!("{group}, among them {}", child(c)),
                None => group.to_owned(),
            }
        }
    }
}

/// A progress story: a person "has" done it; in a group, "one of them" did.
fn progress(who: &str, arrived: &str, group: bool, what: &str, when: &str) -> String {
    if group {
        format!("{who}, who arrived{arrived}, is making progress: one of them {what}{when}.")
    } else {
        format!("{who}, who arrived{arrived}, has {what}{when}.")
    }
}

fn capitalised(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

impl Phrasing for English {
    fn story(&self, f: &Facts, opening: Opening) -> String {
        let who = subject(f.subject);
        let group = matches!(f.subject, Subject::Group { .. });
        let mut arrived = String::new();
        if let Some(place) = f.destination {
            arrived.push_str(" in ");
            arrived.push_str(&self.place(place));
        }
        if let Some(p) = f.arrival {
            arrived.push(' ');
            arrived.push_str(&self.period(p));
        }
        let when = f.progress.map(|p| format!(" {}", self.period(p))).unwrap_or_default();
        // A clause after a group's "among them ..." needs its own commas.
        let body = match f.kind {
            StoryKind::ReachedSafety if group && who.contains(", among them ") => {
                format!("{who}, reached safety{arrived}.")
            }
            StoryKind::ReachedSafety => format!("{who} reached safety{arrived}."),
            StoryKind::Settling => format!("{who}, who arrived{arrived}, is settling into a new life."),
            StoryKind::LanguageCourse => {
                progress(&who, &arrived, group, "completed a language course", &when)
            }
            StoryKind::School => progress(&who, &arrived, group, "started school", &when),
            StoryKind::Work => progress(&who, &arrived, group, "found work", &when),
        };
        match opening {
            Opening::Plain => capitalised(&body),
            other => format!("{} {body}", self.opening(other)),
        }
    }

    fn period(&self, period: Period) -> String {
        // Stories speak only of months, quarters and years, named as the
        // figures name them.
        format!("in {}", crate::publication::period::period_name(&crate::web::messages::EN, period))
    }

    fn country(&self, country: CountryCode) -> Option<&'static str> {
        Some(match country.as_str() {
            "AT" => "Austria",
            "AU" => "Australia",
            "BE" => "Belgium",
            "CA" => "Canada",
            "CH" => "Switzerland",
            "CZ" => "the Czech Republic",
            "DE" => "Germany",
            "DK" => "Denmark",
            "ES" => "Spain",
            "FI" => "Finland",
            "FR" => "France",
            "GB" => "the United Kingdom",
            "IE" => "Ireland",
            "IT" => "Italy",
            "JP" => "Japan",
            "KR" => "South Korea",
            "NL" => "the Netherlands",
            "NO" => "Norway",
            "NZ" => "New Zealand",
            "PL" => "Poland",
            "PT" => "Portugal",
            "SE" => "Sweden",
            "TW" => "Taiwan",
            "US" => "the United States",
            _ => return None,
        })
    }

    fn region(&self, region: Region) -> String {
        match region {
            Region::EastAsia => "East Asia",
            Region::SoutheastAsia => "Southeast Asia",
            Region::SouthAndCentralAsia => "South or Central Asia",
            Region::WesternAsia => "Western Asia",
            Region::Europe => "Europe",
            Region::NorthAmerica => "North America",
            Region::LatinAmerica => "Latin America or the Caribbean",
            Region::Africa => "Africa",
            Region::Oceania => "Oceania",
        }
        .to_owned()
    }

    fn step(&self, step: Step) -> &'static str {
        match step {
            Step::WidenArrival => "arrival date made coarser",
            Step::WidenProgress => "progress date made coarser",
            Step::WidenAge => "age band widened",
            Step::WidenSize => "group size left out",
            Step::DestinationToRegion => "destination named as its region",
            Step::DropGender => "gender left out",
            Step::DropProgress => "progress date left out",
            Step::DropArrival => "arrival date left out",
            Step::DropDestination => "destination left out",
            Step::DropAge => "age left out",
        }
    }

    fn gate(&self, gate: Gate) -> &'static str {
        match gate {
            Gate::Facts => "Something to tell",
            Gate::Consent => "Consent",
            Gate::OutOfDanger => "Out of danger",
            Gate::Embargo => "Embargo",
            Gate::KAnonymity => "Cannot be traced to one case",
        }
    }

    fn reason(&self, reason: &Reason) -> String {
        match *reason {
            Reason::Missing { kind } => {
                format!("The case has no \u{201c}{}\u{201d} milestone to tell about.", milestone(kind))
            }
            Reason::ChildAlone => "A story is never written about a child travelling alone.".to_owned(),
            Reason::NoConsent { missing, of } => format!(
                "{missing} of the {of} {} in this case {} not consented to publication.",
                if of == 1 { "person" } else { "people" },
                if missing == 1 { "has" } else { "have" }
            ),
            Reason::NotArrived { stage } => {
                format!(
                    "The case is at the stage \u{201c}{}\u{201d}: stories wait until arrival.",
                    stage.label()
                )
            }
            Reason::ClosedAs { outcome } => format!(
                "The case was closed as \u{201c}{}\u{201d}: no story is published about it.",
                outcome_words(outcome)
            ),
            Reason::DangerAfterArrival { kind } => format!(
                "A \u{201c}{}\u{201d} milestone is recorded on or after the arrival.",
                milestone(kind)
            ),
            Reason::Embargoed { until, days } => format!(
                "Not before {} ({days} days after the latest milestone the story mentions).",
                format_args!("{} {} {}", until.day(), month_name(u8::from(until.month())), until.year())
            ),
            Reason::TooFew { fits, k } => format!(
                "Even with every detail made coarser, the story fits only {fits} {} (at least {k} needed).",
                if fits == 1 { "case" } else { "cases" }
            ),
            Reason::Pending => {
                "Checked when a coordinator reviews the draft: it needs every case's index.".to_owned()
            }
        }
    }

    fn opening(&self, opening: Opening) -> &'static str {
        match opening {
            Opening::Thanks => "Thanks to your support,",
            Opening::News => "We are glad to share that",
            Opening::Plain => "",
        }
    }
}

fn milestone(kind: MilestoneKind) -> &'static str {
    kind.label()
}

fn outcome_words(outcome: Outcome) -> &'static str {
    outcome.label()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::publication::region::Place;

    #[test]
    fn a_destination_reads_as_a_place_arrived_in() {
        let facts = Facts {
            kind: StoryKind::ReachedSafety,
            subject: Subject::Person {
                age: Some(AgeWords::Band(AgeBand::Adult)),
                gender: Some(Gender::Female),
            },
            arrival: Some(Period::Month { year: 2024, month: 3 }),
            destination: Some(Place::Country(CountryCode::parse("DE").unwrap())),
            progress: None,
        };
        assert_eq!(
            English.story(&facts, Opening::Plain),
            "A woman in her thirties or early forties reached safety in Germany in March 2024."
        );
        let family = Facts {
            subject: Subject::Group { size: None, child: Some(AgeWords::Band(AgeBand::Under5)) },
            ..facts
        };
        assert_eq!(
            English.story(&family, Opening::Plain),
            "A family, among them a small child, reached safety in Germany in March 2024."
        );
        let settling =
            Facts { kind: StoryKind::Settling, destination: Some(Place::Region(Region::Europe)), ..facts };
        assert_eq!(
            English.story(&settling, Opening::Thanks),
            "Thanks to your support, a woman in her thirties or early forties, who arrived in Europe in March 2024, is settling into a new life."
        );
    }
}
