//! Storing deliveries on PostgreSQL: the event row, its lead, and the lead's latest activity,
//! in the caller's transaction (the writer's savepoint), so a delivery is stored whole or not
//! at all.
//!
//! Several service processes may write to one database. The lead row is locked first
//! (`FOR UPDATE`): two deliveries of one lead then run one after the other, whichever process
//! took them, so the first-seen walk (rollups) and the dedupe check each see the other's
//! committed event. A unique key that still collides (`ON CONFLICT DO NOTHING` found a row)
//! fails the job as [`StorageError::Busy`], which has the writer run the batch again.

use uuid::Uuid;

use super::rollups;
use super::session::Session;
use super::values::{clean, id_text, json};
use super::StorageError;
use crate::domain::{CampaignId, EmailAddress, EventId, LeadId, OrgId, UserId, UtcTimestamp};
use crate::domain::{EmailEvent, OtherEvent, SmartleadEvent};
use crate::storage::records::IngestOutcome;
use crate::storage::rollup_counts::PendingCounts;

pub fn ingest(
    db: &mut Session<'_, '_>,
    counts: &mut PendingCounts,
    user: UserId,
    org: &OrgId,
    event: &SmartleadEvent,
    now: UtcTimestamp,
) -> Result<IngestOutcome, StorageError> {
    match event {
        SmartleadEvent::Email(event) => ingest_email(db, counts, user, org, event, now),
        SmartleadEvent::Other(event) => ingest_other(db, user, event, now),
    }
}

fn ingest_email(
    db: &mut Session<'_, '_>,
    counts: &mut PendingCounts,
    user: UserId,
    org: &OrgId,
    event: &EmailEvent,
    now: UtcTimestamp,
) -> Result<IngestOutcome, StorageError> {
    let lead = lock_lead(db, user, &event.email, Some(&event.campaign_id), now)?;
    let existing = db.query_opt(
        "SELECT id FROM email_events WHERE user_id = $1 AND dedupe_key = $2",
        &[&user.as_uuid(), &event.dedupe_key],
    )?;
    if let Some(row) = existing {
        return Ok(IngestOutcome::Duplicate {
            event_id: id_text(row.get(0)),
        });
    }
    if let Some(event_id) = super::backfill::claim(db, user, event)? {
        return Ok(IngestOutcome::Duplicate { event_id });
    }
    let occurred_at = event.occurred_at.as_datetime();
    let campaign = clean(event.campaign_id.as_str());
    // Only a newer event moves the lead's latest activity (ties broken by type, then campaign),
    // so any arrival order ends in the same row.
    db.execute(
        "UPDATE leads
         SET last_email_event = $1, last_event_timestamp = $2, smartlead_campaign_id = $3, updated_at = $4
         WHERE user_id = $5 AND id = $6
           AND (last_event_timestamp IS NULL
                OR (last_event_timestamp, COALESCE(last_email_event, ''), COALESCE(smartlead_campaign_id, ''))
                   < ($2, $1, $3))",
        &[&event.event_type.as_str(), &occurred_at, &campaign.as_ref(), &now.as_datetime(), &user.as_uuid(), &lead],
    )?;
    rollups::record_event(
        db,
        counts,
        user,
        lead,
        &event.campaign_id,
        event.event_type,
        event.occurred_at,
    )?;
    if let Some(kind) = event.event_type.headline() {
        counts.count_step(user, &event.campaign_id, event.step, kind);
    }
    let event_id = EventId::new().as_uuid();
    let inserted = db.query_opt(
        "INSERT INTO email_events (id, user_id, campaign_id, message_id, event_type, email, lead_id,
                                   smartlead_org_id, event_data, \"timestamp\", created_at, updated_at,
                                   dedupe_key, sequence_step)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9::text::jsonb, $10, $11, $11, $12, $13)
         ON CONFLICT (user_id, dedupe_key) DO NOTHING
         RETURNING id",
        &[
            &event_id,
            &user.as_uuid(),
            &campaign.as_ref(),
            &clean(&event.message_id).as_ref(),
            &event.event_type.as_str(),
            &event.email.as_str(),
            &lead,
            &clean(org.as_str()).as_ref(),
            &json(&event.payload)?.as_ref(),
            &occurred_at,
            &now.as_datetime(),
            &event.dedupe_key,
            &(event.step.min(i32::MAX as u32) as i32),
        ],
    )?;
    match inserted {
        Some(_) => Ok(IngestOutcome::Stored {
            event_id: id_text(event_id),
        }),
        None => Err(concurrent_duplicate()),
    }
}

/// Another process stored the same event after this job's dedupe check: running the batch
/// again finds it and answers `duplicate`.
fn concurrent_duplicate() -> StorageError {
    StorageError::Busy("a concurrent writer stored the same event".into())
}

fn ingest_other(
    db: &mut Session<'_, '_>,
    user: UserId,
    event: &OtherEvent,
    now: UtcTimestamp,
) -> Result<IngestOutcome, StorageError> {
    let lead = match &event.email {
        Some(email) => Some(lock_lead(db, user, email, None, now)?),
        None => None,
    };
    if let Some(key) = &event.dedupe_key {
        let existing = db.query_opt(
            "SELECT id FROM smartlead_events WHERE user_id = $1 AND dedupe_key = $2",
            &[&user.as_uuid(), key],
        )?;
        if let Some(row) = existing {
            return Ok(IngestOutcome::Duplicate {
                event_id: id_text(row.get(0)),
            });
        }
    }
    if let (Some(lead), Some(category)) = (&lead, &event.new_category) {
        // Same rule as the latest activity: an older category arriving late never wins.
        db.execute(
            "UPDATE leads SET smartlead_category = $1, smartlead_category_at = $2, updated_at = $3
             WHERE user_id = $4 AND id = $5
               AND (smartlead_category_at IS NULL
                    OR (smartlead_category_at, COALESCE(smartlead_category, '')) < ($2, $1))",
            &[
                &clean(category).as_ref(),
                &event.effective_time().as_datetime(),
                &now.as_datetime(),
                &user.as_uuid(),
                lead,
            ],
        )?;
    }
    let event_id = EventId::new().as_uuid();
    let inserted = db.query_opt(
        "INSERT INTO smartlead_events (id, user_id, event_type, campaign_id, email, lead_id, event_data,
                                       event_timestamp, received_at, dedupe_key)
         VALUES ($1, $2, $3, $4, $5, $6, $7::text::jsonb, $8, $9, $10)
         ON CONFLICT (user_id, dedupe_key) DO NOTHING
         RETURNING id",
        &[
            &event_id,
            &user.as_uuid(),
            &clean(&event.raw_type).as_ref(),
            &event.campaign_id.as_ref().map(|c| clean(c.as_str()).into_owned()),
            &event.email.as_ref().map(EmailAddress::as_str),
            &lead,
            &json(&event.payload)?.as_ref(),
            &event.occurred_at.map(|t| t.as_datetime()),
            &event.received_at.as_datetime(),
            &event.dedupe_key,
        ],
    )?;
    match inserted {
        Some(_) => Ok(IngestOutcome::Kept {
            event_id: id_text(event_id),
        }),
        None => Err(concurrent_duplicate()),
    }
}

/// The id of the user's lead with this email, created (with the campaign) when missing, and
/// locked until the transaction ends.
fn lock_lead(
    db: &mut Session<'_, '_>,
    user: UserId,
    email: &EmailAddress,
    campaign: Option<&CampaignId>,
    now: UtcTimestamp,
) -> Result<Uuid, StorageError> {
    const LOCK: &str = "SELECT id FROM leads WHERE user_id = $1 AND email = $2 FOR UPDATE";
    if let Some(row) = db.query_opt(LOCK, &[&user.as_uuid(), &email.as_str()])? {
        return Ok(row.get(0));
    }
    let id = LeadId::new().as_uuid();
    let inserted = db.query_opt(
        "INSERT INTO leads (id, user_id, email, smartlead_campaign_id, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $5)
         ON CONFLICT (user_id, email) DO NOTHING
         RETURNING id",
        &[
            &id,
            &user.as_uuid(),
            &email.as_str(),
            &campaign.map(|c| clean(c.as_str()).into_owned()),
            &now.as_datetime(),
        ],
    )?;
    if let Some(row) = inserted {
        return Ok(row.get(0));
    }
    // Another process inserted it meanwhile (and has committed: the insert waited for it).
    let row = db.query_one(LOCK, &[&user.as_uuid(), &email.as_str()])?;
    Ok(row.get(0))
}
