//! The rollup arithmetic, the same for every backend: which rows an event counts towards, how a
//! lead's first time in a metric moves when an earlier event arrives late, and the counts summed
//! in memory so that a backend writes each row once per projection (`storage/projection.rs`,
//! which folds the events into these). Most events of a projection share the user-wide rows of
//! the current hour and day; summed first, those cost one upsert per projection, not per event.
//!
//! A backend supplies what only it can read (a lead's earliest projected event of each metric)
//! and writes what [`PendingCounts::drain`] hands it.

use std::collections::btree_map::Entry;
use std::collections::BTreeMap;

use crate::domain::{CampaignId, EventType, Headline, UserId, UtcTimestamp};
use crate::storage::StorageError;

/// The campaign value of the user-wide scope.
pub const ALL_CAMPAIGNS: &str = "";

/// The metrics an event of this type counts towards: its type, and its headline kind if any.
pub fn metrics(event_type: EventType) -> impl Iterator<Item = &'static str> {
    std::iter::once(event_type.as_str()).chain(event_type.headline().map(Headline::as_str))
}

/// `CASE event_type WHEN 'email_opened' THEN 'opened' … END`: the headline kind of a stored
/// event in SQL, from the one mapping in the domain, for the backends' recounts.
pub fn headline_case_sql() -> String {
    let arms: String = EventType::ALL
        .iter()
        .filter_map(|t| {
            t.headline()
                .map(|h| format!(" WHEN '{}' THEN '{}'", t.as_str(), h.as_str()))
        })
        .collect();
    format!("CASE event_type{arms} END")
}

/// `('email_opened', …, 'sent', …)`: every metric a rollup row can hold, for `metric IN` in a
/// read of a scope's hours or days. The rollup keys put the metric before the time, so naming
/// every metric lets the read seek each metric's range instead of reading all of the scope's rows.
pub fn every_metric_sql() -> String {
    let mut all: Vec<&str> = EventType::ALL.into_iter().flat_map(metrics).collect();
    all.sort_unstable();
    all.dedup();
    format!("('{}')", all.join("', '"))
}

/// (user, campaign or [`ALL_CAMPAIGNS`], metric): the key shared by every rollup table.
pub type Scope = (String, String, &'static str);

/// The earliest and latest event counted.
#[derive(Debug, Clone)]
struct Span {
    first: String,
    last: String,
}

impl Span {
    fn at(at: &str) -> Self {
        Self {
            first: at.to_owned(),
            last: at.to_owned(),
        }
    }

    fn widen(&mut self, other: Span) {
        if other.first < self.first {
            self.first = other.first;
        }
        if other.last > self.last {
            self.last = other.last;
        }
    }
}

#[derive(Debug, Default)]
struct HourCounts {
    events: i64,
    new_leads: i64,
    /// None while only a first-time correction is pending: the row already exists.
    span: Option<Span>,
}

impl HourCounts {
    fn add(&mut self, other: HourCounts) {
        self.events += other.events;
        self.new_leads += other.new_leads;
        match (&mut self.span, other.span) {
            (Some(mine), Some(theirs)) => mine.widen(theirs),
            (mine @ None, theirs) => *mine = theirs,
            (Some(_), None) => {}
        }
    }
}

#[derive(Debug)]
struct TotalCounts {
    events: i64,
    leads: i64,
    span: Span,
}

impl TotalCounts {
    fn add(&mut self, other: TotalCounts) {
        self.events += other.events;
        self.leads += other.leads;
        self.span.widen(other.span);
    }
}

/// Counts not yet in the rollup tables: what one projection adds, written in its transaction.
#[derive(Debug, Default)]
pub struct PendingCounts {
    hourly: BTreeMap<(Scope, String), HourCounts>,
    daily: BTreeMap<(Scope, String), i64>,
    totals: BTreeMap<Scope, TotalCounts>,
    /// (user, campaign, step, headline kind) → (events, leads new to the row).
    steps: BTreeMap<(String, String, u32, &'static str), (i64, i64)>,
}

/// An event's time as the counts use it: its text, and the hour and day it falls in.
pub struct Instant {
    text: String,
    hour: String,
    day: String,
}

impl Instant {
    pub fn of(at: UtcTimestamp) -> Self {
        Self {
            text: at.to_string(),
            hour: at.hour_start().to_string(),
            day: at.day_start().to_string(),
        }
    }
}

impl PendingCounts {
    /// Counts one event at `at` in `scope`, given the lead's earliest stored event of the
    /// scope's metric (`None`: the lead never had it there). Events arrive in any order: an
    /// event earlier than that earliest moves the lead's first-time count back to its hour.
    pub fn record(
        &mut self,
        scope: Scope,
        at: &Instant,
        earliest: Option<&str>,
    ) -> Result<(), StorageError> {
        let (first_here, new_lead) = match earliest {
            None => (true, true),
            Some(previous) if at.text.as_str() < previous => {
                let previous = UtcTimestamp::parse(previous).map_err(|e| {
                    StorageError::Database(format!("a stored event time: {}", e.0).into())
                })?;
                self.move_first_from(scope.clone(), previous.hour_start().to_string());
                (true, false)
            }
            Some(_) => (false, false),
        };
        self.count(scope, at, first_here, new_lead);
        Ok(())
    }

    /// One event at `at` in `scope`. `first_here`: the lead's first of this metric in the scope
    /// falls in this event's hour; `new_lead`: the scope had never seen the lead.
    fn count(&mut self, scope: Scope, at: &Instant, first_here: bool, new_lead: bool) {
        self.add_hour(
            (scope.clone(), at.hour.clone()),
            HourCounts {
                events: 1,
                new_leads: i64::from(first_here),
                span: Some(Span::at(&at.text)),
            },
        );
        *self
            .daily
            .entry((scope.clone(), at.day.clone()))
            .or_default() += 1;
        self.add_total(
            scope,
            TotalCounts {
                events: 1,
                leads: i64::from(new_lead),
                span: Span::at(&at.text),
            },
        );
    }

    /// The lead's first time in `scope` moved back from `previous`: that hour loses it.
    fn move_first_from(&mut self, scope: Scope, previous_hour: String) {
        self.add_hour(
            (scope, previous_hour),
            HourCounts {
                events: 0,
                new_leads: -1,
                span: None,
            },
        );
    }

    /// One event of headline `kind` at sequence `step` of `campaign`; `new_lead`: its lead's
    /// first of that kind at that step.
    pub fn count_step(
        &mut self,
        user: UserId,
        campaign: &CampaignId,
        step: u32,
        kind: Headline,
        new_lead: bool,
    ) {
        let key = (
            user.to_string(),
            campaign.as_str().to_owned(),
            step,
            kind.as_str(),
        );
        let counts = self.steps.entry(key).or_default();
        counts.0 += 1;
        counts.1 += i64::from(new_lead);
    }

    /// Adds another job's counts to these.
    pub fn merge(&mut self, other: PendingCounts) {
        for (key, counts) in other.hourly {
            self.add_hour(key, counts);
        }
        for (key, events) in other.daily {
            *self.daily.entry(key).or_default() += events;
        }
        for (key, counts) in other.totals {
            self.add_total(key, counts);
        }
        for (key, (events, leads)) in other.steps {
            let counts = self.steps.entry(key).or_default();
            counts.0 += events;
            counts.1 += leads;
        }
    }

    fn add_hour(&mut self, key: (Scope, String), counts: HourCounts) {
        self.hourly.entry(key).or_default().add(counts);
    }

    fn add_total(&mut self, key: Scope, counts: TotalCounts) {
        match self.totals.entry(key) {
            Entry::Occupied(mut total) => total.get_mut().add(counts),
            Entry::Vacant(slot) => {
                slot.insert(counts);
            }
        }
    }

    /// Hands every pending count over, as rows to add to the rollup tables, and forgets them.
    pub fn drain(&mut self) -> Drained {
        let hourly = std::mem::take(&mut self.hourly).into_iter();
        let daily = std::mem::take(&mut self.daily).into_iter();
        let totals = std::mem::take(&mut self.totals).into_iter();
        let steps = std::mem::take(&mut self.steps).into_iter();
        Drained {
            steps: steps
                .map(
                    |((user, campaign, step, metric), (events, leads))| StepRow {
                        user,
                        campaign,
                        step,
                        metric,
                        events,
                        leads,
                    },
                )
                .collect(),
            hourly: hourly
                .map(|((scope, hour), counts)| HourRow {
                    scope,
                    hour,
                    events: counts.events,
                    new_leads: counts.new_leads,
                    span: counts.span.map(|span| (span.first, span.last)),
                })
                .collect(),
            daily: daily
                .map(|((scope, day), events)| DayRow { scope, day, events })
                .collect(),
            totals: totals
                .map(|(scope, counts)| TotalRow {
                    scope,
                    events: counts.events,
                    leads: counts.leads,
                    first_at: counts.span.first,
                    last_at: counts.span.last,
                })
                .collect(),
        }
    }
}

/// The counts to add to each rollup table, one entry per row.
pub struct Drained {
    pub hourly: Vec<HourRow>,
    pub daily: Vec<DayRow>,
    pub totals: Vec<TotalRow>,
    pub steps: Vec<StepRow>,
}

/// Added to a step row: events of one headline kind at one sequence step of a campaign, and
/// the leads among them new to the row.
pub struct StepRow {
    pub user: String,
    pub campaign: String,
    pub step: u32,
    pub metric: &'static str,
    pub events: i64,
    pub leads: i64,
}

/// Added to an hourly row: `span` (first, last event time) is `None` when only a first-time
/// correction is pending, for a row that already exists.
pub struct HourRow {
    pub scope: Scope,
    pub hour: String,
    pub events: i64,
    pub new_leads: i64,
    pub span: Option<(String, String)>,
}

pub struct DayRow {
    pub scope: Scope,
    pub day: String,
    pub events: i64,
}

pub struct TotalRow {
    pub scope: Scope,
    pub events: i64,
    pub leads: i64,
    pub first_at: String,
    pub last_at: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scope() -> Scope {
        ("user".into(), "42".into(), "email_opened")
    }

    fn at(text: &str) -> Instant {
        Instant::of(UtcTimestamp::parse(text).unwrap())
    }

    #[test]
    fn a_late_earlier_event_moves_the_first_time_back_to_its_hour() {
        let mut counts = PendingCounts::default();
        // The lead's first open was stored at 10:15; one from 09:05 arrives now.
        counts
            .record(
                scope(),
                &at("2026-03-02T09:05:00Z"),
                Some("2026-03-02T10:15:00.000Z"),
            )
            .unwrap();
        let drained = counts.drain();
        let hours: Vec<_> = drained
            .hourly
            .iter()
            .map(|row| {
                (
                    row.hour.as_str(),
                    row.events,
                    row.new_leads,
                    row.span.is_some(),
                )
            })
            .collect();
        assert_eq!(
            hours,
            [
                ("2026-03-02T09:00:00.000Z", 1, 1, true),
                ("2026-03-02T10:00:00.000Z", 0, -1, false),
            ]
        );
        // Not a new lead for the totals: it was counted when its first open arrived.
        assert_eq!((drained.totals[0].events, drained.totals[0].leads), (1, 0));
        assert_eq!(drained.daily[0].events, 1);
        assert!(
            counts.drain().hourly.is_empty(),
            "drain forgets what it handed over"
        );
    }

    #[test]
    fn a_new_lead_counts_once_and_a_later_event_not_at_all() {
        let mut counts = PendingCounts::default();
        counts
            .record(scope(), &at("2026-03-02T09:05:00Z"), None)
            .unwrap();
        counts
            .record(
                scope(),
                &at("2026-03-02T09:40:00Z"),
                Some("2026-03-02T09:05:00.000Z"),
            )
            .unwrap();
        let drained = counts.drain();
        assert_eq!(drained.hourly.len(), 1);
        let hour = &drained.hourly[0];
        assert_eq!((hour.events, hour.new_leads), (2, 1));
        assert_eq!(
            hour.span,
            Some((
                "2026-03-02T09:05:00.000Z".into(),
                "2026-03-02T09:40:00.000Z".into()
            ))
        );
        assert_eq!((drained.totals[0].events, drained.totals[0].leads), (2, 1));
    }

    #[test]
    fn every_type_counts_towards_itself_and_its_headline() {
        assert_eq!(
            metrics(EventType::FollowUpOpened).collect::<Vec<_>>(),
            ["email_follow_up_opened", "opened"]
        );
    }
}
