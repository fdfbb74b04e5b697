//! The chain: each entry's MAC = HMAC-SHA-256 under a key derived from the
//! audit key, over a domain tag, the sequence, the previous MAC and a
//! canonical encoding of the entry. A copy of the database alone cannot
//! rebuild it; checkpoints kept off the server prove nothing was cut.

use crate::crypto::{self, Key32, Label};
use crate::storage::{AuditRow, ChainMac, GENESIS_MAC, Store, StoreError};

const DOMAIN: &[u8] = b"safehouse-audit-v1";
const CHECKPOINT_TAG: &str = "safehouse-audit-checkpoint-v1";

pub struct ChainKey(Key32);

impl ChainKey {
    pub fn new(audit_key: &Key32) -> Self {
        Self(audit_key.derive(Label::AuditChain, b""))
    }
}

impl std::fmt::Debug for ChainKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ChainKey(<redacted>)")
    }
}

impl ChainMac for ChainKey {
    fn mac(&self, row: &AuditRow) -> Vec<u8> {
        let seq = row.seq.to_be_bytes();
        crypto::mac(
            &self.0,
            &[
                DOMAIN,
                &seq,
                &row.prev_mac,
                row.at.as_bytes(),
                row.actor.as_bytes(),
                row.role.as_bytes(),
                row.action.as_bytes(),
                row.target.as_bytes(),
                row.outcome.as_bytes(),
                row.request_id.as_bytes(),
            ],
        )
        .to_vec()
    }
}

/// A point of the chain written down off the server: a sequence and its MAC.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    pub instance_id: String,
    pub seq: i64,
    pub mac: Vec<u8>,
}

impl Checkpoint {
    pub fn to_line(&self) -> String {
        let mac = crate::crypto::to_hex(&self.mac);
        format!("{CHECKPOINT_TAG} {} {} {mac}", self.instance_id, self.seq)
    }

    pub fn parse(text: &str) -> Option<Checkpoint> {
        let mut parts = text.split_whitespace();
        if parts.next()? != CHECKPOINT_TAG {
            return None;
        }
        let instance_id = parts.next()?.to_owned();
        let seq = parts.next()?.parse().ok()?;
        let hex = parts.next()?;
        if hex.len() != 64 {
            return None;
        }
        let mac = (0..32)
            .map(|i| hex.get(2 * i..2 * i + 2).and_then(|h| u8::from_str_radix(h, 16).ok()))
            .collect::<Option<Vec<u8>>>()?;
        Some(Checkpoint { instance_id, seq, mac })
    }
}

/// The first thing wrong with a chain.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Break {
    #[error(
        "entry {seq}: its MAC does not verify (the entry was edited, or the chain rebuilt without the audit key)"
    )]
    Mac { seq: i64 },
    #[error("entry {seq}: the sequence jumps from {previous} (entries were removed)")]
    Gap { previous: i64, seq: i64 },
    #[error("entry {seq}: it does not link to the entry before it (entries were removed or reordered)")]
    Link { seq: i64 },
    #[error("checkpoint at entry {seq}: the log now ends at entry {head}; entries were cut from the end")]
    Cut { seq: i64, head: i64 },
    #[error("checkpoint at entry {seq}: the entry differs from the checkpoint (rewritten)")]
    Rewritten { seq: i64 },
    #[error("checkpoint is for another instance ({0})")]
    OtherInstance(String),
    #[error("cannot read the audit log: {0}")]
    Store(String),
}

impl From<StoreError> for Break {
    fn from(e: StoreError) -> Self {
        Break::Store(e.to_string())
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    pub entries: i64,
    pub head: Option<Checkpoint>,
}

/// Walk the whole chain and report the first break. `progress` is called
/// with the number of entries checked so far, every page.
pub async fn verify(
    store: &dyn Store,
    key: &ChainKey,
    instance_id: &str,
    checkpoints: &[Checkpoint],
    mut progress: impl FnMut(i64),
) -> Result<Verified, Break> {
    if let Some(other) = checkpoints.iter().find(|c| c.instance_id != instance_id) {
        return Err(Break::OtherInstance(other.instance_id.clone()));
    }
    const PAGE: i64 = 10_000;
    let (mut last_seq, mut last_mac) = (0i64, GENESIS_MAC.to_vec());
    let mut count = 0i64;
    loop {
        let rows = store.audit_rows(last_seq, PAGE).await?;
        if rows.is_empty() {
            break;
        }
        for row in rows {
            if row.seq != last_seq + 1 {
                return Err(Break::Gap { previous: last_seq, seq: row.seq });
            }
            if !crypto::mac_verify_tag(&key.mac(&row), &row.mac) {
                return Err(Break::Mac { seq: row.seq });
            }
            if row.prev_mac != last_mac {
                return Err(Break::Link { seq: row.seq });
            }
            if let Some(cp) = checkpoints.iter().find(|c| c.seq == row.seq) {
                if cp.mac != row.mac {
                    return Err(Break::Rewritten { seq: row.seq });
                }
            }
            last_seq = row.seq;
            last_mac = row.mac;
            count += 1;
        }
        progress(count);
    }
    if let Some(cp) = checkpoints.iter().find(|c| c.seq > last_seq) {
        return Err(Break::Cut { seq: cp.seq, head: last_seq });
    }
    let head = (last_seq > 0).then(|| Checkpoint {
        instance_id: instance_id.to_owned(),
        seq: last_seq,
        mac: last_mac,
    });
    Ok(Verified { entries: count, head })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checkpoint_round_trip() {
        let cp = Checkpoint { instance_id: "abc".into(), seq: 42, mac: vec![7; 32] };
        assert_eq!(Checkpoint::parse(&cp.to_line()), Some(cp));
        assert_eq!(Checkpoint::parse("nonsense"), None);
    }
}
