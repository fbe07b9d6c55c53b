//! The projector on PostgreSQL (the arithmetic is `storage/projection.rs`). Several writer
//! connections and processes commit at once, so seqs become visible out of order: the projector
//! works from the queue each delivery's transaction adds to (migration 011), applies the queued
//! events it can see and deletes them in the same transaction. An event is projected exactly
//! when its queue row is gone; the first-seen walk leaves queued events out for that reason.
//!
//! One projector at a time, whichever process: the transaction takes an advisory lock first
//! (the service skips a turn when another holds it; the CLI waits).

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::session::{Session, Sql};
use super::values::{id, id_text, text, time};
use super::{rollups, StorageError};
use crate::domain::{CampaignId, EventType, UserId, UtcTimestamp};
use crate::storage::projection::{
    fold, Earliest, LeadHistory, PendingEvent, Projection, MAX_EVENTS,
};
use crate::storage::rollup_counts::metrics;

/// `pg_advisory_xact_lock` key: "smartlead-hub projector".
const LOCK_KEY: i64 = 0x5348_5052_4f4a_4543;

/// The answers' `as_of`: every event with a seq at or below it that was committed before this
/// read is projected. With events queued, the one below the oldest queued; otherwise the highest
/// applied.
pub fn watermark(db: &mut impl Sql) -> Result<i64, StorageError> {
    Ok(db
        .query_one(
            "SELECT COALESCE((SELECT min(seq) - 1 FROM projection_queue),
                             (SELECT through FROM projection_watermark WHERE id = 1))",
            &[],
        )?
        .get(0))
}

/// The highest seq given out (0: none yet).
pub fn latest_seq(db: &mut impl Sql) -> Result<i64, StorageError> {
    Ok(db
        .query_one(
            "SELECT CASE WHEN is_called THEN last_value ELSE 0 END FROM email_events_seq",
            &[],
        )?
        .get(0))
}

/// What one projection did (nothing when another projector held the turn).
#[derive(Debug, Clone, Copy, Default)]
pub struct Projected {
    pub events: usize,
    pub oldest_received: Option<UtcTimestamp>,
}

/// (the watermark, events queued): after a projection, for `/metrics` and the waiting reads.
pub fn progress(db: &mut impl Sql) -> Result<(i64, i64), StorageError> {
    let queued: i64 = db
        .query_one("SELECT count(*) FROM projection_queue", &[])?
        .get(0);
    Ok((watermark(db)?, queued))
}

/// Takes the projector's turn for the rest of the caller's transaction, waiting for another
/// process's to end. The CLI takes it before its own writes, so that a service's projector never
/// waits on rows the CLI holds while the CLI waits for the turn.
pub fn take_turn(db: &mut impl Sql) -> Result<(), StorageError> {
    db.execute("SELECT pg_advisory_xact_lock($1)", &[&LOCK_KEY])?;
    Ok(())
}

/// Projects up to `limit` queued events in the caller's transaction. `wait`: wait for another
/// projector's turn to end (the CLI) rather than skip this one (the service's clock).
pub fn project(
    db: &mut Session<'_, '_>,
    limit: usize,
    wait: bool,
) -> Result<Projected, StorageError> {
    let locked: bool = if wait {
        take_turn(db)?;
        true
    } else {
        db.query_one("SELECT pg_try_advisory_xact_lock($1)", &[&LOCK_KEY])?
            .get(0)
    };
    if !locked {
        return Ok(Projected::default());
    }
    let pending = queued(db, limit)?;
    if pending.is_empty() {
        return Ok(Projected::default());
    }
    let Projection {
        mut counts,
        activity,
        through,
        events,
        oldest_received,
    } = fold(&pending, |event, lead| lead_history(db, event, lead))?;
    rollups::flush(&mut counts, db)?;
    let mut leads = ActivityArrays::default();
    for ((user, lead), latest) in &activity {
        leads.user.push(id(user)?);
        leads.lead.push(id(lead)?);
        leads.event_type.push(latest.event_type);
        leads.at.push(time(&latest.at)?);
        leads.campaign.push(latest.campaign.clone());
    }
    // Only a newer event moves the lead's latest activity (time, then type, then campaign: a
    // total order), so any arrival order ends in the same row.
    db.execute(
        "UPDATE leads l
         SET last_email_event = u.event_type, last_event_timestamp = u.at,
             smartlead_campaign_id = u.campaign, updated_at = now()
         FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::timestamptz[], $5::text[])
              AS u(user_id, lead_id, event_type, at, campaign)
         WHERE l.user_id = u.user_id AND l.id = u.lead_id
           AND (l.last_event_timestamp IS NULL
                OR (l.last_event_timestamp, COALESCE(l.last_email_event, ''), COALESCE(l.smartlead_campaign_id, ''))
                   < (u.at, u.event_type, u.campaign COLLATE \"C\"))",
        &[
            &leads.user,
            &leads.lead,
            &leads.event_type,
            &leads.at,
            &leads.campaign,
        ],
    )?;
    let users: Vec<Uuid> = pending.iter().map(|e| e.user.as_uuid()).collect();
    let seqs: Vec<i64> = pending.iter().map(|e| e.seq).collect();
    db.execute(
        "DELETE FROM projection_queue q USING unnest($1::uuid[], $2::int8[]) AS d(user_id, seq)
         WHERE q.user_id = d.user_id AND q.seq = d.seq",
        &[&users, &seqs],
    )?;
    db.execute(
        "UPDATE projection_watermark SET through = greatest(through, $1), updated_at = now() WHERE id = 1",
        &[&through],
    )?;
    Ok(Projected {
        events,
        oldest_received,
    })
}

/// Projects everything queued, in the caller's transaction, waiting for a running service's
/// projector to finish its turn: the CLI's writes end with this.
pub fn catch_up(db: &mut Session<'_, '_>) -> Result<(), StorageError> {
    while project(db, MAX_EVENTS, true)?.events > 0 {}
    Ok(())
}

#[derive(Default)]
struct ActivityArrays {
    user: Vec<Uuid>,
    lead: Vec<Uuid>,
    event_type: Vec<&'static str>,
    at: Vec<DateTime<Utc>>,
    campaign: Vec<String>,
}

fn queued(db: &mut Session<'_, '_>, limit: usize) -> Result<Vec<PendingEvent>, StorageError> {
    let rows = db.query(
        "SELECT seq, user_id, lead_id, campaign_id, event_type, \"timestamp\", sequence_step, received_at
         FROM projection_queue ORDER BY seq LIMIT $1",
        &[&(limit as i64)],
    )?;
    rows.iter()
        .map(|row| {
            let stored = |e: String| StorageError::Database(format!("a queued event: {e}").into());
            Ok(PendingEvent {
                seq: row.get(0),
                user: UserId::from_uuid(row.get(1)),
                lead: row.get::<_, Option<Uuid>>(2).map(id_text),
                campaign: CampaignId::parse(row.get(3)).map_err(|e| stored(e.0))?,
                event_type: row
                    .get::<_, &str>(4)
                    .parse::<EventType>()
                    .map_err(|e| stored(e.0))?,
                at: UtcTimestamp::from_datetime(row.get(5)),
                step: row.get::<_, i32>(6).max(1) as u32,
                received_at: UtcTimestamp::from_datetime(row.get(7)),
            })
        })
        .collect()
}

/// The lead's earliest projected event of each metric the event counts towards, in its
/// campaign and in any, and whether it has one of the event's headline kind at its step of its
/// campaign: queued events (not projected yet) are left out. One statement over the lead's
/// entries of idx_email_events_lead_timestamp, which carries type, campaign and seq.
fn lead_history(
    db: &mut Session<'_, '_>,
    event: &PendingEvent,
    lead: &str,
) -> Result<LeadHistory, StorageError> {
    let wanted: Vec<&'static str> = metrics(event.event_type).collect();
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
    let row = db.query_one(
        "SELECT min(\"timestamp\") FILTER (WHERE event_type = ANY($3) AND campaign_id = $5),
                min(\"timestamp\") FILTER (WHERE event_type = ANY($3)),
                min(\"timestamp\") FILTER (WHERE event_type = ANY($4) AND campaign_id = $5),
                min(\"timestamp\") FILTER (WHERE event_type = ANY($4)),
                COALESCE(bool_or(event_type = ANY($4) AND campaign_id = $5
                                 AND COALESCE(sequence_step, 1) = $6), false)
         FROM email_events e
         WHERE e.user_id = $1 AND e.lead_id = $2
           AND (e.event_type = ANY($3) OR e.event_type = ANY($4))
           AND (e.seq IS NULL OR NOT EXISTS (SELECT 1 FROM projection_queue q
                                             WHERE q.user_id = e.user_id AND q.seq = e.seq))",
        &[
            &event.user.as_uuid(),
            &id(lead)?,
            &types(0),
            &types(1),
            &event.campaign.as_str(),
            &(event.step.min(i32::MAX as u32) as i32),
        ],
    )?;
    let earliest = wanted
        .iter()
        .enumerate()
        .map(|(i, metric)| Earliest {
            metric,
            in_campaign: row.get::<_, Option<DateTime<Utc>>>(2 * i).map(text),
            user_wide: row.get::<_, Option<DateTime<Utc>>>(2 * i + 1).map(text),
        })
        .collect();
    // The second metric, when there is one, is the type's headline kind.
    let step_seen = event.event_type.headline().is_some() && row.get::<_, bool>(4);
    Ok(LeadHistory {
        earliest,
        step_seen,
    })
}
