//! Names for answers that list events: each event's campaign by its name, its lead by name and
//! company, so that a client (the dashboard's timelines, search and replies feed) need not look
//! each one up. Both are primary-key probes, a page's worth at most, read side by side.

use std::collections::{BTreeSet, HashMap};

use futures_util::future::try_join;

use super::bodies::{Event, KeptEvent};
use crate::domain::UserId;
use crate::http::{ApiError, AppState};
use crate::storage::records::{self, EventRow, LeadNameRow};

/// Who an event's lead is: "First Last" and the company, either unknown.
#[derive(Debug, Clone, Default)]
pub(crate) struct LeadName {
    pub name: Option<String>,
    pub company: Option<String>,
}

impl From<LeadNameRow> for LeadName {
    fn from(row: LeadNameRow) -> Self {
        let parts: Vec<String> = [row.first_name, row.last_name]
            .into_iter()
            .flatten()
            .collect();
        Self {
            name: (!parts.is_empty()).then(|| parts.join(" ")),
            company: row.company,
        }
    }
}

/// The answers for a page of stored events, each with its campaign's name and its lead's.
pub(crate) async fn named_events(
    state: &AppState,
    user: UserId,
    rows: Vec<EventRow>,
) -> Result<Vec<Event>, ApiError> {
    let campaigns = rows.iter().map(|e| Some(e.campaign_id.as_str()));
    let leads = rows.iter().map(|e| e.lead_id.as_deref());
    let (campaigns, leads) = names(state, user, campaigns, leads).await?;
    Ok(rows
        .into_iter()
        .map(|row| {
            let campaign = campaigns.get(&row.campaign_id).cloned();
            let lead = lookup(&leads, row.lead_id.as_deref());
            Event::named(row, campaign, lead)
        })
        .collect())
}

/// The same for a page of kept events.
pub(crate) async fn named_kept_events(
    state: &AppState,
    user: UserId,
    rows: Vec<records::KeptEvent>,
) -> Result<Vec<KeptEvent>, ApiError> {
    let campaigns = rows.iter().map(|e| e.campaign_id.as_deref());
    let leads = rows.iter().map(|e| e.lead_id.as_deref());
    let (campaigns, leads) = names(state, user, campaigns, leads).await?;
    Ok(rows
        .into_iter()
        .map(|row| {
            let campaign = row
                .campaign_id
                .as_ref()
                .and_then(|c| campaigns.get(c).cloned());
            let lead = lookup(&leads, row.lead_id.as_deref());
            KeptEvent::named(row, campaign, lead)
        })
        .collect())
}

fn lookup(leads: &HashMap<String, LeadNameRow>, lead: Option<&str>) -> LeadName {
    lead.and_then(|id| leads.get(id).cloned())
        .map(LeadName::from)
        .unwrap_or_default()
}

/// The campaigns' current names (those that have one) and the leads' names, read side by side.
async fn names<'a>(
    state: &AppState,
    user: UserId,
    campaigns: impl Iterator<Item = Option<&'a str>>,
    leads: impl Iterator<Item = Option<&'a str>>,
) -> Result<(HashMap<String, String>, HashMap<String, LeadNameRow>), ApiError> {
    let (campaigns, leads) = (distinct(campaigns), distinct(leads));
    let campaign_names = async {
        if campaigns.is_empty() {
            return Ok(HashMap::new());
        }
        let labels = state.store.campaign_labels(user, campaigns).await?;
        Ok::<_, ApiError>(
            labels
                .into_iter()
                .filter_map(|(campaign, labels)| labels.name.map(|name| (campaign, name)))
                .collect(),
        )
    };
    let lead_names = async {
        if leads.is_empty() {
            return Ok(HashMap::new());
        }
        Ok::<_, ApiError>(state.store.lead_names(user, leads).await?)
    };
    try_join(campaign_names, lead_names).await
}

fn distinct<'a>(ids: impl Iterator<Item = Option<&'a str>>) -> Vec<String> {
    let set: BTreeSet<&str> = ids.flatten().collect();
    set.into_iter().map(str::to_owned).collect()
}
