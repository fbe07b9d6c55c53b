//! Writes the rollup counts a batch summed ([`PendingCounts`]) into the rollup tables: one
//! statement per row, inside the transaction that stored the events.

use rusqlite::{params, Connection};

use crate::storage::rollup_counts::{DayRow, HourRow, PendingCounts, StepRow, TotalRow};
use crate::storage::StorageError;

/// Writes every pending count and forgets them.
pub fn flush(counts: &mut PendingCounts, conn: &Connection) -> Result<(), StorageError> {
    let drained = counts.drain();
    for HourRow {
        scope: (user, scope, metric),
        hour,
        events,
        new_leads,
        span,
    } in drained.hourly
    {
        match span {
            Some((first, last)) => conn
                .prepare_cached(
                    "INSERT INTO rollup_hourly (user_id, campaign_id, metric, hour, events, new_leads, first_at, last_at)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
                     ON CONFLICT (user_id, campaign_id, metric, hour) DO UPDATE SET
                         events = events + excluded.events,
                         new_leads = new_leads + excluded.new_leads,
                         first_at = min(first_at, excluded.first_at),
                         last_at = max(last_at, excluded.last_at)",
                )?
                .execute(params![user, scope, metric, hour, events, new_leads, first, last])?,
            None => conn
                .prepare_cached(
                    "UPDATE rollup_hourly SET new_leads = new_leads + ?5
                     WHERE user_id = ?1 AND campaign_id = ?2 AND metric = ?3 AND hour = ?4",
                )?
                .execute(params![user, scope, metric, hour, new_leads])?,
        };
    }
    for DayRow {
        scope: (user, scope, metric),
        day,
        events,
    } in drained.daily
    {
        conn.prepare_cached(
            "INSERT INTO rollup_daily (user_id, campaign_id, metric, day, events) VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT (user_id, campaign_id, metric, day) DO UPDATE SET events = events + excluded.events",
        )?
        .execute(params![user, scope, metric, day, events])?;
    }
    for TotalRow {
        scope: (user, scope, metric),
        events,
        leads,
        first_at,
        last_at,
    } in drained.totals
    {
        conn.prepare_cached(
            "INSERT INTO rollup_totals (user_id, campaign_id, metric, events, leads, first_at, last_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
             ON CONFLICT (user_id, campaign_id, metric) DO UPDATE SET
                 events = events + excluded.events,
                 leads = leads + excluded.leads,
                 first_at = min(first_at, excluded.first_at),
                 last_at = max(last_at, excluded.last_at)",
        )?
        .execute(params![user, scope, metric, events, leads, first_at, last_at])?;
    }
    for StepRow {
        user,
        campaign,
        step,
        metric,
        events,
        leads,
    } in drained.steps
    {
        conn.prepare_cached(
            "INSERT INTO rollup_steps (user_id, campaign_id, step, metric, events, leads)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)
             ON CONFLICT (user_id, campaign_id, step, metric) DO UPDATE SET
                 events = events + excluded.events, leads = leads + excluded.leads",
        )?
        .execute(params![user, campaign, step, metric, events, leads])?;
    }
    Ok(())
}
