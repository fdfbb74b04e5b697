//! Hardening after the outside review (issue 10): clear_columns.
//!
//! SECURITY.md's table "What is stored in clear" must name every column of
//! the schema that is not a ciphertext by its naming rule, and nothing else;
//! the replay refusal of a TOTP code stays atomic now that its step is
//! sealed; and a dump shows which opaque account is a coordinator exactly
//! where SECURITY.md says it does.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use safehouse::accounts::model::Role;
use safehouse::cases::service as cases;

use crate::helpers::*;

/// A thief's connection to the database at rest, whichever backend.
enum Db {
    Sqlite(Vec<sqlx::SqlitePool>),
    Pg(sqlx::PgPool),
}

impl Db {
    /// The database files of an instance (on SQLite: `safehouse.db` and
    /// `sessions.db`; on PostgreSQL: its database), opened as a thief would.
    async fn open(app: &Instance) -> Db {
        match &app.pg {
            Some(pg) => Db::Pg(sqlx::PgPool::connect(&pg.url).await.unwrap()),
            None => {
                let mut pools = Vec::new();
                for file in ["safehouse.db", "sessions.db"] {
                    let options = sqlx::sqlite::SqliteConnectOptions::new()
                        .filename(app.data_dir().join(file))
                        .read_only(true);
                    pools.push(sqlx::SqlitePool::connect_with(options).await.unwrap());
                }
                Db::Sqlite(pools)
            }
        }
    }

    /// Every (table, column) of the schema: SQLite's `pragma table_info` of
    /// every table in both files, PostgreSQL's `information_schema`.
    async fn columns(&self) -> BTreeSet<(String, String)> {
        match self {
            Db::Sqlite(pools) => {
                let mut out = BTreeSet::new();
                for pool in pools {
                    let rows: Vec<(String, String)> = sqlx::query_as(
                        "SELECT m.name, p.name FROM sqlite_master AS m, pragma_table_info(m.name) AS p \
                         WHERE m.type = 'table'",
                    )
                    .fetch_all(pool)
                    .await
                    .unwrap();
                    out.extend(rows);
                }
                out
            }
            Db::Pg(pool) => sqlx::query_as::<_, (String, String)>(
                "SELECT table_name::text, column_name::text FROM information_schema.columns \
                 WHERE table_schema = current_schema()",
            )
            .fetch_all(pool)
            .await
            .unwrap()
            .into_iter()
            .collect(),
        }
    }

    /// Every value of one column, as text (NULL as none; bytes as they
    /// are on SQLite, hex on PostgreSQL).
    async fn values(&self, table: &str, column: &str) -> Vec<Option<String>> {
        match self {
            Db::Sqlite(_) => self
                .blobs(table, column)
                .await
                .into_iter()
                .map(|v| v.map(|bytes| String::from_utf8_lossy(&bytes).into_owned()))
                .collect(),
            Db::Pg(pool) => sqlx::query_as::<_, (Option<String>,)>(&format!(
                "SELECT CAST(\"{column}\" AS TEXT) FROM \"{table}\""
            ))
            .fetch_all(pool)
            .await
            .unwrap()
            .into_iter()
            .map(|(v,)| v)
            .collect(),
        }
    }

    /// Every value of one column, as bytes.
    async fn blobs(&self, table: &str, column: &str) -> Vec<Option<Vec<u8>>> {
        let rows: Vec<(Option<Vec<u8>>,)> = match self {
            Db::Sqlite(pools) => {
                let sql = format!("SELECT CAST(\"{table}\".\"{column}\" AS BLOB) FROM \"{table}\"");
                let mut found = None;
                for pool in pools {
                    if let Ok(rows) = sqlx::query_as(&sql).fetch_all(pool).await {
                        found = Some(rows);
                        break;
                    }
                }
                found.unwrap_or_else(|| panic!("no table {table}"))
            }
            Db::Pg(pool) => {
                let sql = format!("SELECT CAST(\"{column}\" AS BYTEA) FROM \"{table}\"");
                sqlx::query_as(&sql).fetch_all(pool).await.unwrap()
            }
        };
        rows.into_iter().map(|(v,)| v).collect()
    }

    /// The rows of a query of two text columns.
    async fn pairs(&self, sql: &str) -> BTreeSet<(String, String)> {
        match self {
            Db::Sqlite(pools) => sqlx::query_as::<_, (String, String)>(sql)
                .fetch_all(&pools[0])
                .await
                .unwrap()
                .into_iter()
                .collect(),
            Db::Pg(pool) => sqlx::query_as::<_, (String, String)>(sql)
                .fetch_all(pool)
                .await
                .unwrap()
                .into_iter()
                .collect(),
        }
    }

    async fn close(self) {
        match self {
            Db::Sqlite(pools) => {
                for pool in pools {
                    pool.close().await;
                }
            }
            Db::Pg(pool) => pool.close().await,
        }
    }
}

/// The naming rule of SECURITY.md's preamble to the table: a column so named
/// holds a ciphertext or a keyed hash, and needs no row.
fn sealed_by_name(column: &str) -> bool {
    column == "sealed"
        || column.starts_with("sealed_")
        || column == "wrapped"
        || column.starts_with("handover_")
        || column == "mac"
        || column.ends_with("_mac")
        || column == "lookup"
        || column == "pepper_check"
}

fn read(path: &str) -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(path)).unwrap()
}

/// The lines of a markdown section, from its heading to the next heading of
/// the same or a higher level.
fn section<'a>(text: &'a str, heading: &str) -> Vec<&'a str> {
    let level = heading.chars().take_while(|c| *c == '#').count();
    let mut lines = text.lines().skip_while(|l| l.trim() != heading);
    assert!(lines.next().is_some(), "no section {heading:?}");
    lines
        .take_while(|l| {
            let hashes = l.chars().take_while(|c| *c == '#').count();
            hashes == 0 || hashes > level || !l.starts_with(&"#".repeat(hashes))
        })
        .collect()
}

/// The cells of a table row.
fn cells(line: &str) -> Vec<&str> {
    line.trim().trim_matches('|').split('|').map(str::trim).collect()
}

/// The code spans of a cell: `a`, `b` in "`a`, `b`".
fn spans(cell: &str) -> Vec<&str> {
    cell.split('`').skip(1).step_by(2).collect()
}

/// SECURITY.md's table of clear columns: (table, column) for every column a
/// row names, with the row's "what it tells a thief" cell. In a row's first
/// cell, `table.column` names a column and a bare `column` one more of the
/// table named last.
fn documented_clear_columns() -> BTreeMap<(String, String), String> {
    let text = read("SECURITY.md");
    let mut out = BTreeMap::new();
    for line in section(&text, "## What is stored in clear") {
        if !line.starts_with("| `") {
            continue;
        }
        let row = cells(line);
        assert_eq!(row.len(), 3, "a row of three cells: {line}");
        let mut table = None;
        for span in spans(row[0]) {
            let column = match span.split_once('.') {
                Some((t, c)) => {
                    table = Some(t.to_owned());
                    c
                }
                None => span,
            };
            let table = table.clone().unwrap_or_else(|| panic!("{span}: which table? {line}"));
            assert!(!column.contains(['*', ' ']), "{span}: name each column");
            let previous = out.insert((table, column.to_owned()), row[2].to_owned());
            assert!(previous.is_none(), "{span} is named twice");
        }
    }
    assert!(!out.is_empty(), "the table was not found");
    out
}

#[tokio::test]
async fn finding_10_security_md_lists_every_clear_column() {
    let t = spawn_app().await;
    let db = Db::open(&t.app).await;
    let schema = db.columns().await;
    db.close().await;
    assert!(schema.contains(&("audit_log".into(), "role".into())), "the schema was read: {schema:?}");
    assert!(schema.contains(&("sessions".into(), "expires_at".into())), "the sessions table too");

    let clear: BTreeSet<(String, String)> =
        schema.iter().filter(|(_, column)| !sealed_by_name(column)).cloned().collect();
    let documented = documented_clear_columns();
    // Tables named sqlite_* are SQLite's own and exist there only.
    let here = |table: &str| t.app.pg.is_none() || !table.starts_with("sqlite_");
    let missing: Vec<_> = clear.iter().filter(|c| !documented.contains_key(*c)).collect();
    let unknown: Vec<_> = documented
        .keys()
        .filter(|(table, column)| here(table) && !schema.contains(&(table.clone(), column.clone())))
        .collect();
    let sealed_named: Vec<_> = documented.keys().filter(|(_, column)| sealed_by_name(column)).collect();
    assert!(missing.is_empty(), "clear columns SECURITY.md does not list: {missing:?}");
    assert!(unknown.is_empty(), "SECURITY.md lists columns the schema does not have: {unknown:?}");
    assert!(sealed_named.is_empty(), "SECURITY.md lists columns its rule calls sealed: {sealed_named:?}");

    // No clear time of a login: the last accepted TOTP step is sealed, and
    // an alert keeps no time.
    for column in [("totp", "last_step"), ("login_alerts", "last_at")] {
        assert!(!schema.contains(&(column.0.into(), column.1.into())), "{column:?} is gone");
    }
    assert!(schema.contains(&("totp".into(), "sealed_last_step".into())));
}

/// Two logins with the same code at the same moment: exactly one session.
#[tokio::test]
async fn finding_10_a_code_used_by_two_logins_at_once_passes_once() {
    let t = spawn_app().await;
    let user = t.web_user("case.race", Role::Caseworker).await;
    for round in 0..3 {
        let code = oath_code(&user.secret, t.now());
        let form = [("username", "case.race"), ("password", PASSWORD), ("code", code.as_str())];
        let (mut a, mut b) = (t.client(), t.client());
        let (first, second) = tokio::join!(a.post("/login", &form), b.post("/login", &form));
        let statuses = [first.status().as_u16(), second.status().as_u16()];
        assert_eq!(statuses.iter().filter(|s| **s == 303).count(), 1, "round {round}: {statuses:?}");
        assert!(statuses.contains(&200), "round {round}: the other is the ordinary refusal: {statuses:?}");
        t.next_step();
    }

    // What the database keeps of it: a sealed step, never the step itself.
    let db = Db::open(&t.app).await;
    let sealed = db.blobs("totp", "sealed_last_step").await;
    db.close().await;
    assert_eq!(sealed.len(), 1);
    let kept = sealed[0].clone().expect("the accepted step is recorded");
    let step = (t.now().unix_timestamp() / 30 - 1).to_be_bytes();
    assert!(!contains(&kept, &step), "the step is not stored in clear");
}

#[tokio::test]
async fn finding_15_a_dump_shows_which_account_is_a_coordinator_as_security_md_says() {
    let t = spawn_app().await;
    let app = &t.app;
    let caseworker = app.user("case.seen", Role::Caseworker, true).await;
    let coordinator = app.user("coord.second", Role::Coordinator, true).await;
    cases::create(&app.vault, &caseworker, draft(&["Rolealias Test"], "")).await.unwrap();
    cases::list_visible(&app.vault, &coordinator).await.unwrap();
    let id = |actor: &safehouse::accounts::model::Actor| actor.user_id().to_string();

    // A thief with the database alone learns, from the audit trail, the role
    // each opaque account acted in, and from the wraps, which opaque
    // accounts hold the coordinators key.
    let db = Db::open(app).await;
    let acted = db.pairs("SELECT DISTINCT actor, role FROM audit_log").await;
    for (actor, role) in [(&coordinator, "coordinator"), (&app.admin, "admin"), (&caseworker, "caseworker")] {
        assert!(acted.contains(&(id(actor), role.to_owned())), "{role}: {acted:?}");
    }
    let members = db
        .pairs(
            "SELECT holder_id, object_id FROM wraps \
             WHERE object_kind = 'team' AND holder_kind = 'user'",
        )
        .await;
    assert!(members.contains(&(id(&coordinator), "coordinators".to_owned())), "{members:?}");
    assert!(!members.iter().any(|(holder, _)| *holder == id(&caseworker)), "{members:?}");

    // Nowhere else: a role or team name is a whole clear value only in
    // these columns (the user directory's roles are sealed).
    let roles = ["admin", "coordinator", "caseworker", "communications", "auditor", "coordinators"];
    let mut found = BTreeSet::new();
    for (table, column) in db.columns().await {
        if sealed_by_name(&column) {
            continue;
        }
        let values = db.values(&table, &column).await;
        if values.iter().flatten().any(|v| roles.contains(&v.as_str())) {
            found.insert(format!("{table}.{column}"));
        }
    }
    db.close().await;
    let expected: BTreeSet<String> =
        ["audit_log.role", "teams.name", "wraps.object_id", "wraps.holder_id"].map(String::from).into();
    assert_eq!(found, expected);

    // And the documents say so: the clear-columns table tells a thief what
    // these columns reveal about coordinators, the compromise table and the
    // deployment guide no longer promise that a copy reveals no role.
    let documented = documented_clear_columns();
    for column in [("audit_log", "role"), ("wraps", "holder_id")] {
        let tells = &documented[&(column.0.to_owned(), column.1.to_owned())];
        assert!(tells.contains("coordinator"), "{column:?}: {tells}");
    }
    let security = read("SECURITY.md");
    let copy = section(&security, "## What each compromise reveals")
        .into_iter()
        .find(|l| l.starts_with("| a copy of the database or a backup |"))
        .map(cells)
        .unwrap();
    assert!(copy[1].contains("coordinator"), "reveals: {}", copy[1]);
    assert!(!copy[2].contains("role"), "does not reveal: {}", copy[2]);
    let deployment = read("docs/deployment.md");
    let dump = section(&deployment, "### What a replica or a dump reveals").join("\n");
    assert!(dump.contains("coordinator"), "{dump}");
    assert!(!dump.contains("or role"), "{dump}");
}

/// A database made before 0006 keeps its accounts through the upgrade: the
/// clear step is dropped (the next login records a sealed one), the alert
/// keeps its count.
#[tokio::test]
async fn finding_10_an_older_database_upgrades_without_losing_a_row() {
    use safehouse::storage::{PgStore, SqliteStore, Store, Write};
    let backend = if on_postgres() { "postgres" } else { "sqlite" };
    let older = tempfile::tempdir().unwrap();
    let folder = Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations").join(backend);
    for entry in std::fs::read_dir(&folder).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if name.as_str() < "0005" {
            std::fs::copy(&path, older.path().join(&name)).unwrap();
        }
    }
    let migrator = sqlx::migrate::Migrator::new(older.path()).await.unwrap();
    assert_eq!(migrator.iter().count(), 4);
    let rows = [
        "INSERT INTO users (id, lookup, version, sealed_profile) VALUES ('u1', $1, 1, $1)",
        "INSERT INTO totp (user_id, sealed_secret, confirmed, last_step) VALUES ('u1', $1, 1, 59000000)",
        "INSERT INTO login_alerts (user_id, count, last_at) VALUES ('u1', 2, 1770000000)",
    ];
    let dir = tempfile::tempdir().unwrap();
    let pg = if on_postgres() { fresh_pg().await } else { None };
    let store: Box<dyn Store> = match &pg {
        Some(db) => {
            let pool = sqlx::PgPool::connect(&db.url).await.unwrap();
            migrator.run(&pool).await.unwrap();
            for sql in rows {
                sqlx::query(sql).bind(vec![7u8]).execute(&pool).await.unwrap();
            }
            pool.close().await;
            Box::new(PgStore::open(&db.url).await.unwrap())
        }
        None => {
            let path = dir.path().join("safehouse.db");
            let options = sqlx::sqlite::SqliteConnectOptions::new().filename(&path).create_if_missing(true);
            let pool = sqlx::SqlitePool::connect_with(options).await.unwrap();
            migrator.run(&pool).await.unwrap();
            for sql in rows {
                sqlx::query(sql).bind(vec![7u8]).execute(&pool).await.unwrap();
            }
            pool.close().await;
            Box::new(SqliteStore::open(&path, false).await.unwrap())
        }
    };
    let row = store.totp("u1").await.unwrap().expect("the enrolment survives");
    assert_eq!((row.sealed_secret, row.confirmed, row.sealed_last_step), (vec![7], 1, None));
    assert_eq!(store.login_alert("u1").await.unwrap(), Some(2));
    // The first code after the upgrade records a sealed step, once.
    let used = || Write::UseTotpStep { user_id: "u1".into(), expected: None, sealed_step: vec![9] };
    store.apply(vec![used()]).await.unwrap();
    assert!(store.apply(vec![used()]).await.is_err(), "the swap expects the value it read");
    assert_eq!(store.totp("u1").await.unwrap().unwrap().sealed_last_step, Some(vec![9]));
}
