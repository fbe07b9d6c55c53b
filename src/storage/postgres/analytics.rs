//! Read queries behind the API, on PostgreSQL: rollup reads of a handful of rows, and
//! keyset-paginated range scans bounded in rows and bytes. Every function takes the tenant
//! first; none can return another user's rows.

use std::collections::HashMap;
use std::sync::LazyLock;

use postgres::Row;
use serde_json::value::RawValue;
use uuid::Uuid;

use super::query::Query;
use super::session::Sql;
use super::values::{clean, id_text, text, text_opt, time};
use super::StorageError;
use crate::domain::{LeadId, UserId};
use crate::storage::records::SearchReach;
use crate::storage::records::PAGE_DATA_BYTES;
use crate::storage::records::{Bucket, EventFilter, EventPage, EventRow, HourRange, KeptEvent};
use crate::storage::records::{Keyset, LeadFilter, LeadNameRow, LeadRow, MetricRow, StepCount};
use crate::storage::rollup_counts::every_metric_sql;

fn metric_row(row: &Row) -> MetricRow {
    MetricRow {
        metric: row.get(0),
        events: row.get(1),
        leads: row.get(2),
        first_at: text(row.get(3)),
        last_at: text(row.get(4)),
    }
}

pub fn scope_metrics(
    client: &mut impl Sql,
    user: UserId,
    scope: &str,
    range: Option<&HourRange>,
) -> Result<Vec<MetricRow>, StorageError> {
    let rows = match range {
        None => client.query(
            "SELECT metric, events, leads, first_at, last_at FROM rollup_totals
             WHERE user_id = $1 AND campaign_id = $2 ORDER BY metric",
            &[&user.as_uuid(), &scope],
        )?,
        Some(range) => client.query(
            "SELECT metric, sum(events)::bigint, sum(new_leads)::bigint, min(first_at), max(last_at)
             FROM rollup_hourly
             WHERE user_id = $1 AND campaign_id = $2 AND hour >= $3 AND hour < $4
             GROUP BY metric ORDER BY metric",
            &[&user.as_uuid(), &scope, &time(&range.from)?, &time(&range.to)?],
        )?,
    };
    Ok(rows.iter().map(metric_row).collect())
}

pub fn campaign_exists(
    client: &mut impl Sql,
    user: UserId,
    campaign: &str,
) -> Result<bool, StorageError> {
    Ok(client
        .query_opt(
            "SELECT 1 FROM rollup_totals WHERE user_id = $1 AND campaign_id = $2 LIMIT 1",
            &[&user.as_uuid(), &campaign],
        )?
        .is_some())
}

pub fn campaigns(
    client: &mut impl Sql,
    user: UserId,
    after: Option<&str>,
    limit: usize,
) -> Result<Vec<(String, Vec<MetricRow>)>, StorageError> {
    // `> ''` also skips the user-wide scope row.
    let rows = client.query(
        "SELECT campaign_id, metric, events, leads, first_at, last_at FROM rollup_totals
         WHERE user_id = $1 AND campaign_id IN (
             SELECT DISTINCT campaign_id FROM rollup_totals
             WHERE user_id = $1 AND campaign_id > $2 ORDER BY campaign_id LIMIT $3)
         ORDER BY campaign_id, metric",
        &[
            &user.as_uuid(),
            &clean(after.unwrap_or("")).as_ref(),
            &(limit as i64),
        ],
    )?;
    let mut campaigns: Vec<(String, Vec<MetricRow>)> = Vec::new();
    for row in &rows {
        let campaign: String = row.get(0);
        let metric = MetricRow {
            metric: row.get(1),
            events: row.get(2),
            leads: row.get(3),
            first_at: text(row.get(4)),
            last_at: text(row.get(5)),
        };
        match campaigns.last_mut() {
            Some((last, metrics)) if *last == campaign => metrics.push(metric),
            _ => campaigns.push((campaign, vec![metric])),
        }
    }
    Ok(campaigns)
}

/// The hourly and daily series statements, naming every metric so that the read seeks each
/// metric's range of the rollup key (as SQLite's do).
static HOURLY_SQL: LazyLock<String> = LazyLock::new(|| series_sql("rollup_hourly", "hour"));
static DAILY_SQL: LazyLock<String> = LazyLock::new(|| series_sql("rollup_daily", "day"));

fn series_sql(table: &str, at: &str) -> String {
    format!(
        "SELECT {at}, metric, events FROM {table}
         WHERE user_id = $1 AND campaign_id = $2 AND metric IN {} AND {at} >= $3 AND {at} < $4
         ORDER BY {at}, metric",
        every_metric_sql()
    )
}

pub fn timeseries(
    client: &mut impl Sql,
    user: UserId,
    scope: &str,
    bucket: Bucket,
    range: &HourRange,
) -> Result<Vec<(String, String, i64)>, StorageError> {
    let sql = match bucket {
        Bucket::Hour => &*HOURLY_SQL,
        Bucket::Day => &*DAILY_SQL,
    };
    let rows = client.query(
        sql,
        &[
            &user.as_uuid(),
            &scope,
            &time(&range.from)?,
            &time(&range.to)?,
        ],
    )?;
    Ok(rows
        .iter()
        .map(|r| (text(r.get(0)), r.get(1), r.get(2)))
        .collect())
}

pub fn campaign_steps(
    client: &mut impl Sql,
    user: UserId,
    campaign: &str,
) -> Result<Vec<StepCount>, StorageError> {
    let rows = client.query(
        "SELECT step, metric, events, leads FROM rollup_steps
         WHERE user_id = $1 AND campaign_id = $2 ORDER BY step, metric",
        &[&user.as_uuid(), &campaign],
    )?;
    Ok(rows
        .iter()
        .map(|row| StepCount {
            step: row.get::<_, i32>(0).max(1) as u32,
            metric: row.get(1),
            events: row.get(2),
            leads: row.get(3),
        })
        .collect())
}

/// The list's conditions, with its keyset, over `leads`; the caller adds any more and the order.
pub(super) fn leads_where(
    user: UserId,
    filter: &LeadFilter,
    after: Option<&Keyset>,
) -> Result<Query, StorageError> {
    let mut query = Query::new(
        &format!("{LEAD_COLUMNS} WHERE user_id = $1 AND last_event_timestamp IS NOT NULL"),
        user,
    );
    if let Some(campaign) = &filter.campaign_id {
        query.and(
            " AND smartlead_campaign_id = $?",
            clean(campaign).into_owned(),
        );
    }
    if let Some(event_type) = filter.last_event {
        query.and(" AND last_email_event = $?", event_type.as_str());
    }
    if let Some(kind) = filter.last_kind {
        let types: Vec<&str> = kind.event_types().map(|t| t.as_str()).collect();
        query.and(" AND last_email_event = ANY($?)", types);
    }
    query.keyset("last_event_timestamp", after)?;
    Ok(query)
}

/// The user's leads with email activity, newest activity first (a search is
/// [`super::lead_search`]'s).
pub fn leads(
    client: &mut impl Sql,
    user: UserId,
    filter: &LeadFilter,
    after: Option<&Keyset>,
    limit: usize,
) -> Result<Vec<LeadRow>, StorageError> {
    if let Some(search) = &filter.search {
        return super::lead_search::search(client, user, filter, search, after, limit);
    }
    let query = leads_where(user, filter, after)?.finish("last_event_timestamp", limit);
    lead_rows(client, &query)
}

pub(super) fn lead_rows(
    client: &mut impl Sql,
    query: &Query,
) -> Result<Vec<LeadRow>, StorageError> {
    Ok(query.run(client)?.iter().map(lead_row).collect())
}

/// One of the user's leads, with or without activity (`None` when it is not the user's).
pub fn lead(
    client: &mut impl Sql,
    user: UserId,
    lead: LeadId,
) -> Result<Option<LeadRow>, StorageError> {
    let row = client.query_opt(
        &format!("{LEAD_COLUMNS} WHERE user_id = $1 AND id = $2"),
        &[&user.as_uuid(), &lead.as_uuid()],
    )?;
    Ok(row.as_ref().map(lead_row))
}

/// The names of those of `leads` that are the user's, in one probe of the primary key.
pub fn lead_names(
    client: &mut impl Sql,
    user: UserId,
    leads: &[String],
) -> Result<HashMap<String, LeadNameRow>, StorageError> {
    let ids: Vec<Uuid> = leads.iter().filter_map(|id| id.parse().ok()).collect();
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let rows = client.query(
        "SELECT id, first_name, last_name, company FROM leads WHERE user_id = $1 AND id = ANY($2)",
        &[&user.as_uuid(), &ids],
    )?;
    Ok(rows
        .iter()
        .map(|row| {
            let name = LeadNameRow {
                first_name: row.get(1),
                last_name: row.get(2),
                company: row.get(3),
            };
            (id_text(row.get(0)), name)
        })
        .collect())
}

const LEAD_COLUMNS: &str =
    "SELECT id, email, first_name, last_name, company, smartlead_campaign_id, smartlead_category,
            last_email_event, last_event_timestamp
     FROM leads";

pub(super) fn lead_row(r: &Row) -> LeadRow {
    LeadRow {
        id: id_text(r.get(0)),
        email: r.get(1),
        first_name: r.get(2),
        last_name: r.get(3),
        company: r.get(4),
        smartlead_campaign_id: r.get(5),
        smartlead_category: r.get(6),
        last_email_event: r.get(7),
        last_event_timestamp: text_opt(r.get(8)),
    }
}

const EVENT_COLUMNS: &str =
    "SELECT id, event_type, \"timestamp\", campaign_id, message_id, email, lead_id,
                                    event_data::text
                             FROM email_events";

/// At most `limit` rows of `rows` (which hold `limit + 1`), and no more once
/// [`PAGE_DATA_BYTES`] of event data are held.
fn event_page(rows: Vec<Row>, limit: usize) -> Result<EventPage, StorageError> {
    let (mut events, mut data_bytes) = (Vec::new(), 0);
    for row in rows {
        if events.len() == limit || data_bytes >= PAGE_DATA_BYTES {
            return Ok(EventPage { events, more: true });
        }
        let data: String = row.get(7);
        data_bytes += data.len();
        events.push(EventRow {
            id: id_text(row.get(0)),
            event_type: row.get(1),
            timestamp: text(row.get(2)),
            campaign_id: row.get(3),
            message_id: row.get(4),
            email: row.get(5),
            lead_id: row.get::<_, Option<Uuid>>(6).map(id_text),
            event_data: raw(data)?,
        });
    }
    Ok(EventPage {
        events,
        more: false,
    })
}

fn raw(data: String) -> Result<Box<RawValue>, StorageError> {
    RawValue::from_string(data)
        .map_err(|e| StorageError::Database(format!("stored event data: {e}").into()))
}

pub fn lead_events(
    client: &mut impl Sql,
    user: UserId,
    lead: LeadId,
    after: Option<&Keyset>,
    limit: usize,
) -> Result<Option<EventPage>, StorageError> {
    let owned = client
        .query_opt(
            "SELECT 1 FROM leads WHERE user_id = $1 AND id = $2",
            &[&user.as_uuid(), &lead.as_uuid()],
        )?
        .is_some();
    if !owned {
        return Ok(None);
    }
    let mut query = Query::new(&format!("{EVENT_COLUMNS} WHERE user_id = $1"), user);
    query.and(" AND lead_id = $?", lead.as_uuid());
    query.keyset("\"timestamp\"", after)?;
    let rows = query.finish("\"timestamp\"", limit + 1).run(client)?;
    event_page(rows, limit).map(Some)
}

pub fn search_events(
    client: &mut impl Sql,
    user: UserId,
    filter: &EventFilter,
    after: Option<&Keyset>,
    limit: usize,
) -> Result<EventPage, StorageError> {
    let mut query = Query::new(&format!("{EVENT_COLUMNS} WHERE user_id = $1"), user);
    if let Some(email) = &filter.email {
        // Through the lead, as on SQLite: its (user_id, email) key, then the lead's index.
        query.and(
            " AND lead_id = (SELECT id FROM leads WHERE user_id = $1 AND email = $?)",
            clean(email).into_owned(),
        );
    }
    if let Some(event_type) = filter.event_type {
        query.and(" AND event_type = $?", event_type.as_str());
    }
    if let Some(kind) = filter.kind {
        let types: Vec<&str> = kind.event_types().map(|t| t.as_str()).collect();
        query.and(" AND event_type = ANY($?)", types);
    }
    if let Some(campaign) = &filter.campaign_id {
        query.and(" AND campaign_id = $?", clean(campaign).into_owned());
    }
    if let Some(from) = &filter.from {
        query.and(" AND \"timestamp\" >= $?", time(from)?);
    }
    if let Some(to) = &filter.to {
        query.and(" AND \"timestamp\" < $?", time(to)?);
    }
    match super::search_reach::search_reach(client, user, filter)? {
        SearchReach::Nothing => return Ok(EventPage::default()),
        SearchReach::From(floor) => query.and(" AND \"timestamp\" >= $?", time(&floor)?),
        SearchReach::Everything => {}
    }
    query.keyset("\"timestamp\"", after)?;
    let rows = query.finish("\"timestamp\"", limit + 1).run(client)?;
    event_page(rows, limit)
}

pub fn kept_events(
    client: &mut impl Sql,
    user: UserId,
    campaign: Option<&str>,
    after: Option<&Keyset>,
    limit: usize,
) -> Result<(Vec<KeptEvent>, bool), StorageError> {
    let mut query = Query::new(
        "SELECT id, event_type, campaign_id, email, lead_id, event_timestamp, received_at, event_data::text
         FROM smartlead_events WHERE user_id = $1",
        user,
    );
    if let Some(campaign) = campaign {
        query.and(" AND campaign_id = $?", clean(campaign).into_owned());
    }
    query.keyset("received_at", after)?;
    let rows = query.finish("received_at", limit + 1).run(client)?;
    let (mut events, mut bytes) = (Vec::new(), 0);
    for row in rows {
        if events.len() == limit || bytes >= PAGE_DATA_BYTES {
            return Ok((events, true));
        }
        let data: String = row.get(7);
        bytes += data.len();
        events.push(KeptEvent {
            id: id_text(row.get(0)),
            event_type: row.get(1),
            campaign_id: row.get(2),
            email: row.get(3),
            lead_id: row.get::<_, Option<Uuid>>(4).map(id_text),
            event_timestamp: text_opt(row.get(5)),
            received_at: text(row.get(6)),
            event_data: raw(data)?,
        });
    }
    Ok((events, false))
}
