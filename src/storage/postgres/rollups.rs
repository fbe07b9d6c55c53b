//! Analytics rollups on PostgreSQL: the same arithmetic as every backend
//! (`storage/rollup_counts.rs`), the first-seen answers read from the lead's stored events, the
//! counts written with `INSERT … ON CONFLICT DO UPDATE` in the batch's transaction, and the
//! whole set recomputable from `email_events` (rebuild) or comparable with a recomputation
//! (check).

use chrono::{DateTime, Utc};
use postgres::GenericClient;
use uuid::Uuid;

use super::session::Session;
use super::values::{text, time};
use super::StorageError;
use crate::domain::{CampaignId, EventType, UserId, UtcTimestamp};
use crate::storage::rollup_counts::{metrics, DayRow, HourRow, Instant, PendingCounts, StepRow};
use crate::storage::rollup_counts::{TotalRow, ALL_CAMPAIGNS};

/// Counts one event about to be stored for `lead` (see the SQLite backend's twin): runs before
/// the event's row is inserted, with the lead locked, so its stored events are all there are.
pub fn record_event(
    db: &mut Session<'_, '_>,
    counts: &mut PendingCounts,
    user: UserId,
    lead: Uuid,
    campaign: &CampaignId,
    event_type: EventType,
    at: UtcTimestamp,
) -> Result<(), StorageError> {
    let instant = Instant::of(at);
    let rows = db.query(
        "SELECT campaign_id, event_type, \"timestamp\" FROM email_events
         WHERE user_id = $1 AND lead_id = $2 ORDER BY \"timestamp\"",
        &[&user.as_uuid(), &lead],
    )?;
    let wanted: Vec<&'static str> = metrics(event_type).collect();
    let mut in_campaign: Vec<Option<DateTime<Utc>>> = vec![None; wanted.len()];
    let mut user_wide: Vec<Option<DateTime<Utc>>> = vec![None; wanted.len()];
    for row in &rows {
        if in_campaign.iter().all(Option::is_some) {
            break;
        }
        let stored_campaign: &str = row.get(0);
        let stored_type: EventType = row
            .get::<_, &str>(1)
            .parse()
            .map_err(|e: crate::domain::InvalidValue| StorageError::Database(e.0.into()))?;
        let at: DateTime<Utc> = row.get(2);
        for (i, metric) in wanted.iter().enumerate() {
            if !metrics(stored_type).any(|m| m == *metric) {
                continue;
            }
            user_wide[i].get_or_insert(at);
            if stored_campaign == campaign.as_str() {
                in_campaign[i].get_or_insert(at);
            }
        }
    }
    let user = user.to_string();
    for (i, metric) in wanted.iter().enumerate() {
        for (scope, previous) in [
            (campaign.as_str(), in_campaign[i]),
            (ALL_CAMPAIGNS, user_wide[i]),
        ] {
            let key = (user.clone(), scope.to_owned(), *metric);
            counts.record(key, &instant, previous.map(text).as_deref())?;
        }
    }
    Ok(())
}

/// Writes every pending count and forgets them. The rows come sorted by key, so two writers
/// flushing overlapping rows lock them in the same order and never deadlock on them.
pub fn flush(counts: &mut PendingCounts, db: &mut Session<'_, '_>) -> Result<(), StorageError> {
    let drained = counts.drain();
    for HourRow {
        scope: (user, scope, metric),
        hour,
        events,
        new_leads,
        span,
    } in drained.hourly
    {
        let (user, hour) = (super::values::id(&user)?, time(&hour)?);
        match span {
            Some((first, last)) => db.execute(
                "INSERT INTO rollup_hourly (user_id, campaign_id, metric, hour, events, new_leads, first_at, last_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
                 ON CONFLICT (user_id, campaign_id, metric, hour) DO UPDATE SET
                     events = rollup_hourly.events + excluded.events,
                     new_leads = rollup_hourly.new_leads + excluded.new_leads,
                     first_at = least(rollup_hourly.first_at, excluded.first_at),
                     last_at = greatest(rollup_hourly.last_at, excluded.last_at)",
                &[&user, &scope, &metric, &hour, &events, &new_leads, &time(&first)?, &time(&last)?],
            )?,
            None => db.execute(
                "UPDATE rollup_hourly SET new_leads = new_leads + $5
                 WHERE user_id = $1 AND campaign_id = $2 AND metric = $3 AND hour = $4",
                &[&user, &scope, &metric, &hour, &new_leads],
            )?,
        };
    }
    for DayRow {
        scope: (user, scope, metric),
        day,
        events,
    } in drained.daily
    {
        db.execute(
            "INSERT INTO rollup_daily (user_id, campaign_id, metric, day, events) VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (user_id, campaign_id, metric, day) DO UPDATE SET events = rollup_daily.events + excluded.events",
            &[&super::values::id(&user)?, &scope, &metric, &time(&day)?, &events],
        )?;
    }
    for TotalRow {
        scope: (user, scope, metric),
        events,
        leads,
        first_at,
        last_at,
    } in drained.totals
    {
        db.execute(
            "INSERT INTO rollup_totals (user_id, campaign_id, metric, events, leads, first_at, last_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7)
             ON CONFLICT (user_id, campaign_id, metric) DO UPDATE SET
                 events = rollup_totals.events + excluded.events,
                 leads = rollup_totals.leads + excluded.leads,
                 first_at = least(rollup_totals.first_at, excluded.first_at),
                 last_at = greatest(rollup_totals.last_at, excluded.last_at)",
            &[&super::values::id(&user)?, &scope, &metric, &events, &leads, &time(&first_at)?, &time(&last_at)?],
        )?;
    }
    for StepRow {
        user,
        campaign,
        step,
        metric,
        events,
    } in drained.steps
    {
        db.execute(
            "INSERT INTO rollup_steps (user_id, campaign_id, step, metric, events) VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (user_id, campaign_id, step, metric) DO UPDATE SET events = rollup_steps.events + excluded.events",
            &[&super::values::id(&user)?, &campaign, &(step.min(i32::MAX as u32) as i32), &metric, &events],
        )?;
    }
    Ok(())
}

const ROLLUP_TABLES: [&str; 4] = [
    "rollup_hourly",
    "rollup_daily",
    "rollup_totals",
    "rollup_steps",
];

/// `CASE event_type WHEN 'email_opened' THEN 'opened' … END`, from the one mapping in the domain.
fn headline_case() -> String {
    let arms: String = EventType::ALL
        .iter()
        .filter_map(|t| {
            t.headline()
                .map(|h| format!(" WHEN '{}' THEN '{}'", t.as_str(), h.as_str()))
        })
        .collect();
    format!("CASE event_type{arms} END")
}

/// Recomputes every rollup from `email_events` into `recount_*` temporary tables (dropped at
/// the end of the transaction).
fn recount(client: &mut impl GenericClient) -> Result<(), StorageError> {
    let headline = headline_case();
    let expanded = format!(
        "WITH typed AS (SELECT user_id, campaign_id, event_type AS metric, email, \"timestamp\" FROM email_events
                        UNION ALL
                        SELECT user_id, campaign_id, {headline}, email, \"timestamp\" FROM email_events
                        WHERE {headline} IS NOT NULL),
              expanded AS (SELECT user_id, campaign_id, metric, email, \"timestamp\" FROM typed
                           UNION ALL
                           SELECT user_id, '{ALL_CAMPAIGNS}', metric, email, \"timestamp\" FROM typed)"
    );
    client.batch_execute(&format!(
        "CREATE TEMP TABLE recount_lead_firsts ON COMMIT DROP AS
             {expanded}
             SELECT user_id, campaign_id, metric, email, min(\"timestamp\") AS first_at
             FROM expanded GROUP BY user_id, campaign_id, metric, email;
         CREATE TEMP TABLE recount_rollup_hourly ON COMMIT DROP AS
             {expanded},
             firsts AS (SELECT user_id, campaign_id, metric, date_trunc('hour', first_at, 'UTC') AS hour, count(*) AS n
                        FROM recount_lead_firsts GROUP BY 1, 2, 3, 4),
             hours AS (SELECT user_id, campaign_id, metric, date_trunc('hour', \"timestamp\", 'UTC') AS hour,
                              count(*) AS events, min(\"timestamp\") AS first_at, max(\"timestamp\") AS last_at
                       FROM expanded GROUP BY 1, 2, 3, 4)
             SELECT h.user_id, h.campaign_id, h.metric, h.hour, h.events, COALESCE(f.n, 0)::bigint AS new_leads,
                    h.first_at, h.last_at
             FROM hours h LEFT JOIN firsts f
               ON f.user_id = h.user_id AND f.campaign_id = h.campaign_id AND f.metric = h.metric AND f.hour = h.hour;
         CREATE TEMP TABLE recount_rollup_totals ON COMMIT DROP AS
             SELECT user_id, campaign_id, metric, sum(events)::bigint AS events, sum(new_leads)::bigint AS leads,
                    min(first_at) AS first_at, max(last_at) AS last_at
             FROM recount_rollup_hourly GROUP BY 1, 2, 3;
         CREATE TEMP TABLE recount_rollup_daily ON COMMIT DROP AS
             SELECT user_id, campaign_id, metric, date_trunc('day', hour, 'UTC') AS day, sum(events)::bigint AS events
             FROM recount_rollup_hourly GROUP BY 1, 2, 3, 4;
         CREATE TEMP TABLE recount_rollup_steps ON COMMIT DROP AS
             SELECT user_id, campaign_id, COALESCE(sequence_step, 1) AS step, {headline} AS metric,
                    count(*)::bigint AS events
             FROM email_events WHERE {headline} IS NOT NULL
             GROUP BY 1, 2, 3, 4;"
    ))?;
    Ok(())
}

/// Replaces the rollups with a recomputation. Run inside a transaction.
pub fn rebuild(client: &mut impl GenericClient) -> Result<(), StorageError> {
    recount(client)?;
    for table in ROLLUP_TABLES {
        client.batch_execute(&format!(
            "DELETE FROM {table}; INSERT INTO {table} SELECT * FROM recount_{table};"
        ))?;
    }
    Ok(())
}

/// Rows that differ between each rollup table and a recomputation: (table, differing rows).
/// Run inside a transaction (the recount's tables go with it).
pub fn check(client: &mut impl GenericClient) -> Result<Vec<(&'static str, i64)>, StorageError> {
    recount(client)?;
    let mut differences = Vec::new();
    for table in ROLLUP_TABLES {
        let differing: i64 = client
            .query_one(
                &format!(
                    "SELECT (SELECT count(*) FROM (SELECT * FROM {table} EXCEPT SELECT * FROM recount_{table}) a)
                          + (SELECT count(*) FROM (SELECT * FROM recount_{table} EXCEPT SELECT * FROM {table}) b)"
                ),
                &[],
            )?
            .get(0);
        if differing > 0 {
            differences.push((table, differing));
        }
    }
    Ok(differences)
}
