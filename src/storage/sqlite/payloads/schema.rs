//! The steps of migration 012 (`payload_compression`) that SQL alone cannot take.
//!
//! `event_data` must now admit a zstd frame as well as JSON text. SQLite cannot alter a CHECK,
//! and rebuilding `email_events` would copy every row of a 10M-event file inside the upgrade;
//! loosening a CHECK changes nothing on disk, so the table's definition is edited in place, as
//! SQLite's ALTER TABLE documentation describes for exactly this change (`writable_schema`,
//! then a new schema cookie so every connection re-reads it). Going down, every frame is
//! decompressed first, so that the strict CHECK holds again for every row.

use rusqlite::{params, Transaction};
use rusqlite_migration::{HookError, HookResult};

use super::dictionaries::{self, BUILTIN};
use super::Payloads;
use crate::domain::UtcTimestamp;
use crate::storage::StorageError;

const TEXT_ONLY: &str = "event_data TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(event_data)),";
// Comments in a CREATE TABLE are kept in the schema: this one tells a `sqlite3` reader why a
// blob is there. X'28B52FFD' is zstd's frame magic number.
const TEXT_OR_FRAME: &str = "event_data TEXT NOT NULL DEFAULT '{}'
        -- JSON text, or a zstd frame made with a dictionary of payload_dictionaries (issue 19)
        CHECK (CASE typeof(event_data) WHEN 'blob' THEN substr(event_data, 1, 4) = X'28B52FFD'
                                       ELSE json_valid(event_data) END),";

/// Rows a step of the way down reads and rewrites.
const DOWN_STEP: i64 = 1_000;

pub fn up(tx: &Transaction) -> HookResult {
    replace_in_definition(tx, TEXT_ONLY, TEXT_OR_FRAME)?;
    dictionaries::insert(
        tx,
        BUILTIN,
        "built in: the webhook bodies of tests/fixtures/smartlead",
    )
    .map_err(hook_error)?;
    Ok(())
}

pub fn down(tx: &Transaction) -> HookResult {
    let payloads = Payloads::plain();
    let now = UtcTimestamp::now().to_string();
    let mut after = 0;
    loop {
        let frames: Vec<(i64, Vec<u8>)> = tx
            .prepare_cached(
                "SELECT rowid, event_data FROM email_events
                 WHERE rowid > ?1 AND typeof(event_data) = 'blob' ORDER BY rowid LIMIT ?2",
            )?
            .query_map(params![after, DOWN_STEP], |row| {
                Ok((row.get(0)?, row.get(1)?))
            })?
            .collect::<Result<_, _>>()?;
        let Some((last, _)) = frames.last() else {
            break;
        };
        after = *last;
        for (rowid, frame) in &frames {
            let json = payloads
                .decode(tx, rusqlite::types::ValueRef::Blob(frame))
                .map_err(hook_error)?;
            tx.prepare_cached(
                "UPDATE email_events SET event_data = ?1, updated_at = ?2 WHERE rowid = ?3",
            )?
            .execute(params![json, now, rowid])?;
        }
    }
    replace_in_definition(tx, TEXT_OR_FRAME, TEXT_ONLY)
}

fn replace_in_definition(tx: &Transaction, from: &str, to: &str) -> HookResult {
    let definition: String = tx.query_row(
        "SELECT sql FROM sqlite_schema WHERE type = 'table' AND name = 'email_events'",
        [],
        |row| row.get(0),
    )?;
    if definition.matches(from).count() != 1 {
        return Err(HookError::Hook(format!(
            "email_events is not defined as this version expects (looked for `{from}`)"
        )));
    }
    let cookie: i64 = tx.pragma_query_value(None, "schema_version", |row| row.get(0))?;
    tx.pragma_update(None, "writable_schema", true)?;
    tx.execute(
        "UPDATE sqlite_schema SET sql = ?1 WHERE type = 'table' AND name = 'email_events'",
        [definition.replace(from, to)],
    )?;
    tx.pragma_update(None, "schema_version", cookie + 1)?;
    tx.pragma_update(None, "writable_schema", false)?;
    Ok(())
}

fn hook_error(err: StorageError) -> HookError {
    HookError::Hook(format!("{err}: {:?}", std::error::Error::source(&err)))
}
