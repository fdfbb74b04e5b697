//! Throwaway instances for tests: a fresh data and secrets directory, a real
//! SQLite file, real keys and the real argon2 cost.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use safehouse::accounts::model::{Actor, Password, Role, Username};
use safehouse::accounts::service as accounts;
use safehouse::cases::model::{
    AgeBand, Alias, CountryCode, EventDate, Group, MilestoneKind, Note, Person, Stage, Status,
};
use safehouse::cases::service::{CaseDraft, MilestoneDraft};
use safehouse::clock::SystemClock;
use safehouse::config::KdfParams;
use safehouse::crypto::Identity;
use safehouse::keyring::Team;
use safehouse::membership;
use safehouse::sessions::SessionsAt;
use safehouse::setup::{self, InitOptions};
use safehouse::storage::SqliteStore;
use safehouse::vault::Vault;
use secrecy::SecretString;
use tempfile::TempDir;

pub const PASSWORD: &str = "a long test passphrase 1";

pub struct Instance {
    pub dir: TempDir,
    pub vault: Vault,
    pub recovery: Identity,
    pub coordinator: Actor,
    pub admin: Actor,
    /// The PostgreSQL database of this instance, when the suite runs on it.
    pub pg: Option<PgDb>,
}

const DEFAULT_PG: &str = "postgres://postgres@127.0.0.1:5432/postgres";

/// The integration suite runs on SQLite, or on PostgreSQL with
/// `TEST_DATABASE=postgres` (scripts/test runs it both ways).
pub fn on_postgres() -> bool {
    std::env::var("TEST_DATABASE").is_ok_and(|v| v == "postgres")
}

/// Bind each value in turn (the same code for either database's query).
macro_rules! bind_all {
    ($query:expr, $binds:expr) => {{
        let mut query = $query;
        for bind in $binds {
            query = match bind {
                Bind::Int(v) => query.bind(v),
                Bind::Text(v) => query.bind(v),
                Bind::Bytes(v) => query.bind(v),
            };
        }
        query
    }};
}

/// A value bound to a raw statement.
pub enum Bind {
    Int(i64),
    Text(String),
    Bytes(Vec<u8>),
}

/// A throwaway PostgreSQL database, dropped when this value is.
pub struct PgDb {
    pub url: String,
    pub name: String,
    /// The server's maintenance database, for statements about databases
    /// and roles.
    pub admin_url: String,
}

impl Drop for PgDb {
    fn drop(&mut self) {
        // Blocking on purpose: this runs once, at the end of a test.
        let _ = std::process::Command::new("psql")
            .args([&self.admin_url, "-qc", &format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name)])
            .output();
    }
}

/// A fresh PostgreSQL database on the server at TEST_POSTGRES_URL (by
/// default the local one). `None` only when that is set to `none`; a
/// server that does not answer fails the test rather than skipping it.
pub async fn fresh_pg() -> Option<PgDb> {
    let admin_url = std::env::var("TEST_POSTGRES_URL").unwrap_or_else(|_| DEFAULT_PG.to_owned());
    if admin_url == "none" {
        assert!(!on_postgres(), "TEST_DATABASE=postgres needs a PostgreSQL server");
        eprintln!("TEST_POSTGRES_URL=none: the SQLite backend only");
        return None;
    }
    let admin = sqlx::PgPool::connect(&admin_url).await.unwrap_or_else(|e| {
        panic!("PostgreSQL not reachable at TEST_POSTGRES_URL ({e}); set TEST_POSTGRES_URL=none to skip it")
    });
    // Databases of runs more than an hour old are dropped (best effort;
    // the name carries its creation time, so a running test's is never hit).
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let old: Vec<(String,)> =
        sqlx::query_as("SELECT datname FROM pg_database WHERE datname LIKE 'safehouse_test_%'")
            .fetch_all(&admin)
            .await
            .unwrap_or_default();
    for (db,) in old {
        let born: i64 = db.split('_').nth(2).and_then(|t| t.parse().ok()).unwrap_or(0);
        if now - born > 3600 {
            let _ = sqlx::query(&format!("DROP DATABASE {db} WITH (FORCE)")).execute(&admin).await;
        }
    }
    let name = format!("safehouse_test_{now}_{}", uuid::Uuid::new_v4().simple());
    sqlx::query(&format!("CREATE DATABASE {name}")).execute(&admin).await.unwrap();
    admin.close().await;
    let base = admin_url.rsplit_once('/').unwrap().0;
    Some(PgDb { url: format!("{base}/{name}"), name, admin_url })
}

impl PgDb {
    /// A plain-text `pg_dump` of the database, data of UNLOGGED tables
    /// (the sessions) included.
    pub fn dump(&self) -> Vec<u8> {
        self.dump_with(&[])
    }

    /// `pg_dump` with extra arguments (`--table`, say).
    pub fn dump_with(&self, extra: &[&str]) -> Vec<u8> {
        let out = std::process::Command::new("pg_dump")
            .args(["--no-owner", "--dbname", &self.url])
            .args(extra)
            .output()
            .expect("pg_dump is installed with the PostgreSQL client");
        assert!(out.status.success(), "pg_dump: {}", String::from_utf8_lossy(&out.stderr));
        out.stdout
    }
}

/// The bytes of every `\x...` bytea literal in a dump: a value stored in
/// clear in a BYTEA column shows in a dump only hex-encoded.
pub fn bytea_values(dump: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut i = 0;
    while let Some(start) = dump.get(i..).and_then(|rest| rest.windows(2).position(|w| w == b"\\x")) {
        let mut j = i + start + 2;
        let mut digits = Vec::new();
        while let Some(d) = dump.get(j).and_then(|b| (*b as char).to_digit(16)) {
            digits.push(d as u8);
            j += 1;
        }
        out.extend(digits.chunks_exact(2).map(|p| p[0] << 4 | p[1]));
        out.push(0);
        i = j;
    }
    out
}

pub fn password(text: &str) -> Password {
    Password::parse(SecretString::from(text.to_owned())).unwrap()
}

impl Instance {
    pub fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    /// Every audit entry, in order.
    pub async fn audit_log(&self) -> Vec<safehouse::storage::AuditRow> {
        self.vault.store().audit_rows(0, 1_000_000).await.unwrap()
    }

    /// Where this instance's sessions live.
    pub fn sessions_at(&self) -> SessionsAt {
        match &self.pg {
            Some(db) => SessionsAt::Postgres(Box::new(db.url.parse().unwrap())),
            None => SessionsAt::File(self.data_dir().join("sessions.db")),
        }
    }

    /// Everything this instance keeps at rest, as a thief would copy it:
    /// every file of the data directory and, on PostgreSQL, a `pg_dump`
    /// (with the bytes of its bytea values decoded beside it).
    pub fn at_rest(&self) -> Vec<(PathBuf, Vec<u8>)> {
        let mut out = files_below(&self.data_dir());
        if let Some(db) = &self.pg {
            let dump = db.dump();
            out.push((PathBuf::from("pg_dump bytea values"), bytea_values(&dump)));
            out.push((PathBuf::from("pg_dump"), dump));
        }
        out
    }

    /// Run one statement straight on the database, whichever it is, as an
    /// attacker with write access would (`$1`, `$2` placeholders, which
    /// both backends accept).
    pub async fn execute_raw(&self, sql: &str, binds: &[&str]) {
        let binds = binds.iter().map(|b| Bind::Text((*b).to_owned())).collect();
        self.execute_raw_with(sql, binds).await;
    }

    /// The same, with binds of any kind.
    pub async fn execute_raw_with(&self, sql: &str, binds: Vec<Bind>) {
        match &self.pg {
            Some(db) => {
                let pool = sqlx::PgPool::connect(&db.url).await.unwrap();
                let query = bind_all!(sqlx::query(sql), binds);
                query.execute(&pool).await.unwrap();
                pool.close().await;
            }
            None => {
                let raw = self.raw().await;
                let query = bind_all!(sqlx::query(sql), binds);
                query.execute(raw.pool()).await.unwrap();
                raw.close().await;
            }
        }
    }

    /// A statement that should fail: its error, as text.
    pub async fn execute_raw_error(&self, sql: &str) -> String {
        match &self.pg {
            Some(db) => {
                let pool = sqlx::PgPool::connect(&db.url).await.unwrap();
                let error = sqlx::query(sql).execute(&pool).await.unwrap_err().to_string();
                pool.close().await;
                error
            }
            None => {
                let raw = self.raw().await;
                let error = sqlx::query(sql).execute(raw.pool()).await.unwrap_err().to_string();
                raw.close().await;
                error
            }
        }
    }

    /// Every session row as stored: (row key, sealed record).
    pub async fn session_rows(&self) -> Vec<(Vec<u8>, Vec<u8>)> {
        let sql = "SELECT row_key, sealed FROM sessions";
        match &self.pg {
            Some(db) => {
                let pool = sqlx::PgPool::connect(&db.url).await.unwrap();
                let rows = sqlx::query_as(sql).fetch_all(&pool).await.unwrap();
                pool.close().await;
                rows
            }
            None => {
                let options = sqlx::sqlite::SqliteConnectOptions::new()
                    .filename(self.data_dir().join("sessions.db"))
                    .read_only(true);
                let pool = sqlx::SqlitePool::connect_with(options).await.unwrap();
                let rows = sqlx::query_as(sql).fetch_all(&pool).await.unwrap();
                pool.close().await;
                rows
            }
        }
    }

    /// A raw connection to the SQLite file, to play the thief or the
    /// attacker with write access.
    pub async fn raw(&self) -> SqliteStore {
        assert!(self.pg.is_none(), "raw() is the SQLite file; use execute_raw on either backend");
        SqliteStore::open(&self.data_dir().join("safehouse.db"), false).await.unwrap()
    }

    /// Create and activate an account; certify it (and admit it to its team)
    /// when `certify` is set.
    pub async fn user(&self, name: &str, role: Role, certify: bool) -> Actor {
        let username = Username::parse(name).unwrap();
        let created =
            accounts::create_account(&self.vault, &self.admin, &username, [role].into()).await.unwrap();
        let issued =
            accounts::activate(&self.vault, created.activation.expose(), &password(PASSWORD)).await.unwrap();
        if certify {
            membership::certify(&self.vault, &self.coordinator, created.user_id, &issued.fingerprint)
                .await
                .unwrap();
            match role {
                Role::Coordinator => {
                    membership::admit(&self.vault, &self.coordinator, Team::Coordinators, created.user_id)
                        .await
                        .unwrap()
                }
                Role::Communications => {
                    membership::admit(&self.vault, &self.coordinator, Team::Communications, created.user_id)
                        .await
                        .unwrap()
                }
                _ => {}
            }
        }
        issued.actor
    }
}

/// A fresh instance with a first coordinator and an activated administrator.
pub async fn instance() -> Instance {
    instance_with_clock(Arc::new(SystemClock)).await
}

pub async fn instance_with_clock(clock: Arc<dyn safehouse::clock::Clock>) -> Instance {
    let pg = if on_postgres() { fresh_pg().await } else { None };
    instance_in(pg, clock).await
}

/// A fresh instance in the given PostgreSQL database, or on SQLite.
pub async fn instance_in(pg: Option<PgDb>, clock: Arc<dyn safehouse::clock::Clock>) -> Instance {
    let dir = tempfile::tempdir().unwrap();
    let recovery = Identity::generate();
    let coordinator_password = "first coordinator passphrase".to_owned();
    let report = setup::init(
        InitOptions {
            data_dir: dir.path().join("data"),
            secrets_dir: dir.path().join("secrets"),
            recovery: vec![recovery.recipient()],
            coordinator: Username::parse("coord.first").unwrap(),
            coordinator_password: password(&coordinator_password),
            admin: Username::parse("admin.first").unwrap(),
            kdf: KdfParams::FLOOR,
            database_url: pg.as_ref().map(|db| db.url.clone()),
            database_allow_insecure: false,
        },
        clock,
    )
    .await
    .unwrap();
    let vault = report.vault;
    let coordinator = accounts::unlock(&vault, "coord.first", &coordinator_password).await.unwrap();
    let admin = accounts::activate(&vault, report.admin_activation.expose(), &password(PASSWORD))
        .await
        .unwrap()
        .actor;
    Instance { dir, vault, recovery, coordinator, admin, pg }
}

pub fn draft(aliases: &[&str], notes: &str) -> CaseDraft {
    draft_aged(aliases, AgeBand::Adult, notes)
}

/// A new open case at intake of these aliases, everyone in `age_band`.
pub fn draft_aged(aliases: &[&str], age_band: AgeBand, notes: &str) -> CaseDraft {
    let persons = aliases
        .iter()
        .map(|a| Person { alias: Alias::parse(a).unwrap(), age_band, gender: None, consent: false })
        .collect();
    CaseDraft {
        group: Group::new(persons).unwrap(),
        shelter: None,
        stage: Stage::Intake,
        status: Status::Open,
        notes: Note::parse(notes).unwrap(),
    }
}

/// Every file below `dir`, as bytes.
pub fn files_below(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(path) = stack.pop() {
        if path.is_dir() {
            for entry in std::fs::read_dir(&path).unwrap() {
                stack.push(entry.unwrap().path());
            }
        } else if let Ok(bytes) = std::fs::read(&path) {
            out.push((path, bytes));
        }
    }
    out
}

/// The needle in UTF-8, UTF-16LE and UTF-16BE, in upper and lower case.
pub fn encodings(needle: &str) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    for text in [needle.to_owned(), needle.to_lowercase(), needle.to_uppercase()] {
        out.push(text.as_bytes().to_vec());
        out.push(text.encode_utf16().flat_map(u16::to_le_bytes).collect());
        out.push(text.encode_utf16().flat_map(u16::to_be_bytes).collect());
    }
    out
}

pub fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && haystack.windows(needle.len()).any(|w| w == needle)
}

/// Every row of every table, as text: the logical content of a database,
/// for "nothing changed" checks (the file's bytes change on a checkpoint).
pub async fn dump_database(path: &Path) -> Vec<String> {
    use sqlx::{Column, Row};
    let options = sqlx::sqlite::SqliteConnectOptions::new().filename(path).read_only(true);
    let pool = sqlx::sqlite::SqlitePoolOptions::new().max_connections(1).connect_with(options).await.unwrap();
    let tables: Vec<(String,)> =
        sqlx::query_as("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
            .fetch_all(&pool)
            .await
            .unwrap();
    let mut out = Vec::new();
    for (table,) in tables {
        for row in sqlx::query(&format!("SELECT * FROM \"{table}\"")).fetch_all(&pool).await.unwrap() {
            let mut line = format!("{table}:");
            for i in 0..row.columns().len() {
                let value: Option<Vec<u8>> = row.try_get::<Option<Vec<u8>>, _>(i).ok().flatten();
                let text = match value {
                    Some(bytes) => bytes.iter().map(|b| format!("{b:02x}")).collect::<String>(),
                    None => row
                        .try_get::<Option<i64>, _>(i)
                        .ok()
                        .flatten()
                        .map(|n| n.to_string())
                        .unwrap_or_default(),
                };
                line.push_str(&format!(" {}={text}", row.columns()[i].name()));
            }
            out.push(line);
        }
    }
    pool.close().await;
    out
}

/// Captures every tracing event (TRACE and up) on this thread into a buffer,
/// for tests that assert what never reaches a log line.
#[derive(Clone, Default)]
pub struct LogCapture(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for LogCapture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl LogCapture {
    /// Install for the whole process (the database driver logs from its own
    /// worker threads). Each test runs in its own process under nextest;
    /// where a subscriber is already set, fall back to this thread only.
    pub fn install(&self) -> Option<tracing::subscriber::DefaultGuard> {
        // The database layer may log through the `log` crate: bridge it too.
        let _ = tracing_log::LogTracer::init();
        let writer = self.clone();
        let make = move || {
            tracing_subscriber::fmt()
                .with_max_level(tracing::Level::TRACE)
                .with_ansi(false)
                .with_writer({
                    let writer = writer.clone();
                    move || writer.clone()
                })
                .finish()
        };
        match tracing::subscriber::set_global_default(make()) {
            Ok(()) => None,
            Err(_) => Some(tracing::subscriber::set_default(make())),
        }
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

/// A TOTP code for `secret` (base32) at `at`, from an independent
/// implementation: Debian's oathtool.
pub fn oath_code(secret: &str, at: time::OffsetDateTime) -> String {
    let when = format!(
        "{} UTC",
        at.to_offset(time::UtcOffset::UTC)
            .format(&time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]:[second]"))
            .unwrap()
    );
    let out = std::process::Command::new("oathtool")
        .args(["--totp", "-b", &format!("--now={when}"), secret])
        .output()
        .expect("oathtool is installed (scripts/test needs it)");
    assert!(out.status.success(), "oathtool: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

/// A server over real HTTP on a loopback port, with a clock the test moves.
pub struct TestApp {
    pub app: Instance,
    pub clock: Arc<safehouse::clock::ManualClock>,
    pub state: safehouse::web::AppState,
    pub base: String,
}

pub async fn spawn_app() -> TestApp {
    spawn_app_at(time::OffsetDateTime::now_utc(), Default::default()).await
}

/// A server whose clock starts at `start` and whose vault follows the
/// given publication policy (the fiscal year's first month, k, the embargo).
pub async fn spawn_app_at(
    start: time::OffsetDateTime,
    publication: safehouse::publication::PublicationPolicy,
) -> TestApp {
    // Start on a step boundary so codes are predictable.
    let start = start - time::Duration::seconds(start.unix_timestamp() % 30);
    let clock = Arc::new(safehouse::clock::ManualClock::new(start));
    let mut app = instance_with_clock(clock.clone()).await;
    app.vault = app.vault.clone().with_publication(publication);
    let state = safehouse::web::state(app.vault.clone(), &app.sessions_at()).await.unwrap();
    let server =
        safehouse::web::Application::bind("127.0.0.1:0".parse().unwrap(), state.clone()).await.unwrap();
    let base = format!("http://{}", server.local_addr().unwrap());
    tokio::spawn(server.run_until(std::future::pending()));
    TestApp { app, clock, state, base }
}

/// A user who can log in: password `PASSWORD`, TOTP enrolled.
pub struct WebUser {
    pub username: String,
    pub secret: String,
    pub actor: Actor,
}

impl TestApp {
    pub fn now(&self) -> time::OffsetDateTime {
        use safehouse::clock::Clock;
        self.clock.now()
    }

    /// Move to the next 30-second step (a fresh TOTP code).
    pub fn next_step(&self) {
        self.clock.advance(time::Duration::seconds(30));
    }

    pub async fn web_user(&self, name: &str, role: Role) -> WebUser {
        let actor = self.app.user(name, role, true).await;
        let secret = self.enrol(&actor).await;
        WebUser { username: name.to_owned(), secret, actor }
    }

    pub async fn enrol(&self, actor: &Actor) -> String {
        use safehouse::accounts::totp;
        let (enrolment, write) = totp::begin(&self.app.vault, actor.user_id()).await.unwrap();
        self.app.vault.store().apply(vec![write]).await.unwrap();
        let secret = enrolment.secret_base32.to_string();
        let writes =
            totp::confirm(&self.app.vault, actor.user_id(), &oath_code(&secret, self.now())).await.unwrap();
        self.app.vault.store().apply(writes).await.unwrap();
        self.next_step();
        secret
    }

    pub fn client(&self) -> Client {
        Client::new(&self.base)
    }

    /// A client logged in as the first coordinator (enrolling their TOTP).
    pub async fn login_coordinator(&self) -> Client {
        let secret = self.enrol(&self.app.coordinator).await;
        let mut client = self.client();
        let code = oath_code(&secret, self.now());
        let response = client
            .post(
                "/login",
                &[("username", "coord.first"), ("password", "first coordinator passphrase"), ("code", &code)],
            )
            .await;
        assert_eq!(response.status(), 303, "coordinator login");
        self.next_step();
        client
    }

    /// A client logged in as `user` (the code for the current step).
    pub async fn login(&self, user: &WebUser) -> Client {
        let mut client = self.client();
        let code = oath_code(&user.secret, self.now());
        let response = client
            .post("/login", &[("username", &user.username), ("password", PASSWORD), ("code", &code)])
            .await;
        assert_eq!(response.status(), 303, "login of {}", user.username);
        self.next_step();
        client
    }
}

/// A browser-like client that keeps our session cookie by hand (reqwest's
/// jar will not send a Secure cookie over plain HTTP).
#[derive(Clone)]
pub struct Client {
    pub base: String,
    pub cookie: Option<String>,
    http: reqwest::Client,
}

impl Client {
    pub fn new(base: &str) -> Client {
        Client {
            base: base.to_owned(),
            cookie: None,
            http: reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap(),
        }
    }

    fn keep_cookie(&mut self, response: &reqwest::Response) {
        for value in response.headers().get_all("set-cookie") {
            let text = value.to_str().unwrap();
            if let Some(rest) = text.strip_prefix("__Host-safehouse=") {
                let token = rest.split(';').next().unwrap().to_owned();
                if token.is_empty() || text.contains("Max-Age=0") {
                    self.cookie = None;
                } else {
                    self.cookie = Some(token);
                }
            }
        }
    }

    fn with_cookie(&self, request: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        match &self.cookie {
            Some(c) => request.header("cookie", format!("__Host-safehouse={c}")),
            None => request,
        }
    }

    pub async fn get(&mut self, path: &str) -> reqwest::Response {
        let response = self.with_cookie(self.http.get(format!("{}{path}", self.base))).send().await.unwrap();
        self.keep_cookie(&response);
        response
    }

    /// A GET with the browser's own headers (`Accept-Language`, a cookie of
    /// its own beside the session's).
    pub async fn get_with(&mut self, path: &str, headers: &[(&str, &str)]) -> reqwest::Response {
        let mut request = self.http.get(format!("{}{path}", self.base));
        let mut cookies: Vec<String> = self.cookie.iter().map(|c| format!("__Host-safehouse={c}")).collect();
        for (k, v) in headers {
            if k.eq_ignore_ascii_case("cookie") {
                cookies.push((*v).to_owned());
            } else {
                request = request.header(*k, *v);
            }
        }
        if !cookies.is_empty() {
            request = request.header("cookie", cookies.join("; "));
        }
        let response = request.send().await.unwrap();
        self.keep_cookie(&response);
        response
    }

    /// A same-origin form post, as a browser sends it.
    pub async fn post(&mut self, path: &str, form: &[(&str, &str)]) -> reqwest::Response {
        let request =
            self.http.post(format!("{}{path}", self.base)).header("sec-fetch-site", "same-origin").form(form);
        let response = self.with_cookie(request).send().await.unwrap();
        self.keep_cookie(&response);
        response
    }

    /// A same-origin form post of a body exactly as given (already
    /// url-encoded, or deliberately not).
    pub async fn post_raw(&mut self, path: &str, body: &str) -> reqwest::Response {
        let request = self
            .http
            .post(format!("{}{path}", self.base))
            .header("sec-fetch-site", "same-origin")
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body.to_owned());
        let response = self.with_cookie(request).send().await.unwrap();
        self.keep_cookie(&response);
        response
    }

    pub async fn post_with(
        &mut self,
        path: &str,
        form: &[(&str, &str)],
        headers: &[(&str, &str)],
    ) -> reqwest::Response {
        let mut request = self.http.post(format!("{}{path}", self.base)).form(form);
        for (k, v) in headers {
            request = request.header(*k, *v);
        }
        let response = self.with_cookie(request).send().await.unwrap();
        self.keep_cookie(&response);
        response
    }

    /// Where a 303 answer sends the browser, visited (any other answer as it
    /// came): the page a user lands on after an action.
    pub async fn follow(&mut self, response: reqwest::Response) -> reqwest::Response {
        if response.status() != 303 {
            return response;
        }
        let location = response.headers()["location"].to_str().unwrap().to_owned();
        self.get(&location).await
    }

    /// The CSRF token from a page's forms.
    pub async fn csrf(&mut self, path: &str) -> String {
        let body = self.get(path).await.text().await.unwrap();
        let start = body.find("name=\"csrf\" value=\"").expect("a form with a CSRF token") + 19;
        body[start..].split('"').next().unwrap().to_owned()
    }
}

pub const BIN: &str = env!("CARGO_BIN_EXE_safehouse");

/// A `safehouse serve` process on a free loopback port, killed when dropped.
pub struct Node {
    child: std::process::Child,
    pub base: String,
}

impl Node {
    /// Start `command` (configured but for the listener) as `serve`, and
    /// wait for the address it prints.
    pub fn start(mut command: std::process::Command) -> Node {
        use std::io::BufRead;
        let mut child = command
            .env("SAFEHOUSE_LISTEN", "127.0.0.1:0")
            .arg("serve")
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let mut line = String::new();
        std::io::BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
        let base = line.trim().rsplit(' ').next().unwrap().trim_end_matches('/').to_owned();
        assert!(base.starts_with("http://127.0.0.1:"), "the node did not start: {line:?}");
        Node { child, base }
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Instance {
    /// The integers one statement selects (first column), on either backend.
    pub async fn select_ints(&self, sql: &str) -> Vec<i64> {
        let rows: Vec<(i64,)> = match &self.pg {
            Some(db) => {
                let pool = sqlx::PgPool::connect(&db.url).await.unwrap();
                let rows = sqlx::query_as(sql).fetch_all(&pool).await.unwrap();
                pool.close().await;
                rows
            }
            None => {
                let raw = self.raw().await;
                let rows = sqlx::query_as(sql).fetch_all(raw.pool()).await.unwrap();
                raw.close().await;
                rows
            }
        };
        rows.into_iter().map(|(n,)| n).collect()
    }

    /// The clear expiry of every session row (Unix seconds), read straight
    /// from the sessions file or table.
    pub async fn session_expiries(&self) -> Vec<i64> {
        let sql = "SELECT expires_at FROM sessions";
        if self.pg.is_some() {
            // On PostgreSQL the sessions table is in the instance's database.
            return self.select_ints(sql).await;
        }
        let options = sqlx::sqlite::SqliteConnectOptions::new()
            .filename(self.data_dir().join("sessions.db"))
            .read_only(true);
        let pool = sqlx::SqlitePool::connect_with(options).await.unwrap();
        let rows: Vec<(i64,)> = sqlx::query_as(sql).fetch_all(&pool).await.unwrap();
        pool.close().await;
        rows.into_iter().map(|(e,)| e).collect()
    }
}

impl TestApp {
    /// A second server on the same state that trusts loopback as a proxy, so
    /// a test can speak from several client addresses (`X-Forwarded-For`).
    pub async fn behind_proxy(&self) -> String {
        let mut state = self.state.clone();
        state.trusted_proxies = vec!["127.0.0.1".parse().unwrap()].into();
        let server = safehouse::web::Application::bind("127.0.0.1:0".parse().unwrap(), state).await.unwrap();
        let base = format!("http://{}", server.local_addr().unwrap());
        tokio::spawn(server.run_until(std::future::pending()));
        base
    }

    /// A six-digit code that is none of the codes `secret` accepts now.
    pub fn wrong_code(&self, secret: &str) -> String {
        let near: Vec<String> = [-30, 0, 30]
            .iter()
            .map(|s| oath_code(secret, self.now() + time::Duration::seconds(*s)))
            .collect();
        (0..10).map(|d| d.to_string().repeat(6)).find(|c| !near.contains(c)).unwrap()
    }
}

// ---------------------------------------------------------------------------
// Onboarding through the pages only (team admission, issue 10)
// ---------------------------------------------------------------------------

/// The text between `before` and the next `after` in a page.
pub fn page_between<'a>(body: &'a str, before: &str, after: &str) -> &'a str {
    let start = body.find(before).unwrap_or_else(|| panic!("{before:?} not in page")) + before.len();
    let rest = &body[start..];
    &rest[..rest.find(after).unwrap_or_else(|| panic!("{after:?} not after {before:?}"))]
}

/// A first login through the pages: password, no code yet, on to /enrol,
/// where the secret is read from the page and confirmed with a code from
/// oathtool. Returns the client and the TOTP secret.
pub async fn page_login_enrolling(t: &TestApp, username: &str, password: &str) -> (Client, String) {
    let mut client = t.client();
    let response =
        client.post("/login", &[("username", username), ("password", password), ("code", "")]).await;
    assert_eq!(response.headers()["location"], "/enrol", "first login of {username}");
    let secret = page_enrol(t, &mut client).await;
    (client, secret)
}

/// Enrol TOTP on /enrol: the secret from the page, a code from oathtool.
pub async fn page_enrol(t: &TestApp, client: &mut Client) -> String {
    let enrol = client.get("/enrol").await.text().await.unwrap();
    let secret = page_between(&enrol, "<code class=\"secret\">", "</code>").to_owned();
    let csrf = page_between(&enrol, "name=\"csrf\" value=\"", "\"").to_owned();
    let done = client.post("/enrol", &[("csrf", &csrf), ("code", &oath_code(&secret, t.now()))]).await;
    assert_eq!(done.status(), 303, "enrolment confirmed");
    secret
}

/// The administrator (logged in) creates `username` with roles given by
/// their form codes ("coordinator", "communications", ...) on /admin/users;
/// returns the activation code read from the page.
pub async fn page_create_account(admin: &mut Client, username: &str, roles: &[&str]) -> String {
    let csrf = admin.csrf("/admin/users").await;
    let names: Vec<String> = roles.iter().map(|r| format!("role_{r}")).collect();
    let mut form = vec![("csrf", csrf.as_str()), ("username", username)];
    form.extend(names.iter().map(|n| (n.as_str(), "on")));
    let page = admin.post("/admin/users", &form).await;
    assert_eq!(page.status(), 200, "account {username} created");
    let body = page.text().await.unwrap();
    page_between(&body, "<code class=\"secret\">", "</code>").to_owned()
}

/// The owner of an activation code activates on /activate and enrols TOTP
/// on /enrol. Returns (client, TOTP secret, key fingerprint read from the
/// person's own /account page).
pub async fn page_activate(t: &TestApp, code: &str, password: &str) -> (Client, String, String) {
    let mut client = t.client();
    let codes =
        client.post("/activate", &[("token", code), ("password", password), ("confirm", password)]).await;
    assert_eq!(codes.status(), 200, "activation");
    let secret = page_enrol(t, &mut client).await;
    let account = client.get("/account").await.text().await.unwrap();
    let fingerprint = page_between(&account, "<p class=\"fingerprint\"><code>", "</code>").to_owned();
    (client, secret, fingerprint)
}

/// A user's id as the coordinator's /team page links it.
pub async fn page_user_id(coordinator: &mut Client, username: &str) -> safehouse::ids::UserId {
    let team = coordinator.get("/team").await.text().await.unwrap();
    let row = team
        .split("<tr>")
        .find(|r| r.contains(&format!(">{username}</td>")))
        .unwrap_or_else(|| panic!("{username} is not on the team page"));
    safehouse::ids::UserId::parse(page_between(row, "href=\"/team/", "/")).unwrap()
}

/// A coordinator certifies `username` on /certify with the fingerprint
/// heard from them; returns the page that answers.
pub async fn page_certify(coordinator: &mut Client, username: &str, fingerprint: &str) -> String {
    let page = coordinator.get("/certify").await.text().await.unwrap();
    let section = page
        .split("<section")
        .find(|s| s.contains(&format!("<h2>{username}</h2>")))
        .unwrap_or_else(|| panic!("{username} is not waiting for certification"));
    let id = page_between(section, "action=\"/certify/", "\"").to_owned();
    let csrf = page_between(&page, "name=\"csrf\" value=\"", "\"").to_owned();
    let answer =
        coordinator.post(&format!("/certify/{id}"), &[("csrf", &csrf), ("fingerprint", fingerprint)]).await;
    assert_eq!(answer.status(), 303, "{username} certified");
    let answer = coordinator.follow(answer).await;
    assert_eq!(answer.status(), 200, "{username} certified");
    answer.text().await.unwrap()
}

/// A coordinator's team action through its confirmation step: the page at
/// `path` must name `username`, then its form is sent confirmed. Returns
/// the status and page of the answer.
pub async fn page_team_action(coordinator: &mut Client, path: &str, username: &str) -> (u16, String) {
    let confirm = coordinator.get(path).await;
    assert_eq!(confirm.status(), 200, "confirmation page {path}");
    let confirm = confirm.text().await.unwrap();
    assert!(confirm.contains(username), "the confirmation names {username}");
    assert!(confirm.contains(&format!("action=\"{path}\"")), "the confirmation posts to {path}");
    let csrf = page_between(&confirm, "name=\"csrf\" value=\"", "\"").to_owned();
    let answer = coordinator.post(path, &[("csrf", &csrf), ("confirm", "yes")]).await;
    let answer = coordinator.follow(answer).await;
    let status = answer.status().as_u16();
    (status, answer.text().await.unwrap())
}

/// A milestone without a note or place code, its date as stored (`2025-03`).
pub fn milestone(kind: MilestoneKind, date: &str, country: Option<&str>) -> MilestoneDraft {
    MilestoneDraft {
        kind,
        date: EventDate::from_stored(date).unwrap(),
        country: country.map(|c| CountryCode::parse(c).unwrap()),
        place_code: None,
        note: Note::parse("").unwrap(),
        sponsorship: None,
    }
}

/// A coordinator's authenticator, confirmed with the previous step's code
/// (one step of drift), so the current step is still unused: its secret.
pub async fn enrol_a_step_back(
    vault: &safehouse::vault::Vault,
    who: &safehouse::accounts::model::Actor,
) -> String {
    use safehouse::accounts::totp;
    let (enrolment, write) = totp::begin(vault, who.user_id()).await.unwrap();
    vault.store().apply(vec![write]).await.unwrap();
    let secret = enrolment.secret_base32.to_string();
    let earlier = time::OffsetDateTime::now_utc() - time::Duration::seconds(30);
    let writes = totp::confirm(vault, who.user_id(), &oath_code(&secret, earlier)).await.unwrap();
    vault.store().apply(writes).await.unwrap();
    secret
}
