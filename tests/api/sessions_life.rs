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
