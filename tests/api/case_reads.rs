//! Case reads (issue 11): a case page writes exactly one audit entry, and
//! the bulk-reading check after each read counts distinct cases from a
//! small table kept in the same audited write, through an index, so its
//! cost does not grow with the trail.

use std::sync::Arc;

use safehouse::accounts::model::Role;
use safehouse::audit::service::{self as audit, BulkReadPolicy};
use safehouse::cases::model::ShelterCode;
use safehouse::cases::service as cases;
use safehouse::clock::ManualClock;
use safehouse::ids::CaseId;
use safehouse::membership;
use safehouse::shelters::{self, ShelterDetails};

use crate::helpers::*;

async fn flags_of(
    app: &Instance,
    reader: &safehouse::accounts::model::Actor,
) -> Vec<safehouse::storage::FlagRow> {
    let reader = reader.user_id().to_string();
    audit::flags(&app.vault, &app.coordinator)
        .await
        .unwrap()
        .into_iter()
        .filter(|f| f.actor == reader)
        .collect()
}

#[tokio::test]
async fn a_case_page_writes_exactly_one_entry_and_shows_its_shelter_code() {
    let t = spawn_app().await;
    let vault = &t.app.vault;
    let worker = t.web_user("case.pager", Role::Caseworker).await;
    let details = ShelterDetails::parse("Jilin", "8", "Private notes.").unwrap();
    let shelter = shelters::create(vault, &t.app.coordinator, ShelterCode::parse("PGE-07").unwrap(), details)
        .await
        .unwrap();
    let mut d = draft(&["Smew"], "page");
    d.shelter = Some(shelter);
    let id = cases::create(vault, &t.app.coordinator, d).await.unwrap();
    membership::assign(vault, &t.app.coordinator, id, worker.actor.user_id()).await.unwrap();
    let mut client = t.login(&worker).await;

    let before = vault.store().audit_head().await.unwrap().unwrap().seq;
    let response = client.get(&format!("/cases/{id}")).await;
    assert_eq!(response.status(), 200);
    let body = response.text().await.unwrap();
    assert!(body.contains("PGE-07"), "the case page names its shelter by code");
    assert!(!body.contains("Jilin") && !body.contains("Private notes."), "never the shelter's details");

    let log = t.app.audit_log().await;
    let new: Vec<_> = log.iter().filter(|r| r.seq > before).collect();
    assert_eq!(
        new.len(),
        1,
        "one entry per case page: {:?}",
        new.iter().map(|r| &r.action).collect::<Vec<_>>()
    );
    assert_eq!(new[0].action, "case.read");
    assert_eq!(new[0].target, id.to_string());
    assert_eq!(new[0].actor, worker.actor.user_id().to_string());
    assert_eq!(new[0].outcome, "ok");

    // A page refused (a case the caseworker does not hold) writes its
    // refusal only, and reads no shelter.
    let other = cases::create(vault, &t.app.coordinator, {
        let mut d = draft(&["Teal"], "not theirs");
        d.shelter = Some(shelter);
        d
    })
    .await
    .unwrap();
    let before = vault.store().audit_head().await.unwrap().unwrap().seq;
    let response = client.get(&format!("/cases/{other}")).await;
    assert_eq!(response.status(), 404);
    let log = t.app.audit_log().await;
    let new: Vec<_> = log.iter().filter(|r| r.seq > before).collect();
    assert_eq!(new.len(), 1);
    assert_eq!((new[0].action.as_str(), new[0].outcome.as_str()), ("case.read", "denied"));

    // The register itself is still read under its own entry.
    let before = vault.store().audit_head().await.unwrap().unwrap().seq;
    shelters::list(vault, &worker.actor).await.unwrap();
    let log = t.app.audit_log().await;
    assert!(log.iter().any(|r| r.seq > before && r.action == "shelter.list"));
}

#[tokio::test]
async fn bulk_reading_flags_distinct_cases_at_the_threshold_once_per_window() {
    let clock = Arc::new(ManualClock::new(time::OffsetDateTime::now_utc()));
    let mut app = instance_with_clock(clock.clone()).await;
    app.vault = app.vault.clone().with_bulk_read(BulkReadPolicy { cases: 3, minutes: 10 });
    let worker = app.user("case.bulk", Role::Caseworker, true).await;
    let other = app.user("case.other", Role::Caseworker, true).await;
    let mut ids = Vec::new();
    for n in 0..8 {
        ids.push(cases::create(&app.vault, &worker, draft(&["Smew"], &format!("{n}"))).await.unwrap());
    }
    let theirs = cases::create(&app.vault, &other, draft(&["Teal"], "theirs")).await.unwrap();

    // One case read many times is one case.
    for _ in 0..40 {
        cases::read(&app.vault, &worker, ids[0]).await.unwrap();
    }
    // Refused reads open nothing and count for nothing.
    for _ in 0..5 {
        cases::read(&app.vault, &worker, theirs).await.unwrap_err();
        cases::read(&app.vault, &worker, CaseId::random()).await.unwrap_err();
    }
    // Another reader's reads are theirs.
    for _ in 0..3 {
        cases::read(&app.vault, &other, theirs).await.unwrap();
    }
    cases::read(&app.vault, &worker, ids[1]).await.unwrap();
    cases::read(&app.vault, &worker, ids[2]).await.unwrap();
    assert!(flags_of(&app, &worker).await.is_empty(), "3 distinct cases is the policy's limit, not past it");

    // The fourth distinct case raises the flag, with the count.
    cases::read(&app.vault, &worker, ids[3]).await.unwrap();
    let flags = flags_of(&app, &worker).await;
    assert_eq!(flags.len(), 1);
    assert_eq!(flags[0].distinct_cases, 4);
    assert_eq!(flags[0].window_minutes, 10);
    // Once per window, however much more is read.
    for id in &ids[4..8] {
        cases::read(&app.vault, &worker, *id).await.unwrap();
    }
    assert_eq!(flags_of(&app, &worker).await.len(), 1);
    assert!(flags_of(&app, &other).await.is_empty());

    // The window moves on: reads before it no longer count.
    clock.advance(time::Duration::minutes(11));
    for _ in 0..10 {
        cases::read(&app.vault, &worker, ids[0]).await.unwrap();
    }
    cases::read(&app.vault, &worker, ids[1]).await.unwrap();
    cases::read(&app.vault, &worker, ids[2]).await.unwrap();
    assert_eq!(flags_of(&app, &worker).await.len(), 1, "three distinct cases in the new window");
    cases::read(&app.vault, &worker, ids[5]).await.unwrap();
    let flags = flags_of(&app, &worker).await;
    assert_eq!(flags.len(), 2, "a second burst in a new window, a second flag");
    assert_eq!(flags[0].distinct_cases, 4);

    // Every successful read left exactly one entry, each chained.
    let log = app.audit_log().await;
    let reads = log
        .iter()
        .filter(|r| r.action == "case.read" && r.outcome == "ok" && r.actor == worker.user_id().to_string())
        .count();
    assert_eq!(reads, 40 + 2 + 1 + 4 + 10 + 2 + 1);
    audit::verify(&app.vault, &[], |_| {}).await.unwrap();
}

/// The per-read count goes through the (actor, last_read) index: never a
/// scan of the table, let alone of the trail.
#[tokio::test]
async fn the_bulk_reading_count_uses_its_index() {
    let app = instance().await;
    let worker = app.user("case.plan", Role::Caseworker, true).await;
    let id = cases::create(&app.vault, &worker, draft(&["Smew"], "plan")).await.unwrap();
    cases::read(&app.vault, &worker, id).await.unwrap();
    let sql = safehouse::storage::DISTINCT_READS_SINCE;
    let uid = worker.user_id().to_string();
    let plan: Vec<String> = match &app.pg {
        Some(db) => {
            use sqlx::Connection;
            let mut conn = sqlx::PgConnection::connect(&db.url).await.unwrap();
            // A table this small is cheaper to scan; ask whether the index
            // can serve the query at all.
            sqlx::query("SET enable_seqscan = off").execute(&mut conn).await.unwrap();
            let rows: Vec<(String,)> = sqlx::query_as(&format!("EXPLAIN {sql}"))
                .bind(&uid)
                .bind("2000-01-01T00:00:00Z")
                .bind(26_i64)
                .fetch_all(&mut conn)
                .await
                .unwrap();
            rows.into_iter().map(|(line,)| line).collect()
        }
        None => {
            let raw = app.raw().await;
            let rows: Vec<(i64, i64, i64, String)> = sqlx::query_as(&format!("EXPLAIN QUERY PLAN {sql}"))
                .bind(&uid)
                .bind("2000-01-01T00:00:00Z")
                .bind(26_i64)
                .fetch_all(raw.pool())
                .await
                .unwrap();
            raw.close().await;
            rows.into_iter().map(|(_, _, _, detail)| detail).collect()
        }
    };
    let plan = plan.join("\n");
    assert!(plan.contains("case_reads_by_actor"), "the count uses its index:\n{plan}");
    assert!(!plan.contains("audit_log"), "the count never reads the trail:\n{plan}");
    assert!(!plan.contains("Seq Scan") && !plan.contains("SCAN case_reads"), "no scan:\n{plan}");
}
