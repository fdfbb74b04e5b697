//! Hardening after the outside review (issue 10): throttles.

use safehouse::accounts::login::delay_after;
use safehouse::accounts::model::Role;
use safehouse::storage::AuditRow;

use crate::helpers::*;

/// A login form post from `address`, through a server that trusts loopback
/// as its proxy.
async fn login_from(
    base: &str,
    address: &str,
    username: &str,
    password: &str,
    code: &str,
) -> reqwest::Response {
    let mut c = Client::new(base);
    let headers = [("sec-fetch-site", "same-origin"), ("x-forwarded-for", address)];
    c.post_with("/login", &[("username", username), ("password", password), ("code", code)], &headers).await
}

fn entries<'a>(log: &'a [AuditRow], action: &str) -> Vec<&'a AuditRow> {
    log.iter().filter(|r| r.action == action).collect()
}

fn retry_after(response: &reqwest::Response) -> i64 {
    response.headers()["retry-after"].to_str().unwrap().parse().unwrap()
}

#[tokio::test]
async fn finding_01_parallel_logins_are_counted_before_the_work() {
    let t = spawn_app().await;
    let user = t.web_user("case.storm", Role::Caseworker).await;
    let base = t.behind_proxy().await;
    let wrong = t.wrong_code(&user.secret);

    // 40 at once, one account, one address: right password, wrong code.
    let mut storm = tokio::task::JoinSet::new();
    for _ in 0..40 {
        let (base, wrong) = (base.clone(), wrong.clone());
        storm.spawn(async move {
            login_from(&base, "198.51.100.7", "case.storm", PASSWORD, &wrong).await.status().as_u16()
        });
    }
    let statuses = storm.join_all().await;
    let processed = statuses.iter().filter(|s| **s == 200).count() as i64;
    let throttled = statuses.iter().filter(|s| **s == 429).count();
    assert_eq!(processed as usize + throttled, 40, "only failures and refusals: {statuses:?}");
    assert!(throttled >= 10, "{throttled} of 40 were refused: {statuses:?}");
    assert_eq!(t.app.select_ints("SELECT failures FROM login_throttle").await, vec![processed]);

    // The next attempt (from another address, whose own budget is whole)
    // waits exactly as long as after that many failures one by one.
    let next = login_from(&base, "198.51.100.8", "case.storm", PASSWORD, &wrong).await;
    assert_eq!(next.status(), 429);
    assert_eq!(retry_after(&next), delay_after(processed));
    assert!(delay_after(processed) > 0);
}

#[tokio::test]
async fn finding_06_reauth_is_throttled_audited_and_ends_the_session() {
    let t = spawn_app().await;
    let user = t.web_user("case.reauth", Role::Caseworker).await;
    let uid = user.actor.user_id().to_string();
    let mut c = t.login(&user).await;
    let csrf = c.csrf("/reauth?next=/account").await;
    let attempt = async |c: &mut Client, password: &str| {
        c.post("/reauth", &[("csrf", &csrf), ("next", "/account"), ("password", password)]).await
    };
    let ok = attempt(&mut c, PASSWORD).await;
    assert_eq!(ok.status(), 303);
    assert_eq!(ok.headers()["location"], "/account");

    let wrong = "not my passphrase at all";
    for n in 1..=3 {
        assert_eq!(attempt(&mut c, wrong).await.status(), 422, "failure {n}");
    }
    // The fourth waits, as after three failed logins: it is the same counter.
    let waits = attempt(&mut c, wrong).await;
    assert_eq!(waits.status(), 429);
    assert_eq!(retry_after(&waits), delay_after(3));
    let code = oath_code(&user.secret, t.now());
    let login = t
        .client()
        .post("/login", &[("username", "case.reauth"), ("password", PASSWORD), ("code", &code)])
        .await;
    assert_eq!(login.status(), 429, "a login for the account waits too");
    t.clock.advance(time::Duration::seconds(delay_after(3)));
    assert_eq!(attempt(&mut c, wrong).await.status(), 422, "failure 4");
    t.clock.advance(time::Duration::seconds(delay_after(4)));

    // The fifth failure in a row ends the session.
    let ended = attempt(&mut c, wrong).await;
    assert_eq!(ended.status(), 303);
    let location = ended.headers()["location"].to_str().unwrap().to_owned();
    assert!(location.starts_with("/login"), "{location}");
    assert!(c.cookie.is_none(), "the cookie is removed");
    let page = c.get(&location).await.text().await.unwrap();
    assert!(page.contains("Your session has ended after too many wrong passwords. Log in again."), "{page}");
    assert_eq!(t.state.sessions.count_owner(user.actor.user_id()).await.unwrap(), 0);

    // Every re-authentication is in the trail, ok and failed; the refused
    // one checked no password and is not.
    let log = t.app.audit_log().await;
    let reauths = entries(&log, "reauth");
    assert!(reauths.iter().all(|r| r.actor == uid && r.target == uid), "{reauths:?}");
    let outcomes: Vec<&str> = reauths.iter().map(|r| r.outcome.as_str()).collect();
    assert_eq!(outcomes, ["ok", "denied", "denied", "denied", "denied", "denied"]);
}
