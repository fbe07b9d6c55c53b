//! Storing deliveries: the event row, its lead, and the lead's latest activity, in the caller's
//! transaction (the writer's savepoint), so a delivery is stored whole or not at all.

use rusqlite::{params, Connection, OptionalExtension};

use super::rollups;
use super::StorageError;
use crate::domain::{CampaignId, EmailAddress, EventId, LeadId, OrgId, UserId, UtcTimestamp};
use crate::domain::{EmailEvent, OtherEvent, SmartleadEvent};
use crate::storage::records::IngestOutcome;
use crate::storage::rollup_counts::PendingCounts;

/// Stores one delivery for `user`. Must run inside a transaction; its rollup counts go to
/// `counts`, which the caller flushes before committing.
pub fn ingest(
    conn: &Connection,
    counts: &mut PendingCounts,
    user: UserId,
    org: &OrgId,
    event: &SmartleadEvent,
    now: UtcTimestamp,
) -> Result<IngestOutcome, StorageError> {
    match event {
        SmartleadEvent::Email(event) => ingest_email(conn, counts, user, org, event, now),
        SmartleadEvent::Other(event) => ingest_other(conn, user, event, now),
    }
}

fn ingest_email(
    conn: &Connection,
    counts: &mut PendingCounts,
    user: UserId,
    org: &OrgId,
    event: &EmailEvent,
    now: UtcTimestamp,
) -> Result<IngestOutcome, StorageError> {
    let user_id = user.to_string();
    if let Some(event_id) = existing_email_event(conn, &user_id, &event.dedupe_key)? {
        return Ok(IngestOutcome::Duplicate { event_id });
    }
    // The same email's event, backfilled by a sync before this delivery arrived.
    if let Some(event_id) = super::backfill::claim(conn, &user_id, event)? {
        return Ok(IngestOutcome::Duplicate { event_id });
    }
    let lead_id = upsert_lead(conn, &user_id, &event.email, Some(&event.campaign_id), now)?;
    let occurred_at = event.occurred_at.to_string();
    // Only a newer event moves the lead's latest activity, so any arrival order ends in the same
    // row. Ties on time are broken by type then campaign: a total order, hence one winner.
    conn.prepare_cached(
        "UPDATE leads
         SET last_email_event = ?1, last_event_timestamp = ?2, smartlead_campaign_id = ?3, updated_at = ?4
         WHERE id = ?5
           AND (last_event_timestamp IS NULL
                OR (last_event_timestamp, COALESCE(last_email_event, ''), COALESCE(smartlead_campaign_id, ''))
                   < (?2, ?1, ?3))",
    )?
    .execute(params![event.event_type.as_str(), occurred_at, event.campaign_id.as_str(), now.to_string(), lead_id])?;
    rollups::record_event(
        conn,
        counts,
        user,
        &lead_id,
        &event.campaign_id,
        event.event_type,
        event.occurred_at,
    )?;
    if let Some(kind) = event.event_type.headline() {
        counts.count_step(user, &event.campaign_id, event.step, kind);
    }
    let event_id = EventId::new().to_string();
    conn.prepare_cached(
        "INSERT INTO email_events (id, user_id, campaign_id, message_id, event_type, email, lead_id,
                                   smartlead_org_id, event_data, timestamp, created_at, updated_at, dedupe_key,
                                   sequence_step)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?11, ?12, ?13)",
    )?
    .execute(params![
        event_id,
        user_id,
        event.campaign_id.as_str(),
        event.message_id,
        event.event_type.as_str(),
        event.email.as_str(),
        lead_id,
        org.as_str(),
        event.payload,
        occurred_at,
        now.to_string(),
        event.dedupe_key,
        event.step,
    ])?;
    Ok(IngestOutcome::Stored { event_id })
}

fn ingest_other(
    conn: &Connection,
    user: UserId,
    event: &OtherEvent,
    now: UtcTimestamp,
) -> Result<IngestOutcome, StorageError> {
    let user_id = user.to_string();
    if let Some(key) = &event.dedupe_key {
        let existing = conn
            .prepare_cached(
                "SELECT id FROM smartlead_events WHERE user_id = ?1 AND dedupe_key = ?2",
            )?
            .query_row(params![user_id, key], |row| row.get::<_, String>(0))
            .optional()?;
        if let Some(event_id) = existing {
            return Ok(IngestOutcome::Duplicate { event_id });
        }
    }
    // The lead's campaign is that of its latest email event. A kept event does not set it: with
    // no order between kept events, the first to arrive would have decided it.
    let lead_id = match &event.email {
        Some(email) => Some(upsert_lead(conn, &user_id, email, None, now)?),
        None => None,
    };
    if let (Some(lead_id), Some(category)) = (&lead_id, &event.new_category) {
        // Same rule as the latest activity: an older category arriving late never wins.
        conn.prepare_cached(
            "UPDATE leads SET smartlead_category = ?1, smartlead_category_at = ?2, updated_at = ?3
             WHERE id = ?4
               AND (smartlead_category_at IS NULL
                    OR (smartlead_category_at, COALESCE(smartlead_category, '')) < (?2, ?1))",
        )?
        .execute(params![
            category,
            event.effective_time().to_string(),
            now.to_string(),
            lead_id
        ])?;
    }
    let event_id = EventId::new().to_string();
    conn.prepare_cached(
        "INSERT INTO smartlead_events (id, user_id, event_type, campaign_id, email, lead_id, event_data,
                                       event_timestamp, received_at, dedupe_key)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
    )?
    .execute(params![
        event_id,
        user_id,
        event.raw_type,
        event.campaign_id.as_ref().map(CampaignId::as_str),
        event.email.as_ref().map(EmailAddress::as_str),
        lead_id,
        event.payload,
        event.occurred_at.map(|t| t.to_string()),
        event.received_at.to_string(),
        event.dedupe_key,
    ])?;
    Ok(IngestOutcome::Kept { event_id })
}

fn existing_email_event(
    conn: &Connection,
    user_id: &str,
    dedupe_key: &str,
) -> Result<Option<String>, StorageError> {
    Ok(conn
        .prepare_cached("SELECT id FROM email_events WHERE user_id = ?1 AND dedupe_key = ?2")?
        .query_row(params![user_id, dedupe_key], |row| row.get(0))
        .optional()?)
}

/// The id of the user's lead with this email, created (with the campaign) when missing.
fn upsert_lead(
    conn: &Connection,
    user_id: &str,
    email: &EmailAddress,
    campaign: Option<&CampaignId>,
    now: UtcTimestamp,
) -> Result<String, StorageError> {
    let existing = conn
        .prepare_cached("SELECT id FROM leads WHERE user_id = ?1 AND email = ?2")?
        .query_row(params![user_id, email.as_str()], |row| row.get(0))
        .optional()?;
    if let Some(id) = existing {
        return Ok(id);
    }
    // Nothing can insert the lead in between: this runs inside the writer's transaction, which
    // holds the database's write lock (BEGIN IMMEDIATE) against every other connection.
    let id = LeadId::new().to_string();
    conn.prepare_cached(
        "INSERT INTO leads (id, user_id, email, smartlead_campaign_id, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?5)",
    )?
    .execute(params![
        id,
        user_id,
        email.as_str(),
        campaign.map(CampaignId::as_str),
        now.to_string()
    ])?;
    Ok(id)
}
