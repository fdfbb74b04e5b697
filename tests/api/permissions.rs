//! The permission matrix: every route of the one route table, for every
//! role, anonymous and mid-enrolment users included. A route added to the
//! server is in the table, so it is in this test.

use safehouse::accounts::model::{Role, Roles};
use safehouse::accounts::service as accounts;
use safehouse::policy::Access;
use safehouse::web::routes;

use crate::helpers::*;

enum Persona {
    Anonymous,
    Enrolling,
    User(Roles),
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
        personas.push((name, Persona::User([role].into()), t.login(&user).await));
    }
    // Several roles: the union.
    let multi = t.web_user("p.multi", Role::Caseworker).await;
    let _ = multi;
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
    for (name, persona, client) in personas.iter_mut() {
        let csrf = match persona {
            Persona::Anonymous => String::new(),
            Persona::Enrolling => {
                let page = client.get("/enrol").await.text().await.unwrap();
                let start = page.find("name=\"csrf\" value=\"").unwrap() + 19;
                page[start..].split('"').next().unwrap().to_owned()
            }
            Persona::User(_) => client.csrf("/account").await,
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
                assert!(status == 303 && location.as_deref() == Some("/login"), "{name} /logout: {status}");
                checked += 1;
                continue;
            }
            match (&*persona, route.access) {
                (_, Access::Public) => assert!(status != 403 && !to_login, "{what}: {status}"),
                (Persona::Anonymous, _) => assert!(to_login, "{what}: {status} {location:?}"),
                (Persona::Enrolling, Access::Enrolling) => {
                    assert!(status != 403 && !to_login, "{what}: {status}")
                }
                (Persona::Enrolling, _) => {
                    assert!(
                        status == 303 && location.as_deref() == Some("/enrol"),
                        "{what}: {status} {location:?}"
                    )
                }
                (Persona::User(roles), access) => {
                    if access.permits(roles) {
                        assert!(status != 403 && !to_login, "{what}: {status} {location:?}");
                    } else {
                        assert_eq!(status, 403, "{what}");
                    }
                }
            }
            checked += 1;
        }
    }
    assert!(checked >= table.len() * 7);
}
