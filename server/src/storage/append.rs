//! The audit append both backends share: each job in its own savepoint,
//! its writes then its entry chained after the head; or, if the writes
//! fail, the entry alone with the failure as its outcome. A backend supplies
//! only the statements (`AuditTx`), inside a transaction that already holds
//! the lock on the log.

use async_trait::async_trait;

use super::{AuditRow, AuditedWrite, ChainMac, GENESIS_MAC, StoreError, Write};

#[async_trait]
pub(super) trait AuditTx: Send {
    /// A statement without parameters (savepoints).
    async fn run(&mut self, sql: &'static str) -> Result<(), StoreError>;
    /// The last entry's sequence and MAC.
    async fn head(&mut self) -> Result<Option<(i64, Vec<u8>)>, StoreError>;
    async fn write(&mut self, write: Write) -> Result<(), StoreError>;
    async fn insert(&mut self, row: &AuditRow) -> Result<(), StoreError>;
}

fn outcome_of(error: &StoreError) -> &'static str {
    match error {
        StoreError::Conflict => "conflict",
        StoreError::Duplicate(_) => "invalid",
        _ => "error",
    }
}

pub(super) async fn append_jobs(
    tx: &mut dyn AuditTx,
    jobs: Vec<AuditedWrite>,
    chain: &dyn ChainMac,
) -> Result<Vec<Result<(), StoreError>>, StoreError> {
    let (mut seq, mut prev) = tx.head().await?.unwrap_or((0, GENESIS_MAC.to_vec()));
    let mut results = Vec::with_capacity(jobs.len());
    for job in jobs {
        let mut entry = job.entry;
        entry.seq = seq + 1;
        entry.prev_mac = prev.clone();
        entry.mac = chain.mac(&entry);
        tx.run("SAVEPOINT job").await?;
        let mut outcome = Ok(());
        for write in job.writes {
            if let Err(e) = tx.write(write).await {
                outcome = Err(e);
                break;
            }
        }
        if outcome.is_ok() {
            outcome = tx.insert(&entry).await;
        }
        match outcome {
            Ok(()) => {
                tx.run("RELEASE job").await?;
                seq = entry.seq;
                prev = entry.mac;
                results.push(Ok(()));
            }
            Err(error) => {
                tx.run("ROLLBACK TO job").await?;
                // Record the failure itself, in the same savepoint.
                entry.outcome = outcome_of(&error).to_owned();
                entry.mac = chain.mac(&entry);
                if tx.insert(&entry).await.is_ok() {
                    seq = entry.seq;
                    prev = entry.mac;
                } else {
                    tx.run("ROLLBACK TO job").await?;
                }
                tx.run("RELEASE job").await?;
                results.push(Err(error));
            }
        }
    }
    Ok(results)
}
