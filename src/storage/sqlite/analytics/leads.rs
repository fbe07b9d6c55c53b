//! The lead list (the user's leads with email activity, newest activity first) and one lead.

use rusqlite::{params_from_iter, Connection, OptionalExtension, Row};

use super::super::StorageError;
use super::query::Query;
use crate::domain::{LeadId, UserId};
use crate::storage::records::{Keyset, LeadFilter, LeadRow};

const LEAD_COLUMNS: &str =
    "SELECT id, email, first_name, last_name, company, smartlead_campaign_id, smartlead_category,
            last_email_event, last_event_timestamp
     FROM leads";

pub(super) fn leads_query(
    user: UserId,
    filter: &LeadFilter,
    after: Option<&Keyset>,
    limit: usize,
) -> Query {
    let mut query = Query::new(
        &format!("{LEAD_COLUMNS} WHERE user_id = ?1 AND last_event_timestamp IS NOT NULL"),
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
        .query_map(params_from_iter(query.params), lead_row)?
        .collect::<Result<_, _>>()?;
    Ok(rows)
}

pub(super) fn lead_query(user: UserId, lead: LeadId) -> Query {
    let mut query = Query::new(
        &format!("{LEAD_COLUMNS} WHERE user_id = ?1"),
        user.to_string(),
    );
    query.and(" AND id = ?", lead.to_string());
    query
}

/// One of the user's leads, with or without activity (`None` when it is not the user's).
pub fn lead(
    conn: &Connection,
    user: UserId,
    lead: LeadId,
) -> Result<Option<LeadRow>, StorageError> {
    let query = lead_query(user, lead);
    Ok(conn
        .prepare_cached(&query.sql)?
        .query_row(params_from_iter(query.params), lead_row)
        .optional()?)
}

fn lead_row(r: &Row) -> rusqlite::Result<LeadRow> {
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
}
