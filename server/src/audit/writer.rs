//! One writer task for every audited write and every audit append. Callers
//! queue a job and wait; the task takes whatever jobs are waiting (up to a
//! batch), commits them in one transaction with a savepoint per job, and
//! answers each. One durable commit is shared by many requests (group
//! commit), and the chain head is read under the write lock, so the chain
//! never forks.

use std::sync::Arc;

use tokio::sync::{mpsc, oneshot};

use super::chain::ChainKey;
use crate::storage::{AuditedWrite, Store, StoreError};

/// The most jobs one transaction carries.
const MAX_BATCH: usize = 256;
/// How many jobs may wait before callers wait to queue.
const QUEUE: usize = 4096;

struct Job {
    work: AuditedWrite,
    reply: oneshot::Sender<Result<(), StoreError>>,
}

#[derive(Clone)]
pub struct AuditWriter {
    queue: mpsc::Sender<Job>,
}

impl std::fmt::Debug for AuditWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AuditWriter")
    }
}

impl AuditWriter {
    /// Start the writer task on the current tokio runtime. It ends when the
    /// last handle is dropped.
    pub fn spawn(store: Arc<dyn Store>, chain: Arc<ChainKey>) -> AuditWriter {
        let (queue, mut jobs) = mpsc::channel::<Job>(QUEUE);
        tokio::spawn(async move {
            while let Some(first) = jobs.recv().await {
                let mut batch = vec![first];
                while batch.len() < MAX_BATCH {
                    match jobs.try_recv() {
                        Ok(job) => batch.push(job),
                        Err(_) => break,
                    }
                }
                let (works, replies): (Vec<_>, Vec<_>) = batch.into_iter().map(|j| (j.work, j.reply)).unzip();
                match store.commit_audited(works, chain.as_ref()).await {
                    Ok(results) => {
                        for (reply, result) in replies.into_iter().zip(results) {
                            let _ = reply.send(result);
                        }
                    }
                    Err(error) => {
                        tracing::error!(error = ?error, "audited batch failed; every job in it is refused");
                        let message = error.to_string();
                        for reply in replies {
                            let _ = reply.send(Err(StoreError::Batch(message.clone())));
                        }
                    }
                }
            }
        });
        AuditWriter { queue }
    }

    /// Queue a job and wait until it is durable (or refused).
    pub async fn submit(&self, work: AuditedWrite) -> Result<(), StoreError> {
        let (reply, answer) = oneshot::channel();
        self.queue
            .send(Job { work, reply })
            .await
            .map_err(|_| StoreError::Batch("the audit writer has stopped".into()))?;
        answer.await.map_err(|_| StoreError::Batch("the audit writer has stopped".into()))?
    }
}
