//! Feedback after every action (issue 11): after each POST of the account,
//! administrator, membership, shelter, lockdown and audit pages, the page
//! the user lands on says what happened and names the object, once.
//! (The case pages' notices are tested with the case pages.)

use safehouse::accounts::model::Role;

use crate::helpers::*;

const NEW_PASSWORD: &str = "a brand new passphrase 7";

/// Post, land where the answer sends the browser, and check the notice is
/// there; then visit the page again and check it is gone.
async fn shown_once(
    c: &mut Client,
    path: &str,
    form: &[(&str, &str)],
    landing: &str,
    notice: &str,
) -> String {
    let answer = c.post(path, form).await;
    assert_eq!(answer.status(), 303, "POST {path}");
    assert_eq!(answer.headers()["location"], landing, "POST {path}");
    let page = c.follow(answer).await;
    assert_eq!(page.status(), 200, "after POST {path}");
    let page = page.text().await.unwrap();
    assert!(page.contains(notice), "{notice:?} after POST {path}: {page}");
    assert!(page.contains("role=\"status\""), "a status notice");
    let again = c.get(landing).await.text().await.unwrap();
    assert!(!again.contains(notice), "{notice:?} shown twice");
    page
}

#[tokio::test]
async fn adding_and_saving_a_shelter_names_it() {
    let t = spawn_app().await;
    let mut k = t.login_coordinator().await;
    let csrf = k.csrf("/shelters").await;
    let form = [("csrf", csrf.as_str()), ("code", "NTH-03"), ("region", "North"), ("capacity", "9")];
    let page = shown_once(&mut k, "/shelters", &form, "/shelters", "Shelter NTH-03 added.").await;
    let start = page.find("/shelters/").unwrap();
    let save = page[start..].split('"').next().unwrap().trim_end_matches("/edit").to_owned();
    let form = [
        ("csrf", csrf.as_str()),
        ("version", "1"),
        ("code", "NTH-04"),
        ("region", "North"),
        ("capacity", "10"),
    ];
    shown_once(&mut k, &save, &form, "/shelters", "Shelter NTH-04 saved.").await;
}

#[tokio::test]
async fn certifying_a_key_names_its_owner() {
    let t = spawn_app().await;
    let mika = t.app.user("case.mika", Role::Caseworker, false).await;
    let fingerprint = safehouse::crypto::fingerprint(&mika.identity().recipient());
    let mut k = t.login_coordinator().await;
    let page = k.get("/certify").await.text().await.unwrap();
    let csrf = page_between(&page, "name=\"csrf\" value=\"", "\"").to_owned();
    let path = format!("/certify/{}", mika.user_id());
    let form = [("csrf", csrf.as_str()), ("fingerprint", fingerprint.as_str())];
    shown_once(&mut k, &path, &form, "/certify", "The key of case.mika is certified").await;
}

#[tokio::test]
async fn each_team_action_names_the_person() {
    let t = spawn_app().await;
    let pine = t.web_user("case.pine", Role::Caseworker).await;
    let second = t.web_user("coord.second", Role::Coordinator).await;
    let mut k = t.login_coordinator().await;
    let csrf = k.csrf("/team").await;
    let confirmed = [("csrf", csrf.as_str()), ("confirm", "yes")];
    let pine_id = pine.actor.user_id();
    let second_id = second.actor.user_id();
    shown_once(
        &mut k,
        &format!("/team/{pine_id}/freeze"),
        &confirmed,
        "/team",
        "case.pine frozen: 0 case grants removed",
    )
    .await;
    shown_once(
        &mut k,
        &format!("/team/{pine_id}/unfreeze"),
        &confirmed,
        "/team",
        "Freeze of case.pine lifted.",
    )
    .await;
    let removed = "coord.second removed from the coordinators team.";
    shown_once(&mut k, &format!("/team/{second_id}/remove-coordinators"), &confirmed, "/team", removed).await;
    let admitted = "coord.second admitted to the coordinators team.";
    shown_once(&mut k, &format!("/team/{second_id}/admit-coordinators"), &confirmed, "/team", admitted).await;
}

#[tokio::test]
async fn each_administrator_action_names_the_account() {
    let t = spawn_app().await;
    let admin = t.web_user("admin.second", Role::Admin).await;
    let pine = t.web_user("case.pine", Role::Caseworker).await;
    let mut a = t.login(&admin).await;
    let csrf = a.csrf("/admin/users").await;
    let confirmed = [("csrf", csrf.as_str()), ("confirm", "yes")];
    let base = format!("/admin/users/{}", pine.actor.user_id());
    shown_once(&mut a, &format!("{base}/disable"), &confirmed, "/admin/users", "case.pine disabled").await;
    shown_once(
        &mut a,
        &format!("{base}/enable"),
        &[("csrf", csrf.as_str())],
        "/admin/users",
        "case.pine enabled",
    )
    .await;
    shown_once(
        &mut a,
        &format!("{base}/reset-2fa"),
        &confirmed,
        "/admin/users",
        "Two-factor authentication of case.pine reset",
    )
    .await;

    // A new account and a reset password come with an activation code,
    // shown in the answer itself and kept nowhere for later.
    let created = a
        .post("/admin/users", &[("csrf", csrf.as_str()), ("username", "case.new"), ("role_caseworker", "on")])
        .await;
    assert_eq!(created.status(), 200);
    let body = created.text().await.unwrap();
    assert!(body.contains("Account case.new created.") && body.contains("<code class=\"secret\">"));
    assert!(!a.get("/admin/users").await.text().await.unwrap().contains("Account case.new created."));
    let reset = a.post(&format!("{base}/reset-password"), &confirmed).await;
    assert_eq!(reset.status(), 200);
    let body = reset.text().await.unwrap();
    assert!(body.contains("Password of case.pine reset") && body.contains("<code class=\"secret\">"));
    assert!(!a.get("/admin/users").await.text().await.unwrap().contains("Password of case.pine reset"));
}

#[tokio::test]
async fn activation_enrolment_and_recovery_say_what_happened() {
    let t = spawn_app().await;
    let admin = t.web_user("admin.second", Role::Admin).await;
    let mut a = t.login(&admin).await;
    let code = page_create_account(&mut a, "case.fresh", &["caseworker"]).await;
    let mut c = t.client();
    let codes = c.post("/activate", &[("token", &code), ("password", PASSWORD), ("confirm", PASSWORD)]).await;
    assert_eq!(codes.status(), 200);
    let codes = codes.text().await.unwrap();
    assert!(codes.contains("Account case.fresh activated."), "{codes}");
    let recovery = page_between(&codes, "<ol class=\"codes\">\n<li><code>", "</code>").to_owned();

    let secret = page_enrol(&t, &mut c).await;
    let account = c.get("/account").await.text().await.unwrap();
    assert!(account.contains("Two-factor sign-in is set up"), "{account}");
    assert!(!c.get("/account").await.text().await.unwrap().contains("Two-factor sign-in is set up"), "once");

    t.next_step();
    let totp = oath_code(&secret, t.now());
    let form = [
        ("username", "case.fresh"),
        ("code", recovery.as_str()),
        ("totp", totp.as_str()),
        ("password", NEW_PASSWORD),
        ("confirm", NEW_PASSWORD),
    ];
    let recovered = t.client().post("/recover", &form).await;
    assert_eq!(recovered.status(), 200);
    assert!(recovered.text().await.unwrap().contains("Your password is changed."));
}

#[tokio::test]
async fn changing_the_password_and_the_zone_say_so() {
    let t = spawn_app().await;
    let user = t.web_user("case.pine", Role::Caseworker).await;
    let mut c = t.login(&user).await;
    let csrf = c.csrf("/account").await;
    let changed = c
        .post(
            "/account/password",
            &[("csrf", &csrf), ("current", PASSWORD), ("password", NEW_PASSWORD), ("confirm", NEW_PASSWORD)],
        )
        .await;
    assert_eq!(changed.status(), 200, "the answer shows the new recovery codes, kept nowhere");
    assert!(changed.text().await.unwrap().contains("Your password is changed."));
    assert!(!c.get("/account").await.text().await.unwrap().contains("Your password is changed."));
    let form = [("csrf", csrf.as_str()), ("zone", "+09:00")];
    shown_once(&mut c, "/account/zone", &form, "/account", "Times are now shown in UTC+09:00.").await;
}

#[tokio::test]
async fn logging_out_here_or_everywhere_says_so_on_the_login_page() {
    let t = spawn_app().await;
    let user = t.web_user("case.pine", Role::Caseworker).await;
    let mut c = t.login(&user).await;
    let csrf = c.csrf("/account").await;
    let out = c.post("/logout", &[("csrf", &csrf)]).await;
    assert_eq!(out.headers()["location"], "/login?ended=logout");
    assert!(c.follow(out).await.text().await.unwrap().contains("You are logged out."));
    assert!(!t.client().get("/login").await.text().await.unwrap().contains("You are logged out."));

    let mut c = t.login(&user).await;
    let csrf = c.csrf("/account").await;
    let out = c.post("/account/sessions/end", &[("csrf", &csrf)]).await;
    assert_eq!(out.headers()["location"], "/login?ended=everywhere");
    assert!(c.follow(out).await.text().await.unwrap().contains("You are logged out of every session"));
    // Only the closed list is read from the address: anything else says nothing.
    let odd = t.client().get("/login?ended=%3Cb%3Ehello").await.text().await.unwrap();
    assert!(!odd.contains("hello"));
}

#[tokio::test]
async fn a_lockdown_says_what_it_did() {
    let t = spawn_app().await;
    let mut k = t.login_coordinator().await;
    let csrf = k.csrf("/lockdown").await;
    let done = k.post("/lockdown", &[("csrf", &csrf), ("confirm", "yes")]).await;
    assert_eq!(done.headers()["location"], "/login?ended=lockdown");
    let page = k.follow(done).await.text().await.unwrap();
    assert!(page.contains("Lockdown engaged: every session has ended"), "{page}");
    safehouse::sessions::service::lift(&t.app.vault).await.unwrap();
}
