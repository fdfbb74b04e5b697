//! The storage conformance suite: the same behaviour from every backend.
//! SQLite, and PostgreSQL at TEST_POSTGRES_URL (by default the local
//! server; `none` to skip it), each run in a fresh database of its own.

use std::sync::Arc;

use safehouse::audit::chain::{self, ChainKey};
use safehouse::crypto::Key32;
use safehouse::storage::*;

struct Backends {
    list: Vec<(&'static str, Arc<dyn Store>)>,
    _dir: tempfile::TempDir,
    _pg: Option<crate::helpers::PgDb>,
}

async fn backends() -> Backends {
    let dir = tempfile::tempdir().unwrap();
    let sqlite = SqliteStore::open(&dir.path().join("s.db"), true).await.unwrap();
    let mut list: Vec<(&'static str, Arc<dyn Store>)> = vec![("sqlite", Arc::new(sqlite))];
    let pg = crate::helpers::fresh_pg().await;
    if let Some(db) = &pg {
        list.push(("postgres", Arc::new(PgStore::open(&db.url).await.unwrap())));
    }
    Backends { list, _dir: dir, _pg: pg }
}

fn user(id: &str, lookup: &[u8]) -> Write {
    Write::InsertUser(UserRow {
        id: id.into(),
        lookup: lookup.to_vec(),
        version: 1,
        sealed_profile: vec![1, 2, 3],
    })
}

fn case(id: &str, version: i64, tag: u8) -> CaseRow {
    CaseRow {
        id: id.into(),
        version,
        sealed_group: vec![tag],
        sealed_placement: vec![tag],
        sealed_notes: vec![tag],
    }
}

#[tokio::test]
async fn every_backend_applies_writes_all_or_nothing_with_the_same_conflicts() {
    for (name, store) in backends().await.list {
        store.apply(vec![user("u1", b"lookup-1")]).await.unwrap();
        let dup = store.apply(vec![user("u2", b"lookup-1")]).await;
        assert!(matches!(dup, Err(StoreError::Duplicate("users_lookup_unique"))), "{name}: {dup:?}");

        store.apply(vec![Write::InsertCase(case("c1", 1, 1))]).await.unwrap();
        // A stale update fails the whole list: the wrap before it is not kept.
        let wrap = WrapRow {
            object_kind: "case".into(),
            object_id: "c1".into(),
            holder_kind: "user".into(),
            holder_id: "u1".into(),
            key_no: 1,
            wrapped: vec![9],
        };
        let stale = store
            .apply(vec![
                Write::PutWrap(wrap.clone()),
                Write::UpdateCase { expected_version: 7, row: case("c1", 8, 2) },
            ])
            .await;
        assert!(matches!(stale, Err(StoreError::Conflict)), "{name}");
        assert!(
            store.wrap(ObjectKind::Case, "c1", HolderKind::User, "u1").await.unwrap().is_none(),
            "{name}: rolled back"
        );
        store.apply(vec![Write::UpdateCase { expected_version: 1, row: case("c1", 2, 2) }]).await.unwrap();
        assert_eq!(store.case("c1").await.unwrap().unwrap().sealed_notes, vec![2]);

        // Upserts replace.
        store.apply(vec![Write::PutWrap(wrap.clone())]).await.unwrap();
        store
            .apply(vec![Write::PutWrap(WrapRow { key_no: 2, wrapped: vec![8], ..wrap.clone() })])
            .await
            .unwrap();
        let got = store.wrap(ObjectKind::Case, "c1", HolderKind::User, "u1").await.unwrap().unwrap();
        assert_eq!((got.key_no, got.wrapped), (2, vec![8]), "{name}");
        assert_eq!(store.wraps_of_holder(HolderKind::User, "u1").await.unwrap().len(), 1);

        // Single use: an activation, a TOTP step.
        store
            .apply(vec![Write::PutActivation { lookup: vec![5], user_id: "u1".into(), expires_at: 10 }])
            .await
            .unwrap();
        store.apply(vec![Write::DeleteActivation { lookup: vec![5] }]).await.unwrap();
        assert!(
            matches!(
                store.apply(vec![Write::DeleteActivation { lookup: vec![5] }]).await,
                Err(StoreError::Conflict)
            ),
            "{name}"
        );
        let totp = TotpRow {
            user_id: "u1".into(),
            sealed_secret: vec![1],
            confirmed: 1,
            sealed_last_step: Some(vec![10]),
        };
        store.apply(vec![Write::PutTotp(totp)]).await.unwrap();
        let used = |sealed_step: u8| Write::UseTotpStep {
            user_id: "u1".into(),
            expected: Some(vec![10]),
            sealed_step: vec![sealed_step],
        };
        store.apply(vec![used(11)]).await.unwrap();
        assert!(matches!(store.apply(vec![used(12)]).await, Err(StoreError::Conflict)));

        // Keys: keep one, or none.
        for key_no in [1, 2] {
            let row = UserKeyRow {
                user_id: "u1".into(),
                key_no,
                recipient: format!("r{key_no}"),
                kdf_salt: vec![],
                kdf_params: "p".into(),
                sealed_by_password: vec![],
            };
            store.apply(vec![Write::PutUserKey(row)]).await.unwrap();
        }
        store
            .apply(vec![Write::DeleteUserKeysExcept { user_id: "u1".into(), keep_key_no: Some(2) }])
            .await
            .unwrap();
        assert_eq!(store.user_key("u1").await.unwrap().unwrap().key_no, 2);
        store
            .apply(vec![Write::DeleteUserKeysExcept { user_id: "u1".into(), keep_key_no: None }])
            .await
            .unwrap();
        assert!(store.user_key("u1").await.unwrap().is_none(), "{name}");

        // Generations and lockdown.
        store
            .apply(vec![
                Write::BumpGeneration { user_id: "u1".into() },
                Write::BumpGeneration { user_id: "u1".into() },
            ])
            .await
            .unwrap();
        assert_eq!(store.generation("u1").await.unwrap(), 2);
        store
            .apply(vec![Write::InsertInstance(InstanceRow {
                instance_id: "i".into(),
                pepper_check: vec![],
                format: 1,
            })])
            .await
            .unwrap();
        store.apply(vec![Write::SetLockdown { locked: true }]).await.unwrap();
        assert_eq!(store.lockdown().await.unwrap(), (1, true), "{name}");
        store.apply(vec![Write::SetLockdown { locked: false }]).await.unwrap();
        assert_eq!(store.lockdown().await.unwrap(), (1, false));
        store
            .apply(vec![Write::PutPendingGrant { case_id: "c1".into(), user_id: "u1".into() }])
            .await
            .unwrap();
        store
            .apply(vec![Write::PutPendingGrant { case_id: "c1".into(), user_id: "u1".into() }])
            .await
            .unwrap();
        assert_eq!(store.pending_grants().await.unwrap().len(), 1, "{name}");
    }
}

fn entry(action: &str) -> AuditRow {
    AuditRow {
        seq: 0,
        at: "2026-01-01T00:00:00Z".into(),
        actor: "-".into(),
        role: "-".into(),
        action: action.into(),
        target: String::new(),
        outcome: "ok".into(),
        request_id: "r".into(),
        prev_mac: vec![],
        mac: vec![],
    }
}

#[tokio::test]
async fn every_backend_keeps_one_audit_chain_even_from_several_nodes() {
    let key = ChainKey::new(&Key32::random());
    for (name, store) in backends().await.list {
        store.apply(vec![Write::InsertCase(case("c1", 1, 1))]).await.unwrap();
        let jobs = vec![
            AuditedWrite { writes: vec![], entry: entry("case.read") },
            AuditedWrite {
                writes: vec![Write::UpdateCase { expected_version: 9, row: case("c1", 10, 3) }],
                entry: entry("case.update"),
            },
            AuditedWrite {
                writes: vec![Write::UpdateCase { expected_version: 1, row: case("c1", 2, 3) }],
                entry: entry("case.update"),
            },
        ];
        let results = store.commit_audited(jobs, &key).await.unwrap();
        assert!(
            results[0].is_ok() && matches!(results[1], Err(StoreError::Conflict)) && results[2].is_ok(),
            "{name}"
        );
        let rows = store.audit_rows(0, 100).await.unwrap();
        assert_eq!(
            rows.iter().map(|r| r.outcome.as_str()).collect::<Vec<_>>(),
            ["ok", "conflict", "ok"],
            "{name}"
        );
        assert_eq!(store.case("c1").await.unwrap().unwrap().version, 2);

        let verified = chain::verify(store.as_ref(), &key, "i", &[], |_| {}).await.unwrap();
        assert_eq!(verified.entries, 3, "{name}");
    }

    // Several nodes (separate pools) appending at once still make one chain.
    let Some(db) = crate::helpers::fresh_pg().await else { return };
    let url = db.url.clone();
    let nodes = [Arc::new(PgStore::open(&url).await.unwrap()), Arc::new(PgStore::open(&url).await.unwrap())];
    let key = Arc::new(key);
    let mut tasks = Vec::new();
    for n in 0..32 {
        let (store, key) = (nodes[n % 2].clone(), key.clone());
        tasks.push(tokio::spawn(async move {
            store
                .commit_audited(
                    vec![AuditedWrite { writes: vec![], entry: entry("case.read") }],
                    key.as_ref(),
                )
                .await
                .unwrap()
        }));
    }
    for t in tasks {
        assert!(t.await.unwrap()[0].is_ok());
    }
    let verified = chain::verify(nodes[0].as_ref(), &key, "i", &[], |_| {}).await.unwrap();
    assert_eq!(verified.entries, 32);
    let update = sqlx::query("UPDATE audit_log SET outcome = 'x'").execute(nodes[0].pool()).await;
    assert!(update.unwrap_err().to_string().contains("append-only"));
    let truncate = sqlx::query("TRUNCATE audit_log").execute(nodes[0].pool()).await;
    assert!(truncate.unwrap_err().to_string().contains("append-only"));
}

/// The nodes' role, with the privileges of deploy/postgres-grants.sql, may
/// write rows and append to the audit log, and nothing more: the log is
/// refused to UPDATE, DELETE and TRUNCATE by privilege (before the trigger
/// is even reached), and the trigger cannot be dropped by a non-owner.
#[tokio::test]
async fn the_nodes_role_appends_to_the_audit_log_and_can_never_change_it() {
    let Some(db) = crate::helpers::fresh_pg().await else { return };
    let owner = PgStore::open(&db.url).await.unwrap();
    let role = format!("safehouse_app_{}", uuid::Uuid::new_v4().simple());
    sqlx::query(&format!("CREATE ROLE {role} LOGIN")).execute(owner.pool()).await.unwrap();
    let grants = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy/postgres-grants.sql");
    let out = std::process::Command::new("psql")
        .args([db.url.as_str(), "-q", "-v", &format!("app_role={role}"), "-f", grants.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(out.status.success(), "grants: {}", String::from_utf8_lossy(&out.stderr));

    // A node connects as the role: the schema is current, so it migrates
    // nothing, and its work is recorded.
    let options: sqlx::postgres::PgConnectOptions = db.url.parse().unwrap();
    let node = PgStore::open_with(options.username(&role)).await.unwrap();
    let key = ChainKey::new(&Key32::random());
    let results = node
        .commit_audited(
            vec![AuditedWrite {
                writes: vec![Write::InsertCase(case("c1", 1, 1))],
                entry: entry("case.create"),
            }],
            &key,
        )
        .await
        .unwrap();
    assert!(results[0].is_ok(), "{results:?}");
    assert_eq!(chain::verify(&node, &key, "i", &[], |_| {}).await.unwrap().entries, 1);

    for statement in ["UPDATE audit_log SET outcome = 'ok'", "DELETE FROM audit_log", "TRUNCATE audit_log"] {
        let refused = sqlx::query(statement).execute(node.pool()).await.unwrap_err().to_string();
        assert!(refused.contains("permission denied"), "{statement}: {refused}");
    }
    let drop = sqlx::query("DROP TRIGGER audit_log_no_update ON audit_log").execute(node.pool()).await;
    assert!(drop.unwrap_err().to_string().contains("must be owner"));
    let forged = sqlx::query("DELETE FROM _sqlx_migrations").execute(node.pool()).await;
    assert!(forged.unwrap_err().to_string().contains("permission denied"));
    assert_eq!(node.audit_rows(0, 10).await.unwrap().len(), 1, "the entry is still there");

    node.close().await;
    owner.close().await;
    drop_database_then_role(db, &role);
}

fn drop_database_then_role(db: crate::helpers::PgDb, role: &str) {
    let admin = db.admin_url.clone();
    drop(db);
    let _ = std::process::Command::new("psql")
        .args([admin.as_str(), "-qc", &format!("DROP ROLE {role}")])
        .output();
}

/// TLS to PostgreSQL works with the built-in rustls: encrypted, verified
/// against a given root and the host name, and the transport rule keeps the
/// unverified modes for this machine only (more in setup/'s unit tests).
#[tokio::test]
async fn a_connection_can_be_encrypted_and_a_remote_one_must_be_verified() {
    let Some(db) = crate::helpers::fresh_pg().await else { return };
    let options = safehouse::setup::postgres_options(&format!("{}?sslmode=require", db.url), false).unwrap();
    let store = PgStore::open_with(options).await.unwrap();
    let (ssl,): (bool,) = sqlx::query_as("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()")
        .fetch_one(store.pool())
        .await
        .unwrap();
    assert!(ssl, "the connection is encrypted");
    // The server's own certificate (Debian's: self-signed, for "localhost").
    let (cert,): (String,) =
        sqlx::query_as("SELECT current_setting('ssl_cert_file')").fetch_one(store.pool()).await.unwrap();
    store.close().await;

    // Verified end to end: with that certificate as the root, verify-full
    // accepts the server reached by its name.
    let root = cert.as_str();
    let local = db.url.replacen("127.0.0.1", "localhost", 1);
    let verified = format!("{local}?sslmode=verify-full&sslrootcert={root}");
    let store =
        PgStore::open_with(safehouse::setup::postgres_options(&verified, false).unwrap()).await.unwrap();
    store.close().await;
    // The same certificate reached by a name it does not carry is refused.
    let wrong_name = format!("{}?sslmode=verify-full&sslrootcert={root}", db.url);
    let refused = PgStore::open_with(safehouse::setup::postgres_options(&wrong_name, false).unwrap()).await;
    let error = refused.unwrap_err().to_string();
    assert!(error.contains("certificate") || error.contains("NotValidForName"), "{error}");

    let remote = "postgres://app@db.example.org/safehouse?sslmode=require";
    assert!(safehouse::setup::postgres_options(remote, false).is_err());
    assert!(safehouse::setup::postgres_options(remote, true).is_ok(), "allowed when told");
}

/// On PostgreSQL too, someone with the owner's rights (who can switch the
/// triggers off) who edits or removes an entry is caught by verification.
#[tokio::test]
async fn an_owner_who_edits_or_removes_a_postgres_audit_entry_is_caught() {
    let Some(db) = crate::helpers::fresh_pg().await else { return };
    let store = PgStore::open(&db.url).await.unwrap();
    let key = ChainKey::new(&Key32::random());
    for _ in 0..5 {
        let job = AuditedWrite { writes: vec![], entry: entry("case.read") };
        assert!(store.commit_audited(vec![job], &key).await.unwrap()[0].is_ok());
    }
    assert_eq!(chain::verify(&store, &key, "i", &[], |_| {}).await.unwrap().entries, 5);
    sqlx::query("ALTER TABLE audit_log DISABLE TRIGGER USER").execute(store.pool()).await.unwrap();

    sqlx::query("UPDATE audit_log SET target = 'elsewhere' WHERE seq = 3")
        .execute(store.pool())
        .await
        .unwrap();
    let edited = chain::verify(&store, &key, "i", &[], |_| {}).await.unwrap_err();
    assert!(matches!(edited, chain::Break::Mac { seq: 3 }), "{edited}");

    sqlx::query("DELETE FROM audit_log WHERE seq = 3").execute(store.pool()).await.unwrap();
    let removed = chain::verify(&store, &key, "i", &[], |_| {}).await.unwrap_err();
    assert!(matches!(removed, chain::Break::Gap { previous: 2, seq: 4 }), "{removed}");
    store.close().await;
}
