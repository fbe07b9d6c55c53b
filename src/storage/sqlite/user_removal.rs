//! `users remove` on SQLite, in steps. In one transaction the removal held the file's write
//! lock, and so every other tenant's deliveries, for as long as it ran: ~11 s per 5,000 leads
//! (BENCHMARKS.md, "Removing a user"), minutes for a large tenant, while Smartlead retries a
//! 503 for ~35 minutes only. Here the user's rows go a batch at a time, each batch its own
//! short transaction, children before their parents, so the service's writer waits for one
//! batch at most. The user's org is released first, so that its deliveries stop; the user row
//! goes last, cascading to whatever arrived meanwhile.

use rusqlite::{Connection, TransactionBehavior};

use super::{users, StorageError};
use crate::domain::UserId;
use crate::storage::records::UserRemoval;

/// Removes `user`: its org (its deliveries are refused from then on), then its rows `batch` at
/// a time, each batch its own transaction, table by table in [`cascades`] order, then the user
/// row, cascading to whatever arrived meanwhile. `progress` hears of each batch: its table (as
/// reported) and the rows removed from it so far.
pub fn remove_user(
    conn: &mut Connection,
    user: UserId,
    batch: usize,
    progress: &mut dyn FnMut(&str, u64),
) -> Result<UserRemoval, StorageError> {
    // The org first: from here its deliveries are refused as any unknown org's, instead of
    // being stored while the removal runs only to be deleted by its last step (and an
    // interrupted removal leaves a user that no longer receives, to be removed again).
    users::release_org(conn, user)?;
    let batch = batch.max(1);
    let mut removed = Vec::new();
    let mut transactions = 1;
    for cascade in cascades(conn)? {
        let mut rows = 0;
        loop {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let went = remove_batch(&tx, user, &cascade, batch)?;
            tx.commit()?;
            transactions += 1;
            rows += went as u64;
            progress(users::shown_table(&cascade.table), rows);
            if went < batch {
                break;
            }
        }
        removed.push((cascade.table, rows));
    }
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let late = users::remove_user(&tx, user)?;
    tx.commit()?;
    transactions += 1;
    for (table, rows) in late {
        if let Some(counted) = removed.iter_mut().find(|(name, _)| *name == table) {
            counted.1 += rows;
        }
    }
    Ok(UserRemoval {
        tables: users::shown_counts(removed),
        transactions,
    })
}

/// A table the schema deletes from when a user is deleted (`ON DELETE CASCADE`).
struct Cascade {
    table: String,
    /// The table's column naming the user, and the `users` column it holds.
    column: String,
    users_column: String,
    /// The columns naming a row: `rowid`, or the primary key's for a table `WITHOUT ROWID`.
    key: String,
}

/// The tables the schema cascades to from `users`, read from the schema, in an order that
/// empties each table before any table it references (a backfill record before its event, an
/// event before its lead), so that no step cascades or sets a column to NULL beyond its own
/// rows. The API tokens come first: the user's reads stop before its numbers start to go.
fn cascades(conn: &Connection) -> Result<Vec<Cascade>, StorageError> {
    let links: Vec<(String, String, String, String)> = conn
        .prepare(
            "SELECT m.name, f.\"table\", f.\"from\", f.\"to\" FROM sqlite_schema m, pragma_foreign_key_list(m.name) f
             WHERE m.type = 'table' ORDER BY m.name",
        )?
        .query_map([], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?)))?
        .collect::<Result<_, _>>()?;
    let on_delete: Vec<String> = conn
        .prepare(
            "SELECT m.name FROM sqlite_schema m, pragma_foreign_key_list(m.name) f
             WHERE m.type = 'table' AND f.\"table\" = 'users' AND f.on_delete = 'CASCADE'
             ORDER BY m.name",
        )?
        .query_map([], |row| row.get(0))?
        .collect::<Result<_, _>>()?;
    let mut left: Vec<String> = on_delete;
    left.dedup();
    let mut ordered = Vec::new();
    while !left.is_empty() {
        // A table no other remaining table references; "api_tokens" sorts first among them.
        let free = left
            .iter()
            .position(|table| {
                !links.iter().any(|(child, parent, _, _)| {
                    parent == table && child != table && left.contains(child)
                })
            })
            .ok_or_else(|| {
                StorageError::Database("the user tables reference each other in a cycle".into())
            })?;
        let table = left.remove(free);
        let (_, _, column, users_column) = links
            .iter()
            .find(|(child, parent, _, _)| *child == table && parent == "users")
            .ok_or_else(|| StorageError::Database(format!("{table}: no key to users").into()))?;
        let key = primary_key(conn, &table)?;
        ordered.push(Cascade {
            column: column.clone(),
            users_column: users_column.clone(),
            key,
            table,
        });
    }
    Ok(ordered)
}

/// `rowid`, or the primary key's columns, comma-separated, for a table `WITHOUT ROWID`.
fn primary_key(conn: &Connection, table: &str) -> Result<String, StorageError> {
    let without_rowid: bool = conn.query_row(
        "SELECT sql LIKE '%WITHOUT ROWID%' FROM sqlite_schema WHERE type = 'table' AND name = ?1",
        [table],
        |row| row.get(0),
    )?;
    if !without_rowid {
        return Ok("rowid".to_owned());
    }
    let columns: Vec<String> = conn
        .prepare("SELECT name FROM pragma_table_info(?1) WHERE pk > 0 ORDER BY pk")?
        .query_map([table], |row| row.get::<_, String>(0))?
        .map(|name| name.map(|name| format!("\"{name}\"")))
        .collect::<Result<_, _>>()?;
    Ok(columns.join(", "))
}

/// Deletes up to `limit` of the user's rows of `cascade`'s table (found through the index its
/// user column leads, as every foreign key's does): how many went.
fn remove_batch(
    conn: &Connection,
    user: UserId,
    cascade: &Cascade,
    limit: usize,
) -> Result<usize, StorageError> {
    let Cascade {
        table,
        column,
        users_column,
        key,
    } = cascade;
    let sql = format!(
        "DELETE FROM \"{table}\" WHERE ({key}) IN (
             SELECT {key} FROM \"{table}\"
             WHERE \"{column}\" = (SELECT \"{users_column}\" FROM users WHERE id = ?1) LIMIT ?2)"
    );
    Ok(conn.execute(&sql, rusqlite::params![user.to_string(), limit as i64])?)
}
