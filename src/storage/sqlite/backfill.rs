//! Events backfilled from Smartlead's REST statistics, and the webhook deliveries that arrive
//! after them. One email's event of one kind is one event, whichever way it came first: a sync
//! skips a kind the lead already has at that step of the campaign, and a later webhook delivery
//! of a backfilled kind claims the backfilled row (payload and dedupe key replaced, counts kept)
//! instead of being counted again. See migration 010.

use rusqlite::{params, Connection, OptionalExtension};

use super::events;
use super::payloads::Payloads;
use super::StorageError;
use crate::domain::{EmailEvent, EventType, Headline, OrgId, SmartleadEvent, UserId, UtcTimestamp};
use crate::storage::records::{BackfillOutcome, IngestOutcome};

fn kind_of(event: &EmailEvent) -> Result<Headline, StorageError> {
    event.event_type.headline().ok_or_else(|| {
        StorageError::Conflict(format!(
            "{} has no headline kind to backfill",
            event.event_type
        ))
    })
}

/// The stored types of a headline kind (`opened` → email_opened, email_follow_up_opened).
fn types_of(kind: Headline) -> String {
    let names: Vec<&str> = EventType::ALL
        .iter()
        .filter(|t| t.headline() == Some(kind))
        .map(|t| t.as_str())
        .collect();
    serde_json::to_string(&names).expect("names serialize")
}

/// Called by the webhook's ingest for a delivery not stored before: when a sync backfilled this
/// lead's event of the same kind at the same step of the campaign, the delivery takes that row
/// over and is a duplicate (its id and seq); `None` otherwise.
pub fn claim(
    conn: &Connection,
    payloads: &Payloads,
    user_id: &str,
    event: &EmailEvent,
) -> Result<Option<(String, i64)>, StorageError> {
    let Some(kind) = event.event_type.headline() else {
        return Ok(None);
    };
    let key = params![
        user_id,
        event.campaign_id.as_str(),
        event.email.as_str(),
        event.step,
        kind.as_str()
    ];
    let found: Option<String> = conn
        .prepare_cached(
            "SELECT event_id FROM rest_backfills
             WHERE user_id = ?1 AND campaign_id = ?2 AND email = ?3 AND step = ?4 AND kind = ?5",
        )?
        .query_row(key, |row| row.get(0))
        .optional()?;
    let Some(event_id) = found else {
        return Ok(None);
    };
    conn.prepare_cached(
        "DELETE FROM rest_backfills
         WHERE user_id = ?1 AND campaign_id = ?2 AND email = ?3 AND step = ?4 AND kind = ?5",
    )?
    .execute(key)?;
    // The time stays the backfilled one, which the rollups counted; the payload and the key
    // become the webhook's, so that its retries dedupe as usual.
    let seq: i64 = conn
        .prepare_cached(
            "UPDATE email_event_rows SET event_data = ?1, dedupe_key = ?2, message_id = ?3, updated_at = ?4
             WHERE id = ?5 RETURNING COALESCE(seq, 0)",
        )?
        .query_row(
            params![
                payloads.encode(&event.payload)?,
                event.dedupe_key,
                event.message_id,
                UtcTimestamp::now().to_string(),
                event_id
            ],
            |row| row.get(0),
        )?;
    Ok(Some((event_id, seq)))
}

/// Backfills `events` in the caller's transaction (a writer job, or the CLI's batch).
pub fn backfill_all(
    conn: &Connection,
    payloads: &Payloads,
    user: UserId,
    org: &OrgId,
    events: &[EmailEvent],
    now: UtcTimestamp,
) -> Result<Vec<BackfillOutcome>, StorageError> {
    events
        .iter()
        .map(|event| backfill(conn, payloads, user, org, event, now))
        .collect()
}

/// Stores `event` (built from a REST statistics row) through the webhook's ingest, unless the
/// lead already has an event of its kind at its step of the campaign.
pub fn backfill(
    conn: &Connection,
    payloads: &Payloads,
    user: UserId,
    org: &OrgId,
    event: &EmailEvent,
    now: UtcTimestamp,
) -> Result<BackfillOutcome, StorageError> {
    let kind = kind_of(event)?;
    let present = conn
        .prepare_cached(
            "SELECT 1 FROM leads l JOIN email_event_rows e ON e.lead_key = l.lead_key
             WHERE l.user_id = ?1 AND l.email = ?2 AND e.campaign_id = ?3
               AND e.sequence_step = ?4 AND e.event_type IN (SELECT value FROM json_each(?5))
             LIMIT 1",
        )?
        .query_row(
            params![
                user.to_string(),
                event.email.as_str(),
                event.campaign_id.as_str(),
                event.step,
                types_of(kind)
            ],
            |_| Ok(()),
        )
        .optional()?
        .is_some();
    if present {
        return Ok(BackfillOutcome::Present);
    }
    let email = SmartleadEvent::Email(event.clone());
    match events::ingest(conn, payloads, user, org, &email, now)? {
        IngestOutcome::Stored { event_id, .. } => {
            conn.prepare_cached(
                "INSERT INTO rest_backfills (user_id, campaign_id, email, step, kind, event_id)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )?
            .execute(params![
                user.to_string(),
                event.campaign_id.as_str(),
                event.email.as_str(),
                event.step,
                kind.as_str(),
                event_id
            ])?;
            Ok(BackfillOutcome::Backfilled { event_id })
        }
        _ => Ok(BackfillOutcome::Present),
    }
}
