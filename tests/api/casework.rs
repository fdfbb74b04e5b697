//! Casework over HTTP: create with a rejected form kept, milestones, an edit
//! conflict shown not overwritten, another caseworker's case answered as
//! missing, hostile text escaped.

use safehouse::accounts::model::Role;
use safehouse::cases::service as cases;
use safehouse::membership;

use crate::helpers::*;

async fn create_via_form(c: &mut Client, fields: &[(&str, &str)]) -> reqwest::Response {
    let csrf = c.csrf("/cases/new").await;
    let mut form = vec![("csrf", csrf.as_str())];
    form.extend_from_slice(fields);
    c.post("/cases", &form).await
}

const GOOD: &[(&str, &str)] = &[
    ("alias_0", "Starling"),
    ("age_0", "30-44"),
    ("gender_0", "female"),
    ("consent_0", "yes"),
    ("alias_1", ""),
    ("age_1", ""),
    ("shelter", ""),
    ("stage", "sheltered"),
    ("status", "open"),
    ("notes", "<script>alert(1)</script> \"><img src=x onerror=alert(2)> javascript:alert(3)"),
];

#[tokio::test]
async fn a_form_or_query_that_is_not_utf8_is_refused_and_nothing_is_stored() {
    let t = spawn_app().await;
    let worker = t.web_user("case.bytes", Role::Caseworker).await;
    let mut c = t.login(&worker).await;
    let csrf = c.csrf("/cases/new").await;
    let form = |alias: &str| {
        format!(
            "csrf={csrf}&alias_0={alias}&age_0=30-44&gender_0=female&consent_0=yes&shelter=&stage=sheltered&status=open&notes=n"
        )
    };
    // Lossy decoding would store U+FFFD as if typed: refused instead.
    for alias in ["Star%FFling", "Star%C3%28ling", "%ED%A0%80"] {
        let r = c.post_raw("/cases", &form(alias)).await;
        assert_eq!(r.status(), 400, "{alias}");
        assert!(r.headers()["content-security-policy"].to_str().unwrap().contains("default-src 'none'"));
    }
    let list = c.get("/cases").await.text().await.unwrap();
    assert!(!list.contains("Star"), "nothing was created");
    assert_eq!(c.get("/cases?q=%FF").await.status(), 400);
    // Valid UTF-8, percent-encoded, passes as before.
    let r = c.post_raw("/cases", &form("%E3%82%AB%E3%82%B5%E3%82%AE")).await;
    assert_eq!(r.status(), 303);
    let page = c.follow(r).await.text().await.unwrap();
    assert!(page.contains("カサギ"), "the alias arrived whole");
    assert_eq!(c.get("/cases?q=%E3%82%AB").await.status(), 200);
}

#[tokio::test]
async fn a_caseworker_creates_a_case_and_adds_a_milestone() {
    let t = spawn_app().await;
    let worker = t.web_user("case.web", Role::Caseworker).await;
    let mut c = t.login(&worker).await;

    // A rejected form: the alias carries a year; everything typed comes back.
    let mut bad: Vec<(&str, &str)> = GOOD.to_vec();
    bad[0] = ("alias_0", "Starling 1987");
    let rejected = create_via_form(&mut c, &bad).await;
    assert_eq!(rejected.status(), 422);
    let body = rejected.text().await.unwrap();
    assert!(body.contains("must not contain a date"), "the problem is named");
    assert!(body.contains("value=\"Starling 1987\""), "the alias is kept");
    assert!(body.contains("&#60;script&#62;alert(1)&#60;/script&#62;"), "the notes are kept, escaped");
    assert!(!body.contains("<script>alert(1)"));
    assert!(body.contains("value=\"sheltered\" selected"));

    let created = create_via_form(&mut c, GOOD).await;
    assert_eq!(created.status(), 303);
    let location = created.headers()["location"].to_str().unwrap().to_owned();
    let page = c.get(&location).await.text().await.unwrap();
    assert!(page.contains("Starling"));
    for raw in ["<script>alert(1)", "<img src=x", "onerror=alert(2)>"] {
        assert!(!page.contains(raw), "{raw} unescaped on the case page");
    }

    let csrf = c.csrf(&location).await;
    let path = format!("{location}/milestones");
    let wrong = c
        .post(
            &path,
            &[
                ("csrf", &csrf),
                ("kind", "arrived"),
                ("date", "2999-01-01"),
                ("country", "XX"),
                ("note", "kept note"),
            ],
        )
        .await;
    assert_eq!(wrong.status(), 422);
    let body = wrong.text().await.unwrap();
    assert!(
        body.contains("cannot be in the future")
            && body.contains("two-letter country code")
            && body.contains("kept note")
    );
    let ok = c
        .post(
            &path,
            &[
                ("csrf", &csrf),
                ("kind", "arrived"),
                ("date", "2024-03"),
                ("country", "kr"),
                ("note", "safe at last"),
            ],
        )
        .await;
    assert_eq!(ok.status(), 303);
    let page = c.get(&location).await.text().await.unwrap();
    assert!(page.contains("2024-03") && page.contains("KR") && page.contains("safe at last"));

    let list = c.get("/cases?q=starl").await.text().await.unwrap();
    assert!(list.contains(&location), "found by alias");
    let none = c.get("/cases?q=nobody").await.text().await.unwrap();
    assert!(!none.contains(&location));
}

#[tokio::test]
async fn a_stale_save_shows_both_versions_and_keeps_the_input() {
    let t = spawn_app().await;
    let a = t.web_user("case.alpha", Role::Caseworker).await;
    let b = t.web_user("case.beta", Role::Caseworker).await;
    let id = cases::create(&t.app.vault, &a.actor, draft(&["Lapwing"], "first notes")).await.unwrap();
    cases::list_visible(&t.app.vault, &t.app.coordinator).await.unwrap();
    membership::assign(&t.app.vault, &t.app.coordinator, id, b.actor.user_id()).await.unwrap();
    let mut ca = t.login(&a).await;
    let mut cb = t.login(&b).await;
    let edit = format!("/cases/{id}/edit");
    let csrf_a = ca.csrf(&edit).await;
    let csrf_b = cb.csrf(&edit).await;
    let form = |csrf: &str, notes: &str| -> Vec<(String, String)> {
        vec![
            ("csrf".into(), csrf.into()),
            ("version".into(), "1".into()),
            ("alias_0".into(), "Lapwing".into()),
            ("age_0".into(), "30-44".into()),
            ("shelter".into(), String::new()),
            ("stage".into(), "intake".into()),
            ("status".into(), "open".into()),
            ("notes".into(), notes.into()),
        ]
    };
    let b_form = form(&csrf_b, "B saved first");
    let pairs: Vec<(&str, &str)> = b_form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    assert_eq!(cb.post(&format!("/cases/{id}"), &pairs).await.status(), 303);
    let a_form = form(&csrf_a, "A's careful words");
    let pairs: Vec<(&str, &str)> = a_form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let stale = ca.post(&format!("/cases/{id}"), &pairs).await;
    assert_eq!(stale.status(), 409);
    let body = stale.text().await.unwrap();
    assert!(body.contains("Someone else saved this case"));
    assert!(body.contains("B saved first"), "their version is shown");
    assert!(body.contains("A&#39;s careful words"), "the user's input is kept");
    assert!(body.contains("name=\"version\" value=\"2\""), "the next save goes against their version");
    assert_eq!(cases::read(&t.app.vault, &a.actor, id).await.unwrap().notes.as_str(), "B saved first");
}

#[tokio::test]
async fn another_caseworkers_case_is_answered_as_missing() {
    let t = spawn_app().await;
    let a = t.web_user("case.owner", Role::Caseworker).await;
    let b = t.web_user("case.other", Role::Caseworker).await;
    let id = cases::create(&t.app.vault, &a.actor, draft(&["Dotterel"], "private")).await.unwrap();
    let mut cb = t.login(&b).await;
    let missing = cb.get("/cases/0b5f0d8e-3c1e-4f7a-9d2b-6a1c2e3f4a5b").await;
    assert_eq!(missing.status(), 404);
    let missing_body = missing.text().await.unwrap();
    let before = t.app.audit_log().await.len();
    for path in [format!("/cases/{id}"), format!("/cases/{id}/edit")] {
        let r = cb.get(&path).await;
        assert_eq!(r.status(), 404, "{path}");
        let body = r.text().await.unwrap();
        assert!(!body.contains("Dotterel") && !body.contains("private"));
        // The same page as for a case that does not exist (but its request id).
        let strip = |s: &str| s.split("<code>").next().unwrap().to_owned();
        assert_eq!(strip(&body), strip(&missing_body));
    }
    let csrf = cb.csrf("/account").await;
    let post = cb
        .post(
            &format!("/cases/{id}"),
            &[
                ("csrf", &csrf),
                ("version", "1"),
                ("alias_0", "Hijacked"),
                ("age_0", "30-44"),
                ("stage", "intake"),
                ("status", "open"),
                ("notes", ""),
            ],
        )
        .await;
    assert_eq!(post.status(), 404);
    let post = cb
        .post(&format!("/cases/{id}/milestones"), &[("csrf", &csrf), ("kind", "arrived"), ("date", "2024")])
        .await;
    assert_eq!(post.status(), 404);
    assert_eq!(
        cases::read(&t.app.vault, &a.actor, id).await.unwrap().group.persons()[0].alias.as_str(),
        "Dotterel"
    );
    assert!(cases::read(&t.app.vault, &a.actor, id).await.unwrap().milestones.is_empty());
    let denials = t.app.audit_log().await[before..]
        .iter()
        .filter(|e| e.outcome == "denied" && e.target == id.to_string())
        .count();
    assert!(denials >= 4, "each attempt is a recorded denial ({denials})");
}

#[tokio::test]
async fn a_coordinator_assigns_and_unassigns_from_the_case_page() {
    let t = spawn_app().await;
    let worker = t.web_user("case.assignee", Role::Caseworker).await;
    let id =
        cases::create(&t.app.vault, &t.app.coordinator, draft(&["Sanderling"], "to assign")).await.unwrap();
    let mut k = t.login_coordinator().await;
    let page = k.get(&format!("/cases/{id}")).await.text().await.unwrap();
    assert!(page.contains("No one is assigned.") && page.contains(">case.assignee<"));
    let csrf = k.csrf(&format!("/cases/{id}")).await;
    let uid = worker.actor.user_id().to_string();
    let assigned = k.post(&format!("/cases/{id}/assign"), &[("csrf", &csrf), ("user_id", &uid)]).await;
    assert_eq!(assigned.status(), 303);
    let mut w = t.login(&worker).await;
    assert_eq!(w.get(&format!("/cases/{id}")).await.status(), 200, "the caseworker now opens the case");
    assert!(w.get("/cases").await.text().await.unwrap().contains("Sanderling"));
    // The caseworker cannot assign.
    let wcsrf = w.csrf("/account").await;
    assert_eq!(
        w.post(&format!("/cases/{id}/unassign"), &[("csrf", &wcsrf), ("user_id", &uid)]).await.status(),
        403
    );
    // After five quiet minutes the coordinator is asked for the password first.
    t.clock.advance(time::Duration::minutes(6));
    let csrf = k.csrf(&format!("/cases/{id}")).await;
    let ask = k.post(&format!("/cases/{id}/unassign"), &[("csrf", &csrf), ("user_id", &uid)]).await;
    assert_eq!(ask.headers()["location"].to_str().unwrap(), format!("/reauth?next=/cases/{id}"));
    let re = k
        .post(
            "/reauth",
            &[
                ("csrf", &csrf),
                ("next", &format!("/cases/{id}")),
                ("password", "first coordinator passphrase"),
            ],
        )
        .await;
    assert_eq!(re.status(), 303);
    let done = k.post(&format!("/cases/{id}/unassign"), &[("csrf", &csrf), ("user_id", &uid)]).await;
    assert_eq!(done.status(), 303);
    assert_eq!(w.get(&format!("/cases/{id}")).await.status(), 404, "unassigned: the case is gone for them");
}

#[tokio::test]
async fn a_coordinator_keeps_the_shelter_register() {
    let t = spawn_app().await;
    let mut k = t.login_coordinator().await;
    let csrf = k.csrf("/shelters").await;
    let bad = k
        .post(
            "/shelters",
            &[
                ("csrf", &csrf),
                ("code", "jrl01"),
                ("region", "Jilin"),
                ("capacity", "900"),
                ("notes", "<b>x</b>"),
            ],
        )
        .await;
    assert_eq!(bad.status(), 422);
    let body = bad.text().await.unwrap();
    assert!(body.contains("A shelter code looks like JRL-01") && body.contains("Capacity is a whole number"));
    assert!(
        body.contains("value=\"Jilin\"") && body.contains("&#60;b&#62;x&#60;/b&#62;"),
        "input kept, escaped"
    );
    let ok = k
        .post(
            "/shelters",
            &[
                ("csrf", &csrf),
                ("code", "jrl-01"),
                ("region", "Jilin"),
                ("capacity", "8"),
                ("notes", "back door"),
            ],
        )
        .await;
    assert_eq!(ok.status(), 303);
    let page = k.get("/shelters").await.text().await.unwrap();
    assert!(page.contains("JRL-01") && page.contains("back door"));
    let dup = k
        .post("/shelters", &[("csrf", &csrf), ("code", "JRL-01"), ("region", "Jilin"), ("capacity", "8")])
        .await;
    assert!(dup.text().await.unwrap().contains("already has this code name"));
    // The new shelter is offered on the case form.
    assert!(k.get("/cases/new").await.text().await.unwrap().contains(">JRL-01</option>"));
    // Edit it: a bad capacity is named and the input kept; then saved.
    let start = page.find("/shelters/").unwrap();
    let edit = page[start..].split('"').next().unwrap().to_owned();
    assert!(edit.ends_with("/edit"));
    let form_page = k.get(&edit).await.text().await.unwrap();
    assert!(form_page.contains("value=\"Jilin\"") && form_page.contains("back door"));
    let save = edit.trim_end_matches("/edit").to_owned();
    let bad = k
        .post(
            &save,
            &[
                ("csrf", &csrf),
                ("version", "1"),
                ("code", "JRL-01"),
                ("region", "Jilin north"),
                ("capacity", "0"),
            ],
        )
        .await;
    assert_eq!(bad.status(), 422);
    assert!(bad.text().await.unwrap().contains("value=\"Jilin north\""));
    let ok = k
        .post(
            &save,
            &[
                ("csrf", &csrf),
                ("version", "1"),
                ("code", "JRL-01"),
                ("region", "Jilin north"),
                ("capacity", "10"),
            ],
        )
        .await;
    assert_eq!(ok.status(), 303);
    assert!(k.get("/shelters").await.text().await.unwrap().contains("Jilin north"));
    let stale = k
        .post(
            &save,
            &[("csrf", &csrf), ("version", "1"), ("code", "JRL-01"), ("region", "Old"), ("capacity", "10")],
        )
        .await;
    assert_eq!(stale.status(), 409, "a stale save is a conflict");
}

#[tokio::test]
async fn a_coordinator_freezes_a_caseworker_from_the_team_page() {
    let t = spawn_app().await;
    let worker = t.web_user("case.detained", Role::Caseworker).await;
    let id = cases::create(&t.app.vault, &worker.actor, draft(&["Whimbrel"], "x")).await.unwrap();
    let mut w = t.login(&worker).await;
    assert_eq!(w.get(&format!("/cases/{id}")).await.status(), 200);
    let mut k = t.login_coordinator().await;
    let page = k.get("/team").await.text().await.unwrap();
    let uid = worker.actor.user_id().to_string();
    assert!(page.contains(&format!("/team/{uid}/freeze")));
    let csrf = k.csrf("/team").await;
    let frozen = k.post(&format!("/team/{uid}/freeze"), &[("csrf", &csrf), ("confirm", "yes")]).await;
    let frozen = k.follow(frozen).await;
    assert_eq!(frozen.status(), 200);
    assert!(frozen.text().await.unwrap().contains("case.detained frozen: 1 case grant removed"));
    assert_eq!(w.get("/").await.status(), 303, "their session ended at once");
    let code = oath_code(&worker.secret, t.now());
    let mut again = t.client();
    let refused =
        again.post("/login", &[("username", "case.detained"), ("password", PASSWORD), ("code", &code)]).await;
    assert_eq!(refused.status(), 200, "a frozen account cannot log in");
    assert!(matches!(
        cases::read(&t.app.vault, &worker.actor, id).await,
        Err(safehouse::error::ServiceError::NotFound)
    ));
}

#[tokio::test]
async fn a_stale_milestone_edit_shows_both_versions() {
    let t = spawn_app().await;
    let worker = t.web_user("case.edits", Role::Caseworker).await;
    let id = cases::create(&t.app.vault, &worker.actor, draft(&["Knot"], "x")).await.unwrap();
    let today = time::OffsetDateTime::now_utc().date();
    let m = safehouse::cases::service::MilestoneDraft {
        kind: safehouse::cases::model::MilestoneKind::Moved,
        date: safehouse::cases::model::EventDate::parse("2023", today).unwrap(),
        country: None,
        place_code: None,
        note: safehouse::cases::model::Note::parse("original").unwrap(),
        sponsorship: None,
    };
    let mid = cases::add_milestone(&t.app.vault, &worker.actor, id, m.clone()).await.unwrap();
    let mut c = t.login(&worker).await;
    let page = c.get(&format!("/cases/{id}")).await.text().await.unwrap();
    assert!(page.contains(&format!("/cases/{id}/milestones/{mid}/edit")));
    let csrf = c.csrf(&format!("/cases/{id}/milestones/{mid}/edit")).await;
    // Someone else edits first.
    let mut theirs = m.clone();
    theirs.note = safehouse::cases::model::Note::parse("their edit").unwrap();
    cases::edit_milestone(&t.app.vault, &worker.actor, id, mid, 1, theirs).await.unwrap();
    let path = format!("/cases/{id}/milestones/{mid}");
    let stale = c
        .post(
            &path,
            &[("csrf", &csrf), ("version", "1"), ("kind", "moved"), ("date", "2023"), ("note", "my edit")],
        )
        .await;
    assert_eq!(stale.status(), 409);
    let body = stale.text().await.unwrap();
    assert!(
        body.contains("their edit")
            && body.contains("my edit")
            && body.contains("name=\"version\" value=\"2\"")
    );
    let ok = c
        .post(
            &path,
            &[("csrf", &csrf), ("version", "2"), ("kind", "moved"), ("date", "2023-05"), ("note", "merged")],
        )
        .await;
    assert_eq!(ok.status(), 303);
    let case = cases::read(&t.app.vault, &worker.actor, id).await.unwrap();
    assert_eq!(case.milestones[0].draft.note.as_str(), "merged");
    assert_eq!(case.milestones[0].draft.date.to_string(), "2023-05");
}

#[tokio::test]
async fn the_coordinator_dashboard_filters_every_case_from_the_index() {
    let t = spawn_app().await;
    let a = t.web_user("case.one", Role::Caseworker).await;
    let b = t.web_user("case.two", Role::Caseworker).await;
    let first = cases::create(&t.app.vault, &a.actor, draft(&["Avocet"], "x")).await.unwrap();
    let mut later = draft(&["Bittern"], "y");
    later.stage = safehouse::cases::model::Stage::Arrived;
    let second = cases::create(&t.app.vault, &b.actor, later).await.unwrap();
    let coord_secret = t.enrol(&t.app.coordinator).await;
    let mut k = t.client();
    let code = oath_code(&coord_secret, t.now());
    k.post(
        "/login",
        &[("username", "coord.first"), ("password", "first coordinator passphrase"), ("code", &code)],
    )
    .await;
    let all = k.get("/cases").await.text().await.unwrap();
    assert!(all.contains("Avocet") && all.contains("Bittern"), "every case, folded from the inbox");
    let arrived = k.get("/cases?stage=arrived").await.text().await.unwrap();
    assert!(!arrived.contains("Avocet") && arrived.contains("Bittern"));
    let by_a = k.get(&format!("/cases?assignee={}", a.actor.user_id())).await.text().await.unwrap();
    assert!(by_a.contains(&format!("/cases/{first}")) && !by_a.contains(&format!("/cases/{second}")));
    t.clock.advance(time::Duration::days(20));
    let code = oath_code(&coord_secret, t.now());
    let mut k = t.client();
    k.post(
        "/login",
        &[("username", "coord.first"), ("password", "first coordinator passphrase"), ("code", &code)],
    )
    .await;
    let stale = k.get("/cases?stale_days=14").await.text().await.unwrap();
    assert!(stale.contains("Avocet") && stale.contains("Bittern"), "not touched for 20 days");
    let mut w = t.login(&a).await;
    let mine = w.get("/cases").await.text().await.unwrap();
    assert!(mine.contains("Avocet") && !mine.contains("Bittern"), "a caseworker sees their own cases only");
}

#[tokio::test]
async fn only_a_coordinator_closes_and_reopens_a_case() {
    let t = spawn_app().await;
    let worker = t.web_user("case.closer", Role::Caseworker).await;
    let id = cases::create(&t.app.vault, &worker.actor, draft(&["Dunlin"], "x")).await.unwrap();
    let mut w = t.login(&worker).await;
    let form = |csrf: &str, version: &str, status: &str| -> Vec<(String, String)> {
        [
            ("csrf", csrf),
            ("version", version),
            ("alias_0", "Dunlin"),
            ("age_0", "30-44"),
            ("stage", "arrived"),
            ("status", status),
            ("notes", "x"),
            ("shelter", ""),
        ]
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
    };
    let edit = w.get(&format!("/cases/{id}/edit")).await.text().await.unwrap();
    assert!(!edit.contains("closed:resettled"), "a caseworker is not offered closing");
    let csrf = w.csrf(&format!("/cases/{id}/edit")).await;
    let f = form(&csrf, "1", "closed:resettled");
    let pairs: Vec<(&str, &str)> = f.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let refused = w.post(&format!("/cases/{id}"), &pairs).await;
    assert_eq!(refused.status(), 422);
    assert!(refused.text().await.unwrap().contains("Only a coordinator closes or reopens a case."));

    let mut k = t.login_coordinator().await;
    let csrf = k.csrf(&format!("/cases/{id}/edit")).await;
    let f = form(&csrf, "1", "closed:resettled");
    let pairs: Vec<(&str, &str)> = f.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    assert_eq!(k.post(&format!("/cases/{id}"), &pairs).await.status(), 303);
    assert!(k.get(&format!("/cases/{id}")).await.text().await.unwrap().contains("Closed: Resettled"));
    let f = form(&csrf, "2", "open");
    let pairs: Vec<(&str, &str)> = f.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    assert_eq!(k.post(&format!("/cases/{id}"), &pairs).await.status(), 303, "reopened");
}

#[tokio::test]
async fn every_case_field_has_limits_and_hostile_text_comes_back_escaped() {
    let t = spawn_app().await;
    let worker = t.web_user("case.limits", Role::Caseworker).await;
    let mut c = t.login(&worker).await;
    let long_alias = "A".repeat(41);
    let long_notes = "n".repeat(4001);
    let cases_to_try: Vec<(Vec<(&str, &str)>, &str)> = vec![
        (vec![("alias_0", &long_alias), ("age_0", "30-44")], "at most 40 characters"),
        (
            vec![("alias_0", "Ana"), ("age_0", "30-44"), ("alias_1", "ana"), ("age_1", "5-11")],
            "cannot share an alias",
        ),
        (vec![("alias_0", ""), ("age_0", "")], "at least one person"),
        (vec![("alias_0", "Ana"), ("age_0", "ninety")], "Choose an age band"),
        (vec![("alias_0", "Ana"), ("age_0", "30-44"), ("notes", &long_notes)], "at most 4000 characters"),
        (
            vec![("alias_0", "Ana"), ("age_0", "30-44"), ("stage", "teleported")],
            "Choose one of the listed stages.",
        ),
        (
            vec![("alias_0", "Ana"), ("age_0", "30-44"), ("shelter", "not-an-id")],
            "Choose a shelter from the register.",
        ),
    ];
    for (fields, message) in cases_to_try {
        let csrf = c.csrf("/cases/new").await;
        let mut form = vec![("csrf", csrf.as_str())];
        form.extend(fields.iter().copied());
        for (key, value) in [("stage", "intake"), ("status", "open"), ("notes", "kept notes")] {
            if !fields.iter().any(|(k, _)| *k == key) {
                form.push((key, value));
            }
        }
        let r = c.post("/cases", &form).await;
        assert_eq!(r.status(), 422, "{fields:?}");
        let body = r.text().await.unwrap();
        assert!(body.contains(message), "{message:?} for {fields:?}");
        assert!(body.contains("field-error"), "the problem is beside a field");
    }
    // Hostile text in the milestone note and the shelter's fields is escaped wherever shown.
    let hostile = "<script>alert('x')</script>\"><img src=x onerror=alert(1)>";
    let id = cases::create(&t.app.vault, &worker.actor, draft(&["Ruff"], "x")).await.unwrap();
    let csrf = c.csrf(&format!("/cases/{id}")).await;
    let r = c
        .post(
            &format!("/cases/{id}/milestones"),
            &[("csrf", &csrf), ("kind", "moved"), ("date", "2024"), ("note", hostile)],
        )
        .await;
    assert_eq!(r.status(), 303);
    for path in [format!("/cases/{id}"), format!("/cases/{id}/edit")] {
        let body = c.get(&path).await.text().await.unwrap();
        assert!(!body.contains("<script>alert") && !body.contains("<img src=x"), "{path}");
    }
    let page = c.get(&format!("/cases/{id}")).await.text().await.unwrap();
    assert!(page.contains("&#60;script&#62;"), "shown, escaped");
}
