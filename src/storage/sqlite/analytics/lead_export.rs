//! Every lead of the list for a filter (`/api/leads/export`), in the list's order, read by one
//! statement: one snapshot, so a lead whose activity moves it up the list meanwhile is neither
//! missed nor repeated (as it could be across pages), and one row in memory at a time.

use std::ops::ControlFlow;

use rusqlite::{params_from_iter, Connection};

use super::super::StorageError;
use super::lead_search::table_query;
use super::leads::{lead_row, leads_query};
use crate::domain::UserId;
use crate::storage::records::{LeadFilter, LeadRow, EVERY_ROW};

pub fn export(
    conn: &Connection,
    user: UserId,
    filter: &LeadFilter,
    mut each: impl FnMut(LeadRow) -> ControlFlow<()>,
) -> Result<(), StorageError> {
    // A search reads the table and sorts its matches (see `lead_search`); the list alone walks
    // its index in order.
    let query = match &filter.search {
        Some(search) => table_query(user, filter, search, None, EVERY_ROW),
        None => leads_query(user, filter, None, EVERY_ROW),
    };
    let mut statement = conn.prepare_cached(&query.sql)?;
    let mut rows = statement.query(params_from_iter(query.params))?;
    while let Some(row) = rows.next()? {
        if each(lead_row(row)?).is_break() {
            break;
        }
    }
    Ok(())
}
