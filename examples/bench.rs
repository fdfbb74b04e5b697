//! The benchmark of issue 11: N generated cases, the real server (the
//! release `safehouse serve` on the generated data and secrets), and one
//! table, every figure from this one run next to its floor.
//!
//! Usage: scripts/bench [--postgres] [--cases N] [--audit N] [--seconds S] [--storm N]
//! (defaults 100,000 cases, 1,000,000 audit entries, 5 s per load point,
//! 200 logins in the storm). With BENCH_DATABASE_URL, on that empty
//! PostgreSQL database; otherwise on a SQLite file in a temporary directory.
//! BENCH_SERVER names the `safehouse` binary (default target/release).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::print_stdout)]

use std::collections::HashMap;
use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use indicatif::{ProgressBar, ProgressStyle};
use rand::Rng;
use rand::seq::SliceRandom;
use safehouse::accounts::model::{Actor, Password, Role, Roles, Username};
use safehouse::accounts::service as accounts;
use safehouse::audit::{Action, Event, Outcome};
use safehouse::cases::model::{
    AgeBand, Alias, CountryCode, EventDate, Gender, Group, MilestoneKind, Note, Person, ShelterCode, Stage,
    Status,
};
use safehouse::cases::service::{self as cases, CaseDraft, MilestoneDraft};
use safehouse::clock::SystemClock;
use safehouse::config::KdfParams;
use safehouse::crypto::{self, Aad, Identity, Key32, RecordKind};
use safehouse::ids::{CaseId, ShelterId};
use safehouse::membership::{self, SharedKey};
use safehouse::setup::{self, InitOptions};
use safehouse::shelters::{self, ShelterDetails};
use safehouse::storage::{AuditedWrite, HolderKind, ObjectKind};
use safehouse::vault::Vault;
use secrecy::SecretString;

const PASSWORD: &str = "bench passphrase for every account";
const COORDINATOR: &str = "coord.first";
const COORDINATOR_PASSWORD: &str = "first coordinator passphrase";
/// Cases assigned to the measured caseworker (under the bulk-reading
/// threshold of 25, so reading them all is ordinary work).
const ASSIGNED: usize = 20;
/// Jobs per audit batch when the trail is filled: the writer's own batch.
const AUDIT_BATCH: usize = 256;

struct Args {
    cases: usize,
    audit: usize,
    seconds: f64,
    storm: usize,
}

fn parse_args() -> anyhow::Result<Args> {
    let mut args = Args { cases: 100_000, audit: 1_000_000, seconds: 5.0, storm: 200 };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().with_context(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "--cases" => args.cases = value()?.parse()?,
            "--audit" => args.audit = value()?.parse()?,
            "--seconds" => args.seconds = value()?.parse()?,
            "--storm" => args.storm = value()?.parse()?,
            other => bail!("unknown option {other} (--cases N, --audit N, --seconds S, --storm N)"),
        }
    }
    if args.cases < ASSIGNED {
        bail!("--cases must be at least {ASSIGNED}");
    }
    Ok(args)
}

// ---------------------------------------------------------------------------
// Figures
// ---------------------------------------------------------------------------

/// Latencies of one measured point, and its wall time.
struct Sample {
    latencies: Vec<Duration>,
    wall: Duration,
    errors: usize,
}

impl Sample {
    fn of(mut latencies: Vec<Duration>, wall: Duration, errors: usize) -> Sample {
        latencies.sort_unstable();
        Sample { latencies, wall, errors }
    }

    /// Nearest-rank percentile, in ms.
    fn pct(&self, p: f64) -> f64 {
        if self.latencies.is_empty() {
            return f64::NAN;
        }
        let rank = ((p * self.latencies.len() as f64).ceil() as usize).clamp(1, self.latencies.len());
        self.latencies[rank - 1].as_secs_f64() * 1e3
    }

    fn rate(&self) -> f64 {
        self.latencies.len() as f64 / self.wall.as_secs_f64()
    }
}

/// The table: one line per figure, in the order measured.
#[derive(Default)]
struct Table {
    rows: Vec<(String, String, String, String, String)>,
}

impl Table {
    fn load(&mut self, name: &str, s: &Sample) {
        let note = if s.errors > 0 { format!("{} errors", s.errors) } else { String::new() };
        self.rows.push((
            name.to_owned(),
            format!("{:.2}", s.pct(0.5)),
            format!("{:.2}", s.pct(0.99)),
            format!("{:.0}", s.rate()),
            note,
        ));
    }

    fn latency(&mut self, name: &str, s: &Sample, note: &str) {
        let note = if s.errors > 0 { format!("{note}; {} errors", s.errors) } else { note.to_owned() };
        self.rows.push((
            name.to_owned(),
            format!("{:.2}", s.pct(0.5)),
            format!("{:.2}", s.pct(0.99)),
            "-".into(),
            note,
        ));
    }

    fn once(&mut self, name: &str, took: Duration, note: &str) {
        self.rows.push((
            name.to_owned(),
            format!("{:.2}", took.as_secs_f64() * 1e3),
            "-".into(),
            "-".into(),
            note.to_owned(),
        ));
    }

    fn value(&mut self, name: &str, value: String, note: &str) {
        self.rows.push((name.to_owned(), value, "-".into(), "-".into(), note.to_owned()));
    }

    fn print(&self, header: &str) {
        println!("\n{header}\n");
        println!("| figure | p50 ms | p99 ms | req/s | note |");
        println!("|---|---:|---:|---:|---|");
        for (a, b, c, d, e) in &self.rows {
            println!("| {a} | {b} | {c} | {d} | {e} |");
        }
    }
}

fn bar(len: usize, what: &str) -> ProgressBar {
    let bar = ProgressBar::new(len as u64);
    bar.set_style(
        ProgressStyle::with_template("{msg:>22} [{bar:40}] {pos}/{len} ({per_sec}, {eta} left)")
            .unwrap()
            .progress_chars("=> "),
    );
    bar.set_message(what.to_owned());
    bar
}

// ---------------------------------------------------------------------------
// The data set
// ---------------------------------------------------------------------------

fn password(text: &str) -> Password {
    Password::parse(SecretString::from(text.to_owned())).expect("password")
}

const ALIASES: [&str; 8] = ["Gannet", "Heron", "Willow", "Pine", "Sparrow", "Magpie", "Pebble", "Fern"];

/// A case of one to four persons, in any stage, open or on hold, in one of
/// the shelters or none.
fn draft(n: usize, shelters: &[ShelterId]) -> CaseDraft {
    let mut rng = rand::thread_rng();
    let size = rng.gen_range(1..=4);
    let aliases: Vec<&str> = ALIASES.choose_multiple(&mut rng, size).copied().collect();
    let persons = aliases
        .into_iter()
        .map(|alias| Person {
            alias: Alias::parse(alias).expect("alias"),
            age_band: *AgeBand::ALL.choose(&mut rng).unwrap(),
            gender: [None, Some(Gender::Female), Some(Gender::Male), Some(Gender::Other)]
                .choose(&mut rng)
                .copied()
                .flatten(),
            consent: rng.gen_bool(0.5),
        })
        .collect();
    CaseDraft {
        group: Group::new(persons).expect("group"),
        shelter: if rng.gen_bool(0.3) { None } else { shelters.choose(&mut rng).copied() },
        stage: *Stage::ALL.choose(&mut rng).unwrap(),
        status: if rng.gen_bool(0.85) { Status::Open } else { Status::OnHold },
        notes: Note::parse(&format!("bench case {n}")).expect("note"),
    }
}

/// An arrival in Japan, South Korea or the United States in 2024 or 2025.
fn arrival() -> MilestoneDraft {
    let mut rng = rand::thread_rng();
    let date = format!("{}-{:02}", rng.gen_range(2024..=2025), rng.gen_range(1..=12));
    MilestoneDraft {
        kind: MilestoneKind::Arrived,
        date: EventDate::from_stored(&date).expect("date"),
        country: Some(
            CountryCode::parse(["JP", "KR", "US"].choose(&mut rng).copied().unwrap_or("JP"))
                .expect("country"),
        ),
        place_code: None,
        note: Note::parse("bench arrival").expect("note"),
        sponsorship: None,
    }
}

/// The k-anonymity check of one story about each of `n` arrived cases,
/// against every index record (read once, as a coordinator's review does).
async fn story_checks(vault: &Vault, coordinator: &Actor, n: usize) -> anyhow::Result<(Sample, usize)> {
    use safehouse::stories::{
        anonymity,
        model::{Facts, StoryKind, Subject},
    };
    let (_, index) = cases::dashboard(vault, coordinator).await?;
    let mut times = Vec::new();
    let mut passed = 0;
    for s in index.iter().filter(|s| anonymity::is_candidate(s)).take(n) {
        let Some(arrived) = s.arrived() else { continue };
        let t = Instant::now();
        let subject = match s.persons.as_slice() {
            [one] => Subject::Person {
                age: Some(safehouse::stories::model::AgeWords::Band(one.age_band)),
                gender: one.gender,
            },
            many => Subject::Group { size: safehouse::stories::model::SizeBand::of(many.len()), child: None },
        };
        let facts = Facts {
            kind: StoryKind::ReachedSafety,
            subject,
            arrival: Some(safehouse::publication::period::Period::finest_of(arrived)),
            destination: s.destination().map(safehouse::publication::region::Place::Country),
            progress: None,
        };
        if anonymity::anonymise(facts, &[], &index, 10).is_ok() {
            passed += 1;
        }
        times.push(t.elapsed());
    }
    Ok((Sample::of(times, Duration::from_secs(1), 0), passed))
}

/// A user made as the demo makes one (created, activated, certified,
/// TOTP enrolled); returns the actor and the TOTP secret.
async fn add_user(
    vault: &Vault,
    coordinator: &Actor,
    role: Role,
    name: &str,
    certify: bool,
) -> anyhow::Result<(Actor, String)> {
    let username = Username::parse(name).map_err(|e| anyhow::anyhow!("{}", e.message))?;
    let roles: Roles = [role].into();
    let created = accounts::create_account_unchecked(vault, &username, roles).await?;
    let issued = accounts::activate(vault, created.activation.expose(), &password(PASSWORD)).await?;
    if certify {
        membership::certify(vault, coordinator, created.user_id, &issued.fingerprint).await?;
    }
    let secret = safehouse::accounts::totp::enrol_for_demo(vault, created.user_id).await?;
    Ok((issued.actor, secret))
}

/// Create `n` cases from `tasks` concurrent callers, with a progress bar.
async fn create_cases(
    vault: &Vault,
    actor: &Arc<Actor>,
    shelters: &[ShelterId],
    n: usize,
) -> anyhow::Result<Vec<CaseId>> {
    let bar = bar(n, "cases");
    let next = Arc::new(AtomicUsize::new(0));
    let shelters: Arc<[ShelterId]> = shelters.into();
    let mut handles = Vec::new();
    for _ in 0..16 {
        let (vault, actor, next, shelters, bar) =
            (vault.clone(), actor.clone(), next.clone(), shelters.clone(), bar.clone());
        handles.push(tokio::spawn(async move {
            let mut ids = Vec::new();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= n {
                    return anyhow::Ok(ids);
                }
                let d = draft(i, &shelters);
                let arrived = d.stage.is_out_of_danger();
                let id = cases::create(&vault, &actor, d).await?;
                // Cases past arrival carry their arrival, so stories have
                // something to check against (about 2 in 11 cases).
                if arrived {
                    cases::add_milestone(&vault, &actor, id, arrival()).await?;
                }
                ids.push(id);
                bar.inc(1);
            }
        }));
    }
    let mut ids = Vec::with_capacity(n);
    for h in handles {
        ids.extend(h.await??);
    }
    bar.finish();
    Ok(ids)
}

/// `n` caseworkers for the login storm, each with their own TOTP secret.
async fn storm_accounts(
    vault: &Vault,
    coordinator: &Arc<Actor>,
    n: usize,
) -> anyhow::Result<Vec<(String, String)>> {
    let bar = bar(n, "storm accounts");
    let mut handles = Vec::new();
    for i in 0..n {
        let (vault, coordinator, bar) = (vault.clone(), coordinator.clone(), bar.clone());
        handles.push(tokio::spawn(async move {
            let name = format!("storm.{i:04}");
            let (_, secret) = add_user(&vault, &coordinator, Role::Caseworker, &name, false).await?;
            bar.inc(1);
            anyhow::Ok((name, secret))
        }));
    }
    let mut out = Vec::with_capacity(n);
    for h in handles {
        out.push(h.await??);
    }
    bar.finish();
    Ok(out)
}

/// Fill the trail with `n` entries as the server writes a case page's:
/// `case.read` by the measured caseworker on their own cases, each with
/// its bulk-reading mark, through the store's audited append (the writer's
/// own code path: one savepoint per job, the chain MAC of each entry).
async fn fill_audit(vault: &Vault, reader: &Actor, cases: &[CaseId], n: usize) -> anyhow::Result<Duration> {
    let bar = bar(n, "audit entries");
    let chain = vault.chain_key();
    let start = Instant::now();
    let mut done = 0;
    while done < n {
        let take = AUDIT_BATCH.min(n - done);
        let jobs = (0..take)
            .map(|i| {
                let case = cases[(done + i) % cases.len()];
                let event = reader.event(Action::CaseRead).as_role(Role::Caseworker).on(case);
                let entry = event.row(Outcome::Ok, vault.clock.now());
                let mark = safehouse::audit::service::case_read_mark(vault, reader, &case.to_string());
                AuditedWrite { writes: vec![mark], entry }
            })
            .collect();
        for result in vault.store().commit_audited(jobs, chain.as_ref()).await? {
            result?;
        }
        done += take;
        bar.inc(take as u64);
    }
    bar.finish();
    Ok(start.elapsed())
}

// ---------------------------------------------------------------------------
// The floor, in this process
// ---------------------------------------------------------------------------

fn case_place<'a>(id: &'a str, field: &'a str, version: i64) -> Aad<'a> {
    Aad { kind: RecordKind::Case, owner: id, record: "", field, version }
}

/// One scan of the index with its decryption (what a dashboard or the
/// case list cannot do with less): every row read and opened.
async fn index_scan(vault: &Vault, coordinator: &Actor) -> anyhow::Result<(Duration, usize)> {
    let start = Instant::now();
    let team = membership::coordinators_identity(vault, coordinator).await?;
    let key = membership::shared_key_for_team(vault, &team, SharedKey::Index).await?;
    let rows = vault.store().index_rows().await?;
    for row in &rows {
        safehouse::cases::index::open(&key, row)?;
    }
    Ok((start.elapsed(), rows.len()))
}

/// One case read as a caseworker, without its audit entry: the wrap read
/// and unwrap of the case key, the record read and its three fields opened,
/// the milestones read.
async fn case_read_floor(vault: &Vault, reader: &Actor, case: CaseId) -> anyhow::Result<Duration> {
    let start = Instant::now();
    let cid = case.to_string();
    let uid = reader.user_id().to_string();
    let wrap = vault.store().wrap(ObjectKind::Case, &cid, HolderKind::User, &uid).await?.context("wrap")?;
    let key = Key32::from_slice(&crypto::wrap::unwrap(reader.identity(), &wrap.wrapped)?)?;
    let row = vault.store().case(&cid).await?.context("case")?;
    for (field, sealed) in
        [("group", &row.sealed_group), ("placement", &row.sealed_placement), ("notes", &row.sealed_notes)]
    {
        crypto::open(&key, &case_place(&cid, field, row.version), sealed)?;
    }
    vault.store().milestones(&cid).await?;
    Ok(start.elapsed())
}

// ---------------------------------------------------------------------------
// The server and its clients
// ---------------------------------------------------------------------------

struct Server {
    child: Child,
    base: String,
    started_in: Duration,
}

impl Server {
    /// Start `safehouse serve` and wait until /health answers.
    async fn start(bin: &Path, env: &HashMap<String, String>) -> anyhow::Result<Server> {
        let start = Instant::now();
        let mut child = Command::new(bin)
            .arg("serve")
            .envs(env)
            .env("SAFEHOUSE_LISTEN", "127.0.0.1:0")
            .stdout(Stdio::piped())
            .spawn()
            .with_context(|| format!("cannot start {}", bin.display()))?;
        let stdout = child.stdout.take().context("stdout")?;
        let line = tokio::task::spawn_blocking(move || {
            let mut line = String::new();
            std::io::BufReader::new(stdout).read_line(&mut line).map(|_| line)
        })
        .await??;
        let base = line.trim().rsplit(' ').next().unwrap_or_default().trim_end_matches('/').to_owned();
        if !base.starts_with("http://") {
            bail!("the server did not start: {line:?}");
        }
        let http = reqwest::Client::new();
        loop {
            if let Ok(r) = http.get(format!("{base}/health")).send().await {
                if r.status().is_success() {
                    break;
                }
            }
            if start.elapsed() > Duration::from_secs(120) {
                bail!("/health did not answer within two minutes");
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        Ok(Server { child, base, started_in: start.elapsed() })
    }

    /// The server's peak resident memory so far (VmHWM), in MiB.
    fn peak_mib(&self) -> f64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).unwrap_or_default();
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
            .map_or(f64::NAN, |kib| kib / 1024.0)
    }

    fn stop(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A logged-in browser: its session cookie kept by hand (the cookie is
/// `Secure`, which a cookie jar will not send over plain HTTP).
#[derive(Clone)]
struct Browser {
    base: String,
    http: reqwest::Client,
    cookie: Option<String>,
}

impl Browser {
    fn new(base: &str) -> Browser {
        Browser {
            base: base.to_owned(),
            http: reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap(),
            cookie: None,
        }
    }

    fn keep_cookie(&mut self, response: &reqwest::Response) {
        for value in response.headers().get_all("set-cookie") {
            let text = value.to_str().unwrap_or_default();
            if let Some(rest) = text.strip_prefix("__Host-safehouse=") {
                self.cookie = Some(rest.split(';').next().unwrap_or_default().to_owned());
            }
        }
    }

    fn request(&self, request: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        match &self.cookie {
            Some(c) => request.header("cookie", format!("__Host-safehouse={c}")),
            None => request,
        }
    }

    async fn get(&self, path: &str) -> anyhow::Result<reqwest::Response> {
        Ok(self.request(self.http.get(format!("{}{path}", self.base))).send().await?)
    }

    async fn post(
        &mut self,
        path: &str,
        form: &[(String, String)],
        from: Option<&str>,
    ) -> anyhow::Result<reqwest::Response> {
        let mut request =
            self.http.post(format!("{}{path}", self.base)).header("sec-fetch-site", "same-origin").form(form);
        if let Some(address) = from {
            request = request.header("x-forwarded-for", address);
        }
        let response = self.request(request).send().await?;
        self.keep_cookie(&response);
        Ok(response)
    }

    /// Log in with the password and the current TOTP code.
    async fn login(
        &mut self,
        username: &str,
        password: &str,
        secret: &str,
        from: Option<&str>,
    ) -> anyhow::Result<()> {
        let form = [
            ("username".to_owned(), username.to_owned()),
            ("password".to_owned(), password.to_owned()),
            ("code".to_owned(), totp_code(secret)?),
        ];
        let response = self.post("/login", &form, from).await?;
        if response.status() != 303 || self.cookie.is_none() {
            bail!("login of {username}: {}", response.status());
        }
        Ok(())
    }
}

/// The current code, computed as the server checks it (RFC 6238, SHA-1,
/// 6 digits, 30 s).
fn totp_code(secret: &str) -> anyhow::Result<String> {
    let totp = totp_rs::Builder::new()
        .with_algorithm(totp_rs::Algorithm::SHA1)
        .with_digits(6)
        .with_skew(1)
        .with_step_duration(30)
        .with_secret(totp_rs::Secret::try_from_base32(secret).map_err(|_| anyhow::anyhow!("base32"))?)
        .with_issuer(Some("Safehouse"))
        .with_account_name("bench")
        .build()
        .map_err(|e| anyhow::anyhow!("totp: {e:?}"))?;
    Ok(totp.generate_current().to_string())
}

/// `clients` concurrent clients GET `path` for `seconds`, each request
/// timed; anything but 200 is an error.
async fn load(browser: &Browser, path: &str, clients: usize, seconds: f64) -> Sample {
    let deadline = Instant::now() + Duration::from_secs_f64(seconds);
    let start = Instant::now();
    let mut handles = Vec::new();
    for _ in 0..clients {
        let (browser, path) = (browser.clone(), path.to_owned());
        handles.push(tokio::spawn(async move {
            let (mut latencies, mut errors) = (Vec::new(), 0);
            while Instant::now() < deadline {
                let t = Instant::now();
                match browser.get(&path).await {
                    Ok(r) if r.status() == 200 => {
                        let _ = r.bytes().await;
                        latencies.push(t.elapsed());
                    }
                    _ => errors += 1,
                }
            }
            (latencies, errors)
        }));
    }
    let (mut latencies, mut errors) = (Vec::new(), 0);
    for h in handles {
        let (l, e) = h.await.unwrap_or_default();
        latencies.extend(l);
        errors += e;
    }
    Sample::of(latencies, start.elapsed(), errors)
}

/// GET `path` `n` times, one at a time: the first answer (cold, if it is
/// the first since the server started) and the rest (warm).
async fn cold_and_warm(browser: &Browser, path: &str, n: usize) -> anyhow::Result<(Duration, Sample)> {
    let t = Instant::now();
    let first = browser.get(path).await?;
    let status = first.status();
    first.bytes().await?;
    let cold = t.elapsed();
    if status != 200 {
        bail!("GET {path}: {status}");
    }
    let start = Instant::now();
    let mut latencies = Vec::new();
    for _ in 0..n {
        let t = Instant::now();
        let r = browser.get(path).await?;
        r.bytes().await?;
        latencies.push(t.elapsed());
    }
    Ok((cold, Sample::of(latencies, start.elapsed(), 0)))
}

fn unescape(s: &str) -> String {
    s.replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

fn attribute(tag: &str, name: &str) -> Option<String> {
    let at = tag.find(&format!(" {name}=\""))? + name.len() + 3;
    Some(unescape(tag[at..].split('"').next()?))
}

/// Every field the form at `action` would send as it stands (inputs,
/// checked boxes, selected options, text areas), read from the page.
fn form_fields(page: &str, action: &str) -> Option<Vec<(String, String)>> {
    let start = page.find(&format!("action=\"{action}\""))?;
    let end = start + page[start..].find("</form>")?;
    let form = &page[start..end];
    let mut out = Vec::new();
    let mut rest = form;
    while let Some(at) = rest.find('<') {
        rest = &rest[at..];
        let tag_end = rest.find('>').unwrap_or(rest.len());
        let tag = &rest[..tag_end];
        if tag.starts_with("<input") {
            let kind = attribute(tag, "type").unwrap_or_default();
            if let Some(name) = attribute(tag, "name") {
                let skip = matches!(kind.as_str(), "submit" | "button")
                    || (matches!(kind.as_str(), "checkbox" | "radio") && !tag.contains(" checked"));
                if !skip {
                    out.push((name, attribute(tag, "value").unwrap_or_else(|| "on".into())));
                }
            }
        } else if tag.starts_with("<textarea") {
            if let Some(name) = attribute(tag, "name") {
                let body = &rest[tag_end + 1..];
                out.push((name, unescape(&body[..body.find("</textarea>").unwrap_or(0)])));
            }
        } else if tag.starts_with("<select") {
            if let Some(name) = attribute(tag, "name") {
                let body = &rest[tag_end..rest.find("</select>").unwrap_or(rest.len())];
                let selected = body
                    .split("<option")
                    .skip(1)
                    .find(|o| o.split('>').next().unwrap_or_default().contains(" selected"))
                    .or_else(|| body.split("<option").nth(1))
                    .and_then(|o| attribute(&format!(" {o}"), "value"))
                    .unwrap_or_default();
                out.push((name, selected));
            }
        }
        rest = &rest[1..];
    }
    Some(out)
}

/// Case updates through the form, one at a time: each reads the edit page
/// (CSRF token and version) and posts it back with a new note; only the
/// POST is timed.
async fn updates(browser: &mut Browser, case: CaseId, n: usize) -> anyhow::Result<Sample> {
    let action = format!("/cases/{case}");
    let mut latencies = Vec::new();
    let start = Instant::now();
    let mut errors = 0;
    for i in 0..n {
        let page = browser.get(&format!("/cases/{case}/edit")).await?.text().await?;
        let mut fields = form_fields(&page, &action).context("the case form")?;
        for (name, value) in &mut fields {
            if name == "notes" {
                *value = format!("bench update {i}");
            }
        }
        let t = Instant::now();
        let response = browser.post(&action, &fields, None).await?;
        latencies.push(t.elapsed());
        if response.status() != 303 {
            errors += 1;
        }
    }
    Ok(Sample::of(latencies, start.elapsed(), errors))
}

/// The login storm: every account logs in at once (each from its own
/// address, through the trusted proxy), while 16 clients load the case
/// page. Returns the logins and the case page during the storm.
async fn storm(base: &str, accounts: &[(String, String)], case_page: (&Browser, &str)) -> (Sample, Sample) {
    let running = Arc::new(AtomicBool::new(true));
    let page = {
        let (browser, path, running) = (case_page.0.clone(), case_page.1.to_owned(), running.clone());
        tokio::spawn(async move {
            let start = Instant::now();
            let mut handles = Vec::new();
            for _ in 0..16 {
                let (browser, path, running) = (browser.clone(), path.clone(), running.clone());
                handles.push(tokio::spawn(async move {
                    let (mut latencies, mut errors) = (Vec::new(), 0);
                    while running.load(Ordering::Relaxed) {
                        let t = Instant::now();
                        match browser.get(&path).await {
                            Ok(r) if r.status() == 200 => {
                                let _ = r.bytes().await;
                                latencies.push(t.elapsed());
                            }
                            _ => errors += 1,
                        }
                    }
                    (latencies, errors)
                }));
            }
            let (mut latencies, mut errors) = (Vec::new(), 0);
            for h in handles {
                let (l, e) = h.await.unwrap_or_default();
                latencies.extend(l);
                errors += e;
            }
            Sample::of(latencies, start.elapsed(), errors)
        })
    };
    tokio::time::sleep(Duration::from_millis(300)).await;
    let start = Instant::now();
    let mut handles = Vec::new();
    for (i, (name, secret)) in accounts.iter().enumerate() {
        let (base, name, secret) = (base.to_owned(), name.clone(), secret.clone());
        handles.push(tokio::spawn(async move {
            let mut browser = Browser::new(&base);
            let from = format!("10.{}.{}.{}", i / 65536 % 256, i / 256 % 256, i % 256 + 1);
            let t = Instant::now();
            let ok = browser.login(&name, PASSWORD, &secret, Some(&from)).await.is_ok();
            (t.elapsed(), ok)
        }));
    }
    let (mut latencies, mut errors) = (Vec::new(), 0);
    for h in handles {
        match h.await {
            Ok((took, true)) => latencies.push(took),
            _ => errors += 1,
        }
    }
    let logins = Sample::of(latencies, start.elapsed(), errors);
    running.store(false, Ordering::Relaxed);
    (logins, page.await.unwrap_or_else(|_| Sample::of(Vec::new(), Duration::ZERO, 0)))
}

/// The case page and /account at 1, 16 and 64 clients.
async fn pages(table: &mut Table, caseworker: &Browser, case: CaseId, seconds: f64, suffix: &str) {
    let case_path = format!("/cases/{case}");
    for clients in [1, 16, 64] {
        let s = load(caseworker, &case_path, clients, seconds).await;
        table.load(&format!("case page, {clients} clients{suffix}"), &s);
        let s = load(caseworker, "/account", clients, seconds).await;
        table.load(&format!("/account, {clients} clients{suffix}"), &s);
    }
}

fn server_bin() -> PathBuf {
    std::env::var_os("BENCH_SERVER")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("target/release/safehouse"))
}

#[tokio::main(flavor = "multi_thread")]
async fn main() -> anyhow::Result<()> {
    let args = parse_args()?;
    let bin = server_bin();
    if !bin.exists() {
        bail!("{} is missing: build it with cargo build --release", bin.display());
    }
    let dir = tempfile::tempdir()?;
    let database_url = std::env::var("BENCH_DATABASE_URL").ok();
    let backend = if database_url.is_some() { "PostgreSQL" } else { "SQLite" };
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!(
        "{cores} cores; {backend}; {} cases; {} audit entries; {} s per load point",
        args.cases, args.audit, args.seconds
    );

    // --- The instance and its data.
    let report = setup::init(
        InitOptions {
            data_dir: dir.path().join("data"),
            secrets_dir: dir.path().join("secrets"),
            recovery: vec![Identity::generate().recipient()],
            coordinator: Username::parse(COORDINATOR).expect("username"),
            coordinator_password: password(COORDINATOR_PASSWORD),
            admin: Username::parse("admin.first").expect("username"),
            kdf: KdfParams::FLOOR,
            database_url: database_url.clone(),
            database_allow_insecure: false,
        },
        Arc::new(SystemClock),
    )
    .await?;
    let vault = report.vault;
    let coordinator = Arc::new(accounts::unlock(&vault, COORDINATOR, COORDINATOR_PASSWORD).await?);
    let coordinator_secret = safehouse::accounts::totp::enrol_for_demo(&vault, coordinator.user_id()).await?;
    let (caseworker, caseworker_secret) =
        add_user(&vault, &coordinator, Role::Caseworker, "case.bench", true).await?;
    let mut shelter_ids = Vec::new();
    for (i, region) in ["Jilin", "Yanbian", "Bangkok", "Vientiane", "Ulaanbaatar"].iter().enumerate() {
        let details = ShelterDetails::parse(region, "40", "Bench shelter.")
            .map_err(|e| anyhow::anyhow!("{}", e.message))?;
        let code =
            ShelterCode::parse(&format!("BEN-{i:02}")).map_err(|e| anyhow::anyhow!("{}", e.message))?;
        shelter_ids.push(shelters::create(&vault, &coordinator, code, details).await?);
    }
    let generated = Instant::now();
    let ids = create_cases(&vault, &coordinator, &shelter_ids, args.cases).await?;
    let generated_in = generated.elapsed();
    // The measured case: in a shelter (the page shows its code name).
    let mut draft0 = draft(0, &shelter_ids);
    draft0.shelter = shelter_ids.first().copied();
    let measured = cases::create(&vault, &coordinator, draft0).await?;
    // The measured story: an arrived case with consent.
    let mut story_draft = draft(1, &shelter_ids);
    story_draft.stage = Stage::Arrived;
    let story_case = cases::create(&vault, &coordinator, story_draft).await?;
    cases::add_milestone(&vault, &coordinator, story_case, arrival()).await?;
    let mut assigned = vec![measured];
    assigned.extend(ids.iter().take(ASSIGNED - 1).copied());
    for case in &assigned {
        membership::assign(&vault, &coordinator, *case, caseworker.user_id()).await?;
    }
    let storm_users = storm_accounts(&vault, &coordinator, args.storm).await?;

    let mut table = Table::default();
    table.once(
        "generate cases (in process, 16 callers)",
        generated_in,
        &format!("{:.0} cases/s", args.cases as f64 / generated_in.as_secs_f64()),
    );

    // --- The floor, in this process.
    let (scan, rows) = index_scan(&vault, &coordinator).await?;
    let (scan2, _) = index_scan(&vault, &coordinator).await?;
    let scan_floor = scan.min(scan2);
    table.once("floor: index scan with decryption", scan_floor, &format!("{rows} rows, best of 2"));
    let (checks, passed) = story_checks(&vault, &coordinator, 50).await?;
    table.latency(
        "story k-anonymity check over every index record",
        &checks,
        &format!(
            "{} stories ({passed} passed k = 10), index read once; compare the scan floor",
            checks.latencies.len()
        ),
    );
    let mut reads = Vec::new();
    for _ in 0..200 {
        reads.push(case_read_floor(&vault, &caseworker, measured).await?);
    }
    table.latency(
        "floor: one case read (unwrap, open)",
        &Sample::of(reads, Duration::from_secs(1), 0),
        "200 reads, no entry",
    );
    let mut appends = Vec::new();
    let event = Event::system(Action::AuditRead, "bench");
    for _ in 0..200 {
        let t = Instant::now();
        vault.record(&event, Outcome::Ok).await?;
        appends.push(t.elapsed());
    }
    table.latency(
        "floor: one durable audit append",
        &Sample::of(appends, Duration::from_secs(1), 0),
        "200 appends, one at a time",
    );

    // --- The real server.
    let mut env: HashMap<String, String> = [
        ("SAFEHOUSE_DATA_DIR", dir.path().join("data").display().to_string()),
        ("SAFEHOUSE_SECRETS_DIR", dir.path().join("secrets").display().to_string()),
        ("SAFEHOUSE_TRUSTED_PROXIES", "127.0.0.1".to_owned()),
        ("SAFEHOUSE_LOG", "warn".to_owned()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    if let Some(url) = &database_url {
        env.insert("SAFEHOUSE_DATABASE_URL".into(), url.clone());
    }
    let server = Server::start(&bin, &env).await?;
    table.once(&format!("start-up, {} cases (until /health)", args.cases), server.started_in, "");
    let mut coord = Browser::new(&server.base);
    coord.login(COORDINATOR, COORDINATOR_PASSWORD, &coordinator_secret, None).await?;
    let mut worker = Browser::new(&server.base);
    worker.login("case.bench", PASSWORD, &caseworker_secret, None).await?;

    let (cold, warm) = cold_and_warm(&coord, "/", 30).await?;
    table.once(
        "dashboard GET /, cold (first after start)",
        cold,
        &format!("{:.1}x the scan floor", cold.as_secs_f64() / scan_floor.as_secs_f64()),
    );
    table.latency("dashboard GET /, warm", &warm, "30 requests, one at a time");
    let review = format!("/cases/{story_case}/story?kind=reached_safety");
    let (_, warm) = cold_and_warm(&coord, &review, 30).await?;
    table.latency(
        "story review page (all gates, k over the index), warm",
        &warm,
        "30 requests, one at a time",
    );
    // The list, cold: after a restart, so nothing the dashboard did helps.
    server.stop();
    let server = Server::start(&bin, &env).await?;
    // A new port: the sessions survive the restart (they live in the database).
    coord.base.clone_from(&server.base);
    worker.base.clone_from(&server.base);
    let (cold, warm) = cold_and_warm(&coord, "/cases", 30).await?;
    table.once(
        "case list GET /cases, cold (first after start)",
        cold,
        &format!("{:.1}x the scan floor", cold.as_secs_f64() / scan_floor.as_secs_f64()),
    );
    table.latency("case list GET /cases, warm", &warm, "30 requests, one at a time");

    pages(&mut table, &worker, measured, args.seconds, "").await;
    let s = updates(&mut worker, measured, 100).await?;
    table.latency("case update POST (CSRF, version)", &s, "100 saves, one at a time");

    let before = server.peak_mib();
    let (logins, during) = storm(&server.base, &storm_users, (&worker, &format!("/cases/{measured}"))).await;
    table.latency(
        &format!("login storm: {} logins at once", args.storm),
        &logins,
        &format!("all done in {:.1} s", logins.wall.as_secs_f64()),
    );
    table.latency("case page during the storm, 16 clients", &during, "");
    table.value(
        "server peak memory (VmHWM), MiB",
        format!("{:.0}", server.peak_mib()),
        &format!("in the p50 column; {before:.0} MiB before the storm"),
    );

    // --- A long trail, then the case page again.
    server.stop();
    let filled = fill_audit(&vault, &caseworker, &assigned, args.audit).await?;
    table.once(
        &format!("append {} audit entries (batches of {AUDIT_BATCH})", args.audit),
        filled,
        &format!("{:.0} entries/s", args.audit as f64 / filled.as_secs_f64()),
    );
    let server = Server::start(&bin, &env).await?;
    worker.base.clone_from(&server.base);
    table.once(&format!("start-up, {} cases, {} entries", args.cases, args.audit), server.started_in, "");
    pages(&mut table, &worker, measured, args.seconds, &format!(", {} entries", args.audit)).await;
    server.stop();

    table.print(&format!("{cores} cores, {backend}, {} cases", args.cases));
    drop(dir);
    Ok(())
}
