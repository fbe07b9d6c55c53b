//! Rewriting stored payloads into one form: compressed with the newest dictionary (the upgrade
//! of a file from before compression, or after `payloads train`), or back to JSON text. A step
//! reads up to `limit` events after the pass's cursor, in rowid order, rewrites those not in the
//! form yet and moves the cursor, all in the caller's transaction: each step is one short write
//! (safe while the service runs), and a pass stopped anywhere resumes where it was.

use rusqlite::types::{Value, ValueRef};
use rusqlite::{params, Connection, OptionalExtension};

use super::Payloads;
use crate::domain::UtcTimestamp;
use crate::storage::records::{PayloadFormUsage, PayloadUsage, RecompressStep};
use crate::storage::StorageError;

/// One step of the pass `codec` writes (its dictionary, or text when it has none).
pub fn step(
    conn: &Connection,
    codec: &Payloads,
    limit: usize,
) -> Result<RecompressStep, StorageError> {
    let target = codec.version().unwrap_or(0);
    let after: i64 = conn
        .prepare_cached("SELECT after_rowid FROM payload_recompression WHERE target = ?1")?
        .query_row([target], |row| row.get(0))
        .optional()?
        .unwrap_or(0);
    let end: i64 = conn.query_row(
        "SELECT coalesce(max(rowid), 0) FROM email_event_rows",
        [],
        |r| r.get(0),
    )?;
    let rows: Vec<(i64, Value)> = conn
        .prepare_cached(
            "SELECT rowid, event_data FROM email_event_rows WHERE rowid > ?1 ORDER BY rowid LIMIT ?2",
        )?
        .query_map(params![after, limit as i64], |row| {
            Ok((row.get(0)?, row.get(1)?))
        })?
        .collect::<Result<_, _>>()?;
    let now = UtcTimestamp::now().to_string();
    let mut update = conn.prepare_cached(
        // updated_at set here, so the table's trigger does not write the row a second time.
        "UPDATE email_event_rows SET event_data = ?1, updated_at = ?2 WHERE rowid = ?3",
    )?;
    let mut step = RecompressStep {
        target,
        read: rows.len() as u64,
        end,
        ..RecompressStep::default()
    };
    for (rowid, stored) in &rows {
        let stored = ValueRef::from(stored);
        if codec.is_current(stored) {
            continue;
        }
        let json = codec.decode(conn, stored)?;
        let rewritten = codec.encode(&json)?;
        if ValueRef::from(&rewritten) == stored {
            continue;
        }
        step.bytes_before += stored_len(stored);
        step.bytes_after += stored_len(ValueRef::from(&rewritten));
        update.execute(params![rewritten, now, rowid])?;
        step.rewritten += 1;
    }
    step.position = rows.last().map_or(after.max(end), |(rowid, _)| *rowid);
    step.done = rows.len() < limit;
    // A pass rewrites rows another pass may already have covered: only this one's cursor holds.
    conn.prepare_cached("DELETE FROM payload_recompression WHERE target <> ?1")?
        .execute([target])?;
    conn.prepare_cached(
        "INSERT INTO payload_recompression (target, after_rowid, updated_at) VALUES (?1, ?2, ?3)
         ON CONFLICT (target) DO UPDATE SET after_rowid = excluded.after_rowid,
                                            updated_at = excluded.updated_at",
    )?
    .execute(params![target, step.position, now])?;
    Ok(step)
}

fn stored_len(value: ValueRef<'_>) -> u64 {
    match value {
        ValueRef::Text(bytes) | ValueRef::Blob(bytes) => bytes.len() as u64,
        _ => 0,
    }
}

/// Events and bytes per stored form (reads every row: a full pass over a large file).
pub fn usage(conn: &Connection) -> Result<PayloadUsage, StorageError> {
    let mut statement = conn.prepare(
        // A frame's header is at most 18 bytes; its dictionary id is in there.
        "SELECT CASE typeof(event_data) WHEN 'blob' THEN substr(event_data, 1, 18) END,
                length(event_data)
         FROM email_event_rows",
    )?;
    let mut rows = statement.query([])?;
    // Keyed by zstd id; 0 for text.
    let mut by_id = std::collections::BTreeMap::<u32, (u64, u64)>::new();
    while let Some(row) = rows.next()? {
        let id = match row.get_ref(0)? {
            ValueRef::Blob(header) => {
                zstd::zstd_safe::get_dict_id_from_frame(header).map_or(u32::MAX, |id| id.get())
            }
            _ => 0,
        };
        let entry = by_id.entry(id).or_default();
        entry.0 += 1;
        entry.1 += row.get::<_, i64>(1)?.unsigned_abs();
    }
    let mut version =
        conn.prepare_cached("SELECT version FROM payload_dictionaries WHERE zstd_id = ?1")?;
    // (text first, then by dictionary version; a frame of no known dictionary last).
    let mut forms = Vec::new();
    for (id, (events, bytes)) in by_id {
        let (order, form) = match id {
            0 => (0, "text".to_owned()),
            id => match version
                .query_row([id], |row| row.get::<_, i64>(0))
                .optional()?
            {
                Some(v) => (v, format!("dictionary {v}")),
                None => (i64::MAX, "unknown dictionary".to_owned()),
            },
        };
        forms.push((
            order,
            PayloadFormUsage {
                form,
                events,
                bytes,
            },
        ));
    }
    forms.sort_by_key(|(order, _)| *order);
    let forms = forms.into_iter().map(|(_, form)| form).collect();
    Ok(PayloadUsage {
        newest_dictionary: super::newest_version(conn)?,
        forms,
    })
}
