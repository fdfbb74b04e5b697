//! Login, sessions and the hardened HTTP surface, over real HTTP.

use safehouse::accounts::model::Role;
use safehouse::accounts::service as accounts;
use safehouse::membership;
use safehouse::sessions::service as sessions;

use crate::helpers::*;

const HEADERS: &[(&str, &str)] = &[
    ("x-content-type-options", "nosniff"),
    ("referrer-policy", "no-referrer"),
    ("cross-origin-opener-policy", "same-origin"),
    ("cache-control", "no-store"),
    ("x-frame-options", "DENY"),
];

fn assert_hardened(response: &reqwest::Response, what: &str) {
    for (name, value) in HEADERS {
        assert_eq!(
            response.headers().get(*name).map(|v| v.to_str().unwrap()),
            Some(*value),
            "{name} on {what}"
        );
    }
    let csp = response.headers()["content-security-policy"].to_str().unwrap();
    for part in ["default-src 'none'", "frame-ancestors 'none'", "base-uri 'none'", "form-action 'self'"] {
        assert!(csp.contains(part), "{part} in CSP on {what}");
    }
    assert!(!csp.contains("unsafe-inline") && !csp.contains("unsafe-eval"), "{what}");
    assert!(response.headers().contains_key("permissions-policy"), "{what}");
    assert!(!response.headers().contains_key("server"), "no version on {what}");
}

#[tokio::test]
async fn every_response_carries_the_security_headers() {
    let t = spawn_app().await;
    let mut c = t.client();
    let page = c.get("/login").await;
    assert_eq!(page.status(), 200);
    assert_hardened(&page, "the login page");
    let missing = c.get("/no/such/page").await;
    assert_eq!(missing.status(), 404);
    assert_hardened(&missing, "a 404");
    let id = missing.headers()["x-request-id"].to_str().unwrap().to_owned();
    assert!(missing.text().await.unwrap().contains(&id), "the error page shows the request id");
    let css = c.get("/static/app.css").await;
    assert_eq!(css.status(), 200);
    assert_hardened(&css, "the stylesheet");
    let wrong_method = c.post("/static/app.css", &[]).await;
    assert_eq!(wrong_method.status(), 405);
    assert_hardened(&wrong_method, "a 405");
    // A 500: a table the login needs has gone. The page names nothing internal.
    t.app.execute_raw("DROP TABLE address_throttle", &[]).await;
    let broken = c.post("/login", &[("username", "a.user"), ("password", "whatever password")]).await;
    assert_eq!(broken.status(), 500);
    assert_hardened(&broken, "a 500");
    let id = broken.headers()["x-request-id"].to_str().unwrap().to_owned();
    let body = broken.text().await.unwrap();
    assert!(body.contains(&id));
    for internal in ["address_throttle", "sqlx", "no such table", "Store", "Database"] {
        assert!(!body.contains(internal), "{internal} on the error page");
    }
    let big = "x".repeat(100 * 1024);
    let too_large = c.post("/login", &[("username", &big), ("password", "p")]).await;
    assert_eq!(too_large.status(), 413);
    assert_hardened(&too_large, "a 413");
}

#[tokio::test]
async fn every_login_failure_looks_the_same() {
    let t = spawn_app().await;
    let user = t.web_user("case.same", Role::Caseworker).await;
    let good_code = oath_code(&user.secret, t.now());
    let attempts = [
        ("nobody.here", PASSWORD, good_code.as_str()),
        ("case.same", "a wrong passphrase 9", good_code.as_str()),
        ("case.same", PASSWORD, "000000"),
    ];
    let mut answers = Vec::new();
    for (username, password, code) in attempts {
        let mut c = t.client();
        let response =
            c.post("/login", &[("username", username), ("password", password), ("code", code)]).await;
        let status = response.status();
        assert!(response.headers().get("set-cookie").is_none(), "no session for a failed login");
        let body = response.text().await.unwrap().replace(username, "USERNAME");
        answers.push((status, body));
    }
    assert_eq!(answers[0].0, 200);
    assert!(answers[0].1.contains("The username, password or code is not correct."));
    assert!(answers.iter().all(|a| *a == answers[0]), "identical status and page for every failure");
}

#[tokio::test]
async fn login_cycles_the_session_and_logout_kills_it() {
    let t = spawn_app().await;
    let user = t.web_user("case.cycle", Role::Caseworker).await;
    let mut c = t.login(&user).await;
    let first = c.cookie.clone().expect("a session cookie");
    assert_eq!(c.get("/").await.status(), 200);

    // Logging in again from the same browser gives a new id; the old one dies.
    let code = oath_code(&user.secret, t.now());
    let again =
        c.post("/login", &[("username", "case.cycle"), ("password", PASSWORD), ("code", &code)]).await;
    assert_eq!(again.status(), 303);
    let cookie_header = again.headers()["set-cookie"].to_str().unwrap().to_owned();
    for attribute in ["__Host-safehouse=", "Secure", "HttpOnly", "SameSite=Strict", "Path=/"] {
        assert!(cookie_header.contains(attribute), "{attribute} in {cookie_header}");
    }
    assert!(!cookie_header.contains("Max-Age"), "no Max-Age: expiry is the server's");
    let second = c.cookie.clone().unwrap();
    assert_ne!(first, second);
    let mut stale = t.client();
    stale.cookie = Some(first);
    assert_eq!(stale.get("/").await.status(), 303, "the old id is dead");

    let csrf = c.csrf("/").await;
    let out = c.post("/logout", &[("csrf", &csrf)]).await;
    assert_eq!(out.status(), 303);
    assert_eq!(out.headers()["clear-site-data"], "\"cookies\"");
    let removals: Vec<_> =
        out.headers().get_all("set-cookie").iter().map(|v| v.to_str().unwrap().to_owned()).collect();
    assert!(removals.iter().any(|r| r.contains("Max-Age=0") && r.contains("Secure")), "{removals:?}");
    let mut old = t.client();
    old.cookie = Some(second);
    assert_eq!(old.get("/").await.status(), 303, "an old cookie after logout is dead");
}

#[tokio::test]
async fn totp_codes_are_single_use_and_fresh() {
    let t = spawn_app().await;
    let user = t.web_user("case.totp", Role::Caseworker).await;
    let code = oath_code(&user.secret, t.now());
    let mut a = t.client();
    let ok = a.post("/login", &[("username", "case.totp"), ("password", PASSWORD), ("code", &code)]).await;
    assert_eq!(ok.status(), 303);
    let mut b = t.client();
    let replay =
        b.post("/login", &[("username", "case.totp"), ("password", PASSWORD), ("code", &code)]).await;
    assert_eq!(replay.status(), 200, "a replayed code is refused");
    assert!(b.cookie.is_none());

    // One step of drift is accepted; two steps old is not.
    t.next_step();
    t.next_step();
    let two_old = oath_code(&user.secret, t.now() - time::Duration::seconds(60));
    let mut c = t.client();
    let refused =
        c.post("/login", &[("username", "case.totp"), ("password", PASSWORD), ("code", &two_old)]).await;
    assert_eq!(refused.status(), 200);
    let one_old = oath_code(&user.secret, t.now() - time::Duration::seconds(30));
    let accepted =
        c.post("/login", &[("username", "case.totp"), ("password", PASSWORD), ("code", &one_old)]).await;
    assert_eq!(accepted.status(), 303);
}

#[tokio::test]
async fn a_recovery_code_logs_in_once() {
    let t = spawn_app().await;
    let actor = t.app.user("case.lost", Role::Caseworker, true).await;
    t.enrol(&actor).await;
    // The codes from a password change (the activation's were not kept).
    let issued =
        accounts::change_password(&t.app.vault, &actor, PASSWORD, &password("another long passphrase"))
            .await
            .unwrap();
    let code = issued.recovery_codes[3].expose().to_owned();
    let mut c = t.client();
    let ok = c
        .post(
            "/login",
            &[("username", "case.lost"), ("password", "another long passphrase"), ("code", &code)],
        )
        .await;
    assert_eq!(ok.status(), 303);
    t.clock.advance(time::Duration::seconds(10));
    let mut d = t.client();
    let again = d
        .post(
            "/login",
            &[("username", "case.lost"), ("password", "another long passphrase"), ("code", &code)],
        )
        .await;
    assert_eq!(again.status(), 200, "a recovery code works once");
}

#[tokio::test]
async fn failures_slow_an_account_down_and_the_delay_expires() {
    let t = spawn_app().await;
    let user = t.web_user("case.slow", Role::Caseworker).await;
    let mut c = t.client();
    for _ in 0..3 {
        let r = c
            .post(
                "/login",
                &[("username", "case.slow"), ("password", "wrong passphrase 123"), ("code", "000000")],
            )
            .await;
        assert_eq!(r.status(), 200);
    }
    let code = oath_code(&user.secret, t.now());
    let throttled =
        c.post("/login", &[("username", "case.slow"), ("password", PASSWORD), ("code", &code)]).await;
    assert_eq!(throttled.status(), 429, "even the right password waits");
    assert_eq!(throttled.headers()["retry-after"], "1");
    // An unknown username is throttled the same way (no enumeration).
    for _ in 0..3 {
        c.post("/login", &[("username", "no.such.user"), ("password", "wrong passphrase 123")]).await;
    }
    assert_eq!(c.post("/login", &[("username", "no.such.user"), ("password", "x")]).await.status(), 429);
    // The delay expires: then the right credentials work.
    t.clock.advance(time::Duration::seconds(31));
    let code = oath_code(&user.secret, t.now());
    let ok = c.post("/login", &[("username", "case.slow"), ("password", PASSWORD), ("code", &code)]).await;
    assert_eq!(ok.status(), 303);
}

#[tokio::test]
async fn a_right_password_with_a_wrong_code_is_shown_at_the_next_login() {
    let t = spawn_app().await;
    let user = t.web_user("case.warned", Role::Caseworker).await;
    let mut attacker = t.client();
    attacker.post("/login", &[("username", "case.warned"), ("password", PASSWORD), ("code", "123456")]).await;
    let mut c = t.login(&user).await;
    let home = c.get("/").await.text().await.unwrap();
    assert!(home.contains("someone entered your correct password with a wrong code"));
    let later = c.get("/").await.text().await.unwrap();
    assert!(!later.contains("someone entered your correct password"), "shown once");
}

#[tokio::test]
async fn cross_site_and_tokenless_posts_are_refused() {
    let t = spawn_app().await;
    let user = t.web_user("case.csrf", Role::Caseworker).await;
    let mut c = t.login(&user).await;
    let csrf = c.csrf("/").await;
    let cross = c.post_with("/logout", &[("csrf", &csrf)], &[("sec-fetch-site", "cross-site")]).await;
    assert_eq!(cross.status(), 403);
    let foreign_origin =
        c.post_with("/logout", &[("csrf", &csrf)], &[("origin", "https://evil.example")]).await;
    assert_eq!(foreign_origin.status(), 403);
    let no_token = c.post("/logout", &[]).await;
    assert_eq!(no_token.status(), 403);
    let wrong_token = c.post("/logout", &[("csrf", "0123")]).await;
    assert_eq!(wrong_token.status(), 403);
    assert_eq!(c.get("/").await.status(), 200, "still logged in: nothing was done");
}

#[tokio::test]
async fn sessions_expire_when_idle_and_at_their_absolute_limit() {
    let t = spawn_app().await;
    let user = t.web_user("case.idle", Role::Caseworker).await;
    let mut c = t.login(&user).await;
    t.clock.advance(time::Duration::minutes(29));
    assert_eq!(c.get("/").await.status(), 200, "29 minutes idle is fine");
    t.clock.advance(time::Duration::minutes(31));
    assert_eq!(c.get("/").await.status(), 303, "31 minutes idle ends the session");

    let mut d = t.login(&user).await;
    for _ in 0..25 {
        t.clock.advance(time::Duration::minutes(29));
        if d.get("/").await.status() != 200 {
            break;
        }
    }
    let minutes = 25 * 29;
    assert!(minutes > 12 * 60);
    assert_eq!(d.get("/").await.status(), 303, "no session outlives 12 hours, however active");
}

#[tokio::test]
async fn password_change_freeze_and_lockdown_end_sessions() {
    let t = spawn_app().await;
    let user = t.web_user("case.ends", Role::Caseworker).await;
    let mut c = t.login(&user).await;
    accounts::change_password(&t.app.vault, &user.actor, PASSWORD, &password("a changed passphrase"))
        .await
        .unwrap();
    assert_eq!(c.get("/").await.status(), 303, "a password change ends other sessions");

    let other = t.web_user("case.frozen", Role::Caseworker).await;
    let mut d = t.login(&other).await;
    membership::freeze(&t.app.vault, &t.app.coordinator, other.actor.user_id()).await.unwrap();
    assert_eq!(d.get("/").await.status(), 303, "freeze ends the sessions");

    let fourth = t.web_user("case.disabled", Role::Caseworker).await;
    let mut f = t.login(&fourth).await;
    accounts::set_disabled(&t.app.vault, &t.app.admin, fourth.actor.user_id(), true).await.unwrap();
    assert_eq!(f.get("/").await.status(), 303, "disabling ends the sessions");

    let third = t.web_user("case.locked", Role::Caseworker).await;
    let mut e = t.login(&third).await;
    sessions::lock_down(&t.app.vault, &t.state.sessions, Some(&t.app.coordinator)).await.unwrap();
    assert_eq!(e.get("/").await.status(), 303, "lockdown ends every session");
    let code = oath_code(&third.secret, t.now());
    let refused =
        e.post("/login", &[("username", "case.locked"), ("password", PASSWORD), ("code", &code)]).await;
    assert_eq!(refused.status(), 503);
    assert!(refused.text().await.unwrap().contains("locked down"));
    sessions::lift(&t.app.vault).await.unwrap();
    t.login(&third).await;
}

#[tokio::test]
async fn the_session_table_holds_nothing_readable() {
    let t = spawn_app().await;
    let user = t.web_user("case.sealed", Role::Caseworker).await;
    let c = t.login(&user).await;
    let cookie = c.cookie.clone().unwrap();
    let rows = t.app.session_rows().await;
    assert_eq!(rows.len(), 1);
    // The sessions file, or on PostgreSQL a dump with the UNLOGGED table's data.
    let stored: Vec<(std::path::PathBuf, Vec<u8>)> = match &t.app.pg {
        Some(db) => {
            let dump = db.dump_with(&["--table", "sessions"]);
            vec![("pg_dump bytea".into(), crate::helpers::bytea_values(&dump)), ("pg_dump".into(), dump)]
        }
        None => ["sessions.db", "sessions.db-wal"]
            .iter()
            .map(|f| (t.app.data_dir().join(f), std::fs::read(t.app.data_dir().join(f)).unwrap_or_default()))
            .collect(),
    };
    assert!(stored.iter().any(|(_, bytes)| contains(bytes, &rows[0].0)), "the scan sees the session row");
    let uid = user.actor.user_id().to_string();
    for needle in [cookie.as_str(), uid.as_str(), "case.sealed", "AGE-SECRET-KEY", "user_id", "csrf"] {
        for (path, bytes) in &stored {
            assert!(!contains(bytes, needle.as_bytes()), "{needle} readable in {}", path.display());
        }
    }
    // On PostgreSQL the documented backup (docs/deployment.md) leaves the
    // UNLOGGED sessions out altogether.
    if let Some(db) = &t.app.pg {
        let backup = crate::helpers::bytea_values(&db.dump_with(&["--no-unlogged-table-data"]));
        assert!(!contains(&backup, &rows[0].0), "a backup without unlogged data carries no session");
    }
    // The cookie is the base64url of the id; the row key is not the id.
    use base64::Engine;
    let id = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(&cookie).unwrap();
    assert!(!contains(&rows[0].0, &id) && rows[0].0 != id);
}

#[tokio::test]
async fn one_address_is_limited_with_retry_after() {
    let t = spawn_app().await;
    let mut c = t.client();
    for n in 0..safehouse::accounts::login::ADDRESS_ATTEMPTS {
        let name = format!("guess.{n}");
        let r = c.post("/login", &[("username", &name), ("password", "a wrong passphrase")]).await;
        assert_eq!(r.status(), 200, "attempt {n}");
    }
    let limited = c.post("/login", &[("username", "guess.last"), ("password", "a wrong passphrase")]).await;
    assert_eq!(limited.status(), 429);
    let retry: i64 = limited.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!(retry > 0 && retry <= safehouse::accounts::login::ADDRESS_WINDOW_SECS);
    t.clock.advance(time::Duration::seconds(safehouse::accounts::login::ADDRESS_WINDOW_SECS));
    let later = c.post("/login", &[("username", "guess.later"), ("password", "a wrong passphrase")]).await;
    assert_eq!(later.status(), 200, "the window passes");
}

/// Behind a trusted proxy each client has its own budget of attempts;
/// without the trust, a forged X-Forwarded-For escapes nothing.
#[tokio::test]
async fn the_address_limit_reads_forwarded_for_only_from_a_trusted_proxy() {
    use safehouse::accounts::login::ADDRESS_ATTEMPTS;
    let t = spawn_app().await;
    // A new username each time, so only the address limit is in play.
    let tried = std::sync::atomic::AtomicUsize::new(0);
    let attempt = |c: &mut Client, forwarded: String| {
        let mut c = c.clone();
        let username = format!("guess.{}", tried.fetch_add(1, std::sync::atomic::Ordering::Relaxed));
        async move {
            let headers = [("sec-fetch-site", "same-origin"), ("x-forwarded-for", forwarded.as_str())];
            c.post_with("/login", &[("username", &username), ("password", "a wrong passphrase")], &headers)
                .await
                .status()
        }
    };

    // Straight from the client: every attempt counts against the peer,
    // whatever address it claims.
    let mut direct = t.client();
    for n in 0..ADDRESS_ATTEMPTS {
        assert_eq!(attempt(&mut direct, format!("203.0.113.{n}")).await, 200);
    }
    assert_eq!(attempt(&mut direct, "203.0.113.250".into()).await, 429, "a forged header escapes nothing");

    // Through a trusted proxy (here: loopback), the forwarded address counts.
    let mut state = t.state.clone();
    state.trusted_proxies = vec!["127.0.0.1".parse().unwrap()].into();
    let server = safehouse::web::Application::bind("127.0.0.1:0".parse().unwrap(), state).await.unwrap();
    let mut proxied = Client::new(&format!("http://{}", server.local_addr().unwrap()));
    tokio::spawn(server.run_until(std::future::pending()));
    for _ in 0..ADDRESS_ATTEMPTS {
        assert_eq!(attempt(&mut proxied, "203.0.113.9, 198.51.100.7".into()).await, 200);
    }
    assert_eq!(attempt(&mut proxied, "198.51.100.7".into()).await, 429, "that client's budget is spent");
    assert_eq!(attempt(&mut proxied, "198.51.100.8".into()).await, 200, "another client still has its own");
}

#[tokio::test]
async fn the_database_holds_no_argon2_output() {
    let t = spawn_app().await;
    let user = t.web_user("case.kdf", Role::Caseworker).await;
    let key = t.app.vault.store().user_key(&user.actor.user_id().to_string()).await.unwrap().unwrap();
    let stretched = safehouse::vault::argon2id(
        PASSWORD.as_bytes(),
        &key.kdf_salt,
        t.app.vault.keyring.pepper(),
        safehouse::config::KdfParams::decode(&key.kdf_params).unwrap(),
    )
    .unwrap();
    let sealing = stretched.derive(
        safehouse::crypto::Label::PasswordSeal,
        format!("{}/{}", user.actor.user_id(), key.key_no).as_bytes(),
    );
    if t.app.pg.is_none() {
        let raw = t.app.raw().await;
        sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)").execute(raw.pool()).await.unwrap();
    }
    for (path, bytes) in t.app.at_rest() {
        for secret in
            [&stretched.expose()[..], &sealing.expose()[..], &stretched.expose()[..8], &sealing.expose()[..8]]
        {
            assert!(!contains(&bytes, secret), "key material in {}", path.display());
        }
    }
}

#[tokio::test]
async fn hsts_is_sent_only_when_served_over_tls() {
    let t = spawn_app().await;
    let mut c = t.client();
    assert!(!c.get("/login").await.headers().contains_key("strict-transport-security"));
    let mut state = t.state.clone();
    state.hsts = true;
    let server = safehouse::web::Application::bind("127.0.0.1:0".parse().unwrap(), state).await.unwrap();
    let base = format!("http://{}", server.local_addr().unwrap());
    tokio::spawn(server.run_until(std::future::pending()));
    let response = reqwest::get(format!("{base}/login")).await.unwrap();
    assert!(response.headers()["strict-transport-security"].to_str().unwrap().starts_with("max-age="));
}

#[tokio::test]
async fn a_form_that_cannot_be_read_gets_our_page_not_the_frameworks() {
    let t = spawn_app().await;
    let mut c = t.client();
    let r = c.post("/login", &[("nothing", "here")]).await;
    assert_eq!(r.status(), 422);
    assert_hardened(&r, "a 422");
    assert!(r.headers()["content-type"].to_str().unwrap().starts_with("text/html"));
    let body = r.text().await.unwrap();
    assert!(body.contains("The request could not be understood."));
    assert!(!body.contains("missing field") && !body.contains("deserialize"), "no framework internals");
}
