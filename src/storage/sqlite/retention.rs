//! Payload retention: the bulky `event_data` of old events is replaced by a small marker, while
//! the normalized columns, dedupe keys, leads and rollups stay, so every count and every dedupe
//! is unchanged. A step handles one tenant's table at a time, walking its time index from the
//! oldest row in keyset order, so no row is read twice; the pages freed go to SQLite's free
//! list and are reused by later writes (no VACUUM, which would rewrite the whole file).

use rusqlite::{params, Connection, OptionalExtension};

use super::keys::user_key;
use super::StorageError;
use crate::domain::UtcTimestamp;
use crate::storage::records::{PruneCursor, PruneStep};

/// What a pruned event's `event_data` becomes (valid JSON: the column's CHECK holds).
pub const PRUNED_PAYLOAD: &str = r#"{"pruned":true}"#;

/// (table, the time column its age is judged by, the column naming the row's user). Kept events
/// age by receipt: many have no time of their own. Email events name their user by its integer
/// key (migration 015).
const TABLES: [(&str, &str, &str); 2] = [
    ("email_event_rows", "timestamp", "user_key"),
    ("smartlead_events", "received_at", "user_id"),
];

/// Prunes up to `limit` rows after `cursor` whose time is before `before`, in the caller's
/// transaction; says where to go on from (`None`: every table of every user is done).
pub fn prune_step(
    conn: &Connection,
    before: UtcTimestamp,
    cursor: &PruneCursor,
    limit: usize,
) -> Result<PruneStep, StorageError> {
    let Some((table, time, user_column)) = TABLES.get(cursor.table).copied() else {
        return Ok(PruneStep::default());
    };
    let user = match &cursor.user_id {
        Some(user) => Some(user.clone()),
        None => first_user_after(conn, None)?,
    };
    let Some(user) = user else {
        // No users at all, or past the last one: the next table, from its first user.
        return Ok(PruneStep {
            next: cursor.next_table(TABLES.len()),
            ..PruneStep::default()
        });
    };
    // The user's id is ?1; a key column takes the key of it.
    let user_value = match user_column {
        "user_key" => user_key("?1"),
        _ => "?1".to_owned(),
    };
    let rows: Vec<(String, i64, i64)> = conn
        .prepare_cached(&format!(
            "SELECT {time}, rowid, length(event_data) FROM {table}
             WHERE {user_column} = {user_value} AND {time} < ?2 AND ({time} > ?3 OR ({time} = ?3 AND rowid > ?4))
             ORDER BY {time}, rowid LIMIT ?5"
        ))?
        .query_map(
            params![
                user,
                before.to_string(),
                cursor.at,
                cursor.row.parse::<i64>().unwrap_or(0),
                limit as i64
            ],
            |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)),
        )?
        .collect::<Result<_, _>>()?;
    let mut step = PruneStep::default();
    let marker = PRUNED_PAYLOAD.len() as i64;
    let mut update = conn.prepare_cached(&format!(
        "UPDATE {table} SET event_data = ?1 WHERE rowid = ?2"
    ))?;
    for (_, rowid, bytes) in rows.iter().filter(|(_, _, bytes)| *bytes > marker) {
        update.execute(params![PRUNED_PAYLOAD, rowid])?;
        step.pruned += 1;
        step.freed_bytes += (bytes - marker) as u64;
    }
    step.next = match rows.last() {
        Some((at, rowid, _)) if rows.len() == limit => Some(PruneCursor {
            table: cursor.table,
            user_id: Some(user),
            at: at.clone(),
            row: rowid.to_string(),
        }),
        // This user's table is done: its next user, or the next table.
        _ => match first_user_after(conn, Some(&user))? {
            Some(next) => Some(cursor.user_start(next)),
            None => cursor.next_table(TABLES.len()),
        },
    };
    Ok(step)
}

fn first_user_after(
    conn: &Connection,
    after: Option<&str>,
) -> Result<Option<String>, StorageError> {
    Ok(conn
        .prepare_cached("SELECT id FROM users WHERE id > ?1 ORDER BY id LIMIT 1")?
        .query_row([after.unwrap_or("")], |row| row.get(0))
        .optional()?)
}
