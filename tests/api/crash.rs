//! Crash safety (issue 14): the real `safehouse serve` with several clients
//! writing, killed with SIGKILL at seeded random moments and restarted on
//! the same data, at least 20 times in one run; then every write the server
//! acknowledged is read back over HTTP as a coordinator with the
//! acknowledged content, none appears twice, a write whose answer was lost
//! in the kill is there whole or not at all, and the audit chain verifies.
//! On SQLite, or on PostgreSQL with `TEST_DATABASE=postgres` (scripts/test
//! runs the suite both ways).
//!
//! `CRASH_SEED` repeats a run (the seed is printed first); `CRASH_KILLS`
//! kills more (never fewer than 20). An interrupted rotation, purge or
//! restore is checked by an `Interrupted` passed to `crash_run`
//! (docs/operations.md, "Crash safety").

use std::io::BufRead;
use std::os::unix::process::ExitStatusExt;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use safehouse::accounts::model::{Actor, Role};
use safehouse::accounts::totp;
use safehouse::clock::SystemClock;
use safehouse::config::Config;

use crate::helpers::{BIN, Instance, PASSWORD, fresh_pg, instance_in, oath_code, on_postgres};

/// The fewest kills in one run (the bar).
const MIN_KILLS: u32 = 20;
/// The longest a server runs before it is killed; each run is drawn
/// from 0 to this, so some kills land in the first requests after start.
const MAX_RUN_MS: u64 = 1200;
/// Caseworkers writing besides the coordinator.
const CASEWORKERS: usize = 3;

// ---------------------------------------------------------------------------
// The run's randomness: one seed, printed, so a failure can be repeated
// ---------------------------------------------------------------------------

/// SplitMix64: small, seedable, good enough to pick moments and actions.
#[derive(Clone)]
pub(crate) struct Rng(u64);

impl Rng {
    pub(crate) fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    pub(crate) fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    /// A number in `0..=max`.
    pub(crate) fn upto(&mut self, max: u64) -> u64 {
        self.next() % (max + 1)
    }
}

/// The run's seed: `CRASH_SEED`, or one drawn now.
pub(crate) fn seed() -> u64 {
    std::env::var("CRASH_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or_else(|| {
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap();
        now.as_nanos() as u64 ^ u64::from(std::process::id())
    })
}

fn kills() -> u32 {
    std::env::var("CRASH_KILLS").ok().and_then(|s| s.parse().ok()).unwrap_or(24).max(MIN_KILLS)
}

/// `n` as six letters: aliases take no digits, and a fixed length keeps one
/// token from being the prefix of another.
pub(crate) fn letters(mut n: u64) -> String {
    let mut out = String::new();
    for _ in 0..6 {
        out.push(char::from(b'a' + (n % 26) as u8));
        n /= 26;
    }
    out
}

// ---------------------------------------------------------------------------
// The instance and its server processes
// ---------------------------------------------------------------------------

/// Where an instance lives: what every process of it is given.
#[derive(Clone)]
pub(crate) struct Settings {
    pub(crate) data_dir: PathBuf,
    pub(crate) secrets_dir: PathBuf,
    pub(crate) database_url: Option<String>,
}

impl Settings {
    pub(crate) fn backend(&self) -> &'static str {
        if self.database_url.is_some() { "PostgreSQL" } else { "SQLite" }
    }

    /// The `safehouse` command with this instance's settings and no others.
    pub(crate) fn command(&self) -> Command {
        let mut cmd = Command::new(BIN);
        for (key, _) in std::env::vars() {
            if key.starts_with("SAFEHOUSE_") {
                cmd.env_remove(key);
            }
        }
        cmd.env("SAFEHOUSE_DATA_DIR", &self.data_dir)
            .env("SAFEHOUSE_SECRETS_DIR", &self.secrets_dir)
            .env("SAFEHOUSE_LOG", "error")
            .stdin(Stdio::null());
        if let Some(url) = &self.database_url {
            cmd.env("SAFEHOUSE_DATABASE_URL", url);
        }
        cmd
    }

    /// The same settings as a `Config`, to open the vault in this process
    /// once no server runs.
    pub(crate) fn config(&self) -> Config {
        let mut env = std::collections::BTreeMap::new();
        env.insert("SAFEHOUSE_DATA_DIR".to_owned(), self.data_dir.display().to_string());
        env.insert("SAFEHOUSE_SECRETS_DIR".to_owned(), self.secrets_dir.display().to_string());
        if let Some(url) = &self.database_url {
            env.insert("SAFEHOUSE_DATABASE_URL".to_owned(), url.clone());
        }
        Config::from_sources(None, &env).unwrap()
    }

    /// `safehouse audit verify`, as an operator runs it after a crash.
    pub(crate) fn verify_chain(&self) -> String {
        let out = self.command().args(["audit", "verify"]).output().unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(
            out.status.success() && stdout.contains("audit chain intact"),
            "audit verify after the crashes: {stdout}{}",
            String::from_utf8_lossy(&out.stderr)
        );
        stdout.lines().next().unwrap_or("").to_owned()
    }
}

/// One `safehouse serve` process, listening on a free loopback port.
pub(crate) struct Server {
    child: Child,
    pub(crate) base: String,
}

impl Server {
    pub(crate) fn start(site: &Settings) -> Server {
        let mut child = site
            .command()
            .env("SAFEHOUSE_LISTEN", "127.0.0.1:0")
            .arg("serve")
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut line = String::new();
        std::io::BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
        let base = line.trim().rsplit(' ').next().unwrap_or("").trim_end_matches('/').to_owned();
        assert!(base.starts_with("http://127.0.0.1:"), "the server did not start after a kill: {line:?}");
        Server { child, base }
    }

    /// Start a server and kill it `after` milliseconds later, whether it
    /// listens yet or not: a kill while it opens the database and keys.
    pub(crate) async fn kill_while_starting(site: &Settings, after: u64) {
        let child = site
            .command()
            .env("SAFEHOUSE_LISTEN", "127.0.0.1:0")
            .arg("serve")
            .stdout(Stdio::null())
            .spawn()
            .unwrap();
        tokio::time::sleep(Duration::from_millis(after)).await;
        Server { child, base: String::new() }.kill9();
    }

    /// SIGKILL (std's `kill` on Unix): no handler runs, no buffer is
    /// flushed, no transaction is ended. Checks the process died of it.
    pub(crate) fn kill9(mut self) {
        self.child.kill().unwrap();
        let status = self.child.wait().unwrap();
        assert_eq!(status.signal(), Some(9), "the server died of SIGKILL, not {status:?}");
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

// ---------------------------------------------------------------------------
// Clients that survive the server's death: every error is an answer
// ---------------------------------------------------------------------------

/// The server went away mid-request: the answer is unknown.
#[derive(Debug)]
pub(crate) struct Down;

impl From<reqwest::Error> for Down {
    fn from(_: reqwest::Error) -> Down {
        Down
    }
}

/// Someone who logs in: TOTP codes are single-use and must rise, so the
/// last step spent is kept across restarts.
pub(crate) struct Login {
    pub(crate) username: String,
    pub(crate) password: String,
    pub(crate) secret: String,
    pub(crate) last_step: i64,
}

/// A browser's session on one server process.
pub(crate) struct Session {
    pub(crate) http: reqwest::Client,
    pub(crate) base: String,
    pub(crate) cookie: Option<String>,
    pub(crate) csrf: Option<String>,
}

pub(crate) struct Answer {
    pub(crate) status: u16,
    pub(crate) location: String,
    pub(crate) body: String,
}

pub(crate) fn step_now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp() / 30
}

impl Session {
    pub(crate) fn new(base: &str, cookie: Option<String>) -> Session {
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(60))
            .build()
            .unwrap();
        Session { http, base: base.to_owned(), cookie, csrf: None }
    }

    async fn send(&mut self, request: reqwest::RequestBuilder) -> Result<Answer, Down> {
        let request = match &self.cookie {
            Some(c) => request.header("cookie", format!("__Host-safehouse={c}")),
            None => request,
        };
        let response = request.send().await?;
        for value in response.headers().get_all("set-cookie") {
            let text = value.to_str().unwrap_or("");
            if let Some(rest) = text.strip_prefix("__Host-safehouse=") {
                let token = rest.split(';').next().unwrap_or("");
                self.cookie = (!token.is_empty() && !text.contains("Max-Age=0")).then(|| token.to_owned());
            }
        }
        let status = response.status().as_u16();
        let location =
            response.headers().get("location").and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
        let body = response.text().await?;
        Ok(Answer { status, location, body })
    }

    pub(crate) async fn get(&mut self, path: &str) -> Result<Answer, Down> {
        let request = self.http.get(format!("{}{path}", self.base));
        self.send(request).await
    }

    pub(crate) async fn post(&mut self, path: &str, form: &[(&str, &str)]) -> Result<Answer, Down> {
        let request =
            self.http.post(format!("{}{path}", self.base)).header("sec-fetch-site", "same-origin").form(form);
        self.send(request).await
    }

    /// Log in with the next unspent step's code. A lost answer spends the
    /// step too; with `wait`, wait for the next step when the last is spent,
    /// else give up (`Down`): a writer must not sleep through a kill.
    pub(crate) async fn login(&mut self, who: &mut Login, wait: bool) -> Result<(), Down> {
        loop {
            let step = (step_now() - 1).max(who.last_step + 1);
            if step > step_now() + 1 {
                if !wait {
                    return Err(Down);
                }
                tokio::time::sleep(Duration::from_secs(1)).await;
                continue;
            }
            let at = time::OffsetDateTime::from_unix_timestamp(step * 30).unwrap();
            let code = oath_code(&who.secret, at);
            who.last_step = step;
            self.cookie = None;
            let form = [("username", who.username.as_str()), ("password", &who.password), ("code", &code)];
            let answer = self.post("/login", &form).await?;
            if answer.status == 303 && self.cookie.is_some() {
                self.csrf = None;
                return Ok(());
            }
            // A code at the edge of the accepted window: take the next.
            assert_eq!(answer.status, 200, "login of {}", who.username);
        }
    }

    /// The session's CSRF token, logging in again if the session is gone
    /// (`wait`: see `login`). Returns whether it had to log in.
    pub(crate) async fn ready(&mut self, who: &mut Login, wait: bool) -> Result<bool, Down> {
        let mut relogged = false;
        loop {
            if self.cookie.is_some() {
                if self.csrf.is_some() {
                    return Ok(relogged);
                }
                let page = self.get("/account").await?;
                if page.status == 200 {
                    self.csrf = Some(between(&page.body, "name=\"csrf\" value=\"", "\"").to_owned());
                    return Ok(relogged);
                }
                assert_eq!(page.status, 303, "a session that is neither valid nor gone");
            }
            self.login(who, wait).await?;
            relogged = true;
        }
    }

    pub(crate) fn csrf(&self) -> String {
        self.csrf.clone().unwrap_or_default()
    }
}

fn between<'a>(body: &'a str, before: &str, after: &str) -> &'a str {
    let Some(start) = body.find(before) else { panic!("{before:?} not in the page") };
    let rest = &body[start + before.len()..];
    &rest[..rest.find(after).unwrap_or(rest.len())]
}

// ---------------------------------------------------------------------------
// The writers and what the server acknowledged to them
// ---------------------------------------------------------------------------

/// A case as its writer knows it: what was acknowledged, and what was sent
/// when the answer was lost.
struct Known {
    id: String,
    alias: String,
    notes: String,
    version: i64,
    milestones: Vec<String>,
    /// Milestones sent without an answer: present at most once.
    maybe_milestones: Vec<String>,
}

/// An update sent without an answer: on the next start the case must hold
/// either the acknowledged version or this one, whole.
struct LostUpdate {
    case: usize,
    notes: String,
}

#[derive(Default, Clone, Copy)]
struct Tally {
    creates: u32,
    updates: u32,
    milestones: u32,
    lost: u32,
    relogins: u32,
}

struct Writer {
    who: Login,
    cookie: Option<String>,
    tag: u64,
    next: u64,
    rng: Rng,
    cases: Vec<Known>,
    /// Aliases of creations sent without an answer: at most one case each.
    maybe_cases: Vec<String>,
    lost_update: Option<LostUpdate>,
    /// A write is on its way: if the server dies now, its answer is lost.
    sent: bool,
    tally: Tally,
}

impl Writer {
    fn token(&mut self) -> String {
        self.next += 1;
        letters(self.tag * 10_000_000 + self.next)
    }

    /// Write until the server dies under us.
    async fn round(mut self, base: String) -> Writer {
        let mut session = Session::new(&base, self.cookie.take());
        if self.write_until_down(&mut session).await.is_err() && self.sent {
            self.tally.lost += 1;
        }
        self.sent = false;
        self.cookie = session.cookie.take();
        self
    }

    async fn write_until_down(&mut self, s: &mut Session) -> Result<(), Down> {
        if s.ready(&mut self.who, false).await? {
            self.tally.relogins += 1;
        }
        self.resolve(s).await?;
        loop {
            let pick = self.rng.upto(99);
            if self.cases.is_empty() || pick < 35 {
                self.create(s).await?;
            } else if pick < 70 {
                self.milestone(s).await?;
            } else {
                self.update(s).await?;
            }
            if s.cookie.is_none() {
                s.csrf = None;
                if s.ready(&mut self.who, false).await? {
                    self.tally.relogins += 1;
                }
            }
        }
    }

    fn pick_case(&mut self) -> usize {
        (self.rng.upto(self.cases.len() as u64 - 1)) as usize
    }

    async fn create(&mut self, s: &mut Session) -> Result<(), Down> {
        let alias = format!("Wren {}", self.token());
        let notes = format!("first {}", self.token());
        let csrf = s.csrf();
        let form = [
            ("csrf", csrf.as_str()),
            ("alias_0", alias.as_str()),
            ("age_0", "30-44"),
            ("shelter", ""),
            ("stage", "intake"),
            ("status", "open"),
            ("notes", notes.as_str()),
        ];
        self.maybe_cases.push(alias.clone());
        self.sent = true;
        let answer = s.post("/cases", &form).await?;
        self.sent = false;
        if answer.status != 303 {
            // Not acknowledged (an error after the commit, say): it may be there.
            self.tally.lost += 1;
            return Ok(());
        }
        self.maybe_cases.pop();
        let id = answer.location.strip_prefix("/cases/").unwrap_or("").to_owned();
        assert_eq!(id.len(), 36, "a created case's address: {}", answer.location);
        self.cases.push(Known {
            id,
            alias,
            notes,
            version: 1,
            milestones: Vec::new(),
            maybe_milestones: Vec::new(),
        });
        self.tally.creates += 1;
        Ok(())
    }

    async fn milestone(&mut self, s: &mut Session) -> Result<(), Down> {
        let i = self.pick_case();
        let note = format!("step {}", self.token());
        let csrf = s.csrf();
        let path = format!("/cases/{}/milestones", self.cases[i].id);
        let form = [("csrf", csrf.as_str()), ("kind", "moved"), ("date", "2024"), ("note", note.as_str())];
        self.cases[i].maybe_milestones.push(note.clone());
        self.sent = true;
        let answer = s.post(&path, &form).await?;
        self.sent = false;
        if answer.status != 303 {
            self.tally.lost += 1;
            return Ok(());
        }
        let case = &mut self.cases[i];
        case.maybe_milestones.pop();
        case.milestones.push(note);
        self.tally.milestones += 1;
        Ok(())
    }

    async fn update(&mut self, s: &mut Session) -> Result<(), Down> {
        let i = self.pick_case();
        let notes = format!("saved {}", self.token());
        let (id, alias, version) = {
            let case = &self.cases[i];
            (case.id.clone(), case.alias.clone(), case.version.to_string())
        };
        let csrf = s.csrf();
        let form = [
            ("csrf", csrf.as_str()),
            ("version", version.as_str()),
            ("alias_0", alias.as_str()),
            ("age_0", "30-44"),
            ("shelter", ""),
            ("stage", "intake"),
            ("status", "open"),
            ("notes", notes.as_str()),
        ];
        self.lost_update = Some(LostUpdate { case: i, notes: notes.clone() });
        self.sent = true;
        let answer = s.post(&format!("/cases/{id}"), &form).await?;
        self.sent = false;
        if answer.status != 303 {
            // Only this writer edits its cases: a conflict means an
            // acknowledged version was lost.
            assert_ne!(
                answer.status, 409,
                "case {id}: version {version} was acknowledged but is not current"
            );
            self.tally.lost += 1;
            return self.resolve(s).await;
        }
        self.lost_update = None;
        let case = &mut self.cases[i];
        case.version += 1;
        case.notes = notes;
        self.tally.updates += 1;
        Ok(())
    }

    /// After a lost answer: the case holds the acknowledged version or the
    /// one sent, never a mix.
    async fn resolve(&mut self, s: &mut Session) -> Result<(), Down> {
        let Some(lost) = &self.lost_update else { return Ok(()) };
        let case = &self.cases[lost.case];
        let page = s.get(&format!("/cases/{}/edit", case.id)).await?;
        assert_eq!(page.status, 200, "case {} after a lost update", case.id);
        let (version, notes) = edit_form(&page.body);
        if version == case.version + 1 && notes == lost.notes {
            let case = &mut self.cases[lost.case];
            case.version = version;
            case.notes = notes;
        } else {
            assert_eq!(
                (version, notes.as_str()),
                (case.version, case.notes.as_str()),
                "case {}: after a lost update, neither the old nor the new version",
                case.id
            );
        }
        self.lost_update = None;
        Ok(())
    }
}

/// The version and notes an edit form holds.
fn edit_form(body: &str) -> (i64, String) {
    let version = between(body, "name=\"version\" value=\"", "\"").parse().unwrap();
    let notes = between(between(body, "name=\"notes\"", "</textarea>"), ">", "\u{0}").to_owned();
    (version, notes)
}

/// The case ids a list page links to.
fn case_links(body: &str) -> Vec<String> {
    let mut ids: Vec<String> = body
        .match_indices("href=\"/cases/")
        .filter_map(|(at, m)| body.get(at + m.len()..at + m.len() + 36))
        .filter(|id| uuid::Uuid::parse_str(id).is_ok())
        .map(str::to_owned)
        .collect();
    ids.sort();
    ids.dedup();
    ids
}

/// Enrol TOTP at the real time (the servers run on the system clock).
pub(crate) async fn enrol(app: &Instance, actor: &Actor) -> (String, i64) {
    let (enrolment, write) = totp::begin(&app.vault, actor.user_id()).await.unwrap();
    app.vault.store().apply(vec![write]).await.unwrap();
    let secret = enrolment.secret_base32.to_string();
    let now = time::OffsetDateTime::now_utc();
    let writes = totp::confirm(&app.vault, actor.user_id(), &oath_code(&secret, now)).await.unwrap();
    app.vault.store().apply(writes).await.unwrap();
    (secret, now.unix_timestamp() / 30)
}

async fn writers(app: &Instance, rng: &mut Rng) -> Vec<Writer> {
    let (secret, last_step) = enrol(app, &app.coordinator).await;
    let mut logins = vec![Login {
        username: "coord.first".into(),
        password: "first coordinator passphrase".into(),
        secret,
        last_step,
    }];
    for n in 0..CASEWORKERS {
        let username = format!("case.crash{}", letters(n as u64).get(..2).unwrap());
        let actor = app.user(&username, Role::Caseworker, true).await;
        let (secret, last_step) = enrol(app, &actor).await;
        logins.push(Login { username, password: PASSWORD.into(), secret, last_step });
    }
    logins
        .into_iter()
        .enumerate()
        .map(|(tag, who)| Writer {
            who,
            cookie: None,
            tag: tag as u64,
            next: 0,
            rng: Rng(rng.next()),
            cases: Vec::new(),
            maybe_cases: Vec::new(),
            lost_update: None,
            sent: false,
            tally: Tally::default(),
        })
        .collect()
}

fn total(writers: &[Writer]) -> Tally {
    writers.iter().fold(Tally::default(), |a, w| Tally {
        creates: a.creates + w.tally.creates,
        updates: a.updates + w.tally.updates,
        milestones: a.milestones + w.tally.milestones,
        lost: a.lost + w.tally.lost,
        relogins: a.relogins + w.tally.relogins,
    })
}

// ---------------------------------------------------------------------------
// Operations interrupted by a kill (docs/operations.md, "Crash safety")
// ---------------------------------------------------------------------------

/// An operation a kill may interrupt (a key rotation, a purge, a restore),
/// run beside the writers: after every restart, before anything else
/// writes, `check` finds the state wholly the old or wholly the new.
#[async_trait::async_trait]
pub(crate) trait Interrupted: Send {
    fn name(&self) -> &'static str;
    /// Once, on the new instance, before the writers log in and before any
    /// server runs: make what the operation works on (in this process,
    /// with the instance's vault).
    async fn prepare(&mut self, _app: &Instance) {}
    /// Start or continue the operation on a live server (`base` for HTTP,
    /// `site.command()` for the command line) and return when it is
    /// answered or the server is gone; the server is killed at a random
    /// moment. An operation in a process of its own (a command) is killed
    /// by the scenario itself, at a moment drawn from `rng`.
    async fn run(&mut self, site: &Settings, base: &str, rng: Rng);
    /// After a restart: panic unless the state is the one before the last
    /// `run` or the one after it, and remember which.
    async fn check(&mut self, site: &Settings, base: &str);
    /// After the last check: say what was done (and panic if nothing was).
    fn finish(&mut self) {}
}

/// Each scenario's `run` in its own task, handed back when it ends.
fn run_all(
    site: &Settings,
    base: &str,
    scenarios: Vec<Box<dyn Interrupted>>,
    rng: &mut Rng,
) -> Vec<tokio::task::JoinHandle<Box<dyn Interrupted>>> {
    scenarios
        .into_iter()
        .map(|mut x| {
            let (site, base, rng) = (site.clone(), base.to_owned(), Rng(rng.next()));
            tokio::spawn(async move {
                x.run(&site, &base, rng).await;
                x
            })
        })
        .collect()
}

// ---------------------------------------------------------------------------
// The run
// ---------------------------------------------------------------------------

/// Kill the server `kills` times under the writers (and the scenarios),
/// restart it on the same data each time; return them as they stand.
async fn kill_under_writers(
    site: &Settings,
    mut writers: Vec<Writer>,
    mut scenarios: Vec<Box<dyn Interrupted>>,
    rng: &mut Rng,
    kills: u32,
) -> (Vec<Writer>, Vec<Box<dyn Interrupted>>) {
    // Everyone logs in first: a login a kill interrupts spends a TOTP step,
    // and a step comes every 30 seconds. Sessions outlive the kills.
    let server = Server::start(site);
    for w in writers.iter_mut() {
        let mut s = Session::new(&server.base, None);
        s.ready(&mut w.who, true).await.unwrap();
        w.cookie = s.cookie.take();
    }
    server.kill9();
    let mut starting = 0;
    for kill in 1..=kills {
        // Now and then a kill before the server listens, too.
        if rng.upto(3) == 0 {
            Server::kill_while_starting(site, rng.upto(150)).await;
            starting += 1;
        }
        let server = Server::start(site);
        for x in scenarios.iter_mut() {
            x.check(site, &server.base).await;
        }
        let others = run_all(site, &server.base, scenarios, rng);
        let tasks: Vec<_> = writers.into_iter().map(|w| tokio::spawn(w.round(server.base.clone()))).collect();
        let after = rng.upto(MAX_RUN_MS);
        tokio::time::sleep(Duration::from_millis(after)).await;
        server.kill9();
        writers = Vec::new();
        for task in tasks {
            writers.push(task.await.unwrap());
        }
        scenarios = Vec::new();
        for task in others {
            scenarios.push(task.await.unwrap());
        }
        let t = total(&writers);
        println!(
            "crash: kill {kill}/{kills} after {after} ms (and {starting} while starting); acknowledged {} \
             creations, {} updates, {} milestones; {} answers lost",
            t.creates, t.updates, t.milestones, t.lost
        );
    }
    (writers, scenarios)
}

/// Read every acknowledged write back as a coordinator.
async fn check_writes(site: &Settings, writers: &mut [Writer], scenarios: &mut [Box<dyn Interrupted>]) {
    let server = Server::start(site);
    for x in scenarios.iter_mut() {
        x.check(site, &server.base).await;
    }
    // Settle the updates whose answers were lost in the last kill.
    for w in writers.iter_mut() {
        let mut s = Session::new(&server.base, w.cookie.take());
        s.ready(&mut w.who, true).await.unwrap();
        w.resolve(&mut s).await.unwrap();
        w.cookie = s.cookie.take();
    }
    let coordinator = &mut writers[0];
    let mut k = Session::new(&server.base, coordinator.cookie.clone());
    k.ready(&mut coordinator.who, true).await.unwrap();
    for w in writers.iter() {
        for case in &w.cases {
            let found = k.get(&format!("/cases?q={}", case.alias.replace(' ', "+"))).await.unwrap();
            assert_eq!(found.status, 200);
            assert_eq!(
                case_links(&found.body),
                vec![case.id.clone()],
                "{}: one case, the acknowledged one",
                case.alias
            );
            let edit = k.get(&format!("/cases/{}/edit", case.id)).await.unwrap();
            assert_eq!(edit.status, 200, "case {}", case.id);
            assert_eq!(edit_form(&edit.body), (case.version, case.notes.clone()), "case {}", case.id);
            let page = k.get(&format!("/cases/{}", case.id)).await.unwrap();
            assert_eq!(page.status, 200, "case {}", case.id);
            for note in &case.milestones {
                assert_eq!(page.body.matches(note.as_str()).count(), 1, "case {}: milestone {note}", case.id);
            }
            let mut maybe_present = 0;
            for note in &case.maybe_milestones {
                let n = page.body.matches(note.as_str()).count();
                assert!(n <= 1, "case {}: a milestone whose answer was lost is there {n} times", case.id);
                maybe_present += n;
            }
            let shown = page.body.matches(&format!("/cases/{}/milestones/", case.id)).count();
            assert_eq!(shown, case.milestones.len() + maybe_present, "case {}: no other milestone", case.id);
        }
        for alias in &w.maybe_cases {
            let found = k.get(&format!("/cases?q={}", alias.replace(' ', "+"))).await.unwrap();
            let n = case_links(&found.body).len();
            assert!(n <= 1, "{alias}: a creation whose answer was lost made {n} cases");
        }
    }
    server.kill9();
}

/// The audit log after the run: no gap and no fork, every acknowledged
/// creation recorded once, and the chain verifies from the command line.
async fn check_audit(site: &Settings, writers: &[Writer]) -> String {
    let vault = safehouse::setup::open(&site.config(), Arc::new(SystemClock)).await.unwrap();
    let rows = vault.store().audit_rows(0, i64::MAX).await.unwrap();
    let seqs: Vec<i64> = rows.iter().map(|r| r.seq).collect();
    assert_eq!(seqs, (1..=seqs.len() as i64).collect::<Vec<_>>(), "no gap, no fork");
    let created = rows.iter().filter(|r| r.action == "case.create" && r.outcome == "ok").count();
    let acked: usize = writers.iter().map(|w| w.cases.len()).sum();
    let maybe: usize = writers.iter().map(|w| w.maybe_cases.len()).sum();
    assert!(
        (acked..=acked + maybe).contains(&created),
        "{created} creations audited, {acked} acknowledged, {maybe} unanswered"
    );
    drop(vault);
    site.verify_chain()
}

/// The whole run on one backend, with the given scenarios beside the
/// writers; returns the output's last line.
pub(crate) async fn crash_run(mut scenarios: Vec<Box<dyn Interrupted>>) -> String {
    let seed = seed();
    let kills = kills();
    let pg = if on_postgres() { fresh_pg().await } else { None };
    let app = instance_in(pg, Arc::new(SystemClock)).await;
    let site = Settings {
        data_dir: app.data_dir(),
        secrets_dir: app.dir.path().join("secrets"),
        database_url: app.pg.as_ref().map(|db| db.url.clone()),
    };
    let names: Vec<&str> = scenarios.iter().map(|x| x.name()).collect();
    println!(
        "crash: {} backend, seed {seed} (CRASH_SEED={seed} repeats it), {kills} kills, writers and {names:?}",
        site.backend()
    );
    let mut rng = Rng(seed);
    for x in scenarios.iter_mut() {
        x.prepare(&app).await;
    }
    let writers = writers(&app, &mut rng).await;
    // The servers are the only users of the data from here on: this
    // process's connections go with its vault.
    let Instance { dir, pg, vault, .. } = app;
    drop(vault);
    let (mut writers, mut scenarios) = kill_under_writers(&site, writers, scenarios, &mut rng, kills).await;
    check_writes(&site, &mut writers, &mut scenarios).await;
    for x in scenarios.iter_mut() {
        x.finish();
    }
    let verified = check_audit(&site, &writers).await;
    let t = total(&writers);
    let summary = format!(
        "crash: {} backend, seed {seed}: {kills} kills; {} creations, {} updates and {} milestones \
         acknowledged, all present once; {} answers lost in a kill, each whole or absent; {} logins again; \
         {verified}",
        site.backend(),
        t.creates,
        t.updates,
        t.milestones,
        t.lost,
        t.relogins
    );
    println!("{summary}");
    assert!(t.creates + t.updates + t.milestones > 10 * kills, "too few writes to say anything");
    drop((dir, pg));
    summary
}

/// The writers, and beside them purges of closed cases (over HTTP and by
/// the command line) cut by the same kills.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_acknowledged_write_survives_kill_9() {
    crash_run(vec![Box::new(crate::purge::InterruptedPurge::default())]).await;
}

/// The setting the SQLite guarantee rests on (docs/operations.md, "Crash
/// safety"): WAL, fsynced at every commit, so an acknowledged write also
/// survives power loss. NORMAL would pass the kill test above and still
/// lose the last commits to a power cut: this test is what refuses it.
#[tokio::test]
async fn sqlite_fsyncs_every_commit() {
    let dir = tempfile::tempdir().unwrap();
    let store = safehouse::storage::SqliteStore::open(&dir.path().join("safehouse.db"), true).await.unwrap();
    let mut conn = store.pool().acquire().await.unwrap();
    let (mode,): (String,) = sqlx::query_as("PRAGMA journal_mode").fetch_one(&mut *conn).await.unwrap();
    let (sync,): (i64,) = sqlx::query_as("PRAGMA synchronous").fetch_one(&mut *conn).await.unwrap();
    assert_eq!((mode.as_str(), sync), ("wal", 2), "journal_mode = WAL, synchronous = FULL");
    drop(conn);
    store.close().await;
}

/// The PostgreSQL guarantee (docs/operations.md, "Crash safety"): every
/// connection of the store's pool commits with `synchronous_commit = on`,
/// even on a database whose default an operator set off.
#[tokio::test]
async fn postgres_commits_synchronously_whatever_the_database_default() {
    let Some(db) = fresh_pg().await else { return };
    let admin = sqlx::PgPool::connect(&db.admin_url).await.unwrap();
    sqlx::query(&format!("ALTER DATABASE {} SET synchronous_commit = off", db.name))
        .execute(&admin)
        .await
        .unwrap();
    admin.close().await;
    let show = "SHOW synchronous_commit";
    // A plain connection takes the database's default...
    let plain = sqlx::PgPool::connect(&db.url).await.unwrap();
    let (default,): (String,) = sqlx::query_as(show).fetch_one(&plain).await.unwrap();
    plain.close().await;
    assert_eq!(default, "off");
    // ...every connection of the store overrides it.
    let store = safehouse::storage::PgStore::open(&db.url).await.unwrap();
    let mut held = Vec::new();
    for _ in 0..3 {
        let mut conn = store.pool().acquire().await.unwrap();
        let (setting,): (String,) = sqlx::query_as(show).fetch_one(&mut *conn).await.unwrap();
        assert_eq!(setting, "on");
        held.push(conn);
    }
    drop(held);
    store.close().await;
}
