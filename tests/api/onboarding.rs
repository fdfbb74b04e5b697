//! From an administrator's new account to a certified caseworker, over
//! HTTP: activation, recovery codes, TOTP enrolment, fingerprint,
//! certification; and the administrator who tries to take an account over.

use safehouse::accounts::model::Role;
use safehouse::cases::service as cases;
use safehouse::error::ServiceError;

use crate::helpers::*;

fn between<'a>(body: &'a str, before: &str, after: &str) -> &'a str {
    let start = body.find(before).unwrap_or_else(|| panic!("{before:?} not in page")) + before.len();
    let rest = &body[start..];
    &rest[..rest.find(after).unwrap()]
}

/// The admin creates `username` as a caseworker; returns the activation code.
async fn admin_creates(t: &TestApp, admin: &mut Client, username: &str) -> String {
    // The form's checkboxes carry the names the handler reads.
    let form = admin.get("/admin/users").await.text().await.unwrap();
    for role in ["admin", "coordinator", "caseworker", "communications", "auditor"] {
        assert!(form.contains(&format!("name=\"role_{role}\"")), "checkbox for {role}");
    }
    let csrf = admin.csrf("/admin/users").await;
    let page = admin
        .post("/admin/users", &[("csrf", &csrf), ("username", username), ("role_caseworker", "on")])
        .await;
    assert_eq!(page.status(), 200);
    let body = page.text().await.unwrap();
    let _ = t;
    between(&body, "<code class=\"secret\">", "</code>").to_owned()
}

/// The owner activates, keeps the recovery codes, enrols TOTP; returns
/// (client, totp secret, fingerprint, recovery codes).
async fn activate(t: &TestApp, code: &str, password: &str) -> (Client, String, String, Vec<String>) {
    let mut c = t.client();
    let codes_page =
        c.post("/activate", &[("token", code), ("password", password), ("confirm", password)]).await;
    assert_eq!(codes_page.status(), 200);
    let body = codes_page.text().await.unwrap();
    let codes: Vec<String> =
        body.split("<li><code>").skip(1).map(|s| s.split("</code>").next().unwrap().to_owned()).collect();
    assert_eq!(codes.len(), 10);
    // Until enrolment, every other page sends the user back to it.
    assert_eq!(c.get("/").await.headers()["location"], "/enrol");
    let enrol = c.get("/enrol").await.text().await.unwrap();
    assert!(enrol.contains("<svg"), "the QR code is inline SVG");
    for forbidden in ["style=", "<script", "<?xml", "javascript:"] {
        assert!(!enrol.contains(forbidden), "{forbidden} on the enrolment page");
    }
    let secret = between(&enrol, "<code class=\"secret\">", "</code>").to_owned();
    let csrf = between(&enrol, "name=\"csrf\" value=\"", "\"").to_owned();
    let wrong = c.post("/enrol", &[("csrf", &csrf), ("code", "000000")]).await;
    assert_eq!(wrong.status(), 422);
    assert!(wrong.text().await.unwrap().contains("That code is not correct"));
    let ok = c.post("/enrol", &[("csrf", &csrf), ("code", &oath_code(&secret, t.now()))]).await;
    assert_eq!(ok.status(), 303);
    t.next_step();
    let account = c.get("/account").await.text().await.unwrap();
    let fingerprint = between(&account, "<p class=\"fingerprint\"><code>", "</code>").to_owned();
    assert!(account.contains("not certified yet"));
    (c, secret, fingerprint, codes)
}

#[tokio::test]
async fn a_new_caseworker_is_activated_enrolled_and_certified() {
    let logs = LogCapture::default();
    let _guard = logs.install();
    let t = spawn_app().await;
    let admin_secret = t.enrol(&t.app.admin).await;
    let admin = WebUser {
        username: "admin.first".into(),
        secret: admin_secret,
        actor: t.app.user("spare.user", Role::Auditor, false).await,
    };
    let mut a = t.login(&admin).await;
    let code = admin_creates(&t, &mut a, "case.new").await;

    // A rejected activation keeps the code typed and names the field.
    let mut c = t.client();
    let weak = c
        .post("/activate", &[("token", &code), ("password", "password1234"), ("confirm", "password1234")])
        .await;
    assert_eq!(weak.status(), 422);
    let body = weak.text().await.unwrap();
    assert!(body.contains("too easy to guess") && body.contains(&format!("value=\"{code}\"")));
    let differ = c
        .post(
            "/activate",
            &[("token", &code), ("password", PASSWORD), ("confirm", "something else entirely")],
        )
        .await;
    assert!(differ.text().await.unwrap().contains("The two passwords differ."));

    let activation_code = code.clone();
    let (mut worker, totp_secret, fingerprint, codes) = activate(&t, &code, PASSWORD).await;
    // The activation code is single use.
    let mut again = t.client();
    let reused =
        again.post("/activate", &[("token", &code), ("password", PASSWORD), ("confirm", PASSWORD)]).await;
    assert!(reused.text().await.unwrap().contains("not valid or has expired"));

    // A coordinator certifies after hearing the fingerprint.
    let coord_secret = t.enrol(&t.app.coordinator).await;
    let coordinator = WebUser {
        username: "coord.first".into(),
        secret: coord_secret,
        actor: t.app.user("spare.two", Role::Auditor, false).await,
    };
    let mut k = t.client();
    let code = oath_code(&coordinator.secret, t.now());
    let logged = k
        .post(
            "/login",
            &[("username", "coord.first"), ("password", "first coordinator passphrase"), ("code", &code)],
        )
        .await;
    assert_eq!(logged.status(), 303);
    t.next_step();
    let page = k.get("/certify").await.text().await.unwrap();
    let section =
        page.split("<section").find(|s| s.contains("<h2>case.new</h2>")).expect("case.new is waiting");
    let id = between(section, "action=\"/certify/", "\"").to_owned();
    let csrf = between(&page, "name=\"csrf\" value=\"", "\"").to_owned();
    let wrong = k
        .post(&format!("/certify/{id}"), &[("csrf", &csrf), ("fingerprint", "12345 12345 12345 12345 12345")])
        .await;
    assert_eq!(wrong.status(), 422);
    assert!(wrong.text().await.unwrap().contains("does not match"));
    let ok = k.post(&format!("/certify/{id}"), &[("csrf", &csrf), ("fingerprint", &fingerprint)]).await;
    let ok = k.follow(ok).await;
    assert_eq!(ok.status(), 200);
    assert!(ok.text().await.unwrap().contains("Certified."));
    assert!(worker.get("/account").await.text().await.unwrap().contains("Your key is certified."));

    // Re-authentication: after five quiet minutes the certify page asks again.
    t.clock.advance(time::Duration::minutes(6));
    let later = k.get("/certify").await;
    assert_eq!(later.status(), 303);
    assert_eq!(later.headers()["location"], "/reauth?next=/certify");

    // Secrets of onboarding never reach a log line or an audit entry.
    let logged = logs.text();
    let entries = format!("{:?}", t.app.audit_log().await);
    let cookies = [worker.cookie.clone().unwrap(), k.cookie.clone().unwrap()];
    let others = [activation_code.as_str(), totp_secret.as_str(), cookies[0].as_str(), cookies[1].as_str()];
    for secret in codes.iter().map(String::as_str).chain(others) {
        assert!(!logged.contains(secret), "a secret in the log");
        assert!(!entries.contains(secret), "a secret in the audit trail");
    }
}

#[tokio::test]
async fn an_administrator_who_takes_over_an_account_gets_nothing() {
    let t = spawn_app().await;
    let victim = t.web_user("case.victim", Role::Caseworker).await;
    let case =
        cases::create(&t.app.vault, &victim.actor, draft(&["Crake"], "the victim's case")).await.unwrap();
    let admin_secret = t.enrol(&t.app.admin).await;
    let admin = WebUser {
        username: "admin.first".into(),
        secret: admin_secret,
        actor: t.app.user("spare.user", Role::Auditor, false).await,
    };
    let mut a = t.login(&admin).await;
    let mut v = t.login(&victim).await;

    // The administrator resets the victim's password and activates it.
    let page = a.get("/admin/users").await.text().await.unwrap();
    let row = page.split("<tr>").find(|r| r.contains("case.victim")).unwrap();
    let end = row.find("/reset-password\"").unwrap();
    let action = row[end - 36..end].to_owned();
    let csrf = between(&page, "name=\"csrf\" value=\"", "\"").to_owned();
    let reset = a
        .post(&format!("/admin/users/{action}/reset-password"), &[("csrf", &csrf), ("confirm", "yes")])
        .await;
    let status = reset.status();
    let body = reset.text().await.unwrap();
    assert_eq!(status, 200, "{}", &body[body.len().saturating_sub(600)..]);
    let code = between(&body, "<code class=\"secret\">", "</code>").to_owned();
    assert_eq!(v.get("/").await.status(), 303, "the victim's sessions ended");
    let (mut impostor, _, _, _) = activate(&t, &code, "the administrator's own choice").await;
    assert!(impostor.get("/account").await.text().await.unwrap().contains("not certified yet"));

    // The key the administrator made opens nothing, and no coordinator
    // request issues anything to it until a coordinator certifies it.
    let taken =
        safehouse::accounts::service::unlock(&t.app.vault, "case.victim", "the administrator's own choice")
            .await
            .unwrap();
    cases::list_visible(&t.app.vault, &t.app.coordinator).await.unwrap();
    assert!(matches!(cases::read(&t.app.vault, &taken, case).await, Err(ServiceError::NotFound)));
    for team in safehouse::keyring::Team::ALL {
        assert!(
            safehouse::membership::admit(&t.app.vault, &t.app.coordinator, team, taken.user_id())
                .await
                .is_err()
        );
    }
}

#[tokio::test]
async fn the_lockdown_button_needs_confirmation_and_ends_everything() {
    let t = spawn_app().await;
    let coord_secret = t.enrol(&t.app.coordinator).await;
    let mut k = t.client();
    let code = oath_code(&coord_secret, t.now());
    k.post(
        "/login",
        &[("username", "coord.first"), ("password", "first coordinator passphrase"), ("code", &code)],
    )
    .await;
    t.next_step();
    let worker = t.web_user("case.any", Role::Caseworker).await;
    let mut w = t.login(&worker).await;
    let csrf = k.csrf("/lockdown").await;
    let unconfirmed = k.post("/lockdown", &[("csrf", &csrf)]).await;
    assert_eq!(unconfirmed.status(), 422);
    assert_eq!(w.get("/").await.status(), 200);
    let done = k.post("/lockdown", &[("csrf", &csrf), ("confirm", "yes")]).await;
    assert_eq!(done.status(), 303);
    assert_eq!(w.get("/").await.status(), 303);
    assert_eq!(k.get("/").await.status(), 303);
    // Caseworkers have no lockdown button.
    safehouse::sessions::service::lift(&t.app.vault).await.unwrap();
    let mut w = t.login(&worker).await;
    assert_eq!(w.get("/lockdown").await.status(), 403);
}
