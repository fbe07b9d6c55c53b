//! Campaign names for answers that list events of several campaigns, so that a client (the
//! dashboard's timelines and search) need not fetch the campaign list to show them.

use std::collections::{BTreeSet, HashMap};

use super::bodies::Event;
use crate::domain::UserId;
use crate::http::{ApiError, AppState};
use crate::storage::records::EventRow;

/// The answers for a page of stored events, each with its campaign's name.
pub(crate) async fn named_events(
    state: &AppState,
    user: UserId,
    rows: Vec<EventRow>,
) -> Result<Vec<Event>, ApiError> {
    let names = campaign_names(state, user, rows.iter().map(|e| e.campaign_id.as_str())).await?;
    Ok(rows
        .into_iter()
        .map(|row| {
            let name = names.get(&row.campaign_id).cloned();
            Event::named(row, name)
        })
        .collect())
}

/// The current names of `campaigns` (those that have one): one primary-key probe per distinct
/// campaign, at most a page's worth.
pub(crate) async fn campaign_names<'a>(
    state: &AppState,
    user: UserId,
    campaigns: impl IntoIterator<Item = &'a str>,
) -> Result<HashMap<String, String>, ApiError> {
    let distinct: BTreeSet<&str> = campaigns.into_iter().collect();
    if distinct.is_empty() {
        return Ok(HashMap::new());
    }
    let ids = distinct.into_iter().map(str::to_owned).collect();
    let labels = state.store.campaign_labels(user, ids).await?;
    Ok(labels
        .into_iter()
        .filter_map(|(campaign, labels)| labels.name.map(|name| (campaign, name)))
        .collect())
}
