//! Korean story templates, written in 합니다체. Every word a story can carry
//! in Korean is here. Ages are written in Sino-Korean words (삼십 대) so
//! that the only digits in a story are its periods'.

use super::Phrasing;
use crate::cases::model::{AgeBand, CountryCode, Gender};
use crate::i18n::Lang;
use crate::publication::period::Period;
use crate::publication::region::Region;
use crate::stories::model::{
    AgeRange, AgeWords, Facts, Gate, Opening, Reason, SizeBand, Step, StoryKind, Subject,
};
use crate::web::messages::Messages;

pub struct Korean;

/// Whether a word ends in a final consonant (받침): the particle that
/// follows depends on it (이/가, 을/를).
fn has_final_consonant(word: &str) -> bool {
    word.chars()
        .next_back()
        .map(u32::from)
        .filter(|c| (0xAC00..=0xD7A3).contains(c))
        .is_some_and(|c| (c - 0xAC00) % 28 != 0)
}

/// The word with its subject particle.
fn subject_of(word: &str) -> String {
    format!("{word}{}", if has_final_consonant(word) { "이" } else { "가" })
}

/// The word with its object particle.
fn object_of(word: &str) -> String {
    format!("{word}{}", if has_final_consonant(word) { "을" } else { "를" })
}

fn person(age: Option<AgeWords>, gender: Option<Gender>) -> &'static str {
    use AgeBand as B;
    let g = |f: &'static str, m: &'static str, n: &'static str| match gender {
        Some(Gender::Female) => f,
        Some(Gender::Male) => m,
        Some(Gender::Other) | None => n,
    };
    match age {
        None => "난민 한 분",
        Some(AgeWords::Band(B::Under5)) => g("어린 여자아이", "어린 남자아이", "어린아이"),
        Some(AgeWords::Band(B::Child)) => {
            g("초등학생 또래의 여자아이", "초등학생 또래의 남자아이", "초등학생 또래의 아이")
        }
        Some(AgeWords::Band(B::Teen)) => g("십 대 소녀", "십 대 소년", "십 대 청소년"),
        Some(AgeWords::Band(B::YoungAdult)) => g("젊은 여성", "젊은 남성", "젊은이"),
        Some(AgeWords::Band(B::Adult)) => g(
            "삼십 대에서 사십 대 초반의 여성",
            "삼십 대에서 사십 대 초반의 남성",
            "삼십 대에서 사십 대 초반의 성인",
        ),
        Some(AgeWords::Band(B::MiddleAged)) => g(
            "사십 대 후반에서 오십 대의 여성",
            "사십 대 후반에서 오십 대의 남성",
            "사십 대 후반에서 오십 대의 성인",
        ),
        Some(AgeWords::Band(B::Senior) | AgeWords::Range(AgeRange::Older)) => {
            g("나이 든 여성", "나이 든 남성", "어르신")
        }
        Some(AgeWords::Range(AgeRange::Child)) => g("여자아이", "남자아이", "아이"),
        Some(AgeWords::Range(AgeRange::Adult)) => g("여성", "남성", "성인"),
    }
}

fn child(age: AgeWords) -> &'static str {
    match age {
        AgeWords::Band(AgeBand::Under5) => "어린아이",
        AgeWords::Band(AgeBand::Child) => "초등학생 또래의 아이",
        AgeWords::Band(AgeBand::Teen) => "십 대 청소년",
        _ => "아이",
    }
}

fn subject(s: Subject) -> String {
    match s {
        Subject::Person { age, gender } => person(age, gender).to_owned(),
        Subject::Group { size, child: youngest } => {
            let group = match size {
                Some(SizeBand::Two) => "함께 길을 나선 두 사람",
                Some(SizeBand::ThreeOrFour) => "서너 명의 가족",
                Some(SizeBand::Several) => "대가족",
                None => "한 가족",
            };
            match youngest {
                Some(c) => format!("{} 포함한 {group}", object_of(child(c))),
                None => group.to_owned(),
            }
        }
    }
}

impl Phrasing for Korean {
    fn story(&self, f: &Facts, opening: Opening) -> String {
        let who = subject(f.subject);
        let group = matches!(f.subject, Subject::Group { .. });
        let time = f.arrival.map(|p| format!("{}에 ", self.period(p))).unwrap_or_default();
        let arrived = format!(
            "{time}{}도착한 ",
            f.destination.map(|p| format!("{}에 ", self.place(p))).unwrap_or_default()
        );
        let when = f.progress.map(|p| format!("{}에 ", self.period(p))).unwrap_or_default();
        // In a group, one of them made the progress.
        let doer = if group {
            format!("{arrived}{who} 가운데 한 명이")
        } else {
            format!("{arrived}{}", subject_of(&who))
        };
        let body = match f.kind {
            StoryKind::ReachedSafety => format!(
                "{} {time}{}안전을 찾았습니다.",
                subject_of(&who),
                f.destination.map(|p| format!("{}에서 ", self.place(p))).unwrap_or_default()
            ),
            StoryKind::Settling => format!("{arrived}{} 새로운 삶에 적응하고 있습니다.", subject_of(&who)),
            StoryKind::LanguageCourse => format!("{doer} {when}어학 과정을 마쳤습니다."),
            StoryKind::School => format!("{doer} {when}학교에 다니기 시작했습니다."),
            StoryKind::Work => format!("{doer} {when}일자리를 얻었습니다."),
        };
        match opening {
            Opening::Plain => body,
            other => format!("{} {body}", self.opening(other)),
        }
    }

    fn period(&self, period: Period) -> String {
        match period {
            Period::Month { year, month } => format!("{year}년 {month}월"),
            Period::Quarter { year, quarter } => format!("{year}년 {quarter}분기"),
            Period::Year { year } => format!("{year}년"),
            // Named by the year it starts in, with the months it spans, as
            // the English "from September 2025 to August 2026" does.
            Period::FiscalYear { year, .. } => {
                let (first, last) = (period.first_day(), period.last_day());
                format!(
                    "{year} 회계연도({}년 {}월~{}년 {}월)",
                    first.year(),
                    u8::from(first.month()),
                    last.year(),
                    u8::from(last.month())
                )
            }
        }
    }

    fn country(&self, country: CountryCode) -> Option<&'static str> {
        Some(match country.as_str() {
            "AT" => "오스트리아",
            "AU" => "호주",
            "BE" => "벨기에",
            "CA" => "캐나다",
            "CH" => "스위스",
            "CZ" => "체코",
            "DE" => "독일",
            "DK" => "덴마크",
            "ES" => "스페인",
            "FI" => "핀란드",
            "FR" => "프랑스",
            "GB" => "영국",
            "IE" => "아일랜드",
            "IT" => "이탈리아",
            "JP" => "일본",
            "KR" => "한국",
            "NL" => "네덜란드",
            "NO" => "노르웨이",
            "NZ" => "뉴질랜드",
            "PL" => "폴란드",
            "PT" => "포르투갈",
            "SE" => "스웨덴",
            "TW" => "대만",
            "US" => "미국",
            _ => return None,
        })
    }

    fn region(&self, region: Region) -> String {
        match region {
            Region::EastAsia => "동아시아",
            Region::SoutheastAsia => "동남아시아",
            Region::SouthAndCentralAsia => "남아시아·중앙아시아",
            Region::WesternAsia => "서아시아",
            Region::Europe => "유럽",
            Region::NorthAmerica => "북아메리카",
            Region::LatinAmerica => "중남미·카리브해 지역",
            Region::Africa => "아프리카",
            Region::Oceania => "오세아니아",
        }
        .to_owned()
    }

    fn step(&self, step: Step) -> &'static str {
        match step {
            Step::WidenArrival => "도착 시기를 더 넓게 잡음",
            Step::WidenProgress => "진전 시기를 더 넓게 잡음",
            Step::WidenAge => "나이대를 넓힘",
            Step::WidenSize => "인원수를 뺌",
            Step::DestinationToRegion => "목적지를 지역으로 표시함",
            Step::DropGender => "성별을 뺌",
            Step::DropProgress => "진전 시기를 뺌",
            Step::DropArrival => "도착 시기를 뺌",
            Step::DropDestination => "목적지를 뺌",
            Step::DropAge => "나이를 뺌",
        }
    }

    fn gate(&self, gate: Gate) -> &'static str {
        match gate {
            Gate::Facts => "전할 내용",
            Gate::Consent => "동의",
            Gate::OutOfDanger => "위험에서 벗어남",
            Gate::Embargo => "공개 유예 기간",
            Gate::KAnonymity => "한 사례로 추적되지 않음",
        }
    }

    fn reason(&self, reason: &Reason) -> String {
        // Stage, outcome and milestone words as the pages show them.
        let t = Messages::of(Lang::Ko);
        match *reason {
            Reason::Missing { kind } => format!("이 사례에는 전할 “{}” 기록이 없습니다.", t.kind(kind)),
            Reason::ChildAlone => "혼자 이동하는 아동에 관한 이야기는 쓰지 않습니다.".to_owned(),
            Reason::NoConsent { missing, of } => {
                format!("이 사례의 {of}명 가운데 {missing}명이 공개에 동의하지 않았습니다.")
            }
            Reason::NotArrived { stage } => {
                format!("이 사례는 “{}” 단계입니다. 이야기는 도착한 뒤에 씁니다.", t.stage(stage))
            }
            Reason::ClosedAs { outcome } => format!(
                "이 사례는 “{}” 상태로 종결되었습니다. 이에 관한 이야기는 공개하지 않습니다.",
                t.outcome(outcome)
            ),
            Reason::DangerAfterArrival { kind } => {
                format!("도착일 또는 그 뒤에 “{}” 기록이 있습니다.", t.kind(kind))
            }
            Reason::Embargoed { until, days } => format!(
                "{}년 {}월 {}일 전에는 공개할 수 없습니다(이야기에 나오는 가장 최근 기록으로부터 {days}일 뒤).",
                until.year(),
                u8::from(until.month()),
                until.day()
            ),
            Reason::TooFew { fits, k } => format!(
                "모든 항목을 더 넓게 잡아도 이 이야기에 해당하는 사례는 {fits}건뿐입니다(최소 {k}건 필요)."
            ),
            Reason::Pending => {
                "코디네이터가 초안을 검토할 때 확인합니다. 모든 사례의 색인이 필요합니다.".to_owned()
            }
        }
    }

    fn opening(&self, opening: Opening) -> &'static str {
        match opening {
            Opening::Thanks => "여러분의 후원 덕분에",
            Opening::News => "기쁜 소식을 전합니다.",
            Opening::Plain => "",
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::super::tests::speaks_only_its_own_script;
    use super::*;
    use crate::publication::region::Place;

    #[test]
    fn particles_follow_the_final_consonant() {
        assert_eq!(subject_of("여성"), "여성이");
        assert_eq!(subject_of("어르신"), "어르신이");
        assert_eq!(subject_of("젊은이"), "젊은이가");
        assert_eq!(object_of("아이"), "아이를");
        assert_eq!(object_of("십 대 청소년"), "십 대 청소년을");
    }

    #[test]
    fn a_story_reads_as_a_korean_newsletter_sentence() {
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
            Korean.story(&facts, Opening::Thanks),
            "여러분의 후원 덕분에 삼십 대에서 사십 대 초반의 여성이 2024년 3월에 독일에서 안전을 찾았습니다."
        );
        let family = Facts {
            kind: StoryKind::Work,
            subject: Subject::Group {
                size: Some(SizeBand::ThreeOrFour),
                child: Some(AgeWords::Band(AgeBand::Child)),
            },
            destination: Some(Place::Region(Region::Europe)),
            progress: Some(Period::Year { year: 2025 }),
            ..facts
        };
        assert_eq!(
            Korean.story(&family, Opening::Plain),
            "2024년 3월에 유럽에 도착한 초등학생 또래의 아이를 포함한 서너 명의 가족 가운데 한 명이 2025년에 일자리를 얻었습니다."
        );
    }

    #[test]
    fn periods_are_said_the_korean_way() {
        assert_eq!(Korean.period(Period::Month { year: 2024, month: 3 }), "2024년 3월");
        assert_eq!(Korean.period(Period::Quarter { year: 2024, quarter: 1 }), "2024년 1분기");
        assert_eq!(Korean.period(Period::Year { year: 2024 }), "2024년");
        assert_eq!(
            Korean.period(Period::FiscalYear { year: 2025, start_month: 9 }),
            "2025 회계연도(2025년 9월~2026년 8월)"
        );
    }

    #[test]
    fn every_story_is_korean_with_no_latin_letters_and_only_its_periods_digits() {
        speaks_only_its_own_script(&Korean, "니다.");
    }
}
