//! Read queries behind the API. Every function takes the tenant first; none can return another
//! user's rows. Rollup reads touch a handful of rows; lists are keyset-paginated range scans.

use rusqlite::types::Value as SqlValue;
use rusqlite::{params, params_from_iter, Connection, OptionalExtension, Row};
use serde::Serialize;
use serde_json::value::RawValue;

use super::StorageError;
use crate::domain::{EventType, LeadId, UserId};

/// One metric's numbers in a scope: events, distinct leads, first and last event time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MetricRow {
    pub metric: String,
    pub events: i64,
    pub leads: i64,
    pub first_at: String,
    pub last_at: String,
}

fn metric_row(row: &Row<'_>) -> rusqlite::Result<MetricRow> {
    Ok(MetricRow {
        metric: row.get(0)?,
        events: row.get(1)?,
        leads: row.get(2)?,
        first_at: row.get(3)?,
        last_at: row.get(4)?,
    })
}

/// Whole hours `[from, to)` as rollup bucket starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HourRange {
    pub from: String,
    pub to: String,
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

/// Time-series granularity.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bucket {
    Hour,
    Day,
}

/// (bucket start, metric, events) for every non-empty bucket of `range`, in time order.
pub fn timeseries(
    conn: &Connection,
    user: UserId,
    scope: &str,
    bucket: Bucket,
    range: &HourRange,
) -> Result<Vec<(String, String, i64)>, StorageError> {
    let sql = match bucket {
        Bucket::Hour => {
            "SELECT hour, metric, events FROM rollup_hourly
             WHERE user_id = ?1 AND campaign_id = ?2 AND hour >= ?3 AND hour < ?4
             ORDER BY hour, metric"
        }
        Bucket::Day => {
            "SELECT day, metric, events FROM rollup_daily
             WHERE user_id = ?1 AND campaign_id = ?2 AND day >= ?3 AND day < ?4
             ORDER BY day, metric"
        }
    };
    let rows = conn
        .prepare_cached(sql)?
        .query_map(
            params![user.to_string(), scope, range.from, range.to],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )?
        .collect::<Result<_, _>>()?;
    Ok(rows)
}

/// A position in a list ordered by (time DESC, id DESC): the last row of the previous page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Keyset {
    pub at: String,
    pub id: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct LeadRow {
    pub id: String,
    pub email: String,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub company: Option<String>,
    pub smartlead_campaign_id: Option<String>,
    pub smartlead_category: Option<String>,
    pub last_email_event: Option<String>,
    pub last_event_timestamp: Option<String>,
}

#[derive(Debug, Clone, Default)]
pub struct LeadFilter {
    pub campaign_id: Option<String>,
    pub last_event: Option<EventType>,
}

/// SQL with its positional parameters, built from only the filters that are present, so the
/// planner can pick the index that matches them.
struct Query {
    sql: String,
    params: Vec<SqlValue>,
}

impl Query {
    /// `select` with `?1` bound to `first`.
    fn new(select: &str, first: String) -> Self {
        Self {
            sql: select.to_owned(),
            params: vec![SqlValue::Text(first)],
        }
    }

    /// Appends `condition`, whose first bare `?` stands for `value`; numbered parameters in it
    /// (`?1`, the user) keep their numbers.
    fn and(&mut self, condition: &str, value: impl Into<SqlValue>) {
        self.params.push(value.into());
        self.sql
            .push_str(&condition.replacen('?', &format!("?{}", self.params.len()), 1));
    }

    fn keyset(&mut self, time_column: &str, after: Option<&Keyset>) {
        if let Some(after) = after {
            self.params.push(after.at.clone().into());
            self.params.push(after.id.clone().into());
            let (t, i) = (self.params.len() - 1, self.params.len());
            self.sql.push_str(&format!(
                " AND ({time_column} < ?{t} OR ({time_column} = ?{t} AND id < ?{i}))"
            ));
        }
    }

    fn finish(mut self, time_column: &str, limit: usize) -> Self {
        self.params.push((limit as i64).into());
        self.sql.push_str(&format!(
            " ORDER BY {time_column} DESC, id DESC LIMIT ?{}",
            self.params.len()
        ));
        self
    }
}

fn leads_query(user: UserId, filter: &LeadFilter, after: Option<&Keyset>, limit: usize) -> Query {
    let mut query = Query::new(
        "SELECT id, email, first_name, last_name, company, smartlead_campaign_id, smartlead_category,
                last_email_event, last_event_timestamp
         FROM leads WHERE user_id = ?1 AND last_event_timestamp IS NOT NULL",
        user.to_string(),
    );
    if let Some(campaign) = &filter.campaign_id {
        query.and(" AND smartlead_campaign_id = ?", campaign.clone());
    }
    if let Some(event_type) = filter.last_event {
        query.and(" AND last_email_event = ?", event_type.as_str().to_owned());
    }
    query.keyset("last_event_timestamp", after);
    query.finish("last_event_timestamp", limit)
}

/// The user's leads with email activity, newest activity first.
pub fn leads(
    conn: &Connection,
    user: UserId,
    filter: &LeadFilter,
    after: Option<&Keyset>,
    limit: usize,
) -> Result<Vec<LeadRow>, StorageError> {
    let query = leads_query(user, filter, after, limit);
    let rows = conn
        .prepare_cached(&query.sql)?
        .query_map(params_from_iter(query.params), |r| {
            Ok(LeadRow {
                id: r.get(0)?,
                email: r.get(1)?,
                first_name: r.get(2)?,
                last_name: r.get(3)?,
                company: r.get(4)?,
                smartlead_campaign_id: r.get(5)?,
                smartlead_category: r.get(6)?,
                last_email_event: r.get(7)?,
                last_event_timestamp: r.get(8)?,
            })
        })?
        .collect::<Result<_, _>>()?;
    Ok(rows)
}

#[derive(Debug, Clone, Serialize)]
pub struct EventRow {
    pub id: String,
    pub event_type: String,
    pub timestamp: String,
    pub campaign_id: String,
    pub message_id: String,
    pub email: String,
    pub lead_id: Option<String>,
    /// The stored JSON, passed through as is: no parse into a tree and serialize back.
    pub event_data: Box<RawValue>,
}

const EVENT_COLUMNS: &str =
    "SELECT id, event_type, timestamp, campaign_id, message_id, email, lead_id, event_data
                             FROM email_events";

/// The `event_data` bytes one page of events may carry. Rows are capped by `limit`, but one
/// event may hold megabytes (a category update with a whole thread): 32 such events made a
/// 134 MB answer. A page ends early once it holds this much (always with at least one event,
/// so the list moves on), and says that more follow.
pub const PAGE_DATA_BYTES: usize = 1024 * 1024;

/// A page of events, and whether more follow (its last row is then the next cursor).
pub struct EventPage {
    pub events: Vec<EventRow>,
    pub more: bool,
}

/// Reads at most `limit` rows of `query` (which must select `limit + 1`), and no more rows once
/// [`PAGE_DATA_BYTES`] of event data are held, so that memory stays bounded as well.
fn event_rows(conn: &Connection, query: Query, limit: usize) -> Result<EventPage, StorageError> {
    let mut statement = conn.prepare_cached(&query.sql)?;
    let mut rows = statement.query(params_from_iter(query.params))?;
    let (mut events, mut data_bytes) = (Vec::new(), 0);
    while let Some(row) = rows.next()? {
        if events.len() == limit || data_bytes >= PAGE_DATA_BYTES {
            return Ok(EventPage { events, more: true });
        }
        let data: String = row.get(7)?;
        data_bytes += data.len();
        events.push(EventRow {
            id: row.get(0)?,
            event_type: row.get(1)?,
            timestamp: row.get(2)?,
            campaign_id: row.get(3)?,
            message_id: row.get(4)?,
            email: row.get(5)?,
            lead_id: row.get(6)?,
            // The column's CHECK (json_valid) makes a failure here a corrupted file, not input.
            event_data: RawValue::from_string(data).map_err(|e| {
                rusqlite::Error::FromSqlConversionFailure(
                    7,
                    rusqlite::types::Type::Text,
                    Box::new(e),
                )
            })?,
        });
    }
    Ok(EventPage {
        events,
        more: false,
    })
}

fn lead_events_query(lead: LeadId, after: Option<&Keyset>, limit: usize) -> Query {
    // Ownership is checked before this runs; filtering on the lead alone lets the planner walk
    // idx_email_events_lead_timestamp in order.
    let mut query = Query::new(
        &format!("{EVENT_COLUMNS} WHERE lead_id = ?1"),
        lead.to_string(),
    );
    query.keyset("timestamp", after);
    query.finish("timestamp", limit + 1)
}

/// A page of a lead's events, newest first; `None` when the lead is not the user's.
pub fn lead_events(
    conn: &Connection,
    user: UserId,
    lead: LeadId,
    after: Option<&Keyset>,
    limit: usize,
) -> Result<Option<EventPage>, StorageError> {
    let owned = conn
        .prepare_cached("SELECT 1 FROM leads WHERE id = ?1 AND user_id = ?2")?
        .query_row(params![lead.to_string(), user.to_string()], |_| Ok(()))
        .optional()?;
    if owned.is_none() {
        return Ok(None);
    }
    event_rows(conn, lead_events_query(lead, after, limit), limit).map(Some)
}

#[derive(Debug, Clone, Default)]
pub struct EventFilter {
    pub email: Option<String>,
    pub event_type: Option<EventType>,
    pub campaign_id: Option<String>,
    pub from: Option<String>,
    pub to: Option<String>,
}

fn search_query(user: UserId, filter: &EventFilter, after: Option<&Keyset>, limit: usize) -> Query {
    // A lead has a few dozen events, a user millions: with an address, the lead's index must
    // drive the scan, so the unary `+` keeps the planner off the user's (it cannot know the
    // subquery's lead has few rows).
    let user_scope = if filter.email.is_some() {
        "+user_id = ?1"
    } else {
        "user_id = ?1"
    };
    let mut query = Query::new(
        &format!("{EVENT_COLUMNS} WHERE {user_scope}"),
        user.to_string(),
    );
    if let Some(email) = &filter.email {
        // Through the lead: its (user_id, email) key, then idx_email_events_lead_timestamp
        // (migration 006 says why there is no index on the address itself).
        query.and(
            " AND lead_id = (SELECT id FROM leads WHERE email = ? AND user_id = ?1)",
            email.clone(),
        );
    }
    if let Some(event_type) = filter.event_type {
        query.and(" AND event_type = ?", event_type.as_str().to_owned());
    }
    if let Some(campaign) = &filter.campaign_id {
        query.and(" AND campaign_id = ?", campaign.clone());
    }
    if let Some(from) = &filter.from {
        query.and(" AND timestamp >= ?", from.clone());
    }
    if let Some(to) = &filter.to {
        query.and(" AND timestamp < ?", to.clone());
    }
    query.keyset("timestamp", after);
    query.finish("timestamp", limit)
}

/// The user's events matching every given filter, newest first.
pub fn search_events(
    conn: &Connection,
    user: UserId,
    filter: &EventFilter,
    after: Option<&Keyset>,
    limit: usize,
) -> Result<EventPage, StorageError> {
    event_rows(conn, search_query(user, filter, after, limit + 1), limit)
}

/// The query plans of the statements `lead_events` and `search_events` run, so that tests and
/// benchmarks can check that they stay index range scans.
pub mod plans {
    use super::*;

    fn plan(conn: &Connection, query: Query) -> Result<Vec<String>, StorageError> {
        explain(conn, &query.sql, params_from_iter(query.params))
    }

    /// The plan SQLite picks for `sql`, one line per step.
    pub(crate) fn explain(
        conn: &Connection,
        sql: &str,
        params: impl rusqlite::Params,
    ) -> Result<Vec<String>, StorageError> {
        let mut stmt = conn.prepare(&format!("EXPLAIN QUERY PLAN {sql}"))?;
        let rows = stmt.query_map(params, |row| row.get::<_, String>(3))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    pub fn lead_events(
        conn: &Connection,
        lead: LeadId,
        after: Option<&Keyset>,
    ) -> Result<Vec<String>, StorageError> {
        plan(conn, lead_events_query(lead, after, 10))
    }

    pub fn search_events(
        conn: &Connection,
        user: UserId,
        filter: &EventFilter,
        after: Option<&Keyset>,
    ) -> Result<Vec<String>, StorageError> {
        plan(conn, search_query(user, filter, after, 50))
    }

    pub fn leads(
        conn: &Connection,
        user: UserId,
        filter: &LeadFilter,
    ) -> Result<Vec<String>, StorageError> {
        plan(conn, leads_query(user, filter, None, 50))
    }
}
