//! Rollup counts summed in memory and written once per row, just before the COMMIT. Most events
//! of a writer batch share the user-wide rows of the current hour and day; summed first, those
//! cost one upsert per batch instead of one per event.

use std::collections::btree_map::Entry;
use std::collections::BTreeMap;

use rusqlite::{params, Connection};

use crate::domain::UtcTimestamp;
use crate::storage::StorageError;

/// (user, campaign or [`super::ALL_CAMPAIGNS`], metric): the key shared by every rollup table.
pub(super) type Scope = (String, String, &'static str);

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

/// Counts not yet in the rollup tables. Each writer job fills its own, merged into the batch's
/// only if the job's savepoint is released, so a rolled-back job leaves no count behind.
#[derive(Debug, Default)]
pub struct PendingCounts {
    hourly: BTreeMap<(Scope, String), HourCounts>,
    daily: BTreeMap<(Scope, String), i64>,
    totals: BTreeMap<Scope, TotalCounts>,
}

/// An event's time as the counts use it: its text, and the hour and day it falls in.
pub(super) struct Instant {
    pub(super) text: String,
    pub(super) hour: String,
    pub(super) day: String,
}

impl Instant {
    pub(super) fn of(at: UtcTimestamp) -> Self {
        Self {
            text: at.to_string(),
            hour: at.hour_start().to_string(),
            day: at.day_start().to_string(),
        }
    }
}

impl PendingCounts {
    /// One event at `at` in `scope`. `first_here`: the lead's first of this metric in the scope
    /// falls in this event's hour; `new_lead`: the scope had never seen the lead.
    pub(super) fn count(&mut self, scope: Scope, at: &Instant, first_here: bool, new_lead: bool) {
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
    pub(super) fn move_first_from(&mut self, scope: Scope, previous_hour: String) {
        self.add_hour(
            (scope, previous_hour),
            HourCounts {
                events: 0,
                new_leads: -1,
                span: None,
            },
        );
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

    /// Writes every pending count (one statement per row) and forgets them. Runs inside the
    /// transaction that stored the events.
    pub fn flush(&mut self, conn: &Connection) -> Result<(), StorageError> {
        for (((user, scope, metric), hour), counts) in std::mem::take(&mut self.hourly) {
            match counts.span {
                Some(span) => conn
                    .prepare_cached(
                        "INSERT INTO rollup_hourly (user_id, campaign_id, metric, hour, events, new_leads, first_at, last_at)
                         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
                         ON CONFLICT (user_id, campaign_id, metric, hour) DO UPDATE SET
                             events = events + excluded.events,
                             new_leads = new_leads + excluded.new_leads,
                             first_at = min(first_at, excluded.first_at),
                             last_at = max(last_at, excluded.last_at)",
                    )?
                    .execute(params![user, scope, metric, hour, counts.events, counts.new_leads, span.first, span.last])?,
                None => conn
                    .prepare_cached(
                        "UPDATE rollup_hourly SET new_leads = new_leads + ?5
                         WHERE user_id = ?1 AND campaign_id = ?2 AND metric = ?3 AND hour = ?4",
                    )?
                    .execute(params![user, scope, metric, hour, counts.new_leads])?,
            };
        }
        for (((user, scope, metric), day), events) in std::mem::take(&mut self.daily) {
            conn.prepare_cached(
                "INSERT INTO rollup_daily (user_id, campaign_id, metric, day, events) VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT (user_id, campaign_id, metric, day) DO UPDATE SET events = events + excluded.events",
            )?
            .execute(params![user, scope, metric, day, events])?;
        }
        for ((user, scope, metric), counts) in std::mem::take(&mut self.totals) {
            conn.prepare_cached(
                "INSERT INTO rollup_totals (user_id, campaign_id, metric, events, leads, first_at, last_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
                 ON CONFLICT (user_id, campaign_id, metric) DO UPDATE SET
                     events = events + excluded.events,
                     leads = leads + excluded.leads,
                     first_at = min(first_at, excluded.first_at),
                     last_at = max(last_at, excluded.last_at)",
            )?
            .execute(params![user, scope, metric, counts.events, counts.leads, counts.span.first, counts.span.last])?;
        }
        Ok(())
    }
}
