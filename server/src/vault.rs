//! The [`Vault`]: what every service needs (the store, the server's keys,
//! the clock, the argon2 cost) in one value that is cheap to clone.

use std::sync::Arc;

use tokio::sync::Semaphore;
use zeroize::Zeroizing;

use crate::audit::chain::ChainKey;
use crate::audit::service::BulkReadPolicy;
use crate::audit::writer::AuditWriter;
use crate::audit::{Event, Outcome};
use crate::cases::index_cache::IndexCache;
use crate::clock::Clock;
use crate::config::KdfParams;
use crate::crypto::Key32;
use crate::error::{ServiceError, ServiceResult};
use crate::keyring::Keyring;
use crate::storage::{AuditedWrite, Store, Write};

/// How many argon2 derivations may run at once: each takes 64 MiB, so a
/// login storm queues here instead of exhausting memory.
const KDF_CONCURRENCY: usize = 2;

#[derive(Clone)]
pub struct Vault {
    pub store: Arc<dyn Store>,
    pub keyring: Arc<Keyring>,
    pub clock: Arc<dyn Clock>,
    pub kdf: KdfParams,
    pub bulk_read: BulkReadPolicy,
    /// The decrypted index between coordinator requests (bounded; see
    /// `cases::index_cache` and SECURITY.md).
    pub index_cache: Arc<IndexCache>,
    /// The dashboard's "not updated for" thresholds, in days, ascending.
    pub stale_days: Arc<[u16]>,
    /// k, the embargo and the fiscal year of stories and public figures.
    pub publication: crate::publication::PublicationPolicy,
    /// Days after closing when one coordinator may purge a case alone.
    pub purge_retention_days: u16,
    kdf_permits: Arc<Semaphore>,
    chain: Arc<ChainKey>,
    audit: AuditWriter,
}

impl std::fmt::Debug for Vault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Vault").field("keyring", &self.keyring).field("kdf", &self.kdf).finish()
    }
}

impl Vault {
    /// Must be called inside a tokio runtime: it starts the audit writer.
    pub fn new(store: Arc<dyn Store>, keyring: Arc<Keyring>, clock: Arc<dyn Clock>, kdf: KdfParams) -> Self {
        let chain = Arc::new(ChainKey::new(keyring.audit_key()));
        let audit = AuditWriter::spawn(store.clone(), chain.clone());
        Self {
            store,
            keyring,
            clock,
            kdf,
            bulk_read: BulkReadPolicy::default(),
            index_cache: Arc::new(IndexCache::default()),
            stale_days: Arc::from(crate::config::DEFAULT_STALE_DAYS.as_slice()),
            publication: crate::publication::PublicationPolicy::default(),
            purge_retention_days: crate::config::DEFAULT_PURGE_RETENTION_DAYS,
            kdf_permits: Arc::new(Semaphore::new(KDF_CONCURRENCY)),
            chain,
            audit,
        }
    }

    pub fn with_bulk_read(mut self, policy: BulkReadPolicy) -> Self {
        self.bulk_read = policy;
        self
    }

    pub fn with_stale_days(mut self, days: &[u16]) -> Self {
        self.stale_days = Arc::from(days);
        self
    }

    pub fn with_publication(mut self, policy: crate::publication::PublicationPolicy) -> Self {
        self.publication = policy;
        self
    }

    pub fn with_purge_retention(mut self, days: u16) -> Self {
        self.purge_retention_days = days;
        self
    }

    pub fn chain_key(&self) -> Arc<ChainKey> {
        self.chain.clone()
    }

    /// Apply `writes` and append `event` (outcome ok) in one savepoint of a
    /// group commit. If the writes fail (a stale version), the event is
    /// recorded with that outcome instead and nothing else is written.
    pub async fn commit(&self, event: &Event, writes: Vec<Write>) -> ServiceResult<()> {
        let entry = event.row(Outcome::Ok, self.clock.now());
        self.audit.submit(AuditedWrite { writes, entry }).await.map_err(ServiceError::from)
    }

    /// Append an entry alone (a read, a denial), durably, before returning.
    pub async fn record(&self, event: &Event, outcome: Outcome) -> ServiceResult<()> {
        let entry = event.row(outcome, self.clock.now());
        self.audit.submit(AuditedWrite { writes: Vec::new(), entry }).await.map_err(ServiceError::from)
    }

    /// Record the outcome of `result` and hand it back; if the entry cannot
    /// be written, the caller gets an error and no data.
    pub async fn finish<T>(&self, event: &Event, result: ServiceResult<T>) -> ServiceResult<T> {
        self.record(event, Outcome::of(&result)).await?;
        result
    }

    /// Commit prepared writes, or record why they could not be prepared.
    pub async fn write(&self, event: &Event, prepared: ServiceResult<Vec<Write>>) -> ServiceResult<()> {
        match prepared {
            Ok(writes) => self.commit(event, writes).await,
            Err(error) => self.finish(event, Err(error)).await,
        }
    }

    pub fn store(&self) -> &dyn Store {
        self.store.as_ref()
    }

    /// argon2id(password, salt) with the pepper as argon2's secret, off the
    /// async threads and behind the concurrency limit.
    pub async fn argon2(&self, password: &[u8], salt: &[u8], params: KdfParams) -> ServiceResult<Key32> {
        let _permit =
            self.kdf_permits.acquire().await.map_err(|_| ServiceError::Internal("kdf limiter closed"))?;
        let pepper = self.keyring.pepper().clone();
        let password = Zeroizing::new(password.to_vec());
        let salt = salt.to_vec();
        tokio::task::spawn_blocking(move || argon2id(&password, &salt, &pepper, params))
            .await
            .map_err(|_| ServiceError::Internal("kdf task failed"))?
    }
}

pub fn argon2id(password: &[u8], salt: &[u8], pepper: &Key32, params: KdfParams) -> ServiceResult<Key32> {
    use argon2::{Algorithm, Argon2, Params, Version};
    let params = Params::new(params.memory_kib, params.iterations, params.parallelism, Some(32))
        .map_err(|_| ServiceError::Internal("argon2 parameters"))?;
    let argon = Argon2::new_with_secret(pepper.expose(), Algorithm::Argon2id, Version::V0x13, params)
        .map_err(|_| ServiceError::Internal("argon2 secret"))?;
    let mut out = [0u8; 32];
    argon.hash_password_into(password, salt, &mut out).map_err(|_| ServiceError::Internal("argon2"))?;
    let key = Key32::from_bytes(out);
    zeroize::Zeroize::zeroize(&mut out);
    Ok(key)
}
