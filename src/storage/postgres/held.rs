//! Held deliveries on PostgreSQL (see the SQLite backend's twin): authentic bodies the mapper
//! could not turn into an event, bounded in rows and bytes.

use postgres::Row;
use serde_json::value::RawValue;
use sha2::{Digest, Sha256};

use super::error::ConcurrentWrite;
use super::session::Session;
use super::session::Sql;
use super::values::{clean, id, id_text, json, text};
use super::StorageError;
use crate::domain::{HeldId, OrgId, UnmappedDelivery, UserId};
use crate::storage::records::{HeldDelivery, HeldLimits, HeldReason, IngestOutcome};

pub struct Held {
    pub outcome: IngestOutcome,
    pub dropped: u64,
}

/// Holds `held` once per payload and user, then drops the oldest past `limits` (never this
/// one). Runs in the caller's transaction.
pub fn hold(
    db: &mut Session<'_, '_>,
    user: UserId,
    org: &OrgId,
    held: &UnmappedDelivery,
    limits: HeldLimits,
) -> Result<Held, StorageError> {
    let sha = hex::encode(Sha256::digest(held.payload.as_bytes()));
    let existing = db.query_opt(
        "SELECT id FROM held_deliveries WHERE user_id = $1 AND payload_sha256 = $2",
        &[&user.as_uuid(), &sha],
    )?;
    let held_id = match existing {
        Some(row) => row.get::<_, uuid::Uuid>(0),
        None => {
            let new = HeldId::new().as_uuid();
            let inserted = db.query_opt(
                "INSERT INTO held_deliveries (id, user_id, smartlead_org_id, reason, detail, payload,
                                              payload_sha256, bytes, received_at)
                 VALUES ($1, $2, $3, $4, $5, $6::text::jsonb, $7, $8, $9)
                 ON CONFLICT (user_id, payload_sha256) DO NOTHING RETURNING id",
                &[
                    &new,
                    &user.as_uuid(),
                    &clean(org.as_str()).as_ref(),
                    &held.reason,
                    &clean(&held.detail).as_ref(),
                    &json(&held.payload)?.as_ref(),
                    &sha,
                    &(held.payload.len() as i64),
                    &held.received_at.as_datetime(),
                ],
            )?;
            if inserted.is_none() {
                return Err(ConcurrentWrite::error("held delivery"));
            }
            new
        }
    };
    let dropped = enforce(db, limits, held_id)?;
    Ok(Held {
        outcome: IngestOutcome::Held {
            held_id: id_text(held_id),
            reason: held.reason.to_owned(),
        },
        dropped,
    })
}

fn enforce(
    db: &mut Session<'_, '_>,
    limits: HeldLimits,
    keep: uuid::Uuid,
) -> Result<u64, StorageError> {
    let (mut count, mut bytes) = totals(db)?;
    let mut dropped = 0;
    while count > limits.max_count || bytes > limits.max_bytes {
        let batch = db.query(
            "SELECT user_id, id, bytes FROM held_deliveries WHERE id <> $1
             ORDER BY received_at, id LIMIT 64",
            &[&keep],
        )?;
        if batch.is_empty() {
            break;
        }
        for row in batch {
            if count <= limits.max_count && bytes <= limits.max_bytes {
                break;
            }
            let (user, held, size): (uuid::Uuid, uuid::Uuid, i64) =
                (row.get(0), row.get(1), row.get(2));
            db.execute(
                "DELETE FROM held_deliveries WHERE user_id = $1 AND id = $2",
                &[&user, &held],
            )?;
            tracing::warn!(held_id = %held, bytes = size, "dropped the oldest held delivery: the held table is full");
            count -= 1;
            bytes = bytes.saturating_sub(size as u64);
            dropped += 1;
        }
    }
    Ok(dropped)
}

/// (rows, payload bytes) held now.
pub fn totals(client: &mut impl Sql) -> Result<(u64, u64), StorageError> {
    let row = client.query_one(
        "SELECT count(*), COALESCE(sum(bytes), 0)::bigint FROM held_deliveries",
        &[],
    )?;
    Ok((row.get::<_, i64>(0) as u64, row.get::<_, i64>(1) as u64))
}

/// The user's held deliveries by reason, the commonest first (the SQLite twin's).
pub fn reasons(client: &mut impl Sql, user: UserId) -> Result<Vec<HeldReason>, StorageError> {
    let rows = client.query(
        "SELECT reason, count(*), max(received_at) FROM held_deliveries WHERE user_id = $1
         GROUP BY reason ORDER BY count(*) DESC, reason",
        &[&user.as_uuid()],
    )?;
    Ok(rows
        .iter()
        .map(|row| HeldReason {
            reason: row.get(0),
            count: row.get(1),
            latest_received_at: text(row.get(2)),
        })
        .collect())
}

const COLUMNS: &str = "id, user_id, smartlead_org_id, reason, detail, bytes, received_at";

fn summary(row: &Row) -> HeldDelivery {
    HeldDelivery {
        id: id_text(row.get(0)),
        user_id: id_text(row.get(1)),
        smartlead_org_id: row.get(2),
        reason: row.get(3),
        detail: row.get(4),
        bytes: row.get(5),
        received_at: text(row.get(6)),
        payload: None,
    }
}

pub fn list(
    client: &mut impl Sql,
    reason: Option<&str>,
) -> Result<Vec<HeldDelivery>, StorageError> {
    let rows = client.query(
        &format!(
            "SELECT {COLUMNS} FROM held_deliveries WHERE $1::text IS NULL OR reason = $1
             ORDER BY received_at, id"
        ),
        &[&reason],
    )?;
    Ok(rows.iter().map(summary).collect())
}

pub fn get(client: &mut impl Sql, held: HeldId) -> Result<Option<HeldDelivery>, StorageError> {
    let row = client.query_opt(
        &format!("SELECT {COLUMNS}, payload::text FROM held_deliveries WHERE id = $1"),
        &[&held.as_uuid()],
    )?;
    row.map(|row| {
        let mut found = summary(&row);
        let payload: String = row.get(7);
        found.payload = Some(
            RawValue::from_string(payload)
                .map_err(|e| StorageError::Database(format!("a held payload: {e}").into()))?,
        );
        Ok(found)
    })
    .transpose()
}

/// Forgets a held delivery; whether it was there.
pub fn remove(client: &mut impl Sql, held: &str) -> Result<bool, StorageError> {
    Ok(client.execute("DELETE FROM held_deliveries WHERE id = $1", &[&id(held)?])? > 0)
}
