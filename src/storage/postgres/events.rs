//! Storing deliveries on PostgreSQL: the event row (with its seq, queued for the projector) and
//! its lead, in the caller's transaction (the writer's savepoint), so a delivery is stored whole
//! or not at all. What is derived from an email event (rollups, the lead's latest activity) is
//! the projector's (`projection.rs`); a kept event's category is rare and stays here.
//!
//! Several service processes may write to one database. A unique key that still collides
//! (`ON CONFLICT DO NOTHING` found a row another writer just committed) fails the job as
//! [`StorageError::Busy`], which has the writer run the batch again; the rerun finds the row and
//! answers `duplicate`.

use uuid::Uuid;

use super::error::ConcurrentWrite;
use super::session::Session;
use super::session::Sql;
use super::values::{clean, id_text, json};
use super::StorageError;
use super::{campaigns, leads};
use crate::domain::{EmailAddress, EventId, OrgId, UserId, UtcTimestamp};
use crate::domain::{EmailEvent, OtherEvent, SmartleadEvent};
use crate::storage::records::IngestOutcome;

pub fn ingest(
    db: &mut Session<'_, '_>,
    user: UserId,
    org: &OrgId,
    event: &SmartleadEvent,
    now: UtcTimestamp,
) -> Result<IngestOutcome, StorageError> {
    match event {
        SmartleadEvent::Email(event) => ingest_email(db, user, org, event, now),
        SmartleadEvent::Other(event) => ingest_other(db, user, event, now),
    }
}

fn ingest_email(
    db: &mut Session<'_, '_>,
    user: UserId,
    org: &OrgId,
    event: &EmailEvent,
    now: UtcTimestamp,
) -> Result<IngestOutcome, StorageError> {
    let profile = (&event.lead_profile, event.occurred_at);
    let campaign = Some(&event.campaign_id);
    let (lead, created) = leads::find_or_create(db, user, &event.email, campaign, profile, now)?;
    let campaign = clean(event.campaign_id.as_str());
    // A lead created just now has no events: nothing to dedupe against or claim (unless its
    // address was forgotten: see the insert's conflict below).
    if !created {
        match stored_so_far(db, user, event, &campaign)? {
            Stored::Duplicate { event_id, seq } => {
                return Ok(IngestOutcome::Duplicate { event_id, seq })
            }
            // The delivery's payload replaces the backfill's, which labelled no campaign.
            Stored::Backfilled => match super::backfill::claim(db, user, event)? {
                Some((event_id, seq)) => {
                    note_campaign_labels(db, user, event, &campaign, now)?;
                    return Ok(IngestOutcome::Duplicate { event_id, seq });
                }
                None => return Err(concurrent_duplicate()),
            },
            Stored::New => {}
        }
    }
    let event_id = EventId::new().as_uuid();
    // The event and its queue row in one statement: the queue row exists exactly when the
    // event was inserted.
    let inserted = db.query_opt(
        "WITH inserted AS (
             INSERT INTO email_events (id, user_id, campaign_id, message_id, event_type, email, lead_id,
                                       smartlead_org_id, event_data, \"timestamp\", created_at, updated_at,
                                       dedupe_key, sequence_step, seq)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9::text::jsonb, $10, $11, $11, $12, $13,
                     nextval('email_events_seq'))
             ON CONFLICT (user_id, dedupe_key) DO NOTHING
             RETURNING seq)
         INSERT INTO projection_queue (user_id, seq, lead_id, campaign_id, event_type, \"timestamp\",
                                       sequence_step, received_at)
         SELECT $2, seq, $7, $3, $5, $10, $13, $11 FROM inserted
         RETURNING seq",
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
            &event.occurred_at.as_datetime(),
            &now.as_datetime(),
            &event.dedupe_key,
            &step(event),
        ],
    )?;
    let Some(row) = inserted else {
        if created {
            // The event is stored, under a lead that no longer has this address (`leads
            // forget`): the lead just created for it goes again, and the answer is the
            // stored event's, as on SQLite, which checks before it creates a lead.
            if let Stored::Duplicate { event_id, seq } = stored_so_far(db, user, event, &campaign)?
            {
                db.execute(
                    "DELETE FROM leads WHERE user_id = $1 AND id = $2",
                    &[&user.as_uuid(), &lead],
                )?;
                return Ok(IngestOutcome::Duplicate { event_id, seq });
            }
        }
        return Err(concurrent_duplicate());
    };
    note_campaign_labels(db, user, event, &campaign, now)?;
    Ok(IngestOutcome::Stored {
        event_id: id_text(event_id),
        seq: row.get(0),
    })
}

fn note_campaign_labels(
    db: &mut Session<'_, '_>,
    user: UserId,
    event: &EmailEvent,
    campaign: &str,
    now: UtcTimestamp,
) -> Result<(), StorageError> {
    let labels = &event.campaign_labels;
    campaigns::note(db, user, campaign, labels, event.occurred_at, now)?;
    Ok(())
}

fn step(event: &EmailEvent) -> i32 {
    event.step.min(i32::MAX as u32) as i32
}

/// What the lead's stored events say about a new one.
enum Stored {
    /// The same event (its dedupe key) is stored already.
    Duplicate {
        event_id: String,
        seq: i64,
    },
    /// A sync backfilled this email's event of the same kind: the delivery claims it.
    Backfilled,
    New,
}

/// The dedupe check and the backfill check, in one round trip.
fn stored_so_far(
    db: &mut Session<'_, '_>,
    user: UserId,
    event: &EmailEvent,
    campaign: &str,
) -> Result<Stored, StorageError> {
    let kind = event.event_type.headline().map_or("", |k| k.as_str());
    let row = db.query_one(
        "SELECT e.id, COALESCE(e.seq, 0),
                EXISTS (SELECT 1 FROM rest_backfills
                        WHERE user_id = $1 AND campaign_id = $3 AND email = $4 AND step = $5 AND kind = $6)
         FROM (SELECT 1) AS one
         LEFT JOIN LATERAL (
             SELECT id, seq FROM email_events WHERE user_id = $1 AND dedupe_key = $2
             UNION ALL
             -- Its key from before time-prefixed keys, in a database that holds such keys.
             -- Two probes of the unique key rather than an OR, which the planner may not split.
             SELECT id, seq FROM email_events
             WHERE user_id = $1 AND dedupe_key = $7 AND EXISTS (SELECT 1 FROM legacy_dedupe_keys)
             LIMIT 1) e ON true",
        &[
            &user.as_uuid(),
            &event.dedupe_key,
            &campaign,
            &event.email.as_str(),
            &step(event),
            &kind,
            &event.legacy_dedupe_key,
        ],
    )?;
    if let Some(existing) = row.get::<_, Option<Uuid>>(0) {
        return Ok(Stored::Duplicate {
            event_id: id_text(existing),
            seq: row.get(1),
        });
    }
    if row.get::<_, bool>(2) {
        return Ok(Stored::Backfilled);
    }
    Ok(Stored::New)
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
    // A duplicate is answered before its lead is looked up: the lead of a forgotten address
    // (`leads forget`) must not be created again by a redelivery.
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
    let lead = match &event.email {
        Some(email) => {
            let profile = (&event.lead_profile, event.effective_time());
            Some(leads::find_or_create(db, user, email, None, profile, now)?.0)
        }
        None => None,
    };
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
    if inserted.is_none() {
        return Err(concurrent_duplicate());
    }
    if let Some(campaign) = &event.campaign_id {
        let campaign = clean(campaign.as_str());
        let (labels, at) = (&event.campaign_labels, event.effective_time());
        campaigns::note(db, user, &campaign, labels, at, now)?;
    }
    Ok(IngestOutcome::Kept {
        event_id: id_text(event_id),
    })
}
