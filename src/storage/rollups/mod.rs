//! Analytics rollups: maintained inside the ingest transaction (first-seen rows per event, the
//! counts summed per batch, see [`PendingCounts`]), and recomputable from `email_events`
//! (rebuild) or comparable with a recomputation (check).
//!
//! Each event counts towards up to four rows of each rollup table: its campaign and the
//! user-wide scope (`campaign_id = ''`), each for its normalized type and its headline kind.

mod pending;

pub use pending::PendingCounts;
use rusqlite::{params, Connection, OptionalExtension};

use super::StorageError;
use crate::domain::{CampaignId, EmailAddress, EventType, Headline, UserId, UtcTimestamp};

/// The campaign value of the user-wide scope.
pub const ALL_CAMPAIGNS: &str = "";

/// The start of the hour an instant falls in, as stored in `rollup_hourly.hour`.
pub fn hour_bucket(at: &str) -> String {
    format!("{}:00:00.000Z", &at[..13])
}

/// The start of the day an instant falls in, as stored in `rollup_daily.day`.
pub fn day_bucket(at: &str) -> String {
    format!("{}T00:00:00.000Z", &at[..10])
}

/// The metrics an event of this type counts towards.
fn metrics(event_type: EventType) -> impl Iterator<Item = &'static str> {
    std::iter::once(event_type.as_str()).chain(event_type.headline().map(Headline::as_str))
}

/// Counts one newly stored event: its first-seen rows now, its counts into `counts` (written
/// by [`PendingCounts::flush`] before the transaction commits).
pub fn record_event(
    conn: &Connection,
    counts: &mut PendingCounts,
    user: UserId,
    campaign: &CampaignId,
    event_type: EventType,
    email: &EmailAddress,
    at: UtcTimestamp,
) -> Result<(), StorageError> {
    let user = user.to_string();
    let at = at.to_string();
    for metric in metrics(event_type) {
        let in_campaign =
            note_lead_first(conn, &user, campaign.as_str(), metric, email.as_str(), &at)?;
        // The user-wide first time is the earliest over all campaigns, so a lead this campaign
        // has seen before is not new user-wide either: that lookup is skipped for most events.
        let user_wide = match in_campaign {
            FirstSeen::Before => FirstSeen::Before,
            _ => note_lead_first(conn, &user, ALL_CAMPAIGNS, metric, email.as_str(), &at)?,
        };
        for (scope, first) in [(campaign.as_str(), in_campaign), (ALL_CAMPAIGNS, user_wide)] {
            let key = (user.clone(), scope.to_owned(), metric);
            if let FirstSeen::Earlier { previous } = &first {
                // The lead's first time moved back: its first-time count moves with it.
                counts.move_first_from(key.clone(), previous);
            }
            counts.count(
                key,
                &at,
                first != FirstSeen::Before,
                first == FirstSeen::New,
            );
        }
    }
    Ok(())
}

#[derive(Debug, PartialEq, Eq)]
enum FirstSeen {
    /// The lead's first event of this metric.
    New,
    /// Earlier than the first one seen so far (events arrive in any order).
    Earlier { previous: String },
    /// The lead had this metric before.
    Before,
}

fn note_lead_first(
    conn: &Connection,
    user: &str,
    scope: &str,
    metric: &str,
    email: &str,
    at: &str,
) -> Result<FirstSeen, StorageError> {
    let previous: Option<String> = conn
        .prepare_cached(
            "SELECT first_at FROM rollup_lead_firsts
             WHERE user_id = ?1 AND campaign_id = ?2 AND metric = ?3 AND email = ?4",
        )?
        .query_row(params![user, scope, metric, email], |row| row.get(0))
        .optional()?;
    match previous {
        None => {
            conn.prepare_cached(
                "INSERT INTO rollup_lead_firsts (user_id, campaign_id, metric, email, first_at) VALUES (?1, ?2, ?3, ?4, ?5)",
            )?
            .execute(params![user, scope, metric, email, at])?;
            Ok(FirstSeen::New)
        }
        Some(previous) if at < previous.as_str() => {
            conn.prepare_cached(
                "UPDATE rollup_lead_firsts SET first_at = ?5
                 WHERE user_id = ?1 AND campaign_id = ?2 AND metric = ?3 AND email = ?4",
            )?
            .execute(params![user, scope, metric, email, at])?;
            Ok(FirstSeen::Earlier { previous })
        }
        Some(_) => Ok(FirstSeen::Before),
    }
}

const ROLLUP_TABLES: [&str; 4] = [
    "rollup_hourly",
    "rollup_daily",
    "rollup_totals",
    "rollup_lead_firsts",
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

/// Recomputes all three rollups from `email_events` into `temp.recount_*` tables.
fn recount(conn: &Connection) -> Result<(), StorageError> {
    let headline = headline_case();
    let expanded = format!(
        "WITH typed AS (SELECT user_id, campaign_id, event_type AS metric, email, timestamp FROM email_events
                        UNION ALL
                        SELECT user_id, campaign_id, {headline}, email, timestamp FROM email_events
                        WHERE {headline} IS NOT NULL),
              expanded AS (SELECT user_id, campaign_id, metric, email, timestamp FROM typed
                           UNION ALL
                           SELECT user_id, '{ALL_CAMPAIGNS}', metric, email, timestamp FROM typed)"
    );
    conn.execute_batch(&format!(
        "DROP TABLE IF EXISTS temp.recount_rollup_hourly;
         DROP TABLE IF EXISTS temp.recount_rollup_totals;
         DROP TABLE IF EXISTS temp.recount_rollup_lead_firsts;
         DROP TABLE IF EXISTS temp.recount_rollup_daily;
         CREATE TEMP TABLE recount_rollup_lead_firsts AS
             {expanded}
             SELECT user_id, campaign_id, metric, email, min(timestamp) AS first_at
             FROM expanded GROUP BY user_id, campaign_id, metric, email;
         CREATE TEMP TABLE recount_rollup_hourly AS
             {expanded},
             firsts AS (SELECT user_id, campaign_id, metric, substr(first_at, 1, 13) || ':00:00.000Z' AS hour,
                               count(*) AS n
                        FROM temp.recount_rollup_lead_firsts GROUP BY user_id, campaign_id, metric, hour),
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
             FROM temp.recount_rollup_hourly GROUP BY user_id, campaign_id, metric, day;"
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
    Ok(())
}
