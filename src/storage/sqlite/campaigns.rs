//! Campaign labels on SQLite (a campaign's name and status): noted with each delivery, in its
//! transaction, by the rule of `storage/campaigns.rs`; read by the campaign answers; filled for
//! the campaigns already stored by migration 016.

use std::collections::HashMap;

use rusqlite::types::{Value, ValueRef};
use rusqlite::{params, Connection, OptionalExtension, Row, Transaction};
use rusqlite_migration::{HookError, HookResult};

use super::payloads::Payloads;
use super::values::stored_time;
use super::StorageError;
use crate::domain::{CampaignId, CampaignLabels, CampaignName, CampaignStatus};
use crate::domain::{UserId, UtcTimestamp};
use crate::storage::campaigns::{replaced, Replaced, StoredLabels};
use crate::storage::records::CampaignLabelRow;

const STORED_SQL: &str = "SELECT name, named_at, status, status_at FROM campaigns
     WHERE user_id = ?1 AND campaign_id = ?2";

/// The stored row, with the replaced labels and their time (`?3`…`?6`; NULL: keep).
const UPSERT_SQL: &str =
    "INSERT INTO campaigns (user_id, campaign_id, name, named_at, status, status_at, updated_at)
     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
     ON CONFLICT (user_id, campaign_id) DO UPDATE
     SET name = COALESCE(excluded.name, name), named_at = COALESCE(excluded.named_at, named_at),
         status = COALESCE(excluded.status, status),
         status_at = COALESCE(excluded.status_at, status_at),
         updated_at = excluded.updated_at";

/// Notes the labels an event of time `at` gave the user's campaign; whether anything was
/// written. Only the writer writes this table, so the stored row read here is still the stored
/// row when it is replaced.
pub fn note(
    conn: &Connection,
    user_id: &str,
    campaign: &CampaignId,
    labels: &CampaignLabels,
    at: UtcTimestamp,
    now: UtcTimestamp,
) -> Result<bool, StorageError> {
    if labels.is_empty() {
        return Ok(false);
    }
    let stored = conn
        .prepare_cached(STORED_SQL)?
        .query_row(params![user_id, campaign.as_str()], stored_labels)
        .optional()?
        .unwrap_or_default();
    let Some(Replaced { name, status }) = replaced(&stored, labels, at) else {
        return Ok(false);
    };
    let at = at.to_string();
    conn.prepare_cached(UPSERT_SQL)?.execute(params![
        user_id,
        campaign.as_str(),
        name,
        name.map(|_| &at),
        status,
        status.map(|_| &at),
        now.to_string()
    ])?;
    Ok(true)
}

/// Notes the labels of the user's campaigns as Smartlead listed them at `at`: the campaigns
/// whose name or status changed.
pub fn note_listed(
    conn: &Connection,
    user: UserId,
    listed: &[(CampaignId, CampaignLabels)],
    at: UtcTimestamp,
    now: UtcTimestamp,
) -> Result<Vec<CampaignId>, StorageError> {
    let user_id = user.to_string();
    let mut changed = Vec::new();
    for (campaign, labels) in listed {
        if note(conn, &user_id, campaign, labels, at, now)? {
            changed.push(campaign.clone());
        }
    }
    Ok(changed)
}

fn stored_labels(row: &Row) -> rusqlite::Result<StoredLabels> {
    let label = |value: usize| -> rusqlite::Result<Option<(String, UtcTimestamp)>> {
        let text = row.get::<_, Option<String>>(value)?;
        Ok(text.zip(stored_time(row, value + 1)?))
    };
    Ok(StoredLabels {
        name: label(0)?,
        status: label(2)?,
    })
}

/// The labels of those of `campaigns` that have any (one primary-key probe each: a page of
/// campaigns, never the table).
pub fn labels(
    conn: &Connection,
    user: UserId,
    campaigns: &[String],
) -> Result<HashMap<String, CampaignLabelRow>, StorageError> {
    let mut stmt = conn.prepare_cached(STORED_SQL)?;
    let user = user.to_string();
    let mut labels = HashMap::new();
    for campaign in campaigns {
        let found = stmt
            .query_row(params![user, campaign], |row| {
                Ok(CampaignLabelRow {
                    name: row.get(0)?,
                    status: row.get(2)?,
                })
            })
            .optional()?;
        if let Some(found) = found {
            labels.insert(campaign.clone(), found);
        }
    }
    Ok(labels)
}

/// Migration 016's step: each campaign already stored is labelled by its newest event's
/// payload (its `campaign_name` and `campaign_status`, as the hub stored them). The
/// user/campaign/time index is walked one campaign at a time, a probe for the next campaign and
/// one for its newest event, so the step costs a few probes per campaign, not a pass over the
/// events.
pub fn label_stored_campaigns(tx: &Transaction) -> HookResult {
    fill(tx).map_err(|err| HookError::Hook(format!("labelling the stored campaigns: {err}")))
}

const FIRST_CAMPAIGN_SQL: &str =
    "SELECT user_key, campaign_id FROM email_event_rows ORDER BY user_key, campaign_id LIMIT 1";
const NEXT_CAMPAIGN_SQL: &str = "SELECT user_key, campaign_id FROM email_event_rows
     WHERE (user_key, campaign_id) > (?1, ?2) ORDER BY user_key, campaign_id LIMIT 1";
const NEWEST_EVENT_SQL: &str =
    "SELECT event_data, timestamp, (SELECT id FROM users WHERE user_key = ?1)
     FROM email_event_rows WHERE user_key = ?1 AND campaign_id = ?2
     ORDER BY timestamp DESC LIMIT 1";

/// The plans of the migration step's three probes and of the lookup every delivery makes, so
/// that tests can check that none walks a table.
pub fn plans(conn: &Connection) -> Result<Vec<Vec<String>>, StorageError> {
    use super::analytics::plans::explain;
    Ok(vec![
        explain(conn, FIRST_CAMPAIGN_SQL, [])?,
        explain(conn, NEXT_CAMPAIGN_SQL, params![1, "c"])?,
        explain(conn, NEWEST_EVENT_SQL, params![1, "c"])?,
        explain(conn, STORED_SQL, ["u", "c"])?,
    ])
}

fn fill(tx: &Transaction) -> Result<(), StorageError> {
    let payloads = Payloads::plain();
    let now = UtcTimestamp::now().to_string();
    let mut first = tx.prepare(FIRST_CAMPAIGN_SQL)?;
    let mut next = tx.prepare(NEXT_CAMPAIGN_SQL)?;
    let mut newest = tx.prepare(NEWEST_EVENT_SQL)?;
    let pair = |row: &Row| Ok((row.get::<_, i64>(0)?, row.get::<_, String>(1)?));
    let mut at = first.query_row([], pair).optional()?;
    while let Some((user_key, campaign)) = at {
        let (stored, event_at, user_id) = newest.query_row(params![user_key, campaign], |row| {
            Ok((
                row.get::<_, Value>(0)?,
                row.get::<_, String>(1)?,
                row.get::<_, String>(2)?,
            ))
        })?;
        let labels = labels_in(&payloads.decode(tx, ValueRef::from(&stored))?);
        if !labels.is_empty() {
            let name = labels.name.as_ref().map(CampaignName::as_str);
            let status = labels.status.as_ref().map(CampaignStatus::as_str);
            tx.execute(
                UPSERT_SQL,
                params![
                    user_id,
                    campaign,
                    name,
                    name.map(|_| &event_at),
                    status,
                    status.map(|_| &event_at),
                    now
                ],
            )?;
        }
        at = next
            .query_row(params![user_key, campaign], pair)
            .optional()?;
    }
    Ok(())
}

/// The campaign labels of a stored payload (the JSON the hub stored, secret removed), cleaned
/// as a delivery's are.
fn labels_in(payload: &str) -> CampaignLabels {
    let value: serde_json::Value = serde_json::from_str(payload).unwrap_or_default();
    let text = |field: &str| value.get(field).and_then(serde_json::Value::as_str);
    CampaignLabels {
        name: text("campaign_name").and_then(CampaignName::parse),
        status: text("campaign_status").and_then(CampaignStatus::parse),
    }
}
