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

/// A refusal at the route is in the audit trail: who, which role, which
/// route (its pattern, never the values in the path), outcome denied.
#[tokio::test]
async fn finding_08_route_refusals_are_audited_by_pattern() {
    let t = spawn_app().await;
    let worker = t.web_user("case.nosy", Role::Caseworker).await;
    let auditor = t.web_user("audit.nosy", Role::Auditor).await;
    let mut c = t.login(&worker).await;
    let before = t.app.audit_log().await.len();
    assert_eq!(c.get("/admin/users").await.status(), 403);
    let denied: Vec<_> = t.app.audit_log().await.into_iter().skip(before).collect();
    assert_eq!(denied.len(), 1, "{denied:?}");
    let entry = &denied[0];
    assert_eq!(entry.actor, worker.actor.user_id().to_string());
    assert_eq!(entry.role, "caseworker");
    assert_eq!(entry.action, "route.denied");
    assert_eq!(entry.target, "/admin/users");
    assert_eq!(entry.outcome, "denied");

    // A path with a value in it: the pattern is recorded, not the value.
    let id = "0b5f0d8e-3c1e-4f7a-9d2b-6a1c2e3f4a5b";
    let mut a = t.login(&auditor).await;
    let before = t.app.audit_log().await.len();
    assert_eq!(a.get(&format!("/cases/{id}")).await.status(), 403);
    let denied: Vec<_> = t.app.audit_log().await.into_iter().skip(before).collect();
    assert_eq!(denied.len(), 1, "{denied:?}");
    assert_eq!(denied[0].action, "route.denied");
    assert_eq!(denied[0].target, "/cases/{id}");
    assert_eq!(denied[0].actor, auditor.actor.user_id().to_string());
    assert!(t.app.audit_log().await.iter().all(|e| !e.target.contains(id)));

    // The auditor's trail and its CSV show them.
    let page = a.get("/audit?action=route.denied").await.text().await.unwrap();
    assert!(page.contains("/admin/users") && page.contains("/cases/{id}"), "{page}");
    let csv = a.get("/audit/export.csv?action=route.denied").await.text().await.unwrap();
    assert!(csv.contains(",route.denied,/admin/users,denied,"), "{csv}");
    assert!(csv.contains(",route.denied,/cases/{id},denied,"), "{csv}");

    // No one logged in, nothing to attribute: the login page, no entry.
    let before = t.app.audit_log().await.len();
    assert_eq!(t.client().get("/admin/users").await.status(), 303);
    assert_eq!(t.app.audit_log().await.len(), before);
}

/// A session row lives no longer than its session: its clear expiry is
/// min(last activity + idle, login + absolute) after every save, never the
/// two weeks tower-sessions would give it, and an ended session's row is
/// deleted, when its cookie comes back and by the periodic purge.
#[tokio::test]
async fn finding_04_session_rows_expire_with_their_session() {
    let t = spawn_app().await;
    let idle = t.state.policy.idle.whole_seconds();
    let absolute = t.state.policy.absolute.whole_seconds();
    let user = t.web_user("case.lasting", Role::Caseworker).await;
    let start = t.now().unix_timestamp();
    let mut c = t.login(&user).await;
    // Busy for more than the absolute lifetime: a request every 20 minutes.
    let mut answered = 0;
    loop {
        let now = t.now().unix_timestamp();
        let expiries = t.app.session_expiries().await;
        assert_eq!(expiries.len(), 1);
        for expiry in expiries {
            assert!(expiry > now, "a live session's row is live");
            assert!(expiry <= start + absolute, "{} s past the absolute end", expiry - start - absolute);
            // The idle end is rounded up to the minute; the refusal on load is exact.
            assert!(expiry < now + idle + 60, "{} s past the idle end", expiry - now - idle);
        }
        t.clock.advance(time::Duration::minutes(20));
        if c.get("/account").await.status() != 200 {
            break;
        }
        answered += 1;
    }
    assert!(answered >= 35, "the session lived its 12 hours ({answered} requests)");
    assert!(t.now().unix_timestamp() > start + absolute);
    assert!(t.app.session_expiries().await.is_empty(), "the ended session's row is gone");

    // Idle: a cookie that comes back after the idle time finds no row, and
    // the row is deleted.
    let mut back = t.login(&user).await;
    assert_eq!(t.app.session_expiries().await.len(), 1);
    t.clock.advance(time::Duration::minutes(31));
    assert_eq!(back.get("/account").await.headers()["location"], "/login");
    assert!(t.app.session_expiries().await.is_empty(), "refused and deleted on load");

    // Idle, never coming back: the purge deletes the row.
    let _gone = t.login(&user).await;
    let _kept = {
        t.clock.advance(time::Duration::minutes(20));
        t.login(&user).await
    };
    assert_eq!(t.app.session_expiries().await.len(), 2);
    t.clock.advance(time::Duration::minutes(15));
    t.state.sessions.delete_expired().await.unwrap();
    assert_eq!(t.app.session_expiries().await.len(), 1, "the idle row is purged, the live one kept");
    assert_eq!(t.app.session_rows().await.len(), 1);
}
