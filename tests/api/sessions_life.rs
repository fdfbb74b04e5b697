//! Hardening after the outside review (issue 10): sessions_life.

use safehouse::accounts::model::Role;

use crate::helpers::*;

/// Every `next` that a browser could resolve to another origin, or that is
/// not a plain path, sends the user home after re-authentication.
#[tokio::test]
async fn finding_03_reauth_never_redirects_off_site() {
    let t = spawn_app().await;
    let user = t.web_user("case.redirect", Role::Caseworker).await;
    let mut c = t.login(&user).await;
    let csrf = c.csrf("/account").await;
    let hostile = [
        "//evil.example",
        "/\\evil.example",
        "/\t/evil.example",
        "/\n/evil.example",
        "/ /evil.example",
        "/%09/evil.example",
        "/%2f/evil.example",
        "/%5c/evil.example",
        "/%5C%5Cevil.example",
        "https://evil.example",
        "javascript:alert(1)",
        "",
    ];
    for next in hostile {
        let r = c.post("/reauth", &[("csrf", &csrf), ("next", next), ("password", PASSWORD)]).await;
        assert_eq!(r.status(), 303, "{next:?}");
        assert_eq!(r.headers()["location"], "/", "{next:?}");
    }
    // The prompt's own form carries the cleaned path, not the hostile one.
    let page = c.get("/reauth?next=/%09/evil.example").await.text().await.unwrap();
    assert!(page.contains("name=\"next\" value=\"/\""), "{page}");
    // A path of this site is still honoured.
    let r = c.post("/reauth", &[("csrf", &csrf), ("next", "/account"), ("password", PASSWORD)]).await;
    assert_eq!(r.headers()["location"], "/account");
}

/// An account the administrator made with the coordinator role, never
/// certified and never admitted to the coordinators team, holds no
/// coordinator power: every such route answers 403, and no lockdown happens.
#[tokio::test]
async fn finding_05_an_unadmitted_coordinator_has_no_coordinator_power() {
    let t = spawn_app().await;
    let actor = t.app.user("coord.unadmitted", Role::Coordinator, false).await;
    let secret = t.enrol(&actor).await;
    let lone = WebUser { username: "coord.unadmitted".into(), secret, actor };
    let member = t.web_user("coord.member", Role::Coordinator).await;
    let worker = t.web_user("case.someone", Role::Caseworker).await;
    let case = safehouse::cases::service::create(&t.app.vault, &worker.actor, draft(&["Someone"], ""))
        .await
        .unwrap();
    let target = worker.actor.user_id().to_string();
    let mut c = t.login(&lone).await;
    let csrf = c.csrf("/account").await;

    let r = c.post("/lockdown", &[("csrf", &csrf), ("confirm", "yes")]).await;
    assert_eq!(r.status(), 403, "POST /lockdown");
    assert!(!t.app.vault.store().lockdown().await.unwrap().1, "no lockdown happened");
    for path in ["/lockdown", "/team", "/audit/flags", "/certify", "/shelters", "/shelters/0b5f0d8e/edit"] {
        assert_eq!(c.get(path).await.status(), 403, "GET {path}");
    }
    for path in [
        format!("/team/{target}/freeze"),
        format!("/certify/{target}"),
        format!("/cases/{case}/assign"),
        "/shelters".to_owned(),
    ] {
        let r = c.post(&path, &[("csrf", &csrf), ("user_id", &target), ("fingerprint", "x")]).await;
        assert_eq!(r.status(), 403, "POST {path}");
    }
    let frozen = safehouse::accounts::service::entry(&t.app.vault, worker.actor.user_id()).await.unwrap();
    assert_eq!(frozen.profile.state, safehouse::accounts::model::UserState::Active, "no freeze");
    // The session still works for what the account may do.
    assert_eq!(c.get("/account").await.status(), 200);

    // A member of the team keeps every power.
    let mut m = t.login(&member).await;
    for path in ["/lockdown", "/team", "/audit/flags", "/certify", "/shelters"] {
        assert_eq!(m.get(path).await.status(), 200, "member GET {path}");
    }
}
