//! The numbers: metrics of a campaign or of all the user's campaigns, all-time (rollup totals)
//! or per range and bucket (hourly and daily rollups). A handful of rows each.

use std::sync::LazyLock;

use rusqlite::{params, Connection, OptionalExtension, Row};

use super::super::StorageError;
use crate::domain::UserId;
use crate::storage::records::{Bucket, HourRange, MetricRow, StepCount};
use crate::storage::rollup_counts::every_metric_sql;

fn metric_row(row: &Row<'_>) -> rusqlite::Result<MetricRow> {
    Ok(MetricRow {
        metric: row.get(0)?,
        events: row.get(1)?,
        leads: row.get(2)?,
        first_at: row.get(3)?,
        last_at: row.get(4)?,
    })
}

/// Every metric of a scope (a campaign id, or `rollups::ALL_CAMPAIGNS`): all-time from the
/// totals, or summed over the hours of `range`. In a range, `leads` counts the leads whose first
/// event of that metric falls inside it.
pub fn scope_metrics(
    conn: &Connection,
    user: UserId,
    scope: &str,
    range: Option<&HourRange>,
) -> Result<Vec<MetricRow>, StorageError> {
    let user = user.to_string();
    let rows = match range {
        None => conn
            .prepare_cached(
                "SELECT metric, events, leads, first_at, last_at FROM rollup_totals
                 WHERE user_id = ?1 AND campaign_id = ?2",
            )?
            .query_map(params![user, scope], metric_row)?
            .collect::<Result<_, _>>()?,
        Some(range) => conn
            .prepare_cached(
                "SELECT metric, sum(events), sum(new_leads), min(first_at), max(last_at) FROM rollup_hourly
                 WHERE user_id = ?1 AND campaign_id = ?2 AND hour >= ?3 AND hour < ?4
                 GROUP BY metric",
            )?
            .query_map(params![user, scope, range.from, range.to], metric_row)?
            .collect::<Result<_, _>>()?,
    };
    Ok(rows)
}

/// True when the user has any event in this campaign.
pub fn campaign_exists(
    conn: &Connection,
    user: UserId,
    campaign: &str,
) -> Result<bool, StorageError> {
    Ok(conn
        .prepare_cached(
            "SELECT 1 FROM rollup_totals WHERE user_id = ?1 AND campaign_id = ?2 LIMIT 1",
        )?
        .query_row(params![user.to_string(), campaign], |_| Ok(()))
        .optional()?
        .is_some())
}

/// Campaign ids of the user after `after`, in order, with their all-time metrics.
pub fn campaigns(
    conn: &Connection,
    user: UserId,
    after: Option<&str>,
    limit: usize,
) -> Result<Vec<(String, Vec<MetricRow>)>, StorageError> {
    let mut stmt = conn.prepare_cached(
        "SELECT campaign_id, metric, events, leads, first_at, last_at FROM rollup_totals
         WHERE user_id = ?1 AND campaign_id IN (
             SELECT DISTINCT campaign_id FROM rollup_totals
             WHERE user_id = ?1 AND campaign_id > ?2 ORDER BY campaign_id LIMIT ?3)
         ORDER BY campaign_id, metric",
    )?;
    // `> ''` also skips the user-wide scope row.
    let rows = stmt.query_map(
        params![user.to_string(), after.unwrap_or(""), limit as i64],
        |row| {
            Ok((
                row.get::<_, String>(0)?,
                MetricRow {
                    metric: row.get(1)?,
                    events: row.get(2)?,
                    leads: row.get(3)?,
                    first_at: row.get(4)?,
                    last_at: row.get(5)?,
                },
            ))
        },
    )?;
    let mut campaigns: Vec<(String, Vec<MetricRow>)> = Vec::new();
    for row in rows {
        let (campaign, metric) = row?;
        match campaigns.last_mut() {
            Some((last, metrics)) if *last == campaign => metrics.push(metric),
            _ => campaigns.push((campaign, vec![metric])),
        }
    }
    Ok(campaigns)
}

/// The hourly and daily series statements. Each names every metric, so that the read seeks each
/// metric's hours in the rollup key (user, scope, metric, hour) instead of reading every hour the
/// scope ever had: 14 ms → 1 ms for two days of a user with six months of hours (BENCHMARKS.md).
static HOURLY_SQL: LazyLock<String> = LazyLock::new(|| series_sql("rollup_hourly", "hour"));
static DAILY_SQL: LazyLock<String> = LazyLock::new(|| series_sql("rollup_daily", "day"));

fn series_sql(table: &str, at: &str) -> String {
    format!(
        "SELECT {at}, metric, events FROM {table}
         WHERE user_id = ?1 AND campaign_id = ?2 AND metric IN {} AND {at} >= ?3 AND {at} < ?4
         ORDER BY {at}, metric",
        every_metric_sql()
    )
}

pub(super) fn series_statement(bucket: Bucket) -> &'static str {
    match bucket {
        Bucket::Hour => &HOURLY_SQL,
        Bucket::Day => &DAILY_SQL,
    }
}

/// (bucket start, metric, events) for every non-empty bucket of `range`, in time order.
pub fn timeseries(
    conn: &Connection,
    user: UserId,
    scope: &str,
    bucket: Bucket,
    range: &HourRange,
) -> Result<Vec<(String, String, i64)>, StorageError> {
    let rows = conn
        .prepare_cached(series_statement(bucket))?
        .query_map(
            params![user.to_string(), scope, range.from, range.to],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )?
        .collect::<Result<_, _>>()?;
    Ok(rows)
}

/// Events per sequence step and headline kind of one campaign, from `rollup_steps`.
pub fn campaign_steps(
    conn: &Connection,
    user: UserId,
    campaign: &str,
) -> Result<Vec<StepCount>, StorageError> {
    let rows = conn
        .prepare_cached(
            "SELECT step, metric, events, leads FROM rollup_steps
             WHERE user_id = ?1 AND campaign_id = ?2 ORDER BY step, metric",
        )?
        .query_map(params![user.to_string(), campaign], |row| {
            Ok(StepCount {
                step: row.get(0)?,
                metric: row.get(1)?,
                events: row.get(2)?,
                leads: row.get(3)?,
            })
        })?
        .collect::<Result<_, _>>()?;
    Ok(rows)
}
