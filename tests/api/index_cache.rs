//! The decrypted index kept in memory (issue 11, item 5): it follows every
//! write through the index counter (as another node's writes would reach
//! it: the copy never hears of a write but through the database), and no
//! decrypted record survives a lockdown (on this node, or seen by it after
//! another node's), the last coordinator's logout, or the idle time.

use safehouse::accounts::model::Role;
use safehouse::cases::service as cases;
use safehouse::storage::Write;
use time::Duration;

use crate::helpers::*;

async fn with_cases(t: &TestApp, n: usize) {
    for i in 0..n {
        cases::create(&t.app.vault, &t.app.coordinator, draft(&[&format!("Plover{i}")], "x")).await.unwrap();
    }
}

/// The first coordinator's TOTP secret (enrolled once).
async fn enrolled(t: &TestApp) -> String {
    t.enrol(&t.app.coordinator).await
}

/// The first coordinator, logged in on one more device.
async fn coordinator_login(t: &TestApp, secret: &str) -> Client {
    let mut c = t.client();
    let code = oath_code(secret, t.now());
    let form =
        [("username", "coord.first"), ("password", "first coordinator passphrase"), ("code", code.as_str())];
    assert_eq!(c.post("/login", &form).await.status(), 303);
    t.next_step();
    c
}

fn intake_cases(body: &str) -> usize {
    let needle = "<a href=\"/cases?stage=intake\">";
    let at = body.find(needle).expect("the intake figure") + needle.len();
    body[at..at + body[at..].find("</a>").unwrap()].parse().unwrap()
}

#[tokio::test]
async fn index_cache_the_copy_follows_writes_through_the_counter() {
    let t = spawn_app().await;
    let cache = &t.state.vault.index_cache;
    with_cases(&t, 3).await;
    let mut k = t.login_coordinator().await;
    assert_eq!(cache.entries(), 0, "nothing held before a coordinator asks");
    assert_eq!(intake_cases(&k.get("/").await.text().await.unwrap()), 3);
    assert_eq!(cache.entries(), 3);
    let before = t.app.vault.store().index_revision().await.unwrap();
    // A write the copy does not see happen: only the counter tells it.
    with_cases(&t, 2).await;
    assert_eq!(t.app.vault.store().index_revision().await.unwrap(), before + 2, "one number per index write");
    assert_eq!(intake_cases(&k.get("/").await.text().await.unwrap()), 5);
    assert_eq!(cache.entries(), 5);
    // A change of an existing case replaces its record, and the list reads
    // the same copy.
    t.clock.advance(Duration::minutes(1));
    let id = cases::list_visible(&t.app.vault, &t.app.coordinator).await.unwrap()[0].id;
    let case = cases::read(&t.app.vault, &t.app.coordinator, id).await.unwrap();
    let mut d = draft(&["Renamed"], "x");
    d.stage = safehouse::cases::model::Stage::Assessment;
    cases::update(&t.app.vault, &t.app.coordinator, id, case.version, d).await.unwrap();
    assert_eq!(intake_cases(&k.get("/").await.text().await.unwrap()), 4);
    let list = cases::list_visible(&t.app.vault, &t.app.coordinator).await.unwrap();
    assert_eq!(list.len(), 5);
    assert_eq!(list[0].aliases, vec!["Renamed".to_owned()], "newest update first");
    assert_eq!(cache.entries(), 5);
}

#[tokio::test]
async fn index_cache_nothing_survives_a_lockdown_on_this_node() {
    let t = spawn_app().await;
    with_cases(&t, 2).await;
    let mut k = t.login_coordinator().await;
    k.get("/").await;
    assert_eq!(t.state.vault.index_cache.entries(), 2);
    let csrf = k.csrf("/lockdown").await;
    let done = k.post("/lockdown", &[("csrf", &csrf), ("confirm", "yes")]).await;
    assert_eq!(done.status(), 303, "locked down");
    assert_eq!(t.state.vault.index_cache.entries(), 0, "dropped with the lockdown");
}

#[tokio::test]
async fn index_cache_a_lockdown_made_elsewhere_drops_the_copy_at_the_next_request() {
    let t = spawn_app().await;
    with_cases(&t, 2).await;
    let mut k = t.login_coordinator().await;
    let mut w = t.login(&t.web_user("case.any", Role::Caseworker).await).await;
    k.get("/").await;
    assert_eq!(t.state.vault.index_cache.entries(), 2);
    // Another node locks down: the database says so, this node was not told.
    t.app.vault.store().apply(vec![Write::SetLockdown { locked: true }]).await.unwrap();
    assert_eq!(t.state.vault.index_cache.entries(), 2);
    // Any request that reads the lockdown state, a caseworker's included.
    assert_eq!(w.get("/").await.status(), 303);
    assert_eq!(t.state.vault.index_cache.entries(), 0);
}

#[tokio::test]
async fn index_cache_the_sweep_drops_a_copy_after_another_nodes_lockdown() {
    let t = spawn_app().await;
    with_cases(&t, 1).await;
    let mut k = t.login_coordinator().await;
    k.get("/").await;
    t.app.vault.store().apply(vec![Write::SetLockdown { locked: true }]).await.unwrap();
    // No request at all: the periodic sweep sees it.
    t.state.vault.index_cache.sweep(&t.state.vault, |_| async { Some(1) }).await;
    assert_eq!(t.state.vault.index_cache.entries(), 0);
}

#[tokio::test]
async fn index_cache_the_last_coordinators_logout_drops_the_copy() {
    let t = spawn_app().await;
    with_cases(&t, 2).await;
    // The same coordinator on two devices.
    let secret = enrolled(&t).await;
    let mut first = coordinator_login(&t, &secret).await;
    let mut second = coordinator_login(&t, &secret).await;
    first.get("/").await;
    assert_eq!(t.state.vault.index_cache.entries(), 2);
    let csrf = first.csrf("/account").await;
    assert_eq!(first.post("/logout", &[("csrf", &csrf)]).await.status(), 303);
    assert_eq!(t.state.vault.index_cache.entries(), 2, "another session of a coordinator remains");
    let csrf = second.csrf("/account").await;
    assert_eq!(second.post("/logout", &[("csrf", &csrf)]).await.status(), 303);
    assert_eq!(t.state.vault.index_cache.entries(), 0, "the last coordinator session ended");
}

#[tokio::test]
async fn index_cache_the_copy_idles_out_with_the_sessions() {
    let t = spawn_app().await;
    with_cases(&t, 2).await;
    let secret = enrolled(&t).await;
    let mut sessions = [coordinator_login(&t, &secret).await, coordinator_login(&t, &secret).await];
    sessions[0].get("/").await;
    let cache = &t.state.vault.index_cache;
    cache.sweep(&t.state.vault, |_| async { Some(1) }).await;
    assert_eq!(cache.entries(), 2, "in use: kept");
    t.clock.advance(t.state.policy.idle + Duration::seconds(1));
    cache.sweep(&t.state.vault, |_| async { Some(1) }).await;
    assert_eq!(cache.entries(), 0, "no coordinator used it for the idle time");
    // And a copy whose coordinators have no session left goes at the sweep
    // (a freeze, "log out everywhere", an expiry seen by the session store).
    sessions[1].get("/").await;
    assert_eq!(cache.entries(), 0, "the idle session ended: no copy made for it");
    let mut k = coordinator_login(&t, &secret).await;
    k.get("/").await;
    assert_eq!(cache.entries(), 2);
    cache.sweep(&t.state.vault, |_| async { Some(1) }).await;
    assert_eq!(cache.entries(), 2);
    cache.sweep(&t.state.vault, |_| async { Some(0) }).await;
    assert_eq!(cache.entries(), 0);
}
