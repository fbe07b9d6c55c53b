//! Storing deliveries: the event row (with its seq, for the projector) and its lead, in the
//! caller's transaction (the writer's savepoint), so a delivery is stored whole or not at all.
//! What is derived from an email event (rollups, the lead's latest activity) is the
//! projector's (`projection.rs`); a kept event's category is rare and stays here, and so does
//! the campaign's name and status (a read per delivery, a write only when one changes).

use std::sync::LazyLock;

use rusqlite::{params, Connection, OptionalExtension};

use super::keys::{lead_key, user_key, NEXT_LEAD_KEY_SQL};
use super::payloads::Payloads;
use super::projection::NEXT_SEQ_SQL;
use super::StorageError;
use super::{campaigns, leads};
use crate::domain::{CampaignId, EmailAddress, EventId, OrgId, UserId, UtcTimestamp};
use crate::domain::{EmailEvent, OtherEvent, SmartleadEvent};
use crate::storage::records::IngestOutcome;

// Built once: they run for every delivery (the lead's insert, for every new lead).

/// An email event's row: the user (`?2`) and the lead (`?7`) by id, stored by key.
static INSERT_EVENT_SQL: LazyLock<String> = LazyLock::new(|| {
    format!(
        "INSERT INTO email_event_rows (id, user_key, campaign_id, message_id, event_type, email, lead_key,
                                       smartlead_org_id, event_data, timestamp, created_at, updated_at,
                                       dedupe_key, sequence_step, seq)
         VALUES (?1, {}, ?3, ?4, ?5, ?6, {}, ?8, ?9, ?10, ?11, ?11, ?12, ?13, {NEXT_SEQ_SQL})
         RETURNING seq",
        user_key("?2"),
        lead_key("?7"),
    )
});

/// The user's (`?1`) stored event with a dedupe key (`?2`): its id and seq.
static STORED_WITH_KEY_SQL: LazyLock<String> = LazyLock::new(|| {
    format!(
        "SELECT id, COALESCE(seq, 0) FROM email_event_rows WHERE user_key = {} AND dedupe_key = ?2",
        user_key("?1")
    )
});

/// Stores one delivery for `user`. Must run inside a transaction.
pub fn ingest(
    conn: &Connection,
    payloads: &Payloads,
    user: UserId,
    org: &OrgId,
    event: &SmartleadEvent,
    now: UtcTimestamp,
) -> Result<IngestOutcome, StorageError> {
    match event {
        SmartleadEvent::Email(event) => ingest_email(conn, payloads, user, org, event, now),
        SmartleadEvent::Other(event) => ingest_other(conn, user, event, now),
    }
}

fn ingest_email(
    conn: &Connection,
    payloads: &Payloads,
    user: UserId,
    org: &OrgId,
    event: &EmailEvent,
    now: UtcTimestamp,
) -> Result<IngestOutcome, StorageError> {
    let user_id = user.to_string();
    // A dictionary trained meanwhile (`payloads train`) takes over from the next event.
    payloads.adopt_newest(conn)?;
    if let Some((event_id, seq)) = existing_email_event(conn, &user_id, event)? {
        return Ok(IngestOutcome::Duplicate { event_id, seq });
    }
    // The same email's event, backfilled by a sync before this delivery arrived: the
    // delivery's payload replaces the backfill's, which labelled no campaign.
    if let Some((event_id, seq)) = super::backfill::claim(conn, payloads, &user_id, event)? {
        note_campaign_labels(conn, &user_id, event, now)?;
        note_lead(conn, &user_id, event, now)?;
        return Ok(IngestOutcome::Duplicate { event_id, seq });
    }
    let lead_id = note_lead(conn, &user_id, event, now)?;
    let event_id = EventId::new().to_string();
    let payload = payloads.encode(&event.payload)?;
    let seq: i64 = conn.prepare_cached(&INSERT_EVENT_SQL)?.query_row(
        params![
            event_id,
            user_id,
            event.campaign_id.as_str(),
            event.message_id,
            event.event_type.as_str(),
            event.email.as_str(),
            lead_id,
            org.as_str(),
            payload,
            event.occurred_at.to_string(),
            now.to_string(),
            event.dedupe_key,
            event.step,
        ],
        |row| row.get(0),
    )?;
    note_campaign_labels(conn, &user_id, event, now)?;
    Ok(IngestOutcome::Stored { event_id, seq })
}

/// The event's lead (created when new, its profile noted).
fn note_lead(
    conn: &Connection,
    user_id: &str,
    event: &EmailEvent,
    now: UtcTimestamp,
) -> Result<String, StorageError> {
    let profile = (&event.lead_profile, event.occurred_at);
    let campaign = Some(&event.campaign_id);
    leads::upsert(conn, user_id, &event.email, campaign, profile, now)
}

fn note_campaign_labels(
    conn: &Connection,
    user_id: &str,
    event: &EmailEvent,
    now: UtcTimestamp,
) -> Result<(), StorageError> {
    let labels = &event.campaign_labels;
    campaigns::note(
        conn,
        user_id,
        &event.campaign_id,
        labels,
        event.occurred_at,
        now,
    )?;
    Ok(())
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
        // Kept events are not projected: nothing to wait for.
        if let Some(event_id) = existing {
            return Ok(IngestOutcome::Duplicate { event_id, seq: 0 });
        }
    }
    // The lead's campaign is that of its latest email event. A kept event does not set it: with
    // no order between kept events, the first to arrive would have decided it.
    let lead_id = match &event.email {
        Some(email) => {
            let profile = (&event.lead_profile, event.effective_time());
            Some(leads::upsert(conn, &user_id, email, None, profile, now)?)
        }
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
    if let Some(campaign) = &event.campaign_id {
        let at = event.effective_time();
        campaigns::note(conn, &user_id, campaign, &event.campaign_labels, at, now)?;
    }
    Ok(IngestOutcome::Kept { event_id })
}

/// The stored event with this event's dedupe key, or with its key from before time-prefixed
/// keys when the file holds such keys: its id and seq (0 when it predates seq).
fn existing_email_event(
    conn: &Connection,
    user_id: &str,
    event: &EmailEvent,
) -> Result<Option<(String, i64)>, StorageError> {
    let found = stored_with_key(conn, user_id, &event.dedupe_key)?;
    match (&found, &event.legacy_dedupe_key) {
        (None, Some(legacy)) if holds_legacy_keys(conn)? => stored_with_key(conn, user_id, legacy),
        _ => Ok(found),
    }
}

fn holds_legacy_keys(conn: &Connection) -> Result<bool, StorageError> {
    Ok(conn
        .prepare_cached("SELECT 1 FROM legacy_dedupe_keys")?
        .exists([])?)
}

fn stored_with_key(
    conn: &Connection,
    user_id: &str,
    dedupe_key: &str,
) -> Result<Option<(String, i64)>, StorageError> {
    Ok(conn
        .prepare_cached(&STORED_WITH_KEY_SQL)?
        .query_row(params![user_id, dedupe_key], |row| {
            Ok((row.get(0)?, row.get(1)?))
        })
        .optional()?)
}

/// The plan of a new lead's key lookup (run for every new lead), so that tests can check it
/// reads one index entry, not the table.
pub fn next_lead_key_plan(conn: &Connection) -> Result<Vec<String>, StorageError> {
    super::analytics::plans::explain(conn, &format!("SELECT {NEXT_LEAD_KEY_SQL}"), [])
}
