//! The command line, run as a separate process exactly as an operator would.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

use safehouse::accounts::model::{Role, Username};
use safehouse::accounts::service as accounts;
use safehouse::clock::SystemClock;
use safehouse::config::Config;
use safehouse::setup;

use crate::helpers::password;

const BIN: &str = env!("CARGO_BIN_EXE_safehouse");

pub(crate) struct Env {
    dir: tempfile::TempDir,
    /// The suite's PostgreSQL database, when it runs there (see `on_suite`).
    pub(crate) pg: Option<crate::helpers::PgDb>,
}

impl Env {
    pub(crate) fn new() -> Env {
        Env { dir: tempfile::tempdir().unwrap(), pg: None }
    }

    /// An instance on the backend the suite runs on: every command gets
    /// `SAFEHOUSE_DATABASE_URL` when that is PostgreSQL.
    pub(crate) async fn on_suite() -> Env {
        let pg = if crate::helpers::on_postgres() { crate::helpers::fresh_pg().await } else { None };
        Env { dir: tempfile::tempdir().unwrap(), pg }
    }

    pub(crate) fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    pub(crate) fn command(&self) -> Command {
        let mut cmd = Command::new(BIN);
        for (key, _) in std::env::vars() {
            if key.starts_with("SAFEHOUSE_") {
                cmd.env_remove(key);
            }
        }
        cmd.env("SAFEHOUSE_DATA_DIR", self.path("data"))
            .env("SAFEHOUSE_SECRETS_DIR", self.path("secrets"))
            .env("SAFEHOUSE_LOG", "warn")
            .stdin(Stdio::null());
        if let Some(db) = &self.pg {
            cmd.env("SAFEHOUSE_DATABASE_URL", &db.url);
        }
        cmd
    }

    pub(crate) fn run(&self, args: &[&str]) -> Output {
        self.command().args(args).output().unwrap()
    }

    pub(crate) fn keygen(&self) -> String {
        let out = self.run(&["keygen", "--output", self.path("recovery.key").to_str().unwrap()]);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).unwrap().trim().to_owned()
    }

    pub(crate) fn init(&self, recipient: &str) -> Output {
        std::fs::write(self.path("coordinator.pw"), "first coordinator passphrase\n").unwrap();
        self.command()
            .env("SAFEHOUSE_COORDINATOR_PASSWORD_FILE", self.path("coordinator.pw"))
            .args([
                "init",
                "--recovery-recipient",
                recipient,
                "--coordinator",
                "coord.one",
                "--admin",
                "admin.one",
            ])
            .output()
            .unwrap()
    }

    pub(crate) fn config(&self) -> Config {
        let mut env: std::collections::BTreeMap<String, String> = [
            ("SAFEHOUSE_DATA_DIR".to_owned(), self.path("data").display().to_string()),
            ("SAFEHOUSE_SECRETS_DIR".to_owned(), self.path("secrets").display().to_string()),
        ]
        .into_iter()
        .collect();
        if let Some(db) = &self.pg {
            env.insert("SAFEHOUSE_DATABASE_URL".to_owned(), db.url.clone());
        }
        Config::from_sources(None, &env).unwrap()
    }
}

impl Env {
    /// Enrol coord.one's authenticator (confirmed with the previous step's
    /// code, so the current step is still unused) and return its secret.
    pub(crate) async fn enrol_first_coordinator(&self) -> String {
        let vault =
            safehouse::setup::open(&self.config(), std::sync::Arc::new(safehouse::clock::SystemClock))
                .await
                .unwrap();
        let one = safehouse::accounts::service::unlock(&vault, "coord.one", "first coordinator passphrase")
            .await
            .unwrap();
        crate::helpers::enrol_a_step_back(&vault, &one).await
    }

    /// `safehouse ARGS --user coord.one` as a coordinator runs it without a
    /// terminal: the password from its file, the code as stdin's first line.
    pub(crate) fn as_first_coordinator(&self, args: &[&str], code: &str) -> Output {
        use std::io::Write as _;
        let mut child = self
            .command()
            .env("SAFEHOUSE_COORDINATOR_PASSWORD_FILE", self.path("coordinator.pw"))
            .args(args)
            .args(["--user", "coord.one"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        writeln!(child.stdin.take().unwrap(), "{code}").unwrap();
        child.wait_with_output().unwrap()
    }
}

pub(crate) fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// A snapshot of every file's bytes below a directory.
fn snapshot(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut files = crate::helpers::files_below(dir);
    files.sort();
    files
}

/// Start `serve`, wait for its address line; returns the child and the URL.
fn serve(env: &Env) -> (Child, String) {
    let mut child = env
        .command()
        .env("SAFEHOUSE_LISTEN", "127.0.0.1:0")
        .arg("serve")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line).unwrap();
    let url = line.trim().rsplit(' ').next().unwrap().to_owned();
    assert!(url.starts_with("http://127.0.0.1:"), "unexpected: {line:?}");
    (child, url)
}

#[tokio::test]
async fn init_refuses_an_existing_instance_and_serve_refuses_wrong_secrets() {
    let env = Env::new();
    let recipient = env.keygen();
    assert!(recipient.starts_with("age1"));
    let key_file = std::fs::read_to_string(env.path("recovery.key")).unwrap();
    assert!(key_file.contains("AGE-SECRET-KEY-"));

    let out = env.init(&recipient);
    assert!(out.status.success(), "{}", stderr(&out));
    let printed = String::from_utf8_lossy(&out.stdout);
    assert!(printed.contains("Recovery codes"), "{printed}");
    assert!(!printed.contains("first coordinator passphrase"));

    // init again: refused, non-zero, nothing changed.
    let before = (snapshot(&env.path("data")), snapshot(&env.path("secrets")));
    let again = env.init(&recipient);
    assert!(!again.status.success());
    assert!(stderr(&again).contains("already exists"), "{}", stderr(&again));
    assert!(
        before == (snapshot(&env.path("data")), snapshot(&env.path("secrets"))),
        "a refused init changed files"
    );

    // A secrets directory inside the data directory is refused.
    let nested = env
        .command()
        .env("SAFEHOUSE_DATA_DIR", env.path("d2"))
        .env("SAFEHOUSE_SECRETS_DIR", env.path("d2/secrets"))
        .env("SAFEHOUSE_COORDINATOR_PASSWORD_FILE", env.path("coordinator.pw"))
        .args([
            "init",
            "--recovery-recipient",
            &recipient,
            "--coordinator",
            "coord.one",
            "--admin",
            "admin.one",
        ])
        .output()
        .unwrap();
    assert!(!nested.status.success());
    assert!(stderr(&nested).contains("outside the data directory"), "{}", stderr(&nested));

    // serve with the pepper missing: refused with a clear message.
    let pepper = env.path("secrets/pepper");
    let original = std::fs::read(&pepper).unwrap();
    std::fs::rename(&pepper, env.path("pepper.aside")).unwrap();
    let out = env.run(&["serve"]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("pepper file") && stderr(&out).contains("missing"), "{}", stderr(&out));

    // serve with another pepper: refused.
    std::fs::write(&pepper, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n").unwrap();
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&pepper, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
    let out = env.run(&["serve"]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("pepper in the secrets directory does not match"), "{}", stderr(&out));
    std::fs::write(&pepper, &original).unwrap();

    // serve with the trust file missing: refused.
    let trust = env.path("secrets/trust.toml");
    std::fs::rename(&trust, env.path("trust.aside")).unwrap();
    let out = env.run(&["serve"]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("trust file"), "{}", stderr(&out));
    std::fs::rename(env.path("trust.aside"), &trust).unwrap();

    // With its real secrets, serve starts and answers.
    let (mut child, url) = serve(&env);
    let body = reqwest::get(format!("{url}health")).await.unwrap();
    assert_eq!(body.status(), 200);
    assert_eq!(body.headers()["x-content-type-options"], "nosniff");
    assert_eq!(body.text().await.unwrap(), "ok");
    child.kill().unwrap();
    child.wait().unwrap();
}

#[tokio::test]
async fn offline_recovery_through_the_command_line() {
    let env = Env::new();
    let recipient = env.keygen();
    assert!(env.init(&recipient).status.success());

    // The administrator creates a coordinator account and its owner activates it.
    let fingerprint = {
        let vault = setup::open(&env.config(), std::sync::Arc::new(SystemClock)).await.unwrap();
        let token = accounts::create_account_unchecked(
            &vault,
            &Username::parse("coord.two").unwrap(),
            [Role::Coordinator].into(),
        )
        .await
        .unwrap()
        .activation;
        let issued =
            accounts::activate(&vault, token.expose(), &password("second coordinator pass")).await.unwrap();
        vault.store.as_ref();
        issued.fingerprint
    };

    let request = env.path("request.json");
    let out =
        env.run(&["recover", "export", "--username", "coord.two", "--output", request.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));

    // A wrong fingerprint: refused, no answer written.
    let answer = env.path("answer.json");
    let key = env.path("recovery.key");
    let out = env.run(&[
        "recover",
        "answer",
        "--request",
        request.to_str().unwrap(),
        "--fingerprint",
        "11111 11111 11111 11111 11111",
        "--identity",
        key.to_str().unwrap(),
        "--output",
        answer.to_str().unwrap(),
    ]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("fingerprint does not match"), "{}", stderr(&out));
    assert!(!answer.exists());

    let out = env.run(&[
        "recover",
        "answer",
        "--request",
        request.to_str().unwrap(),
        "--fingerprint",
        &fingerprint,
        "--identity",
        key.to_str().unwrap(),
        "--output",
        answer.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));

    // A tampered answer: refused, non-zero, database unchanged.
    let text = std::fs::read_to_string(&answer).unwrap();
    let mut json: serde_json::Value = serde_json::from_str(&text).unwrap();
    json["communications_wrap"] = json["coordinators_wrap"].clone();
    let bad = env.path("bad-answer.json");
    std::fs::write(&bad, json.to_string()).unwrap();
    let db = env.path("data/safehouse.db");
    let before = crate::helpers::dump_database(&db).await;
    let out = env.run(&["recover", "import", "--answer", bad.to_str().unwrap()]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("MAC does not verify"), "{}", stderr(&out));
    // Nothing changed but one audit entry recording the refusal.
    let after = crate::helpers::dump_database(&db).await;
    let (old_log, old_rest): (Vec<_>, Vec<_>) = before.iter().partition(|l| l.starts_with("audit_log:"));
    let (new_log, new_rest): (Vec<_>, Vec<_>) = after.iter().partition(|l| l.starts_with("audit_log:"));
    assert!(old_rest == new_rest, "a refused import changed the database");
    assert_eq!(new_log.len(), old_log.len() + 1);
    let denial = new_log.last().unwrap();
    assert!(
        denial.contains(&hex("recovery.import")) && denial.contains(&hex("denied")),
        "not recorded as a denial"
    );

    let out = env.run(&["recover", "import", "--answer", answer.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    let vault = setup::open(&env.config(), std::sync::Arc::new(SystemClock)).await.unwrap();
    let coordinator = accounts::unlock(&vault, "coord.two", "second coordinator pass").await.unwrap();
    assert!(safehouse::membership::coordinators_identity(&vault, &coordinator).await.is_ok());
}

#[tokio::test]
async fn demo_prints_a_login_for_every_role_and_stays_on_loopback() {
    let env = Env::new();
    let refused =
        env.command().env("SAFEHOUSE_LISTEN", "0.0.0.0:0").args(["demo", "--json"]).output().unwrap();
    assert!(!refused.status.success());
    assert!(stderr(&refused).contains("loopback"), "{}", stderr(&refused));

    let mut child = env
        .command()
        .env("SAFEHOUSE_LISTEN", "127.0.0.1:0")
        .args(["demo", "--json"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let info: serde_json::Value = serde_json::from_str(&line).unwrap();
    let roles: Vec<&str> =
        info["users"].as_array().unwrap().iter().map(|u| u["role"].as_str().unwrap()).collect();
    for role in ["admin", "coordinator", "caseworker", "communications", "auditor"] {
        assert!(roles.contains(&role), "{role} missing from {roles:?}");
    }
    let url = info["url"].as_str().unwrap();
    assert!(url.starts_with("http://127.0.0.1:"));
    assert_eq!(reqwest::get(format!("{url}health")).await.unwrap().status(), 200);
    let data_dir = PathBuf::from(info["data_dir"].as_str().unwrap());
    assert!(data_dir.exists());
    // SIGTERM: the demo stops gracefully and removes its throwaway directory.
    Command::new("kill").arg("-TERM").arg(child.id().to_string()).status().unwrap();
    assert!(child.wait().unwrap().success());
    assert!(!data_dir.exists());
}

#[tokio::test]
async fn a_lost_pepper_is_survivable_through_the_recovery_key() {
    use safehouse::cases::service as cases;
    use safehouse::membership;

    let env = Env::new();
    let recipient = env.keygen();
    assert!(env.init(&recipient).status.success());
    let case_id = {
        let vault = setup::open(&env.config(), std::sync::Arc::new(SystemClock)).await.unwrap();
        let coordinator =
            accounts::unlock(&vault, "coord.one", "first coordinator passphrase").await.unwrap();
        let created = accounts::create_account_unchecked(
            &vault,
            &Username::parse("case.kept").unwrap(),
            [Role::Caseworker].into(),
        )
        .await
        .unwrap();
        let issued =
            accounts::activate(&vault, created.activation.expose(), &password("caseworker passphrase"))
                .await
                .unwrap();
        membership::certify(&vault, &coordinator, created.user_id, &issued.fingerprint).await.unwrap();
        cases::create(&vault, &issued.actor, crate::helpers::draft(&["Curlew"], "survives the pepper"))
            .await
            .unwrap()
    };

    std::fs::remove_file(env.path("secrets/pepper")).unwrap();
    assert!(!env.run(&["serve"]).status.success());

    let key = env.path("recovery.key");
    let (first, second) = (env.path("first.json"), env.path("second.json"));
    for request in [&first, &second] {
        let out = env.run(&["recover", "export", "--lost-pepper", "--output", request.to_str().unwrap()]);
        assert!(out.status.success(), "{}", stderr(&out));
    }
    // An answer to a superseded request is refused and changes nothing.
    let stale = env.path("stale-answer.json");
    let out = env.run(&[
        "recover",
        "answer",
        "--request",
        first.to_str().unwrap(),
        "--identity",
        key.to_str().unwrap(),
        "--output",
        stale.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let db = env.path("data/safehouse.db");
    let before = crate::helpers::dump_database(&db).await;
    let out = env.run(&["recover", "import", "--answer", stale.to_str().unwrap()]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("not made for this request"), "{}", stderr(&out));
    assert!(before == crate::helpers::dump_database(&db).await, "a refused import changed the database");
    assert!(!env.path("secrets/pepper").exists());

    let answer = env.path("answer.json");
    let out = env.run(&[
        "recover",
        "answer",
        "--request",
        second.to_str().unwrap(),
        "--identity",
        key.to_str().unwrap(),
        "--output",
        answer.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let out = env.run(&["recover", "import", "--answer", answer.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    let printed = String::from_utf8(out.stdout).unwrap();
    let token_of = |name: &str| {
        printed
            .lines()
            .find_map(|l| l.trim().strip_prefix(name).map(|rest| rest.trim().to_owned()))
            .expect(name)
    };

    // Every account activates anew; one coordinator is admitted through the
    // ordinary recovery request; the caseworker's grant waits for them.
    let vault = setup::open(&env.config(), std::sync::Arc::new(SystemClock)).await.unwrap();
    let coordinator =
        accounts::activate(&vault, &token_of("coord.one"), &password("new coordinator passphrase"))
            .await
            .unwrap();
    let caseworker =
        accounts::activate(&vault, &token_of("case.kept"), &password("new caseworker passphrase"))
            .await
            .unwrap();
    assert!(cases::read(&vault, &caseworker.actor, case_id).await.is_err());
    let request = env.path("request.json");
    let out =
        env.run(&["recover", "export", "--username", "coord.one", "--output", request.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    let answer = env.path("coordinator-answer.json");
    let out = env.run(&[
        "recover",
        "answer",
        "--request",
        request.to_str().unwrap(),
        "--fingerprint",
        &coordinator.fingerprint,
        "--identity",
        key.to_str().unwrap(),
        "--output",
        answer.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let out = env.run(&["recover", "import", "--answer", answer.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));

    let coordinator = accounts::unlock(&vault, "coord.one", "new coordinator passphrase").await.unwrap();
    assert_eq!(
        cases::read(&vault, &coordinator, case_id).await.unwrap().notes.as_str(),
        "survives the pepper"
    );
    membership::certify(&vault, &coordinator, caseworker.actor.user_id(), &caseworker.fingerprint)
        .await
        .unwrap();
    assert_eq!(
        cases::read(&vault, &caseworker.actor, case_id).await.unwrap().notes.as_str(),
        "survives the pepper"
    );
}

fn hex(text: &str) -> String {
    text.bytes().map(|b| format!("{b:02x}")).collect()
}

#[tokio::test]
async fn audit_head_and_verify_from_the_command_line() {
    let env = Env::new();
    let recipient = env.keygen();
    assert!(env.init(&recipient).status.success());
    let out = env.run(&["audit", "head"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let head = String::from_utf8(out.stdout).unwrap();
    assert!(head.starts_with("safehouse-audit-checkpoint-v1 "), "{head}");
    let checkpoint = env.path("checkpoint.txt");
    std::fs::write(&checkpoint, &head).unwrap();

    let out = env.run(&["audit", "verify", "--checkpoint", checkpoint.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains("audit chain intact"));

    // Someone with the file removes an entry from the middle.
    let db = env.path("data/safehouse.db");
    let raw = safehouse::storage::SqliteStore::open(&db, false).await.unwrap();
    sqlx::query("DROP TRIGGER audit_log_no_delete").execute(raw.pool()).await.unwrap();
    sqlx::query("DELETE FROM audit_log WHERE seq = 2").execute(raw.pool()).await.unwrap();
    raw.close().await;
    let out = env.run(&["audit", "verify", "--checkpoint", checkpoint.to_str().unwrap()]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("audit chain broken: entry 3"), "{}", stderr(&out));
}

#[tokio::test]
async fn an_instance_on_postgresql_is_made_served_and_verified() {
    let Some(db) = crate::helpers::fresh_pg().await else { return };
    let url = db.url.clone();
    let env = Env::new();
    let recipient = env.keygen();
    let init = env
        .command()
        .env("SAFEHOUSE_DATABASE_URL", &url)
        .env("SAFEHOUSE_COORDINATOR_PASSWORD_FILE", {
            std::fs::write(env.path("pw"), "first coordinator passphrase\n").unwrap();
            env.path("pw")
        })
        .args([
            "init",
            "--recovery-recipient",
            &recipient,
            "--coordinator",
            "coord.pg",
            "--admin",
            "admin.pg",
        ])
        .output()
        .unwrap();
    assert!(init.status.success(), "{}", stderr(&init));
    assert!(!env.path("data/safehouse.db").exists(), "the data lives in PostgreSQL");

    // A second init on the same database is refused.
    let other = Env::new();
    let recipient2 = other.keygen();
    std::fs::write(other.path("pw"), "first coordinator passphrase\n").unwrap();
    let again = other
        .command()
        .env("SAFEHOUSE_DATABASE_URL", &url)
        .env("SAFEHOUSE_COORDINATOR_PASSWORD_FILE", other.path("pw"))
        .args([
            "init",
            "--recovery-recipient",
            &recipient2,
            "--coordinator",
            "coord.pg",
            "--admin",
            "admin.pg",
        ])
        .output()
        .unwrap();
    assert!(!again.status.success());
    assert!(stderr(&again).contains("already holds a Safehouse instance"), "{}", stderr(&again));

    let migrate = env.command().env("SAFEHOUSE_DATABASE_URL", &url).arg("migrate").output().unwrap();
    assert!(migrate.status.success(), "{}", stderr(&migrate));
    assert!(String::from_utf8_lossy(&migrate.stdout).contains("schema is up to date"));

    let verify =
        env.command().env("SAFEHOUSE_DATABASE_URL", &url).args(["audit", "verify"]).output().unwrap();
    assert!(verify.status.success(), "{}", stderr(&verify));

    // A PostgreSQL elsewhere without a verified certificate: refused
    // before any connection.
    let remote = env
        .command()
        .env("SAFEHOUSE_DATABASE_URL", "postgres://someone@db.invalid:5432/safehouse?sslmode=disable")
        .arg("serve")
        .output()
        .unwrap();
    assert!(!remote.status.success());
    assert!(stderr(&remote).contains("does not verify its certificate"), "{}", stderr(&remote));

    let mut serve = env.command();
    serve.env("SAFEHOUSE_DATABASE_URL", &url);
    let node = crate::helpers::Node::start(serve);
    assert_eq!(reqwest::get(format!("{}/health", node.base)).await.unwrap().status(), 200);
}
