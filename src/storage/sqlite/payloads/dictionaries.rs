//! The dictionaries payloads are compressed with, kept in the file (`payload_dictionaries`) so
//! that every frame stays readable: a version (the newest compresses new payloads), the id
//! zstd writes into each frame's header, and the bytes. Rows are only ever added.

use rusqlite::types::Value;
use rusqlite::{params, Connection, OptionalExtension};

use super::Payloads;
use crate::storage::records::TrainedDictionary;
use crate::storage::StorageError;

/// The dictionary a new file starts with (`examples/train_dictionary.rs` makes it from the
/// real-shaped bodies under `tests/fixtures/smartlead/`).
pub const BUILTIN: &[u8] = include_bytes!("builtin.dict");

/// Fewer payloads than this say too little about an install's traffic to train on.
pub const MIN_SAMPLES: usize = 100;
/// Payloads a training reads (evenly spread over the file), and the dictionary's size.
const SAMPLES: usize = 20_000;
const DICTIONARY_BYTES: usize = 32 * 1024;

pub struct Dictionary {
    pub version: i64,
    pub zstd_id: u32,
    pub bytes: Vec<u8>,
}

pub(super) fn newest(conn: &Connection) -> Result<Option<Dictionary>, StorageError> {
    if !exists(conn)? {
        return Ok(None);
    }
    Ok(conn
        .prepare_cached(
            "SELECT version, zstd_id, dictionary FROM payload_dictionaries
             ORDER BY version DESC LIMIT 1",
        )?
        .query_row([], |row| {
            Ok(Dictionary {
                version: row.get(0)?,
                zstd_id: row.get(1)?,
                bytes: row.get(2)?,
            })
        })
        .optional()?)
}

/// The version new payloads are compressed with, if the file has dictionaries.
pub fn newest_version(conn: &Connection) -> Result<Option<i64>, StorageError> {
    if !exists(conn)? {
        return Ok(None);
    }
    Ok(
        conn.query_row("SELECT max(version) FROM payload_dictionaries", [], |row| {
            row.get(0)
        })?,
    )
}

pub(super) fn by_zstd_id(conn: &Connection, id: u32) -> Result<Option<Vec<u8>>, StorageError> {
    Ok(conn
        .prepare_cached("SELECT dictionary FROM payload_dictionaries WHERE zstd_id = ?1")?
        .query_row([id], |row| row.get(0))
        .optional()?)
}

fn exists(conn: &Connection) -> Result<bool, StorageError> {
    Ok(conn
        .prepare_cached(
            "SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = 'payload_dictionaries'",
        )?
        .exists([])?)
}

/// Adds `bytes` as the newest dictionary, in the caller's transaction.
pub(super) fn insert(
    conn: &Connection,
    bytes: &[u8],
    trained_on: &str,
) -> Result<(i64, u32), StorageError> {
    let zstd_id = zstd::zstd_safe::get_dict_id_from_dict(bytes)
        .ok_or_else(|| StorageError::Conflict("not a zstd dictionary".into()))?
        .get();
    if by_zstd_id(conn, zstd_id)?.is_some() {
        return Err(StorageError::Conflict(format!(
            "the file already has this dictionary (zstd id {zstd_id}): nothing new to train on"
        )));
    }
    let version = conn.query_row(
        "INSERT INTO payload_dictionaries (version, zstd_id, dictionary, trained_on)
         VALUES ((SELECT coalesce(max(version), 0) + 1 FROM payload_dictionaries), ?1, ?2, ?3)
         RETURNING version",
        params![zstd_id, bytes, trained_on],
        |row| row.get(0),
    )?;
    Ok((version, zstd_id))
}

/// Trains a dictionary on up to 20,000 of the file's own payloads, spread evenly over its
/// events, and adds it as the newest version, in the caller's transaction. New payloads use it
/// from then on (see `Payloads::adopt_newest`); `payloads compress` rewrites the stored ones.
pub fn train(conn: &Connection, payloads: &Payloads) -> Result<TrainedDictionary, StorageError> {
    let last: i64 = conn.query_row(
        "SELECT coalesce(max(rowid), 0) FROM email_event_rows",
        [],
        |r| r.get(0),
    )?;
    let mut sample = conn.prepare_cached(
        "SELECT rowid, event_data FROM email_event_rows WHERE rowid >= ?1 ORDER BY rowid LIMIT 1",
    )?;
    let mut samples = Vec::new();
    let mut previous = 0;
    for k in 0..SAMPLES as i64 {
        let at = 1 + k * last / SAMPLES as i64;
        let row = sample
            .query_row([at.max(previous + 1)], |row| {
                Ok((row.get::<_, i64>(0)?, row.get::<_, Value>(1)?))
            })
            .optional()?;
        let Some((rowid, stored)) = row else { break };
        previous = rowid;
        let json = payloads.decode(conn, (&stored).into())?;
        if json != super::super::retention::PRUNED_PAYLOAD {
            samples.push(json);
        }
    }
    if samples.len() < MIN_SAMPLES {
        return Err(StorageError::Conflict(format!(
            "{} payloads to train on; a dictionary needs at least {MIN_SAMPLES}",
            samples.len()
        )));
    }
    let bytes = zstd::dict::from_samples(&samples, DICTIONARY_BYTES).map_err(|e| {
        StorageError::Conflict(format!("zstd could not train on these payloads: {e}"))
    })?;
    let (version, zstd_id) = insert(
        conn,
        &bytes,
        &format!("{} payloads of this file", samples.len()),
    )?;
    Ok(TrainedDictionary {
        version,
        zstd_id,
        bytes: bytes.len(),
        samples: samples.len(),
    })
}
