//! Hardening after the outside review (issue 10): teams.

use safehouse::accounts::model::{Role, UserState};
use safehouse::accounts::service as accounts;
use safehouse::cases::service as cases;
use safehouse::storage::{HolderKind, ObjectKind};

use crate::helpers::*;

/// The table row of `username` on a page.
fn row_of<'a>(page: &'a str, username: &str) -> &'a str {
    page.split("<tr>").find(|r| r.contains(&format!(">{username}</td>"))).unwrap_or_else(|| {
        panic!("no row for {username}");
    })
}

async fn state_of(t: &TestApp, user: safehouse::ids::UserId) -> UserState {
    accounts::entry(&t.app.vault, user).await.unwrap().profile.state
}

/// A coordinator's freeze holds against the administrator: reset-password,
/// reset-2FA and an old activation code are refused while frozen, the
/// account cannot log in, and no case can be assigned to it.
#[tokio::test]
async fn finding_02_an_administrators_reset_does_not_lift_a_freeze() {
    let t = spawn_app().await;
    let pine = t.web_user("case.pine", Role::Caseworker).await;
    let pine_id = pine.actor.user_id();
    let own = cases::create(&t.app.vault, &pine.actor, draft(&["Sandpiper"], "x")).await.unwrap();
    let mut k = t.login_coordinator().await;
    let (mut a, _) = page_login_enrolling(&t, "admin.first", PASSWORD).await;

    // Freeze from the team page: a confirmation naming the person first.
    let team = k.get("/team").await.text().await.unwrap();
    let freeze = format!("/team/{pine_id}/freeze");
    assert!(row_of(&team, "case.pine").contains(&freeze));
    let confirm = k.get(&freeze).await;
    assert_eq!(confirm.status(), 200);
    let confirm = confirm.text().await.unwrap();
    assert!(confirm.contains("Freeze case.pine?"), "{confirm}");
    assert!(confirm.contains("class=\"danger\""));
    assert_eq!(state_of(&t, pine_id).await, UserState::Active, "the confirmation changes nothing");
    let csrf = k.csrf("/team").await;
    let frozen = k.post(&freeze, &[("csrf", &csrf), ("confirm", "yes")]).await;
    let frozen = k.follow(frozen).await;
    assert_eq!(frozen.status(), 200);
    let body = frozen.text().await.unwrap();
    assert!(body.contains("case.pine frozen: 1 case grant removed"), "{body}");
    assert!(row_of(&body, "case.pine").contains(">frozen</td>"), "the team page shows the state");
    assert_eq!(state_of(&t, pine_id).await, UserState::Frozen);

    // The administrator's reset-password and reset-2FA are refused, and
    // say why; nothing changes.
    let page = a.get("/admin/users").await.text().await.unwrap();
    let row = row_of(&page, "case.pine");
    assert!(row.contains(">frozen</td>"), "the admin page shows the state");
    assert!(row.contains("Frozen by a coordinator: only a coordinator can lift the freeze."));
    assert!(!row.contains("/reset-password"), "no reset is offered for a frozen account");
    let refusal = "case.pine is frozen. Only a coordinator can lift a freeze; nothing was changed.";
    let csrf = a.csrf("/admin/users").await;
    let totp_before = t.app.vault.store().totp(&pine_id.to_string()).await.unwrap();
    assert!(totp_before.is_some());
    for action in ["reset-password", "reset-2fa", "disable"] {
        let path = format!("/admin/users/{pine_id}/{action}");
        let asked = a.get(&path).await;
        assert_eq!(asked.status(), 403, "{action}: the confirmation page refuses at once");
        assert!(asked.text().await.unwrap().contains(refusal), "{action}");
        let refused = a.post(&path, &[("csrf", &csrf), ("confirm", "yes")]).await;
        assert_eq!(refused.status(), 403, "{action}");
        let body = refused.text().await.unwrap();
        assert!(body.contains(refusal), "{action}: {body}");
        assert!(!body.contains("<code class=\"secret\">"), "{action}: no activation code");
        assert_eq!(state_of(&t, pine_id).await, UserState::Frozen, "{action}: still frozen");
    }
    let totp_after = t.app.vault.store().totp(&pine_id.to_string()).await.unwrap();
    assert_eq!(totp_before.map(|r| r.sealed_secret), totp_after.map(|r| r.sealed_secret));
    let entries = t.app.audit_log().await;
    for action in ["password.reset", "totp.reset"] {
        assert!(
            entries.iter().any(|e| e.action == action && e.outcome == "denied"),
            "{action} refused in the audit trail"
        );
    }

    // A frozen account cannot log in.
    let mut again = t.client();
    let code = oath_code(&pine.secret, t.now());
    let login =
        again.post("/login", &[("username", "case.pine"), ("password", PASSWORD), ("code", &code)]).await;
    assert_eq!(login.status(), 200);
    assert!(login.text().await.unwrap().contains("The username, password or code is not correct."));

    // Assigning a frozen caseworker is refused, and queues nothing.
    let case = cases::create(&t.app.vault, &t.app.coordinator, draft(&["Turnstone"], "y")).await.unwrap();
    let csrf = k.csrf("/team").await;
    let assign =
        k.post(&format!("/cases/{case}/assign"), &[("csrf", &csrf), ("user_id", &pine_id.to_string())]).await;
    assert!(assign.status().is_client_error(), "assigning a frozen account: {}", assign.status());
    let pending = t.app.vault.store().pending_grants().await.unwrap();
    assert!(!pending.iter().any(|(_, u)| *u == pine_id.to_string()), "no pending grant: {pending:?}");
    let wraps = t.app.vault.store().wraps_of_holder(HolderKind::User, &pine_id.to_string()).await.unwrap();
    assert!(wraps.is_empty(), "a frozen account holds no key: {own}");

    // An account the administrator reset, then frozen by a coordinator:
    // its activation code no longer works, and the grants its reset queued
    // are gone.
    let spruce = t.web_user("case.spruce", Role::Caseworker).await;
    let spruce_id = spruce.actor.user_id();
    cases::create(&t.app.vault, &spruce.actor, draft(&["Dunlin"], "z")).await.unwrap();
    let reset = format!("/admin/users/{spruce_id}/reset-password");
    let asked = a.get(&reset).await.text().await.unwrap();
    assert!(asked.contains("Reset the password of case.spruce?"), "{asked}");
    let csrf = a.csrf("/admin/users").await;
    let done = a.post(&reset, &[("csrf", &csrf), ("confirm", "yes")]).await.text().await.unwrap();
    assert!(done.contains("Password of case.spruce reset"), "{done}");
    let old_code = done.split("<code class=\"secret\">").nth(1).unwrap().split("</code>").next().unwrap();
    let pending = t.app.vault.store().pending_grants().await.unwrap();
    assert!(pending.iter().any(|(_, u)| *u == spruce_id.to_string()), "the reset queued the grant");
    let freeze = format!("/team/{spruce_id}/freeze");
    let csrf = k.csrf("/team").await;
    let frozen = k.post(&freeze, &[("csrf", &csrf), ("confirm", "yes")]).await;
    let frozen = k.follow(frozen).await.text().await.unwrap();
    assert!(frozen.contains("case.spruce frozen"), "{frozen}");
    let pending = t.app.vault.store().pending_grants().await.unwrap();
    assert!(!pending.iter().any(|(_, u)| *u == spruce_id.to_string()), "freeze drops queued grants");
    let mut thief = t.client();
    let activated =
        thief.post("/activate", &[("token", old_code), ("password", PASSWORD), ("confirm", PASSWORD)]).await;
    assert_eq!(activated.status(), 422);
    assert!(activated.text().await.unwrap().contains("This activation link is not valid or has expired."));
    assert_eq!(state_of(&t, spruce_id).await, UserState::Frozen);
    assert!(t.app.vault.store().user_key(&spruce_id.to_string()).await.unwrap().is_none());
}

/// Team admission and removal through the pages only, on an instance made
/// by `init`: the administrator creates a second coordinator and a
/// communications account, they activate and enrol, the first coordinator
/// certifies and admits them; the second coordinator's powers come with the
/// admission and go with the removal.
#[tokio::test]
async fn finding_11_a_coordinator_admits_and_removes_team_members_from_the_pages() {
    let t = spawn_app().await;
    let (mut admin, _) = page_login_enrolling(&t, "admin.first", PASSWORD).await;
    let (mut first, _) = page_login_enrolling(&t, "coord.first", "first coordinator passphrase").await;

    let second_code = page_create_account(&mut admin, "coord.second", &["coordinator"]).await;
    let comms_code = page_create_account(&mut admin, "comms.first", &["communications"]).await;
    let (mut second, _, second_fp) = page_activate(&t, &second_code, PASSWORD).await;
    let (_comms, _, comms_fp) = page_activate(&t, &comms_code, PASSWORD).await;
    let second_id = page_user_id(&mut first, "coord.second").await;
    let comms_id = page_user_id(&mut first, "comms.first").await;

    // Not admitted: no coordinator power yet, certified or not.
    for path in ["/cases", "/shelters", "/certify"] {
        assert_eq!(second.get(path).await.status(), 403, "{path} before certification");
    }
    let certified = page_certify(&mut first, "coord.second", &second_fp).await;
    assert!(certified.contains("Certified."), "{certified}");
    for path in ["/cases", "/shelters", "/certify"] {
        assert_eq!(second.get(path).await.status(), 403, "{path} before admission");
    }
    // ...and the menu offers none of those pages.
    let home = second.get("/").await.text().await.unwrap();
    assert!(!home.contains("Coordination") && !home.contains("href=\"/cases\""), "{home}");

    // The certification page offers the admission at once.
    let admit = format!("/team/{second_id}/admit-coordinators");
    assert!(certified.contains(&format!("href=\"{admit}\"")), "{certified}");
    let (status, body) = page_team_action(&mut first, &admit, "coord.second").await;
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("coord.second admitted to the coordinators team."), "{body}");
    for path in ["/cases", "/shelters", "/certify"] {
        assert_eq!(second.get(path).await.status(), 200, "{path} after admission");
    }
    assert!(second.get("/").await.text().await.unwrap().contains("Coordination"), "the menu after admission");

    // Communications: not before certification, never to the wrong team;
    // certified, then admitted from the team page.
    let early = first.get(&format!("/team/{comms_id}/admit-communications")).await;
    assert_eq!(early.status(), 403);
    assert!(early.text().await.unwrap().contains("comms.first cannot be admitted to this team"));
    let certified = page_certify(&mut first, "comms.first", &comms_fp).await;
    let csrf = first.csrf("/team").await;
    let wrong = first
        .post(&format!("/team/{comms_id}/admit-coordinators"), &[("csrf", &csrf), ("confirm", "yes")])
        .await;
    assert_eq!(wrong.status(), 403, "a communications account is no coordinator");
    assert!(wrong.text().await.unwrap().contains("comms.first cannot be admitted to this team"));
    assert!(certified.contains(&format!("href=\"/team/{comms_id}/admit-communications\"")));
    let team = first.get("/team").await.text().await.unwrap();
    let admit = format!("/team/{comms_id}/admit-communications");
    assert!(row_of(&team, "comms.first").contains(&admit));
    assert!(!row_of(&team, "comms.first").contains("admit-coordinators"), "roles decide the team");
    let (status, body) = page_team_action(&mut first, &admit, "comms.first").await;
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("comms.first admitted to the communications team."), "{body}");
    let store = t.app.vault.store();
    let held = |team: &'static str, id: safehouse::ids::UserId| async move {
        store.wrap(ObjectKind::Team, team, HolderKind::User, &id.to_string()).await.unwrap().is_some()
    };
    assert!(held("communications", comms_id).await);
    assert!(held("coordinators", second_id).await);
    assert!(!held("coordinators", comms_id).await);

    // Removal takes the power away again.
    let remove = format!("/team/{second_id}/remove-coordinators");
    let (status, body) = page_team_action(&mut first, &remove, "coord.second").await;
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("coord.second removed from the coordinators team."), "{body}");
    assert!(!held("coordinators", second_id).await, "the wrap of the team key is gone");
    for path in ["/cases", "/shelters", "/certify"] {
        assert_eq!(second.get(path).await.status(), 403, "{path} after removal");
    }
    let remove = format!("/team/{comms_id}/remove-communications");
    let (status, _) = page_team_action(&mut first, &remove, "comms.first").await;
    assert_eq!(status, 200);
    assert!(!held("communications", comms_id).await);

    // The last member of the coordinators team cannot remove themselves.
    let first_id = page_user_id(&mut first, "coord.first").await;
    let csrf = first.csrf("/team").await;
    let last = first
        .post(&format!("/team/{first_id}/remove-coordinators"), &[("csrf", &csrf), ("confirm", "yes")])
        .await;
    assert_eq!(last.status(), 403);
    assert!(last.text().await.unwrap().contains("the last member of the coordinators team"));
    assert!(held("coordinators", first_id).await);

    // Each confirmation sits behind re-authentication, and comes back to it.
    t.clock.advance(time::Duration::minutes(6));
    let admit = format!("/team/{second_id}/admit-coordinators");
    let asked = first.get(&admit).await;
    assert_eq!(asked.status(), 303);
    assert_eq!(asked.headers()["location"], format!("/reauth?next={admit}").as_str());

    // Every admission and removal is in the audit trail.
    let entries = t.app.audit_log().await;
    let count = |action: &str, outcome: &str| {
        entries.iter().filter(|e| e.action == action && e.outcome == outcome).count()
    };
    assert_eq!(count("team.admit", "ok"), 3, "init's admission and two from the pages");
    assert_eq!(count("team.admit", "denied"), 1, "the wrong team");
    assert_eq!(count("team.remove", "ok"), 2);
    assert_eq!(count("team.remove", "denied"), 1);
}

/// Two coordinators who remove (or freeze) each other at the same moment:
/// each request passes its own checks, but the write re-checks inside the
/// serialised audit append, so the coordinators team never ends up empty.
#[tokio::test]
async fn finding_11_two_coordinators_removing_each_other_at_once_leave_one() {
    for action in ["remove-coordinators", "freeze"] {
        let t = spawn_app().await;
        let second = t.web_user("coord.second", Role::Coordinator).await;
        let mut first_client = t.login_coordinator().await;
        let mut second_client = t.login(&second).await;
        let first_id = t.app.coordinator.user_id();
        let second_id = second.actor.user_id();
        let csrf_first = first_client.csrf("/team").await;
        let csrf_second = second_client.csrf("/team").await;
        let (path_a, path_b) = (format!("/team/{second_id}/{action}"), format!("/team/{first_id}/{action}"));
        let form_a = [("csrf", csrf_first.as_str()), ("confirm", "yes")];
        let form_b = [("csrf", csrf_second.as_str()), ("confirm", "yes")];
        let (a, b) = tokio::join!(first_client.post(&path_a, &form_a), second_client.post(&path_b, &form_b));
        // The loser is refused in its own request (403) or, when the
        // winner's commit ended its session before the request was read,
        // sent to the login page; the winner goes on to its notice.
        let outcome = |r: &reqwest::Response| {
            let to = r.headers().get("location").and_then(|l| l.to_str().ok()).unwrap_or("").to_owned();
            match r.status().as_u16() {
                303 if to.starts_with("/login") => "logged out",
                303 => "done",
                403 => "refused",
                other => panic!("{action}: unexpected {other} to {to}"),
            }
        };
        let mut outcomes = [outcome(&a), outcome(&b)];
        outcomes.sort();
        assert!(
            outcomes == ["done", "refused"] || outcomes == ["done", "logged out"],
            "{action}: exactly one of the two goes through (to its notice): {outcomes:?}"
        );
        let holders = t
            .app
            .select_ints(
                "SELECT COUNT(*) FROM wraps WHERE object_kind = 'team' AND object_id = 'coordinators' \
                 AND holder_kind = 'user'",
            )
            .await;
        assert_eq!(holders, vec![1], "{action}: one coordinator keeps the team key");
    }
}

/// Assignment goes only to an active account with a certified key: an
/// uncertified caseworker is refused on the case page, with the reason
/// beside the caseworker list, and nothing is wrapped or queued for them.
/// A decision made on a profile that a freeze or reset changed before the
/// write landed is refused inside the write.
#[tokio::test]
async fn finding_02_assignment_needs_an_active_certified_key() {
    let t = spawn_app().await;
    let newcomer = t.app.user("case.newcomer", Role::Caseworker, false).await;
    let uid = newcomer.user_id().to_string();
    let mut k = t.login_coordinator().await;
    let case = cases::create(&t.app.vault, &t.app.coordinator, draft(&["Whimbrel"], "y")).await.unwrap();
    let csrf = k.csrf(&format!("/cases/{case}")).await;
    let assign = k.post(&format!("/cases/{case}/assign"), &[("csrf", &csrf), ("user_id", &uid)]).await;
    assert_eq!(assign.status(), 422);
    let body = assign.text().await.unwrap();
    assert!(body.contains("key is not certified yet"), "the reason is named on the case page");
    assert!(body.contains("Whimbrel"), "the case page itself, not an error page");
    let pending = t.app.vault.store().pending_grants().await.unwrap();
    assert!(!pending.iter().any(|(_, u)| *u == uid), "nothing queued: {pending:?}");
    let wraps = t.app.vault.store().wraps_of_holder(HolderKind::User, &uid).await.unwrap();
    assert!(wraps.iter().all(|w| w.object_kind != ObjectKind::Case.as_str()), "nothing wrapped");

    // The write re-checks the profile it was decided on.
    let entry = accounts::entry(&t.app.vault, newcomer.user_id()).await.unwrap();
    let stale = safehouse::storage::Write::RequireUserVersion { id: uid.clone(), version: entry.version - 1 };
    assert!(matches!(
        t.app.vault.store().apply(vec![stale]).await,
        Err(safehouse::storage::StoreError::Conflict)
    ));
    let current = safehouse::storage::Write::RequireUserVersion { id: uid, version: entry.version };
    t.app.vault.store().apply(vec![current]).await.unwrap();
}
