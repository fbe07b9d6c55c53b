//! The SQLite side of `migrate-data`: a table read in batches, in its own key order (rowid, or
//! the primary key of a WITHOUT ROWID table), every value as text.

use rusqlite::types::{Value, ValueRef};
use rusqlite::{params_from_iter, Connection, OptionalExtension};

use super::payloads::Payloads;
use super::StorageError;
use crate::storage::records::{copied_table, RowBatch};

fn known(table: &str) -> Result<&'static str, StorageError> {
    copied_table(table)
        .ok_or_else(|| StorageError::Conflict(format!("{table} is not a copied table")))
}

/// Columns that are this file's own, not data. A copied event's seq is this file's: the target
/// gives out its own (the copy starts from a caught-up projector, so every copied event counts
/// as projected). The integer keys, and the rowid the `email_events` view carries, are how this
/// file links its rows (migration 015); the target links them by id.
const NOT_COPIED: [(&str, &str); 4] = [
    ("email_events", "seq"),
    ("email_events", "rowid"),
    ("users", "user_key"),
    ("leads", "lead_key"),
];

/// (columns in order, the key columns a WITHOUT ROWID table is ordered by; empty: rowid).
fn layout(conn: &Connection, table: &str) -> Result<(Vec<String>, Vec<String>), StorageError> {
    let mut stmt = conn.prepare("SELECT name, pk FROM pragma_table_info(?1) ORDER BY cid")?;
    let columns: Vec<(String, i64)> = stmt
        .query_map([table], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<Result<_, _>>()?;
    // `email_events` is a view (migration 015) that carries its rows' rowid as a column.
    let without_rowid: bool = conn
        .query_row(
            "SELECT sql LIKE '%WITHOUT ROWID%' FROM sqlite_schema WHERE type = 'table' AND name = ?1",
            [table],
            |r| r.get(0),
        )
        .optional()?
        .unwrap_or(false);
    let mut key: Vec<(i64, String)> = columns
        .iter()
        .filter(|(_, pk)| *pk > 0 && without_rowid)
        .map(|(name, pk)| (*pk, name.clone()))
        .collect();
    key.sort();
    Ok((
        columns
            .into_iter()
            .map(|(name, _)| name)
            .filter(|name| !NOT_COPIED.contains(&(table, name.as_str())))
            .collect(),
        key.into_iter().map(|(_, name)| name).collect(),
    ))
}

fn text(value: ValueRef<'_>) -> Option<String> {
    match value {
        ValueRef::Null => None,
        ValueRef::Integer(n) => Some(n.to_string()),
        ValueRef::Real(x) => Some(x.to_string()),
        ValueRef::Text(t) | ValueRef::Blob(t) => Some(String::from_utf8_lossy(t).into_owned()),
    }
}

fn from_json(value: &serde_json::Value) -> Value {
    match value {
        serde_json::Value::Number(n) => n.as_i64().map_or(Value::Null, Value::Integer),
        serde_json::Value::String(s) => Value::Text(s.clone()),
        _ => Value::Null,
    }
}

fn to_json(value: ValueRef<'_>) -> serde_json::Value {
    match value {
        ValueRef::Integer(n) => n.into(),
        other => text(other).into(),
    }
}

/// Up to `limit` rows of `table` after the position `after` (from a previous batch's `next`).
pub fn read_rows(
    conn: &Connection,
    payloads: &Payloads,
    table: &str,
    after: Option<&str>,
    limit: usize,
) -> Result<RowBatch, StorageError> {
    let table = known(table)?;
    let (columns, key) = layout(conn, table)?;
    let list = columns
        .iter()
        .map(|c| format!("\"{c}\""))
        .collect::<Vec<_>>()
        .join(", ");
    let (order, mut params): (String, Vec<Value>) = if key.is_empty() {
        let after: i64 = after.and_then(|a| a.parse().ok()).unwrap_or(i64::MIN);
        ("rowid".into(), vec![Value::Integer(after)])
    } else {
        let after: Vec<Value> = match after {
            Some(json) => serde_json::from_str::<Vec<serde_json::Value>>(json)
                .map_err(|e| StorageError::Conflict(format!("a copy position: {e}")))?
                .iter()
                .map(from_json)
                .collect(),
            None => Vec::new(),
        };
        (key.join(", "), after)
    };
    let position = match (key.is_empty(), params.is_empty()) {
        (true, _) => "WHERE rowid > ?1".to_owned(),
        (false, true) => String::new(),
        (false, false) => format!(
            "WHERE ({order}) > ({})",
            (1..=params.len())
                .map(|i| format!("?{i}"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    params.push(Value::Integer(limit as i64));
    let sql = format!(
        "SELECT {order}, {list} FROM {table} {position} ORDER BY {order} LIMIT ?{}",
        params.len()
    );
    let keys = if key.is_empty() { 1 } else { key.len() };
    let mut stmt = conn.prepare(&sql)?;
    let mut rows = stmt.query(params_from_iter(params))?;
    let mut batch = RowBatch {
        table: table.to_owned(),
        columns: columns.clone(),
        ..RowBatch::default()
    };
    let mut last = None;
    while let Some(row) = rows.next()? {
        last = Some(if key.is_empty() {
            row.get::<_, i64>(0)?.to_string()
        } else {
            let values: Vec<serde_json::Value> = (0..keys)
                .map(|i| row.get_ref(i).map(to_json))
                .collect::<Result<_, _>>()?;
            serde_json::Value::from(values).to_string()
        });
        let mut cells = Vec::with_capacity(columns.len());
        for (i, column) in columns.iter().enumerate() {
            let value = row.get_ref(keys + i)?;
            cells.push(if table == "email_events" && column == "event_data" {
                // PostgreSQL keeps payloads as JSONB: the copy carries the JSON text.
                Some(payloads.decode(conn, value)?)
            } else {
                text(value)
            });
        }
        batch.rows.push(cells);
    }
    batch.next = if batch.rows.len() == limit {
        last
    } else {
        None
    };
    Ok(batch)
}

/// Rows in `table`.
pub fn count_rows(conn: &Connection, table: &str) -> Result<i64, StorageError> {
    let table = known(table)?;
    Ok(conn.query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0))?)
}
