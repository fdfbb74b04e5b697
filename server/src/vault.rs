//! The [`Vault`]: what every service needs (the store, the server's keys,
//! the clock, the argon2 cost) in one value that is cheap to clone.

use std::sync::Arc;

use tokio::sync::Semaphore;
use zeroize::Zeroizing;

use crate::clock::Clock;
use crate::config::KdfParams;
use crate::crypto::Key32;
use crate::error::{ServiceError, ServiceResult};
use crate::keyring::Keyring;
use crate::storage::Store;

/// How many argon2 derivations may run at once: each takes 64 MiB, so a
/// login storm queues here instead of exhausting memory.
const KDF_CONCURRENCY: usize = 2;

#[derive(Clone)]
pub struct Vault {
    pub store: Arc<dyn Store>,
    pub keyring: Arc<Keyring>,
    pub clock: Arc<dyn Clock>,
    pub kdf: KdfParams,
    kdf_permits: Arc<Semaphore>,
}

impl std::fmt::Debug for Vault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Vault").field("keyring", &self.keyring).field("kdf", &self.kdf).finish()
    }
}

impl Vault {
    pub fn new(store: Arc<dyn Store>, keyring: Arc<Keyring>, clock: Arc<dyn Clock>, kdf: KdfParams) -> Self {
        Self { store, keyring, clock, kdf, kdf_permits: Arc::new(Semaphore::new(KDF_CONCURRENCY)) }
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
