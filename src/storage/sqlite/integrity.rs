//! What `serve` checks of the file before it listens, so that a malformed database is refused
//! with a clear message instead of served with 500s. Damage found later, by any query, is a
//! storage fault at run time (`/health` 503).

use rusqlite::Connection;

use super::StorageError;
use crate::storage::records::StartupCheck;

/// Tables read in full by [`StartupCheck::Quick`]: small, and needed by every request.
const VITAL_TABLES: [&str; 3] = ["users", "integration_credentials", "api_tokens"];

/// Runs `check` on a migrated database; `Err(StorageError::Corrupt)` names what SQLite found.
pub fn check(conn: &Connection, check: StartupCheck) -> Result<(), StorageError> {
    match check {
        StartupCheck::Full => quick_check(conn, None),
        StartupCheck::Quick => {
            for table in VITAL_TABLES {
                quick_check(conn, Some(table))?;
            }
            for probe in first_page_probes(conn)? {
                conn.query_row(&probe, [], |_| Ok(()))
                    .or_else(none_is_fine)?;
            }
            Ok(())
        }
    }
}

/// One query per b-tree that reads its root and first leaf: `NOT INDEXED` keeps SQLite from
/// answering a table's probe from a covering index, `INDEXED BY` makes it read each index.
fn first_page_probes(conn: &Connection) -> Result<Vec<String>, StorageError> {
    let quote = |name: String| format!("\"{}\"", name.replace('"', "\"\""));
    let mut statement = conn.prepare(
        "SELECT type, name, tbl_name FROM sqlite_schema
         WHERE type IN ('table', 'index') AND (name NOT LIKE 'sqlite_%' OR name LIKE 'sqlite_autoindex_%')
           AND (sql IS NULL OR sql NOT LIKE '%WHERE%')",
    )?;
    let probes = statement
        .query_map([], |row| {
            let (kind, name, table): (String, String, String) =
                (row.get(0)?, row.get(1)?, row.get(2)?);
            Ok(match kind.as_str() {
                "table" => format!("SELECT 1 FROM {} NOT INDEXED LIMIT 1", quote(name)),
                _ => format!(
                    "SELECT 1 FROM {} INDEXED BY {} LIMIT 1",
                    quote(table),
                    quote(name)
                ),
            })
        })?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(probes)
}

fn none_is_fine(err: rusqlite::Error) -> rusqlite::Result<()> {
    match err {
        rusqlite::Error::QueryReturnedNoRows => Ok(()),
        err => Err(err),
    }
}

/// `PRAGMA quick_check`, of one table and its indexes or of everything. SQLite answers one row
/// `ok`, or rows describing the damage (some damage is reported as an error instead).
fn quick_check(conn: &Connection, table: Option<&str>) -> Result<(), StorageError> {
    let sql = match table {
        Some(table) => format!("PRAGMA quick_check(\"{table}\")"),
        None => "PRAGMA quick_check".to_owned(),
    };
    let mut statement = conn.prepare(&sql)?;
    let findings = statement
        .query_map([], |row| row.get::<_, String>(0))?
        .take(5)
        .collect::<Result<Vec<_>, _>>()?;
    if findings == ["ok"] {
        return Ok(());
    }
    Err(StorageError::Corrupt(findings.join("; ").into()))
}
