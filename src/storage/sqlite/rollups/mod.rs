//! Analytics rollups on SQLite: maintained by the projector (`projection.rs`; the arithmetic,
//! shared by every backend, is in `storage/rollup_counts.rs`), and recomputable from
//! `email_event_rows` (rebuild) or comparable with a recomputation at the watermark (check).
//!
//! Each event counts towards up to four rows of each rollup table: its campaign and the
//! user-wide scope (`campaign_id = ''`), each for its normalized type and its headline kind.

mod pending;

pub use pending::flush;
use rusqlite::Connection;

use super::StorageError;
use crate::storage::rollup_counts::headline_case_sql;
pub use crate::storage::rollup_counts::ALL_CAMPAIGNS;

const ROLLUP_TABLES: [&str; 4] = [
    "rollup_hourly",
    "rollup_daily",
    "rollup_totals",
    "rollup_steps",
];

/// Recomputes all three rollups from the projected events (those at or below the watermark, read
/// in the caller's transaction) into `temp.recount_*` tables.
fn recount(conn: &Connection) -> Result<(), StorageError> {
    let headline = headline_case_sql();
    let through = super::projection::watermark(conn)?;
    let projected = format!(
        "(SELECT {} AS user_id, campaign_id, event_type, email, timestamp, sequence_step
          FROM email_event_rows WHERE seq IS NULL OR seq <= {through}) AS email_events",
        super::keys::user_id_of("email_event_rows")
    );
    let expanded = format!(
        "WITH typed AS (SELECT user_id, campaign_id, event_type AS metric, email, timestamp FROM {projected}
                        UNION ALL
                        SELECT user_id, campaign_id, {headline}, email, timestamp FROM {projected}
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
                    count(*) AS events, count(DISTINCT email) AS leads
             FROM {projected} WHERE {headline} IS NOT NULL
             GROUP BY user_id, campaign_id, step, metric;"
    ))?;
    Ok(())
}

/// Replaces the rollups with a recomputation from the stored events. Run inside a write
/// transaction: the projector is caught up first (leads' activity included), so the recount
/// covers every event and nothing is left above the watermark to be counted again.
pub fn rebuild(conn: &Connection) -> Result<(), StorageError> {
    super::projection::catch_up(conn)?;
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
