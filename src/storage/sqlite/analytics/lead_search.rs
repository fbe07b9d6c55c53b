//! A lead search (`/api/leads?q=`): the list's page, of only the leads whose address, name
//! ("First Last") or company holds the searched text, in any case.
//!
//! No index serves a search within text, so a search reads leads. In the list's order (the
//! index of activity times) it stops at the page's end, which is quick when many leads match,
//! but each lead it reads there is a look-up of the lead's row: a search that one lead matches
//! read all 500,000 of a user's leads that way in ~0.7 s. Reading the table in its own order is
//! several times quicker (~0.2 s), and the few matches are then sorted. So a search reads the
//! newest [`WINDOW`] leads in the list's order first, and only when they neither fill the page
//! nor are all the user's leads does it read the table (BENCHMARKS.md, "Lead search").

use rusqlite::Connection;

use super::super::StorageError;
use super::leads::{leads_where, run};
use super::query::Query;
use crate::domain::{LeadSearch, UserId};
use crate::storage::records::{Keyset, LeadFilter, LeadRow, LEAD_SEARCH_WINDOW as WINDOW};

/// The lead's fields joined by a line break, which a search cannot hold, so that a search never
/// matches across two of them; "First Last" is one field, as the dashboard shows it. Lower-cased
/// by `fold_case` (see `connection.rs`), as [`LeadSearch`] is.
const MATCHES: &str = " AND instr(fold_case(email || char(10) || coalesce(first_name, '') || ' '
    || coalesce(last_name, '') || char(10) || coalesce(company, '')), ?) > 0";

const ORDER: &str = "last_event_timestamp";

pub(super) fn search(
    conn: &Connection,
    user: UserId,
    filter: &LeadFilter,
    search: &LeadSearch,
    after: Option<&Keyset>,
    limit: usize,
) -> Result<Vec<LeadRow>, StorageError> {
    let found = run(conn, window_query(user, filter, search, after, limit))?;
    if found.len() >= limit || !window_is_full(conn, user, filter, after)? {
        return Ok(found);
    }
    run(conn, table_query(user, filter, search, after, limit))
}

/// The matches among the newest [`WINDOW`] leads of the list (after the cursor).
pub(super) fn window_query(
    user: UserId,
    filter: &LeadFilter,
    search: &LeadSearch,
    after: Option<&Keyset>,
    limit: usize,
) -> Query {
    let window = leads_where("leads", user, filter, after).finish(ORDER, WINDOW);
    let mut query = Query {
        sql: format!("SELECT * FROM ({}) WHERE 1", window.sql),
        params: window.params,
    };
    query.and(MATCHES, search.as_str().to_owned());
    query.finish(ORDER, limit)
}

/// Whether the list holds [`WINDOW`] leads or more after the cursor (a walk of at most that
/// many index entries).
fn window_is_full(
    conn: &Connection,
    user: UserId,
    filter: &LeadFilter,
    after: Option<&Keyset>,
) -> Result<bool, StorageError> {
    let window = leads_where("leads", user, filter, after).finish(ORDER, WINDOW);
    let sql = format!("SELECT count(*) FROM ({})", window.sql);
    let count: i64 = conn
        .prepare_cached(&sql)?
        .query_row(rusqlite::params_from_iter(window.params), |row| row.get(0))?;
    Ok(count >= WINDOW as i64)
}

/// The matches among all the list's leads: the table read in its own order, the matches
/// sorted. A campaign's leads are read through its index instead, since a campaign may hold
/// few of the table's leads.
pub(super) fn table_query(
    user: UserId,
    filter: &LeadFilter,
    search: &LeadSearch,
    after: Option<&Keyset>,
    limit: usize,
) -> Query {
    let from = match filter.campaign_id {
        Some(_) => "leads",
        None => "leads NOT INDEXED",
    };
    let mut query = leads_where(from, user, filter, after);
    query.and(MATCHES, search.as_str().to_owned());
    query.finish(ORDER, limit)
}
