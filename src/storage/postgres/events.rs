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

use chrono::{DateTime, Utc};

use super::error::ConcurrentWrite;
use super::session::Session;
use super::session::Sql;
use super::values::{clean, id_text, json, text};
use super::StorageError;
use crate::domain::{CampaignId, EmailAddress, EventId, LeadId, OrgId, UserId, UtcTimestamp};
use crate::domain::{EmailEvent, EventType, OtherEvent, SmartleadEvent};
use crate::storage::records::IngestOutcome;
use crate::storage::rollup_counts::{metrics, Instant, PendingCounts, ALL_CAMPAIGNS};

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
    let (lead, created) = lock_lead(db, user, &event.email, Some(&event.campaign_id), now)?;
    let campaign = clean(event.campaign_id.as_str());
    let wanted: Vec<&'static str> = metrics(event.event_type).collect();
    // A lead created just now has no events: nothing to dedupe against, claim or walk.
    let earliest = if created {
        vec![(None, None); wanted.len()]
    } else {
        match stored_so_far(db, user, lead, event, &campaign, &wanted)? {
            Stored::Duplicate(event_id) => {
                return Ok(IngestOutcome::Duplicate { event_id, seq: 0 })
            }
            Stored::Backfilled => match super::backfill::claim(db, user, event)? {
                Some(event_id) => return Ok(IngestOutcome::Duplicate { event_id, seq: 0 }),
                None => return Err(concurrent_duplicate()),
            },
            Stored::Earliest(earliest) => earliest,
        }
    };
    let instant = Instant::of(event.occurred_at);
    let user_text = user.to_string();
    for (metric, (in_campaign, user_wide)) in wanted.iter().zip(earliest) {
        for (scope, previous) in [
            (event.campaign_id.as_str(), in_campaign),
            (ALL_CAMPAIGNS, user_wide),
        ] {
            let key = (user_text.clone(), scope.to_owned(), *metric);
            counts.record(key, &instant, previous.map(text).as_deref())?;
        }
    }
    if let Some(kind) = event.event_type.headline() {
        counts.count_step(user, &event.campaign_id, event.step, kind);
    }
    let event_id = EventId::new().as_uuid();
    let occurred_at = event.occurred_at.as_datetime();
    // The lead's latest activity moves only for a newer event (ties broken by type, then
    // campaign), so any arrival order ends in the same row; one statement with the insert.
    let inserted = db.query_opt(
        "WITH activity AS (
             UPDATE leads
             SET last_email_event = $5, last_event_timestamp = $10, smartlead_campaign_id = $3, updated_at = $11
             WHERE user_id = $2 AND id = $7
               AND (last_event_timestamp IS NULL
                    OR (last_event_timestamp, COALESCE(last_email_event, ''), COALESCE(smartlead_campaign_id, ''))
                       < ($10, $5, $3))
             RETURNING 1)
         INSERT INTO email_events (id, user_id, campaign_id, message_id, event_type, email, lead_id,
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
            &step(event),
        ],
    )?;
    match inserted {
        Some(_) => Ok(IngestOutcome::Stored {
            seq: 0,
            event_id: id_text(event_id),
        }),
        None => Err(concurrent_duplicate()),
    }
}

fn step(event: &EmailEvent) -> i32 {
    event.step.min(i32::MAX as u32) as i32
}

/// The lead's earliest stored event of one metric: (in the event's campaign, in any).
type Earliest = (Option<DateTime<Utc>>, Option<DateTime<Utc>>);

/// What the lead's stored events say about a new one.
enum Stored {
    /// The same event (its dedupe key) is stored already.
    Duplicate(String),
    /// A sync backfilled this email's event of the same kind: the delivery claims it.
    Backfilled,
    /// For each metric the event counts towards: the lead's earliest stored event of it, in
    /// the event's campaign and in any.
    Earliest(Vec<Earliest>),
}

/// The dedupe check, the backfill check and the first-seen walk of a locked lead, in one round
/// trip (a statement of its own after the lock, so it sees whatever the lock waited for).
fn stored_so_far(
    db: &mut Session<'_, '_>,
    user: UserId,
    lead: Uuid,
    event: &EmailEvent,
    campaign: &str,
    wanted: &[&'static str],
) -> Result<Stored, StorageError> {
    let types = |i: usize| -> Vec<&'static str> {
        let Some(metric) = wanted.get(i) else {
            return Vec::new();
        };
        EventType::ALL
            .iter()
            .filter(|t| metrics(**t).any(|m| m == *metric))
            .map(|t| t.as_str())
            .collect()
    };
    let kind = event.event_type.headline().map_or("", |k| k.as_str());
    let row = db.query_one(
        "SELECT (SELECT id FROM email_events WHERE user_id = $1 AND dedupe_key = $2),
                EXISTS (SELECT 1 FROM rest_backfills
                        WHERE user_id = $1 AND campaign_id = $3 AND email = $4 AND step = $5 AND kind = $6),
                (SELECT min(\"timestamp\") FROM email_events
                 WHERE user_id = $1 AND lead_id = $7 AND event_type = ANY($8) AND campaign_id = $3),
                (SELECT min(\"timestamp\") FROM email_events
                 WHERE user_id = $1 AND lead_id = $7 AND event_type = ANY($8)),
                (SELECT min(\"timestamp\") FROM email_events
                 WHERE user_id = $1 AND lead_id = $7 AND event_type = ANY($9) AND campaign_id = $3),
                (SELECT min(\"timestamp\") FROM email_events
                 WHERE user_id = $1 AND lead_id = $7 AND event_type = ANY($9))",
        &[
            &user.as_uuid(),
            &event.dedupe_key,
            &campaign,
            &event.email.as_str(),
            &step(event),
            &kind,
            &lead,
            &types(0),
            &types(1),
        ],
    )?;
    if let Some(existing) = row.get::<_, Option<Uuid>>(0) {
        return Ok(Stored::Duplicate(id_text(existing)));
    }
    if row.get::<_, bool>(1) {
        return Ok(Stored::Backfilled);
    }
    Ok(Stored::Earliest(
        (0..wanted.len())
            .map(|i| (row.get(2 + 2 * i), row.get(3 + 2 * i)))
            .collect(),
    ))
}

/// Another process stored the same event after this job's dedupe check: running the batch
/// again finds it and answers `duplicate`.
fn concurrent_duplicate() -> StorageError {
    ConcurrentWrite::error("event")
}

fn ingest_other(
    db: &mut Session<'_, '_>,
    user: UserId,
    event: &OtherEvent,
    now: UtcTimestamp,
) -> Result<IngestOutcome, StorageError> {
    let lead = match &event.email {
        Some(email) => Some(lock_lead(db, user, email, None, now)?.0),
        None => None,
    };
    if let Some(key) = &event.dedupe_key {
        let existing = db.query_opt(
            "SELECT id FROM smartlead_events WHERE user_id = $1 AND dedupe_key = $2",
            &[&user.as_uuid(), key],
        )?;
        if let Some(row) = existing {
            return Ok(IngestOutcome::Duplicate {
                seq: 0,
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
/// locked until the transaction ends; and whether it was created now.
fn lock_lead(
    db: &mut Session<'_, '_>,
    user: UserId,
    email: &EmailAddress,
    campaign: Option<&CampaignId>,
    now: UtcTimestamp,
) -> Result<(Uuid, bool), StorageError> {
    const LOCK: &str = "SELECT id FROM leads WHERE user_id = $1 AND email = $2 FOR UPDATE";
    if let Some(row) = db.query_opt(LOCK, &[&user.as_uuid(), &email.as_str()])? {
        return Ok((row.get(0), false));
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
        return Ok((row.get(0), true));
    }
    // Another process inserted it meanwhile (and has committed: the insert waited for it).
    let row = db.query_one(LOCK, &[&user.as_uuid(), &email.as_str()])?;
    Ok((row.get(0), false))
}
