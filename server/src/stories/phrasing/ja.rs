//! Japanese story templates, written for a newsletter in です・ます. Every
//! word a story can carry in Japanese is here. Ages are written in kanji
//! numerals (三十代) so that the only digits in a story are its periods'.

use super::Phrasing;
use crate::cases::model::{AgeBand, CountryCode, Gender};
use crate::i18n::Lang;
use crate::publication::period::Period;
use crate::publication::region::Region;
use crate::stories::model::{
    AgeRange, AgeWords, Facts, Gate, Opening, Reason, SizeBand, Step, StoryKind, Subject,
};
use crate::web::messages::Messages;

pub struct Japanese;

fn person(age: Option<AgeWords>, gender: Option<Gender>) -> &'static str {
    use AgeBand as B;
    let g = |f: &'static str, m: &'static str, n: &'static str| match gender {
        Some(Gender::Female) => f,
        Some(Gender::Male) => m,
        Some(Gender::Other) | None => n,
    };
    match age {
        None => "難民の方",
        Some(AgeWords::Band(B::Under5)) => g("幼い女の子", "幼い男の子", "幼い子ども"),
        Some(AgeWords::Band(B::Child)) => {
            g("小学生くらいの女の子", "小学生くらいの男の子", "小学生くらいの子ども")
        }
        Some(AgeWords::Band(B::Teen)) => g("十代の少女", "十代の少年", "十代の若者"),
        Some(AgeWords::Band(B::YoungAdult)) => g("若い女性", "若い男性", "若い方"),
        Some(AgeWords::Band(B::Adult)) => {
            g("三十代から四十代前半の女性", "三十代から四十代前半の男性", "三十代から四十代前半の方")
        }
        Some(AgeWords::Band(B::MiddleAged)) => {
            g("四十代後半から五十代の女性", "四十代後半から五十代の男性", "四十代後半から五十代の方")
        }
        Some(AgeWords::Band(B::Senior) | AgeWords::Range(AgeRange::Older)) => {
            g("年配の女性", "年配の男性", "年配の方")
        }
        Some(AgeWords::Range(AgeRange::Child)) => g("女の子", "男の子", "子ども"),
        Some(AgeWords::Range(AgeRange::Adult)) => g("女性", "男性", "大人の方"),
    }
}

fn child(age: AgeWords) -> &'static str {
    match age {
        AgeWords::Band(AgeBand::Under5) => "幼い子ども",
        AgeWords::Band(AgeBand::Child) => "小学生くらいの子ども",
        AgeWords::Band(AgeBand::Teen) => "十代の子ども",
        _ => "子ども",
    }
}

fn subject(s: Subject) -> String {
    match s {
        Subject::Person { age, gender } => person(age, gender).to_owned(),
        Subject::Group { size, child: youngest } => {
            let group = match size {
                Some(SizeBand::Two) => "一緒に旅をしてきた二人",
                Some(SizeBand::ThreeOrFour) => "三、四人の家族",
                Some(SizeBand::Several) => "大人数の家族",
                None => "ある家族",
            };
            match youngest {
                Some(c) => format!("{}を含む{group}", child(c)),
                None => group.to_owned(),
            }
        }
    }
}

impl Phrasing for Japanese {
    fn story(&self, f: &Facts, opening: Opening) -> String {
        let who = subject(f.subject);
        let group = matches!(f.subject, Subject::Group { .. });
        // Japanese puts the time before the place: 2024年3月にドイツで.
        let time = f.arrival.map(|p| format!("{}に", self.period(p))).unwrap_or_default();
        let arrived = format!(
            "{time}{}到着した",
            f.destination.map(|p| format!("{}へ", self.place(p))).unwrap_or_default()
        );
        let when = f.progress.map(|p| format!("{}に", self.period(p))).unwrap_or_default();
        // In a group, one of them made the progress.
        let doer =
            if group { format!("{arrived}{who}のうちお一人") } else { format!("{arrived}{who}") };
        let body = match f.kind {
            StoryKind::ReachedSafety => format!(
                "{who}が{time}{}安全を得ました。",
                f.destination.map(|p| format!("{}で", self.place(p))).unwrap_or_default()
            ),
            StoryKind::Settling => format!("{arrived}{who}が、新しい生活になじみつつあります。"),
            StoryKind::LanguageCourse => format!("{doer}が、{when}語学コースを修了しました。"),
            StoryKind::School => format!("{doer}が、{when}学校に通い始めました。"),
            StoryKind::Work => format!("{doer}が、{when}仕事に就きました。"),
        };
        format!("{}{body}", self.opening(opening))
    }

    fn period(&self, period: Period) -> String {
        match period {
            Period::Month { year, month } => format!("{year}年{month}月"),
            Period::Quarter { year, quarter } => format!("{year}年第{quarter}四半期"),
            Period::Year { year } => format!("{year}年"),
            // Named by the year it starts in, with the months it spans, as
            // the English "from September 2025 to August 2026" does.
            Period::FiscalYear { year, .. } => {
                let (first, last) = (period.first_day(), period.last_day());
                format!(
                    "{year}年度（{}年{}月〜{}年{}月）",
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
            "AT" => "オーストリア",
            "AU" => "オーストラリア",
            "BE" => "ベルギー",
            "CA" => "カナダ",
            "CH" => "スイス",
            "CZ" => "チェコ",
            "DE" => "ドイツ",
            "DK" => "デンマーク",
            "ES" => "スペイン",
            "FI" => "フィンランド",
            "FR" => "フランス",
            "GB" => "イギリス",
            "IE" => "アイルランド",
            "IT" => "イタリア",
            "JP" => "日本",
            "KR" => "韓国",
            "NL" => "オランダ",
            "NO" => "ノルウェー",
            "NZ" => "ニュージーランド",
            "PL" => "ポーランド",
            "PT" => "ポルトガル",
            "SE" => "スウェーデン",
            "TW" => "台湾",
            "US" => "アメリカ合衆国",
            _ => return None,
        })
    }

    fn region(&self, region: Region) -> String {
        match region {
            Region::EastAsia => "東アジア",
            Region::SoutheastAsia => "東南アジア",
            Region::SouthAndCentralAsia => "南アジア・中央アジア",
            Region::WesternAsia => "西アジア",
            Region::Europe => "ヨーロッパ",
            Region::NorthAmerica => "北アメリカ",
            Region::LatinAmerica => "中南米・カリブ海地域",
            Region::Africa => "アフリカ",
            Region::Oceania => "オセアニア",
        }
        .to_owned()
    }

    fn step(&self, step: Step) -> &'static str {
        match step {
            Step::WidenArrival => "到着時期を大まかにした",
            Step::WidenProgress => "進展の時期を大まかにした",
            Step::WidenAge => "年齢の幅を広げた",
            Step::WidenSize => "人数を省いた",
            Step::DestinationToRegion => "行き先を地域名にした",
            Step::DropGender => "性別を省いた",
            Step::DropProgress => "進展の時期を省いた",
            Step::DropArrival => "到着時期を省いた",
            Step::DropDestination => "行き先を省いた",
            Step::DropAge => "年齢を省いた",
        }
    }

    fn gate(&self, gate: Gate) -> &'static str {
        match gate {
            Gate::Facts => "伝えられること",
            Gate::Consent => "同意",
            Gate::OutOfDanger => "危険を脱していること",
            Gate::Embargo => "公開までの待機期間",
            Gate::KAnonymity => "一つのケースに結びつかないこと",
        }
    }

    fn reason(&self, reason: &Reason) -> String {
        // Stage, outcome and milestone words as the pages show them.
        let t = Messages::of(Lang::Ja);
        match *reason {
            Reason::Missing { kind } => {
                format!("このケースには、伝えられる「{}」のマイルストーンがありません。", t.kind(kind))
            }
            Reason::ChildAlone => "ひとりで移動している子どもについての記事は書きません。".to_owned(),
            Reason::NoConsent { missing, of } => {
                format!("このケースの{of}人のうち{missing}人が、公開に同意していません。")
            }
            Reason::NotArrived { stage } => {
                format!("このケースは「{}」の段階です。記事は到着を待って書きます。", t.stage(stage))
            }
            Reason::ClosedAs { outcome } => {
                format!("このケースは「{}」として終了しました。記事は公開しません。", t.outcome(outcome))
            }
            Reason::DangerAfterArrival { kind } => {
                format!("到着日以降に「{}」のマイルストーンが記録されています。", t.kind(kind))
            }
            Reason::Embargoed { until, days } => format!(
                "{}年{}月{}日までは公開できません（記事が触れる最新のマイルストーンから{days}日後）。",
                until.year(),
                u8::from(until.month()),
                until.day()
            ),
            Reason::TooFew { fits, k } => format!(
                "どの項目を大まかにしても、この記事に当てはまるケースは{fits}件だけです（{k}件以上必要です）。"
            ),
            Reason::Pending => {
                "コーディネーターが下書きを確認するときに調べます。すべてのケースの索引が必要です。"
                    .to_owned()
            }
        }
    }

    fn opening(&self, opening: Opening) -> &'static str {
        match opening {
            Opening::Thanks => "皆さまのご支援により、",
            Opening::News => "うれしいお知らせです。",
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
    fn a_story_reads_as_a_japanese_newsletter_sentence() {
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
            Japanese.story(&facts, Opening::Thanks),
            "皆さまのご支援により、三十代から四十代前半の女性が2024年3月にドイツで安全を得ました。"
        );
        let family = Facts {
            kind: StoryKind::School,
            subject: Subject::Group { size: None, child: Some(AgeWords::Band(AgeBand::Under5)) },
            destination: Some(Place::Region(Region::Europe)),
            progress: Some(Period::Quarter { year: 2025, quarter: 1 }),
            ..facts
        };
        assert_eq!(
            Japanese.story(&family, Opening::Plain),
            "2024年3月にヨーロッパへ到着した幼い子どもを含むある家族のうちお一人が、2025年第1四半期に学校に通い始めました。"
        );
    }

    #[test]
    fn periods_are_said_the_japanese_way() {
        assert_eq!(Japanese.period(Period::Month { year: 2024, month: 3 }), "2024年3月");
        assert_eq!(Japanese.period(Period::Quarter { year: 2024, quarter: 1 }), "2024年第1四半期");
        assert_eq!(Japanese.period(Period::Year { year: 2024 }), "2024年");
        assert_eq!(
            Japanese.period(Period::FiscalYear { year: 2025, start_month: 9 }),
            "2025年度（2025年9月〜2026年8月）"
        );
    }

    #[test]
    fn every_story_is_japanese_with_no_latin_letters_and_only_its_periods_digits() {
        speaks_only_its_own_script(&Japanese, "。");
    }
}
