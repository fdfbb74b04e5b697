//! Measures the coordinator's index read at N cases (default 100,000):
//! cold (the first request: a scan and one decryption per record), warm (the
//! in-memory copy, unchanged), after one write (the copy brought up to the
//! counter), and the dashboard's counting over it. Service level, one
//! process, a throwaway SQLite instance (or BENCH_DATABASE_URL).
//! Usage: cargo run --release --example dashboard_cache [cases]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use safehouse::accounts::model::{Password, Username};
use safehouse::accounts::service as accounts;
use safehouse::cases::index::{self, IndexRecord, PersonFacts};
use safehouse::cases::model::{AgeBand, Stage, Status};
use safehouse::cases::service as cases;
use safehouse::clock::SystemClock;
use safehouse::config::KdfParams;
use safehouse::crypto::Identity;
use safehouse::ids::CaseId;
use safehouse::membership::{self, SharedKey};
use safehouse::setup::{self, InitOptions};
use safehouse::storage::{CaseRow, Write};
use secrecy::SecretString;

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let n: usize = std::env::args().nth(1).map(|a| a.parse()).transpose()?.unwrap_or(100_000);
    let dir = tempfile::tempdir()?;
    let database_url = std::env::var("BENCH_DATABASE_URL").ok();
    let password = "first coordinator passphrase";
    let report = setup::init(
        InitOptions {
            data_dir: dir.path().join("data"),
            secrets_dir: dir.path().join("secrets"),
            recovery: vec![Identity::generate().recipient()],
            coordinator: Username::parse("coord.first")?,
            coordinator_password: Password::parse(SecretString::from(password.to_owned()))?,
            admin: Username::parse("admin.first")?,
            kdf: KdfParams::FLOOR,
            database_url: database_url.clone(),
            database_allow_insecure: false,
        },
        Arc::new(SystemClock),
    )
    .await?;
    let vault = report.vault;
    let actor = accounts::unlock(&vault, "coord.first", password).await?;
    let coordinators = membership::coordinators_identity(&vault, &actor).await?;
    let index_key = membership::shared_key_for_team(&vault, &coordinators, SharedKey::Index).await?;

    // Index rows as the service seals them; the case rows behind them are
    // placeholders (the index read never opens a case).
    let started = Instant::now();
    let now = time::OffsetDateTime::now_utc();
    for chunk in (0..n).collect::<Vec<_>>().chunks(5_000) {
        let mut writes = Vec::with_capacity(chunk.len() * 2);
        for &i in chunk {
            let id = CaseId::random();
            writes.push(Write::InsertCase(CaseRow {
                id: id.to_string(),
                version: 1,
                sealed_group: vec![0],
                sealed_placement: vec![0],
                sealed_notes: vec![0],
            }));
            let record = IndexRecord {
                case_id: id,
                version: 1,
                stage: Stage::ALL[i % 11],
                status: if i % 4 == 1 { Status::OnHold } else { Status::Open },
                shelter: None,
                aliases: (0..1 + i % 3).map(|p| format!("Person{i}x{p}")).collect(),
                assignees: Vec::new(),
                created_at: now,
                updated_at: now - time::Duration::days((i % 90) as i64),
                persons: vec![PersonFacts { age_band: AgeBand::Adult, gender: None }; 1 + i % 3],
                milestones: Vec::new(),
                closed_at: None,
            };
            writes.push(index::seal(&index_key, &record)?);
        }
        vault.store().apply(writes).await?;
    }
    println!("{n} index records written in {}", ms(started.elapsed()));

    let timed = async || -> anyhow::Result<(Duration, usize)> {
        let t = Instant::now();
        let (_, lines) = cases::dashboard(&vault, &actor).await?;
        Ok((t.elapsed(), lines.len()))
    };
    let floor = Instant::now();
    for row in vault.store().index_rows().await? {
        index::open(&index_key, &row)?;
    }
    let floor = floor.elapsed();
    let (cold, seen) = timed().await?;
    let mut warm = Vec::new();
    for _ in 0..20 {
        warm.push(timed().await?.0);
    }
    warm.sort();
    let one = cases::create(&vault, &actor, {
        let mut d = cases_draft();
        d.stage = Stage::Intake;
        d
    })
    .await?;
    let _ = one;
    let (after_write, _) = timed().await?;
    let (_, lines) = cases::dashboard(&vault, &actor).await?;
    let t = Instant::now();
    let figures =
        safehouse::dashboard::service::coordinator_figures(&lines, now, time::UtcOffset::UTC, &[14, 30, 60]);
    let counting = t.elapsed();
    println!(
        "backend {}, {} cores, {seen} cases, in memory: {} records",
        if database_url.is_some() { "PostgreSQL" } else { "SQLite" },
        std::thread::available_parallelism().map(|p| p.get()).unwrap_or(1),
        vault.index_cache.entries()
    );
    println!("| step | time |\n|---|---|");
    println!("| index scan with decryption (floor) | {} |", ms(floor));
    println!("| coordinator list, cold (fold, audited commit, scan, decrypt, sort) | {} |", ms(cold));
    println!("| coordinator list, warm, p50 of 20 | {} |", ms(warm[warm.len() / 2]));
    println!("| coordinator list, warm, worst of 20 | {} |", ms(warm[warm.len() - 1]));
    println!("| coordinator list after one write (one row read, re-sort) | {} |", ms(after_write));
    println!("| dashboard figures over all lines | {} ({} people) |", ms(counting), figures.people);
    Ok(())
}

fn cases_draft() -> cases::CaseDraft {
    use safehouse::cases::model::{Alias, Group, Note, Person};
    cases::CaseDraft {
        group: Group::new(vec![Person {
            alias: Alias::parse("Measured").unwrap(),
            age_band: AgeBand::Adult,
            gender: None,
            consent: false,
        }])
        .unwrap(),
        shelter: None,
        stage: Stage::Intake,
        status: Status::Open,
        notes: Note::parse("").unwrap(),
    }
}
