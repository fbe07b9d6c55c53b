//! Kept events (Smartlead events that are not email events: category changes, campaign status
//! changes, manual steps, untracked replies), newest received first, in bounded pages.

use rusqlite::{params_from_iter, Connection};
use serde_json::value::RawValue;

use super::super::StorageError;
use super::query::Query;
use crate::domain::UserId;
use crate::storage::records::{KeptEvent, Keyset, PAGE_DATA_BYTES};

/// With a campaign, `idx_smartlead_events_user_campaign_received` (migration 018) serves the
/// filter and the order; without, `idx_smartlead_events_user_received`.
pub(super) fn kept_query(
    user: UserId,
    campaign: Option<&str>,
    after: Option<&Keyset>,
    limit: usize,
) -> Query {
    let mut query = Query::new(
        "SELECT id, event_type, campaign_id, email, lead_id, event_timestamp, received_at, event_data
         FROM smartlead_events WHERE user_id = ?1",
        user.to_string(),
    );
    if let Some(campaign) = campaign {
        query.and(" AND campaign_id = ?", campaign.to_owned());
    }
    query.keyset("received_at", after);
    query.finish("received_at", limit)
}

/// The user's kept events (of `campaign`, if given), newest received first: a page of at most
/// `limit` rows and [`PAGE_DATA_BYTES`] of payload, and whether more follow.
pub fn kept_events(
    conn: &Connection,
    user: UserId,
    campaign: Option<&str>,
    after: Option<&Keyset>,
    limit: usize,
) -> Result<(Vec<KeptEvent>, bool), StorageError> {
    let query = kept_query(user, campaign, after, limit + 1);
    let mut statement = conn.prepare_cached(&query.sql)?;
    let mut rows = statement.query(params_from_iter(query.params))?;
    let (mut events, mut bytes) = (Vec::new(), 0);
    while let Some(row) = rows.next()? {
        if events.len() == limit || bytes >= PAGE_DATA_BYTES {
            return Ok((events, true));
        }
        let data: String = row.get(7)?;
        bytes += data.len();
        events.push(KeptEvent {
            id: row.get(0)?,
            event_type: row.get(1)?,
            campaign_id: row.get(2)?,
            email: row.get(3)?,
            lead_id: row.get(4)?,
            event_timestamp: row.get(5)?,
            received_at: row.get(6)?,
            // The column's CHECK (json_valid) makes a failure here a corrupted file.
            event_data: RawValue::from_string(data).map_err(|e| {
                rusqlite::Error::FromSqlConversionFailure(
                    7,
                    rusqlite::types::Type::Text,
                    Box::new(e),
                )
            })?,
        });
    }
    Ok((events, false))
}
