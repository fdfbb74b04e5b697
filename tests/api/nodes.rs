//! Several nodes on one PostgreSQL: two `safehouse serve` processes share
//! the database, the secrets directory and nothing else. Sessions, logout,
//! lockdown and the audit chain hold across them.

use std::process::{Command, Stdio};
use std::sync::Arc;

use safehouse::accounts::model::{Actor, Role};
use safehouse::accounts::totp;
use safehouse::cases::service as cases;
use safehouse::clock::SystemClock;

use crate::helpers::{Client, Instance, Node, PASSWORD, draft, fresh_pg, instance_in, oath_code};

fn command(app: &Instance, url: &str) -> Command {
    let mut cmd = Command::new(crate::helpers::BIN);
    for (key, _) in std::env::vars() {
        if key.starts_with("SAFEHOUSE_") {
            cmd.env_remove(key);
        }
    }
    // A node on PostgreSQL keeps nothing on its own disk: its data
    // directory is never made.
    cmd.env("SAFEHOUSE_DATA_DIR", app.dir.path().join("node-data"))
        .env("SAFEHOUSE_SECRETS_DIR", app.dir.path().join("secrets"))
        .env("SAFEHOUSE_DATABASE_URL", url)
        .env("SAFEHOUSE_LOG", "warn")
        .stdin(Stdio::null());
    cmd
}

fn start(app: &Instance, url: &str) -> Node {
    Node::start(command(app, url))
}

/// Enrol TOTP at the real time (the nodes run on the system clock) and
/// return the secret; the next step's code logs in.
async fn enrol(app: &Instance, actor: &Actor) -> String {
    let (enrolment, write) = totp::begin(&app.vault, actor.user_id()).await.unwrap();
    app.vault.store().apply(vec![write]).await.unwrap();
    let secret = enrolment.secret_base32.to_string();
    let now = time::OffsetDateTime::now_utc();
    let writes = totp::confirm(&app.vault, actor.user_id(), &oath_code(&secret, now)).await.unwrap();
    app.vault.store().apply(writes).await.unwrap();
    secret
}

/// Log in on `base` with the code of the step after enrolment (one step
/// of drift is accepted, and the enrolment's own step is spent).
async fn login(base: &str, username: &str, password: &str, secret: &str) -> Client {
    let mut client = Client::new(base);
    let code = oath_code(secret, time::OffsetDateTime::now_utc() + time::Duration::seconds(30));
    let r = client.post("/login", &[("username", username), ("password", password), ("code", &code)]).await;
    assert_eq!(r.status(), 303, "login of {username} on {base}");
    assert!(client.cookie.is_some());
    client
}

fn on(node: &Node, session: &Client) -> Client {
    let mut client = Client::new(&node.base);
    client.cookie = session.cookie.clone();
    client
}

#[tokio::test]
async fn two_nodes_share_sessions_logout_lockdown_and_one_audit_chain() {
    let Some(db) = fresh_pg().await else { return };
    let url = db.url.clone();
    let app = instance_in(Some(db), Arc::new(SystemClock)).await;
    let first = app.user("case.first", Role::Caseworker, true).await;
    let second = app.user("case.second", Role::Caseworker, true).await;
    let third = app.user("case.third", Role::Caseworker, true).await;
    let case = cases::create(&app.vault, &first, draft(&["Kestrel Nodeone"], "shared notes")).await.unwrap();
    let path = format!("/cases/{case}");
    let secrets = [
        enrol(&app, &first).await,
        enrol(&app, &second).await,
        enrol(&app, &app.coordinator).await,
        enrol(&app, &third).await,
    ];
    let (a, b) = (start(&app, &url), start(&app, &url));

    // A session made on node A is honoured by node B.
    let on_a = login(&a.base, "case.first", PASSWORD, &secrets[0]).await;
    let mut on_b = on(&b, &on_a);
    let page = on_b.get(&path).await;
    assert_eq!(page.status(), 200, "node B honours node A's session");
    assert!(page.text().await.unwrap().contains("Kestrel Nodeone"));

    // 64 concurrent readers spread over both nodes.
    let before = app.vault.store().audit_head().await.unwrap().unwrap().seq;
    let mut readers = Vec::new();
    for n in 0..64 {
        let mut client = if n % 2 == 0 { on(&a, &on_a) } else { on(&b, &on_a) };
        let path = path.clone();
        readers.push(tokio::spawn(async move { client.get(&path).await.status() }));
    }
    for reader in readers {
        assert_eq!(reader.await.unwrap(), 200);
    }
    let rows = app.audit_log().await;
    let reads = rows
        .iter()
        .filter(|r| r.seq > before && r.action == "case.read" && r.target == case.to_string())
        .count();
    assert_eq!(reads, 64, "one entry per read, from both nodes");

    // Logout on A ends the session on B at its next request.
    let mut on_a = on_a;
    let csrf = on_a.csrf("/account").await;
    assert_eq!(on_a.post("/logout", &[("csrf", &csrf)]).await.status(), 303);
    let mut stale = on(&b, &on_b);
    assert_eq!(stale.get(&path).await.status(), 303, "logged out on A, refused on B");
    on_b.cookie = None;

    // Lockdown by a coordinator on A ends a session on B.
    let mut victim = on(&b, &login(&b.base, "case.second", PASSWORD, &secrets[1]).await);
    assert_eq!(victim.get("/cases").await.status(), 200);
    let mut coordinator = login(&a.base, "coord.first", "first coordinator passphrase", &secrets[2]).await;
    let csrf = coordinator.csrf("/lockdown").await;
    let engaged = coordinator.post("/lockdown", &[("csrf", &csrf), ("confirm", "yes")]).await;
    assert_eq!(engaged.status(), 303);
    assert_eq!(victim.get("/cases").await.status(), 303, "locked down on A, refused on B");

    // No one logs in on any node until the lockdown is lifted, from the
    // command line, once for all of them.
    let code = oath_code(&secrets[3], time::OffsetDateTime::now_utc() + time::Duration::seconds(30));
    let form = [("username", "case.third"), ("password", PASSWORD), ("code", code.as_str())];
    assert_eq!(Client::new(&b.base).post("/login", &form).await.status(), 503, "locked down on B too");
    let lift = command(&app, &url).args(["lockdown", "--lift"]).output().unwrap();
    assert!(lift.status.success(), "{}", String::from_utf8_lossy(&lift.stderr));
    login(&b.base, "case.third", PASSWORD, &secrets[3]).await;
    drop((a, b));

    // Every node appended to one chain, and it verifies end to end.
    let verify = command(&app, &url).args(["audit", "verify"]).output().unwrap();
    assert!(verify.status.success(), "{}", String::from_utf8_lossy(&verify.stderr));
    assert!(String::from_utf8_lossy(&verify.stdout).contains("audit chain intact"));
    let seqs: Vec<i64> = app.audit_log().await.iter().map(|r| r.seq).collect();
    assert_eq!(seqs, (1..=seqs.len() as i64).collect::<Vec<_>>(), "no gap, no fork");
    assert!(!app.dir.path().join("node-data").exists(), "the nodes wrote nothing to disk");
    let _ = (second, third);
}
