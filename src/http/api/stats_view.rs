//! The JSON shape of campaign and user statistics, built from rollup rows.

use std::collections::BTreeMap;

use serde::Serialize;
use utoipa::ToSchema;

use crate::domain::{EventType, Headline};
use crate::storage::records::MetricRow;

#[derive(Debug, Clone, Copy, Default, Serialize, PartialEq, Eq, ToSchema)]
pub struct Count {
    pub events: i64,
    pub unique_leads: i64,
}

// Fields in alphabetical order: see `bodies`.
#[derive(Debug, Serialize, ToSchema)]
pub struct Rates {
    pub bounce_rate: Option<f64>,
    pub click_rate: Option<f64>,
    pub open_rate: Option<f64>,
    pub reply_rate: Option<f64>,
    pub unsubscribe_rate: Option<f64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct StatsView {
    /// Every normalized type, follow-ups separately.
    #[schema(value_type = BTreeMap<String, Count>)]
    pub by_type: BTreeMap<&'static str, Count>,
    pub first_event_at: Option<String>,
    /// The six headline kinds, follow-ups folded into their base kind.
    #[schema(value_type = BTreeMap<String, Count>)]
    pub headline: BTreeMap<&'static str, Count>,
    pub last_event_at: Option<String>,
    /// Unique leads of each kind per unique lead sent to; null when nothing was sent. Within a
    /// range, both counts are of leads whose first such event is in it, and a rate can pass 1.
    pub rates: Rates,
}

impl StatsView {
    pub fn from_rows(rows: &[MetricRow]) -> Self {
        let count = |metric: &str| {
            rows.iter()
                .find(|r| r.metric == metric)
                .map_or_else(Count::default, |r| Count {
                    events: r.events,
                    unique_leads: r.leads,
                })
        };
        let by_type: BTreeMap<_, _> = EventType::ALL
            .iter()
            .map(|t| (t.as_str(), count(t.as_str())))
            .collect();
        let headline: BTreeMap<_, _> = Headline::ALL
            .iter()
            .map(|h| (h.as_str(), count(h.as_str())))
            .collect();
        let sent = headline[Headline::Sent.as_str()].unique_leads;
        let rate = |h: Headline| {
            (sent > 0).then(|| headline[h.as_str()].unique_leads as f64 / sent as f64)
        };
        let typed = || {
            rows.iter()
                .filter(|r| r.metric.parse::<EventType>().is_ok())
        };
        StatsView {
            rates: Rates {
                open_rate: rate(Headline::Opened),
                click_rate: rate(Headline::Clicked),
                reply_rate: rate(Headline::Replied),
                bounce_rate: rate(Headline::Bounced),
                unsubscribe_rate: rate(Headline::Unsubscribed),
            },
            first_event_at: typed().map(|r| r.first_at.clone()).min(),
            last_event_at: typed().map(|r| r.last_at.clone()).max(),
            by_type,
            headline,
        }
    }
}
