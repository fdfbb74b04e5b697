//! Public stories (issue 12) over real HTTP: the gates refuse with their
//! reason; a unique case is generalised or refused, also together with
//! the case's earlier story; approval reaches communications staff once;
//! a caseworker only sends drafts; stories are withdrawn when their case
//! goes back into danger or loses consent, by whoever makes the change;
//! roles; audit entries that name no case; exports that carry nothing of
//! the cases but the coarse facts.

use safehouse::accounts::model::Role;
use safehouse::cases::model::{
    AgeBand, Alias, CountryCode, EventDate, Gender, Group, MilestoneKind, Note, Outcome, Person, ShelterCode,
    Stage, Status,
};
use safehouse::cases::service::{self as cases, CaseDraft, MilestoneDraft};
use safehouse::ids::CaseId;
use safehouse::membership;
use safehouse::shelters::{self, ShelterDetails};
use safehouse::stories::model::{Reason, Step};
use safehouse::stories::phrasing::EN as PHRASES;
use time::{Date, Duration};

use crate::helpers::*;

/// As askama writes text into a page.
fn html(text: &str) -> String {
    text.replace('&', "&#38;")
        .replace('<', "&#60;")
        .replace('>', "&#62;")
        .replace('"', "&#34;")
        .replace('\'', "&#39;")
}

struct Spec {
    persons: Vec<(AgeBand, Option<Gender>, bool)>,
    stage: Stage,
    /// Milestones: kind, date, destination country (arrivals).
    milestones: Vec<(MilestoneKind, Date, Option<&'static str>)>,
}

fn adult(consent: bool) -> Vec<(AgeBand, Option<Gender>, bool)> {
    vec![(AgeBand::Adult, Some(Gender::Female), consent)]
}

/// A generated organisation with the cases the stories need.
struct World {
    t: TestApp,
    comms: WebUser,
    worker: WebUser,
    /// 14 women of 30 to 44 who arrived in Germany in March, two years ago.
    germany: Vec<CaseId>,
    /// 11 like them who went to France, each employed in June.
    france: Vec<CaseId>,
    /// 10 families of three with a child of 5 to 11, arrived in Germany in March.
    families: Vec<CaseId>,
    transit: CaseId,
    closed_detained: CaseId,
    detained_after: CaseId,
    no_consent: CaseId,
    child_alone: CaseId,
    /// Arrived 20 days ago.
    recent: CaseId,
    /// The only arrival in Norway.
    norway: CaseId,
    /// A family of six with a small child: the only one.
    large_family: CaseId,
    /// What no story or export may contain.
    forbidden: Vec<String>,
    year: i32,
}

fn day(year: i32, month: time::Month, d: u8) -> Date {
    Date::from_calendar_date(year, month, d).unwrap()
}

async fn world() -> World {
    let t = spawn_app().await;
    let k = &t.app.coordinator;
    let vault = &t.app.vault;
    let today = t.now().date();
    let year = today.year() - 2;
    let shelter = shelters::create(
        vault,
        k,
        ShelterCode::parse("HARBR-07").unwrap(),
        ShelterDetails::parse("Province", "20", "").unwrap(),
    )
    .await
    .unwrap();
    let comms = t.web_user("comms.rae", Role::Communications).await;
    let worker = t.web_user("case.ana", Role::Caseworker).await;
    let mut forbidden = vec!["HARBR-07".to_owned(), "BORDER-09".to_owned(), "kestrelnote".to_owned()];
    let mut n = 0usize;
    let mut make = async |spec: Spec, forbidden: &mut Vec<String>| -> CaseId {
        n += 1;
        let persons: Vec<Person> = spec
            .persons
            .iter()
            .enumerate()
            .map(|(p, (age_band, gender, consent))| Person {
                alias: Alias::parse(&format!("Wrenalias{n}x{p}")).unwrap(),
                age_band: *age_band,
                gender: *gender,
                consent: *consent,
            })
            .collect();
        for p in 0..persons.len() {
            forbidden.push(format!("Wrenalias{n}x{p}"));
        }
        let d = CaseDraft {
            group: Group::new(persons).unwrap(),
            shelter: Some(shelter),
            stage: spec.stage,
            status: Status::Open,
            notes: Note::parse(&format!("kestrelnote {n} met at the old mill")).unwrap(),
        };
        let id = cases::create(vault, k, d).await.unwrap();
        forbidden.push(id.to_string());
        for (kind, date, country) in spec.milestones {
            forbidden.push(date.to_string());
            let m = MilestoneDraft {
                kind,
                date: EventDate::from_stored(&date.to_string()).unwrap(),
                country: country.map(|c| CountryCode::parse(c).unwrap()),
                place_code: Some(ShelterCode::parse("BORDER-09").unwrap()),
                note: Note::parse("kestrelnote crossed at night").unwrap(),
                sponsorship: None,
            };
            cases::add_milestone(vault, k, id, m).await.unwrap();
        }
        id
    };
    use time::Month::{August, June, March};
    let mut germany = Vec::new();
    for i in 0..14u8 {
        let spec = Spec {
            persons: adult(true),
            stage: Stage::Arrived,
            milestones: vec![(MilestoneKind::Arrived, day(year, March, 2 + i), Some("DE"))],
        };
        germany.push(make(spec, &mut forbidden).await);
    }
    // The first of them also found work in June.
    let m = MilestoneDraft {
        kind: MilestoneKind::Employed,
        date: EventDate::from_stored(&day(year, June, 20).to_string()).unwrap(),
        country: None,
        place_code: None,
        note: Note::parse("kestrelnote at the bakery").unwrap(),
        sponsorship: None,
    };
    cases::add_milestone(vault, k, germany[0], m).await.unwrap();
    let mut france = Vec::new();
    for i in 0..11u8 {
        let spec = Spec {
            persons: adult(true),
            stage: Stage::FollowUp,
            milestones: vec![
                (MilestoneKind::Arrived, day(year, March, 2 + i), Some("FR")),
                (MilestoneKind::Employed, day(year, June, 2 + i), None),
            ],
        };
        france.push(make(spec, &mut forbidden).await);
    }
    let mut families = Vec::new();
    for i in 0..10u8 {
        let spec = Spec {
            persons: vec![
                (AgeBand::Adult, Some(Gender::Female), true),
                (AgeBand::Adult, Some(Gender::Male), true),
                (AgeBand::Child, Some(Gender::Male), true),
            ],
            stage: Stage::Arrived,
            milestones: vec![(MilestoneKind::Arrived, day(year, March, 2 + i), Some("DE"))],
        };
        families.push(make(spec, &mut forbidden).await);
    }
    let transit =
        make(Spec { persons: adult(true), stage: Stage::InTransit, milestones: vec![] }, &mut forbidden)
            .await;
    let arrived = |d: Date| vec![(MilestoneKind::Arrived, d, Some("DE"))];
    let closed_detained = make(
        Spec { persons: adult(true), stage: Stage::Arrived, milestones: arrived(day(year, March, 20)) },
        &mut forbidden,
    )
    .await;
    let case = cases::read(vault, k, closed_detained).await.unwrap();
    let d = CaseDraft {
        group: case.group.clone(),
        shelter: case.shelter,
        stage: case.stage,
        status: Status::Closed(Outcome::Detained),
        notes: case.notes.clone(),
    };
    cases::update(vault, k, closed_detained, case.version, d).await.unwrap();
    let detained_after = make(
        Spec {
            persons: adult(true),
            stage: Stage::Arrived,
            milestones: vec![
                (MilestoneKind::Arrived, day(year, March, 21), Some("DE")),
                (MilestoneKind::Detained, day(year, August, 1), None),
            ],
        },
        &mut forbidden,
    )
    .await;
    let no_consent = make(
        Spec { persons: adult(false), stage: Stage::Arrived, milestones: arrived(day(year, March, 22)) },
        &mut forbidden,
    )
    .await;
    let child_alone = make(
        Spec {
            persons: vec![(AgeBand::Teen, Some(Gender::Male), true)],
            stage: Stage::Arrived,
            milestones: arrived(day(year, March, 23)),
        },
        &mut forbidden,
    )
    .await;
    let recent = make(
        Spec { persons: adult(true), stage: Stage::Arrived, milestones: arrived(today - Duration::days(20)) },
        &mut forbidden,
    )
    .await;
    let norway = make(
        Spec {
            persons: adult(true),
            stage: Stage::Arrived,
            milestones: vec![(MilestoneKind::Arrived, day(year, March, 24), Some("NO"))],
        },
        &mut forbidden,
    )
    .await;
    let mut six = vec![(AgeBand::Under5, Some(Gender::Female), true)];
    six.extend(std::iter::repeat_n((AgeBand::Adult, Some(Gender::Male), true), 5));
    let large_family = make(
        Spec { persons: six, stage: Stage::Arrived, milestones: arrived(day(year, March, 25)) },
        &mut forbidden,
    )
    .await;
    // The caseworker holds three of the German cases.
    for id in &germany[1..4] {
        membership::assign(vault, k, *id, worker.actor.user_id()).await.unwrap();
    }
    World {
        t,
        comms,
        worker,
        germany,
        france,
        families,
        transit,
        closed_detained,
        detained_after,
        no_consent,
        child_alone,
        recent,
        norway,
        large_family,
        forbidden,
        year,
    }
}

/// A coordinator who can log in again after the clock moved.
async fn coordinator(t: &TestApp) -> (WebUser, Client) {
    let user = t.web_user("coord.rev", Role::Coordinator).await;
    let client = t.login(&user).await;
    (user, client)
}

async fn page(c: &mut Client, path: &str) -> (u16, String) {
    let r = c.get(path).await;
    let status = r.status().as_u16();
    (status, r.text().await.unwrap())
}

/// Approve a story of `kind` about a case directly, as a coordinator.
async fn approve(c: &mut Client, id: CaseId, kind: &str, extra: &[(&str, &str)]) -> reqwest::Response {
    let csrf = c.csrf("/account").await;
    let mut form =
        vec![("csrf", csrf.as_str()), ("kind", kind), ("opening", "thanks"), ("action", "approve")];
    form.extend_from_slice(extra);
    c.post(&format!("/cases/{id}/story/approve"), &form).await
}

async fn approved_ok(c: &mut Client, id: CaseId, kind: &str) -> String {
    let r = approve(c, id, kind, &[]).await;
    assert_eq!(r.status(), 303, "approval of {id}");
    assert_eq!(r.headers()["location"], format!("/cases/{id}").as_str());
    let body = c.follow(r).await.text().await.unwrap();
    assert!(body.contains("approved: communications staff can now read and export it."), "{body}");
    body
}

fn reason(r: &Reason) -> String {
    html(&PHRASES.reason(r))
}

#[tokio::test]
async fn stories_gates_refuse_with_the_reason_on_the_page_and_on_approval() {
    let w = world().await;
    let (coord, mut k) = coordinator(&w.t).await;
    let cases_and_reasons = [
        (w.transit, reason(&Reason::NotArrived { stage: Stage::InTransit })),
        (w.closed_detained, reason(&Reason::ClosedAs { outcome: Outcome::Detained })),
        (w.detained_after, reason(&Reason::DangerAfterArrival { kind: MilestoneKind::Detained })),
        (w.no_consent, reason(&Reason::NoConsent { missing: 1, of: 1 })),
        (w.child_alone, reason(&Reason::ChildAlone)),
    ];
    for (id, why) in &cases_and_reasons {
        let (status, body) = page(&mut k, &format!("/cases/{id}/story?kind=reached_safety")).await;
        assert_eq!(status, 200);
        assert!(body.contains(why.as_str()), "{why} for {id}: {body}");
        assert!(body.contains("This story cannot be approved: a gate refused it."));
        assert!(!body.contains("value=\"approve\""), "no approval offered");
        let refused = approve(&mut k, *id, "reached_safety", &[]).await;
        assert_eq!(refused.status(), 422, "{id}");
        let body = refused.text().await.unwrap();
        assert!(body.contains(why.as_str()) && body.contains("Nothing was saved: a gate refused the story."));
    }
    // Inside the embargo: refused until the clock passes it.
    let (_, body) = page(&mut k, &format!("/cases/{}/story", w.recent)).await;
    let embargo = body.find("Not before ").expect("the embargo's reason");
    assert!(body[embargo..].contains("(90 days after the latest milestone the story mentions)"));
    assert_eq!(approve(&mut k, w.recent, "reached_safety", &[]).await.status(), 422);
    assert!(w.t.app.vault.store().stories().await.unwrap().is_empty(), "nothing refused was stored");
    w.t.clock.advance(Duration::days(75));
    let mut k = w.t.login(&coord).await;
    let (_, body) = page(&mut k, &format!("/cases/{}/story", w.recent)).await;
    assert!(!body.contains("Not before "), "{body}");
    assert!(body.contains("<strong>Embargo</strong>: Passed"), "{body}");
    approved_ok(&mut k, w.recent, "reached_safety").await;
    assert_eq!(w.t.app.vault.store().stories().await.unwrap().len(), 1);
}

#[tokio::test]
async fn stories_a_unique_case_is_generalised_or_refused_also_with_its_earlier_story() {
    let w = world().await;
    let (_, mut k) = coordinator(&w.t).await;
    // The only arrival in Norway: named as its region from the start.
    let (_, body) = page(&mut k, &format!("/cases/{}/story", w.norway)).await;
    assert!(body.contains(PHRASES.step(Step::DestinationToRegion)), "{body}");
    let text = page_between(&body, "<blockquote class=\"story-text\">", "</blockquote>");
    assert!(text.contains("reached safety in Europe in March"), "{text}");
    assert!(!text.contains("Norway"));
    // The only large family: the size and the child's age made wider.
    let (_, body) = page(&mut k, &format!("/cases/{}/story", w.large_family)).await;
    for step in [Step::WidenAge, Step::WidenSize] {
        assert!(body.contains(PHRASES.step(step)), "{step:?}: {body}");
    }
    assert!(body.contains("a family, among them a child,"), "{body}");
    assert!(!body.contains("several") && !body.contains("small child"));
    // A work story about the only employed woman in Germany: alone it
    // passes once her destination is named as a region ...
    let a = w.germany[0];
    let work = format!("/cases/{a}/story?kind=work");
    let (_, body) = page(&mut k, &work).await;
    assert!(body.contains("Other stories about this case, checked together with this one: 0."));
    assert!(body.contains("in Europe"), "{body}");
    assert!(body.contains("value=\"approve\""));
    // ... but once a story says she arrived in Germany in March, the two
    // together fit her case alone: refused.
    approved_ok(&mut k, a, "reached_safety").await;
    let (_, body) = page(&mut k, &work).await;
    assert!(body.contains("Other stories about this case, checked together with this one: 1."), "{body}");
    assert!(body.contains(&reason(&Reason::TooFew { fits: 1, k: 10 })), "{body}");
    assert!(!body.contains("value=\"approve\""));
    assert_eq!(approve(&mut k, a, "work", &[]).await.status(), 422);
    assert_eq!(w.t.app.vault.store().stories().await.unwrap().len(), 1);
    // The case page lists its story to holders of the case key.
    let (_, body) = page(&mut k, &format!("/cases/{a}")).await;
    assert!(body.contains("Approved stories about this case"));
    assert!(body.contains("reached safety in Germany in March"), "{body}");
}

#[tokio::test]
async fn stories_approval_reaches_communications_once_and_a_caseworker_only_sends_drafts() {
    let w = world().await;
    let b = w.germany[1];
    let mut cw = w.t.login(&w.worker).await;
    // The caseworker's draft: the k-anonymity check waits for a coordinator.
    let (status, body) = page(&mut cw, &format!("/cases/{b}/story")).await;
    assert_eq!(status, 200);
    assert!(body.contains(&reason(&Reason::Pending)), "{body}");
    assert!(body.contains("Send for approval"));
    assert!(!body.contains("value=\"approve\""));
    assert_eq!(approve(&mut cw, b, "reached_safety", &[]).await.status(), 403, "a caseworker cannot approve");
    // Not their case: 404, drafting included.
    let (status, _) = page(&mut cw, &format!("/cases/{}/story", w.germany[5])).await;
    assert_eq!(status, 404);
    let csrf = cw.csrf("/account").await;
    let other = w.germany[5];
    let r =
        cw.post(&format!("/cases/{other}/story/send"), &[("csrf", &csrf), ("kind", "reached_safety")]).await;
    assert_eq!(r.status(), 404);
    let sent =
        cw.post(&format!("/cases/{b}/story/send"), &[("csrf", &csrf), ("kind", "reached_safety")]).await;
    assert_eq!(sent.status(), 303);
    let body = cw.follow(sent).await.text().await.unwrap();
    assert!(body.contains("Draft sent for approval"), "{body}");
    assert!(body.contains("Drafts waiting for a coordinator: 1."), "{body}");

    // Two coordinators approve the same draft at once: published once.
    let second = w.t.web_user("coord.two", Role::Coordinator).await;
    let (_, mut k1) = coordinator(&w.t).await;
    let mut k2 = w.t.login(&second).await;
    let (_, list) = page(&mut k1, "/stories/drafts").await;
    let start = list.find("href=\"/stories/drafts/").expect("the waiting draft") + 6;
    let review = list[start..].split('"').next().unwrap().to_owned();
    assert!(list.contains("case.ana"), "the drafter is named");
    let (status, body) = page(&mut k1, &review).await;
    assert_eq!(status, 200);
    assert!(body.contains("Sent by case.ana"), "{body}");
    assert!(body.contains("reached safety in Germany in March"), "{body}");
    let (c1, c2) = (k1.csrf("/account").await, k2.csrf("/account").await);
    let form = |csrf: &str| {
        vec![
            ("csrf".to_owned(), csrf.to_owned()),
            ("opening".to_owned(), "news".to_owned()),
            ("action".to_owned(), "approve".to_owned()),
        ]
    };
    let (f1, f2) = (form(&c1), form(&c2));
    let f1: Vec<(&str, &str)> = f1.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
    let f2: Vec<(&str, &str)> = f2.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
    let approve_path = format!("{review}/approve");
    let (r1, r2) = tokio::join!(k1.post(&approve_path, &f1), k2.post(&approve_path, &f2));
    assert_eq!((r1.status().as_u16(), r2.status().as_u16()), (303, 303));
    let b1 = k1.follow(r1).await.text().await.unwrap();
    let b2 = k2.follow(r2).await.text().await.unwrap();
    let approved = |b: &str| b.contains("approved: communications staff can now read and export it.");
    let gone = |b: &str| b.contains("That draft was already approved or rejected by someone else.");
    assert!((approved(&b1) && gone(&b2)) || (approved(&b2) && gone(&b1)), "{b1}\n{b2}");
    assert_eq!(w.t.app.vault.store().stories().await.unwrap().len(), 1, "published once");
    assert!(w.t.app.vault.store().story_drafts().await.unwrap().is_empty());

    // Communications staff see it; its text is the one approved.
    let mut cc = w.t.login(&w.comms).await;
    let (status, body) = page(&mut cc, "/stories").await;
    assert_eq!(status, 200);
    assert!(body.contains("We are glad to share that a woman in her thirties or early forties reached safety in Germany in March"), "{body}");
    let (_, home) = page(&mut cc, "/").await;
    assert!(
        home.contains("Approved in the last 30 days") && home.contains("reached safety in Germany"),
        "{home}"
    );
    assert!(!home.contains("No approved stories yet."));

    // Two direct approvals of one case at once: when both read the case
    // before either wrote, one conflicts and says so; when one ran before
    // the other, the second was checked together with the first. Which of
    // the two happens is the scheduler's choice, so several cases are
    // tried; at least one pair must have met.
    let mut conflicts = 0;
    let mut expected = 1;
    for e in &w.germany[4..10] {
        let (r1, r2) = tokio::join!(
            approve(&mut k1, *e, "reached_safety", &[]),
            approve(&mut k2, *e, "reached_safety", &[])
        );
        let mut statuses = [r1.status().as_u16(), r2.status().as_u16()];
        statuses.sort_unstable();
        if statuses == [303, 409] {
            conflicts += 1;
            expected += 1;
            let loser = if r1.status() == 409 { r1 } else { r2 };
            let body = loser.text().await.unwrap();
            assert!(
                body.contains(
                    "Someone changed this case or approved a story about it at the same moment; review again."
                ),
                "{body}"
            );
        } else {
            assert_eq!(statuses, [303, 303]);
            expected += 2;
            // The later one saw the earlier: the case page lists both.
            let (_, page_) = page(&mut k1, &format!("/cases/{e}")).await;
            assert_eq!(page_.matches("reached safety in Germany in March").count(), 2);
        }
        assert_eq!(w.t.app.vault.store().stories().await.unwrap().len(), expected);
        if conflicts > 0 {
            break;
        }
    }
    assert!(conflicts > 0, "no two approvals met");

    // A rejected draft is gone, and says so.
    let sent = cw.post(&format!("/cases/{b}/story/send"), &[("csrf", &csrf), ("kind", "settling")]).await;
    assert_eq!(sent.status(), 303);
    let drafts = w.t.app.vault.store().story_drafts().await.unwrap();
    assert_eq!(drafts.len(), 1);
    let c1 = k1.csrf("/account").await;
    let r = k1.post(&format!("/stories/drafts/{}/reject", drafts[0].id), &[("csrf", &c1)]).await;
    let body = k1.follow(r).await.text().await.unwrap();
    assert!(body.contains("Draft rejected and deleted.") && body.contains("No drafts wait."), "{body}");
}

#[tokio::test]
async fn stories_are_withdrawn_when_the_case_goes_back_into_danger_or_loses_consent() {
    let w = world().await;
    let (_, mut k) = coordinator(&w.t).await;
    let (b, c, d, e) = (w.germany[1], w.germany[2], w.germany[3], w.germany[4]);
    for id in [b, c, d, e, w.families[0]] {
        approved_ok(&mut k, id, "reached_safety").await;
    }
    let mut cw = w.t.login(&w.worker).await;
    let form = |csrf: &str, stage: &'static str, consent: &'static str, version: String| {
        vec![
            ("csrf", csrf.to_owned()),
            ("version", version),
            ("alias_0", String::new()),
            ("age_0", "30-44".to_owned()),
            ("gender_0", "female".to_owned()),
            ("consent_0", consent.to_owned()),
            ("shelter", String::new()),
            ("stage", stage.to_owned()),
            ("status", "open".to_owned()),
            ("notes", "kestrelnote".to_owned()),
        ]
    };
    let post = async |cw: &mut Client, id: CaseId, fields: Vec<(&str, String)>| {
        let case = cases::read(&w.t.app.vault, &w.t.app.coordinator, id).await.unwrap();
        let alias = case.group.persons()[0].alias.as_str().to_owned();
        let mut fields = fields;
        fields[2].1 = alias;
        fields[1].1 = case.version.to_string();
        let fields: Vec<(&str, &str)> = fields.iter().map(|(a, v)| (*a, v.as_str())).collect();
        cw.post(&format!("/cases/{id}"), &fields).await
    };
    let csrf = cw.csrf("/account").await;
    // Back in transit: withdrawn, by the caseworker's save.
    let r = post(&mut cw, b, form(&csrf, "in_transit", "yes", String::new())).await;
    assert_eq!(r.status(), 303);
    // Consent removed.
    let r = post(&mut cw, d, form(&csrf, "arrived", "", String::new())).await;
    assert_eq!(r.status(), 303);
    // A detention recorded after the arrival.
    let date = day(w.year + 1, time::Month::January, 10).to_string();
    let r = cw
        .post(
            &format!("/cases/{c}/milestones"),
            &[
                ("csrf", &csrf),
                ("kind", "detained"),
                ("date", &date),
                ("country", ""),
                ("place_code", ""),
                ("note", ""),
            ],
        )
        .await;
    assert_eq!(r.status(), 303);
    // A save that leaves the case safe leaves its story out.
    let case = cases::read(&w.t.app.vault, &w.t.app.coordinator, e).await.unwrap();
    let same = CaseDraft {
        group: case.group.clone(),
        shelter: case.shelter,
        stage: Stage::FollowUp,
        status: case.status,
        notes: case.notes.clone(),
    };
    cases::update(&w.t.app.vault, &w.t.app.coordinator, e, case.version, same).await.unwrap();
    let rows = w.t.app.vault.store().stories().await.unwrap();
    assert_eq!(rows.len(), 5);
    assert_eq!(rows.iter().filter(|r| r.withdrawn == 1).count(), 3, "B, C and D withdrawn");
    // The case page marks them; a coordinator's too.
    let (_, body) = page(&mut cw, &format!("/cases/{b}")).await;
    assert!(body.contains("<strong>Withdrawn:</strong>"), "{body}");

    // Communications staff: "take these down", on the home and the list;
    // the exports carry only the two stories still out.
    let mut cc = w.t.login(&w.comms).await;
    let (_, home) = page(&mut cc, "/").await;
    assert!(home.contains("Withdrawn: take these down wherever they were published"), "{home}");
    let (_, list) = page(&mut cc, "/stories").await;
    let down = list.find("Withdrawn: take these down").expect("the withdrawn section");
    let approved = list.rfind("<h2>Ready to publish, newest first</h2>").unwrap();
    let withdrawn_ids: Vec<String> = rows.iter().filter(|r| r.withdrawn == 1).map(|r| r.id.clone()).collect();
    let out_ids: Vec<String> = rows.iter().filter(|r| r.withdrawn == 0).map(|r| r.id.clone()).collect();
    for id in &withdrawn_ids {
        let at = list.find(id.as_str()).unwrap();
        assert!(down < at && at < approved, "{id} under take these down");
    }
    for id in &out_ids {
        assert!(list.find(id.as_str()).unwrap() > approved);
    }
    let md = cc.get("/stories/export.md").await;
    assert_eq!(md.status(), 200);
    assert!(md.headers()["content-disposition"].to_str().unwrap().starts_with("attachment"));
    let md = md.text().await.unwrap();
    let csv = cc.get("/stories/export.csv").await.text().await.unwrap();
    let json = cc.get("/stories/export.json").await.text().await.unwrap();
    for export in [&md, &csv, &json] {
        for id in &withdrawn_ids {
            assert!(!export.contains(id.as_str()), "a withdrawn story in an export");
        }
        for word in &w.forbidden {
            assert!(!export.contains(word.as_str()), "{word} in an export: {export}");
        }
        for id in w.germany.iter().chain(&w.france).chain(&w.families) {
            let short: String = id.to_string().chars().take(8).collect();
            assert!(!export.contains(&short), "a case reference in an export");
        }
    }
    // Markdown: a heading, one paragraph per story, escaped.
    assert!(md.starts_with("## Stories from our work\n"), "{md}");
    assert_eq!(md.matches("\n\n").count(), 2, "{md}");
    assert!(md.contains("child of primary\\-school age"), "escaped: {md}");
    assert!(!md.contains("primary-school"));
    // CSV: a header, two rows, no cell a spreadsheet would run.
    let lines: Vec<&str> = csv.split("\r\n").filter(|l| !l.is_empty()).collect();
    assert_eq!(lines[0], "id,kind,text,approved");
    assert_eq!(lines.len(), 3);
    for line in &lines[1..] {
        assert!(out_ids.iter().any(|id| line.starts_with(&format!("{id},reached_safety,\""))), "{line}");
        assert!(!line.contains(",=") && !line.contains(",+") && !line.contains(",-") && !line.contains(",@"));
    }
    // JSON: only the coarse facts.
    let parsed: serde_json::Value = serde_json::from_str(&json).unwrap();
    let items = parsed.as_array().unwrap();
    assert_eq!(items.len(), 2);
    for item in items {
        let keys: Vec<&str> = item.as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(keys, ["approved", "facts", "id", "kind", "text"]);
        let facts: Vec<&str> = item["facts"].as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(facts, ["arrival", "destination", "kind", "progress", "subject"]);
        assert_eq!(item["facts"]["arrival"]["kind"], "month");
        assert_eq!(item["facts"]["destination"]["code"], "DE");
    }

    // Audit: one withdrawal entry per story; no story entry names a case or
    // shares a request with a case entry; exports recorded.
    let log = w.t.app.audit_log().await;
    let case_ids: Vec<String> = w.forbidden.iter().filter(|f| CaseId::parse(f).is_some()).cloned().collect();
    let case_requests: std::collections::HashSet<&str> =
        log.iter().filter(|e| case_ids.contains(&e.target)).map(|e| e.request_id.as_str()).collect();
    let story_entries: Vec<_> =
        log.iter().filter(|e| e.action.starts_with("story.") || e.action == "export").collect();
    let withdrawals: Vec<_> = story_entries.iter().filter(|e| e.action == "story.withdraw").collect();
    assert_eq!(withdrawals.len(), 3);
    assert!(
        withdrawals
            .iter()
            .all(|e| withdrawn_ids.contains(&e.target) && e.actor == w.worker.actor.user_id().to_string())
    );
    assert_eq!(story_entries.iter().filter(|e| e.action == "story.approve").count(), 5);
    assert_eq!(story_entries.iter().filter(|e| e.action == "export").count(), 3);
    for e in &story_entries {
        assert!(!case_ids.contains(&e.target), "{} names a case", e.action);
        assert!(
            !case_requests.contains(e.request_id.as_str()),
            "{} shares a request with a case entry",
            e.action
        );
    }
}

#[tokio::test]
async fn stories_roles_communications_reach_stories_only_admin_and_auditor_none() {
    let w = world().await;
    let (_, mut k) = coordinator(&w.t).await;
    approved_ok(&mut k, w.germany[0], "reached_safety").await;
    let text = "a woman in her thirties or early forties reached safety in Germany";
    let any = w.germany[0];
    let story_routes: Vec<_> = safehouse::web::routes::table()
        .into_iter()
        .filter(|r| r.path.starts_with("/stories") || r.path.contains("/story"))
        .collect();
    assert!(story_routes.len() >= 10);
    let concrete = |p: &str| p.replace("{id}", &any.to_string());

    let mut cc = w.t.login(&w.comms).await;
    for path in ["/stories", "/stories/export.md", "/stories/export.csv", "/stories/export.json"] {
        assert_eq!(cc.get(path).await.status(), 200, "{path}");
    }
    let csrf = cc.csrf("/account").await;
    for path in ["/cases", &format!("/cases/{any}")] {
        assert_eq!(cc.get(path).await.status(), 403, "{path}");
    }
    for r in &story_routes {
        if r.access == safehouse::policy::PUBLICATIONS {
            continue;
        }
        let path = concrete(r.path);
        let status = if r.method == axum::http::Method::GET {
            cc.get(&path).await.status()
        } else {
            cc.post(&path, &[("csrf", &csrf), ("kind", "reached_safety"), ("action", "approve")])
                .await
                .status()
        };
        assert_eq!(status, 403, "communications {} {path}", r.method);
    }
    let (_, account) = page(&mut cc, "/account").await;
    assert!(account.contains("you read and export approved stories and public figures"), "{account}");
    assert!(!account.contains("before you can see any case"));
    let (_, home) = page(&mut cc, "/").await;
    assert!(home.contains("href=\"/stories\"") && home.contains("href=\"/figures\""));
    assert!(!home.contains("href=\"/cases"));

    let auditor = w.t.web_user("audit.ida", Role::Auditor).await;
    let mut au = w.t.login(&auditor).await;
    let admin_secret = w.t.enrol(&w.t.app.admin).await;
    let mut ad = w.t.client();
    let code = oath_code(&admin_secret, w.t.now());
    ad.post("/login", &[("username", "admin.first"), ("password", PASSWORD), ("code", &code)]).await;
    w.t.next_step();
    for (who, client, pages) in [
        ("auditor", &mut au, vec!["/", "/account", "/audit", "/audit/export.csv", "/audit/flags"]),
        ("admin", &mut ad, vec!["/", "/account", "/admin/users"]),
    ] {
        let csrf = client.csrf("/account").await;
        for r in &story_routes {
            let path = concrete(r.path);
            let response = if r.method == axum::http::Method::GET {
                client.get(&path).await
            } else {
                client
                    .post(&path, &[("csrf", &csrf), ("kind", "reached_safety"), ("action", "approve")])
                    .await
            };
            assert_eq!(response.status(), 403, "{who} {} {path}", r.method);
            assert!(!response.text().await.unwrap().contains(text));
        }
        for path in pages {
            let (status, body) = page(client, path).await;
            assert_eq!(status, 200, "{who} {path}");
            assert!(
                !body.contains(text) && !body.contains("reached safety"),
                "{who} saw story text on {path}"
            );
        }
    }
    // What the auditor's trail shows of stories: actions and random ids.
    let (_, trail) = page(&mut au, "/audit").await;
    assert!(trail.contains("story.approve"), "{trail}");
    assert_eq!(w.t.app.vault.store().stories().await.unwrap().len(), 1);
    let _ = (&w.france, &w.families);
}

/// The demo carries what a newcomer needs to see the stories pages work:
/// stories the gates let through (generalised where they had to be), a
/// caseworker's draft waiting for review, and none of its cases' aliases
/// or transit countries in any text.
#[tokio::test]
async fn the_demo_has_approved_stories_and_a_waiting_draft() {
    let demo = safehouse::demo::build(std::sync::Arc::new(safehouse::clock::SystemClock)).await.unwrap();
    let user = |role: &str| demo.users.iter().find(|u| u.role == role).unwrap();
    let coordinator =
        safehouse::accounts::service::unlock(&demo.vault, "coord.amber", &user("coordinator").password)
            .await
            .unwrap();
    let published = safehouse::stories::service::published(&demo.vault, &coordinator).await.unwrap();
    assert!(published.len() >= 4, "{} stories", published.len());
    for story in &published {
        let text = story.text(PHRASES);
        for word in ["Lark", "Moss", "China", "Laos", "Thailand", "Invented"] {
            assert!(!text.contains(word), "{word} in {text}");
        }
    }
    let drafts = safehouse::stories::service::drafts(&demo.vault, &coordinator).await.unwrap();
    assert_eq!(drafts.len(), 1, "one draft waits for review");
    let tables = safehouse::figures::approved(&demo.vault, &coordinator).await.unwrap();
    assert_eq!(tables.len(), 2, "the last fiscal and calendar years");
    demo.remove();
}

/// The words a story's place and periods take in `lang`, from its facts.
fn said(
    lang: safehouse::i18n::Lang,
    facts: &safehouse::stories::model::Facts,
) -> (Option<String>, Vec<String>) {
    let p = safehouse::stories::phrasing::of(lang);
    (
        facts.destination.map(|d| p.place(d)),
        [facts.arrival, facts.progress].into_iter().flatten().map(|x| p.period(x)).collect(),
    )
}

#[tokio::test]
async fn stories_the_same_approved_story_says_the_same_coarse_facts_in_english_japanese_and_korean() {
    use safehouse::i18n::Lang;
    use safehouse::publication::export::{csv_cell, markdown_text};
    use safehouse::publication::region::{NAMED_COUNTRIES, Place, Region};
    let w = world().await;
    let (_, mut k) = coordinator(&w.t).await;
    approved_ok(&mut k, w.germany[0], "reached_safety").await;
    approved_ok(&mut k, w.families[0], "reached_safety").await;
    let mut cc = w.t.login(&w.comms).await;
    // The list offers each export in the three languages, named in their own.
    let (_, list) = page(&mut cc, "/stories").await;
    for (code, name) in [("en", "English"), ("ja", "日本語"), ("ko", "한국어")] {
        let link = format!(
            "<a href=\"/stories/export.json?lang={code}\" hreflang=\"{code}\" lang=\"{code}\" download>{name}</a>"
        );
        assert!(list.contains(&link), "{link} in {list}");
    }
    let mut facts_of: Option<serde_json::Value> = None;
    for lang in Lang::ALL {
        let get = async |c: &mut Client, ext: &str| {
            let r = c.get(&format!("/stories/export.{ext}?lang={}", lang.code())).await;
            assert_eq!(r.status(), 200, "{ext} {lang:?}");
            assert_eq!(r.headers()["content-language"], lang.code());
            r.text().await.unwrap()
        };
        let json = get(&mut cc, "json").await;
        let md = get(&mut cc, "md").await;
        let csv = get(&mut cc, "csv").await;
        let parsed: serde_json::Value = serde_json::from_str(&json).unwrap();
        let items = parsed.as_array().unwrap();
        assert_eq!(items.len(), 2);
        // The facts are the same in every language: only the texts differ.
        let facts = serde_json::Value::Array(
            items
                .iter()
                .map(|i| serde_json::json!([i["id"], i["kind"], i["facts"], i["approved"]]))
                .collect(),
        );
        match &facts_of {
            None => facts_of = Some(facts),
            Some(first) => assert_eq!(&facts, first, "{lang:?} says other facts"),
        }
        let p = safehouse::stories::phrasing::of(lang);
        for item in items {
            let f: safehouse::stories::model::Facts = serde_json::from_value(item["facts"].clone()).unwrap();
            let text = item["text"].as_str().unwrap();
            assert_eq!(text, p.story(&f, safehouse::stories::model::Opening::Thanks));
            // The same text in the Markdown and the CSV.
            assert!(md.contains(&format!("\n{}\n", markdown_text(text))), "{md}");
            let id = item["id"].as_str().unwrap();
            let line =
                format!("{id},reached_safety,{},{}\r\n", csv_cell(text), item["approved"].as_str().unwrap());
            assert!(csv.contains(&line), "{line} in {csv}");
            // The place of the facts, in this language's word, and no other.
            let (place, periods) = said(lang, &f);
            let place = place.expect("a place");
            assert!(text.contains(&place), "{text} names {place}");
            let named = NAMED_COUNTRIES
                .iter()
                .map(|c| Place::Country(safehouse::cases::model::CountryCode::parse(c).unwrap()));
            for other in named.chain(Region::ALL.map(Place::Region)).filter(|o| Some(*o) != f.destination) {
                let word = p.place(other);
                assert!(!text.contains(&word) || place.contains(&word), "{word} in {text}");
            }
            // The period in this language's form; with it taken out, no digit.
            assert!(!periods.is_empty());
            let mut rest = text.to_owned();
            for period in &periods {
                assert!(rest.contains(period.as_str()), "{text} says {period}");
                rest = rest.replacen(period.as_str(), "", 1);
            }
            assert!(!rest.chars().any(char::is_numeric), "a number beyond the period in {text}");
            if lang != Lang::En {
                assert!(!text.chars().any(|c| c.is_ascii_alphabetic()), "{text}");
            }
        }
        // Nothing of the cases in any file: no alias, note, shelter or place
        // code, case id, day-precise date.
        for export in [&md, &csv, &json] {
            for word in &w.forbidden {
                assert!(!export.contains(word.as_str()), "{word} in {lang:?}: {export}");
            }
        }
        // The Markdown holds the heading and the two stories, nothing else:
        // with the periods taken out, no digit at all.
        let mut rest = md.clone();
        for item in items {
            let f: safehouse::stories::model::Facts = serde_json::from_value(item["facts"].clone()).unwrap();
            for period in said(lang, &f).1 {
                rest = rest.replacen(&markdown_text(&period), "", 1);
            }
        }
        assert!(!rest.chars().any(char::is_numeric), "a number beyond the periods in {md}");
        assert_eq!(md.matches("\n\n").count(), 2, "{md}");
    }
    // The same facts were exported: the JSON facts say what the English
    // story does, a month in Germany.
    let facts = facts_of.unwrap();
    assert!(facts.as_array().unwrap().iter().any(|f| f[2]["destination"]["code"] == "DE"), "{facts}");

    // Any other language is refused with the error page; none silently defaults.
    for bad in ["xx", "", "JA", "ja-JP", "fr"] {
        for ext in ["md", "csv", "json"] {
            let r = cc.get(&format!("/stories/export.{ext}?lang={bad}")).await;
            assert_eq!(r.status(), 400, "{ext}?lang={bad}");
            assert!(r.text().await.unwrap().contains("<html"), "the error page");
        }
    }
    // A caseworker gets nothing from the export routes, in any language.
    let mut cw = w.t.login(&w.worker).await;
    for lang in ["", "?lang=en", "?lang=ja", "?lang=ko", "?lang=xx"] {
        for ext in ["md", "csv", "json"] {
            let path = format!("/stories/export.{ext}{lang}");
            assert_eq!(cw.get(&path).await.status(), 403, "caseworker {path}");
        }
    }
    // Each export's audit entry names its file and language.
    let log = w.t.app.audit_log().await;
    let targets: Vec<&str> =
        log.iter().filter(|e| e.action == "export" && e.outcome == "ok").map(|e| e.target.as_str()).collect();
    assert_eq!(
        targets,
        [
            "stories.json en",
            "stories.md en",
            "stories.csv en",
            "stories.json ja",
            "stories.md ja",
            "stories.csv ja",
            "stories.json ko",
            "stories.md ko",
            "stories.csv ko"
        ]
    );

    // Pages say stories in the reader's language; without `?lang=` an
    // export is in it too.
    let csrf = cc.csrf("/account").await;
    let r = cc.post("/account/language", &[("csrf", csrf.as_str()), ("language", "ko")]).await;
    assert_eq!(r.status(), 303);
    // The woman's story (the other is the family's).
    let korean = facts.as_array().unwrap().iter().find(|f| f[2]["subject"]["who"] == "person").unwrap();
    let f: safehouse::stories::model::Facts = serde_json::from_value(korean[2].clone()).unwrap();
    let text =
        safehouse::stories::phrasing::of(Lang::Ko).story(&f, safehouse::stories::model::Opening::Thanks);
    let (_, list) = page(&mut cc, "/stories").await;
    assert!(list.contains(&html(&text)), "{text} in {list}");
    let r = cc.get("/stories/export.md").await;
    assert_eq!(r.headers()["content-language"], "ko");
    assert!(r.text().await.unwrap().contains(&markdown_text(&text)));
    let (_, home) = page(&mut cc, "/").await;
    assert!(home.contains(&html(&text)), "the home's recent stories in Korean");
    // A coordinator reading in Japanese sees the case's story in Japanese.
    let csrf = k.csrf("/account").await;
    k.post("/account/language", &[("csrf", csrf.as_str()), ("language", "ja")]).await;
    let (_, case) = page(&mut k, &format!("/cases/{}", w.germany[0])).await;
    let japanese =
        safehouse::stories::phrasing::of(Lang::Ja).story(&f, safehouse::stories::model::Opening::Thanks);
    assert!(case.contains(&html(&japanese)), "{japanese} in {case}");
    let (_, review) = page(&mut k, &format!("/cases/{}/story", w.germany[1])).await;
    assert!(review.contains("安全を得ました。"), "{review}");
}
