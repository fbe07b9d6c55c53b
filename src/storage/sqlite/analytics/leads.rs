//! The lead list (the user's leads with email activity, newest activity first) and one lead.

use std::collections::HashMap;

use rusqlite::{params, params_from_iter, Connection, OptionalExtension, Row};

use super::super::StorageError;
use super::query::Query;
use crate::domain::{LeadId, UserId};
use crate::storage::records::{Keyset, LeadFilter, LeadNameRow, LeadRow};

const LEAD_COLUMNS: &str =
    "SELECT id, email, first_name, last_name, company, smartlead_campaign_id, smartlead_category,
            last_email_event, last_event_timestamp";

/// The list's conditions, with its keyset, from `from` (`leads`, or a scan of it); the caller
/// adds any more and the order.
pub(super) fn leads_where(
    from: &str,
    user: UserId,
    filter: &LeadFilter,
    after: Option<&Keyset>,
) -> Query {
    let mut query = Query::new(
        &format!(
            "{LEAD_COLUMNS} FROM {from} WHERE user_id = ?1 AND last_event_timestamp IS NOT NULL"
        ),
        user.to_string(),
    );
    if let Some(campaign) = &filter.campaign_id {
        query.and(" AND smartlead_campaign_id = ?", campaign.clone());
    }
    if let Some(event_type) = filter.last_event {
        query.and(" AND last_email_event = ?", event_type.as_str().to_owned());
    }
    if let Some(kind) = filter.last_kind {
        query.and_in(
            "last_email_event",
            kind.event_types().map(|t| t.as_str().to_owned()),
        );
    }
    query.keyset("last_event_timestamp", after);
    query
}

/// The list's page without a search (a search is [`super::lead_search`]'s).
pub(super) fn leads_query(
    user: UserId,
    filter: &LeadFilter,
    after: Option<&Keyset>,
    limit: usize,
) -> Query {
    leads_where("leads", user, filter, after).finish("last_event_timestamp", limit)
}

/// The user's leads with email activity, newest activity first.
pub fn leads(
    conn: &Connection,
    user: UserId,
    filter: &LeadFilter,
    after: Option<&Keyset>,
    limit: usize,
) -> Result<Vec<LeadRow>, StorageError> {
    match &filter.search {
        Some(search) => super::lead_search::search(conn, user, filter, search, after, limit),
        None => run(conn, leads_query(user, filter, after, limit)),
    }
}

pub(super) fn run(conn: &Connection, query: Query) -> Result<Vec<LeadRow>, StorageError> {
    let rows = conn
        .prepare_cached(&query.sql)?
        .query_map(params_from_iter(query.params), lead_row)?
        .collect::<Result<_, _>>()?;
    Ok(rows)
}

pub(super) fn lead_query(user: UserId, lead: LeadId) -> Query {
    let mut query = Query::new(
        &format!("{LEAD_COLUMNS} FROM leads WHERE user_id = ?1"),
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

pub(super) fn lead_row(r: &Row) -> rusqlite::Result<LeadRow> {
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

/// The names of those of `leads` that are the user's (one primary-key probe each: a page of
/// events' leads, never the table).
pub fn names(
    conn: &Connection,
    user: UserId,
    leads: &[String],
) -> Result<HashMap<String, LeadNameRow>, StorageError> {
    let mut stmt = conn.prepare_cached(
        "SELECT first_name, last_name, company FROM leads WHERE id = ?1 AND user_id = ?2",
    )?;
    let user = user.to_string();
    let mut names = HashMap::new();
    for lead in leads {
        let found = stmt
            .query_row(params![lead, user], |row| {
                Ok(LeadNameRow {
                    first_name: row.get(0)?,
                    last_name: row.get(1)?,
                    company: row.get(2)?,
                })
            })
            .optional()?;
        if let Some(found) = found {
            names.insert(lead.clone(), found);
        }
    }
    Ok(names)
}
