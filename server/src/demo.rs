//! `safehouse demo`: a throwaway instance with sample data and one user of
//! each role, on loopback only. Everything lives in a fresh temporary
//! directory that is removed when the demo stops; the recovery key is made
//! in memory and thrown away. Never use a demo instance for real cases.

use std::path::PathBuf;
use std::sync::Arc;

use rand::Rng;
use rand::distributions::Alphanumeric;
use secrecy::SecretString;
use serde::Serialize;

use crate::accounts::model::{Actor, Password, Role, Roles, Username};
use crate::accounts::service as accounts;
use crate::cases::model::{
    AgeBand, Alias, CountryCode, EventDate, Gender, Group, MilestoneKind, Note, Person, ShelterCode, Stage,
    Status,
};
use crate::cases::service::{self as cases, CaseDraft, MilestoneDraft};
use crate::clock::Clock;
use crate::config::KdfParams;
use crate::crypto::Identity;
use crate::error::ServiceError;
use crate::i18n::Lang;
use crate::keyring::Team;
use crate::membership;
use crate::setup::{self, InitOptions, SetupError};
use crate::shelters::{self, ShelterDetails};
use crate::vault::Vault;

/// One demo login, printed for a newcomer (and as JSON for scripts).
#[derive(Debug, Serialize)]
pub struct DemoUser {
    pub role: &'static str,
    pub username: String,
    pub password: String,
    /// The authenticator secret (base32), to type into an app or oathtool.
    pub totp_secret: String,
    pub user_id: String,
}

#[derive(Debug, Serialize)]
pub struct DemoInfo {
    pub url: String,
    pub data_dir: String,
    pub users: Vec<DemoUser>,
    pub cases: usize,
}

pub struct Demo {
    pub vault: Vault,
    pub users: Vec<DemoUser>,
    pub cases: usize,
    pub root: PathBuf,
}

fn random_password() -> String {
    let body: String = rand::thread_rng().sample_iter(&Alphanumeric).take(20).map(char::from).collect();
    format!("demo-{body}")
}

fn field<T>(r: Result<T, crate::cases::model::FieldError>) -> Result<T, SetupError> {
    r.map_err(|e| SetupError::Service(ServiceError::Invalid(e)))
}

async fn add_user(
    vault: &Vault,
    coordinator: &Actor,
    role: Role,
    name: &str,
) -> Result<(DemoUser, Actor), SetupError> {
    let username = field(Username::parse(name))?;
    let roles: Roles = [role].into();
    let created = accounts::create_account_unchecked(vault, &username, roles).await?;
    let password = random_password();
    let issued = accounts::activate(
        vault,
        created.activation.expose(),
        &field(Password::parse(SecretString::from(password.clone())))?,
    )
    .await?;
    membership::certify(vault, coordinator, created.user_id, &issued.fingerprint).await?;
    match role {
        Role::Coordinator => {
            membership::admit(vault, coordinator, Team::Coordinators, created.user_id).await?
        }
        Role::Communications => {
            membership::admit(vault, coordinator, Team::Communications, created.user_id).await?
        }
        _ => {}
    }
    let totp_secret = crate::accounts::totp::enrol_for_demo(vault, created.user_id).await?;
    let user = DemoUser {
        role: role.as_str(),
        username: username.as_str().to_owned(),
        password,
        totp_secret,
        user_id: created.user_id.to_string(),
    };
    Ok((user, issued.actor))
}

/// A sample person: alias, age band, gender, consent.
type SamplePerson = (&'static str, AgeBand, Option<Gender>, bool);

fn person(alias: &str, band: AgeBand, gender: Option<Gender>, consent: bool) -> Result<Person, SetupError> {
    Ok(Person { alias: field(Alias::parse(alias))?, age_band: band, gender, consent })
}

/// Build the demo instance under a fresh temporary directory.
pub async fn build(clock: Arc<dyn Clock>) -> Result<Demo, SetupError> {
    build_in(clock, None).await
}

/// The four hand-written sample cases' aliases and note, in the demo's
/// language: names in Hangul or katakana show that any script is taken.
fn sample_words(lang: Option<Lang>) -> ([&'static str; 5], &'static str) {
    match lang {
        None | Some(Lang::En) => {
            (["Magpie", "Willow", "Sparrow", "Heron", "Pebble"], "Demo case. Invented; no real person.")
        }
        Some(Lang::Ja) => (
            ["カササギ", "ヤナギ", "スズメ", "アオサギ", "コイシ"],
            "デモの事例です。架空の人物で、実在しません。",
        ),
        Some(Lang::Ko) => (
            ["까치", "버들", "참새", "왜가리", "조약돌"],
            "데모 사례입니다. 지어낸 인물이며 실제 인물이 아닙니다.",
        ),
    }
}

/// As `build`, with every demo user's own language set to `lang` (as each
/// would choose it on their account page) and the sample cases' words in it.
pub async fn build_in(clock: Arc<dyn Clock>, lang: Option<Lang>) -> Result<Demo, SetupError> {
    let suffix: String = rand::thread_rng().sample_iter(&Alphanumeric).take(12).map(char::from).collect();
    let root = std::env::temp_dir().join(format!("safehouse-demo-{suffix}"));
    let recovery = Identity::generate();
    let coordinator_password = random_password();
    let report = setup::init(
        InitOptions {
            data_dir: root.join("data"),
            secrets_dir: root.join("secrets"),
            recovery: vec![recovery.recipient()],
            coordinator: field(Username::parse("coord.amber"))?,
            coordinator_password: field(Password::parse(SecretString::from(coordinator_password.clone())))?,
            admin: field(Username::parse("admin.slate"))?,
            kdf: KdfParams::FLOOR,
            database_url: None,
            database_allow_insecure: false,
        },
        clock.clone(),
    )
    .await?;
    // The organisation's fiscal year starts in September (DOMAIN.md).
    let vault = report.vault.with_publication(crate::publication::PublicationPolicy {
        fiscal_year_start: 9,
        ..crate::publication::PublicationPolicy::default()
    });
    let coordinator = accounts::unlock(&vault, "coord.amber", &coordinator_password).await?;
    let mut users = vec![DemoUser {
        role: "coordinator",
        username: "coord.amber".into(),
        password: coordinator_password,
        totp_secret: crate::accounts::totp::enrol_for_demo(&vault, coordinator.user_id()).await?,
        user_id: coordinator.user_id().to_string(),
    }];
    let admin_password = random_password();
    let admin = accounts::activate(
        &vault,
        report.admin_activation.expose(),
        &field(Password::parse(SecretString::from(admin_password.clone())))?,
    )
    .await?;
    users.push(DemoUser {
        role: "admin",
        username: "admin.slate".into(),
        password: admin_password,
        totp_secret: crate::accounts::totp::enrol_for_demo(&vault, admin.actor.user_id()).await?,
        user_id: admin.actor.user_id().to_string(),
    });

    let (river, river_actor) = add_user(&vault, &coordinator, Role::Caseworker, "case.river").await?;
    let (pine, pine_actor) = add_user(&vault, &coordinator, Role::Caseworker, "case.pine").await?;
    let (wren, wren_actor) = add_user(&vault, &coordinator, Role::Communications, "comms.wren").await?;
    let (fern, fern_actor) = add_user(&vault, &coordinator, Role::Auditor, "audit.fern").await?;
    if let Some(lang) = lang {
        for actor in [&coordinator, &admin.actor, &river_actor, &pine_actor, &wren_actor, &fern_actor] {
            accounts::set_language(&vault, actor, Some(lang)).await?;
        }
    }
    let pine_id = crate::ids::UserId::parse(&pine.user_id)
        .ok_or(SetupError::Service(ServiceError::Internal("demo id")))?;
    users.extend([river, pine, wren, fern]);

    let mut shelter_ids = Vec::new();
    for (code, region, capacity) in
        [("JRL-01", "Jilin", "60"), ("YAN-02", "Yanbian", "80"), ("BKK-01", "Bangkok", "50")]
    {
        let details = field(ShelterDetails::parse(region, capacity, "Sample shelter for the demo."))?;
        shelter_ids
            .push(shelters::create(&vault, &coordinator, field(ShelterCode::parse(code))?, details).await?);
    }

    let today = clock.now().date();
    let ([magpie, willow, sparrow, heron, pebble], sample_note) = sample_words(lang);
    let samples: [(&[SamplePerson], Stage, usize); 4] = [
        (&[(magpie, AgeBand::YoungAdult, Some(Gender::Male), true)], Stage::Sheltered, 0),
        (
            &[(willow, AgeBand::Adult, Some(Gender::Female), true), (sparrow, AgeBand::Child, None, false)],
            Stage::InTransit,
            1,
        ),
        (&[(heron, AgeBand::MiddleAged, Some(Gender::Female), true)], Stage::ThirdCountryProcessing, 2),
        (&[(pebble, AgeBand::Teen, Some(Gender::Male), false)], Stage::Intake, 0),
    ];
    let mut count = 0;
    for (persons, stage, shelter) in samples {
        let group = field(Group::new(
            persons.iter().map(|(a, b, g, c)| person(a, *b, *g, *c)).collect::<Result<Vec<_>, _>>()?,
        ))?;
        let draft = CaseDraft {
            group,
            shelter: shelter_ids.get(shelter).copied(),
            stage,
            status: Status::Open,
            notes: field(Note::parse(sample_note))?,
        };
        let id = cases::create(&vault, &river_actor, draft).await?;
        let milestone = MilestoneDraft {
            kind: MilestoneKind::ContactMade,
            date: field(EventDate::parse(&format!("{}", today.year() - 1), today))?,
            country: Some(field(CountryCode::parse("CN"))?),
            place_code: None,
            note: field(Note::parse("First contact through a trusted helper."))?,
            sponsorship: None,
        };
        cases::add_milestone(&vault, &river_actor, id, milestone).await?;
        if count == 1 {
            membership::assign(&vault, &coordinator, id, pine_id).await?;
        }
        count += 1;
    }
    count += generated_caseload(&vault, &coordinator, &shelter_ids, pine_id, today, lang).await?;
    let resettled = resettled_cohort(&vault, &coordinator, today, lang).await?;
    count += resettled.len();
    sponsorship_plan(&vault, &coordinator, &shelter_ids, today).await?;
    sample_stories(&vault, &coordinator, &river_actor, &resettled).await?;
    sample_figures(&vault, &coordinator, today).await?;
    sample_aid(&vault, &coordinator, &river_actor, &shelter_ids, today).await?;
    cases::list_visible(&vault, &coordinator).await?;
    Ok(Demo { vault, users, cases: count, root })
}

/// How many invented cases the coordinator's caseload adds: more than two
/// pages of the case list, so paging, sorting and the dashboard have
/// something to show.
const GENERATED_CASES: usize = 120;

/// Invented cases spread over every stage, the statuses and outcomes, the
/// shelters and several group sizes, with milestones this month and
/// earlier; every fifth one held by case.pine. Deterministic, so the
/// walkthrough's pictures stay comparable from run to run.
async fn generated_caseload(
    vault: &Vault,
    coordinator: &Actor,
    shelter_ids: &[crate::ids::ShelterId],
    pine: crate::ids::UserId,
    today: time::Date,
    lang: Option<Lang>,
) -> Result<usize, SetupError> {
    const EN_NAMES: [&str; 24] = [
        "Aster", "Bramble", "Cedar", "Dune", "Ember", "Fable", "Garnet", "Hazel", "Iris", "Juniper",
        "Kestrel", "Linden", "Maple", "Nettle", "Opal", "Poppy", "Quill", "Rowan", "Sage", "Thistle",
        "Umber", "Violet", "Yarrow", "Zinnia",
    ];
    const JA_NAMES: [&str; 24] = [
        "ツバキ",
        "サクラ",
        "スギ",
        "マツ",
        "カエデ",
        "ナデシコ",
        "キキョウ",
        "スミレ",
        "アザミ",
        "ヒバリ",
        "ツツジ",
        "カモメ",
        "ホタル",
        "ユリ",
        "アヤメ",
        "モミジ",
        "ミズキ",
        "ハギ",
        "キリ",
        "クヌギ",
        "ナギ",
        "シオン",
        "リンドウ",
        "ヨモギ",
    ];
    const KO_NAMES: [&str; 24] = [
        "동백",
        "벚꽃",
        "삼나무",
        "소나무",
        "단풍",
        "패랭이",
        "도라지",
        "제비꽃",
        "엉겅퀴",
        "종다리",
        "진달래",
        "갈매기",
        "반딧불",
        "백합",
        "붓꽃",
        "느티나무",
        "산딸기",
        "싸리",
        "오동",
        "상수리",
        "개나리",
        "무궁화",
        "용담",
        "들국화",
    ];
    let names = match lang {
        Some(Lang::Ja) => JA_NAMES,
        Some(Lang::Ko) => KO_NAMES,
        _ => EN_NAMES,
    };
    const BANDS: [AgeBand; 7] = AgeBand::ALL;
    const GENDERS: [Option<Gender>; 4] =
        [Some(Gender::Female), Some(Gender::Male), None, Some(Gender::Other)];
    for n in 0..GENERATED_CASES {
        let size = [1, 1, 2, 1, 3, 1, 4].get(n % 7).copied().unwrap_or(1);
        let persons = (0..size)
            .map(|k| {
                let name = names.get((n + k * 7) % names.len()).copied().unwrap_or("Aster");
                let alias = format!("{name} {}", n + 1);
                let band = BANDS.get((n + k * 3) % BANDS.len()).copied().unwrap_or(AgeBand::Adult);
                person(&alias, band, GENDERS.get((n + k) % GENDERS.len()).copied().flatten(), n % 3 == 0)
            })
            .collect::<Result<Vec<_>, _>>()?;
        let stage = Stage::ALL.get(n % Stage::ALL.len()).copied().unwrap_or(Stage::Intake);
        let status = match n % 10 {
            7 => Status::OnHold,
            9 => Status::ALL.get(2 + (n / 10) % 8).copied().unwrap_or(Status::Open),
            _ => Status::Open,
        };
        let draft = CaseDraft {
            group: field(Group::new(persons))?,
            shelter: if n % 6 == 5 { None } else { shelter_ids.get(n % shelter_ids.len()).copied() },
            stage,
            status: if status.is_closed() { Status::Open } else { status },
            notes: field(Note::parse("Demo case. Invented; no real person."))?,
        };
        let id = cases::create(vault, coordinator, draft.clone()).await?;
        // Months back, so the dashboard has milestones this month and older.
        let months_back = (n % 5) as i32;
        let (year, month) = {
            let m = today.month() as i32 - 1 - months_back;
            (today.year() + m.div_euclid(12), m.rem_euclid(12) + 1)
        };
        let date = if months_back == 0 { today.to_string() } else { format!("{year}-{month:02}") };
        let kind = if stage.is_out_of_danger() { MilestoneKind::Arrived } else { MilestoneKind::Sheltered };
        let milestone = MilestoneDraft {
            kind,
            date: field(EventDate::parse(&date, today))?,
            country: Some(field(CountryCode::parse(if stage.is_out_of_danger() { "KR" } else { "CN" }))?),
            place_code: None,
            note: field(Note::parse("Invented milestone."))?,
            sponsorship: None,
        };
        cases::add_milestone(vault, coordinator, id, milestone).await?;
        if status.is_closed() {
            // A new case cannot start closed: close it as a coordinator would.
            cases::update(vault, coordinator, id, 1, CaseDraft { status, ..draft }).await?;
        }
        if n % 5 == 0 {
            membership::assign(vault, coordinator, id, pine).await?;
        }
    }
    Ok(GENERATED_CASES)
}

/// How many invented people the demo has resettled long enough ago for
/// stories to pass the gates: enough alike in age, arrival and destination
/// that a story about one fits at least k of them.
const RESETTLED_CASES: usize = 64;

/// A month `back` months before `today`'s, as `YYYY-MM`.
fn month_before(today: time::Date, back: i32) -> String {
    let m = today.month() as i32 - 1 - back;
    format!("{}-{:02}", today.year() + m.div_euclid(12), m.rem_euclid(12) + 1)
}

/// Invented people who crossed through transit countries and arrived in
/// Japan or South Korea 12 to 23 months ago, most with consent, some with a
/// language course, school or work since: what the stories and figures
/// pages are made from.
async fn resettled_cohort(
    vault: &Vault,
    coordinator: &Actor,
    today: time::Date,
    lang: Option<Lang>,
) -> Result<Vec<crate::ids::CaseId>, SetupError> {
    let mut ids = Vec::with_capacity(RESETTLED_CASES);
    const EN_NAMES: [&str; 12] = [
        "Lark", "Moss", "Brook", "Clover", "Finch", "Robin", "Willet", "Alder", "Plover", "Tansy", "Sorrel",
        "Teal",
    ];
    const JA_NAMES: [&str; 12] = [
        "ヒワ",
        "コケ",
        "セセラギ",
        "ミツバ",
        "アトリ",
        "コマドリ",
        "シギ",
        "ハンノキ",
        "チドリ",
        "タンポポ",
        "スイバ",
        "コガモ",
    ];
    const KO_NAMES: [&str; 12] = [
        "방울새",
        "이끼",
        "시냇물",
        "토끼풀",
        "되새",
        "울새",
        "도요새",
        "오리나무",
        "물떼새",
        "민들레",
        "수영",
        "쇠오리",
    ];
    let names = match lang {
        Some(Lang::Ja) => JA_NAMES,
        Some(Lang::Ko) => KO_NAMES,
        _ => EN_NAMES,
    };
    const TRANSIT: [&str; 3] = ["CN", "LA", "TH"];
    for n in 0..RESETTLED_CASES {
        let family = n % 4 == 3;
        let lead_band = if n % 4 == 0 { AgeBand::Adult } else { AgeBand::YoungAdult };
        let lead_gender = if n % 3 == 0 { Gender::Female } else { Gender::Male };
        let name = names.get(n % names.len()).copied().unwrap_or("Lark");
        let mut persons =
            vec![person(&format!("{name} {}", n + 200), lead_band, Some(lead_gender), n % 7 != 6)?];
        if family {
            persons.push(person(
                &format!("{name} {}b", n + 200),
                AgeBand::Adult,
                Some(Gender::Female),
                true,
            )?);
            persons.push(person(&format!("{name} {}c", n + 200), AgeBand::Under5, None, true)?);
        }
        let draft = CaseDraft {
            group: field(Group::new(persons))?,
            shelter: None,
            stage: if n % 2 == 0 { Stage::FollowUp } else { Stage::Arrived },
            status: Status::Open,
            notes: field(Note::parse("Demo case. Invented; no real person."))?,
        };
        let id = cases::create(vault, coordinator, draft).await?;
        ids.push(id);
        let arrived_back = 12 + (n % 12) as i32;
        let transit = TRANSIT.get(n % TRANSIT.len()).copied().unwrap_or("CN");
        let mut milestones = vec![
            (MilestoneKind::CrossedBorder, month_before(today, arrived_back + 2), Some(transit)),
            (MilestoneKind::Arrived, month_before(today, arrived_back), Some(destination(n))),
        ];
        match n % 6 {
            0 | 2 => milestones.push((
                MilestoneKind::LanguageCourseCompleted,
                month_before(today, arrived_back - 3),
                None,
            )),
            1 | 5 => milestones.push((MilestoneKind::Employed, month_before(today, arrived_back - 5), None)),
            4 if family => {
                milestones.push((MilestoneKind::Enrolled, month_before(today, arrived_back - 2), None))
            }
            _ => {}
        }
        for (kind, date, country) in milestones {
            let milestone = MilestoneDraft {
                kind,
                date: field(EventDate::parse(&date, today))?,
                country: country
                    .map(CountryCode::parse)
                    .transpose()
                    .map_err(|e| SetupError::Service(e.into()))?,
                place_code: None,
                note: field(Note::parse("Invented milestone."))?,
                sponsorship: None,
            };
            cases::add_milestone(vault, coordinator, id, milestone).await?;
        }
    }
    Ok(ids)
}

/// When a demo sponsorship step happened: `Cur(k)`, `k` months ago within
/// the current fiscal year (no earlier than its first month); `Last(k)`,
/// `k` months before the last fiscal year's final month.
#[derive(Clone, Copy)]
enum When {
    Cur(i32),
    Last(i32),
}

/// One demo child's time in the plan: the end (when, and how) if any, and
/// how many months before it (or before now) the child joined.
type PlanLine = (Option<(When, Option<crate::cases::model::LeaveReason>)>, i32);

/// About thirty children of the demo's cases in the education
/// sponsorship, joined over the last two years: five of one shelter left
/// in one month of last fiscal year for fear after an arrest; others moved,
/// reached safety or lost contact, in both fiscal years; three graduated.
/// Recorded through the milestone rules, so sealed like real ones.
async fn sponsorship_plan(
    vault: &Vault,
    coordinator: &Actor,
    shelter_ids: &[crate::ids::ShelterId],
    today: time::Date,
) -> Result<(), SetupError> {
    use crate::cases::model::{LeaveReason as R, SchoolLevel, SponsorCode, SponsorshipStep};
    use When::{Cur, Last};
    // (case, alias, band, shelter) of every child in an open case at a shelter.
    let mut children = Vec::new();
    for line in cases::list_visible(vault, coordinator).await? {
        let Some(shelter) = line.shelter.filter(|_| !line.status.is_closed()) else { continue };
        for (alias, facts) in line.aliases.iter().zip(&line.persons) {
            if facts.age_band.is_child() {
                children.push((line.id, alias.clone(), facts.age_band, shelter));
            }
        }
    }
    // The four sample cases' children first (their aliases have no number),
    // then the rest by alias: the same plan on every run.
    children.sort_by(|a, b| (a.1.contains(' '), &a.1).cmp(&(b.1.contains(' '), &b.1)));
    let first = shelter_ids.first().copied();
    let (fear, rest): (Vec<_>, Vec<_>) =
        children.into_iter().partition(|c| c.1.contains(' ') && Some(c.3) == first);
    let fear_plan: [PlanLine; 5] = [
        (Some((Last(4), Some(R::FearAfterArrest))), 3),
        (Some((Last(4), Some(R::FearAfterArrest))), 5),
        (Some((Last(4), Some(R::FearAfterArrest))), 8),
        (Some((Last(4), Some(R::FearAfterArrest))), 11),
        (Some((Last(4), Some(R::FearAfterArrest))), 14),
    ];
    let rest_plan: [PlanLine; 25] = [
        (None, 20),
        (None, 7),
        (Some((Last(1), None)), 12),
        (Some((Last(0), None)), 10),
        (Some((Cur(1), None)), 14),
        (Some((Last(6), Some(R::Moved))), 4),
        (Some((Cur(0), Some(R::Moved))), 9),
        (Some((Cur(2), Some(R::Moved))), 6),
        (Some((Last(2), Some(R::ReachedSafety))), 5),
        (Some((Cur(1), Some(R::ReachedSafety))), 8),
        (Some((Last(9), Some(R::LostContact))), 2),
        (Some((Cur(0), Some(R::LostContact))), 11),
        (None, 23),
        (None, 21),
        (None, 18),
        (None, 16),
        (None, 15),
        (None, 13),
        (None, 12),
        (None, 0),
        (None, 1),
        (None, 2),
        (None, 3),
        (None, 4),
        (None, 5),
    ];
    // Months from the current fiscal year's first month to this one.
    let fy_back =
        (i32::from(u8::from(today.month())) - i32::from(vault.publication.fiscal_year_start)).rem_euclid(12);
    let back = |w: When| match w {
        Cur(k) => k.min(fy_back),
        Last(k) => fy_back + 1 + k,
    };
    let plan = fear.iter().take(5).zip(fear_plan).chain(rest.iter().take(25).zip(rest_plan));
    for (n, ((case, alias, band, _), (end, gap))) in plan.enumerate() {
        let end_back = end.map(|(w, _)| back(w));
        // A child still in the plan joined `gap` months ago, within the
        // current fiscal year for the last few.
        let joined_back = match end_back {
            Some(b) => b + gap,
            None if gap < 6 => gap.min(fy_back),
            None => gap,
        };
        let level = match band {
            AgeBand::Under5 => SchoolLevel::PreSchool,
            AgeBand::Child => SchoolLevel::Primary,
            _ if n % 2 == 0 => SchoolLevel::LowerSecondary,
            _ => SchoolLevel::UpperSecondary,
        };
        let step = SponsorshipStep::Joined {
            child: field(Alias::parse(alias))?,
            level,
            sponsor: field(SponsorCode::parse(&format!("SP-{:04}", 101 + n)))?,
        };
        let joined = sponsorship_milestone(today, MilestoneKind::SponsorshipJoined, joined_back, step)?;
        let enrolment = cases::add_milestone(vault, coordinator, *case, joined).await?;
        if let (Some(end_back), Some((_, reason))) = (end_back, end) {
            let (kind, step) = match reason {
                Some(reason) => (MilestoneKind::SponsorshipLeft, SponsorshipStep::Left { enrolment, reason }),
                None => (MilestoneKind::SponsorshipGraduated, SponsorshipStep::Graduated { enrolment }),
            };
            let ended = sponsorship_milestone(today, kind, end_back, step)?;
            cases::add_milestone(vault, coordinator, *case, ended).await?;
        }
    }
    Ok(())
}

fn sponsorship_milestone(
    today: time::Date,
    kind: MilestoneKind,
    back: i32,
    step: crate::cases::model::SponsorshipStep,
) -> Result<MilestoneDraft, SetupError> {
    Ok(MilestoneDraft {
        kind,
        date: field(EventDate::parse(&month_before(today, back), today))?,
        country: None,
        place_code: None,
        note: field(Note::parse("Invented milestone."))?,
        sponsorship: Some(step),
    })
}

/// Where the cohort's case `n` arrived: mostly Japan and South Korea, a
/// few in six other countries (too few in each to be named in figures).
fn destination(n: usize) -> &'static str {
    const ELSEWHERE: [&str; 6] = ["US", "CA", "DE", "GB", "SE", "NZ"];
    match n % 3 {
        _ if n % 4 == 3 => "KR",
        1 => ELSEWHERE.get((n / 3) % ELSEWHERE.len()).copied().unwrap_or("US"),
        _ => "JP",
    }
}

/// A few stories approved by the coordinator (whatever the gates let
/// through, generalised as they decide), and one draft sent by case.river
/// waiting for review: the stories pages and the communications home then
/// show real output of the gates.
async fn sample_stories(
    vault: &Vault,
    coordinator: &Actor,
    river: &Actor,
    cohort: &[crate::ids::CaseId],
) -> Result<(), SetupError> {
    use crate::stories::model::{Opening, StoryKind};
    use crate::stories::service::{self as stories, Approval, Target};
    let kinds = [StoryKind::ReachedSafety, StoryKind::LanguageCourse, StoryKind::Settling, StoryKind::Work];
    let mut approved = 0;
    for (n, id) in cohort.iter().enumerate() {
        if approved == 5 {
            break;
        }
        let kind = kinds.get(n % kinds.len()).copied().unwrap_or(StoryKind::ReachedSafety);
        let opening = Opening::ALL.get(n % Opening::ALL.len()).copied().unwrap_or_default();
        let target = Target::Case { case_id: *id, kind };
        if let Approval::Approved { .. } = stories::approve(vault, coordinator, &target, &[], opening).await?
        {
            approved += 1;
        }
    }
    // A draft from a caseworker, for the coordinator's review page.
    for id in cohort.iter().rev() {
        membership::assign(vault, coordinator, *id, river.user_id()).await?;
        if let stories::Sent::Sent { .. } = stories::send(vault, river, *id, StoryKind::Settling).await? {
            break;
        }
    }
    Ok(())
}

/// Figures approved for the last calendar year and the last fiscal year
/// that have ended, so communications staff see tables with suppression.
async fn sample_figures(vault: &Vault, coordinator: &Actor, today: time::Date) -> Result<(), SetupError> {
    use crate::publication::period::Period;
    let last_year = Period::Year { year: today.year() - 1 };
    let this_fiscal = Period::fiscal_year_of(today, vault.publication.fiscal_year_start);
    let last_fiscal = match this_fiscal {
        Period::FiscalYear { year, start_month } => Period::FiscalYear { year: year - 1, start_month },
        other => other,
    };
    for period in [last_fiscal, last_year] {
        let table = crate::figures::service::preview(vault, coordinator, period).await?;
        crate::figures::service::approve(vault, coordinator, period, &table.digest()).await?;
    }
    Ok(())
}

/// An aid log for every demo shelter over the last 24 months (so the last
/// fiscal year is complete whatever the day): food every
/// month (a few hundred to two thousand kilograms, 300 to 700 people),
/// clothes, first-aid kits and medical visits now and then, a cash entry in
/// yen, blankets (a kind the coordinator added), one corrected entry, and
/// one entry from case.river that waits in the inbox until the
/// coordinator's next page. Through the aid service, so sealed as real ones.
async fn sample_aid(
    vault: &Vault,
    coordinator: &Actor,
    river: &Actor,
    shelter_ids: &[crate::ids::ShelterId],
    today: time::Date,
) -> Result<(), SetupError> {
    use crate::programmes::aid::model::{AidKind, Currency, EntryDraft, KindDraft, Month};
    use crate::programmes::aid::service::{self as aid, Recorded};
    let draft = |month: Month, (kind, quantity, people, note): (AidKind, u32, u32, &str)| {
        let currency = if kind == AidKind::CashForFood { Some(field(Currency::parse("JPY"))?) } else { None };
        let note = field(Note::parse(note))?;
        Ok::<_, SetupError>(EntryDraft {
            month,
            kind,
            quantity: u64::from(quantity),
            currency,
            people_served: people,
            note,
        })
    };
    let kind = KindDraft::parse("Blankets", "pieces")
        .map_err(|_| SetupError::Service(ServiceError::Internal("demo kind of aid")))?;
    let blankets = aid::add_kind(vault, coordinator, kind).await?;
    let this = Month::of(today);
    let mut to_correct = None;
    for (s, shelter) in shelter_ids.iter().enumerate() {
        for back in (0..24u32).rev() {
            let m = this.year * 12 + i32::from(this.month) - 1 - i32::try_from(back).unwrap_or(0);
            let month =
                Month { year: m.div_euclid(12), month: u8::try_from(m.rem_euclid(12) + 1).unwrap_or(1) };
            // A deterministic spread, so the walkthrough's pictures stay comparable.
            let n = back * 7 + u32::try_from(s).unwrap_or(0) * 13;
            let food = (AidKind::Food, 300 + (n * 137) % 1700, 300 + (n * 61) % 400, "Rice, flour and oil.");
            let mut given = vec![food];
            if back % 3 == 0 {
                let sets = 20 + (n * 11) % 40;
                given.push((AidKind::Clothes, sets, sets, "Winter and school clothes."));
            }
            if back % 4 == 1 {
                given.push((AidKind::FirstAidKits, 3 + n % 6, 0, ""));
            }
            if back % 5 == 2 {
                let visits = 1 + n % 5;
                given.push((AidKind::MedicalVisits, visits, visits, "A doctor we trust, paid in cash."));
            }
            if back == 1 && s == 1 {
                given.push((AidKind::CashForFood, 120_000, 35, "Cash for families in hiding nearby."));
            }
            if (back == 3 || back == 13) && s == 0 {
                given.push((AidKind::Custom(blankets), 40, 40, ""));
            }
            for (i, g) in given.into_iter().enumerate() {
                let recorded = aid::record(vault, coordinator, *shelter, draft(month, g)?).await?;
                if let (0, 0, 2, Recorded::Logged(id)) = (s, i, back, recorded) {
                    to_correct = Some((*shelter, id, month, g));
                }
            }
        }
    }
    // A delivery left out, put right: the correction replaces the entry, which stays.
    if let Some((shelter, id, month, (kind, kg, people, _))) = to_correct {
        let fixed = draft(month, (kind, kg + 120, people, "Corrected: one delivery was left out."))?;
        aid::correct(vault, coordinator, shelter, id, fixed).await?;
    }
    // case.river holds cases at every demo shelter: an entry through the inbox.
    if let Some(shelter) = shelter_ids.get(1) {
        let clothes = draft(this, (AidKind::Clothes, 12, 12, "Brought by a helper from the church."))?;
        aid::record(vault, river, *shelter, clothes).await?;
    }
    Ok(())
}

impl Demo {
    pub fn info(&self, url: String) -> DemoInfo {
        DemoInfo {
            url,
            data_dir: self.root.display().to_string(),
            users: self
                .users
                .iter()
                .map(|u| DemoUser {
                    role: u.role,
                    username: u.username.clone(),
                    password: u.password.clone(),
                    totp_secret: u.totp_secret.clone(),
                    user_id: u.user_id.clone(),
                })
                .collect(),
            cases: self.cases,
        }
    }

    /// Remove the throwaway directory.
    pub fn remove(&self) {
        let _ = std::fs::remove_dir_all(&self.root);
    }
}
