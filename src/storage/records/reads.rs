//! The read API's records: rollup numbers, events, leads and their pages.

use serde::Serialize;
use serde_json::value::RawValue;

use crate::domain::{EventType, Headline, LeadSearch};

/// One metric's numbers in a scope: events, distinct leads, first and last event time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MetricRow {
    pub metric: String,
    pub events: i64,
    pub leads: i64,
    pub first_at: String,
    pub last_at: String,
}

/// What a campaign is called and what state it is in, as its newest events said (either may be
/// unknown).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CampaignLabelRow {
    pub name: Option<String>,
    pub status: Option<String>,
}

/// Who a lead is, for answers that list events of several leads.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LeadNameRow {
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub company: Option<String>,
}

/// Whole hours `[from, to)` as rollup bucket starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HourRange {
    pub from: String,
    pub to: String,
}

/// Events of one headline kind at one sequence step of a campaign, and the leads they came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StepCount {
    pub step: u32,
    pub metric: String,
    pub events: i64,
    pub leads: i64,
}

/// Time-series granularity.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bucket {
    Hour,
    Day,
}

#[derive(Debug, Clone, Serialize)]
pub struct EventRow {
    pub id: String,
    pub event_type: String,
    pub timestamp: String,
    pub campaign_id: String,
    pub message_id: String,
    pub email: String,
    pub lead_id: Option<String>,
    /// The stored JSON, passed through as is: no parse into a tree and serialize back.
    pub event_data: Box<RawValue>,
}

/// The `event_data` bytes one page of events may carry. Rows are capped by `limit`, but one
/// event may hold megabytes (a category update with a whole thread): 32 such events made a
/// 134 MB answer. A page ends early once it holds this much (always with at least one event,
/// so the list moves on), and says that more follow.
pub const PAGE_DATA_BYTES: usize = 1024 * 1024;

/// A kept (non-email) Smartlead event, as the read API lists it.
#[derive(Debug, Clone)]
pub struct KeptEvent {
    pub id: String,
    /// Smartlead's name, upper-cased (`LEAD_CATEGORY_UPDATED`, …).
    pub event_type: String,
    pub campaign_id: Option<String>,
    pub email: Option<String>,
    pub lead_id: Option<String>,
    /// The payload's own time, when it has one.
    pub event_timestamp: Option<String>,
    pub received_at: String,
    pub event_data: Box<RawValue>,
}

/// A page of events, and whether more follow (its last row is then the next cursor).
#[derive(Default)]
pub struct EventPage {
    pub events: Vec<EventRow>,
    pub more: bool,
}

#[derive(Debug, Clone, Default)]
pub struct EventFilter {
    pub email: Option<String>,
    pub event_type: Option<EventType>,
    /// Events of any type this headline counts (`replied`: first replies and follow-ups').
    pub kind: Option<Headline>,
    pub campaign_id: Option<String>,
    pub from: Option<String>,
    pub to: Option<String>,
}

impl EventFilter {
    /// The types a type filter (`event_type`, `kind` or both) lets through, and the rollup
    /// metric that counts exactly those; `None` without one.
    fn typed(&self) -> Option<(&'static str, Vec<EventType>)> {
        match (self.event_type, self.kind) {
            (Some(t), kind) => {
                let types = match kind {
                    Some(kind) if t.headline() != Some(kind) => Vec::new(),
                    _ => vec![t],
                };
                Some((t.as_str(), types))
            }
            (None, Some(kind)) => Some((kind.as_str(), kind.event_types().collect())),
            (None, None) => None,
        }
    }

    /// A search by type without an address: its rollup metric and the types it lets through,
    /// to find how far back it must read; otherwise how far that is already (an address reads
    /// its lead's own index, all of it; types that contradict each other match nothing).
    pub fn reach_by_type(&self) -> Result<(&'static str, Vec<EventType>), SearchReach> {
        match self.typed() {
            _ if self.email.is_some() => Err(SearchReach::Everything),
            None => Err(SearchReach::Everything),
            Some((_, types)) if types.is_empty() => Err(SearchReach::Nothing),
            Some(typed) => Ok(typed),
        }
    }
}

/// How far back an event search's walk of the user's times must go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SearchReach {
    /// To the user's first event.
    Everything,
    /// To this time: no matching event is older.
    From(String),
    /// Nowhere: no event matches.
    Nothing,
}

#[derive(Debug, Clone, Serialize)]
pub struct LeadRow {
    pub id: String,
    pub email: String,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub company: Option<String>,
    pub smartlead_campaign_id: Option<String>,
    pub smartlead_category: Option<String>,
    pub last_email_event: Option<String>,
    pub last_event_timestamp: Option<String>,
}

/// How many of the newest leads a lead search reads in the list's order before it reads all of
/// the user's (each backend's `lead_search` says why; BENCHMARKS.md, "Lead search").
pub const LEAD_SEARCH_WINDOW: usize = 2_000;

/// A list query's limit when every row is wanted (an export): a bound no list reaches that
/// both backends take as a LIMIT (SQLite would read `usize::MAX` as -1, PostgreSQL refuse it).
pub const EVERY_ROW: usize = i64::MAX as usize;

#[derive(Debug, Clone, Default)]
pub struct LeadFilter {
    pub campaign_id: Option<String>,
    pub last_event: Option<EventType>,
    /// Only leads whose latest email event is of a type this headline counts (`replied`: a
    /// reply to the first email or to a follow-up).
    pub last_kind: Option<Headline>,
    /// Only leads with this text in their address, "First Last" or company (any case).
    pub search: Option<LeadSearch>,
}

/// A position in a list ordered by (time DESC, id DESC): the last row of the previous page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Keyset {
    pub at: String,
    pub id: String,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Headline;

    #[test]
    fn a_search_by_type_names_its_metric_and_types() {
        let by = |event_type, kind| EventFilter {
            event_type,
            kind,
            ..EventFilter::default()
        };
        assert_eq!(
            by(None, Some(Headline::Replied)).reach_by_type(),
            Ok((
                "replied",
                vec![EventType::Replied, EventType::FollowUpReplied]
            ))
        );
        assert_eq!(
            by(Some(EventType::FollowUpReplied), Some(Headline::Replied)).reach_by_type(),
            Ok(("email_follow_up_replied", vec![EventType::FollowUpReplied]))
        );
        // Contradictory: nothing; no type, or an address: the whole walk (or the lead's).
        assert_eq!(
            by(Some(EventType::Opened), Some(Headline::Replied)).reach_by_type(),
            Err(SearchReach::Nothing)
        );
        assert_eq!(by(None, None).reach_by_type(), Err(SearchReach::Everything));
        let address = EventFilter {
            email: Some("a@b.example".into()),
            ..by(Some(EventType::Opened), None)
        };
        assert_eq!(address.reach_by_type(), Err(SearchReach::Everything));
    }
}
