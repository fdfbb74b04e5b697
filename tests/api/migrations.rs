//! The SQLite and PostgreSQL migrations must not drift: the same files, and
//! in each the same tables with the same columns.

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

/// (table, column) pairs a migration creates or adds, read from its DDL.
fn columns(sql: &str) -> BTreeSet<(String, String)> {
    let mut out = BTreeSet::new();
    let lines: Vec<&str> = sql.lines().map(|l| l.split("--").next().unwrap().trim()).collect();
    let mut table: Option<String> = None;
    for line in lines {
        let words: Vec<&str> = line.split_whitespace().collect();
        match words.as_slice() {
            ["CREATE", "TABLE", name, ..] => table = Some(name.trim_end_matches('(').to_lowercase()),
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
        assert!(!a.is_empty(), "{file} defines columns");
        assert_eq!(a, b, "{file}: tables and columns differ");
    }
}
