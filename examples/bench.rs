//! Measures the audited read path and the group-commit audit writer on a
//! throwaway instance (real SQLite file, or with BENCH_DATABASE_URL an
//! empty PostgreSQL database; real keys).
//! Usage: scripts/bench [--postgres] [cases, default 2000] [ops per task, default 100]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use rand::Rng;
use safehouse::accounts::model::{Password, Username};
use safehouse::accounts::service as accounts;
use safehouse::audit::{self, Action, Event, Outcome};
use safehouse::cases::model::{AgeBand, Alias, Group, Note, Person, Stage, Status};
use safehouse::cases::service::{self as cases, CaseDraft};
use safehouse::clock::SystemClock;
use safehouse::config::KdfParams;
use safehouse::crypto::Identity;
use safehouse::setup::{self, InitOptions};
use safehouse::storage::AuditedWrite;
use secrecy::SecretString;

/// Concurrent callers per scenario: enough to keep the writer's queue full,
/// as many simultaneous requests would.
const TASKS: usize = 64;

struct Row {
    name: &'static str,
    ops: usize,
    wall: Duration,
    /// Per-call latencies; empty when only the total is meaningful.
    latencies: Vec<Duration>,
}

/// Run `op` `per_task` times in each of `TASKS` tasks, timing every call.
async fn concurrent<F, Fut>(name: &'static str, per_task: usize, op: F) -> anyhow::Result<Row>
where
    F: Fn() -> Fut + Clone + Send + 'static,
    Fut: Future<Output = anyhow::Result<()>> + Send + 'static,
{
    let start = Instant::now();
    let mut handles = Vec::with_capacity(TASKS);
    for _ in 0..TASKS {
        let op = op.clone();
        handles.push(tokio::spawn(async move {
            let mut latencies = Vec::with_capacity(per_task);
            for _ in 0..per_task {
                let t = Instant::now();
                op().await?;
                latencies.push(t.elapsed());
            }
            anyhow::Ok(latencies)
        }));
    }
    let mut latencies = Vec::with_capacity(TASKS * per_task);
    for handle in handles {
        latencies.extend(handle.await??);
    }
    Ok(Row { name, ops: latencies.len(), wall: start.elapsed(), latencies })
}

/// Nearest-rank percentile of sorted latencies, in ms.
fn percentile(sorted: &[Duration], p: f64) -> String {
    if sorted.is_empty() {
        return "-".into();
    }
    let rank = ((p * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    format!("{:.2}", sorted[rank - 1].as_secs_f64() * 1e3)
}

fn password(text: &str) -> Password {
    Password::parse(SecretString::from(text.to_owned())).expect("password")
}

/// A minimal case, like the integration tests' `draft`.
fn draft(n: usize) -> CaseDraft {
    let person = Person {
        alias: Alias::parse("Gannet").expect("alias"),
        age_band: AgeBand::Adult,
        gender: None,
        consent: false,
    };
    CaseDraft {
        group: Group::new(vec![person]).expect("group"),
        shelter: None,
        stage: Stage::Intake,
        status: Status::Open,
        notes: Note::parse(&format!("bench case {n}")).expect("note"),
    }
}

#[tokio::main(flavor = "multi_thread")]
async fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let n_cases: usize = args.next().map_or(Ok(2000), |a| a.parse())?;
    let per_task: usize = args.next().map_or(Ok(100), |a| a.parse())?;

    // A throwaway instance, made as tests/api/helpers.rs `instance()` does.
    let dir = tempfile::tempdir()?;
    let database_url = std::env::var("BENCH_DATABASE_URL").ok();
    let coordinator_password = "first coordinator passphrase";
    let report = setup::init(
        InitOptions {
            data_dir: dir.path().join("data"),
            secrets_dir: dir.path().join("secrets"),
            recovery: vec![Identity::generate().recipient()],
            coordinator: Username::parse("coord.first").expect("username"),
            coordinator_password: password(coordinator_password),
            admin: Username::parse("admin.first").expect("username"),
            kdf: KdfParams::FLOOR,
            database_url: database_url.clone(),
            database_allow_insecure: false,
        },
        Arc::new(SystemClock),
    )
    .await?;
    // The default bulk-read policy: the reader is flagged once, as in real use.
    let vault = report.vault;
    let actor = Arc::new(accounts::unlock(&vault, "coord.first", coordinator_password).await?);

    let nproc = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!(
        "machine: {nproc} cpus ({}/{}); database: {}; params: cases={n_cases}, tasks={TASKS}, \
         ops/task={per_task} (A, B and C each do {} ops)",
        std::env::consts::OS,
        std::env::consts::ARCH,
        if database_url.is_some() { "PostgreSQL" } else { "SQLite" },
        TASKS * per_task
    );
    let mut rows = Vec::new();

    // One creator at a time: the cost of a single audited write end to end.
    let start = Instant::now();
    let mut ids = Vec::with_capacity(n_cases);
    let mut latencies = Vec::with_capacity(n_cases);
    for n in 0..n_cases {
        let t = Instant::now();
        ids.push(cases::create(&vault, &actor, draft(n)).await?);
        latencies.push(t.elapsed());
    }
    rows.push(Row { name: "case creates (1 task)", ops: n_cases, wall: start.elapsed(), latencies });
    let ids = Arc::new(ids);

    // A: the full read path (unwrap, decrypt, audit append, bulk-read check).
    let (v, a) = (vault.clone(), actor.clone());
    rows.push(
        concurrent("A audited case reads", per_task, move || {
            let (vault, actor) = (v.clone(), a.clone());
            let id = ids[rand::thread_rng().gen_range(0..ids.len())];
            async move {
                cases::read(&vault, &actor, id).await?;
                Ok(())
            }
        })
        .await?,
    );

    // B: appends alone through the group-commit writer.
    let event = Event::system(Action::AuditRead, "bench");
    let (v, e) = (vault.clone(), event.clone());
    rows.push(
        concurrent("B audit appends, group", per_task, move || {
            let (vault, event) = (v.clone(), e.clone());
            async move { Ok(vault.record(&event, Outcome::Ok).await?) }
        })
        .await?,
    );

    // B2 (PostgreSQL): the same appends from two nodes at once, each with
    // its own pool and writer, serialised by the database's audit lock.
    if database_url.is_some() {
        let env = [
            ("SAFEHOUSE_DATA_DIR".to_owned(), dir.path().join("data").display().to_string()),
            ("SAFEHOUSE_SECRETS_DIR".to_owned(), dir.path().join("secrets").display().to_string()),
            ("SAFEHOUSE_DATABASE_URL".to_owned(), database_url.clone().unwrap_or_default()),
        ]
        .into_iter()
        .collect();
        let config = safehouse::config::Config::from_sources(None, &env)?;
        let nodes = [vault.clone(), setup::open(&config, Arc::new(SystemClock)).await?];
        let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let e = event.clone();
        rows.push(
            concurrent("B2 appends, group, 2 nodes", per_task, move || {
                let n = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let (vault, event) = (nodes[n % 2].clone(), e.clone());
                async move { Ok(vault.record(&event, Outcome::Ok).await?) }
            })
            .await?,
        );
    }

    // C: the same appends with one transaction (one fsync) each, straight on
    // the store: what the writer would cost without group commit.
    let (store, clock, chain) = (vault.store.clone(), vault.clock.clone(), vault.chain_key());
    rows.push(
        concurrent("C audit appends, txn each", per_task, move || {
            let (store, chain) = (store.clone(), chain.clone());
            let job = AuditedWrite { writes: Vec::new(), entry: event.row(Outcome::Ok, clock.now()) };
            async move {
                for result in store.commit_audited(vec![job], chain.as_ref()).await? {
                    result?;
                }
                Ok(())
            }
        })
        .await?,
    );

    // The whole chain, including every entry written above.
    let start = Instant::now();
    let verified = audit::service::verify(&vault, &[], |_| {}).await?;
    rows.push(Row {
        name: "verify chain (entries)",
        ops: verified.entries as usize,
        wall: start.elapsed(),
        latencies: Vec::new(),
    });

    println!(
        "{:<26} | {:>7} | {:>9} | {:>8} | {:>8} | {:>8}",
        "scenario", "ops", "ops/s", "p50 ms", "p99 ms", "max ms"
    );
    println!("{}", "-".repeat(26 + 7 + 9 + 8 * 3 + 5 * 3));
    for mut row in rows {
        row.latencies.sort_unstable();
        println!(
            "{:<26} | {:>7} | {:>9.0} | {:>8} | {:>8} | {:>8}",
            row.name,
            row.ops,
            row.ops as f64 / row.wall.as_secs_f64(),
            percentile(&row.latencies, 0.50),
            percentile(&row.latencies, 0.99),
            percentile(&row.latencies, 1.0),
        );
    }
    drop(dir);
    Ok(())
}
