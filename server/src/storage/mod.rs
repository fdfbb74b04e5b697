//! Storage behind one trait. Services do all cryptography and hand the store
//! ciphertexts and opaque ids only; the store never sees a key.
//!
//! Reads are methods; every write is a list of [`Write`]s that the store
//! applies in one transaction, all or nothing. Versioned updates carry the
//! version the writer read, and a stale one makes the whole list fail with
//! [`StoreError::Conflict`].

mod append;
pub mod postgres;
mod sql;
pub mod sqlite;

use async_trait::async_trait;

pub use postgres::PgStore;
pub use sqlite::SqliteStore;

/// The genesis "previous MAC" of an empty chain.
pub const GENESIS_MAC: [u8; 32] = [0u8; 32];

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// Someone else changed the record since it was read.
    #[error("the record was changed by someone else")]
    Conflict,
    /// A uniqueness rule was broken (the constraint's name says which).
    #[error("already exists ({0})")]
    Duplicate(&'static str),
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    /// The batch this write was part of could not be committed.
    #[error("the batch could not be committed: {0}")]
    Batch(String),
    #[error("migration error: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// The database holds a restore that was interrupted before its checks
    /// and its audit entry: no server starts on it.
    #[error(
        "a restore into this database did not finish: run the same `safehouse restore --from FILE` again \
         to finish it (docs/operations.md, \"Restoring\")"
    )]
    RestoreUnfinished,
}

/// What a wrapped secret is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ObjectKind {
    Team,
    Case,
    Shared,
    System,
}

/// Who can open a wrap.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HolderKind {
    User,
    Team,
    Recovery,
}

impl ObjectKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ObjectKind::Team => "team",
            ObjectKind::Case => "case",
            ObjectKind::Shared => "shared",
            ObjectKind::System => "system",
        }
    }
}

impl HolderKind {
    pub fn as_str(self) -> &'static str {
        match self {
            HolderKind::User => "user",
            HolderKind::Team => "team",
            HolderKind::Recovery => "recovery",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct WrapRow {
    pub object_kind: String,
    pub object_id: String,
    pub holder_kind: String,
    pub holder_id: String,
    pub key_no: i64,
    pub wrapped: Vec<u8>,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct InstanceRow {
    pub instance_id: String,
    pub pepper_check: Vec<u8>,
    pub format: i64,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct UserRow {
    pub id: String,
    pub lookup: Vec<u8>,
    pub version: i64,
    pub sealed_profile: Vec<u8>,
}

/// Everything the session check reads on every request, in one statement:
/// the lockdown, the user's session generation, their directory row, the
/// recipient of their current key and the key numbers of their
/// certification and voucher.
#[derive(Debug, Clone)]
pub struct SessionFacts {
    pub lockdown_epoch: i64,
    pub locked: bool,
    pub generation: i64,
    pub user: Option<UserRow>,
    pub recipient: Option<String>,
    pub certified_key_no: Option<i64>,
    pub vouched_key_no: Option<i64>,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct UserKeyRow {
    pub user_id: String,
    pub key_no: i64,
    pub recipient: String,
    pub kdf_salt: Vec<u8>,
    pub kdf_params: String,
    pub sealed_by_password: Vec<u8>,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct RecoveryCodeRow {
    pub user_id: String,
    pub key_no: i64,
    pub slot: i64,
    pub sealed: Vec<u8>,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct CertificationRow {
    pub user_id: String,
    pub key_no: i64,
    pub recipient: String,
    pub mac: Vec<u8>,
    pub handover_to_user: Vec<u8>,
    pub handover_to_coordinators: Vec<u8>,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct VoucherRow {
    pub user_id: String,
    pub key_no: i64,
    pub mac: Vec<u8>,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ActivationRow {
    pub user_id: String,
    pub expires_at: i64,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct CaseRow {
    pub id: String,
    pub version: i64,
    pub sealed_group: Vec<u8>,
    pub sealed_placement: Vec<u8>,
    pub sealed_notes: Vec<u8>,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct MilestoneRow {
    pub id: String,
    pub case_id: String,
    pub version: i64,
    pub sealed: Vec<u8>,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct IndexRow {
    pub case_id: String,
    pub sealed: Vec<u8>,
    /// The index counter's number when the row was last written (set by
    /// the store; ignored on a write).
    pub revision: i64,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct InboxRow {
    pub seq: i64,
    pub case_id: String,
    pub sealed: Vec<u8>,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ShelterRow {
    pub id: String,
    pub version: i64,
    pub sealed_code: Vec<u8>,
    pub sealed_details: Vec<u8>,
}

/// A story draft waiting for a coordinator (`stories::service`): `sealed`
/// is an age envelope to the coordinators recipient; `tag` is the case's
/// story tag (a MAC under a key derived from the case key).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct StoryDraftRow {
    pub id: String,
    pub tag: String,
    pub sealed: Vec<u8>,
}

/// An approved story, sealed to the communications team; 1 in `withdrawn`
/// once its case went back into danger or lost its consent.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct StoryRow {
    pub id: String,
    pub withdrawn: i64,
    pub sealed: Vec<u8>,
}

/// A case's link to one of its stories, sealed under the case key.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct StoryLinkRow {
    pub id: String,
    pub tag: String,
    pub sealed: Vec<u8>,
}

/// An approved table of public figures, sealed to the communications team.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct FigureTableRow {
    pub id: String,
    pub sealed: Vec<u8>,
}

/// An aid entry (`programmes::aid`), sealed under the register details
/// key; `supersedes` repeats, in clear, the entry it corrects.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AidEntryRow {
    pub id: String,
    pub supersedes: Option<String>,
    pub sealed: Vec<u8>,
}

/// A caseworker's aid entry waiting for a coordinator, or a kind of aid a
/// coordinator added, or an approved annual report: an id and a sealed body.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SealedRow {
    pub id: String,
    pub sealed: Vec<u8>,
}

/// A coordinator's request to purge a closed case at once, waiting for a
/// second coordinator (`purge::service`): opaque ids and the case version
/// it was made at.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct PurgeRequestRow {
    pub case_id: String,
    pub requester: String,
    pub case_version: i64,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct RecoveryRequestRow {
    pub id: String,
    pub user_id: String,
    pub key_no: i64,
}

/// One audit entry as stored. `seq`, `prev_mac` and `mac` are set by the
/// store when it appends the entry to the chain.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct AuditRow {
    pub seq: i64,
    pub at: String,
    pub actor: String,
    pub role: String,
    pub action: String,
    pub target: String,
    pub outcome: String,
    pub request_id: String,
    pub prev_mac: Vec<u8>,
    pub mac: Vec<u8>,
}

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct FlagRow {
    pub id: i64,
    pub actor: String,
    pub raised_at: String,
    pub distinct_cases: i64,
    pub window_minutes: i64,
}

/// What an auditor filters the trail by; empty fields match everything.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditFilter {
    pub actor: String,
    pub action: String,
    pub target: String,
    /// RFC 3339 bounds, inclusive.
    pub from: String,
    pub to: String,
}

/// Computes an entry's chain MAC. The store calls it inside the transaction
/// that appends the entry, so it never holds the audit key itself.
pub trait ChainMac: Send + Sync {
    fn mac(&self, row: &AuditRow) -> Vec<u8>;
}

/// Writes and the audit entry that records them: applied together in one
/// savepoint, or not at all. If the writes fail, the entry is appended with
/// the outcome `conflict` or `error` instead, so failures are recorded too.
#[derive(Debug, Clone)]
pub struct AuditedWrite {
    pub writes: Vec<Write>,
    pub entry: AuditRow,
}

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct TotpRow {
    pub user_id: String,
    pub sealed_secret: Vec<u8>,
    pub confirmed: i64,
    /// The last accepted time step, sealed; none before the first login
    /// after enrolment's confirmation or after the upgrade that sealed it.
    pub sealed_last_step: Option<Vec<u8>>,
}

/// One change. A list of them is applied in one transaction.
#[derive(Debug, Clone)]
pub enum Write {
    InsertInstance(InstanceRow),
    /// A new pepper (offline recovery after the pepper was lost).
    SetPepperCheck {
        pepper_check: Vec<u8>,
    },
    PutSystemKey {
        name: String,
        sealed: Vec<u8>,
    },
    PutTeam {
        name: String,
        recipient: String,
    },
    PutWrap(WrapRow),
    DeleteWrap {
        object_kind: ObjectKind,
        object_id: String,
        holder_kind: HolderKind,
        holder_id: String,
    },
    /// Fail as a conflict unless some user still holds this team's key
    /// (after the writes before it): two coordinators removing or freezing
    /// each other at once cannot leave the coordinators team empty, because
    /// audited writes are applied one after another (one writer; on
    /// PostgreSQL under the audit lock).
    RequireTeamHolder {
        team: String,
    },
    /// Fail as a conflict unless the user's profile is still at `version`
    /// (a decision made on a profile read before the write, such as an
    /// assignment, must not land after a freeze or reset changed it).
    RequireUserVersion {
        id: String,
        version: i64,
    },
    /// Remove every wrap a holder can open (a freeze, a reset).
    DeleteWrapsOfHolder {
        holder_kind: HolderKind,
        holder_id: String,
    },
    InsertUser(UserRow),
    /// Fails with a conflict unless the stored version is `expected_version`.
    UpdateUser {
        id: String,
        expected_version: i64,
        lookup: Vec<u8>,
        sealed_profile: Vec<u8>,
    },
    PutActivation {
        lookup: Vec<u8>,
        user_id: String,
        expires_at: i64,
    },
    DeleteActivation {
        lookup: Vec<u8>,
    },
    DeleteActivationsOf {
        user_id: String,
    },
    PutUserKey(UserKeyRow),
    DeleteUserKeysExcept {
        user_id: String,
        keep_key_no: Option<i64>,
    },
    PutRecoveryCode(RecoveryCodeRow),
    DeleteRecoveryCode {
        user_id: String,
        key_no: i64,
        slot: i64,
    },
    PutCertification(CertificationRow),
    DeleteCertification {
        user_id: String,
    },
    PutVoucher(VoucherRow),
    DeleteVoucher {
        user_id: String,
    },
    InsertCase(CaseRow),
    /// Fails with a conflict unless the stored version is `expected_version`.
    UpdateCase {
        expected_version: i64,
        row: CaseRow,
    },
    InsertMilestone(MilestoneRow),
    UpdateMilestone {
        expected_version: i64,
        row: MilestoneRow,
    },
    PutIndex(IndexRow),
    InsertInbox {
        case_id: String,
        sealed: Vec<u8>,
    },
    DeleteInbox {
        seq: i64,
    },
    PutPendingGrant {
        case_id: String,
        user_id: String,
    },
    DeletePendingGrant {
        case_id: String,
        user_id: String,
    },
    InsertShelter(ShelterRow),
    UpdateShelter {
        expected_version: i64,
        row: ShelterRow,
    },
    PutRecoveryRequest(RecoveryRequestRow),
    InsertFlag {
        actor: String,
        raised_at: String,
        distinct_cases: i64,
        window_minutes: i64,
    },
    /// A successful case read, for the bulk-reading check: the reader's
    /// latest read of this case (one row per reader and case).
    MarkCaseRead {
        actor: String,
        case_id: String,
        at: String,
    },
    PutTotp(TotpRow),
    DeleteTotp {
        user_id: String,
    },
    /// Accept a TOTP step once: replace the sealed last step, and fail with
    /// a conflict unless the stored one is still `expected` (what the
    /// caller read and checked the new step against).
    UseTotpStep {
        user_id: String,
        expected: Option<Vec<u8>>,
        sealed_step: Vec<u8>,
    },
    /// A success clears the account's throttle (attempts are counted by
    /// [`Store::count_account_attempt`], never written from a value read).
    DeleteLoginThrottle {
        key: Vec<u8>,
    },
    /// One more login that passed the password but not the code (counted
    /// in the database, so parallel failures all count; no time kept).
    CountLoginAlert {
        user_id: String,
    },
    DeleteLoginAlert {
        user_id: String,
    },
    /// The user's next login says that a recovery code set their password.
    PutRecoveryNotice {
        user_id: String,
    },
    DeleteRecoveryNotice {
        user_id: String,
    },
    /// End every session of a user (password, 2FA or roles changed; frozen).
    BumpGeneration {
        user_id: String,
    },
    /// Lock (a new epoch: every session ends) or lift.
    SetLockdown {
        locked: bool,
    },
    DeleteRecoveryRequest {
        id: String,
    },
    /// Fail as a conflict unless the case's story links (by tag) still
    /// number `count`: every case write that could put a case back into
    /// danger carries it, so it cannot miss a story approved meanwhile.
    RequireStoryLinks {
        tag: String,
        count: i64,
    },
    /// Fail as a conflict unless the case and each of its milestones are
    /// still at the versions read (and no milestone was added or removed):
    /// an approval must not land after a change it did not see.
    RequireCaseState {
        case_id: String,
        version: i64,
        milestones: Vec<(String, i64)>,
    },
    InsertStoryDraft(StoryDraftRow),
    /// Fails with a conflict unless the draft is still there: two
    /// coordinators approving one draft at once publish it once.
    DeleteStoryDraft {
        id: String,
    },
    InsertStory(StoryRow),
    /// Mark a story withdrawn (idempotent: a story is never un-withdrawn).
    WithdrawStory {
        id: String,
    },
    InsertStoryLink(StoryLinkRow),
    InsertFigureTable(FigureTableRow),
    /// Fails with a conflict if the entry it supersedes was already
    /// superseded (two corrections of one entry at once count once).
    /// An entry folded twice from the inbox (same id) is written once.
    InsertAidEntry(AidEntryRow),
    InsertAidInbox(SealedRow),
    /// Idempotent: two coordinator requests folding at once both delete.
    DeleteAidInbox {
        id: String,
    },
    InsertAidKind(SealedRow),
    InsertAnnualReport(SealedRow),
    /// A request to purge a case at once (replaces an earlier one).
    PutPurgeRequest(PurgeRequestRow),
    /// Delete a case and everything keyed by it (`purge::service`): its
    /// milestones, every wrap of its key, its index record and inbox rows,
    /// pending grants, purge request, read marks, and the story drafts and
    /// story links found by its story `tag`. Fails as a conflict unless the
    /// case is still at `version` (two purges at once purge once; a change
    /// since the purge was decided stops it). Takes the next number of the
    /// index counter and records it as the latest purge, so every node's
    /// in-memory index drops the case.
    PurgeCase {
        case_id: String,
        version: i64,
        tag: String,
    },
    // -- rotation (begin)
    /// Replace the sealed value of one row of a table whose rows are an id
    /// and a sealed value (a key rotation re-seals or re-encrypts it).
    /// Fails as a conflict unless the row is there.
    Reseal {
        table: SealedTable,
        id: String,
        sealed: Vec<u8>,
    },
    /// [`Write::Reseal`] for an entry of the index inbox (keyed by number).
    ResealInbox {
        seq: i64,
        sealed: Vec<u8>,
    },
    /// Close every open recovery request (a rotation made their wraps stale).
    DeleteRecoveryRequests,
    /// A story draft authenticated again under its case's new key, with
    /// the story tag that key derives. Fails as a conflict unless the
    /// draft is there.
    RetagStoryDraft {
        id: String,
        tag: String,
        sealed: Vec<u8>,
    },
    /// A story link re-sealed under its case's new key, with the story tag
    /// that key derives. Fails as a conflict unless the link is there.
    RetagStoryLink {
        id: String,
        tag: String,
        sealed: Vec<u8>,
    },
    // -- rotation (end)
}

/// The tables of an id and one sealed value, named for [`Write::Reseal`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SealedTable {
    StoryDrafts,
    Stories,
    StoryLinks,
    FigureTables,
    AidEntries,
    AidInbox,
    AidKinds,
    AnnualReports,
}

impl SealedTable {
    /// The statement that replaces a row's sealed value ($1 sealed, $2 id):
    /// one fixed text per table, never a name put together from input.
    /// The statement that reads every row's id and sealed value, in id order.
    pub fn rows_sql(self) -> &'static str {
        match self {
            SealedTable::StoryDrafts => "SELECT id, sealed FROM story_drafts ORDER BY id",
            SealedTable::Stories => "SELECT id, sealed FROM stories ORDER BY id",
            SealedTable::StoryLinks => "SELECT id, sealed FROM story_links ORDER BY id",
            SealedTable::FigureTables => "SELECT id, sealed FROM figure_tables ORDER BY id",
            SealedTable::AidEntries => "SELECT id, sealed FROM aid_entries ORDER BY id",
            SealedTable::AidInbox => "SELECT id, sealed FROM aid_inbox ORDER BY id",
            SealedTable::AidKinds => "SELECT id, sealed FROM aid_kinds ORDER BY id",
            SealedTable::AnnualReports => "SELECT id, sealed FROM annual_reports ORDER BY id",
        }
    }

    pub fn reseal_sql(self) -> &'static str {
        match self {
            SealedTable::StoryDrafts => "UPDATE story_drafts SET sealed = $1 WHERE id = $2",
            SealedTable::Stories => "UPDATE stories SET sealed = $1 WHERE id = $2",
            SealedTable::StoryLinks => "UPDATE story_links SET sealed = $1 WHERE id = $2",
            SealedTable::FigureTables => "UPDATE figure_tables SET sealed = $1 WHERE id = $2",
            SealedTable::AidEntries => "UPDATE aid_entries SET sealed = $1 WHERE id = $2",
            SealedTable::AidInbox => "UPDATE aid_inbox SET sealed = $1 WHERE id = $2",
            SealedTable::AidKinds => "UPDATE aid_kinds SET sealed = $1 WHERE id = $2",
            SealedTable::AnnualReports => "UPDATE annual_reports SET sealed = $1 WHERE id = $2",
        }
    }
}

/// The audit actions that change a case, as a case's history lists them
/// (and as the partial index of migration 0010 and `case_changes` spell them).
pub const CASE_CHANGE_ACTIONS: [&str; 6] =
    ["case.create", "case.update", "milestone.add", "milestone.edit", "case.assign", "case.unassign"];

/// `case_changes`: its condition repeats the partial index's exactly, so
/// both backends read the index (a test checks SQLite's plan).
pub const CASE_CHANGES_SQL: &str = "SELECT seq, at, actor, role, action, target, outcome, request_id, prev_mac, mac \
     FROM audit_log WHERE target = $1 AND seq < $2 AND outcome = 'ok' \
     AND action IN ('case.create', 'case.update', 'milestone.add', 'milestone.edit', 'case.assign', 'case.unassign') \
     ORDER BY seq DESC LIMIT $3";

/// The bulk-reading count (`Store::distinct_reads_since`): one reader's
/// rows of `case_reads` read since a time, at most a cap, through the
/// (actor, last_read) index. Public so a test can check its query plan.
pub const DISTINCT_READS_SINCE: &str = "SELECT COUNT(*) FROM (SELECT 1 FROM case_reads \
     WHERE actor = $1 AND last_read >= $2 LIMIT $3) AS distinct_reads";

#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// Apply every write in one transaction, or none. Unaudited: for
    /// tests and tools; services go through the audit writer.
    async fn apply(&self, writes: Vec<Write>) -> Result<(), StoreError>;

    /// Group commit: one transaction, each job in its own savepoint with its
    /// audit entry chained after the current head. Returns one result per
    /// job; the outer error means nothing at all was committed.
    async fn commit_audited(
        &self,
        jobs: Vec<AuditedWrite>,
        chain: &dyn ChainMac,
    ) -> Result<Vec<Result<(), StoreError>>, StoreError>;

    /// Audit entries with `seq > after`, in order, at most `limit`.
    async fn audit_rows(&self, after: i64, limit: i64) -> Result<Vec<AuditRow>, StoreError>;
    /// Entries about one target (a case, a user), newest first, with a
    /// sequence number below `before` (`i64::MAX` for the newest).
    async fn audit_of_target(
        &self,
        target: &str,
        before: i64,
        limit: i64,
    ) -> Result<Vec<AuditRow>, StoreError>;
    /// The successful changes to a case (the actions of
    /// [`CASE_CHANGE_ACTIONS`]), newest first, with a sequence number below `before`.
    async fn case_changes(&self, target: &str, before: i64, limit: i64) -> Result<Vec<AuditRow>, StoreError>;
    async fn audit_head(&self) -> Result<Option<AuditRow>, StoreError>;
    /// Entries matching `filter` with `seq > after`, in order, at most `limit`.
    async fn audit_search(
        &self,
        filter: &AuditFilter,
        after: i64,
        limit: i64,
    ) -> Result<Vec<AuditRow>, StoreError>;
    /// Entries matching `filter` with `seq < before`, newest first, at most
    /// `limit` (the trail page reads backwards from the head).
    async fn audit_search_back(
        &self,
        filter: &AuditFilter,
        before: i64,
        limit: i64,
    ) -> Result<Vec<AuditRow>, StoreError>;
    /// Distinct case ids `actor` read (outcome ok) since `since` (RFC 3339),
    /// counted up to `cap`: at most `cap` rows of `case_reads` through its
    /// (actor, last_read) index, whatever the size of the trail.
    async fn distinct_reads_since(&self, actor: &str, since: &str, cap: i64) -> Result<i64, StoreError>;
    async fn flags(&self) -> Result<Vec<FlagRow>, StoreError>;
    async fn latest_flag(&self, actor: &str) -> Result<Option<FlagRow>, StoreError>;
    /// Flags raised at or after `since` (RFC 3339), newest first.
    async fn flags_since(&self, since: &str) -> Result<Vec<FlagRow>, StoreError>;
    /// The newest `audit.verify` entry (a verification of the chain).
    async fn latest_verification(&self) -> Result<Option<AuditRow>, StoreError>;

    async fn instance(&self) -> Result<Option<InstanceRow>, StoreError>;
    async fn system_key(&self, name: &str) -> Result<Option<Vec<u8>>, StoreError>;
    async fn team_recipient(&self, name: &str) -> Result<Option<String>, StoreError>;

    async fn wrap(
        &self,
        object_kind: ObjectKind,
        object_id: &str,
        holder_kind: HolderKind,
        holder_id: &str,
    ) -> Result<Option<WrapRow>, StoreError>;
    async fn wraps_of_holder(
        &self,
        holder_kind: HolderKind,
        holder_id: &str,
    ) -> Result<Vec<WrapRow>, StoreError>;
    async fn wraps_of_object(
        &self,
        object_kind: ObjectKind,
        object_id: &str,
    ) -> Result<Vec<WrapRow>, StoreError>;

    async fn user(&self, id: &str) -> Result<Option<UserRow>, StoreError>;
    async fn user_by_lookup(&self, lookup: &[u8]) -> Result<Option<UserRow>, StoreError>;
    async fn users(&self) -> Result<Vec<UserRow>, StoreError>;
    async fn activation(&self, lookup: &[u8]) -> Result<Option<ActivationRow>, StoreError>;
    /// The newest key of a user.
    async fn user_key(&self, user_id: &str) -> Result<Option<UserKeyRow>, StoreError>;
    async fn recovery_codes(&self, user_id: &str, key_no: i64) -> Result<Vec<RecoveryCodeRow>, StoreError>;
    async fn certification(&self, user_id: &str) -> Result<Option<CertificationRow>, StoreError>;
    /// Every user's current (highest-numbered) key, in one read: the
    /// certification queue checks all accounts at once.
    async fn current_user_keys(&self) -> Result<Vec<UserKeyRow>, StoreError>;
    async fn certifications(&self) -> Result<Vec<CertificationRow>, StoreError>;
    async fn vouchers(&self) -> Result<Vec<VoucherRow>, StoreError>;
    async fn voucher(&self, user_id: &str) -> Result<Option<VoucherRow>, StoreError>;

    async fn case(&self, id: &str) -> Result<Option<CaseRow>, StoreError>;
    async fn case_ids(&self) -> Result<Vec<String>, StoreError>;
    async fn milestones(&self, case_id: &str) -> Result<Vec<MilestoneRow>, StoreError>;
    async fn milestone(&self, id: &str) -> Result<Option<MilestoneRow>, StoreError>;
    async fn index_rows(&self) -> Result<Vec<IndexRow>, StoreError>;
    async fn index_row(&self, case_id: &str) -> Result<Option<IndexRow>, StoreError>;
    /// The index counter: how many index writes were ever committed.
    async fn index_revision(&self) -> Result<i64, StoreError>;
    /// The index rows written after the counter stood at `revision`.
    async fn index_rows_after(&self, revision: i64) -> Result<Vec<IndexRow>, StoreError>;
    async fn inbox(&self) -> Result<Vec<InboxRow>, StoreError>;
    async fn pending_grants(&self) -> Result<Vec<(String, String)>, StoreError>;

    async fn shelters(&self) -> Result<Vec<ShelterRow>, StoreError>;
    async fn shelter(&self, id: &str) -> Result<Option<ShelterRow>, StoreError>;

    async fn purge_request(&self, case_id: &str) -> Result<Option<PurgeRequestRow>, StoreError>;
    /// The index counter's number at the latest purge (0: none).
    async fn index_purged(&self) -> Result<i64, StoreError>;
    /// After a purge: on SQLite, move the write-ahead log into the database
    /// file and truncate it (`PRAGMA wal_checkpoint(TRUNCATE)`), so the
    /// purged pages, zeroed by `secure_delete`, leave no copy in the log;
    /// on PostgreSQL nothing (VACUUM is the operator's, docs/operations.md).
    /// Returns whether the checkpoint completed (a reader may hold it back).
    async fn checkpoint(&self) -> Result<bool, StoreError>;

    async fn recovery_request(&self, id: &str) -> Result<Option<RecoveryRequestRow>, StoreError>;

    async fn story_drafts(&self) -> Result<Vec<StoryDraftRow>, StoreError>;
    async fn story_draft(&self, id: &str) -> Result<Option<StoryDraftRow>, StoreError>;
    async fn story_drafts_of(&self, tag: &str) -> Result<Vec<StoryDraftRow>, StoreError>;
    async fn stories(&self) -> Result<Vec<StoryRow>, StoreError>;
    async fn story(&self, id: &str) -> Result<Option<StoryRow>, StoreError>;
    async fn story_links(&self, tag: &str) -> Result<Vec<StoryLinkRow>, StoreError>;
    async fn figure_tables(&self) -> Result<Vec<FigureTableRow>, StoreError>;
    async fn aid_entries(&self) -> Result<Vec<AidEntryRow>, StoreError>;
    async fn aid_inbox(&self) -> Result<Vec<SealedRow>, StoreError>;
    async fn aid_kinds(&self) -> Result<Vec<SealedRow>, StoreError>;
    async fn annual_reports(&self) -> Result<Vec<SealedRow>, StoreError>;
    /// Every row of a sealed table, as id and sealed value (a rotation
    /// re-seals them all alike).
    async fn sealed_rows(&self, table: SealedTable) -> Result<Vec<SealedRow>, StoreError>;

    async fn totp(&self, user_id: &str) -> Result<Option<TotpRow>, StoreError>;
    /// (failures, last failure as a unix time)
    async fn login_throttle(&self, key: &[u8]) -> Result<Option<(i64, i64)>, StoreError>;
    /// Count an attempt from an address in one statement, so parallel
    /// attempts cannot all read the same count: a window `window_secs` old
    /// starts again. (window start as a unix time, attempts in the window
    /// with this one.) Rows of windows that have ended go.
    async fn count_address_attempt(
        &self,
        key: &[u8],
        now: i64,
        window_secs: i64,
    ) -> Result<(i64, i64), StoreError>;
    /// Count an attempt on an account as a failure (until a success clears
    /// it), in one statement, only if the throttle still holds `seen`
    /// ((failures, last failure), (0, 0) for none): the failures with this
    /// one, or `None` when another attempt was counted since `seen` was read.
    async fn count_account_attempt(
        &self,
        key: &[u8],
        seen: (i64, i64),
        now: i64,
    ) -> Result<Option<i64>, StoreError>;
    /// Wrong codes after the right password since the last login.
    async fn login_alert(&self, user_id: &str) -> Result<Option<i64>, StoreError>;
    /// Whether a recovery set the user's password since their last login.
    async fn recovery_notice(&self, user_id: &str) -> Result<bool, StoreError>;
    async fn generation(&self, user_id: &str) -> Result<i64, StoreError>;
    /// (epoch, locked)
    async fn lockdown(&self) -> Result<(i64, bool), StoreError>;
    /// What the session check needs, in one round trip (one snapshot).
    async fn session_facts(&self, user_id: &str) -> Result<SessionFacts, StoreError>;
}
