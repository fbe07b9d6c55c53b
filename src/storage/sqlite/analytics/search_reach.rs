//! How far back an event search by type must read. No index leads with the type, so such a
//! search walks the user's index of times and checks each row's type: for a type the user has
//! few or none of, that walk went back to the user's first event (~12 s at 10M events, for
//! `email_spam_reported` or the replies of an install without any yet). The rollups know the
//! oldest projected event of each metric, and the events not projected yet are few and found
//! by their seq: no matching event is older than the older of the two.

use rusqlite::types::Value as SqlValue;
use rusqlite::{params_from_iter, Connection, OptionalExtension};

use super::super::keys::user_key;
use super::super::projection::watermark;
use super::super::StorageError;
use crate::domain::{EventType, UserId};
use crate::storage::records::{EventFilter, SearchReach};
use crate::storage::rollup_counts::ALL_CAMPAIGNS;

pub(super) fn search_reach(
    conn: &Connection,
    user: UserId,
    filter: &EventFilter,
) -> Result<SearchReach, StorageError> {
    let (metric, types) = match filter.reach_by_type() {
        Ok(typed) => typed,
        Err(reach) => return Ok(reach),
    };
    // The watermark first: the events above it then include every one the rollups read next
    // may not have counted (it only rises, and SQLite's one writer gives out seqs in order).
    let through = watermark(conn)?;
    let scope = filter.campaign_id.as_deref().unwrap_or(ALL_CAMPAIGNS);
    let projected: Option<String> = conn
        .prepare_cached(
            "SELECT first_at FROM rollup_totals WHERE user_id = ?1 AND campaign_id = ?2 AND metric = ?3",
        )?
        .query_row([user.to_string(), scope.to_owned(), metric.to_owned()], |row| row.get(0))
        .optional()?;
    let (sql, params) = pending_query(through, user, &types, filter.campaign_id.as_deref());
    let pending: Option<String> = conn
        .prepare_cached(&sql)?
        .query_row(params_from_iter(params), |row| row.get(0))?;
    Ok(match (projected, pending) {
        (None, None) => SearchReach::Nothing,
        (Some(at), None) | (None, Some(at)) => SearchReach::From(at),
        (Some(a), Some(b)) => SearchReach::From(a.min(b)),
    })
}

/// The oldest matching event not projected yet: read off the seq index, the only one a
/// condition here may use (`+` keeps the planner off the user's, which holds every event).
pub(super) fn pending_query(
    through: i64,
    user: UserId,
    types: &[EventType],
    campaign: Option<&str>,
) -> (String, Vec<SqlValue>) {
    let placeholders: Vec<String> = (0..types.len()).map(|i| format!("?{}", i + 3)).collect();
    let mut sql = format!(
        "SELECT min(timestamp) FROM email_event_rows
         WHERE seq > ?1 AND +user_key = {} AND event_type IN ({})",
        user_key("?2"),
        placeholders.join(", ")
    );
    let mut params = vec![SqlValue::Integer(through), SqlValue::Text(user.to_string())];
    params.extend(types.iter().map(|t| SqlValue::Text(t.as_str().to_owned())));
    if let Some(campaign) = campaign {
        params.push(SqlValue::Text(campaign.to_owned()));
        sql.push_str(&format!(" AND +campaign_id = ?{}", params.len()));
    }
    (sql, params)
}
