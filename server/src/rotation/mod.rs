//! Key rotation (`safehouse rotate`): a new key replaces an old one, and
//! everything that depended on the old key is re-wrapped or re-sealed in
//! one transaction, so the old key is in no row afterwards.
//!
//! - `teams`: the coordinators and communications team keys, and the
//!   recovery and backup recipients (the trust file changes with them).
//! - `data`: the index key and the register keys (their records re-sealed),
//!   and the compromise rotation: a new key for every case, every field
//!   re-sealed, the old wraps gone.
//!
//! Every rotation runs with every server stopped (the instance lock,
//! `setup::lock`) and reads the keys it replaces with the coordinators team
//! key, opened from a coordinator's credentials or from the recovery key.

pub mod data;
pub mod teams;

use crate::storage::Write;

/// What `safehouse rotate` can rotate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    Coordinators,
    Communications,
    Index,
    Registers,
    Recovery,
    Backup,
}

impl Target {
    pub fn as_str(self) -> &'static str {
        match self {
            Target::Coordinators => "coordinators",
            Target::Communications => "communications",
            Target::Index => "index",
            Target::Registers => "registers",
            Target::Recovery => "recovery",
            Target::Backup => "backup",
        }
    }
}

/// The writes of one rotation and what they amount to: wraps made again
/// for a new key, rows re-sealed or re-encrypted, and pending entries
/// dropped because they did not check under the old key (forged).
#[derive(Debug, Default)]
pub struct Plan {
    pub writes: Vec<Write>,
    pub rewrapped: usize,
    pub resealed: usize,
    pub refused: usize,
}

impl Plan {
    pub fn wrap(&mut self, write: Write) {
        self.writes.push(write);
        self.rewrapped += 1;
    }

    pub fn reseal(&mut self, write: Write) {
        self.writes.push(write);
        self.resealed += 1;
    }

    /// The deletion of a pending entry refused as forged.
    pub fn refuse(&mut self, write: Write) {
        self.writes.push(write);
        self.refused += 1;
    }

    /// A write that is neither (a team's new recipient, a guard).
    pub fn other(&mut self, write: Write) {
        self.writes.push(write);
    }

    pub fn extend(&mut self, other: Plan) {
        self.writes.extend(other.writes);
        self.rewrapped += other.rewrapped;
        self.resealed += other.resealed;
        self.refused += other.refused;
    }
}

/// Where a long rotation reports how far it is: `done` of `total` items of
/// the step named `step` (a progress bar on a terminal, lines otherwise).
pub trait Progress: Sync {
    fn advance(&self, step: &'static str, done: u64, total: u64);
}

/// No progress shown (tests, and steps too short to report).
pub struct Quiet;

impl Progress for Quiet {
    fn advance(&self, _: &'static str, _: u64, _: u64) {}
}
