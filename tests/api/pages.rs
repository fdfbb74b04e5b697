//! Hardening after the outside review (issue 10): pages.

use safehouse::accounts::model::Role;
use safehouse::cases::model::{Alias, EventDate, MilestoneKind, Note};
use safehouse::cases::service as cases;

use crate::helpers::*;

/// A logged-in user whose key no coordinator has certified yet.
async fn uncertified(t: &TestApp, name: &str, role: Role) -> WebUser {
    let actor = t.app.user(name, role, false).await;
    let secret = t.enrol(&actor).await;
    WebUser { username: name.to_owned(), secret, actor }
}

/// A whole case form, as a browser sends it.
fn case_form<'a>(csrf: &'a str, aliases: &[&'a str], notes: &'a str) -> Vec<(&'static str, &'a str)> {
    const ALIAS: [&str; 3] = ["alias_0", "alias_1", "alias_2"];
    const AGE: [&str; 3] = ["age_0", "age_1", "age_2"];
    let mut form = vec![("csrf", csrf)];
    for (i, alias) in aliases.iter().enumerate() {
        form.push((ALIAS[i], alias));
        form.push((AGE[i], "30-44"));
    }
    form.extend([("shelter", ""), ("stage", "intake"), ("status", "open"), ("notes", notes)]);
    form
}

#[tokio::test]
async fn finding_pages_an_uncertified_caseworker_is_told_why_and_keeps_what_was_typed() {
    let t = spawn_app().await;
    let worker = uncertified(&t, "case.waiting", Role::Caseworker).await;
    let mut c = t.login(&worker).await;
    let why = "Your key waits for a coordinator&#39;s certification.";
    for path in ["/", "/cases"] {
        let body = c.get(path).await.text().await.unwrap();
        assert!(body.contains(why), "{path} says why: {body}");
        assert!(body.contains("you cannot see or create cases"), "{path} says what it means");
        assert!(!body.contains("href=\"/cases/new\""), "{path} offers no New case");
    }
    let new = c.get("/cases/new").await.text().await.unwrap();
    assert!(new.contains(why) && !new.contains("action=\"/cases\""), "no form that would be refused");

    // A save refused for lack of certification keeps everything typed.
    let csrf = c.csrf("/account").await;
    let refused = c.post("/cases", &case_form(&csrf, &["Heron", "Egret"], "typed with care")).await;
    assert_eq!(refused.status(), 403);
    let body = refused.text().await.unwrap();
    assert!(!body.contains("Something went wrong"), "not an error page");
    assert!(body.contains("A coordinator has not certified your key yet, so this case was not saved."));
    assert!(body.contains("value=\"Heron\"") && body.contains("value=\"Egret\""), "the persons are kept");
    assert!(body.contains("typed with care"), "the notes are kept");

    // Once certified, the link and the form are there.
    let fingerprint = safehouse::crypto::fingerprint(&worker.actor.identity().recipient());
    safehouse::membership::certify(&t.app.vault, &t.app.coordinator, worker.actor.user_id(), &fingerprint)
        .await
        .unwrap();
    let list = c.get("/cases").await.text().await.unwrap();
    assert!(list.contains("href=\"/cases/new\"") && !list.contains(why));
}

#[tokio::test]
async fn finding_pages_the_server_refuses_long_text_instead_of_the_browser_cutting_it() {
    let t = spawn_app().await;
    let worker = t.web_user("case.paste", Role::Caseworker).await;
    let mut c = t.login(&worker).await;
    let mut k = t.login_coordinator().await;
    let id = cases::create(&t.app.vault, &worker.actor, draft(&["Plover"], "x")).await.unwrap();
    let csrf = k.csrf("/shelters").await;
    let added = k
        .post("/shelters", &[("csrf", &csrf), ("code", "JRL-01"), ("region", "North"), ("capacity", "9")])
        .await;
    assert_eq!(added.status(), 303);
    let shelter = safehouse::shelters::list(&t.app.vault, &t.app.coordinator).await.unwrap()[0].id;
    let m = cases::MilestoneDraft {
        kind: MilestoneKind::Moved,
        date: EventDate::parse("2023", t.now().date()).unwrap(),
        country: None,
        place_code: None,
        note: Note::parse("").unwrap(),
        sponsorship: None,
    };
    let milestone = cases::add_milestone(&t.app.vault, &worker.actor, id, m).await.unwrap();

    // No field of these forms cuts what is typed or pasted: the server says what is wrong.
    let limit_hint = format!("At most {} characters.", Note::MAX_CHARS);
    for (coordinator, path) in [
        (false, "/cases/new".to_owned()),
        (false, format!("/cases/{id}/edit")),
        (false, format!("/cases/{id}")),
        (false, format!("/cases/{id}/milestones/{milestone}/edit")),
        (true, "/shelters".to_owned()),
        (true, format!("/shelters/{shelter}/edit")),
    ] {
        let client = if coordinator { &mut k } else { &mut c };
        let body = client.get(&path).await.text().await.unwrap();
        assert!(!body.contains("maxlength"), "{path} has a maxlength");
        assert!(body.contains(&limit_hint), "{path} shows the notes limit beside the field");
    }
    let new = c.get("/cases/new").await.text().await.unwrap();
    assert!(new.contains(&format!("At most {} characters.", Alias::MAX_CHARS)), "the alias limit");
    let shelters = k.get("/shelters").await.text().await.unwrap();
    assert!(shelters.contains("1 to 60 characters") && shelters.contains("1 to 500"));

    // A 5000-character paste into a case's notes: refused, named, kept whole.
    let pasted = "p".repeat(5000);
    let refused = "Notes are at most 4000 characters; these have 5000.";
    let csrf = c.csrf("/cases/new").await;
    let r = c.post("/cases", &case_form(&csrf, &["Plover"], &pasted)).await;
    assert_eq!(r.status(), 422);
    let body = r.text().await.unwrap();
    assert!(body.contains(refused));
    assert!(body.contains(&pasted), "the paste is kept, uncut");

    // The same in a milestone note, and in a shelter's notes.
    let r = c
        .post(
            &format!("/cases/{id}/milestones"),
            &[("csrf", &csrf), ("kind", "moved"), ("date", "2024"), ("note", &pasted)],
        )
        .await;
    assert_eq!(r.status(), 422);
    let body = r.text().await.unwrap();
    assert!(body.contains(refused) && body.contains(&pasted));
    let kcsrf = k.csrf("/shelters").await;
    let form = [("csrf", kcsrf.as_str()), ("code", "YAN-02"), ("region", "South"), ("capacity", "5")];
    let mut form = form.to_vec();
    form.push(("notes", &pasted));
    let r = k.post("/shelters", &form).await;
    assert_eq!(r.status(), 422);
    let body = r.text().await.unwrap();
    assert!(body.contains(refused) && body.contains(&pasted));
}

#[tokio::test]
async fn finding_pages_saves_milestones_and_assignments_name_the_case() {
    let t = spawn_app().await;
    let worker = t.web_user("case.notice", Role::Caseworker).await;
    let mut c = t.login(&worker).await;
    let csrf = c.csrf("/cases/new").await;
    let created = c.post("/cases", &case_form(&csrf, &["Pine", "Larch", "Birch"], "n")).await;
    assert_eq!(created.status(), 303);
    let location = created.headers()["location"].to_str().unwrap().to_owned();
    assert!(!location.contains("Pine"), "no alias in a URL");
    let page = c.get(&location).await.text().await.unwrap();
    assert!(page.contains("Case of Pine (and 2 others) created."), "{page}");
    let again = c.get(&location).await.text().await.unwrap();
    assert!(!again.contains("created."), "the notice is shown once");

    let mut form = case_form(&csrf, &["Pine", "Larch"], "edited");
    form.push(("version", "1"));
    let saved = c.post(&location, &form).await;
    assert_eq!(saved.status(), 303);
    let page = c.get(&location).await.text().await.unwrap();
    assert!(page.contains("Case of Pine (and 1 other) saved."), "{page}");

    let added = c
        .post(&format!("{location}/milestones"), &[("csrf", &csrf), ("kind", "moved"), ("date", "2024")])
        .await;
    assert_eq!(added.status(), 303);
    let page = c.get(&location).await.text().await.unwrap();
    assert!(page.contains("Milestone added to the case of Pine (and 1 other)."), "{page}");

    let id = location.trim_start_matches("/cases/").to_owned();
    let id = safehouse::ids::CaseId::parse(&id).unwrap();
    let case = cases::read(&t.app.vault, &worker.actor, id).await.unwrap();
    let mid = case.milestones[0].id;
    let edited = c
        .post(
            &format!("{location}/milestones/{mid}"),
            &[("csrf", &csrf), ("kind", "moved"), ("date", "2023"), ("version", "1")],
        )
        .await;
    assert_eq!(edited.status(), 303);
    let page = c.get(&location).await.text().await.unwrap();
    assert!(page.contains("Milestone saved in the case of Pine (and 1 other)."), "{page}");

    let other = t.web_user("case.other", Role::Caseworker).await;
    let mut k = t.login_coordinator().await;
    let kcsrf = k.csrf(&location).await;
    let uid = other.actor.user_id().to_string();
    let assigned = k.post(&format!("{location}/assign"), &[("csrf", &kcsrf), ("user_id", &uid)]).await;
    assert_eq!(assigned.status(), 303);
    let page = k.get(&location).await.text().await.unwrap();
    assert!(page.contains("Case of Pine (and 1 other) assigned to case.other."), "{page}");
    let unassigned = k.post(&format!("{location}/unassign"), &[("csrf", &kcsrf), ("user_id", &uid)]).await;
    assert_eq!(unassigned.status(), 303);
    let page = k.get(&location).await.text().await.unwrap();
    assert!(page.contains("case.other no longer holds the case of Pine (and 1 other)."), "{page}");
}

#[tokio::test]
async fn finding_pages_an_error_page_keeps_the_menu() {
    let t = spawn_app().await;
    let worker = t.web_user("case.lost", Role::Caseworker).await;
    let mut c = t.login(&worker).await;
    let missing = c.get(&format!("/cases/{}", safehouse::ids::CaseId::random())).await;
    assert_eq!(missing.status(), 404);
    let body = missing.text().await.unwrap();
    assert!(body.contains("href=\"/account\"") && body.contains("Log out"), "{body}");
    // Refused by the route table, before any handler: the menu too.
    let refused = c.get("/admin/users").await;
    assert_eq!(refused.status(), 403);
    assert!(refused.text().await.unwrap().contains("href=\"/account\""));
    // A visitor who is not logged in gets no menu.
    let body = t.client().get("/nothing-here").await.text().await.unwrap();
    assert!(!body.contains("Log out") && !body.contains("href=\"/account\""));
}

#[tokio::test]
async fn finding_pages_no_flags_means_no_table() {
    let t = spawn_app().await;
    let mut k = t.login_coordinator().await;
    let body = k.get("/audit/flags").await.text().await.unwrap();
    assert!(body.contains("No flags."));
    assert!(!body.contains("<table"), "an empty table under No flags.");
}

#[tokio::test]
async fn finding_pages_the_age_band_error_uses_the_words_of_the_list() {
    let t = spawn_app().await;
    let worker = t.web_user("case.ages", Role::Caseworker).await;
    let mut c = t.login(&worker).await;
    let csrf = c.csrf("/cases/new").await;
    let mut form = case_form(&csrf, &["Wren"], "");
    form[2] = ("age_0", "ninety");
    let body = c.post("/cases", &form).await.text().await.unwrap();
    assert!(
        body.contains(
            "Choose an age band: Under 5, 5 to 11, 12 to 17, 18 to 29, 30 to 44, 45 to 59 or 60 and over."
        ),
        "{body}"
    );
    assert!(!body.contains("0-4, 5-11"));
    assert!(body.contains(">Under 5</option>") && body.contains(">60 and over</option>"));
}

#[tokio::test]
async fn finding_pages_certification_is_explained_for_each_role() {
    let t = spawn_app().await;
    let never = "before you can see any case";
    let cases = [
        (Role::Caseworker, "Until a coordinator certifies it, you cannot see or create cases."),
        (
            Role::Communications,
            "Until a coordinator certifies it and admits you to the communications team, you cannot read approved stories.",
        ),
        (Role::Auditor, "Your work needs no certified key"),
    ];
    for (i, (role, says)) in cases.into_iter().enumerate() {
        let user = uncertified(&t, &format!("waits.{i}"), role).await;
        let mut c = t.login(&user).await;
        let body = c.get("/account").await.text().await.unwrap();
        assert!(body.contains(says), "{role:?}: {body}");
        assert!(!body.contains(never), "{role:?}");
        assert!(!body.contains("Your key is certified."), "{role:?}");
    }
    let done = t.web_user("case.done", Role::Caseworker).await;
    let mut c = t.login(&done).await;
    let body = c.get("/account").await.text().await.unwrap();
    assert!(body.contains("Your key is certified."));
    assert!(!body.contains(never) && !body.contains("not certified"), "only the sentence that applies");
}

#[tokio::test]
async fn finding_pages_the_coordinators_menu_folds_and_keeps_lockdown_apart() {
    let t = spawn_app().await;
    let mut k = t.login_coordinator().await;
    let body = k.get("/").await.text().await.unwrap();
    let nav = &body[body.find("<nav").unwrap()..body.find("</nav>").unwrap()];
    // The coordinator's pages fold under one entry; the top row stays short.
    let details = &nav[nav.find("<details").expect("a folded group")..nav.find("</details>").unwrap()];
    for path in ["/shelters", "/team", "/certify", "/audit/flags"] {
        assert!(details.contains(&format!("href=\"{path}\"")), "{path} in the group");
    }
    let top = nav.replace(details, "");
    assert!(top.matches("<li").count() <= 5, "the top row: {top}");
    // Lockdown is set apart from the ordinary links, marked as dangerous.
    let lockdown = nav.find("href=\"/lockdown\"").unwrap();
    let flags = nav.find("href=\"/audit/flags\"").unwrap();
    assert!(lockdown > flags);
    let between = &nav[flags..lockdown];
    assert!(between.contains("class=\"nav-danger\""), "{between}");
}

#[tokio::test]
async fn finding_pages_an_uncertified_coordinator_is_offered_no_coordinator_page() {
    let t = spawn_app().await;
    let coordinator = uncertified(&t, "coord.waiting", Role::Coordinator).await;
    let mut c = t.login(&coordinator).await;
    let body = c.get("/").await.text().await.unwrap();
    assert!(body.contains("Until another coordinator certifies it and admits you to the coordinators team"));
    for path in ["/shelters", "/team", "/certify", "/audit/flags", "/lockdown"] {
        assert!(!body.contains(&format!("href=\"{path}\"")), "{path} offered");
    }
}
