//! Payload retention on PostgreSQL (see the SQLite backend's twin): old events' `event_data`
//! becomes a small marker, one tenant's table at a time, in keyset order over (time, id).
//! PostgreSQL reuses the space once autovacuum has passed.

use super::session::Sql;
use super::values::{id, id_text, text, time};
use super::StorageError;
use crate::domain::UtcTimestamp;
use crate::storage::records::{PruneCursor, PruneStep};

pub const PRUNED_PAYLOAD: &str = r#"{"pruned":true}"#;

/// (table, the time column its age is judged by).
const TABLES: [(&str, &str); 2] = [
    ("email_events", "\"timestamp\""),
    ("smartlead_events", "received_at"),
];

pub fn prune_step(
    client: &mut impl Sql,
    before: UtcTimestamp,
    cursor: &PruneCursor,
    limit: usize,
) -> Result<PruneStep, StorageError> {
    let Some((table, column)) = TABLES.get(cursor.table).copied() else {
        return Ok(PruneStep::default());
    };
    let user = match &cursor.user_id {
        Some(user) => Some(id(user)?),
        None => first_user_after(client, None)?,
    };
    let Some(user) = user else {
        return Ok(PruneStep {
            next: cursor.next_table(TABLES.len()),
            ..PruneStep::default()
        });
    };
    let after_at = match cursor.at.as_str() {
        "" => time("0001-01-01T00:00:00Z")?,
        at => time(at)?,
    };
    let after_id = match cursor.row.as_str() {
        "" => uuid::Uuid::nil(),
        row => id(row)?,
    };
    let rows = client.query(
        &format!(
            // What a row frees: its payload's text less the marker's, both as JSONB prints them.
            "SELECT {column}, id,
                    octet_length(event_data::text) - octet_length('{PRUNED_PAYLOAD}'::jsonb::text),
                    event_data = '{PRUNED_PAYLOAD}'::jsonb
             FROM {table}
             WHERE user_id = $1 AND {column} < $2 AND ({column}, id) > ($3, $4)
             ORDER BY {column}, id LIMIT $5"
        ),
        &[
            &user,
            &before.as_datetime(),
            &after_at,
            &after_id,
            &(limit as i64),
        ],
    )?;
    let mut step = PruneStep::default();
    for row in &rows {
        let (freed, pruned): (i32, bool) = (row.get(2), row.get(3));
        if pruned || freed <= 0 {
            continue;
        }
        let row_id: uuid::Uuid = row.get(1);
        client.execute(
            &format!(
                "UPDATE {table} SET event_data = $1::text::jsonb WHERE user_id = $2 AND id = $3"
            ),
            &[&PRUNED_PAYLOAD, &user, &row_id],
        )?;
        step.pruned += 1;
        step.freed_bytes += freed as u64;
    }
    step.next = match rows.last() {
        Some(last) if rows.len() == limit => Some(PruneCursor {
            table: cursor.table,
            user_id: Some(id_text(user)),
            at: text(last.get(0)),
            row: id_text(last.get(1)),
        }),
        _ => match first_user_after(client, Some(user))? {
            Some(next) => Some(cursor.user_start(id_text(next))),
            None => cursor.next_table(TABLES.len()),
        },
    };
    Ok(step)
}

fn first_user_after(
    client: &mut impl Sql,
    after: Option<uuid::Uuid>,
) -> Result<Option<uuid::Uuid>, StorageError> {
    Ok(client
        .query_opt(
            "SELECT id FROM users WHERE id > $1 ORDER BY id LIMIT 1",
            &[&after.unwrap_or(uuid::Uuid::nil())],
        )?
        .map(|row| row.get(0)))
}
