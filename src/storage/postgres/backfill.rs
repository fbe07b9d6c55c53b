//! Events backfilled from Smartlead's REST statistics, and the webhook deliveries that arrive
//! after them (see the SQLite backend's twin and migration 010).

use super::events;
use super::session::Session;
use super::session::Sql;
use super::values::{clean, id_text, json};
use super::StorageError;
use crate::domain::{EmailEvent, EventType, Headline, OrgId, SmartleadEvent, UserId, UtcTimestamp};
use crate::storage::records::{BackfillOutcome, IngestOutcome};

/// The stored types of a headline kind (`opened` → email_opened, email_follow_up_opened).
fn types_of(kind: Headline) -> Vec<&'static str> {
    EventType::ALL
        .iter()
        .filter(|t| t.headline() == Some(kind))
        .map(|t| t.as_str())
        .collect()
}

/// A webhook delivery not stored before takes over the row a sync backfilled for the same
/// lead, campaign, step and kind, and is a duplicate (its id and seq); `None` when there is none.
pub fn claim(
    db: &mut Session<'_, '_>,
    user: UserId,
    event: &EmailEvent,
) -> Result<Option<(String, i64)>, StorageError> {
    let Some(kind) = event.event_type.headline() else {
        return Ok(None);
    };
    let step = event.step.min(i32::MAX as u32) as i32;
    let claimed = db.query_opt(
        "DELETE FROM rest_backfills
         WHERE user_id = $1 AND campaign_id = $2 AND email = $3 AND step = $4 AND kind = $5
         RETURNING event_id",
        &[
            &user.as_uuid(),
            &clean(event.campaign_id.as_str()).as_ref(),
            &event.email.as_str(),
            &step,
            &kind.as_str(),
        ],
    )?;
    let Some(row) = claimed else {
        return Ok(None);
    };
    let event_id: uuid::Uuid = row.get(0);
    // The time stays the backfilled one, which the rollups counted; the payload and the key
    // become the webhook's, so that its retries dedupe as usual.
    let seq: i64 = db
        .query_one(
        "UPDATE email_events SET event_data = $1::text::jsonb, dedupe_key = $2, message_id = $3, updated_at = $4
         WHERE user_id = $5 AND id = $6 RETURNING COALESCE(seq, 0)",
        &[
            &json(&event.payload)?.as_ref(),
            &event.dedupe_key,
            &clean(&event.message_id).as_ref(),
            &UtcTimestamp::now().as_datetime(),
            &user.as_uuid(),
            &event_id,
        ],
    )?
        .get(0);
    Ok(Some((id_text(event_id), seq)))
}

pub fn backfill_all(
    db: &mut Session<'_, '_>,
    user: UserId,
    org: &OrgId,
    events: &[EmailEvent],
    now: UtcTimestamp,
) -> Result<Vec<BackfillOutcome>, StorageError> {
    events
        .iter()
        .map(|event| backfill(db, user, org, event, now))
        .collect()
}

/// Stores `event` through the webhook's ingest, unless the lead already has an event of its
/// kind at its step of the campaign.
fn backfill(
    db: &mut Session<'_, '_>,
    user: UserId,
    org: &OrgId,
    event: &EmailEvent,
    now: UtcTimestamp,
) -> Result<BackfillOutcome, StorageError> {
    let kind = event.event_type.headline().ok_or_else(|| {
        StorageError::Conflict(format!(
            "{} has no headline kind to backfill",
            event.event_type
        ))
    })?;
    let step = event.step.min(i32::MAX as u32) as i32;
    let campaign = clean(event.campaign_id.as_str()).into_owned();
    let present = db
        .query_opt(
            "SELECT 1 FROM leads l JOIN email_events e ON e.user_id = l.user_id AND e.lead_id = l.id
             WHERE l.user_id = $1 AND l.email = $2 AND e.campaign_id = $3
               AND e.sequence_step = $4 AND e.event_type = ANY($5)
             LIMIT 1",
            &[&user.as_uuid(), &event.email.as_str(), &campaign, &step, &types_of(kind)],
        )?
        .is_some();
    if present {
        return Ok(BackfillOutcome::Present);
    }
    let email = SmartleadEvent::Email(event.clone());
    match events::ingest(db, user, org, &email, now)? {
        IngestOutcome::Stored { event_id, .. } => {
            db.execute(
                "INSERT INTO rest_backfills (user_id, campaign_id, email, step, kind, event_id)
                 VALUES ($1, $2, $3, $4, $5, $6)",
                &[
                    &user.as_uuid(),
                    &campaign,
                    &event.email.as_str(),
                    &step,
                    &kind.as_str(),
                    &super::values::id(&event_id)?,
                ],
            )?;
            Ok(BackfillOutcome::Backfilled { event_id })
        }
        _ => Ok(BackfillOutcome::Present),
    }
}
