//! Every lead of the list for a filter (`/api/leads/export`) on PostgreSQL, as on SQLite (see
//! its `lead_export`): one statement, one snapshot, read through a portal a few hundred rows at
//! a time so that memory stays bounded however many leads there are.

use std::ops::ControlFlow;

use super::analytics::{lead_row, leads_where};
use super::lead_search::every_match;
use super::session::ReadConnection;
use super::StorageError;
use crate::domain::UserId;
use crate::storage::records::{LeadFilter, LeadRow, EVERY_ROW};

/// Rows fetched from the portal at a time.
const FETCH_ROWS: i32 = 500;

pub fn export(
    conn: &mut ReadConnection,
    user: UserId,
    filter: &LeadFilter,
    mut each: impl FnMut(LeadRow) -> ControlFlow<()>,
) -> Result<(), StorageError> {
    let query = match &filter.search {
        Some(search) => every_match(user, filter, search, None)?,
        None => leads_where(user, filter, None)?,
    }
    .finish("last_event_timestamp", EVERY_ROW);
    conn.for_each_row(&query.sql, &query.params, FETCH_ROWS, |row| {
        each(lead_row(row))
    })
}
