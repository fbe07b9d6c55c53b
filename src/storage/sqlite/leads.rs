//! A delivery's lead on SQLite: found by its address, created when new, and its name and company
//! kept by the rule of `storage/lead_profiles.rs`, in the delivery's transaction.

use std::sync::LazyLock;

use rusqlite::{params, Connection, OptionalExtension, Row};

use super::keys::NEXT_LEAD_KEY_SQL;
use super::payloads::Payloads;
use super::values::{required_time, stored_time};
use super::StorageError;
use crate::domain::{CampaignId, EmailAddress, LeadId, LeadProfile, ProfileText, UtcTimestamp};
use crate::storage::lead_profiles::{updated, StoredProfile, UpdatedProfile};
use crate::storage::records::{KeptPayload, UnnamedLead};

/// A new lead (id, user, email, campaign, time, profile), given its key by the insert itself
/// ([`NEXT_LEAD_KEY_SQL`]); run for every delivery from a lead not seen before.
static INSERT_LEAD_SQL: LazyLock<String> = LazyLock::new(|| {
    format!(
        "INSERT INTO leads (id, user_id, email, smartlead_campaign_id, created_at, updated_at,
                            first_name, last_name, company, profile_at, lead_key)
         VALUES (?1, ?2, ?3, ?4, ?5, ?5, ?6, ?7, ?8, ?9, {NEXT_LEAD_KEY_SQL})"
    )
});

/// The id of the user's lead with this email, created (with the campaign) when missing; the
/// profile an event of its time gives it noted either way.
pub fn upsert(
    conn: &Connection,
    user_id: &str,
    email: &EmailAddress,
    campaign: Option<&CampaignId>,
    (profile, at): (&LeadProfile, UtcTimestamp),
    now: UtcTimestamp,
) -> Result<String, StorageError> {
    // The row is read for its id whatever the profile (the (user_id, email) key does not hold
    // it), so comparing the profile costs no page more.
    let existing = conn
        .prepare_cached(
            "SELECT id, first_name, last_name, company, profile_at
             FROM leads WHERE user_id = ?1 AND email = ?2",
        )?
        .query_row(params![user_id, email.as_str()], |row| {
            Ok((row.get::<_, String>(0)?, stored_profile(row)?))
        })
        .optional()?;
    if let Some((id, stored)) = existing {
        if let Some(profile) = updated(&stored, profile, at) {
            write(conn, &id, &profile, now)?;
        }
        return Ok(id);
    }
    // Nothing can insert the lead in between: this runs inside the writer's transaction, which
    // holds the database's write lock (BEGIN IMMEDIATE) against every other connection.
    let id = LeadId::new().to_string();
    let part = |p: &Option<ProfileText>| p.as_ref().map(|t| t.as_str().to_owned());
    conn.prepare_cached(&INSERT_LEAD_SQL)?.execute(params![
        id,
        user_id,
        email.as_str(),
        campaign.map(CampaignId::as_str),
        now.to_string(),
        part(&profile.first_name),
        part(&profile.last_name),
        part(&profile.company),
        (!profile.is_empty()).then(|| at.to_string()),
    ])?;
    Ok(id)
}

fn write(
    conn: &Connection,
    id: &str,
    profile: &UpdatedProfile,
    now: UtcTimestamp,
) -> Result<(), StorageError> {
    conn.prepare_cached(
        "UPDATE leads SET first_name = ?1, last_name = ?2, company = ?3, profile_at = ?4,
                          updated_at = ?5
         WHERE id = ?6",
    )?
    .execute(params![
        profile.first_name,
        profile.last_name,
        profile.company,
        profile.at.to_string(),
        now.to_string(),
        id
    ])?;
    Ok(())
}

/// Leads with no profile time (stored before migration 017, or never named), in id order after
/// `after`, each with the payloads of its newest `events` email events, newest first.
pub fn unnamed(
    conn: &Connection,
    payloads: &Payloads,
    after: Option<&str>,
    limit: usize,
    events: usize,
) -> Result<Vec<UnnamedLead>, StorageError> {
    let leads: Vec<(String, Option<i64>)> = conn
        .prepare_cached(
            "SELECT id, lead_key FROM leads WHERE profile_at IS NULL AND id > ?1 ORDER BY id LIMIT ?2",
        )?
        .query_map(params![after.unwrap_or(""), limit as i64], |row| {
            Ok((row.get(0)?, row.get(1)?))
        })?
        .collect::<Result<_, _>>()?;
    let mut newest = conn.prepare_cached(
        "SELECT event_data, timestamp FROM email_event_rows
         WHERE lead_key = ?1 ORDER BY timestamp DESC LIMIT ?2",
    )?;
    let mut unnamed = Vec::with_capacity(leads.len());
    for (lead_id, key) in leads {
        let mut rows = newest.query(params![key, events as i64])?;
        let mut found = Vec::new();
        while let Some(row) = rows.next()? {
            let at = required_time(row, 1)?;
            found.push((at, payloads.decode(conn, row.get_ref(0)?)?));
        }
        unnamed.push(UnnamedLead {
            lead_id,
            payloads: found,
        });
    }
    Ok(unnamed)
}

/// Kept events that belong to a lead, in id order after `after`, with their payloads.
pub fn kept_payloads(
    conn: &Connection,
    after: Option<&str>,
    limit: usize,
) -> Result<Vec<KeptPayload>, StorageError> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, lead_id, received_at, event_data FROM smartlead_events
         WHERE lead_id IS NOT NULL AND id > ?1 ORDER BY id LIMIT ?2",
    )?;
    let mut rows = stmt.query(params![after.unwrap_or(""), limit as i64])?;
    let mut kept = Vec::new();
    while let Some(row) = rows.next()? {
        kept.push(KeptPayload {
            id: row.get(0)?,
            lead_id: row.get(1)?,
            received_at: required_time(row, 2)?,
            payload: row.get(3)?,
        });
    }
    Ok(kept)
}

/// Notes the profile an event of time `at` gives the lead `lead_id`; whether it was written.
pub fn name(
    conn: &Connection,
    lead_id: &str,
    profile: &LeadProfile,
    at: UtcTimestamp,
    now: UtcTimestamp,
) -> Result<bool, StorageError> {
    let stored = conn
        .prepare_cached(
            "SELECT id, first_name, last_name, company, profile_at FROM leads WHERE id = ?1",
        )?
        .query_row(params![lead_id], stored_profile)
        .optional()?;
    let Some(profile) = stored.and_then(|stored| updated(&stored, profile, at)) else {
        return Ok(false);
    };
    write(conn, lead_id, &profile, now)?;
    Ok(true)
}

fn stored_profile(row: &Row) -> rusqlite::Result<StoredProfile> {
    Ok(StoredProfile {
        first_name: row.get(1)?,
        last_name: row.get(2)?,
        company: row.get(3)?,
        at: stored_time(row, 4)?,
    })
}
