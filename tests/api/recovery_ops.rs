//! Hardening after the outside review (issue 10): recovery_ops.
//! The recovery procedures and the operator's messages, through the real
//! binary (`helpers::BIN`) and over HTTP against `safehouse serve`.

use crate::cli::{Env, stderr};
use crate::helpers::{Client, Node, oath_code};

fn stdout(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn path(env: &Env, name: &str) -> String {
    env.path(name).to_str().unwrap().to_owned()
}

/// The text between `start` and the next `end` after it.
fn between<'a>(text: &'a str, start: &str, end: &str) -> &'a str {
    let from = text.find(start).unwrap_or_else(|| panic!("{start:?} not in {text}")) + start.len();
    text[from..].split(end).next().unwrap()
}

/// A code for `secret` at the current time shifted by `steps` of 30 s (the
/// server accepts one step either way; a step is accepted once).
fn code_at(secret: &str, steps: i64) -> String {
    oath_code(secret, time::OffsetDateTime::now_utc() + time::Duration::seconds(30 * steps))
}

/// A first login over HTTP (no second factor yet), then enrolment: returns
/// the authenticator secret.
async fn first_login_and_enrol(client: &mut Client, username: &str, password: &str, step: i64) -> String {
    let response = client.post("/login", &[("username", username), ("password", password)]).await;
    assert_eq!(response.status(), 303);
    assert_eq!(response.headers()["location"], "/enrol");
    enrol(client, step).await
}

async fn enrol(client: &mut Client, step: i64) -> String {
    let page = client.get("/enrol").await.text().await.unwrap();
    let secret = between(&page, "<code class=\"secret\">", "<").to_owned();
    let csrf = between(&page, "name=\"csrf\" value=\"", "\"").to_owned();
    let response = client.post("/enrol", &[("csrf", &csrf), ("code", &code_at(&secret, step))]).await;
    assert_eq!(response.status(), 303, "enrolment");
    secret
}

fn lost_pepper_round_trip(env: &Env) -> String {
    let (request, answer) = (path(env, "pepper-request.json"), path(env, "pepper-answer.json"));
    let out = env.run(&["recover", "export", "--lost-pepper", "--output", &request]);
    assert!(out.status.success(), "{}", stderr(&out));
    let key = path(env, "recovery.key");
    let out = env.run(&["recover", "answer", "--request", &request, "--identity", &key, "--output", &answer]);
    assert!(out.status.success(), "{}", stderr(&out));
    let out = env.run(&["recover", "import", "--answer", &answer]);
    assert!(out.status.success(), "{}", stderr(&out));
    stdout(&out)
}

fn token_of(printed: &str, username: &str) -> String {
    printed
        .lines()
        .find_map(|l| l.trim().strip_prefix(username).map(|rest| rest.trim().to_owned()))
        .unwrap_or_else(|| panic!("no code for {username} in {printed}"))
}

#[tokio::test]
async fn finding_12_after_a_lost_pepper_an_account_activates_sees_its_codes_and_enrols_anew() {
    let env = Env::on_suite().await;
    let recipient = env.keygen();
    let out = env.init(&recipient);
    assert!(out.status.success(), "{}", stderr(&out));

    // Before the loss the coordinator has an authenticator.
    let node = Node::start(env.command());
    let mut client = Client::new(&node.base);
    let old_secret =
        first_login_and_enrol(&mut client, "coord.one", "first coordinator passphrase", -1).await;
    drop(node);

    std::fs::remove_file(env.path("secrets/pepper")).unwrap();
    let printed = lost_pepper_round_trip(&env);
    let token = token_of(&printed, "coord.one");

    // The server again; the owner activates with the code handed to them.
    let node = Node::start(env.command());
    let mut client = Client::new(&node.base);
    let response = client
        .post(
            "/activate",
            &[
                ("token", &token),
                ("password", "a new coordinator passphrase"),
                ("confirm", "a new coordinator passphrase"),
            ],
        )
        .await;
    assert_eq!(response.status(), 200);
    let page = response.text().await.unwrap();
    assert!(page.contains("Your recovery codes"), "{page}");
    assert_eq!(page.matches("<li><code>").count(), 10, "ten recovery codes shown");
    assert!(page.contains("href=\"/enrol\""), "{page}");

    // A new enrolment: a new secret, and the old authenticator is void.
    let new_secret = enrol(&mut client, 0).await;
    assert_ne!(new_secret, old_secret);
    let mut other = Client::new(&node.base);
    let response = other
        .post(
            "/login",
            &[
                ("username", "coord.one"),
                ("password", "a new coordinator passphrase"),
                ("code", &code_at(&old_secret, 1)),
            ],
        )
        .await;
    assert_eq!(response.status(), 200, "the old authenticator's code is refused");
    let response = other
        .post(
            "/login",
            &[
                ("username", "coord.one"),
                ("password", "a new coordinator passphrase"),
                ("code", &code_at(&new_secret, 1)),
            ],
        )
        .await;
    assert_eq!(response.status(), 303, "login with the new authenticator");
    assert_eq!(response.headers()["location"], "/");
    assert_eq!(other.get("/account").await.status(), 200);

    // The import said so, and to start the server again.
    assert!(printed.contains("safehouse serve"), "{printed}");
    assert!(printed.contains("enrols their authenticator app anew"), "{printed}");
}

#[tokio::test]
async fn finding_13_the_lost_pepper_export_says_which_file_to_put_back() {
    let env = Env::on_suite().await;
    let recipient = env.keygen();
    assert!(env.init(&recipient).status.success());
    // The whole secrets directory is gone.
    let trust = std::fs::read(env.path("secrets/trust.toml")).unwrap();
    std::fs::remove_dir_all(env.path("secrets")).unwrap();

    let request = path(&env, "request.json");
    let out = env.run(&["recover", "export", "--lost-pepper", "--output", &request]);
    assert!(!out.status.success());
    let error = stderr(&out);
    assert!(
        error.contains("secrets/trust.toml is missing: put back a copy of this instance's trust.toml"),
        "{error}"
    );
    assert!(error.contains("not secret"), "{error}");
    assert!(!env.path("request.json").exists());

    // With the copy back (kept anywhere: it is not secret), the export works.
    std::fs::create_dir(env.path("secrets")).unwrap();
    std::fs::write(env.path("secrets/trust.toml"), trust).unwrap();
    let out = env.run(&["recover", "export", "--lost-pepper", "--output", &request]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(env.path("secrets/recovery-pending.key").exists());
}

#[tokio::test]
async fn finding_14_the_fingerprint_reaches_the_offline_machine_only_from_the_person() {
    use safehouse::accounts::model::{Role, Username};
    use safehouse::accounts::service as accounts;

    let env = Env::on_suite().await;
    let recipient = env.keygen();
    assert!(env.init(&recipient).status.success());
    let token = {
        let vault = safehouse::setup::open(&env.config(), std::sync::Arc::new(safehouse::clock::SystemClock))
            .await
            .unwrap();
        accounts::create_account_unchecked(
            &vault,
            &Username::parse("coord.two").unwrap(),
            [Role::Coordinator].into(),
        )
        .await
        .unwrap()
        .activation
    };

    // The new coordinator activates and is shown their key's fingerprint.
    let node = Node::start(env.command());
    let mut client = Client::new(&node.base);
    let pass = "second coordinator passphrase";
    let response =
        client.post("/activate", &[("token", token.expose()), ("password", pass), ("confirm", pass)]).await;
    assert_eq!(response.status(), 200);
    let page = response.text().await.unwrap();
    assert!(page.contains("Your key fingerprint"), "{page}");
    let fingerprint = between(&page, "<p class=\"fingerprint\"><code>", "<").to_owned();
    assert!(fingerprint.chars().filter(char::is_ascii_digit).count() >= 20, "{fingerprint}");
    // The account page shows the same.
    enrol(&mut client, 0).await;
    let account = client.get("/account").await.text().await.unwrap();
    assert!(account.contains(&fingerprint), "{account}");
    drop(node);

    // The export neither prints it nor writes it.
    let request = path(&env, "request.json");
    let out = env.run(&["recover", "export", "--username", "coord.two", "--output", &request]);
    assert!(out.status.success(), "{}", stderr(&out));
    let written = std::fs::read_to_string(&request).unwrap();
    for text in [stdout(&out), stderr(&out), written.clone()] {
        assert!(!text.contains(&fingerprint), "the fingerprint leaked: {text}");
        assert!(!text.contains(&fingerprint.replace(' ', "")));
    }
    assert!(!written.contains("fingerprint"), "{written}");

    // Offline: without a fingerprint (and no terminal to ask on), refused.
    let (key, answer) = (path(&env, "recovery.key"), path(&env, "answer.json"));
    let answer_with = |fingerprint: Option<&str>| {
        let mut args =
            vec!["recover", "answer", "--request", &request, "--identity", &key, "--output", &answer];
        if let Some(f) = fingerprint {
            args.extend(["--fingerprint", f]);
        }
        env.run(&args)
    };
    let out = answer_with(None);
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("the fingerprint is required: ask the new coordinator"),
        "{}",
        stderr(&out)
    );
    assert!(!env.path("answer.json").exists());
    let out = answer_with(Some("11111 22222 33333 44444 55555"));
    assert!(!out.status.success());
    assert!(stderr(&out).contains("fingerprint does not match"), "{}", stderr(&out));
    assert!(!env.path("answer.json").exists());

    // As heard from the person: answered, imported.
    let out = answer_with(Some(&fingerprint));
    assert!(out.status.success(), "{}", stderr(&out));
    let out = env.run(&["recover", "import", "--answer", &answer]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("certified member of the coordinators"), "{}", stdout(&out));
}

#[tokio::test]
async fn finding_16_messages_say_what_is_wrong_once_and_what_to_do() {
    let env = Env::on_suite().await;
    let recipient = env.keygen();
    assert!(env.init(&recipient).status.success());

    // A checkpoint of another instance: not "chain broken".
    let other = Env::new();
    let other_recipient = other.keygen();
    assert!(other.init(&other_recipient).status.success());
    let head = other.run(&["audit", "head"]);
    assert!(head.status.success(), "{}", stderr(&head));
    std::fs::write(env.path("other-head.txt"), &head.stdout).unwrap();
    let out = env.run(&["audit", "verify", "--checkpoint", &path(&env, "other-head.txt")]);
    assert!(!out.status.success());
    let error = stderr(&out);
    assert!(!error.contains("broken"), "{error}");
    assert!(error.contains("other-head.txt is for instance"), "{error}");
    assert!(error.contains("belongs to another Safehouse instance"), "{error}");
    // Verify with this instance's own head prints it again as a checkpoint.
    let own = env.run(&["audit", "head"]);
    std::fs::write(env.path("head.txt"), &own.stdout).unwrap();
    let out = env.run(&["audit", "verify", "--checkpoint", &path(&env, "head.txt")]);
    assert!(out.status.success(), "{}", stderr(&out));
    let printed = stdout(&out);
    assert!(printed.starts_with("audit chain intact:"), "{printed}");
    assert!(printed.lines().nth(1).unwrap().starts_with("safehouse-audit-checkpoint-v1 "), "{printed}");

    // The missing pepper: said once, with the way out.
    std::fs::rename(env.path("secrets/pepper"), env.path("pepper.aside")).unwrap();
    let out = env.run(&["serve"]);
    assert!(!out.status.success());
    let error = stderr(&out);
    assert_eq!(error.matches("is missing").count(), 1, "{error}");
    assert!(error.contains("docs/operations.md") && error.contains("--lost-pepper"), "{error}");
    std::fs::rename(env.path("pepper.aside"), env.path("secrets/pepper")).unwrap();

    // An existing output file: named, with what to do, once.
    let out = env.run(&["keygen", "--output", &path(&env, "recovery.key")]);
    assert!(!out.status.success());
    let error = stderr(&out);
    assert!(error.contains("recovery.key already exists"), "{error}");
    assert!(error.contains("choose another --output"), "{error}");
    assert!(error.matches("os error 17").count() <= 1, "{error}");

    // A secrets directory or pepper others can read: refused.
    use std::os::unix::fs::PermissionsExt;
    let mode =
        |p: &str, m: u32| std::fs::set_permissions(env.path(p), std::fs::Permissions::from_mode(m)).unwrap();
    for (file, loose) in [("secrets", 0o755), ("secrets/pepper", 0o644)] {
        mode(file, loose);
        let out = env.run(&["serve"]);
        assert!(!out.status.success(), "{file} at {loose:o} accepted");
        let error = stderr(&out);
        assert!(error.contains("can be read by other users"), "{error}");
        assert!(error.contains("chmod 700"), "{error}");
        mode(file, if file == "secrets" { 0o700 } else { 0o600 });
    }

    // verify-ca for a host off this machine: refused before connecting.
    let out = env
        .command()
        .env("SAFEHOUSE_DATABASE_URL", "postgres://someone@db.invalid:5432/safehouse?sslmode=verify-ca")
        .arg("serve")
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(stderr(&out).contains("sslmode=verify-ca does not verify its certificate and host name"));

    // The help says what happens to a password file's line break.
    let help = env.run(&["init", "--help"]);
    assert!(stdout(&help).contains("line breaks at the end of that file are dropped"), "{}", stdout(&help));
}
