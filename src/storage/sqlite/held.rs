//! Held deliveries: authentic webhook bodies the mapper could not turn into an event, kept
//! verbatim (without their secret) until a later mapper replays them. Bounded in rows and
//! bytes; past a bound the oldest go, so a sender stuck on a new shape cannot fill the disk.

use rusqlite::{params, Connection, OptionalExtension, Row};
use serde_json::value::RawValue;
use sha2::{Digest, Sha256};

use super::StorageError;
use crate::domain::HeldId;
use crate::domain::{OrgId, UnmappedDelivery, UserId};
use crate::storage::records::{HeldDelivery, HeldLimits, HeldReason, IngestOutcome};

/// What holding one delivery did: its outcome, and how many older ones it pushed out.
pub struct Held {
    pub outcome: IngestOutcome,
    pub dropped: u64,
}

/// Holds `held` (once: the same payload for the same user is found, not held again), then
/// drops the oldest held deliveries past `limits`. Runs in the caller's transaction.
pub fn hold(
    conn: &Connection,
    user: UserId,
    org: &OrgId,
    held: &UnmappedDelivery,
    limits: HeldLimits,
) -> Result<Held, StorageError> {
    let user = user.to_string();
    let sha = hex::encode(Sha256::digest(held.payload.as_bytes()));
    let existing: Option<String> = conn
        .prepare_cached(
            "SELECT id FROM held_deliveries WHERE user_id = ?1 AND payload_sha256 = ?2",
        )?
        .query_row(params![user, sha], |row| row.get(0))
        .optional()?;
    let held_id = match existing {
        Some(id) => id,
        None => {
            let id = HeldId::new().to_string();
            conn.prepare_cached(
                "INSERT INTO held_deliveries (id, user_id, smartlead_org_id, reason, detail, payload,
                                              payload_sha256, bytes, received_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            )?
            .execute(params![
                id,
                user,
                org.as_str(),
                held.reason,
                held.detail,
                held.payload,
                sha,
                held.payload.len() as i64,
                held.received_at.to_string(),
            ])?;
            id
        }
    };
    let dropped = enforce(conn, limits, &held_id)?;
    Ok(Held {
        outcome: IngestOutcome::Held {
            held_id,
            reason: held.reason.to_owned(),
        },
        dropped,
    })
}

/// Drops the oldest held deliveries until both bounds hold; returns how many went. Never the
/// one just held (`keep`): it is about to be acknowledged, so it must stay, even alone past a
/// bound.
fn enforce(conn: &Connection, limits: HeldLimits, keep: &str) -> Result<u64, StorageError> {
    let (mut count, mut bytes) = totals(conn)?;
    let mut dropped = 0;
    let mut oldest = conn.prepare_cached(
        "SELECT id, bytes FROM held_deliveries WHERE id <> ?1 ORDER BY received_at, id LIMIT 64",
    )?;
    while count > limits.max_count || bytes > limits.max_bytes {
        let batch: Vec<(String, i64)> = oldest
            .query_map([keep], |row| Ok((row.get(0)?, row.get(1)?)))?
            .collect::<Result<_, _>>()?;
        if batch.is_empty() {
            break;
        }
        for (id, size) in batch {
            if count <= limits.max_count && bytes <= limits.max_bytes {
                break;
            }
            conn.prepare_cached("DELETE FROM held_deliveries WHERE id = ?1")?
                .execute([&id])?;
            tracing::warn!(held_id = %id, bytes = size, "dropped the oldest held delivery: the held table is full");
            count -= 1;
            bytes = bytes.saturating_sub(size as u64);
            dropped += 1;
        }
    }
    Ok(dropped)
}

/// (rows, payload bytes) held now.
pub fn totals(conn: &Connection) -> Result<(u64, u64), StorageError> {
    Ok(conn
        .prepare_cached("SELECT count(*), COALESCE(sum(bytes), 0) FROM held_deliveries")?
        .query_row([], |row| {
            Ok((row.get::<_, i64>(0)? as u64, row.get::<_, i64>(1)? as u64))
        })?)
}

/// The user's held deliveries by reason, the commonest first (a seek on the user's key; the
/// table is bounded, so this reads at most `--held-max-count` rows).
pub fn reasons(conn: &Connection, user: UserId) -> Result<Vec<HeldReason>, StorageError> {
    let mut statement = conn.prepare_cached(
        "SELECT reason, count(*), max(received_at) FROM held_deliveries WHERE user_id = ?1
         GROUP BY reason ORDER BY count(*) DESC, reason",
    )?;
    let rows = statement.query_map([user.to_string()], |row| {
        Ok(HeldReason {
            reason: row.get(0)?,
            count: row.get(1)?,
            latest_received_at: row.get(2)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

const COLUMNS: &str = "id, user_id, smartlead_org_id, reason, detail, bytes, received_at";

fn summary(row: &Row<'_>) -> rusqlite::Result<HeldDelivery> {
    Ok(HeldDelivery {
        id: row.get(0)?,
        user_id: row.get(1)?,
        smartlead_org_id: row.get(2)?,
        reason: row.get(3)?,
        detail: row.get(4)?,
        bytes: row.get(5)?,
        received_at: row.get(6)?,
        payload: None,
    })
}

/// Every held delivery (with `reason`, only those), oldest first, without payloads.
pub fn list(conn: &Connection, reason: Option<&str>) -> Result<Vec<HeldDelivery>, StorageError> {
    let mut statement = conn.prepare(&format!(
        "SELECT {COLUMNS} FROM held_deliveries WHERE ?1 IS NULL OR reason = ?1
         ORDER BY received_at, id"
    ))?;
    let rows = statement.query_map([reason], summary)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// One held delivery with its payload.
pub fn get(conn: &Connection, id: HeldId) -> Result<Option<HeldDelivery>, StorageError> {
    let found = conn
        .prepare(&format!(
            "SELECT {COLUMNS}, payload FROM held_deliveries WHERE id = ?1"
        ))?
        .query_row([id.to_string()], |row| {
            let mut held = summary(row)?;
            let payload: String = row.get(7)?;
            // The column's CHECK (json_valid) makes a failure here a corrupted file.
            held.payload = Some(RawValue::from_string(payload).map_err(|e| {
                rusqlite::Error::FromSqlConversionFailure(
                    7,
                    rusqlite::types::Type::Text,
                    Box::new(e),
                )
            })?);
            Ok(held)
        })
        .optional()?;
    Ok(found)
}

/// Forgets a held delivery; whether it was there.
pub fn remove(conn: &Connection, id: HeldId) -> Result<bool, StorageError> {
    Ok(conn
        .prepare_cached("DELETE FROM held_deliveries WHERE id = ?1")?
        .execute([id.to_string()])?
        > 0)
}
