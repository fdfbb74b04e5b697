//! The case page over HTTP: a heading that names the group and a short
//! reference, who holds the case (for a caseworker too), a history of
//! changes read from the audit trail with names by who is looking, and the
//! person rows added and removed by buttons that save nothing.

use safehouse::accounts::model::Role;
use safehouse::cases::service as cases;
use safehouse::error::ServiceError;
use safehouse::ids::CaseId;
use safehouse::membership;

use crate::helpers::*;

async fn body(c: &mut Client, path: &str) -> String {
    let response = c.get(path).await;
    assert_eq!(response.status(), 200, "{path}");
    response.text().await.unwrap()
}

/// The history table's rows as (when, who, what).
fn history(page: &str) -> Vec<(String, String, String)> {
    let Some(start) = page.find("<table class=\"rows-on-phone history\">") else { return Vec::new() };
    let table = page[start..].split("</table>").next().unwrap();
    let cell = |row: &str, label: &str| {
        let marker = format!("data-label=\"{label}\">");
        let at = row.find(&marker).unwrap() + marker.len();
        row[at..].split("</td>").next().unwrap().to_owned()
    };
    table
        .split("<tr>")
        .filter(|r| r.contains("data-label=\"When\""))
        .map(|r| (cell(r, "When"), cell(r, "Who"), cell(r, "What")))
        .collect()
}

fn who_what(page: &str) -> Vec<(String, String)> {
    history(page).into_iter().map(|(_, who, what)| (who, what)).collect()
}

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter().map(|(a, b)| ((*a).to_owned(), (*b).to_owned())).collect()
}

fn minute(at: time::OffsetDateTime) -> String {
    format!("{} {:02}:{:02}", at.date(), at.hour(), at.minute())
}

#[tokio::test]
async fn the_heading_names_the_group_and_a_short_reference() {
    let t = spawn_app().await;
    let worker = t.web_user("page.head", Role::Caseworker).await;
    let four = cases::create(&t.app.vault, &worker.actor, draft(&["Pine", "Birch", "Oak", "Ash"], "n"))
        .await
        .unwrap();
    let three =
        cases::create(&t.app.vault, &worker.actor, draft(&["Pine", "Birch", "Oak"], "n")).await.unwrap();
    let two = cases::create(&t.app.vault, &worker.actor, draft(&["Pine", "Birch"], "n")).await.unwrap();
    let one = cases::create(&t.app.vault, &worker.actor, draft(&["Pine"], "n")).await.unwrap();
    let mut c = t.login(&worker).await;
    for (id, name) in [
        (four, "Pine, Birch and 2 others"),
        (three, "Pine, Birch and Oak"),
        (two, "Pine and Birch"),
        (one, "Pine"),
    ] {
        let page = body(&mut c, &format!("/cases/{id}")).await;
        let reference: String = id.to_string().chars().take(8).collect();
        assert!(
            page.contains(&format!("<h1>{name} <span class=\"case-ref\">ref {reference}</span></h1>")),
            "{page}"
        );
        let title = page.split("<title>").nth(1).unwrap().split("</title>").next().unwrap();
        assert!(
            title.contains(&format!("ref {reference}")) && !title.contains("Pine"),
            "no alias in the title: {title}"
        );
    }
    // The list names groups the same way.
    let list = body(&mut c, "/cases").await;
    assert!(list.contains(&format!("<a href=\"/cases/{four}\">Pine, Birch and 2 others</a>")), "{list}");
}

#[tokio::test]
async fn a_caseworker_sees_who_holds_the_case_with_them_and_no_one_else_may_ask() {
    let t = spawn_app().await;
    let a = t.web_user("page.alpha", Role::Caseworker).await;
    let b = t.web_user("page.beta", Role::Caseworker).await;
    let c = t.web_user("page.gamma", Role::Caseworker).await;
    let id = cases::create(&t.app.vault, &a.actor, draft(&["Rowan"], "n")).await.unwrap();
    cases::list_visible(&t.app.vault, &t.app.coordinator).await.unwrap();
    membership::assign(&t.app.vault, &t.app.coordinator, id, b.actor.user_id()).await.unwrap();

    let mut ca = t.login(&a).await;
    let page = body(&mut ca, &format!("/cases/{id}")).await;
    assert!(
        page.contains("<ul class=\"holders\"><li>page.alpha (you)</li><li>page.beta</li></ul>"),
        "{page}"
    );
    assert!(!page.contains("page.gamma"));
    let mut cb = t.login(&b).await;
    let page = body(&mut cb, &format!("/cases/{id}")).await;
    assert!(page.contains("<li>page.alpha</li><li>page.beta (you)</li>"), "{page}");

    // Anyone not holding the case is answered as for a missing case.
    let mut cc = t.login(&c).await;
    assert_eq!(cc.get(&format!("/cases/{id}")).await.status(), 404);
    for actor in [&c.actor, &t.app.coordinator, &t.app.admin] {
        let refused = membership::co_assignees(&t.app.vault, actor, id).await;
        assert!(matches!(refused, Err(ServiceError::NotFound)), "{refused:?}");
    }
    let missing = membership::co_assignees(&t.app.vault, &a.actor, CaseId::random()).await;
    assert!(matches!(missing, Err(ServiceError::NotFound)));

    membership::unassign(&t.app.vault, &t.app.coordinator, id, b.actor.user_id()).await.unwrap();
    let page = body(&mut ca, &format!("/cases/{id}")).await;
    assert!(page.contains("<ul class=\"holders\"><li>page.alpha (you)</li></ul>"), "{page}");
    assert!(matches!(
        membership::co_assignees(&t.app.vault, &b.actor, id).await,
        Err(ServiceError::NotFound)
    ));
}

#[tokio::test]
async fn the_history_shows_an_edit_by_another_user_with_who_and_when() {
    let t = spawn_app().await;
    let a = t.web_user("hist.alpha", Role::Caseworker).await;
    let b = t.web_user("hist.beta", Role::Caseworker).await;
    let created_at = t.now();
    let id = cases::create(&t.app.vault, &a.actor, draft(&["Pine"], "first")).await.unwrap();
    let location = format!("/cases/{id}");

    // A coordinator edits the case through the form, and adds a milestone.
    let mut k = t.login_coordinator().await;
    let csrf = k.csrf(&format!("{location}/edit")).await;
    let edited_at = t.now();
    let saved = k
        .post(
            &location,
            &[
                ("csrf", &csrf),
                ("version", "1"),
                ("alias_0", "Pine"),
                ("age_0", "30-44"),
                ("shelter", ""),
                ("stage", "assessment"),
                ("status", "open"),
                ("notes", "edited by the coordinator"),
            ],
        )
        .await;
    assert_eq!(saved.status(), 303);
    let page = body(&mut k, &location).await;
    assert!(page.contains("Case of Pine saved."), "the notice names the case: {page}");
    let added = k
        .post(&format!("{location}/milestones"), &[("csrf", &csrf), ("kind", "moved"), ("date", "2024")])
        .await;
    assert_eq!(added.status(), 303);
    membership::assign(&t.app.vault, &t.app.coordinator, id, b.actor.user_id()).await.unwrap();
    // The other caseworker saves too (a milestone leaves the case at version 2).
    cases::update(&t.app.vault, &b.actor, id, 2, draft(&["Pine"], "beta's notes")).await.unwrap();
    // A refused and a conflicting save change nothing and are not listed.
    assert!(cases::update(&t.app.vault, &b.actor, id, 1, draft(&["Pine"], "stale")).await.is_err());

    let mut ca = t.login(&a).await;
    for _ in 0..3 {
        body(&mut ca, &location).await; // reads are not changes
    }
    let page = body(&mut ca, &location).await;
    let expected = [
        ("hist.beta", "Saved the case details"),
        ("a coordinator", "Assigned a caseworker"),
        ("a coordinator", "Added a milestone"),
        ("a coordinator", "Saved the case details"),
        ("you", "Created the case"),
    ];
    assert_eq!(who_what(&page), pairs(&expected), "{page}");
    let rows = history(&page);
    assert_eq!(rows[4].0, minute(created_at), "times to the minute");
    assert_eq!(rows[3].0, minute(edited_at));
    assert!(!page.contains("coord.first"), "a caseworker is not told which coordinator");

    // A coordinator sees every username.
    let page = body(&mut k, &location).await;
    let expected = [
        ("hist.beta", "Saved the case details"),
        ("coord.first", "Assigned a caseworker"),
        ("coord.first", "Added a milestone"),
        ("coord.first", "Saved the case details"),
        ("hist.alpha", "Created the case"),
    ];
    assert_eq!(who_what(&page), pairs(&expected), "{page}");

    // Once the other caseworker no longer holds the case, they are "a caseworker".
    membership::unassign(&t.app.vault, &t.app.coordinator, id, b.actor.user_id()).await.unwrap();
    let page = body(&mut ca, &location).await;
    let list = who_what(&page);
    assert_eq!(list[0], ("a coordinator".to_owned(), "Unassigned a caseworker".to_owned()));
    assert_eq!(list[1], ("a caseworker".to_owned(), "Saved the case details".to_owned()));
    assert!(!page.contains("hist.beta"), "{page}");
}

#[tokio::test]
async fn the_history_shows_twenty_changes_and_links_to_the_older_ones() {
    let t = spawn_app().await;
    let id = cases::create(&t.app.vault, &t.app.coordinator, draft(&["Spruce"], "v1")).await.unwrap();
    for version in 1..=25 {
        cases::update(
            &t.app.vault,
            &t.app.coordinator,
            id,
            version,
            draft(&["Spruce"], &format!("v{version}")),
        )
        .await
        .unwrap();
    }
    let mut k = t.login_coordinator().await;
    let location = format!("/cases/{id}");
    let page = body(&mut k, &location).await;
    assert_eq!(history(&page).len(), 20);
    assert!(!page.contains("Latest changes"));
    let older = page.split(&format!("<a href=\"{location}?before=")).nth(1).expect("an older link");
    let before = older.split('#').next().unwrap().to_owned();
    let page = body(&mut k, &format!("{location}?before={before}")).await;
    let rest = who_what(&page);
    assert_eq!(rest.len(), 6, "{page}");
    assert_eq!(rest[5].1, "Created the case");
    assert!(rest[..5].iter().all(|(_, what)| what == "Saved the case details"));
    assert!(page.contains(&format!("<a href=\"{location}#history\">Latest changes</a>")));
    assert!(!page.contains("Older changes"), "nothing older than the creation");
    assert_eq!(k.get(&format!("{location}?before=abc")).await.status(), 400);

    // A much-read case: its reads are not in the way; the page still shows
    // the latest twenty changes, and every change is reached through the
    // older links.
    for _ in 0..300 {
        cases::read(&t.app.vault, &t.app.coordinator, id).await.unwrap();
    }
    let page = body(&mut k, &location).await;
    assert_eq!(history(&page).len(), 20, "the reads hide no change");
    let mut path = location.clone();
    let mut found = Vec::new();
    for _ in 0..5 {
        let page = body(&mut k, &path).await;
        found.extend(who_what(&page));
        match page.split(&format!("<a href=\"{location}?before=")).nth(1) {
            Some(next) => path = format!("{location}?before={}", next.split('#').next().unwrap()),
            None => break,
        }
    }
    assert_eq!(found.len(), 26, "every change is reached through the older links");
}

#[tokio::test]
async fn person_buttons_add_and_remove_rows_keep_what_was_typed_and_save_nothing() {
    let t = spawn_app().await;
    let worker = t.web_user("page.rows", Role::Caseworker).await;
    let mut c = t.login(&worker).await;
    let new = body(&mut c, "/cases/new").await;
    assert!(new.contains("name=\"alias_0\"") && !new.contains("name=\"alias_1\""), "no fixed blank rows");
    let default = new.find("class=\"default-submit\"").unwrap();
    assert!(default < new.find("name=\"remove_person\"").unwrap(), "Enter saves, it never removes a row");
    let csrf = c.csrf("/cases/new").await;
    let typed = [
        ("csrf", csrf.as_str()),
        ("alias_0", "Pine"),
        ("age_0", "30-44"),
        ("gender_0", "female"),
        ("consent_0", "yes"),
        ("shelter", ""),
        ("stage", "assessment"),
        ("status", "open"),
        ("notes", "typed with care"),
    ];
    let mut form = typed.to_vec();
    form.push(("add_person", "yes"));
    let response = c.post("/cases", &form).await;
    assert_eq!(response.status(), 200, "the form again, not a redirect to a saved case");
    let page = response.text().await.unwrap();
    assert!(page.contains("name=\"alias_0\" value=\"Pine\"") && page.contains("name=\"alias_1\" value=\"\""));
    assert!(!page.contains("name=\"alias_2\""), "exactly one row more");
    assert!(page.contains("typed with care") && page.contains("value=\"assessment\" selected"));
    assert!(
        page.contains("<option value=\"female\" selected>")
            && page.contains("name=\"consent_0\" value=\"yes\" checked")
    );

    // Remove the first of two: the second moves up with what was typed in it.
    let mut form = typed.to_vec();
    form.extend([("alias_1", "Birch"), ("age_1", "5-11"), ("remove_person", "0")]);
    let response = c.post("/cases", &form).await;
    assert_eq!(response.status(), 200);
    let page = response.text().await.unwrap();
    assert!(page.contains("name=\"alias_0\" value=\"Birch\"") && !page.contains("value=\"Pine\""), "{page}");
    assert!(page.contains("<option value=\"5-11\" selected>") && !page.contains("name=\"alias_1\""));
    assert!(page.contains("typed with care"));
    assert!(cases::list_visible(&t.app.vault, &worker.actor).await.unwrap().is_empty(), "nothing saved");

    let mut form = typed.to_vec();
    form.push(("remove_person", "first"));
    assert_eq!(c.post("/cases", &form).await.status(), 400);

    // A full group: said so, and the rows stay.
    let names: Vec<(String, String)> =
        (0..20).map(|i| (format!("alias_{i}"), format!("Member{}", (b'a' + i as u8) as char))).collect();
    let mut form: Vec<(&str, &str)> =
        vec![("csrf", &csrf), ("stage", "intake"), ("status", "open"), ("add_person", "yes")];
    form.extend(names.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    let response = c.post("/cases", &form).await;
    assert_eq!(response.status(), 200);
    let page = response.text().await.unwrap();
    assert!(
        page.contains("A group has at most 20 persons.")
            && page.contains("name=\"alias_19\"")
            && !page.contains("name=\"alias_20\"")
    );

    // On an existing case: the version is kept and the case is untouched.
    let id = cases::create(&t.app.vault, &worker.actor, draft(&["Larch"], "n")).await.unwrap();
    let location = format!("/cases/{id}");
    let edit = body(&mut c, &format!("{location}/edit")).await;
    assert!(edit.contains("name=\"alias_0\" value=\"Larch\"") && !edit.contains("name=\"alias_1\""));
    let response = c
        .post(
            &location,
            &[
                ("csrf", &csrf),
                ("version", "1"),
                ("alias_0", "Larchwood"),
                ("age_0", "30-44"),
                ("stage", "intake"),
                ("status", "open"),
                ("notes", "not yet saved"),
                ("add_person", "yes"),
            ],
        )
        .await;
    assert_eq!(response.status(), 200);
    let page = response.text().await.unwrap();
    assert!(page.contains("name=\"version\" value=\"1\"") && page.contains("value=\"Larchwood\""));
    assert!(page.contains("name=\"alias_1\"") && page.contains(&format!("action=\"{location}\"")));
    let case = cases::read(&t.app.vault, &worker.actor, id).await.unwrap();
    assert_eq!((case.version, case.group.persons()[0].alias.as_str()), (1, "Larch"), "nothing saved");
}

/// The history reads the changes through their partial index, however often
/// the case is read: SQLite's plan for the store's query names the index.
#[tokio::test]
async fn the_history_query_reads_the_partial_index_of_changes() {
    if on_postgres() {
        return;
    }
    let t = instance().await;
    let options =
        sqlx::sqlite::SqliteConnectOptions::new().filename(t.data_dir().join("safehouse.db")).read_only(true);
    let pool = sqlx::SqlitePool::connect_with(options).await.unwrap();
    let plan: Vec<(i64, i64, i64, String)> =
        sqlx::query_as(&format!("EXPLAIN QUERY PLAN {}", safehouse::storage::CASE_CHANGES_SQL))
            .bind("some-case")
            .bind(i64::MAX)
            .bind(21_i64)
            .fetch_all(&pool)
            .await
            .unwrap();
    let detail: Vec<&str> = plan.iter().map(|(_, _, _, d)| d.as_str()).collect();
    assert!(
        detail.iter().any(|d| d.contains("USING INDEX audit_log_changes_by_target")),
        "the plan: {detail:?}"
    );
}
