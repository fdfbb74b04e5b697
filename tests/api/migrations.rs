//! The SQLite and PostgreSQL migrations must not drift: the same files, and
//! in each the same tables with the same columns (sessions aside: on SQLite
//! they live in a file of their own, checked against PostgreSQL's table).

use std::collections::BTreeSet;
use std::path::Path;

fn names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".sql"))
        .collect();
    names.sort();
    names
}

/// (table, column) pairs a migration creates or adds, and (index, table)
/// pairs for the indexes it makes, read from its DDL.
fn columns(sql: &str) -> BTreeSet<(String, String)> {
    let mut out = BTreeSet::new();
    let lines: Vec<&str> = sql.lines().map(|l| l.split("--").next().unwrap().trim()).collect();
    let mut table: Option<String> = None;
    for line in lines {
        let words: Vec<&str> = line.split_whitespace().collect();
        match words.as_slice() {
            ["CREATE", "TABLE", name, ..] | ["CREATE", "UNLOGGED", "TABLE", name, ..] => {
                table = Some(name.trim_end_matches('(').to_lowercase())
            }
            ["CREATE", "INDEX", name, "ON", table_name, ..] => {
                // An index counts as a pair too: both backends must have it.
                out.insert((format!("index {}", name.to_lowercase()), table_name.to_lowercase()));
            }
            ["ALTER", "TABLE", name, "ADD", "COLUMN", column, ..] => {
                out.insert((name.to_lowercase(), column.to_lowercase()));
            }
            [first, ..] if first.starts_with(')') => table = None,
            [column, ..] => {
                let keyword = ["PRIMARY", "FOREIGN", "CONSTRAINT", "UNIQUE", "CHECK"]
                    .contains(&column.to_uppercase().as_str());
                if let (Some(t), false) = (&table, keyword) {
                    out.insert((t.clone(), column.trim_end_matches(',').to_lowercase()));
                }
            }
            [] => {}
        }
    }
    out
}

#[test]
fn sqlite_and_postgres_migrations_have_the_same_files_tables_and_columns() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations");
    let (sqlite, postgres) = (root.join("sqlite"), root.join("postgres"));
    let files = names(&sqlite);
    assert!(!files.is_empty());
    assert_eq!(files, names(&postgres), "the same numbers and names");
    for file in files {
        let a = columns(&std::fs::read_to_string(sqlite.join(&file)).unwrap());
        let b = columns(&std::fs::read_to_string(postgres.join(&file)).unwrap());
        if file == SESSIONS {
            // On SQLite the sessions table lives in its own file (below).
            assert!(a.is_empty(), "{file}: SQLite keeps sessions out of the database");
            continue;
        }
        assert!(!a.is_empty(), "{file} defines columns");
        assert_eq!(a, b, "{file}: tables and columns differ");
    }
}

const SESSIONS: &str = "0004_sessions.sql";

/// The sessions table of PostgreSQL's migration and the one the session
/// store makes in SQLite's sessions file have the same columns.
#[tokio::test]
async fn the_sessions_table_is_the_same_on_both_backends() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations");
    let postgres: BTreeSet<_> =
        columns(&std::fs::read_to_string(root.join("postgres").join(SESSIONS)).unwrap())
            .into_iter()
            .filter(|(name, _)| !name.starts_with("index "))
            .collect();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sessions.db");
    let at = safehouse::sessions::SessionsAt::File(path.clone());
    safehouse::sessions::SealedStore::open(&at, safehouse::crypto::Key32::random()).await.unwrap();
    let pool = sqlx::SqlitePool::connect_with(sqlx::sqlite::SqliteConnectOptions::new().filename(&path))
        .await
        .unwrap();
    let sqlite: BTreeSet<(String, String)> =
        sqlx::query_as::<_, (String,)>("SELECT name FROM pragma_table_info('sessions')")
            .fetch_all(&pool)
            .await
            .unwrap()
            .into_iter()
            .map(|(c,)| ("sessions".to_owned(), c))
            .collect();
    assert!(!sqlite.is_empty());
    assert_eq!(sqlite, postgres);
}
