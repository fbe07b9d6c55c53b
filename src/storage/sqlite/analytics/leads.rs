//! The lead list: the user's leads with email activity, newest activity first.

use rusqlite::{params_from_iter, Connection};

use super::super::StorageError;
use super::query::Query;
use crate::domain::UserId;
use crate::storage::records::{Keyset, LeadFilter, LeadRow};

pub(super) fn leads_query(
    user: UserId,
    filter: &LeadFilter,
    after: Option<&Keyset>,
    limit: usize,
) -> Query {
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
