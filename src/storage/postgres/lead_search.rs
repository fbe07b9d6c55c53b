//! A lead search (`/api/leads?q=`) on PostgreSQL, read as on SQLite (see its `lead_search`):
//! the newest [`WINDOW`] leads in the list's order first, and only when they neither fill the
//! page nor are all the user's leads, every match, then sorted. Left to itself the planner walks
//! the list's index for every search (it cannot know how few leads a text matches), a look-up
//! of the lead's row per lead: ~3 times as long as reading the table when one lead matches.

use super::analytics::{lead_rows, leads_where};
use super::query::Query;
use super::session::Sql;
use super::StorageError;
use crate::domain::{LeadSearch, UserId};
use crate::storage::records::{Keyset, LeadFilter, LeadRow, LEAD_SEARCH_WINDOW as WINDOW};

/// As on SQLite: the fields joined by a line break, which a search cannot hold; `lower()` folds
/// what the database's locale folds (every script's letters under a UTF-8 locale, ASCII only
/// under `C`).
const MATCHES: &str = " AND strpos(lower(email || chr(10) || coalesce(first_name, '') || ' '
    || coalesce(last_name, '') || chr(10) || coalesce(company, '')), $?) > 0";

const ORDER: &str = "last_event_timestamp";

pub(super) fn search(
    client: &mut impl Sql,
    user: UserId,
    filter: &LeadFilter,
    search: &LeadSearch,
    after: Option<&Keyset>,
    limit: usize,
) -> Result<Vec<LeadRow>, StorageError> {
    // The newest leads, in the list's order; the matches among them.
    let window = leads_where(user, filter, after)?.finish(ORDER, WINDOW);
    let mut query = wrap(window, "SELECT * FROM (", ") AS newest WHERE true");
    query.and(MATCHES, search.as_str().to_owned());
    let found = lead_rows(client, &query.finish(ORDER, limit))?;
    if found.len() >= limit || !window_is_full(client, user, filter, after)? {
        return Ok(found);
    }
    lead_rows(
        client,
        &every_match(user, filter, search, after)?.finish(ORDER, limit),
    )
}

/// Every match after the cursor (materialized, so that the planner reads the table rather than
/// walk the list's index), to be sorted by the caller's `finish`.
pub(super) fn every_match(
    user: UserId,
    filter: &LeadFilter,
    search: &LeadSearch,
    after: Option<&Keyset>,
) -> Result<Query, StorageError> {
    let mut matches = leads_where(user, filter, after)?;
    matches.and(MATCHES, search.as_str().to_owned());
    Ok(wrap(
        matches,
        "WITH matches AS MATERIALIZED (",
        ") SELECT * FROM matches WHERE true",
    ))
}

/// Whether the list holds [`WINDOW`] leads or more after the cursor.
fn window_is_full(
    client: &mut impl Sql,
    user: UserId,
    filter: &LeadFilter,
    after: Option<&Keyset>,
) -> Result<bool, StorageError> {
    let window = leads_where(user, filter, after)?.finish(ORDER, WINDOW);
    let count = wrap(window, "SELECT count(*) FROM (", ") AS newest").run(client)?;
    Ok(count[0].get::<_, i64>(0) >= WINDOW as i64)
}

fn wrap(inner: Query, before: &str, after: &str) -> Query {
    Query {
        sql: format!("{before}{}{after}", inner.sql),
        params: inner.params,
    }
}
