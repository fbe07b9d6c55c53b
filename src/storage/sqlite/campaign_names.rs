//! Campaign names on SQLite: noted with each delivery, in its transaction, by the rule of
//! `storage/campaign_names.rs`; read by the campaign answers; filled for the campaigns already
//! stored by migration 016.

use std::collections::HashMap;

use rusqlite::types::{Value, ValueRef};
use rusqlite::{params, Connection, OptionalExtension, Row, Transaction};
use rusqlite_migration::{HookError, HookResult};

use super::payloads::Payloads;
use super::StorageError;
use crate::domain::{CampaignId, CampaignName, UserId, UtcTimestamp};
use crate::storage::campaign_names::supersedes;

const STORED_NAME_SQL: &str =
    "SELECT name, named_at FROM campaign_names WHERE user_id = ?1 AND campaign_id = ?2";

/// Notes that an event of time `at` called the user's campaign `name`. Only the writer writes
/// this table, so the stored row read here is still the stored row when it is replaced.
pub fn note(
    conn: &Connection,
    user_id: &str,
    campaign: &CampaignId,
    name: &CampaignName,
    at: UtcTimestamp,
    now: UtcTimestamp,
) -> Result<(), StorageError> {
    let stored = conn
        .prepare_cached(STORED_NAME_SQL)?
        .query_row(params![user_id, campaign.as_str()], stored_name)
        .optional()?;
    let stored = stored.as_ref().map(|(name, at)| (name.as_str(), *at));
    if !supersedes(stored, name.as_str(), at) {
        return Ok(());
    }
    conn.prepare_cached(
        "INSERT INTO campaign_names (user_id, campaign_id, name, named_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT (user_id, campaign_id) DO UPDATE
         SET name = excluded.name, named_at = excluded.named_at, updated_at = excluded.updated_at",
    )?
    .execute(params![
        user_id,
        campaign.as_str(),
        name.as_str(),
        at.to_string(),
        now.to_string()
    ])?;
    Ok(())
}

fn stored_name(row: &Row) -> rusqlite::Result<(String, UtcTimestamp)> {
    let at: String = row.get(1)?;
    let at = UtcTimestamp::parse(&at).map_err(|e| {
        rusqlite::Error::FromSqlConversionFailure(1, rusqlite::types::Type::Text, Box::new(e))
    })?;
    Ok((row.get(0)?, at))
}

/// The names of those of `campaigns` that have one (one primary-key probe each: a page of
/// campaigns, never the table).
pub fn names(
    conn: &Connection,
    user: UserId,
    campaigns: &[String],
) -> Result<HashMap<String, String>, StorageError> {
    let mut stmt = conn.prepare_cached(
        "SELECT name FROM campaign_names WHERE user_id = ?1 AND campaign_id = ?2",
    )?;
    let user = user.to_string();
    let mut names = HashMap::new();
    for campaign in campaigns {
        if let Some(name) = stmt
            .query_row(params![user, campaign], |row| row.get::<_, String>(0))
            .optional()?
        {
            names.insert(campaign.clone(), name);
        }
    }
    Ok(names)
}

/// Migration 016's step: each campaign already stored is named by its newest event's payload
/// (its `campaign_name`, as the hub stored it). The user/campaign/time index is walked one
/// campaign at a time, a probe for the next campaign and one for its newest event, so the step
/// costs a few probes per campaign, not a pass over the events.
pub fn name_stored_campaigns(tx: &Transaction) -> HookResult {
    fill(tx).map_err(|err| HookError::Hook(format!("naming the stored campaigns: {err}")))
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
        explain(conn, NEXT_CAMPAIGN_SQL, rusqlite::params![1, "c"])?,
        explain(conn, NEWEST_EVENT_SQL, rusqlite::params![1, "c"])?,
        explain(conn, STORED_NAME_SQL, ["u", "c"])?,
    ])
}

fn fill(tx: &Transaction) -> Result<(), StorageError> {
    let payloads = Payloads::plain();
    let now = UtcTimestamp::now();
    let mut first = tx.prepare(FIRST_CAMPAIGN_SQL)?;
    let mut next = tx.prepare(NEXT_CAMPAIGN_SQL)?;
    let mut newest = tx.prepare(NEWEST_EVENT_SQL)?;
    let pair = |row: &Row| Ok((row.get::<_, i64>(0)?, row.get::<_, String>(1)?));
    let mut at = first.query_row([], pair).optional()?;
    while let Some((user_key, campaign)) = at {
        let (stored, named_at, user_id) = newest.query_row(params![user_key, campaign], |row| {
            Ok((
                row.get::<_, Value>(0)?,
                row.get::<_, String>(1)?,
                row.get::<_, String>(2)?,
            ))
        })?;
        let payload = payloads.decode(tx, ValueRef::from(&stored))?;
        if let Some(name) = name_in(&payload) {
            tx.execute(
                "INSERT INTO campaign_names (user_id, campaign_id, name, named_at, updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
                params![user_id, campaign, name.as_str(), named_at, now.to_string()],
            )?;
        }
        at = next
            .query_row(params![user_key, campaign], pair)
            .optional()?;
    }
    Ok(())
}

/// The `campaign_name` of a stored payload (the JSON the hub stored, secret removed).
fn name_in(payload: &str) -> Option<CampaignName> {
    let value: serde_json::Value = serde_json::from_str(payload).ok()?;
    CampaignName::parse(value.get("campaign_name")?.as_str()?)
}
