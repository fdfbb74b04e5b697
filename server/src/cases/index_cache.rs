//! The decrypted index, kept in memory between coordinator requests, so the
//! dashboard and the case list at 100,000 cases cost a check of one counter,
//! not a scan and 100,000 decryptions.
//!
//! What it holds and when it goes is written in SECURITY.md ("What a
//! running server holds in memory") and docs/dashboards.md. In short:
//! - only what the index record holds (aliases, stage, status, shelter id,
//!   assignee ids, times, age bands, genders, milestone kinds and dates),
//!   never a key: each request still opens the index key with the
//!   coordinators key it proved in that request, and the copy is served
//!   only if that key is the one it was made with;
//! - at most [`MAX_ENTRIES`] records and about [`MAX_BYTES`]; an index
//!   larger than that is read from the database on every request instead;
//! - current with every node's writes: each index write stamps its row with
//!   the next number of one counter (migration 0009), and every use reads
//!   the counter and the rows stamped after the copy's number;
//! - reloaded after a purge anywhere (a purge records the counter's
//!   number it took, and a copy older than that is made again);
//! - dropped when no coordinator has used it for the session idle time, at
//!   lockdown (on this node at once; on another at its next request or
//!   sweep), and when the last coordinator who used it has no session left.
//!
//! Aliases are zeroized when a record is dropped (`Summary`'s `Drop`).

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, AtomicUsize, Ordering};

use time::OffsetDateTime;

use super::index;
use super::service::Summary;
use crate::crypto::{self, Key32};
use crate::error::{ServiceError, ServiceResult};
use crate::ids::UserId;
use crate::storage::IndexRow;
use crate::vault::Vault;

/// The most records kept. An organisation past this reads its index from
/// the database on every request (and the log says so once).
pub const MAX_ENTRIES: usize = 250_000;
/// The most bytes kept, as estimated per record (`record_bytes`).
pub const MAX_BYTES: usize = 256 * 1024 * 1024;

/// Cases newest update first: what the dashboard and the list read.
pub type Newest = Arc<Vec<Arc<Summary>>>;

/// The marker of "no copy held" in `held_epoch`.
const NONE: i64 = i64::MIN;

pub struct IndexCache {
    held: tokio::sync::Mutex<Option<Held>>,
    /// The coordinators who used the copy, with their last use.
    users: std::sync::Mutex<BTreeMap<UserId, OffsetDateTime>>,
    /// The copy's lockdown epoch, readable without the lock (`NONE`: empty).
    held_epoch: AtomicI64,
    entries: AtomicUsize,
    idle_seconds: AtomicI64,
    warned_too_large: std::sync::atomic::AtomicBool,
}

struct Held {
    /// A MAC under the index key the copy was opened with (not the key).
    key_check: [u8; 32],
    /// The lockdown epoch when it was made.
    epoch: i64,
    /// The index counter this copy includes every write up to.
    revision: i64,
    by_case: HashMap<String, Arc<Summary>>,
    newest: Newest,
    bytes: usize,
    last_used: OffsetDateTime,
}

impl Default for IndexCache {
    fn default() -> Self {
        Self {
            held: tokio::sync::Mutex::new(None),
            users: std::sync::Mutex::new(BTreeMap::new()),
            held_epoch: AtomicI64::new(NONE),
            entries: AtomicUsize::new(0),
            idle_seconds: AtomicI64::new(30 * 60),
            warned_too_large: std::sync::atomic::AtomicBool::new(false),
        }
    }
}

impl std::fmt::Debug for IndexCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IndexCache").field("entries", &self.entries()).finish()
    }
}

fn key_check(index_key: &Key32) -> [u8; 32] {
    crypto::mac(index_key, &[b"index cache: the key this copy was opened with"])
}

/// A record's size in memory, roughly: its own size, its strings and lists,
/// the map entry and the reference count.
fn record_bytes(s: &Summary) -> usize {
    std::mem::size_of::<Summary>()
        + s.aliases.iter().map(|a| a.capacity() + std::mem::size_of::<String>()).sum::<usize>()
        + s.assignees.capacity() * std::mem::size_of::<UserId>()
        + s.persons.capacity() * std::mem::size_of::<index::PersonFacts>()
        + s.milestones.capacity() * std::mem::size_of::<index::MilestoneFacts>()
        + 36
        + 96
}

fn newest_first(by_case: &HashMap<String, Arc<Summary>>) -> Newest {
    let mut all: Vec<Arc<Summary>> = by_case.values().cloned().collect();
    // Ties broken by id: a total order, so an unstable sort is exact.
    all.sort_unstable_by(|a, b| b.updated_at.cmp(&a.updated_at).then_with(|| a.id.cmp(&b.id)));
    Arc::new(all)
}

/// Open rows off the async threads: a cold load is 100,000 decryptions,
/// which must not stall the requests sharing this thread.
async fn open_rows(index_key: &Key32, rows: Vec<IndexRow>) -> ServiceResult<Vec<(String, Summary)>> {
    let key = index_key.clone();
    tokio::task::spawn_blocking(move || {
        rows.into_iter()
            .map(|row| Ok((row.case_id.clone(), Summary::from(index::open(&key, &row)?))))
            .collect::<ServiceResult<Vec<_>>>()
    })
    .await
    .map_err(|_| ServiceError::Internal("index decryption task"))?
}

impl IndexCache {
    /// The session idle time: a copy no coordinator used for this long goes.
    pub fn set_idle(&self, idle: time::Duration) {
        self.idle_seconds.store(idle.whole_seconds().max(1), Ordering::Relaxed);
    }

    fn idle(&self) -> time::Duration {
        time::Duration::seconds(self.idle_seconds.load(Ordering::Relaxed))
    }

    /// How many records are held now (a test hook; no route shows it).
    pub fn entries(&self) -> usize {
        self.entries.load(Ordering::Relaxed)
    }

    /// Every case's index record, newest update first, for a coordinator's
    /// request that opened `index_key` itself.
    pub async fn read(&self, vault: &Vault, index_key: &Key32, user: UserId) -> ServiceResult<Newest> {
        let store = vault.store();
        let now = vault.clock.now();
        let check = key_check(index_key);
        // The counter first: every write numbered up to it is committed.
        let revision = store.index_revision().await?;
        let (epoch, locked) = store.lockdown().await?;
        if locked {
            self.clear().await;
            return Err(ServiceError::Forbidden("locked down"));
        }
        let mut held = self.held.lock().await;
        if held
            .as_ref()
            .is_some_and(|h| h.key_check != check || h.epoch != epoch || now - h.last_used > self.idle())
        {
            *held = None;
        }
        // A purge since the copy was made deleted an index row, which the
        // rows stamped after the copy's number cannot show: load afresh.
        if let Some(h) = held.as_ref() {
            if h.revision < revision && store.index_purged().await? > h.revision {
                *held = None;
            }
        }
        let newest = match held.as_mut() {
            Some(h) => {
                if h.revision < revision {
                    let rows = store.index_rows_after(h.revision).await?;
                    for (case_id, summary) in open_rows(index_key, rows).await? {
                        let summary = Arc::new(summary);
                        h.bytes += record_bytes(&summary);
                        if let Some(old) = h.by_case.insert(case_id, summary) {
                            h.bytes = h.bytes.saturating_sub(record_bytes(&old));
                        }
                    }
                    h.revision = revision;
                    h.newest = newest_first(&h.by_case);
                }
                h.last_used = now;
                let newest = h.newest.clone();
                let (n, bytes) = (h.by_case.len(), h.bytes);
                if n > MAX_ENTRIES || bytes > MAX_BYTES {
                    self.too_large(n);
                    *held = None;
                }
                newest
            }
            None => {
                let rows = store.index_rows().await?;
                let opened = open_rows(index_key, rows).await?;
                let mut by_case = HashMap::with_capacity(opened.len());
                let mut bytes = 0;
                for (case_id, summary) in opened {
                    bytes += record_bytes(&summary);
                    by_case.insert(case_id, Arc::new(summary));
                }
                let newest = newest_first(&by_case);
                if by_case.len() > MAX_ENTRIES || bytes > MAX_BYTES {
                    self.too_large(by_case.len());
                } else {
                    *held = Some(Held {
                        key_check: check,
                        epoch,
                        revision,
                        by_case,
                        newest: newest.clone(),
                        bytes,
                        last_used: now,
                    });
                }
                newest
            }
        };
        match held.as_ref() {
            Some(h) => {
                self.held_epoch.store(h.epoch, Ordering::Relaxed);
                self.entries.store(h.by_case.len(), Ordering::Relaxed);
                if let Ok(mut users) = self.users.lock() {
                    users.insert(user, now);
                }
            }
            None => self.emptied(),
        }
        Ok(newest)
    }

    fn too_large(&self, n: usize) {
        if !self.warned_too_large.swap(true, Ordering::Relaxed) {
            tracing::warn!(
                target: "safehouse::index",
                records = n,
                "the index is larger than the in-memory copy may be; every request reads it from the database"
            );
        }
    }

    fn emptied(&self) {
        self.held_epoch.store(NONE, Ordering::Relaxed);
        self.entries.store(0, Ordering::Relaxed);
        if let Ok(mut users) = self.users.lock() {
            users.clear();
        }
    }

    /// Drop the copy now (lockdown; the last coordinator gone). Records
    /// still in a request's hands go, zeroized, when it ends.
    pub async fn clear(&self) {
        let mut held = self.held.lock().await;
        *held = None;
        self.emptied();
    }

    /// A node saw the lockdown state (any request's session check): a
    /// lockdown since the copy was made drops it. Costs nothing otherwise.
    pub async fn observe_lockdown(&self, epoch: i64, locked: bool) {
        let held = self.held_epoch.load(Ordering::Relaxed);
        if held != NONE && (locked || held != epoch) {
            tracing::info!(target: "safehouse::index", "lockdown seen: the in-memory index is dropped");
            self.clear().await;
        }
    }

    /// A coordinator's session ended on this node and `live` sessions of
    /// theirs remain: with none, they no longer count as a user of the
    /// copy; with no user left, it goes.
    pub async fn session_ended(&self, user: UserId, live: i64) {
        if live > 0 {
            return;
        }
        let none_left = match self.users.lock() {
            Ok(mut users) => {
                users.remove(&user);
                users.is_empty()
            }
            Err(_) => true,
        };
        if none_left {
            self.clear().await;
        }
    }

    /// The periodic check (every few seconds, on every node): drop the copy
    /// if it idled out, if a lockdown happened anywhere, or if none of the
    /// coordinators who used it has a live session left (`live_sessions`
    /// counts a user's unexpired sessions in the shared session store).
    pub async fn sweep<F, Fut>(&self, vault: &Vault, live_sessions: F)
    where
        F: Fn(UserId) -> Fut,
        Fut: std::future::Future<Output = Option<i64>>,
    {
        if self.held_epoch.load(Ordering::Relaxed) == NONE {
            return;
        }
        match vault.store().lockdown().await {
            Ok((epoch, locked)) => self.observe_lockdown(epoch, locked).await,
            Err(e) => {
                tracing::warn!(target: "safehouse::index", error = %e, "cannot read the lockdown state")
            }
        }
        let now = vault.clock.now();
        let idle = self.idle();
        let users: Vec<(UserId, OffsetDateTime)> = match self.users.lock() {
            Ok(users) => users.iter().map(|(u, t)| (*u, *t)).collect(),
            Err(_) => Vec::new(),
        };
        let mut active = 0;
        for (user, last) in users {
            // A store error counts as a live session: never drop on doubt
            // alone, the idle time still bounds the copy.
            let live = live_sessions(user).await.unwrap_or(1);
            if now - last > idle || live == 0 {
                if let Ok(mut users) = self.users.lock() {
                    users.remove(&user);
                }
            } else {
                active += 1;
            }
        }
        let idled_out = {
            let held = self.held.lock().await;
            held.as_ref().is_none_or(|h| now - h.last_used > idle)
        };
        if active == 0 || idled_out {
            self.clear().await;
        }
    }
}
