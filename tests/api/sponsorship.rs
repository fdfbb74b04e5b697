//! The education sponsorship (issue 13): a child of a case enrolled through
//! the milestone form, each refusal named beside its field with the input
//! kept, leaving and graduating, an enrolment ended twice (one after the
//! other, and at once), the coordinator's dashboard against counts made
//! here, who else can reach the case, and the sponsor code and the child's
//! alias never in clear at rest.

use std::collections::BTreeMap;

use safehouse::accounts::model::Role;
use safehouse::cases::model::{
    AgeBand, Alias, EventDate, Group, LeaveReason, MilestoneKind, Note, Person, SchoolLevel, SponsorCode,
    SponsorshipStep,
};
use safehouse::cases::service::{self as cases, CaseDraft, MilestoneDraft};
use safehouse::ids::{CaseId, MilestoneId};
use safehouse::membership;
use safehouse::publication::PublicationPolicy;
use time::macros::datetime;

use crate::helpers::*;

/// December 2026: the fiscal year (from September) is four months old.
fn start() -> time::OffsetDateTime {
    datetime!(2026-12-10 09:00 UTC)
}

fn policy() -> PublicationPolicy {
    PublicationPolicy { fiscal_year_start: 9, ..PublicationPolicy::default() }
}

fn family(persons: &[(&str, AgeBand)]) -> CaseDraft {
    let mut d = draft(&["placeholder"], "");
    d.group = Group::new(
        persons
            .iter()
            .map(|(alias, band)| Person {
                alias: Alias::parse(alias).unwrap(),
                age_band: *band,
                gender: None,
                consent: false,
            })
            .collect(),
    )
    .unwrap();
    d
}

fn step_milestone(kind: MilestoneKind, date: &str, step: SponsorshipStep) -> MilestoneDraft {
    MilestoneDraft {
        kind,
        date: EventDate::from_stored(date).unwrap(),
        country: None,
        place_code: None,
        note: Note::parse("").unwrap(),
        sponsorship: Some(step),
    }
}

fn joined(date: &str, child: &str, sponsor: &str) -> MilestoneDraft {
    step_milestone(
        MilestoneKind::SponsorshipJoined,
        date,
        SponsorshipStep::Joined {
            child: Alias::parse(child).unwrap(),
            level: SchoolLevel::Primary,
            sponsor: SponsorCode::parse(sponsor).unwrap(),
        },
    )
}

fn left(date: &str, enrolment: MilestoneId, reason: LeaveReason) -> MilestoneDraft {
    step_milestone(MilestoneKind::SponsorshipLeft, date, SponsorshipStep::Left { enrolment, reason })
}

fn graduated(date: &str, enrolment: MilestoneId) -> MilestoneDraft {
    step_milestone(MilestoneKind::SponsorshipGraduated, date, SponsorshipStep::Graduated { enrolment })
}

/// A milestone form: the fields given, every other one empty.
async fn post_milestone(c: &mut Client, case: CaseId, fields: &[(&str, &str)]) -> reqwest::Response {
    let csrf = c.csrf("/account").await;
    let mut form: Vec<(&str, &str)> = vec![
        ("csrf", &csrf),
        ("kind", ""),
        ("date", ""),
        ("country", ""),
        ("place_code", ""),
        ("note", ""),
        ("child", ""),
        ("school_level", ""),
        ("sponsor", ""),
        ("enrolment", ""),
        ("reason", ""),
    ];
    for (k, v) in fields {
        form.iter_mut().find(|(name, _)| name == k).unwrap().1 = v;
    }
    c.post(&format!("/cases/{case}/milestones"), &form).await
}

fn as_refs(v: &[(String, String)]) -> Vec<(&str, &str)> {
    v.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect()
}

/// The value of the `<option>` whose words are `label`.
fn option_value(body: &str, label: &str) -> String {
    let end =
        body.find(&format!(">{label}</option>")).unwrap_or_else(|| panic!("no option {label}:\n{body}"));
    let start = body[..end].rfind("value=\"").unwrap() + 7;
    body[start..end].split('"').next().unwrap().to_owned()
}

/// The page between `from` and the next `</section>`.
fn section<'a>(body: &'a str, from: &str) -> &'a str {
    let start = body.find(from).unwrap_or_else(|| panic!("no {from}:\n{body}"));
    let rest = &body[start..];
    &rest[..rest.find("</section>").unwrap()]
}

/// `<th scope="row">WHAT</th><td>N</td>` of a counts table.
fn count_of(block: &str, what: &str) -> usize {
    let needle = format!("<th scope=\"row\">{what}</th><td>");
    let start = block.find(&needle).unwrap_or_else(|| panic!("no row {what}:\n{block}")) + needle.len();
    block[start..].split('<').next().unwrap().parse().unwrap()
}

/// A form's fields, the problem named, and what of the input is kept.
type Refusal = (Vec<(&'static str, &'static str)>, &'static str, &'static str);

/// A joining month, and how and when the enrolment ended (a reason, or a
/// graduation).
type Planned = (&'static str, Option<(&'static str, Option<LeaveReason>)>);

const SPONSOR_CANARY: &str = "QZ-90417";
const CHILD_CANARY: &str = "Kestrelchild";

#[tokio::test]
async fn a_child_is_enrolled_refused_leaves_and_graduates_through_the_milestone_form() {
    let t = spawn_app_at(start(), policy()).await;
    let worker = t.web_user("case.kim", Role::Caseworker).await;
    let vault = &t.app.vault;
    let id = cases::create(
        vault,
        &worker.actor,
        family(&[("Willow", AgeBand::Adult), (CHILD_CANARY, AgeBand::Child), ("Pebble", AgeBand::Teen)]),
    )
    .await
    .unwrap();
    let mut c = t.login(&worker).await;
    let path = format!("/cases/{id}");

    // The form offers the children only; the section says none is in the plan.
    let page = c.get(&path).await.text().await.unwrap();
    assert!(page.contains("<h2 id=\"sponsorship\">Education sponsorship</h2>"), "{page}");
    assert!(page.contains("No child of this case is in the plan now."));
    assert!(
        page.contains(&format!("<option value=\"{CHILD_CANARY}\">"))
            && page.contains("<option value=\"Pebble\">")
    );
    assert!(!page.contains("<option value=\"Willow\">"), "an adult is not offered");
    assert!(!page.contains("<details class=\"sponsorship-fields\" open>"), "closed until needed");

    let join = |child: &'static str, date: &'static str, sponsor: &'static str| {
        vec![
            ("kind", "sponsorship_joined"),
            ("date", date),
            ("child", child),
            ("school_level", "primary"),
            ("sponsor", sponsor),
            ("note", "kept note"),
        ]
    };
    // Each refusal: 422, the problem beside its field, the input kept.
    let refusals: [Refusal; 4] = [
        (join("Willow", "2026-10", "SP-0001"), "Only a person under 18 can join", "value=\"SP-0001\""),
        (join("Nobody", "2026-10", "SP-0002"), "Choose a child of this case.", "value=\"SP-0002\""),
        (join(CHILD_CANARY, "2026", "SP-0003"), "needs its month", "value=\"2026\""),
        (
            join(CHILD_CANARY, "2026-10", "Tanaka Hiroshi"),
            "Never a sponsor&#39;s name",
            "value=\"Tanaka Hiroshi\"",
        ),
    ];
    for (fields, problem, kept) in refusals {
        let r = post_milestone(&mut c, id, &fields).await;
        assert_eq!(r.status(), 422, "{fields:?}");
        let body = r.text().await.unwrap();
        assert!(body.contains(problem), "{problem}:\n{body}");
        assert!(body.contains(kept), "{kept} kept");
        assert!(body.contains("kept note"), "the note is kept");
        assert!(body.contains("<details class=\"sponsorship-fields\" open>"), "the fields are open");
        assert!(body.contains("value=\"sponsorship_joined\" selected"), "the kind is kept");
    }
    assert!(cases::read(vault, &worker.actor, id).await.unwrap().milestones.is_empty(), "nothing recorded");

    // Enrolled: the notice names the child; the section shows the plan.
    let r = post_milestone(&mut c, id, &join(CHILD_CANARY, "2026-10", SPONSOR_CANARY)).await;
    assert_eq!(r.status(), 303);
    let page = c.follow(r).await.text().await.unwrap();
    assert!(
        page.contains(&format!(
            "In the case of Willow (and 2 others), {CHILD_CANARY} joined the education sponsorship."
        )),
        "{page}"
    );
    let plan = section(&page, "<h2 id=\"sponsorship\">");
    for shown in [CHILD_CANARY, "October 2026", "Primary school", SPONSOR_CANARY, "In the plan"] {
        assert!(plan.contains(shown), "{shown}:\n{plan}");
    }
    // Twice: refused while the first enrolment is open.
    let r = post_milestone(&mut c, id, &join(CHILD_CANARY, "2026-11", "SP-0004")).await;
    assert_eq!(r.status(), 422);
    let body = r.text().await.unwrap();
    assert!(body.contains("This child is already in the plan"), "{body}");
    assert!(body.contains("value=\"SP-0004\""));

    let mut pebble = join("Pebble", "2026-09", "SP-0200");
    pebble[3] = ("school_level", "lower_secondary");
    assert_eq!(post_milestone(&mut c, id, &pebble).await.status(), 303);

    // Leaving: before the joining month is refused; then moved away.
    let page = c.get(&path).await.text().await.unwrap();
    let kestrel = option_value(&page, &format!("{CHILD_CANARY}, joined October 2026"));
    let pebble_enrolment = option_value(&page, "Pebble, joined September 2026");
    let leave = |date: &'static str, enrolment: &str, reason: &'static str| {
        vec![
            ("kind".to_owned(), "sponsorship_left".to_owned()),
            ("date".to_owned(), date.to_owned()),
            ("enrolment".to_owned(), enrolment.to_owned()),
            ("reason".to_owned(), reason.to_owned()),
        ]
    };
    let early = leave("2026-09", &kestrel, "moved");
    let r = post_milestone(&mut c, id, &as_refs(&early)).await;
    assert_eq!(r.status(), 422);
    let body = r.text().await.unwrap();
    assert!(body.contains("cannot leave or graduate before the month they joined"), "{body}");
    assert!(body.contains("value=\"moved\" selected"), "the reason is kept");
    let no_reason = leave("2026-11", &kestrel, "");
    let r = post_milestone(&mut c, id, &as_refs(&no_reason)).await;
    assert_eq!(r.status(), 422);
    assert!(r.text().await.unwrap().contains("Choose why the child left"));

    let ok = leave("2026-11", &kestrel, "moved");
    let r = post_milestone(&mut c, id, &as_refs(&ok)).await;
    assert_eq!(r.status(), 303);
    let page = c.follow(r).await.text().await.unwrap();
    assert!(page.contains(&format!("{CHILD_CANARY} left the education sponsorship")), "{page}");
    assert!(!page.contains(&format!("{CHILD_CANARY}, joined October 2026</option>")), "no longer offered");

    // An ended enrolment cannot end again, by leaving or graduating.
    let r = post_milestone(&mut c, id, &as_refs(&leave("2026-12", &kestrel, "other"))).await;
    assert_eq!(r.status(), 422);
    assert!(r.text().await.unwrap().contains("This enrolment has already ended"));
    let r = post_milestone(
        &mut c,
        id,
        &[("kind", "sponsorship_graduated"), ("date", "2026-12"), ("enrolment", &kestrel)],
    )
    .await;
    assert_eq!(r.status(), 422);
    assert!(r.text().await.unwrap().contains("This enrolment has already ended"));
    // An enrolment of another case, or none, is not one of this case.
    let r = post_milestone(
        &mut c,
        id,
        &[
            ("kind", "sponsorship_graduated"),
            ("date", "2026-12"),
            ("enrolment", &MilestoneId::random().to_string()),
        ],
    )
    .await;
    assert_eq!(r.status(), 422);
    assert!(r.text().await.unwrap().contains("Choose an enrolment of this case."));

    // Graduating, known to the day.
    let r = post_milestone(
        &mut c,
        id,
        &[("kind", "sponsorship_graduated"), ("date", "2026-12-01"), ("enrolment", &pebble_enrolment)],
    )
    .await;
    assert_eq!(r.status(), 303);
    let page = c.follow(r).await.text().await.unwrap();
    assert!(page.contains("Pebble graduated from the education sponsorship"), "{page}");
    let plan = section(&page, "<h2 id=\"sponsorship\">");
    assert!(plan.contains("Left in November 2026: Moved away"), "{plan}");
    assert!(plan.contains("Graduated in December 2026") && plan.contains("Lower secondary school"), "{plan}");

    // A child who left may join again, in a new enrolment.
    assert_eq!(post_milestone(&mut c, id, &join(CHILD_CANARY, "2026-12", "SP-0300")).await.status(), 303);
    let page = c.get(&path).await.text().await.unwrap();
    let plan = section(&page, "<h2 id=\"sponsorship\">");
    assert_eq!(plan.matches(CHILD_CANARY).count(), 2, "{plan}");
    assert!(plan.contains("In the plan") && plan.contains("SP-0300"));

    // Editing re-checks: a graduation moved before its joining month, a
    // "joined" turned into another kind.
    let case = cases::read(vault, &worker.actor, id).await.unwrap();
    let grad = case.milestones.iter().find(|m| m.draft.kind == MilestoneKind::SponsorshipGraduated).unwrap();
    let edit = format!("/cases/{id}/milestones/{}", grad.id);
    let form = c.get(&format!("{edit}/edit")).await.text().await.unwrap();
    assert!(form.contains("Pebble, joined September 2026</option>"), "its own enrolment is offered: {form}");
    let csrf = c.csrf("/account").await;
    let version = grad.version.to_string();
    let base = [
        ("csrf", csrf.as_str()),
        ("version", version.as_str()),
        ("kind", "sponsorship_graduated"),
        ("country", ""),
        ("place_code", ""),
        ("note", ""),
        ("child", ""),
        ("school_level", ""),
        ("sponsor", ""),
        ("reason", ""),
        ("enrolment", pebble_enrolment.as_str()),
    ];
    let mut early = base.to_vec();
    early.push(("date", "2026-08"));
    let r = c.post(&edit, &early).await;
    assert_eq!(r.status(), 422);
    let body = r.text().await.unwrap();
    assert!(
        body.contains("cannot leave or graduate before the month they joined")
            && body.contains("value=\"2026-08\""),
        "{body}"
    );
    let first = case.milestones.iter().find(|m| m.draft.kind == MilestoneKind::SponsorshipJoined).unwrap();
    let mut other_kind = base.to_vec();
    other_kind[2] = ("kind", "moved");
    other_kind.push(("date", "2026-10"));
    let v = first.version.to_string();
    other_kind[1] = ("version", v.as_str());
    let r = c.post(&format!("/cases/{id}/milestones/{}", first.id), &other_kind).await;
    assert_eq!(r.status(), 422);
    assert!(r.text().await.unwrap().contains("keeps its kind"));
    let mut fine = base.to_vec();
    fine.push(("date", "2026-11"));
    let r = c.post(&edit, &fine).await;
    assert_eq!(r.status(), 303, "a graduation moved within the rules is saved");

    // Another caseworker, communications staff: the case is not theirs.
    let other = t.web_user("case.other", Role::Caseworker).await;
    let mut o = t.login(&other).await;
    assert_eq!(o.get(&path).await.status(), 404);
    let r = post_milestone(&mut o, id, &join(CHILD_CANARY, "2026-12", "SP-0400")).await;
    assert_eq!(r.status(), 404);
    let comms = t.web_user("comms.ana", Role::Communications).await;
    let mut m = t.login(&comms).await;
    let r = m.get(&path).await;
    assert_eq!(r.status(), 403);
    assert!(!r.text().await.unwrap().contains(SPONSOR_CANARY));

    // The coordinator folds the caseworker's index changes; the index
    // keeps which enrolment and which child, never the level or the sponsor.
    let mut k = t.login_coordinator().await;
    assert_eq!(k.get("/").await.status(), 200);
    let lines = cases::list_visible(vault, &t.app.coordinator).await.unwrap();
    let line = lines.iter().find(|l| l.id == id).unwrap();
    let facts = serde_json::to_string(&line.milestones).unwrap();
    assert!(facts.contains("fear_after_arrest") || facts.contains("moved"), "{facts}");
    for never in [SPONSOR_CANARY, "SP-0200", "SP-0300", "primary", "lower_secondary", CHILD_CANARY] {
        assert!(!facts.contains(never), "{never} in the index's facts: {facts}");
    }

    // At rest: neither the sponsor code nor the child's alias in clear.
    for (path, bytes) in t.app.at_rest() {
        for needle in encodings(SPONSOR_CANARY).iter().chain(&encodings(CHILD_CANARY)) {
            assert!(!contains(&bytes, needle), "a canary in clear in {}", path.display());
        }
    }
}

#[tokio::test]
async fn two_ends_of_one_enrolment_at_once_one_is_recorded_and_the_other_told() {
    let t = spawn_app_at(start(), policy()).await;
    let worker = t.web_user("case.lee", Role::Caseworker).await;
    let vault = &t.app.vault;
    let coordinator = &t.app.coordinator;
    let mut k = t.login_coordinator().await;
    let mut w = t.login(&worker).await;
    let mut conflicts = 0;
    for n in 0..8 {
        let id = cases::create(vault, coordinator, family(&[(&format!("Minnow {n}"), AgeBand::Child)]))
            .await
            .unwrap();
        membership::assign(vault, coordinator, id, worker.actor.user_id()).await.unwrap();
        let enrolment = cases::add_milestone(
            vault,
            coordinator,
            id,
            joined("2026-09", &format!("Minnow {n}"), "SP-0500"),
        )
        .await
        .unwrap();
        let e = enrolment.to_string();
        // The coordinator records a departure; the caseworker a graduation.
        let leave = [
            ("kind", "sponsorship_left"),
            ("date", "2026-11"),
            ("enrolment", e.as_str()),
            ("reason", "moved"),
        ];
        let graduate = [("kind", "sponsorship_graduated"), ("date", "2026-11"), ("enrolment", e.as_str())];
        let (a, b) = tokio::join!(post_milestone(&mut k, id, &leave), post_milestone(&mut w, id, &graduate));
        let mut answers =
            [(a.status().as_u16(), a.text().await.unwrap()), (b.status().as_u16(), b.text().await.unwrap())];
        answers.sort_by_key(|(s, _)| *s);
        let [(won, _), (lost, body)] = &answers;
        assert_eq!(*won, 303, "one is recorded");
        match lost {
            409 => {
                conflicts += 1;
                assert!(
                    body.contains(
                        "Someone else changed this case at the same moment, so nothing was recorded."
                    ),
                    "{body}"
                );
                assert!(body.contains("value=\"2026-11\""), "the input is kept");
            }
            // One ran after the other: it saw the first end.
            422 => assert!(body.contains("This enrolment has already ended"), "{body}"),
            other => panic!("unexpected {other}: {body}"),
        }
        let case = cases::read(vault, coordinator, id).await.unwrap();
        let ends = case
            .milestones
            .iter()
            .filter(|m| {
                matches!(m.draft.kind, MilestoneKind::SponsorshipLeft | MilestoneKind::SponsorshipGraduated)
            })
            .count();
        assert_eq!(ends, 1, "one end of the enrolment, never two");
        if conflicts > 0 {
            break;
        }
    }
    assert!(conflicts > 0, "no two ends met");
}

/// One child's time in the plan, as the test set it up.
struct Made {
    case: CaseId,
    child: String,
    joined: (i32, u8),
    end: Option<((i32, u8), Option<LeaveReason>)>,
}

fn month(text: &str) -> (i32, u8) {
    let d = EventDate::from_stored(text).unwrap().date();
    (d.year(), u8::from(d.month()))
}

#[tokio::test]
async fn the_coordinators_dashboard_counts_the_plan_as_an_independent_count_does() {
    let t = spawn_app_at(start(), policy()).await;
    let vault = &t.app.vault;
    let k = &t.app.coordinator;
    let worker = t.web_user("case.moon", Role::Caseworker).await;
    // (join month, end month and how, or none): before and in the fiscal
    // year that began in September 2026.
    use LeaveReason::*;
    let plan: [Planned; 14] = [
        ("2025-03", None),
        ("2025-11", Some(("2026-04", Some(Moved)))),
        ("2025-12", Some(("2026-09", Some(FearAfterArrest)))),
        ("2026-01", Some(("2026-09", Some(FearAfterArrest)))),
        ("2026-02", Some(("2026-09", Some(FearAfterArrest)))),
        ("2026-05", Some(("2026-10", Some(LostContact)))),
        ("2026-06", Some(("2026-11-15", None))),
        ("2026-08", Some(("2026-08", None))),
        ("2026-09", None),
        ("2026-10", Some(("2026-12", Some(ReachedSafety)))),
        ("2026-11-03", None),
        ("2026-12", None),
        ("2024-09", Some(("2026-12", Some(Moved)))),
        ("2026-09", Some(("2026-12", Some(Other)))),
    ];
    let mut made = Vec::new();
    for (n, (join, end)) in plan.iter().enumerate() {
        let child = format!("Tern {n}");
        let id = cases::create(vault, k, family(&[("Parent", AgeBand::Adult), (&child, AgeBand::Teen)]))
            .await
            .unwrap();
        if n == 0 {
            membership::assign(vault, k, id, worker.actor.user_id()).await.unwrap();
        }
        let enrolment = cases::add_milestone(vault, k, id, joined(join, &child, "SP-0600")).await.unwrap();
        if let Some((date, how)) = end {
            let m = match how {
                Some(reason) => left(date, enrolment, *reason),
                None => graduated(date, enrolment),
            };
            cases::add_milestone(vault, k, id, m).await.unwrap();
        }
        made.push(Made { case: id, child, joined: month(join), end: end.map(|(d, how)| (month(d), how)) });
    }

    // The counts, made here from what was set up.
    let (from, now) = ((2026, 9), (2026, 12));
    let within = |m: (i32, u8)| from <= m && m <= now;
    let in_plan = made.iter().filter(|m| m.end.is_none()).count();
    let joined_fy = made.iter().filter(|m| within(m.joined)).count();
    let mut left_by: BTreeMap<&str, usize> = BTreeMap::new();
    let mut graduated_fy = 0;
    for m in &made {
        match m.end {
            Some((at, Some(reason))) if within(at) => *left_by.entry(reason.label()).or_default() += 1,
            Some((at, None)) if within(at) => graduated_fy += 1,
            _ => {}
        }
    }

    let mut c = t.login_coordinator().await;
    let home = c.get("/").await.text().await.unwrap();
    let block = section(&home, "<h2 id=\"dash-sponsorship\">");
    assert!(block.contains(&format!("Children in the plan now: <strong>{in_plan}</strong>")), "{block}");
    assert!(block.contains("This fiscal year so far, from September 2026"), "{block}");
    assert_eq!(count_of(block, "Joined"), joined_fy);
    assert_eq!(count_of(block, "Left"), left_by.values().sum::<usize>());
    for reason in LeaveReason::ALL {
        assert_eq!(
            count_of(block, reason.label()),
            left_by.get(reason.label()).copied().unwrap_or(0),
            "{reason:?}"
        );
    }
    assert_eq!(count_of(block, "Graduated"), graduated_fy);
    assert_eq!(
        (joined_fy, left_by.values().sum::<usize>(), graduated_fy),
        (5, 7, 1),
        "the set-up is what it says"
    );

    // Who: every change this fiscal year, linked to its case; nobody else.
    let who = &block[block.find("Who joined, left or graduated").unwrap()..];
    for m in &made {
        let changed = within(m.joined) || m.end.is_some_and(|(at, _)| within(at));
        let link = format!("<a href=\"/cases/{}\">{}</a>", m.case, m.child);
        assert_eq!(who.contains(&link), changed, "{}: {who}", m.child);
    }
    assert!(who.contains("Left: Fear after an arrest") && who.contains("September 2026"));
    assert_eq!(who.matches("Left: Fear after an arrest").count(), 3);

    // A caseworker's home counts their own cases only.
    let mut w = t.login(&worker).await;
    let home = w.get("/").await.text().await.unwrap();
    let own = section(&home, "<h2 id=\"dash-sponsorship-own\">");
    assert!(own.contains("Education sponsorship in your cases"));
    assert!(own.contains("Children in the plan now: <strong>1</strong>"), "{own}");
    assert_eq!(count_of(own, "Joined"), 0);
    assert!(!home.contains("Tern 3"), "another case's child");
}
