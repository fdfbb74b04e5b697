//! Hardening after the outside review (issue 10): throttles.

use safehouse::accounts::login::{ADDRESS_ATTEMPTS, delay_after};
use safehouse::accounts::model::Role;
use safehouse::accounts::service as accounts;
use safehouse::storage::AuditRow;

use crate::helpers::*;

const NEW_PASSWORD: &str = "a brand new passphrase 7";

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

fn retry_after(response: &reqwest::Response) -> i64 {
    response.headers()["retry-after"].to_str().unwrap().parse().unwrap()
}

fn entries<'a>(log: &'a [AuditRow], action: &str) -> Vec<&'a AuditRow> {
    log.iter().filter(|r| r.action == action).collect()
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

#[tokio::test]
async fn finding_07_recover_answers_alike_is_throttled_and_audited() {
    let t = spawn_app().await;
    let user = t.web_user("case.real", Role::Caseworker).await;
    let totp = oath_code(&user.secret, t.now());
    let wrong_code = "0123-4567-89ab-cdef-0123-4567-89ab-cdef";
    let recover = async |username: &str| {
        t.client()
            .post(
                "/recover",
                &[
                    ("username", username),
                    ("code", wrong_code),
                    ("totp", &totp),
                    ("password", NEW_PASSWORD),
                    ("confirm", NEW_PASSWORD),
                ],
            )
            .await
    };

    // A real user and an unknown one: the same status and page.
    let real = recover("case.real").await;
    let unknown = recover("no.such.user").await;
    let (real_status, unknown_status) = (real.status(), unknown.status());
    let real_page = real.text().await.unwrap().replace("case.real", "USERNAME");
    let unknown_page = unknown.text().await.unwrap().replace("no.such.user", "USERNAME");
    assert_eq!(real_status, 422);
    assert_eq!(unknown_status, real_status);
    assert!(real_page.contains("The username, recovery code or authenticator code is not correct."));
    assert_eq!(real_page, unknown_page);

    // Both went through the same path: one refusal each in the trail, alike,
    // and one counted attempt on each account's throttle and two on the address's.
    let log = t.app.audit_log().await;
    let refused: Vec<_> = entries(&log, "recovery_code.use")
        .into_iter()
        .map(|r| (r.actor.clone(), r.role.clone(), r.target.clone(), r.outcome.clone()))
        .collect();
    assert_eq!(refused, vec![("-".into(), "-".into(), String::new(), "denied".into()); 2]);
    assert_eq!(t.app.select_ints("SELECT failures FROM login_throttle").await, vec![1, 1]);
    assert_eq!(t.app.select_ints("SELECT attempts FROM address_throttle").await, vec![2]);

    // The account's delay is the login's: three failures, then a wait,
    // for recovery and login alike.
    recover("case.real").await;
    recover("case.real").await;
    let waits = recover("case.real").await;
    assert_eq!(waits.status(), 429);
    assert_eq!(retry_after(&waits), delay_after(3));
    let code = oath_code(&user.secret, t.now());
    let login = t
        .client()
        .post("/login", &[("username", "case.real"), ("password", PASSWORD), ("code", &code)])
        .await;
    assert_eq!(login.status(), 429);
    assert_eq!(
        entries(&t.app.audit_log().await, "recovery_code.use").len(),
        4,
        "a refused attempt checked nothing"
    );

    // And the address's budget is the login's too.
    let used = t.app.select_ints("SELECT attempts FROM address_throttle").await[0];
    for n in used..ADDRESS_ATTEMPTS {
        assert_eq!(recover(&format!("guess.{n}")).await.status(), 422, "attempt {n}");
    }
    assert_eq!(recover("guess.last").await.status(), 429);
}

#[tokio::test]
async fn finding_09_recovery_needs_a_recovery_code_and_a_totp_code() {
    let t = spawn_app().await;
    let user = t.web_user("case.twofold", Role::Caseworker).await;
    let uid = user.actor.user_id();
    // The codes of a password change (the activation's are not kept).
    let issued =
        accounts::change_password(&t.app.vault, &user.actor, PASSWORD, &password("second long passphrase"))
            .await
            .unwrap();
    let code = issued.recovery_codes[0].expose().to_owned();
    let current = "second long passphrase";
    let login = async |password: &str| {
        let code = oath_code(&user.secret, t.now());
        let mut c = t.client();
        let status = c
            .post("/login", &[("username", "case.twofold"), ("password", password), ("code", &code)])
            .await
            .status();
        t.next_step();
        (status, c)
    };
    let (status, mut first) = login(current).await;
    assert_eq!(status, 303);
    let key_before = t.app.vault.store().user_key(&uid.to_string()).await.unwrap().unwrap().key_no;
    let recover = async |totp: &str| {
        t.client()
            .post(
                "/recover",
                &[
                    ("username", "case.twofold"),
                    ("code", &code),
                    ("totp", totp),
                    ("password", NEW_PASSWORD),
                    ("confirm", NEW_PASSWORD),
                ],
            )
            .await
    };

    // A recovery code alone, or with a wrong authenticator code: refused,
    // and nothing changes.
    for totp in [String::new(), t.wrong_code(&user.secret)] {
        let refused = recover(&totp).await;
        assert_eq!(refused.status(), 422, "totp {totp:?}");
        assert!(
            refused
                .text()
                .await
                .unwrap()
                .contains("The username, recovery code or authenticator code is not correct.")
        );
    }
    let key = t.app.vault.store().user_key(&uid.to_string()).await.unwrap().unwrap();
    assert_eq!(key.key_no, key_before);
    assert_eq!(t.app.vault.store().recovery_codes(&uid.to_string(), key.key_no).await.unwrap().len(), 10);
    assert_eq!(first.get("/").await.status(), 200, "the session lives on");
    let (status, mut second) = login(current).await;
    assert_eq!(status, 303, "the old password still works");

    // Both factors: a new password, and every other session ends.
    let totp = oath_code(&user.secret, t.now());
    let done = recover(&totp).await;
    assert_eq!(done.status(), 200);
    assert!(done.text().await.unwrap().contains("Your password is changed."));
    assert_eq!(t.state.sessions.count_owner(uid).await.unwrap(), 0);
    for c in [&mut first, &mut second] {
        let dead = c.get("/").await;
        assert_eq!(dead.status(), 303);
        assert_eq!(dead.headers()["location"], "/login");
    }
    // The authenticator code was spent by the recovery, like a login's.
    let again = t
        .client()
        .post("/login", &[("username", "case.twofold"), ("password", NEW_PASSWORD), ("code", &totp)])
        .await;
    assert_eq!(again.status(), 200, "the code is accepted once");
    t.next_step();
    let (status, _) = login(current).await;
    assert_eq!(status, 200, "the old password is gone");

    // The next login tells the user a recovery happened, once.
    let (status, mut c) = login(NEW_PASSWORD).await;
    assert_eq!(status, 303);
    let notice = "Since your last login, your password was set anew with a recovery code and your other sessions were ended.";
    assert!(c.get("/").await.text().await.unwrap().contains(notice));
    assert!(!c.get("/").await.text().await.unwrap().contains(notice), "shown once");
    let (_, mut later) = login(NEW_PASSWORD).await;
    assert!(!later.get("/").await.text().await.unwrap().contains(notice), "not at the login after");
    assert_eq!(
        entries(&t.app.audit_log().await, "recovery_code.use")
            .iter()
            .map(|r| r.outcome.as_str())
            .collect::<Vec<_>>(),
        ["denied", "denied", "ok"]
    );
}
