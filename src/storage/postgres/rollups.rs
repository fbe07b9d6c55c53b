//! Analytics rollups on PostgreSQL: the same arithmetic as every backend
//! (`storage/rollup_counts.rs`), applied by the projector (`projection.rs`), the counts written
//! with `INSERT … ON CONFLICT DO UPDATE` in its transaction, and the whole set recomputable from
//! `email_events` (rebuild) or comparable with a recomputation of the projected events (check).

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::session::{Session, Sql};
use super::values::{id, time};
use super::StorageError;
use crate::storage::rollup_counts::{headline_case_sql, ALL_CAMPAIGNS};
use crate::storage::rollup_counts::{DayRow, HourRow, PendingCounts, StepRow, TotalRow};

/// Writes every pending count and forgets them: one statement per rollup table, its rows as
/// arrays (`unnest`), since a round trip per row was most of a batch's time. The rows come
/// sorted by key, so two writers upserting overlapping rows lock them in the same order and
/// never deadlock on them.
pub fn flush(counts: &mut PendingCounts, db: &mut Session<'_, '_>) -> Result<(), StorageError> {
    let drained = counts.drain();
    let mut hourly = HourArrays::default();
    let mut corrections = HourArrays::default();
    for HourRow {
        scope: (user, scope, metric),
        hour,
        events,
        new_leads,
        span,
    } in drained.hourly
    {
        let target = if span.is_some() {
            &mut hourly
        } else {
            &mut corrections
        };
        target.user.push(id(&user)?);
        target.campaign.push(scope);
        target.metric.push(metric);
        target.hour.push(time(&hour)?);
        target.events.push(events);
        target.new_leads.push(new_leads);
        if let Some((first, last)) = span {
            target.first.push(time(&first)?);
            target.last.push(time(&last)?);
        }
    }
    if !hourly.user.is_empty() {
        db.execute(
            "INSERT INTO rollup_hourly (user_id, campaign_id, metric, hour, events, new_leads, first_at, last_at)
             SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::timestamptz[], $5::int8[],
                                  $6::int8[], $7::timestamptz[], $8::timestamptz[])
             ON CONFLICT (user_id, campaign_id, metric, hour) DO UPDATE SET
                 events = rollup_hourly.events + excluded.events,
                 new_leads = rollup_hourly.new_leads + excluded.new_leads,
                 first_at = least(rollup_hourly.first_at, excluded.first_at),
                 last_at = greatest(rollup_hourly.last_at, excluded.last_at)",
            &[
                &hourly.user,
                &hourly.campaign,
                &hourly.metric,
                &hourly.hour,
                &hourly.events,
                &hourly.new_leads,
                &hourly.first,
                &hourly.last,
            ],
        )?;
    }
    if !corrections.user.is_empty() {
        db.execute(
            "UPDATE rollup_hourly r SET new_leads = r.new_leads + u.new_leads
             FROM unnest($1::uuid[], $2::text[], $3::text[], $4::timestamptz[], $5::int8[])
                  AS u (user_id, campaign_id, metric, hour, new_leads)
             WHERE r.user_id = u.user_id AND r.campaign_id = u.campaign_id AND r.metric = u.metric
               AND r.hour = u.hour",
            &[
                &corrections.user,
                &corrections.campaign,
                &corrections.metric,
                &corrections.hour,
                &corrections.new_leads,
            ],
        )?;
    }

    let (mut user, mut campaign, mut metric, mut day, mut events) = Columns5::default();
    for DayRow {
        scope: (u, c, m),
        day: d,
        events: e,
    } in drained.daily
    {
        user.push(id(&u)?);
        campaign.push(c);
        metric.push(m);
        day.push(time(&d)?);
        events.push(e);
    }
    if !user.is_empty() {
        db.execute(
            "INSERT INTO rollup_daily (user_id, campaign_id, metric, day, events)
             SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::timestamptz[], $5::int8[])
             ON CONFLICT (user_id, campaign_id, metric, day) DO UPDATE SET
                 events = rollup_daily.events + excluded.events",
            &[&user, &campaign, &metric, &day, &events],
        )?;
    }

    let mut totals = TotalArrays::default();
    for TotalRow {
        scope: (u, c, m),
        events,
        leads,
        first_at,
        last_at,
    } in drained.totals
    {
        totals.user.push(id(&u)?);
        totals.campaign.push(c);
        totals.metric.push(m);
        totals.events.push(events);
        totals.leads.push(leads);
        totals.first.push(time(&first_at)?);
        totals.last.push(time(&last_at)?);
    }
    if !totals.user.is_empty() {
        db.execute(
            "INSERT INTO rollup_totals (user_id, campaign_id, metric, events, leads, first_at, last_at)
             SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::int8[], $5::int8[],
                                  $6::timestamptz[], $7::timestamptz[])
             ON CONFLICT (user_id, campaign_id, metric) DO UPDATE SET
                 events = rollup_totals.events + excluded.events,
                 leads = rollup_totals.leads + excluded.leads,
                 first_at = least(rollup_totals.first_at, excluded.first_at),
                 last_at = greatest(rollup_totals.last_at, excluded.last_at)",
            &[
                &totals.user,
                &totals.campaign,
                &totals.metric,
                &totals.events,
                &totals.leads,
                &totals.first,
                &totals.last,
            ],
        )?;
    }

    let (mut user, mut campaign, mut step, mut metric, mut events, mut leads) = (
        Vec::new(),
        Vec::new(),
        Vec::new(),
        Vec::new(),
        Vec::new(),
        Vec::new(),
    );
    for StepRow {
        user: u,
        campaign: c,
        step: s,
        metric: m,
        events: e,
        leads: l,
    } in drained.steps
    {
        user.push(id(&u)?);
        campaign.push(c);
        step.push(s.min(i32::MAX as u32) as i32);
        metric.push(m);
        events.push(e);
        leads.push(l);
    }
    if !user.is_empty() {
        db.execute(
            "INSERT INTO rollup_steps (user_id, campaign_id, step, metric, events, leads)
             SELECT * FROM unnest($1::uuid[], $2::text[], $3::int4[], $4::text[], $5::int8[], $6::int8[])
             ON CONFLICT (user_id, campaign_id, step, metric) DO UPDATE SET
                 events = rollup_steps.events + excluded.events,
                 leads = rollup_steps.leads + excluded.leads",
            &[&user, &campaign, &step, &metric, &events, &leads],
        )?;
    }
    Ok(())
}

/// The columns of hourly rows, as the arrays one statement takes.
#[derive(Default)]
struct HourArrays {
    user: Vec<Uuid>,
    campaign: Vec<String>,
    metric: Vec<&'static str>,
    hour: Vec<DateTime<Utc>>,
    events: Vec<i64>,
    new_leads: Vec<i64>,
    first: Vec<DateTime<Utc>>,
    last: Vec<DateTime<Utc>>,
}

#[derive(Default)]
struct TotalArrays {
    user: Vec<Uuid>,
    campaign: Vec<String>,
    metric: Vec<&'static str>,
    events: Vec<i64>,
    leads: Vec<i64>,
    first: Vec<DateTime<Utc>>,
    last: Vec<DateTime<Utc>>,
}

type Columns5 = (
    Vec<Uuid>,
    Vec<String>,
    Vec<&'static str>,
    Vec<DateTime<Utc>>,
    Vec<i64>,
);

const ROLLUP_TABLES: [&str; 4] = [
    "rollup_hourly",
    "rollup_daily",
    "rollup_totals",
    "rollup_steps",
];

/// Recomputes every rollup from the projected events (those not in the projector's queue, read
/// in the caller's transaction) into `recount_*` temporary tables (dropped at the end of the
/// transaction).
fn recount(client: &mut impl Sql) -> Result<(), StorageError> {
    let headline = headline_case_sql();
    let projected = "(SELECT * FROM email_events e
                      WHERE e.seq IS NULL
                         OR NOT EXISTS (SELECT 1 FROM projection_queue q
                                        WHERE q.user_id = e.user_id AND q.seq = e.seq)) AS email_events";
    let expanded = format!(
        "WITH typed AS (SELECT user_id, campaign_id, event_type AS metric, email, \"timestamp\" FROM {projected}
                        UNION ALL
                        SELECT user_id, campaign_id, {headline}, email, \"timestamp\" FROM {projected}
                        WHERE {headline} IS NOT NULL),
              expanded AS (SELECT user_id, campaign_id, metric, email, \"timestamp\" FROM typed
                           UNION ALL
                           SELECT user_id, '{ALL_CAMPAIGNS}', metric, email, \"timestamp\" FROM typed)"
    );
    client.batch(&format!(
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
                    count(*)::bigint AS events, count(DISTINCT email)::bigint AS leads
             FROM {projected} WHERE {headline} IS NOT NULL
             GROUP BY 1, 2, 3, 4;"
    ))?;
    Ok(())
}

/// Replaces the rollups with a recomputation. Run inside a transaction that has caught the
/// projector up (so that nothing queued is counted again later).
pub fn rebuild(client: &mut impl Sql) -> Result<(), StorageError> {
    recount(client)?;
    for table in ROLLUP_TABLES {
        client.batch(&format!(
            "DELETE FROM {table}; INSERT INTO {table} SELECT * FROM recount_{table};"
        ))?;
    }
    Ok(())
}

/// Rows that differ between each rollup table and a recomputation: (table, differing rows).
/// Run inside a transaction (the recount's tables go with it).
pub fn check(client: &mut impl Sql) -> Result<Vec<(&'static str, i64)>, StorageError> {
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
