//! Encrypted backups (issue 14): `safehouse backup` under concurrent
//! writes over HTTP, `backup verify`, `restore`, through the real binary
//! and on the suite's backend (SQLite, or PostgreSQL with
//! TEST_DATABASE=postgres).

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use safehouse::accounts::model::Role;
use safehouse::clock::{Clock, ManualClock};
use safehouse::config::Config;
use safehouse::crypto::Identity;
use safehouse::keyring::SecretsDir;
use safehouse::setup;

use crate::cli::Env;
use crate::helpers::*;

const CANARY_ALIAS: &str = "Qzvbackupbird";
const CANARY_NOTE: &str = "backup qzv canary note";

fn text(out: &Output) -> (String, String) {
    (String::from_utf8_lossy(&out.stdout).into_owned(), String::from_utf8_lossy(&out.stderr).into_owned())
}

/// The binary with an instance's directories (and database, on PostgreSQL).
fn command(data: &Path, secrets: &Path, database: Option<&str>) -> Command {
    let mut cmd = Command::new(BIN);
    for (key, _) in std::env::vars() {
        if key.starts_with("SAFEHOUSE_") {
            cmd.env_remove(key);
        }
    }
    cmd.env("SAFEHOUSE_DATA_DIR", data)
        .env("SAFEHOUSE_SECRETS_DIR", secrets)
        .env("SAFEHOUSE_LOG", "warn")
        .stdin(Stdio::null());
    if let Some(url) = database {
        cmd.env("SAFEHOUSE_DATABASE_URL", url);
    }
    cmd
}

fn config(data: &Path, secrets: &Path, database: Option<&str>) -> Config {
    let mut env: std::collections::BTreeMap<String, String> = [
        ("SAFEHOUSE_DATA_DIR".to_owned(), data.display().to_string()),
        ("SAFEHOUSE_SECRETS_DIR".to_owned(), secrets.display().to_string()),
    ]
    .into_iter()
    .collect();
    if let Some(url) = database {
        env.insert("SAFEHOUSE_DATABASE_URL".to_owned(), url.to_owned());
    }
    Config::from_sources(None, &env).unwrap()
}

/// A backup key pinned in an instance's trust file; its identity written
/// to `key_file`.
fn pin_backup_key(secrets: &Path, key_file: &Path) -> Identity {
    let identity = Identity::generate();
    SecretsDir::new(secrets).add_backup_recipient(&identity.recipient()).unwrap();
    std::fs::write(key_file, identity.to_secret_bytes().as_slice()).unwrap();
    identity
}

fn secrets_of(app: &Instance) -> PathBuf {
    app.dir.path().join("secrets")
}

fn url_of(app: &Instance) -> Option<String> {
    app.pg.as_ref().map(|db| db.url.clone())
}

async fn create_case(c: &mut Client, n: usize) -> Option<String> {
    let csrf = c.csrf("/cases/new").await;
    let notes = format!("{CANARY_NOTE} {n}");
    let response = c
        .post(
            "/cases",
            &[
                ("csrf", csrf.as_str()),
                ("alias_0", CANARY_ALIAS),
                ("age_0", "30-44"),
                ("gender_0", "female"),
                ("consent_0", "yes"),
                ("shelter", ""),
                ("stage", "sheltered"),
                ("status", "open"),
                ("notes", &notes),
            ],
        )
        .await;
    if response.status() != 303 {
        return None;
    }
    let location = response.headers()["location"].to_str().unwrap();
    Some(location.strip_prefix("/cases/").unwrap().to_owned())
}

/// A caseworker who keeps creating cases until told to stop: every case
/// acknowledged (303), with whether the backup had started by the time the
/// answer came.
async fn keep_writing(
    mut c: Client,
    started: Arc<AtomicBool>,
    stop: Arc<AtomicBool>,
    acks: Arc<AtomicUsize>,
) -> Vec<(String, bool)> {
    let mut acknowledged = Vec::new();
    let mut n = 0;
    while !stop.load(Ordering::SeqCst) {
        let created = create_case(&mut c, n).await;
        // Read after the answer: acknowledged before the backup began.
        let during = started.load(Ordering::SeqCst);
        if let Some(id) = created {
            acknowledged.push((id, during));
            acks.fetch_add(1, Ordering::SeqCst);
        }
        n += 1;
    }
    acknowledged
}

/// An in-process server on a restored instance, with a clock of its own.
async fn serve_restored(config: &Config, start: time::OffsetDateTime) -> (String, Arc<ManualClock>) {
    let clock = Arc::new(ManualClock::new(start));
    let vault = setup::open(config, clock.clone()).await.unwrap();
    let state = safehouse::web::state(vault, &setup::sessions_at(config).unwrap()).await.unwrap();
    let server = safehouse::web::Application::bind("127.0.0.1:0".parse().unwrap(), state).await.unwrap();
    let base = format!("http://{}", server.local_addr().unwrap());
    tokio::spawn(server.run_until(std::future::pending()));
    (base, clock)
}

async fn login_at(base: &str, clock: &ManualClock, username: &str, password: &str, secret: &str) -> Client {
    let mut client = Client::new(base);
    let code = oath_code(secret, clock.now());
    let response =
        client.post("/login", &[("username", username), ("password", password), ("code", &code)]).await;
    assert_eq!(response.status(), 303, "login of {username} on the restored instance");
    clock.advance(time::Duration::seconds(30));
    client
}

#[tokio::test]
async fn a_backup_under_concurrent_writes_restores_every_acknowledged_case_for_the_right_people() {
    let t = spawn_app().await;
    let secrets = secrets_of(&t.app);
    let key_file = t.app.dir.path().join("backup.key");
    pin_backup_key(&secrets, &key_file);
    let coordinator_secret = t.enrol(&t.app.coordinator).await;
    let coordinator =
        login_at(&t.base, &t.clock, "coord.first", "first coordinator passphrase", &coordinator_secret).await;
    let first = t.web_user("backup.first", Role::Caseworker).await;
    let second = t.web_user("backup.second", Role::Caseworker).await;
    let bystander = t.web_user("backup.bystander", Role::Caseworker).await;
    let mut writers = Vec::new();
    for user in [&first, &second] {
        writers.push(t.login(user).await);
    }

    // Cases acknowledged before anything starts, then writers that keep
    // going while the backup runs.
    let mut acknowledged: Vec<(String, &WebUser)> = Vec::new();
    for (c, user) in writers.iter_mut().zip([&first, &second]) {
        for n in 0..3 {
            acknowledged.push((create_case(c, 100 + n).await.unwrap(), user));
        }
    }
    let (started, stop) = (Arc::new(AtomicBool::new(false)), Arc::new(AtomicBool::new(false)));
    let acks = Arc::new(AtomicUsize::new(0));
    let tasks: Vec<_> = writers
        .into_iter()
        .map(|c| tokio::spawn(keep_writing(c, started.clone(), stop.clone(), acks.clone())))
        .collect();
    // The writers are under way before the backup starts.
    while acks.load(Ordering::SeqCst) < 2 {
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    let out = t.app.dir.path().join("safehouse.backup");
    let mut backup = command(&t.app.data_dir(), &secrets, url_of(&t.app).as_deref());
    backup.args(["backup", "--out", out.to_str().unwrap()]);
    started.store(true, Ordering::SeqCst);
    let output = tokio::task::spawn_blocking(move || backup.output().unwrap()).await.unwrap();
    stop.store(true, Ordering::SeqCst);
    let (stdout, stderr) = text(&output);
    assert!(output.status.success(), "{stderr}");
    assert!(stdout.contains("Backup written to"), "{stdout}");
    let mut during = Vec::new();
    for (task, user) in tasks.into_iter().zip([&first, &second]) {
        for (id, during_backup) in task.await.unwrap() {
            if during_backup {
                during.push((id, user));
            } else {
                acknowledged.push((id, user));
            }
        }
    }
    assert!(acknowledged.len() >= 6);

    // The file holds no canary and no case id in readable form.
    let bytes = std::fs::read(&out).unwrap();
    let ids: Vec<String> = acknowledged.iter().chain(during.iter()).map(|(id, _)| id.clone()).collect();
    for needle in [CANARY_ALIAS, CANARY_NOTE, "backup.first", "backup.bystander"]
        .iter()
        .map(|s| (*s).to_owned())
        .chain(ids.iter().cloned())
        .chain(ids.iter().map(|id| id.replace('-', "")))
    {
        for encoded in encodings(&needle) {
            assert!(!contains(&bytes, &encoded), "{needle:?} readable in the backup file");
        }
    }
    assert!(!bytes.windows(15).any(|w| w == b"SQLite format 3"), "the database is not in clear");

    // Restore into a new data directory with the same secrets directory.
    let restored_dir = tempfile::tempdir().unwrap();
    let data = restored_dir.path().join("data");
    let target_db = if t.app.pg.is_some() { fresh_pg().await } else { None };
    let target_url = target_db.as_ref().map(|db| db.url.clone());
    let output = command(&data, &secrets, target_url.as_deref())
        .args(["restore", "--from", out.to_str().unwrap(), "--identity", key_file.to_str().unwrap()])
        .output()
        .unwrap();
    let (stdout, stderr) = text(&output);
    assert!(output.status.success(), "{stderr}");
    assert!(stdout.contains("every link and MAC checked"), "{stdout}");
    assert!(stdout.contains("The secrets directory opens the restored database"), "{stdout}");
    // No session travels: none in the restored database or beside it.
    assert!(!data.join("sessions.db").exists());
    if let Some(url) = &target_url {
        let pool = sqlx::PgPool::connect(url).await.unwrap();
        let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM sessions").fetch_one(&pool).await.unwrap();
        assert_eq!(n, 0, "no session row restored");
        pool.close().await;
    }
    // The chain verifies with the ordinary command on the restored instance.
    let output = command(&data, &secrets, target_url.as_deref()).args(["audit", "verify"]).output().unwrap();
    let (stdout, stderr) = text(&output);
    assert!(output.status.success(), "{stderr}");
    assert!(stdout.contains("audit chain intact"), "{stdout}");

    // The restored instance serves every case acknowledged before the
    // backup began to its caseworker and the coordinators, and to nobody
    // else; a cookie of the old instance opens nothing.
    let restored = config(&data, &secrets, target_url.as_deref());
    let (base, clock) = serve_restored(&restored, t.now() + time::Duration::minutes(10)).await;
    let mut old_cookie = coordinator.clone();
    old_cookie.base = base.clone();
    let home = old_cookie.get("/").await;
    assert_ne!(home.status(), 200, "a session of the backed-up instance does not open the restored one");
    let mut coordinator =
        login_at(&base, &clock, "coord.first", "first coordinator passphrase", &coordinator_secret).await;
    let mut logged = Vec::new();
    for user in [&first, &second, &bystander] {
        logged.push((
            user.username.clone(),
            login_at(&base, &clock, &user.username, PASSWORD, &user.secret).await,
        ));
    }
    for (id, owner) in &acknowledged {
        let path = format!("/cases/{id}");
        let page = coordinator.get(&path).await;
        assert_eq!(page.status(), 200, "the coordinator opens {id}");
        assert!(page.text().await.unwrap().contains(CANARY_ALIAS));
        for (name, client) in logged.iter_mut() {
            let status = client.get(&path).await.status();
            if *name == owner.username {
                assert_eq!(status, 200, "{name} opens their case {id}");
            } else {
                assert_eq!(status, 404, "{name} does not open {id}, which is {}'s", owner.username);
            }
        }
    }
    // A case acknowledged while the backup ran is there whole or not at all.
    for (id, owner) in &during {
        let status = coordinator.get(&format!("/cases/{id}")).await.status();
        assert!(status == 200 || status == 404, "{id}: {status}");
        if status == 200 {
            let (_, client) = logged.iter_mut().find(|(n, _)| *n == owner.username).unwrap();
            assert_eq!(client.get(&format!("/cases/{id}")).await.status(), 200);
        }
    }
}

/// An instance with a pinned backup key and one backup of it.
struct Backed {
    app: Instance,
    key_file: PathBuf,
    file: PathBuf,
}

async fn backed_up() -> Backed {
    backed_up_with(0).await
}

/// The same, the database grown by `mib` MiB first (stand-ins for
/// published stories), so that a copy lasts long enough to be cut.
async fn backed_up_with(mib: usize) -> Backed {
    use safehouse::storage::{StoryRow, Write};
    let app = instance().await;
    let filler = (0..mib)
        .map(|n| {
            Write::InsertStory(StoryRow {
                id: format!("filler-{n}"),
                withdrawn: 0,
                sealed: vec![n as u8; 1 << 20],
            })
        })
        .collect();
    app.vault.store().apply(filler).await.unwrap();
    let key_file = app.dir.path().join("backup.key");
    pin_backup_key(&secrets_of(&app), &key_file);
    let file = app.dir.path().join("one.backup");
    let output = command(&app.data_dir(), &secrets_of(&app), url_of(&app).as_deref())
        .args(["backup", "--out", file.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", text(&output).1);
    Backed { app, key_file, file }
}

impl Backed {
    fn verify(&self, file: &Path, key: &Path, extra: &[&str]) -> Output {
        // Another machine: no data or secrets directory of the instance.
        let elsewhere = self.app.dir.path().join("elsewhere");
        command(&elsewhere.join("data"), &elsewhere.join("secrets"), None)
            .args(["backup", "verify", file.to_str().unwrap(), "--identity", key.to_str().unwrap()])
            .args(extra)
            .output()
            .unwrap()
    }
}

#[tokio::test]
async fn verify_prints_counts_and_the_chain_head_and_refuses_a_changed_or_cut_file_or_another_key() {
    let b = backed_up().await;
    let output = b.verify(&b.file, &b.key_file, &[]);
    let (stdout, stderr) = text(&output);
    assert!(output.status.success(), "{stderr}");
    let instance = &b.app.vault.keyring.trust().instance_id;
    if b.app.pg.is_none() {
        assert!(stdout.contains("schema 00") && stdout.contains("all known"), "{stdout}");
        assert!(stdout.contains("audit chain links intact"), "{stdout}");
        assert!(stdout.contains("users") && stdout.contains("audit_log"), "{stdout}");
        let head = stdout.lines().find(|l| l.starts_with("safehouse-audit-checkpoint-v1")).unwrap();
        assert!(head.contains(instance.as_str()), "{head}");
        // With the secrets directory, every MAC too; the same head.
        let output = command(&b.app.data_dir(), &secrets_of(&b.app), None)
            .args(["backup", "verify", b.file.to_str().unwrap(), "--identity"])
            .arg(&b.key_file)
            .arg("--with-secrets")
            .output()
            .unwrap();
        let (with, stderr) = text(&output);
        assert!(output.status.success(), "{stderr}");
        assert!(with.contains("every link and MAC checked") && with.contains(head), "{with}");
    } else {
        assert!(stdout.contains("not checked without a database"), "{stdout}");
        let scratch = fresh_pg().await.unwrap();
        let output = b.verify(&b.file, &b.key_file, &["--scratch-database", &scratch.url]);
        let (stdout, stderr) = text(&output);
        assert!(output.status.success(), "{stderr}");
        assert!(
            stdout.contains("audit chain links intact") && stdout.contains(instance.as_str()),
            "{stdout}"
        );
    }

    let bytes = std::fs::read(&b.file).unwrap();
    let dir = b.app.dir.path();
    let mut changed = bytes.clone();
    let middle = changed.len() / 2;
    changed[middle] ^= 1;
    std::fs::write(dir.join("changed.backup"), &changed).unwrap();
    let mut header = bytes.clone();
    header[40] ^= 1;
    std::fs::write(dir.join("header.backup"), &header).unwrap();
    std::fs::write(dir.join("cut.backup"), &bytes[..bytes.len() - 100]).unwrap();
    for (name, expect) in [
        ("changed.backup", "damaged, changed or cut short"),
        ("header.backup", ""),
        ("cut.backup", "damaged, changed or cut short"),
    ] {
        let output = b.verify(&dir.join(name), &b.key_file, &[]);
        let (stdout, stderr) = text(&output);
        assert!(!output.status.success(), "{name} verified: {stdout}");
        assert!(stderr.contains(expect), "{name}: {stderr}");
        assert!(!stdout.contains("intact"), "{name}: {stdout}");
    }
    // Another key, the recovery key included, opens nothing.
    let other = dir.join("other.key");
    std::fs::write(&other, Identity::generate().to_secret_bytes().as_slice()).unwrap();
    let recovery = dir.join("recovery.key");
    std::fs::write(&recovery, b.app.recovery.to_secret_bytes().as_slice()).unwrap();
    for key in [other, recovery] {
        let output = b.verify(&b.file, &key, &[]);
        assert!(!output.status.success());
        assert!(text(&output).1.contains("not encrypted to this backup identity"), "{}", text(&output).1);
    }
}

#[tokio::test]
async fn restore_refuses_a_target_in_use_and_a_failed_restore_leaves_the_target_empty() {
    let b = backed_up().await;
    let secrets = secrets_of(&b.app);
    // The live instance itself: refused, untouched.
    let before = b.app.audit_log().await.len();
    let output = command(&b.app.data_dir(), &secrets, url_of(&b.app).as_deref())
        .args(["restore", "--from", b.file.to_str().unwrap(), "--identity", b.key_file.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(text(&output).1.contains("not empty"), "{}", text(&output).1);
    assert_eq!(b.app.audit_log().await.len(), before);

    // A data directory holding anything at all: refused (SQLite).
    let target = tempfile::tempdir().unwrap();
    if b.app.pg.is_none() {
        let data = target.path().join("stray");
        std::fs::create_dir(&data).unwrap();
        std::fs::write(data.join("notes.txt"), "keep").unwrap();
        let output = command(&data, &secrets, None)
            .args(["restore", "--from", b.file.to_str().unwrap(), "--identity", b.key_file.to_str().unwrap()])
            .output()
            .unwrap();
        assert!(!output.status.success());
        assert_eq!(std::fs::read_to_string(data.join("notes.txt")).unwrap(), "keep");
    }

    // A file cut short fails part-way: the target stays empty, nothing is
    // left beside it.
    let target = tempfile::tempdir().unwrap();
    let bytes = std::fs::read(&b.file).unwrap();
    let cut = target.path().join("cut.backup");
    std::fs::write(&cut, &bytes[..bytes.len() - 100]).unwrap();
    let data = target.path().join("data");
    let db = if b.app.pg.is_some() { fresh_pg().await } else { None };
    let output = command(&data, &secrets, db.as_ref().map(|d| d.url.as_str()))
        .args(["restore", "--from", cut.to_str().unwrap(), "--identity", b.key_file.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(!data.exists(), "the target was not made");
    let left: Vec<_> = std::fs::read_dir(target.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(left, vec![std::ffi::OsString::from("cut.backup")], "nothing left beside the target");
    if let Some(db) = &db {
        let pool = sqlx::PgPool::connect(&db.url).await.unwrap();
        let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM pg_tables WHERE schemaname = 'public'")
            .fetch_one(&pool)
            .await
            .unwrap();
        pool.close().await;
        assert_eq!(n, 0, "the database stays empty");
    }

    // Without the secrets directory the restore completes and says what is
    // next.
    let bare = target.path().join("bare");
    let output = command(&bare.join("data"), &bare.join("secrets"), db.as_ref().map(|d| d.url.as_str()))
        .args(["restore", "--from", b.file.to_str().unwrap(), "--identity", b.key_file.to_str().unwrap()])
        .output()
        .unwrap();
    let (stdout, stderr) = text(&output);
    assert!(output.status.success(), "{stderr}");
    assert!(stdout.contains("No secrets directory") && stdout.contains("the pepper is lost"), "{stdout}");
}

#[tokio::test]
async fn a_backup_key_is_not_a_recovery_key_and_a_backup_needs_one() {
    let env = Env::new();
    let recovery = env.keygen();
    let out = env.run(&["keygen", "--backup", "--output", env.path("backup.key").to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out).1);
    let backup = text(&out).0.trim().to_owned();
    assert!(backup.starts_with("age1") && backup != recovery);
    assert!(std::fs::read_to_string(env.path("backup.key")).unwrap().contains("Safehouse backup key"));

    // init refuses the recovery recipient as a backup recipient, and makes
    // nothing.
    std::fs::write(env.path("coordinator.pw"), "first coordinator passphrase\n").unwrap();
    let init = |backup: &str| {
        env.command()
            .env("SAFEHOUSE_COORDINATOR_PASSWORD_FILE", env.path("coordinator.pw"))
            .args(["init", "--recovery-recipient", &recovery, "--backup-recipient", backup])
            .args(["--coordinator", "coord.one", "--admin", "admin.one"])
            .output()
            .unwrap()
    };
    let out = init(&recovery);
    assert!(!out.status.success());
    assert!(text(&out).1.contains("both as a recovery and as a backup recipient"), "{}", text(&out).1);
    assert!(!env.path("data").exists() && !env.path("secrets").exists());

    // An instance without a backup recipient takes no backup.
    let out = env.init(&recovery);
    assert!(out.status.success(), "{}", text(&out).1);
    let file = env.path("b.backup");
    let out = env.run(&["backup", "--out", file.to_str().unwrap()]);
    assert!(!out.status.success());
    assert!(text(&out).1.contains("no backup recipient"), "{}", text(&out).1);
    assert!(!file.exists());

    // add-recipient refuses the recovery recipient, then pins the backup key
    // once.
    let out = env.run(&["backup", "add-recipient", &recovery]);
    assert!(!out.status.success());
    assert!(text(&out).1.contains("recovery recipient"), "{}", text(&out).1);
    let out = env.run(&["backup", "add-recipient", &backup]);
    assert!(out.status.success(), "{}", text(&out).1);
    let out = env.run(&["backup", "add-recipient", &backup]);
    assert!(!out.status.success());
    let trust = std::fs::read_to_string(env.path("secrets/trust.toml")).unwrap();
    assert!(trust.contains(&backup));

    // The backup is made, and never overwrites.
    let out = env.run(&["backup", "--out", file.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out).1);
    let first = std::fs::read(&file).unwrap();
    let out = env.run(&["backup", "--out", file.to_str().unwrap()]);
    assert!(!out.status.success());
    assert!(text(&out).1.contains("never overwrites"), "{}", text(&out).1);
    assert_eq!(std::fs::read(&file).unwrap(), first);
    let names: Vec<_> = std::fs::read_dir(env.path("")).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert!(!names.iter().any(|n| n.to_string_lossy().contains("partial")), "{names:?}");

    // A trust file edited by hand to make them one is refused.
    std::fs::write(env.path("secrets/trust.toml"), trust.replace(&backup, &recovery)).unwrap();
    let out = env.run(&["backup", "--out", env.path("c.backup").to_str().unwrap()]);
    assert!(!out.status.success());
    assert!(text(&out).1.contains("both a recovery and a backup recipient"), "{}", text(&out).1);
}

/// The backup fed through a named pipe, so the test holds the restore in the
/// middle of its copy: SIGTERM there leaves the target as it was and removes
/// the staging directory (SQLite; PostgreSQL's single transaction is
/// covered by the cut file above).
#[tokio::test]
async fn an_interrupted_restore_leaves_the_target_empty() {
    if on_postgres() {
        return;
    }
    let b = backed_up().await;
    let bytes = std::fs::read(&b.file).unwrap();
    let target = tempfile::tempdir().unwrap();
    let fifo = target.path().join("pipe.backup");
    assert!(Command::new("mkfifo").arg(&fifo).status().unwrap().success());
    let data = target.path().join("data");
    let mut child = command(&data, &secrets_of(&b.app), None)
        .args(["restore", "--from", fifo.to_str().unwrap(), "--identity", b.key_file.to_str().unwrap()])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (resume_tx, resume_rx) = std::sync::mpsc::channel::<()>();
    let (pipe, all) = (fifo.clone(), bytes.clone());
    let writer = std::thread::spawn(move || {
        use std::io::Write;
        // The restore opens the file once and reads it once.
        let mut second = std::fs::OpenOptions::new().write(true).open(&pipe).unwrap();
        let half = all.len() / 2;
        second.write_all(&all[..half]).unwrap();
        resume_rx.recv().unwrap();
        let _ = second.write_all(&all[half..half + 4096]);
    });
    // Wait until the staging directory holds part of the database.
    let staged = loop {
        let found = std::fs::read_dir(target.path())
            .unwrap()
            .map(|e| e.unwrap().path())
            .find(|p| p.file_name().unwrap().to_string_lossy().starts_with(".data.restoring-"));
        if let Some(dir) = found {
            if std::fs::metadata(dir.join("safehouse.db")).is_ok_and(|m| m.len() > 0) {
                break dir;
            }
        }
        if let Some(status) = child.try_wait().unwrap() {
            panic!("the restore ended before its copy began: {status}");
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    };
    assert!(Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap().success());
    resume_tx.send(()).unwrap();
    writer.join().unwrap();
    let status = child.wait().unwrap();
    let mut stderr = String::new();
    std::io::Read::read_to_string(child.stderr.as_mut().unwrap(), &mut stderr).unwrap();
    assert!(!status.success());
    assert!(stderr.contains("interrupted"), "{stderr}");
    assert!(!data.exists(), "the target was not made");
    assert!(!staged.exists(), "the staging directory is removed");
}

// ---------------------------------------------------------------------------
// Backups and restores killed with SIGKILL (docs/operations.md, "Crash safety")
// ---------------------------------------------------------------------------

/// Kills per run, each at a seeded random moment (CRASH_SEED repeats one).
const COMMAND_KILLS: usize = 6;
/// MiB added to the database, so that a kill lands inside the copy too.
const FILLER_MIB: usize = 16;

/// Run `cmd` and kill it with SIGKILL `after` milliseconds later unless it
/// has ended; returns whether it was killed.
async fn kill_after(mut cmd: Command, after: u64) -> bool {
    let mut child = cmd.stdout(Stdio::null()).stderr(Stdio::null()).spawn().unwrap();
    let started = std::time::Instant::now();
    loop {
        if child.try_wait().unwrap().is_some() {
            return false;
        }
        if started.elapsed() >= std::time::Duration::from_millis(after) {
            child.kill().unwrap();
            child.wait().unwrap();
            return true;
        }
        tokio::time::sleep(std::time::Duration::from_millis(2)).await;
    }
}

/// How long `cmd` takes when left alone (to spread the kills over it; no
/// assertion rests on it), and its output.
fn timed(mut cmd: Command) -> (u64, Output) {
    let started = std::time::Instant::now();
    let output = cmd.output().unwrap();
    (started.elapsed().as_millis() as u64, output)
}

/// The rows per table of an instance, and its audit entries of `action`.
async fn counts_and(config: &Config, action: &str) -> (Vec<(String, i64)>, usize) {
    let counts = safehouse::backup::table_counts(config).await.unwrap();
    let store = setup::open_store(config).await.unwrap();
    let rows = store.audit_rows(0, i64::MAX).await.unwrap();
    (counts, rows.iter().filter(|r| r.action == action).count())
}

/// The counts without the audit log's (an entry of the run itself differs).
fn without_audit(counts: &[(String, i64)]) -> Vec<(String, i64)> {
    counts.iter().filter(|(t, _)| t != "audit_log").cloned().collect()
}

/// Wait until no client is connected to `db` but us: a `pg_restore` whose
/// parent was killed reads a cut archive, stops and rolls back.
async fn wait_until_alone(db: &PgDb) {
    let pool = sqlx::PgPool::connect(&db.admin_url).await.unwrap();
    for _ in 0..600 {
        let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM pg_stat_activity WHERE datname = $1")
            .bind(&db.name)
            .fetch_one(&pool)
            .await
            .unwrap();
        if n == 0 {
            pool.close().await;
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("a client of {} outlived the killed restore by 30 s", db.name);
}

/// Whether the restore target holds nothing (SQLite: no data directory or
/// an empty one; PostgreSQL: no table).
async fn target_is_empty(data: &Path, db: Option<&PgDb>) -> bool {
    match db {
        Some(db) => {
            let pool = sqlx::PgPool::connect(&db.url).await.unwrap();
            let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM pg_tables WHERE schemaname = 'public'")
                .fetch_one(&pool)
                .await
                .unwrap();
            pool.close().await;
            n == 0
        }
        None => std::fs::read_dir(data).map_or(true, |mut d| d.next().is_none()),
    }
}

/// Whether a restore into `db` was cut after `pg_restore` committed.
fn unfinished(db: &PgDb) -> bool {
    let sql =
        format!("SELECT to_regnamespace('{}') IS NOT NULL", safehouse::storage::postgres::RESTORE_MARKER);
    let out = Command::new("psql").args([&db.url, "-Atc", &sql]).output().unwrap();
    String::from_utf8_lossy(&out.stdout).trim() == "t"
}

/// Hidden names a killed run left in `dir` holding `marker`.
fn leftovers(dir: &Path, marker: &str) -> Vec<String> {
    std::fs::read_dir(dir)
        .map(|d| d.map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect::<Vec<_>>())
        .unwrap_or_default()
        .into_iter()
        .filter(|n| n.starts_with('.') && n.contains(marker))
        .collect()
}

/// `safehouse restore` killed with SIGKILL at seeded random moments and
/// run again on the same target: after each kill the target is empty (and
/// the rerun allowed) or wholly restored: the chain verifies, every table
/// holds the rows of an undisturbed restore, one `backup.restore` entry.
/// On PostgreSQL a kill after `pg_restore` committed leaves the database
/// marked: no command opens it, and the rerun finishes it.
#[tokio::test]
async fn a_restore_killed_at_any_moment_leaves_the_target_empty_or_whole() {
    let b = backed_up_with(FILLER_MIB).await;
    let secrets = secrets_of(&b.app);
    let seed = crate::crash::seed();
    let mut rng = crate::crash::Rng::new(seed);
    let restore = |data: &Path, db: Option<&PgDb>| {
        let mut cmd = command(data, &secrets, db.map(|d| d.url.as_str()));
        cmd.args(["restore", "--from", b.file.to_str().unwrap(), "--identity", b.key_file.to_str().unwrap()]);
        cmd
    };
    let dir = tempfile::tempdir().unwrap();
    // An undisturbed restore: what a whole one holds, and how long one takes.
    let reference = dir.path().join("reference");
    let reference_db = if b.app.pg.is_some() { fresh_pg().await } else { None };
    let (took, output) = timed(restore(&reference, reference_db.as_ref()));
    assert!(output.status.success(), "{}", text(&output).1);
    let reference_config = config(&reference, &secrets, reference_db.as_ref().map(|d| d.url.as_str()));
    let (whole, _) = counts_and(&reference_config, "backup.restore").await;

    let target = dir.path().join("target").join("data");
    std::fs::create_dir_all(target.parent().unwrap()).unwrap();
    let mut db = if b.app.pg.is_some() { fresh_pg().await } else { None };
    let (mut kills, mut empty, mut unfinished_runs, mut complete) = (0, 0, 0, 0);
    loop {
        let killed = if kills < COMMAND_KILLS {
            kill_after(restore(&target, db.as_ref()), rng.upto(took)).await
        } else {
            // The last run is left alone: on an empty target it completes.
            let output = restore(&target, db.as_ref()).output().unwrap();
            assert!(output.status.success(), "{}", text(&output).1);
            false
        };
        kills += usize::from(killed);
        if let Some(db) = &db {
            wait_until_alone(db).await;
        }
        if target_is_empty(&target, db.as_ref()).await {
            assert!(killed, "a restore left alone completes");
            empty += 1;
            continue;
        }
        let url = db.as_ref().map(|d| d.url.as_str());
        if let Some(db) = db.as_ref().filter(|d| unfinished(d)) {
            // Loaded, not yet checked nor audited: no command opens it, and
            // the next run finishes it.
            let output = command(&target, &secrets, url).args(["audit", "verify"]).output().unwrap();
            assert!(!output.status.success(), "a server opened {}", db.name);
            assert!(
                text(&output).1.contains("a restore into this database did not finish"),
                "{}",
                text(&output).1
            );
            assert!(killed, "a restore left alone finishes");
            unfinished_runs += 1;
            continue;
        }
        // Whole, once audited, and the server's checks pass on it.
        let (counts, restores) = counts_and(&config(&target, &secrets, url), "backup.restore").await;
        assert_eq!(without_audit(&counts), without_audit(&whole), "after {kills} kills");
        assert_eq!(restores, 1, "one backup.restore entry");
        let output = command(&target, &secrets, url).args(["audit", "verify"]).output().unwrap();
        assert!(
            output.status.success() && text(&output).0.contains("audit chain intact"),
            "{}",
            text(&output).1
        );
        complete += 1;
        if kills >= COMMAND_KILLS && !killed {
            break;
        }
        // Again, on an empty target.
        match db {
            Some(_) => db = fresh_pg().await,
            None => std::fs::remove_dir_all(&target).unwrap(),
        }
    }
    // What the killed runs left beside the target, a later run removed.
    assert_eq!(leftovers(target.parent().unwrap(), ".restoring-"), Vec::<String>::new());
    println!(
        "restore: seed {seed}: {kills} kills; {empty} left the target empty, {unfinished_runs} loaded but \
         unfinished, {complete} whole"
    );
}

/// `safehouse backup --out F` killed with SIGKILL at seeded random moments:
/// no file under F unless the backup was whole (the kill came after the
/// link), the instance's data unchanged, and the next backup succeeds and
/// removes what the killed ones left (a partial file beside F, the clear
/// snapshot in the data directory).
#[tokio::test]
async fn a_backup_killed_at_any_moment_leaves_no_file_and_the_next_one_succeeds() {
    let b = backed_up_with(FILLER_MIB).await;
    let secrets = secrets_of(&b.app);
    let url = url_of(&b.app);
    let site = config(&b.app.data_dir(), &secrets, url.as_deref());
    let seed = crate::crash::seed();
    let mut rng = crate::crash::Rng::new(seed);
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("nightly.backup");
    let backup = || {
        let mut cmd = command(&b.app.data_dir(), &secrets, url.as_deref());
        cmd.args(["backup", "--out", out.to_str().unwrap()]);
        cmd
    };
    let (took, output) = timed(backup());
    assert!(output.status.success(), "{}", text(&output).1);
    std::fs::remove_file(&out).unwrap();
    let (data, _) = counts_and(&site, "backup.create").await;
    let mut whole_after_kill = 0;
    for _ in 0..COMMAND_KILLS {
        kill_after(backup(), rng.upto(took * 6 / 5)).await;
        if out.exists() {
            // Killed after the link: the file is whole.
            let output = b.verify(&out, &b.key_file, &[]);
            assert!(output.status.success(), "a file under the final name is whole: {}", text(&output).1);
            std::fs::remove_file(&out).unwrap();
            whole_after_kill += 1;
        }
        let (now, _) = counts_and(&site, "backup.create").await;
        assert_eq!(without_audit(&now), without_audit(&data), "a killed backup changes no data");
    }
    let output = backup().output().unwrap();
    assert!(output.status.success(), "{}", text(&output).1);
    let output = b.verify(&out, &b.key_file, &[]);
    assert!(output.status.success(), "{}", text(&output).1);
    assert_eq!(leftovers(dir.path(), ".partial-"), Vec::<String>::new());
    assert_eq!(leftovers(&b.app.data_dir(), ".backup-"), Vec::<String>::new());
    println!("backup: seed {seed}: {COMMAND_KILLS} kills, {whole_after_kill} after the file was whole");
}

/// `backup --out` appends a `backup.create` entry (system actor, the
/// file's id: its SHA-256 prefix, never a path) once the file is in place;
/// `restore` appends `backup.restore` with the same id to the restored
/// instance, last; a refused restore writes nothing; both chains verify.
#[tokio::test]
async fn backups_and_restores_are_audited_by_the_files_id() {
    use sha2::Digest as _;
    let b = backed_up().await;
    let secrets = secrets_of(&b.app);
    let bytes = std::fs::read(&b.file).unwrap();
    let id = safehouse::crypto::to_hex(&sha2::Sha256::digest(&bytes)[..8]);
    let log = b.app.audit_log().await;
    let created: Vec<_> = log.iter().filter(|e| e.action == "backup.create").collect();
    assert_eq!(created.len(), 1);
    let entry = created[0];
    assert_eq!(
        (entry.actor.as_str(), entry.target.as_str(), entry.outcome.as_str()),
        ("-", id.as_str(), "ok")
    );
    assert_eq!(log.last().unwrap().action, "backup.create", "appended after the file was in place");
    let verify = |data: &Path, url: Option<&str>| {
        let output = command(data, &secrets, url).args(["audit", "verify"]).output().unwrap();
        assert!(
            output.status.success() && text(&output).0.contains("audit chain intact"),
            "{}",
            text(&output).1
        );
    };
    verify(&b.app.data_dir(), url_of(&b.app).as_deref());

    // A refused restore (into the live instance) writes nothing to it.
    let before = b.app.audit_log().await.len();
    let output = command(&b.app.data_dir(), &secrets, url_of(&b.app).as_deref())
        .args(["restore", "--from", b.file.to_str().unwrap(), "--identity", b.key_file.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert_eq!(b.app.audit_log().await.len(), before);

    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let db = if b.app.pg.is_some() { fresh_pg().await } else { None };
    let url = db.as_ref().map(|d| d.url.as_str());
    let output = command(&data, &secrets, url)
        .args(["restore", "--from", b.file.to_str().unwrap(), "--identity", b.key_file.to_str().unwrap()])
        .output()
        .unwrap();
    let (stdout, stderr) = text(&output);
    assert!(output.status.success(), "{stderr}");
    assert!(stdout.contains(&format!("the restore of backup {id} is in its audit trail")), "{stdout}");
    let store = setup::open_store(&config(&data, &secrets, url)).await.unwrap();
    let restored = store.audit_rows(0, i64::MAX).await.unwrap();
    let last = restored.last().unwrap();
    assert_eq!(
        (last.action.as_str(), last.actor.as_str(), last.target.as_str()),
        ("backup.restore", "-", id.as_str())
    );
    assert_eq!(restored.iter().filter(|e| e.action == "backup.restore").count(), 1);
    // The backup holds the entries from before its own, then the restore's.
    assert_eq!(restored.len(), log.len(), "the backup's entries and the restore's");
    for entry in [entry, last] {
        assert!(!entry.target.contains('/') && entry.target.len() == 16, "an opaque id: {}", entry.target);
    }
    verify(&data, url);
}
