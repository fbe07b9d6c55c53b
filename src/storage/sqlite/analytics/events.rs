//! Events: a lead's timeline and the event search, in pages bounded in rows and in bytes.

use std::sync::LazyLock;

use rusqlite::{params, params_from_iter, Connection, OptionalExtension};
use serde_json::value::RawValue;

use super::super::keys::{lead_id_of, lead_key, user_key};
use super::super::payloads::Payloads;
use super::super::StorageError;
use super::query::Query;
use super::search_reach::search_reach;
use crate::domain::{LeadId, UserId};
use crate::storage::records::PAGE_DATA_BYTES;
use crate::storage::records::{EventFilter, EventPage, EventRow, Keyset, SearchReach};

/// The rows' columns; the lead's id through a subquery, so that only the rows' own indexes
/// drive the scan (and `id` in the keyset stays the event's).
static EVENT_COLUMNS: LazyLock<String> = LazyLock::new(|| {
    format!(
        "SELECT id, event_type, timestamp, campaign_id, message_id, email, {}, event_data
         FROM email_event_rows",
        lead_id_of("email_event_rows")
    )
});

/// Reads at most `limit` rows of `query` (which must select `limit + 1`), and no more rows once
/// [`PAGE_DATA_BYTES`] of event data are held, so that memory stays bounded as well.
fn event_rows(
    conn: &Connection,
    payloads: &Payloads,
    query: Query,
    limit: usize,
) -> Result<EventPage, StorageError> {
    let mut statement = conn.prepare_cached(&query.sql)?;
    let mut rows = statement.query(params_from_iter(query.params))?;
    let (mut events, mut data_bytes) = (Vec::new(), 0);
    while let Some(row) = rows.next()? {
        if events.len() == limit || data_bytes >= PAGE_DATA_BYTES {
            return Ok(EventPage { events, more: true });
        }
        // Decompressed: the bound is on the memory the page holds.
        let data = payloads.decode(conn, row.get_ref(7)?)?;
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

pub(super) fn lead_events_query(lead: LeadId, after: Option<&Keyset>, limit: usize) -> Query {
    // Ownership is checked before this runs; filtering on the lead alone lets the planner walk
    // idx_email_events_lead_timestamp in order.
    let mut query = Query::new(
        &format!("{} WHERE lead_key = {}", *EVENT_COLUMNS, lead_key("?1")),
        lead.to_string(),
    );
    query.keyset("timestamp", after);
    query.finish("timestamp", limit + 1)
}

/// A page of a lead's events, newest first; `None` when the lead is not the user's.
pub fn lead_events(
    conn: &Connection,
    payloads: &Payloads,
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
    event_rows(conn, payloads, lead_events_query(lead, after, limit), limit).map(Some)
}

/// The search's statement; `floor`, when known, is the oldest time a matching event can have
/// (see `search_reach`), which ends the walk of the user's times there.
pub(super) fn search_query(
    user: UserId,
    filter: &EventFilter,
    floor: Option<&str>,
    after: Option<&Keyset>,
    limit: usize,
) -> Query {
    // A lead has a few dozen events, a user millions: with an address, the lead's index must
    // drive the scan, so the unary `+` keeps the planner off the user's (it cannot know the
    // subquery's lead has few rows).
    let user_scope = if filter.email.is_some() {
        "+user_key"
    } else {
        "user_key"
    };
    let mut query = Query::new(
        &format!("{} WHERE {user_scope} = {}", *EVENT_COLUMNS, user_key("?1")),
        user.to_string(),
    );
    if let Some(email) = &filter.email {
        // Through the lead: its (user_id, email) key, then idx_email_events_lead_timestamp
        // (migration 006 says why there is no index on the address itself).
        query.and(
            " AND lead_key = (SELECT lead_key FROM leads WHERE email = ? AND user_id = ?1)",
            email.clone(),
        );
    }
    if let Some(event_type) = filter.event_type {
        query.and(" AND event_type = ?", event_type.as_str().to_owned());
    }
    if let Some(kind) = filter.kind {
        query.and_in(
            "event_type",
            kind.event_types().map(|t| t.as_str().to_owned()),
        );
    }
    if let Some(campaign) = &filter.campaign_id {
        query.and(" AND campaign_id = ?", campaign.clone());
    }
    if let Some(from) = &filter.from {
        query.and(" AND timestamp >= ?", from.clone());
    }
    if let Some(floor) = floor {
        query.and(" AND timestamp >= ?", floor.to_owned());
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
    payloads: &Payloads,
    user: UserId,
    filter: &EventFilter,
    after: Option<&Keyset>,
    limit: usize,
) -> Result<EventPage, StorageError> {
    let floor = match search_reach(conn, user, filter)? {
        SearchReach::Nothing => return Ok(EventPage::default()),
        SearchReach::From(floor) => Some(floor),
        SearchReach::Everything => None,
    };
    let query = search_query(user, filter, floor.as_deref(), after, limit + 1);
    event_rows(conn, payloads, query, limit)
}
