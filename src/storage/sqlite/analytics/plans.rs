//! The query plans of the statements `lead_events`, `search_events`, `leads`, a lead search,
//! `lead`, `kept_events` and a time series run, so that tests and benchmarks can check that they stay index range scans.

use rusqlite::{params_from_iter, Connection};

use super::super::StorageError;
use super::events::{lead_events_query, search_query};
use super::kept::kept_query;
use super::lead_search::{table_query, window_query};
use super::leads::{lead_query, leads_query};
use super::query::Query;
use super::stats::series_statement;
use crate::domain::{LeadId, LeadSearch, UserId};
use crate::storage::records::{Bucket, EventFilter, Keyset, LeadFilter};

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
    plan(conn, search_query(user, filter, None, after, 50))
}

pub fn leads(
    conn: &Connection,
    user: UserId,
    filter: &LeadFilter,
) -> Result<Vec<String>, StorageError> {
    plan(conn, leads_query(user, filter, None, 50))
}

/// The two statements a lead search may run: the newest leads in the list's order, then, when
/// those do not answer it, the table (see `lead_search`).
pub fn lead_search(
    conn: &Connection,
    user: UserId,
    filter: &LeadFilter,
    search: &LeadSearch,
) -> Result<(Vec<String>, Vec<String>), StorageError> {
    Ok((
        plan(conn, window_query(user, filter, search, None, 50))?,
        plan(conn, table_query(user, filter, search, None, 50))?,
    ))
}

pub fn lead(conn: &Connection, user: UserId, lead: LeadId) -> Result<Vec<String>, StorageError> {
    plan(conn, lead_query(user, lead))
}

pub fn kept_events(
    conn: &Connection,
    user: UserId,
    campaign: Option<&str>,
    after: Option<&Keyset>,
) -> Result<Vec<String>, StorageError> {
    plan(conn, kept_query(user, campaign, after, 50))
}

/// A time series of a scope (a campaign, or the user's every campaign): the rollup's key.
pub fn timeseries(
    conn: &Connection,
    user: UserId,
    scope: &str,
    bucket: Bucket,
) -> Result<Vec<String>, StorageError> {
    let range = ("2025-01-01T00:00:00.000Z", "2025-01-03T00:00:00.000Z");
    explain(
        conn,
        series_statement(bucket),
        rusqlite::params![user.to_string(), scope, range.0, range.1],
    )
}

/// The probe of an event search by type for the matching events not projected yet.
pub fn search_pending(
    conn: &Connection,
    user: UserId,
    types: &[crate::domain::EventType],
    campaign: Option<&str>,
) -> Result<Vec<String>, StorageError> {
    let (sql, params) = super::search_reach::pending_query(0, user, types, campaign);
    explain(conn, &sql, params_from_iter(params))
}
