//! The statements of both SQL stores, written once. SQLite accepts the
//! same `$n` placeholders, `ON CONFLICT ... DO UPDATE` and `IS DISTINCT
//! FROM` as PostgreSQL, so every write and read is one text for both; only
//! opening, constraint names and how an audit append takes its lock differ,
//! and each backend's file supplies those (`map_constraint`,
//! `begin_append`) before expanding [`sql_store!`] for its connection type.

/// A statement that must change exactly one row: any other count means the
/// row moved under us (a version or a sequence number no longer matches),
/// a conflict for the caller to show, never a silent no-op.
macro_rules! one_row {
    ($statement:expr) => {{
        let done = $statement;
        if done.rows_affected() != 1 {
            return Err(StoreError::Conflict);
        }
        done
    }};
}

/// The write statements, the audit append's statements and the whole
/// [`super::Store`] implementation for `$store`, whose `pool` holds
/// connections of type `$conn`.
macro_rules! sql_store {
    ($store:ident, $conn:ty) => {
        async fn apply_one(conn: &mut $conn, write: Write) -> Result<(), StoreError> {
            use sqlx::query;
            let affected = match write {
                Write::InsertInstance(row) => query(
                    "INSERT INTO instance (singleton, instance_id, pepper_check, format) VALUES (1, $1, $2, $3)",
                )
                .bind(row.instance_id)
                .bind(row.pepper_check)
                .bind(row.format)
                .execute(&mut *conn)
                .await
                .map_err(map_constraint)?,
                Write::SetPepperCheck { pepper_check } => {
                    query("UPDATE instance SET pepper_check = $1 WHERE singleton = 1")
                        .bind(pepper_check)
                        .execute(&mut *conn)
                        .await?
                }
                Write::PutSystemKey { name, sealed } => {
                    query("INSERT INTO system_keys (name, sealed) VALUES ($1, $2) ON CONFLICT (name) DO UPDATE SET sealed = EXCLUDED.sealed")
                        .bind(name)
                        .bind(sealed)
                        .execute(&mut *conn)
                        .await?
                }
                Write::PutTeam { name, recipient } => {
                    query("INSERT INTO teams (name, recipient) VALUES ($1, $2) ON CONFLICT (name) DO UPDATE SET recipient = EXCLUDED.recipient")
                        .bind(name)
                        .bind(recipient)
                        .execute(&mut *conn)
                        .await?
                }
                Write::PutWrap(row) => query(
                    "INSERT INTO wraps (object_kind, object_id, holder_kind, holder_id, key_no, wrapped) \
                     VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (object_kind, object_id, holder_kind, holder_id) \
                     DO UPDATE SET key_no = EXCLUDED.key_no, wrapped = EXCLUDED.wrapped",
                )
                .bind(row.object_kind)
                .bind(row.object_id)
                .bind(row.holder_kind)
                .bind(row.holder_id)
                .bind(row.key_no)
                .bind(row.wrapped)
                .execute(&mut *conn)
                .await?,
                Write::DeleteWrap { object_kind, object_id, holder_kind, holder_id } => query(
                    "DELETE FROM wraps WHERE object_kind = $1 AND object_id = $2 AND holder_kind = $3 AND holder_id = $4",
                )
                .bind(object_kind.as_str())
                .bind(object_id)
                .bind(holder_kind.as_str())
                .bind(holder_id)
                .execute(&mut *conn)
                .await?,
                Write::RequireTeamHolder { team } => {
                    let (holders,): (i64,) = sqlx::query_as(
                        "SELECT COUNT(*) FROM wraps WHERE object_kind = $1 AND object_id = $2 AND holder_kind = $3",
                    )
                    .bind(ObjectKind::Team.as_str())
                    .bind(team)
                    .bind(HolderKind::User.as_str())
                    .fetch_one(&mut *conn)
                    .await?;
                    if holders == 0 {
                        return Err(StoreError::Conflict);
                    }
                    return Ok(());
                }
                Write::RequireStoryLinks { tag, count } => {
                    let (links,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM story_links WHERE tag = $1")
                        .bind(tag)
                        .fetch_one(&mut *conn)
                        .await?;
                    if links != count {
                        return Err(StoreError::Conflict);
                    }
                    return Ok(());
                }
                Write::RequireCaseState { case_id, version, mut milestones } => {
                    let row: Option<(i64,)> = sqlx::query_as("SELECT version FROM cases WHERE id = $1")
                        .bind(&case_id)
                        .fetch_optional(&mut *conn)
                        .await?;
                    let mut stored: Vec<(String, i64)> =
                        sqlx::query_as("SELECT id, version FROM milestones WHERE case_id = $1")
                            .bind(&case_id)
                            .fetch_all(&mut *conn)
                            .await?;
                    stored.sort_unstable();
                    milestones.sort_unstable();
                    if row != Some((version,)) || stored != milestones {
                        return Err(StoreError::Conflict);
                    }
                    return Ok(());
                }
                Write::RequireUserVersion { id, version } => {
                    let row: Option<(i64,)> = sqlx::query_as("SELECT version FROM users WHERE id = $1")
                        .bind(id)
                        .fetch_optional(&mut *conn)
                        .await?;
                    if row != Some((version,)) {
                        return Err(StoreError::Conflict);
                    }
                    return Ok(());
                }
                Write::DeleteWrapsOfHolder { holder_kind, holder_id } => {
                    query("DELETE FROM wraps WHERE holder_kind = $1 AND holder_id = $2")
                        .bind(holder_kind.as_str())
                        .bind(holder_id)
                        .execute(&mut *conn)
                        .await?
                }
                Write::InsertUser(row) => {
                    query("INSERT INTO users (id, lookup, version, sealed_profile) VALUES ($1, $2, $3, $4)")
                        .bind(row.id)
                        .bind(row.lookup)
                        .bind(row.version)
                        .bind(row.sealed_profile)
                        .execute(&mut *conn)
                        .await
                        .map_err(map_constraint)?
                }
                Write::UpdateUser { id, expected_version, lookup, sealed_profile } => {
                    $crate::storage::sql::one_row!(query(
                        "UPDATE users SET lookup = $1, sealed_profile = $2, version = version + 1 \
                         WHERE id = $3 AND version = $4",
                    )
                    .bind(lookup)
                    .bind(sealed_profile)
                    .bind(id)
                    .bind(expected_version)
                    .execute(&mut *conn)
                    .await
                    .map_err(map_constraint)?)
                }
                Write::PutActivation { lookup, user_id, expires_at } => {
                    query("INSERT INTO activations (lookup, user_id, expires_at) VALUES ($1, $2, $3) \
                     ON CONFLICT (lookup) DO UPDATE SET user_id = EXCLUDED.user_id, expires_at = EXCLUDED.expires_at")
                        .bind(lookup)
                        .bind(user_id)
                        .bind(expires_at)
                        .execute(&mut *conn)
                        .await?
                }
                Write::DeleteActivation { lookup } => {
                    // Single use: deleting a token that is already gone is a conflict,
                    // so two concurrent activations cannot both succeed.
                    $crate::storage::sql::one_row!(query("DELETE FROM activations WHERE lookup = $1")
                        .bind(lookup)
                        .execute(&mut *conn)
                        .await?)
                }
                Write::DeleteActivationsOf { user_id } => query("DELETE FROM activations WHERE user_id = $1")
                    .bind(user_id)
                    .execute(&mut *conn)
                    .await?,
                Write::PutUserKey(row) => query(
                    "INSERT INTO user_keys (user_id, key_no, recipient, kdf_salt, kdf_params, sealed_by_password) \
                     VALUES ($1, $2, $3, $4, $5, $6) \
                     ON CONFLICT (user_id, key_no) DO UPDATE SET recipient = excluded.recipient, \
                     kdf_salt = excluded.kdf_salt, kdf_params = excluded.kdf_params, \
                     sealed_by_password = excluded.sealed_by_password",
                )
                .bind(row.user_id)
                .bind(row.key_no)
                .bind(row.recipient)
                .bind(row.kdf_salt)
                .bind(row.kdf_params)
                .bind(row.sealed_by_password)
                .execute(&mut *conn)
                .await?,
                Write::DeleteUserKeysExcept { user_id, keep_key_no } => {
                    query("DELETE FROM user_keys WHERE user_id = $1 AND key_no IS DISTINCT FROM $2")
                        .bind(user_id)
                        .bind(keep_key_no)
                        .execute(&mut *conn)
                        .await?
                }
                Write::PutRecoveryCode(row) => query(
                    "INSERT INTO recovery_codes (user_id, key_no, slot, sealed) VALUES ($1, $2, $3, $4) \
                     ON CONFLICT (user_id, key_no, slot) DO UPDATE SET sealed = EXCLUDED.sealed",
                )
                .bind(row.user_id)
                .bind(row.key_no)
                .bind(row.slot)
                .bind(row.sealed)
                .execute(&mut *conn)
                .await?,
                Write::DeleteRecoveryCode { user_id, key_no, slot } => {
                    $crate::storage::sql::one_row!(query("DELETE FROM recovery_codes WHERE user_id = $1 AND key_no = $2 AND slot = $3")
                            .bind(user_id)
                            .bind(key_no)
                            .bind(slot)
                            .execute(&mut *conn)
                            .await?)
                }
                Write::PutCertification(row) => query(
                    "INSERT INTO certifications \
                     (user_id, key_no, recipient, mac, handover_to_user, handover_to_coordinators) VALUES ($1, $2, $3, $4, $5, $6) \
                     ON CONFLICT (user_id) DO UPDATE SET key_no = EXCLUDED.key_no, recipient = EXCLUDED.recipient, \
                     mac = EXCLUDED.mac, handover_to_user = EXCLUDED.handover_to_user, \
                     handover_to_coordinators = EXCLUDED.handover_to_coordinators",
                )
                .bind(row.user_id)
                .bind(row.key_no)
                .bind(row.recipient)
                .bind(row.mac)
                .bind(row.handover_to_user)
                .bind(row.handover_to_coordinators)
                .execute(&mut *conn)
                .await?,
                Write::DeleteCertification { user_id } => query("DELETE FROM certifications WHERE user_id = $1")
                    .bind(user_id)
                    .execute(&mut *conn)
                    .await?,
                Write::PutVoucher(row) => {
                    query("INSERT INTO vouchers (user_id, key_no, mac) VALUES ($1, $2, $3) \
                         ON CONFLICT (user_id) DO UPDATE SET key_no = EXCLUDED.key_no, mac = EXCLUDED.mac")
                        .bind(row.user_id)
                        .bind(row.key_no)
                        .bind(row.mac)
                        .execute(&mut *conn)
                        .await?
                }
                Write::DeleteVoucher { user_id } => query("DELETE FROM vouchers WHERE user_id = $1")
                    .bind(user_id)
                    .execute(&mut *conn)
                    .await?,
                Write::InsertCase(row) => query(
                    "INSERT INTO cases (id, version, sealed_group, sealed_placement, sealed_notes) VALUES ($1, $2, $3, $4, $5)",
                )
                .bind(row.id)
                .bind(row.version)
                .bind(row.sealed_group)
                .bind(row.sealed_placement)
                .bind(row.sealed_notes)
                .execute(&mut *conn)
                .await
                .map_err(map_constraint)?,
                Write::UpdateCase { expected_version, row } => {
                    $crate::storage::sql::one_row!(query(
                        "UPDATE cases SET version = $1, sealed_group = $2, sealed_placement = $3, sealed_notes = $4 \
                         WHERE id = $5 AND version = $6",
                    )
                    .bind(row.version)
                    .bind(row.sealed_group)
                    .bind(row.sealed_placement)
                    .bind(row.sealed_notes)
                    .bind(row.id)
                    .bind(expected_version)
                    .execute(&mut *conn)
                    .await?)
                }
                Write::InsertMilestone(row) => {
                    query("INSERT INTO milestones (id, case_id, version, sealed) VALUES ($1, $2, $3, $4)")
                        .bind(row.id)
                        .bind(row.case_id)
                        .bind(row.version)
                        .bind(row.sealed)
                        .execute(&mut *conn)
                        .await
                        .map_err(map_constraint)?
                }
                Write::UpdateMilestone { expected_version, row } => {
                    $crate::storage::sql::one_row!(query(
                        "UPDATE milestones SET version = $1, sealed = $2 WHERE id = $3 AND case_id = $4 AND version = $5",
                    )
                    .bind(row.version)
                    .bind(row.sealed)
                    .bind(row.id)
                    .bind(row.case_id)
                    .bind(expected_version)
                    .execute(&mut *conn)
                    .await?)
                }
                Write::PutIndex(row) => {
                    // The next number of the index counter stamps the row
                    // (migration 0009): the counter's row lock, held to
                    // commit, orders the numbers as the commits.
                    query("UPDATE index_revision SET revision = revision + 1 WHERE singleton = 1")
                        .execute(&mut *conn)
                        .await?;
                    query(
                        "INSERT INTO case_index (case_id, sealed, revision) \
                         VALUES ($1, $2, (SELECT revision FROM index_revision WHERE singleton = 1)) \
                         ON CONFLICT (case_id) DO UPDATE SET sealed = EXCLUDED.sealed, revision = EXCLUDED.revision",
                    )
                    .bind(row.case_id)
                    .bind(row.sealed)
                    .execute(&mut *conn)
                    .await?
                }
                Write::InsertInbox { case_id, sealed } => {
                    query("INSERT INTO index_inbox (case_id, sealed) VALUES ($1, $2)")
                        .bind(case_id)
                        .bind(sealed)
                        .execute(&mut *conn)
                        .await?
                }
                Write::DeleteInbox { seq } => query("DELETE FROM index_inbox WHERE seq = $1")
                    .bind(seq)
                    .execute(&mut *conn)
                    .await?,
                Write::PutPendingGrant { case_id, user_id } => {
                    query("INSERT INTO pending_grants (case_id, user_id) VALUES ($1, $2) ON CONFLICT DO NOTHING")
                        .bind(case_id)
                        .bind(user_id)
                        .execute(&mut *conn)
                        .await?
                }
                Write::DeletePendingGrant { case_id, user_id } => {
                    query("DELETE FROM pending_grants WHERE case_id = $1 AND user_id = $2")
                        .bind(case_id)
                        .bind(user_id)
                        .execute(&mut *conn)
                        .await?
                }
                Write::InsertStoryDraft(row) => {
                    query("INSERT INTO story_drafts (id, tag, sealed) VALUES ($1, $2, $3)")
                        .bind(row.id)
                        .bind(row.tag)
                        .bind(row.sealed)
                        .execute(&mut *conn)
                        .await
                        .map_err(map_constraint)?
                }
                Write::DeleteStoryDraft { id } => {
                    $crate::storage::sql::one_row!(query("DELETE FROM story_drafts WHERE id = $1").bind(id).execute(&mut *conn).await?)
                }
                Write::InsertStory(row) => {
                    query("INSERT INTO stories (id, withdrawn, sealed) VALUES ($1, $2, $3)")
                        .bind(row.id)
                        .bind(row.withdrawn)
                        .bind(row.sealed)
                        .execute(&mut *conn)
                        .await
                        .map_err(map_constraint)?
                }
                Write::WithdrawStory { id } => {
                    query("UPDATE stories SET withdrawn = 1 WHERE id = $1").bind(id).execute(&mut *conn).await?
                }
                Write::InsertStoryLink(row) => {
                    query("INSERT INTO story_links (id, tag, sealed) VALUES ($1, $2, $3)")
                        .bind(row.id)
                        .bind(row.tag)
                        .bind(row.sealed)
                        .execute(&mut *conn)
                        .await
                        .map_err(map_constraint)?
                }
                Write::InsertFigureTable(row) => {
                    query("INSERT INTO figure_tables (id, sealed) VALUES ($1, $2)")
                        .bind(row.id)
                        .bind(row.sealed)
                        .execute(&mut *conn)
                        .await
                        .map_err(map_constraint)?
                }
                Write::InsertAidEntry(row) => query(
                    "INSERT INTO aid_entries (id, supersedes, sealed) VALUES ($1, $2, $3) ON CONFLICT (id) DO NOTHING",
                )
                .bind(row.id)
                .bind(row.supersedes)
                .bind(row.sealed)
                .execute(&mut *conn)
                .await
                .map_err(map_constraint)?,
                Write::InsertAidInbox(row) => query("INSERT INTO aid_inbox (id, sealed) VALUES ($1, $2)")
                    .bind(row.id)
                    .bind(row.sealed)
                    .execute(&mut *conn)
                    .await
                    .map_err(map_constraint)?,
                Write::DeleteAidInbox { id } => {
                    query("DELETE FROM aid_inbox WHERE id = $1").bind(id).execute(&mut *conn).await?
                }
                Write::InsertAidKind(row) => query("INSERT INTO aid_kinds (id, sealed) VALUES ($1, $2)")
                    .bind(row.id)
                    .bind(row.sealed)
                    .execute(&mut *conn)
                    .await
                    .map_err(map_constraint)?,
                Write::InsertAnnualReport(row) => query("INSERT INTO annual_reports (id, sealed) VALUES ($1, $2)")
                    .bind(row.id)
                    .bind(row.sealed)
                    .execute(&mut *conn)
                    .await
                    .map_err(map_constraint)?,
                Write::InsertShelter(row) => query(
                    "INSERT INTO shelters (id, version, sealed_code, sealed_details) VALUES ($1, $2, $3, $4)",
                )
                .bind(row.id)
                .bind(row.version)
                .bind(row.sealed_code)
                .bind(row.sealed_details)
                .execute(&mut *conn)
                .await
                .map_err(map_constraint)?,
                Write::UpdateShelter { expected_version, row } => {
                    $crate::storage::sql::one_row!(query(
                        "UPDATE shelters SET version = $1, sealed_code = $2, sealed_details = $3 WHERE id = $4 AND version = $5",
                    )
                    .bind(row.version)
                    .bind(row.sealed_code)
                    .bind(row.sealed_details)
                    .bind(row.id)
                    .bind(expected_version)
                    .execute(&mut *conn)
                    .await?)
                }
                Write::PutRecoveryRequest(row) => {
                    query("INSERT INTO recovery_requests (id, user_id, key_no) VALUES ($1, $2, $3)")
                        .bind(row.id)
                        .bind(row.user_id)
                        .bind(row.key_no)
                        .execute(&mut *conn)
                        .await?
                }
                Write::InsertFlag { actor, raised_at, distinct_cases, window_minutes } => query(
                    "INSERT INTO audit_flags (actor, raised_at, distinct_cases, window_minutes) VALUES ($1, $2, $3, $4)",
                )
                .bind(actor)
                .bind(raised_at)
                .bind(distinct_cases)
                .bind(window_minutes)
                .execute(&mut *conn)
                .await?,
                Write::MarkCaseRead { actor, case_id, at } => query(
                    "INSERT INTO case_reads (actor, case_id, last_read) VALUES ($1, $2, $3) \
                     ON CONFLICT (actor, case_id) DO UPDATE SET last_read = EXCLUDED.last_read",
                )
                .bind(actor)
                .bind(case_id)
                .bind(at)
                .execute(&mut *conn)
                .await?,
                Write::PutTotp(row) => query(
                    "INSERT INTO totp (user_id, sealed_secret, confirmed, sealed_last_step) VALUES ($1, $2, $3, $4) \
                     ON CONFLICT (user_id) DO UPDATE SET sealed_secret = EXCLUDED.sealed_secret, \
                     confirmed = EXCLUDED.confirmed, sealed_last_step = EXCLUDED.sealed_last_step",
                )
                .bind(row.user_id)
                .bind(row.sealed_secret)
                .bind(row.confirmed)
                .bind(row.sealed_last_step)
                .execute(&mut *conn)
                .await?,
                Write::DeleteTotp { user_id } => {
                    query("DELETE FROM totp WHERE user_id = $1").bind(user_id).execute(&mut *conn).await?
                }
                Write::UseTotpStep { user_id, expected, sealed_step } => {
                    // Compare-and-swap on the ciphertext: each seal has a fresh
                    // nonce, so of two requests that read the same value only
                    // the first one's update matches.
                    $crate::storage::sql::one_row!(query(
                        "UPDATE totp SET sealed_last_step = $1 \
                         WHERE user_id = $2 AND confirmed = 1 AND sealed_last_step IS NOT DISTINCT FROM $3",
                    )
                    .bind(sealed_step)
                    .bind(user_id)
                    .bind(expected)
                    .execute(&mut *conn)
                    .await?)
                }
                Write::DeleteLoginThrottle { key } => {
                    query("DELETE FROM login_throttle WHERE key = $1").bind(key).execute(&mut *conn).await?
                }
                Write::CountLoginAlert { user_id } => query(
                    "INSERT INTO login_alerts (user_id, count) VALUES ($1, 1) \
                     ON CONFLICT (user_id) DO UPDATE SET count = login_alerts.count + 1",
                )
                .bind(user_id)
                .execute(&mut *conn)
                .await?,
                Write::DeleteLoginAlert { user_id } => {
                    query("DELETE FROM login_alerts WHERE user_id = $1").bind(user_id).execute(&mut *conn).await?
                }
                Write::PutRecoveryNotice { user_id } => {
                    query("INSERT INTO recovery_notices (user_id) VALUES ($1) ON CONFLICT (user_id) DO NOTHING")
                        .bind(user_id)
                        .execute(&mut *conn)
                        .await?
                }
                Write::DeleteRecoveryNotice { user_id } => {
                    query("DELETE FROM recovery_notices WHERE user_id = $1").bind(user_id).execute(&mut *conn).await?
                }
                Write::BumpGeneration { user_id } => query(
                    "INSERT INTO user_generations (user_id, generation) VALUES ($1, 1) \
                     ON CONFLICT (user_id) DO UPDATE SET generation = user_generations.generation + 1",
                )
                .bind(user_id)
                .execute(&mut *conn)
                .await?,
                Write::SetLockdown { locked } => {
                    if locked {
                        query("UPDATE instance SET locked = 1, lockdown_epoch = lockdown_epoch + 1 WHERE singleton = 1")
                            .execute(&mut *conn)
                            .await?
                    } else {
                        query("UPDATE instance SET locked = 0 WHERE singleton = 1").execute(&mut *conn).await?
                    }
                }
                Write::PutPurgeRequest(row) => query(
                    "INSERT INTO purge_requests (case_id, requester, case_version) VALUES ($1, $2, $3) \
                     ON CONFLICT (case_id) DO UPDATE SET requester = EXCLUDED.requester, case_version = EXCLUDED.case_version",
                )
                .bind(row.case_id)
                .bind(row.requester)
                .bind(row.case_version)
                .execute(&mut *conn)
                .await?,
                Write::PurgeCase { case_id, version, tag } => {
                    let row: Option<(i64,)> = sqlx::query_as("SELECT version FROM cases WHERE id = $1")
                        .bind(&case_id)
                        .fetch_optional(&mut *conn)
                        .await?;
                    if row != Some((version,)) {
                        return Err(StoreError::Conflict);
                    }
                    // Every table keyed by the case (the foreign keys would
                    // cascade most of these; deleting each explicitly keeps
                    // the list in one place and needs no cascade).
                    for sql in [
                        "DELETE FROM milestones WHERE case_id = $1",
                        "DELETE FROM case_index WHERE case_id = $1",
                        "DELETE FROM index_inbox WHERE case_id = $1",
                        "DELETE FROM pending_grants WHERE case_id = $1",
                        "DELETE FROM purge_requests WHERE case_id = $1",
                        "DELETE FROM case_reads WHERE case_id = $1",
                    ] {
                        query(sql).bind(&case_id).execute(&mut *conn).await?;
                    }
                    query("DELETE FROM wraps WHERE object_kind = $1 AND object_id = $2")
                        .bind(ObjectKind::Case.as_str())
                        .bind(&case_id)
                        .execute(&mut *conn)
                        .await?;
                    query("DELETE FROM story_drafts WHERE tag = $1").bind(&tag).execute(&mut *conn).await?;
                    query("DELETE FROM story_links WHERE tag = $1").bind(&tag).execute(&mut *conn).await?;
                    query("UPDATE index_revision SET revision = revision + 1, purged = revision + 1 WHERE singleton = 1")
                        .execute(&mut *conn)
                        .await?;
                    $crate::storage::sql::one_row!(query("DELETE FROM cases WHERE id = $1").bind(&case_id).execute(&mut *conn).await?)
                }
                // -- rotation (begin)
                Write::Reseal { table, id, sealed } => {
                    $crate::storage::sql::one_row!(query(table.reseal_sql()).bind(sealed).bind(id).execute(&mut *conn).await?)
                }
                Write::ResealInbox { seq, sealed } => {
                    $crate::storage::sql::one_row!(query("UPDATE index_inbox SET sealed = $1 WHERE seq = $2")
                        .bind(sealed)
                        .bind(seq)
                        .execute(&mut *conn)
                        .await?)
                }
                Write::DeleteRecoveryRequests => query("DELETE FROM recovery_requests").execute(&mut *conn).await?,
                Write::RetagStoryDraft { id, tag, sealed } => {
                    $crate::storage::sql::one_row!(query("UPDATE story_drafts SET tag = $1, sealed = $2 WHERE id = $3")
                        .bind(tag)
                        .bind(sealed)
                        .bind(id)
                        .execute(&mut *conn)
                        .await?)
                }
                Write::RetagStoryLink { id, tag, sealed } => {
                    $crate::storage::sql::one_row!(query("UPDATE story_links SET tag = $1, sealed = $2 WHERE id = $3")
                        .bind(tag)
                        .bind(sealed)
                        .bind(id)
                        .execute(&mut *conn)
                        .await?)
                }
                // -- rotation (end)
                Write::DeleteRecoveryRequest { id } => {
                    $crate::storage::sql::one_row!(query("DELETE FROM recovery_requests WHERE id = $1")
                        .bind(id)
                        .execute(&mut *conn)
                        .await?)
                }
            };
            let _ = affected;
            Ok(())
        }

        async fn insert_entry(conn: &mut $conn, row: &AuditRow) -> Result<(), StoreError> {
            sqlx::query(
                "INSERT INTO audit_log (seq, at, actor, role, action, target, outcome, request_id, prev_mac, mac) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
            )
            .bind(row.seq)
            .bind(&row.at)
            .bind(&row.actor)
            .bind(&row.role)
            .bind(&row.action)
            .bind(&row.target)
            .bind(&row.outcome)
            .bind(&row.request_id)
            .bind(&row.prev_mac)
            .bind(&row.mac)
            .execute(&mut *conn)
            .await?;
            Ok(())
        }

        /// The statements of the shared audit append, on this connection.
        struct Tx<'a>(&'a mut $conn);

        #[async_trait]
        impl AuditTx for Tx<'_> {
            async fn run(&mut self, sql: &'static str) -> Result<(), StoreError> {
                sqlx::query(sql).execute(&mut *self.0).await?;
                Ok(())
            }

            async fn head(&mut self) -> Result<Option<(i64, Vec<u8>)>, StoreError> {
                Ok(sqlx::query_as("SELECT seq, mac FROM audit_log ORDER BY seq DESC LIMIT 1")
                    .fetch_optional(&mut *self.0)
                    .await?)
            }

            async fn write(&mut self, write: Write) -> Result<(), StoreError> {
                apply_one(self.0, write).await
            }

            async fn insert(&mut self, row: &AuditRow) -> Result<(), StoreError> {
                insert_entry(self.0, row).await
            }
        }

        #[async_trait]
        impl Store for $store {
            async fn apply(&self, writes: Vec<Write>) -> Result<(), StoreError> {
                let mut tx = self.pool.begin().await?;
                for write in writes {
                    apply_one(&mut tx, write).await?;
                }
                tx.commit().await?;
                Ok(())
            }

            async fn commit_audited(
                &self,
                jobs: Vec<AuditedWrite>,
                chain: &dyn ChainMac,
            ) -> Result<Vec<Result<(), StoreError>>, StoreError> {
                let mut conn = self.pool.acquire().await?;
                begin_append(&mut conn).await?;
                match append_jobs(&mut Tx(&mut conn), jobs, chain).await {
                    Ok(results) => match sqlx::query("COMMIT").execute(&mut *conn).await {
                        Ok(_) => Ok(results),
                        Err(e) => {
                            let _ = sqlx::query("ROLLBACK").execute(&mut *conn).await;
                            Err(e.into())
                        }
                    },
                    Err(e) => {
                        let _ = sqlx::query("ROLLBACK").execute(&mut *conn).await;
                        Err(e)
                    }
                }
            }

            async fn audit_rows(&self, after: i64, limit: i64) -> Result<Vec<AuditRow>, StoreError> {
                Ok(sqlx::query_as(
                    "SELECT seq, at, actor, role, action, target, outcome, request_id, prev_mac, mac FROM audit_log \
                     WHERE seq > $1 ORDER BY seq LIMIT $2",
                )
                .bind(after)
                .bind(limit)
                .fetch_all(&self.pool)
                .await?)
            }

            async fn audit_search(
                &self,
                f: &AuditFilter,
                after: i64,
                limit: i64,
            ) -> Result<Vec<AuditRow>, StoreError> {
                Ok(sqlx::query_as(
                    "SELECT seq, at, actor, role, action, target, outcome, request_id, prev_mac, mac FROM audit_log \
                     WHERE seq > $1 AND ($2 = '' OR actor = $3) AND ($4 = '' OR action = $5) AND ($6 = '' OR target = $7) \
                     AND ($8 = '' OR at >= $9) AND ($10 = '' OR at <= $11) ORDER BY seq LIMIT $12",
                )
                .bind(after)
                .bind(&f.actor)
                .bind(&f.actor)
                .bind(&f.action)
                .bind(&f.action)
                .bind(&f.target)
                .bind(&f.target)
                .bind(&f.from)
                .bind(&f.from)
                .bind(&f.to)
                .bind(&f.to)
                .bind(limit)
                .fetch_all(&self.pool)
                .await?)
            }

            async fn audit_search_back(
                &self,
                f: &AuditFilter,
                before: i64,
                limit: i64,
            ) -> Result<Vec<AuditRow>, StoreError> {
                // Backwards along the primary key from `before`: a page near
                // the head costs the same however long the trail is.
                Ok(sqlx::query_as(
                    "SELECT seq, at, actor, role, action, target, outcome, request_id, prev_mac, mac FROM audit_log \
                     WHERE seq < $1 AND ($2 = '' OR actor = $3) AND ($4 = '' OR action = $5) AND ($6 = '' OR target = $7) \
                     AND ($8 = '' OR at >= $9) AND ($10 = '' OR at <= $11) ORDER BY seq DESC LIMIT $12",
                )
                .bind(before)
                .bind(&f.actor)
                .bind(&f.actor)
                .bind(&f.action)
                .bind(&f.action)
                .bind(&f.target)
                .bind(&f.target)
                .bind(&f.from)
                .bind(&f.from)
                .bind(&f.to)
                .bind(&f.to)
                .bind(limit)
                .fetch_all(&self.pool)
                .await?)
            }

            async fn audit_of_target(&self, target: &str, before: i64, limit: i64) -> Result<Vec<AuditRow>, StoreError> {
                // Newest first, through the (target, seq) index: a case's
                // history costs the same however long the whole trail is.
                Ok(sqlx::query_as(
                    "SELECT seq, at, actor, role, action, target, outcome, request_id, prev_mac, mac FROM audit_log \
                     WHERE target = $1 AND seq < $2 ORDER BY seq DESC LIMIT $3",
                )
                .bind(target)
                .bind(before)
                .bind(limit)
                .fetch_all(&self.pool)
                .await?)
            }

            async fn case_changes(&self, target: &str, before: i64, limit: i64) -> Result<Vec<AuditRow>, StoreError> {
                // The condition repeats the partial index's exactly, so both
                // backends use it (migration 0010).
                Ok(sqlx::query_as(crate::storage::CASE_CHANGES_SQL)
                .bind(target)
                .bind(before)
                .bind(limit)
                .fetch_all(&self.pool)
                .await?)
            }

            async fn audit_head(&self) -> Result<Option<AuditRow>, StoreError> {
                Ok(sqlx::query_as(
                    "SELECT seq, at, actor, role, action, target, outcome, request_id, prev_mac, mac FROM audit_log \
                     ORDER BY seq DESC LIMIT 1",
                )
                .fetch_optional(&self.pool)
                .await?)
            }

            async fn distinct_reads_since(&self, actor: &str, since: &str, cap: i64) -> Result<i64, StoreError> {
                // Counting stops at `cap` distinct cases: enough to decide a flag,
                // and the cost of a read stays flat however busy the reader is
                // and however long the trail.
                let (count,): (i64,) = sqlx::query_as(crate::storage::DISTINCT_READS_SINCE)
                .bind(actor)
                .bind(since)
                .bind(cap)
                .fetch_one(&self.pool)
                .await?;
                Ok(count)
            }

            async fn flags(&self) -> Result<Vec<FlagRow>, StoreError> {
                Ok(sqlx::query_as(
                    "SELECT id, actor, raised_at, distinct_cases, window_minutes FROM audit_flags ORDER BY id DESC",
                )
                .fetch_all(&self.pool)
                .await?)
            }

            async fn latest_flag(&self, actor: &str) -> Result<Option<FlagRow>, StoreError> {
                Ok(sqlx::query_as(
                    "SELECT id, actor, raised_at, distinct_cases, window_minutes FROM audit_flags \
                     WHERE actor = $1 ORDER BY id DESC LIMIT 1",
                )
                .bind(actor)
                .fetch_optional(&self.pool)
                .await?)
            }

            async fn latest_verification(&self) -> Result<Option<AuditRow>, StoreError> {
                // The action is a literal, so both planners can use the
                // partial index of migration 0009.
                Ok(sqlx::query_as(
                    "SELECT seq, at, actor, role, action, target, outcome, request_id, prev_mac, mac FROM audit_log \
                     WHERE action = 'audit.verify' ORDER BY seq DESC LIMIT 1",
                )
                .fetch_optional(&self.pool)
                .await?)
            }

            async fn flags_since(&self, since: &str) -> Result<Vec<FlagRow>, StoreError> {
                Ok(sqlx::query_as(
                    "SELECT id, actor, raised_at, distinct_cases, window_minutes FROM audit_flags \
                     WHERE raised_at >= $1 ORDER BY id DESC",
                )
                .bind(since)
                .fetch_all(&self.pool)
                .await?)
            }

            async fn totp(&self, user_id: &str) -> Result<Option<TotpRow>, StoreError> {
                Ok(sqlx::query_as("SELECT user_id, sealed_secret, confirmed, sealed_last_step FROM totp WHERE user_id = $1")
                    .bind(user_id)
                    .fetch_optional(&self.pool)
                    .await?)
            }

            async fn login_throttle(&self, key: &[u8]) -> Result<Option<(i64, i64)>, StoreError> {
                Ok(sqlx::query_as("SELECT failures, last_failure FROM login_throttle WHERE key = $1")
                    .bind(key)
                    .fetch_optional(&self.pool)
                    .await?)
            }

            async fn count_address_attempt(
                &self,
                key: &[u8],
                now: i64,
                window_secs: i64,
            ) -> Result<(i64, i64), StoreError> {
                // Every expression reads the row as it was before this update.
                let counted = sqlx::query_as(
                    "INSERT INTO address_throttle (key, window_start, attempts) VALUES ($1, $2, 1) \
                     ON CONFLICT (key) DO UPDATE SET \
                     window_start = CASE WHEN address_throttle.window_start + $3 <= $2 \
                         THEN $2 ELSE address_throttle.window_start END, \
                     attempts = CASE WHEN address_throttle.window_start + $3 <= $2 \
                         THEN 1 ELSE address_throttle.attempts + 1 END \
                     RETURNING window_start, attempts",
                )
                .bind(key)
                .bind(now)
                .bind(window_secs)
                .fetch_one(&self.pool)
                .await?;
                // A window that has ended no longer matters: its time goes.
                sqlx::query("DELETE FROM address_throttle WHERE window_start + $1 <= $2")
                    .bind(window_secs)
                    .bind(now)
                    .execute(&self.pool)
                    .await?;
                Ok(counted)
            }

            async fn count_account_attempt(
                &self,
                key: &[u8],
                seen: (i64, i64),
                now: i64,
            ) -> Result<Option<i64>, StoreError> {
                // A stored row always has failures >= 1, so (0, 0) matches
                // only the insert of a new one.
                let counted: Option<(i64,)> = sqlx::query_as(
                    "INSERT INTO login_throttle (key, failures, last_failure) VALUES ($1, 1, $2) \
                     ON CONFLICT (key) DO UPDATE SET failures = login_throttle.failures + 1, last_failure = $2 \
                     WHERE login_throttle.failures = $3 AND login_throttle.last_failure = $4 \
                     RETURNING failures",
                )
                .bind(key)
                .bind(now)
                .bind(seen.0)
                .bind(seen.1)
                .fetch_optional(&self.pool)
                .await?;
                Ok(counted.map(|(failures,)| failures))
            }

            async fn login_alert(&self, user_id: &str) -> Result<Option<i64>, StoreError> {
                let row: Option<(i64,)> = sqlx::query_as("SELECT count FROM login_alerts WHERE user_id = $1")
                    .bind(user_id)
                    .fetch_optional(&self.pool)
                    .await?;
                Ok(row.map(|(count,)| count))
            }

            async fn recovery_notice(&self, user_id: &str) -> Result<bool, StoreError> {
                let row: Option<(String,)> =
                    sqlx::query_as("SELECT user_id FROM recovery_notices WHERE user_id = $1")
                        .bind(user_id)
                        .fetch_optional(&self.pool)
                        .await?;
                Ok(row.is_some())
            }

            async fn generation(&self, user_id: &str) -> Result<i64, StoreError> {
                let row: Option<(i64,)> =
                    sqlx::query_as("SELECT generation FROM user_generations WHERE user_id = $1")
                        .bind(user_id)
                        .fetch_optional(&self.pool)
                        .await?;
                Ok(row.map_or(0, |(g,)| g))
            }

            async fn lockdown(&self) -> Result<(i64, bool), StoreError> {
                let row: Option<(i64, i64)> =
                    sqlx::query_as("SELECT lockdown_epoch, locked FROM instance WHERE singleton = 1")
                        .fetch_optional(&self.pool)
                        .await?;
                Ok(row.map_or((0, false), |(epoch, locked)| (epoch, locked != 0)))
            }

            async fn session_facts(&self, user_id: &str) -> Result<SessionFacts, StoreError> {
                type Facts = (
                    i64,
                    i64,
                    i64,
                    Option<String>,
                    Option<Vec<u8>>,
                    Option<i64>,
                    Option<Vec<u8>>,
                    Option<String>,
                    Option<i64>,
                    Option<i64>,
                );
                let row: Option<Facts> = sqlx::query_as(
                    "SELECT i.lockdown_epoch, i.locked, \
                     COALESCE((SELECT g.generation FROM user_generations g WHERE g.user_id = $1), 0), \
                     u.id, u.lookup, u.version, u.sealed_profile, \
                     (SELECT k.recipient FROM user_keys k WHERE k.user_id = $1 ORDER BY k.key_no DESC LIMIT 1), \
                     (SELECT c.key_no FROM certifications c WHERE c.user_id = $1), \
                     (SELECT v.key_no FROM vouchers v WHERE v.user_id = $1) \
                     FROM instance i LEFT JOIN users u ON u.id = $1 WHERE i.singleton = 1",
                )
                .bind(user_id)
                .fetch_optional(&self.pool)
                .await?;
                let Some((epoch, locked, generation, id, lookup, version, sealed, recipient, cert, voucher)) = row
                else {
                    return Ok(SessionFacts {
                        lockdown_epoch: 0,
                        locked: false,
                        generation: 0,
                        user: None,
                        recipient: None,
                        certified_key_no: None,
                        vouched_key_no: None,
                    });
                };
                let user = match (id, lookup, version, sealed) {
                    (Some(id), Some(lookup), Some(version), Some(sealed_profile)) => {
                        Some(UserRow { id, lookup, version, sealed_profile })
                    }
                    _ => None,
                };
                Ok(SessionFacts {
                    lockdown_epoch: epoch,
                    locked: locked != 0,
                    generation,
                    user,
                    recipient,
                    certified_key_no: cert,
                    vouched_key_no: voucher,
                })
            }

            async fn instance(&self) -> Result<Option<InstanceRow>, StoreError> {
                Ok(sqlx::query_as("SELECT instance_id, pepper_check, format FROM instance WHERE singleton = 1")
                    .fetch_optional(&self.pool)
                    .await?)
            }

            async fn system_key(&self, name: &str) -> Result<Option<Vec<u8>>, StoreError> {
                let row: Option<(Vec<u8>,)> = sqlx::query_as("SELECT sealed FROM system_keys WHERE name = $1")
                    .bind(name)
                    .fetch_optional(&self.pool)
                    .await?;
                Ok(row.map(|(sealed,)| sealed))
            }

            async fn team_recipient(&self, name: &str) -> Result<Option<String>, StoreError> {
                let row: Option<(String,)> = sqlx::query_as("SELECT recipient FROM teams WHERE name = $1")
                    .bind(name)
                    .fetch_optional(&self.pool)
                    .await?;
                Ok(row.map(|(r,)| r))
            }

            async fn wrap(
                &self,
                object_kind: ObjectKind,
                object_id: &str,
                holder_kind: HolderKind,
                holder_id: &str,
            ) -> Result<Option<WrapRow>, StoreError> {
                Ok(sqlx::query_as(
                    "SELECT object_kind, object_id, holder_kind, holder_id, key_no, wrapped FROM wraps \
                     WHERE object_kind = $1 AND object_id = $2 AND holder_kind = $3 AND holder_id = $4",
                )
                .bind(object_kind.as_str())
                .bind(object_id)
                .bind(holder_kind.as_str())
                .bind(holder_id)
                .fetch_optional(&self.pool)
                .await?)
            }

            async fn wraps_of_holder(
                &self,
                holder_kind: HolderKind,
                holder_id: &str,
            ) -> Result<Vec<WrapRow>, StoreError> {
                Ok(sqlx::query_as(
                    "SELECT object_kind, object_id, holder_kind, holder_id, key_no, wrapped FROM wraps \
                     WHERE holder_kind = $1 AND holder_id = $2 ORDER BY object_kind, object_id",
                )
                .bind(holder_kind.as_str())
                .bind(holder_id)
                .fetch_all(&self.pool)
                .await?)
            }

            async fn wraps_of_object(
                &self,
                object_kind: ObjectKind,
                object_id: &str,
            ) -> Result<Vec<WrapRow>, StoreError> {
                Ok(sqlx::query_as(
                    "SELECT object_kind, object_id, holder_kind, holder_id, key_no, wrapped FROM wraps \
                     WHERE object_kind = $1 AND object_id = $2 ORDER BY holder_kind, holder_id",
                )
                .bind(object_kind.as_str())
                .bind(object_id)
                .fetch_all(&self.pool)
                .await?)
            }

            async fn user(&self, id: &str) -> Result<Option<UserRow>, StoreError> {
                Ok(sqlx::query_as("SELECT id, lookup, version, sealed_profile FROM users WHERE id = $1")
                    .bind(id)
                    .fetch_optional(&self.pool)
                    .await?)
            }

            async fn user_by_lookup(&self, lookup: &[u8]) -> Result<Option<UserRow>, StoreError> {
                Ok(sqlx::query_as("SELECT id, lookup, version, sealed_profile FROM users WHERE lookup = $1")
                    .bind(lookup)
                    .fetch_optional(&self.pool)
                    .await?)
            }

            async fn users(&self) -> Result<Vec<UserRow>, StoreError> {
                Ok(sqlx::query_as("SELECT id, lookup, version, sealed_profile FROM users ORDER BY id")
                    .fetch_all(&self.pool)
                    .await?)
            }

            async fn activation(&self, lookup: &[u8]) -> Result<Option<ActivationRow>, StoreError> {
                Ok(sqlx::query_as("SELECT user_id, expires_at FROM activations WHERE lookup = $1")
                    .bind(lookup)
                    .fetch_optional(&self.pool)
                    .await?)
            }

            async fn user_key(&self, user_id: &str) -> Result<Option<UserKeyRow>, StoreError> {
                Ok(sqlx::query_as(
                    "SELECT user_id, key_no, recipient, kdf_salt, kdf_params, sealed_by_password FROM user_keys \
                     WHERE user_id = $1 ORDER BY key_no DESC LIMIT 1",
                )
                .bind(user_id)
                .fetch_optional(&self.pool)
                .await?)
            }

            async fn recovery_codes(&self, user_id: &str, key_no: i64) -> Result<Vec<RecoveryCodeRow>, StoreError> {
                Ok(sqlx::query_as(
                    "SELECT user_id, key_no, slot, sealed FROM recovery_codes WHERE user_id = $1 AND key_no = $2 ORDER BY slot",
                )
                .bind(user_id)
                .bind(key_no)
                .fetch_all(&self.pool)
                .await?)
            }

            async fn certification(&self, user_id: &str) -> Result<Option<CertificationRow>, StoreError> {
                Ok(sqlx::query_as(
                    "SELECT user_id, key_no, recipient, mac, handover_to_user, handover_to_coordinators FROM certifications WHERE user_id = $1",
                )
                .bind(user_id)
                .fetch_optional(&self.pool)
                .await?)
            }

            async fn current_user_keys(&self) -> Result<Vec<UserKeyRow>, StoreError> {
                Ok(sqlx::query_as(
                    "SELECT user_id, key_no, recipient, kdf_salt, kdf_params, sealed_by_password FROM user_keys k \
                     WHERE key_no = (SELECT MAX(key_no) FROM user_keys WHERE user_id = k.user_id) ORDER BY user_id",
                )
                .fetch_all(&self.pool)
                .await?)
            }

            async fn certifications(&self) -> Result<Vec<CertificationRow>, StoreError> {
                Ok(sqlx::query_as(
                    "SELECT user_id, key_no, recipient, mac, handover_to_user, handover_to_coordinators FROM certifications ORDER BY user_id",
                )
                .fetch_all(&self.pool)
                .await?)
            }

            async fn vouchers(&self) -> Result<Vec<VoucherRow>, StoreError> {
                Ok(sqlx::query_as("SELECT user_id, key_no, mac FROM vouchers ORDER BY user_id")
                    .fetch_all(&self.pool)
                    .await?)
            }

            async fn voucher(&self, user_id: &str) -> Result<Option<VoucherRow>, StoreError> {
                Ok(sqlx::query_as("SELECT user_id, key_no, mac FROM vouchers WHERE user_id = $1")
                    .bind(user_id)
                    .fetch_optional(&self.pool)
                    .await?)
            }

            async fn case(&self, id: &str) -> Result<Option<CaseRow>, StoreError> {
                Ok(sqlx::query_as(
                    "SELECT id, version, sealed_group, sealed_placement, sealed_notes FROM cases WHERE id = $1",
                )
                .bind(id)
                .fetch_optional(&self.pool)
                .await?)
            }

            async fn case_ids(&self) -> Result<Vec<String>, StoreError> {
                let rows: Vec<(String,)> =
                    sqlx::query_as("SELECT id FROM cases ORDER BY id").fetch_all(&self.pool).await?;
                Ok(rows.into_iter().map(|(id,)| id).collect())
            }

            async fn milestones(&self, case_id: &str) -> Result<Vec<MilestoneRow>, StoreError> {
                Ok(sqlx::query_as(
                    "SELECT id, case_id, version, sealed FROM milestones WHERE case_id = $1 ORDER BY id",
                )
                .bind(case_id)
                .fetch_all(&self.pool)
                .await?)
            }

            async fn milestone(&self, id: &str) -> Result<Option<MilestoneRow>, StoreError> {
                Ok(sqlx::query_as("SELECT id, case_id, version, sealed FROM milestones WHERE id = $1")
                    .bind(id)
                    .fetch_optional(&self.pool)
                    .await?)
            }

            async fn index_rows(&self) -> Result<Vec<IndexRow>, StoreError> {
                Ok(sqlx::query_as("SELECT case_id, sealed, revision FROM case_index ORDER BY case_id")
                    .fetch_all(&self.pool)
                    .await?)
            }

            async fn index_row(&self, case_id: &str) -> Result<Option<IndexRow>, StoreError> {
                Ok(sqlx::query_as("SELECT case_id, sealed, revision FROM case_index WHERE case_id = $1")
                    .bind(case_id)
                    .fetch_optional(&self.pool)
                    .await?)
            }

            async fn index_revision(&self) -> Result<i64, StoreError> {
                let (revision,): (i64,) =
                    sqlx::query_as("SELECT revision FROM index_revision WHERE singleton = 1")
                        .fetch_one(&self.pool)
                        .await?;
                Ok(revision)
            }

            async fn index_rows_after(&self, revision: i64) -> Result<Vec<IndexRow>, StoreError> {
                Ok(sqlx::query_as(
                    "SELECT case_id, sealed, revision FROM case_index WHERE revision > $1 ORDER BY revision",
                )
                .bind(revision)
                .fetch_all(&self.pool)
                .await?)
            }

            async fn inbox(&self) -> Result<Vec<InboxRow>, StoreError> {
                Ok(sqlx::query_as("SELECT seq, case_id, sealed FROM index_inbox ORDER BY seq")
                    .fetch_all(&self.pool)
                    .await?)
            }

            async fn purge_request(&self, case_id: &str) -> Result<Option<PurgeRequestRow>, StoreError> {
                Ok(sqlx::query_as("SELECT case_id, requester, case_version FROM purge_requests WHERE case_id = $1")
                    .bind(case_id)
                    .fetch_optional(&self.pool)
                    .await?)
            }

            async fn index_purged(&self) -> Result<i64, StoreError> {
                let (purged,): (i64,) = sqlx::query_as("SELECT purged FROM index_revision WHERE singleton = 1")
                    .fetch_one(&self.pool)
                    .await?;
                Ok(purged)
            }

            async fn checkpoint(&self) -> Result<bool, StoreError> {
                checkpoint(&self.pool).await
            }

            async fn pending_grants(&self) -> Result<Vec<(String, String)>, StoreError> {
                Ok(sqlx::query_as("SELECT case_id, user_id FROM pending_grants ORDER BY user_id, case_id")
                    .fetch_all(&self.pool)
                    .await?)
            }

            async fn shelters(&self) -> Result<Vec<ShelterRow>, StoreError> {
                Ok(sqlx::query_as("SELECT id, version, sealed_code, sealed_details FROM shelters ORDER BY id")
                    .fetch_all(&self.pool)
                    .await?)
            }

            async fn shelter(&self, id: &str) -> Result<Option<ShelterRow>, StoreError> {
                Ok(sqlx::query_as("SELECT id, version, sealed_code, sealed_details FROM shelters WHERE id = $1")
                    .bind(id)
                    .fetch_optional(&self.pool)
                    .await?)
            }

            async fn story_drafts(&self) -> Result<Vec<StoryDraftRow>, StoreError> {
                Ok(sqlx::query_as("SELECT id, tag, sealed FROM story_drafts ORDER BY id")
                    .fetch_all(&self.pool)
                    .await?)
            }

            async fn story_draft(&self, id: &str) -> Result<Option<StoryDraftRow>, StoreError> {
                Ok(sqlx::query_as("SELECT id, tag, sealed FROM story_drafts WHERE id = $1")
                    .bind(id)
                    .fetch_optional(&self.pool)
                    .await?)
            }

            async fn story_drafts_of(&self, tag: &str) -> Result<Vec<StoryDraftRow>, StoreError> {
                Ok(sqlx::query_as("SELECT id, tag, sealed FROM story_drafts WHERE tag = $1 ORDER BY id")
                    .bind(tag)
                    .fetch_all(&self.pool)
                    .await?)
            }

            async fn stories(&self) -> Result<Vec<StoryRow>, StoreError> {
                Ok(sqlx::query_as("SELECT id, withdrawn, sealed FROM stories ORDER BY id")
                    .fetch_all(&self.pool)
                    .await?)
            }

            async fn story(&self, id: &str) -> Result<Option<StoryRow>, StoreError> {
                Ok(sqlx::query_as("SELECT id, withdrawn, sealed FROM stories WHERE id = $1")
                    .bind(id)
                    .fetch_optional(&self.pool)
                    .await?)
            }

            async fn story_links(&self, tag: &str) -> Result<Vec<StoryLinkRow>, StoreError> {
                Ok(sqlx::query_as("SELECT id, tag, sealed FROM story_links WHERE tag = $1 ORDER BY id")
                    .bind(tag)
                    .fetch_all(&self.pool)
                    .await?)
            }

            async fn figure_tables(&self) -> Result<Vec<FigureTableRow>, StoreError> {
                Ok(sqlx::query_as("SELECT id, sealed FROM figure_tables ORDER BY id")
                    .fetch_all(&self.pool)
                    .await?)
            }

            async fn aid_entries(&self) -> Result<Vec<AidEntryRow>, StoreError> {
                Ok(sqlx::query_as("SELECT id, supersedes, sealed FROM aid_entries ORDER BY id")
                    .fetch_all(&self.pool)
                    .await?)
            }

            async fn aid_inbox(&self) -> Result<Vec<SealedRow>, StoreError> {
                Ok(sqlx::query_as("SELECT id, sealed FROM aid_inbox ORDER BY id").fetch_all(&self.pool).await?)
            }

            async fn aid_kinds(&self) -> Result<Vec<SealedRow>, StoreError> {
                Ok(sqlx::query_as("SELECT id, sealed FROM aid_kinds ORDER BY id").fetch_all(&self.pool).await?)
            }

            async fn annual_reports(&self) -> Result<Vec<SealedRow>, StoreError> {
                self.sealed_rows(SealedTable::AnnualReports).await
            }

            async fn sealed_rows(&self, table: SealedTable) -> Result<Vec<SealedRow>, StoreError> {
                Ok(sqlx::query_as(table.rows_sql()).fetch_all(&self.pool).await?)
            }

            async fn recovery_request(&self, id: &str) -> Result<Option<RecoveryRequestRow>, StoreError> {
                Ok(sqlx::query_as("SELECT id, user_id, key_no FROM recovery_requests WHERE id = $1")
                    .bind(id)
                    .fetch_optional(&self.pool)
                    .await?)
            }
        }
    };
}

pub(super) use one_row;
pub(super) use sql_store;
