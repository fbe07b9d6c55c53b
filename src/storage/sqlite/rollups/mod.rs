//! Analytics rollups on SQLite: maintained inside the ingest transaction (the arithmetic, shared
//! by every backend, is in `storage/rollup_counts.rs`; whether a lead is new to a metric read from its stored events), and
//! recomputable from `email_events` (rebuild) or comparable with a recomputation (check).
//!
//! Each event counts towards up to four rows of each rollup table: its campaign and the
//! user-wide scope (`campaign_id = ''`), each for its normalized type and its headline kind.

mod pending;

pub use pending::flush;
use rusqlite::{Connection, Row};

use super::StorageError;
use crate::domain::{CampaignId, EventType, UserId, UtcTimestamp};
pub use crate::storage::rollup_counts::ALL_CAMPAIGNS;
use crate::storage::rollup_counts::{headline_case_sql, metrics, Instant, PendingCounts};

/// Counts one event about to be stored for `lead`: its counts into `counts` (written by
/// [`flush`] before the transaction commits). Runs before the event's own row is
/// inserted, because whether the lead is new to a metric is read from its events stored so far.
pub fn record_event(
    conn: &Connection,
    counts: &mut PendingCounts,
    user: UserId,
    lead: &str,
    campaign: &CampaignId,
    event_type: EventType,
    at: UtcTimestamp,
) -> Result<(), StorageError> {
    let user = user.to_string();
    let instant = Instant::of(at);
    for earliest in earliest_before(conn, lead, campaign, event_type)? {
        for (scope, previous) in [
            (campaign.as_str(), earliest.in_campaign),
            (ALL_CAMPAIGNS, earliest.user_wide),
        ] {
            let key = (user.clone(), scope.to_owned(), earliest.metric);
            counts.record(key, &instant, previous.as_deref())?;
        }
    }
    Ok(())
}

/// When a lead first had one metric, among its events stored so far.
struct Earliest {
    metric: &'static str,
    in_campaign: Option<String>,
    user_wide: Option<String>,
}

const EARLIEST_SQL: &str = "SELECT campaign_id, event_type, timestamp FROM email_events
                            WHERE lead_id = ?1 ORDER BY timestamp";

/// The query plan of the first-seen walk, so that tests can check it stays on one lead's
/// index entries.
pub fn first_seen_plan(conn: &Connection) -> Result<Vec<String>, StorageError> {
    super::analytics::plans::explain(conn, EARLIEST_SQL, ["lead"])
}

/// The lead's earliest stored event of each metric `event_type` counts towards, in `campaign`
/// and in any campaign. Every email event is stored with the lead of its address, so the
/// lead's events are the address's; idx_email_events_lead_timestamp carries the campaign and
/// type, so this walks one lead's index entries, oldest first, on the page the new event's
/// entry is about to dirty anyway, and stops once every answer is known.
fn earliest_before(
    conn: &Connection,
    lead: &str,
    campaign: &CampaignId,
    event_type: EventType,
) -> Result<Vec<Earliest>, StorageError> {
    let mut found: Vec<Earliest> = metrics(event_type)
        .map(|metric| Earliest {
            metric,
            in_campaign: None,
            user_wide: None,
        })
        .collect();
    let mut stmt = conn.prepare_cached(EARLIEST_SQL)?;
    let mut rows = stmt.query([lead])?;
    // The first match in time order is the earliest, and a campaign's earliest is never
    // earlier than the user-wide one: once every campaign answer is in, all are.
    while found.iter().any(|e| e.in_campaign.is_none()) {
        let Some(row) = rows.next()? else { break };
        let (stored_campaign, stored_type, at) = stored_event(row)?;
        let same_campaign = stored_campaign == campaign.as_str();
        for earliest in found.iter_mut() {
            if !metrics(stored_type).any(|m| m == earliest.metric) {
                continue;
            }
            earliest.user_wide.get_or_insert_with(|| at.to_owned());
            if same_campaign {
                earliest.in_campaign.get_or_insert_with(|| at.to_owned());
            }
        }
    }
    Ok(found)
}

/// (campaign, type, time) of a row of [`earliest_before`]'s query, borrowed from the row.
fn stored_event<'a>(row: &'a Row) -> rusqlite::Result<(&'a str, EventType, &'a str)> {
    let event_type = row.get_ref(1)?.as_str()?;
    // The column's CHECK admits only these names: a failure here is a corrupted file.
    let event_type = event_type.parse().map_err(|e| {
        rusqlite::Error::FromSqlConversionFailure(1, rusqlite::types::Type::Text, Box::new(e))
    })?;
    Ok((
        row.get_ref(0)?.as_str()?,
        event_type,
        row.get_ref(2)?.as_str()?,
    ))
}

const ROLLUP_TABLES: [&str; 4] = [
    "rollup_hourly",
    "rollup_daily",
    "rollup_totals",
    "rollup_steps",
];

/// Recomputes all three rollups from `email_events` into `temp.recount_*` tables.
fn recount(conn: &Connection) -> Result<(), StorageError> {
    let headline = headline_case_sql();
    let expanded = format!(
        "WITH typed AS (SELECT user_id, campaign_id, event_type AS metric, email, timestamp FROM email_events
                        UNION ALL
                        SELECT user_id, campaign_id, {headline}, email, timestamp FROM email_events
                        WHERE {headline} IS NOT NULL),
              expanded AS (SELECT user_id, campaign_id, metric, email, timestamp FROM typed
                           UNION ALL
                           SELECT user_id, '{ALL_CAMPAIGNS}', metric, email, timestamp FROM typed)"
    );
    // Leftovers of an earlier recount on this connection that failed half way.
    drop_recount(conn)?;
    conn.execute_batch(&format!(
        "CREATE TEMP TABLE recount_lead_firsts AS
             {expanded}
             SELECT user_id, campaign_id, metric, email, min(timestamp) AS first_at
             FROM expanded GROUP BY user_id, campaign_id, metric, email;
         CREATE TEMP TABLE recount_rollup_hourly AS
             {expanded},
             firsts AS (SELECT user_id, campaign_id, metric, substr(first_at, 1, 13) || ':00:00.000Z' AS hour,
                               count(*) AS n
                        FROM temp.recount_lead_firsts GROUP BY user_id, campaign_id, metric, hour),
             hours AS (SELECT user_id, campaign_id, metric, substr(timestamp, 1, 13) || ':00:00.000Z' AS hour,
                              count(*) AS events, min(timestamp) AS first_at, max(timestamp) AS last_at
                       FROM expanded GROUP BY user_id, campaign_id, metric, hour)
             SELECT h.user_id, h.campaign_id, h.metric, h.hour, h.events, COALESCE(f.n, 0) AS new_leads,
                    h.first_at, h.last_at
             FROM hours h LEFT JOIN firsts f
               ON f.user_id = h.user_id AND f.campaign_id = h.campaign_id AND f.metric = h.metric AND f.hour = h.hour;
         CREATE TEMP TABLE recount_rollup_totals AS
             SELECT user_id, campaign_id, metric, sum(events) AS events, sum(new_leads) AS leads,
                    min(first_at) AS first_at, max(last_at) AS last_at
             FROM temp.recount_rollup_hourly GROUP BY user_id, campaign_id, metric;
         CREATE TEMP TABLE recount_rollup_daily AS
             SELECT user_id, campaign_id, metric, substr(hour, 1, 10) || 'T00:00:00.000Z' AS day, sum(events) AS events
             FROM temp.recount_rollup_hourly GROUP BY user_id, campaign_id, metric, day;
         CREATE TEMP TABLE recount_rollup_steps AS
             SELECT user_id, campaign_id, COALESCE(sequence_step, 1) AS step, {headline} AS metric,
                    count(*) AS events
             FROM email_events WHERE {headline} IS NOT NULL
             GROUP BY user_id, campaign_id, step, metric;"
    ))?;
    Ok(())
}

/// Replaces the rollups with a recomputation from `email_events`. Run inside a transaction.
pub fn rebuild(conn: &Connection) -> Result<(), StorageError> {
    recount(conn)?;
    for table in ROLLUP_TABLES {
        conn.execute_batch(&format!(
            "DELETE FROM {table}; INSERT INTO {table} SELECT * FROM temp.recount_{table};"
        ))?;
    }
    drop_recount(conn)
}

/// Rows that differ between each rollup table and a recomputation: (table, differing rows).
pub fn check(conn: &Connection) -> Result<Vec<(&'static str, i64)>, StorageError> {
    recount(conn)?;
    let mut differences = Vec::new();
    for table in ROLLUP_TABLES {
        let differing: i64 = conn.query_row(
            &format!(
                "SELECT (SELECT count(*) FROM (SELECT * FROM {table} EXCEPT SELECT * FROM temp.recount_{table}))
                      + (SELECT count(*) FROM (SELECT * FROM temp.recount_{table} EXCEPT SELECT * FROM {table}))"
            ),
            [],
            |row| row.get(0),
        )?;
        if differing > 0 {
            differences.push((table, differing));
        }
    }
    drop_recount(conn)?;
    Ok(differences)
}

fn drop_recount(conn: &Connection) -> Result<(), StorageError> {
    for table in ROLLUP_TABLES {
        conn.execute_batch(&format!("DROP TABLE IF EXISTS temp.recount_{table}"))?;
    }
    conn.execute_batch("DROP TABLE IF EXISTS temp.recount_lead_firsts")?;
    Ok(())
}
