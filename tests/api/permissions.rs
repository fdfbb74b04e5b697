//! The permission matrix: every route of the one route table, for every
//! role, anonymous and mid-enrolment users, a coordinator never admitted to
//! the coordinators team and a frozen caseworker included. A route added to the
//! server is in the table, so it is in this test.

use safehouse::accounts::model::{Role, Roles};
use safehouse::accounts::service as accounts;
use safehouse::policy::{Access, Standing};
use safehouse::web::routes;

use crate::helpers::*;

enum Persona {
    Anonymous,
    Enrolling,
    /// Roles, and whether a member of the coordinators team.
    User(Roles, bool),
    /// Logged in, then frozen by a coordinator: the cookie opens nothing.
    Frozen,
}

fn concrete(path: &str) -> String {
    path.replace("{id}", "0b5f0d8e-3c1e-4f7a-9d2b-6a1c2e3f4a5b")
        .replace("{mid}", "1c6e1e9f-4d2f-4a8b-8e3c-7b2d3f4a5b6c")
        .replace("{action}", "disable")
}

async fn visit(
    client: &mut Client,
    method: &axum::http::Method,
    path: &str,
    csrf: &str,
) -> reqwest::Response {
    if *method == axum::http::Method::GET {
        client.get(path).await
    } else {
        client.post(path, &[("csrf", csrf)]).await
    }
}

#[tokio::test]
async fn every_route_answers_every_role_as_the_table_says() {
    let t = spawn_app().await;
    let mut personas: Vec<(String, Persona, Client)> =
        vec![("anonymous".into(), Persona::Anonymous, t.client())];
    // One logged-in client per role.
    for role in Role::ALL {
        let name = format!("p.{}", role.as_str());
        let user = t.web_user(&name, role).await;
        // `web_user` certifies and admits a coordinator to the team.
        let member = role == Role::Coordinator;
        personas.push((name, Persona::User([role].into(), member), t.login(&user).await));
    }
    // Several roles: the union of what each allows.
    let roles: Roles = [Role::Caseworker, Role::Auditor].into();
    let created = accounts::create_account(
        &t.app.vault,
        &t.app.admin,
        &safehouse::accounts::Username::parse("p.multi").unwrap(),
        roles.clone(),
    )
    .await
    .unwrap();
    let issued =
        accounts::activate(&t.app.vault, created.activation.expose(), &password(PASSWORD)).await.unwrap();
    safehouse::membership::certify(&t.app.vault, &t.app.coordinator, created.user_id, &issued.fingerprint)
        .await
        .unwrap();
    let secret = t.enrol(&issued.actor).await;
    let multi = WebUser { username: "p.multi".into(), secret, actor: issued.actor };
    personas.push(("p.multi".into(), Persona::User(roles, false), t.login(&multi).await));
    // The coordinator role without the team: made by the administrator,
    // never certified, never admitted.
    let lone = t.app.user("p.unadmitted", Role::Coordinator, false).await;
    let secret = t.enrol(&lone).await;
    let lone = WebUser { username: "p.unadmitted".into(), secret, actor: lone };
    personas.push((
        "p.unadmitted".into(),
        Persona::User([Role::Coordinator].into(), false),
        t.login(&lone).await,
    ));
    // A caseworker frozen while logged in.
    let frozen = t.web_user("p.frozen", Role::Caseworker).await;
    let frozen_client = t.login(&frozen).await;
    safehouse::membership::freeze(&t.app.vault, &t.app.coordinator, frozen.actor.user_id()).await.unwrap();
    personas.push(("p.frozen".into(), Persona::Frozen, frozen_client));
    // Mid-enrolment: activated, no second factor yet.
    let created = accounts::create_account(
        &t.app.vault,
        &t.app.admin,
        &safehouse::accounts::Username::parse("p.enrolling").unwrap(),
        [Role::Caseworker].into(),
    )
    .await
    .unwrap();
    accounts::activate(&t.app.vault, created.activation.expose(), &password(PASSWORD)).await.unwrap();
    let mut enrolling = t.client();
    let r =
        enrolling.post("/login", &[("username", "p.enrolling"), ("password", PASSWORD), ("code", "")]).await;
    assert_eq!(r.headers()["location"], "/enrol");
    personas.push(("p.enrolling".into(), Persona::Enrolling, enrolling));

    let table = routes::table();
    let mut checked = 0;
    let mut refused = 0;
    for (name, persona, client) in personas.iter_mut() {
        let csrf = match persona {
            Persona::Anonymous | Persona::Frozen => String::new(),
            Persona::Enrolling => {
                let page = client.get("/enrol").await.text().await.unwrap();
                let start = page.find("name=\"csrf\" value=\"").unwrap() + 19;
                page[start..].split('"').next().unwrap().to_owned()
            }
            Persona::User(..) => client.csrf("/account").await,
        };
        for route in &table {
            let path = concrete(route.path);
            let response = visit(client, &route.method, &path, &csrf).await;
            let status = response.status().as_u16();
            let location = response.headers().get("location").map(|l| l.to_str().unwrap().to_owned());
            let what = format!("{name} {} {}", route.method, route.path);
            // Logging out also answers with the login page, but says so.
            let logged_out = response.headers().contains_key("clear-site-data");
            let to_login = status == 303 && location.as_deref() == Some("/login") && !logged_out;
            if route.path == "/logout" {
                // Visited last: by now every session has ended itself via
                // /account/sessions/end, so only the redirect is left to see.
                // (An enrolling session is still alive here: it lands on the
                // login page that says it logged out.)
                let login = matches!(location.as_deref(), Some("/login" | "/login?ended=logout"));
                assert!(status == 303 && login, "{name} /logout: {status} {location:?}");
                checked += 1;
                continue;
            }
            match (&*persona, route.access) {
                (_, Access::Public) => assert!(status != 403 && !to_login, "{what}: {status}"),
                (Persona::Anonymous | Persona::Frozen, _) => {
                    assert!(to_login, "{what}: {status} {location:?}")
                }
                (Persona::Enrolling, Access::Enrolling) => {
                    assert!(status != 403 && !to_login, "{what}: {status}")
                }
                (Persona::Enrolling, _) => {
                    assert!(
                        status == 303 && location.as_deref() == Some("/enrol"),
                        "{what}: {status} {location:?}"
                    )
                }
                (Persona::User(roles, coordinators_team), access) => {
                    let who = Standing { roles, coordinators_team: *coordinators_team };
                    if access.permits(who) {
                        assert!(status != 403 && !to_login, "{what}: {status} {location:?}");
                    } else {
                        assert_eq!(status, 403, "{what}");
                        refused += 1;
                    }
                }
            }
            checked += 1;
        }
    }
    assert!(checked >= table.len() * 10);
    // Each refusal at the route left its entry, named by the route's pattern.
    let denied: Vec<_> = t.app.audit_log().await.into_iter().filter(|e| e.action == "route.denied").collect();
    assert_eq!(denied.len(), refused);
    assert!(denied.iter().all(|e| e.outcome == "denied" && table.iter().any(|r| r.path == e.target)));
}

/// Object level: every case route, for a caseworker on an assigned and on an
/// unassigned case, for an uncertified caseworker, and for every role that
/// must never see a case. No answer but the permitted ones carries the case.
#[tokio::test]
async fn case_routes_answer_by_assignment_and_never_leak_the_case() {
    let t = spawn_app().await;
    let owner = t.web_user("p.owner", Role::Caseworker).await;
    let other = t.web_user("p.other", Role::Caseworker).await;
    let assigned =
        safehouse::cases::service::create(&t.app.vault, &owner.actor, draft(&["Canaryowned"], "secret note"))
            .await
            .unwrap();
    let uncertified = t.app.user("p.uncertified", Role::Caseworker, false).await;
    let uncertified_secret = t.enrol(&uncertified).await;
    let uncertified =
        WebUser { username: "p.uncertified".into(), secret: uncertified_secret, actor: uncertified };
    let comms = t.web_user("p.comms", Role::Communications).await;
    let auditor = t.web_user("p.auditor", Role::Auditor).await;
    let admin_secret = t.enrol(&t.app.admin).await;

    let case_routes: Vec<_> =
        routes::table().into_iter().filter(|r| r.path.starts_with("/cases/{id}")).collect();
    assert!(case_routes.len() >= 5);
    let mut owner_c = t.login(&owner).await;
    let mut other_c = t.login(&other).await;
    let mut uncert_c = t.login(&uncertified).await;
    let mut comms_c = t.login(&comms).await;
    let mut auditor_c = t.login(&auditor).await;
    let mut admin_c = t.client();
    let code = oath_code(&admin_secret, t.now());
    admin_c.post("/login", &[("username", "admin.first"), ("password", PASSWORD), ("code", &code)]).await;

    for route in &case_routes {
        let path = route
            .path
            .replace("{id}", &assigned.to_string())
            .replace("{mid}", "1c6e1e9f-4d2f-4a8b-8e3c-7b2d3f4a5b6c")
            .replace("{action}", "assign");
        let is_get = route.method == axum::http::Method::GET;
        // The assigned caseworker reaches the case pages.
        if is_get && !path.contains("/milestones/") {
            let ok = owner_c.get(&path).await;
            assert_eq!(ok.status(), 200, "owner GET {path}");
        }
        // Everyone else: 404 (a caseworker without the grant, uncertified or
        // not) or 403 (a role with no case pages), never the case.
        for (who, client, expected) in [
            ("other", &mut other_c, 404),
            ("uncertified", &mut uncert_c, 404),
            ("communications", &mut comms_c, 403),
            ("auditor", &mut auditor_c, 403),
            ("admin", &mut admin_c, 403),
        ] {
            let csrf = client.csrf("/account").await;
            // A complete, valid-looking form: what is refused is the object.
            let uid = owner.actor.user_id().to_string();
            let form = [
                ("csrf", csrf.as_str()),
                ("version", "1"),
                ("alias_0", "Hijack"),
                ("age_0", "30-44"),
                ("stage", "intake"),
                ("status", "open"),
                ("notes", "overwritten"),
                ("kind", "arrived"),
                ("date", "2024"),
                ("user_id", uid.as_str()),
            ];
            let response = if route.method == axum::http::Method::GET {
                client.get(&path).await
            } else {
                client.post(&path, &form).await
            };
            let status = response.status().as_u16();
            let coordinator_only = route.access == Access::CoordinatorsTeam;
            let expected = if coordinator_only { 403 } else { expected };
            assert_eq!(status, expected, "{who} {} {}", route.method, route.path);
            let body = response.text().await.unwrap();
            assert!(
                !body.contains("Canaryowned") && !body.contains("secret note"),
                "{who} saw the case via {path}"
            );
        }
    }
    // The case is untouched by all those attempts.
    let case = safehouse::cases::service::read(&t.app.vault, &owner.actor, assigned).await.unwrap();
    assert_eq!(case.version, 1);
    assert!(case.milestones.is_empty());
    // An uncertified caseworker creates no case.
    let csrf = uncert_c.csrf("/cases/new").await;
    let refused = uncert_c
        .post(
            "/cases",
            &[
                ("csrf", &csrf),
                ("alias_0", "Nobody"),
                ("age_0", "30-44"),
                ("stage", "intake"),
                ("status", "open"),
                ("notes", ""),
            ],
        )
        .await;
    assert_eq!(refused.status(), 403);
}
